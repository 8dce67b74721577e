/* Loading a dataset: find record spans, parse and map them in parallel, detect
 * stem parts shared by nearly every record, and derive each record's comparison
 * data (normalised text, guard features, answer as text). Writing kept records
 * back byte-for-byte in the input's container. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "input_internal.h"
#include "internal.h"
#include "json_fast.h"
#include "mapping_internal.h"
#include "sha256.h"
#include "neardup/lexical.h"
#include "neardup/records.h"

/* Records sampled to choose a preset: enough to see past a few odd records at the
 * start, few enough to cost nothing. */
#define DETECT_SAMPLES 200
/* Records per parallel work item: large enough to amortise scheduling, small enough
 * to balance two cores on 10k-record inputs. */
#define LOAD_GRAIN 512
/* Records parsed before their input pages are released (see nd_dataset_load). */
#define LOAD_WINDOW 65536

struct nd_dataset {
	nd_input *in;
	size_t n;
	nd_span *spans; /* while loading; each record keeps its own afterwards */
	nd_record *recs;
	nd_compare *cmp;
	const char *(*parts)[ND_STEM_PARTS];
	uint64_t constant_part[ND_STEM_PARTS]; /* hash of a left-out part value, 0 = none */
	nd_arena *arenas;                      /* one per worker */
	nd_arena *json;                        /* one per worker: a record's tree from
	                                        * the fast path while it is mapped */
	nd_normalizer **norms;                 /* one per worker */
	unsigned workers;
	nd_mapping map;
	nd_load_opts opts;
	char *notes[8];
	size_t nnotes;
	char sha256[65]; /* of the input's bytes, hashed window by window while loading */
};

static int add_note(nd_dataset *ds, const char *fmt, ...) ND_PRINTF(2, 3);
static int add_note(nd_dataset *ds, const char *fmt, ...)
{
	char buf[640];
	va_list ap;
	if (ds->nnotes >= sizeof ds->notes / sizeof *ds->notes)
		return 0;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!(ds->notes[ds->nnotes] = nd_strndup(buf, strlen(buf))))
		return nd_seterr(ND_ENOMEM, "out of memory");
	ds->nnotes++;
	return 0;
}

/* "file: record 12 (byte 3456, line 78): <message>" */
static int record_error(const nd_dataset *ds, int code, size_t i, size_t at)
{
	size_t line, col;
	const nd_input_info *info = nd_input_info_get(ds->in);
	nd_input_where(nd_input_data(ds->in), info->size, at, &line, &col);
	return nd_error_prefix(code, "%s: record %zu (byte %zu, line %zu, column %zu)", info->path, i, at,
			       line, col);
}

/* Validates and parses span i into a cJSON tree: with @fast, first by the fast
 * path into that arena (*owned 0: the arena holds it), else, or when the fast
 * path declines, by cJSON (*owned 1: the caller deletes it). */
static int parse_span(const nd_dataset *ds, size_t i, cJSON **out, nd_arena *fast, int *owned)
{
	const char *data = nd_input_data(ds->in);
	const nd_span *s = &ds->spans[i];
	const char *p = data + s->offset, *end = NULL;
	size_t bad;
	*out = NULL;
	if (nd_utf8_validate(p, s->len, &bad)) {
		nd_seterr(ND_EUTF8, p[bad] == '\0' ? "NUL byte" : "invalid UTF-8");
		return record_error(ds, ND_EUTF8, i, s->offset + bad);
	}
	/* an escaped NUL would silently cut a string short (cJSON strings end at NUL):
	 * refuse it like a raw one. Walking from backslash to backslash, each escape
	 * consumes the character after it, so "\\u0000" (an escaped backslash, then
	 * text) is not one. */
	for (const char *q = p, *e = p + s->len; (q = memchr(q, '\\', (size_t)(e - q))) != NULL; q += 2) {
		if (e - q >= 6 && memcmp(q + 1, "u0000", 5) == 0) {
			nd_seterr(ND_EUTF8, "escaped NUL character (\\u0000) in a string");
			return record_error(ds, ND_EUTF8, i, s->offset + (size_t)(q - p));
		}
		if (e - q < 2)
			break;
	}
	cJSON *j = fast ? nd_json_parse_fast(p, s->len, fast, &end) : NULL;
	*owned = !j;
	if (!j)
		j = cJSON_ParseWithLengthOpts(p, s->len, &end, 0);
	if (!j) {
		size_t at = end && end >= p && end <= p + s->len ? (size_t)(end - p) : 0;
		nd_seterr(ND_EPARSE, "malformed JSON");
		return record_error(ds, ND_EPARSE, i, s->offset + at);
	}
	if (end != p + s->len) {
		if (*owned)
			cJSON_Delete(j);
		nd_seterr(ND_EPARSE, "unexpected characters after the record's JSON value");
		return record_error(ds, ND_EPARSE, i, s->offset + (size_t)(end - p));
	}
	*out = j;
	return 0;
}

