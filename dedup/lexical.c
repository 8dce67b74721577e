/* nd_lex_pairs: the lexical pass end to end.
 *
 *   1. identity   hash every text's bytes; sort (hash, index); texts with equal
 *                 bytes form a group whose first record is its representative.
 *   2. signature  per representative (in parallel): shingles, then either the b
 *                 LSH band keys of its MinHash signature (the signature itself is
 *                 dropped: memory is n*b*8 bytes, not n*num_perm*4) or its SimHash.
 *   3. candidates MinHash: per band (in parallel) bucket the keys and emit pairs;
 *                 SimHash: permuted tables. Then sort + unique.
 *   4. verify     per candidate (in parallel) re-shingle both texts, exact Jaccard.
 *   5. output     verified pairs merged with the identical-text stars, by (a, b).
 *
 * Every stage writes its results by item index (never in completion order), so
 * the output does not depend on the thread count.
 */
#include <stdlib.h>
#include <string.h>
#include "lexical_internal.h"

#define ND_NONE UINT32_MAX /* "no group": an empty text (indices stay below, n <= UINT32_MAX) */

/* Parallel grain sizes: large enough that the atomic chunk counter is noise,
 * small enough that 2..8 workers stay balanced on 10k-record inputs. */
#define GRAIN_TEXTS 1024
#define GRAIN_PAIRS 512

typedef struct {
	nd_shingler sa, sb;
	nd_hset ha, hb;
	uint32_t *keys;
	size_t keys_cap;
	uint32_t *sig;
	uint64_t *bk; /* band keys of one record */
} worker;

typedef struct {
	const char *const *texts;
	const size_t *lens;
	size_t n;
	nd_lex_opts o;
	unsigned bands, rows, nworkers;
	worker *w;

	nd_kv *idkv;           /* n: (hash of the bytes, record) */
	uint32_t *group;       /* n: representative's slot, or ND_NONE */
	uint32_t *reps;        /* m: record of each slot, ascending */
	size_t m;
	unsigned char *active; /* m: the representative has at least one token */

	nd_mh_perms perms;
	nd_minhash_fn minhash;
	uint64_t *bandkeys;    /* bands * m, band-major: band j of slot s at [j*m + s] */
	uint64_t *fps;         /* m SimHash fingerprints */

	nd_u64vec *band_out;   /* per band */
	size_t *band_big;      /* per band */
	nd_kv **band_buf;      /* per worker */

	const uint64_t *cand;
	float *sim;            /* per candidate: Jaccard, or -1 below the threshold */
} lex_ctx;

static const char *text_of(const lex_ctx *c, size_t i, size_t *len)
{
	const char *t = c->texts[i];
	*len = !t ? 0 : c->lens ? c->lens[i] : strlen(t);
	return t;
}

static int check_interrupt(void)
{
	return nd_interrupted() ? nd_seterr(ND_EINTR, "interrupted") : 0;
}

/* ---- 1. identity ------------------------------------------------------------- */

static int hash_texts(void *ctx, size_t begin, size_t end, unsigned wk)
{
	lex_ctx *c = ctx;
	int rc;
	if ((rc = check_interrupt()))
		return rc;
	for (size_t i = begin; i < end; i++) {
		size_t len;
		const char *t = text_of(c, i, &len);
		c->idkv[i].key = len ? nd_hash64(t, len, 0) : 0;
		c->idkv[i].idx = (uint32_t)i;
		c->idkv[i].pad_ = 0;
	}
	return 0;
}

