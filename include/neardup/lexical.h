/* neardup — the lexical first pass: shingling, MinHash + LSH, SimHash, and exact
 * verification. Input texts are already normalised (nd_normalize_text): no
 * punctuation, CJK characters without spaces, Latin/digit words separated by one
 * space.
 *
 * Tokens: each CJK ideograph (U+3400–4DBF, U+4E00–9FFF, U+F900–FAFF,
 * U+20000–2FA1F, U+30000–323AF), kana and hangul code point is one token; each
 * maximal run of other characters that are not Unicode White_Space is one token
 * ("c1", "50", "km"); white space only separates. Shingles are n consecutive
 * tokens (n = ngram): the tokens' bytes, each followed by a 0xFF byte (never
 * valid UTF-8, so ("ab","c") and ("a","bc") differ), without the last 0xFF, hashed
 * with nd_hash64 (seed 0). A text with fewer than n tokens gets one shingle for
 * the whole text (never an empty set), and an empty text (no tokens: NULL, "",
 * only spaces) gets no signature and takes part in no pair.
 *
 * All functions here are thread-safe (no shared mutable state).
 */
#ifndef ND_LEXICAL_H
#define ND_LEXICAL_H

#include "neardup/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! nd_hash64() :
 * A well-mixed 64-bit hash of @len bytes at @data (not FNV): one flipped input bit
 * flips each output bit with probability ~1/2. The value is the same on every
 * platform. Different seeds give different, but not independent, functions.
 * @data may be NULL when @len is 0. Thread-safe. */
ND_API uint64_t nd_hash64(const void *data, size_t len, uint64_t seed);

/*! nd_shingles() :
 * Writes the sorted, de-duplicated shingle hashes of @text (@len bytes, need not
 * be NUL-terminated) into *out (malloc'd, caller frees with free(); never NULL on
 * success, even for 0 shingles), their count into *n.
 * @return 0, ND_EINVAL (NULL argument, ngram == 0), ND_ENOMEM, or ND_EUTF8
 * (invalid UTF-8 or a NUL byte; the message gives the byte offset). */
ND_API int nd_shingles(const char *text, size_t len, unsigned ngram, uint64_t **out, size_t *n);

/*! nd_jaccard_sorted() : exact Jaccard of two sorted, unique hash sets (0 when both empty). */
ND_API double nd_jaccard_sorted(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);

/*! nd_lsh_prob() : P(candidate) = 1 - (1 - s^r)^b for Jaccard s, b bands of r rows. */
ND_API double nd_lsh_prob(double s, unsigned bands, unsigned rows);

/*! nd_lsh_params() :
 * Chooses b, r with b*r <= num_perm minimising
 *   fp_weight * (1/t) ∫_0^t P(s) ds + fn_weight * (1/(1-t)) ∫_t^1 (1 - P(s)) ds
 * i.e. the false-positive and false-negative areas under the S-curve, each taken
 * as a mean rate over its interval (raw areas would weigh [0, t] by its width: at
 * t = 0.9 nine times more than [t, 1], whatever the weights say). Simpson
 * integration over every (b, r); on a tie the smaller b, then r, wins.
 * With the defaults (t = 0.9, 128 permutations, weights 0.25/0.75) it picks
 * b = 9, r = 13: P(0.9) = 0.929, P(0.8) = 0.40, mean recall over [0.9, 1] 0.99.
 * @return 0, or ND_EINVAL for t outside (0,1), num_perm == 0, negative weights or
 * both weights 0, NULL outputs. */
ND_API int nd_lsh_params(double threshold, unsigned num_perm, double fp_weight, double fn_weight,
			 unsigned *bands, unsigned *rows);

typedef enum { ND_LEX_MINHASH = 0, ND_LEX_SIMHASH = 1 } nd_lex_method;

