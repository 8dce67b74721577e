/* The embedder interface, the search driver and the second pass (nd_semantic_pairs). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "internal.h"
#include "embed_internal.h"

/* Candidate margin below the threshold: FAISS's float (BLAS) inner products of unit
 * vectors of d <= 4096 are within ~1e-6 of the exact value, so every pair at or above the
 * threshold is a candidate; the decision is taken on the double-precision recomputation. */
#define CAND_MARGIN 1e-4f
/* k-means blocking: FAISS's k-means on at most 32 sampled points per centroid, 6
 * iterations: the blocks only need to keep neighbours together, not to be optimal
 * (recall measured in docs/embed.md; training costs points * k^2 * d * iterations,
 * 10 iterations on 64 points took 11.5 s of the 1M pass, this 7.5 s) */
#define KM_ITER 6
#define KM_POINTS 32

const char *nd_embed_kind_name(nd_embed_kind k)
{
	switch (k) {
	case ND_EMBED_BUILTIN: return "builtin";
	case ND_EMBED_VECTORS: return "vectors";
	case ND_EMBED_HTTP: return "http";
	}
	return "unknown";
}

const char *nd_index_kind_name(nd_index_kind k)
{
	switch (k) {
	case ND_INDEX_AUTO: return "auto";
	case ND_INDEX_EXACT: return "exact";
	case ND_INDEX_KMEANS: return "kmeans";
	}
	return "unknown";
}

unsigned nd_embed_workers(unsigned threads)
{
	unsigned w = threads ? threads : nd_cpu_count();
	return w > 256 ? 256 : w;
}

static int check_opts(const nd_embed_opts *o)
{
	if (o->version != ND_EMBED_OPTS_VERSION)
		return nd_seterr(ND_EINVAL, "nd_embed_opts: version %u, expected %u", o->version, ND_EMBED_OPTS_VERSION);
	if (o->dim > 65536)
		return nd_seterr(ND_EINVAL, "embedding dimension %u is over 65536", o->dim);
	switch (o->kind) {
	case ND_EMBED_BUILTIN:
		if (o->dim == 0)
			return nd_seterr(ND_EINVAL, "the built-in embedder needs a dimension >= 1");
		if (o->ngram_min < 1 || o->ngram_max < o->ngram_min || o->ngram_max > 8)
			return nd_seterr(ND_EINVAL, "character n-grams %u..%u: need 1 <= min <= max <= 8", o->ngram_min,
					 o->ngram_max);
		if (o->hash_bits < 8 || o->hash_bits > 28)
			return nd_seterr(ND_EINVAL, "hash bits %u outside 8..28", o->hash_bits);
		break;
	case ND_EMBED_VECTORS:
		if (!o->vectors_path)
			return nd_seterr(ND_EINVAL, "the vectors embedder needs a file (--vectors)");
		break;
	case ND_EMBED_HTTP:
		if (!o->url || !*o->url || !o->model || !*o->model)
			return nd_seterr(ND_EINVAL, "the HTTP embedder needs a URL (--embed-url) and a model (--embed-model)");
		if (o->batch == 0 || o->concurrency == 0)
			return nd_seterr(ND_EINVAL, "HTTP batch size and concurrency must be >= 1");
		break;
	default:
		return nd_seterr(ND_EINVAL, "unknown embedder kind %d", (int)o->kind);
	}
	return 0;
}

static size_t tlen(const char *const *texts, const size_t *lens, size_t i)
{
	return !texts || !texts[i] ? 0 : lens ? lens[i] : strlen(texts[i]);
}

