/* The lexical pass: hash quality, tokens and shingles, MinHash (SIMD against the
 * reference, estimator against exact Jaccard), the LSH S-curve, SimHash tables
 * against brute force, and nd_lex_pairs against an all-pairs computation.
 * Random inputs derive from nd_test_seed(); rerun a failure with ND_TEST_SEED. */
#include <math.h>
#include <stdlib.h>
#include "harness.h"
#include "internal.h"
#include "neardup/lexical.h"
#include "../../dedup/lexical_internal.h"

/* ---- helpers ------------------------------------------------------------------ */

typedef struct {
	uint64_t s;
} rng;

static uint64_t rnd(rng *r) /* SplitMix64 */
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static rng rng_for(uint64_t salt)
{
	rng r = {nd_test_seed() ^ (salt * UINT64_C(0x2545f4914f6cdd1d))};
	return r;
}

static size_t put_utf8(char *p, uint32_t c)
{
	if (c < 0x80) {
		p[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		p[0] = (char)(0xC0 | (c >> 6));
		p[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		p[0] = (char)(0xE0 | (c >> 12));
		p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		p[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	p[0] = (char)(0xF0 | (c >> 18));
	p[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	p[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	p[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* A corpus of CJK texts drawn from a small alphabet (so unrelated texts share
 * some shingles), with planted near-duplicates (a few characters substituted,
 * inserted or deleted) and optionally exact copies. */
typedef struct {
	char **t;
	size_t *len;
	size_t n;
} corpus;

#define ALPHABET 3000 /* common-character sized: random trigrams rarely repeat */

static void corpus_free(corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->t[i]);
	free(c->t);
	free(c->len);
}

static uint32_t *random_chars(rng *r, size_t n)
{
	uint32_t *cp = malloc(n * sizeof *cp);
	for (size_t i = 0; i < n; i++)
		cp[i] = 0x4E00 + (uint32_t)(rnd(r) % ALPHABET);
	return cp;
}

static char *encode(const uint32_t *cp, size_t n, size_t *len)
{
	char *s = malloc(4 * n + 1), *p = s;
	for (size_t i = 0; i < n; i++)
		p += put_utf8(p, cp[i]);
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

static corpus make_corpus(rng *r, size_t n, unsigned near_pct, unsigned copy_pct)
{
	corpus c;
	uint32_t **cps = calloc(n, sizeof *cps);
	size_t *ncp = calloc(n, sizeof *ncp);
	c.t = calloc(n, sizeof *c.t);
	c.len = calloc(n, sizeof *c.len);
	c.n = n;
	for (size_t i = 0; i < n; i++) {
		unsigned roll = (unsigned)(rnd(r) % 100);
		if (i > 0 && roll < copy_pct) {
			size_t src = rnd(r) % i;
			ncp[i] = ncp[src];
			cps[i] = malloc(ncp[i] * sizeof **cps);
			memcpy(cps[i], cps[src], ncp[i] * sizeof **cps);
		} else if (i > 0 && roll < copy_pct + near_pct) {
			size_t src = rnd(r) % i, edits = 1 + rnd(r) % 3, k;
			ncp[i] = ncp[src];
			cps[i] = malloc((ncp[i] + edits) * sizeof **cps);
			memcpy(cps[i], cps[src], ncp[i] * sizeof **cps);
			for (k = 0; k < edits; k++) {
				size_t pos = rnd(r) % ncp[i];
				unsigned op = (unsigned)(rnd(r) % 3);
				uint32_t ch = 0x4E00 + (uint32_t)(rnd(r) % ALPHABET);
				if (op == 0) {
					cps[i][pos] = ch;
				} else if (op == 1) {
					memmove(cps[i] + pos + 1, cps[i] + pos, (ncp[i] - pos) * sizeof **cps);
					cps[i][pos] = ch;
					ncp[i]++;
				} else if (ncp[i] > 10) {
					memmove(cps[i] + pos, cps[i] + pos + 1, (ncp[i] - pos - 1) * sizeof **cps);
					ncp[i]--;
				}
			}
		} else {
			ncp[i] = 60 + rnd(r) % 41;
			cps[i] = random_chars(r, ncp[i]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		c.t[i] = encode(cps[i], ncp[i], &c.len[i]);
		free(cps[i]);
	}
	free(cps);
	free(ncp);
	return c;
}

/* all pairs with Jaccard >= t, as sorted pair keys, with their Jaccard */
static size_t brute_pairs(const corpus *c, unsigned ngram, double t, uint64_t **keys, double **sims)
{
	uint64_t **sets = calloc(c->n, sizeof *sets);
	size_t *ns = calloc(c->n, sizeof *ns), cnt = 0, cap = 1024;
	*keys = malloc(cap * sizeof **keys);
	*sims = malloc(cap * sizeof **sims);
	for (size_t i = 0; i < c->n; i++)
		CHECK_OK(nd_shingles(c->t[i] ? c->t[i] : "", c->len[i], ngram, &sets[i], &ns[i]));
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = i + 1; j < c->n; j++) {
			double jac;
			if (!ns[i] || !ns[j])
				continue;
			jac = nd_jaccard_sorted(sets[i], ns[i], sets[j], ns[j]);
			if (jac < t)
				continue;
			if (cnt == cap) {
				cap *= 2;
				*keys = realloc(*keys, cap * sizeof **keys);
				*sims = realloc(*sims, cap * sizeof **sims);
			}
			(*keys)[cnt] = nd_pair_key((uint32_t)i, (uint32_t)j);
			(*sims)[cnt++] = jac;
		}
	for (size_t i = 0; i < c->n; i++)
		free(sets[i]);
	free(sets);
	free(ns);
	return cnt;
}

static int find_key(const uint64_t *v, size_t n, uint64_t k)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == k;
}

static const char *const *texts_of(const corpus *c) { return (const char *const *)c->t; }

/* ---- nd_hash64 ------------------------------------------------------------------ */

TEST(lexical_hash64_avalanche)
{
	static const size_t lens[] = {1, 2, 3, 4, 5, 7, 8, 9, 11, 15, 16, 17, 24, 31, 32, 33, 64, 100};
	rng r = rng_for(1);
	unsigned char buf[128];
	uint64_t per_out[64] = {0}, total = 0;

	for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
		size_t len = lens[li], samples = 0, flips = 0;
		double worst_lo = 64, worst_hi = 0;
		/* per input bit: mean flipped output bits over 64 random inputs */
		for (size_t bit = 0; bit < 8 * len; bit++) {
			size_t bit_flips = 0;
			for (int s = 0; s < 64; s++) {
				uint64_t h0, h1, d;
				for (size_t k = 0; k < len; k++)
					buf[k] = (unsigned char)rnd(&r);
				h0 = nd_hash64(buf, len, 0);
				buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
				h1 = nd_hash64(buf, len, 0);
				d = h0 ^ h1;
				bit_flips += (size_t)__builtin_popcountll(d);
				for (int o = 0; o < 64; o++)
					per_out[o] += (d >> o) & 1;
				total++;
			}
			double m = bit_flips / 64.0;
			worst_lo = m < worst_lo ? m : worst_lo;
			worst_hi = m > worst_hi ? m : worst_hi;
			flips += bit_flips;
			samples += 64;
		}
		/* popcount of a random 64-bit difference: mean 32, sd 4; a mean of 64
		 * samples has sd 0.5, of all samples of one length sd <= 0.18 */
		double mean = (double)flips / (double)samples;
		CHECK_MSG(fabs(mean - 32.0) < 0.75, "len %zu: mean flipped bits %.3f", len, mean);
		CHECK_MSG(worst_lo > 29.0 && worst_hi < 35.0, "len %zu: an input bit flips %.2f..%.2f bits",
			  len, worst_lo, worst_hi);
	}
	/* every output bit flips half the time: ~130k samples, sd 0.0014 */
	for (int o = 0; o < 64; o++) {
		double p = (double)per_out[o] / (double)total;
		CHECK_MSG(fabs(p - 0.5) < 0.01, "output bit %d flips with p = %.4f", o, p);
	}
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

TEST(lexical_hash64_no_collisions_on_1m_short_strings)
{
	const size_t n = 1000000;
	uint64_t *h = malloc(2 * n * sizeof *h);
	char s[32];
	size_t i, dup = 0;
	/* decimal numbers (1..7 bytes) and the same numbers after a CJK prefix
	 * (9..13 bytes): dense, structured inputs of the lengths shingles have */
	for (i = 0; i < n; i++) {
		int l = snprintf(s, sizeof s, "%zu", i);
		h[i] = nd_hash64(s, (size_t)l, 0);
		l = snprintf(s, sizeof s, "题目%zu", i);
		h[n + i] = nd_hash64(s, (size_t)l, 0);
	}
	qsort(h, 2 * n, sizeof *h, cmp_u64);
	for (i = 1; i < 2 * n; i++)
		dup += h[i] == h[i - 1];
	CHECK_EQ_INT(dup, 0);
	free(h);
	/* the empty input, zero bytes of different lengths, and seeds all differ */
	CHECK(nd_hash64(NULL, 0, 0) != nd_hash64(NULL, 0, 1));
	CHECK(nd_hash64("\0", 1, 0) != nd_hash64("\0\0", 2, 0));
	CHECK(nd_hash64("\0\0\0\0\0\0\0\0\0", 9, 0) != nd_hash64("\0\0\0\0\0\0\0\0\0\0", 10, 0));
	CHECK(nd_hash64("abc", 3, 0) == nd_hash64("abc", 3, 0));
}

/* ---- tokens and shingles ------------------------------------------------------------ */

static size_t shingles_of(const char *s, unsigned ngram, uint64_t **out)
{
	size_t n = 0;
	CHECK_OK(nd_shingles(s, strlen(s), ngram, out, &n));
	return n;
}

static int same_set(const char *a, const char *b, unsigned ngram)
{
	uint64_t *x, *y;
	size_t nx = shingles_of(a, ngram, &x), ny = shingles_of(b, ngram, &y);
	int same = nx == ny && (nx == 0 || memcmp(x, y, nx * sizeof *x) == 0);
	free(x);
	free(y);
	return same;
}

static uint64_t h(const char *s) { return nd_hash64(s, strlen(s), 0); }

TEST(lexical_shingles_tokens)
{
	uint64_t *v;
	size_t n;

	/* one token, or fewer than n: the whole text is one shingle */
	n = shingles_of("abc", 3, &v);
	CHECK_EQ_INT(n, 1);
	CHECK(n == 1 && v[0] == h("abc"));
	free(v);
	n = shingles_of("中文", 3, &v);
	CHECK(n == 1 && v[0] == h("中\xff文"));
	free(v);
	/* each ideograph is a token: 5 tokens -> 3 trigrams */
	n = shingles_of("一二三四五", 3, &v);
	CHECK_EQ_INT(n, 3);
	free(v);
	/* runs of other characters are one token, split by CJK and by spaces */
	n = shingles_of("c1中文 50km", 1, &v);
	CHECK_EQ_INT(n, 4);
	{
		uint64_t want[4] = {h("c1"), h("中"), h("文"), h("50km")};
		qsort(want, 4, sizeof *want, cmp_u64);
		CHECK(n == 4 && memcmp(v, want, sizeof want) == 0);
	}
	free(v);
	/* kana and hangul are single tokens; U+3000 and tabs separate */
	n = shingles_of("カタカナ", 1, &v);
	CHECK_EQ_INT(n, 3); /* カ タ ナ */
	free(v);
	n = shingles_of("한국어", 2, &v);
	CHECK_EQ_INT(n, 2);
	free(v);
	CHECK(same_set("ab\xe3\x80\x80" "cd", "ab cd", 1));
	CHECK(same_set("ab\tcd", "ab cd", 2));
	/* the separator keeps token boundaries: ("ab","c") != ("a","bc") */
	CHECK(!same_set("ab c", "a bc", 2));
	CHECK(!same_set("ab c", "abc", 1));
	/* repeated spaces do not matter, repeated shingles collapse */
	CHECK(same_set("a  b   c", "a b c", 2));
	n = shingles_of("哈哈哈哈哈哈", 2, &v);
	CHECK_EQ_INT(n, 1);
	free(v);
	/* sorted, unique */
	n = shingles_of("道路交通安全法规定机动车应当在道路交通安全", 2, &v);
	for (size_t i = 1; i < n; i++)
		CHECK(v[i - 1] < v[i]);
	free(v);
	/* empty texts have no shingles */
	CHECK_EQ_INT(shingles_of("", 3, &v), 0);
	CHECK(v != NULL);
	free(v);
	CHECK_EQ_INT(shingles_of(" \t\xe3\x80\x80 ", 3, &v), 0);
	free(v);
}

/* At n = 1 neighbouring Latin words also form a shingle, so word order counts
 * there; CJK characters (each a word) and a word next to one do not pair. */
TEST(lexical_shingles_word_pairs_at_n1)
{
	uint64_t *v;
	size_t n = shingles_of("the dog bit", 1, &v);
	{
		uint64_t want[5] = {h("the"), h("dog"), h("bit"), h("the\xff" "dog"), h("dog\xff" "bit")};
		qsort(want, 5, sizeof *want, cmp_u64);
		CHECK_EQ_INT(n, 5);
		CHECK(n == 5 && memcmp(v, want, sizeof want) == 0);
	}
	free(v);
	/* one bag of words, two sentences: 7 of 9 shingles shared (1.0 without the
	 * pairs), below the default threshold 0.85 */
	CHECK(!same_set("the dog bit the man", "the man bit the dog", 1));
	uint64_t *x, *y;
	size_t nx = shingles_of("the dog bit the man", 1, &x), ny = shingles_of("the man bit the dog", 1, &y);
	CHECK(fabs(nd_jaccard_sorted(x, nx, y, ny) - 7.0 / 9.0) < 1e-12);
	free(x);
	free(y);
	/* CJK: only the characters, as before */
	n = shingles_of("一二三四五", 1, &v);
	CHECK_EQ_INT(n, 5);
	free(v);
	n = shingles_of("c1 b2 中 km h", 1, &v);
	CHECK_EQ_INT(n, 7); /* c1 b2 中 km h, c1·b2, km·h */
	free(v);
	/* at n = 2 nothing is added */
	n = shingles_of("the dog bit", 2, &v);
	CHECK_EQ_INT(n, 2);
	free(v);
}

TEST(lexical_shingles_reject_invalid_utf8)
{
	static const char *bad[] = {"\xff", "ab\xc0\x80", "\xe4\xb8", "\xed\xa0\x80", "\xf4\x90\x80\x80",
				    "\xe0\x80\xaf", "a\x80"};
	uint64_t *v = NULL;
	size_t n;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CHECK_EQ_INT(nd_shingles(bad[i], strlen(bad[i]), 3, &v, &n), ND_EUTF8);
		CHECK(v == NULL);
	}
	CHECK_EQ_INT(nd_shingles("a\0b", 3, 3, &v, &n), ND_EUTF8);
	CHECK(strstr(nd_error_last(), "NUL") != NULL);
	CHECK_EQ_INT(nd_shingles("abc", 3, 0, &v, &n), ND_EINVAL);
	/* 4-byte characters are fine (Extension B ideograph, emoji) */
	CHECK_OK(nd_shingles("\xf0\xa0\x80\x80\xf0\x9f\x98\x80", 8, 1, &v, &n));
	CHECK_EQ_INT(n, 2);
	free(v);
}

TEST(lexical_jaccard_sorted)
{
	uint64_t a[] = {1, 3, 5, 7}, b[] = {3, 4, 5};
	CHECK(fabs(nd_jaccard_sorted(a, 4, b, 3) - 2.0 / 5.0) < 1e-12);
	CHECK(nd_jaccard_sorted(a, 0, b, 0) == 0.0);
	CHECK(nd_jaccard_sorted(a, 4, a, 4) == 1.0);
}

/* ---- the shingle-set store -------------------------------------------------------- */

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return (a > b) - (a < b);
}

/* the folded keys of nd_shingles' set, sorted and unique; *merged counts the
 * 64-bit shingles that share a key with another (a fold collision) */
static size_t folded(const uint64_t *h, size_t n, uint32_t *out, size_t *merged)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		out[i] = nd_shingle_key(h[i]);
	qsort(out, n, sizeof *out, cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || out[i] != out[k - 1])
			out[k++] = out[i];
	*merged = n - k;
	return k;
}

TEST(lexical_shingle_sets_match_sorted_hashes)
{
	rng r = rng_for(12);
	corpus c = make_corpus(&r, 3000, 40, 5);
	static const unsigned threads[] = {1, 2, 8};

	/* a few texts without any set, and one far longer than a block's average */
	free(c.t[5]);
	c.t[5] = NULL;
	c.len[5] = 0;
	c.t[6][0] = '\0';
	c.len[6] = 0;
	for (unsigned ngram = 1; ngram <= 3; ngram++) {
		nd_shingle_sets *ref = NULL;
		for (size_t ti = 0; ti < 3; ti++) {
			nd_shingle_sets *s = NULL;
			CHECK_OK(nd_shingle_sets_build(&s, texts_of(&c), c.len, c.n, ngram, threads[ti]));
			if (!s)
				return;
			CHECK_EQ_INT(nd_shingle_sets_count(s), c.n);
			if (ti == 0) {
				ref = s;
				continue;
			}
			/* the same sets at any thread count */
			for (size_t i = 0; i < c.n; i++) {
				size_t nx, ny;
				const uint32_t *x = nd_shingle_sets_get(ref, i, &nx), *y = nd_shingle_sets_get(s, i, &ny);
				CHECK_MSG(nx == ny && (nx == 0 || memcmp(x, y, nx * sizeof *x) == 0),
					  "ngram %u, %u threads: set %zu differs", ngram, threads[ti], i);
			}
			nd_shingle_sets_free(s);
		}
		/* each set is nd_shingles' set, folded; each Jaccard is nd_jaccard_sorted's
		 * unless a fold merged two shingles of the pair (then it differs by ~1/U) */
		for (size_t k = 0; k < 2 * c.n; k++) {
			size_t i = k < c.n ? k : rnd(&r) % c.n, j = k < c.n ? (k + 1) % c.n : rnd(&r) % c.n;
			uint64_t *hi, *hj, *hu;
			size_t ni, nj, nu = 0, nk, mi, mu, x = 0, y = 0;
			uint32_t *fi, *fu;
			const uint32_t *got;
			double want, have;
			CHECK_OK(nd_shingles(c.t[i] ? c.t[i] : "", c.len[i], ngram, &hi, &ni));
			CHECK_OK(nd_shingles(c.t[j] ? c.t[j] : "", c.len[j], ngram, &hj, &nj));
			fi = malloc((ni + 1) * sizeof *fi);
			fu = malloc((ni + nj + 1) * sizeof *fu);
			hu = malloc((ni + nj + 1) * sizeof *hu);
			got = nd_shingle_sets_get(ref, i, &nk);
			CHECK_EQ_INT(nk, folded(hi, ni, fi, &mi));
			CHECK(nk == 0 ? got == NULL : memcmp(got, fi, nk * sizeof *got) == 0);
			while (x < ni || y < nj) { /* the 64-bit union */
				if (y >= nj || (x < ni && hi[x] < hj[y]))
					hu[nu++] = hi[x++];
				else if (x >= ni || hj[y] < hi[x])
					hu[nu++] = hj[y++];
				else
					hu[nu++] = hi[x++], y++;
			}
			folded(hu, nu, fu, &mu);
			want = nd_jaccard_sorted(hi, ni, hj, nj);
			have = nd_shingle_sets_jaccard(ref, i, j);
			if (mu == 0)
				CHECK_MSG(have == want, "ngram %u, texts %zu, %zu: %.17g vs %.17g", ngram, i, j, have, want);
			else
				CHECK_MSG(fabs(have - want) <= 2.0 * (double)mu / (double)nu, "%zu merges", mu);
			free(hi);
			free(hj);
			free(hu);
			free(fi);
			free(fu);
		}
		CHECK(nd_shingle_sets_jaccard(ref, 5, 6) == 0.0); /* both empty */
		CHECK(nd_shingle_sets_jaccard(ref, 7, 7) == 1.0);
		CHECK(nd_shingle_sets_jaccard(ref, 7, c.n) == 0.0); /* out of range: empty */
		CHECK(nd_shingle_sets_get(ref, c.n, NULL) == NULL);
		nd_shingle_sets_free(ref);
	}
	corpus_free(&c);
}

TEST(lexical_shingle_sets_errors)
{
	const char *t[] = {"第一题内容是这个", "第二题\xff内容"};
	nd_shingle_sets *s = (nd_shingle_sets *)&s;
	volatile int flag = 1;

	CHECK_EQ_INT(nd_shingle_sets_build(&s, t, NULL, 2, 1, 1), ND_EUTF8);
	CHECK(s == NULL && strstr(nd_error_last(), "text 1") != NULL);
	CHECK_EQ_INT(nd_shingle_sets_build(NULL, t, NULL, 2, 1, 1), ND_EINVAL);
	CHECK_EQ_INT(nd_shingle_sets_build(&s, NULL, NULL, 2, 1, 1), ND_EINVAL);
	CHECK_EQ_INT(nd_shingle_sets_build(&s, t, NULL, 1, 0, 1), ND_EINVAL);
	CHECK_EQ_INT(nd_shingle_sets_build(&s, t, NULL, (size_t)UINT32_MAX, 1, 1), ND_ELIMIT);
	CHECK_OK(nd_shingle_sets_build(&s, NULL, NULL, 0, 1, 0));
	CHECK_EQ_INT(nd_shingle_sets_count(s), 0);
	nd_shingle_sets_free(s);
	nd_shingle_sets_free(NULL);
	CHECK_EQ_INT(nd_shingle_sets_count(NULL), 0);
	nd_set_interrupt_flag(&flag);
	CHECK_EQ_INT(nd_shingle_sets_build(&s, t, NULL, 1, 1, 1), ND_EINTR);
	nd_set_interrupt_flag(NULL);
}

/* The filters in front of the merge only ever reject pairs below the threshold:
 * nd_jaccard_min_inter is exactly the rounded test, min(|A|, |B|) and the sketch
 * bound are upper bounds on |A n B|, and nd_inter_at_least is exact whenever the
 * answer reaches @need. */
TEST(lexical_filters_never_reject_a_similar_pair)
{
	rng r = rng_for(13);
	static const double ts[] = {0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0, 0.3333333333333333};
	uint32_t a[400], b[400];

	for (size_t ti = 0; ti < sizeof ts / sizeof *ts; ti++) {
		double t = ts[ti];
		for (size_t na = 0; na <= 60; na++)
			for (size_t nb = 0; nb <= 60; nb++) {
				size_t sum = na + nb, need = nd_jaccard_min_inter(sum, t), lo = na < nb ? na : nb;
				for (size_t i = 0; i <= lo; i++) {
					int pass = sum > i && (double)i / (double)(sum - i) >= t;
					CHECK_MSG(pass == (need != SIZE_MAX && i >= need),
						  "t %g, |A| %zu, |B| %zu, |A n B| %zu: need %zu", t, na, nb, i, need);
					/* the brief's size filter, min >= t * max, in the same terms */
					if (pass)
						CHECK((double)lo / (double)(na > nb ? na : nb) >= t);
				}
			}
	}
	/* random sets with planted overlaps: sketch bound and early-exit merge */
	for (int rep = 0; rep < 20000; rep++) {
		size_t common = rnd(&r) % 120, only_a = rnd(&r) % 20, only_b = rnd(&r) % 20, na = 0, nb = 0, exact = 0;
		size_t i = 0, j = 0, got, need = rnd(&r) % 140;
		uint64_t sa[ND_SKETCH_WORDS], sb[ND_SKETCH_WORDS];
		double t = 0.5 + (double)(rnd(&r) % 50) / 100.0;
		for (size_t k = 0; k < common; k++)
			a[na++] = b[nb++] = (uint32_t)rnd(&r);
		for (size_t k = 0; k < only_a; k++)
			a[na++] = (uint32_t)rnd(&r);
		for (size_t k = 0; k < only_b; k++)
			b[nb++] = (uint32_t)rnd(&r);
		qsort(a, na, sizeof *a, cmp_u32);
		qsort(b, nb, sizeof *b, cmp_u32);
		while (i < na && j < nb) /* random keys: repeats are a 2^-32 accident, counted right anyway */
			if (a[i] < b[j])
				i++;
			else if (a[i] > b[j])
				j++;
			else
				exact++, i++, j++;
		nd_sketch_of(a, na, sa);
		nd_sketch_of(b, nb, sb);
		CHECK(na - nd_sketch_missing(sa, sb) >= exact && nb - nd_sketch_missing(sb, sa) >= exact);
		got = nd_inter_at_least(a, na, b, nb, need);
		CHECK_MSG(exact >= need ? got == exact : got < need, "need %zu: %zu, exact %zu", need, got, exact);
		CHECK(nd_inter_at_least(a, na, b, nb, 0) == exact);
		need = nd_jaccard_min_inter(na + nb, t);
		if (na + nb > exact && (double)exact / (double)(na + nb - exact) >= t)
			CHECK(need <= exact && na - nd_sketch_missing(sa, sb) >= need &&
			      nb - nd_sketch_missing(sb, sa) >= need && nd_inter_at_least(a, na, b, nb, need) == exact);
	}
}

/* sorted unique keys drawn from [0, range): dense ranges make long common runs,
 * sparse ones few matches */
static size_t random_set(rng *r, uint32_t *v, size_t want, uint32_t range)
{
	size_t n = 0;
	for (size_t k = 0; k < want; k++)
		v[n++] = (uint32_t)(rnd(r) % range);
	qsort(v, n, sizeof *v, cmp_u32);
	size_t u = 0;
	for (size_t k = 0; k < n; k++)
		if (u == 0 || v[u - 1] != v[k])
			v[u++] = v[k];
	return u;
}

TEST(lexical_inter_avx2_matches_scalar)
{
	rng r = rng_for(21);
	if (nd_inter_best() == nd_inter_at_least)
		fprintf(stderr, "  (no AVX2 here: the scalar merge is checked against itself)\n");
	uint32_t a[400], b[400];
	nd_inter_fn best = nd_inter_best();
	for (int rep = 0; rep < 20000; rep++) {
		uint32_t range = rep % 3 == 0 ? 64 : rep % 3 == 1 ? 600 : UINT32_MAX;
		size_t na = random_set(&r, a, rnd(&r) % 300, range), nb = random_set(&r, b, rnd(&r) % 300, range);
		if (rep % 5 == 0) { /* b a near copy of a: the case the lexical pass checks most */
			nb = 0;
			for (size_t k = 0; k < na; k++)
				if (rnd(&r) % 10)
					b[nb++] = a[k];
		}
		size_t exact = nd_inter_at_least(a, na, b, nb, 0);
		size_t top = na < nb ? na : nb;
		for (size_t need = 0; need <= top + 1; need += 1 + top / 16) {
			/* best() is the AVX2 copy where the CPU has it (never called elsewhere) */
			size_t s1 = nd_inter_at_least(a, na, b, nb, need), s3 = best(a, na, b, nb, need);
			if (exact >= need) {
				CHECK_MSG(s1 == exact && s3 == exact, "need %zu: %zu %zu, exact %zu", need, s1, s3, exact);
			} else {
				CHECK_MSG(s1 < need && s3 < need, "need %zu: %zu %zu, exact %zu", need, s1, s3, exact);
			}
		}
	}
}

/* nd_sketch_missing_popcnt as the verification runs it: inlined into a
 * target("popcnt") function (POPCNT instructions) */
ND_TARGET_POPCNT static unsigned sketch_missing_hw(const uint64_t *x, const uint64_t *y)
{
	return nd_sketch_missing_popcnt(x, y);
}

TEST(lexical_sketch_popcount_matches_builtin)
{
	rng r = rng_for(14);
	for (int rep = 0; rep < 100000; rep++) {
		uint64_t x[ND_SKETCH_WORDS], y[ND_SKETCH_WORDS];
		unsigned want = 0;
		for (int k = 0; k < ND_SKETCH_WORDS; k++) {
			/* all-ones words too: the SWAR sum must hold 256 */
			x[k] = rep % 7 == 0 ? UINT64_MAX : rnd(&r) | (rep % 3 ? rnd(&r) : 0);
			y[k] = rep % 5 == 0 ? 0 : rnd(&r) & rnd(&r);
			want += (unsigned)__builtin_popcountll(x[k] & ~y[k]);
		}
		CHECK_EQ_INT(nd_sketch_missing(x, y), want);
		CHECK_EQ_INT(nd_sketch_missing_popcnt(x, y), want);
		if (nd_cpu_has_popcnt())
			CHECK_EQ_INT(sketch_missing_hw(x, y), want);
	}
}

/* The earlier-band key test of the verification, AVX2 against the loop: every
 * band count 0..40 (whole vectors and each tail), a match in any one band or in
 * none; each side an exact-size buffer, so the masked tail reading past it would
 * be an error under ASan. */
TEST(lexical_same_key_avx2_matches_loop)
{
	rng r = rng_for(15);
	for (size_t j = 0; j <= 40; j++)
		for (int rep = 0; rep < 400; rep++) {
			uint64_t *a = malloc((j ? j : 1) * sizeof *a), *b = malloc((j ? j : 1) * sizeof *b);
			unsigned want = 0;
			for (size_t e = 0; e < j; e++) {
				a[e] = rnd(&r);
				b[e] = rnd(&r);
			}
			if (j && rep % 2) { /* one shared key, anywhere */
				size_t at = (size_t)rnd(&r) % j;
				b[at] = a[at];
			}
			for (size_t e = 0; e < j; e++)
				want |= a[e] == b[e];
			CHECK_EQ_INT(nd_any_same_key(a, b, j, 0), want);
#if ND_HAVE_AVX2_CLONE
			if (nd_cpu_has_avx2() && nd_cpu_has_popcnt())
				CHECK_EQ_INT(nd_any_same_key_avx2(a, b, j), want);
#endif
			free(a);
			free(b);
		}
}

/* ---- MinHash ------------------------------------------------------------------------ */

TEST(lexical_minhash_avx2_matches_scalar)
{
	static const unsigned ks[] = {1, 7, 8, 9, 16, 17, 24, 117, 128, 200};
	static const size_t ns[] = {0, 1, 2, 7, 64, 333, 2000};
	rng r = rng_for(3);
	uint32_t *x = malloc(2000 * sizeof *x), s1[200], s2[200], s3[200];

	if (!nd_minhash_have_avx2()) {
		nd_test_skip("no AVX2 on this CPU");
		free(x);
		return;
	}
	for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
		nd_mh_perms p;
		CHECK_OK(nd_mh_perms_init(&p, ks[ki], rnd(&r)));
		for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
			for (int rep = 0; rep < 4; rep++) {
				for (size_t i = 0; i < ns[ni]; i++)
					/* include the extremes the carries are most likely to break on */
					x[i] = rep == 3 ? (i & 1 ? UINT32_MAX : 0) : (uint32_t)rnd(&r);
				nd_minhash_scalar(&p, x, ns[ni], s1);
				nd_minhash_avx2(&p, x, ns[ni], s2);
				nd_minhash_best()(&p, x, ns[ni], s3);
				CHECK_MSG(memcmp(s1, s2, ks[ki] * sizeof *s1) == 0,
					  "k=%u n=%zu: AVX2 signature differs", ks[ki], ns[ni]);
				CHECK(memcmp(s1, s3, ks[ki] * sizeof *s1) == 0);
			}
		}
		nd_mh_perms_free(&p);
	}
	CHECK_EQ_STR(nd_minhash_best_name(), "avx2");
	free(x);
}

/* Two sets of random 64-bit shingles with |A∩B| = common, |A\B| = |B\A| = diff. */
static void make_pair(rng *r, size_t common, size_t diff, uint32_t *a, uint32_t *b)
{
	for (size_t i = 0; i < common; i++)
		a[i] = b[i] = nd_mh_key(rnd(r));
	for (size_t i = 0; i < diff; i++) {
		a[common + i] = nd_mh_key(rnd(r));
		b[common + i] = nd_mh_key(rnd(r));
	}
}

TEST(lexical_minhash_estimates_jaccard_within_theory)
{
	const unsigned k = 128;
	const size_t npairs = 2000;
	rng r = rng_for(4);
	nd_mh_perms p;
	uint32_t a[400], b[400], sa[128], sb[128];
	size_t beyond3 = 0, beyond5 = 0;
	double bias = 0.0, var = 0.0;

	CHECK_OK(nd_mh_perms_init(&p, k, rnd(&r)));
	for (size_t t = 0; t < npairs; t++) {
		/* union of 40..400 elements, Jaccard anywhere in [0, 1] */
		size_t u = 40 + rnd(&r) % 361, common = rnd(&r) % (u + 1), diff, eq = 0;
		double j, est, sd;
		if ((u - common) & 1)
			common++;
		diff = (u - common) / 2;
		j = (double)common / (double)(common + 2 * diff);
		make_pair(&r, common, diff, a, b);
		nd_minhash_best()(&p, a, common + diff, sa);
		nd_minhash_best()(&p, b, common + diff, sb);
		for (unsigned i = 0; i < k; i++)
			eq += sa[i] == sb[i];
		est = (double)eq / k;
		/* est is a mean of k Bernoulli(J) draws: sd sqrt(J(1-J)/k); the 1/k
		 * covers the lattice of possible estimates at J near 0 or 1 */
		sd = sqrt(j * (1 - j) / k);
		beyond3 += fabs(est - j) > 3 * sd + 1.0 / k;
		beyond5 += fabs(est - j) > 5 * sd + 1.0 / k;
		bias += est - j;
		var += j * (1 - j) / k;
	}
	/* P(|Z| > 3) = 0.27%; allow 1% (the family is pairwise, not fully min-wise,
	 * independent) */
	CHECK_MSG(beyond3 <= npairs / 100, "%zu of %zu estimates beyond 3 sd", beyond3, npairs);
	CHECK_MSG(beyond5 == 0, "%zu estimates beyond 5 sd", beyond5);
	/* no systematic bias: the mean error is within 4 sd of its own spread */
	CHECK_MSG(fabs(bias / npairs) < 4 * sqrt(var) / npairs, "mean error %g", bias / npairs);
	nd_mh_perms_free(&p);
}

/* ---- LSH ----------------------------------------------------------------------------- */

TEST(lexical_lsh_params_recall_first)
{
	unsigned b = 0, r = 0;
	double mean_recall = 0.0;

	CHECK_OK(nd_lsh_params(0.9, 128, 0.25, 0.75, &b, &r));
	CHECK_EQ_INT(b, 9);
	CHECK_EQ_INT(r, 13);
	CHECK(b * r <= 128);
	/* recall first: most pairs right at the threshold are candidates, and nearly
	 * all above it; pairs at 0.5 almost never are */
	CHECK_MSG(nd_lsh_prob(0.9, b, r) > 0.9, "P(0.9) = %g", nd_lsh_prob(0.9, b, r));
	for (int i = 0; i < 1000; i++)
		mean_recall += nd_lsh_prob(0.9 + 0.1 * (i + 0.5) / 1000, b, r) / 1000;
	CHECK_MSG(mean_recall > 0.98, "mean recall over [0.9, 1] = %g", mean_recall);
	CHECK(nd_lsh_prob(0.5, b, r) < 0.01);
	/* the chosen point beats its neighbours on the documented objective, and
	 * heavier recall weight moves the curve left */
	{
		unsigned b2, r2;
		CHECK_OK(nd_lsh_params(0.9, 128, 0.05, 0.95, &b2, &r2));
		CHECK(nd_lsh_prob(0.9, b2, r2) >= nd_lsh_prob(0.9, b, r));
		CHECK_OK(nd_lsh_params(0.5, 128, 0.5, 0.5, &b2, &r2));
		CHECK(nd_lsh_prob(0.5, b2, r2) > 0.3 && nd_lsh_prob(0.5, b2, r2) < 0.8);
		CHECK_OK(nd_lsh_params(0.9, 1, 0.5, 0.5, &b2, &r2));
		CHECK(b2 == 1 && r2 == 1);
	}
	CHECK_EQ_INT(nd_lsh_params(1.0, 128, 0.25, 0.75, &b, &r), ND_EINVAL);
	CHECK_EQ_INT(nd_lsh_params(0.0, 128, 0.25, 0.75, &b, &r), ND_EINVAL);
	CHECK_EQ_INT(nd_lsh_params(NAN, 128, 0.25, 0.75, &b, &r), ND_EINVAL);
	CHECK_EQ_INT(nd_lsh_params(0.9, 0, 0.25, 0.75, &b, &r), ND_EINVAL);
	CHECK_EQ_INT(nd_lsh_params(0.9, 128, -1, 0.75, &b, &r), ND_EINVAL);
	CHECK_EQ_INT(nd_lsh_params(0.9, 128, 0, 0, &b, &r), ND_EINVAL);
	CHECK(nd_lsh_prob(0.0, 9, 13) == 0.0 && nd_lsh_prob(1.0, 9, 13) == 1.0);
	CHECK(fabs(nd_lsh_prob(0.5, 2, 1) - 0.75) < 1e-12);
}

/* Candidate generation on pairs of known Jaccard s follows P(s) = 1-(1-s^r)^b:
 * signatures, band keys and nd_lsh_band_buckets as nd_lex_pairs uses them. */
TEST(lexical_lsh_candidate_rate_follows_s_curve)
{
	static const double sims[] = {0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95};
	const unsigned bands = 9, rows = 13;
	const size_t npairs = 1000, u = 200;
	rng r = rng_for(5);
	nd_mh_perms p;
	uint32_t a[200], b[200], sig[117];
	uint64_t *keys = malloc(bands * 2 * npairs * sizeof *keys), bk[9];
	nd_kv *buf = malloc(2 * npairs * sizeof *buf);

	CHECK_OK(nd_mh_perms_init(&p, bands * rows, rnd(&r)));
	for (size_t si = 0; si < sizeof sims / sizeof *sims; si++) {
		size_t common = (size_t)(sims[si] * u + 0.5), diff = (u - common) / 2, hits = 0, big = 0;
		double want = nd_lsh_prob(sims[si], bands, rows), got, tol;
		unsigned char *hit = calloc(npairs, 1);
		/* items 2i, 2i+1 are the pair i */
		for (size_t i = 0; i < npairs; i++) {
			make_pair(&r, common, diff, a, b);
			nd_minhash_best()(&p, a, common + diff, sig);
			nd_band_keys(sig, bands, rows, bk);
			for (unsigned j = 0; j < bands; j++)
				keys[j * 2 * npairs + 2 * i] = bk[j];
			nd_minhash_best()(&p, b, common + diff, sig);
			nd_band_keys(sig, bands, rows, bk);
			for (unsigned j = 0; j < bands; j++)
				keys[j * 2 * npairs + 2 * i + 1] = bk[j];
		}
		for (unsigned j = 0; j < bands; j++) {
			nd_lsh_runs runs;
			CHECK_OK(nd_lsh_band_buckets(keys + j * 2 * npairs, 1, NULL, 2 * npairs, buf, &runs));
			for (size_t k = 0; k < runs.nrun; k++) {
				const uint32_t *it = runs.item + runs.start[k];
				size_t len = runs.start[k + 1] - runs.start[k];
				big += len > 256;
				/* members ascend: the pair i is two neighbours 2i, 2i+1 (pairs
				 * across different i are chance meetings) */
				for (size_t x = 0; x + 1 < len; x++)
					if (it[x + 1] == it[x] + 1 && (it[x] & 1) == 0)
						hit[it[x] / 2] = 1;
			}
			nd_lsh_runs_free(&runs);
		}
		for (size_t i = 0; i < npairs; i++)
			hits += hit[i];
		got = (double)hits / npairs;
		/* binomial sd of the measured rate, 4 sd, plus 0.02 for the family's
		 * departure from exact min-wise independence */
		tol = 4 * sqrt(want * (1 - want) / npairs) + 0.02;
		CHECK_MSG(fabs(got - want) <= tol, "s=%.2f: candidate rate %.3f, S-curve %.3f (tol %.3f)",
			  sims[si], got, want, tol);
		CHECK_EQ_INT(big, 0);
		free(hit);
	}
	nd_mh_perms_free(&p);
	free(keys);
	free(buf);
}

TEST(lexical_lsh_band_buckets)
{
	/* keys: items 0..4 share key 7, 5..6 share key 9, the rest unique; read with
	 * a stride of 2 (the odd words are noise) */
	uint64_t keys[20] = {7, 1, 7, 1, 7, 1, 7, 1, 7, 1, 9, 1, 9, 1, 1, 1, 2, 1, 3, 1};
	unsigned char active[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	nd_kv buf[10];
	nd_lsh_runs runs;

	CHECK_OK(nd_lsh_band_buckets(keys, 2, active, 10, buf, &runs));
	CHECK_EQ_INT(runs.nrun, 2);
	if (runs.nrun == 2) {
		/* runs come in key order of their top bits; members ascending */
		size_t five = runs.start[1] - runs.start[0] == 5 ? 0 : 1;
		const uint32_t *m5 = runs.item + runs.start[five], *m2 = runs.item + runs.start[1 - five];
		CHECK(runs.start[five + 1] - runs.start[five] == 5 && m5[0] == 0 && m5[4] == 4);
		CHECK(runs.start[2 - five] - runs.start[1 - five] == 2 && m2[0] == 5 && m2[1] == 6);
	}
	nd_lsh_runs_free(&runs);
	/* inactive items take no part: item 5 leaves 6 alone */
	active[5] = 0;
	CHECK_OK(nd_lsh_band_buckets(keys, 2, active, 10, buf, &runs));
	CHECK_EQ_INT(runs.nrun, 1);
	CHECK_EQ_INT(runs.start[1], 5);
	nd_lsh_runs_free(&runs);
	CHECK_OK(nd_lsh_band_buckets(keys, 2, active, 0, buf, &runs));
	CHECK_EQ_INT(runs.nrun, 0);
	nd_lsh_runs_free(&runs);
}

/* ---- SimHash -------------------------------------------------------------------------- */

TEST(lexical_simhash_fingerprint_is_majority_vote)
{
	rng r = rng_for(6);
	uint64_t v[1000];
	for (int rep = 0; rep < 20; rep++) {
		size_t n = rep == 0 ? 0 : 1 + rnd(&r) % 1000;
		uint64_t want = 0;
		for (size_t i = 0; i < n; i++)
			v[i] = rnd(&r) & rnd(&r); /* biased bits, so some columns tie or lose */
		for (int bit = 0; bit < 64; bit++) {
			size_t ones = 0;
			for (size_t i = 0; i < n; i++)
				ones += (v[i] >> bit) & 1;
			if (2 * ones > n)
				want |= (uint64_t)1 << bit;
		}
		CHECK(nd_simhash(v, n) == want);
	}
	/* near-identical sets give near fingerprints */
	{
		uint64_t *x, *y;
		size_t nx, ny;
		const char *t1 = "驾驶机动车在高速公路上行驶遇到雾天能见度小于五十米时应当怎样做";
		const char *t2 = "驾驶机动车在高速公路上行驶遇到雾天能见度小于五十米时应该怎样做";
		CHECK_OK(nd_shingles(t1, strlen(t1), 3, &x, &nx));
		CHECK_OK(nd_shingles(t2, strlen(t2), 3, &y, &ny));
		CHECK(__builtin_popcountll(nd_simhash(x, nx) ^ nd_simhash(y, ny)) <= 12);
		free(x);
		free(y);
	}
}

TEST(lexical_simhash_tables_match_brute_force)
{
	const size_t bases = 600, m = 3000;
	rng r = rng_for(7);
	uint64_t *fp = malloc(m * sizeof *fp), *brute = malloc(m * m / 2 * sizeof *brute);
	uint64_t *tmp = malloc(m * m / 2 * sizeof *tmp);

	/* clusters: each base plus variants at distance 0..6 */
	for (size_t i = 0; i < m; i++) {
		if (i < bases) {
			fp[i] = rnd(&r);
		} else {
			uint64_t x = fp[rnd(&r) % bases];
			unsigned d = (unsigned)(rnd(&r) % 7);
			for (unsigned k = 0; k < d; k++)
				x ^= (uint64_t)1 << (rnd(&r) % 64);
			fp[i] = x;
		}
	}
	for (unsigned k = 0; k <= 5; k++) {
		size_t nb = 0;
		for (size_t i = 0; i < m; i++)
			for (size_t j = i + 1; j < m; j++)
				if ((unsigned)__builtin_popcountll(fp[i] ^ fp[j]) <= k)
					brute[nb++] = nd_pair_key((uint32_t)i, (uint32_t)j);
		/* automatic choice, and every block count up to k+3 (more tables) */
		for (unsigned blocks = 0; blocks <= k + 3; blocks = blocks ? blocks + 1 : k + 1) {
			nd_u64vec out = {0};
			size_t big = 0, raw, n;
			CHECK_OK(nd_simhash_pairs(fp, NULL, NULL, m, k, blocks, m, 2, &out, &big));
			raw = out.n;
			n = nd_sort_unique_u64(out.v, tmp, out.n);
			CHECK_MSG(n == nb && (n == 0 || memcmp(out.v, brute, n * sizeof *brute) == 0),
				  "k=%u blocks=%u: %zu pairs, brute force %zu", k, blocks, n, nb);
			CHECK_MSG(raw == n, "k=%u blocks=%u: %zu pairs reported twice", k, blocks, raw - n);
			CHECK_EQ_INT(big, 0);
			nd_u64vec_free(&out);
		}
	}
	{
		nd_u64vec out = {0};
		size_t big = 0;
		CHECK_EQ_INT(nd_simhash_pairs(fp, NULL, NULL, m, 17, 0, 256, 1, &out, &big), ND_EINVAL);
		CHECK_EQ_INT(nd_simhash_pairs(fp, NULL, NULL, m, 3, 3, 256, 1, &out, &big), ND_EINVAL);
	}
	free(fp);
	free(brute);
	free(tmp);
}

/* ---- nd_lex_pairs ----------------------------------------------------------------------- */

static int same_pairs(const nd_pair *x, size_t nx, const nd_pair *y, size_t ny)
{
	return nx == ny && (nx == 0 || memcmp(x, y, nx * sizeof *x) == 0);
}

TEST(lexical_pairs_match_brute_force)
{
	rng r = rng_for(8);
	corpus c = make_corpus(&r, 1500, 25, 0);
	nd_lex_opts o = ND_LEX_OPTS_INIT;
	uint64_t *bk;
	double *bs;
	size_t nb, found = 0;
	nd_pair *p = NULL;
	size_t np = 0;
	nd_lex_stats st;

	o.threshold = 0.7;
	nb = brute_pairs(&c, o.ngram, o.threshold, &bk, &bs);
	CHECK_OK(nd_lex_pairs(texts_of(&c), c.len, c.n, &o, &p, &np, &st));
	for (size_t i = 0; i < np; i++) {
		uint64_t key = nd_pair_key(p[i].a, p[i].b);
		CHECK(p[i].a < p[i].b);
		CHECK(i == 0 || nd_pair_key(p[i - 1].a, p[i - 1].b) < key);
		CHECK_MSG(find_key(bk, nb, key), "pair %u-%u (sim %g) is not above the threshold", p[i].a,
			  p[i].b, p[i].sim);
	}
	for (size_t i = 0, j = 0; i < nb; i++) {
		while (j < np && nd_pair_key(p[j].a, p[j].b) < bk[i])
			j++;
		if (j < np && nd_pair_key(p[j].a, p[j].b) == bk[i]) {
			found++;
			CHECK(p[j].sim == (float)bs[i]);
		}
	}
	/* recall: the S-curve's miss rate averaged over these pairs' similarities is
	 * a few percent at most */
	CHECK_MSG(nb > 200, "only %zu planted pairs", nb);
	CHECK_MSG(found >= nb * 95 / 100, "found %zu of %zu pairs", found, nb);
	/* an edit can undo itself: the odd exact copy is a star, not a candidate */
	CHECK_EQ_INT(st.verified + st.identical, np);
	CHECK(st.candidates >= st.verified);
	CHECK(st.bands * st.rows <= 128 && st.p_at_threshold == nd_lsh_prob(0.7, st.bands, st.rows));
	free(p);
	free(bk);
	free(bs);
	corpus_free(&c);
}

TEST(lexical_pairs_identical_texts_form_stars)
{
	const char *t[] = {
		"机动车行驶中遇到前方道路施工应当减速慢行", /* 0: group A */
		"",                                        /* 1: empty */
		"机动车行驶中遇到前方道路施工应当减速慢行", /* 2: A */
		NULL,                                      /* 3: empty */
		"机动车行驶中遇到前方道路施工应当减速慢性", /* 4: group B, near A */
		"   ",                                     /* 5: no tokens */
		"机动车行驶中遇到前方道路施工应当减速慢行", /* 6: A */
		"机动车行驶中遇到前方道路施工应当减速慢性", /* 7: B */
		"   ",                                     /* 8: no tokens, identical to 5 */
		"完全不同的另一道题目内容",                 /* 9 */
	};
	nd_lex_opts o = ND_LEX_OPTS_INIT;
	nd_pair *p = NULL;
	size_t np = 0;
	nd_lex_stats st;

	o.threshold = 0.8;
	CHECK_OK(nd_lex_pairs(t, NULL, 10, &o, &p, &np, &st));
	/* stars 0-2, 0-6, 4-7; the near pair between the groups, between their
	 * first occurrences 0-4 only */
	CHECK_EQ_INT(np, 4);
	if (np == 4) {
		CHECK(p[0].a == 0 && p[0].b == 2 && p[0].sim == 1.0f);
		CHECK(p[1].a == 0 && p[1].b == 4 && p[1].sim > 0.8f && p[1].sim < 1.0f);
		CHECK(p[2].a == 0 && p[2].b == 6 && p[2].sim == 1.0f);
		CHECK(p[3].a == 4 && p[3].b == 7 && p[3].sim == 1.0f);
	}
	CHECK_EQ_INT(st.identical, 3);
	CHECK_EQ_INT(st.verified, 1);
	CHECK_EQ_INT(st.empty_texts, 4);
	free(p);
	/* no texts at all */
	CHECK_OK(nd_lex_pairs(t, NULL, 0, &o, &p, &np, NULL));
	CHECK_EQ_INT(np, 0);
	free(p);
}

/* The verification's copies (plain, POPCNT, AVX2, AVX-512 where the CPU has
 * them) on a templated bank: most texts share a long stem, so buckets hold
 * dozens of texts (the AVX-512 loop runs eight partners at a time, tails of
 * every length) and, at max_bucket 24, big buckets become chains with ranks.
 * The pairs, their similarities and the candidate counts must be the same. */
TEST(lexical_verify_copies_agree)
{
	rng r = rng_for(21);
	const size_t n = 3000, nlong = 8;
	char **t = calloc(n + nlong, sizeof *t);
	static const char *const stems[] = {"机动车在道路上行驶时驾驶人应当遵守交通信号灯的指示并注意观察",
					    "雾天行车应当开启雾灯和危险报警闪光灯并降低车速保持安全距离"};
	for (size_t i = 0; i < n; i++) {
		nd_buf b = {0};
		nd_buf_append(&b, stems[i % 2], strlen(stems[i % 2]));
		for (unsigned k = 3 + (unsigned)(rnd(&r) % 6); k > 0; k--) {
			char ch[4];
			uint32_t c = 0x4E00 + (uint32_t)(rnd(&r) % 40);
			ch[0] = (char)(0xE0 | c >> 12);
			ch[1] = (char)(0x80 | ((c >> 6) & 0x3F));
			ch[2] = (char)(0x80 | (c & 0x3F));
			nd_buf_append(&b, ch, 3);
		}
		t[i] = b.data;
	}
	/* and a few near-copies of 2,500 distinct characters: pairs whose set sizes
	 * sum past the need table, so their lanes take the scalar way */
	for (size_t i = n; i < n + nlong; i++) {
		nd_buf b = {0};
		for (uint32_t k = 0; k < 2500; k++) {
			uint32_t c = 0x4E00 + k + ((k % 997) == i % 7 ? 3000 : 0);
			char ch[3] = {(char)(0xE0 | c >> 12), (char)(0x80 | ((c >> 6) & 0x3F)), (char)(0x80 | (c & 0x3F))};
			nd_buf_append(&b, ch, 3);
		}
		t[i] = b.data;
	}
	int saved = nd_lex_isa_cap;
	for (int chains = 0; chains < 2; chains++) {
		nd_pair *ref = NULL;
		size_t nref = 0;
		nd_lex_stats sref;
		for (int cap = 3; cap >= 0; cap--)
			for (unsigned threads = 1; threads <= 2; threads++) {
				nd_lex_opts o = ND_LEX_OPTS_INIT;
				nd_pair *p = NULL;
				size_t np = 0;
				nd_lex_stats st;
				o.threshold = 0.8;
				o.threads = threads;
				o.max_bucket = chains ? 24 : 256;
				nd_lex_isa_cap = cap;
				CHECK_OK(nd_lex_pairs((const char *const *)t, NULL, n + nlong, &o, &p, &np, &st));
				if (!ref) {
					ref = p;
					nref = np;
					sref = st;
					CHECK_MSG(np > 5000, "only %zu pairs", np);
					CHECK(!chains || st.big_buckets > 0);
					continue;
				}
				CHECK_MSG(same_pairs(ref, nref, p, np), "cap %d, %u threads, max_bucket %zu: %zu pairs, %zu",
					  cap, threads, o.max_bucket, np, nref);
				CHECK_MSG(st.candidates == sref.candidates && st.verified == sref.verified,
					  "cap %d: %zu candidates / %zu verified, %zu / %zu", cap, st.candidates,
					  st.verified, sref.candidates, sref.verified);
				free(p);
			}
		free(ref);
	}
	nd_lex_isa_cap = saved;
	for (size_t i = 0; i < n + nlong; i++)
		free(t[i]);
	free(t);
}

TEST(lexical_pairs_identical_for_any_thread_count)
{
	rng r = rng_for(9);
	corpus c = make_corpus(&r, 4000, 20, 5);
	static const unsigned threads[] = {1, 2, 8};
	for (int method = 0; method < 2; method++) {
		for (int chains = 0; chains < 2; chains++) {
			nd_pair *ref = NULL;
			size_t nref = 0;
			for (size_t ti = 0; ti < 3; ti++) {
				nd_lex_opts o = ND_LEX_OPTS_INIT;
				nd_pair *p = NULL;
				size_t np = 0;
				o.method = method ? ND_LEX_SIMHASH : ND_LEX_MINHASH;
				o.simhash_bits = 8;
				o.threshold = 0.8;
				o.threads = threads[ti];
				o.max_bucket = chains ? 2 : 256;
				CHECK_OK(nd_lex_pairs(texts_of(&c), c.len, c.n, &o, &p, &np, NULL));
				if (ti == 0) {
					ref = p;
					nref = np;
					CHECK_MSG(np > 400, "only %zu pairs", np);
					continue;
				}
				CHECK_MSG(same_pairs(ref, nref, p, np),
					  "method %d, max_bucket %zu: %u threads give %zu pairs, 1 thread %zu",
					  method, o.max_bucket, threads[ti], np, nref);
				free(p);
			}
			free(ref);
		}
	}
	corpus_free(&c);
}

TEST(lexical_pairs_ex_matches_pairs_and_hands_over_the_sets)
{
	rng r = rng_for(15);
	corpus c = make_corpus(&r, 4000, 20, 5);
	static const unsigned threads[] = {1, 2, 8};
	nd_shingle_sets *all = NULL;

	free(c.t[3]);
	c.t[3] = NULL;
	c.len[3] = 0;
	CHECK_OK(nd_shingle_sets_build(&all, texts_of(&c), c.len, c.n, 1, 0));
	for (int method = 0; method < 2; method++) {
		nd_lex_opts o = ND_LEX_OPTS_INIT;
		nd_pair *ref = NULL;
		size_t nref = 0;
		nd_lex_stats sref;
		o.method = method ? ND_LEX_SIMHASH : ND_LEX_MINHASH;
		o.simhash_bits = 8;
		o.threshold = 0.8;
		o.ngram = 1;
		CHECK_OK(nd_lex_pairs(texts_of(&c), c.len, c.n, &o, &ref, &nref, &sref));
		CHECK_MSG(nref > 400, "only %zu pairs", nref);
		for (size_t ti = 0; ti < 3; ti++) {
			nd_pair *p = NULL;
			size_t np = 0;
			nd_lex_stats st;
			nd_shingle_sets *s = NULL;
			o.threads = threads[ti];
			CHECK_OK(nd_lex_pairs_ex(texts_of(&c), c.len, c.n, &o, &p, &np, &st, &s));
			CHECK_MSG(same_pairs(ref, nref, p, np), "method %d, %u threads: %zu pairs, nd_lex_pairs %zu",
				  method, threads[ti], np, nref);
			CHECK(st.candidates == sref.candidates && st.verified == sref.verified &&
			      st.identical == sref.identical && st.big_buckets == sref.big_buckets);
			/* one set per record, as the store built on its own would hold it */
			CHECK_EQ_INT(nd_shingle_sets_count(s), c.n);
			for (size_t i = 0; s && i < c.n; i++) {
				size_t nx, ny;
				const uint32_t *x = nd_shingle_sets_get(all, i, &nx), *y = nd_shingle_sets_get(s, i, &ny);
				CHECK_MSG(nx == ny && (nx == 0 || memcmp(x, y, nx * sizeof *x) == 0), "set %zu", i);
			}
			for (size_t i = 0; i < np; i++)
				CHECK(fabs(nd_shingle_sets_jaccard(s, p[i].a, p[i].b) - p[i].sim) < 1e-6);
			nd_shingle_sets_free(s);
			free(p);
		}
		free(ref);
	}
	/* NULL sets: nd_lex_pairs; a failure leaves no store behind */
	{
		const char *t[] = {"第一题内容是这个", "第二题\xff内容"};
		nd_shingle_sets *s = (nd_shingle_sets *)&s;
		nd_pair *p = NULL;
		size_t np = 0;
		CHECK_EQ_INT(nd_lex_pairs_ex(t, NULL, 2, NULL, &p, &np, NULL, &s), ND_EUTF8);
		CHECK(s == NULL && p == NULL);
		CHECK_OK(nd_lex_pairs_ex(t, NULL, 1, NULL, &p, &np, NULL, NULL));
		free(p);
	}
	nd_shingle_sets_free(all);
	corpus_free(&c);
}

/* Step 4 checks each pair the bands emit once, in the first band that emits it,
 * and never materialises the list: against a reference that does (every band's
 * buckets as all pairs, or as chains past max_bucket; the union sorted), the
 * candidate count and the verified pairs must be exactly the same. Also with 70
 * bands of one row: the big-bucket bits cover bands 0..63 only, and from band 64
 * on every pair asks the ranks (a review found band 64 itself mishandled). */
TEST(lexical_pairs_check_every_band_candidate_once)
{
	rng r = rng_for(16);
	corpus c = make_corpus(&r, 3000, 30, 5);
	static const struct {
		size_t max_bucket;
		unsigned bands, rows; /* 0, 0: derived */
		double threshold;
		unsigned threads;
	} cfg[] = {{256, 0, 0, 0.7, 0}, {3, 0, 0, 0.7, 0}, {1, 0, 0, 0.7, 0}, {4, 70, 1, 0.5, 1}, {4, 70, 1, 0.5, 2}};

	for (size_t li = 0; li < sizeof cfg / sizeof cfg[0]; li++) {
		nd_lex_opts o = ND_LEX_OPTS_INIT;
		nd_pair *p = NULL;
		size_t np = 0, m = 0, ncand = 0, nver = 0, nout = 0;
		nd_lex_stats st;
		nd_shingle_sets *sets = NULL;
		nd_mh_perms perms;
		uint32_t *rec = malloc(c.n * sizeof *rec), *sig;
		uint64_t *bk, *tmp;
		nd_kv *buf = malloc(c.n * sizeof *buf);
		nd_u64vec cand = {0};

		o.threshold = cfg[li].threshold;
		o.max_bucket = cfg[li].max_bucket;
		o.bands = cfg[li].bands;
		o.rows = cfg[li].rows;
		o.threads = cfg[li].threads;
		CHECK_OK(nd_lex_pairs(texts_of(&c), c.len, c.n, &o, &p, &np, &st));
		CHECK_OK(nd_shingle_sets_build(&sets, texts_of(&c), c.len, c.n, o.ngram, 1));
		CHECK_OK(nd_mh_perms_init(&perms, st.bands * st.rows, o.seed));
		sig = malloc(perms.k * sizeof *sig);
		bk = malloc(c.n * st.bands * sizeof *bk);
		/* representatives: first occurrences of the texts with a token */
		for (size_t i = 0; i < c.n; i++) {
			size_t nk, k;
			const uint32_t *keys = nd_shingle_sets_get(sets, i, &nk);
			for (k = 0; k < m; k++)
				if (c.len[rec[k]] == c.len[i] && memcmp(c.t[rec[k]], c.t[i], c.len[i]) == 0)
					break;
			if (!nk || k < m)
				continue;
			nd_minhash_scalar(&perms, keys, nk, sig);
			nd_band_keys(sig, st.bands, st.rows, bk + m * st.bands);
			rec[m++] = (uint32_t)i;
		}
		for (unsigned j = 0; j < st.bands; j++) {
			nd_lsh_runs runs;
			CHECK_OK(nd_lsh_band_buckets(bk + j, st.bands, NULL, m, buf, &runs));
			for (size_t k = 0; k < runs.nrun; k++) {
				const uint32_t *it = runs.item + runs.start[k];
				size_t len = runs.start[k + 1] - runs.start[k];
				for (size_t x = 0; x + 1 < len; x++)
					for (size_t y = x + 1; y < (len <= o.max_bucket ? len : x + 2); y++)
						nd_u64vec_push(&cand, nd_pair_key(rec[it[x]], rec[it[y]]));
			}
			nd_lsh_runs_free(&runs);
		}
		tmp = malloc((cand.n + 1) * sizeof *tmp);
		ncand = nd_sort_unique_u64(cand.v, tmp, cand.n);
		CHECK_MSG(st.candidates == ncand, "max_bucket %zu: %zu candidates, the bands emit %zu", o.max_bucket,
			  st.candidates, ncand);
		CHECK(o.max_bucket == 256 || st.big_buckets > 0);
		/* the verified pairs: the output without its stars (pairs of two
		 * representatives), in the same order */
		for (size_t k = 0; k < ncand; k++) {
			uint32_t a = (uint32_t)(cand.v[k] >> 32), b = (uint32_t)cand.v[k];
			double jac = nd_shingle_sets_jaccard(sets, a, b);
			if (jac < o.threshold)
				continue;
			nver++;
			while (nout < np && (c.len[p[nout].a] == c.len[p[nout].b] &&
					     memcmp(c.t[p[nout].a], c.t[p[nout].b], c.len[p[nout].a]) == 0))
				nout++; /* a star */
			CHECK_MSG(nout < np && p[nout].a == a && p[nout].b == b && p[nout].sim == (float)jac,
				  "max_bucket %zu: pair %u-%u (J %g) missing", o.max_bucket, a, b, jac);
			nout++;
		}
		CHECK_EQ_INT(st.verified, nver);
		free(p);
		free(rec);
		free(sig);
		free(bk);
		free(tmp);
		free(buf);
		nd_u64vec_free(&cand);
		nd_mh_perms_free(&perms);
		nd_shingle_sets_free(sets);
	}
	corpus_free(&c);
}

static uint32_t find_root(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x)
		x = parent[x] = parent[parent[x]];
	return x;
}

TEST(lexical_pairs_big_buckets_chain_but_stay_connected)
{
	/* 300 variants of one long text, each with one character changed at its own
	 * position: all pairwise similar, so every band puts them in one bucket */
	const size_t n = 300, len = 400;
	rng r = rng_for(10);
	uint32_t *base = random_chars(&r, len), *cp = malloc(len * sizeof *cp);
	corpus c = {calloc(n, sizeof(char *)), calloc(n, sizeof(size_t)), n};
	uint32_t parent[300];
	nd_lex_opts o = ND_LEX_OPTS_INIT;
	nd_pair *p = NULL, *all = NULL;
	size_t np = 0, nall = 0, roots = 0;
	nd_lex_stats st;

	for (size_t i = 0; i < n; i++) {
		memcpy(cp, base, len * sizeof *cp);
		cp[i] = 0x4E00 + ALPHABET + (uint32_t)i; /* outside the alphabet: unique */
		c.t[i] = encode(cp, len, &c.len[i]);
	}
	o.max_bucket = 16;
	CHECK_OK(nd_lex_pairs(texts_of(&c), c.len, n, &o, &p, &np, &st));
	CHECK(st.big_buckets > 0);
	CHECK_MSG(np < n * (n - 1) / 2, "%zu pairs: the big buckets were not chained", np);
	for (uint32_t i = 0; i < n; i++)
		parent[i] = i;
	for (size_t i = 0; i < np; i++) {
		CHECK(p[i].sim >= 0.9f);
		parent[find_root(parent, p[i].a)] = find_root(parent, p[i].b);
	}
	for (uint32_t i = 0; i < n; i++)
		roots += find_root(parent, i) == i;
	CHECK_EQ_INT(roots, 1);
	/* with a bucket limit above n, every pair the S-curve does not miss: pairs
	 * here have J = 392/404 = 0.97, P = 1 - 4e-5, so ~2 of 44850 are expected to
	 * go; misses cluster (a text whose new shingles hold many minima misses
	 * several partners at once), hence the 0.2% allowance */
	o.max_bucket = 1000;
	CHECK_OK(nd_lex_pairs(texts_of(&c), c.len, n, &o, &all, &nall, &st));
	CHECK_MSG(nall >= n * (n - 1) / 2 * 998 / 1000 && nall <= n * (n - 1) / 2, "%zu pairs", nall);
	free(p);
	free(all);
	free(base);
	free(cp);
	corpus_free(&c);
}

/* P(Binomial(64, p) <= k) */
static double binom_cdf64(double p, unsigned k)
{
	double sum = 0.0, c = 1.0;
	for (unsigned i = 0; i <= k; i++) {
		sum += c * pow(p, i) * pow(1 - p, 64 - i);
		c = c * (64 - i) / (i + 1);
	}
	return sum;
}

TEST(lexical_pairs_simhash_verified_and_recall_as_theory)
{
	rng r = rng_for(11);
	corpus c = make_corpus(&r, 1500, 25, 0);
	nd_lex_opts o = ND_LEX_OPTS_INIT;
	uint64_t *bk;
	double *bs, expect = 0.0;
	size_t nb, found = 0;
	nd_pair *p = NULL;
	size_t np = 0;
	nd_lex_stats st;

	o.method = ND_LEX_SIMHASH;
	o.simhash_bits = 6;
	o.threshold = 0.8;
	nb = brute_pairs(&c, o.ngram, o.threshold, &bk, &bs);
	CHECK_OK(nd_lex_pairs(texts_of(&c), c.len, c.n, &o, &p, &np, &st));
	for (size_t i = 0; i < np; i++) {
		int ok = find_key(bk, nb, nd_pair_key(p[i].a, p[i].b));
		CHECK(ok);
		found += ok;
	}
	/* Each fingerprint bit is the sign of a random +-1 projection of the shingle
	 * vector, so two texts at angle theta differ in a bit with probability
	 * ~theta/pi (Charikar 2002) and meet at distance <= k with the binomial
	 * probability below. For sets of equal size (these texts nearly are),
	 * cos theta = |A n B| / |A| = 2J / (1 + J). The +-1 projections and the
	 * near-equal sizes make this approximate: 25% slack. */
	for (size_t i = 0; i < nb; i++) {
		double cosv = 2 * bs[i] / (1 + bs[i]);
		expect += binom_cdf64(acos(cosv > 1 ? 1 : cosv) / M_PI, o.simhash_bits);
	}
	CHECK_MSG(found >= 0.75 * expect && found <= 1.25 * expect + 10,
		  "SimHash found %zu of %zu pairs, theory %.1f", found, nb, expect);
	CHECK(st.bands == 0 && st.verified + st.identical == np);
	free(p);
	free(bk);
	free(bs);
	corpus_free(&c);
}

TEST(lexical_pairs_errors)
{
	const char *t[] = {"第一题内容是这个", "第二题\xff内容"};
	nd_lex_opts o = ND_LEX_OPTS_INIT;
	nd_pair *p = NULL;
	size_t np = 0;
	volatile int flag = 1;

	CHECK_EQ_INT(nd_lex_pairs(t, NULL, 2, &o, &p, &np, NULL), ND_EUTF8);
	CHECK(strstr(nd_error_last(), "text 1") != NULL);
	CHECK(p == NULL && np == 0);
	CHECK_EQ_INT(nd_lex_pairs(t, NULL, (size_t)UINT32_MAX + 1, &o, &p, &np, NULL), ND_ELIMIT);
	CHECK_EQ_INT(nd_lex_pairs(NULL, NULL, 2, &o, &p, &np, NULL), ND_EINVAL);
	CHECK_EQ_INT(nd_lex_pairs(t, NULL, 1, &o, NULL, &np, NULL), ND_EINVAL);
	o.version = 99;
	CHECK_EQ_INT(nd_lex_pairs(t, NULL, 1, &o, &p, &np, NULL), ND_EINVAL);
	o.version = ND_LEX_OPTS_VERSION;
	o.threshold = 0;
	CHECK_EQ_INT(nd_lex_pairs(t, NULL, 1, &o, &p, &np, NULL), ND_EINVAL);
	o.threshold = 0.9;
	o.bands = 20;
	o.rows = 10;
	CHECK_EQ_INT(nd_lex_pairs(t, NULL, 1, &o, &p, &np, NULL), ND_EINVAL);
	o.rows = 0;
	CHECK_EQ_INT(nd_lex_pairs(t, NULL, 1, &o, &p, &np, NULL), ND_EINVAL);
	o.bands = 0;
	o.ngram = 0;
	CHECK_EQ_INT(nd_lex_pairs(t, NULL, 1, &o, &p, &np, NULL), ND_EINVAL);
	o.ngram = 3;
	o.method = ND_LEX_SIMHASH;
	o.simhash_bits = 40;
	CHECK_EQ_INT(nd_lex_pairs(t, NULL, 1, &o, &p, &np, NULL), ND_EINVAL);
	/* explicit bands/rows, a threshold of 1, NULL opts */
	o = (nd_lex_opts)ND_LEX_OPTS_INIT;
	o.bands = 16;
	o.rows = 8;
	o.threshold = 1.0;
	CHECK_OK(nd_lex_pairs(t, NULL, 1, &o, &p, &np, NULL));
	free(p);
	CHECK_OK(nd_lex_pairs(t, NULL, 1, NULL, &p, &np, NULL));
	free(p);
	/* an interrupt flag already set stops the pass */
	nd_set_interrupt_flag(&flag);
	CHECK_EQ_INT(nd_lex_pairs(t, NULL, 1, NULL, &p, &np, NULL), ND_EINTR);
	nd_set_interrupt_flag(NULL);
	CHECK(p == NULL);
}
