/* The record parser's fast path against cJSON itself: wherever the fast path
 * answers, cJSON_ParseWithLengthOpts must accept the same text with the same
 * tree and end; and the fast path must answer for the forms records use. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "internal.h"
#include "json_fast.h"
#include "json_tree_eq.h"
#include "neardup/records.h"

static uint64_t rng;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void put(nd_buf *b, const char *s) { nd_buf_append(b, s, strlen(s)); }

static void gen_string(nd_buf *b)
{
	static const char *const parts[] = {
		"驾驶", "机动车", "abc", " ", "A、", "50公里/小时", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\b",
		"\\f", "\\r", "\\u4e2d", "\\u00e9", "\\u0041", "\\uD83D\\uDE00", "\\ud800", "\\udc00x", "\\u0000",
		"\\u007f", "\\u0080", "\\u07FF", "\\u0800", "\\uffff", "\\uFFFE", "\\ue000", "\\ud7ff",
		"\\u12", "\\uZZZZ", "\\x", "\x01", "\x1f", "\xc3\xa9", "\xff", "'", "{", "}", "[", "]", ":", ",",
	};
	nd_buf_putc(b, '"');
	for (unsigned k = rnd(6); k > 0; k--)
		put(b, parts[rnd(k % 3 ? 8 : sizeof parts / sizeof parts[0])]);
	nd_buf_putc(b, '"');
}

static void gen_ws(nd_buf *b)
{
	static const char *const ws[] = {"", "", "", " ", "\n", "\t", "\r\n", "  ", "\x01", "\x1f "};
	put(b, ws[rnd(sizeof ws / sizeof ws[0])]);
}

static void gen_value(nd_buf *b, unsigned depth)
{
	static const char *const nums[] = {
		"0", "-0", "12", "-7", "3.25", "1e5", "1E-3", "2.5e+10", "01", "1.", "-", "1e400", "-1e400",
		"2147483647", "2147483648", "-2147483649", "1.5.5", "1e", "+1", ".5", "0x10",
		"999999999999999", "-999999999999999", "1000000000000000", "9007199254740993", "000000000000000042",
		"-", "--1", "1-2", "12e", "7E2",
		"123456789012345678901234567890123456789012345678901234567890123456789",
	};
	unsigned kind = depth > 70 ? rnd(5) : rnd(depth > 3 ? 7 : 9);
	switch (kind) {
	case 0: case 1: gen_string(b); break;
	case 2: put(b, nums[rnd(sizeof nums / sizeof nums[0])]); break;
	case 3: put(b, rnd(2) ? "true" : "false"); break;
	case 4: put(b, rnd(4) ? "null" : "nul"); break;
	case 5: case 7: { /* object */
		unsigned n = rnd(5);
		nd_buf_putc(b, '{');
		gen_ws(b);
		for (unsigned i = 0; i < n; i++) {
			if (i) {
				nd_buf_putc(b, ',');
				gen_ws(b);
			}
			gen_string(b);
			gen_ws(b);
			nd_buf_putc(b, ':');
			gen_ws(b);
			gen_value(b, depth + 1);
			gen_ws(b);
		}
		nd_buf_putc(b, '}');
		break;
	}
	default: { /* array; deep ones now and then */
		unsigned n = depth < 70 && rnd(20) == 0 ? 1 : rnd(4);
		nd_buf_putc(b, '[');
		gen_ws(b);
		for (unsigned i = 0; i < n; i++) {
			if (i) {
				nd_buf_putc(b, ',');
				gen_ws(b);
			}
			gen_value(b, depth + (n == 1 ? 1 : 3));
			gen_ws(b);
		}
		nd_buf_putc(b, ']');
		break;
	}
	}
}

