/* validate/: each detector on one-record cases (and its false friends), gates and their
 * errors, split leakage, report checks, baseline, determinism of the JSON report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "neardup/validate.h"

static const char *tmp_file(const char *name, const char *text)
{
	return nd_test_write(name, text, strlen(text));
}

static const nd_vcheck *check(const nd_validation *v, const char *id)
{
	const nd_vcheck *c;
	size_t n = nd_validation_checks(v, &c);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].id, id))
			return &c[i];
	return NULL;
}

/* Ten clean Chinese exam records (distinct, answers spread), then @extra. */
static nd_validation *run_with(const char *extra)
{
	static const char *const clean[] = {
		"驾驶机动车在道路上行驶应当随身携带哪种证件？", "雾天行车时应当开启哪种灯光以提高能见度？",
		"饮酒后驾驶机动车会受到什么处罚？", "在没有交通信号灯的路口转弯车辆应当如何通行？",
		"夜间会车时距离对向来车多远应改用近光灯？", "遇到校车停靠上下学生时后方车辆应当怎样做？",
		"驾驶人连续驾驶四小时以上应当怎样做？", "机动车通过铁路道口时最高速度不得超过多少？",
		"上坡路段停车时方向盘应向哪个方向转动？", "轮胎气压过低会对行车造成什么影响？"};
	char buf[8192];
	size_t o = 0;
	o += (size_t)snprintf(buf + o, sizeof buf - o, "[\n");
	for (int i = 0; i < 10; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o,
				      "{\"question\": \"%s\", \"options\": [\"甲方案%d\", \"乙方案%d\", \"丙方案%d\"], "
				      "\"answer\": \"%c\", \"explanation\": \"依法作答。\", \"type\": \"single\"},\n",
				      clean[i], i, i, i, "ABC"[i % 3]);
	o += (size_t)snprintf(buf + o, sizeof buf - o, "%s\n]\n", extra);
	nd_validate_opts vo = ND_VALIDATE_OPTS_INIT;
	vo.probe = -1;
	nd_validation *v = NULL;
	int rc = nd_validate_dataset(&v, tmp_file("v.json", buf), &vo);
	CHECK_MSG(rc == 0, "validate: %s", nd_error_last());
	if (v)
		nd_validation_gate(v, NULL);
	return v;
}

#define REC(q) "{\"question\": \"" q "\", \"options\": [\"一\", \"二\", \"三\"], \"answer\": \"A\", \"explanation\": \"解析。\", \"type\": \"single\"}"

static void expect(const char *extra, const char *id, size_t count)
{
	nd_validation *v = run_with(extra);
	if (!v)
		return;
	const nd_vcheck *c = check(v, id);
	CHECK(c != NULL);
	if (c)
		CHECK_MSG(c->count == count, "%s: count %zu, expected %zu for %s", id, c->count, count, extra);
	nd_validation_free(v);
}

TEST(validate_clean_passes)
{
	nd_validation *v = run_with(REC("车辆发生侧滑时应当向哪一侧转动方向盘？"));
	if (!v)
		return;
	const nd_vcheck *c;
	size_t n = nd_validation_checks(v, &c);
	for (size_t i = 0; i < n; i++)
		CHECK_MSG(c[i].status != ND_VSTATUS_FAIL && (c[i].status != ND_VSTATUS_WARN || !strcmp(c[i].id, "answer_position_skew")),
			  "%s is %s on clean data", c[i].id, nd_vstatus_name(c[i].status));
	CHECK_EQ_INT(nd_validation_records(v), 11);
	nd_validation_free(v);
}

TEST(validate_html_detector)
{
	expect(REC("<p>通过急弯路段时应当减速</p>"), "html_residue", 1);
	expect(REC("通过急弯路段时应当&nbsp;减速"), "html_residue", 1);
	expect(REC("通过急弯路段时应当&#20943;速"), "html_residue", 1);
	/* a '<' that opens no tag, an ampersand that is no entity */
	expect(REC("车速<50时应当怎样 A&B 两车"), "html_residue", 0);
}

