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
 * with nd_hash64 (seed 0). At n = 1, two neighbouring run tokens (Latin words,
 * numbers: not CJK characters) also form a 2-token shingle, so word order counts
 * in Latin text ("the dog bit the man" vs "the man bit the dog": Jaccard 7/9, not
 * 1) while CJK text keeps its character sets. A text with fewer than n tokens gets one shingle for
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

/* ---- shingle sets ---------------------------------------------------------- */

/* A compact store of the shingle sets of many texts, built once and shared by
 * everything that needs an exact Jaccard: the lexical pass verifies its candidates
 * on it, and hands it to the caller (nd_lex_pairs_ex) for later comparisons.
 *
 * A set is the sorted, de-duplicated 32-bit keys of a text's shingles, the key of
 * shingle hash h (an nd_shingles value) being (uint32_t)(h ^ (h >> 32)). Folding
 * to 32 bits halves the memory (4 bytes per distinct shingle per text, + 4 to 8
 * per text: ~155 MB for the 1M-question bench corpus at ngram 1, its copies sharing
 * one set) at the cost of merging two distinct shingles with probability 2^-32
 * per pair of shingles: the Jaccard of a text pair whose union holds U distinct
 * shingles differs from nd_jaccard_sorted's with probability below U^2 / 2^33
 * (5e-6 for U = 200), and then by about 1/U. At ngram 1 the shingles are
 * characters and numbers, a few thousand in a whole bank: almost surely no two of
 * them merge, and the Jaccards are exactly nd_jaccard_sorted's.
 *
 * A built store is read-only: any number of threads may query it at once. */
typedef struct nd_shingle_sets nd_shingle_sets;

/*! nd_shingle_sets_build() :
 * Builds the shingle sets of texts[0 .. n) (as nd_shingles shingles them; @lens
 * may be NULL for NUL-terminated texts; texts[i] may be NULL or empty, giving an
 * empty set) on @threads workers (0 = all cores; the result does not depend on
 * it). On success *out owns the store; free it with nd_shingle_sets_free().
 * Polls the interrupt flag (nd_set_interrupt_flag).
 * @return 0, ND_EINVAL (NULL out, NULL texts with n > 0, ngram == 0), ND_ENOMEM,
 * ND_EUTF8 (the message names the text), ND_ELIMIT (n >= UINT32_MAX), ND_EINTR;
 * *out is NULL on failure. */
ND_API int nd_shingle_sets_build(nd_shingle_sets **out, const char *const *texts, const size_t *lens,
				 size_t n, unsigned ngram, unsigned threads);

/*! nd_shingle_sets_count() : the number of texts (0 for NULL). */
ND_API size_t nd_shingle_sets_count(const nd_shingle_sets *s);

/*! nd_shingle_sets_get() :
 * The set of text @i: its keys, ascending and unique, owned by the store, and
 * their number in *len (@len may be NULL). An empty set gives NULL and 0; so does
 * an @i at or above the count (a caller error: there is no error code). */
ND_API const uint32_t *nd_shingle_sets_get(const nd_shingle_sets *s, size_t i, size_t *len);

/*! nd_shingle_sets_jaccard() :
 * The exact Jaccard of the sets of texts @a and @b, |A n B| / |A u B| as a
 * double, 0 when both are empty (as nd_jaccard_sorted); an index out of range
 * counts as an empty set. Time: a merge of the two sets. */
ND_API double nd_shingle_sets_jaccard(const nd_shingle_sets *s, size_t a, size_t b);

/*! nd_shingle_sets_free() : releases @s; NULL is a harmless no-op. */
ND_API void nd_shingle_sets_free(nd_shingle_sets *s);

/*! nd_lsh_prob() : P(candidate) = 1 - (1 - s^r)^b for Jaccard s, b bands of r rows. */
ND_API double nd_lsh_prob(double s, unsigned bands, unsigned rows);

