/* embed/: the three embedders, vector files, the FAISS adapter (exact vs k-means blocking),
 * determinism across threads, and the HTTP client against tests/http/fake_embed_server.py
 * injecting faults. */
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "neardup/embed.h"

extern char **environ;

static const char *texts_ex[] = {
	"驾驶机动车应当随身携带哪种证件 驾驶证 身份证 行驶证",
	"开车时必须随身带着什么证件 驾驶证 身份证 行驶证",
	"驾驶机动车在高速公路上行驶最高车速不得超过多少 100 120 150",
	"机动车在高速公路上行驶最高时速不能超过多少 100 120 150",
	"遇到前方道路施工应当减速慢行 正确 错误",
	"夜间会车应当关闭远光灯 正确 错误",
	"",
	"饮酒后驾驶机动车会被暂扣驾驶证 正确 错误",
};
#define NEX (sizeof texts_ex / sizeof *texts_ex)

static double dot(const float *a, const float *b, size_t d)
{
	double s = 0;
	for (size_t k = 0; k < d; k++)
		s += (double)a[k] * b[k];
	return s;
}

static char *tmp_path(const char *name)
{
	static char buf[8][512];
	static int k;
	char *p = buf[k++ & 7];
	snprintf(p, 512, "%s/%s", nd_test_tmpdir(), name);
	return p;
}

TEST(embed_builtin_unit_deterministic)
{
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	float *x1 = NULL, *x2 = NULL, *x4 = NULL;
	size_t d1, d2, d4;
	nd_embed_stats st;
	o.dim = 16;
	o.threads = 1;
	CHECK_OK(nd_embed_texts(&x1, &d1, texts_ex, NULL, NEX, &o, &st));
	o.threads = 2;
	CHECK_OK(nd_embed_texts(&x2, &d2, texts_ex, NULL, NEX, &o, NULL));
	o.threads = 4;
	CHECK_OK(nd_embed_texts(&x4, &d4, texts_ex, NULL, NEX, &o, NULL));
	if (!x1 || !x2 || !x4)
		goto out;
	CHECK_EQ_INT(d1, 16);
	CHECK(memcmp(x1, x2, NEX * d1 * sizeof *x1) == 0);
	CHECK(memcmp(x1, x4, NEX * d1 * sizeof *x1) == 0);
	for (size_t i = 0; i < NEX; i++) {
		double n = dot(x1 + i * d1, x1 + i * d1, d1);
		if (i == 6)
			CHECK_MSG(n == 0, "empty text: norm %g, expected a zero row", n);
		else
			CHECK_MSG(fabs(n - 1) < 1e-5, "row %zu norm %g", i, n);
	}
	/* a reworded question is closer to its twin than to an unrelated one */
	CHECK(dot(x1, x1 + d1, d1) > dot(x1, x1 + 4 * d1, d1));
	CHECK(dot(x1 + 2 * d1, x1 + 3 * d1, d1) > dot(x1 + 2 * d1, x1 + 5 * d1, d1));
	/* another seed gives other vectors */
	o.seed = 2;
	float *y = NULL;
	size_t dy;
	CHECK_OK(nd_embed_texts(&y, &dy, texts_ex, NULL, NEX, &o, NULL));
	CHECK(y && memcmp(x1, y, NEX * d1 * sizeof *x1) != 0);
	free(y);
out:
	free(x1);
	free(x2);
	free(x4);
}

/* 40 copies each of three texts: the fit's sample matrix has rank 3 < the 24 columns of
 * the range finder, so its Cholesky QR gives way to Householder (embed/builtin.c);
 * the vectors are still unit length, copies equal, different texts apart */
TEST(embed_builtin_rank_deficient_sample)
{
	const char *base[3] = {"夜间会车应当关闭远光灯", "驾驶机动车应当随身携带驾驶证", "在高速公路上不得倒车"};
	const char *tx[120];
	for (int i = 0; i < 120; i++)
		tx[i] = base[i % 3];
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	o.dim = 8;
	float *x = NULL;
	size_t d = 0;
	CHECK_OK(nd_embed_texts(&x, &d, tx, NULL, 120, &o, NULL));
	if (!x)
		return;
	CHECK_EQ_INT(d, 8);
	for (int i = 0; i < 120; i++) {
		CHECK_MSG(fabs(dot(x + i * d, x + i * d, d) - 1) < 1e-4, "row %d not unit length", i);
		CHECK_MSG(fabs(dot(x + i * d, x + (i % 3) * d, d) - 1) < 1e-5, "copy %d differs", i);
	}
	CHECK(dot(x, x + d, d) < 0.9 && dot(x, x + 2 * d, d) < 0.9 && dot(x + d, x + 2 * d, d) < 0.9);
	free(x);
}

