/* Reading every container and preset, answer parsing, byte-exact writing, and the
 * errors bad input gets. Fixtures are in tests/fixtures (written for these tests). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "mapping_internal.h"
#include "neardup/records.h"

static char *fixture(const char *name)
{
	static char path[8][512];
	static int k;
	k = (k + 1) % 8;
	snprintf(path[k], sizeof path[k], "%s/%s", nd_test_fixtures(), name);
	return path[k];
}

static const char *tmpfile_with(const char *name, const void *data, size_t len)
{
	return nd_test_write(name, data, len);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	if (b)
		b[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return b;
}

#define TMPF(name, lit) tmpfile_with(name, lit, sizeof(lit) - 1)

static nd_dataset *load(const char *path, nd_preset preset, const char *fields)
{
	nd_load_opts o = ND_LOAD_OPTS_INIT;
	nd_dataset *ds = NULL;
	o.preset = preset;
	o.fields = fields;
	o.threads = 2;
	int rc = nd_dataset_load(&ds, path, &o);
	CHECK_MSG(rc == 0, "load %s: %d %s", path, rc, nd_error_last());
	return ds;
}

static int load_error(const char *path, const char *must_contain)
{
	nd_dataset *ds = NULL;
	int rc = nd_dataset_load(&ds, path, NULL);
	CHECK_MSG(rc < 0, "%s: expected an error, got %d", path, rc);
	CHECK_MSG(ds == NULL, "no dataset on error");
	CHECK_MSG(strstr(nd_error_last(), must_contain) != NULL, "message \"%s\" lacks \"%s\"", nd_error_last(),
		  must_contain);
	nd_dataset_free(ds);
	return rc;
}

static int has_note(const nd_dataset *ds, const char *needle)
{
	const char *const *notes;
	size_t n = nd_dataset_notes(ds, &notes);
	for (size_t i = 0; i < n; i++)
		if (strstr(notes[i], needle))
			return 1;
	return 0;
}

TEST(records_exam_wrapped_object)
{
	nd_dataset *ds = load(fixture("exam_wrapped.json"), ND_PRESET_AUTO, NULL);
	if (!ds)
		return;
	const nd_input_info *info = nd_dataset_input(ds);
	CHECK_EQ_INT(info->container, ND_CONTAINER_WRAPPED);
	CHECK_EQ_STR(info->wrapper_key, "questions");
	CHECK_EQ_INT(nd_dataset_count(ds), 4);
	CHECK_EQ_INT(nd_dataset_preset(ds), ND_PRESET_EXAM);
	CHECK(has_note(ds, "wrapped in object member \"questions\""));
	CHECK(has_note(ds, "preset exam"));

	const nd_record *r0 = nd_dataset_record(ds, 0), *r1 = nd_dataset_record(ds, 1);
	CHECK_EQ_STR(r0->id, "1");
	CHECK_EQ_INT(r0->answer_kind, ND_ANSWER_JUDGE);
	CHECK_EQ_INT(r0->judge_value, 1);
	CHECK_EQ_STR(nd_dataset_compare(ds, 0)->answer, "true");
	CHECK_EQ_INT(r1->n_options, 4);
	CHECK_EQ_STR(r1->options[0], "工作证");
	CHECK_EQ_STR(r1->options[3], "职业资格证");
	CHECK_EQ_INT(r1->answer_kind, ND_ANSWER_CHOICE);
	CHECK_EQ_INT(r1->answer_mask, 2);
	CHECK_EQ_STR(nd_dataset_compare(ds, 1)->answer, "驾驶证");
	CHECK_EQ_STR(r1->type, "single");
	CHECK_EQ_STR(r1->category, "规定");

	const nd_record *r2 = nd_dataset_record(ds, 2), *r3 = nd_dataset_record(ds, 3);
	CHECK_EQ_STR(nd_dataset_compare(ds, 2)->image_key, "3001");
	CHECK(r2->explanation == NULL); /* "" is no explanation */
	CHECK(r2->defects & ND_DEFECT_NO_EXPLANATION);
	CHECK_EQ_INT(r3->answer_mask, 0xB); /* A,B,D */
	CHECK_EQ_STR(r3->explanation, "酒驾违法。\n超速违法。");
	CHECK(r3->image == NULL);
	CHECK(nd_dataset_compare(ds, 3)->image_key == NULL);
	/* the span points at the record's own bytes */
	CHECK(r1->span.len > 10 && nd_dataset_input(ds)->size > r1->span.offset + r1->span.len);
	nd_dataset_free(ds);
}

