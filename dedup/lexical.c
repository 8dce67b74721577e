/* nd_lex_pairs: the lexical pass end to end.
 *
 *   1. identity   hash every text's bytes; sort (hash, index); texts with equal
 *                 bytes form a group whose first record is its representative.
 *   2. signature  per representative (in parallel): its shingle set (sorted unique
 *                 32-bit keys in an nd_shingle_sets store), then from the set the
 *                 b LSH band keys of its MinHash signature (the signature itself
 *                 is dropped) or from the shingles its SimHash, and the set's size
 *                 and 256-bit sketch for step 4.
 *   3. candidates MinHash: per band (in parallel) bucket the keys; the buckets are
 *                 kept as runs of members, never expanded into a list of pairs.
 *                 SimHash: permuted tables, then sort + unique.
 *   4. verify     MinHash: per bucket (in parallel) enumerate its pairs (all of
 *                 them, or a big bucket's chain), skip those an earlier band
 *                 already emitted, and check the rest on the cached sets: size
 *                 filter, sketch bound, then a merge that gives up as soon as the
 *                 threshold is out of reach. Only verified pairs are kept: at 1M
 *                 templated texts that is ~1M of ~30M candidates, whose list and
 *                 its sort were most of the pass's memory. SimHash: the same check
 *                 per candidate.
 *   5. output     verified pairs sorted, merged with the identical-text stars.
 *
 * Every stage writes its results by item index, or collects sets of pairs that are
 * sorted afterwards, so the output does not depend on the thread count.
 */
#include <stdlib.h>
#include <string.h>
#include "lexical_internal.h"

#define ND_NONE UINT32_MAX /* "no group": an empty text (indices stay below, n <= UINT32_MAX) */

/* Parallel grain sizes: large enough that the atomic chunk counter is noise,
 * small enough that 2..8 workers stay balanced on 10k-record inputs. A bucket
 * holds up to max_bucket (256) members, i.e. up to 32640 pairs: 64 buckets are
 * still a small share of a band's work. */
#define GRAIN_TEXTS 1024
#define GRAIN_PAIRS 512
#define GRAIN_RUNS 64

/* Set sizes |A| + |B| below this look their minimum intersection up in a table
 * filled once per pass (questions hold tens of shingles); longer texts compute it. */
#define NEED_TABLE 4096

typedef struct {
	nd_kv *v; /* key: a pair of slots (nd_pair_key); idx: the bits of its float Jaccard */
	size_t n, cap;
} kvvec;

/* A bucket's members, gathered so that the all-pairs loop reads a few
 * contiguous kilobytes instead of k rows scattered over the whole table: member x
 * at row[x * (ROW_HEAD + j)], the head of its row (ROW_*) then its band keys
 * 0 .. j-1. */
typedef struct {
	uint64_t *row;
	size_t cap;
	uint32_t *rank; /* member x's ranks in bands 0 .. j-1 at rank[x * j], when it has any */
	size_t rank_cap;
	uint64_t *soa;  /* the AVX-512 pair loop's columns: band keys, sizes, sketches */
	size_t soa_cap;
} gathered;

/* A pair that passed the size and sketch filters, waiting for its merge while its
 * two key arrays (anywhere in the store: ~10 cache misses a pair) are fetched. */
typedef struct {
	const uint32_t *ka, *kb;
	uint32_t na, nb;
	size_t need;
	uint64_t pair; /* nd_pair_key of the two slots */
} pending;

/* Merges in flight per worker: enough to cover a miss to memory with the
 * filtering of the candidates between two passing pairs. */
#define PENDING 8
#define MAX_WORKERS 256 /* nd_parallel_for's own ceiling */

typedef struct {
	uint32_t *sig;
	kvvec found;       /* verified pairs */
	size_t candidates; /* distinct candidate pairs this worker checked */
	gathered g;
	pending q[PENDING]; /* a ring: q[(head + i) % PENDING], i < nq */
	unsigned head, nq;
} worker;

/* What step 4 needs of a slot, in one row of the table c->row (c->stride words,
 * a multiple of 8 so a row is whole cache lines: three for b = 12):
 *   ROW_BIG            bit e: band e put the slot in a big bucket (e < 64)
 *   ROW_SIZE           the size of its set
 *   ROW_KEYS           where its keys are in the store (a pointer)
 *   ROW_SKETCH         the set's sketch (ND_SKETCH_WORDS words)
 *   ROW_HEAD + e       band e's key (MinHash), e < bands
 * Band j's check reads the head and the keys of bands 0 .. j-1, a prefix of the
 * row: one cache line for j <= 1, two up to j = 9 (with the keys first, every
 * band read all three lines at b = 12). One row is one to three cache misses per
 * slot and bucket; separate arrays were five, which cost more than all the
 * arithmetic of step 4. */
#define ROW_BIG 0
#define ROW_SIZE 1
#define ROW_KEYS 2
#define ROW_SKETCH 3
#define ROW_HEAD (ROW_SKETCH + ND_SKETCH_WORDS) /* words before the band keys */

