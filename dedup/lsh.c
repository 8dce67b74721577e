/* LSH banding: the S-curve and its parameters, radix sorts, and the buckets of
 * one band. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lexical_internal.h"

double nd_lsh_prob(double s, unsigned bands, unsigned rows)
{
	if (bands == 0 || rows == 0 || !(s > 0.0))
		return 0.0;
	if (s >= 1.0)
		return 1.0;
	return 1.0 - pow(1.0 - pow(s, (double)rows), (double)bands);
}

/* The objective. Each area is divided by the length of its interval, i.e. the
 * weights apply to the mean false-positive rate over [0, t] and the mean miss rate
 * over [t, 1]. Without that the raw areas compare intervals of very different
 * length: at t = 0.9 the false-positive side is 9 times wider, which outweighs a
 * 3:1 recall-first weighting and picks b = 7, r = 18 with P(0.9) = 0.68 — a third
 * of the pairs right at the threshold missed. Normalised, the same weights pick
 * b = 9, r = 13 with P(0.9) = 0.93 and a mean recall of 0.99 over [0.9, 1].
 *
 * Simpson's rule on [lo, hi] with ND_SIMPSON_STEPS intervals. P(s) is a smooth
 * polynomial of degree b*r <= num_perm, and the error of composite Simpson is
 * (hi-lo) h^4 max|f''''| / 180; with 200 steps the areas are exact to ~1e-7 for
 * every b, r tried at num_perm = 128 (checked against 20000 steps), far below the
 * differences between neighbouring (b, r) choices (~1e-4). */
#define ND_SIMPSON_STEPS 200

static double area(double lo, double hi, unsigned b, unsigned r, int complement)
{
	double h = (hi - lo) / ND_SIMPSON_STEPS, sum = 0.0;
	for (int i = 0; i <= ND_SIMPSON_STEPS; i++) {
		double p = nd_lsh_prob(lo + i * h, b, r);
		double f = complement ? 1.0 - p : p;
		sum += (i == 0 || i == ND_SIMPSON_STEPS) ? f : (i & 1) ? 4.0 * f : 2.0 * f;
	}
	return sum * h / 3.0;
}

int nd_lsh_params(double threshold, unsigned num_perm, double fp_weight, double fn_weight,
		  unsigned *bands, unsigned *rows)
{
	double best = INFINITY;
	unsigned b, r, best_b = 0, best_r = 0;

	if (!bands || !rows)
		return nd_seterr(ND_EINVAL, "nd_lsh_params: NULL output");
	if (!(threshold > 0.0 && threshold < 1.0))
		return nd_seterr(ND_EINVAL, "LSH threshold %g is outside (0, 1)", threshold);
	if (num_perm == 0)
		return nd_seterr(ND_EINVAL, "LSH needs at least one permutation");
	if (!(fp_weight >= 0.0 && fn_weight >= 0.0 && isfinite(fp_weight) && isfinite(fn_weight)) ||
	    fp_weight + fn_weight == 0.0)
		return nd_seterr(ND_EINVAL, "LSH weights %g, %g must be >= 0 and not both 0", fp_weight,
				 fn_weight);
	/* Every (b, r) with b*r <= num_perm, in order of b then r; a later choice must
	 * be better by more than rounding noise, so equal costs keep the smaller b, r
	 * (fewer permutations to compute). */
	for (b = 1; b <= num_perm; b++) {
		for (r = 1; (unsigned long)b * r <= num_perm; r++) {
			double cost = fp_weight * area(0.0, threshold, b, r, 0) / threshold +
				      fn_weight * area(threshold, 1.0, b, r, 1) / (1.0 - threshold);
			if (cost < best - 1e-12) {
				best = cost;
				best_b = b;
				best_r = r;
			}
		}
	}
	*bands = best_b;
	*rows = best_r;
	return 0;
}

/* ---- vectors ------------------------------------------------------------- */

int nd_u64vec_append(nd_u64vec *v, const uint64_t *x, size_t n)
{
	if (n > v->cap - v->n) {
		size_t cap = v->cap ? v->cap : 256;
		uint64_t *p;
		while (cap - v->n < n) {
			if (cap > SIZE_MAX / 2 / sizeof *p)
				return nd_seterr(ND_ENOMEM, "too many candidate pairs");
			cap *= 2;
		}
		if (!(p = nd_reallocarray(v->v, cap, sizeof *p)))
			return nd_seterr(ND_ENOMEM, "out of memory for %zu candidate pairs", cap);
		v->v = p;
		v->cap = cap;
	}
	if (n)
		memcpy(v->v + v->n, x, n * sizeof *x);
	v->n += n;
	return 0;
}

int nd_u64vec_push(nd_u64vec *v, uint64_t x)
{
	if (ND_LIKELY(v->n < v->cap)) {
		v->v[v->n++] = x;
		return 0;
	}
	return nd_u64vec_append(v, &x, 1);
}

void nd_u64vec_free(nd_u64vec *v)
{
	if (!v)
		return;
	free(v->v);
	memset(v, 0, sizeof *v);
}

/* ---- radix sorts ---------------------------------------------------------- */

/* 11-bit digits: six passes cover 64 bits, and one digit's 2048 counters (16 KB)
 * stay in L1 while items are scattered. */
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES ((64 + RADIX_BITS - 1) / RADIX_BITS)

