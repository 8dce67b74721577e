/* The HTML report: one self-contained page (inline CSS, inline SVG, a few lines of
 * script that only mark the page as rendered for the browser test). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vinternal.h"

static void esc(nd_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': nd_buf_append(b, "&lt;", 4); break;
		case '>': nd_buf_append(b, "&gt;", 4); break;
		case '&': nd_buf_append(b, "&amp;", 5); break;
		case '"': nd_buf_append(b, "&quot;", 6); break;
		default: nd_buf_putc(b, *s);
		}
	}
}

/* A bar chart: n bars with labels under them, value on top of each. */
static void bars(nd_buf *b, const char *id, const char *title, const char *const *labels, const size_t *val, size_t n,
		 const char *color, const char *xlabel)
{
	const int W = 560, H = 220, L = 44, R = 10, T = 28, B = 44;
	size_t max = 0;
	for (size_t i = 0; i < n; i++)
		if (val[i] > max)
			max = val[i];
	nd_buf_printf(b, "<figure><svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			 "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
		      id, W, H, W, H);
	esc(b, title);
	nd_buf_printf(b, "\"><text x=\"%d\" y=\"18\" class=\"t\">", L);
	esc(b, title);
	nd_buf_printf(b, "</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"ax\"/>", L, H - B, W - R, H - B);
	nd_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"l\" text-anchor=\"end\">%zu</text>", L - 4, T + 8, max);
	nd_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"l\" text-anchor=\"end\">0</text>", L - 4, H - B);
	double slot = n ? (double)(W - L - R) / (double)n : 0;
	for (size_t i = 0; i < n; i++) {
		double h = max ? (double)(H - T - B) * (double)val[i] / (double)max : 0;
		double x = L + slot * (double)i + slot * 0.1;
		nd_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x,
			      (double)(H - B) - h, slot * 0.8, h, color);
		esc(b, labels[i]);
		nd_buf_printf(b, ": %zu</title></rect>", val[i]);
		if (val[i] && n <= 26)
			nd_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"v\" text-anchor=\"middle\">%zu</text>",
				      x + slot * 0.4, (double)(H - B) - h - 3, val[i]);
		if (n <= 12 || i % (n / 10 + 1) == 0) {
			nd_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"l\" text-anchor=\"middle\">", x + slot * 0.4,
				      H - B + 14);
			esc(b, labels[i]);
			nd_buf_printf(b, "</text>");
		}
	}
	nd_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"l\" text-anchor=\"middle\">", (W + L) / 2, H - 8);
	esc(b, xlabel);
	nd_buf_printf(b, "</text></svg></figure>\n");
}

static const char *status_color(nd_vstatus s)
{
	switch (s) {
	case ND_VSTATUS_FAIL: return "#c62828";
	case ND_VSTATUS_WARN: return "#ef8f00";
	case ND_VSTATUS_PASS: return "#2e7d32";
	default: return "#78909c";
	}
}

/* One square per applicable check, coloured by status. */
static void gate_strip(nd_buf *b, const nd_validation *v, const int *order, int n)
{
	int shown = 0;
	for (int i = 0; i < n; i++)
		shown += v->checks[order[i]].status != ND_VSTATUS_SKIP;
	const int cell = 18, per_row = 28;
	int rows = (shown + per_row - 1) / per_row;
	nd_buf_printf(b, "<figure><svg id=\"gates\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			 "role=\"img\" aria-label=\"gate status per check\">",
		      per_row * cell + 4, rows * cell + 24);
	nd_buf_printf(b, "<text x=\"0\" y=\"14\" class=\"t\">gate status per check</text>");
	int j = 0;
	for (int i = 0; i < n; i++) {
		const nd_vcheck *c = &v->checks[order[i]];
		if (c->status == ND_VSTATUS_SKIP)
			continue;
		nd_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s: %s</title></rect>",
			      (j % per_row) * cell, 20 + (j / per_row) * cell, cell - 3, cell - 3, status_color(c->status),
			      c->id, nd_vstatus_name(c->status));
		j++;
	}
	nd_buf_printf(b, "</svg></figure>\n");
}