TEST(embed_builtin_bad_options)
{
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	float *x = NULL;
	size_t d;
	o.dim = 0;
	CHECK_EQ_INT(nd_embed_texts(&x, &d, texts_ex, NULL, NEX, &o, NULL), ND_EINVAL);
	o = (nd_embed_opts)ND_EMBED_OPTS_INIT;
	o.version = 99;
	CHECK_EQ_INT(nd_embed_texts(&x, &d, texts_ex, NULL, NEX, &o, NULL), ND_EINVAL);
	o = (nd_embed_opts)ND_EMBED_OPTS_INIT;
	o.ngram_min = 3;
	o.ngram_max = 2;
	CHECK_EQ_INT(nd_embed_texts(&x, &d, texts_ex, NULL, NEX, &o, NULL), ND_EINVAL);
	o = (nd_embed_opts)ND_EMBED_OPTS_INIT;
	o.kind = ND_EMBED_HTTP;
	CHECK_EQ_INT(nd_embed_texts(&x, &d, texts_ex, NULL, NEX, &o, NULL), ND_EINVAL);
	CHECK(x == NULL);
}

/* ------------------------------------------------------------ files -- */

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

/* a .npy with a hand-written header (format 1.0) */
static void write_npy_raw(const char *path, const char *dict, const void *data, size_t n)
{
	char hdr[256];
	size_t len = strlen(dict), total = (10 + len + 1 + 63) / 64 * 64;
	memcpy(hdr, "\x93NUMPY\x01\x00", 8);
	hdr[8] = (char)(total - 10);
	hdr[9] = 0;
	memcpy(hdr + 10, dict, len);
	memset(hdr + 10 + len, ' ', total - 10 - len);
	hdr[total - 1] = '\n';
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(hdr, 1, total, f);
		fwrite(data, 1, n, f);
		fclose(f);
	}
}

TEST(embed_npy_roundtrip_and_header)
{
	float v[12];
	for (int i = 0; i < 12; i++)
		v[i] = (float)i * 0.5f - 2.f;
	const char *p = tmp_path("rt.npy");
	CHECK_OK(nd_npy_write(p, v, 3, 4));
	FILE *f = fopen(p, "rb");
	unsigned char hdr[128];
	size_t got = f ? fread(hdr, 1, sizeof hdr, f) : 0;
	if (f)
		fclose(f);
	CHECK(got == 128 && !memcmp(hdr, "\x93NUMPY\x01\x00", 8));
	size_t hl = hdr[8] | (size_t)hdr[9] << 8;
	CHECK_MSG((10 + hl) % 64 == 0, "data offset %zu not 64-aligned", 10 + hl);
	CHECK(hdr[10 + hl - 1] == '\n');
	CHECK(strstr((char *)hdr + 10, "'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }") != NULL);
	float *x = NULL;
	size_t n, d;
	CHECK_OK(nd_vectors_read(&x, &n, &d, p));
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(d, 4);
	CHECK(x && memcmp(x, v, sizeof v) == 0);
	free(x);
}

TEST(embed_npy_float16)
{
	/* 1.0, -2.0, 0.5, 65504 (max half), 2^-24 (smallest subnormal), 0 */
	uint16_t h[6] = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x0000};
	const char *p = tmp_path("h.npy");
	write_npy_raw(p, "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", h, sizeof h);
	float *x = NULL;
	size_t n, d;
	CHECK_OK(nd_vectors_read(&x, &n, &d, p));
	if (!x)
		return;
	CHECK(n == 2 && d == 3);
	CHECK(x[0] == 1.f && x[1] == -2.f && x[2] == 0.5f && x[3] == 65504.f && x[4] == ldexpf(1, -24) && x[5] == 0);
	free(x);
}