typedef struct {
	const char *const *texts;
	const size_t *lens;
	size_t n;
	nd_lex_opts o;
	unsigned bands, rows, nworkers;
	worker *w;

	nd_kv *idkv;           /* n: (hash of the bytes, record) */
	uint32_t *group;       /* n: representative's slot, or ND_NONE (moves into sets) */
	uint32_t *reps;        /* m: record of each slot, ascending */
	size_t m;
	unsigned char *active; /* m: the representative has at least one token */
	nd_shingle_sets *sets; /* m sets, one per slot */
	size_t need[NEED_TABLE];

	nd_mh_perms perms;
	nd_minhash_fn minhash;
	uint64_t *row;         /* m rows, see ROW_*; bucketing reads a band's keys with
	                        * a stride, which costs less than the misses a separate
	                        * band-major array gave step 4 */
	size_t stride;
	uint64_t *fps;         /* m SimHash fingerprints */

	nd_lsh_runs *runs;     /* per band */
	size_t *run_base;      /* bands + 1: global index of each band's first run */
	uint32_t *rank;        /* m * bands, record-major: a slot's position in its big
	                        * bucket, ND_NONE elsewhere; NULL when no band has one */
	nd_kv **band_buf;      /* per worker */

	nd_inter_fn inter;     /* the exact check's merge (AVX2 when the CPU has it) */
	const uint64_t *cand;  /* SimHash */
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

static inline uint64_t *row_of(const lex_ctx *c, size_t s) { return c->row + s * c->stride; }
/* the first word of row @row that band j's check does not read */
static inline const uint64_t *row_end(const uint64_t *row, size_t j) { return row + ROW_HEAD + j; }

static int kvvec_push(kvvec *v, uint64_t key, float sim)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 1024;
		nd_kv *p = nd_reallocarray(v->v, cap, sizeof *p);
		if (!p)
			return nd_seterr(ND_ENOMEM, "out of memory for %zu verified pairs", cap);
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n].key = key;
	memcpy(&v->v[v->n].idx, &sim, sizeof sim); /* float and uint32_t are both 32 bits */
	v->v[v->n].pad_ = 0;
	v->n++;
	return 0;
}

/* ---- 1. identity ------------------------------------------------------------- */

