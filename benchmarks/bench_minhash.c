/* bench-minhash: MinHash kernel throughput (scalar reference vs AVX2) and the
 * whole lexical pass (nd_lex_pairs) on synthetic Chinese-like texts.
 *
 *   build/bench-minhash [MAX_N] [THREADS]
 *
 * Texts: 60..100 CJK characters drawn with Zipf(1) frequencies from the 3500
 * most common code points' worth of a range (shared trigrams between unrelated
 * texts, like real exam questions); 10% are near-duplicates of an earlier text
 * (1..3 characters substituted, inserted or deleted) and 1% exact copies.
 * Runs nd_lex_pairs at 10k, 100k, 1M texts (up to MAX_N, default 1000000) on
 * THREADS workers (default 0 = all cores), MinHash and then SimHash (k = 3), and
 * prints the stage times and the peak resident set size so far (getrusage),
 * which includes the texts themselves. Then builds the shingle-set store of all
 * MAX_N texts on its own (nd_shingle_sets_build) and times a million Jaccards on
 * it, the lookups the dedup pipeline makes inside clusters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "internal.h"
#include "neardup/lexical.h"
#include "../dedup/lexical_internal.h"

#define ALPHABET 3500

static uint64_t rng_state = UINT64_C(0x5eed);
static uint64_t rnd(void) /* SplitMix64 */
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Zipf(1) over ALPHABET ranks by inverting the cumulative table */
static double zipf_cdf[ALPHABET];
static void zipf_init(void)
{
	double sum = 0.0;
	for (int i = 0; i < ALPHABET; i++)
		zipf_cdf[i] = (sum += 1.0 / (i + 1));
	for (int i = 0; i < ALPHABET; i++)
		zipf_cdf[i] /= sum;
}
static uint32_t zipf_char(void)
{
	double u = (double)(rnd() >> 11) / 9007199254740992.0;
	int lo = 0, hi = ALPHABET - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* spread the ranks over the CJK block so neighbouring ranks are unrelated */
	return 0x4E00 + (uint32_t)((lo * 7919u) % 20902u);
}

typedef struct {
	char *buf; /* all texts, back to back */
	const char **t;
	size_t *len;
	size_t n;
} corpus;

static corpus make_corpus(size_t n)
{
	corpus c;
	uint32_t cp[128];
	size_t off = 0;
	c.buf = malloc(n * 3 * 104);
	c.t = malloc(n * sizeof *c.t);
	c.len = malloc(n * sizeof *c.len);
	c.n = n;
	if (!c.buf || !c.t || !c.len) {
		fprintf(stderr, "bench-minhash: out of memory for %zu texts\n", n);
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned roll = (unsigned)(rnd() % 100);
		size_t m = 0;
		if (i > 0 && roll < 11) {
			/* decode an earlier text (3-byte characters only) */
			size_t src = rnd() % i;
			const unsigned char *s = (const unsigned char *)c.t[src];
			for (size_t k = 0; k < c.len[src]; k += 3)
				cp[m++] = ((uint32_t)(s[k] & 0x0F) << 12) | ((uint32_t)(s[k + 1] & 0x3F) << 6) |
					  (s[k + 2] & 0x3F);
			if (roll >= 1) { /* 10% near, 1% exact */
				size_t edits = 1 + rnd() % 3;
				for (size_t e = 0; e < edits; e++) {
					size_t pos = rnd() % m;
					unsigned op = (unsigned)(rnd() % 3);
					if (op == 0) {
						cp[pos] = zipf_char();
					} else if (op == 1 && m < 100) {
						memmove(cp + pos + 1, cp + pos, (m - pos) * sizeof *cp);
						cp[pos] = zipf_char();
						m++;
					} else if (m > 60) {
						memmove(cp + pos, cp + pos + 1, (m - pos - 1) * sizeof *cp);
						m--;
					}
				}
			}
		} else {
			m = 60 + rnd() % 41;
			for (size_t k = 0; k < m; k++)
				cp[k] = zipf_char();
		}
		c.t[i] = c.buf + off;
		for (size_t k = 0; k < m; k++) {
			c.buf[off++] = (char)(0xE0 | (cp[k] >> 12));
			c.buf[off++] = (char)(0x80 | ((cp[k] >> 6) & 0x3F));
			c.buf[off++] = (char)(0x80 | (cp[k] & 0x3F));
		}
		c.len[i] = (size_t)(c.buf + off - c.t[i]);
	}
	return c;
}

