/* The stricter guards for pairs only the semantic pass found (dedup/guards.c,
 * nd_guard_check_strict, chosen in the decide stage): the same pair handed in as a
 * semantic pair is vetoed where the lexical pass's copy of it would be accepted. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "neardup/dedup.h"

/* records 0..: each line one record */
static const char *const recs[] = {
	/* 0, 1: one with a picture, one without (a lexical copy often lost it) */
	"{\"question\": \"如图所示，夜间会车时应当开启远光灯。\", \"answer\": \"错\", \"image\": \"a.jpg\"}",
	"{\"question\": \"夜间会车时应当开启远光灯。\", \"answer\": \"错\"}",
	/* 2, 3: another slot word of a template (退休人员 / 在校学生): each holds two
	 * characters the other lacks */
	"{\"question\": \"退休人员在户籍地申请A1准驾车型的驾驶证，年龄应当在多少周岁以上？\"}",
	"{\"question\": \"在校学生在户籍地申请A1准驾车型的驾驶证，年龄应当在多少周岁以上？\"}",
	/* 4, 5: a reworded duplicate (多长时间 / 多久): kept together */
	"{\"question\": \"道路交通违法行为累积记分周期是多长时间？\"}",
	"{\"question\": \"道路交通违法行为累积记分周期是多久？\"}",
	/* 6, 7: one hunk traded for disjoint words (检验合格 / 保险) */
	"{\"question\": \"机动车驾驶人有使用其他车辆检验合格标志嫌疑的，交通警察可依法扣留机动车。\"}",
	"{\"question\": \"机动车驾驶人有使用其他车辆保险标志嫌疑的，交通警察可依法扣留机动车。\"}",
};
#define NREC (sizeof recs / sizeof *recs)

static nd_dataset *load(void)
{
	char buf[4096];
	size_t l = 0;
	for (size_t i = 0; i < NREC; i++)
		l += (size_t)snprintf(buf + l, sizeof buf - l, "%s\n", recs[i]);
	const char *p = nd_test_write("guards_semantic.jsonl", buf, l);
	nd_dataset *ds = NULL;
	CHECK_OK(nd_dataset_load(&ds, p, NULL));
	return ds;
}

/* the guard that vetoed pair (a, b), 0 when none did, -1 when it is not a variant */
static int veto_of(const nd_result *r, uint32_t a, uint32_t b)
{
	const nd_variant *v;
	size_t n = nd_result_variants(r, &v);
	for (size_t i = 0; i < n; i++)
		if (v[i].a == a && v[i].b == b)
			return (int)v[i].guard;
	return 0;
}

static int together(const nd_result *r, uint32_t a, uint32_t b)
{
	return nd_result_kept_by(r, a) == nd_result_kept_by(r, b);
}

TEST(guards_semantic_only_pairs_are_checked_strictly)
{
	nd_dataset *ds = load();
	if (!ds)
		return;
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.threshold = 1.0; /* the lexical pass links exact copies only */
	nd_extra_pair ex[] = {{0, 1, 0.999f, ND_PASS_SEMANTIC}, {2, 3, 0.995f, ND_PASS_SEMANTIC},
			      {4, 5, 0.993f, ND_PASS_SEMANTIC}, {6, 7, 0.992f, ND_PASS_SEMANTIC}};
	nd_result *r = NULL;
	CHECK_OK(nd_dedup_run(&r, ds, &o, ex, 4));
	if (r) {
		CHECK_EQ_INT(nd_result_stats(r)->pairs_semantic_only, 4);
		CHECK_EQ_INT(veto_of(r, 0, 1), ND_GUARD_IMAGE);
		CHECK_EQ_INT(veto_of(r, 2, 3), ND_GUARD_SWAP);
		CHECK_EQ_INT(veto_of(r, 4, 5), 0);
		CHECK_EQ_INT(veto_of(r, 6, 7), ND_GUARD_SWAP);
		CHECK(together(r, 4, 5));
		CHECK(!together(r, 0, 1) && !together(r, 2, 3) && !together(r, 6, 7));
		const nd_variant *v;
		size_t nv = nd_result_variants(r, &v);
		for (size_t i = 0; i < nv; i++)
			if (v[i].a == 6)
				CHECK_MSG(strstr(v[i].detail, "检") && strstr(v[i].detail, "保"),
					  "detail \"%s\" names the traded words", v[i].detail);
	}
	nd_result_free(r);

	/* without the swap and image guards, the semantic pairs are accepted */
	o.guards = ND_GUARD_ALL & ~(ND_GUARD_SWAP | ND_GUARD_IMAGE);
	CHECK_OK(nd_dedup_run(&r, ds, &o, ex, 4));
	if (r) {
		CHECK(together(r, 0, 1) && together(r, 2, 3) && together(r, 6, 7));
		CHECK_EQ_INT(nd_result_stats(r)->vetoed[3] + nd_result_stats(r)->vetoed[4], 0);
	}
	nd_result_free(r);
	nd_dataset_free(ds);
}

TEST(guards_lexical_pairs_keep_the_lenient_rules)
{
	nd_dataset *ds = load();
	if (!ds)
		return;
	/* 0 and 1 found by the lexical pass: one side without an image is no difference */
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.ngram = 1;
	o.lex.threshold = 0.7; /* 12 of 16 characters */
	nd_result *r = NULL;
	CHECK_OK(nd_dedup_run(&r, ds, &o, NULL, 0));
	if (r) {
		CHECK_EQ_INT(veto_of(r, 0, 1), 0);
		CHECK(together(r, 0, 1));
	}
	nd_result_free(r);
	/* the same pair also handed in by the semantic pass counts as lexical, whatever
	 * pass the caller wrote on the extra pair */
	for (int pass = ND_PASS_EXACT; pass <= ND_PASS_SEMANTIC; pass++) {
		nd_extra_pair ex = {0, 1, 0.999f, (nd_pass)pass};
		CHECK_OK(nd_dedup_run(&r, ds, &o, &ex, 1));
		if (r) {
			CHECK(together(r, 0, 1));
			CHECK_EQ_INT(nd_result_stats(r)->pairs_semantic_only, 0);
		}
		nd_result_free(r);
	}
	nd_dataset_free(ds);
}

