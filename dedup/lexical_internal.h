/* Private interface between the pieces of the lexical pass (the dedup/ sources) and its
 * unit tests. Not installed. */
#ifndef ND_LEXICAL_INTERNAL_H
#define ND_LEXICAL_INTERNAL_H

#include <string.h>
#include "internal.h"
#include "neardup/lexical.h"

/* ---- shingle.c: tokens and shingles ------------------------------------- */

/* Reusable per-thread scratch for shingling one text after another. Zero it
 * before first use; nd_shingler_free releases it. */
typedef struct {
	unsigned char *stream; /* tokens, each followed by 0xFF */
	size_t stream_cap;
	size_t *tok; /* start of each token in stream, and the stream's end */
	unsigned char *word; /* per token: 1 a run of characters, 0 one CJK/kana/hangul character */
	size_t tok_cap;
	uint64_t *sh; /* shingle hashes of the last text, in text order, with repeats */
	size_t sh_cap;
	size_t nsh;
} nd_shingler;

/* Shingles @text into s->sh[0 .. s->nsh). s->nsh == 0 means the text has no
 * token. @return 0, ND_EUTF8 (invalid UTF-8 or a NUL byte), ND_ENOMEM. */
int nd_shingler_run(nd_shingler *s, const char *text, size_t len, unsigned ngram);
void nd_shingler_free(nd_shingler *s);

/* ---- shingle.c: the shingle-set store ------------------------------------ */

/* The 32-bit key of a 64-bit shingle hash: what the store holds and what MinHash
 * permutes (nd_mh_key below is the same fold). Why 32 bits are enough: two
 * distinct shingles share a key with probability 2^-32, so a pair of texts whose
 * union holds U distinct shingles sees any merge with probability at most
 * U^2 / 2^33, 5e-6 for two 100-shingle texts; a merge moves its Jaccard by about
 * 1/U, which changes a decision only for a pair that sat within 1/U of the
 * threshold. And a merge is a property of two shingles, not of a pair of texts: a
 * corpus with V distinct shingles has ~V^2 / 2^33 merged pairs of them in all. At
 * ngram 1 shingles are characters and numbers: V = 808 in the 1M-record bench
 * corpus, a few thousand in real banks, so V^2 / 2^33 < 0.01 -- almost surely no
 * merge anywhere, and the sets' Jaccard is the 64-bit one exactly. */
static inline uint32_t nd_shingle_key(uint64_t h) { return (uint32_t)(h ^ (h >> 32)); }

/* Sets are built block by block (ND_SETS_BLOCK consecutive sets per parallel
 * work item); each block keeps its own key array, allocated at its exact size
 * when the block is done. One contiguous array would need either a second
 * shingling pass to learn the sizes first or a copy of all keys at twice the
 * memory (~160 MB extra at 1M texts); a block pointer per 1024 sets costs
 * nothing measurable on lookup. */
#define ND_SETS_BLOCK_BITS 10
#define ND_SETS_BLOCK ((size_t)1 << ND_SETS_BLOCK_BITS)
#define ND_SETS_NONE UINT32_MAX /* slot of a record without a set (empty text) */

/* A 256-bit bitmap of a set: bit (key >> 24) for each key. Every bit set in A's
 * sketch and not in B's stands for at least one key of A missing from B, so
 * |A n B| <= |A| - popcount(sa & ~sb): a bound on Jaccard that costs a few dozen
 * operations and rejects most candidates before any merge (Sandes et al., "Bitmap
 * filter: speeding up exact set similarity joins with bitwise operations"). */
#define ND_SKETCH_WORDS 4

/* popcount(a & ~b) over the sketch words: the keys of A that B's sketch proves
 * missing from B. Without the POPCNT instruction (the default x86-64 target)
 * __builtin_popcountll is a libgcc call per word; the SWAR sum below is a few
 * dozen inline operations for all four. */
static inline uint64_t nd_popcount_bytes(uint64_t x)
{
	x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	return (x + (x >> 4)) & UINT64_C(0x0F0F0F0F0F0F0F0F); /* each byte: its popcount, <= 8 */
}

/* The count with __builtin_popcountll on each word: one POPCNT instruction per
 * word inside a function built with target("popcnt") (the lexical pass runs its
 * verification through such a copy when the CPU has the instruction); a libgcc
 * call per word anywhere else. */