static int hash_texts(void *ctx, size_t begin, size_t end, unsigned wk)
{
	(void)wk; /* any worker does the same */
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

/* nd_set_fn: called for each representative's set as soon as it is built, while
 * its keys and shingles are still in cache. */
static int sign_set(void *ctx, size_t s, const nd_shingler *sh, const uint32_t *keys, size_t nkeys, unsigned wk)
{
	lex_ctx *c = ctx;
	worker *w = &c->w[wk];
	uint64_t *row = row_of(c, s);

	c->active[s] = nkeys > 0;
	row[ROW_BIG] = 0;
	row[ROW_SIZE] = nkeys;
	row[ROW_KEYS] = 0; /* the block moves when it is done: see locate_keys */
	nd_sketch_of(keys, nkeys, row + ROW_SKETCH);
	if (!nkeys)
		return 0;
	if (c->o.method == ND_LEX_SIMHASH) {
		/* SimHash weighs every occurrence of the 64-bit shingles, not the set */
		c->fps[s] = nd_simhash(sh->sh, sh->nsh);
		return 0;
	}
	c->minhash(&c->perms, keys, nkeys, w->sig);
	nd_band_keys(w->sig, c->bands, c->rows, row + ROW_HEAD);
	return 0;
}

/* Each row learns where its set's keys ended up: a block's keys move into their
 * exact-size array when the block is done, after sign_set has seen them. */
static int locate_keys(void *ctx, size_t begin, size_t end, unsigned wk)
{
	(void)wk; /* any worker does the same */
	lex_ctx *c = ctx;
	for (size_t s = begin; s < end; s++) {
		size_t n;
		row_of(c, s)[ROW_KEYS] = (uintptr_t)nd_sets_keys(c->sets, s, &n);
	}
	return 0;
}

/* ---- the exact check -------------------------------------------------------------- */

/* The merge behind similar()'s filters, out of line: only the ~3% of candidates
 * the filters leave get here. */
static int merge_check(const lex_ctx *c, const uint64_t *ta, const uint64_t *tb, size_t need, float *sim)
{
	size_t na = ta[ROW_SIZE], nb = tb[ROW_SIZE], inter;
	inter = c->inter((const uint32_t *)(uintptr_t)ta[ROW_KEYS], na, (const uint32_t *)(uintptr_t)tb[ROW_KEYS],
			 nb, need);
	if (inter < need)
		return 0;
	*sim = (float)((double)inter / (double)(na + nb - inter));
	return 1;
}

/* The filters of the exact test on two slots' row heads (ROW_*): 0 when they
 * prove the pair below the threshold, else 1 with the intersection the pair must
 * reach in *need. nd_jaccard_min_inter turns "(double)|A n B| / |A u B| >= t" into
 * "|A n B| >= need", and each filter is an upper bound on |A n B|. */
static ND_ALWAYS_INLINE int may_pass(const lex_ctx *c, const uint64_t *ta, const uint64_t *tb, size_t *need,
					    int hw)
{
	size_t na = ta[ROW_SIZE], nb = tb[ROW_SIZE], sum = na + nb, nd;

	nd = sum < NEED_TABLE ? c->need[sum] : nd_jaccard_min_inter(sum, c->o.threshold);
	/* size filter: |A n B| <= min(|A|, |B|) (need SIZE_MAX: nothing passes) */
	if (nd > na || nd > nb)
		return 0;
	/* sketch filter: at 1M templated texts it leaves ~3% of the candidates */
	if (hw ? na - nd_sketch_missing_popcnt(ta + ROW_SKETCH, tb + ROW_SKETCH) < nd ||
			 nb - nd_sketch_missing_popcnt(tb + ROW_SKETCH, ta + ROW_SKETCH) < nd
	       : na - nd_sketch_missing(ta + ROW_SKETCH, tb + ROW_SKETCH) < nd ||
			 nb - nd_sketch_missing(tb + ROW_SKETCH, ta + ROW_SKETCH) < nd)
		return 0;
	*need = nd;
	return 1;
}

/* The exact test: 1 when the pair reaches the threshold, with its Jaccard in *sim.
 * The same decision as computing (double)|A n B| / |A u B| >= t for every pair. */
static ND_ALWAYS_INLINE int similar(const lex_ctx *c, const uint64_t *ta, const uint64_t *tb, float *sim,
					   int hw)
{
	size_t need;
	return may_pass(c, ta, tb, &need, hw) && merge_check(c, ta, tb, need, sim);
}

/* The merge of pair @p, its Jaccard to the worker's list when it passes. */
static int finish_pending(const lex_ctx *c, worker *w, const pending *p)
{
	size_t inter = c->inter(p->ka, p->na, p->kb, p->nb, p->need);
	if (inter < p->need)
		return 0;
	return kvvec_push(&w->found, p->pair, (float)((double)inter / (double)(p->na + p->nb - inter)));
}

static inline void prefetch_keys(const uint32_t *k, size_t n)
{
	/* the first 512 bytes: the merge of a typical question (tens of keys) reads
	 * no more, and a long text's rest streams in behind */
	for (size_t off = 0; off < n * sizeof *k && off < 512; off += 64)
		__builtin_prefetch((const char *)k + off);
}

/* Queues the merge of a pair that passed the filters (rows @ta, @tb) and
 * fetches its keys; when the ring is full, the oldest merge runs first, its keys
 * in cache by now. Which worker merges which pair is scheduling, as before. */
static inline int defer_merge(const lex_ctx *c, worker *w, const uint64_t *ta, const uint64_t *tb, size_t need,
			      uint64_t pair)
{
	int rc;
	if (w->nq == PENDING) {
		if ((rc = finish_pending(c, w, &w->q[w->head])))
			return rc;
		w->head = (w->head + 1) % PENDING;
		w->nq--;
	}
	pending *p = &w->q[(w->head + w->nq) % PENDING];
	p->ka = (const uint32_t *)(uintptr_t)ta[ROW_KEYS];
	p->kb = (const uint32_t *)(uintptr_t)tb[ROW_KEYS];
	p->na = (uint32_t)ta[ROW_SIZE];
	p->nb = (uint32_t)tb[ROW_SIZE];
	p->need = need;
	p->pair = pair;
	prefetch_keys(p->ka, p->na);
	prefetch_keys(p->kb, p->nb);
	w->nq++;
	return 0;
}

/* The merges still queued, at the end of a work item. */
static int drain_pending(const lex_ctx *c, worker *w)
{
	int rc = 0;
	for (; w->nq && !rc; w->nq--) {
		rc = finish_pending(c, w, &w->q[w->head]);
		w->head = (w->head + 1) % PENDING;
	}
	w->nq = 0;
	return rc;
}

/* ---- 3. candidates: the buckets of every band ------------------------------------ */

static int bucket_bands(void *ctx, size_t begin, size_t end, unsigned wk)
{
	lex_ctx *c = ctx;
	int rc;
	for (size_t j = begin; j < end; j++) {
		if ((rc = check_interrupt()))
			return rc;
		if ((rc = nd_lsh_band_buckets(c->row + ROW_HEAD + j, c->stride, c->active, c->m, c->band_buf[wk],
					      &c->runs[j])))
			return rc;
	}
	return 0;
}

/* A big bucket emits the chain of its members: the dedup of step 4 needs to know
 * which bands put a slot in one, and where in the chain. Big buckets are rare (a
 * few hundred at 1M texts), so the rank array exists only when there is one. */
static int rank_big_buckets(lex_ctx *c, size_t *big)
{
	for (size_t j = 0; j < c->bands; j++) {
		const nd_lsh_runs *r = &c->runs[j];
		for (size_t k = 0; k < r->nrun; k++) {
			size_t lo = r->start[k], hi = r->start[k + 1];
			if (hi - lo <= c->o.max_bucket)
				continue;
			(*big)++;
			if (!c->rank) {
				if (!(c->rank = nd_malloc(c->m * c->bands * sizeof *c->rank)))
					return nd_seterr(ND_ENOMEM, "out of memory for LSH chains");
				memset(c->rank, 0xFF, c->m * c->bands * sizeof *c->rank); /* ND_NONE */
			}
			for (size_t x = lo; x < hi; x++) {
				uint32_t s = r->item[x];
				c->rank[(size_t)s * c->bands + j] = (uint32_t)(x - lo);
				if (j < 64)
					row_of(c, s)[ROW_BIG] |= (uint64_t)1 << j;
			}
		}
	}
	return 0;
}

/* ---- 4. verification -------------------------------------------------------------- */

/* 1 when band j's pair (a, b), a < b, was already emitted by an earlier band
 * (their band keys ka[0 .. j), kb[0 .. j), a's big-bucket bits @big): they
 * share that band's key, and it was a small bucket or they are neighbours in its
 * chain. Each distinct candidate is thus checked exactly once, in the first band
 * that emits it, whichever worker gets which bucket. */
static inline int emitted_before(const lex_ctx *c, size_t j, const uint64_t *ka, const uint64_t *kb,
				 uint64_t big, const uint32_t *rka, const uint32_t *rkb)
{
	for (size_t e = 0; e < j; e++) {
		if (ka[e] != kb[e])
			continue;
		/* the same bucket for both, so a's bit says it for b too; bands past
		 * 64 have no bit and ask the ranks (which exist if any bucket is big):
		 * rka[e], rkb[e] are a's and b's ranks in band e (see rank_big_buckets) */
		if (!c->rank || (e < 64 && !((big >> e) & 1)))
			return 1;
		if (rka[e] == ND_NONE || rkb[e] == rka[e] + 1)
			return 1;
	}
	return 0;
}

/* 1 when emitted_before may read slot @s's ranks before band j: it is in a big
 * bucket of an earlier band, or bands past 64 have no bit to tell. */
static inline int needs_ranks(const lex_ctx *c, size_t j, uint64_t big)
{
	return c->rank && (j >= 64 || (big & (((uint64_t)1 << j) - 1)));
}

/* A chain link (a, b) of band j's big bucket, read straight from the table:
 * chains are few, unlike bucket pairs. */
static ND_ALWAYS_INLINE int check_link(lex_ctx *c, worker *w, size_t j, uint32_t a, uint32_t b, int hw)
{
	const uint64_t *ra = row_of(c, a), *rb = row_of(c, b);
	size_t need;
	const uint32_t *rka = c->rank ? c->rank + (size_t)a * c->bands : NULL;
	const uint32_t *rkb = c->rank ? c->rank + (size_t)b * c->bands : NULL;
	if (emitted_before(c, j, ra + ROW_HEAD, rb + ROW_HEAD, ra[ROW_BIG], rka, rkb))
		return 0;
	w->candidates++;
	if (!may_pass(c, ra, rb, &need, hw))
		return 0;
	return defer_merge(c, w, ra, rb, need, nd_pair_key(a, b));
}

/* How far ahead the gather prefetches: enough rows in flight to cover a miss to
 * memory (~100 ns) at a few ns per row copied. */
#define PREFETCH_AHEAD 8

#if ND_HAVE_AVX2_CLONE
/* The all-pairs loop of check_bucket with AVX-512, eight partners y of a member
 * x at a time: the earlier bands' keys, the size filter (c->need gathered) and
 * the sketch bound (VPOPCNTQ) for all eight, from columns copied out of the
 * gathered rows. The lanes that share an earlier band's key (was the pair
 * emitted before?), a size sum past the need table, and the pairs that pass go
 * the scalar way, so every decision and count is check_bucket's. */
ND_TARGET_AVX512POP static int pairs_avx512(lex_ctx *c, worker *w, size_t j, const uint32_t *it, size_t k,
					    size_t *cand_out)
{
	gathered *g = &w->g;
	size_t lw = ROW_HEAD + j, cand = 0, words = k * (j + 1 + ND_SKETCH_WORDS);
	int rc = 0;

	if (words > g->soa_cap) {
		free(g->soa);
		g->soa_cap = 0;
		if (!(g->soa = nd_malloc(words * sizeof *g->soa)))
			return nd_seterr(ND_ENOMEM, "out of memory for a bucket of %zu texts", k);
		g->soa_cap = words;
	}
	uint64_t *keys = g->soa, *size = keys + j * k, *sk = size + k; /* keys[e * k + x], sk[v * k + x] */
	for (size_t x = 0; x < k; x++) {
		const uint64_t *gx = g->row + x * lw;
		for (size_t e = 0; e < j; e++)
			keys[e * k + x] = gx[ROW_HEAD + e];
		size[x] = gx[ROW_SIZE];
		for (size_t v = 0; v < ND_SKETCH_WORDS; v++)
			sk[v * k + x] = gx[ROW_SKETCH + v];
	}
	const __m512i table = _mm512_set1_epi64(NEED_TABLE);
	for (size_t x = 0; x + 1 < k; x++) {
		const uint64_t *gx = g->row + x * lw;
		const uint32_t *rx = c->rank && j ? g->rank + x * j : NULL;
		if ((x & 1023) == 1023 && (rc = check_interrupt()))
			return rc;
		const __m512i na = _mm512_set1_epi64((long long)gx[ROW_SIZE]);
		__m512i ska[ND_SKETCH_WORDS];
		for (size_t v = 0; v < ND_SKETCH_WORDS; v++)
			ska[v] = _mm512_set1_epi64((long long)gx[ROW_SKETCH + v]);
		for (size_t y = x + 1; y < k; y += 8) {
			__mmask8 m = k - y >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (k - y)) - 1), same = 0;
			for (size_t e = 0; e < j; e++)
				same |= _mm512_mask_cmpeq_epi64_mask(m, _mm512_set1_epi64((long long)gx[ROW_HEAD + e]),
								     _mm512_maskz_loadu_epi64(m, keys + e * k + y));
			__mmask8 fresh = m & (__mmask8)~same;
			cand += (size_t)__builtin_popcount(fresh);
			__m512i nb = _mm512_maskz_loadu_epi64(m, size + y), sum = _mm512_add_epi64(na, nb);
			__mmask8 tab = _mm512_mask_cmplt_epu64_mask(fresh, sum, table), wide = fresh & (__mmask8)~tab;
			__m512i nd = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), tab, sum, (const void *)c->need, 8);
			/* the size filter, then the sketch bound: |A n B| <= |A| - missing(A, B) */
			__mmask8 ok = _mm512_mask_cmple_epu64_mask(tab, nd, na) & _mm512_mask_cmple_epu64_mask(tab, nd, nb);
			if (ok) {
				__m512i mab = _mm512_setzero_si512(), mba = _mm512_setzero_si512();
				for (size_t v = 0; v < ND_SKETCH_WORDS; v++) {
					__m512i skb = _mm512_maskz_loadu_epi64(ok, sk + v * k + y);
					mab = _mm512_add_epi64(mab, _mm512_popcnt_epi64(_mm512_andnot_si512(skb, ska[v])));
					mba = _mm512_add_epi64(mba, _mm512_popcnt_epi64(_mm512_andnot_si512(ska[v], skb)));
				}
				ok = _mm512_mask_cmple_epu64_mask(ok, _mm512_add_epi64(mab, nd), na) &
				     _mm512_mask_cmple_epu64_mask(ok, _mm512_add_epi64(mba, nd), nb);
			}
			if (ok) {
				uint64_t ndv[8];
				_mm512_storeu_si512(ndv, nd);
				for (unsigned b = ok; b; b &= b - 1) {
					size_t yy = y + (size_t)__builtin_ctz(b);
					if ((rc = defer_merge(c, w, gx, g->row + yy * lw, ndv[__builtin_ctz(b)],
							      nd_pair_key(it[x], it[yy]))))
						return rc;
				}
			}
			/* the scalar way: sums past the table, and pairs with a shared key */
			for (unsigned b = wide | same; b; b &= b - 1) {
				size_t yy = y + (size_t)__builtin_ctz(b), need;
				const uint64_t *gy = g->row + yy * lw;
				if ((same >> __builtin_ctz(b)) & 1) {
					if (emitted_before(c, j, gx + ROW_HEAD, gy + ROW_HEAD, gx[ROW_BIG], rx,
							   c->rank && j ? g->rank + yy * j : NULL))
						continue;
					cand++;
				}
				if (may_pass(c, gx, gy, &need, 1) &&
				    (rc = defer_merge(c, w, gx, gy, need, nd_pair_key(it[x], it[yy]))))
					return rc;
			}
		}
	}
	*cand_out += cand;
	return 0;
}
#endif

