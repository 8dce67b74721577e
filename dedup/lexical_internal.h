/* Private interface between the pieces of the lexical pass (the dedup/ sources) and its
 * unit tests. Not installed. */
#ifndef ND_LEXICAL_INTERNAL_H
#define ND_LEXICAL_INTERNAL_H

#include "internal.h"
#include "neardup/lexical.h"

/* ---- shingle.c: tokens and shingles ------------------------------------- */

/* Reusable per-thread scratch for shingling one text after another. Zero it
 * before first use; nd_shingler_free releases it. */
typedef struct {
	unsigned char *stream; /* tokens, each followed by 0xFF */
	size_t stream_cap;
	size_t *tok; /* start of each token in stream, and the stream's end */
	size_t tok_cap;
	uint64_t *sh; /* shingle hashes of the last text, in text order, with repeats */
	size_t sh_cap;
	size_t nsh;
} nd_shingler;

/* Shingles @text into s->sh[0 .. s->nsh). s->nsh == 0 means the text has no
 * token. @return 0, ND_EUTF8 (invalid UTF-8 or a NUL byte), ND_ENOMEM. */
int nd_shingler_run(nd_shingler *s, const char *text, size_t len, unsigned ngram);
void nd_shingler_free(nd_shingler *s);

/* An open-addressing set of 64-bit hashes, for exact Jaccard of two shingle
 * multisets without sorting them. Zero it before first use. */
typedef struct {
	uint64_t *slot; /* 0 = empty; the value 0 itself is kept in has_zero */
	size_t cap;     /* slots in use: a power of two, >= 2 * distinct values */
	size_t alloc;   /* slots allocated */
	unsigned shift; /* 64 - log2(cap): index = value >> shift */
	size_t n;       /* distinct values held */
	int has_zero;
} nd_hset;

/* Fills @h with the distinct values of v[0 .. n). @return 0 or ND_ENOMEM. */
int nd_hset_build(nd_hset *h, const uint64_t *v, size_t n);
/* Jaccard of the distinct values of @a and of v[0 .. n), using @tmp as scratch
 * for the second set. @return 0 or ND_ENOMEM. */
int nd_hset_jaccard(const nd_hset *a, nd_hset *tmp, const uint64_t *v, size_t n, double *jaccard);
void nd_hset_free(nd_hset *h);

/* ---- minhash.c, minhash_avx2.c: signatures ------------------------------- */

/* The 32-bit MinHash key of a 64-bit shingle hash. Distinct shingles share a key
 * with probability 2^-32 per pair: for two 100-shingle texts the expected number
 * of such merges is 200^2 / 2 / 2^32 < 1e-5, far below the estimator's noise. */
static inline uint32_t nd_mh_key(uint64_t h) { return (uint32_t)(h ^ (h >> 32)); }

/* Parameters of 8 consecutive permutations laid out for 256-bit vectors. */
typedef struct {
	uint64_t alo_even[4], alo_odd[4]; /* lo32(a) of permutations 0,2,4,6 / 1,3,5,7 */
	uint64_t b_even[4], b_odd[4];
	uint32_t ahi[8]; /* hi32(a) of permutations 0..7 */
} nd_mh_block;

/* num_perm hash functions h_i(x) = hi32(a_i * x + b_i mod 2^64) (see minhash.c). */
typedef struct {
	unsigned k;
	uint64_t *a, *b;   /* k each */
	nd_mh_block *blk;  /* ceil(k / 8) blocks, the same a, b re-arranged (zeros pad the last) */
} nd_mh_perms;

int nd_mh_perms_init(nd_mh_perms *p, unsigned k, uint64_t seed);
void nd_mh_perms_free(nd_mh_perms *p);

/* sig[i] = min over keys x[0 .. n) of h_i(x), for i < p->k (UINT32_MAX when n == 0).
 * The variants return bitwise-identical signatures. */
