/* The one FAISS adapter: every FAISS call of the project goes through this file. A FAISS
 * failure becomes ND_EBACKEND with faiss_get_last_error() copied at once (the message is
 * only valid until FAISS's next call). */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
/* FAISS 1.7.3 declares faiss_get_last_error() without (void) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <faiss/c_api/Clustering_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#pragma GCC diagnostic pop
#include "internal.h"
#include "embed_internal.h"

static int faiss_fail(const char *what)
{
	const char *m = faiss_get_last_error();
	return nd_seterr(ND_EBACKEND, "FAISS %s failed: %s", what, m && *m ? m : "(no message)");
}

int nd_keyvec_push(nd_keyvec *kv, uint64_t key)
{
	if (kv->n == kv->cap) {
		size_t cap = kv->cap ? kv->cap * 2 : 1024;
		uint64_t *p = nd_reallocarray(kv->v, cap, sizeof *p);
		if (!p)
			return nd_seterr(ND_ENOMEM, "semantic pass: out of memory for candidate pairs");
		kv->v = p;
		kv->cap = cap;
	}
	kv->v[kv->n++] = key;
	return 0;
}

unsigned nd_faiss_threads(unsigned threads)
{
	int before = omp_get_max_threads();
	if (threads)
		omp_set_num_threads((int)threads);
	return before > 0 ? (unsigned)before : 1;
}

int nd_faiss_range(nd_keyvec *keys, const float *x, const uint32_t *ids, size_t n, size_t d, float radius)
{
	FaissIndexFlatIP *ix = NULL;
	FaissRangeSearchResult *res = NULL;
	int rc = 0;
	if (n < 2)
		return 0;
	if (faiss_IndexFlatIP_new_with(&ix, (idx_t)d)) {
		rc = faiss_fail("IndexFlatIP");
		goto out;
	}
	if (faiss_Index_add((FaissIndex *)ix, (idx_t)n, x)) {
		rc = faiss_fail("IndexFlatIP add");
		goto out;
	}
	if (faiss_RangeSearchResult_new(&res, (idx_t)n)) {
		rc = faiss_fail("RangeSearchResult");
		goto out;
	}
	if (faiss_Index_range_search((FaissIndex *)ix, (idx_t)n, x, radius, res)) {
		rc = faiss_fail("range search");
		goto out;
	}
	{
		size_t *lims;
		idx_t *labels;
		float *dist;
		faiss_RangeSearchResult_lims(res, &lims);
		faiss_RangeSearchResult_labels(res, &labels, &dist);
		for (size_t q = 0; q < n; q++)
			for (size_t k = lims[q]; k < lims[q + 1]; k++) {
				size_t j = (size_t)labels[k];
				if (j <= q || j >= n)
					continue;
				uint64_t a = ids ? ids[q] : q, b = ids ? ids[j] : j;
				if (a > b) {
					uint64_t t = a;
					a = b;
					b = t;
				}
				if ((rc = nd_keyvec_push(keys, a << 32 | b)))
					goto out;
			}
	}
out:
	faiss_RangeSearchResult_free(res);
	faiss_Index_free((FaissIndex *)ix);
	return rc;
}

/* the exact inner product in double (the decision value) */
static double dot_d(const float *a, const float *b, size_t d)
{
	double s = 0;
	for (size_t k = 0; k < d; k++)
		s += (double)a[k] * b[k];
	return s;
}

typedef struct {
	double sim;
	size_t j;
} nbr;

static int cmp_nbr(const void *a, const void *b)
{
	const nbr *x = a, *y = b;
	if (x->sim != y->sim)
		return x->sim > y->sim ? -1 : 1;
	return (x->j > y->j) - (x->j < y->j);
}

