/* The measurement: per-record checks in parallel, then duplicates, leakage and
 * distributions over the whole collection, in record order (deterministic). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "neardup/lexical.h"
#include "vload.h"
#include "vscan.h"

typedef struct {
	const nd_dataset *ds;
	nd_preset preset;
	unsigned *flags;
	uint32_t *length;
	float *cjk_share; /* -1: no letters */
} scan_ctx;

static int scan_range(void *vctx, size_t begin, size_t end, unsigned worker)
{
	scan_ctx *c = vctx;
	const char *data = nd_dataset_data(c->ds);
	(void)worker;
	for (size_t i = begin; i < end; i++) {
		const nd_record *rec = nd_dataset_record(c->ds, i);
		vs_scan r;
		memset(&r, 0, sizeof r);
		nd_vs_record(&r, rec, c->preset, data + rec->span.offset, rec->span.len);
		c->flags[i] = r.flags;
		c->length[i] = r.length > UINT32_MAX ? UINT32_MAX : (uint32_t)r.length;
		c->cjk_share[i] = r.letters ? (float)r.cjk / (float)r.letters : -1.0f;
	}
	return nd_interrupted() ? nd_seterr(ND_EINTR, "interrupted") : 0;
}


/* The value at quantile q of n items counted in hist[0..max] (the lower one of a pair;
 * the mean of the two middle ones for the median of an even count). */
/* The value of rank r (0-based) in a histogram of n values. */
static size_t hist_rank(const size_t *hist, size_t max, size_t r)
{
	size_t seen = 0, x;
	for (x = 0; x <= max; x++) {
		seen += hist[x];
		if (seen > r)
			break;
	}
	return x;
}

/* The q-quantile of the n values counted in hist[0..max], interpolated linearly
 * between the two ranks around (n - 1) q (numpy's default; the median of an even
 * count is the mean of the middle two), so quantiles never decrease with q. */
static double hist_quantile(const size_t *hist, size_t max, size_t n, double q)
{
	double h = (double)(n - 1) * q;
	size_t lo = (size_t)h;
	double x = (double)hist_rank(hist, max, lo), frac = h - (double)lo;
	if (frac > 0 && lo + 1 < n)
		x += frac * ((double)hist_rank(hist, max, lo + 1) - x);
	return x;
}

/* The k-th smallest of a[0..n) by selection (Hoare partition, middle pivot): O(n) on
 * average; reorders @a so that a[0..k) <= a[k]. */