static void mutate(nd_buf *b)
{
	static const char bytes[] = "\"\\,]}[{: x\x01\xef" "0-etnu";
	if (!b->len)
		return;
	size_t at = rnd((unsigned)b->len);
	switch (rnd(3)) {
	case 0: b->len = at; break;                                    /* truncated */
	case 1: b->data[at] = bytes[rnd(sizeof bytes - 1)]; break;       /* replaced */
	default: memmove(b->data + at, b->data + at + 1, b->len - at - 1); b->len--; break; /* dropped */
	}
	b->data[b->len] = '\0';
}

/* Checks one text: fast-path answers must be cJSON's. The fast path reads a
 * copy of exactly @n bytes, so a read past them is a sanitizer error. @return 1
 * when the fast path answered. */
static int check_text(const char *t, size_t n, nd_arena *a, size_t *bad)
{
	const char *fe = NULL, *ce = NULL;
	char *exact = malloc(n ? n : 1);
	if (!exact)
		return 0;
	memcpy(exact, t, n);
	cJSON *f = nd_json_parse_fast(exact, n, a, &fe);
	if (f)
		fe = t + (fe - exact);
	free(exact);
	cJSON *c = cJSON_ParseWithLengthOpts(t, n, &ce, 0);
	char why[300] = "";
	int ok = 1;
	if (f) {
		if (!c)
			snprintf(why, sizeof why, "cJSON refuses it");
		else if (fe != ce)
			snprintf(why, sizeof why, "ends at %td vs %td", fe - t, ce - t);
		if (why[0] || !nd_json_same_tree(f, c, why, sizeof why))
			ok = 0;
	}
	if (!ok && (*bad)++ < 5)
		CHECK_MSG(0, "fast path differs from cJSON (%s) on: %.*s", why, (int)(n < 300 ? n : 300), t);
	cJSON_Delete(c);
	nd_arena_reset(a);
	return f != NULL;
}

TEST(json_fast_agrees_with_cjson)
{
	nd_arena a = {0};
	nd_buf b = {0};
	size_t bad = 0, valid = 0, answered_valid = 0, answered = 0;
	rng = nd_test_seed() | 1;
	for (int i = 0; i < 60000; i++) {
		b.len = 0;
		gen_value(&b, 0);
		if (i % 2)
			mutate(&b);
		if (i % 3 == 0)
			mutate(&b);
		const char *ce;
		cJSON *c = cJSON_ParseWithLengthOpts(b.data ? b.data : "", b.len, &ce, 0);
		int f = check_text(b.data ? b.data : "", b.len, &a, &bad);
		answered += f;
		if (c) {
			valid++;
			answered_valid += f;
		}
		cJSON_Delete(c);
	}
	CHECK_MSG(bad == 0, "%zu texts differ", bad);
	/* both kinds are exercised: texts cJSON takes and texts it refuses */
	CHECK_MSG(valid > 5000 && valid < 55000, "%zu of 60000 texts valid", valid);
	/* the fast path answers most valid texts (it declines rare escapes, long or
	 * deep ones) */
	CHECK_MSG(answered_valid * 10 > valid * 6, "fast path took %zu of %zu valid texts", answered_valid, valid);
	nd_buf_free(&b);
	nd_arena_free(&a);
}

