/* Tokens, shingles, and the shingle-set store with its exact Jaccard.
 *
 * A text becomes a canonical token stream: every token's bytes followed by one
 * 0xFF byte. 0xFF never occurs in UTF-8, so the stream encodes the token sequence
 * injectively ("ab c" and "a bc" differ, and so do "a  b" and "a b" not), and a
 * shingle of n tokens is one contiguous slice of it: tokens i .. i+n-1 without the
 * final separator, hashed with nd_hash64 (inline) in place.
 */
#include <stdlib.h>
#include <string.h>
#include "hash_impl.h"
#include "lexical_internal.h"

#define ND_TOKEN_SEP 0xFF /* never a UTF-8 byte */

/* Characters that are one token each: CJK ideographs, kana and hangul carry a
 * word's worth of meaning per character and are written without spaces. */
static int is_single_token(uint32_t c)
{
	if (c < 0x1100)
		return 0; /* fast exit for ASCII, Latin, Greek, Cyrillic ... */
	return (c >= 0x4E00 && c <= 0x9FFF)      /* CJK Unified Ideographs */
	       || (c >= 0x3400 && c <= 0x4DBF)   /* CJK Extension A */
	       || (c >= 0xF900 && c <= 0xFAFF)   /* CJK Compatibility Ideographs */
	       || (c >= 0x20000 && c <= 0x2FA1F) /* Extensions B..F, Compatibility Supplement */
	       || (c >= 0x30000 && c <= 0x323AF) /* Extensions G, H */
	       || (c >= 0x3040 && c <= 0x30FF)   /* Hiragana, Katakana */
	       || (c >= 0x31F0 && c <= 0x31FF)   /* Katakana Phonetic Extensions */
	       || (c >= 0xFF66 && c <= 0xFF9F)   /* Halfwidth Katakana */
	       || (c >= 0xAC00 && c <= 0xD7AF)   /* Hangul Syllables */
	       || (c >= 0x1100 && c <= 0x11FF)   /* Hangul Jamo */
	       || (c >= 0x3130 && c <= 0x318F)   /* Hangul Compatibility Jamo */
	       || (c >= 0xA960 && c <= 0xA97F)   /* Hangul Jamo Extended-A */
	       || (c >= 0xD7B0 && c <= 0xD7FF);  /* Hangul Jamo Extended-B */
}

/* Unicode White_Space, the characters that separate tokens. */
static int is_space(uint32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= 0x09 && c <= 0x0D);
	return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
	       c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Decodes one code point at p[0 .. left), left >= 1. @return its length in bytes,
 * or 0 when the bytes are not valid UTF-8 (truncated, overlong, surrogate, > U+10FFFF). */
static ND_ALWAYS_INLINE size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *cp)
{
	unsigned char c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		if (left < 2 || (p[1] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t)(c & 0x1F) << 6) | (p[1] & 0x3F);
		return 2;
	}
	if (c >= 0xE0 && c <= 0xEF) {
		if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
			return 0; /* overlong, surrogate */
		*cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
			return 0; /* overlong, above U+10FFFF */
		*cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
		      ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
		return 4;
	}
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	void *q;
	if (need <= *cap)
		return 0;
	q = nd_reallocarray(*p, need, elem);
	if (!q)
		return nd_seterr(ND_ENOMEM, "out of memory shingling a text of %zu items", need);
	*p = q;
	*cap = need;
	return 0;
}

/* Room for @need tokens: their starts and their kinds. */
static int grow_tokens(nd_shingler *s, size_t need)
{
	size_t *t;
	unsigned char *w;
	if (need <= s->tok_cap)
		return 0;
	if (!(t = nd_reallocarray(s->tok, need, sizeof *t)))
		return nd_seterr(ND_ENOMEM, "out of memory shingling a text of %zu items", need);
	s->tok = t;
	if (!(w = realloc(s->word, need)))
		return nd_seterr(ND_ENOMEM, "out of memory shingling a text of %zu items", need);
	s->word = w;
	s->tok_cap = need;
	return 0;
}

void nd_shingler_free(nd_shingler *s)
{
	if (!s)
		return;
	free(s->stream);
	free(s->tok);
	free(s->word);
	free(s->sh);
	memset(s, 0, sizeof *s);
}