int nd_embed_texts(float **out, size_t *dim, const char *const *texts, const size_t *lens, size_t n,
		   const nd_embed_opts *opts, nd_embed_stats *stats)
{
	nd_embed_opts def = ND_EMBED_OPTS_INIT;
	const nd_embed_opts *o = opts ? opts : &def;
	float *x = NULL;
	size_t rows = 0, d = 0;
	double t0 = nd_now();
	int rc;

	if (!out || !dim || (n && !texts && o->kind != ND_EMBED_VECTORS))
		return nd_seterr(ND_EINVAL, "nd_embed_texts: NULL argument");
	*out = NULL;
	*dim = 0;
	if ((rc = check_opts(o)))
		return rc;
	if (stats) {
		stats->texts = n;
		stats->distinct = n;
	}
	switch (o->kind) {
	case ND_EMBED_BUILTIN:
		d = o->dim;
		x = nd_malloc((n ? n : 1) * d * sizeof *x);
		if (!x)
			return nd_seterr(ND_ENOMEM, "built-in embedder: out of memory for %zu x %zu floats", n, d);
		rc = nd_builtin_embed(x, texts, lens, n, o, stats);
		break;
	case ND_EMBED_VECTORS:
		if ((rc = nd_vectors_read(&x, &rows, &d, o->vectors_path)))
			break;
		if (rows != n) {
			rc = nd_seterr(ND_EFORMAT, "%s has %zu rows, the input has %zu records: one row per record, "
				       "in input order", o->vectors_path, rows, n);
			break;
		}
		if (o->dim && d != o->dim) {
			rc = nd_seterr(ND_EFORMAT, "%s has dimension %zu, expected %u", o->vectors_path, d, o->dim);
			break;
		}
		/* a record with nothing to embed may have a zero row: embed writes it so */
		for (size_t i = 0; i < n && !rc; i++) {
			float *r = x + i * d;
			size_t k = 0;
			if (texts && !tlen(texts, lens, i))
				while (k < d && r[k] == 0.0f)
					k++;
			if ((!texts || tlen(texts, lens, i) || k < d) && (rc = nd_vectors_check_from(r, 1, d, i)))
				nd_error_prefix(rc, "%s", o->vectors_path);
		}
		break;
	case ND_EMBED_HTTP:
		if ((rc = nd_http_embed(&x, &d, texts, lens, n, o, stats)))
			break;
		/* a service's vector is checked like a file's row; empty texts (not sent) stay zero */
		for (size_t i = 0; i < n && !rc; i++)
			if (tlen(texts, lens, i) && (rc = nd_vectors_check(x + i * d, 1, d)))
				rc = nd_seterr(rc, "embedding service returned a bad vector for text %zu (0-based): %s", i,
					       nd_error_last());
		break;
	}
	if (rc) {
		free(x);
		return rc;
	}
	*out = x;
	*dim = d;
	if (stats) {
		stats->dim = d;
		stats->t_embed = nd_now() - t0;
	}
	return 0;
}

int nd_embed_dataset(float **out, size_t *dim, const nd_dataset *ds, const nd_embed_opts *opts,
		     nd_embed_stats *stats)
{
	size_t n = ds ? nd_dataset_count(ds) : 0;
	const char **texts;
	size_t *lens;
	int rc;
	if (!ds)
		return nd_seterr(ND_EINVAL, "nd_embed_dataset: NULL dataset");
	texts = nd_malloc((n + 1) * sizeof *texts);
	lens = nd_malloc((n + 1) * sizeof *lens);
	if (!texts || !lens) {
		free(texts);
		free(lens);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const nd_compare *c = nd_dataset_compare(ds, i);
		texts[i] = c->text;
		lens[i] = c->text ? c->text_len : 0;
	}
	rc = nd_embed_texts(out, dim, texts, lens, n, opts, stats);
	free(texts);
	free(lens);
	return rc;
}

/* --------------------------------------------------------------- search -- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double dot_exact(const float *a, const float *b, size_t d)
{
	double s = 0;
	for (size_t k = 0; k < d; k++)
		s += (double)a[k] * b[k];
	return s;
}

typedef struct {
	const float *x;
	size_t d;
	const nd_embed_opts *o;
	const size_t *start;    /* block c holds members[start[c] .. start[c + 1]) */
	const uint32_t *members;
	const uint32_t *order;  /* blocks, largest first */
	size_t max_block;
	nd_keyvec *kv;          /* per worker */
	float **buf;            /* per worker: a block's vectors, gathered */
} blocks_ctx;

