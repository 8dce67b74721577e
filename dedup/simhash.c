/* SimHash fingerprints and their near pairs by permuted sorted tables
 * (Manku, Jain, Das Sarma, "Detecting near-duplicates for web crawling", WWW 2007).
 *
 * Split the 64 bits into B >= k+1 blocks. Two fingerprints at Hamming distance
 * <= k differ in at most k blocks, so they agree on at least B-k of them
 * (pigeonhole). For each of the C(B, k) ways to pick the k blocks allowed to
 * differ, one table sorts the items by the other B-k blocks (the "prefix"); every
 * pair within distance k shares the prefix of at least one table, and only items
 * in one run of equal prefix are ever compared: never all pairs.
 *
 * B trades tables for run length: more blocks mean more tables but longer
 * prefixes, so fewer chance meetings inside a run (choose_blocks()).
 * A pair is reported by the first table (in enumeration order) whose prefix it
 * shares, so each pair comes out once however many tables it matches.
 */
#include <math.h>    /* ldexp */
#include <pthread.h> /* pthread_once */
#include <stdlib.h>
#include <string.h>
#include "lexical_internal.h"

/* ---- fingerprints ------------------------------------------------------- */

/* byte_bits[x] holds bit k of x in byte k, so adding byte_bits of the 8 bytes of
 * a value adds its 64 bits to 64 packed 8-bit counters at once (8 lookups instead
 * of 64 shifts); the counters are flushed before any can pass 255. */
static uint64_t byte_bits[256];
static void init_byte_bits(void)
{
	for (unsigned x = 0; x < 256; x++) {
		uint64_t v = 0;
		for (unsigned k = 0; k < 8; k++)
			v |= (uint64_t)((x >> k) & 1) << (8 * k);
		byte_bits[x] = v;
	}
}

uint64_t nd_simhash(const uint64_t *v, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	uint64_t cnt[64] = {0}, fp = 0;
	size_t i = 0;

	pthread_once(&once, init_byte_bits);
	while (i < n) {
		/* acc[b] byte k counts bit 8b+k; 255 additions cannot overflow a byte */
		uint64_t acc[8] = {0};
		size_t end = n - i > 255 ? i + 255 : n;
		for (; i < end; i++) {
			uint64_t x = v[i];
			for (unsigned b = 0; b < 8; b++)
				acc[b] += byte_bits[(x >> (8 * b)) & 0xFF];
		}
		for (unsigned b = 0; b < 8; b++)
			for (unsigned k = 0; k < 8; k++)
				cnt[8 * b + k] += (acc[b] >> (8 * k)) & 0xFF;
	}
	/* bit set when more than half of the shingles have it (each weighs +1/-1) */
	for (unsigned j = 0; j < 64; j++)
		if (2 * cnt[j] > n)
			fp |= (uint64_t)1 << j;
	return fp;
}

/* ---- tables ----------------------------------------------------------------- */

#define ND_SIMHASH_MAX_TABLES 512

typedef struct {
	const uint64_t *fp;
	const uint32_t *ids;
	const unsigned char *active;
	size_t m, max_bucket;
	unsigned k, nblocks, ntables;
	unsigned bstart[64], blen[64];   /* block t covers bits [bstart, bstart + blen) */
	uint64_t bmask[64];              /* those bits, in place */
	uint64_t *prefix;                /* per table: bit set of the blocks it sorts on */
	nd_u64vec *out;                  /* per table */
	size_t *big;                     /* per table */
	nd_kv **buf, **tmp;              /* per worker */
} sh_ctx;

/* record index of item j (ids may be NULL: item j is record j) */
#define ID(c, j) ((c)->ids ? (c)->ids[j] : (uint32_t)(j))

static double binom(unsigned n, unsigned k)
{
	double c = 1.0;
	for (unsigned i = 0; i < k; i++)
		c = c * (n - i) / (i + 1);
	return c;
}

/* The cost model: every table sorts all m items (a few passes, ~8 comparisons'
 * worth each) and compares the pairs inside its runs, m^2/2 / 2^prefix_bits of
 * them for random fingerprints. */