int nd_shingler_run(nd_shingler *s, const char *text, size_t len, unsigned ngram)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned char *out;
	size_t *tok;
	unsigned char *word;
	size_t i = 0, o = 0, ntok = 0, nsh = 0;
	int in_run = 0, rc;

	s->nsh = 0;
	if (len == 0)
		return 0;
	/* stream: every byte plus at most one separator per byte; tokens and
	 * shingles: at most one per byte */
	if (len > (SIZE_MAX / 2) / sizeof(uint64_t) - 1)
		return nd_seterr(ND_ENOMEM, "text of %zu bytes is too long to shingle", len);
	if ((rc = grow((void **)&s->stream, &s->stream_cap, 2 * len, 1)) ||
	    (rc = grow_tokens(s, len + 1)) ||
	    (rc = grow((void **)&s->sh, &s->sh_cap, 2 * len, sizeof *s->sh)))
		return rc;
	out = s->stream;
	tok = s->tok;
	word = s->word;

/* n is 1..4: nested tests beat a memcpy call for such short copies */
#define COPY_CHAR()                                                                          \
	do {                                                                                 \
		out[o] = p[i];                                                               \
		if (n > 1) {                                                                 \
			out[o + 1] = p[i + 1];                                               \
			if (n > 2) {                                                         \
				out[o + 2] = p[i + 2];                                       \
				if (n > 3)                                                   \
					out[o + 3] = p[i + 3];                               \
			}                                                                    \
		}                                                                            \
		o += n;                                                                      \
	} while (0)

	/* pass 1: the token stream and where each token starts in it */
	while (i < len) {
		uint32_t c;
		size_t n;
		if (p[i] < 0x80) { /* ASCII fast path */
			c = p[i];
			n = 1;
			if (c == 0)
				return nd_seterr(ND_EUTF8, "NUL byte at offset %zu", i);
		} else if (!(n = utf8_decode(p + i, len - i, &c))) {
			return nd_seterr(ND_EUTF8, "invalid UTF-8 at byte offset %zu", i);
		}
		if (is_space(c)) {
			if (in_run) {
				out[o++] = ND_TOKEN_SEP;
				in_run = 0;
			}
		} else if (is_single_token(c)) {
			if (in_run) {
				out[o++] = ND_TOKEN_SEP;
				in_run = 0;
			}
			word[ntok] = 0;
			tok[ntok++] = o;
			COPY_CHAR();
			out[o++] = ND_TOKEN_SEP;
		} else {
			if (!in_run) {
				word[ntok] = 1;
				tok[ntok++] = o;
				in_run = 1;
			}
			COPY_CHAR();
		}
		i += n;
	}
#undef COPY_CHAR
	if (in_run)
		out[o++] = ND_TOKEN_SEP;
	tok[ntok] = o; /* token k spans [tok[k], tok[k+1] - 1), then its separator */

	/* pass 2: hash the slices. Done apart from pass 1 on purpose: hashing each
	 * n-gram as soon as its last byte is stored reads 8-byte words over
	 * single-byte stores still in flight, a failed store-to-load forward that
	 * cost more than the hashing itself. */
	if (ntok >= ngram) {
		for (size_t k = 0; k + ngram <= ntok; k++)
			s->sh[nsh++] = nd_hash64_inline(out + tok[k], tok[k + ngram] - 1 - tok[k], 0);
		/* At n = 1 two neighbouring words also make a shingle: a CJK character
		 * is a word, but a Latin word alone loses the order of a sentence ("the
		 * dog bit the man" and "the man bit the dog" are one bag of words). */
		if (ngram == 1)
			for (size_t k = 0; k + 1 < ntok; k++)
				if (word[k] && word[k + 1])
					s->sh[nsh++] = nd_hash64_inline(out + tok[k], tok[k + 2] - 1 - tok[k], 0);
	} else if (ntok > 0) { /* too short for one n-gram: the whole text is one */
		s->sh[nsh++] = nd_hash64_inline(out, o - 1, 0);
	}
	s->nsh = nsh;
	return 0;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

