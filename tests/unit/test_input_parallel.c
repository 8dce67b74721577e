/* nd_input_collect (JSON Lines cut into pieces scanned at once) against the serial
 * nd_input_next scan: the same spans, or the same error code and message, at every
 * piece size and thread count. */
#include <stdlib.h>
#include "harness.h"
#include "input_internal.h"
#include "internal.h"
#include "sha256.h"
#include "neardup/records.h"

typedef struct {
	int rc;
	char msg[512];
	nd_span *spans;
	size_t n;
} scan_result;

static void scan_serial(const char *path, size_t max_record, scan_result *r)
{
	nd_input_opts io = ND_INPUT_OPTS_INIT;
	nd_input *in;
	size_t cap = 0;
	nd_span s;
	memset(r, 0, sizeof *r);
	io.max_record_bytes = max_record;
	if ((r->rc = nd_input_open(&in, path, &io))) {
		snprintf(r->msg, sizeof r->msg, "%s", nd_error_last());
		return;
	}
	while ((r->rc = nd_input_next(in, &s)) == 1) {
		if (r->n == cap) {
			cap = cap ? 2 * cap : 64;
			r->spans = realloc(r->spans, cap * sizeof *r->spans);
		}
		r->spans[r->n++] = s;
	}
	if (r->rc)
		snprintf(r->msg, sizeof r->msg, "%s", nd_error_last());
	nd_input_free(in);
}

static void scan_pieces(const char *path, size_t max_record, unsigned threads, size_t piece, scan_result *r)
{
	nd_input_opts io = ND_INPUT_OPTS_INIT;
	nd_input *in;
	nd_span s;
	memset(r, 0, sizeof *r);
	io.max_record_bytes = max_record;
	if ((r->rc = nd_input_open(&in, path, &io))) {
		snprintf(r->msg, sizeof r->msg, "%s", nd_error_last());
		return;
	}
	if ((r->rc = nd_input_collect(in, threads, piece, &r->spans, &r->n)))
		snprintf(r->msg, sizeof r->msg, "%s", nd_error_last());
	else if (nd_input_next(in, &s) != 0)
		r->rc = 99; /* the input must be used up */
	nd_input_free(in);
}

/* Compares every piece size from 1 to 24 bytes and a few larger, at 1, 2 and 3
 * threads, with the serial scan; @what names the input in failures. */
static void check_like_serial(const char *what, const char *text, size_t len, size_t max_record)
{
	static const size_t big[] = {64, 100, 1000, 1 << 20};
	const char *path = nd_test_write("pieces.jsonl", text, len);
	scan_result want, got;
	scan_serial(path, max_record, &want);
	for (size_t k = 1; k <= 24 + sizeof big / sizeof *big; k++) {
		size_t piece = k <= 24 ? k : big[k - 25];
		for (unsigned t = 1; t <= 3; t++) {
			scan_pieces(path, max_record, t, piece, &got);
			/* on an error only the code and message count (the spans are not returned) */
			int same = got.rc == want.rc && strcmp(got.msg, want.msg) == 0 &&
				   (want.rc || (got.n == want.n && (!got.n || memcmp(got.spans, want.spans,
										got.n * sizeof *got.spans) == 0)));
			CHECK_MSG(same, "%s: piece %zu, %u threads: rc %d, %zu records, \"%s\"; serial rc %d, "
				  "%zu records, \"%s\"", what, piece, t, got.rc, got.n, got.msg, want.rc, want.n,
				  want.msg);
			free(got.spans);
			if (!same)
				goto done;
		}
	}
done:
	free(want.spans);
}

#define LIKE_SERIAL(what, lit) check_like_serial(what, lit, sizeof(lit) - 1, 0)

TEST(input_collect_matches_serial_scan)
{
	LIKE_SERIAL("plain", "{\"q\":\"a\"}\n{\"q\":\"b\"}\n{\"q\":\"c\"}\n");
	LIKE_SERIAL("no final newline", "{\"q\":\"a\"}\n{\"q\":\"b\"}\n{\"q\":\"c\"}");
	LIKE_SERIAL("blank lines, CRLF, blanks", "\r\n{\"q\":\"a\"}  \r\n\n \t\n{\"q\":\"b\"}\t\r\n\r\n{\"q\":3}\r\n");
	LIKE_SERIAL("BOM", "\xEF\xBB\xBF{\"q\":\"a\"}\n{\"q\":\"b\"}\n");
	LIKE_SERIAL("records over several lines", "{\n \"q\": \"a\",\n \"a\": [1,\n2]\n}\n{\"q\":\"b\"}\n{\n\"q\":\"c\"}\n");
	LIKE_SERIAL("string with a raw newline", "{\"q\":\"a\nb\"}\n{\"q\":\"c\"}\n{\"q\":\"d\"}\n");
	LIKE_SERIAL("escapes", "{\"q\":\"a\\\"}\\n{\\\\\"}\n{\"q\":\"\\\\\"}\n{\"q\":\"}\\\"\"}\n");
	LIKE_SERIAL("data after a record", "{\"q\":\"a\"}\n{\"q\":\"b\"} x\n{\"q\":\"c\"}\n");
	LIKE_SERIAL("two records on a line", "{\"q\":\"a\"}\n{\"q\":\"b\"}{\"q\":\"c\"}\n{\"q\":\"d\"}\n");
	LIKE_SERIAL("unterminated string", "{\"q\":\"a\"}\n{\"q\":\"b}\n{\"q\":\"c\"}\n");
	LIKE_SERIAL("unclosed record", "{\"q\":\"a\"}\n{\"q\":\"b\"\n{\"q\":\"c\"}\n{\"q\":\"d\"}\n");
	LIKE_SERIAL("scalars and arrays", "{\"q\":1}\n[1,2]\n\"s\"\n12 \n{\"q\":2}\n");
	LIKE_SERIAL("stray close", "{\"q\":1}\n}\n{\"q\":2}\n");
	LIKE_SERIAL("one record", "{\"q\":\"a\"}\n\n\n\n\n\n");
	check_like_serial("record over the limit", "{\"q\":\"a\"}\n{\"q\":\"bbbbbbbbbb\"}\n{\"q\":\"c\"}\n",
			  sizeof "{\"q\":\"a\"}\n{\"q\":\"bbbbbbbbbb\"}\n{\"q\":\"c\"}\n" - 1, 12);
}