TEST(validate_text_detectors)
{
	expect(REC("坡道停车时锟斤拷应当拉紧手刹"), "mojibake", 1);
	expect(REC("坡道停车时\\ufffd应当拉紧手刹"), "mojibake", 1);
	expect(REC("坡道停车时\\u0007应当拉紧手刹"), "control_chars", 1);
	expect(REC("坡道停车时\\u200b应当拉紧手刹"), "control_chars", 1);
	expect(REC("坡道停车时，，应当拉紧手刹"), "doubled_punct", 1);
	expect(REC("坡道停车时……应当拉紧手刹——对吗"), "doubled_punct", 0);
	expect(REC("在小区内行驶,车速应当控制在多少？"), "mixed_punct", 1);
	expect(REC("在小区内行驶，车速应当控制在多少？"), "mixed_punct", 0);
	expect(REC("路边有人喊停停停停停停停时怎样处理"), "repeated_chars", 1);
	/* fill-in blanks, digits and ellipses are runs on purpose */
	expect(REC("罚款（______）元，即1000000分之一……………"), "repeated_chars", 0);
	expect(REC("What must a driver do at a red light?"), "low_cjk_ratio", 1);
	expect(REC("如图所示，在这种情况下应当怎样通过？"), "image_missing", 1);
	expect("{\"question\": \"如图所示，这时应当怎样通过？\", \"options\": [\"一\", \"二\"], \"answer\": \"A\", "
	       "\"explanation\": \"解析。\", \"image\": \"a.png\"}",
	       "image_missing", 0);
}

TEST(validate_schema_detectors)
{
	expect("{\"question\": \"\", \"answer\": \"对\"}", "missing_stem", 1);
	expect("{\"question\": \"交通信号灯熄灭时怎样通行？\", \"options\": [\"一\", \"二\", \"三\"], \"answer\": \"\"}",
	       "missing_answer", 1);
	expect("{\"question\": \"交通信号灯熄灭时怎样通行？\", \"options\": [\"一\", \"二\", \"三\"], \"answer\": \"F\"}",
	       "bad_answer", 1);
	expect("{\"question\": \"摩托车能进快速路吗？\", \"answer\": \"B\", \"type\": \"single\"}", "options_missing", 1);
	expect("{\"question\": \"货车车厢可以载人。\", \"options\": [\"对\", \"错\", \"不确定\"], \"answer\": \"B\", "
	       "\"type\": \"judge\"}",
	       "type_options", 1);
	expect("{\"question\": \"下列哪些行为违法？\", \"options\": [\"一\", \"一\", \"三\"], \"answer\": \"A\"}",
	       "type_options", 1);
	expect("{\"question\": \"下列哪些行为违法？\", \"options\": [\"一\", \"二\", \"三\"], \"answer\": \"A\", "
	       "\"type\": \"多选题\"}",
	       "answer_count", 1);
	expect("{\"question\": \"下列哪个正确？\", \"options\": [\"一\", \"二\", \"三\"], \"answer\": \"AB\", "
	       "\"type\": \"单选题\"}",
	       "answer_count", 1);
	expect("{\"question\": \"拖拉机可以载客。\", \"answer\": \"C\", \"type\": \"判断题\"}", "judge_answer", 1);
	expect("{\"question\": \"拖拉机可以载客。\", \"answer\": \"错\", \"type\": \"判断题\", \"explanation\": \"\"}",
	       "empty_explanation", 1);
}

