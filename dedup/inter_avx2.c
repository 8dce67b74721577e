/* AVX2 intersection count of two sorted sets of unique 32-bit keys, with the
 * give-up test of nd_inter_at_least (shingle.c), which it replaces in the lexical
 * pass's exact check when the CPU has AVX2 and POPCNT.
 *
 * Blocks of eight keys from each side are compared all against all (the B block
 * rotated seven times, eight compares); the block with the smaller last key is
 * then replaced, both when the last keys are equal. Every pair of blocks whose
 * key ranges overlap is compared exactly once (the blocks advance as a merge
 * advances single keys), so each common key is counted once; keys are unique, so
 * each lane matches at most once. Fewer than eight keys left on a side: the
 * scalar merge finishes from where the blocks stopped (a key the blocks already
 * matched cannot match again further on).
 *
 * Built without -mavx2: only the function marked target("avx2,popcnt") uses them,
 * and nd_inter_best() hands it out only where the CPU has both.
 */
#include "lexical_internal.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

__attribute__((target("avx2,popcnt"))) size_t nd_inter_at_least_avx2(const uint32_t *a, size_t na,
								     const uint32_t *b, size_t nb, size_t need)
{
	size_t i = 0, j = 0, inter = 0, slack_a, slack_b;
	if (need > na || need > nb)
		return 0;
	/* keys of a (of b) that may go unmatched. inter may already hold matches of
	 * the current blocks, so "i - inter" is a lower bound on a's unmatched keys
	 * before i: giving up on it is safe (written without the subtraction, which
	 * could wrap) */
	slack_a = na - need;
	slack_b = nb - need;
	const __m256i rot = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
	while (i + 8 <= na && j + 8 <= nb) {
		__m256i va = _mm256_loadu_si256((const __m256i *)(a + i));
		__m256i vb = _mm256_loadu_si256((const __m256i *)(b + j));
		__m256i m = _mm256_cmpeq_epi32(va, vb);
		for (int r = 1; r < 8; r++) {
			vb = _mm256_permutevar8x32_epi32(vb, rot);
			m = _mm256_or_si256(m, _mm256_cmpeq_epi32(va, vb));
		}
		inter += (size_t)__builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(m)));
		uint32_t amax = a[i + 7], bmax = b[j + 7];
		i += amax <= bmax ? 8 : 0;
		j += bmax <= amax ? 8 : 0;
		if (i > inter + slack_a || j > inter + slack_b)
			return inter;
	}
	while (i < na && j < nb) {
		uint32_t x = a[i], y = b[j];
		inter += x == y;
		i += x <= y;
		j += y <= x;
		if (i > inter + slack_a || j > inter + slack_b)
			return inter;
	}
	return inter;
}

#else /* not x86 or not a GNU-compatible compiler: the scalar merge serves */

size_t nd_inter_at_least_avx2(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t need)
{
	return nd_inter_at_least(a, na, b, nb, need);
}

#endif

nd_inter_fn nd_inter_best(void)
{
	return nd_cpu_has_avx2() && nd_cpu_has_popcnt() ? nd_inter_at_least_avx2 : nd_inter_at_least;
}
