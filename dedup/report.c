/* The dedup report (docs/report-schema.md) and the removed-records list. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dedup_internal.h"
#include "jsonw.h"
#include "neardup/records.h"
#include "sha256.h"

static void write_params(nd_jw *w, const nd_result *r, const nd_dedup_opts *o)
{
	const nd_dedup_stats *s = nd_result_stats(r);
	nd_jw_key(w, "params");
	nd_jw_object(w);
	nd_jw_key(w, "threshold");
	nd_jw_num(w, o->lex.threshold, 6);
	nd_jw_key(w, "method");
	nd_jw_str(w, o->lex.method == ND_LEX_SIMHASH ? "simhash" : "minhash");
	nd_jw_key(w, "ngram");
	nd_jw_uint(w, o->lex.ngram);
	if (o->lex.method == ND_LEX_MINHASH) {
		nd_jw_key(w, "num_perm");
		nd_jw_uint(w, o->lex.num_perm);
		nd_jw_key(w, "bands");
		nd_jw_uint(w, s->lex.bands);
		nd_jw_key(w, "rows");
		nd_jw_uint(w, s->lex.rows);
		nd_jw_key(w, "bands_rows_source");
		nd_jw_str(w, o->lex.bands && o->lex.rows ? "given" : "derived: minimises fp_weight * mean P(candidate) below the threshold + fn_weight * mean P(miss) above it");
		nd_jw_key(w, "p_candidate_at_threshold");
		nd_jw_num(w, s->lex.p_at_threshold, 6);
		nd_jw_key(w, "fp_weight");
		nd_jw_num(w, o->lex.fp_weight, 4);
		nd_jw_key(w, "fn_weight");
		nd_jw_num(w, o->lex.fn_weight, 4);
	} else {
		nd_jw_key(w, "simhash_bits");
		nd_jw_uint(w, o->lex.simhash_bits);
	}
	nd_jw_key(w, "seed");
	nd_jw_uint(w, o->lex.seed);
	nd_jw_key(w, "max_bucket");
	nd_jw_uint(w, o->lex.max_bucket);
	nd_jw_key(w, "guards");
	nd_jw_array(w);
	for (unsigned g = 1; g <= ND_GUARD_SWAP; g <<= 1)
		if (o->guards & g)
			nd_jw_str(w, nd_guard_name(g));
	nd_jw_end(w);
	nd_jw_key(w, "keep");
	nd_jw_str(w, nd_keep_name(o->keep));
	nd_jw_key(w, "on_conflict");
	nd_jw_str(w, nd_conflict_name(o->on_conflict));
	nd_jw_key(w, "giant_cluster");
	nd_jw_uint(w, o->giant_cluster);
	nd_jw_end(w);
}

static void write_stats(nd_jw *w, const nd_dedup_stats *s)
{
	nd_jw_key(w, "stats");
	nd_jw_object(w);
#define U(name, v) (nd_jw_key(w, name), nd_jw_uint(w, (unsigned long long)(v)))
	U("records", s->records);
	U("kept", s->kept);
	U("removed", s->removed);
	U("empty_texts", s->empty_texts);
	U("clusters", s->clusters);
	U("giant_clusters", s->giant_clusters);
	U("split_by_chaining_check", s->split_members);
	nd_jw_key(w, "pairs");
	nd_jw_object(w);
	U("lsh_candidates", s->lex.candidates);
	U("lexical_verified", s->lex.verified);
	U("exact", s->pairs_exact);
	U("lexical", s->pairs_lexical);
	U("semantic", s->pairs_semantic);
	U("semantic_only", s->pairs_semantic_only);
	U("accepted", s->accepted);
	U("lsh_big_buckets", s->lex.big_buckets);
	nd_jw_end(w);
	nd_jw_key(w, "vetoed");
	nd_jw_object(w);
	for (int g = 0; g < 5; g++)
		U(nd_guard_name(1u << g), s->vetoed[g]);
	nd_jw_end(w);
	nd_jw_key(w, "conflicts");
	nd_jw_object(w);
	U("pairs", s->conflicts);
	U("clusters", s->conflict_clusters);
	U("records_dropped", s->dropped_by_conflict);
	nd_jw_end(w);
#undef U
	nd_jw_end(w);
}

static void member_id(nd_jw *w, const nd_dataset *ds, uint32_t i, const char *key)
{
	const char *id = nd_dataset_record(ds, i)->id;
	if (id) {
		nd_jw_key(w, key);
		nd_jw_str(w, id);
	}
}

/* What the report's long arrays are written from (nd_jw_items callbacks). */
typedef struct {
	const nd_dataset *ds;
	const nd_cluster *cl;
	const nd_variant *v;
	const nd_conflict *cf;
	size_t n; /* clusters, variants or conflicts: the array being written */
} report_items;