/* Fills c->group, c->reps, c->m. */
static int group_identical(lex_ctx *c)
{
	nd_kv *tmp = NULL;
	uint32_t *heads = NULL; /* first records of the distinct texts of one hash run */
	size_t nheads = 0, cap_heads = 0, r, e, i;
	int rc = 0;

	if (!(tmp = nd_malloc(c->n * sizeof *tmp)) || !(c->group = nd_malloc(c->n * sizeof *c->group))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory grouping %zu texts", c->n);
		goto cleanup;
	}
	nd_radix_sort_kv(c->idkv, tmp, c->n); /* stable: each run is in record order */
	free(tmp);
	tmp = NULL;
	/* group[i] = first record with the same bytes (which is <= i) */
	for (r = 0; r < c->n; r = e) {
		for (e = r + 1; e < c->n && c->idkv[e].key == c->idkv[r].key; e++)
			;
		if ((r & 0xFFFF) == 0 && (rc = check_interrupt()))
			goto cleanup;
		nheads = 0;
		for (i = r; i < e; i++) {
			uint32_t rec = c->idkv[i].idx, h;
			size_t len, hlen, k;
			const char *t = text_of(c, rec, &len), *ht;
			if (len == 0) {
				c->group[rec] = ND_NONE;
				continue;
			}
			/* equal 64-bit hashes of different bytes are a 2^-64 accident,
			 * but the bytes decide */
			for (k = 0; k < nheads; k++) {
				h = heads[k];
				ht = text_of(c, h, &hlen);
				if (hlen == len && memcmp(ht, t, len) == 0)
					break;
			}
			if (k < nheads) {
				c->group[rec] = heads[k];
				continue;
			}
			if (nheads == cap_heads) {
				uint32_t *p = nd_reallocarray(heads, cap_heads ? 2 * cap_heads : 4, sizeof *p);
				if (!p) {
					rc = nd_seterr(ND_ENOMEM, "out of memory grouping texts");
					goto cleanup;
				}
				heads = p;
				cap_heads = cap_heads ? 2 * cap_heads : 4;
			}
			heads[nheads++] = rec;
			c->group[rec] = rec;
		}
	}
	free(c->idkv);
	c->idkv = NULL;
	/* number the representatives in record order; a member's head comes
	 * before it, so its slot is known by the time the member is reached */
	c->m = 0;
	for (i = 0; i < c->n; i++) {
		uint32_t h = c->group[i];
		if (h == ND_NONE)
			continue;
		if (h == i) {
			c->group[i] = (uint32_t)c->m;
			c->m++;
		} else {
			c->group[i] = c->group[h];
		}
	}
	if (!(c->reps = nd_malloc(c->m * sizeof *c->reps)) || !(c->active = nd_calloc(c->m, 1))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu distinct texts", c->m);
		goto cleanup;
	}
	for (i = 0, r = 0; i < c->n; i++)
		if (c->group[i] != ND_NONE && c->group[i] == r)
			c->reps[r++] = (uint32_t)i;
cleanup:
	free(tmp);
	free(heads);
	return rc;
}

/* ---- 2. signatures -------------------------------------------------------------- */

static int ensure_keys(worker *w, size_t n)
{
	if (n <= w->keys_cap)
		return 0;
	uint32_t *p = nd_reallocarray(w->keys, n, sizeof *p);
	if (!p)
		return nd_seterr(ND_ENOMEM, "out of memory for %zu shingle keys", n);
	w->keys = p;
	w->keys_cap = n;
	return 0;
}

static int sign_texts(void *ctx, size_t begin, size_t end, unsigned wk)
{
	lex_ctx *c = ctx;
	worker *w = &c->w[wk];
	int rc;
	if ((rc = check_interrupt()))
		return rc;
	for (size_t s = begin; s < end; s++) {
		size_t len, nsh;
		uint32_t rec = c->reps[s];
		const char *t = text_of(c, rec, &len);
		if ((rc = nd_shingler_run(&w->sa, t, len, c->o.ngram)))
			return nd_error_prefix(rc, "text %u", rec);
		nsh = w->sa.nsh;
		c->active[s] = nsh > 0;
		if (!nsh)
			continue;
		if (c->o.method == ND_LEX_SIMHASH) {
			c->fps[s] = nd_simhash(w->sa.sh, nsh);
			continue;
		}
		if ((rc = ensure_keys(w, nsh)))
			return rc;
		for (size_t k = 0; k < nsh; k++)
			w->keys[k] = nd_mh_key(w->sa.sh[k]);
		c->minhash(&c->perms, w->keys, nsh, w->sig);
		nd_band_keys(w->sig, c->bands, c->rows, w->bk);
		for (unsigned j = 0; j < c->bands; j++)
			c->bandkeys[(size_t)j * c->m + s] = w->bk[j];
	}
	return 0;
}

/* ---- 3. candidates -------------------------------------------------------------- */

