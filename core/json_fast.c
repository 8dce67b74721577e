/* The record parser's fast path: a JSON text into cJSON nodes in an arena.
 *
 * cJSON_ParseWithLengthOpts costs about a third of reading a question bank: it
 * compares every value against "null", "false" and "true" before looking at its
 * first byte, walks each string twice a byte at a time, and allocates every node
 * and string on its own. Records are small objects of strings, so this parser
 * builds the same tree from the same grammar, with strings found 16 bytes at a
 * time and nodes and strings taken from a per-thread arena that is reset after
 * each record.
 *
 * It is a fast path, not a second JSON parser to trust: it takes only the common
 * forms and answers NULL for anything else (every malformed text, a \u escape
 * that is not one plain BMP character, a number cJSON would cut at 63 characters
 * or read under a locale whose decimal point is not '.', nesting past
 * FAST_MAX_DEPTH), and the caller then parses with cJSON, which
 * decides and words the error exactly as before. Where it answers, the tree and
 * the end position are cJSON's for the same text: the same node types, values,
 * keys and links (including the head's prev pointing at the last child), numbers
 * read by cJSON's own method (its characters, strtod, the saturated valueint), the same whitespace (every byte up to 0x20).
 * tests/unit/test_json_fast.c compares the two on generated and mutated texts.
 */
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "json_fast.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define FAST_MAX_DEPTH 64 /* deeper texts go to cJSON (its limit is 1000) */

typedef struct {
	const unsigned char *p, *end;
	nd_arena *a;
	unsigned depth;
} parser;

static cJSON *new_node(parser *ps)
{
	cJSON *n = nd_arena_alloc_fast(ps->a, sizeof *n);
	if (n)
		memset(n, 0, sizeof *n);
	return n;
}

/* cJSON's whitespace: every byte up to 0x20 */
static inline void skip_ws(parser *ps)
{
	while (ps->p < ps->end && *ps->p <= 32)
		ps->p++;
}

/* The first '"' or '\\' at or after @q, or @end. */
static inline const unsigned char *find_quote_or_escape(const unsigned char *q, const unsigned char *end)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	while (end - q >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)q);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
		if (m)
			return q + __builtin_ctz(m);
		q += 16;
	}
#endif
	while (q < end && *q != '"' && *q != '\\')
		q++;
	return q;
}

static int hex4(const unsigned char *s, unsigned *out)
{
	unsigned h = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 0;
		h = h << 4 | d;
	}
	*out = h;
	return 1;
}

/* A string at ps->p (its opening quote); its unescaped bytes in the arena. NULL
 * for what is left to cJSON: no closing quote, an escape it would refuse, a \u
 * escape of NUL, of a surrogate or with a bad hex digit (cJSON reads those its
 * own way). */
static char *parse_string(parser *ps)
{
	const unsigned char *q = ps->p + 1, *s = find_quote_or_escape(q, ps->end);
	char *out, *o;
	if (s >= ps->end)
		return NULL;
	if (*s == '"') { /* no escape: one copy */
		size_t n = (size_t)(s - q);
		if (!(out = nd_arena_alloc_fast(ps->a, n + 1)))
			return NULL;
		memcpy(out, q, n);
		out[n] = '\0';
		ps->p = s + 1;
		return out;
	}
	/* escapes: the output is never longer than the input */
	const unsigned char *close = s;
	while (close < ps->end && *close != '"') {
		if (*close == '\\' && ++close == ps->end)
			return NULL; /* a backslash as the last byte */
		close++;
	}
	if (close >= ps->end)
		return NULL;
	if (!(out = nd_arena_alloc_fast(ps->a, (size_t)(close - q) + 1)))
		return NULL;
	o = out;
	while (q < close) {
		const unsigned char *e = find_quote_or_escape(q, close);
		memcpy(o, q, (size_t)(e - q));
		o += e - q;
		if (e >= close)
			break;
		/* e is a backslash before the closing quote, so e[1] exists */
		switch (e[1]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case '"': case '\\': case '/': *o++ = (char)e[1]; break;
		case 'u': {
			unsigned cp;
			if (close - e < 6 || !hex4(e + 2, &cp) || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
				return NULL;
			if (cp < 0x80) {
				*o++ = (char)cp;
			} else if (cp < 0x800) {
				*o++ = (char)(0xC0 | cp >> 6);
				*o++ = (char)(0x80 | (cp & 0x3F));
			} else {
				*o++ = (char)(0xE0 | cp >> 12);
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
				*o++ = (char)(0x80 | (cp & 0x3F));
			}
			q = e + 6;
			continue;
		}
		default:
			return NULL;
		}
		q = e + 2;
	}
	*o = '\0';
	ps->p = close + 1;
	return out;
}

/* cJSON's number reading: the run of [0-9+-eE.] (under 63 bytes) through strtod,
 * valueint saturated. */
static int parse_number(parser *ps, cJSON *item)
{
	char buf[64], *after;
	size_t i = 0;
	/* under a locale with another decimal point, the cJSON build's choice (to
	 * use it or not) decides: leave such numbers to cJSON */
	if (localeconv()->decimal_point[0] != '.')
		return 0;
	for (; i < sizeof buf - 1 && ps->p + i < ps->end; i++) {
		unsigned char c = ps->p[i];
		if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'e' || c == 'E')
			buf[i] = (char)c;
		else if (c == '.')
			buf[i] = '.';
		else
			break;
	}
	if (i == sizeof buf - 1)
		return 0; /* cJSON would read a cut number: leave it to cJSON */
	buf[i] = '\0';
	double d;
	/* an integer of at most 15 digits (ids, counts): exact in a double, so its
	 * value is strtod's, and strtod would take all of it */
	size_t neg = buf[0] == '-', k = neg;
	uint64_t v = 0;
	while (k < i && k - neg < 16 && buf[k] >= '0' && buf[k] <= '9')
		v = v * 10 + (uint64_t)(buf[k++] - '0');
	if (k == i && k > neg && k - neg <= 15) {
		d = neg ? -(double)v : (double)v;
		after = buf + i;
	} else if ((d = strtod(buf, &after)), after == buf) {
		return 0;
	}
	item->valuedouble = d;
	item->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
	item->type = cJSON_Number;
	ps->p += after - buf;
	return 1;
}