TEST(records_exam_choose_strings_compare_with_options_arrays)
{
	nd_dataset *a = load(fixture("exam_wrapped.json"), ND_PRESET_AUTO, NULL);
	nd_dataset *b = load(fixture("exam_choose.json"), ND_PRESET_AUTO, NULL);
	if (!a || !b)
		goto out;
	CHECK_EQ_INT(nd_dataset_input(b)->container, ND_CONTAINER_ARRAY);
	const nd_record *j = nd_dataset_record(b, 0);
	CHECK_EQ_INT(j->n_options, 2); /* as written: A、正确 B、错误 */
	CHECK_EQ_INT(j->answer_kind, ND_ANSWER_JUDGE);
	CHECK_EQ_INT(j->judge_value, 1);
	/* the judge pair is not an option set: it compares like rosersn's [] */
	CHECK_EQ_INT(nd_dataset_compare(b, 0)->option_set, 0);
	CHECK_EQ_INT(nd_dataset_compare(a, 0)->option_set, 0);
	const nd_record *c = nd_dataset_record(b, 1);
	CHECK_EQ_INT(c->n_options, 4);
	CHECK_EQ_STR(c->options[1], "驾驶证");
	CHECK_EQ_STR(c->options[3], "职业资格证");
	CHECK_EQ_STR(nd_dataset_compare(b, 1)->answer, nd_dataset_compare(a, 1)->answer);
	CHECK(nd_dataset_compare(b, 1)->option_set == nd_dataset_compare(a, 1)->option_set);
	CHECK(nd_dataset_compare(b, 1)->exact_key != nd_dataset_compare(a, 1)->exact_key); /* 应 vs 应当 */
	const nd_record *m = nd_dataset_record(b, 2); /* labels inline on one line */
	CHECK_EQ_INT(m->n_options, 4);
	CHECK_EQ_STR(m->options[0], "酒后驾驶");
	CHECK_EQ_STR(m->options[3], "疲劳驾驶");
	CHECK_EQ_INT(m->answer_mask, 0xB);
	CHECK_EQ_STR(nd_dataset_compare(b, 2)->answer, nd_dataset_compare(a, 3)->answer);
	CHECK(nd_dataset_compare(b, 2)->exact_key == nd_dataset_compare(a, 3)->exact_key);
out:
	nd_dataset_free(a);
	nd_dataset_free(b);
}

TEST(records_items_keys_jsonl_blank_lines)
{
	nd_dataset *ds = load(fixture("exam_items.jsonl"), ND_PRESET_AUTO, NULL);
	if (!ds)
		return;
	CHECK_EQ_INT(nd_dataset_input(ds)->container, ND_CONTAINER_JSONL);
	CHECK_EQ_INT(nd_dataset_count(ds), 3);
	const nd_record *r = nd_dataset_record(ds, 0);
	CHECK_EQ_STR(r->id, "q1");
	CHECK_EQ_INT(r->n_options, 4);
	CHECK_EQ_INT(r->answer_mask, 4); /* "3" = third option */
	CHECK_EQ_STR(nd_dataset_compare(ds, 0)->answer, "120公里小时");
	CHECK_EQ_STR(r->explanation, "最高车速不得超过每小时120公里。");
	CHECK_EQ_STR(nd_dataset_compare(ds, 0)->image_key, "a");
	CHECK_EQ_STR(nd_dataset_compare(ds, 0)->numbers, "100,110,120,150");
	r = nd_dataset_record(ds, 1);
	CHECK_EQ_INT(r->answer_kind, ND_ANSWER_JUDGE);
	CHECK_EQ_INT(r->judge_value, 1);
	r = nd_dataset_record(ds, 2);
	CHECK_EQ_INT(r->n_options, 4);
	CHECK_EQ_STR(r->options[3], "丁");
	CHECK_EQ_INT(r->answer_mask, 8);
	CHECK_EQ_STR(r->explanation, "丁");
	nd_dataset_free(ds);
}