/* All pairs of a small bucket of band j: it[0 .. k), ascending slots. @hw 3:
 * with AVX-512 (pairs_avx512) from four members up. */
static ND_ALWAYS_INLINE int check_bucket(lex_ctx *c, worker *w, size_t j, const uint32_t *it, size_t k,
						int hw)
{
	gathered *g = &w->g;
	size_t lw = ROW_HEAD + j; /* words per gathered row */
	size_t cand = 0;          /* distinct candidates, counted here, not in *w */
	int rc;

	if (k * lw > g->cap) {
		free(g->row);
		g->cap = 0;
		if (!(g->row = nd_malloc(k * lw * sizeof *g->row)))
			return nd_seterr(ND_ENOMEM, "out of memory for a bucket of %zu texts", k);
		g->cap = k * lw;
	}
	if (c->rank && k * j > g->rank_cap) {
		free(g->rank);
		g->rank_cap = 0;
		if (!(g->rank = nd_malloc(k * j * sizeof *g->rank)))
			return nd_seterr(ND_ENOMEM, "out of memory for a bucket of %zu texts", k);
		g->rank_cap = k * j;
	}
	for (size_t x = 0; x < k; x++) {
		const uint64_t *row = row_of(c, it[x]);
		uint64_t *dst = g->row + x * lw;
		if (x + PREFETCH_AHEAD < k) {
			const uint64_t *next = row_of(c, it[x + PREFETCH_AHEAD]);
			__builtin_prefetch(next);
			__builtin_prefetch(row_end(next, j) - 1);
		}
		/* a loop, not memcpy: a libc call per row cost more than the copy */
		for (size_t e = 0; e < lw; e++)
			dst[e] = row[e];
		/* its ranks too, when the pairs below may ask them: once a member,
		 * not a miss into the rank table for every pair */
		if (needs_ranks(c, j, dst[ROW_BIG])) {
			const uint32_t *from = c->rank + (size_t)it[x] * c->bands;
			for (size_t e = 0; e < j; e++) /* a few words: no libc call */
				g->rank[x * j + e] = from[e];
		}
	}
#if ND_HAVE_AVX2_CLONE
	if (hw == 3 && k >= 4) {
		rc = pairs_avx512(c, w, j, it, k, &cand);
		w->candidates += cand;
		return rc;
	}
#endif
	for (size_t x = 0; x + 1 < k; x++) {
		const uint64_t *gx = g->row + x * lw;
		const uint32_t *rx = c->rank && j ? g->rank + x * j : NULL;
		if ((x & 1023) == 1023 && (rc = check_interrupt()))
			return rc;
		for (size_t y = x + 1; y < k; y++) {
			const uint64_t *gy = g->row + y * lw;
			size_t need;
			/* any earlier band with the same key? then the exact test */
			if (nd_any_same_key(gx + ROW_HEAD, gy + ROW_HEAD, j, hw) &&
			    emitted_before(c, j, gx + ROW_HEAD, gy + ROW_HEAD, gx[ROW_BIG], rx,
					   c->rank && j ? g->rank + y * j : NULL))
				continue;
			cand++;
			if (!may_pass(c, gx, gy, &need, hw))
				continue;
			if ((rc = defer_merge(c, w, gx, gy, need, nd_pair_key(it[x], it[y]))))
				return rc;
		}
	}
	w->candidates += cand;
	return 0;
}