/* Pairs name two records anywhere in the dataset: their records are fetched eight
 * pairs ahead and the id strings four ahead, as for cluster members. */
#define PAIR_PREFETCH 4
static void prefetch_pair(const nd_dataset *ds, uint32_t a, uint32_t b, uint32_t a2, uint32_t b2)
{
	__builtin_prefetch(nd_dataset_record(ds, a2));
	__builtin_prefetch(nd_dataset_record(ds, b2));
	__builtin_prefetch(nd_dataset_record(ds, a)->id);
	__builtin_prefetch(nd_dataset_record(ds, b)->id);
}

static void write_cluster(nd_jw *w, const void *ctx, size_t c)
{
	const report_items *x = ctx;
	const nd_dataset *ds = x->ds;
	const nd_cluster *cl = x->cl;
	size_t nc = x->n;
	/* members are anywhere in the dataset: fetch the records two clusters ahead and
	 * their id strings one ahead (a million members otherwise wait on two cache
	 * misses each) */
	for (size_t k = 0; c + 2 < nc && k < cl[c + 2].n_members; k++)
		__builtin_prefetch(nd_dataset_record(ds, cl[c + 2].members[k].index));
	for (size_t k = 0; c + 1 < nc && k < cl[c + 1].n_members; k++)
		__builtin_prefetch(nd_dataset_record(ds, cl[c + 1].members[k].index)->id);
	nd_jw_object(w);
	nd_jw_key(w, "id");
	nd_jw_uint(w, c);
	nd_jw_key(w, "kept");
	nd_jw_uint(w, cl[c].kept);
	member_id(w, ds, cl[c].kept, "kept_id");
	nd_jw_key(w, "size");
	nd_jw_uint(w, cl[c].n_members);
	if (cl[c].conflict) {
		nd_jw_key(w, "conflict");
		nd_jw_bool(w, 1);
	}
	if (cl[c].dropped) {
		nd_jw_key(w, "dropped");
		nd_jw_bool(w, 1);
	}
	if (cl[c].giant) {
		nd_jw_key(w, "giant");
		nd_jw_bool(w, 1);
	}
	nd_jw_key(w, "members");
	nd_jw_array(w);
	for (size_t k = 0; k < cl[c].n_members; k++) {
		const nd_member *m = &cl[c].members[k];
		nd_jw_object(w);
		nd_jw_key(w, "index");
		nd_jw_uint(w, m->index);
		member_id(w, ds, m->index, "id");
		nd_jw_key(w, "similarity");
		nd_jw_num(w, m->similarity, 4);
		nd_jw_key(w, "pass");
		nd_jw_str(w, k == 0 ? "kept" : nd_pass_name(m->pass));
		if (k > 0 && m->pass == ND_PASS_SEMANTIC && !isnan(m->cosine)) {
			nd_jw_key(w, "cosine");
			nd_jw_num(w, m->cosine, 4);
		}
		nd_jw_end(w);
	}
	nd_jw_end(w);
	nd_jw_end(w);
}

/* A cluster's bytes, near enough to cut chunks: a member is ~130 bytes pretty-printed. */
static size_t cluster_size(const void *ctx, size_t c)
{
	const report_items *x = ctx;
	return 160 + 130 * (size_t)x->cl[c].n_members;
}

/* The start of a variant's or a conflict's object: its two records and their ids. */
static void pair_head(nd_jw *w, const nd_dataset *ds, uint32_t a, uint32_t b)
{
	nd_jw_object(w);
	nd_jw_key(w, "a");
	nd_jw_uint(w, a);
	nd_jw_key(w, "b");
	nd_jw_uint(w, b);
	member_id(w, ds, a, "a_id");
	member_id(w, ds, b, "b_id");
}

static void write_variant(nd_jw *w, const void *ctx, size_t i)
{
	const report_items *x = ctx;
	const nd_variant *v = &x->v[i];
	if (i + 2 * PAIR_PREFETCH < x->n)
		prefetch_pair(x->ds, v[PAIR_PREFETCH].a, v[PAIR_PREFETCH].b, v[2 * PAIR_PREFETCH].a,
			      v[2 * PAIR_PREFETCH].b);
	pair_head(w, x->ds, v->a, v->b);
	nd_jw_key(w, "similarity");
	nd_jw_num(w, v->similarity, 4);
	nd_jw_key(w, "guard");
	nd_jw_str(w, nd_guard_name(v->guard));
	nd_jw_key(w, "detail");
	nd_jw_str(w, v->detail);
	nd_jw_end(w);
}

