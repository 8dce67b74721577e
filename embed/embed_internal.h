/* Private interfaces between the embed/ files (not installed). */
#ifndef ND_EMBED_INTERNAL_H
#define ND_EMBED_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "neardup/embed.h"

/* Per-worker scratch arrays are sized by this many workers. */
unsigned nd_embed_workers(unsigned threads);

/* Built-in embedder (builtin.c): writes n rows of opts->dim floats into @out
 * (caller-allocated, n * dim), unit length or zero. */
int nd_builtin_embed(float *out, const char *const *texts, const size_t *lens, size_t n,
		     const nd_embed_opts *opts, nd_embed_stats *stats);

/* nd_vectors_check of rows [first, first + n), named by their index in the file. */
int nd_vectors_check_from(float *x, size_t n, size_t d, size_t first);

/* HTTP embedder (http.c): *out malloc'd n * *dim, rows as the service returned them
 * (normalised later by nd_vectors_check). */
int nd_http_embed(float **out, size_t *dim, const char *const *texts, const size_t *lens, size_t n,
		  const nd_embed_opts *opts, nd_embed_stats *stats);

/* y[0..d) += w * x[0..d): the projection kernel (vectorised clones, one dispatch). */
void nd_axpy_f32(float *restrict y, const float *restrict x, float w, size_t d);

/* The FAISS adapter (faiss_index.c), the only code that includes FAISS headers. Every
 * failure maps to ND_EBACKEND with FAISS's message copied at once.
 *
 * nd_faiss_range(): every (i, j), i < j, of the @n vectors @x with <x_i, x_j> >= radius,
 * through IndexFlatIP range search; ids[] maps local rows to the ids pushed (NULL =
 * identity). Appends a << 32 | b keys (ids[i] < ids[j]) to *keys (grown with realloc). */
typedef struct {
	uint64_t *v;
	size_t n, cap;
} nd_keyvec;
int nd_keyvec_push(nd_keyvec *kv, uint64_t key);
int nd_faiss_range(nd_keyvec *keys, const float *x, const uint32_t *ids, size_t n, size_t d, float radius);

/* nd_faiss_knn(): for each of the @n vectors, its @k nearest others (by the
 * double-precision inner product; ties by row) among the @n, kept when the inner
 * product is >= @threshold; keys as nd_faiss_range. */
int nd_faiss_knn(nd_keyvec *keys, const float *x, const uint32_t *ids, size_t n, size_t d, unsigned k,
		 double threshold);

/* nd_faiss_kmeans(): @k centroids (k * d, unit length: spherical) of @n vectors, seeded,
 * @niter iterations on at most @max_per_centroid * k sampled points. */
int nd_faiss_kmeans(float *centroids, const float *x, size_t n, size_t d, size_t k, int niter,
		    int max_per_centroid, int seed);

/* nd_faiss_assign(): the @probe nearest centroids (by inner product) of each vector:
 * labels[i * probe + p]. */
int nd_faiss_assign(int64_t *labels, const float *centroids, size_t k, const float *x, size_t n, size_t d,
		    unsigned probe);

/* Sets FAISS's OpenMP thread count for regions the calling thread starts (0 = leave
 * it); returns the count before. */
unsigned nd_faiss_threads(unsigned threads);

#endif
