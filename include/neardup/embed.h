/* neardup — the semantic second pass: embedders, vector files, the similarity index.
 *
 * A text becomes a unit vector (one embedder interface, three implementations):
 *   ND_EMBED_BUILTIN  no model files: TF-IDF-weighted hashed character n-grams of the
 *                     corpus itself, reduced to `dim` dimensions by a seeded randomized
 *                     truncated SVD (latent semantic analysis) on OpenBLAS/LAPACK;
 *   ND_EMBED_VECTORS  a file computed elsewhere: .npy (float32/float16, C order,
 *                     shape (n, d)) or .fvecs, one row per record;
 *   ND_EMBED_HTTP     an OpenAI-compatible service (POST {url}/embeddings: vLLM,
 *                     text-embeddings-inference, Ollama), batched, concurrent (libcurl
 *                     multi), retried with exponential backoff and jitter, cached on disk.
 * Every vector handed out is L2-normalised, so inner product = cosine.
 *
 * Pairs with cosine >= threshold are then found with FAISS (embed/faiss_index.c, the only
 * code that includes FAISS): each vector's `knn` nearest (or, knn 0, every pair), by exact
 * IndexFlatIP search for small sets, k-means blocking (each vector in the blocks of its
 * nearest `probe` centroids, exact search inside each block) above `exact_max` vectors. The cosine of every pair is recomputed in
 * double precision in a fixed order and the pairs are sorted, so the output is the same
 * for any thread count.
 *
 * Thread safety: every function here may run on several threads at once on different
 * arguments. They never print, exit or abort. The k-means search sets OpenBLAS's
 * process-wide thread count to 1 while it runs (its own workers each run one BLAS thread)
 * and restores it afterwards; other BLAS work in the process meanwhile runs on one thread.
 */
#ifndef ND_EMBED_H
#define ND_EMBED_H

#include "neardup/common.h"
#include "neardup/dedup.h"   /* nd_extra_pair */
#include "neardup/records.h" /* nd_dataset */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { ND_EMBED_BUILTIN = 0, ND_EMBED_VECTORS, ND_EMBED_HTTP } nd_embed_kind;

/*! nd_embed_kind_name() : "builtin", "vectors", "http" (static). */
ND_API const char *nd_embed_kind_name(nd_embed_kind k);

typedef enum {
	ND_INDEX_AUTO = 0, /* exact up to exact_max vectors, else k-means blocking */
	ND_INDEX_EXACT,    /* IndexFlatIP range search over all pairs (n^2 d work) */
	ND_INDEX_KMEANS    /* k-means blocking (approximate: see docs/embed.md for recall) */
} nd_index_kind;

ND_API const char *nd_index_kind_name(nd_index_kind k);

#define ND_EMBED_OPTS_VERSION 1
typedef struct {
	unsigned version;        /* ND_EMBED_OPTS_VERSION */
	nd_embed_kind kind;      /* default ND_EMBED_BUILTIN */
	unsigned threads;        /* 0 = all cores; output does not depend on it */

	/* built-in */
	unsigned dim;            /* output dimension; default 256. For HTTP/vectors: 0 =
	                          * whatever the source gives, else it must match */
	uint64_t seed;           /* hashing and random projection seed; default 1 */
	unsigned ngram_min, ngram_max; /* character n-grams (code points); default 1..3 */
	unsigned hash_bits;      /* feature buckets = 2^hash_bits; default 20 */
	unsigned fit_sample;     /* texts the SVD is fitted on (the rest are projected);
	                          * default 20000; 0 = all */
	unsigned power_iters;    /* subspace iterations of the randomized SVD; default 2 */

	/* vectors file */
	const char *vectors_path; /* .npy or .fvecs (by content, not by name) */

	/* HTTP */
	const char *url;         /* base URL, e.g. "http://localhost:8000/v1" */
	const char *model;       /* model name sent in every request */
	const char *api_key_env; /* name of an environment variable holding the API key;
	                          * NULL = no Authorization header. The key itself is read
	                          * at request time and never stored, logged or cached. */
	unsigned batch;          /* texts per request; default 64 */
	unsigned concurrency;    /* requests in flight; default 4 */
	unsigned timeout_ms;     /* per-request timeout; default 60000 */
	unsigned max_retries;    /* retries per batch on 429/5xx/timeouts/resets; default 6 */
	unsigned retry_base_ms;  /* first backoff; doubles per retry, +-50% jitter, capped at
	                          * 30 s (a Retry-After header wins when larger); default 500 */
	const char *cache_path;  /* on-disk cache (appended after each batch); NULL = none */

	/* similarity search (nd_semantic_pairs) */
	double threshold;        /* cosine a pair needs; default 0.99 (docs/embed.md) */
	nd_index_kind index;     /* default ND_INDEX_AUTO */
	size_t exact_max;        /* AUTO: exact search up to this many vectors; default 20000 */
	unsigned probe;          /* k-means blocking: blocks per vector; default 2 (k-NN
	                          * recall 0.9995 against exact k-NN, docs/embed.md; range
	                          * search, knn 0, needs 3) */
	unsigned centroids;      /* k-means blocking: 0 = sqrt(2 n) (balances assignment
	                          * and in-block cost) */
	unsigned knn;            /* pairs per vector: each vector pairs with at most its knn
	                          * nearest others above the threshold (a pair is kept when
	                          * either side has the other among them);
	                          * 0 = every pair above the threshold (range search).
	                          * Default 8: on the labelled sets, 4..16 and all pairs
	                          * decide the same (docs/embed.md) */
} nd_embed_opts;