static int cmp_block_size(const void *a, const void *b, void *ctx)
{
	const blocks_ctx *bc = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	size_t mx = bc->start[x + 1] - bc->start[x], my = bc->start[y + 1] - bc->start[y];
	if (mx != my)
		return mx > my ? -1 : 1;
	return (x > y) - (x < y);
}

/* exact search inside blocks order[b..e) */
static int block_search(void *p, size_t b, size_t e, unsigned w)
{
	blocks_ctx *bc = p;
	size_t d = bc->d;
	if (!bc->buf[w] && !(bc->buf[w] = nd_malloc((bc->max_block ? bc->max_block : 1) * d * sizeof **bc->buf)))
		return nd_seterr(ND_ENOMEM, "semantic pass: out of memory for a block of %zu vectors", bc->max_block);
	unsigned omp = nd_faiss_threads(1);
	int rc = 0;
	for (size_t i = b; i < e && !rc; i++) {
		size_t c = bc->order[i], m = bc->start[c + 1] - bc->start[c];
		if (m < 2)
			continue;
		if (nd_interrupted()) {
			rc = nd_seterr(ND_EINTR, "interrupted");
			break;
		}
		const uint32_t *ids = bc->members + bc->start[c];
		float *buf = bc->buf[w];
		for (size_t j = 0; j < m; j++)
			memcpy(buf + j * d, bc->x + (size_t)ids[j] * d, d * sizeof *buf);
		rc = bc->o->knn ? nd_faiss_knn(&bc->kv[w], buf, ids, m, d, bc->o->knn, bc->o->threshold)
				: nd_faiss_range(&bc->kv[w], buf, ids, m, d, (float)bc->o->threshold - CAND_MARGIN);
	}
	nd_faiss_threads(omp);
	return rc;
}

/* OpenBLAS's thread count is process-wide: while any search runs its own workers with
 * one BLAS thread each, it stays at 1; the last one out restores it (searches on
 * several threads at once share the setting; the results do not depend on it) */
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static int blas_users, blas_saved;

static void blas_single_begin(void)
{
	pthread_mutex_lock(&blas_lock);
	if (blas_users++ == 0) {
		blas_saved = openblas_get_num_threads();
		openblas_set_num_threads(1);
	}
	pthread_mutex_unlock(&blas_lock);
}

static void blas_single_end(void)
{
	pthread_mutex_lock(&blas_lock);
	if (--blas_users == 0)
		openblas_set_num_threads(blas_saved);
	pthread_mutex_unlock(&blas_lock);
}

/* vectors per assignment slice: enough for BLAS to run at full speed */
#define ASSIGN_SLICE 8192
typedef struct {
	const float *cent;
	size_t k;
	const float *x;
	size_t d;
	unsigned probe;
	int64_t *lab;
} assign_ctx;

static int assign_slices(void *p, size_t b, size_t e, unsigned w)
{
	(void)w; /* any worker does the same */
	assign_ctx *ac = p;
	unsigned omp = nd_faiss_threads(1);
	int rc = nd_faiss_assign(ac->lab + b * ac->probe, ac->cent, ac->k, ac->x + b * ac->d, e - b, ac->d, ac->probe);
	nd_faiss_threads(omp);
	return rc;
}

