/* The JSON report, "neardup.validation/1" (docs/validation-schema.md). */
#include <math.h>
#include <string.h>
#include "vinternal.h"
#include "jsonw.h"

static const char *mode_name(nd_vmode m)
{
	return m == VMODE_REPORT ? "report" : m == VMODE_SPLIT ? "split" : "dataset";
}

static void counts(nd_jw *w, const char *key, const nd_vcount *c, size_t n, size_t other)
{
	nd_jw_key(w, key);
	nd_jw_array(w);
	for (size_t i = 0; i < n; i++) {
		nd_jw_object(w);
		nd_jw_key(w, "name");
		nd_jw_str(w, c[i].name);
		nd_jw_key(w, "count");
		nd_jw_uint(w, c[i].count);
		nd_jw_end(w);
	}
	if (other) {
		nd_jw_object(w);
		nd_jw_key(w, "name");
		nd_jw_null(w);
		nd_jw_key(w, "count");
		nd_jw_uint(w, other);
		nd_jw_end(w);
	}
	nd_jw_end(w);
}

static void uarray(nd_jw *w, const char *key, const size_t *a, size_t n)
{
	nd_jw_key(w, key);
	nd_jw_array(w);
	for (size_t i = 0; i < n; i++)
		nd_jw_uint(w, a[i]);
	nd_jw_end(w);
}

static size_t used_positions(const nd_validation *v)
{
	size_t n = 0;
	for (size_t p = 0; p < ND_MAX_OPTIONS; p++)
		if (v->pos_single[p] || v->pos_multi[p])
			n = p + 1;
	return n;
}