static void write_conflict(nd_jw *w, const void *ctx, size_t i)
{
	const report_items *x = ctx;
	const nd_conflict *cf = &x->cf[i];
	if (i + 2 * PAIR_PREFETCH < x->n)
		prefetch_pair(x->ds, cf[PAIR_PREFETCH].a, cf[PAIR_PREFETCH].b, cf[2 * PAIR_PREFETCH].a,
			      cf[2 * PAIR_PREFETCH].b);
	pair_head(w, x->ds, cf->a, cf->b);
	nd_jw_key(w, "answer_a");
	nd_jw_str(w, cf->answer_a);
	nd_jw_key(w, "answer_b");
	nd_jw_str(w, cf->answer_b);
	nd_jw_end(w);
}

int nd_report_write(const nd_result *r, const nd_dataset *ds, const nd_dedup_opts *o, const nd_report_info *info,
		    const char *path)
{
	const nd_input_info *in = nd_dataset_input(ds);
	const nd_dedup_stats *s = nd_result_stats(r);
	nd_outfile *f;
	nd_jw w;
	int rc;

	if ((rc = nd_outfile_open(&f, path)))
		return rc;
	nd_jw_init(&w, f, 1);
	nd_jw_object(&w);
	nd_jw_header(&w, "neardup.report/1", "neardup dedup",
		     info && info->tool_version ? info->tool_version : nd_version());

	nd_jw_key(&w, "input");
	nd_jw_object(&w);
	nd_jw_key(&w, "path");
	nd_jw_str(&w, in->path);
	nd_jw_key(&w, "size");
	nd_jw_uint(&w, in->size);
	nd_jw_key(&w, "sha256");
	nd_jw_str(&w, nd_dataset_sha256(ds));
	nd_jw_key(&w, "records");
	nd_jw_uint(&w, nd_dataset_count(ds));
	nd_jw_key(&w, "container");
	nd_jw_str(&w, nd_container_name(in->container));
	if (in->wrapper_key) {
		nd_jw_key(&w, "wrapper_key");
		nd_jw_str(&w, in->wrapper_key);
	}
	nd_jw_key(&w, "preset");
	nd_jw_str(&w, nd_preset_name(nd_dataset_preset(ds)));
	nd_jw_key(&w, "notes");
	nd_jw_array(&w);
	const char *const *notes;
	size_t nn = nd_dataset_notes(ds, &notes);
	for (size_t i = 0; i < nn; i++)
		nd_jw_str(&w, notes[i]);
	nd_jw_end(&w);
	nd_jw_end(&w);

	nd_jw_key(&w, "output");
	nd_jw_object(&w);
	nd_jw_key(&w, "path");
	nd_jw_str(&w, info && !info->dry_run ? info->output_path : NULL);
	nd_jw_key(&w, "records");
	nd_jw_uint(&w, s->kept);
	nd_jw_key(&w, "removed_path");
	nd_jw_str(&w, info ? info->removed_path : NULL);
	nd_jw_key(&w, "dry_run");
	nd_jw_bool(&w, info && info->dry_run);
	nd_jw_end(&w);

	write_params(&w, r, o);
	nd_jw_key(&w, "semantic");
	nd_jw_object(&w);
	nd_jw_key(&w, "enabled");
	nd_jw_bool(&w, info && info->semantic);
	if (info && info->semantic) {
		nd_jw_key(&w, "embedder");
		nd_jw_str(&w, info->semantic_embedder);
		nd_jw_key(&w, "threshold");
		nd_jw_num(&w, info->semantic_threshold, 6);
	}
	nd_jw_end(&w);
	write_stats(&w, s);

	if (info && info->with_timings) {
		nd_jw_key(&w, "timings");
		nd_jw_object(&w);
		nd_jw_key(&w, "read_s");
		nd_jw_num(&w, info->t_read, 4);
		nd_jw_key(&w, "signatures_s");
		nd_jw_num(&w, s->lex.t_signature, 4);
		nd_jw_key(&w, "candidates_s");
		nd_jw_num(&w, s->lex.t_candidates, 4);
		nd_jw_key(&w, "verify_s");
		nd_jw_num(&w, s->lex.t_verify, 4);
		nd_jw_key(&w, "decide_s");
		nd_jw_num(&w, s->t_decide, 4);
		nd_jw_key(&w, "cluster_s");
		nd_jw_num(&w, s->t_cluster, 4);
		nd_jw_key(&w, "write_s");
		nd_jw_num(&w, info->t_write, 4);
		nd_jw_end(&w);
	}

	unsigned threads = o->lex.threads;
	report_items x = {ds, NULL, NULL, NULL, 0};
	x.n = nd_result_clusters(r, &x.cl);
	nd_jw_key(&w, "clusters");
	nd_jw_array(&w);
	nd_jw_items(&w, x.n, write_cluster, cluster_size, &x, threads);
	nd_jw_end(&w);

	size_t nv = nd_result_variants(r, &x.v), cap = info && info->max_listed ? info->max_listed : SIZE_MAX;
	size_t ncf = nd_result_conflicts(r, &x.cf);
	nd_jw_key(&w, "variants_listed");
	nd_jw_uint(&w, nv < cap ? nv : cap);
	nd_jw_key(&w, "conflicts_listed");
	nd_jw_uint(&w, ncf < cap ? ncf : cap);
	if (nv > cap)
		nv = cap;
	if (ncf > cap)
		ncf = cap;
	nd_jw_key(&w, "variants");
	nd_jw_array(&w);
	x.n = nv;
	nd_jw_items(&w, nv, write_variant, NULL, &x, threads);
	nd_jw_end(&w);

	nd_jw_key(&w, "conflicts");
	nd_jw_array(&w);
	x.n = ncf;
	nd_jw_items(&w, ncf, write_conflict, NULL, &x, threads);
	nd_jw_end(&w);
	nd_jw_end(&w);
	return nd_jw_commit(&w, f);
}