TEST(records_alpaca_exam_convention_bom_crlf_constant_instruction)
{
	nd_dataset *ds = load(fixture("alpaca_exam_bom_crlf.jsonl"), ND_PRESET_AUTO, NULL);
	if (!ds)
		return;
	const nd_input_info *info = nd_dataset_input(ds);
	CHECK(info->bom);
	CHECK(info->crlf);
	CHECK_EQ_INT(info->container, ND_CONTAINER_JSONL);
	CHECK_EQ_INT(nd_dataset_preset(ds), ND_PRESET_ALPACA);
	CHECK(has_note(ds, "field \"instruction\" has one value in 100.0% of records"));
	const nd_record *r = nd_dataset_record(ds, 0);
	CHECK_EQ_STR(r->stem, "驾驶机动车应当随身携带哪种证件？");
	CHECK_EQ_STR(r->type, "单选题");
	CHECK_EQ_INT(r->n_options, 4);
	CHECK_EQ_STR(r->options[1], "驾驶证");
	CHECK_EQ_INT(r->answer_kind, ND_ANSWER_CHOICE);
	CHECK_EQ_INT(r->answer_mask, 2);
	CHECK_EQ_STR(r->explanation, "应随身携带驾驶证。");
	/* the constant instruction takes no part in the comparison text */
	CHECK(strstr(nd_dataset_compare(ds, 0)->text, "请回答") == NULL);
	CHECK(strstr(nd_dataset_compare(ds, 0)->text, "驾驶机动车应当随身携带哪种证件") != NULL);
	r = nd_dataset_record(ds, 1);
	CHECK_EQ_INT(r->answer_kind, ND_ANSWER_JUDGE);
	CHECK_EQ_INT(r->judge_value, 1);
	r = nd_dataset_record(ds, 2);
	CHECK_EQ_INT(r->n_options, 2);
	CHECK_EQ_STR(r->options[1], "近光灯");
	CHECK_EQ_INT(r->answer_mask, 2);
	nd_dataset_free(ds);
}

TEST(records_alpaca_sharegpt_messages_fields)
{
	nd_dataset *ds = load(fixture("alpaca.json"), ND_PRESET_AUTO, NULL);
	if (ds) {
		CHECK_EQ_INT(nd_dataset_preset(ds), ND_PRESET_ALPACA);
		CHECK_EQ_STR(nd_dataset_record(ds, 0)->stem, "把下面的句子翻译成英文。\n我爱北京。");
		CHECK_EQ_INT(nd_dataset_record(ds, 0)->answer_kind, ND_ANSWER_TEXT);
		CHECK_EQ_STR(nd_dataset_record(ds, 0)->answer_text, "I love Beijing.");
		CHECK_EQ_STR(nd_dataset_record(ds, 2)->answer_text, "床前明月光，\n疑是地上霜。");
		CHECK(!has_note(ds, "left out of similarity"));
		nd_dataset_free(ds);
	}
	ds = load(fixture("sharegpt.jsonl"), ND_PRESET_AUTO, NULL);
	if (ds) {
		CHECK_EQ_INT(nd_dataset_preset(ds), ND_PRESET_SHAREGPT);
		CHECK_EQ_STR(nd_dataset_record(ds, 0)->stem, "驾驶机动车应当随身携带哪种证件？");
		CHECK_EQ_STR(nd_dataset_record(ds, 1)->stem, "雾天应该开什么灯？\n为什么？");
		CHECK_EQ_STR(nd_dataset_record(ds, 1)->answer_text, "雾灯。\n提高可见度。");
		CHECK(strstr(nd_dataset_compare(ds, 0)->text, "驾考助手") == NULL ||
		      strstr(nd_dataset_compare(ds, 0)->text, "驾驶机动车") != NULL);
		nd_dataset_free(ds);
	}
	ds = load(fixture("messages.jsonl"), ND_PRESET_AUTO, NULL);
	if (ds) {
		CHECK_EQ_INT(nd_dataset_preset(ds), ND_PRESET_MESSAGES);
		CHECK_EQ_STR(nd_dataset_record(ds, 0)->stem, "What is 2+2?");
		CHECK_EQ_STR(nd_dataset_record(ds, 0)->answer_text, "4");
		nd_dataset_free(ds);
	}
	ds = load(fixture("custom.json"), ND_PRESET_FIELDS,
		  "stem=q.title+q.body,options=opts,answer=ans,explanation=why,image=pic");
	if (ds) {
		CHECK_EQ_STR(nd_dataset_record(ds, 0)->stem, "自定义题干一\n补充说明");
		CHECK_EQ_STR(nd_dataset_record(ds, 1)->stem, "自定义题干二");
		CHECK_EQ_INT(nd_dataset_record(ds, 0)->n_options, 2);
		CHECK_EQ_STR(nd_dataset_record(ds, 0)->options[1], "乙");
		CHECK_EQ_INT(nd_dataset_record(ds, 0)->answer_mask, 2);
		CHECK_EQ_STR(nd_dataset_record(ds, 0)->explanation, "因为乙。");
		nd_dataset_free(ds);
	}
}