static int kmeans_blocks(nd_keyvec *keys, const float *x, size_t n, size_t d, const nd_embed_opts *o,
			 nd_embed_stats *stats)
{
	size_t k = o->centroids ? o->centroids : (size_t)ceil(sqrt(2.0 * (double)n));
	unsigned probe = o->probe ? o->probe : 2;
	float *cent = NULL;
	int64_t *lab = NULL;
	uint32_t *order = NULL;
	unsigned workers = nd_embed_workers(o->threads);
	blocks_ctx bc;
	size_t *start = NULL, *fill = NULL, max_block = 0, blocks = 0;
	uint32_t *members = NULL;
	int rc = 0;
	memset(&bc, 0, sizeof bc);
	if (k > n)
		k = n;
	if (probe > k)
		probe = (unsigned)k;
	cent = nd_malloc(k * d * sizeof *cent);
	lab = nd_malloc(n * probe * sizeof *lab);
	start = nd_calloc(k + 1, sizeof *start);
	fill = nd_calloc(k + 1, sizeof *fill);
	members = nd_malloc(n * probe * sizeof *members + 1);
	if (!cent || !lab || !start || !fill || !members) {
		rc = nd_seterr(ND_ENOMEM, "semantic pass: out of memory for k-means blocking");
		goto out;
	}
	double t0 = nd_now();
	{
		/* k-means: BLAS threads for its products, no OpenMP team spinning beside them */
		unsigned omp = nd_faiss_threads(1);
		rc = nd_faiss_kmeans(cent, x, n, d, k, KM_ITER, KM_POINTS, (int)(o->seed & 0x7FFFFFFF));
		nd_faiss_threads(omp);
		if (rc)
			goto out;
	}
	{
		/* assignment in slices on the workers, one BLAS/OpenMP thread each */
		assign_ctx ac = {cent, k, x, d, probe, lab};
		blas_single_begin();
		rc = nd_parallel_for(n, ASSIGN_SLICE, workers, assign_slices, &ac);
		blas_single_end();
		if (rc)
			goto out;
	}
	/* blocks: members in index order (counting sort by centroid) */
	for (size_t i = 0; i < n * probe; i++) {
		if (lab[i] < 0 || (size_t)lab[i] >= k) {
			rc = nd_seterr(ND_EBACKEND, "FAISS centroid assignment returned label %lld", (long long)lab[i]);
			goto out;
		}
		start[lab[i] + 1]++;
	}
	for (size_t c = 0; c < k; c++) {
		size_t m = start[c + 1];
		blocks += m > 0;
		max_block = m > max_block ? m : max_block;
		start[c + 1] += start[c];
	}
	for (size_t i = 0; i < n; i++)
		for (unsigned p = 0; p < probe; p++) {
			size_t c = (size_t)lab[i * probe + p];
			members[start[c] + fill[c]++] = (uint32_t)i;
		}
	if (stats) {
		stats->blocks = blocks;
		stats->max_block = max_block;
		stats->t_index = nd_now() - t0;
	}
	/* blocks in parallel, largest first (the chunks are taken in order), each with
	 * one BLAS and one OpenMP thread: FAISS's OpenMP workers and OpenBLAS's
	 * threads otherwise spin against each other on few cores (docs/embed.md) */
	order = nd_malloc((k + 1) * sizeof *order);
	bc.kv = nd_calloc(workers, sizeof *bc.kv);
	bc.buf = nd_calloc(workers, sizeof *bc.buf);
	if (!order || !bc.kv || !bc.buf) {
		rc = nd_seterr(ND_ENOMEM, "semantic pass: out of memory");
		goto out;
	}
	for (size_t c = 0; c < k; c++)
		order[c] = (uint32_t)c;
	bc.start = start;
	qsort_r(order, k, sizeof *order, cmp_block_size, &bc);
	bc.x = x;
	bc.d = d;
	bc.o = o;
	bc.order = order;
	bc.members = members;
	bc.max_block = max_block;
	{
		blas_single_begin();
		rc = nd_parallel_for(k, 1, workers, block_search, &bc);
		blas_single_end();
	}
	if (rc)
		goto out;
	for (unsigned w = 0; w < workers && !rc; w++)
		for (size_t i = 0; i < bc.kv[w].n && !rc; i++)
			rc = nd_keyvec_push(keys, bc.kv[w].v[i]);
out:
	if (bc.kv)
		for (unsigned w = 0; w < workers; w++) {
			free(bc.kv[w].v);
			free(bc.buf[w]);
		}
	free(bc.kv);
	free(bc.buf);
	free(order);
	free(cent);
	free(lab);
	free(start);
	free(fill);
	free(members);
	return rc;
}