static unsigned choose_blocks(size_t m, unsigned k)
{
	unsigned best_b = k + 1;
	double best = -1.0;
	for (unsigned b = k + 1; b <= 64 && b <= k + 8; b++) {
		double tables = binom(b, k), bits = 64.0 * (b - k) / b, cost;
		if (tables > ND_SIMHASH_MAX_TABLES)
			break;
		cost = tables * (8.0 * (double)m + (double)m * (double)m / 2.0 / ldexp(1.0, (int)bits));
		if (best < 0 || cost < best) {
			best = cost;
			best_b = b;
		}
	}
	return best_b;
}

static uint64_t table_key(const sh_ctx *c, uint64_t prefix, uint64_t fp)
{
	uint64_t key = 0;
	for (unsigned t = 0; t < c->nblocks; t++)
		if (prefix >> t & 1)
			key = (c->blen[t] >= 64 ? 0 : key << c->blen[t]) | ((fp & c->bmask[t]) >> c->bstart[t]);
	return key;
}

/* 1 when an earlier table than @tab sorts on blocks that all agree for this pair,
 * so that table reported it already. */
static int reported_before(const sh_ctx *c, unsigned tab, uint64_t x)
{
	uint64_t differ = 0;
	for (unsigned t = 0; t < c->nblocks; t++)
		if (x & c->bmask[t])
			differ |= (uint64_t)1 << t;
	for (unsigned u = 0; u < tab; u++)
		if ((c->prefix[u] & differ) == 0)
			return 1;
	return 0;
}