typedef void (*nd_minhash_fn)(const nd_mh_perms *p, const uint32_t *x, size_t n, uint32_t *sig);
void nd_minhash_scalar(const nd_mh_perms *p, const uint32_t *x, size_t n, uint32_t *sig);
void nd_minhash_avx2(const nd_mh_perms *p, const uint32_t *x, size_t n, uint32_t *sig);
int nd_minhash_have_avx2(void);    /* 1 when the CPU (and build) can run the AVX2 kernel */
nd_minhash_fn nd_minhash_best(void); /* chosen on first call, then cached */
const char *nd_minhash_best_name(void);

/* keys[j] = hash of band j (rows r values of sig), j < bands. */
void nd_band_keys(const uint32_t *sig, unsigned bands, unsigned rows, uint64_t *keys);

/* ---- lsh.c: sorting and candidate pairs -------------------------------- */

/* A candidate pair is one uint64: (a << 32) | b with a < b, so that sorting the
 * integers sorts the pairs by (a, b). */
static inline uint64_t nd_pair_key(uint32_t a, uint32_t b)
{
	return a < b ? ((uint64_t)a << 32) | b : ((uint64_t)b << 32) | a;
}

typedef struct {
	uint64_t *v;
	size_t n, cap;
} nd_u64vec;
int nd_u64vec_push(nd_u64vec *v, uint64_t x);
int nd_u64vec_append(nd_u64vec *v, const uint64_t *x, size_t n);
void nd_u64vec_free(nd_u64vec *v);

typedef struct {
	uint64_t key;
	uint32_t idx;
	uint32_t pad_; /* keeps the struct 16 bytes on every ABI */
} nd_kv;

/* Stable LSD radix sorts (11-bit digits; digit passes where every item has the
 * same digit are skipped, so narrow keys cost fewer passes). The result is in @v;
 * @tmp is scratch of the same size. */
void nd_radix_sort_u64(uint64_t *v, uint64_t *tmp, size_t n);
void nd_radix_sort_kv(nd_kv *v, nd_kv *tmp, size_t n);
/* Sorts and removes repeats; @return the new length. */
size_t nd_sort_unique_u64(uint64_t *v, uint64_t *tmp, size_t n);

/* Candidate pairs of one LSH band: keys[j] is the band key of item j, ids[j] its
 * record index (ascending in j), active[j] == 0 leaves item j out (NULL: all in).
 * Items with equal keys form a bucket; a bucket of at most @max_bucket items emits
 * all its pairs, a larger one the chain of its members in index order (and counts
 * in *big_buckets). @buf is scratch for m items. @return 0, ND_ENOMEM, ND_EINTR. */
int nd_lsh_band_pairs(const uint64_t *keys, const uint32_t *ids, const unsigned char *active, size_t m,
		      size_t max_bucket, nd_kv *buf, nd_u64vec *out, size_t *big_buckets);

/* ---- simhash.c ------------------------------------------------------------ */

/* 64-bit SimHash of shingle hashes v[0 .. n), each occurrence weighing 1. */
uint64_t nd_simhash(const uint64_t *v, size_t n);

/* Every pair (ids[a], ids[b]) with popcount(fp[a] ^ fp[b]) <= k among the items
 * with active[j] != 0 (NULL: all; ids NULL: item j is record j), appended to @out
 * (unsorted; repeats only from big runs), using permuted sorted tables over
 * @nblocks blocks (0: chosen from m and k; see simhash.c), on @threads workers.
 * Runs of more than @max_bucket items sharing a table prefix only compare
 * neighbours in fingerprint order (counted in *big_buckets).
 * @return 0, ND_EINVAL (k > 16, bad nblocks), ND_ENOMEM, ND_EINTR. */
int nd_simhash_pairs(const uint64_t *fp, const uint32_t *ids, const unsigned char *active, size_t m,
		     unsigned k, unsigned nblocks, size_t max_bucket, unsigned threads, nd_u64vec *out,
		     size_t *big_buckets);

/* The largest k nd_simhash_pairs accepts: at 64 bits, random texts sit at distance
 * 32 +- 4, so k beyond 16 (4 standard deviations) stops separating anything. */
#define ND_SIMHASH_MAX_K 16

#endif