static double peak_rss_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

static double current_rss_mb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * 4096.0 / (1024.0 * 1024.0);
}

/* Signatures per second of one kernel on one core, over the shingle keys of
 * @ntexts texts (precomputed, so only the kernel is timed). */
static double kernel_rate(nd_minhash_fn fn, const nd_mh_perms *p, uint32_t **keys, const size_t *nk,
			  size_t ntexts, double *ns_per_value)
{
	uint32_t sig[1024];
	double t0 = nd_now(), dt;
	size_t reps = 0, values = 0;
	volatile uint32_t sink = 0;
	do {
		for (size_t i = 0; i < ntexts; i++) {
			fn(p, keys[i], nk[i], sig);
			sink ^= sig[0];
			values += nk[i] * p->k;
		}
		reps++;
		dt = nd_now() - t0;
	} while (dt < 1.0);
	(void)sink;
	*ns_per_value = dt * 1e9 / (double)values;
	return (double)(reps * ntexts) / dt;
}

int main(int argc, char **argv)
{
	size_t max_n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	unsigned threads = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 0;
	static const size_t sizes[] = {10000, 100000, 1000000};
	corpus c;
	unsigned b, r;

	zipf_init();
	if (max_n < 1000)
		max_n = 1000;
	c = make_corpus(max_n);
	if (nd_lsh_params(0.9, 128, 0.25, 0.75, &b, &r)) {
		fprintf(stderr, "bench-minhash: %s\n", nd_error_last());
		return 1;
	}
	printf("neardup %s, %u cores, MinHash dispatch: %s\n", nd_version(), nd_cpu_count(),
	       nd_minhash_best_name());
	printf("texts: 60..100 CJK characters, Zipf over %d, 10%% near-duplicates, 1%% copies\n\n",
	       ALPHABET);

	/* 1. kernel throughput, one core */
	{
		size_t nt = max_n < 20000 ? max_n : 20000, total = 0;
		uint32_t **keys = malloc(nt * sizeof *keys);
		size_t *nk = malloc(nt * sizeof *nk);
		nd_shingler s = {0};
		static const unsigned ks[] = {0, 128};
		for (size_t i = 0; i < nt; i++) {
			if (nd_shingler_run(&s, c.t[i], c.len[i], 3)) {
				fprintf(stderr, "bench-minhash: %s\n", nd_error_last());
				return 1;
			}
			nk[i] = s.nsh;
			keys[i] = malloc(s.nsh * sizeof **keys);
			for (size_t k = 0; k < s.nsh; k++)
				keys[i][k] = nd_mh_key(s.sh[k]);
			total += s.nsh;
		}
		printf("MinHash kernel, 1 core, %zu texts, %.1f shingles each:\n", nt, (double)total / nt);
		for (size_t ki = 0; ki < 2; ki++) {
			unsigned k = ks[ki] ? ks[ki] : b * r;
			nd_mh_perms p;
			double ns_s, ns_v, rs, rv;
			if (nd_mh_perms_init(&p, k, 1))
				return 1;
			rs = kernel_rate(nd_minhash_scalar, &p, keys, nk, nt, &ns_s);
			printf("  k=%3u  scalar %9.0f signatures/s (%.3f ns per shingle x permutation)\n", k, rs,
			       ns_s);
			if (nd_minhash_have_avx2()) {
				rv = kernel_rate(nd_minhash_avx2, &p, keys, nk, nt, &ns_v);
				printf("  k=%3u  avx2   %9.0f signatures/s (%.3f ns per shingle x permutation), "
				       "%.1fx\n",
				       k, rv, ns_v, rv / rs);
			} else {
				printf("  k=%3u  avx2   (not supported by this CPU)\n", k);
			}
			nd_mh_perms_free(&p);
		}
		for (size_t i = 0; i < nt; i++)
			free(keys[i]);
		free(keys);
		free(nk);
		nd_shingler_free(&s);
	}

	/* 2. the whole pass */
	{
		nd_lex_opts o = ND_LEX_OPTS_INIT;
		printf("\nnd_lex_pairs (threshold %.2f, ngram %u, num_perm %u, %u threads; texts resident %.0f MB):\n",
		       o.threshold, o.ngram, o.num_perm, threads ? threads : nd_cpu_count(), current_rss_mb());
	}
	printf("%9s %4s %4s %7s %10s %9s %9s %8s %8s %8s %8s %9s\n", "texts", "b", "r", "P(t)", "candidates",
	       "verified", "identical", "sig s", "cand s", "verify s", "total s", "peak MB");
	for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
		size_t n = sizes[si] < max_n ? sizes[si] : max_n;
		for (int method = 0; method < 2; method++) {
			nd_lex_opts o = ND_LEX_OPTS_INIT;
			nd_lex_stats st;
			nd_pair *pairs = NULL;
			size_t np = 0;
			double t0, dt;
			o.threads = threads;
			o.method = method ? ND_LEX_SIMHASH : ND_LEX_MINHASH;
			t0 = nd_now();
			if (nd_lex_pairs(c.t, c.len, n, &o, &pairs, &np, &st)) {
				fprintf(stderr, "bench-minhash: %s\n", nd_error_last());
				return 1;
			}
			dt = nd_now() - t0;
			if (method)
				printf("%9s %14s %10zu %9zu %9zu %8.3f %8.3f %8.3f %8.3f %9.0f\n", "simhash",
				       "(k=3)", st.candidates, st.verified, st.identical, st.t_signature,
				       st.t_candidates, st.t_verify, dt, peak_rss_mb());
			else
				printf("%9zu %4u %4u %7.4f %10zu %9zu %9zu %8.3f %8.3f %8.3f %8.3f %9.0f\n", n,
				       st.bands, st.rows, st.p_at_threshold, st.candidates, st.verified,
				       st.identical, st.t_signature, st.t_candidates, st.t_verify, dt,
				       peak_rss_mb());
			fflush(stdout);
			free(pairs);
		}
		if (n == max_n)
			break;
	}

	/* 3. the shingle-set store alone */
	{
		nd_lex_opts o = ND_LEX_OPTS_INIT;
		nd_shingle_sets *s = NULL;
		size_t keys = 0, reps = 1000000;
		double t0 = nd_now(), dt, sum = 0.0;
		if (nd_shingle_sets_build(&s, c.t, c.len, c.n, o.ngram, threads)) {
			fprintf(stderr, "bench-minhash: %s\n", nd_error_last());
			return 1;
		}
		dt = nd_now() - t0;
		for (size_t i = 0; i < c.n; i++) {
			size_t k;
			nd_shingle_sets_get(s, i, &k);
			keys += k;
		}
		/* the store's size from its layout (4 bytes per key, 4 per text): the RSS
		 * delta would mostly show the heap the lexical pass above left behind */
		printf("\nnd_shingle_sets_build (ngram %u): %zu texts in %.3f s, %.1f keys each, %.1f MB\n", o.ngram,
		       c.n, dt, (double)keys / (double)c.n, (4.0 * (double)keys + 4.0 * (double)c.n) / 1048576.0);
		/* neighbours in a near-duplicate cluster are at most a few records apart */
		t0 = nd_now();
		for (size_t k = 0; k < reps; k++) {
			size_t a = rnd() % c.n;
			sum += nd_shingle_sets_jaccard(s, a, (a + 1 + rnd() % 16) % c.n);
		}
		dt = nd_now() - t0;
		printf("nd_shingle_sets_jaccard: %.0f ns per pair (mean Jaccard %.3f)\n", dt * 1e9 / (double)reps,
		       sum / (double)reps);
		nd_shingle_sets_free(s);
	}
	free(c.buf);
	free((void *)c.t);
	free(c.len);
	return 0;
}