TEST(records_answer_parsing)
{
	const char *four[] = {"甲", "乙", "丙", "丁"};
	const char *judge[] = {"正确", "错误"};
	const char *judge_rev[] = {"错误", "正确"};
	struct {
		const char *raw;
		const char *const *opts;
		size_t nopts;
		const char *type;
		int kind;
		uint32_t mask;
		int judge;
	} cases[] = {
		{"B", four, 4, NULL, ND_ANSWER_CHOICE, 2, -1},
		{"A,C,D", four, 4, NULL, ND_ANSWER_CHOICE, 0xD, -1},
		{"ACD", four, 4, NULL, ND_ANSWER_CHOICE, 0xD, -1},
		{"A、C", four, 4, NULL, ND_ANSWER_CHOICE, 0x5, -1},
		{"ａ", four, 4, NULL, ND_ANSWER_CHOICE, 1, -1},
		{"Ｄ", four, 4, NULL, ND_ANSWER_CHOICE, 8, -1},
		{"4", four, 4, NULL, ND_ANSWER_CHOICE, 8, -1},
		{"1,3", four, 4, NULL, ND_ANSWER_CHOICE, 5, -1},
		{"答案：C", four, 4, NULL, ND_ANSWER_CHOICE, 4, -1},
		{"丙", four, 4, NULL, ND_ANSWER_CHOICE, 4, -1},
		{"E", four, 4, NULL, ND_ANSWER_INVALID, 0, -1},
		{"5", four, 4, NULL, ND_ANSWER_INVALID, 0, -1},
		{"A1", four, 4, NULL, ND_ANSWER_INVALID, 0, -1},
		{"对", NULL, 0, NULL, ND_ANSWER_JUDGE, 0, 1},
		{"错误", NULL, 0, NULL, ND_ANSWER_JUDGE, 0, 0},
		{"×", NULL, 0, NULL, ND_ANSWER_JUDGE, 0, 0},
		{"true", NULL, 0, NULL, ND_ANSWER_JUDGE, 0, 1},
		{"A", judge, 2, NULL, ND_ANSWER_JUDGE, 0, 1},
		{"B", judge, 2, NULL, ND_ANSWER_JUDGE, 0, 0},
		{"A", judge_rev, 2, NULL, ND_ANSWER_JUDGE, 0, 0},
		{"正确", judge_rev, 2, NULL, ND_ANSWER_JUDGE, 0, 1},
		{"B", NULL, 0, "判断题", ND_ANSWER_JUDGE, 0, 0},
		{"C", NULL, 0, NULL, ND_ANSWER_INVALID, 0, -1},   /* a label with its options missing */
		{"A, C", NULL, 0, NULL, ND_ANSWER_INVALID, 0, -1},
		{"巴黎", NULL, 0, NULL, ND_ANSWER_TEXT, 0, -1},   /* no options: an answer in words */
		{"5", NULL, 0, NULL, ND_ANSWER_TEXT, 0, -1},
		{"Paris", NULL, 0, NULL, ND_ANSWER_TEXT, 0, -1},
		{"巴黎", four, 4, NULL, ND_ANSWER_INVALID, 0, -1}, /* not one of the options */
		{"", four, 4, NULL, ND_ANSWER_NONE, 0, -1},
		{"  ", four, 4, NULL, ND_ANSWER_NONE, 0, -1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		nd_record r;
		memset(&r, 0, sizeof r);
		nd_parse_answer(cases[i].raw, cases[i].type, cases[i].opts, cases[i].nopts, &r);
		CHECK_MSG((int)r.answer_kind == cases[i].kind, "answer \"%s\": kind %d, expected %d", cases[i].raw,
			  r.answer_kind, cases[i].kind);
		if (cases[i].kind == ND_ANSWER_CHOICE)
			CHECK_MSG(r.answer_mask == cases[i].mask, "answer \"%s\": mask %u, expected %u",
				  cases[i].raw, r.answer_mask, cases[i].mask);
		if (cases[i].kind == ND_ANSWER_JUDGE)
			CHECK_MSG(r.judge_value == cases[i].judge, "answer \"%s\": judge %d", cases[i].raw,
				  r.judge_value);
	}
}

static void roundtrip(const char *path, int identical)
{
	nd_dataset *ds = load(path, ND_PRESET_AUTO, NULL);
	if (!ds)
		return;
	size_t n = nd_dataset_count(ds), a, b;
	unsigned char *keep = malloc(n);
	memset(keep, 1, n);
	char out[512];
	snprintf(out, sizeof out, "%s/roundtrip.out", nd_test_tmpdir());
	CHECK_OK(nd_dataset_write(ds, out, keep));
	char *x = read_all(path, &a), *y = read_all(out, &b);
	if (identical)
		CHECK_MSG(x && y && a == b && memcmp(x, y, a) == 0, "%s: round trip not byte-identical", path);
	free(y);
	/* every other record: still a valid input with those records, byte-for-byte */
	for (size_t i = 0; i < n; i++)
		keep[i] = i % 2 == 0;
	CHECK_OK(nd_dataset_write(ds, out, keep));
	nd_dataset *back = load(out, ND_PRESET_AUTO, NULL);
	if (back) {
		CHECK_EQ_INT(nd_dataset_count(back), (n + 1) / 2);
		CHECK_EQ_INT(nd_dataset_input(back)->container, nd_dataset_input(ds)->container);
		const char *d1 = x, *d2 = y = read_all(out, &b);
		for (size_t i = 0; i < nd_dataset_count(back) && d2; i++) {
			const nd_span *s1 = &nd_dataset_record(ds, 2 * i)->span, *s2 = &nd_dataset_record(back, i)->span;
			CHECK(s1->len == s2->len && memcmp(d1 + s1->offset, d2 + s2->offset, s1->len) == 0);
		}
		free(y);
		nd_dataset_free(back);
	}
	free(x);
	free(keep);
	nd_dataset_free(ds);
}

TEST(records_write_roundtrip_byte_exact)
{
	roundtrip(fixture("exam_wrapped.json"), 1);
	roundtrip(fixture("exam_choose.json"), 1);
	roundtrip(fixture("alpaca_exam_bom_crlf.jsonl"), 1);
	roundtrip(fixture("sharegpt.jsonl"), 1);
	roundtrip(fixture("exam_items.jsonl"), 0); /* its blank line is not kept */
}

TEST(records_bad_inputs_name_the_problem)
{
	char big_path[600];
	CHECK_EQ_INT(load_error(TMPF("empty.json", ""), "empty"), ND_EEMPTY);
	CHECK_EQ_INT(load_error(TMPF("ws.json", " \n\t\n"), "only whitespace"), ND_EEMPTY);
	CHECK_EQ_INT(load_error(TMPF("arr.json", "[ ]"), "no records"), ND_EEMPTY);
	CHECK_EQ_INT(load_error(TMPF("wrapempty.json", "{\"questions\": []}"), "no records"), ND_EEMPTY);
	CHECK_EQ_INT(load_error(TMPF("trunc.json", "[{\"question\": \"a\"}, {\"question\": \"b"),
				"truncated"), ND_EPARSE);
	CHECK_EQ_INT(load_error(TMPF("escnul.json", "[{\"question\": \"a\\u0000b\"}]"), "escaped NUL"), ND_EUTF8);
	{ /* an escaped backslash before u0000 is text, not a NUL */
		nd_dataset *ok = load(TMPF("escbs.json", "[{\"question\": \"a\\\\u0000b\"}]"), ND_PRESET_AUTO, NULL);
		if (ok)
			CHECK_EQ_STR(nd_dataset_record(ok, 0)->stem, "a\\u0000b");
		nd_dataset_free(ok);
	}
	/* an escaped backslash, then an escaped NUL: the NUL is found, at its backslash
	 * (byte 19: 15 for '[{"question": "', then "a", two backslashes, 'b') */
	CHECK_EQ_INT(load_error(TMPF("escbsnul.json", "[{\"question\": \"a\\\\b\\u0000\"}]"), "byte 19"),
		     ND_EUTF8);
	CHECK_EQ_INT(load_error(TMPF("escq.json", "[{\"question\": \"abc\\\"}]"), "unterminated string"), ND_EPARSE);
	CHECK_EQ_INT(load_error(TMPF("comma.json", "[{\"question\": \"a\"},]"), "trailing comma"),
		     ND_EPARSE);
	CHECK_EQ_INT(load_error(TMPF("sep.json", "[{\"question\": \"a\"} {\"question\": \"b\"}]"),
				"byte 19"), ND_EPARSE);
	CHECK_EQ_INT(load_error(TMPF("notobj.json", "[{\"question\": \"a\"}, 7]"), "record 1"),
		     ND_EFORMAT);
	CHECK_EQ_INT(load_error(TMPF("type.json", "[{\"question\": \"a\"}, {\"question\": 5}]"),
				"field \"question\" is a number"), ND_EFORMAT);
	CHECK_EQ_INT(load_error(TMPF("bad.json", "[{\"question\": tru}]"), "record 0 (byte 1"),
		     ND_EPARSE);
	CHECK_EQ_INT(load_error(TMPF("utf8.json", "[{\"question\": \"a\xC3\x28\"}]"), "byte 16"),
		     ND_EUTF8);
	CHECK_EQ_INT(load_error(TMPF("nul.json", "[{\"question\": \"a\0b\"}]"), "NUL byte"),
		     ND_EUTF8);
	CHECK_EQ_INT(load_error(TMPF("garbage.jsonl", "{\"question\": \"a\"} x\n{\"question\": \"b\"}\n"),
				"line 1"), ND_EPARSE);
	CHECK_EQ_INT(load_error(TMPF("after.json", "[{\"question\": \"a\"}] ["), "after the top-level"),
		     ND_EPARSE);
	CHECK_EQ_INT(load_error(TMPF("scalar.json", "42"), "expected a JSON array"), ND_EPARSE);
	CHECK_EQ_INT(load_error(TMPF("twoarr.json", "{\"a\": [{\"x\":1}], \"b\": [{\"y\":2}]}"),
				"several arrays"), ND_EMAPPING);
	CHECK_EQ_INT(load_error(TMPF("nopreset.json", "[{\"foo\": 1}]"), "fit no preset"), ND_EMAPPING);
	CHECK_EQ_INT(load_error(TMPF("ambig.json", "[{\"question\": \"q\", \"instruction\": \"i\", \"output\": \"o\"}]"),
				"several presets"), ND_EMAPPING);
	snprintf(big_path, sizeof big_path, "%s/does-not-exist.json", nd_test_tmpdir());
	CHECK_EQ_INT(load_error(big_path, "cannot open"), ND_EIO);
	CHECK_EQ_INT(load_error(nd_test_tmpdir(), "is a directory"), ND_EIO);

	/* nesting past cJSON's limit */
	size_t depth = 1500, len = 0;
	char *deep = malloc(depth * 2 + 64);
	len += (size_t)sprintf(deep, "[{\"question\": ");
	for (size_t i = 0; i < depth; i++)
		deep[len++] = '[';
	for (size_t i = 0; i < depth; i++)
		deep[len++] = ']';
	len += (size_t)sprintf(deep + len, "}]");
	CHECK_EQ_INT(load_error(tmpfile_with("deep.json", deep, len), "nested deeper"), ND_ELIMIT);
	free(deep);

	/* a 100 MB string is over the default record limit */
	size_t big = 100u << 20;
	char *s = malloc(big + 64);
	len = (size_t)sprintf(s, "[{\"question\": \"");
	memset(s + len, 'x', big);
	len += big;
	len += (size_t)sprintf(s + len, "\"}]");
	CHECK_EQ_INT(load_error(tmpfile_with("big.json", s, len), "limit"), ND_ELIMIT);
	free(s);
	unlink(TMPF("big.json", ""));
}

TEST(records_write_failures_leave_nothing)
{
	nd_dataset *ds = load(fixture("exam_choose.json"), ND_PRESET_AUTO, NULL);
	if (!ds)
		return;
	unsigned char keep[3] = {1, 1, 1};
	char path[600];
	snprintf(path, sizeof path, "%s/no/such/dir/out.json", nd_test_tmpdir());
	CHECK_EQ_INT(nd_dataset_write(ds, path, keep), ND_EIO);
	CHECK(strstr(nd_error_last(), "no/such/dir/out.json") != NULL);
	struct stat st;
	CHECK(stat(path, &st) != 0);
	if (access("/dev/full", W_OK) == 0) {
		/* /dev/full is not a directory we can make temporaries in: nothing is left */
		CHECK(nd_dataset_write(ds, "/dev/full", keep) != 0);
	}
	/* an aborted output leaves no temporary behind */
	nd_outfile *f;
	snprintf(path, sizeof path, "%s/aborted.json", nd_test_tmpdir());
	CHECK_OK(nd_outfile_open(&f, path));
	CHECK_OK(nd_outfile_write(f, "x", 1));
	nd_outfile_abort(f);
	CHECK(stat(path, &st) != 0);
	char cmd[700];
	snprintf(cmd, sizeof cmd, "ls %s | grep -c aborted.json.tmp >/dev/null", nd_test_tmpdir());
	CHECK(system(cmd) != 0);
	nd_dataset_free(ds);
}

/* Numeric ids become their decimal text as printf would write it (integers by
 * hand, the rest with %.17g). */
TEST(records_numeric_ids_as_text)
{
	const char *p = TMPF("numids.jsonl", "{\"id\": 0, \"question\": \"q0\", \"answer\": \"对\"}\n"
					    "{\"id\": -42, \"question\": \"q1\", \"answer\": \"对\"}\n"
					    "{\"id\": 8999999999999999, \"question\": \"q2\", \"answer\": \"对\"}\n"
					    "{\"id\": 1.5, \"question\": \"q3\", \"answer\": \"对\"}\n"
					    "{\"id\": 1e300, \"question\": \"q4\", \"answer\": \"对\"}\n"
					    "{\"id\": -0, \"question\": \"q5\", \"answer\": \"对\"}\n");
	nd_dataset *ds = load(p, ND_PRESET_EXAM, NULL);
	if (!ds)
		return;
	static const char *const want[] = {"0", "-42", "8999999999999999", "1.5", "1.0000000000000001e+300", "0"};
	CHECK_EQ_INT(nd_dataset_count(ds), 6);
	for (size_t i = 0; i < 6 && i < nd_dataset_count(ds); i++)
		CHECK_EQ_STR(nd_dataset_record(ds, i)->id, want[i]);
	nd_dataset_free(ds);
}