/*! nd_lsh_params() :
 * Chooses b, r with b*r <= num_perm minimising
 *   fp_weight * (1/t) ∫_0^t P(s) ds + fn_weight * (1/(1-t)) ∫_t^1 (1 - P(s)) ds
 * i.e. the false-positive and false-negative areas under the S-curve, each taken
 * as a mean rate over its interval (raw areas would weigh [0, t] by its width: at
 * t = 0.9 nine times more than [t, 1], whatever the weights say). Simpson
 * integration over every (b, r); on a tie the smaller b, then r, wins.
 * With t = 0.9, 128 permutations and weights 0.25/0.75 it picks
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
	double threshold;      /* Jaccard of shingle sets an edge needs, in (0, 1]; default 0.85
	                        * (docs/accuracy.md: real dev F1 95.6% vs 90.7% at 0.9, same
	                        * precision; generated F1 96.3% vs 96.2%) */
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
	{ ND_LEX_OPTS_VERSION, ND_LEX_MINHASH, 0.85, 1, 128, 0, 0, 0.25, 0.75, 3, 1, 0, 256 }

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
	size_t candidates;      /* distinct candidate pairs, each checked once */
	size_t verified;        /* candidate pairs that passed the exact check */
	size_t empty_texts;     /* texts that took part in nothing */
	size_t big_buckets;     /* buckets that exceeded max_bucket (summed over bands/tables) */
	double t_signature;     /* seconds: grouping identical texts, shingle sets, signatures */
	double t_candidates;    /* bucketing (MinHash) or the SimHash tables + sort */
	double t_verify;        /* MinHash: enumerating each bucket's pairs and checking
	                         * them (the two are one loop); SimHash: the checks */
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
 * Verification is exact on the shingle-set store (nd_shingle_sets: 32-bit keys, see
 * there), each distinct candidate checked once; a size filter and a 256-bit
 * sketch reject most candidates before their sets are merged. The pairs found
 * are the same as checking every candidate's (double)|A n B| / |A u B| >= threshold.
 *
 * *pairs is malloc'd (free with free()), sorted by (a, b), without repeats; its
 * content is identical for any opts->threads. @stats may be NULL.
 * Memory, besides the caller's texts: the store (4 bytes per distinct shingle of
 * each distinct text, + 4 to 8 per text), a 128-byte row per distinct text (band keys,
 * sketch; b <= 10), the bucket lists (at most 4 bytes per text per band), 16*n
 * per worker (at most b workers) while bucketing, 36*n briefly while grouping
 * identical texts, and 16 bytes per verified pair -- never the candidate list:
 * at 1M templated exam questions (ngram 1, b = 9, 2 cores, 32M candidates) the
 * pass peaks at ~290 MB, of which the store is ~155 MB. Time is dominated by
 * shingling and n * shingles * bands*rows MinHash evaluations (AVX2 when the CPU
 * has it), and on templated corpora by the candidate checks.
 * Polls the interrupt flag (nd_set_interrupt_flag).
 * @return 0, ND_EINVAL, ND_ENOMEM, ND_EUTF8 (a text is not valid UTF-8; the
 * message names it), ND_ELIMIT (n > UINT32_MAX), ND_EINTR. */
ND_API int nd_lex_pairs(const char *const *texts, const size_t *lens, size_t n, const nd_lex_opts *opts,
			nd_pair **pairs, size_t *npairs, nd_lex_stats *stats);

/*! nd_lex_pairs_ex() :
 * nd_lex_pairs(), which also hands over the shingle-set store it verified with,
 * so the caller can compare any two records later without shingling again. On
 * success, when @sets is not NULL, *sets holds one set per record (n of them;
 * identical texts share one, empty texts have an empty set), built with
 * opts->ngram; the caller frees it with nd_shingle_sets_free(). On failure *sets
 * is NULL. With @sets NULL this is nd_lex_pairs(). */
ND_API int nd_lex_pairs_ex(const char *const *texts, const size_t *lens, size_t n, const nd_lex_opts *opts,
			   nd_pair **pairs, size_t *npairs, nd_lex_stats *stats, nd_shingle_sets **sets);

#ifdef __cplusplus
}
#endif
#endif