int nd_shingles(const char *text, size_t len, unsigned ngram, uint64_t **out, size_t *n)
{
	nd_shingler s = {0};
	uint64_t *v = NULL;
	size_t i, k = 0;
	int rc;

	if (!out || !n || (!text && len))
		return nd_seterr(ND_EINVAL, "nd_shingles: NULL argument");
	*out = NULL;
	*n = 0;
	if (ngram == 0)
		return nd_seterr(ND_EINVAL, "nd_shingles: ngram must be at least 1");
	if ((rc = nd_shingler_run(&s, text, len, ngram)))
		goto cleanup;
	if (!(v = nd_malloc(s.nsh * sizeof *v))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu shingles", s.nsh);
		goto cleanup;
	}
	if (s.nsh)
		memcpy(v, s.sh, s.nsh * sizeof *v);
	qsort(v, s.nsh, sizeof *v, cmp_u64);
	for (i = 0; i < s.nsh; i++)
		if (k == 0 || v[i] != v[k - 1])
			v[k++] = v[i];
	*out = v;
	*n = k;
	v = NULL;
cleanup:
	free(v);
	nd_shingler_free(&s);
	return rc;
}

double nd_jaccard_sorted(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t i = 0, j = 0, inter = 0;
	if (na + nb == 0)
		return 0.0;
	while (i < na && j < nb) {
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else {
			inter++;
			i++;
			j++;
		}
	}
	return (double)inter / (double)(na + nb - inter);
}

/* ---- the shingle-set store -------------------------------------------------- */

/* Sorts v[0 .. n) and drops repeats into out (which must not overlap v); @tmp is
 * scratch for n keys, @count for 2^16 + 1 counters. @return the new length.
 * Sets are a few dozen keys: a comparison sort with its unpredictable branches
 * costs microseconds per text, so the keys (uniform, being hash folds) are
 * distributed by their top bits into about one bucket per key, and each bucket,
 * of a key or two, finished by insertion. */
static size_t sort_unique_u32(const uint32_t *v, size_t n, uint32_t *tmp, uint32_t *count, uint32_t *out)
{
	unsigned bits = 4, shift;
	size_t nb, i, k = 0;

	if (n <= 16) {
		for (i = 0; i < n; i++) {
			uint32_t x = v[i];
			size_t j = i;
			while (j > 0 && tmp[j - 1] > x) {
				tmp[j] = tmp[j - 1];
				j--;
			}
			tmp[j] = x;
		}
	} else {
		while (bits < 16 && ((size_t)1 << bits) < n)
			bits++;
		shift = 32 - bits;
		nb = (size_t)1 << bits;
		memset(count, 0, (nb + 1) * sizeof *count);
		for (i = 0; i < n; i++)
			count[(v[i] >> shift) + 1]++;
		for (i = 0; i < nb; i++)
			count[i + 1] += count[i];
		for (i = 0; i < n; i++)
			tmp[count[v[i] >> shift]++] = v[i];
		/* count[b] is now the end of bucket b; a bucket averages n / 2^16 keys
		 * past 65536 keys, so insertion sort stays linear-ish for any text a
		 * question bank holds */
		for (size_t b = 0, lo = 0; b < nb; lo = count[b], b++)
			for (i = lo + 1; i < count[b]; i++) {
				uint32_t x = tmp[i];
				size_t j = i;
				while (j > lo && tmp[j - 1] > x) {
					tmp[j] = tmp[j - 1];
					j--;
				}
				tmp[j] = x;
			}
	}
	for (i = 0; i < n; i++)
		if (k == 0 || tmp[i] != out[k - 1])
			out[k++] = tmp[i];
	return k;
}

typedef struct {
	nd_shingler sh;
	uint32_t *fold, *tmp; /* one text's keys, and sort scratch */
	size_t fold_cap;
	uint32_t *count;      /* 2^16 + 1 bucket counters */
	uint32_t *acc;        /* the block being built */
	size_t acc_cap;
} set_worker;

typedef struct {
	nd_shingle_sets *s;
	const char *const *texts;
	const size_t *lens;
	const uint32_t *rec_of_set;
	set_worker *w;
	nd_set_fn fn;
	void *ctx;
} build_ctx;