static ND_ALWAYS_INLINE int verify_runs_with(void *ctx, size_t begin, size_t end, unsigned wk, int hw)
{
	lex_ctx *c = ctx;
	worker *w = &c->w[wk];
	size_t j = 0;
	int rc;
	if ((rc = check_interrupt()))
		return rc;
	for (size_t r = begin; r < end; r++) {
		while (c->run_base[j + 1] <= r)
			j++;
		const nd_lsh_runs *R = &c->runs[j];
		size_t lo = R->start[r - c->run_base[j]], k = R->start[r - c->run_base[j] + 1] - lo;
		const uint32_t *it = R->item + lo;
		/* most buckets are a handful of texts, too few to prefetch within: ask
		 * for the next bucket's rows while this one is checked */
		if (r + 1 < c->run_base[j + 1]) {
			size_t nlo = R->start[r - c->run_base[j] + 1], nk = R->start[r - c->run_base[j] + 2] - nlo;
			for (size_t x = 0; x < nk && x < PREFETCH_AHEAD; x++) {
				const uint64_t *next = row_of(c, R->item[nlo + x]);
				__builtin_prefetch(next);
				__builtin_prefetch(row_end(next, j) - 1);
			}
		}
		if (k <= c->o.max_bucket) {
			if ((rc = check_bucket(c, w, j, it, k, hw)))
				return rc;
		} else {
			/* a chain keeps every member connected to the rest of its bucket at
			 * k-1 pairs instead of k(k-1)/2; see nd_lex_pairs in lexical.h */
			for (size_t x = 0; x + 1 < k; x++)
				if ((rc = check_link(c, w, j, it[x], it[x + 1], hw)))
					return rc;
		}
	}
	return drain_pending(c, w);
}

/* Step 4 three times: with the sketch bound counted by POPCNT (chosen at run
 * time, when the CPU has it; ~18% off step 4 at 1M texts), with POPCNT and the
 * earlier bands' keys compared four at a time by AVX2, and without either (the
 * default x86-64 target has neither). Same decisions every way. */
ND_TARGET_POPCNT static int verify_runs_popcnt(void *ctx, size_t begin, size_t end, unsigned wk)
{
	return verify_runs_with(ctx, begin, end, wk, 1);
}

#if ND_HAVE_AVX2_CLONE
ND_TARGET_AVX2_POPCNT static int verify_runs_avx2(void *ctx, size_t begin, size_t end, unsigned wk)
{
	return verify_runs_with(ctx, begin, end, wk, 2);
}

