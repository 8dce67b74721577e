/* The human summary: the gate table, the worst findings with record indices, the
 * distributions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vinternal.h"

static int severity(nd_vstatus s)
{
	switch (s) {
	case ND_VSTATUS_FAIL: return 0;
	case ND_VSTATUS_WARN: return 1;
	case ND_VSTATUS_PASS: return 2;
	case ND_VSTATUS_INFO: return 3;
	default: return 4;
	}
}

/* check order for display: worst status first, then registry order */
int nd_vc_display_order(const nd_validation *v, int *order)
{
	int n = 0;
	for (int s = 0; s <= 4; s++)
		for (int k = 0; k < VC_COUNT; k++)
			if (severity(v->checks[k].status) == s)
				order[n++] = k;
	return n;
}

static void upper(const char *s, char *out)
{
	size_t i;
	for (i = 0; s[i]; i++)
		out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	out[i] = 0;
}

void nd_vexample_label(const nd_vexample *e, char *buf, size_t n)
{
	if (e->index == SIZE_MAX)
		buf[0] = 0;
	else if (e->split >= 0)
		snprintf(buf, n, "%s #%zu", nd_split_name((nd_split)e->split), e->index);
	else
		snprintf(buf, n, "#%zu", e->index);
}

int nd_validation_text(const nd_validation *v, char **out)
{
	nd_buf b = {0};
	int order[VC_COUNT], n = nd_vc_display_order(v, order);
	char st[8], val[32], w[32], f[32];
	size_t skipped = 0;
	*out = NULL;
	upper(nd_vstatus_name(v->overall), st);
	nd_buf_printf(&b, "validate: %s — %zu records", st, v->records);
	for (size_t i = 0; i < v->n_sources; i++)
		nd_buf_printf(&b, "%s %s %s", i ? "," : ";", v->sources[i].role, v->sources[i].path);
	nd_buf_printf(&b, "; preset %s", v->preset ? v->preset : "?");
	if (v->residual_run) {
		nd_buf_printf(&b, "; threshold %.3g", v->threshold);
		if (v->probe > 0)
			nd_buf_printf(&b, ", probe %.3g", v->probe);
	}
	nd_buf_printf(&b, "\n\n%-24s %-6s %10s %10s %10s %9s\n", "check", "status", "value", "warn >", "fail >", "records");
	for (int i = 0; i < n; i++) {
		const nd_vcheck *c = &v->checks[order[i]];
		if (c->status == ND_VSTATUS_SKIP) {
			skipped++;
			continue;
		}
		upper(nd_vstatus_name(c->status), st);
		nd_vc_format_value(c, c->value, val, sizeof val);
		nd_vc_format_value(c, c->warn, w, sizeof w);
		nd_vc_format_value(c, c->fail, f, sizeof f);
		nd_buf_printf(&b, "%-24s %-6s %10s %10s %10s %9zu\n", c->id, st, val, w, f, c->count);
	}
	if (skipped) {
		nd_buf_printf(&b, "not applicable here:");
		for (int i = 0; i < n; i++)
			if (v->checks[order[i]].status == ND_VSTATUS_SKIP)
				nd_buf_printf(&b, " %s", v->checks[order[i]].id);
		nd_buf_printf(&b, "\n");
	}
	int findings = 0;
	for (int i = 0; i < n; i++) {
		const nd_vcheck *c = &v->checks[order[i]];
		if (c->status != ND_VSTATUS_FAIL && c->status != ND_VSTATUS_WARN &&
		    !(c->status == ND_VSTATUS_INFO && c->count > 0 && c->n_examples > 0))
			continue;
		if (!findings++)
			nd_buf_printf(&b, "\nfindings (worst first):\n");
		upper(nd_vstatus_name(c->status), st);
		nd_vc_format_value(c, c->value, val, sizeof val);
		nd_buf_printf(&b, "  [%s] %s: %s — %zu of %zu (%s)\n", st, c->id, c->title, c->count, c->total, val);
		for (size_t e = 0; e < c->n_examples && e < 5; e++) {
			char lab[64];
			nd_vexample_label(&c->examples[e], lab, sizeof lab);
			nd_buf_printf(&b, "      %s%s%s\n", lab, *lab ? "  " : "", c->examples[e].detail);
		}
		if (c->count > 5 && c->n_examples >= 5)
			nd_buf_printf(&b, "      … (the JSON report lists up to %zu)\n", c->n_examples);
	}
	/* distributions */
	nd_buf_printf(&b, "\ndistributions:\n");
	if (v->n_types) {
		nd_buf_printf(&b, "  types:");
		for (size_t i = 0; i < v->n_types && i < 8; i++)
			nd_buf_printf(&b, " %s %zu%s", v->types[i].name, v->types[i].count, i + 1 < v->n_types && i < 7 ? "," : "");
		nd_buf_printf(&b, "\n");
	}
	if (v->n_categories) {
		nd_buf_printf(&b, "  categories: %zu%s, largest", v->n_categories, v->other_categories ? "+" : "");
		for (size_t i = 0; i < v->n_categories && i < 3; i++)
			nd_buf_printf(&b, " %s %zu%s", v->categories[i].name, v->categories[i].count,
				      i + 1 < v->n_categories && i < 2 ? "," : "");
		nd_buf_printf(&b, "\n");
	}
	if (v->single_choice) {
		nd_buf_printf(&b, "  single-choice answers:");
		for (int p = 0; p < ND_MAX_OPTIONS; p++)
			if (v->pos_single[p])
				nd_buf_printf(&b, " %c %.0f%%", 'A' + p, 100.0 * (double)v->pos_single[p] / (double)v->single_choice);
		nd_buf_printf(&b, " (%zu questions)\n", v->single_choice);
	}
	if (v->judge_true + v->judge_false)
		nd_buf_printf(&b, "  true/false answers: %zu true, %zu false\n", v->judge_true, v->judge_false);
	nd_buf_printf(&b, "  question length (characters): median %.0f, p95 %.0f, max %zu; median CJK share %.0f%%\n",
		      v->len_median, v->len_p95, v->len_max, 100.0 * v->cjk_median);
	if (v->residual_run) {
		size_t cl = 0;
		for (int i = 0; i < ND_CSIZE_BINS; i++)
			cl += v->csize_bins[i];
		nd_buf_printf(&b, "  duplicate clusters at %.3g: %zu\n", v->threshold, cl);
	}
	if (v->has_reduction)
		nd_buf_printf(&b, "  dedup (from the report): %zu -> %zu records, %zu removed in %zu clusters, %zu conflict pairs\n",
			      v->red_in, v->red_out, v->red_removed, v->red_clusters, v->red_conflicts);
	if (v->mode == VMODE_SPLIT)
		nd_buf_printf(&b, "  splits: train %zu, val %zu, test %zu\n", v->split_records[0], v->split_records[1],
			      v->split_records[2]);
	if (v->has_baseline)
		nd_buf_printf(&b, "  baseline %s: %zu records\n", v->baseline_path, v->base_records);
	if (nd_buf_reserve(&b, 0)) {
		nd_buf_free(&b);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	b.data[b.len] = 0;
	*out = b.data;
	return 0;
}