static int map_range(void *ctx, size_t b, size_t e, unsigned w)
{
	nd_dataset *ds = ctx;
	for (size_t i = b; i < e; i++) {
		cJSON *j;
		nd_mapped_extra x;
		int rc;
		if (nd_interrupted())
			return nd_seterr(ND_EINTR, "interrupted");
		int owned;
		if ((rc = parse_span(ds, i, &j, &ds->json[w], &owned)))
			return rc;
		ds->recs[i].span = ds->spans[i];
		rc = nd_map_record(&ds->map, j, &ds->arenas[w], &ds->recs[i], &x);
		if (owned)
			cJSON_Delete(j);
		nd_arena_reset(&ds->json[w]); /* the fast path's tree */
		if (rc)
			return record_error(ds, rc, i, ds->spans[i].offset);
		for (int p = 0; p < ND_STEM_PARTS; p++)
			ds->parts[i][p] = x.part[p];
	}
	return 0;
}

/* One window of records (see nd_dataset_load). Work item 0 feeds the window's
 * bytes to the input's SHA-256 while the other items parse its records, so the
 * hash (sequential by nature) costs no time of its own on two or more cores. */
typedef struct {
	nd_dataset *ds;
	size_t base, n;    /* records [base, base + n) */
	nd_sha256_ctx *sha;
	const char *bytes; /* hashed by item 0 */
	size_t nbytes;
	int sha_rc;        /* its result, reported after the window's parse errors */
	char sha_msg[256];
} window_ctx;