TEST(validate_duplicates)
{
	nd_validation *v = run_with(REC("驾驶机动车在道路上行驶应当随身携带哪种证件？") ",\n"
				    REC("驾驶机动车在道路上行驶应当随身携带哪种证件？"));
	if (!v)
		return;
	const nd_vcheck *e = check(v, "residual_exact_rate"), *n = check(v, "residual_near_rate");
	/* record 0 has other options: the two copies repeat each other, not record 0 */
	CHECK_EQ_INT(e->count, 1);
	CHECK_EQ_INT(n->count, 1);
	CHECK(e->n_examples == 1 && e->examples[0].index == 11);
	CHECK(n->status == ND_VSTATUS_FAIL);
	CHECK(fabs(n->value - 1.0 / 12) < 1e-9);
	CHECK_EQ_INT(check(v, "same_stem_diff_options")->count, 1);
	nd_validation_free(v);
}

TEST(validate_gates)
{
	nd_gates *g = NULL;
	CHECK_OK(nd_gates_create(&g));
	if (!g)
		return;
	CHECK_OK(nd_gates_set(g, ND_LEVEL_FAIL, "html_residue=0"));
	CHECK_OK(nd_gates_set(g, ND_LEVEL_WARN, "residual_near_rate=off"));
	CHECK_EQ_INT(nd_gates_set(g, ND_LEVEL_FAIL, "nope=1"), ND_EINVAL);
	CHECK(strstr(nd_error_last(), "unknown check id \"nope\"") != NULL);
	CHECK_EQ_INT(nd_gates_set(g, ND_LEVEL_FAIL, "html_residue=1.5"), ND_EINVAL);
	CHECK_EQ_INT(nd_gates_set(g, ND_LEVEL_FAIL, "html_residue=-1"), ND_EINVAL);
	CHECK_EQ_INT(nd_gates_set(g, ND_LEVEL_FAIL, "html_residue"), ND_EINVAL);
	CHECK_OK(nd_gates_set(g, ND_LEVEL_FAIL, "answer_conflicts=3")); /* a count may exceed 1 */
	CHECK_EQ_INT(nd_gates_load(g, tmp_file("g1.json", "{\"schema\": \"neardup.gates/1\", \"gates\": {\"x\": {}}}")),
		     ND_EINVAL);
	CHECK_EQ_INT(nd_gates_load(g, tmp_file("g2.json", "{\"gates\": {\"mojibake\": {\"fail\": 0.1, \"warn\": 0.2}}}")),
		     ND_EINVAL);
	CHECK(strstr(nd_error_last(), "warn 0.2 is above fail 0.1") != NULL);
	CHECK_EQ_INT(nd_gates_load(g, tmp_file("g3.json", "{\"gates\": {\"mojibake\": {\"error\": 1}}}")), ND_EINVAL);
	CHECK_EQ_INT(nd_gates_load(g, tmp_file("g4.json", "{\"gates\": {\"mojibake\": 1}}")), ND_EINVAL);
	CHECK_EQ_INT(nd_gates_load(g, tmp_file("g5.json", "[1]")), ND_EINVAL);
	CHECK_EQ_INT(nd_gates_load(g, "/nonexistent/gates.json"), ND_EIO);
	CHECK_OK(nd_gates_load(g, tmp_file("g6.json", "{\"schema\": \"neardup.gates/1\", \"gates\": {\"mojibake\": "
						     "{\"warn\": null, \"fail\": 0.25}, \"low_cjk_ratio\": \"off\"}}")));

	nd_validation *v = run_with(REC("<b>通过急弯路段</b>时应当减速"));
	if (v) {
		CHECK_EQ_INT(nd_validation_gate(v, g), ND_VSTATUS_FAIL);
		const nd_vcheck *h = check(v, "html_residue"), *m = check(v, "mojibake"), *r = check(v, "residual_near_rate");
		CHECK(h->status == ND_VSTATUS_FAIL && h->fail == 0);
		CHECK(isnan(m->warn) && m->fail == 0.25 && m->status == ND_VSTATUS_PASS);
		CHECK(isnan(r->warn) && r->status == ND_VSTATUS_PASS);
		CHECK(check(v, "low_cjk_ratio")->status == ND_VSTATUS_INFO);
		/* the defaults again: html residue only warns */
		CHECK_EQ_INT(nd_validation_gate(v, NULL), ND_VSTATUS_WARN);
		nd_validation_free(v);
	}
	nd_gates_free(g);
	nd_gates_free(NULL);
	nd_validation_free(NULL);
}