ND_TARGET_AVX512POP static int verify_runs_avx512(void *ctx, size_t begin, size_t end, unsigned wk)
{
	return verify_runs_with(ctx, begin, end, wk, 3);
}
#endif

static int verify_runs(void *ctx, size_t begin, size_t end, unsigned wk)
{
	return verify_runs_with(ctx, begin, end, wk, 0);
}

int nd_lex_isa_cap = 3;

static nd_range_fn verify_runs_best(void)
{
#if ND_HAVE_AVX2_CLONE
	if (nd_lex_isa_cap >= 3 && nd_cpu_has_avx512pop())
		return verify_runs_avx512;
	if (nd_lex_isa_cap >= 2 && nd_cpu_has_avx2() && nd_cpu_has_popcnt())
		return verify_runs_avx2;
#endif
	return nd_lex_isa_cap >= 1 && nd_cpu_has_popcnt() ? verify_runs_popcnt : verify_runs;
}

/* Steps 3 and 4 for MinHash: the verified pairs, unsorted, in the workers' lists. */
static int minhash_pairs(lex_ctx *c, nd_lex_stats *st)
{
	unsigned nw = c->nworkers < c->bands ? c->nworkers : c->bands, j;
	double t0 = nd_now();
	int rc = 0;

	c->runs = nd_calloc(c->bands, sizeof *c->runs);
	c->run_base = nd_calloc(c->bands + 1, sizeof *c->run_base);
	c->band_buf = nd_calloc(nw, sizeof *c->band_buf);
	if (!c->runs || !c->run_base || !c->band_buf) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for LSH bands");
		goto cleanup;
	}
	for (j = 0; j < nw; j++)
		if (!(c->band_buf[j] = nd_malloc(c->m * sizeof **c->band_buf))) {
			rc = nd_seterr(ND_ENOMEM, "out of memory bucketing %zu texts", c->m);
			goto cleanup;
		}
	if ((rc = nd_parallel_for(c->bands, 1, nw, bucket_bands, c)))
		goto cleanup;
	for (j = 0; j < nw; j++) {
		free(c->band_buf[j]);
		c->band_buf[j] = NULL;
	}
	for (j = 0; j < c->bands; j++)
		c->run_base[j + 1] = c->run_base[j] + c->runs[j].nrun;
	if ((rc = rank_big_buckets(c, &st->big_buckets)))
		goto cleanup;
	st->t_candidates = nd_now() - t0;

	t0 = nd_now();
	if ((rc = nd_parallel_for(c->run_base[c->bands], GRAIN_RUNS, c->nworkers,
				  verify_runs_best(), c)))
		goto cleanup;
	for (j = 0; j < c->nworkers; j++)
		st->candidates += c->w[j].candidates;
	st->t_verify = nd_now() - t0;
cleanup:
	if (c->runs)
		for (j = 0; j < c->bands; j++)
			nd_lsh_runs_free(&c->runs[j]);
	if (c->band_buf)
		for (j = 0; j < nw; j++)
			free(c->band_buf[j]);
	free(c->runs);
	free(c->run_base);
	free(c->rank);
	free(c->band_buf);
	c->runs = NULL;
	c->run_base = NULL;
	c->rank = NULL;
	c->band_buf = NULL;
	return rc;
}

static ND_ALWAYS_INLINE int verify_cands_with(void *ctx, size_t begin, size_t end, int hw)
{
	lex_ctx *c = ctx;
	const uint32_t *slot = c->sets->slot;
	int rc;
	if ((rc = check_interrupt()))
		return rc;
	for (size_t k = begin; k < end; k++) {
		uint32_t a = slot[c->cand[k] >> 32], b = slot[(uint32_t)c->cand[k]];
		float sim;
		c->sim[k] = similar(c, row_of(c, a), row_of(c, b), &sim, hw) ? sim : -1.0f; /* bands == 0 */
	}
	return 0;
}

ND_TARGET_POPCNT static int verify_cands_popcnt(void *ctx, size_t begin, size_t end, unsigned wk)
{
	(void)wk; /* any worker does the same */
	return verify_cands_with(ctx, begin, end, 1);
}

static int verify_cands(void *ctx, size_t begin, size_t end, unsigned wk)
{
	(void)wk;
	return verify_cands_with(ctx, begin, end, 0);
}

/* Steps 3 and 4 for SimHash: the verified pairs in the first worker's list. */
static int simhash_pairs(lex_ctx *c, nd_lex_stats *st)
{
	nd_u64vec cand = {0};
	uint64_t *tmp = NULL;
	double t0 = nd_now();
	int rc;

	if ((rc = nd_simhash_pairs(c->fps, c->reps, c->active, c->m, c->o.simhash_bits, 0, c->o.max_bucket,
				   c->nworkers, &cand, &st->big_buckets)))
		goto cleanup;
	free(c->fps);
	c->fps = NULL;
	if (!(tmp = nd_malloc(cand.n * sizeof *tmp))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory sorting %zu candidate pairs", cand.n);
		goto cleanup;
	}
	cand.n = nd_sort_unique_u64(cand.v, tmp, cand.n);
	free(tmp);
	tmp = NULL;
	st->candidates = cand.n;
	st->t_candidates = nd_now() - t0;

	t0 = nd_now();
	if (!(c->sim = nd_malloc(cand.n * sizeof *c->sim))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu candidate pairs", cand.n);
		goto cleanup;
	}
	c->cand = cand.v;
	if ((rc = nd_parallel_for(cand.n, GRAIN_PAIRS, c->nworkers,
				  nd_cpu_has_popcnt() ? verify_cands_popcnt : verify_cands, c)))
		goto cleanup;
	/* as slot pairs, like MinHash's (slots are in record order, so the order of
	 * the pairs does not change) */
	for (size_t k = 0; k < cand.n && !rc; k++)
		if (c->sim[k] >= 0.0f)
			rc = kvvec_push(&c->w[0].found,
					nd_pair_key(c->sets->slot[cand.v[k] >> 32], c->sets->slot[(uint32_t)cand.v[k]]),
					c->sim[k]);
	st->t_verify = nd_now() - t0;
cleanup:
	c->cand = NULL;
	free(c->sim);
	c->sim = NULL;
	free(tmp);
	nd_u64vec_free(&cand);
	return rc;
}

