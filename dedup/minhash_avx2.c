/* AVX2 MinHash kernel: 8 permutations per 256-bit vector, bitwise identical to
 * nd_minhash_scalar (tests/unit/test_lexical.c compares them on random input).
 *
 * Built without -mavx2: only the functions marked target("avx2") use AVX2, and
 * nd_minhash_best() calls them only after __builtin_cpu_supports("avx2").
 *
 * Per key x and block of permutations 0..7 (see minhash.c for the family):
 *   even = lo32(a_{0,2,4,6}) * x + b_{0,2,4,6}    VPMULUDQ + VPADDQ, 64-bit lanes
 *   odd  = lo32(a_{1,3,5,7}) * x + b_{1,3,5,7}
 *   h    = [hi32(even_0), hi32(odd_0), hi32(even_1), ...]   shift + blend
 *        + lo32(hi32(a_{0..7}) * x)                VPMULLD
 *   sig  = min(sig, h)                             VPMINUD
 * The shift moves each even lane's high half down; the odd lanes' high halves are
 * already in the odd 32-bit positions, so one blend interleaves the two.
 */
#include <string.h>
#include "lexical_internal.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

#define ND_AVX2 __attribute__((target("avx2")))

typedef struct {
	__m256i ae, ao, be, bo, ah;
} mh_regs;

ND_AVX2 static inline mh_regs load_block(const nd_mh_block *bk)
{
	mh_regs r;
	r.ae = _mm256_loadu_si256((const __m256i *)bk->alo_even);
	r.ao = _mm256_loadu_si256((const __m256i *)bk->alo_odd);
	r.be = _mm256_loadu_si256((const __m256i *)bk->b_even);
	r.bo = _mm256_loadu_si256((const __m256i *)bk->b_odd);
	r.ah = _mm256_loadu_si256((const __m256i *)bk->ahi);
	return r;
}

ND_AVX2 static inline __m256i hash8(const mh_regs *r, __m256i xv)
{
	__m256i pe = _mm256_add_epi64(_mm256_mul_epu32(r->ae, xv), r->be);
	__m256i po = _mm256_add_epi64(_mm256_mul_epu32(r->ao, xv), r->bo);
	__m256i h = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
	return _mm256_add_epi32(h, _mm256_mullo_epi32(r->ah, xv));
}

ND_AVX2 void nd_minhash_avx2(const nd_mh_perms *p, const uint32_t *x, size_t n, uint32_t *sig)
{
	size_t nblk = p->k / 8, bi = 0, j;

	/* two blocks per pass over the keys: each broadcast key feeds 16 permutations,
	 * and the two independent min chains keep both multipliers busy */
	for (; bi + 2 <= nblk; bi += 2) {
		mh_regs r0 = load_block(&p->blk[bi]), r1 = load_block(&p->blk[bi + 1]);
		__m256i m0 = _mm256_set1_epi32(-1), m1 = m0;
		for (j = 0; j < n; j++) {
			__m256i xv = _mm256_set1_epi32((int)x[j]);
			m0 = _mm256_min_epu32(m0, hash8(&r0, xv));
			m1 = _mm256_min_epu32(m1, hash8(&r1, xv));
		}
		_mm256_storeu_si256((__m256i *)(sig + 8 * bi), m0);
		_mm256_storeu_si256((__m256i *)(sig + 8 * bi + 8), m1);
	}
	for (; bi < nblk; bi++) {
		mh_regs r0 = load_block(&p->blk[bi]);
		__m256i m0 = _mm256_set1_epi32(-1);
		for (j = 0; j < n; j++)
			m0 = _mm256_min_epu32(m0, hash8(&r0, _mm256_set1_epi32((int)x[j])));
		_mm256_storeu_si256((__m256i *)(sig + 8 * bi), m0);
	}
	/* the last k % 8 permutations: one more block, its unused lanes dropped */
	if (p->k % 8) {
		uint32_t last[8];
		mh_regs r0 = load_block(&p->blk[nblk]);
		__m256i m0 = _mm256_set1_epi32(-1);
		for (j = 0; j < n; j++)
			m0 = _mm256_min_epu32(m0, hash8(&r0, _mm256_set1_epi32((int)x[j])));
		_mm256_storeu_si256((__m256i *)last, m0);
		memcpy(sig + 8 * nblk, last, (p->k % 8) * sizeof *sig);
	}
}

#else /* not x86 or not a GNU-compatible compiler: the reference serves */

void nd_minhash_avx2(const nd_mh_perms *p, const uint32_t *x, size_t n, uint32_t *sig)
{
	nd_minhash_scalar(p, x, n, sig);
}


#endif

int nd_minhash_have_avx2(void) { return nd_cpu_has_avx2(); }
