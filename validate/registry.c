/* The check registry, the validation object and its accessors. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vinternal.h"

#define NONE NAN

/* Defaults: fail on what breaks training or evaluation (parse errors, leakage, residual
 * duplicates above 0.5% of records, the rate the issue asks for); warn on anything else
 * that flags records, at 0 where one bad record is worth a look, at 1% where scraped
 * data carries some as a matter of course (mixed punctuation widths, short English
 * records in a Chinese bank, length outliers). */
const vc_def nd_vc_defs[VC_COUNT] = {
	[VC_PARSE_ERRORS] = {"parse_errors", "schema",
			     "records that are not valid JSON objects, hold invalid UTF-8 or a field of the wrong type",
			     "records", NONE, 0},
	[VC_MISSING_STEM] = {"missing_stem", "schema", "records without question / instruction / user text", "records", 0, NONE},
	[VC_MISSING_ANSWER] = {"missing_answer", "schema", "records without an answer", "records", 0, NONE},
	[VC_BAD_ANSWER] = {"bad_answer", "schema",
			   "answers that cannot be read or name an option the record does not have", "records", 0, NONE},
	[VC_OPTIONS_MISSING] = {"options_missing", "schema", "choice questions without options", "records", 0, NONE},
	[VC_TYPE_OPTIONS] = {"type_options", "schema",
			     "options inconsistent with the type (judge with other than 2, choice with 1, repeated option texts)",
			     "records", 0, NONE},
	[VC_ANSWER_COUNT] = {"answer_count", "schema",
			     "multi-choice with fewer than 2 distinct answers, or single-choice with several", "records", 0, NONE},
	[VC_JUDGE_ANSWER] = {"judge_answer", "schema", "true/false questions whose answer is not true or false", "records", 0, NONE},
	[VC_ALPACA_EMPTY] = {"alpaca_empty", "schema",
			     "alpaca rows with instruction or output missing or blank (LLaMA-Factory drops them)", "records", 0, NONE},
	[VC_ALPACA_HISTORY] = {"alpaca_history", "schema", "alpaca history that is not a list of [query, response] strings",
			       "records", 0, NONE},
	[VC_CHAT_ROLES] = {"chat_roles", "schema",
			   "conversations whose roles do not alternate user/assistant or use an unknown role (dropped)",
			   "records", 0, NONE},
	[VC_CHAT_TURNS] = {"chat_turns", "schema",
			   "conversations with an odd or zero number of turns, or not ending with the assistant (dropped)",
			   "records", 0, NONE},
	[VC_CHAT_EMPTY_TURN] = {"chat_empty_turn", "schema", "conversations with an empty turn", "records", 0, NONE},
	[VC_HTML] = {"html_residue", "hygiene", "HTML tags or entities left in the text", "rate", 0, NONE},
	[VC_MOJIBAKE] = {"mojibake", "hygiene", "U+FFFD or mis-decoded text (锟斤拷, Ã©, 鈥, 锛 …)", "rate", 0, NONE},
	[VC_CONTROL] = {"control_chars", "hygiene", "control or invisible characters (C0/C1, DEL, zero-width, bidi, BOM)",
			"rate", 0, NONE},
	[VC_MIXED_PUNCT] = {"mixed_punct", "hygiene",
			    "full-width and half-width punctuation mixed in one Chinese record", "rate", 0.01, NONE},
	[VC_DOUBLED_PUNCT] = {"doubled_punct", "hygiene", "doubled punctuation (，， 。。 ?? 、、)", "rate", 0, NONE},
	[VC_LOW_CJK] = {"low_cjk_ratio", "hygiene",
			"records under 25% CJK characters in a dataset whose median record is over 50%", "rate", 0.01, NONE},
	[VC_REPEATED] = {"repeated_chars", "hygiene", "a character repeated 6 or more times in a row (blanks and digits aside)",
			 "rate", 0, NONE},
	[VC_LENGTH_OUTLIER] = {"length_outliers", "hygiene", "question length outliers (robust z-score above 3.5)", "rate",
			       0.01, NONE},
	[VC_EMPTY_EXPL] = {"empty_explanation", "hygiene", "exam questions without an explanation", "rate", 0, NONE},
	[VC_IMAGE_MISSING] = {"image_missing", "hygiene", "questions that refer to a picture (如图, 图中) but carry no image",
			      "rate", 0, NONE},
	[VC_RESIDUAL_EXACT] = {"residual_exact_rate", "duplicates",
			       "records whose normalised text (and image) repeats an earlier record's", "rate", 0, 0.005},
	[VC_RESIDUAL_NEAR] = {"residual_near_rate", "duplicates",
			      "records a dedup at the threshold would still remove (exact and near, after guards)", "rate", 0,
			      0.005},
	[VC_RESIDUAL_PROBE] = {"residual_probe_rate", "duplicates",
			       "records a dedup at the stricter probe threshold would remove", "rate", 0.05, NONE},
	[VC_CONFLICTS] = {"answer_conflicts", "duplicates", "duplicate pairs whose answers differ", "pairs", 0, NONE},
	[VC_SAME_STEM] = {"same_stem_diff_options", "duplicates",
			  "groups of questions with the same stem but different option sets (informational)", "groups", NONE,
			  NONE},
	[VC_LEAK_EXACT] = {"leakage_exact", "duplicates", "val/test records identical to one in an earlier split", "records",
			   NONE, 0},
	[VC_LEAK_NEAR] = {"leakage_near", "duplicates",
			  "val/test records with a near-twin (at the threshold, after guards) in an earlier split", "records",
			  NONE, 0},
	[VC_ANSWER_SKEW] = {"answer_position_skew", "distribution",
			    "share of single-choice answers at the most common position (A, B …)", "share", 0.5, NONE},
	[VC_REDUCTION] = {"report_reduction", "distribution", "share of input records the dedup removed (from the report)",
			  "rate", NONE, NONE},
	[VC_BASE_DROP] = {"baseline_records_drop", "baseline", "share of records lost since the baseline", "rate", 0.1, 0.2},
	[VC_BASE_DUP_GROWTH] = {"baseline_dup_growth", "baseline",
				"residual_near_rate over the baseline's (its floor 0.001, so 0 -> 0.002 is 2)", "ratio", NONE,
				2.0},
	[VC_BASE_NEW_FAILURES] = {"baseline_new_failures", "baseline", "checks that warn or fail now but did not in the baseline",
				  "checks", 0, NONE},
};