/* ---- 5. the verified pairs in order ------------------------------------------------ */

typedef struct {
	lex_ctx *c;
	nd_kv *tmp;            /* scratch for the workers' lists, worker t's at part[t] */
	const size_t *part;
	nd_u64vec *stars;
	uint64_t *stars_tmp;   /* the stars' sort scratch (the caller frees it) */
	size_t n;              /* texts */
	size_t empty;          /* texts that took part in nothing */
} tail_ctx;

/* Task 0 (the longest, so it starts first): the stars, identical texts linked to
 * their first occurrence, sorted; texts without tokens take part in nothing.
 * Task 1 + w: worker w's verified pairs sorted and their slot keys mapped to
 * records (slots are numbered in record order, so the order holds). */
static int tail_sort(void *ctx, size_t begin, size_t end, unsigned wk)
{
	(void)wk; /* any worker does the same */
	tail_ctx *t = ctx;
	lex_ctx *c = t->c;
	int rc;
	for (size_t task = begin; task < end; task++) {
		if (task > 0) {
			kvvec *f = &c->w[task - 1].found;
			nd_radix_sort_kv(f->v, t->tmp + t->part[task - 1], f->n);
			for (size_t i = 0; i < f->n; i++)
				f->v[i].key = nd_pair_key(c->reps[f->v[i].key >> 32], c->reps[(uint32_t)f->v[i].key]);
			continue;
		}
		for (size_t i = 0; i < t->n; i++) {
			uint32_t g = c->sets->slot[i];
			if (g == ND_NONE || !c->active[g]) {
				t->empty++;
				continue;
			}
			if (c->reps[g] != i && (rc = nd_u64vec_push(t->stars, nd_pair_key(c->reps[g], (uint32_t)i))))
				return rc;
		}
		if (!(t->stars_tmp = nd_malloc(t->stars->n * sizeof *t->stars_tmp)))
			return nd_seterr(ND_ENOMEM, "out of memory for %zu pairs", t->stars->n);
		nd_radix_sort_u64(t->stars->v, t->stars_tmp, t->stars->n);
	}
	return 0;
}

/* The sorted lists the output merges: list s < nworkers is worker s's verified
 * pairs, list nworkers the stars. */
static inline size_t list_len(const lex_ctx *c, const nd_u64vec *stars, size_t s)
{
	return s < c->nworkers ? c->w[s].found.n : stars->n;
}

static inline uint64_t list_key(const lex_ctx *c, const nd_u64vec *stars, size_t s, size_t i)
{
	return s < c->nworkers ? c->w[s].found.v[i].key : stars->v[i];
}