static int band_pairs(void *ctx, size_t begin, size_t end, unsigned wk)
{
	lex_ctx *c = ctx;
	int rc;
	for (size_t j = begin; j < end; j++) {
		if ((rc = check_interrupt()))
			return rc;
		if ((rc = nd_lsh_band_pairs(c->bandkeys + j * c->m, c->reps, c->active, c->m,
					    c->o.max_bucket, c->band_buf[wk], &c->band_out[j],
					    &c->band_big[j])))
			return rc;
	}
	return 0;
}

static int minhash_candidates(lex_ctx *c, nd_u64vec *cand, size_t *big)
{
	unsigned nw = c->nworkers < c->bands ? c->nworkers : c->bands, j;
	int rc = 0;

	c->band_out = nd_calloc(c->bands, sizeof *c->band_out);
	c->band_big = nd_calloc(c->bands, sizeof *c->band_big);
	c->band_buf = nd_calloc(nw, sizeof *c->band_buf);
	if (!c->band_out || !c->band_big || !c->band_buf) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for LSH bands");
		goto cleanup;
	}
	for (j = 0; j < nw; j++)
		if (!(c->band_buf[j] = nd_malloc(c->m * sizeof **c->band_buf))) {
			rc = nd_seterr(ND_ENOMEM, "out of memory bucketing %zu texts", c->m);
			goto cleanup;
		}
	if ((rc = nd_parallel_for(c->bands, 1, nw, band_pairs, c)))
		goto cleanup;
	for (j = 0; j < c->bands; j++) {
		if ((rc = nd_u64vec_append(cand, c->band_out[j].v, c->band_out[j].n)))
			goto cleanup;
		nd_u64vec_free(&c->band_out[j]);
		*big += c->band_big[j];
	}
cleanup:
	if (c->band_out)
		for (j = 0; j < c->bands; j++)
			nd_u64vec_free(&c->band_out[j]);
	if (c->band_buf)
		for (j = 0; j < nw; j++)
			free(c->band_buf[j]);
	free(c->band_out);
	free(c->band_buf);
	free(c->band_big);
	c->band_out = NULL;
	c->band_buf = NULL;
	c->band_big = NULL;
	return rc;
}

/* ---- 4. verification ------------------------------------------------------------ */

static int verify_pairs(void *ctx, size_t begin, size_t end, unsigned wk)
{
	lex_ctx *c = ctx;
	worker *w = &c->w[wk];
	uint32_t cached = ND_NONE;
	int rc;
	if ((rc = check_interrupt()))
		return rc;
	/* candidates are sorted by a: the set of a is built once per run of a */
	for (size_t k = begin; k < end; k++) {
		uint32_t a = (uint32_t)(c->cand[k] >> 32), b = (uint32_t)c->cand[k];
		size_t len;
		const char *t;
		double j;
		if (a != cached) {
			t = text_of(c, a, &len);
			if ((rc = nd_shingler_run(&w->sa, t, len, c->o.ngram)) ||
			    (rc = nd_hset_build(&w->ha, w->sa.sh, w->sa.nsh)))
				return rc;
			cached = a;
		}
		t = text_of(c, b, &len);
		if ((rc = nd_shingler_run(&w->sb, t, len, c->o.ngram)) ||
		    (rc = nd_hset_jaccard(&w->ha, &w->hb, w->sb.sh, w->sb.nsh, &j)))
			return rc;
		c->sim[k] = j >= c->o.threshold ? (float)j : -1.0f;
	}
	return 0;
}

/* ---- options ---------------------------------------------------------------------- */