TEST(json_fast_takes_records)
{
	static const char *const recs[] = {
		"{\"id\": 12, \"question\": \"在城市道路上行驶，最高速度为多少？\", \"options\": [\"A、30公里/小时\","
		" \"B、40公里/小时\"], \"answer\": \"B\", \"explanation\": null, \"image\": \"\"}",
		"{\"instruction\":\"Translate\",\"input\":\"the dog\\n\\\"bit\\\"\",\"output\":\"der Hund \\u00e9\"}",
		"{\"conversations\":[{\"from\":\"human\",\"value\":\"hi\"},{\"from\":\"gpt\",\"value\":\"hello\"}]}",
		"{\"a\":-1.5e3,\"b\":true,\"c\":false,\"d\":[],\"e\":{},\"f\":[1,[2,[3]]]}",
		"[1, \"two\", null]",
		"{\"s\":\"\\u007f\\u0080\\u07FF\\u0800\\uffff\\ue000\"}",
	};
	nd_arena a = {0};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
		CHECK_MSG(check_text(recs[i], strlen(recs[i]), &a, &bad), "fast path declined record %zu", i);
	CHECK(bad == 0);
	/* values: spot checks beyond the comparison */
	const char *end;
	cJSON *r = nd_json_parse_fast(recs[1], strlen(recs[1]), &a, &end);
	CHECK(r != NULL && end == recs[1] + strlen(recs[1]));
	if (r) {
		CHECK_EQ_STR(cJSON_GetObjectItem(r, "input")->valuestring, "the dog\n\"bit\"");
		CHECK_EQ_STR(cJSON_GetObjectItem(r, "output")->valuestring, "der Hund \xc3\xa9");
	}
	r = nd_json_parse_fast(recs[5], strlen(recs[5]), &a, &end);
	CHECK(r != NULL);
	if (r) /* each encoding length at its bounds */
		CHECK_EQ_STR(cJSON_GetObjectItem(r, "s")->valuestring,
			     "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xee\x80\x80");
	/* forms left to cJSON: a BOM, leading space, a surrogate pair, an escaped
	 * NUL, deep nesting, trailing garbage is cJSON's business too (end differs) */
	static const char *const declined[] = {
		"\xef\xbb\xbf{}", " {}", "{\"a\":\"\\uD83D\\uDE00\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"x\\q\"}",
		"{\"a\":1,}", "{\"a\" 1}", "[1 2]", "{\"a\":\"unterminated}",
	};
	for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
		CHECK_MSG(nd_json_parse_fast(declined[i], strlen(declined[i]), &a, &end) == NULL,
			  "fast path took declined text %zu", i);
	nd_buf deep = {0};
	for (int i = 0; i < 100; i++)
		nd_buf_putc(&deep, '[');
	for (int i = 0; i < 100; i++)
		nd_buf_putc(&deep, ']');
	CHECK(nd_json_parse_fast(deep.data, deep.len, &a, &end) == NULL);
	CHECK(!check_text(deep.data, deep.len, &a, &bad) && bad == 0);
	nd_buf_free(&deep);
	nd_arena_free(&a);
}

TEST(json_fast_arena_reset_keeps_one_block)
{
	nd_arena a = {0};
	a.block_size = 4096;
	CHECK(nd_arena_alloc(&a, 100) != NULL);
	CHECK(nd_arena_alloc(&a, 100000) != NULL); /* a block of its own */
	for (int i = 0; i < 100; i++)
		CHECK(nd_arena_alloc(&a, 1000) != NULL); /* more blocks */
	nd_arena_reset(&a);
	/* one block of the arena's size is kept and reused from its start */
	void *q = nd_arena_alloc(&a, 100);
	CHECK(q != NULL);
	nd_arena_reset(&a);
	CHECK(nd_arena_alloc(&a, 100) == q);
	nd_arena_free(&a);
	nd_arena empty = {0};
	nd_arena_reset(&empty); /* nothing to keep */
	CHECK(empty.head == NULL);
}

static const char *str(const char *s) { return s ? s : "(null)"; }

/* Everything a load produced, as one string, or the error it gave. */
static void digest(const char *path, unsigned threads, nd_buf *out)
{
	nd_load_opts o = ND_LOAD_OPTS_INIT;
	nd_dataset *ds = NULL;
	o.threads = threads;
	out->len = 0;
	int rc = nd_dataset_load(&ds, path, &o);
	if (rc) {
		nd_buf_printf(out, "error %d: %s", rc, nd_error_last());
		return;
	}
	for (size_t i = 0; i < nd_dataset_count(ds); i++) {
		const nd_record *r = nd_dataset_record(ds, i);
		nd_buf_printf(out, "%zu id=%s stem=%s answer=%s/%d expl=%s image=%s |", i, str(r->id), str(r->stem),
			      str(r->answer_raw), (int)r->answer_kind, str(r->explanation), str(r->image));
		for (size_t k = 0; k < r->n_options; k++)
			nd_buf_printf(out, " opt=%s", r->options[k]);
		nd_buf_printf(out, " text=%s\n", nd_dataset_compare(ds, i)->text);
	}
	nd_dataset_free(ds);
}