static int map_window(void *ctx, size_t b, size_t e, unsigned w)
{
	window_ctx *c = ctx;
	for (size_t k = b; k < e; k++) {
		if (k == 0) {
			if ((c->sha_rc = nd_sha256_update(c->sha, c->bytes, c->nbytes)))
				snprintf(c->sha_msg, sizeof c->sha_msg, "%s", nd_error_last());
			continue;
		}
		size_t rb = c->base + (k - 1) * LOAD_GRAIN, re = rb + LOAD_GRAIN;
		int rc = map_range(c->ds, rb, re < c->base + c->n ? re : c->base + c->n, w);
		if (rc)
			return rc;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts a record's few strings (options, numbers: at most 64) by strcmp. An
 * insertion sort: for such counts it beats qsort, its merge sort and its calls.
 * Equal strings are alike, so the order is the one any sort by strcmp gives. */
static void sort_strs(const char **v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		const char *x = v[i];
		size_t j = i;
		for (; j > 0 && strcmp(v[j - 1], x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* A stem part equal in nearly every record (alpaca's fixed instruction, a fixed
 * system prompt) would make all records look alike: find it, leave it out. */
static int blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

static int detect_constant_parts(nd_dataset *ds)
{
	if (ds->map.n_parts < 2 || ds->opts.constant_share <= 0)
		return 0;
	uint64_t *h = malloc(ds->n * sizeof *h);
	if (!h)
		return nd_seterr(ND_ENOMEM, "out of memory");
	for (int p = 0; p < ds->map.n_parts; p++) {
		size_t m = 0, best = 0, run = 0;
		uint64_t best_h = 0;
		for (size_t i = 0; i < ds->n; i++)
			if (ds->parts[i][p])
				h[m++] = nd_hash64(ds->parts[i][p], strlen(ds->parts[i][p]), 0) | 1;
		qsort(h, m, sizeof *h, cmp_u64);
		for (size_t i = 0; i < m; i++) {
			run = i && h[i] == h[i - 1] ? run + 1 : 1;
			if (run > best) {
				best = run;
				best_h = h[i];
			}
		}
		/* left out only where the other parts still say something: a fixed
		 * instruction beside empty inputs is all those records hold */
		size_t rest = 0;
		if (best >= 2 && (double)best >= ds->opts.constant_share * (double)ds->n)
			for (size_t i = 0; i < ds->n; i++) {
				const char *v = ds->parts[i][p];
				if (!v || (nd_hash64(v, strlen(v), 0) | 1) != best_h)
					continue;
				for (int q = 0; q < ds->map.n_parts; q++)
					if (q != p && ds->parts[i][q] && !blank(ds->parts[i][q])) {
						rest++;
						break;
					}
			}
		if (best >= 2 && (double)best >= ds->opts.constant_share * (double)ds->n && rest * 10 >= best * 9) {
			ds->constant_part[p] = best_h;
			int rc = add_note(ds, "field \"%s\" has one value in %.1f%% of records: left out of "
					  "similarity", ds->map.part_names[p], 100.0 * (double)best / (double)ds->n);
			if (rc) {
				free(h);
				return rc;
			}
		}
	}
	free(h);
	return 0;
}

typedef struct {
	const char *s[64];
	size_t n;
} num_list;

static void collect_numbers(num_list *l, const char *nums, nd_arena *a)
{
	const char *p = nums;
	while (p && *p && l->n < 64) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		l->s[l->n++] = nd_arena_strndup(a, p, len);
		p = c ? c + 1 : NULL;
	}
}

/* Hash of a feature string for nd_compare: 0 only for NULL or "". */
static uint64_t nonzero_hash(const char *s)
{
	if (!s || !*s)
		return 0;
	uint64_t h = nd_hash64(s, strlen(s), 0xFEA7);
	return h ? h : 1;
}

static const char *image_key(const char *img, nd_arena *a)
{
	if (!img || !*img)
		return NULL;
	const char *end = img + strcspn(img, "?#");
	const char *base = img;
	for (const char *p = img; p < end; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	const char *dot = NULL;
	for (const char *p = base; p < end; p++)
		if (*p == '.')
			dot = p;
	if (dot && dot > base)
		end = dot;
	char *k = nd_arena_strndup(a, base, (size_t)(end - base));
	for (char *p = k; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return k && *k ? k : NULL;
}

static int compare_range(void *ctx, size_t b, size_t e, unsigned w)
{
	nd_dataset *ds = ctx;
	nd_arena *a = &ds->arenas[w];
	/* working copies of one record (normalised options, number lists) go to tmp,
	 * freed with the chunk: only what nd_compare keeps goes to the dataset's arena */
	nd_arena tmp = {0};
	nd_buf text = {0}, stem = {0}, ans = {0}, nb = {0};
	int rc = 0;

	if (!ds->norms[w] && (rc = nd_normalizer_create(&ds->norms[w], &ds->opts.norm)))
		return rc;
	nd_normalizer *nz = ds->norms[w];
	for (size_t i = b; i < e; i++) {
		const nd_record *r = &ds->recs[i];
		nd_compare *c = &ds->cmp[i];
		num_list nums = {{0}, 0};
		const char *out;
		size_t out_len;
		nd_text_features f;
		text.len = stem.len = ans.len = nb.len = 0;
		c->negations = 0;
		for (int p = 0; p < ds->map.n_parts; p++) {
			const char *part = ds->parts[i][p];
			if (!part)
				continue;
			if (ds->constant_part[p] &&
			    (nd_hash64(part, strlen(part), 0) | 1) == ds->constant_part[p])
				continue;
			if ((rc = nd_normalize_text(nz, part, strlen(part), &out, &out_len, &f)))
				goto fail;
			if (!out_len)
				continue;
			if ((stem.len && (rc = nd_buf_putc(&stem, ' '))) || (rc = nd_buf_append(&stem, out, out_len)))
				goto fail;
			collect_numbers(&nums, f.numbers, &tmp);
			c->negations += f.negations;
		}
		if ((rc = nd_buf_append(&text, stem.data ? stem.data : "", stem.len)))
			goto fail;
		/* options: normalised, sorted (order-free), appended */
		const char *opt_norm[ND_MAX_OPTIONS], *opt_key[ND_MAX_OPTIONS];
		c->option_set = 0;
		/* "正确/错误" options are how some sites write a judge question, not an
		 * option set: left out, so both forms compare equal */
		size_t n_opts = r->answer_kind == ND_ANSWER_JUDGE ? 0 : r->n_options;
		for (size_t k = 0; k < n_opts; k++) {
			if ((rc = nd_normalize_text(nz, r->options[k], strlen(r->options[k]), &out, &out_len, &f)))
				goto fail;
			if (!(opt_norm[k] = nd_arena_strndup(&tmp, out, out_len))) {
				rc = nd_seterr(ND_ENOMEM, "out of memory");
				goto fail;
			}
			/* an option that holds numbers is identified by them ("1个", "1 个"
			 * and "1" are one option; units and measure words vary by site) */
			opt_key[k] = *f.numbers ? nd_arena_strndup(&tmp, f.numbers, strlen(f.numbers)) : opt_norm[k];
			if (!opt_key[k]) {
				rc = nd_seterr(ND_ENOMEM, "out of memory");
				goto fail;
			}
			collect_numbers(&nums, f.numbers, &tmp);
			c->negations += f.negations;
		}
		const char *sorted[ND_MAX_OPTIONS];
		memcpy(sorted, opt_norm, n_opts * sizeof *sorted);
		sort_strs(sorted, n_opts);
		for (size_t k = 0; k < n_opts; k++) {
			if ((text.len && (rc = nd_buf_putc(&text, ' '))) ||
			    (rc = nd_buf_append(&text, sorted[k], strlen(sorted[k]))))
				goto fail;
		}
		const char *keys[ND_MAX_OPTIONS];
		memcpy(keys, opt_key, n_opts * sizeof *keys);
		sort_strs(keys, n_opts);
		uint64_t oh = 0;
		for (size_t k = 0; k < n_opts; k++)
			oh = nd_hash64(keys[k], strlen(keys[k]), oh + 0x9E3779B97F4A7C15ull);
		c->option_set = n_opts ? (oh | 1) : 0;
		/* the answer as text */
		switch (r->answer_kind) {
		case ND_ANSWER_JUDGE:
			rc = nd_buf_append(&ans, r->judge_value ? "true" : "false", r->judge_value ? 4 : 5);
			break;
		case ND_ANSWER_CHOICE: {
			const char *sel[ND_MAX_OPTIONS];
			size_t ns = 0;
			for (size_t k = 0; k < r->n_options; k++)
				if (r->answer_mask & (1u << k))
					sel[ns++] = opt_norm[k];
			sort_strs(sel, ns);
			for (size_t k = 0; k < ns && !rc; k++)
				rc = (k && nd_buf_putc(&ans, '|')) || nd_buf_append(&ans, sel[k], strlen(sel[k]));
			break;
		}
		case ND_ANSWER_TEXT:
			if (!(rc = nd_normalize_text(nz, r->answer_text, strlen(r->answer_text), &out, &out_len,
						     NULL)))
				rc = nd_buf_append(&ans, out, out_len);
			break;
		default:
			break;
		}
		if (rc)
			goto fail;
		sort_strs(nums.s, nums.n);
		for (size_t k = 0; k < nums.n; k++) {
			if ((k && nd_buf_putc(&nb, ',')) || nd_buf_append(&nb, nums.s[k], strlen(nums.s[k]))) {
				rc = ND_ENOMEM;
				goto fail;
			}
		}
		c->numbers = nd_arena_strndup(a, nb.data ? nb.data : "", nb.len);
		c->text = nd_arena_strndup(a, text.data ? text.data : "", text.len);
		c->text_len = text.len;
		/* text starts with the stem: without options they are one string */
		c->stem = text.len == stem.len ? c->text : nd_arena_strndup(a, stem.data ? stem.data : "", stem.len);
		c->stem_len = stem.len;
		c->answer = nd_arena_strndup(a, ans.data ? ans.data : "", ans.len);
		c->image_key = image_key(r->image, a);
		if (!c->numbers || !c->text || !c->stem || !c->answer) {
			rc = nd_seterr(ND_ENOMEM, "out of memory");
			goto fail;
		}
		uint64_t k = nd_hash64(c->text, c->text_len, 0x5EED);
		if (c->image_key)
			k = nd_hash64(c->image_key, strlen(c->image_key), k);
		c->exact_key = k;
		c->numbers_hash = nonzero_hash(c->numbers);
		c->answer_hash = nonzero_hash(c->answer);
		c->image_hash = nonzero_hash(c->image_key);
		continue;
	fail:
		nd_buf_free(&text);
		nd_buf_free(&stem);
		nd_buf_free(&ans);
		nd_buf_free(&nb);
		nd_arena_free(&tmp);
		if (rc == ND_EUTF8 || rc == ND_ELIMIT) /* a text over the normalisation limit: say which record */
			return record_error(ds, rc, i, r->span.offset);
		return rc;
	}
	nd_buf_free(&text);
	nd_buf_free(&stem);
	nd_buf_free(&ans);
	nd_buf_free(&nb);
	nd_arena_free(&tmp);
	return 0;
}

static int choose_mapping(nd_dataset *ds)
{
	const nd_input_info *info = nd_input_info_get(ds->in);
	int rc;
	if (ds->opts.preset == ND_PRESET_FIELDS || (ds->opts.preset == ND_PRESET_AUTO && ds->opts.fields)) {
		if (!ds->opts.fields)
			return nd_seterr(ND_EINVAL, "preset fields needs a --fields mapping");
		return nd_mapping_compile_fields(&ds->map, ds->opts.fields);
	}
	if (ds->opts.preset != ND_PRESET_AUTO) {
		if ((rc = nd_mapping_for_preset(&ds->map, ds->opts.preset)))
			return rc;
		snprintf(ds->map.description, sizeof ds->map.description, "preset %s (chosen)",
			 nd_preset_name(ds->opts.preset));
		return 0;
	}
	size_t m = ds->n < DETECT_SAMPLES ? ds->n : DETECT_SAMPLES;
	cJSON **samples = calloc(m, sizeof *samples);
	if (!samples)
		return nd_seterr(ND_ENOMEM, "out of memory");
	rc = 0;
	for (size_t i = 0; i < m && !rc; i++) {
		int owned; /* always, without an arena */
		rc = parse_span(ds, i, &samples[i], NULL, &owned);
	}
	if (!rc)
		rc = nd_mapping_detect(&ds->map, samples, m, info->path);
	for (size_t i = 0; i < m; i++)
		cJSON_Delete(samples[i]);
	free(samples);
	return rc;
}

int nd_dataset_load(nd_dataset **out, const char *path, const nd_load_opts *opts)
{
	nd_load_opts defaults = ND_LOAD_OPTS_INIT;
	nd_dataset *ds;
	nd_sha256_ctx *sha = NULL;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != ND_LOAD_OPTS_VERSION)
		return nd_seterr(ND_EINVAL, "nd_load_opts: unsupported version %u", opts->version);
	if (!(ds = calloc(1, sizeof *ds)))
		return nd_seterr(ND_ENOMEM, "out of memory");
	ds->opts = *opts;
	ds->workers = opts->threads ? opts->threads : nd_cpu_count();
	if ((rc = nd_input_open(&ds->in, path, &opts->input)))
		goto fail;
	const nd_input_info *info = nd_input_info_get(ds->in);
	if ((rc = nd_input_collect(ds->in, ds->workers, 0, &ds->spans, &ds->n)))
		goto fail;
	if (ds->n == 0) {
		rc = nd_seterr(ND_EEMPTY, "%s: no records (the %s is empty)", path,
			       info->container == ND_CONTAINER_JSONL ? "file" : "array");
		goto fail;
	}
	if (ds->n > UINT32_MAX) {
		rc = nd_seterr(ND_ELIMIT, "%s: more than %u records", path, UINT32_MAX);
		goto fail;
	}
	if (info->container == ND_CONTAINER_WRAPPED)
		rc = add_note(ds, "JSON array of %zu records wrapped in object member \"%s\"%s", ds->n,
			      info->wrapper_key, info->bom ? " (UTF-8 BOM)" : "");
	else
		rc = add_note(ds, "%s of %zu records%s%s", info->container == ND_CONTAINER_JSONL ? "JSON Lines"
										     : "JSON array",
			      ds->n, info->bom ? " (UTF-8 BOM)" : "", info->crlf ? " (CRLF line ends)" : "");
	if (rc || (rc = choose_mapping(ds)) || (rc = add_note(ds, "%s", ds->map.description)))
		goto fail;

	ds->recs = calloc(ds->n, sizeof *ds->recs);
	ds->cmp = calloc(ds->n, sizeof *ds->cmp);
	ds->parts = calloc(ds->n, sizeof *ds->parts);
	ds->arenas = calloc(ds->workers, sizeof *ds->arenas);
	ds->norms = calloc(ds->workers, sizeof *ds->norms);
	ds->json = calloc(ds->workers, sizeof *ds->json);
	if (!ds->recs || !ds->cmp || !ds->parts || !ds->arenas || !ds->norms || !ds->json) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu records", ds->n);
		goto fail;
	}
	for (unsigned w = 0; w < ds->workers; w++)
		ds->arenas[w].block_size = 1 << 20;
	/* parse in windows and let the kernel drop each window's input pages after it:
	 * resident input stays at about one window, whatever the file size */
	if ((rc = nd_sha256_begin(&sha)))
		goto fail;
	const char *data = nd_input_data(ds->in);
	uint64_t hashed = 0;
	for (size_t b = 0; b < ds->n; b += LOAD_WINDOW) {
		size_t e = b + LOAD_WINDOW < ds->n ? b + LOAD_WINDOW : ds->n;
		uint64_t end = ds->spans[e - 1].offset + ds->spans[e - 1].len;
		window_ctx wc = {ds, b, e - b, sha, data + hashed, (size_t)(end - hashed), 0, ""};
		/* item 0 hashes, items 1.. parse LOAD_GRAIN records each */
		size_t items = 1 + (e - b + LOAD_GRAIN - 1) / LOAD_GRAIN;
		if ((rc = nd_parallel_for(items, 1, ds->workers, map_window, &wc)))
			goto fail;
		if ((rc = wc.sha_rc)) {
			nd_seterr(rc, "%s", wc.sha_msg);
			goto fail;
		}
		hashed = end;
		nd_input_release_pages(ds->in, ds->spans[b].offset, end);
	}
	for (unsigned w = 0; w < ds->workers; w++)
		nd_arena_free(&ds->json[w]);
	if ((rc = nd_sha256_update(sha, data + hashed, (size_t)(info->size - hashed))))
		goto fail;
	free(ds->spans);
	ds->spans = NULL;
	rc = nd_sha256_end(sha, ds->sha256); /* frees sha */
	sha = NULL;
	if (rc)
		goto fail;
	if ((rc = detect_constant_parts(ds)) ||
	    (rc = nd_parallel_for(ds->n, LOAD_GRAIN, ds->workers, compare_range, ds)))
		goto fail;
	free(ds->parts);
	ds->parts = NULL;
	*out = ds;
	return 0;
fail:
	nd_sha256_free(sha);
	nd_dataset_free(ds);
	return rc;
}

void nd_dataset_free(nd_dataset *ds)
{
	if (!ds)
		return;
	for (unsigned w = 0; ds->arenas && w < ds->workers; w++)
		nd_arena_free(&ds->arenas[w]);
	for (unsigned w = 0; ds->norms && w < ds->workers; w++)
		nd_normalizer_free(ds->norms[w]);
	for (unsigned w = 0; ds->json && w < ds->workers; w++)
		nd_arena_free(&ds->json[w]);
	free(ds->json);
	for (size_t i = 0; i < ds->nnotes; i++)
		free(ds->notes[i]);
	free(ds->arenas);
	free(ds->norms);
	free(ds->parts);
	free(ds->recs);
	free(ds->cmp);
	free(ds->spans);
	nd_mapping_release(&ds->map);
	nd_input_free(ds->in);
	free(ds);
}

size_t nd_dataset_count(const nd_dataset *ds) { return ds->n; }
const nd_input_info *nd_dataset_input(const nd_dataset *ds) { return nd_input_info_get(ds->in); }
nd_preset nd_dataset_preset(const nd_dataset *ds) { return ds->map.preset; }
const nd_record *nd_dataset_record(const nd_dataset *ds, size_t i) { return i < ds->n ? &ds->recs[i] : NULL; }
const nd_compare *nd_dataset_compare(const nd_dataset *ds, size_t i) { return i < ds->n ? &ds->cmp[i] : NULL; }

size_t nd_dataset_notes(const nd_dataset *ds, const char *const **notes)
{
	*notes = (const char *const *)ds->notes;
	return ds->nnotes;
}

/* Writing kept records reads the input again: every LOAD_WINDOW records, the pages
 * of the window before are dropped, as when loading, so a copy of a large input
 * does not count its whole size in resident memory. */
void nd_dataset_release_behind(const nd_dataset *ds, size_t i)
{
	if (i >= LOAD_WINDOW && i % LOAD_WINDOW == 0)
		nd_input_release_pages(ds->in, ds->recs[i - LOAD_WINDOW].span.offset, ds->recs[i].span.offset);
}

int nd_dataset_write(const nd_dataset *ds, const char *path, const unsigned char *keep)
{
	const nd_input_info *info = nd_input_info_get(ds->in);
	const char *d = nd_input_data(ds->in);
	nd_outfile *f;
	int rc, first = 1;

	if ((rc = nd_outfile_open(&f, path)))
		return rc;
	if (info->container == ND_CONTAINER_JSONL) {
		const char *eol = info->crlf ? "\r\n" : "\n";
		if (info->bom)
			rc = nd_outfile_write(f, "\xEF\xBB\xBF", 3);
		for (size_t i = 0; i < ds->n && !rc; i++) {
			nd_dataset_release_behind(ds, i);
			if (!keep[i])
				continue;
			rc = nd_outfile_write(f, d + ds->recs[i].span.offset, ds->recs[i].span.len);
			if (!rc)
				rc = nd_outfile_write(f, eol, strlen(eol));
		}
	} else {
		/* the bytes before the first record and after the last, and the separator
		 * the input used between its first two records */
		const nd_span *s0 = &ds->recs[0].span, *sl = &ds->recs[ds->n - 1].span;
		size_t tail = sl->offset + sl->len;
		const char *sep = ",\n";
		size_t seplen = 2;
		if (ds->n >= 2) {
			sep = d + s0->offset + s0->len;
			seplen = ds->recs[1].span.offset - (s0->offset + s0->len);
		}
		rc = nd_outfile_write(f, d, s0->offset);
		for (size_t i = 0; i < ds->n && !rc; i++) {
			nd_dataset_release_behind(ds, i);
			if (!keep[i])
				continue;
			if (!first)
				rc = nd_outfile_write(f, sep, seplen);
			if (!rc)
				rc = nd_outfile_write(f, d + ds->recs[i].span.offset, ds->recs[i].span.len);
			first = 0;
		}
		if (!rc)
			rc = nd_outfile_write(f, d + tail, info->size - tail);
	}
	if (rc) {
		nd_outfile_abort(f);
		return rc;
	}
	return nd_outfile_commit(f);
}

const char *nd_dataset_data(const nd_dataset *ds) { return nd_input_data(ds->in); }
const char *nd_dataset_sha256(const nd_dataset *ds) { return ds->sha256; }
