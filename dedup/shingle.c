/* Tokens, shingles and exact set similarity.
 *
 * A text becomes a canonical token stream: every token's bytes followed by one
 * 0xFF byte. 0xFF never occurs in UTF-8, so the stream encodes the token sequence
 * injectively ("ab c" and "a bc" differ, and so do "a  b" and "a b" not), and a
 * shingle of n tokens is one contiguous slice of it: tokens i .. i+n-1 without the
 * final separator, hashed with nd_hash64 in place.
 */
#include <stdlib.h>
#include <string.h>
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
static size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *cp)
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

void nd_shingler_free(nd_shingler *s)
{
	if (!s)
		return;
	free(s->stream);
	free(s->tok);
	free(s->sh);
	memset(s, 0, sizeof *s);
}

int nd_shingler_run(nd_shingler *s, const char *text, size_t len, unsigned ngram)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned char *out;
	size_t *tok;
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
	    (rc = grow((void **)&s->tok, &s->tok_cap, len + 1, sizeof *s->tok)) ||
	    (rc = grow((void **)&s->sh, &s->sh_cap, len, sizeof *s->sh)))
		return rc;
	out = s->stream;
	tok = s->tok;

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
			tok[ntok++] = o;
			COPY_CHAR();
			out[o++] = ND_TOKEN_SEP;
		} else {
			if (!in_run) {
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
			s->sh[nsh++] = nd_hash64(out + tok[k], tok[k + ngram] - 1 - tok[k], 0);
	} else if (ntok > 0) { /* too short for one n-gram: the whole text is one */
		s->sh[nsh++] = nd_hash64(out, o - 1, 0);
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

/* ---- hash sets ------------------------------------------------------------ */

void nd_hset_free(nd_hset *h)
{
	if (!h)
		return;
	free(h->slot);
	memset(h, 0, sizeof *h);
}

/* Empties @h and makes room for @n distinct values at load <= 1/2. Only the
 * slots in use are cleared, so a big table left by one long text does not make
 * every later reset pay for it. */
static int hset_reset(nd_hset *h, size_t n)
{
	size_t cap = 16;
	unsigned bits = 4;
	while (cap < 2 * n) {
		if (cap > SIZE_MAX / 4 / sizeof *h->slot)
			return nd_seterr(ND_ENOMEM, "hash set of %zu values is too large", n);
		cap *= 2;
		bits++;
	}
	if (cap > h->alloc) {
		free(h->slot);
		h->alloc = 0;
		if (!(h->slot = nd_malloc(cap * sizeof *h->slot)))
			return nd_seterr(ND_ENOMEM, "out of memory for a hash set of %zu values", n);
		h->alloc = cap;
	}
	h->cap = cap;
	h->shift = 64 - bits;
	memset(h->slot, 0, cap * sizeof *h->slot);
	h->n = 0;
	h->has_zero = 0;
	return 0;
}

static inline size_t hset_mask(const nd_hset *h) { return h->cap - 1; }

/* @return 1 when @x was new. The values are nd_hash64 outputs, so their top bits
 * are already uniform and serve as the slot index. */
static inline int hset_insert(nd_hset *h, uint64_t x)
{
	size_t mask = hset_mask(h), i = (size_t)(x >> h->shift);
	if (x == 0) {
		if (h->has_zero)
			return 0;
		h->has_zero = 1;
		h->n++;
		return 1;
	}
	while (h->slot[i] != 0) {
		if (h->slot[i] == x)
			return 0;
		i = (i + 1) & mask;
	}
	h->slot[i] = x;
	h->n++;
	return 1;
}

static inline int hset_has(const nd_hset *h, uint64_t x)
{
	size_t mask = hset_mask(h), i = (size_t)(x >> h->shift);
	if (x == 0)
		return h->has_zero;
	while (h->slot[i] != 0) {
		if (h->slot[i] == x)
			return 1;
		i = (i + 1) & mask;
	}
	return 0;
}

int nd_hset_build(nd_hset *h, const uint64_t *v, size_t n)
{
	int rc = hset_reset(h, n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		hset_insert(h, v[i]);
	return 0;
}

int nd_hset_jaccard(const nd_hset *a, nd_hset *tmp, const uint64_t *v, size_t n, double *jaccard)
{
	size_t inter = 0, uni;
	int rc = hset_reset(tmp, n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (hset_insert(tmp, v[i]) && hset_has(a, v[i]))
			inter++;
	uni = a->n + tmp->n - inter;
	*jaccard = uni ? (double)inter / (double)uni : 0.0;
	return 0;
}
