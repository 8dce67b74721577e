/* neardup — the lexical first pass: shingling, MinHash + LSH, SimHash, and exact
 * verification. Input texts are already normalised (nd_normalize_text): no
 * punctuation, CJK characters without spaces, Latin/digit words separated by one
 * space.
 *
 * Tokens: each CJK ideograph / kana / hangul code point is one token; each maximal
 * run of other letters and digits is one token ("c1", "50", "km"). Shingles are
 * n consecutive tokens (n = ngram), hashed with nd_hash64. A text with fewer than
 * n tokens gets one shingle for the whole text (never an empty set), and an empty
 * text gets no signature and takes part in no pair.
 */
#ifndef ND_LEXICAL_H
#define ND_LEXICAL_H

#include "neardup/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! nd_hash64() : a well-mixed 64-bit hash of @len bytes (not FNV). Thread-safe. */
ND_API uint64_t nd_hash64(const void *data, size_t len, uint64_t seed);

/*! nd_shingles() :
 * Writes the sorted, de-duplicated shingle hashes of @text into *out (malloc'd,
 * caller frees with free()), their count into *n. @return 0 or ND_ENOMEM/ND_EUTF8. */
ND_API int nd_shingles(const char *text, size_t len, unsigned ngram, uint64_t **out, size_t *n);

/*! nd_jaccard_sorted() : exact Jaccard of two sorted, unique hash sets (0 when both empty). */
ND_API double nd_jaccard_sorted(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);

/*! nd_lsh_prob() : P(candidate) = 1 - (1 - s^r)^b for Jaccard s, b bands of r rows. */
ND_API double nd_lsh_prob(double s, unsigned bands, unsigned rows);

/*! nd_lsh_params() :
 * Chooses b, r with b*r <= num_perm minimising
 *   fp_weight * ∫_0^t P(s) ds + fn_weight * ∫_t^1 (1 - P(s)) ds
 * (the false-positive and false-negative areas under the S-curve).
 * @return 0, or ND_EINVAL for t outside (0,1) or num_perm == 0. */
ND_API int nd_lsh_params(double threshold, unsigned num_perm, double fp_weight, double fn_weight,
			 unsigned *bands, unsigned *rows);

typedef enum { ND_LEX_MINHASH = 0, ND_LEX_SIMHASH = 1 } nd_lex_method;

#define ND_LEX_OPTS_VERSION 1
typedef struct {
	unsigned version;      /* ND_LEX_OPTS_VERSION */
	nd_lex_method method;  /* default ND_LEX_MINHASH */
	double threshold;      /* Jaccard of shingle sets an edge needs; default 0.9 */
	unsigned ngram;        /* tokens per shingle; default 3 (see docs/accuracy.md) */
	unsigned num_perm;     /* MinHash permutations; default 128 */
	unsigned bands, rows;  /* 0,0 = derived from threshold by nd_lsh_params */
	double fp_weight, fn_weight; /* S-curve weights; default 0.25, 0.75 (recall first) */
	unsigned simhash_bits; /* SimHash: max Hamming distance k; default 3 */
	uint64_t seed;         /* permutation seed; default 1 */
	unsigned threads;      /* 0 = all cores; output does not depend on it */
	size_t max_bucket;     /* LSH buckets larger than this emit a chain, not all pairs; default 256 */
} nd_lex_opts;
#define ND_LEX_OPTS_INIT                                                                 \
	{ ND_LEX_OPTS_VERSION, ND_LEX_MINHASH, 0.9, 3, 128, 0, 0, 0.25, 0.75, 3, 1, 0, 256 }

/* One verified pair: a < b are record indices; sim is the exact Jaccard of their
 * shingle sets (for SimHash too, so the threshold means the same thing). */
typedef struct {
	uint32_t a, b;
	float sim;
} nd_pair;

typedef struct {
	unsigned bands, rows;   /* as used */
	double p_at_threshold;  /* nd_lsh_prob(threshold, bands, rows) */
	size_t candidates;      /* distinct candidate pairs before verification */
	size_t verified;        /* pairs that passed the exact check */
	size_t empty_texts;     /* texts that took part in nothing */
	size_t big_buckets;     /* buckets that exceeded max_bucket */
	double t_signature, t_candidates, t_verify; /* seconds */
} nd_lex_stats;

/*! nd_lex_pairs() :
 * Finds every pair of texts whose shingle-set Jaccard is >= threshold (up to the
 * LSH miss probability), verified exactly. texts[i] may be NULL or empty.
 * *pairs is malloc'd (free with free()), sorted by (a, b), without repeats; its
 * content is identical for any opts->threads. @stats may be NULL.
 * @return 0, ND_EINVAL, ND_ENOMEM, ND_ELIMIT (n > UINT32_MAX), ND_EINTR. */
ND_API int nd_lex_pairs(const char *const *texts, const size_t *lens, size_t n, const nd_lex_opts *opts,
			nd_pair **pairs, size_t *npairs, nd_lex_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