int nd_faiss_knn(nd_keyvec *keys, const float *x, const uint32_t *ids, size_t n, size_t d, unsigned k,
		 double threshold)
{
	FaissIndexFlatIP *ix = NULL;
	float *dist = NULL;
	idx_t *lab = NULL;
	nbr *nb = NULL;
	int rc = 0;
	/* FAISS's float k-NN asks for twice the neighbours (+ the query itself), which are
	 * re-ranked on the double-precision value: the k kept do not depend on float
	 * rounding, hence not on the thread count */
	size_t kk = 2 * (size_t)k + 1, slice = 16384;
	if (n < 2)
		return 0;
	if (kk > n)
		kk = n;
	dist = malloc(slice * kk * sizeof *dist);
	lab = malloc(slice * kk * sizeof *lab);
	nb = malloc(kk * sizeof *nb);
	if (!dist || !lab || !nb) {
		rc = nd_seterr(ND_ENOMEM, "semantic pass: out of memory for neighbour lists");
		goto out;
	}
	if (faiss_IndexFlatIP_new_with(&ix, (idx_t)d) || faiss_Index_add((FaissIndex *)ix, (idx_t)n, x)) {
		rc = faiss_fail("IndexFlatIP");
		goto out;
	}
	for (size_t q0 = 0; q0 < n; q0 += slice) {
		size_t m = n - q0 < slice ? n - q0 : slice;
		if (nd_interrupted()) {
			rc = nd_seterr(ND_EINTR, "interrupted");
			goto out;
		}
		if (faiss_Index_search((FaissIndex *)ix, (idx_t)m, x + q0 * d, (idx_t)kk, dist, lab)) {
			rc = faiss_fail("k-NN search");
			goto out;
		}
		for (size_t r = 0; r < m; r++) {
			size_t q = q0 + r, c = 0;
			for (size_t t = 0; t < kk; t++) {
				idx_t j = lab[r * kk + t];
				/* far below the threshold: FAISS's float error is ~1e-6 */
				if (j < 0 || (size_t)j == q || (size_t)j >= n || dist[r * kk + t] < (float)threshold - 1e-4f)
					continue;
				nb[c].j = (size_t)j;
				nb[c].sim = dot_d(x + q * d, x + (size_t)j * d, d);
				c++;
			}
			qsort(nb, c, sizeof *nb, cmp_nbr);
			for (size_t t = 0; t < c && t < k && nb[t].sim >= threshold; t++) {
				uint64_t a = ids ? ids[q] : q, b = ids ? ids[nb[t].j] : nb[t].j;
				if (a > b) {
					uint64_t tmp = a;
					a = b;
					b = tmp;
				}
				if ((rc = nd_keyvec_push(keys, a << 32 | b)))
					goto out;
			}
		}
	}
out:
	free(dist);
	free(lab);
	free(nb);
	faiss_Index_free((FaissIndex *)ix);
	return rc;
}

int nd_faiss_kmeans(float *centroids, const float *x, size_t n, size_t d, size_t k, int niter,
		    int max_per_centroid, int seed)
{
	FaissClusteringParameters cp;
	FaissClustering *cl = NULL;
	FaissIndexFlatIP *ix = NULL;
	int rc = 0;
	faiss_ClusteringParameters_init(&cp);
	cp.niter = niter;
	cp.spherical = 1; /* unit centroids: inner-product assignment = cosine */
	cp.seed = seed;
	cp.max_points_per_centroid = max_per_centroid;
	cp.min_points_per_centroid = 1;
	if (faiss_Clustering_new_with_params(&cl, (int)d, (int)k, &cp)) {
		rc = faiss_fail("Clustering");
		goto out;
	}
	if (faiss_IndexFlatIP_new_with(&ix, (idx_t)d)) {
		rc = faiss_fail("IndexFlatIP");
		goto out;
	}
	if (faiss_Clustering_train(cl, (idx_t)n, x, (FaissIndex *)ix)) {
		rc = faiss_fail("k-means training");
		goto out;
	}
	{
		float *c;
		size_t sz;
		faiss_Clustering_centroids(cl, &c, &sz);
		if (sz != k * d) {
			rc = nd_seterr(ND_EBACKEND, "FAISS k-means returned %zu floats, expected %zu", sz, k * d);
			goto out;
		}
		memcpy(centroids, c, sz * sizeof *c);
	}
out:
	faiss_Clustering_free(cl);
	faiss_Index_free((FaissIndex *)ix);
	return rc;
}

int nd_faiss_assign(int64_t *labels, const float *centroids, size_t k, const float *x, size_t n, size_t d,
		    unsigned probe)
{
	FaissIndexFlatIP *ix = NULL;
	float *dist = NULL;
	int rc = 0;
	/* in slices, so the distance buffer stays small */
	const size_t slice = 65536;
	dist = malloc(slice * probe * sizeof *dist);
	if (!dist)
		return nd_seterr(ND_ENOMEM, "semantic pass: out of memory");
	if (faiss_IndexFlatIP_new_with(&ix, (idx_t)d) || faiss_Index_add((FaissIndex *)ix, (idx_t)k, centroids)) {
		rc = faiss_fail("IndexFlatIP (centroids)");
		goto out;
	}
	for (size_t b = 0; b < n; b += slice) {
		size_t m = n - b < slice ? n - b : slice;
		if (nd_interrupted()) {
			rc = nd_seterr(ND_EINTR, "interrupted");
			goto out;
		}
		if (faiss_Index_search((FaissIndex *)ix, (idx_t)m, x + b * d, (idx_t)probe, dist,
				       (idx_t *)(labels + b * probe))) {
			rc = faiss_fail("centroid assignment");
			goto out;
		}
	}
out:
	free(dist);
	faiss_Index_free((FaissIndex *)ix);
	return rc;
}