static void expect_read_error(const char *name, int code, const char *needle)
{
	float *x = NULL;
	size_t n, d;
	int rc = nd_vectors_read(&x, &n, &d, tmp_path(name));
	CHECK_MSG(rc == code, "%s: rc %d, expected %d (%s)", name, rc, code, nd_error_last());
	CHECK_MSG(strstr(nd_error_last(), needle) != NULL, "%s: message '%s' lacks '%s'", name, nd_error_last(), needle);
	CHECK(x == NULL);
}

TEST(embed_npy_errors)
{
	float v[6] = {1, 2, 3, 4, 5, 6};
	write_npy_raw(tmp_path("fo.npy"), "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", v, sizeof v);
	expect_read_error("fo.npy", ND_EFORMAT, "Fortran order");
	write_npy_raw(tmp_path("f8.npy"), "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }", v, sizeof v);
	expect_read_error("f8.npy", ND_EFORMAT, "'<f8'");
	write_npy_raw(tmp_path("3d.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", v, sizeof v);
	expect_read_error("3d.npy", ND_EFORMAT, "not 2-D");
	write_npy_raw(tmp_path("1d.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", v, sizeof v);
	expect_read_error("1d.npy", ND_EFORMAT, "not 2-D");
	write_npy_raw(tmp_path("tr.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }", v, sizeof v);
	expect_read_error("tr.npy", ND_EFORMAT, "row 2 is incomplete");
	write_bytes(tmp_path("tiny.npy"), "abc", 3);
	expect_read_error("tiny.npy", ND_EFORMAT, "too short");
	expect_read_error("does-not-exist.npy", ND_EIO, "cannot open");
}

TEST(embed_vectors_rows_checked)
{
	float v[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
	float *x = malloc(sizeof v);
	memcpy(x, v, sizeof v);
	x[4] = NAN;
	CHECK_EQ_INT(nd_vectors_check(x, 3, 3), ND_EFORMAT);
	CHECK(strstr(nd_error_last(), "row 1 (0-based) holds NaN") != NULL);
	memcpy(x, v, sizeof v);
	x[8] = INFINITY;
	CHECK_EQ_INT(nd_vectors_check(x, 3, 3), ND_EFORMAT);
	CHECK(strstr(nd_error_last(), "row 2 (0-based) holds Inf") != NULL);
	memcpy(x, v, sizeof v);
	x[0] = 0;
	CHECK_EQ_INT(nd_vectors_check(x, 3, 3), ND_EFORMAT);
	CHECK(strstr(nd_error_last(), "row 0 (0-based) is all zeros") != NULL);
	memcpy(x, v, sizeof v);
	x[0] = 3;
	CHECK_OK(nd_vectors_check(x, 3, 3));
	CHECK(x[0] == 1.f);
	free(x);

	/* through the embedder: the row count must equal the record count */
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	float *y = NULL;
	size_t d;
	const char *p = tmp_path("v3.npy");
	CHECK_OK(nd_npy_write(p, v, 3, 3));
	o.kind = ND_EMBED_VECTORS;
	o.vectors_path = p;
	o.dim = 0;
	CHECK_EQ_INT(nd_embed_texts(&y, &d, texts_ex, NULL, 4, &o, NULL), ND_EFORMAT);
	CHECK(strstr(nd_error_last(), "has 3 rows, the input has 4 records") != NULL);
	CHECK_OK(nd_embed_texts(&y, &d, texts_ex, NULL, 3, &o, NULL));
	CHECK(y && d == 3 && memcmp(y, v, sizeof v) == 0);
	free(y);
	y = NULL;
	o.dim = 4;
	CHECK_EQ_INT(nd_embed_texts(&y, &d, texts_ex, NULL, 3, &o, NULL), ND_EFORMAT);
	v[3] = NAN;
	CHECK_OK(nd_npy_write(p, v, 3, 3));
	o.dim = 0;
	CHECK_EQ_INT(nd_embed_texts(&y, &d, texts_ex, NULL, 3, &o, NULL), ND_EFORMAT);
	CHECK_MSG(strstr(nd_error_last(), "v3.npy") && strstr(nd_error_last(), "row 1"), "message: %s", nd_error_last());
}

TEST(embed_fvecs)
{
	unsigned char buf[2 * (4 + 12)];
	int32_t d3 = 3;
	float r0[3] = {1, 2, 3}, r1[3] = {4, 5, 6};
	memcpy(buf, &d3, 4);
	memcpy(buf + 4, r0, 12);
	memcpy(buf + 16, &d3, 4);
	memcpy(buf + 20, r1, 12);
	write_bytes(tmp_path("a.fvecs"), buf, sizeof buf);
	float *x = NULL;
	size_t n, d;
	CHECK_OK(nd_vectors_read(&x, &n, &d, tmp_path("a.fvecs")));
	CHECK(x && n == 2 && d == 3 && x[0] == 1 && x[5] == 6);
	free(x);
	int32_t d2 = 2;
	memcpy(buf + 16, &d2, 4); /* row 1 claims another dimension, same size */
	write_bytes(tmp_path("b.fvecs"), buf, sizeof buf);
	expect_read_error("b.fvecs", ND_EFORMAT, "row 1 (0-based) has dimension 2");
	write_bytes(tmp_path("c.fvecs"), buf, sizeof buf - 2);
	expect_read_error("c.fvecs", ND_EFORMAT, "not a multiple");
}

/* ------------------------------------------------------------ index -- */

/* groups of 1-4 near-copies of random directions, unit length */
static float *synth(size_t n, size_t d, uint64_t seed)
{
	float *x = malloc(n * d * sizeof *x), base[512];
	uint64_t s = seed;
	for (size_t i = 0; i < n;) {
		for (size_t k = 0; k < d; k++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			base[k] = (float)((double)(s >> 11) * 0x1.0p-53 - 0.5);
		}
		size_t g = 1 + (s >> 60) % 4;
		for (size_t c = 0; c < g && i < n; c++, i++) {
			double nn = 0;
			for (size_t k = 0; k < d; k++) {
				s = s * 6364136223846793005ull + 1442695040888963407ull;
				x[i * d + k] = base[k] + (float)(((double)(s >> 11) * 0x1.0p-53 - 0.5) * 0.25);
				nn += (double)x[i * d + k] * x[i * d + k];
			}
			for (size_t k = 0; k < d; k++)
				x[i * d + k] /= (float)sqrt(nn);
		}
	}
	return x;
}

TEST(embed_index_exact_matches_brute_force)
{
	size_t n = 600, d = 32, np = 0, want = 0;
	float *x = synth(n, d, nd_test_seed());
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	nd_extra_pair *p = NULL;
	o.threshold = 0.9;
	o.index = ND_INDEX_EXACT;
	CHECK_OK(nd_vector_pairs(&p, &np, x, n, d, &o, NULL));
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			want += dot(x + a * d, x + b * d, d) >= 0.9;
	CHECK_MSG(np == want && want > 0, "exact search: %zu pairs, brute force %zu", np, want);
	for (size_t i = 0; i < np; i++) {
		CHECK(p[i].a < p[i].b && p[i].sim >= 0.9f && p[i].pass == ND_PASS_SEMANTIC);
		if (i)
			CHECK(p[i - 1].a < p[i].a || (p[i - 1].a == p[i].a && p[i - 1].b < p[i].b));
	}
	free(p);
	free(x);
}

/* range search with 3 probes and k-NN (the default: 8 neighbours, 2 probes) against
 * exact search, on synthetic vectors without cluster structure (the hard case: 0.944
 * for k-NN at 2 probes here, 0.9994 on the built-in vectors of the generated bank,
 * docs/embed.md); the same pairs with 1 and 2 threads */
TEST(embed_index_kmeans_recall_and_threads)
{
	const struct {
		unsigned knn, probe;
		double min_recall;
	} cfg[] = {{0, 3, 0.98}, {8, 2, 0.93}};
	size_t n = 30000, d = 64;
	float *x = synth(n, d, 7);
	for (int c = 0; c < 2; c++) {
		size_t ne = 0, nk = 0, nk1 = 0;
		nd_embed_opts o = ND_EMBED_OPTS_INIT;
		nd_extra_pair *pe = NULL, *pk = NULL, *pk1 = NULL;
		o.threshold = 0.9;
		o.knn = cfg[c].knn;
		o.probe = cfg[c].probe;
		o.index = ND_INDEX_EXACT;
		CHECK_OK(nd_vector_pairs(&pe, &ne, x, n, d, &o, NULL));
		o.index = ND_INDEX_KMEANS;
		o.threads = 2;
		CHECK_OK(nd_vector_pairs(&pk, &nk, x, n, d, &o, NULL));
		o.threads = 1;
		CHECK_OK(nd_vector_pairs(&pk1, &nk1, x, n, d, &o, NULL));
		size_t found = 0, j = 0;
		for (size_t i = 0; i < ne; i++) {
			while (j < nk && (pk[j].a < pe[i].a || (pk[j].a == pe[i].a && pk[j].b < pe[i].b)))
				j++;
			found += j < nk && pk[j].a == pe[i].a && pk[j].b == pe[i].b;
		}
		if (!cfg[c].knn) /* a block's k nearest can be pairs the global k nearest are not */
			CHECK_MSG(nk <= ne, "k-means blocking returned pairs exact search did not (%zu > %zu)", nk, ne);
		CHECK_MSG(ne > 1000 && found >= cfg[c].min_recall * ne, "knn %u probe %u: recall %zu/%zu", cfg[c].knn,
			  cfg[c].probe, found, ne);
		CHECK_MSG(nk == nk1 && !memcmp(pk, pk1, nk * sizeof *pk), "knn %u: threads 1 vs 2: %zu vs %zu pairs",
			  cfg[c].knn, nk1, nk);
		free(pe);
		free(pk);
		free(pk1);
	}
	free(x);
}

/* k-NN caps the pairs per vector: in a tight group of 40 near-copies every vector
 * pairs with its 8 nearest only; range search (knn 0) gives all 780 pairs */
TEST(embed_index_knn_caps_pairs)
{
	size_t n = 40, d = 16, np = 0;
	float *x = malloc(n * d * sizeof *x);
	for (size_t i = 0; i < n; i++) {
		double nn = 0;
		for (size_t k = 0; k < d; k++) {
			x[i * d + k] = 1.0f + (k == i % d ? 0.01f * (float)(1 + i / d) : 0.0f);
			nn += (double)x[i * d + k] * x[i * d + k];
		}
		for (size_t k = 0; k < d; k++)
			x[i * d + k] /= (float)sqrt(nn);
	}
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	nd_extra_pair *p = NULL;
	o.threshold = 0.99;
	o.index = ND_INDEX_EXACT;
	o.knn = 0;
	CHECK_OK(nd_vector_pairs(&p, &np, x, n, d, &o, NULL));
	CHECK_EQ_INT(np, n * (n - 1) / 2);
	free(p);
	o.knn = 8;
	CHECK_OK(nd_vector_pairs(&p, &np, x, n, d, &o, NULL));
	CHECK_MSG(np >= n * 8 / 2 && np <= n * 8, "knn 8: %zu pairs", np);
	/* every vector's own pairs: at least its 8 nearest */
	for (size_t i = 0; i < n; i++) {
		size_t deg = 0;
		for (size_t q = 0; q < np; q++)
			deg += p[q].a == i || p[q].b == i;
		CHECK_MSG(deg >= 8, "vector %zu has %zu pairs", i, deg);
	}
	free(p);
	free(x);
}

TEST(embed_index_bad_args)
{
	float x[4] = {1, 0, 0, 1};
	nd_extra_pair *p = NULL;
	size_t np;
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	o.threshold = 0;
	CHECK_EQ_INT(nd_vector_pairs(&p, &np, x, 2, 2, &o, NULL), ND_EINVAL);
	o.threshold = 1.5;
	CHECK_EQ_INT(nd_vector_pairs(&p, &np, x, 2, 2, &o, NULL), ND_EINVAL);
	o.threshold = 0.9;
	CHECK_EQ_INT(nd_vector_pairs(&p, &np, x, 2, 0, &o, NULL), ND_EINVAL);
	CHECK_OK(nd_vector_pairs(&p, &np, x, 2, 2, &o, NULL));
	CHECK(p != NULL && np == 0);
	free(p);
}

TEST(embed_semantic_pairs_dataset)
{
	const char *p = tmp_path("sem.json");
	FILE *f = fopen(p, "w");
	if (!f)
		return;
	fputs("[", f);
	for (int i = 0; i < 40; i++)
		fprintf(f, "%s{\"question\": \"第%d题 %s\", \"options\": [\"A、正确\", \"B、错误\"], \"answer\": \"A\"}",
			i ? "," : "", i, i % 2 ? "驾驶机动车应当随身携带驾驶证吗" : "夜间会车应当关闭远光灯吗");
	fputs(",{\"question\": \"开车应当随身携带驾驶证吗\", \"options\": [\"A、正确\", \"B、错误\"], \"answer\": \"A\"}", f);
	fputs(",{\"question\": \"在高速公路上可以倒车吗\", \"options\": [\"A、正确\", \"B、错误\"], \"answer\": \"B\"}]", f);
	fclose(f);
	nd_dataset *ds = NULL;
	CHECK_OK(nd_dataset_load(&ds, p, NULL));
	if (!ds)
		return;
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	nd_embed_stats st;
	nd_extra_pair *pr = NULL;
	size_t np = 0;
	o.dim = 8;
	o.threshold = 0.5;
	CHECK_OK(nd_semantic_pairs(&pr, &np, ds, &o, &st));
	/* the 40 numbered copies normalise to 2 texts: 4 distinct texts searched */
	CHECK_EQ_INT(st.texts, 42);
	CHECK_EQ_INT(st.distinct, 4);
	int reworded = 0;
	for (size_t i = 0; i < np; i++) {
		CHECK(pr[i].a < pr[i].b && pr[i].pass == ND_PASS_SEMANTIC && pr[i].sim >= 0.5f);
		reworded |= pr[i].a == 1 && pr[i].b == 40;
	}
	CHECK_MSG(reworded, "the reworded record 40 was not paired with record 1 (%zu pairs)", np);
	free(pr);
	nd_dataset_free(ds);
}

/* ------------------------------------------------------------- HTTP -- */

typedef struct {
	pid_t pid;
	int port;
	char log[512];
} server;

static const char *server_script(void)
{
	const char *s = getenv("ND_TEST_HTTP_SERVER");
	return s ? s : "tests/http/fake_embed_server.py";
}

/* Starts the fake server with extra args; 0 on success (else the test is skipped). */
static int server_start(server *sv, const char *faults, const char *const *extra)
{
	static int k;
	char portf[512], faults_arg[256];
	const char *argv[32];
	int a = 0;
	snprintf(portf, sizeof portf, "%s/port%d", nd_test_tmpdir(), k);
	snprintf(sv->log, sizeof sv->log, "%s/log%d", nd_test_tmpdir(), k++);
	unlink(portf);
	snprintf(faults_arg, sizeof faults_arg, "%s", faults ? faults : "");
	argv[a++] = "python3";
	argv[a++] = server_script();
	argv[a++] = "--port-file";
	argv[a++] = portf;
	argv[a++] = "--log";
	argv[a++] = sv->log;
	argv[a++] = "--idle";
	argv[a++] = "20";
	argv[a++] = "--faults";
	argv[a++] = faults_arg;
	for (int i = 0; extra && extra[i]; i++)
		argv[a++] = extra[i];
	argv[a] = NULL;
	if (access(server_script(), R_OK) != 0 ||
	    posix_spawnp(&sv->pid, "python3", NULL, NULL, (char *const *)argv, environ) != 0) {
		nd_test_skip("cannot start python3 tests/http/fake_embed_server.py");
		return -1;
	}
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(portf, "r");
		if (f) {
			int ok = fscanf(f, "%d", &sv->port) == 1;
			fclose(f);
			if (ok)
				return 0;
		}
		usleep(25000);
	}
	kill(sv->pid, SIGTERM);
	waitpid(sv->pid, NULL, 0);
	nd_test_fail(__FILE__, __LINE__, "fake embedding server did not start");
	return -1;
}

static void server_stop(server *sv)
{
	kill(sv->pid, SIGTERM); /* our own child, by its id */
	waitpid(sv->pid, NULL, 0);
}

/* texts requested according to the server's log */
static size_t server_texts(const server *sv, const char *status)
{
	FILE *f = fopen(sv->log, "r");
	char what[32], line[4096];
	size_t total = 0, n;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "%31s %zu", what, &n) == 2 && (!status || !strcmp(what, status)))
			total += n;
	fclose(f);
	return total;
}

static void http_opts(nd_embed_opts *o, const server *sv, char *url, size_t urlsz)
{
	*o = (nd_embed_opts)ND_EMBED_OPTS_INIT;
	snprintf(url, urlsz, "http://127.0.0.1:%d/v1/", sv->port);
	o->kind = ND_EMBED_HTTP;
	o->url = url;
	o->model = "test-model";
	o->dim = 0;
	o->batch = 2;
	o->concurrency = 3;
	o->timeout_ms = 1000;
	o->retry_base_ms = 10;
	o->max_retries = 4;
}

/* vectors of a clean run, the reference for the others */
static float *clean_vectors(size_t *d)
{
	server sv;
	char url[128];
	nd_embed_opts o;
	float *x = NULL;
	if (server_start(&sv, "", NULL))
		return NULL;
	http_opts(&o, &sv, url, sizeof url);
	CHECK_OK(nd_embed_texts(&x, d, texts_ex, NULL, NEX, &o, NULL));
	server_stop(&sv);
	return x;
}

TEST(embed_http_clean_and_duplicates)
{
	size_t d = 0;
	float *x = clean_vectors(&d);
	if (!x)
		return;
	CHECK_EQ_INT(d, 8);
	for (size_t i = 0; i < NEX; i++) {
		double n = dot(x + i * d, x + i * d, d);
		CHECK_MSG(i == 6 ? n == 0 : fabs(n - 1) < 1e-5, "row %zu norm %g", i, n);
	}
	/* copies are requested once */
	const char *tx[4] = {"甲", "乙", "甲", "甲"};
	server sv;
	char url[128];
	nd_embed_opts o;
	float *y = NULL;
	nd_embed_stats st;
	memset(&st, 0, sizeof st);
	if (server_start(&sv, "", NULL) == 0) {
		http_opts(&o, &sv, url, sizeof url);
		CHECK_OK(nd_embed_texts(&y, &d, tx, NULL, 4, &o, &st));
		CHECK_EQ_INT(server_texts(&sv, NULL), 2);
		CHECK(y && !memcmp(y, y + 2 * d, d * sizeof *y) && !memcmp(y, y + 3 * d, d * sizeof *y));
		server_stop(&sv);
	}
	free(y);
	free(x);
}

TEST(embed_http_retries_faults)
{
	size_t d = 0, d2 = 0;
	float *ref = clean_vectors(&d), *x = NULL;
	server sv;
	char url[128];
	nd_embed_opts o;
	nd_embed_stats st;
	if (!ref)
		return;
	memset(&st, 0, sizeof st);
	/* 429, 500, 503, a dropped connection and a reply slower than the timeout: all retried */
	if (server_start(&sv, "429,500,drop,slow,503", NULL) == 0) {
		http_opts(&o, &sv, url, sizeof url);
		CHECK_OK(nd_embed_texts(&x, &d2, texts_ex, NULL, NEX, &o, &st));
		CHECK(x && d2 == d && !memcmp(x, ref, NEX * d * sizeof *x));
		/* curl itself retries a request whose reused connection was dropped, once */
		CHECK_MSG(st.retries >= 4 && st.retries <= 5, "retries %zu, expected 4-5", st.retries);
		CHECK_EQ_INT(server_texts(&sv, "ok"), 7);
		server_stop(&sv);
	}
	free(x);
	x = NULL;
	/* retries run out */
	if (server_start(&sv, "500,500,500,500,500,500,500,500", NULL) == 0) {
		http_opts(&o, &sv, url, sizeof url);
		o.concurrency = 1;
		o.max_retries = 2;
		CHECK_EQ_INT(nd_embed_texts(&x, &d2, texts_ex, NULL, NEX, &o, NULL), ND_ENET);
		CHECK_MSG(strstr(nd_error_last(), "HTTP 500") && strstr(nd_error_last(), "after 2 retries"), "message: %s",
			  nd_error_last());
		server_stop(&sv);
	}
	free(ref);
}

TEST(embed_http_malformed_replies)
{
	static const struct {
		const char *fault, *needle;
		unsigned dim;
	} cases[] = {
		{"baddim", "dimension mismatch", 8},
		{"ok,baddim", "dimension mismatch", 0},
		{"badjson", "not JSON", 0},
		{"short", "6 embeddings for 7 texts", 0},
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		server sv;
		char url[128];
		nd_embed_opts o;
		float *x = NULL;
		size_t d;
		if (server_start(&sv, cases[c].fault, NULL))
			return;
		http_opts(&o, &sv, url, sizeof url);
		o.dim = cases[c].dim;
		o.concurrency = 1;
		o.batch = cases[c].fault[0] == 's' ? 8 : 2;
		int rc = nd_embed_texts(&x, &d, texts_ex, NULL, NEX, &o, NULL);
		CHECK_MSG(rc == ND_ENET && strstr(nd_error_last(), cases[c].needle), "%s: rc %d, message '%s'",
			  cases[c].fault, rc, nd_error_last());
		CHECK(x == NULL);
		server_stop(&sv);
	}
}

TEST(embed_http_api_key_from_env)
{
	server sv;
	char url[128];
	nd_embed_opts o;
	float *x = NULL;
	size_t d;
	const char *extra[] = {"--key", "s3cret-key", NULL};
	if (server_start(&sv, "", extra))
		return;
	http_opts(&o, &sv, url, sizeof url);
	o.api_key_env = "ND_TEST_EMBED_KEY";
	unsetenv("ND_TEST_EMBED_KEY");
	CHECK_EQ_INT(nd_embed_texts(&x, &d, texts_ex, NULL, NEX, &o, NULL), ND_EINVAL);
	CHECK(strstr(nd_error_last(), "ND_TEST_EMBED_KEY") != NULL);
	setenv("ND_TEST_EMBED_KEY", "wrong-key", 1);
	CHECK_EQ_INT(nd_embed_texts(&x, &d, texts_ex, NULL, NEX, &o, NULL), ND_ENET);
	CHECK(strstr(nd_error_last(), "HTTP 401") && !strstr(nd_error_last(), "wrong-key"));
	setenv("ND_TEST_EMBED_KEY", "s3cret-key", 1);
	CHECK_OK(nd_embed_texts(&x, &d, texts_ex, NULL, NEX, &o, NULL));
	unsetenv("ND_TEST_EMBED_KEY");
	free(x);
	server_stop(&sv);
}

TEST(embed_http_cache_resume)
{
	size_t d = 0, d2;
	float *ref = clean_vectors(&d), *x = NULL;
	server sv;
	char url[128], cache[512];
	nd_embed_opts o;
	nd_embed_stats st;
	const char *die[] = {"--die-after", "2", NULL};
	if (!ref)
		return;
	snprintf(cache, sizeof cache, "%s/resume.cache", nd_test_tmpdir());
	unlink(cache);
	/* the service goes away after 2 batches of 2 texts */
	if (server_start(&sv, "", die))
		goto out;
	http_opts(&o, &sv, url, sizeof url);
	o.concurrency = 1;
	o.max_retries = 1;
	o.cache_path = cache;
	CHECK_EQ_INT(nd_embed_texts(&x, &d2, texts_ex, NULL, NEX, &o, NULL), ND_ENET);
	server_stop(&sv);
	/* a torn entry at the end, as a kill during a write leaves it */
	FILE *f = fopen(cache, "ab");
	if (f) {
		fwrite("\x01\x02\x03\x04\x05\x06\x07", 1, 7, f);
		fclose(f);
	}
	/* the rerun asks only for the 3 missing texts (7 distinct non-empty, 4 cached) */
	if (server_start(&sv, "", NULL))
		goto out;
	http_opts(&o, &sv, url, sizeof url);
	o.cache_path = cache;
	memset(&st, 0, sizeof st);
	CHECK_OK(nd_embed_texts(&x, &d2, texts_ex, NULL, NEX, &o, &st));
	CHECK_EQ_INT(st.cached, 4);
	CHECK_EQ_INT(server_texts(&sv, NULL), 3);
	CHECK(x && d2 == d && !memcmp(x, ref, NEX * d * sizeof *x));
	free(x);
	x = NULL;
	server_stop(&sv);
	/* everything cached: no request at all (the server is gone) */
	CHECK_OK(nd_embed_texts(&x, &d2, texts_ex, NULL, NEX, &o, &st));
	CHECK(x && !memcmp(x, ref, NEX * d * sizeof *x));
	/* the key never reaches the cache */
out:
	free(x);
	free(ref);
}