static float kth(float *a, size_t n, size_t k)
{
	long lo = 0, hi = (long)n - 1, kk = (long)k;
	while (lo < hi) {
		float p = a[lo + (hi - lo) / 2];
		long i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p)
				i++;
			while (a[j] > p)
				j--;
			if (i <= j) {
				float t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

static double select_median(float *a, size_t n)
{
	float hi = kth(a, n, n / 2);
	if (n % 2)
		return hi;
	/* the largest of the lower half */
	float lo = a[0];
	for (size_t i = 1; i < n / 2; i++)
		if (a[i] > lo)
			lo = a[i];
	return 0.5 * ((double)lo + hi);
}

typedef struct {
	uint64_t k1, k2;
	uint32_t row;
} key_row;

static int cmp_key_row(const void *a, const void *b)
{
	const key_row *x = a, *y = b;
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	if (x->k2 != y->k2)
		return x->k2 < y->k2 ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* A short, single-line excerpt of @s around byte @at (at most ~24 characters each side). */
static void snippet(const char *s, size_t at, char *out, size_t outn)
{
	size_t n = s ? strlen(s) : 0, b, e, o = 0;
	if (!s || outn < 8) {
		if (outn)
			out[0] = 0;
		return;
	}
	if (at > n)
		at = n;
	b = at > 36 ? at - 36 : 0;
	while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80)
		b--;
	e = at + 48 < n ? at + 48 : n;
	while (e < n && ((unsigned char)s[e] & 0xC0) == 0x80)
		e++;
	if (b > 0 && o + 3 < outn) {
		memcpy(out, "…", 3);
		o = 3;
	}
	for (size_t i = b; i < e && o + 8 < outn; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F)
			o += (size_t)snprintf(out + o, outn - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (e < n && o + 4 < outn) {
		memcpy(out + o, "…", 3);
		o += 3;
	}
	out[o] = 0;
}

static int example_for_record(nd_validation *v, const nd_vdata *d, size_t row, int k, nd_preset preset)
{
	const nd_dataset *ds = d->ds;
	const nd_record *rec = nd_dataset_record(ds, row);
	vs_where where[VS_NCHECKS];
	vs_scan r;
	char snip[200], det[400];
	memset(&r, 0, sizeof r);
	memset(where, 0, sizeof where);
	r.where = where;
	nd_vs_record(&r, rec, preset, nd_dataset_data(ds) + rec->span.offset, rec->span.len);
	const vs_where *w = &where[k - VC_FIRST_RECORD_CHECK];
	const char *text = nd_vs_field_text(rec, w->field, w->opt);
	snip[0] = 0;
	if (text)
		snippet(text, w->at, snip, sizeof snip);
	switch (k) {
	case VC_BAD_ANSWER:
		snprintf(det, sizeof det, "answer \"%.40s\" with %zu options", rec->answer_raw ? rec->answer_raw : "",
			 rec->n_options);
		break;
	case VC_TYPE_OPTIONS:
		snprintf(det, sizeof det, "type \"%.30s\", %zu options%s", rec->type ? rec->type : "?", rec->n_options,
			 w->what && !strcmp(w->what, "repeated") ? ", an option repeated" : "");
		break;
	case VC_ANSWER_COUNT:
		snprintf(det, sizeof det, "type \"%.30s\", answer \"%.30s\"", rec->type ? rec->type : "?",
			 rec->answer_raw ? rec->answer_raw : "");
		break;
	case VC_JUDGE_ANSWER:
		snprintf(det, sizeof det, "type \"%.30s\", answer \"%.30s\"", rec->type ? rec->type : "?",
			 rec->answer_raw ? rec->answer_raw : "");
		break;
	case VC_CHAT_ROLES:
	case VC_CHAT_EMPTY_TURN:
		snprintf(det, sizeof det, "turn %zu: %s", w->at, w->what ? w->what : "");
		break;
	case VC_CHAT_TURNS:
		snprintf(det, sizeof det, "%zu turns besides system", w->at);
		break;
	case VC_ALPACA_EMPTY:
	case VC_ALPACA_HISTORY:
	case VC_MISSING_STEM:
	case VC_MISSING_ANSWER:
	case VC_OPTIONS_MISSING:
	case VC_EMPTY_EXPL:
		snprintf(det, sizeof det, "%s: %s", w->field ? w->field : "?", w->what ? w->what : "");
		break;
	default:
		if (w->opt >= 0)
			snprintf(det, sizeof det, "%s %c: %s", w->field, 'A' + w->opt, snip);
		else
			snprintf(det, sizeof det, "%s: %s", w->field ? w->field : "?", snip);
	}
	return nd_vc_example(v, k, nd_vdata_orig(d, row), v->mode == VMODE_SPLIT ? nd_vdata_split(d, row) : -1, "%s", det);
}

static int ex_row(nd_validation *v, int k, const nd_vdata *d, size_t row, const char *fmt, ...) ND_PRINTF(5, 6);
static int ex_row(nd_validation *v, int k, const nd_vdata *d, size_t row, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return nd_vc_example(v, k, nd_vdata_orig(d, row), v->mode == VMODE_SPLIT ? nd_vdata_split(d, row) : -1, "%s", buf);
}

/* "#12" or "train #12" */
static void name_row(const nd_validation *v, const nd_vdata *d, size_t row, char *buf, size_t n)
{
	if (v->mode == VMODE_SPLIT)
		snprintf(buf, n, "%s #%zu", nd_split_name((nd_split)nd_vdata_split(d, row)), nd_vdata_orig(d, row));
	else
		snprintf(buf, n, "#%zu", nd_vdata_orig(d, row));
}

typedef struct {
	const char *name;
	uint64_t h;
	uint32_t row;
} name_row_t;

static int cmp_name_h(const void *a, const void *b)
{
	const name_row_t *x = a, *y = b;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_count(const void *a, const void *b)
{
	const nd_vcount *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

#define TOP_NAMES 20

static int count_names(nd_validation *v, const nd_vdata *d, int which, nd_vcount **out, size_t *nout, size_t *other)
{
	size_t n = nd_dataset_count(d->ds), m = 0, ng = 0;
	name_row_t *a = nd_reallocarray(NULL, n ? n : 1, sizeof *a);
	nd_vcount *g = NULL;
	if (!a)
		return nd_seterr(ND_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const nd_record *r = nd_dataset_record(d->ds, i);
		const char *s = which ? r->category : r->type;
		if (s && *s)
			a[m++] = (name_row_t){s, nd_hash64(s, strlen(s), 7), (uint32_t)i};
	}
	qsort(a, m, sizeof *a, cmp_name_h);
	g = nd_reallocarray(NULL, m ? m : 1, sizeof *g);
	if (!g) {
		free(a);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m;) {
		size_t j = i;
		while (j < m && a[j].h == a[i].h)
			j++;
		g[ng].name = nd_vstrdup(v, a[i].name);
		g[ng].count = j - i;
		ng++;
		i = j;
	}
	qsort(g, ng, sizeof *g, cmp_count);
	*other = 0;
	for (size_t i = TOP_NAMES; i < ng; i++)
		*other += g[i].count;
	*nout = ng < TOP_NAMES ? ng : TOP_NAMES;
	*out = g;
	free(a);
	return 0;
}


/* Residual, conflicts and leakage from one dedup run over every record. */
typedef struct {
	size_t residual;      /* records beyond the first of their split in a cluster */
	unsigned char *leak;  /* per row: 1 = a cluster-mate in an earlier split */
} dup_tally;

static int tally(nd_validation *v, const nd_vdata *d, const nd_result *res, int k_res, int examples, dup_tally *t)
{
	const nd_cluster *cl;
	size_t nc = nd_result_clusters(res, &cl);
	char a[64], b[64];
	for (size_t c = 0; c < nc; c++) {
		const nd_cluster *x = &cl[c];
		int seen[3] = {-1, -1, -1}; /* the first member (in listed order) of each split */
		int min_split = 3;
		for (size_t m = 0; m < x->n_members; m++) {
			int s = nd_vdata_split(d, x->members[m].index);
			if (s < min_split)
				min_split = s;
		}
		for (size_t m = 0; m < x->n_members; m++) {
			uint32_t row = x->members[m].index;
			int s = nd_vdata_split(d, row);
			if (seen[s] < 0) {
				seen[s] = (int)m;
			} else {
				t->residual++;
				if (examples) {
					name_row(v, d, x->members[seen[s]].index, a, sizeof a);
					snprintf(b, sizeof b, "%.3f", (double)x->members[m].similarity);
					nd_vc_example(v, k_res, nd_vdata_orig(d, row),
						      v->mode == VMODE_SPLIT ? s : -1, "duplicate of %s (similarity %s%s)", a, b,
						      x->members[m].pass == ND_PASS_EXACT ? ", same text" : "");
				}
			}
			if (t->leak && s > min_split)
				t->leak[row] = 1;
		}
	}
	return 0;
}

static void sim_hist(nd_validation *v, const nd_result *res, double from)
{
	const nd_cluster *cl;
	size_t nc = nd_result_clusters(res, &cl);
	v->sim_from = from;
	memset(v->sim_bins, 0, sizeof v->sim_bins);
	for (size_t c = 0; c < nc; c++)
		for (size_t m = 1; m < cl[c].n_members; m++) {
			double s = cl[c].members[m].similarity;
			int bin = (int)floor((s - from) / (1.0 - from) * ND_SIM_BINS);
			if (bin < 0)
				bin = 0;
			if (bin >= ND_SIM_BINS)
				bin = ND_SIM_BINS - 1;
			v->sim_bins[bin]++;
		}
}

int nd_validate_run(nd_validation *v, const nd_vinput *in, const nd_validate_opts *o)
{
	nd_vdata d;
	nd_result *res = NULL, *probe = NULL;
	scan_ctx sc;
	key_row *kr = NULL;
	float *ftmp = NULL;
	dup_tally tl = {0, NULL};
	unsigned char *leaked = NULL;
	uint32_t *dupof = NULL; /* per row: 1 + the row it repeats exactly, 0 = none */
	int rc;
	nd_load_opts lo = o->load;
	lo.threads = o->threads;

	memset(&sc, 0, sizeof sc);
	double t0 = nd_now();
	if ((rc = nd_vdata_load(&d, in, &lo))) {
		nd_vdata_free(&d);
		return rc;
	}
	double t1 = nd_now();
	v->timings.load = t1 - t0;
	const nd_dataset *ds = d.ds;
	size_t n = nd_dataset_count(ds);
	nd_preset preset = nd_dataset_preset(ds);
	v->preset = nd_preset_name(preset);
	v->records = n + d.nbad;
	for (size_t i = 0; i < n; i++)
		v->split_records[nd_vdata_split(&d, i)]++;
	for (size_t i = 0; i < d.nbad; i++)
		v->split_records[d.bad[i].src]++;

	/* parse errors */
	nd_vc_measure(v, VC_PARSE_ERRORS, (double)d.nbad, d.nbad, v->records);
	for (size_t i = 0; i < d.nbad; i++)
		nd_vc_example(v, VC_PARSE_ERRORS, d.bad[i].index, v->mode == VMODE_SPLIT ? d.bad[i].src : -1, "%s",
			      d.bad[i].msg);

	/* per-record checks */
	sc.ds = ds;
	sc.preset = preset;
	sc.flags = nd_calloc(n ? n : 1, sizeof *sc.flags);
	sc.length = nd_calloc(n ? n : 1, sizeof *sc.length);
	sc.cjk_share = nd_calloc(n ? n : 1, sizeof *sc.cjk_share);
	ftmp = nd_calloc(n ? n : 1, sizeof *ftmp);
	if (!sc.flags || !sc.length || !sc.cjk_share || !ftmp) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = nd_parallel_for(n, 4096, o->threads, scan_range, &sc)))
		goto out;

	/* which checks apply to this data */
	int exam = preset == ND_PRESET_EXAM || preset == ND_PRESET_FIELDS, any_exam = exam;
	for (size_t i = 0; i < n && !any_exam; i++)
		any_exam = nd_vs_exam_like(nd_dataset_record(ds, i), preset);
	for (int k = VC_FIRST_RECORD_CHECK; k <= VC_LAST_RECORD_CHECK; k++) {
		int applies = 1;
		switch (k) {
		case VC_MISSING_ANSWER: case VC_BAD_ANSWER: case VC_OPTIONS_MISSING: case VC_TYPE_OPTIONS:
		case VC_ANSWER_COUNT: case VC_JUDGE_ANSWER: case VC_EMPTY_EXPL: case VC_IMAGE_MISSING:
			applies = any_exam;
			break;
		case VC_ALPACA_EMPTY: case VC_ALPACA_HISTORY:
			applies = preset == ND_PRESET_ALPACA;
			break;
		case VC_CHAT_ROLES: case VC_CHAT_TURNS: case VC_CHAT_EMPTY_TURN:
			applies = preset == ND_PRESET_SHAREGPT || preset == ND_PRESET_MESSAGES;
			break;
		case VC_LOW_CJK: case VC_LENGTH_OUTLIER:
			applies = 0; /* measured below, against the whole collection */
			break;
		}
		if (!applies)
			continue;
		unsigned bit = 1u << (k - VC_FIRST_RECORD_CHECK);
		size_t cnt = 0;
		for (size_t i = 0; i < n; i++)
			if (sc.flags[i] & bit) {
				if (cnt < v->max_examples && (rc = example_for_record(v, &d, i, k, preset)))
					goto out;
				cnt++;
			}
		int rate = !strcmp(nd_vc_defs[k].unit, "rate");
		nd_vc_measure(v, k, rate ? (n ? (double)cnt / (double)n : 0) : (double)cnt, cnt, n);
	}

	/* length outliers: modified z-score (Iglewicz & Hoaglin): 0.6745 (x - median) / MAD,
	 * |z| > 3.5; MAD 0 falls back to 1.2533 x the mean absolute deviation. Lengths are
	 * small integers: medians and percentiles come from a counting pass, not a sort. */
	uint32_t maxlen = 0;
	for (size_t i = 0; i < n; i++)
		if (sc.length[i] > maxlen)
			maxlen = sc.length[i];
	size_t *hist = nd_calloc((size_t)maxlen + 1, sizeof *hist);
	if (!hist) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		hist[sc.length[i]]++;
	double med = n ? hist_quantile(hist, maxlen, n, 0.5) : 0;
	v->len_median = med;
	v->len_max = maxlen;
	v->len_p95 = n ? hist_quantile(hist, maxlen, n, 0.95) : 0;
	double p99 = n ? hist_quantile(hist, maxlen, n, 0.99) : 0;
	/* |x - median| over the same histogram: twice the distance is an integer */
	size_t *dh = nd_calloc(2 * (size_t)maxlen + 2, sizeof *dh);
	if (!dh) {
		free(hist);
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	double sum_abs = 0;
	for (uint32_t x = 0; x <= maxlen; x++)
		if (hist[x]) {
			double dd = fabs((double)x - med);
			dh[(size_t)(2 * dd + 0.5)] += hist[x];
			sum_abs += dd * (double)hist[x];
		}
	double mad = n ? hist_quantile(dh, 2 * maxlen + 1, n, 0.5) / 2 : 0;
	free(hist);
	free(dh);
	double scale = 0;
	if (mad > 0)
		scale = mad / 0.6745;
	else if (n)
		scale = 1.2533 * sum_abs / (double)n;
	v->len_mad = mad;
	v->len_bin_width = (size_t)ceil((p99 > 0 ? p99 : 1) / ND_LEN_BINS);
	if (v->len_bin_width == 0)
		v->len_bin_width = 1;
	for (size_t i = 0; i < n; i++) {
		size_t b = sc.length[i] / v->len_bin_width;
		v->len_bins[b < ND_LEN_BINS ? b : ND_LEN_BINS - 1]++;
	}
	if (n >= 8) {
		size_t cnt = 0;
		for (size_t i = 0; i < n; i++) {
			double z = scale > 0 ? ((double)sc.length[i] - med) / scale : 0;
			if (fabs(z) > 3.5) {
				if (cnt < v->max_examples) {
					char det[96];
					snprintf(det, sizeof det, "length %u characters, median %.0f, robust z %.1f", sc.length[i],
						 med, z);
					if ((rc = ex_row(v, VC_LENGTH_OUTLIER, &d, i, "%s", det)))
						goto out;
				}
				cnt++;
			}
		}
		nd_vc_measure(v, VC_LENGTH_OUTLIER, (double)cnt / (double)n, cnt, n);
	}

	/* CJK share: only a mostly-Chinese collection flags its non-Chinese records */
	size_t nl = 0;
	for (size_t i = 0; i < n; i++)
		if (sc.cjk_share[i] >= 0)
			ftmp[nl++] = sc.cjk_share[i];
	v->cjk_median = nl ? select_median(ftmp, nl) : 0;
	if (v->cjk_median >= 0.5) {
		size_t cnt = 0;
		for (size_t i = 0; i < n; i++)
			if (sc.cjk_share[i] >= 0 && sc.cjk_share[i] < 0.25f) {
				if (cnt < v->max_examples) {
					char det[96];
					snprintf(det, sizeof det, "%.0f%% CJK characters (median record %.0f%%)",
						 100.0 * sc.cjk_share[i], 100.0 * v->cjk_median);
					if ((rc = ex_row(v, VC_LOW_CJK, &d, i, "%s", det)))
						goto out;
				}
				cnt++;
			}
		nd_vc_measure(v, VC_LOW_CJK, n ? (double)cnt / (double)n : 0, cnt, n);
	}

	/* exact residual and exact leakage: equal exact keys */
	kr = nd_reallocarray(NULL, n ? n : 1, sizeof *kr);
	if (!kr) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const nd_compare *c = nd_dataset_compare(ds, i);
		if (c->text_len)
			kr[m++] = (key_row){c->exact_key, (uint64_t)nd_vdata_split(&d, i), (uint32_t)i};
	}
	/* by key, then split, then row: the first of each (key, split) run is the original */
	qsort(kr, m, sizeof *kr, cmp_key_row);
	size_t exact = 0, leak_exact = 0;
	if (!(dupof = nd_calloc(n ? n : 1, sizeof *dupof)) ||
	    (v->mode == VMODE_SPLIT && !(leaked = nd_calloc(n ? n : 1, 1)))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m;) {
		size_t j = i;
		while (j < m && kr[j].k1 == kr[i].k1)
			j++;
		for (size_t x = i + 1; x < j; x++) {
			char a[64];
			if (kr[x].k2 == kr[x - 1].k2) {
				size_t first = x - 1;
				while (first > i && kr[first - 1].k2 == kr[x].k2)
					first--;
				exact++;
				/* reuse k2 of the run's later members: the row of the original */
				dupof[kr[x].row] = kr[first].row + 1;
			} else if (leaked) {
				/* first of its split, with the key present in an earlier split */
				for (size_t y = x; y < j && kr[y].k2 == kr[x].k2; y++) {
					leaked[kr[y].row] = 1;
					leak_exact++;
					name_row(v, &d, kr[i].row, a, sizeof a);
					ex_row(v, VC_LEAK_EXACT, &d, kr[y].row, "same text as %s", a);
				}
			}
		}
		i = j;
	}
	for (size_t i = 0; i < n && v->ex[VC_RESIDUAL_EXACT].n < v->max_examples; i++)
		if (dupof[i]) {
			char a[64];
			name_row(v, &d, dupof[i] - 1, a, sizeof a);
			ex_row(v, VC_RESIDUAL_EXACT, &d, i, "same text as %s", a);
		}
	nd_vc_measure(v, VC_RESIDUAL_EXACT, n ? (double)exact / (double)n : 0, exact, n);
	if (v->mode == VMODE_SPLIT)
		nd_vc_measure(v, VC_LEAK_EXACT, (double)leak_exact, leak_exact,
			      v->split_records[ND_SPLIT_VAL] + v->split_records[ND_SPLIT_TEST]);

	/* same stem, different option sets (informational) */
	m = 0;
	for (size_t i = 0; i < n; i++) {
		const nd_compare *c = nd_dataset_compare(ds, i);
		if (c->stem_len && c->option_set)
			kr[m++] = (key_row){nd_hash64(c->stem, c->stem_len, 3), c->option_set, (uint32_t)i};
	}
	qsort(kr, m, sizeof *kr, cmp_key_row);
	size_t groups = 0;
	for (size_t i = 0; i < m;) {
		size_t j = i, sets = 1;
		while (j < m && kr[j].k1 == kr[i].k1) {
			if (j > i && kr[j].k2 != kr[j - 1].k2)
				sets++;
			j++;
		}
		if (sets > 1) {
			char det[128], a[64];
			groups++;
			size_t other = i + 1;
			while (other < j && kr[other].k2 == kr[i].k2)
				other++;
			name_row(v, &d, kr[other].row, a, sizeof a);
			snprintf(det, sizeof det, "%zu option sets for one stem; also %s", sets, a);
			ex_row(v, VC_SAME_STEM, &d, kr[i].row, "%s", det);
		}
		i = j;
	}
	nd_vc_measure(v, VC_SAME_STEM, (double)groups, groups, n);

	/* residual near-duplicates, conflicts, near leakage: the dedup decision path */
	nd_dedup_opts dopts = o->dedup;
	dopts.lex.threads = o->threads;
	dopts.on_conflict = ND_CONFLICT_KEEP; /* merge, so conflicting duplicates are listed */
	dopts.max_details = 0; /* variants are not reported here: no details (2.7M at 1M) */
	v->threshold = dopts.lex.threshold;
	v->ngram = dopts.lex.ngram;
	v->method = dopts.lex.method == ND_LEX_SIMHASH ? "simhash" : "minhash";
	v->probe = -1;
	double t2 = nd_now();
	v->timings.checks = t2 - t1;
	if (o->residual && n > 0) {
		v->residual_run = 1;
		if ((rc = nd_dedup_run(&res, ds, &dopts, NULL, 0)))
			goto out;
		v->timings.residual_stats = *nd_result_stats(res);
		if (v->mode == VMODE_SPLIT && !(tl.leak = nd_calloc(n, 1))) {
			rc = nd_seterr(ND_ENOMEM, "out of memory");
			goto out;
		}
		tally(v, &d, res, VC_RESIDUAL_NEAR, 1, &tl);
		nd_vc_measure(v, VC_RESIDUAL_NEAR, (double)tl.residual / (double)n, tl.residual, n);
		if (tl.leak) {
			size_t ln = 0;
			const nd_cluster *cl;
			size_t nc = nd_result_clusters(res, &cl);
			for (size_t c = 0; c < nc; c++)
				for (size_t x = 0; x < cl[c].n_members; x++) {
					uint32_t row = cl[c].members[x].index;
					if (!tl.leak[row] || leaked[row])
						continue;
					leaked[row] = 1;
					ln++;
					/* name an earlier-split cluster-mate */
					for (size_t y = 0; y < cl[c].n_members; y++) {
						uint32_t r2 = cl[c].members[y].index;
						if (nd_vdata_split(&d, r2) < nd_vdata_split(&d, row)) {
							char a[64], det[128];
							name_row(v, &d, r2, a, sizeof a);
							snprintf(det, sizeof det, "near-twin of %s (similarity %.3f)", a,
								 (double)(y == 0 ? cl[c].members[x].similarity
										 : cl[c].members[y].similarity));
							ex_row(v, VC_LEAK_NEAR, &d, row, "%s", det);
							break;
						}
					}
				}
			nd_vc_measure(v, VC_LEAK_NEAR, (double)ln, ln,
				      v->split_records[ND_SPLIT_VAL] + v->split_records[ND_SPLIT_TEST]);
		}
		const nd_conflict *cf;
		size_t ncf = nd_result_conflicts(res, &cf);
		for (size_t i = 0; i < ncf; i++) {
			char a[64], det[300];
			name_row(v, &d, cf[i].b, a, sizeof a);
			snprintf(det, sizeof det, "answer \"%.60s\" vs %s's \"%.60s\"", cf[i].answer_a ? cf[i].answer_a : "",
				 a, cf[i].answer_b ? cf[i].answer_b : "");
			ex_row(v, VC_CONFLICTS, &d, cf[i].a, "%s", det);
		}
		nd_vc_measure(v, VC_CONFLICTS, (double)ncf, ncf, n);
		/* cluster sizes */
		const nd_cluster *cl;
		size_t nc = nd_result_clusters(res, &cl);
		for (size_t c = 0; c < nc; c++) {
			size_t s = cl[c].n_members;
			int b = s <= 5 ? (int)s - 2 : s <= 10 ? 4 : s <= 20 ? 5 : s <= 50 ? 6 : 7;
			if (b >= 0)
				v->csize_bins[b]++;
		}
		/* the stricter probe */
		double pt = o->probe > 0 ? o->probe : dopts.lex.threshold - 0.1;
		if (o->probe == 0 && pt < 0.5)
			pt = 0.5;
		if (o->probe >= 0 && pt < dopts.lex.threshold && (o->probe > 0 || n <= ND_VALIDATE_PROBE_AUTO)) {
			nd_dedup_opts popts = dopts;
			popts.lex.threshold = pt;
			popts.lex.bands = popts.lex.rows = 0;
			double t3 = nd_now();
			v->timings.residual = t3 - t2;
			if ((rc = nd_dedup_run(&probe, ds, &popts, NULL, 0)))
				goto out;
			v->timings.probe = nd_now() - t3;
			dup_tally pt2 = {0, NULL};
			tally(v, &d, probe, VC_RESIDUAL_PROBE, 1, &pt2);
			nd_vc_measure(v, VC_RESIDUAL_PROBE, (double)pt2.residual / (double)n, pt2.residual, n);
			v->probe = pt;
			sim_hist(v, probe, pt);
		} else {
			v->timings.residual = nd_now() - t2;
			sim_hist(v, res, dopts.lex.threshold);
		}
	}

	/* distributions */
	size_t skew_counts[ND_MAX_OPTIONS] = {0}, skew_n = 0;
	for (size_t i = 0; i < n; i++) {
		const nd_record *r = nd_dataset_record(ds, i);
		if (r->answer_kind == ND_ANSWER_JUDGE) {
			if (r->judge_value == 1)
				v->judge_true++;
			else if (r->judge_value == 0)
				v->judge_false++;
		} else if (r->answer_kind == ND_ANSWER_CHOICE && r->answer_mask) {
			if (__builtin_popcount(r->answer_mask) == 1) {
				int p = __builtin_ctz(r->answer_mask);
				v->pos_single[p]++;
				v->single_choice++;
				if (r->n_options >= 3) {
					skew_counts[p]++;
					skew_n++;
				}
			} else {
				for (int p = 0; p < ND_MAX_OPTIONS; p++)
					if (r->answer_mask >> p & 1)
						v->pos_multi[p]++;
			}
		}
	}
	if (skew_n >= 10) {
		int best = 0;
		for (int p = 1; p < ND_MAX_OPTIONS; p++)
			if (skew_counts[p] > skew_counts[best])
				best = p;
		double share = (double)skew_counts[best] / (double)skew_n;
		nd_vc_measure(v, VC_ANSWER_SKEW, share, skew_counts[best], skew_n);
		char det[96];
		snprintf(det, sizeof det, "%c is the answer of %zu of %zu single-choice questions (%.0f%%)", 'A' + best,
			 skew_counts[best], skew_n, share * 100);
		nd_vc_example(v, VC_ANSWER_SKEW, SIZE_MAX, -1, "%s", det);
	}
	if ((rc = count_names(v, &d, 0, &v->types, &v->n_types, &v->other_types)) ||
	    (rc = count_names(v, &d, 1, &v->categories, &v->n_categories, &v->other_categories)))
		goto out;
out:
	free(dupof);
	free(leaked);
	free(tl.leak);
	free(kr);
	free(ftmp);
	free(sc.flags);
	free(sc.length);
	free(sc.cjk_share);
	nd_result_free(res);
	nd_result_free(probe);
	nd_vdata_free(&d);
	return rc;
}

/* ------------------------------------------------------------- entries -- */

static int check_opts(const nd_validate_opts *o)
{
	if (o->version != ND_VALIDATE_OPTS_VERSION)
		return nd_seterr(ND_EINVAL, "nd_validate_opts version %u, expected %u", o->version, ND_VALIDATE_OPTS_VERSION);
	if (!(o->dedup.lex.threshold > 0 && o->dedup.lex.threshold <= 1))
		return nd_seterr(ND_EINVAL, "threshold %g outside (0, 1]", o->dedup.lex.threshold);
	if (o->probe > 1)
		return nd_seterr(ND_EINVAL, "probe threshold %g above 1", o->probe);
	return 0;
}

int nd_validate_dataset(nd_validation **out, const char *path, const nd_validate_opts *opts)
{
	nd_validate_opts def = ND_VALIDATE_OPTS_INIT;
	nd_validation *v = NULL;
	nd_vinput in;
	int rc;
	const nd_validate_opts *o = opts ? opts : &def;
	*out = NULL;
	if (!path)
		return nd_seterr(ND_EINVAL, "no path");
	if ((rc = check_opts(o)) || (rc = nd_validation_new(&v, VMODE_DATASET, o->max_examples)))
		return rc;
	memset(&in, 0, sizeof in);
	in.path[0] = path;
	in.nsrc = 1;
	if ((rc = nd_validate_run(v, &in, o))) {
		nd_validation_free(v);
		return rc;
	}
	v->sources[0] = (nd_vsource){"data", nd_vstrdup(v, path), v->records, 0, NULL};
	v->n_sources = 1;
	*out = v;
	return 0;
}

int nd_validate_split(nd_validation **out, const char *const paths[3], const nd_validate_opts *opts)
{
	nd_validate_opts def = ND_VALIDATE_OPTS_INIT;
	nd_validation *v = NULL;
	nd_vinput in;
	int rc, given = 0;
	const nd_validate_opts *o = opts ? opts : &def;
	*out = NULL;
	for (int s = 0; s < 3; s++)
		given += paths[s] != NULL;
	if (!paths[ND_SPLIT_TRAIN] || given < 2)
		return nd_seterr(ND_EINVAL, "a split needs --train and at least one of --val, --test");
	if ((rc = check_opts(o)) || (rc = nd_validation_new(&v, VMODE_SPLIT, o->max_examples)))
		return rc;
	memset(&in, 0, sizeof in);
	for (int s = 0; s < 3; s++)
		in.path[s] = paths[s];
	in.nsrc = 3;
	in.split = 1;
	if ((rc = nd_validate_run(v, &in, o))) {
		nd_validation_free(v);
		return rc;
	}
	for (int s = 0; s < 3; s++)
		if (paths[s])
			v->sources[v->n_sources++] = (nd_vsource){nd_split_name((nd_split)s), nd_vstrdup(v, paths[s]),
								  v->split_records[s], 0, NULL};
	*out = v;
	return 0;
}

int nd_validate_report(nd_validation **out, const char *report_path, const nd_validate_opts *opts)
{
	nd_validate_opts def = ND_VALIDATE_OPTS_INIT;
	nd_validation *v = NULL;
	nd_vreport r;
	nd_vinput in;
	int rc;
	const nd_validate_opts *o0 = opts ? opts : &def;
	nd_validate_opts o = *o0;
	*out = NULL;
	if (!report_path)
		return nd_seterr(ND_EINVAL, "no report path");
	if ((rc = check_opts(&o)))
		return rc;
	rc = nd_vreport_open(&r, report_path, &o.dedup, !o.keep_dedup_opts);
	if (rc) {
		nd_vreport_free(&r);
		return rc;
	}
	cJSON_Delete(r.root); /* everything needed is copied out */
	r.root = NULL;
	free(r.text);
	r.text = NULL;
	if ((rc = nd_validation_new(&v, VMODE_REPORT, o.max_examples)))
		goto out;
	memset(&in, 0, sizeof in);
	in.nsrc = 1;
	if (r.output_path) {
		in.path[0] = r.output_path;
	} else {
		in.path[0] = r.input_path;
		in.exclude = r.exclude;
		in.exclude_n = r.input_records;
	}
	if ((rc = nd_validate_run(v, &in, &o)))
		goto out;
	if (r.output_path && v->records != r.output_records) {
		rc = nd_seterr(ND_EFORMAT, "%s: output changed since the report: %s holds %zu records, the report says %zu",
			       report_path, r.output_path, v->records, r.output_records);
		goto out;
	}
	v->sources[0] = (nd_vsource){"report", nd_vstrdup(v, report_path), SIZE_MAX, 0, NULL};
	v->sources[1] = (nd_vsource){"input", nd_vstrdup(v, r.input_path ? r.input_path : "-"), r.input_records,
				     r.input_size, r.input_checked ? nd_vstrdup(v, r.sha) : NULL};
	v->n_sources = 2;
	if (r.output_path)
		v->sources[v->n_sources++] = (nd_vsource){"output", nd_vstrdup(v, r.output_path), r.output_records, 0, NULL};
	v->has_reduction = 1;
	v->red_in = r.input_records;
	v->red_out = r.output_records;
	v->red_removed = r.removed;
	v->red_clusters = r.clusters;
	v->red_conflicts = r.conflicts;
	nd_vc_measure(v, VC_REDUCTION, r.input_records ? (double)r.removed / (double)r.input_records : 0, r.removed,
		      r.input_records);
	*out = v;
	v = NULL;
out:
	nd_validation_free(v);
	nd_vreport_free(&r);
	return rc;
}