static inline unsigned nd_sketch_missing_popcnt(const uint64_t *a, const uint64_t *b)
{
	unsigned n = 0;
	for (int k = 0; k < ND_SKETCH_WORDS; k++)
		n += (unsigned)__builtin_popcountll(a[k] & ~b[k]);
	return n;
}

/* The count without POPCNT: two words per multiply (their bytes sum to at most
 * 16, the eight bytes to at most 128, which the top byte holds). */
static inline unsigned nd_sketch_missing(const uint64_t *a, const uint64_t *b)
{
#ifdef __POPCNT__
	return nd_sketch_missing_popcnt(a, b);
#else
	unsigned n = 0;
	for (int k = 0; k < ND_SKETCH_WORDS; k += 2) {
		uint64_t x = nd_popcount_bytes(a[k] & ~b[k]) + nd_popcount_bytes(a[k + 1] & ~b[k + 1]);
		n += (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
	}
	return n;
#endif
}

/* a function built with POPCNT, to run only where nd_cpu_has_popcnt() */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define ND_TARGET_POPCNT __attribute__((target("popcnt")))
#define ND_TARGET_AVX2_POPCNT __attribute__((target("avx2,popcnt")))
#define ND_TARGET_AVX512POP                                                                          \
	__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,avx2,popcnt")))
#define ND_HAVE_AVX2_CLONE 1
#include <immintrin.h>
#else
#define ND_TARGET_POPCNT
#define ND_HAVE_AVX2_CLONE 0
#endif

/* The highest instruction set the verification may use: 3 AVX-512 (with
 * VPOPCNTQ), 2 AVX2, 1 POPCNT, 0 none; each where the CPU has it. Tests lower it
 * to compare the copies; results never depend on it. */
extern int nd_lex_isa_cap;

/* The verification's test whether two slots share a band key before band j
 * (dedup/lexical.c, check_bucket). */
#if ND_HAVE_AVX2_CLONE
/* lanes of the last, partial vector of band keys: masked loads never touch the
 * words past them (which may be past the end of the gathered rows) */
static const int64_t nd_tail_mask[4][4] = {{0, 0, 0, 0}, {-1, 0, 0, 0}, {-1, -1, 0, 0}, {-1, -1, -1, 0}};

ND_TARGET_AVX2_POPCNT static inline unsigned nd_any_same_key_avx2(const uint64_t *a, const uint64_t *b, size_t j)
{
	__m256i acc = _mm256_setzero_si256();
	size_t e = 0;
	for (; e + 4 <= j; e += 4)
		acc = _mm256_or_si256(acc, _mm256_cmpeq_epi64(_mm256_loadu_si256((const __m256i *)(a + e)),
							      _mm256_loadu_si256((const __m256i *)(b + e))));
	if (e < j) {
		__m256i m = _mm256_loadu_si256((const __m256i *)nd_tail_mask[j - e]);
		__m256i va = _mm256_maskload_epi64((const long long *)(a + e), m);
		__m256i vb = _mm256_maskload_epi64((const long long *)(b + e), m);
		acc = _mm256_or_si256(acc, _mm256_and_si256(m, _mm256_cmpeq_epi64(va, vb)));
	}
	return !_mm256_testz_si256(acc, acc);
}
#endif

/* 1 when some band e < j has a[e] == b[e]. @hw >= 2: four bands at a time with AVX2
 * (in a function built for it), else a loop without an early exit (the keys
 * rarely match). */
static ND_ALWAYS_INLINE unsigned nd_any_same_key(const uint64_t *a, const uint64_t *b, size_t j, int hw)
{
#if ND_HAVE_AVX2_CLONE
	if (hw >= 2) /* the AVX2 and the AVX-512 copies of step 4 */
		return nd_any_same_key_avx2(a, b, j);
#endif
	unsigned same = 0;
	for (size_t e = 0; e < j; e++)
		same |= a[e] == b[e];
	return same;
}


static inline void nd_sketch_of(const uint32_t *keys, size_t n, uint64_t *sketch)
{
	memset(sketch, 0, ND_SKETCH_WORDS * sizeof *sketch);
	for (size_t k = 0; k < n; k++)
		sketch[keys[k] >> 30] |= (uint64_t)1 << ((keys[k] >> 24) & 63);
}

struct nd_shingle_sets {
	size_t n;          /* records */
	size_t nsets;
	unsigned ngram;
	uint32_t *slot;    /* n: the set of each record, or ND_SETS_NONE; NULL: record i is set i */
	uint32_t **block;  /* ceil(nsets / ND_SETS_BLOCK) key arrays */
	uint32_t *end;     /* nsets: end of set s in its block; it starts at end[s - 1], or at
	                    * 0 for the first set of a block */
};

static inline const uint32_t *nd_sets_keys(const nd_shingle_sets *s, size_t set, size_t *len)
{
	size_t lo = (set & (ND_SETS_BLOCK - 1)) ? s->end[set - 1] : 0;
	*len = s->end[set] - lo;
	return s->block[set >> ND_SETS_BLOCK_BITS] + lo;
}

/* Called by nd_sets_build for every set right after it is built, on the worker
 * that built it: @sh holds the text's shingle hashes (in text order, with repeats),
 * keys[0 .. nkeys) the set. A non-zero return stops the build. */
typedef int (*nd_set_fn)(void *ctx, size_t set, const nd_shingler *sh, const uint32_t *keys, size_t nkeys,
			 unsigned worker);

/* Builds one set per text texts[rec_of_set[s]] (rec_of_set NULL: text s), s <
 * nsets, on @threads workers (0 = all cores), calling @fn (may be NULL) for each.
 * s->slot is left NULL and s->n = nsets; the caller may install a record map.
 * @return 0, ND_ENOMEM, ND_EUTF8 (message names the record), ND_ELIMIT (over 2^32
 * keys in one block), ND_EINTR, or fn's error. */
int nd_sets_build(nd_shingle_sets **out, const char *const *texts, const size_t *lens,
		  const uint32_t *rec_of_set, size_t nsets, unsigned ngram, unsigned threads, nd_set_fn fn,
		  void *ctx);

/* The smallest intersection I of two sets with |A| + |B| = @sum for which
 * (double)I / (double)(sum - I) >= t -- exactly the test the lexical pass applies,
 * rounding included -- or SIZE_MAX when no I <= sum / 2 passes. The rounded
 * quotient grows with I, so this is a threshold on I: a pair passes iff its
 * intersection reaches it, and any upper bound on the intersection below it
 * rejects the pair safely (min(|A|, |B|) for the size filter, the sketch bound). */
size_t nd_jaccard_min_inter(size_t sum, double t);

/* The intersection of sorted unique a[0 .. na) and b[0 .. nb), or a value below
 * @need as soon as it cannot reach @need any more (more than na - need keys of a,
 * or nb - need of b, found missing). */
size_t nd_inter_at_least(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t need);
/* The same with AVX2 blocks of eight keys (inter_avx2.c); the same value whenever
 * it reaches @need (both are then the exact intersection), a value below @need
 * otherwise. Call it only through nd_inter_best(). */
size_t nd_inter_at_least_avx2(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t need);
typedef size_t (*nd_inter_fn)(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t need);
/* nd_inter_at_least_avx2 when the CPU has AVX2 and POPCNT, else nd_inter_at_least. */
nd_inter_fn nd_inter_best(void);

/* ---- minhash.c, minhash_avx2.c: signatures ------------------------------- */

/* The 32-bit MinHash key of a 64-bit shingle hash: the store's key
 * (nd_shingle_key), so a signature over a set's keys equals one over the text's
 * shingles (the minimum ignores repeats). Distinct shingles share a key with
 * probability 2^-32 per pair: for two 100-shingle texts the expected number of
 * such merges is 200^2 / 2 / 2^32 < 1e-5, far below the estimator's noise. */
static inline uint32_t nd_mh_key(uint64_t h) { return nd_shingle_key(h); }

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

/* The buckets of one LSH band: items with equal keys, as runs of item indices.
 * Run r is item[start[r] .. start[r + 1]), ascending; only buckets of two or more
 * items are kept. Zero it before use; nd_lsh_runs_free releases it. */
typedef struct {
	uint32_t *item;
	uint32_t *start; /* nrun + 1 */
	size_t nrun;
} nd_lsh_runs;
void nd_lsh_runs_free(nd_lsh_runs *r);

/* Buckets one band: keys[j * stride] is the band key of item j (j < m <=
 * UINT32_MAX), active[j] == 0 leaves item j out (NULL: all in). @buf is scratch
 * for m items. What a bucket emits (all pairs, or a chain when it is big) is the
 * caller's business. @return 0, ND_ENOMEM, ND_EINTR. */
int nd_lsh_band_buckets(const uint64_t *keys, size_t stride, const unsigned char *active, size_t m,
			nd_kv *buf, nd_lsh_runs *out);

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
