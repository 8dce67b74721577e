/* bench-embed: the semantic second pass, measured.
 *
 *   bench-embed pass FILE [THREADS]        whole second pass (nd_semantic_pairs, built-in
 *                                          embedder): embed / index / search seconds, pairs,
 *                                          peak RSS; reading is timed apart
 *   bench-embed embed FILE [THREADS]       built-in embedding throughput alone
 *   bench-embed recall FILE [N]            exact vs k-means blocking on the built-in vectors of
 *                                          the first N records (default all): recall of the
 *                                          exact pairs at cosine 0.80/0.85/0.90/0.95, timings
 *   bench-embed synth N D                  the same on N generated unit vectors (groups of
 *                                          near-copies with noise, seed 1)
 *   bench-embed report FILE REPORT [T] [dim]  dedup with both passes: nd_semantic_pairs at
 *                                          cosine T (default 0.9) + nd_dedup_run +
 *                                          nd_report_write (for benchmarks/score.py)
 *   bench-embed cosines FILE PAIRS.jsonl [dim]  the cosine of each labelled pair
 *                                          {"a","b","dup"} under the built-in embedder, one
 *                                          line "cos dup kind" per pair (threshold sweeps)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "neardup/dedup.h"
#include "neardup/embed.h"
#include "neardup/records.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double peak_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0;
}

static int die(const char *what)
{
	fprintf(stderr, "bench-embed: %s: %s\n", what, nd_error_last());
	return 1;
}

static nd_dataset *load(const char *path, unsigned threads)
{
	nd_load_opts lo = ND_LOAD_OPTS_INIT;
	nd_dataset *ds = NULL;
	lo.threads = threads;
	double t = now();
	if (nd_dataset_load(&ds, path, &lo)) {
		die("load");
		return NULL;
	}
	fprintf(stderr, "read %zu records in %.2f s\n", nd_dataset_count(ds), now() - t);
	return ds;
}

static size_t count_found(const nd_extra_pair *ref, size_t nref, const nd_extra_pair *got, size_t ngot, double t,
			  size_t *nref_t)
{
	size_t j = 0, found = 0, k = 0;
	for (size_t i = 0; i < nref; i++) {
		if (ref[i].sim < t)
			continue;
		k++;
		uint64_t key = (uint64_t)ref[i].a << 32 | ref[i].b;
		while (j < ngot && ((uint64_t)got[j].a << 32 | got[j].b) < key)
			j++;
		found += j < ngot && got[j].a == ref[i].a && got[j].b == ref[i].b;
	}
	*nref_t = k;
	return found;
}

static int recall(const float *x, size_t n, size_t d)
{
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	nd_embed_stats se, sk;
	nd_extra_pair *pe = NULL, *pk = NULL;
	size_t ne, nk;
	/* range search (ND_KNN=0): the pairs at 0.80..0.95; k-NN (ND_KNN=K): exact
	 * k-NN over all vectors against k-NN inside the blocks, at ND_THRESHOLD (0.99) */
	o.knn = 0;
	o.threshold = 0.80;
	if (getenv("ND_PROBE"))
		o.probe = (unsigned)atoi(getenv("ND_PROBE"));
	if (getenv("ND_CENTROIDS"))
		o.centroids = (unsigned)atoi(getenv("ND_CENTROIDS"));
	if (getenv("ND_KNN"))
		o.knn = (unsigned)atoi(getenv("ND_KNN"));
	if (o.knn)
		o.threshold = getenv("ND_THRESHOLD") ? atof(getenv("ND_THRESHOLD")) : 0.99;
	memset(&se, 0, sizeof se);
	memset(&sk, 0, sizeof sk);
	o.index = ND_INDEX_EXACT;
	double t = now();
	if (nd_vector_pairs(&pe, &ne, x, n, d, &o, &se))
		return die("exact");
	double te = now() - t;
	o.index = ND_INDEX_KMEANS;
	t = now();
	if (nd_vector_pairs(&pk, &nk, x, n, d, &o, &sk))
		return die("kmeans");
	double tk = now() - t;
	printf("n %zu d %zu, knn %u, probe %u: exact %.2f s (%zu pairs >= %.2f); kmeans %.2f s (index %.2f, search %.2f; %zu blocks, "
	       "largest %zu, %zu candidates)\n", n, d, o.knn, o.probe, te, ne, o.threshold, tk, sk.t_index, sk.t_search, sk.blocks, sk.max_block,
	       sk.candidates);
	const double ts[] = {0.80, 0.85, 0.90, 0.95};
	if (o.knn) {
		size_t nt, f = count_found(pe, ne, pk, nk, o.threshold, &nt);
		printf("  k-NN pairs at cosine >= %.3f: exact %zu, k-means blocking finds %zu of them: recall %.4f "
		       "(%zu pairs in all)\n", o.threshold, nt, f, nt ? (double)f / nt : 1.0, nk);
	}
	for (int i = 0; i < 4 && !o.knn; i++) {
		size_t nt, f = count_found(pe, ne, pk, nk, ts[i], &nt);
		printf("  cosine >= %.2f: %zu exact pairs, k-means blocking finds %zu: recall %.4f\n", ts[i], nt, f,
		       nt ? (double)f / nt : 1.0);
	}
	free(pe);
	free(pk);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: see benchmarks/bench_embed.c\n");
		return 2;
	}
	const char *mode = argv[1];
	if (!strcmp(mode, "synth")) {
		size_t n = strtoull(argv[2], NULL, 10), d = argc > 3 ? strtoull(argv[3], NULL, 10) : 256;
		float *x = malloc(n * d * sizeof *x);
		uint64_t s = 1;
		/* groups of 1-4 near-copies of a random direction, noise sigma 0.3/sqrt(d) */
		for (size_t i = 0; i < n;) {
			float base[4096];
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
		int rc = recall(x, n, d);
		free(x);
		return rc;
	}
	unsigned threads = 0;
	nd_dataset *ds = load(argv[2], !strcmp(mode, "pass") || !strcmp(mode, "embed") ? (argc > 3 ? atoi(argv[3]) : 0) : 0);
	if (!ds)
		return 1;
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	nd_embed_stats st;
	memset(&st, 0, sizeof st);
	/* knobs for tuning runs (docs/embed.md says which were measured) */
	if (getenv("ND_FIT"))
		o.fit_sample = (unsigned)atoi(getenv("ND_FIT"));
	if (getenv("ND_NGRAM_MAX"))
		o.ngram_max = (unsigned)atoi(getenv("ND_NGRAM_MAX"));
	if (getenv("ND_THRESHOLD"))
		o.threshold = atof(getenv("ND_THRESHOLD"));
	if (getenv("ND_PROBE"))
		o.probe = (unsigned)atoi(getenv("ND_PROBE"));
	if (getenv("ND_KNN"))
		o.knn = (unsigned)atoi(getenv("ND_KNN"));
	if (getenv("ND_CENTROIDS"))
		o.centroids = (unsigned)atoi(getenv("ND_CENTROIDS"));
	if (!strcmp(mode, "pass") || !strcmp(mode, "embed")) {
		threads = argc > 3 ? (unsigned)atoi(argv[3]) : 0;
		o.threads = threads;
		double rss0 = peak_mb();
		if (!strcmp(mode, "embed")) {
			float *x;
			size_t d;
			double t = now();
			if (nd_embed_dataset(&x, &d, ds, &o, &st))
				return die("embed");
			t = now() - t;
			printf("embed: %zu records, %zu dims, %.2f s, %.0f records/s, %zu features, %.1f%% of the norm kept, "
			       "peak RSS %.0f MB (after reading %.0f MB)\n", nd_dataset_count(ds), d, t,
			       nd_dataset_count(ds) / t, st.features, 100 * st.explained, peak_mb(), rss0);
			free(x);
		} else {
			nd_extra_pair *p;
			size_t np;
			double t = now();
			if (nd_semantic_pairs(&p, &np, ds, &o, &st))
				return die("semantic pass");
			t = now() - t;
			printf("second pass: %zu records (%zu distinct), threads %u: %.2f s (embed %.2f, index %.2f, search "
			       "%.2f; %s, %zu blocks, largest %zu, %zu candidates), %zu pairs >= %.2f, peak RSS %.0f MB "
			       "(after reading %.0f MB)\n", st.texts, st.distinct, threads, t, st.t_embed, st.t_index,
			       st.t_search, nd_index_kind_name(st.index), st.blocks, st.max_block, st.candidates, np,
			       o.threshold, peak_mb(), rss0);
			free(p);
		}
	} else if (!strcmp(mode, "recall")) {
		float *x;
		size_t d, n = nd_dataset_count(ds);
		if (argc > 3 && (size_t)atoll(argv[3]) < n)
			n = (size_t)atoll(argv[3]);
		if (nd_embed_dataset(&x, &d, ds, &o, &st))
			return die("embed");
		int rc = recall(x, n, d);
		free(x);
		if (rc)
			return rc;
	} else if (!strcmp(mode, "report") && argc > 3) {
		nd_dedup_opts dopts = ND_DEDUP_OPTS_INIT;
		nd_result *res = NULL;
		nd_report_info info;
		nd_extra_pair *p;
		size_t np;
		if (argc > 4)
			o.threshold = atof(argv[4]);
		if (argc > 5)
			o.dim = (unsigned)atoi(argv[5]);
		if (nd_semantic_pairs(&p, &np, ds, &o, &st))
			return die("semantic pass");
		if (nd_dedup_run(&res, ds, &dopts, p, np))
			return die("dedup");
		memset(&info, 0, sizeof info);
		info.tool_version = nd_version();
		info.dry_run = 1;
		if (nd_report_write(res, ds, &dopts, &info, argv[3]))
			return die("report");
		const nd_dedup_stats *s = nd_result_stats(res);
		fprintf(stderr, "%zu semantic pairs at cosine >= %.3f; %zu removed in %zu clusters; semantic-only pairs %zu\n",
			np, o.threshold, s->removed, s->clusters, s->pairs_semantic_only);
		nd_result_free(res);
		free(p);
	} else if (!strcmp(mode, "cosines") && argc > 3) {
		float *x;
		size_t d;
		if (argc > 4)
			o.dim = (unsigned)atoi(argv[4]);
		if (argc > 5)
			o.fit_sample = (unsigned)atoi(argv[5]);
		if (nd_embed_dataset(&x, &d, ds, &o, &st))
			return die("embed");
		FILE *f = fopen(argv[3], "r");
		char line[4096];
		if (!f)
			return die("open pairs");
		while (fgets(line, sizeof line, f)) {
			const char *pa = strstr(line, "\"a\""), *pb = strstr(line, "\"b\""), *pd = strstr(line, "\"dup\"");
			const char *pk = strstr(line, "\"kind\"");
			if (!pa || !pb || !pd)
				continue;
			size_t a = strtoull(strchr(pa + 3, ':') + 1, NULL, 10), b = strtoull(strchr(pb + 3, ':') + 1, NULL, 10);
			int dup = strstr(strchr(pd + 5, ':'), "true") == strchr(pd + 5, ':') + 1 + strspn(strchr(pd + 5, ':') + 1, " ");
			char kind[64] = "-";
			if (pk)
				sscanf(strchr(pk + 6, '"') + 1, "%63[^\"]", kind);
			double s = 0;
			for (size_t k = 0; k < d; k++)
				s += (double)x[a * d + k] * x[b * d + k];
			printf("%.6f %d %s\n", s, dup, kind);
		}
		fclose(f);
		free(x);
	} else {
		fprintf(stderr, "bench-embed: unknown mode %s\n", mode);
		return 2;
	}
	nd_dataset_free(ds);
	return 0;
}