static int check_opts(lex_ctx *c, const nd_lex_opts *opts)
{
	static const nd_lex_opts defaults = ND_LEX_OPTS_INIT;
	nd_lex_opts *o = &c->o;
	int rc;

	*o = opts ? *opts : defaults;
	if (o->version != ND_LEX_OPTS_VERSION)
		return nd_seterr(ND_EINVAL, "nd_lex_opts version %u, expected %d", o->version,
				 ND_LEX_OPTS_VERSION);
	if (o->method != ND_LEX_MINHASH && o->method != ND_LEX_SIMHASH)
		return nd_seterr(ND_EINVAL, "unknown lexical method %d", (int)o->method);
	if (!(o->threshold > 0.0 && o->threshold <= 1.0))
		return nd_seterr(ND_EINVAL, "threshold %g is outside (0, 1]", o->threshold);
	if (o->ngram == 0)
		return nd_seterr(ND_EINVAL, "ngram must be at least 1");
	if (o->method == ND_LEX_SIMHASH) {
		if (o->simhash_bits > ND_SIMHASH_MAX_K)
			return nd_seterr(ND_EINVAL, "simhash_bits %u is above the maximum %d",
					 o->simhash_bits, ND_SIMHASH_MAX_K);
		return 0;
	}
	if (o->num_perm == 0)
		return nd_seterr(ND_EINVAL, "num_perm must be at least 1");
	if ((o->bands == 0) != (o->rows == 0))
		return nd_seterr(ND_EINVAL, "bands and rows must both be set or both be 0");
	if (o->bands) {
		if ((unsigned long long)o->bands * o->rows > o->num_perm)
			return nd_seterr(ND_EINVAL, "bands %u x rows %u exceed num_perm %u", o->bands,
					 o->rows, o->num_perm);
		c->bands = o->bands;
		c->rows = o->rows;
		return 0;
	}
	/* a threshold of exactly 1 has no S-curve of its own: aim just below it */
	rc = nd_lsh_params(o->threshold < 1.0 ? o->threshold : 0.999, o->num_perm, o->fp_weight,
			   o->fn_weight, &c->bands, &c->rows);
	return rc;
}

/* ---- the whole pass ----------------------------------------------------------------- */