/* Random JSON Lines with every feature above mixed in, errors included. */
TEST(input_collect_matches_serial_scan_random)
{
	static const char *const parts[] = {
		"{\"q\":\"a b\"}", "{\"q\":\"\xE4\xB8\xAD\"}", "{\"q\":\"x\\\"y\"}", "{\"q\":\"\\\\\"}",
		"{\"q\":[1,{\"r\":2}]}", "{\n\"q\":\"m\"\n}", "{\"q\":\"raw\nline\"}", "\n", "\r\n", " ",
		"\t", "{\"q\":\"c\"} x", "{\"q\":\"u", "{\"q\":1", "]", "{\"q\":\"long long long long\"}",
	};
	const size_t nparts = sizeof parts / sizeof *parts;
	uint64_t seed = nd_test_seed();
	char text[2048], what[64];
	for (int round = 0; round < 150; round++) {
		size_t len = 0;
		int lines = 1 + (int)(seed % 20);
		for (int l = 0; l < lines; l++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			/* mostly good records; an error or odd part in a few */
			size_t k = (seed >> 33) % 16 < 11 ? (seed >> 40) % 5 : (seed >> 40) % nparts;
			size_t m = strlen(parts[k]);
			if (len + m + 2 >= sizeof text)
				break;
			memcpy(text + len, parts[k], m);
			len += m;
			if ((seed >> 20) % 8)
				text[len++] = '\n';
		}
		if (len == 0 || text[0] != '{')
			continue; /* not detected as JSON Lines: nothing to compare */
		snprintf(what, sizeof what, "random input %d", round);
		check_like_serial(what, text, len, (seed >> 50) % 4 ? 0 : 20);
	}
}

/* The input's SHA-256 is taken window by window beside the parse (core/dataset.c):
 * over more than two windows of records and the blank tail after the last one it
 * must equal the digest of the whole file at any thread count. */
TEST(dataset_sha256_is_the_files_digest)
{
	const size_t n = 140000; /* > 2 * LOAD_WINDOW */
	nd_buf b = {0};
	char want[65];
	for (size_t i = 0; i < n; i++)
		CHECK_OK(nd_buf_printf(&b, "{\"question\":\"q %zu\",\"answer\":\"a\"}\n", i));
	CHECK_OK(nd_buf_append(&b, "\n  \n", 4));
	const char *path = nd_test_write("sha.jsonl", b.data, b.len);
	CHECK_OK(nd_sha256(b.data, b.len, want));
	for (unsigned t = 1; t <= 2; t++) {
		nd_load_opts o = ND_LOAD_OPTS_INIT;
		nd_dataset *ds = NULL;
		o.threads = t;
		CHECK_OK(nd_dataset_load(&ds, path, &o));
		if (ds) {
			CHECK_EQ_INT(nd_dataset_count(ds), n);
			CHECK_EQ_STR(nd_dataset_sha256(ds), want);
		}
		nd_dataset_free(ds);
	}
	nd_buf_free(&b);
}

/* The scanner's string skip (SSE2 on x86-64) against the portable one: quotes and
 * backslashes at every position of strings up to 70 bytes, at every alignment,
 * terminated or not. */
TEST(skip_string_variants_agree)
{
	static const char alphabet[] = {'a', '"', '\\', '\xE4', '\n', '\0', 'z', '"'};
	uint64_t seed = nd_test_seed() ^ 0x5157;
	char buf[96];
	for (int round = 0; round < 20000; round++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		size_t len = 1 + (size_t)(seed >> 33) % 80, at = (size_t)(seed >> 45) % 16;
		if (at >= len)
			at = 0;
		uint64_t r = seed;
		for (size_t i = 0; i < len; i++) {
			r = r * 6364136223846793005ull + 1442695040888963407ull;
			/* mostly plain bytes, so runs longer than 16 happen */
			buf[i] = (r >> 60) < 13 ? 'a' : alphabet[(r >> 40) % sizeof alphabet];
		}
		buf[at] = '"';
		size_t want = nd_skip_string_portable(buf, len, at), got = nd_skip_string(buf, len, at);
		CHECK_MSG(got == want, "round %d: length %zu from %zu: %zu, portable %zu", round, len, at, got, want);
		if (got != want)
			break;
	}
}