int nd_vector_pairs(nd_extra_pair **pairs, size_t *npairs, const float *x, size_t n, size_t d,
		    const nd_embed_opts *opts, nd_embed_stats *stats)
{
	nd_embed_opts def = ND_EMBED_OPTS_INIT;
	const nd_embed_opts *o = opts ? opts : &def;
	nd_keyvec keys = {NULL, 0, 0};
	nd_extra_pair *out = NULL;
	nd_index_kind method;
	size_t m = 0;
	int rc = 0;
	double t0 = nd_now();

	if (!pairs || !npairs || (n && !x) || d == 0)
		return nd_seterr(ND_EINVAL, "nd_vector_pairs: NULL argument or dimension 0");
	*pairs = NULL;
	*npairs = 0;
	if (!(o->threshold > 0 && o->threshold <= 1))
		return nd_seterr(ND_EINVAL, "cosine threshold %g outside (0, 1]", o->threshold);
	if (n > UINT32_MAX)
		return nd_seterr(ND_ELIMIT, "%zu vectors: at most %u", n, UINT32_MAX);
	method = o->index == ND_INDEX_AUTO ? (n <= o->exact_max ? ND_INDEX_EXACT : ND_INDEX_KMEANS) : o->index;
	if (stats) {
		stats->index = method;
		stats->blocks = stats->max_block = 0;
	}
	nd_faiss_threads(o->threads);
	if (method == ND_INDEX_EXACT)
		rc = o->knn ? nd_faiss_knn(&keys, x, NULL, n, d, o->knn, o->threshold)
			    : nd_faiss_range(&keys, x, NULL, n, d, (float)o->threshold - CAND_MARGIN);
	else
		rc = kmeans_blocks(&keys, x, n, d, o, stats);
	if (rc)
		goto out;
	/* the same pair from several blocks once; decide on the exact value */
	if (keys.n) /* qsort(NULL, 0) is undefined */
		qsort(keys.v, keys.n, sizeof *keys.v, cmp_u64);
	out = nd_malloc((keys.n ? keys.n : 1) * sizeof *out);
	if (!out) {
		rc = nd_seterr(ND_ENOMEM, "semantic pass: out of memory for %zu pairs", keys.n);
		goto out;
	}
	size_t cand = 0;
	for (size_t i = 0; i < keys.n; i++) {
		if (i && keys.v[i] == keys.v[i - 1])
			continue;
		cand++;
		uint32_t a = (uint32_t)(keys.v[i] >> 32), b = (uint32_t)keys.v[i];
		double s = dot_exact(x + (size_t)a * d, x + (size_t)b * d, d);
		if (s >= o->threshold) {
			out[m].a = a;
			out[m].b = b;
			out[m].sim = (float)(s > 1 ? 1 : s);
			out[m].pass = ND_PASS_SEMANTIC;
			m++;
		}
	}
	if (stats) {
		stats->candidates = cand;
		stats->pairs = m;
		stats->t_search = nd_now() - t0 - (method == ND_INDEX_KMEANS ? stats->t_index : 0);
		if (method == ND_INDEX_EXACT)
			stats->t_index = 0;
	}
	*pairs = out;
	*npairs = m;
	out = NULL;
out:
	free(out);
	free(keys.v);
	return rc;
}

/* --------------------------------------------------------- second pass -- */

typedef struct {
	uint64_t key;
	uint32_t i;
} keyidx;