const char *const nd_csize_labels[ND_CSIZE_BINS] = {"2", "3", "4", "5", "6-10", "11-20", "21-50", ">50"};

int nd_vc_find(const char *id)
{
	for (int k = 0; k < VC_COUNT; k++)
		if (!strcmp(nd_vc_defs[k].id, id))
			return k;
	return -1;
}

int nd_vc_is_fraction(int k)
{
	return !strcmp(nd_vc_defs[k].unit, "rate") || !strcmp(nd_vc_defs[k].unit, "share");
}

const char *nd_vstatus_name(nd_vstatus s)
{
	switch (s) {
	case ND_VSTATUS_PASS: return "pass";
	case ND_VSTATUS_INFO: return "info";
	case ND_VSTATUS_SKIP: return "skip";
	case ND_VSTATUS_WARN: return "warn";
	case ND_VSTATUS_FAIL: return "fail";
	}
	return "?";
}

const char *nd_split_name(nd_split s)
{
	switch (s) {
	case ND_SPLIT_TRAIN: return "train";
	case ND_SPLIT_VAL: return "val";
	case ND_SPLIT_TEST: return "test";
	}
	return "?";
}

int nd_validation_new(nd_validation **out, nd_vmode mode, size_t max_examples)
{
	nd_validation *v = nd_calloc(1, sizeof *v);
	*out = NULL;
	if (!v)
		return nd_seterr(ND_ENOMEM, "out of memory");
	v->mode = mode;
	v->max_examples = max_examples;
	v->arena.block_size = 1 << 16;
	for (int k = 0; k < VC_COUNT; k++) {
		nd_vcheck *c = &v->checks[k];
		c->id = nd_vc_defs[k].id;
		c->category = nd_vc_defs[k].category;
		c->title = nd_vc_defs[k].title;
		c->unit = nd_vc_defs[k].unit;
		c->warn = c->fail = NAN;
		c->status = ND_VSTATUS_SKIP;
	}
	v->overall = ND_VSTATUS_PASS;
	*out = v;
	return 0;
}

