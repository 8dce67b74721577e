/* The built-in embedder: latent semantic analysis of the corpus itself, no model files.
 *
 *  1. features: every character n-gram (code points, ngram_min..ngram_max) of a text is
 *     hashed into 2^hash_bits buckets; tf is the count in the text;
 *  2. fit, on a strided sample of at most fit_sample non-empty texts: document frequency
 *     per bucket; the vocabulary is the MAX_FEATURES buckets of highest df among those
 *     seen in >= MIN_DF sampled texts (a bucket seen once carries no co-occurrence, so
 *     it cannot shape a latent direction); weight (1 + ln tf) * idf,
 *     idf = ln((1 + S) / (1 + df)) + 1, rows L2-normalised (X, S x V sparse);
 *  3. randomized truncated SVD of X (Halko, Martinsson, Tropp 2011, alg. 4.4): Gaussian
 *     test matrix of l = dim + OVERSAMPLE columns, power_iters subspace iterations with a
 *     QR (double: Cholesky QR twice, Householder when that is unsafe) after each product,
 *     then the eigen-decomposition
 *     (dsyevd) of the small l x l matrix B B^T, B = Q^T X. The projection is
 *     P = X^T Q U (V x dim), so x P = the text's coordinates on the top singular vectors
 *     scaled by their singular values (the classic LSA document vector U Σ);
 *  4. every text is projected (x P) and L2-normalised; a text without any vocabulary
 *     feature gets a zero vector (and never pairs).
 * Everything random is drawn from splitmix64 streams of opts->seed; every parallel loop
 * writes disjoint rows in a fixed order, so the vectors do not depend on the thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "internal.h"
#include "embed_internal.h"

/* extra columns of the randomized range finder: Halko et al. recommend 5-10; 16 keeps the
 * 256th singular vector accurate with 2 power iterations */
#define OVERSAMPLE 16
/* vocabulary cap: P is MAX_FEATURES x dim floats = 32 MB at dim 256, about the L3 cache of
 * the reference machine; the projection streams P rows, so a larger P is slower (measured
 * in docs/embed.md) for no measurable accuracy */
#define MAX_FEATURES 32768
#define MIN_DF 2

/* LAPACK (Fortran interface; Debian ships no lapacke.h) */
extern void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work,
		    const int *lwork, int *info);
extern void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau,
		    double *work, const int *lwork, int *info);
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
		    double *work, const int *lwork, int *iwork, const int *liwork, int *info);

/* ------------------------------------------------------------- kernels -- */

typedef float v8f __attribute__((vector_size(32), aligned(4)));

