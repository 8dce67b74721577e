/* MinHash signatures: the hash family, the scalar reference kernel, dispatch.
 *
 * The family. Shingles arrive as well-mixed 64-bit nd_hash64 values, folded to a
 * 32-bit key x (nd_mh_key). Permutation i is
 *
 *     h_i(x) = hi32((a_i * x + b_i) mod 2^64),  a_i, b_i uniform 64-bit,
 *
 * Dietzfelbinger's multiply-add-shift ("Universal hashing and k-wise independent
 * random variables via integer arithmetic without primes", STACS 1996): for
 * w-bit keys and M-bit outputs computed in wbar-bit words it is strongly
 * universal (pairwise independent) when wbar >= w + M - 1; here 64 >= 32 + 32 - 1.
 * Pairwise independence alone does not make min-wise independence, but the keys
 * themselves are outputs of a strong hash, so each set is already a random-looking
 * set of 32-bit keys, and the (a_i, b_i) are drawn independently for every i: the
 * permutations are independent of each other, and the statistical test in
 * tests/unit/test_lexical.c checks the estimator against exact Jaccard within
 * its theoretical error sqrt(J(1-J)/k).
 *
 * Why this family: the whole 64-bit product is never needed, only its high half
 * plus a carry, which AVX2 computes without a 64x64 multiply:
 *     hi32(a*x + b) = hi32(lo32(a)*x + b) + lo32(hi32(a)*x)   (mod 2^32)
 * one 32x32->64 multiply (VPMULUDQ) and one 32x32->32 multiply (VPMULLD) per
 * value. A prime-modulus family ((a x + b) mod p) would need 64-bit division or
 * a Mersenne reduction per value, several times the cost.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "lexical_internal.h"

/* SplitMix64 (Steele, Lea, Flood 2014): a seeded stream of well-spread 64-bit
 * words to draw the (a_i, b_i) from; any seed, including 0, works. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void nd_mh_perms_free(nd_mh_perms *p)
{
	if (!p)
		return;
	free(p->a);
	free(p->b);
	free(p->blk);
	memset(p, 0, sizeof *p);
}

int nd_mh_perms_init(nd_mh_perms *p, unsigned k, uint64_t seed)
{
	uint64_t st = seed;
	unsigned i;

	memset(p, 0, sizeof *p);
	if (k == 0)
		return nd_seterr(ND_EINVAL, "MinHash needs at least one permutation");
	p->a = nd_malloc(k * sizeof *p->a);
	p->b = nd_malloc(k * sizeof *p->b);
	p->blk = nd_calloc(k / 8 + 1, sizeof *p->blk);
	if (!p->a || !p->b || !p->blk) {
		nd_mh_perms_free(p);
		return nd_seterr(ND_ENOMEM, "out of memory for %u MinHash permutations", k);
	}
	p->k = k;
	for (i = 0; i < k; i++) {
		p->a[i] = splitmix64(&st);
		p->b[i] = splitmix64(&st);
	}
	/* k / 8 full blocks, then a last partial one (unused lanes stay zero: the
	 * SIMD kernel computes them and drops them) */
	for (i = 0; i < k; i++) {
		nd_mh_block *bk = &p->blk[i / 8];
		unsigned lane = i % 8;
		if (lane & 1) {
			bk->alo_odd[lane / 2] = (uint32_t)p->a[i];
			bk->b_odd[lane / 2] = p->b[i];
		} else {
			bk->alo_even[lane / 2] = (uint32_t)p->a[i];
			bk->b_even[lane / 2] = p->b[i];
		}
		bk->ahi[lane] = (uint32_t)(p->a[i] >> 32);
	}
	return 0;
}

void nd_minhash_scalar(const nd_mh_perms *p, const uint32_t *x, size_t n, uint32_t *sig)
{
	for (unsigned i = 0; i < p->k; i++) {
		uint64_t a = p->a[i], b = p->b[i];
		uint32_t m = UINT32_MAX;
		for (size_t j = 0; j < n; j++) {
			uint32_t v = (uint32_t)((a * x[j] + b) >> 32);
			m = v < m ? v : m;
		}
		sig[i] = m;
	}
}

static nd_minhash_fn select_minhash(const char **name)
{
	if (nd_minhash_have_avx2()) {
		*name = "avx2";
		return nd_minhash_avx2;
	}
	*name = "scalar";
	return nd_minhash_scalar;
}

/* Chosen once and cached, libdeflate-style. Two threads racing on the first call
 * both compute the same answer; the atomic makes the race well-defined. */
static _Atomic(nd_minhash_fn) best_fn;
static _Atomic(const char *) best_name;

nd_minhash_fn nd_minhash_best(void)
{
	nd_minhash_fn f = atomic_load_explicit(&best_fn, memory_order_acquire);
	if (!f) {
		const char *name;
		f = select_minhash(&name);
		atomic_store_explicit(&best_name, name, memory_order_relaxed);
		atomic_store_explicit(&best_fn, f, memory_order_release);
	}
	return f;
}

const char *nd_minhash_best_name(void)
{
	const char *name;
	nd_minhash_best();
	name = atomic_load_explicit(&best_name, memory_order_relaxed);
	return name ? name : "scalar";
}

void nd_band_keys(const uint32_t *sig, unsigned bands, unsigned rows, uint64_t *keys)
{
	/* the band number seeds the hash only to keep equal row values of different
	 * bands apart in debugging output; bands are bucketed separately anyway */
	for (unsigned j = 0; j < bands; j++)
		keys[j] = nd_hash64(sig + (size_t)j * rows, (size_t)rows * sizeof *sig, j);
}