static int parse_value(parser *ps, cJSON *item);

/* An array or an object at ps->p ('[' or '{'): its children linked as cJSON
 * links them. */
static int parse_container(parser *ps, cJSON *item, int object)
{
	const unsigned char close = object ? '}' : ']';
	cJSON *head = NULL, *last = NULL;
	if (++ps->depth > FAST_MAX_DEPTH)
		return 0;
	ps->p++;
	skip_ws(ps);
	if (ps->p >= ps->end)
		return 0;
	if (*ps->p != close) {
		for (;;) {
			cJSON *c = new_node(ps);
			if (!c)
				return 0;
			if (!head)
				head = c;
			else {
				last->next = c;
				c->prev = last;
			}
			last = c;
			if (object) {
				if (ps->p >= ps->end || *ps->p != '"' || !(c->string = parse_string(ps)))
					return 0;
				skip_ws(ps);
				if (ps->p >= ps->end || *ps->p != ':')
					return 0;
				ps->p++;
				skip_ws(ps);
			}
			if (!parse_value(ps, c))
				return 0;
			skip_ws(ps);
			if (ps->p >= ps->end)
				return 0;
			if (*ps->p != ',')
				break;
			ps->p++;
			skip_ws(ps);
		}
		if (*ps->p != close)
			return 0;
		head->prev = last;
	}
	ps->p++;
	ps->depth--;
	item->type = object ? cJSON_Object : cJSON_Array;
	item->child = head;
	return 1;
}

static int parse_value(parser *ps, cJSON *item)
{
	size_t left = (size_t)(ps->end - ps->p);
	if (!left)
		return 0;
	switch (*ps->p) {
	case '"':
		if (!(item->valuestring = parse_string(ps)))
			return 0;
		item->type = cJSON_String;
		return 1;
	case '{':
		return parse_container(ps, item, 1);
	case '[':
		return parse_container(ps, item, 0);
	case 'n':
		if (left < 4 || memcmp(ps->p, "null", 4))
			return 0;
		item->type = cJSON_NULL;
		ps->p += 4;
		return 1;
	case 'f':
		if (left < 5 || memcmp(ps->p, "false", 5))
			return 0;
		item->type = cJSON_False;
		ps->p += 5;
		return 1;
	case 't':
		if (left < 4 || memcmp(ps->p, "true", 4))
			return 0;
		item->type = cJSON_True;
		item->valueint = 1;
		ps->p += 4;
		return 1;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(ps, item);
	default:
		return 0;
	}
}

cJSON *nd_json_parse_fast(const char *text, size_t len, nd_arena *a, const char **end)
{
	parser ps = {(const unsigned char *)text, (const unsigned char *)text + len, a, 0};
	cJSON *root;
	/* a BOM or leading whitespace: cJSON's quirks there are its own */
	if (!len || (unsigned char)text[0] <= 32 || (unsigned char)text[0] == 0xEF)
		return NULL;
	if (!(root = new_node(&ps)) || !parse_value(&ps, root))
		return NULL;
	*end = (const char *)ps.p;
	return root;
}