__attribute__((target_clones("avx2", "default")))
void nd_axpy_f32(float *restrict y, const float *restrict x, float w, size_t d)
{
	size_t i = 0;
	v8f wv = {w, w, w, w, w, w, w, w};
	for (; i + 8 <= d; i += 8) {
		v8f a, b;
		memcpy(&a, y + i, sizeof a);
		memcpy(&b, x + i, sizeof b);
		a += wv * b;
		memcpy(y + i, &a, sizeof a);
	}
	for (; i < d; i++)
		y[i] += w * x[i];
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* ------------------------------------------------------------ features -- */

typedef struct {
	uint32_t *cp;
	size_t cp_cap;
	uint32_t *h;
	size_t h_cap;
} scratch;

/* Sorts a text's n-gram buckets (a few hundred): an inline quicksort with insertion
 * sort below 16 elements, about 3x faster than qsort's comparator calls here */
static void sort_u32(uint32_t *a, size_t n)
{
	while (n > 16) {
		uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
		uint32_t piv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		size_t i = 0, j = n - 1;
		for (;;) {
			while (a[i] < piv)
				i++;
			while (a[j] > piv)
				j--;
			if (i >= j)
				break;
			uint32_t t = a[i];
			a[i] = a[j];
			a[j] = t;
			i++;
			j--;
		}
		/* [0, j] <= piv <= [j+1, n): recurse on the smaller part, loop on the larger */
		size_t left = j + 1;
		if (left < n - left) {
			sort_u32(a, left);
			a += left;
			n -= left;
		} else {
			sort_u32(a + left, n - left);
			n = left;
		}
	}
	for (size_t i = 1; i < n; i++) {
		uint32_t v = a[i];
		size_t j = i;
		while (j > 0 && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/* Decodes UTF-8 leniently (the texts are normalised, hence valid; a stray byte is one
 * code point). */
static size_t decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t i = 0, n = 0;
	while (i < len) {
		unsigned c = s[i];
		uint32_t v;
		size_t k;
		if (c < 0x80) { v = c; k = 1; }
		else if ((c & 0xE0) == 0xC0) { v = c & 0x1F; k = 2; }
		else if ((c & 0xF0) == 0xE0) { v = c & 0x0F; k = 3; }
		else if ((c & 0xF8) == 0xF0) { v = c & 0x07; k = 4; }
		else { v = c; k = 1; }
		if (i + k > len)
			k = 1;
		for (size_t j = 1; j < k; j++)
			v = (v << 6) | (s[i + j] & 0x3F);
		cp[n++] = v;
		i += k;
	}
	return n;
}

/* The sorted buckets of every n-gram of @s (with repeats: a run is the tf).
 * @return the count, or (size_t)-1 on allocation failure. */
static size_t ngram_buckets(scratch *sc, const char *s, size_t len, const nd_embed_opts *o)
{
	uint32_t mask = (uint32_t)((1ull << o->hash_bits) - 1);
	size_t ncp, nh = 0;
	if (len + 1 > sc->cp_cap) {
		uint32_t *p = realloc(sc->cp, (len + 1) * sizeof *p);
		if (!p)
			return (size_t)-1;
		sc->cp = p;
		sc->cp_cap = len + 1;
	}
	ncp = decode((const unsigned char *)s, len, sc->cp);
	size_t need = ncp * (o->ngram_max - o->ngram_min + 1) + 1;
	if (need > sc->h_cap) {
		uint32_t *p = realloc(sc->h, need * sizeof *p);
		if (!p)
			return (size_t)-1;
		sc->h = p;
		sc->h_cap = need;
	}
	for (size_t i = 0; i < ncp; i++) {
		uint64_t h = o->seed * 0x9E3779B97F4A7C15ull;
		for (unsigned k = 1; k <= o->ngram_max && i + k <= ncp; k++) {
			h = mix64(h ^ (sc->cp[i + k - 1] + ((uint64_t)k << 32)));
			if (k >= o->ngram_min)
				sc->h[nh++] = (uint32_t)(h >> 32) & mask;
		}
	}
	sort_u32(sc->h, nh);
	return nh;
}

/* ------------------------------------------------------------------ fit -- */

typedef struct {
	const char *const *texts;
	const size_t *lens;
	const nd_embed_opts *o;
	scratch *sc;
	/* fit */
	const size_t *sample;   /* sample row -> text index */
	uint32_t **srow_b;      /* per sampled text: distinct buckets, then their tf */
	uint32_t *srow_n;
	/* vocabulary */
	const int32_t *col_of;  /* bucket -> column or -1 */
	const float *idf;
	/* CSR of X and of X^T */
	const size_t *xp;
	const uint32_t *xi;
	const float *xv;
	const size_t *tp;
	const uint32_t *ti;
	const float *tv;
	/* dense products */
	const float *in;
	float *outm;
	size_t l;
	/* projection */
	const float *P;
	unsigned dim;
	float *emb;
} ctx_t;

static size_t text_len(const ctx_t *c, size_t i)
{
	if (!c->texts[i])
		return 0;
	return c->lens ? c->lens[i] : strlen(c->texts[i]);
}

static int fit_features(void *p, size_t b, size_t e, unsigned w)
{
	ctx_t *c = p;
	for (size_t r = b; r < e; r++) {
		size_t t = c->sample[r];
		size_t nh = ngram_buckets(&c->sc[w], c->texts[t], text_len(c, t), c->o);
		if (nh == (size_t)-1)
			return nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		const uint32_t *h = c->sc[w].h;
		size_t nd = 0;
		for (size_t i = 0; i < nh; i++)
			nd += i == 0 || h[i] != h[i - 1];
		uint32_t *row = malloc((2 * nd + 1) * sizeof *row);
		if (!row)
			return nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		size_t k = 0;
		for (size_t i = 0; i < nh; i++) {
			if (i == 0 || h[i] != h[i - 1]) {
				row[k] = h[i];
				row[nd + k] = 1;
				k++;
			} else {
				row[nd + k - 1]++;
			}
		}
		c->srow_b[r] = row;
		c->srow_n[r] = (uint32_t)nd;
	}
	return 0;
}

/* out[r] = sum_k X[r,k] in[k] (rows of l floats): X given by (xp, xi, xv). */
static int spmm_rows(void *p, size_t b, size_t e, unsigned w)
{
	(void)w; /* any worker does the same */
	ctx_t *c = p;
	for (size_t r = b; r < e; r++) {
		float *y = c->outm + r * c->l;
		memset(y, 0, c->l * sizeof *y);
		for (size_t k = c->xp[r]; k < c->xp[r + 1]; k++)
			nd_axpy_f32(y, c->in + (size_t)c->xi[k] * c->l, c->xv[k], c->l);
	}
	return 0;
}

static int spmm_cols(void *p, size_t b, size_t e, unsigned w)
{
	(void)w; /* any worker does the same */
	ctx_t *c = p;
	for (size_t r = b; r < e; r++) {
		float *y = c->outm + r * c->l;
		memset(y, 0, c->l * sizeof *y);
		for (size_t k = c->tp[r]; k < c->tp[r + 1]; k++)
			nd_axpy_f32(y, c->in + (size_t)c->ti[k] * c->l, c->tv[k], c->l);
	}
	return 0;
}

/* Replaces the m x l row-major @a by an orthonormal basis of its column space:
 * Cholesky QR twice (G = AᵀA, A ← A R⁻¹; the second pass repairs the first's rounding),
 * all level-3 BLAS, about 3x faster here than Householder QR, whose unblocked panels
 * dominated the fit of a few thousand texts; Householder (dgeqrf/dorgqr) when a
 * Cholesky factorisation fails or R's diagonal spans more than 1e5 (A nearly
 * rank-deficient: many copies of one text). The column space, hence the
 * SVD, is the same either way. */
static int householder(double *cm, size_t m, size_t l)
{
	int M = (int)m, L = (int)l, info = 0, lwork = -1, rc = 0;
	double *tau = malloc(l * sizeof *tau), q, *work = NULL;
	if (!tau)
		return nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
	dgeqrf_(&M, &L, cm, &M, tau, &q, &lwork, &info);
	lwork = (int)q > L ? (int)q : L;
	work = malloc((size_t)lwork * sizeof *work);
	if (!work) {
		rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		goto out;
	}
	dgeqrf_(&M, &L, cm, &M, tau, work, &lwork, &info);
	if (info == 0)
		dorgqr_(&M, &L, &L, cm, &M, tau, work, &lwork, &info);
	if (info != 0)
		rc = nd_seterr(ND_EBACKEND, "built-in embedder: LAPACK QR failed (info %d)", info);
out:
	free(tau);
	free(work);
	return rc;
}

static int orthonormalise(float *a, size_t m, size_t l)
{
	int L = (int)l, info = 0, rc = 0;
	double *rm = malloc(m * l * sizeof *rm), *g = malloc(l * l * sizeof *g);
	if (!rm || !g) {
		rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		goto out;
	}
	for (size_t i = 0; i < m * l; i++)
		rm[i] = a[i];
	for (int pass = 0; pass < 2 && info == 0; pass++) {
		/* row-major G = AᵀA (upper) is column-major lower: dpotrf "L" gives L with
		 * G = L Lᵀ, which row-major reads as the upper R = Lᵀ, G = RᵀR */
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, L, (int)m, 1.0, rm, L, 0.0, g, L);
		dpotrf_("L", &L, g, &L, &info);
		if (info == 0 && pass == 0) {
			/* R's diagonal spans cond(A): beyond 1e5 a Cholesky QR loses the basis */
			double lo = fabs(g[0]), hi = lo;
			for (size_t j = 1; j < l; j++) {
				double v = fabs(g[j * l + j]);
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
			if (!(lo > 1e-5 * hi))
				info = -1;
		}
		if (info == 0)
			cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, (int)m, L, 1.0,
				    g, L, rm, L);
	}
	if (info != 0) { /* nearly rank-deficient: Householder, column-major */
		for (size_t i = 0; i < m; i++)
			for (size_t j = 0; j < l; j++)
				rm[j * m + i] = a[i * l + j];
		if ((rc = householder(rm, m, l)))
			goto out;
		for (size_t i = 0; i < m; i++)
			for (size_t j = 0; j < l; j++)
				a[i * l + j] = (float)rm[j * m + i];
		goto out;
	}
	for (size_t i = 0; i < m * l; i++)
		a[i] = (float)rm[i];
out:
	free(rm);
	free(g);
	return rc;
}

static int project_rows(void *p, size_t b, size_t e, unsigned w)
{
	ctx_t *c = p;
	scratch *sc = &c->sc[w];
	for (size_t t = b; t < e; t++) {
		float *y = c->emb + t * c->dim;
		memset(y, 0, c->dim * sizeof *y);
		size_t nh = ngram_buckets(sc, c->texts[t] ? c->texts[t] : "", text_len(c, t), c->o);
		if (nh == (size_t)-1)
			return nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		double norm = 0;
		/* first pass: the norm of the in-vocabulary tf-idf vector */
		for (size_t i = 0; i < nh;) {
			size_t j = i;
			while (j < nh && sc->h[j] == sc->h[i])
				j++;
			int32_t col = c->col_of[sc->h[i]];
			if (col >= 0) {
				double v = (1.0 + log((double)(j - i))) * c->idf[col];
				norm += v * v;
			}
			i = j;
		}
		if (norm <= 0)
			continue;
		double inv = 1.0 / sqrt(norm);
		for (size_t i = 0; i < nh;) {
			size_t j = i;
			while (j < nh && sc->h[j] == sc->h[i])
				j++;
			int32_t col = c->col_of[sc->h[i]];
			if (col >= 0)
				nd_axpy_f32(y, c->P + (size_t)col * c->dim,
					    (float)((1.0 + log((double)(j - i))) * c->idf[col] * inv), c->dim);
			i = j;
		}
		double s = 0;
		for (unsigned k = 0; k < c->dim; k++)
			s += (double)y[k] * y[k];
		if (s > 0) {
			float f = (float)(1.0 / sqrt(s));
			for (unsigned k = 0; k < c->dim; k++)
				y[k] *= f;
		}
	}
	return 0;
}

typedef struct {
	uint32_t bucket, df;
} bdf;

static int cmp_bdf(const void *a, const void *b)
{
	const bdf *x = a, *y = b;
	if (x->df != y->df)
		return x->df > y->df ? -1 : 1;
	return (x->bucket > y->bucket) - (x->bucket < y->bucket);
}

int nd_builtin_embed(float *out, const char *const *texts, const size_t *lens, size_t n,
		     const nd_embed_opts *o, nd_embed_stats *stats)
{
	ctx_t c;
	unsigned workers = nd_embed_workers(o->threads);
	size_t nb = (size_t)1 << o->hash_bits, S = 0, V = 0, l = 0, nnz = 0;
	size_t *sample = NULL, *xp = NULL, *tp = NULL;
	uint32_t **srow_b = NULL, *srow_n = NULL, *df = NULL, *xi = NULL, *ti = NULL;
	int32_t *col_of = NULL;
	float *idf = NULL, *xv = NULL, *tv = NULL, *omega = NULL, *Y = NULL, *Z = NULL, *P = NULL;
	double *G = NULL, *ev = NULL, *work = NULL;
	int *iwork = NULL;
	bdf *cand = NULL;
	int rc = 0;

	memset(&c, 0, sizeof c);
	c.texts = texts;
	c.lens = lens;
	c.o = o;
	c.sc = calloc(workers, sizeof *c.sc);
	sample = malloc((n + 1) * sizeof *sample);
	df = calloc(nb, sizeof *df);
	col_of = malloc(nb * sizeof *col_of);
	if (!c.sc || !sample || !df || !col_of) {
		rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		goto out;
	}
	/* the sample: non-empty texts, strided evenly over the input */
	{
		size_t nonempty = 0;
		for (size_t i = 0; i < n; i++)
			nonempty += text_len(&c, i) > 0;
		size_t want = o->fit_sample && o->fit_sample < nonempty ? o->fit_sample : nonempty;
		size_t k = 0, seen = 0;
		for (size_t i = 0; i < n && S < want; i++) {
			if (!text_len(&c, i))
				continue;
			/* take the text when the stride crosses it: k-th pick at seen = k*nonempty/want */
			if (seen == (k * nonempty) / want) {
				sample[S++] = i;
				k++;
			}
			seen++;
		}
	}
	if (S == 0) {
		memset(out, 0, n * o->dim * sizeof *out);
		goto out;
	}
	srow_b = calloc(S, sizeof *srow_b);
	srow_n = calloc(S, sizeof *srow_n);
	if (!srow_b || !srow_n) {
		rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		goto out;
	}
	c.sample = sample;
	c.srow_b = srow_b;
	c.srow_n = srow_n;
	if ((rc = nd_parallel_for(S, 256, o->threads, fit_features, &c)))
		goto out;
	for (size_t r = 0; r < S; r++)
		for (uint32_t k = 0; k < srow_n[r]; k++)
			df[srow_b[r][k]]++;
	/* vocabulary */
	{
		size_t ncand = 0;
		unsigned min_df = S >= 1000 ? MIN_DF : 1;
		for (size_t b = 0; b < nb; b++)
			ncand += df[b] >= min_df;
		cand = malloc((ncand + 1) * sizeof *cand);
		if (!cand) {
			rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
			goto out;
		}
		ncand = 0;
		for (size_t b = 0; b < nb; b++)
			if (df[b] >= min_df)
				cand[ncand++] = (bdf){(uint32_t)b, df[b]};
		qsort(cand, ncand, sizeof *cand, cmp_bdf);
		V = ncand < MAX_FEATURES ? ncand : MAX_FEATURES;
		for (size_t b = 0; b < nb; b++)
			col_of[b] = -1;
		idf = malloc((V + 1) * sizeof *idf);
		if (!idf) {
			rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
			goto out;
		}
		for (size_t v = 0; v < V; v++) {
			col_of[cand[v].bucket] = (int32_t)v;
			idf[v] = (float)(log((1.0 + (double)S) / (1.0 + cand[v].df)) + 1.0);
		}
	}
	if (V == 0) {
		memset(out, 0, n * o->dim * sizeof *out);
		goto out;
	}
	/* X (CSR, rows L2-normalised) and X^T */
	for (size_t r = 0; r < S; r++)
		for (uint32_t k = 0; k < srow_n[r]; k++)
			nnz += col_of[srow_b[r][k]] >= 0;
	xp = calloc(S + 1, sizeof *xp);
	tp = calloc(V + 2, sizeof *tp);
	xi = malloc((nnz + 1) * sizeof *xi);
	xv = malloc((nnz + 1) * sizeof *xv);
	ti = malloc((nnz + 1) * sizeof *ti);
	tv = malloc((nnz + 1) * sizeof *tv);
	if (!xp || !tp || !xi || !xv || !ti || !tv) {
		rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		goto out;
	}
	{
		size_t k = 0;
		for (size_t r = 0; r < S; r++) {
			size_t start = k;
			double norm = 0;
			uint32_t m = srow_n[r];
			for (uint32_t j = 0; j < m; j++) {
				int32_t col = col_of[srow_b[r][j]];
				if (col < 0)
					continue;
				double v = (1.0 + log((double)srow_b[r][m + j])) * idf[col];
				xi[k] = (uint32_t)col;
				xv[k] = (float)v;
				norm += v * v;
				k++;
			}
			for (size_t j = start; j < k; j++)
				xv[j] = norm > 0 ? (float)(xv[j] / sqrt(norm)) : 0.f;
			xp[r + 1] = k;
			free(srow_b[r]);
			srow_b[r] = NULL;
		}
		for (size_t j = 0; j < nnz; j++)
			tp[xi[j] + 2]++;
		for (size_t v = 0; v < V; v++)
			tp[v + 2] += tp[v + 1];
		for (size_t r = 0; r < S; r++)
			for (size_t j = xp[r]; j < xp[r + 1]; j++) {
				size_t at = tp[xi[j] + 1]++;
				ti[at] = (uint32_t)r;
				tv[at] = xv[j];
			}
	}
	c.xp = xp; c.xi = xi; c.xv = xv; c.tp = tp; c.ti = ti; c.tv = tv;
	/* randomized range finder */
	l = o->dim + OVERSAMPLE;
	if (l > V)
		l = V;
	if (l > S)
		l = S;
	c.l = l;
	omega = malloc(V * l * sizeof *omega);
	Y = malloc(S * l * sizeof *Y);
	Z = malloc(V * l * sizeof *Z);
	if (!omega || !Y || !Z) {
		rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		goto out;
	}
	{
		uint64_t st = o->seed ^ 0x5EEDull;
		for (size_t i = 0; i < V * l; i += 2) { /* Box-Muller */
			double u1 = ((splitmix(&st) >> 11) + 1.0) * 0x1.0p-53, u2 = (splitmix(&st) >> 11) * 0x1.0p-53;
			double rr = sqrt(-2.0 * log(u1));
			omega[i] = (float)(rr * cos(2 * M_PI * u2));
			if (i + 1 < V * l)
				omega[i + 1] = (float)(rr * sin(2 * M_PI * u2));
		}
	}
	c.in = omega;
	c.outm = Y;
	if ((rc = nd_parallel_for(S, 512, o->threads, spmm_rows, &c)) || (rc = orthonormalise(Y, S, l)))
		goto out;
	for (unsigned it = 0; it < o->power_iters; it++) {
		if (nd_interrupted()) {
			rc = nd_seterr(ND_EINTR, "interrupted");
			goto out;
		}
		c.in = Y;
		c.outm = Z;
		if ((rc = nd_parallel_for(V, 512, o->threads, spmm_cols, &c)) || (rc = orthonormalise(Z, V, l)))
			goto out;
		c.in = Z;
		c.outm = Y;
		if ((rc = nd_parallel_for(S, 512, o->threads, spmm_rows, &c)) || (rc = orthonormalise(Y, S, l)))
			goto out;
	}
	/* Z = X^T Q (= B^T), G = Z^T Z = B B^T */
	c.in = Y;
	c.outm = Z;
	if ((rc = nd_parallel_for(V, 512, o->threads, spmm_cols, &c)))
		goto out;
	G = calloc(l * l, sizeof *G);
	ev = malloc(l * sizeof *ev);
	if (!G || !ev) {
		rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		goto out;
	}
	{ /* G = Z^T Z in double (the eigen-decomposition needs the precision) */
		double *zd = malloc(V * l * sizeof *zd);
		if (!zd) {
			rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
			goto out;
		}
		for (size_t i = 0; i < V * l; i++)
			zd[i] = Z[i];
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)l, (int)V, 1.0, zd, (int)l, 0.0, G, (int)l);
		free(zd);
	}
	{
		int L = (int)l, info = 0, lwork = -1, liwork = -1, iw;
		double wq;
		/* row-major upper = column-major lower */
		dsyevd_("V", "L", &L, G, &L, ev, &wq, &lwork, &iw, &liwork, &info);
		lwork = (int)wq;
		liwork = iw;
		work = malloc((size_t)lwork * sizeof *work);
		iwork = malloc((size_t)liwork * sizeof *iwork);
		if (!work || !iwork) {
			rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
			goto out;
		}
		dsyevd_("V", "L", &L, G, &L, ev, work, &lwork, iwork, &liwork, &info);
		if (info != 0) {
			rc = nd_seterr(ND_EBACKEND, "built-in embedder: LAPACK dsyevd failed (info %d)", info);
			goto out;
		}
	}
	/* P = Z U_top: column j of P uses eigenvector l-1-j (dsyevd sorts ascending) */
	P = calloc(V * o->dim, sizeof *P);
	if (!P) {
		rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
		goto out;
	}
	{
		size_t r = o->dim < l ? o->dim : l;
		double kept = 0;
		float *ub = malloc(l * r * sizeof *ub);
		if (!ub) {
			rc = nd_seterr(ND_ENOMEM, "built-in embedder: out of memory");
			goto out;
		}
		for (size_t j = 0; j < r; j++) {
			const double *u = G + (l - 1 - j) * l; /* column-major: eigenvector contiguous */
			kept += ev[l - 1 - j] > 0 ? ev[l - 1 - j] : 0;
			for (size_t i = 0; i < l; i++)
				ub[i * r + j] = (float)u[i];
		}
		/* P[:, :r] = Z Ub */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)V, (int)r, (int)l, 1.0f, Z, (int)l, ub,
			    (int)r, 0.0f, P, (int)o->dim);
		free(ub);
		if (stats) {
			size_t rows = 0;
			for (size_t i = 0; i < S; i++)
				rows += xp[i + 1] > xp[i];
			stats->explained = rows ? kept / (double)rows : 0;
			stats->features = V;
		}
	}
	free(omega); omega = NULL;
	free(Y); Y = NULL;
	free(Z); Z = NULL;
	c.col_of = col_of;
	c.idf = idf;
	c.P = P;
	c.dim = o->dim;
	c.emb = out;
	rc = nd_parallel_for(n, 1024, o->threads, project_rows, &c);
out:
	if (c.sc)
		for (unsigned w = 0; w < workers; w++) {
			free(c.sc[w].cp);
			free(c.sc[w].h);
		}
	free(c.sc);
	if (srow_b)
		for (size_t r = 0; r < S; r++)
			free(srow_b[r]);
	free(srow_b); free(srow_n); free(sample); free(df); free(col_of); free(cand); free(idf);
	free(xp); free(xi); free(xv); free(tp); free(ti); free(tv);
	free(omega); free(Y); free(Z); free(P); free(G); free(ev); free(work); free(iwork);
	return rc;
}