#define ND_LEX_OPTS_VERSION 1
typedef struct {
	unsigned version;      /* ND_LEX_OPTS_VERSION */
	nd_lex_method method;  /* default ND_LEX_MINHASH */
	double threshold;      /* Jaccard of shingle sets an edge needs, in (0, 1]; default 0.9 */
	unsigned ngram;        /* tokens per shingle, >= 1; default 1: one CJK character or one
	                        * Latin word — the most accurate on the labelled sets by far
	                        * (docs/accuracy.md: F1 95% vs 87% for 2 and 80% for 3) */
	unsigned num_perm;     /* MinHash permutations; default 128. Only bands*rows of them
	                        * are computed. */
	unsigned bands, rows;  /* 0,0 = derived from threshold by nd_lsh_params (for
	                        * threshold 1, from 0.999); else bands*rows <= num_perm */
	double fp_weight, fn_weight; /* S-curve weights; default 0.25, 0.75 (recall first) */
	unsigned simhash_bits; /* SimHash: max Hamming distance k, <= 16; default 3.
	                        * Texts at Jaccard J differ in ~64*acos(2J/(1+J))/pi
	                        * bits (Charikar): for ~80-shingle texts 6.6 bits at
	                        * J = 0.9, 4.6 at 0.95, so k = 3 (Manku et al.'s setting
	                        * for web pages) finds near-exact copies; recall at 0.9
	                        * needs k ~ 9, at C(B, k) tables' cost. */
	uint64_t seed;         /* permutation seed; default 1 */
	unsigned threads;      /* 0 = all cores; output does not depend on it */
	size_t max_bucket;     /* LSH buckets larger than this emit a chain, not all pairs;
	                        * default 256; below 2 every bucket is a chain */
} nd_lex_opts;
#define ND_LEX_OPTS_INIT                                                                 \
	{ ND_LEX_OPTS_VERSION, ND_LEX_MINHASH, 0.9, 1, 128, 0, 0, 0.25, 0.75, 3, 1, 0, 256 }

/* One verified pair: a < b are record indices; sim is the exact Jaccard of their
 * shingle sets (for SimHash too, so the threshold means the same thing), rounded
 * to float. Pairs are selected on the unrounded value, so a pair exactly at the
 * threshold may carry a sim a float ulp below it (0.9f < 0.9). */
typedef struct {
	uint32_t a, b;
	float sim;
} nd_pair;

typedef struct {
	unsigned bands, rows;   /* as used (0, 0 for SimHash) */
	double p_at_threshold;  /* nd_lsh_prob(threshold, bands, rows) (0 for SimHash) */
	size_t candidates;      /* distinct candidate pairs before verification */
	size_t verified;        /* candidate pairs that passed the exact check */
	size_t empty_texts;     /* texts that took part in nothing */
	size_t big_buckets;     /* buckets that exceeded max_bucket (summed over bands/tables) */
	double t_signature, t_candidates, t_verify; /* seconds */
	size_t identical;       /* pairs linking a text to the first identical one
	                         * (npairs == verified + identical) */
} nd_lex_stats;

/*! nd_lex_pairs() :
 * Finds every pair of texts whose shingle-set Jaccard is >= threshold (up to the
 * LSH miss probability, 1 - P(s) for a pair of similarity s), verified exactly.
 * texts[i] may be NULL or empty; @lens may be NULL for NUL-terminated texts;
 * @opts may be NULL for ND_LEX_OPTS_INIT.
 *
 * The pairs are a spanning set, meant for connected components (clustering):
 *  - identical texts (same bytes) are linked to their first occurrence, not all
 *    to each other: a group of k copies yields k-1 pairs (sim 1), not k(k-1)/2;
 *  - only the first occurrence of each distinct text is hashed and verified, so a
 *    near-duplicate pair between two such groups is reported once, between their
 *    first occurrences; the stars link the rest;
 *  - an LSH bucket (MinHash), or a run of items sharing a table prefix (SimHash),
 *    larger than max_bucket yields the chain of its members in index (resp.
 *    fingerprint) order, each link verified, instead of all its pairs: members
 *    that really are near-duplicates of their neighbours stay connected, at n-1
 *    pairs instead of n(n-1)/2, and nothing unverified is ever output; pairs that
 *    are only similar to non-neighbours in such a bucket may be missed unless
 *    another band finds them (stats->big_buckets counts how often this happened).
 *
 * *pairs is malloc'd (free with free()), sorted by (a, b), without repeats; its
 * content is identical for any opts->threads. @stats may be NULL.
 * Memory, besides the caller's texts: about n*(9 + 8*bands) bytes, plus 16*n per
 * worker (at most bands workers) while bucketing and 36*n briefly while grouping
 * identical texts; ~110 MB for 1M texts at b = 9 on 2 cores. Time is dominated by
 * n * shingles * bands*rows MinHash evaluations (AVX2 when the CPU has it).
 * Polls the interrupt flag (nd_set_interrupt_flag).
 * @return 0, ND_EINVAL, ND_ENOMEM, ND_EUTF8 (a text is not valid UTF-8; the
 * message names it), ND_ELIMIT (n > UINT32_MAX), ND_EINTR. */
ND_API int nd_lex_pairs(const char *const *texts, const size_t *lens, size_t n, const nd_lex_opts *opts,
			nd_pair **pairs, size_t *npairs, nd_lex_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