static int build_block(void *ctx, size_t begin, size_t end, unsigned wk)
{
	build_ctx *c = ctx;
	nd_shingle_sets *s = c->s;
	set_worker *w = &c->w[wk];
	size_t used = 0, blk = begin >> ND_SETS_BLOCK_BITS;
	int rc;

	if (nd_interrupted())
		return nd_seterr(ND_EINTR, "interrupted");
	for (size_t set = begin; set < end; set++) {
		size_t rec = c->rec_of_set ? c->rec_of_set[set] : set, len, nk;
		const char *t = c->texts[rec];
		len = !t ? 0 : c->lens ? c->lens[rec] : strlen(t);
		if ((rc = nd_shingler_run(&w->sh, t, len, s->ngram)))
			return nd_error_prefix(rc, "text %zu", rec);
		nk = w->sh.nsh;
		if (nk > w->fold_cap) {
			free(w->fold);
			free(w->tmp);
			w->tmp = NULL;
			w->fold_cap = 0;
			if (!(w->fold = nd_malloc(nk * sizeof *w->fold)) || !(w->tmp = nd_malloc(nk * sizeof *w->tmp)))
				return nd_seterr(ND_ENOMEM, "out of memory for %zu shingle keys", nk);
			w->fold_cap = nk;
		}
		if (nk > w->acc_cap - used) {
			size_t cap = w->acc_cap ? w->acc_cap : 4096;
			while (cap - used < nk) {
				if (cap > SIZE_MAX / 2 / sizeof *w->acc)
					return nd_seterr(ND_ENOMEM, "too many shingles");
				cap *= 2;
			}
			if ((rc = grow((void **)&w->acc, &w->acc_cap, cap, sizeof *w->acc)))
				return rc;
		}
		for (size_t k = 0; k < nk; k++)
			w->fold[k] = nd_shingle_key(w->sh.sh[k]);
		nk = sort_unique_u32(w->fold, nk, w->tmp, w->count, w->acc + used);
		if (c->fn && (rc = c->fn(c->ctx, set, &w->sh, w->acc + used, nk, wk)))
			return rc;
		used += nk;
		if (used > UINT32_MAX)
			return nd_seterr(ND_ELIMIT, "texts %zu..%zu hold over 2^32 shingles", begin, end - 1);
		s->end[set] = (uint32_t)used;
	}
	/* the block at its exact size; the worker's buffer serves the next one */
	if (!(s->block[blk] = nd_malloc(used ? used * sizeof *w->acc : 1)))
		return nd_seterr(ND_ENOMEM, "out of memory for %zu shingle keys", used);
	if (used)
		memcpy(s->block[blk], w->acc, used * sizeof *w->acc);
	return 0;
}

void nd_shingle_sets_free(nd_shingle_sets *s)
{
	if (!s)
		return;
	if (s->block)
		for (size_t b = 0; b < (s->nsets + ND_SETS_BLOCK - 1) / ND_SETS_BLOCK; b++)
			free(s->block[b]);
	free(s->block);
	free(s->end);
	free(s->slot);
	free(s);
}

int nd_sets_build(nd_shingle_sets **out, const char *const *texts, const size_t *lens,
		  const uint32_t *rec_of_set, size_t nsets, unsigned ngram, unsigned threads, nd_set_fn fn,
		  void *ctx)
{
	nd_shingle_sets *s = NULL;
	build_ctx c;
	size_t nblocks = (nsets + ND_SETS_BLOCK - 1) / ND_SETS_BLOCK, i;
	unsigned nw = threads ? threads : nd_cpu_count();
	int rc = 0;

	*out = NULL;
	memset(&c, 0, sizeof c);
	if (nw > 256) /* nd_parallel_for's own ceiling */
		nw = 256;
	if (!(s = nd_calloc(1, sizeof *s)) || !(s->block = nd_calloc(nblocks ? nblocks : 1, sizeof *s->block)) ||
	    !(s->end = nd_malloc(nsets * sizeof *s->end)) || !(c.w = nd_calloc(nw, sizeof *c.w))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for the shingle sets of %zu texts", nsets);
		goto cleanup;
	}
	s->n = s->nsets = nsets;
	s->ngram = ngram;
	for (i = 0; i < nw; i++)
		if (!(c.w[i].count = nd_malloc((((size_t)1 << 16) + 1) * sizeof *c.w[i].count))) {
			rc = nd_seterr(ND_ENOMEM, "out of memory for shingling");
			goto cleanup;
		}
	c.s = s;
	c.texts = texts;
	c.lens = lens;
	c.rec_of_set = rec_of_set;
	c.fn = fn;
	c.ctx = ctx;
	if ((rc = nd_parallel_for(nsets, ND_SETS_BLOCK, nw, build_block, &c)))
		goto cleanup;
	*out = s;
	s = NULL;
cleanup:
	if (c.w)
		for (i = 0; i < nw; i++) {
			nd_shingler_free(&c.w[i].sh);
			free(c.w[i].fold);
			free(c.w[i].tmp);
			free(c.w[i].count);
			free(c.w[i].acc);
		}
	free(c.w);
	nd_shingle_sets_free(s);
	return rc;
}