/* the swap rule: a surname traded before 某 is another case, whatever the surname (萧 is
 * not in the class of common surnames) — for lexical pairs too */
TEST(guards_swap_person_before_mou)
{
	const char *two = "{\"question\": \"萧某年满16周岁，已取得B2驾驶证五年，可以申请哪种准驾车型？\"}\n"
			  "{\"question\": \"罗某年满16周岁，已取得B2驾驶证五年，可以申请哪种准驾车型？\"}\n";
	const char *p = nd_test_write("guards_mou.jsonl", two, strlen(two));
	nd_dataset *ds = NULL;
	CHECK_OK(nd_dataset_load(&ds, p, NULL));
	if (!ds)
		return;
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	nd_result *r = NULL;
	CHECK_OK(nd_dedup_run(&r, ds, &o, NULL, 0));
	if (r) {
		const nd_variant *v;
		size_t nv = nd_result_variants(r, &v);
		CHECK_EQ_INT(nv, 1);
		if (nv) {
			CHECK_EQ_INT(v[0].guard, ND_GUARD_SWAP);
			CHECK_EQ_STR(v[0].detail, "萧某 → 罗某");
		}
		CHECK(!together(r, 0, 1));
	}
	nd_result_free(r);
	nd_dataset_free(ds);
}

/* Latin text: a semantic-only pair whose stems each hold a word the other lacks
 * (french / german) is another question; one whose words are a reordering, or one
 * side's words plus more, is not vetoed by that rule. */
TEST(guards_semantic_latin_words)
{
	const char *text =
		"{\"instruction\": \"Translate the following sentence from English into French.\", \"output\": \"a\"}\n"
		"{\"instruction\": \"Translate the following sentence from English into German.\", \"output\": \"b\"}\n"
		"{\"instruction\": \"Explain why the sky is blue to a child using simple words.\", \"output\": \"c\"}\n"
		"{\"instruction\": \"Explain to a child why the sky is blue, using simple words.\", \"output\": \"d\"}\n"
		"{\"instruction\": \"Explain why the sky is blue.\", \"output\": \"e\"}\n";
	const char *p = nd_test_write("guards_latin.jsonl", text, strlen(text));
	nd_dataset *ds = NULL;
	CHECK_OK(nd_dataset_load(&ds, p, NULL));
	if (!ds)
		return;
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.threshold = 1.0; /* only what the semantic pairs link */
	nd_extra_pair ex[] = {{0, 1, 0.997f, ND_PASS_SEMANTIC}, {2, 3, 0.998f, ND_PASS_SEMANTIC},
			      {2, 4, 0.991f, ND_PASS_SEMANTIC}};
	nd_result *r = NULL;
	CHECK_OK(nd_dedup_run(&r, ds, &o, ex, 3));
	if (r) {
		CHECK_EQ_INT(veto_of(r, 0, 1), ND_GUARD_SWAP);
		CHECK(!together(r, 0, 1));
		CHECK_EQ_INT(veto_of(r, 2, 3), 0);
		CHECK_EQ_INT(veto_of(r, 2, 4), 0);
		CHECK(together(r, 2, 3) && together(r, 2, 4));
		const nd_variant *v;
		size_t nv = nd_result_variants(r, &v);
		for (size_t i = 0; i < nv; i++)
			if (v[i].a == 0)
				CHECK_MSG(strstr(v[i].detail, "french") && strstr(v[i].detail, "german"),
					  "detail \"%s\" names both words", v[i].detail);
	}
	nd_result_free(r);
	nd_dataset_free(ds);
}

/* A semantic-only pair where one stem holds a whole clause the other lacks (six or
 * more characters of its own) is another rule, not a rewording; one that drops a
 * word or two stays a duplicate. */
TEST(guards_semantic_clause_on_one_side)
{
	const char *text = "{\"question\": \"驾驶人同时被处以暂扣驾驶证的，经学习考试合格后，记分予以清除。\"}\n"
			   "{\"question\": \"驾驶人经学习考试合格后，记分予以清除。\"}\n"
			   "{\"question\": \"驾驶人经学习且考试合格后，记分予以清除。\"}\n";
	const char *p = nd_test_write("guards_clause.jsonl", text, strlen(text));
	nd_dataset *ds = NULL;
	CHECK_OK(nd_dataset_load(&ds, p, NULL));
	if (!ds)
		return;
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.threshold = 1.0;
	nd_extra_pair ex[] = {{0, 1, 0.993f, ND_PASS_SEMANTIC}, {1, 2, 0.996f, ND_PASS_SEMANTIC}};
	nd_result *r = NULL;
	CHECK_OK(nd_dedup_run(&r, ds, &o, ex, 2));
	if (r) {
		CHECK_EQ_INT(veto_of(r, 0, 1), ND_GUARD_SWAP);
		CHECK_EQ_INT(veto_of(r, 1, 2), 0);
		CHECK(!together(r, 0, 1) && together(r, 1, 2));
		const nd_variant *v;
		size_t nv = nd_result_variants(r, &v);
		for (size_t i = 0; i < nv; i++)
			if (v[i].a == 0)
				CHECK_MSG(strstr(v[i].detail, "clause") != NULL, "detail \"%s\"", v[i].detail);
	}
	nd_result_free(r);
	nd_dataset_free(ds);
}