/* First position of list @s whose key is >= @k. */
static size_t list_lower_bound(const lex_ctx *c, const nd_u64vec *stars, size_t s, uint64_t k)
{
	size_t lo = 0, hi = list_len(c, stars, s);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (list_key(c, stars, s, mid) < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

typedef struct {
	const lex_ctx *c;
	const nd_u64vec *stars;
	nd_pair *out;
	size_t nlists;
	const size_t *cut; /* range q of list s: [cut[q * nlists + s], cut[(q + 1) * nlists + s]) */
	const size_t *at;  /* where range q starts in out */
} merge_ctx;

/* Ranges [begin, end): each a merge of its part of every list (a handful of
 * lists: the smallest head is found by looking at each). */
static int merge_ranges(void *ctx, size_t begin, size_t end, unsigned wk)
{
	(void)wk; /* any worker does the same */
	merge_ctx *m = ctx;
	size_t pos[MAX_WORKERS + 1];
	for (size_t q = begin; q < end; q++) {
		nd_pair *o = m->out + m->at[q];
		for (size_t s = 0; s < m->nlists; s++)
			pos[s] = m->cut[q * m->nlists + s];
		for (;;) {
			size_t best = SIZE_MAX;
			uint64_t bk = 0;
			for (size_t s = 0; s < m->nlists; s++) {
				if (pos[s] >= m->cut[(q + 1) * m->nlists + s])
					continue;
				uint64_t k = list_key(m->c, m->stars, s, pos[s]);
				if (best == SIZE_MAX || k < bk) {
					best = s;
					bk = k;
				}
			}
			if (best == SIZE_MAX)
				break;
			o->a = (uint32_t)(bk >> 32);
			o->b = (uint32_t)bk;
			if (best < m->c->nworkers)
				memcpy(&o->sim, &m->c->w[best].found.v[pos[best]].idx, sizeof o->sim);
			else
				o->sim = 1.0f;
			o++;
			pos[best]++;
		}
	}
	return 0;
}

/* All lists merged into @out (@nout pairs), in key ranges cut at quantiles of
 * the longest list, one range a worker. */
static int merge_tail(lex_ctx *c, const nd_u64vec *stars, nd_pair *out, size_t nout)
{
	size_t nlists = c->nworkers + 1, nr = c->nworkers, longest = 0;
	size_t *cut = nd_malloc((nr + 1) * nlists * sizeof *cut), *at = nd_malloc((nr + 1) * sizeof *at);
	int rc = 0;
	if (!cut || !at) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t s = 1; s < nlists; s++)
		if (list_len(c, stars, s) > list_len(c, stars, longest))
			longest = s;
	for (size_t q = 0; q <= nr; q++) {
		size_t total = 0;
		for (size_t s = 0; s < nlists; s++) {
			size_t b;
			if (q == 0)
				b = 0;
			else if (q == nr)
				b = list_len(c, stars, s);
			else {
				size_t ln = list_len(c, stars, longest), i = ln * q / nr;
				b = i < ln ? list_lower_bound(c, stars, s, list_key(c, stars, longest, i))
					   : list_len(c, stars, s);
			}
			cut[q * nlists + s] = b;
			total += b;
		}
		at[q] = total;
	}
	if (at[nr] != nout) {
		rc = nd_seterr(ND_EINTERNAL, "merging %zu verified pairs: %zu placed", nout, at[nr]);
		goto done;
	}
	merge_ctx m = {c, stars, out, nlists, cut, at};
	rc = nd_parallel_for(nr, 1, c->nworkers, merge_ranges, &m);
done:
	free(cut);
	free(at);
	return rc;
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

int nd_lex_pairs_ex(const char *const *texts, const size_t *lens, size_t n, const nd_lex_opts *opts,
		    nd_pair **pairs, size_t *npairs, nd_lex_stats *stats, nd_shingle_sets **sets)
{
	lex_ctx c;
	nd_lex_stats st;
	nd_u64vec stars = {0};
	nd_kv *kvtmp = NULL;
	size_t *part = NULL;
	uint64_t *tmp = NULL;
	nd_pair *out = NULL;
	size_t i, nver = 0, nout = 0;
	double t0;
	int rc;

	memset(&c, 0, sizeof c);
	memset(&st, 0, sizeof st);
	if (sets)
		*sets = NULL;
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
	if (c.nworkers > MAX_WORKERS)
		c.nworkers = MAX_WORKERS;
	if (c.o.method == ND_LEX_MINHASH) {
		st.bands = c.bands;
		st.rows = c.rows;
		st.p_at_threshold = nd_lsh_prob(c.o.threshold, c.bands, c.rows);
	}
	for (i = 0; i < NEED_TABLE; i++)
		c.need[i] = nd_jaccard_min_inter(i, c.o.threshold);
	c.inter = nd_inter_best();

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
		for (i = 0; i < c.nworkers; i++)
			if (!(c.w[i].sig = nd_malloc(c.perms.k * sizeof *c.w[i].sig))) {
				rc = nd_seterr(ND_ENOMEM, "out of memory for signatures");
				goto cleanup;
			}
	} else if (!(c.fps = nd_malloc(c.m * sizeof *c.fps))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu fingerprints", c.m);
		goto cleanup;
	}
	c.stride = (c.bands + ROW_HEAD + 7) / 8 * 8;
	if (c.m > SIZE_MAX / sizeof(uint64_t) / c.stride ||
	    !(c.row = aligned_alloc(64, c.m ? c.m * c.stride * sizeof *c.row : 64))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %u band keys of %zu texts", c.bands, c.m);
		goto cleanup;
	}
	if ((rc = nd_sets_build(&c.sets, texts, lens, c.reps, c.m, c.o.ngram, c.nworkers, sign_set, &c)) ||
	    (rc = nd_parallel_for(c.m, GRAIN_TEXTS * 16, c.nworkers, locate_keys, &c)))
		goto cleanup;
	/* the store answers by record from now on: duplicates share their
	 * representative's set, empty texts have none */
	c.sets->slot = c.group;
	c.sets->n = n;
	c.group = NULL;
	st.t_signature = nd_now() - t0;

	/* 3 + 4 */
	if ((rc = c.o.method == ND_LEX_MINHASH ? minhash_pairs(&c, &st) : simhash_pairs(&c, &st)))
		goto cleanup;
	free(c.row);
	c.row = NULL;
	/* 5. the pairs in order: the workers' lists each sorted where it is (which
	 * worker verified which pair is scheduling; the sorted set is not) and the
	 * stars built, at once; then all of them merged into the output, a key
	 * range a worker. Each pair was checked once (emitted_before), stars join a
	 * member that is not a representative, so no key repeats. */
	if (!(part = nd_malloc((c.nworkers + 1) * sizeof *part))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < c.nworkers; i++) {
		part[i] = nver;
		nver += c.w[i].found.n;
	}
	part[c.nworkers] = nver;
	if (!(kvtmp = nd_malloc(nver * sizeof *kvtmp))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu verified pairs", nver);
		goto cleanup;
	}
	tail_ctx tc = {&c, kvtmp, part, &stars, NULL, n, 0};
	rc = nd_parallel_for(c.nworkers + 1, 1, c.nworkers, tail_sort, &tc);
	tmp = tc.stars_tmp;
	if (rc)
		goto cleanup;
	free(kvtmp);
	kvtmp = NULL;
	st.verified = nver;
	st.empty_texts = tc.empty;
	st.identical = stars.n;
	nout = stars.n + nver;
	if (!(out = nd_malloc(nout * sizeof *out))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu pairs", nout);
		goto cleanup;
	}
	if ((rc = merge_tail(&c, &stars, out, nout)))
		goto cleanup;
	*pairs = out;
	*npairs = nout;
	out = NULL;
	if (stats)
		*stats = st;
	if (sets) {
		*sets = c.sets;
		c.sets = NULL;
	}
cleanup:
	if (c.w)
		for (i = 0; i < c.nworkers; i++) {
			free(c.w[i].sig);
			free(c.w[i].found.v);
			free(c.w[i].g.row);
			free(c.w[i].g.rank);
			free(c.w[i].g.soa);
		}
	free(c.w);
	free(c.idkv);
	free(c.group);
	free(c.reps);
	free(c.active);
	nd_shingle_sets_free(c.sets);
	nd_mh_perms_free(&c.perms);
	free(c.row);
	free(c.fps);
	free(kvtmp);
	free(part);
	free(tmp);
	free(out);
	nd_u64vec_free(&stars);
	return rc;
}

int nd_lex_pairs(const char *const *texts, const size_t *lens, size_t n, const nd_lex_opts *opts,
		 nd_pair **pairs, size_t *npairs, nd_lex_stats *stats)
{
	return nd_lex_pairs_ex(texts, lens, n, opts, pairs, npairs, stats, NULL);
}