int nd_shingle_sets_build(nd_shingle_sets **out, const char *const *texts, const size_t *lens, size_t n,
			  unsigned ngram, unsigned threads)
{
	if (!out)
		return nd_seterr(ND_EINVAL, "nd_shingle_sets_build: NULL output");
	*out = NULL;
	if (!texts && n)
		return nd_seterr(ND_EINVAL, "nd_shingle_sets_build: NULL texts");
	if (ngram == 0)
		return nd_seterr(ND_EINVAL, "nd_shingle_sets_build: ngram must be at least 1");
	if (n >= UINT32_MAX)
		return nd_seterr(ND_ELIMIT, "%zu texts exceed the limit of %u", n, (unsigned)UINT32_MAX - 1);
	return nd_sets_build(out, texts, lens, NULL, n, ngram, threads, NULL, NULL);
}

/* |A n B| of two sorted unique key arrays. Branch-free: the comparison outcomes
 * are random, so branches on them would mispredict half the time. */
static size_t inter_all(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t i = 0, j = 0, inter = 0;
	while (i < na && j < nb) {
		uint32_t x = a[i], y = b[j];
		inter += x == y;
		i += x <= y;
		j += y <= x;
	}
	return inter;
}

size_t nd_shingle_sets_count(const nd_shingle_sets *s) { return s ? s->n : 0; }

static uint32_t set_of(const nd_shingle_sets *s, size_t i)
{
	if (!s || i >= s->n)
		return ND_SETS_NONE;
	return s->slot ? s->slot[i] : (uint32_t)i;
}

const uint32_t *nd_shingle_sets_get(const nd_shingle_sets *s, size_t i, size_t *len)
{
	uint32_t set = set_of(s, i);
	const uint32_t *k;
	size_t n = 0;
	k = set == ND_SETS_NONE ? NULL : nd_sets_keys(s, set, &n);
	if (len)
		*len = n;
	return n ? k : NULL;
}

int nd_shingle_sets_same(const nd_shingle_sets *s, size_t a, size_t b)
{
	uint32_t sa = set_of(s, a);
	return sa != ND_SETS_NONE && sa == set_of(s, b);
}

double nd_shingle_sets_jaccard(const nd_shingle_sets *s, size_t a, size_t b)
{
	size_t na, nb, inter;
	const uint32_t *ka = nd_shingle_sets_get(s, a, &na), *kb = nd_shingle_sets_get(s, b, &nb);
	if (na + nb == 0)
		return 0.0;
	if (set_of(s, a) == set_of(s, b))
		return 1.0; /* the same text: no need to merge a set with itself */
	inter = inter_all(ka, na, kb, nb);
	return (double)inter / (double)(na + nb - inter);
}

size_t nd_jaccard_min_inter(size_t sum, double t)
{
	size_t i, top = sum / 2;
#define PASSES(x) ((x) < sum && (double)(x) / (double)(sum - (x)) >= t)
	/* the real-number answer t * sum / (1 + t), then a step or two to the exact
	 * boundary of the rounded test */
	i = (size_t)(t * (double)sum / (1.0 + t));
	if (i > top)
		i = top;
	while (i > 0 && PASSES(i - 1))
		i--;
	while (i <= top && !PASSES(i))
		i++;
#undef PASSES
	return i <= top ? i : SIZE_MAX;
}

size_t nd_inter_at_least(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t need)
{
	size_t i = 0, j = 0, inter = 0;
	/* keys of a (of b) that may go unmatched; past that the pair cannot pass */
	size_t slack_a, slack_b;
	if (need > na || need > nb)
		return 0;
	slack_a = na - need;
	slack_b = nb - need;
	/* branch-free, as inter_all, with the give-up test */
	while (i < na && j < nb) {
		uint32_t x = a[i], y = b[j];
		inter += x == y;
		i += x <= y;
		j += y <= x;
		if (i - inter > slack_a || j - inter > slack_b)
			return inter; /* < need: i - inter > na - need means inter < need */
	}
	return inter;
}