/* Writes @n bytes of a record on one line: a record written over several lines has
 * its newlines (whitespace between tokens, never inside strings) turned into
 * spaces, as JSON Lines needs. */
static int write_one_line(nd_outfile *f, const char *p, size_t n)
{
	const char *end = p + n;
	const char *nl = memchr(p, '\n', n), *cr = memchr(p, '\r', n);
	int rc = 0;
	while ((nl || cr) && !rc) {
		const char *q = !cr || (nl && nl < cr) ? nl : cr;
		rc = nd_outfile_write(f, p, (size_t)(q - p));
		if (!rc)
			rc = nd_outfile_write(f, " ", 1);
		p = q + 1;
		if (q == nl)
			nl = memchr(p, '\n', (size_t)(end - p));
		else
			cr = memchr(p, '\r', (size_t)(end - p));
	}
	if (!rc)
		rc = nd_outfile_write(f, p, (size_t)(end - p));
	return rc;
}

int nd_removed_write(const nd_result *r, const nd_dataset *ds, const char *path)
{
	const unsigned char *keep = nd_result_keep(r);
	const char *data = nd_dataset_data(ds);
	nd_outfile *f;
	int rc;
	if ((rc = nd_outfile_open(&f, path)))
		return rc;
	for (size_t i = 0; i < nd_dataset_count(ds) && !rc; i++) {
		nd_dataset_release_behind(ds, i);
		if (keep[i])
			continue;
		const nd_record *rec = nd_dataset_record(ds, i);
		uint32_t k = nd_result_kept_by(r, i);
		/* the line's start without printf: a million lines */
		static const char s1[] = "{\"index\": ", s2[] = ", \"kept_by\": ",
				  dup[] = ", \"reason\": \"duplicate\", \"record\": ",
				  drop[] = "null, \"reason\": \"conflict-drop\", \"record\": ";
		char num[24], *ne = num + sizeof num, *np = nd_utoa_end(i, ne);
		rc = nd_outfile_write(f, s1, sizeof s1 - 1);
		if (!rc)
			rc = nd_outfile_write(f, np, (size_t)(ne - np));
		if (!rc)
			rc = nd_outfile_write(f, s2, sizeof s2 - 1);
		if (!rc && k == UINT32_MAX) {
			rc = nd_outfile_write(f, drop, sizeof drop - 1);
		} else if (!rc) {
			np = nd_utoa_end(k, ne);
			rc = nd_outfile_write(f, np, (size_t)(ne - np));
			if (!rc)
				rc = nd_outfile_write(f, dup, sizeof dup - 1);
		}
		if (!rc)
			rc = write_one_line(f, data + rec->span.offset, rec->span.len);
		if (!rc)
			rc = nd_outfile_write(f, "}\n", 2);
	}
	if (rc) {
		nd_outfile_abort(f);
		return rc;
	}
	return nd_outfile_commit(f);
}