static int cmp_kv_key_idx(const void *x, const void *y)
{
	const nd_kv *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int table_pairs(void *ctx, size_t begin, size_t end, unsigned worker)
{
	sh_ctx *c = ctx;
	nd_kv *buf = c->buf[worker], *tmp = c->tmp[worker];
	int rc = 0;

	for (size_t tab = begin; tab < end; tab++) {
		nd_u64vec *out = &c->out[tab];
		size_t n = 0, r, e;
		if (nd_interrupted())
			return nd_seterr(ND_EINTR, "interrupted");
		for (size_t j = 0; j < c->m; j++) {
			if (c->active && !c->active[j])
				continue;
			buf[n].key = table_key(c, c->prefix[tab], c->fp[j]);
			buf[n].idx = (uint32_t)j;
			buf[n].pad_ = 0;
			n++;
		}
		nd_radix_sort_kv(buf, tmp, n);
		for (r = 0; r < n; r = e) {
			for (e = r + 1; e < n && buf[e].key == buf[r].key; e++)
				;
			if (e - r < 2)
				continue;
			if ((r & 0xFFFF) == 0 && nd_interrupted())
				return nd_seterr(ND_EINTR, "interrupted");
			if (e - r <= c->max_bucket) {
				for (size_t a = r; a < e; a++) {
					uint64_t fa = c->fp[buf[a].idx];
					for (size_t b = a + 1; b < e; b++) {
						uint64_t x = fa ^ c->fp[buf[b].idx];
						if ((unsigned)__builtin_popcountll(x) > c->k ||
						    reported_before(c, (unsigned)tab, x))
							continue;
						if ((rc = nd_u64vec_push(out, nd_pair_key(ID(c, buf[a].idx),
											  ID(c, buf[b].idx)))))
							return rc;
					}
				}
			} else {
				/* Too many items share this prefix (a cluster of near-identical
				 * texts): order them by the whole fingerprint and compare
				 * neighbours only, like the chain of a big MinHash bucket. */
				for (size_t a = r; a < e; a++)
					buf[a].key = c->fp[buf[a].idx];
				qsort(buf + r, e - r, sizeof *buf, cmp_kv_key_idx);
				for (size_t a = r; a + 1 < e; a++) {
					uint64_t x = buf[a].key ^ buf[a + 1].key;
					if ((unsigned)__builtin_popcountll(x) > c->k)
						continue;
					if ((rc = nd_u64vec_push(out, nd_pair_key(ID(c, buf[a].idx),
										  ID(c, buf[a + 1].idx)))))
						return rc;
				}
				c->big[tab]++;
			}
		}
	}
	return 0;
}

int nd_simhash_pairs(const uint64_t *fp, const uint32_t *ids, const unsigned char *active, size_t m,
		     unsigned k, unsigned nblocks, size_t max_bucket, unsigned threads, nd_u64vec *out,
		     size_t *big_buckets)
{
	sh_ctx c;
	unsigned t, nworkers;
	uint64_t mask;
	int rc = 0;

	memset(&c, 0, sizeof c);
	if (k > ND_SIMHASH_MAX_K)
		return nd_seterr(ND_EINVAL, "SimHash distance %u is above the maximum %d", k,
				 ND_SIMHASH_MAX_K);
	c.fp = fp;
	c.ids = ids;
	c.active = active;
	c.m = m;
	c.k = k;
	c.max_bucket = max_bucket;
	if (nblocks && (nblocks <= k || nblocks > 64 || binom(nblocks, k) > ND_SIMHASH_MAX_TABLES))
		return nd_seterr(ND_EINVAL, "cannot split 64 bits into %u blocks for distance %u", nblocks, k);
	c.nblocks = nblocks ? nblocks : choose_blocks(m, k);
	for (t = 0; t < c.nblocks; t++) {
		c.bstart[t] = 64 * t / c.nblocks;
		c.blen[t] = 64 * (t + 1) / c.nblocks - c.bstart[t];
		c.bmask[t] = (c.blen[t] == 64 ? ~(uint64_t)0 : (((uint64_t)1 << c.blen[t]) - 1)) << c.bstart[t];
	}
	/* tables: every set of nblocks - k prefix blocks, in increasing bit-mask order */
	c.ntables = (unsigned)binom(c.nblocks, k);
	c.prefix = nd_calloc(c.ntables, sizeof *c.prefix);
	c.out = nd_calloc(c.ntables, sizeof *c.out);
	c.big = nd_calloc(c.ntables, sizeof *c.big);
	nworkers = threads ? threads : nd_cpu_count();
	if (nworkers > c.ntables)
		nworkers = c.ntables;
	c.buf = nd_calloc(nworkers, sizeof *c.buf);
	c.tmp = nd_calloc(nworkers, sizeof *c.tmp);
	if (!c.prefix || !c.out || !c.big || !c.buf || !c.tmp) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for SimHash tables");
		goto cleanup;
	}
	t = 0;
	mask = c.nblocks == 64 ? ~(uint64_t)0 : ((uint64_t)1 << c.nblocks) - 1;
	for (uint64_t s = 0; t < c.ntables; s++) {
		/* the next subset of blocks of size nblocks - k (Gosper's hack would skip
		 * straight there; with at most 2^(k+8) subsets the plain scan is cheap) */
		if ((unsigned)__builtin_popcountll(s) == c.nblocks - k)
			c.prefix[t++] = s;
		if (s == mask)
			break;
	}
	for (t = 0; t < nworkers; t++) {
		c.buf[t] = nd_malloc(m * sizeof **c.buf);
		c.tmp[t] = nd_malloc(m * sizeof **c.tmp);
		if (!c.buf[t] || !c.tmp[t]) {
			rc = nd_seterr(ND_ENOMEM, "out of memory for SimHash tables of %zu items", m);
			goto cleanup;
		}
	}
	if ((rc = nd_parallel_for(c.ntables, 1, nworkers, table_pairs, &c)))
		goto cleanup;
	for (t = 0; t < c.ntables; t++) {
		if ((rc = nd_u64vec_append(out, c.out[t].v, c.out[t].n)))
			goto cleanup;
		*big_buckets += c.big[t];
	}
cleanup:
	if (c.out)
		for (t = 0; t < c.ntables; t++)
			nd_u64vec_free(&c.out[t]);
	if (c.buf)
		for (t = 0; t < nworkers; t++) {
			free(c.buf[t]);
			free(c.tmp[t]);
		}
	free(c.buf);
	free(c.tmp);
	free(c.prefix);
	free(c.out);
	free(c.big);
	return rc;
}