int nd_validation_write_json(const nd_validation *v, const char *path)
{
	nd_outfile *f = NULL;
	nd_jw w;
	int rc = nd_outfile_open(&f, path);
	if (rc)
		return rc;
	nd_jw_init(&w, f, 1);
	nd_jw_object(&w);
	nd_jw_header(&w, "neardup.validation/1", "neardup validate", nd_version());
	nd_jw_key(&w, "mode");
	nd_jw_str(&w, mode_name(v->mode));
	nd_jw_key(&w, "status");
	nd_jw_str(&w, nd_vstatus_name(v->overall));
	nd_jw_key(&w, "sources");
	nd_jw_array(&w);
	for (size_t i = 0; i < v->n_sources; i++) {
		const nd_vsource *s = &v->sources[i];
		nd_jw_object(&w);
		nd_jw_key(&w, "role");
		nd_jw_str(&w, s->role);
		nd_jw_key(&w, "path");
		nd_jw_str(&w, s->path);
		if (s->records != SIZE_MAX) {
			nd_jw_key(&w, "records");
			nd_jw_uint(&w, s->records);
		}
		if (s->sha256) {
			nd_jw_key(&w, "size");
			nd_jw_uint(&w, s->size);
			nd_jw_key(&w, "sha256");
			nd_jw_str(&w, s->sha256);
			nd_jw_key(&w, "unchanged");
			nd_jw_bool(&w, 1);
		}
		nd_jw_end(&w);
	}
	nd_jw_end(&w);
	nd_jw_key(&w, "preset");
	nd_jw_str(&w, v->preset);
	nd_jw_key(&w, "records");
	nd_jw_uint(&w, v->records);
	nd_jw_key(&w, "params");
	nd_jw_object(&w);
	nd_jw_key(&w, "residual_scan");
	nd_jw_bool(&w, v->residual_run);
	nd_jw_key(&w, "threshold");
	nd_jw_num(&w, v->threshold, 4);
	nd_jw_key(&w, "probe_threshold");
	if (v->probe > 0)
		nd_jw_num(&w, v->probe, 4);
	else
		nd_jw_null(&w);
	nd_jw_key(&w, "ngram");
	nd_jw_uint(&w, v->ngram);
	nd_jw_key(&w, "method");
	nd_jw_str(&w, v->method);
	nd_jw_end(&w);

	size_t tally[5] = {0};
	for (int k = 0; k < VC_COUNT; k++)
		tally[v->checks[k].status]++;
	nd_jw_key(&w, "summary");
	nd_jw_object(&w);
	for (int s = ND_VSTATUS_PASS; s <= ND_VSTATUS_FAIL; s++) {
		nd_jw_key(&w, nd_vstatus_name((nd_vstatus)s));
		nd_jw_uint(&w, tally[s]);
	}
	nd_jw_end(&w);

	nd_jw_key(&w, "checks");
	nd_jw_array(&w);
	for (int k = 0; k < VC_COUNT; k++) {
		const nd_vcheck *c = &v->checks[k];
		nd_jw_object(&w);
		nd_jw_key(&w, "id");
		nd_jw_str(&w, c->id);
		nd_jw_key(&w, "category");
		nd_jw_str(&w, c->category);
		nd_jw_key(&w, "title");
		nd_jw_str(&w, c->title);
		nd_jw_key(&w, "unit");
		nd_jw_str(&w, c->unit);
		nd_jw_key(&w, "status");
		nd_jw_str(&w, nd_vstatus_name(c->status));
		nd_jw_key(&w, "value");
		if (c->applicable)
			nd_jw_num(&w, c->value, 6);
		else
			nd_jw_null(&w);
		nd_jw_key(&w, "count");
		nd_jw_uint(&w, c->count);
		nd_jw_key(&w, "total");
		nd_jw_uint(&w, c->total);
		nd_jw_key(&w, "warn");
		nd_jw_num(&w, c->warn, 6);
		nd_jw_key(&w, "fail");
		nd_jw_num(&w, c->fail, 6);
		nd_jw_key(&w, "examples");
		nd_jw_array(&w);
		for (size_t i = 0; i < c->n_examples; i++) {
			const nd_vexample *e = &c->examples[i];
			nd_jw_object(&w);
			nd_jw_key(&w, "index");
			if (e->index == SIZE_MAX)
				nd_jw_null(&w);
			else
				nd_jw_uint(&w, e->index);
			if (e->split >= 0) {
				nd_jw_key(&w, "split");
				nd_jw_str(&w, nd_split_name((nd_split)e->split));
			}
			nd_jw_key(&w, "detail");
			nd_jw_str(&w, e->detail);
			nd_jw_end(&w);
		}
		nd_jw_end(&w);
		nd_jw_end(&w);
	}
	nd_jw_end(&w);

	nd_jw_key(&w, "distributions");
	nd_jw_object(&w);
	counts(&w, "types", v->types, v->n_types, v->other_types);
	counts(&w, "categories", v->categories, v->n_categories, v->other_categories);
	nd_jw_key(&w, "answer_positions");
	nd_jw_object(&w);
	size_t np = used_positions(v);
	uarray(&w, "single", v->pos_single, np);
	uarray(&w, "multi", v->pos_multi, np);
	nd_jw_end(&w);
	nd_jw_key(&w, "judge");
	nd_jw_object(&w);
	nd_jw_key(&w, "true");
	nd_jw_uint(&w, v->judge_true);
	nd_jw_key(&w, "false");
	nd_jw_uint(&w, v->judge_false);
	nd_jw_end(&w);
	nd_jw_key(&w, "length");
	nd_jw_object(&w);
	nd_jw_key(&w, "unit");
	nd_jw_str(&w, "characters of the question");
	nd_jw_key(&w, "median");
	nd_jw_num(&w, v->len_median, 1);
	nd_jw_key(&w, "mad");
	nd_jw_num(&w, v->len_mad, 1);
	nd_jw_key(&w, "p95");
	nd_jw_num(&w, v->len_p95, 1);
	nd_jw_key(&w, "max");
	nd_jw_uint(&w, v->len_max);
	nd_jw_key(&w, "bin_width");
	nd_jw_uint(&w, v->len_bin_width);
	uarray(&w, "bins", v->len_bins, ND_LEN_BINS);
	nd_jw_end(&w);
	nd_jw_key(&w, "cjk_share_median");
	nd_jw_num(&w, v->cjk_median, 4);
	if (v->residual_run) {
		nd_jw_key(&w, "similarity");
		nd_jw_object(&w);
		nd_jw_key(&w, "from");
		nd_jw_num(&w, v->sim_from, 4);
		nd_jw_key(&w, "to");
		nd_jw_num(&w, 1.0, 1);
		uarray(&w, "bins", v->sim_bins, ND_SIM_BINS);
		nd_jw_end(&w);
		nd_jw_key(&w, "cluster_sizes");
		nd_jw_array(&w);
		for (int b = 0; b < ND_CSIZE_BINS; b++) {
			nd_jw_object(&w);
			nd_jw_key(&w, "size");
			nd_jw_str(&w, nd_csize_labels[b]);
			nd_jw_key(&w, "count");
			nd_jw_uint(&w, v->csize_bins[b]);
			nd_jw_end(&w);
		}
		nd_jw_end(&w);
	}
	if (v->has_reduction) {
		nd_jw_key(&w, "reduction");
		nd_jw_object(&w);
		nd_jw_key(&w, "input_records");
		nd_jw_uint(&w, v->red_in);
		nd_jw_key(&w, "output_records");
		nd_jw_uint(&w, v->red_out);
		nd_jw_key(&w, "removed");
		nd_jw_uint(&w, v->red_removed);
		nd_jw_key(&w, "clusters");
		nd_jw_uint(&w, v->red_clusters);
		nd_jw_key(&w, "conflict_pairs");
		nd_jw_uint(&w, v->red_conflicts);
		nd_jw_end(&w);
	}
	if (v->mode == VMODE_SPLIT) {
		nd_jw_key(&w, "splits");
		nd_jw_object(&w);
		for (int s = 0; s < 3; s++) {
			nd_jw_key(&w, nd_split_name((nd_split)s));
			nd_jw_uint(&w, v->split_records[s]);
		}
		nd_jw_end(&w);
	}
	nd_jw_end(&w);
	if (v->has_baseline) {
		nd_jw_key(&w, "baseline");
		nd_jw_object(&w);
		nd_jw_key(&w, "path");
		nd_jw_str(&w, v->baseline_path);
		nd_jw_key(&w, "records");
		nd_jw_uint(&w, v->base_records);
		nd_jw_key(&w, "residual_near_rate");
		nd_jw_num(&w, v->base_dup, 6);
		nd_jw_end(&w);
	}
	nd_jw_end(&w);
	return nd_jw_commit(&w, f);
}
