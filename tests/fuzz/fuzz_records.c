/* Fuzz target: the record reader (core/input.c + core/dataset.c) on any bytes.
 *
 * Container detection (array, JSON Lines, wrapped object, BOM, CRLF), the streaming
 * structural scan, per-record parsing, automatic preset detection and the byte-for-byte
 * writer. Invariants checked: spans lie inside the input, in order, numbered 0..n-1; a
 * dataset that loads has exactly the records the scan found, each with the span the scan
 * gave; every string of every view is valid UTF-8. */
#include "fuzz_common.h"
#include "neardup/normalize.h"
#include "neardup/records.h"

static fz_memfile in_file;

static void check_str(const char *s)
{
	if (s)
		FZ_ASSERT(nd_utf8_validate(s, strlen(s), NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_memfile_set(&in_file, data, size);
	nd_input *in = NULL;
	nd_span *spans = NULL;
	size_t n = 0, cap = 0;
	int scan_rc;

	/* the scan alone */
	nd_input_opts io = ND_INPUT_OPTS_INIT;
	io.max_record_bytes = 4096; /* small, so the limit path is reached too */
	if (nd_input_open(&in, path, &io) == 0) {
		const nd_input_info *info = nd_input_info_get(in);
		FZ_ASSERT(info->size == size);
		nd_span sp;
		uint64_t prev_end = 0;
		while ((scan_rc = nd_input_next(in, &sp)) == 1) {
			FZ_ASSERT(sp.index == n);
			FZ_ASSERT(sp.offset >= prev_end && sp.len > 0 && sp.offset + sp.len <= size);
			FZ_ASSERT(sp.len <= io.max_record_bytes);
			prev_end = sp.offset + sp.len;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				nd_span *p = realloc(spans, cap * sizeof *p);
				if (!p)
					abort();
				spans = p;
			}
			spans[n++] = sp;
		}
		FZ_ASSERT(scan_rc == 0 || scan_rc == ND_EPARSE || scan_rc == ND_ELIMIT);
		if (scan_rc)
			FZ_ASSERT(nd_error_last()[0] != 0);
		nd_input_free(in);
	} else {
		FZ_ASSERT(nd_error_last()[0] != 0);
		scan_rc = -1;
	}

	/* the whole load: scan, parse, map, normalise */
	nd_load_opts lo = ND_LOAD_OPTS_INIT;
	lo.threads = 1;
	nd_dataset *ds = NULL;
	int rc = nd_dataset_load(&ds, path, &lo);
	if (rc == 0) {
		size_t count = nd_dataset_count(ds);
		FZ_ASSERT(count > 0);
		if (scan_rc == 0) { /* same records as the scan found (no record hit the small limit) */
			FZ_ASSERT(count == n);
			for (size_t i = 0; i < count; i++) {
				const nd_record *r = nd_dataset_record(ds, i);
				FZ_ASSERT(r->span.index == i && r->span.offset == spans[i].offset &&
					  r->span.len == spans[i].len);
			}
		}
		for (size_t i = 0; i < count; i++) {
			const nd_record *r = nd_dataset_record(ds, i);
			const nd_compare *c = nd_dataset_compare(ds, i);
			check_str(r->id);
			check_str(r->stem);
			check_str(r->answer_raw);
			check_str(r->answer_text);
			check_str(r->image);
			check_str(r->explanation);
			check_str(r->type);
			check_str(r->category);
			FZ_ASSERT(r->n_options <= ND_MAX_OPTIONS);
			for (size_t k = 0; k < r->n_options; k++)
				check_str(r->options[k]);
			FZ_ASSERT(c->text && strlen(c->text) == c->text_len);
			FZ_ASSERT(nd_utf8_validate(c->text, c->text_len, NULL) == 0 || c->text_len == 0);
		}
		const char *const *notes;
		size_t nn = nd_dataset_notes(ds, &notes);
		for (size_t i = 0; i < nn; i++)
			check_str(notes[i]);
		unsigned char *keep = malloc(count);
		if (!keep)
			abort();
		for (size_t i = 0; i < count; i++)
			keep[i] = (unsigned char)(i % 2 == 0);
		FZ_ASSERT(nd_dataset_write(ds, "/dev/null", keep) == 0);
		free(keep);
	} else {
		FZ_ASSERT(rc < 0 && nd_error_last()[0] != 0);
	}
	nd_dataset_free(ds);
	free(spans);
	return 0;
}