void nd_validation_free(nd_validation *v)
{
	if (!v)
		return;
	for (int k = 0; k < VC_COUNT; k++)
		free(v->ex[k].v);
	for (size_t i = 0; i < v->n_base_bad; i++)
		free(v->base_bad_ids[i]);
	free(v->base_bad_ids);
	free(v->types);
	free(v->categories);
	nd_arena_free(&v->arena);
	free(v);
}

const char *nd_vstrdup(nd_validation *v, const char *s)
{
	return s ? nd_arena_strndup(&v->arena, s, strlen(s)) : NULL;
}

void nd_vc_measure(nd_validation *v, int k, double value, size_t count, size_t total)
{
	nd_vcheck *c = &v->checks[k];
	c->applicable = 1;
	c->value = value;
	c->count = count;
	c->total = total;
	c->status = ND_VSTATUS_INFO;
}

int nd_vc_example(nd_validation *v, int k, size_t index, int split, const char *fmt, ...)
{
	vc_examples *e = &v->ex[k];
	char buf[512];
	va_list ap;
	if (e->n >= v->max_examples)
		return 0;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 4;
		nd_vexample *p = nd_reallocarray(e->v, cap, sizeof *p);
		if (!p)
			return nd_seterr(ND_ENOMEM, "out of memory");
		e->v = p;
		e->cap = cap;
	}
	buf[0] = 0;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof buf, fmt, ap);
		va_end(ap);
	}
	const char *d = nd_arena_strndup(&v->arena, buf, strlen(buf));
	if (!d)
		return nd_seterr(ND_ENOMEM, "out of memory");
	e->v[e->n].index = index;
	e->v[e->n].split = split;
	e->v[e->n].detail = d;
	e->n++;
	v->checks[k].examples = e->v;
	v->checks[k].n_examples = e->n;
	return 0;
}

size_t nd_validation_checks(const nd_validation *v, const nd_vcheck **checks)
{
	*checks = v->checks;
	return VC_COUNT;
}

size_t nd_validation_records(const nd_validation *v)
{
	return v->records;
}

void nd_vc_format_value(const nd_vcheck *c, double x, char *buf, size_t n)
{
	if (isnan(x))
		snprintf(buf, n, "-");
	else if (isinf(x))
		snprintf(buf, n, "inf");
	else if (!strcmp(c->unit, "rate") || !strcmp(c->unit, "share"))
		snprintf(buf, n, "%.2f%%", x * 100.0);
	else if (!strcmp(c->unit, "ratio"))
		snprintf(buf, n, "%.2f", x);
	else
		snprintf(buf, n, "%.0f", x);
}

size_t nd_validate_check_defs(nd_vcheck *out, size_t cap)
{
	for (size_t k = 0; k < VC_COUNT && k < cap; k++) {
		memset(&out[k], 0, sizeof out[k]);
		out[k].id = nd_vc_defs[k].id;
		out[k].category = nd_vc_defs[k].category;
		out[k].title = nd_vc_defs[k].title;
		out[k].unit = nd_vc_defs[k].unit;
		out[k].warn = nd_vc_defs[k].warn;
		out[k].fail = nd_vc_defs[k].fail;
		out[k].status = ND_VSTATUS_SKIP;
	}
	return VC_COUNT;
}

void nd_validation_timings(const nd_validation *v, nd_vtimings *out)
{
	*out = v->timings;
}