TEST(validate_registry)
{
	size_t n = nd_validate_check_defs(NULL, 0);
	nd_vcheck *c = calloc(n, sizeof *c);
	CHECK(n >= 30 && c);
	if (!c)
		return;
	CHECK_EQ_INT(nd_validate_check_defs(c, n), n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			CHECK_MSG(strcmp(c[i].id, c[j].id), "duplicate id %s", c[i].id);
	/* the defaults */
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(c[i].id, "residual_near_rate"))
			CHECK(c[i].fail == 0.005);
		if (!strcmp(c[i].id, "parse_errors") || !strcmp(c[i].id, "leakage_exact") || !strcmp(c[i].id, "leakage_near"))
			CHECK(c[i].fail == 0);
		if (!strcmp(c[i].id, "answer_conflicts"))
			CHECK(c[i].warn == 0 && isnan(c[i].fail));
	}
	free(c);
}

static const char *split_file(const char *name, const char *const *q, int n)
{
	char buf[4096];
	size_t o = 0;
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o,
				      "{\"question\": \"%s\", \"options\": [\"同意\", \"反对\", \"弃权\"], \"answer\": \"A\"}\n", q[i]);
	return tmp_file(name, buf);
}

TEST(validate_split_leakage)
{
	const char *train_q[] = {"驾驶机动车在道路上行驶应当随身携带哪种证件", "雾天行车时应当开启哪种灯光以提高能见度",
				 "饮酒后驾驶机动车会受到什么处罚", "夜间会车时距离对向来车多远应改用近光灯"};
	const char *val_q[] = {"上坡路段停车时方向盘应向哪个方向转动", "雾天行车时应当开启哪种灯光以提高能见度"};
	const char *test_q[] = {"轮胎气压过低会对行车造成什么影响", "饮酒后驾驶机动车会受到什么样的处罚"};
	const char *paths[3];
	paths[0] = split_file("train.jsonl", train_q, 4);
	paths[1] = split_file("val.jsonl", val_q, 2);
	paths[2] = split_file("test.jsonl", test_q, 2);
	nd_validate_opts vo = ND_VALIDATE_OPTS_INIT;
	vo.dedup.lex.ngram = 1;
	vo.probe = -1;
	nd_validation *v = NULL;
	CHECK_OK(nd_validate_split(&v, paths, &vo));
	if (!v)
		return;
	nd_validation_gate(v, NULL);
	const nd_vcheck *le = check(v, "leakage_exact"), *ln = check(v, "leakage_near");
	CHECK_EQ_INT(le->count, 1);
	CHECK_EQ_INT(ln->count, 1);
	CHECK(le->n_examples == 1 && le->examples[0].split == ND_SPLIT_VAL && le->examples[0].index == 1);
	CHECK(ln->n_examples == 1 && ln->examples[0].split == ND_SPLIT_TEST && ln->examples[0].index == 1);
	CHECK(le->status == ND_VSTATUS_FAIL && ln->status == ND_VSTATUS_FAIL);
	/* a twin across splits is leakage, not a residual duplicate */
	CHECK_EQ_INT(check(v, "residual_near_rate")->count, 0);
	nd_validation_free(v);
	const char *only_train[3] = {paths[0], NULL, NULL};
	CHECK_EQ_INT(nd_validate_split(&v, only_train, &vo), ND_EINVAL);
	CHECK(v == NULL);
}