#define ND_EMBED_OPTS_INIT                                                                    \
	{ ND_EMBED_OPTS_VERSION, ND_EMBED_BUILTIN, 0, 256, 1, 1, 3, 20, 20000, 2, NULL, NULL,     \
	  NULL, NULL, 64, 4, 60000, 6, 500, NULL, 0.99, ND_INDEX_AUTO, 20000, 2, 0, 8 }

typedef struct {
	size_t texts;            /* texts asked for */
	size_t distinct;         /* distinct texts embedded (copies share one vector) */
	size_t dim;              /* dimension of the output */
	/* built-in */
	size_t features;         /* feature buckets with a non-zero column in the fit */
	double explained;        /* share of the fit sample's squared norm the dim components keep */
	/* HTTP */
	size_t requests, retries, cached, fetched; /* texts from cache / from the service */
	/* search */
	nd_index_kind index;     /* the method used */
	size_t blocks, max_block; /* k-means blocking: non-empty blocks, largest block */
	size_t candidates;       /* pairs examined after the index (before the exact check) */
	size_t pairs;            /* pairs output */
	double t_embed, t_index, t_search; /* seconds */
} nd_embed_stats;

/*! nd_embed_texts() :
 * Embeds @n texts (@lens may be NULL for NUL-terminated texts; a NULL or empty text gets a
 * zero vector and takes part in no pair) with the embedder opts->kind. *out is malloc'd
 * (free with free()): n * *dim floats, row i = text i, each row of unit length (or zero).
 * ND_EMBED_VECTORS ignores the texts except for their count: the file must have n rows.
 * @opts may be NULL (defaults); @stats may be NULL.
 * @return 0, ND_EINVAL (bad options: unknown version, dim 0 for the built-in embedder,
 *   HTTP without url/model), ND_ENOMEM, ND_EIO (cannot read the vectors file or the
 *   cache), ND_EFORMAT (vectors file: wrong shape, row count, NaN/Inf/zero row — the
 *   message names the row), ND_ENET (HTTP: transport failure after every retry, a
 *   malformed reply, a dimension mismatch — the message says which batch and why),
 *   ND_EBACKEND (LAPACK failed), ND_EINTR. */
ND_API int nd_embed_texts(float **out, size_t *dim, const char *const *texts, const size_t *lens, size_t n,
			  const nd_embed_opts *opts, nd_embed_stats *stats);

/*! nd_embed_dataset() : nd_embed_texts over the comparison texts of @ds
 * (nd_dataset_compare(ds, i)->text: normalised stem + sorted options). */
ND_API int nd_embed_dataset(float **out, size_t *dim, const nd_dataset *ds, const nd_embed_opts *opts,
			    nd_embed_stats *stats);

/*! nd_semantic_pairs() :
 * The whole second pass: embeds the records of @ds, finds every pair of records (a < b)
 * whose cosine is >= opts->threshold, and writes them to *pairs (malloc'd, free with
 * free(); never NULL on success) with sim = the cosine, pass = ND_PASS_SEMANTIC, sorted by
 * (a, b), without repeats, identical for any thread count. Records with equal comparison
 * text and image (nd_compare.exact_key) are embedded and searched once; the pairs link
 * the first of each such group (the exact pass links the copies), as nd_lex_pairs does.
 * Hand the pairs to nd_dedup_run. @stats may be NULL.
 * @return the nd_embed_texts codes, ND_EBACKEND (FAISS failed: its message is copied),
 *   ND_ELIMIT (more than UINT32_MAX records). */
ND_API int nd_semantic_pairs(nd_extra_pair **pairs, size_t *n, const nd_dataset *ds, const nd_embed_opts *opts,
			     nd_embed_stats *stats);

/*! nd_vector_pairs() :
 * The search alone: every pair (a < b) of the @n unit vectors @x (n * d floats, rows
 * with zero norm never pair) whose inner product is >= threshold, found as opts->index
 * says (opts->threshold, index, exact_max, probe, centroids, seed, threads are read).
 * Output as nd_semantic_pairs.
 * @return 0, ND_EINVAL, ND_ENOMEM, ND_EBACKEND, ND_ELIMIT, ND_EINTR. */
ND_API int nd_vector_pairs(nd_extra_pair **pairs, size_t *npairs, const float *x, size_t n, size_t d,
			   const nd_embed_opts *opts, nd_embed_stats *stats);

/* ----------------------------------------------------------- vector files -- */

/*! nd_vectors_read() :
 * Reads a .npy file (format 1.0/2.0/3.0, dtype '<f4' or '<f2', fortran_order False,
 * shape (n, d)) or an .fvecs file (each row: int32 d, then d float32), told apart by
 * content. *out is malloc'd: n * d float32. Rows are not normalised or checked here.
 * @return 0, ND_EIO (cannot open/read, names the path), ND_EFORMAT (not .npy/.fvecs, an
 *   unsupported dtype, Fortran order, a shape that is not 2-D, a truncated file, an
 *   .fvecs row whose d differs: the message names the row), ND_ENOMEM. */
ND_API int nd_vectors_read(float **out, size_t *n, size_t *d, const char *path);

/*! nd_vectors_check() :
 * Checks that every row of @x is finite and non-zero, then L2-normalises the rows in
 * place (a row whose squared norm is within 1e-6 of 1 is left bit for bit). @return 0 or ND_EFORMAT naming the first bad row ("row 17 (0-based) holds NaN"). */
ND_API int nd_vectors_check(float *x, size_t n, size_t d);

/*! nd_npy_write() :
 * Writes @x (n * d float32) as a .npy file (format 1.0, '<f4', C order, shape (n, d)),
 * atomically (nd_outfile: "-" is stdout). @return 0, ND_EIO, ND_EINVAL. */
ND_API int nd_npy_write(const char *path, const float *x, size_t n, size_t d);

#ifdef __cplusplus
}
#endif
#endif