int nd_lex_pairs(const char *const *texts, const size_t *lens, size_t n, const nd_lex_opts *opts,
		 nd_pair **pairs, size_t *npairs, nd_lex_stats *stats)
{
	lex_ctx c;
	nd_lex_stats st;
	nd_u64vec cand = {0}, stars = {0};
	uint64_t *tmp = NULL;
	nd_pair *out = NULL;
	size_t i, nver = 0, nout = 0, empty = 0;
	double t0;
	int rc;

	memset(&c, 0, sizeof c);
	memset(&st, 0, sizeof st);
	if (!pairs || !npairs)
		return nd_seterr(ND_EINVAL, "nd_lex_pairs: NULL output");
	*pairs = NULL;
	*npairs = 0;
	if (!texts && n)
		return nd_seterr(ND_EINVAL, "nd_lex_pairs: NULL texts");
	if (n > UINT32_MAX)
		return nd_seterr(ND_ELIMIT, "%zu texts exceed the limit of %u", n, (unsigned)UINT32_MAX);
	if ((rc = check_opts(&c, opts)))
		return rc;
	c.texts = texts;
	c.lens = lens;
	c.n = n;
	c.nworkers = c.o.threads ? c.o.threads : nd_cpu_count();
	if (c.nworkers > 256) /* nd_parallel_for's own ceiling */
		c.nworkers = 256;
	if (c.o.method == ND_LEX_MINHASH) {
		st.bands = c.bands;
		st.rows = c.rows;
		st.p_at_threshold = nd_lsh_prob(c.o.threshold, c.bands, c.rows);
	}

	/* 1 + 2 */
	t0 = nd_now();
	if (!(c.w = nd_calloc(c.nworkers, sizeof *c.w)) || !(c.idkv = nd_malloc(n * sizeof *c.idkv))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu texts", n);
		goto cleanup;
	}
	if ((rc = nd_parallel_for(n, GRAIN_TEXTS * 4, c.nworkers, hash_texts, &c)) ||
	    (rc = group_identical(&c)))
		goto cleanup;
	if (c.o.method == ND_LEX_MINHASH) {
		/* only the b*r permutations the bands read are ever computed */
		if ((rc = nd_mh_perms_init(&c.perms, c.bands * c.rows, c.o.seed)))
			goto cleanup;
		c.minhash = nd_minhash_best();
		if (c.m > SIZE_MAX / sizeof(uint64_t) / c.bands ||
		    !(c.bandkeys = nd_malloc(c.m * c.bands * sizeof *c.bandkeys))) {
			rc = nd_seterr(ND_ENOMEM, "out of memory for %u band keys of %zu texts", c.bands, c.m);
			goto cleanup;
		}
		for (i = 0; i < c.nworkers; i++)
			if (!(c.w[i].sig = nd_malloc(c.perms.k * sizeof *c.w[i].sig)) ||
			    !(c.w[i].bk = nd_malloc(c.bands * sizeof *c.w[i].bk))) {
				rc = nd_seterr(ND_ENOMEM, "out of memory for signatures");
				goto cleanup;
			}
	} else if (!(c.fps = nd_malloc(c.m * sizeof *c.fps))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu fingerprints", c.m);
		goto cleanup;
	}
	if ((rc = nd_parallel_for(c.m, GRAIN_TEXTS, c.nworkers, sign_texts, &c)))
		goto cleanup;
	st.t_signature = nd_now() - t0;

	/* 3 */
	t0 = nd_now();
	if (c.o.method == ND_LEX_MINHASH)
		rc = minhash_candidates(&c, &cand, &st.big_buckets);
	else
		rc = nd_simhash_pairs(c.fps, c.reps, c.active, c.m, c.o.simhash_bits, 0, c.o.max_bucket,
				      c.nworkers, &cand, &st.big_buckets);
	if (rc)
		goto cleanup;
	free(c.bandkeys);
	c.bandkeys = NULL;
	if (!(tmp = nd_malloc(cand.n * sizeof *tmp))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory sorting %zu candidate pairs", cand.n);
		goto cleanup;
	}
	cand.n = nd_sort_unique_u64(cand.v, tmp, cand.n);
	free(tmp);
	tmp = NULL;
	st.candidates = cand.n;
	st.t_candidates = nd_now() - t0;

	/* 4 */
	t0 = nd_now();
	if (!(c.sim = nd_malloc(cand.n * sizeof *c.sim))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu candidate pairs", cand.n);
		goto cleanup;
	}
	c.cand = cand.v;
	if ((rc = nd_parallel_for(cand.n, GRAIN_PAIRS, c.nworkers, verify_pairs, &c)))
		goto cleanup;
	for (i = 0; i < cand.n; i++)
		nver += c.sim[i] >= 0.0f;
	st.verified = nver;
	st.t_verify = nd_now() - t0;

	/* 5: identical texts are linked to their first occurrence (a star), and
	 * texts without tokens take part in nothing */
	for (i = 0; i < n; i++) {
		uint32_t g = c.group[i];
		if (g == ND_NONE || !c.active[g]) {
			empty++;
			continue;
		}
		if (c.reps[g] != i && (rc = nd_u64vec_push(&stars, nd_pair_key(c.reps[g], (uint32_t)i))))
			goto cleanup;
	}
	st.empty_texts = empty;
	st.identical = stars.n;
	if (!(tmp = nd_malloc(stars.n * sizeof *tmp)) ||
	    !(out = nd_malloc((stars.n + nver) * sizeof *out))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu pairs", stars.n + nver);
		goto cleanup;
	}
	nd_radix_sort_u64(stars.v, tmp, stars.n);
	{
		/* merge two sorted lists; they share no pair (a star joins a member that
		 * is not a representative, a candidate joins two representatives) */
		size_t si = 0, ci = 0;
		while (si < stars.n || ci < cand.n) {
			uint64_t key;
			float sim;
			if (ci < cand.n && c.sim[ci] < 0.0f) {
				ci++;
				continue;
			}
			if (ci >= cand.n || (si < stars.n && stars.v[si] < cand.v[ci])) {
				key = stars.v[si++];
				sim = 1.0f;
			} else {
				key = cand.v[ci];
				sim = c.sim[ci++];
			}
			out[nout].a = (uint32_t)(key >> 32);
			out[nout].b = (uint32_t)key;
			out[nout].sim = sim;
			nout++;
		}
	}
	*pairs = out;
	*npairs = nout;
	out = NULL;
	if (stats)
		*stats = st;
cleanup:
	if (c.w)
		for (i = 0; i < c.nworkers; i++) {
			nd_shingler_free(&c.w[i].sa);
			nd_shingler_free(&c.w[i].sb);
			nd_hset_free(&c.w[i].ha);
			nd_hset_free(&c.w[i].hb);
			free(c.w[i].keys);
			free(c.w[i].sig);
			free(c.w[i].bk);
		}
	free(c.w);
	free(c.idkv);
	free(c.group);
	free(c.reps);
	free(c.active);
	nd_mh_perms_free(&c.perms);
	free(c.bandkeys);
	free(c.fps);
	free(c.sim);
	free(tmp);
	free(out);
	nd_u64vec_free(&cand);
	nd_u64vec_free(&stars);
	return rc;
}