TEST(validate_report_errors)
{
	nd_validation *v = NULL;
	CHECK_EQ_INT(nd_validate_report(&v, tmp_file("r1.json", "{\"schema\": \"neardup.report/1\", \"input\""), NULL),
		     ND_EPARSE);
	CHECK(strstr(nd_error_last(), "corrupt or truncated") != NULL);
	CHECK_EQ_INT(nd_validate_report(&v, tmp_file("r2.json", "{\"schema\": \"neardup.report/2\"}"), NULL), ND_EFORMAT);
	char buf[1024];
	const char *in = tmp_file("rin.json", "[{\"question\": \"驾驶证丢了怎么办\", \"answer\": \"补办\"}]\n");
	snprintf(buf, sizeof buf,
		 "{\"schema\": \"neardup.report/1\", \"input\": {\"path\": \"%s\", \"size\": 61, \"sha256\": "
		 "\"0000000000000000000000000000000000000000000000000000000000000000\", \"records\": 1}, "
		 "\"output\": {\"path\": null, \"records\": 1}, \"params\": {\"threshold\": 0.9}, "
		 "\"stats\": {\"removed\": 0}, \"clusters\": []}",
		 in);
	int rc = nd_validate_report(&v, tmp_file("r3.json", buf), NULL);
	CHECK_MSG(rc == ND_EFORMAT && strstr(nd_error_last(), "input changed since the report"), "rc %d: %s", rc,
		  nd_error_last());
	snprintf(buf, sizeof buf,
		 "{\"schema\": \"neardup.report/1\", \"input\": {\"path\": \"%s/gone.json\", \"size\": 61, \"sha256\": "
		 "\"0000000000000000000000000000000000000000000000000000000000000000\", \"records\": 1}, "
		 "\"output\": {\"path\": null, \"records\": 1}, \"params\": {\"threshold\": 0.9}, "
		 "\"stats\": {\"removed\": 0}, \"clusters\": []}",
		 nd_test_tmpdir());
	CHECK_EQ_INT(nd_validate_report(&v, tmp_file("r4.json", buf), NULL), ND_EIO);
	CHECK(v == NULL);
}

TEST(validate_json_deterministic_and_baseline)
{
	char a[600], b[600];
	nd_validation *v1 = run_with(REC("<p>通过急弯路段时应当减速</p>"));
	if (!v1)
		return;
	snprintf(a, sizeof a, "%s/va.json", nd_test_tmpdir());
	snprintf(b, sizeof b, "%s/vb.json", nd_test_tmpdir());
	CHECK_OK(nd_validation_write_json(v1, a));
	nd_validate_opts vo = ND_VALIDATE_OPTS_INIT;
	vo.probe = -1;
	vo.threads = 1;
	nd_validation *v2 = NULL;
	char path[600];
	snprintf(path, sizeof path, "%s/v.json", nd_test_tmpdir());
	CHECK_OK(nd_validate_dataset(&v2, path, &vo));
	if (v2) {
		nd_validation_gate(v2, NULL);
		CHECK_OK(nd_validation_write_json(v2, b));
		FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
		char ba[65536], bb[65536];
		size_t na = fa ? fread(ba, 1, sizeof ba, fa) : 0, nb = fb ? fread(bb, 1, sizeof bb, fb) : 1;
		CHECK(na == nb && memcmp(ba, bb, na) == 0);
		if (fa)
			fclose(fa);
		if (fb)
			fclose(fb);
		/* compared with itself: nothing dropped, nothing new */
		CHECK_OK(nd_validation_compare(v2, a));
		nd_validation_gate(v2, NULL);
		CHECK(check(v2, "baseline_records_drop")->value == 0);
		CHECK_EQ_INT(check(v2, "baseline_new_failures")->count, 0);
		CHECK_EQ_INT(nd_validation_compare(v2, "/nonexistent.json"), ND_EIO);
		char *text = NULL;
		CHECK_OK(nd_validation_text(v2, &text));
		/* the gate table comes first, findings after it */
		CHECK(text && strstr(text, "check ") && strstr(text, "findings") && strstr(text, "check ") < strstr(text, "findings"));
		free(text);
		snprintf(path, sizeof path, "%s/v.html", nd_test_tmpdir());
		CHECK_OK(nd_validation_write_html(v2, path));
		nd_validation_free(v2);
	}
	nd_validation_free(v1);
}