int nd_validation_write_html(const nd_validation *v, const char *path)
{
	nd_buf b = {0};
	int order[VC_COUNT], n = nd_vc_display_order(v, order);
	char val[32], w[32], f[32];
	int rc;

	nd_buf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			  "<link rel=\"icon\" href=\"data:,\">"
			  "<title>neardup validate: %s</title>\n<style>\n"
			  "body{font:14px/1.45 system-ui,\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\",\"WenQuanYi Micro Hei\",sans-serif;margin:24px;color:#222;max-width:1180px}\n"
			  "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px}\n"
			  ".badge{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}\n"
			  ".fail{background:#c62828}.warn{background:#ef8f00}.pass{background:#2e7d32}.info,.skip{background:#78909c}\n"
			  "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #e0e0e0;text-align:left}\n"
			  "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
			  ".charts{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0}\n"
			  "svg .t{font:600 13px system-ui,sans-serif}svg .l{font:11px system-ui,sans-serif;fill:#555}\n"
			  "svg .v{font:10px system-ui,sans-serif;fill:#333}svg .ax{stroke:#999}\n"
			  "li{margin:2px 0}code{background:#f3f3f3;padding:0 3px}.muted{color:#777}\n"
			  "</style></head>\n<body>\n",
		      nd_vstatus_name(v->overall));
	nd_buf_printf(&b, "<h1>neardup validate <span class=\"badge %s\" id=\"overall\">%s</span></h1>\n<p class=\"muted\">",
		      nd_vstatus_name(v->overall), nd_vstatus_name(v->overall));
	nd_buf_printf(&b, "%zu records, preset %s", v->records, v->preset ? v->preset : "?");
	for (size_t i = 0; i < v->n_sources; i++) {
		nd_buf_printf(&b, "; %s <code>", v->sources[i].role);
		esc(&b, v->sources[i].path);
		nd_buf_printf(&b, "</code>");
	}
	if (v->residual_run)
		nd_buf_printf(&b, "; threshold %.3g", v->threshold);
	nd_buf_printf(&b, "</p>\n<h2>Gates</h2>\n");
	gate_strip(&b, v, order, n);
	nd_buf_printf(&b, "<table id=\"gate-table\"><tr><th>check</th><th>status</th><th>value</th><th>warn &gt;</th>"
			  "<th>fail &gt;</th><th>records</th><th>what</th></tr>\n");
	for (int i = 0; i < n; i++) {
		const nd_vcheck *c = &v->checks[order[i]];
		if (c->status == ND_VSTATUS_SKIP)
			continue;
		nd_vc_format_value(c, c->value, val, sizeof val);
		nd_vc_format_value(c, c->warn, w, sizeof w);
		nd_vc_format_value(c, c->fail, f, sizeof f);
		nd_buf_printf(&b, "<tr><td><code>%s</code></td><td><span class=\"badge %s\">%s</span></td><td class=\"n\">%s"
				  "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%zu</td><td>",
			      c->id, nd_vstatus_name(c->status), nd_vstatus_name(c->status), val, w, f, c->count);
		esc(&b, c->title);
		nd_buf_printf(&b, "</td></tr>\n");
	}
	nd_buf_printf(&b, "</table>\n<h2>Plots</h2>\n<div class=\"charts\">\n");
	/* similarity histogram */
	if (v->residual_run) {
		char lab[ND_SIM_BINS][16];
		const char *labels[ND_SIM_BINS];
		for (int i = 0; i < ND_SIM_BINS; i++) {
			snprintf(lab[i], sizeof lab[i], "%.2f", v->sim_from + (1.0 - v->sim_from) * i / ND_SIM_BINS);
			labels[i] = lab[i];
		}
		bars(&b, "similarity", "similarity of near-duplicate pairs (member to kept record)", labels, v->sim_bins,
		     ND_SIM_BINS, "#5c6bc0", "Jaccard similarity of shingle sets");
		bars(&b, "clusters", "duplicate clusters at the threshold (sizes)", nd_csize_labels, v->csize_bins, ND_CSIZE_BINS, "#8d6e63",
		     "records per cluster");
	}
	{
		char lab[ND_LEN_BINS][24];
		const char *labels[ND_LEN_BINS];
		for (int i = 0; i < ND_LEN_BINS; i++) {
			if (i == ND_LEN_BINS - 1)
				snprintf(lab[i], sizeof lab[i], "%zu+", (size_t)i * v->len_bin_width);
			else
				snprintf(lab[i], sizeof lab[i], "%zu", (size_t)i * v->len_bin_width);
			labels[i] = lab[i];
		}
		bars(&b, "lengths", "question length", labels, v->len_bins, ND_LEN_BINS, "#26a69a", "characters");
	}
	{
		size_t np = 0;
		for (size_t p = 0; p < ND_MAX_OPTIONS; p++)
			if (v->pos_single[p])
				np = p + 1;
		if (np < 4)
			np = 4;
		char lab[ND_MAX_OPTIONS][4];
		const char *labels[ND_MAX_OPTIONS];
		for (size_t p = 0; p < np; p++) {
			snprintf(lab[p], sizeof lab[p], "%c", (char)('A' + p));
			labels[p] = lab[p];
		}
		bars(&b, "positions", "single-choice answer positions", labels, v->pos_single, np, "#ab47bc", "answer");
	}
	nd_buf_printf(&b, "</div>\n<h2>Findings</h2>\n<ul id=\"findings\">\n");
	for (int i = 0; i < n; i++) {
		const nd_vcheck *c = &v->checks[order[i]];
		if (c->status != ND_VSTATUS_FAIL && c->status != ND_VSTATUS_WARN &&
		    !(c->status == ND_VSTATUS_INFO && c->count > 0 && c->n_examples > 0))
			continue;
		nd_vc_format_value(c, c->value, val, sizeof val);
		nd_buf_printf(&b, "<li><span class=\"badge %s\">%s</span> <code>%s</code> ", nd_vstatus_name(c->status),
			      nd_vstatus_name(c->status), c->id);
		esc(&b, c->title);
		nd_buf_printf(&b, ": %zu of %zu (%s)<ul>", c->count, c->total, val);
		for (size_t e = 0; e < c->n_examples; e++) {
			char lab[64];
			nd_vexample_label(&c->examples[e], lab, sizeof lab);
			nd_buf_printf(&b, "<li>%s%s", lab, *lab ? " " : "");
			esc(&b, c->examples[e].detail);
			nd_buf_printf(&b, "</li>");
		}
		nd_buf_printf(&b, "</ul></li>\n");
	}
	nd_buf_printf(&b, "</ul>\n<p class=\"muted\">neardup %s · schema neardup.validation/1</p>\n"
			  "<script>document.body.setAttribute('data-rendered',"
			  "String(document.querySelectorAll('svg').length));"
			  "console.log('neardup-validate rendered ' + document.querySelectorAll('svg').length + ' charts');"
			  "</script>\n</body></html>\n",
		      nd_version());
	if (nd_buf_reserve(&b, 0)) {
		nd_buf_free(&b);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	nd_outfile *o = NULL;
	if ((rc = nd_outfile_open(&o, path))) {
		nd_buf_free(&b);
		return rc;
	}
	if ((rc = nd_outfile_write(o, b.data, b.len))) {
		nd_outfile_abort(o);
		nd_buf_free(&b);
		return rc;
	}
	nd_buf_free(&b);
	return nd_outfile_commit(o);
}