/* Whole files whose records take both paths (the fast one, and cJSON for a
 * surrogate pair, a 69-digit number, deep nesting): the records read are the
 * same at any thread count and the cJSON-read ones hold what cJSON read; a bad
 * record far in is named with its line and column either way. */
TEST(json_fast_dataset_mixes_both_paths)
{
	nd_buf b = {0}, d1 = {0}, d = {0};
	char deep[160];
	for (int k = 0; k < 70; k++) {
		deep[k] = '[';
		deep[71 + k] = ']';
	}
	deep[70] = '1';
	deep[141] = '\0';
	for (int i = 0; i < 3000; i++) {
		switch (i % 4) {
		case 0:
			nd_buf_printf(&b, "{\"id\": %d, \"question\": \"第%d题：机动车\\\"%s\\\"\", \"options\": "
				      "[\"A、%d\", \"B、%d\"], \"answer\": \"A\"}\n", i, i, i % 3 ? "驾驶" : "行驶", i, i + 1);
			break;
		case 1: /* a surrogate pair: cJSON reads it */
			nd_buf_printf(&b, "{\"id\": \"q%d\", \"question\": \"标志\\uD83D\\uDE00%d\", \"answer\": \"对\"}\n",
				      i, i);
			break;
		case 2: /* a number of 69 digits */
			nd_buf_printf(&b, "{\"id\": %d, \"question\": \"题%d\", \"answer\": \"错\", \"n\": "
				      "123456789012345678901234567890123456789012345678901234567890123456789}\n", i, i);
			break;
		default: /* nesting past the fast path's depth */
			nd_buf_printf(&b, "{\"id\": %d, \"question\": \"深%d\", \"answer\": \"对\", \"meta\": %s}\n", i, i,
				      deep);
			break;
		}
	}
	const char *path = nd_test_write("fast-mixed.jsonl", b.data, b.len);
	digest(path, 1, &d1);
	CHECK_MSG(strstr(d1.data, "1 id=q1 stem=标志\xf0\x9f\x98\x80" "1 ") != NULL, "surrogate record: %.300s",
		  d1.data);
	CHECK_MSG(strstr(d1.data, "3 id=3 stem=深3 ") != NULL, "deep record read");
	CHECK_MSG(strstr(d1.data, "0 id=0 stem=第0题：机动车\"行驶\" ") != NULL, "fast record read");
	for (unsigned t = 2; t <= 3; t++) {
		digest(path, t, &d);
		CHECK_MSG(d.len == d1.len && memcmp(d.data, d1.data, d.len) == 0, "threads %u differ", t);
	}
	/* record 2500 (line 2501) broken after its id: the message is cJSON's,
	 * the same at any thread count */
	const char *line = strstr(b.data, "{\"id\": 2500,");
	CHECK(line != NULL);
	if (line) {
		size_t at = (size_t)(line - b.data) + strlen("{\"id\": 2500,");
		b.data[at] = '}';
		b.data[at + 1] = '}';
		path = nd_test_write("fast-mixed-bad.jsonl", b.data, b.len);
		digest(path, 1, &d1);
		CHECK_MSG(strstr(d1.data, "record 2500") && strstr(d1.data, "line 2501"), "error: %s", d1.data);
		for (unsigned t = 2; t <= 3; t++) {
			digest(path, t, &d);
			CHECK_EQ_STR(d.data, d1.data);
		}
	}
	nd_buf_free(&b);
	nd_buf_free(&d1);
	nd_buf_free(&d);
}