#define DEFINE_RADIX_SORT(name, type, keyof)                                                 \
	void name(type *v, type *tmp, size_t n)                                              \
	{                                                                                    \
		size_t count[RADIX_PASSES][RADIX_SIZE];                                      \
		type *src = v, *dst = tmp, *t;                                               \
		size_t i;                                                                    \
		unsigned d;                                                                  \
		if (n < 2)                                                                   \
			return;                                                              \
		memset(count, 0, sizeof count);                                              \
		for (i = 0; i < n; i++) {                                                    \
			uint64_t k = keyof(v[i]);                                            \
			for (d = 0; d < RADIX_PASSES; d++)                                   \
				count[d][(k >> (d * RADIX_BITS)) & (RADIX_SIZE - 1)]++;      \
		}                                                                            \
		for (d = 0; d < RADIX_PASSES; d++) {                                         \
			size_t *c = count[d], sum = 0;                                       \
			unsigned shift = d * RADIX_BITS;                                     \
			if (c[(keyof(v[0]) >> shift) & (RADIX_SIZE - 1)] == n)               \
				continue; /* every item has this digit: nothing moves */     \
			for (unsigned b = 0; b < RADIX_SIZE; b++) {                          \
				size_t cb = c[b];                                            \
				c[b] = sum;                                                  \
				sum += cb;                                                   \
			}                                                                    \
			for (i = 0; i < n; i++)                                              \
				dst[c[(keyof(src[i]) >> shift) & (RADIX_SIZE - 1)]++] = src[i]; \
			t = src;                                                             \
			src = dst;                                                           \
			dst = t;                                                             \
		}                                                                            \
		if (src != v)                                                                \
			memcpy(v, src, n * sizeof *v);                                       \
	}

#define KEY_U64(x) (x)
#define KEY_KV(x) ((x).key)
DEFINE_RADIX_SORT(nd_radix_sort_u64, uint64_t, KEY_U64)
DEFINE_RADIX_SORT(nd_radix_sort_kv, nd_kv, KEY_KV)

size_t nd_sort_unique_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
	size_t i, k = 0;
	nd_radix_sort_u64(v, tmp, n);
	for (i = 0; i < n; i++)
		if (k == 0 || v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

/* ---- one band ------------------------------------------------------------- */

static int cmp_kv(const void *x, const void *y)
{
	const nd_kv *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Sorts one bucket by (key, idx). Items arrive in idx order, so a stable sort on
 * the key alone is enough; insertion sort is that, and cheap for the few items a
 * bucket of random keys holds. Big buckets (near-duplicate clusters) go to qsort,
 * whose cost does not depend on how their keys interleave. */
static void sort_bucket(nd_kv *v, size_t n)
{
	if (n > 32) {
		qsort(v, n, sizeof *v, cmp_kv);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		nd_kv x = v[i];
		size_t j = i;
		while (j > 0 && v[j - 1].key > x.key) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

void nd_lsh_runs_free(nd_lsh_runs *r)
{
	if (!r)
		return;
	free(r->item);
	free(r->start);
	memset(r, 0, sizeof *r);
}

int nd_lsh_band_buckets(const uint64_t *keys, size_t stride, const unsigned char *active, size_t m,
			nd_kv *buf, nd_lsh_runs *out)
{
	size_t *start = NULL, nb, i, nitem = 0, nrun = 0;
	unsigned bits = 4, shift;
	int rc = 0;

	memset(out, 0, sizeof *out);
	/* Distribute by the top bits of the key into about one bucket per item (the
	 * keys are nd_hash64 outputs, so the top bits are uniform), then finish each
	 * small bucket in place: two passes over the items instead of a full sort. */
	while (bits < 16 && ((size_t)1 << bits) < m)
		bits++;
	shift = 64 - bits;
	nb = (size_t)1 << bits;
	if (!(start = nd_calloc(nb + 1, sizeof *start)))
		return nd_seterr(ND_ENOMEM, "out of memory for LSH buckets");
	for (i = 0; i < m; i++)
		if (!active || active[i])
			start[(keys[i * stride] >> shift) + 1]++;
	for (i = 0; i < nb; i++)
		start[i + 1] += start[i];
	for (i = 0; i < m; i++) {
		if (active && !active[i])
			continue;
		nd_kv *e = &buf[start[keys[i * stride] >> shift]++];
		e->key = keys[i * stride];
		e->idx = (uint32_t)i;
		e->pad_ = 0;
	}
	/* start[b] is now the end of bucket b, i.e. the start of bucket b+1; sort
	 * the buckets and count the runs of equal keys, then copy them out at their
	 * exact size (a band of mostly unique keys keeps almost nothing) */
	for (size_t b = 0, lo = 0; b < nb; lo = start[b], b++) {
		size_t hi = start[b], r;
		if ((b & 4095) == 0 && nd_interrupted()) {
			rc = nd_seterr(ND_EINTR, "interrupted");
			goto cleanup;
		}
		if (hi - lo < 2)
			continue;
		sort_bucket(buf + lo, hi - lo);
		for (r = lo; r < hi;) {
			size_t e = r + 1;
			while (e < hi && buf[e].key == buf[r].key)
				e++;
			if (e - r >= 2) {
				nitem += e - r;
				nrun++;
			}
			r = e;
		}
	}
	if (!(out->item = nd_malloc(nitem * sizeof *out->item)) ||
	    !(out->start = nd_malloc((nrun + 1) * sizeof *out->start))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu LSH buckets", nrun);
		goto cleanup;
	}
	out->start[0] = 0;
	nitem = 0;
	/* equal keys share their top bits, so no run spans two buckets */
	for (size_t r = 0, e, total = start[nb - 1]; r < total; r = e) {
		for (e = r + 1; e < total && buf[e].key == buf[r].key; e++)
			;
		if (e - r < 2)
			continue;
		for (size_t k = r; k < e; k++)
			out->item[nitem++] = buf[k].idx;
		out->start[++out->nrun] = (uint32_t)nitem;
	}
cleanup:
	if (rc)
		nd_lsh_runs_free(out);
	free(start);
	return rc;
}