static int cmp_keyidx(const void *a, const void *b)
{
	const keyidx *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static int same_record_text(const nd_compare *a, const nd_compare *b)
{
	if (a->text_len != b->text_len || (a->text_len && memcmp(a->text, b->text, a->text_len)))
		return 0;
	if (!a->image_key || !b->image_key)
		return a->image_key == b->image_key;
	return strcmp(a->image_key, b->image_key) == 0;
}

int nd_semantic_pairs(nd_extra_pair **pairs, size_t *npairs, const nd_dataset *ds, const nd_embed_opts *opts,
		      nd_embed_stats *stats)
{
	nd_embed_opts def = ND_EMBED_OPTS_INIT;
	const nd_embed_opts *o = opts ? opts : &def;
	size_t n, nrep = 0, d = 0;
	keyidx *ki = NULL;
	uint32_t *rep = NULL;
	const char **texts = NULL;
	size_t *lens = NULL;
	float *x = NULL, *xr = NULL;
	int rc = 0;

	if (!pairs || !npairs || !ds)
		return nd_seterr(ND_EINVAL, "nd_semantic_pairs: NULL argument");
	*pairs = NULL;
	*npairs = 0;
	if ((rc = check_opts(o)))
		return rc;
	n = nd_dataset_count(ds);
	if (n > UINT32_MAX)
		return nd_seterr(ND_ELIMIT, "%zu records: at most %u", n, UINT32_MAX);
	ki = nd_malloc((n + 1) * sizeof *ki);
	rep = nd_malloc((n + 1) * sizeof *rep);
	texts = nd_malloc((n + 1) * sizeof *texts);
	lens = nd_malloc((n + 1) * sizeof *lens);
	if (!ki || !rep || !texts || !lens) {
		rc = nd_seterr(ND_ENOMEM, "semantic pass: out of memory");
		goto out;
	}
	/* exact copies (same text and image) are searched once, through their first record */
	for (size_t i = 0; i < n; i++) {
		ki[i].key = nd_dataset_compare(ds, i)->exact_key;
		ki[i].i = (uint32_t)i;
	}
	qsort(ki, n, sizeof *ki, cmp_keyidx);
	{
		unsigned char *is_rep = nd_calloc(n + 1, 1);
		if (!is_rep) {
			rc = nd_seterr(ND_ENOMEM, "semantic pass: out of memory");
			goto out;
		}
		for (size_t g = 0; g < n;) {
			size_t e = g + 1;
			while (e < n && ki[e].key == ki[g].key)
				e++;
			is_rep[ki[g].i] = 1;
			for (size_t j = g + 1; j < e; j++) /* a hash collision is its own group */
				if (!same_record_text(nd_dataset_compare(ds, ki[g].i), nd_dataset_compare(ds, ki[j].i)))
					is_rep[ki[j].i] = 1;
			g = e;
		}
		for (size_t i = 0; i < n; i++)
			if (is_rep[i])
				rep[nrep++] = (uint32_t)i;
		free(is_rep);
	}
	if (o->kind == ND_EMBED_VECTORS) { /* the file has a row for every record */
		if ((rc = nd_embed_dataset(&x, &d, ds, o, stats)))
			goto out;
		xr = nd_malloc((nrep ? nrep : 1) * d * sizeof *xr);
		if (!xr) {
			rc = nd_seterr(ND_ENOMEM, "semantic pass: out of memory");
			goto out;
		}
		for (size_t r = 0; r < nrep; r++)
			memcpy(xr + r * d, x + (size_t)rep[r] * d, d * sizeof *xr);
		free(x);
		x = NULL;
	} else {
		for (size_t r = 0; r < nrep; r++) {
			const nd_compare *c = nd_dataset_compare(ds, rep[r]);
			texts[r] = c->text;
			lens[r] = c->text ? c->text_len : 0;
		}
		if ((rc = nd_embed_texts(&xr, &d, texts, lens, nrep, o, stats)))
			goto out;
	}
	if (stats) {
		stats->texts = n;
		stats->distinct = nrep;
	}
	if ((rc = nd_vector_pairs(pairs, npairs, xr, nrep, d, o, stats)))
		goto out;
	for (size_t i = 0; i < *npairs; i++) { /* rep is ascending: a < b still holds */
		(*pairs)[i].a = rep[(*pairs)[i].a];
		(*pairs)[i].b = rep[(*pairs)[i].b];
	}
out:
	free(ki);
	free(rep);
	free(texts);
	free(lens);
	free(x);
	free(xr);
	return rc;
}
