/* Text normalisation and guard features (include/neardup/normalize.h).
 *
 * One call runs these stages over UTF-16 buffers that live in the normalizer and
 * only ever grow (no allocation per call once they are large enough):
 *   1. UTF-8 → UTF-16 with strict validation             utf8_to_utf16()
 *   2. HTML tags → space, entities decoded, in place      strip_html()
 *   3. NFKC_Casefold: a per-code-unit table when every unit has a normalisation
 *      boundary before it (the common case), ICU for the rest  fold_text()
 *   4. Traditional → Simplified (ICU transliterator)      t2s_text()
 *   5. leading numbering / type / option prefixes skipped numbering_end()
 *   6. guard features read from the text as it is now     scan_text()
 *   7. punctuation dropped, spaces collapsed, numbers written canonically,
 *      UTF-16 → UTF-8 in one pass                          emit_core()
 * With canon_numbers, one scan (6) gives both the features and the numbers that
 * 7 writes; where 7 joins what the scan saw apart (a seam), the output is read
 * back to make sure it reads as those numbers (canon_text()).
 *
 * Character classes and the fold table cover the BMP and are built once per
 * process (pthread_once); they are read-only afterwards, so normalizers on
 * different threads share them safely.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/utf16.h>
#include <unicode/utrans.h>
#include "internal.h"
#include "neardup/normalize.h"

/* ICU takes int32_t lengths and NFKC can expand a code unit up to 18 times
 * (U+FDFA), so a 64 MiB input stays below INT32_MAX after folding. */
#define ND_NORM_MAX_INPUT ((size_t)64 << 20)

/* ---------------------------------------------------------------- tables */

enum {
	CL_WORD,   /* letters, digits, marks …: kept; one space between two words */
	CL_CJK,    /* Han, Kana, Hangul, Bopomofo: kept; never next to a space */
	CL_SPACE,  /* white space and controls: a separator */
	CL_PUNCT,  /* general category P* or S*: dropped (a separator) */
	CL_KEEP,   /* % ‰ < > ≤ ≥ (and full-width forms): kept, never spaced */
	CL_DOT,    /* . ．: kept between two digits */
	CL_COMMA,  /* ,: dropped inside 1,000 */
	CL_APOS,   /* ' ’: dropped inside don't */
	CL_IGNORE, /* format characters (ZWSP, BOM, soft hyphen): dropped silently */
	CL_SURR    /* a surrogate: classify the whole code point */
};
#define CL_MASK 0x0f
#define CF_NUM 0x10 /* may start a number: digits, Chinese numerals, 第 */
#define CF_NEG 0x20 /* may start a negation marker, or an ASCII word */
/* Where a character may change how a number beside it reads (see emit_core):
 * CF_NUM characters both ways; 分 之 点 and '/' both ways (三分之一 三点五 1/3);
 * . , % ‰ only what is before them (0.5 1,000 30%); the heads of STOP_BEHIND only
 * what follows (统一). The reader never looks past any other character. */
#define CF_JOIN_R 0x40 /* may change how what follows it reads */
#define CF_JOIN_L 0x80 /* may change how what is before it reads */

#define FOLD_COMPLEX 0xFFFF /* the unit needs ICU (its fold is not one boundary unit) */

static struct {
	pthread_once_t once;
	UErrorCode status;
	const UNormalizer2 *nfkc_cf;
	uint8_t cls[0x10000];
	uint16_t fold[0x10000]; /* NFKC_CF of the unit, 0 when it folds to nothing */
} g = {PTHREAD_ONCE_INIT, U_ZERO_ERROR, NULL, {0}, {0}};

static int is_cjk_cp(UChar32 c)
{
	return uscript_hasScript(c, USCRIPT_HAN) || uscript_hasScript(c, USCRIPT_HIRAGANA) ||
	       uscript_hasScript(c, USCRIPT_KATAKANA) || uscript_hasScript(c, USCRIPT_HANGUL) ||
	       uscript_hasScript(c, USCRIPT_BOPOMOFO);
}

static int class_of_cp(UChar32 c)
{
	uint32_t gc;
	if (c < 0x80) {
		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			return CL_WORD;
		if (c >= '0' && c <= '9')
			return CL_WORD;
		if (c <= 0x20 || c == 0x7F)
			return CL_SPACE;
		switch (c) {
		case '.': return CL_DOT;
		case ',': return CL_COMMA;
		case '\'': return CL_APOS;
		case '%': case '<': case '>': return CL_KEEP;
		default: return CL_PUNCT;
		}
	}
	if (U_IS_SURROGATE(c))
		return CL_SURR;
	switch (c) {
	case 0x2019: return CL_APOS;
	case 0xFF0E: return CL_DOT;
	case 0x2030: case 0x2264: case 0x2265: case 0xFF05: case 0xFF1C: case 0xFF1E:
		return CL_KEEP;
	}
	gc = U_GET_GC_MASK(c);
	if (u_isUWhiteSpace(c) || (gc & (U_GC_CC_MASK | U_GC_ZS_MASK | U_GC_ZL_MASK | U_GC_ZP_MASK)))
		return CL_SPACE;
	if (gc & U_GC_CF_MASK)
		return CL_IGNORE;
	if (gc & (U_GC_P_MASK | U_GC_S_MASK))
		return CL_PUNCT;
	if (is_cjk_cp(c))
		return CL_CJK;
	return CL_WORD;
}

/* Chinese numeral characters (digits, units, financial forms) and 第. */
static const UChar NUM_CHARS[] = u"零〇一二两兩三四五六七八九十百千万萬亿億"
				  u"壹贰貳叁參肆伍陆陸柒捌玖拾佰仟第";

/* The CF_JOIN_L and CF_JOIN_R characters besides CF_NUM ones and STOP_BEHIND heads. */
static const UChar JOIN_BOTH[] = u"/分之点";
static const UChar JOIN_LEFT[] = u".,%\uFF0E\uFF05\u2030";

static void mark_stop_heads(uint8_t *cls);

/* First characters of the negation table entries (see NEG_WORDS). */
static const UChar NEG_CHARS[] = u"不禁严嚴没沒无無未勿非并並除";

static void tables_init(void)
{
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *nf = unorm2_getNFKCCasefoldInstance(&st);
	UChar32 c;
	size_t i;
	if (U_FAILURE(st)) {
		g.status = st;
		return;
	}
	for (c = 0; c < 0x10000; c++) {
		UChar src = (UChar)c, dst[4];
		int32_t n;
		g.cls[c] = (uint8_t)class_of_cp(c);
		g.fold[c] = FOLD_COMPLEX;
		/* With a boundary before every unit of a text, NFKC_CF works unit by
		 * unit: fold(text) is the concatenation of fold(unit). */
		if (U16_IS_SURROGATE(c) || c == FOLD_COMPLEX || !unorm2_hasBoundaryBefore(nf, c))
			continue;
		st = U_ZERO_ERROR;
		n = unorm2_normalize(nf, &src, 1, dst, 4, &st);
		if (U_FAILURE(st))
			continue; /* a long expansion (U+FDFA …): left to ICU */
		if (n == 0)
			g.fold[c] = 0;
		else if (n == 1 && !U16_IS_SURROGATE(dst[0]) && dst[0] != FOLD_COMPLEX)
			g.fold[c] = dst[0];
	}
	for (c = '0'; c <= '9'; c++)
		g.cls[c] |= CF_NUM;
	for (c = 0xFF10; c <= 0xFF19; c++)
		g.cls[c] |= CF_NUM;
	for (i = 0; NUM_CHARS[i]; i++)
		g.cls[NUM_CHARS[i]] |= CF_NUM;
	for (c = 'a'; c <= 'z'; c++) {
		g.cls[c] |= CF_NEG;
		g.cls[c - 32] |= CF_NEG;
	}
	for (i = 0; NEG_CHARS[i]; i++)
		g.cls[NEG_CHARS[i]] |= CF_NEG;
	for (c = 0; c < 0x10000; c++)
		if (g.cls[c] & CF_NUM)
			g.cls[c] |= CF_JOIN_R | CF_JOIN_L;
	for (i = 0; JOIN_BOTH[i]; i++)
		g.cls[JOIN_BOTH[i]] |= CF_JOIN_R | CF_JOIN_L;
	for (i = 0; JOIN_LEFT[i]; i++)
		g.cls[JOIN_LEFT[i]] |= CF_JOIN_L;
	mark_stop_heads(g.cls);
	g.nfkc_cf = nf;
}

static int tables_get(void)
{
	if (pthread_once(&g.once, tables_init) != 0)
		return nd_seterr(ND_EBACKEND, "normalizer: one-time initialisation failed");
	if (!g.nfkc_cf)
		return nd_seterr(ND_EBACKEND, "ICU: cannot load NFKC_Casefold data: %s",
				 u_errorName(g.status));
	return 0;
}

/* Class of the character starting at s[i] (a whole pair for a surrogate);
 * *w gets its length in units. */
static inline int class_at(const UChar *s, size_t n, size_t i, size_t *w)
{
	int cl = g.cls[s[i]] & CL_MASK;
	*w = 1;
	if (ND_UNLIKELY(cl == CL_SURR)) {
		if (U16_IS_LEAD(s[i]) && i + 1 < n && U16_IS_TRAIL(s[i + 1])) {
			*w = 2;
			return class_of_cp(U16_GET_SUPPLEMENTARY(s[i], s[i + 1]));
		}
		return CL_WORD;
	}
	return cl;
}

/* ---------------------------------------------------------------- small helpers */

/* 0–9 for an ASCII or full-width digit, else -1. */
static inline int digit_val(UChar c)
{
	if ((unsigned)(c - '0') < 10u)
		return c - '0';
	if ((unsigned)(c - 0xFF10) < 10u)
		return c - 0xFF10;
	return -1;
}

static inline int is_digit_at(const UChar *s, size_t n, size_t i)
{
	return i < n && digit_val(s[i]) >= 0;
}

static inline int is_alpha(UChar c) { return (unsigned)((c | 0x20) - 'a') < 26u; }

static inline int is_alnum(UChar c) { return is_alpha(c) || (unsigned)(c - '0') < 10u; }

/* Does s[i..n) start with the NUL-terminated w? Returns its length or 0. */
static size_t match_at(const UChar *s, size_t n, size_t i, const UChar *w)
{
	size_t k;
	for (k = 0; w[k]; k++)
		if (i + k >= n || s[i + k] != w[k])
			return 0;
	return k;
}

static int reserve_units(UChar **p, size_t *cap, size_t need)
{
	UChar *q;
	size_t c;
	if (need <= *cap)
		return 0;
	c = need + need / 2 + 64;
	q = nd_reallocarray(*p, c, sizeof *q);
	if (!q)
		return nd_seterr(ND_ENOMEM, "out of memory for a normalisation buffer of %zu units", c);
	*p = q;
	*cap = c;
	return 0;
}

/* ---------------------------------------------------------------- UTF-8 */

/* Length of the valid, shortest-form UTF-8 sequence at s (s[0] >= 0x80) encoding
 * a scalar value, or 0 when it is invalid or truncated. */
static inline size_t utf8_seq(const unsigned char *s, size_t left, uint32_t *cp)
{
	unsigned b0 = s[0], b1, b2, b3;
	if (b0 < 0xC2) /* a continuation byte, or C0/C1 (always overlong) */
		return 0;
	if (b0 < 0xE0) {
		if (left < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		*cp = ((b0 & 0x1Fu) << 6) | (s[1] & 0x3Fu);
		return 2;
	}
	if (b0 < 0xF0) {
		if (left < 3)
			return 0;
		b1 = s[1];
		b2 = s[2];
		if ((b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80)
			return 0;
		if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 >= 0xA0)) /* overlong, surrogate */
			return 0;
		*cp = ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
		return 3;
	}
	if (b0 < 0xF5) {
		if (left < 4)
			return 0;
		b1 = s[1];
		b2 = s[2];
		b3 = s[3];
		if ((b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80 || (b3 & 0xC0) != 0x80)
			return 0;
		if ((b0 == 0xF0 && b1 < 0x90) || (b0 == 0xF4 && b1 >= 0x90)) /* overlong, > U+10FFFF */
			return 0;
		*cp = ((b0 & 0x07u) << 18) | ((b1 & 0x3Fu) << 12) | ((b2 & 0x3Fu) << 6) | (b3 & 0x3Fu);
		return 4;
	}
	return 0;
}

#define HI_BITS 0x8080808080808080ull
#define LO_BITS 0x0101010101010101ull
/* 8 bytes, all ASCII and none NUL (the classic "has a zero byte" test). */
static inline int ascii8(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return !((v | ((v - LO_BITS) & ~v)) & HI_BITS);
}

int nd_utf8_validate(const char *str, size_t len, size_t *bad_offset)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;
	uint32_t cp;
	if (!s && len)
		return nd_seterr(ND_EINVAL, "nd_utf8_validate: NULL text");
	/* the blocks AVX2 vouches for; after anything suspect, all of it by the walk
	 * below, which names the error and its offset */
	if (len >= 64 && nd_cpu_has_avx2())
		i = nd_utf8_avx2_prefix(s, len);
	while (i < len) {
		if (s[i] < 0x80) {
			if (!s[i])
				goto bad;
			i++;
			while (i + 8 <= len && ascii8(s + i))
				i += 8;
			continue;
		}
		if (!(k = utf8_seq(s + i, len - i, &cp)))
			goto bad;
		i += k;
	}
	return 0;
bad:
	if (bad_offset)
		*bad_offset = i;
	return s[i] ? nd_seterr(ND_EUTF8, "invalid UTF-8 at byte %zu", i)
		    : nd_seterr(ND_EUTF8, "NUL byte at byte %zu", i);
}

/* Decodes and validates s into d (room for len units); returns the unit count,
 * or sets the error and returns SIZE_MAX. */
static size_t utf8_to_utf16(const unsigned char *s, size_t len, UChar *d)
{
	size_t i = 0, j = 0, k;
	uint32_t cp;
	while (i < len) {
		if (s[i] < 0x80) {
			if (!s[i])
				goto bad;
			d[j++] = s[i++];
			while (i + 8 <= len && ascii8(s + i)) {
				for (k = 0; k < 8; k++)
					d[j + k] = s[i + k];
				i += 8;
				j += 8;
			}
			continue;
		}
		if (s[i] >= 0xE0 && s[i] < 0xF0 && i + 3 <= len) { /* CJK: the common case */
			unsigned b1 = s[i + 1], b2 = s[i + 2];
			cp = ((s[i] & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
			if ((b1 & 0xC0) == 0x80 && (b2 & 0xC0) == 0x80 && cp >= 0x800 &&
			    !U_IS_SURROGATE(cp)) {
				d[j++] = (UChar)cp;
				i += 3;
				continue;
			}
		}
		if (!(k = utf8_seq(s + i, len - i, &cp)))
			goto bad;
		if (cp < 0x10000) {
			d[j++] = (UChar)cp;
		} else {
			d[j++] = U16_LEAD(cp);
			d[j++] = U16_TRAIL(cp);
		}
		i += k;
	}
	return j;
bad:
	if (s[i])
		nd_seterr(ND_EUTF8, "invalid UTF-8 at byte %zu", i);
	else
		nd_seterr(ND_EUTF8, "NUL byte at byte %zu", i);
	return SIZE_MAX;
}

/* ---------------------------------------------------------------- HTML */

static const struct {
	const char *name;
	uint32_t cp;
	int legacy; /* accepted without ';' (HTML's legacy set) */
} ENTITIES[] = {
	{"nbsp", 0xA0, 1}, {"amp", '&', 1}, {"lt", '<', 1}, {"gt", '>', 1}, {"quot", '"', 1},
	{"AMP", '&', 1}, {"LT", '<', 1}, {"GT", '>', 1}, {"QUOT", '"', 1}, {"apos", '\'', 0},
	{"ensp", 0x2002, 0}, {"emsp", 0x2003, 0}, {"thinsp", 0x2009, 0}, {"zwnj", 0x200C, 0},
	{"zwj", 0x200D, 0}, {"shy", 0xAD, 0}, {"ldquo", 0x201C, 0}, {"rdquo", 0x201D, 0},
	{"lsquo", 0x2018, 0}, {"rsquo", 0x2019, 0}, {"sbquo", 0x201A, 0}, {"bdquo", 0x201E, 0},
	{"laquo", 0xAB, 0}, {"raquo", 0xBB, 0}, {"hellip", 0x2026, 0}, {"mdash", 0x2014, 0},
	{"ndash", 0x2013, 0}, {"middot", 0xB7, 0}, {"bull", 0x2022, 0}, {"times", 0xD7, 0},
	{"divide", 0xF7, 0}, {"deg", 0xB0, 0}, {"plusmn", 0xB1, 0}, {"micro", 0xB5, 0},
	{"copy", 0xA9, 0}, {"reg", 0xAE, 0}, {"trade", 0x2122, 0}, {"yen", 0xA5, 0},
	{"euro", 0x20AC, 0}, {"pound", 0xA3, 0}, {"cent", 0xA2, 0}, {"sect", 0xA7, 0},
	{"para", 0xB6, 0}, {"iexcl", 0xA1, 0}, {"iquest", 0xBF, 0}, {"le", 0x2264, 0},
	{"ge", 0x2265, 0}, {"ne", 0x2260, 0}, {"permil", 0x2030, 0}, {"frac12", 0xBD, 0},
	{"frac14", 0xBC, 0}, {"frac34", 0xBE, 0}, {"sup1", 0xB9, 0}, {"sup2", 0xB2, 0},
	{"sup3", 0xB3, 0}, {"larr", 0x2190, 0}, {"rarr", 0x2192, 0}, {"uarr", 0x2191, 0},
	{"darr", 0x2193, 0}, {"radic", 0x221A, 0}, {"infin", 0x221E, 0}, {"asymp", 0x2248, 0},
};

/* Decodes the entity at s[i] == '&'; returns the index after it, or 0 if none. */
static size_t entity_at(const UChar *s, size_t n, size_t i, uint32_t *cp)
{
	size_t j = i + 1, k, e;
	uint32_t v = 0;
	if (j < n && s[j] == '#') {
		int hex = j + 1 < n && (s[j + 1] | 0x20) == 'x', any = 0;
		j += hex ? 2 : 1;
		for (; j < n && j - i < 12; j++) {
			UChar c = s[j];
			unsigned dv;
			if ((unsigned)(c - '0') < 10u)
				dv = c - '0';
			else if (hex && (unsigned)((c | 0x20) - 'a') < 6u)
				dv = (c | 0x20) - 'a' + 10;
			else
				break;
			v = v * (hex ? 16 : 10) + dv;
			if (v > 0x10FFFF)
				v = 0x110000; /* saturate: stays invalid */
			any = 1;
		}
		if (!any)
			return 0;
		if (j < n && s[j] == ';')
			j++;
		else if (j < n && is_alnum(s[j]))
			return 0;
		*cp = (v == 0 || v > 0x10FFFF || U_IS_SURROGATE(v)) ? 0xFFFD : v;
		return j;
	}
	for (e = j; e < n && e - j < 8 && is_alnum(s[e]); e++)
		;
	if (e == j)
		return 0;
	for (k = 0; k < sizeof ENTITIES / sizeof ENTITIES[0]; k++) {
		const char *nm = ENTITIES[k].name;
		size_t m = strlen(nm), t;
		if (m != e - j)
			continue;
		for (t = 0; t < m && s[j + t] == (UChar)nm[t]; t++)
			;
		if (t != m)
			continue;
		if (e < n && s[e] == ';') {
			*cp = ENTITIES[k].cp;
			return e + 1;
		}
		if (ENTITIES[k].legacy) {
			*cp = ENTITIES[k].cp;
			return e;
		}
		return 0;
	}
	return 0;
}

/* Inline elements: their tags join the text around them instead of splitting it. */
static const char *const INLINE_TAGS[] = {"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code",
	"del", "dfn", "em", "font", "i", "ins", "kbd", "mark", "q", "s", "samp", "small", "span",
	"strike", "strong", "sub", "sup", "tt", "u", "var"};

static int tag_name_is(const UChar *s, size_t len, const char *name)
{
	size_t k;
	for (k = 0; k < len; k++)
		if (!name[k] || (s[k] | 0x20) != (UChar)name[k])
			return 0;
	return name[k] == '\0';
}

/* Scans the tag at s[i] == '<'; returns the index after it (0 when this '<' does
 * not open a tag), *inl tells whether it is an inline element. A tag is
 * "<name", "</name" or "<!…" where name is letters/digits/:/- and is followed by
 * space, '/' or '>', and it ends at the next '>' (comments at "-->"). Contents of
 * <script> and <style> go with their tags. */
static size_t tag_at(const UChar *s, size_t n, size_t i, int *inl)
{
	size_t j = i + 1, nm, e, k;
	int closing = 0;
	*inl = 0;
	if (j >= n)
		return 0;
	if (s[j] == '!') {
		if (match_at(s, n, j, u"!--")) {
			for (e = j + 3; e + 2 < n; e++)
				if (s[e] == '-' && s[e + 1] == '-' && s[e + 2] == '>')
					return e + 3;
			return 0;
		}
		for (e = j + 1; e < n && s[e] != '>' && s[e] != '<'; e++)
			;
		return e < n && s[e] == '>' ? e + 1 : 0;
	}
	if (s[j] == '/') {
		closing = 1;
		j++;
	}
	if (j >= n || !is_alpha(s[j]))
		return 0;
	for (nm = j; nm < n && (is_alnum(s[nm]) || s[nm] == ':' || s[nm] == '-'); nm++)
		;
	if (nm >= n || !(s[nm] == '>' || s[nm] == '/' || s[nm] == ' ' || s[nm] == '\t' ||
			  s[nm] == '\n' || s[nm] == '\r'))
		return 0;
	/* a tag ends at the first '>' outside quotes; a '<' first means it was not one */
	for (e = nm; e < n && s[e] != '>'; e++) {
		if (s[e] == '"' || s[e] == '\'') {
			UChar q = s[e];
			for (e++; e < n && s[e] != q; e++)
				;
			if (e >= n)
				return 0;
		} else if (s[e] == '<') {
			return 0;
		}
	}
	if (e >= n)
		return 0;
	e++;
	for (k = 0; k < sizeof INLINE_TAGS / sizeof INLINE_TAGS[0]; k++)
		if (tag_name_is(s + j, nm - j, INLINE_TAGS[k]))
			*inl = 1;
	if (!closing && (tag_name_is(s + j, nm - j, "script") || tag_name_is(s + j, nm - j, "style"))) {
		const UChar *end = tag_name_is(s + j, nm - j, "script") ? u"</script" : u"</style";
		size_t t;
		for (t = e; t < n; t++) {
			size_t m;
			for (m = 0; end[m] && t + m < n && (s[t + m] | (m ? 0x20 : 0)) == end[m]; m++)
				;
			if (!end[m]) {
				while (t < n && s[t] != '>')
					t++;
				return t < n ? t + 1 : n;
			}
		}
		return n;
	}
	return e;
}

/* Tags → ' ' (inline tags → nothing), entities → their character; in place
 * (the output of every construct is shorter than the construct). */
static size_t strip_html(UChar *s, size_t n)
{
	size_t r = 0, w = 0, e;
	uint32_t cp;
	int inl;
	while (r < n) {
		UChar c = s[r];
		if (c == '<' && (e = tag_at(s, n, r, &inl))) {
			if (!inl)
				s[w++] = ' ';
			r = e;
		} else if (c == '&' && (e = entity_at(s, n, r, &cp))) {
			if (cp < 0x10000) {
				s[w++] = (UChar)cp;
			} else {
				s[w++] = U16_LEAD(cp);
				s[w++] = U16_TRAIL(cp);
			}
			r = e;
		} else {
			s[w++] = c;
			r++;
		}
	}
	return w;
}

/* ---------------------------------------------------------------- the normalizer */

/* One number the scanner read: where it stands in the scanned text and its
 * canonical string (in the list's text buffer). */
typedef struct {
	size_t b, e;     /* text[b..e) spells the number (for 第一: the 一) */
	size_t off, len; /* the canonical string: text.data[off..off+len) */
	const char *p;   /* text.data + off, set when the strings are sorted */
} num_span;

/* The numbers of one text, in text order until numbers_join() sorts them. */
typedef struct {
	nd_buf text; /* canonical strings, back to back */
	num_span *v;
	size_t n, cap;
} span_list;

struct nd_normalizer {
	nd_norm_opts opts;
	UTransliterator *t2s;
	UChar *u[2]; /* the two working buffers; stages ping-pong between them */
	size_t ucap[2];
	char *out;
	size_t out_cap;
	span_list scan[2]; /* the input's numbers; the output's, read back (canon_numbers) */
	nd_buf numbers;    /* the joined feature string */
	int icu_folded;    /* the last fold went through ICU: the text may hold combining marks
	                    * (the unit-by-unit table never writes one) */
};

static int other_buf(nd_normalizer *z, const UChar *s) { return s == z->u[0] ? 1 : 0; }

/* A buffer capacity as ICU's int32_t (our inputs are far smaller; see ND_NORM_MAX_INPUT). */
static int32_t icu_cap(size_t cap) { return cap > INT32_MAX ? INT32_MAX : (int32_t)cap; }

static int fold_text(nd_normalizer *z, UChar **sp, size_t *np)
{
	const UChar *s = *sp;
	size_t n = *np, i, j = 0;
	int b = other_buf(z, s), rc;
	UChar *d;
	UErrorCode st = U_ZERO_ERROR;
	int32_t len;
	if ((rc = reserve_units(&z->u[b], &z->ucap[b], n + 1)))
		return rc;
	d = z->u[b];
	for (i = 0; i < n; i++) {
		uint16_t m = g.fold[s[i]];
		if (ND_UNLIKELY(m == FOLD_COMPLEX))
			goto icu;
		d[j] = m;
		j += m != 0;
	}
	*sp = d;
	*np = j;
	z->icu_folded = 0;
	return 0;
icu:
	z->icu_folded = 1;
	len = unorm2_normalize(g.nfkc_cf, s, (int32_t)n, d, icu_cap(z->ucap[b]), &st);
	if (st == U_BUFFER_OVERFLOW_ERROR) {
		if ((rc = reserve_units(&z->u[b], &z->ucap[b], (size_t)len + 1)))
			return rc;
		d = z->u[b];
		st = U_ZERO_ERROR;
		len = unorm2_normalize(g.nfkc_cf, s, (int32_t)n, d, icu_cap(z->ucap[b]), &st);
	}
	if (U_FAILURE(st))
		return nd_seterr(ND_EBACKEND, "ICU NFKC_Casefold failed: %s", u_errorName(st));
	*sp = d;
	*np = (size_t)len;
	return 0;
}

static int t2s_text(nd_normalizer *z, UChar **sp, size_t *np)
{
	const UChar *s = *sp;
	size_t n = *np, cap = 2 * n + 64;
	int b = other_buf(z, s), rc, attempt;
	for (attempt = 0; attempt < 2; attempt++, cap *= 4) {
		UErrorCode st = U_ZERO_ERROR;
		int32_t len = (int32_t)n, limit = (int32_t)n;
		if ((rc = reserve_units(&z->u[b], &z->ucap[b], cap)))
			return rc;
		memcpy(z->u[b], s, n * sizeof *s);
		utrans_transUChars(z->t2s, z->u[b], &len, icu_cap(z->ucap[b]), 0, &limit, &st);
		if (st == U_BUFFER_OVERFLOW_ERROR)
			continue;
		if (U_FAILURE(st))
			return nd_seterr(ND_EBACKEND, "ICU Traditional-Simplified failed: %s",
					 u_errorName(st));
		*sp = z->u[b];
		*np = (size_t)len;
		return 0;
	}
	return nd_seterr(ND_EBACKEND, "ICU Traditional-Simplified: output does not fit");
}

/* ---------------------------------------------------------------- numbering prefixes */

/* Question-type words seen at the head of scraped questions, longest first. */
static const UChar *const TYPE_WORDS[] = {
	u"不定项选择题", u"单项选择题", u"多项选择题", u"單項選擇題", u"多項選擇題",
	u"单选题", u"多选题", u"判断题", u"选择题", u"填空题", u"问答题", u"简答题",
	u"單選題", u"多選題", u"判斷題", u"選擇題", u"填空題", u"單選", u"多選", u"判斷", u"選擇",
	u"单选", u"多选", u"判断", u"选择", u"填空",
};

static size_t type_word_at(const UChar *s, size_t n, size_t i)
{
	size_t k, m;
	/* nearly every text starts otherwise: one switch instead of 26 matches (the
	 * first characters of TYPE_WORDS) */
	switch (i < n ? s[i] : 0) {
	case u'不': case u'单': case u'多': case u'單': case u'判': case u'選': case u'选': case u'填':
	case u'问': case u'简':
		break;
	default:
		return 0;
	}
	for (k = 0; k < sizeof TYPE_WORDS / sizeof TYPE_WORDS[0]; k++)
		if ((m = match_at(s, n, i, TYPE_WORDS[k])))
			return m;
	return 0;
}

static int cn_digit(UChar c);
static uint64_t cn_unit(UChar c);

static inline int is_open_bracket(UChar c)
{
	return c == '(' || c == 0xFF08 || c == '[' || c == 0xFF3B || c == 0x3010 || c == 0x3014 ||
	       c == 0x3016;
}

static inline int is_close_bracket(UChar c)
{
	return c == ')' || c == 0xFF09 || c == ']' || c == 0xFF3D || c == 0x3011 || c == 0x3015 ||
	       c == 0x3017;
}

static inline int is_space_at(const UChar *s, size_t n, size_t i)
{
	return i < n && (g.cls[s[i]] & CL_MASK) == CL_SPACE;
}

/* Option letters a–h (after folding; A–H before). */
static inline int is_option_letter(UChar c) { return (unsigned)((c | 0x20) - 'a') < 8u; }

/* An optional delimiter after a prefix: 、 , ．/. and ：/: not followed by a digit. */
static size_t after_delim(const UChar *s, size_t n, size_t j)
{
	if (j < n && s[j] == 0x3001)
		return j + 1;
	if (j < n && (s[j] == '.' || s[j] == 0xFF0E || s[j] == ':' || s[j] == 0xFF1A) &&
	    !is_digit_at(s, n, j + 1))
		return j + 1;
	return j;
}

/* A numeral (1–4 digits, or 1–4 Chinese numeral characters) at s[j]: its end. */
static size_t numeral_end(const UChar *s, size_t n, size_t j)
{
	size_t k = j;
	if (is_digit_at(s, n, k)) {
		while (k < n && k - j < 5 && digit_val(s[k]) >= 0)
			k++;
	} else {
		while (k < n && k - j < 5 && (cn_digit(s[k]) >= 0 || cn_unit(s[k])))
			k++;
	}
	return k - j <= 4 ? k : j;
}

static int skippable(const UChar *s, size_t n, size_t i, int skip_punct, size_t *w);

/* numeral_end() for "第…题", where what emit() drops may sit between the numeral
 * characters when punctuation is stripped ("第十，二题" reads as the "第十二题" it
 * becomes, so that a second normalisation finds nothing left to strip). */
static size_t numeral_end_c(const UChar *s, size_t n, size_t j, int skip_punct)
{
	size_t k = j, last = j, cnt = 0, w;
	int digits = is_digit_at(s, n, j);
	while (k < n) {
		if (digits ? digit_val(s[k]) >= 0 : (cn_digit(s[k]) >= 0 || cn_unit(s[k]) != 0)) {
			if (++cnt > 4)
				return j;
			last = ++k;
		} else if (skip_punct && skippable(s, n, k, 1, &w)) {
			k += w;
		} else {
			break;
		}
	}
	return last;
}

/* The end of the numbering/type/option prefix at s[i], or 0 when there is none. */
static size_t prefix_at(const UChar *s, size_t n, size_t i, int skip_punct)
{
	UChar c = s[i];
	size_t j, k, w;
	if (digit_val(c) >= 0) { /* 12、 12. 12． 12) 12） 12: 12： 1.2. */
		j = numeral_end(s, n, i);
		if (j == i || j >= n)
			return 0;
		for (k = j; k + 1 < n && (s[k] == '.' || s[k] == 0xFF0E) && is_digit_at(s, n, k + 1);) {
			k = numeral_end(s, n, k + 1); /* a section number: 1.2. 1.2.3. */
			if (k < n && (s[k] == '.' || s[k] == 0xFF0E) && !is_digit_at(s, n, k + 1))
				return k + 1;
		}
		c = s[j];
		if (c == 0x3001 || c == ')' || c == 0xFF09)
			return j + 1;
		if ((c == '.' || c == 0xFF0E || c == ':' || c == 0xFF1A) && !is_digit_at(s, n, j + 1))
			return j + 1;
		return 0;
	}
	if (is_option_letter(c) && i + 1 < n) { /* A、 A. A: A) and "A 文字" */
		c = s[i + 1];
		if (c == 0x3001 || c == ')' || c == 0xFF09 || c == ':' || c == 0xFF1A)
			return i + 2;
		if ((c == '.' || c == 0xFF0E) && !(i + 2 < n && is_alpha(s[i + 2])))
			return i + 2;
		/* "A 减速": separated from CJK or a digit by what emit() turns into a space */
		for (j = i + 1; j < n && skippable(s, n, j, skip_punct, &k); j += k)
			;
		if (j > i + 1 && j < n && ((g.cls[s[j]] & CL_MASK) == CL_CJK || digit_val(s[j]) >= 0))
			return j;
		return 0;
	}
	if (is_open_bracket(c)) { /* (12) （一） 【单选题】 [多选题] (A) */
		j = i + 1;
		while (is_space_at(s, n, j))
			j++;
		if (j >= n)
			return 0;
		k = numeral_end(s, n, j);
		if (k == j)
			k = j + type_word_at(s, n, j);
		if (k == j && is_option_letter(s[j]) && !(j + 1 < n && is_alpha(s[j + 1])))
			k = j + 1;
		if (k == j)
			return 0;
		while (is_space_at(s, n, k))
			k++;
		if (k >= n || !is_close_bracket(s[k]))
			return 0;
		return after_delim(s, n, k + 1);
	}
	if (c == u'第') { /* 第12题 第十二题 */
		j = i + 1;
		while (skip_punct && j < n && skippable(s, n, j, 1, &w))
			j += w;
		k = numeral_end_c(s, n, j, skip_punct);
		if (k == j)
			return 0;
		while (skip_punct && k < n && skippable(s, n, k, 1, &w))
			k += w;
		if (k >= n || (s[k] != u'题' && s[k] != u'題'))
			return 0;
		return after_delim(s, n, k + 1);
	}
	if ((k = type_word_at(s, n, i))) { /* 单选题： 判断题: */
		j = i + k;
		while (is_space_at(s, n, j))
			j++;
		if (j < n && (s[j] == ':' || s[j] == 0xFF1A))
			return j + 1;
	}
	return 0;
}

/* A literal backslash escape (\n \r \t) left by double-encoded JSON. */
static inline int is_escape_at(const UChar *s, size_t n, size_t i)
{
	return s[i] == '\\' && i + 1 < n && (s[i + 1] == 'n' || s[i + 1] == 'r' || s[i + 1] == 't');
}

/* Is s[i] something emit() drops or turns into a space (white space, a literal
 * "\n", and punctuation when it is stripped)? *w gets its length. */
static int skippable(const UChar *s, size_t n, size_t i, int skip_punct, size_t *w)
{
	int cl;
	if (is_escape_at(s, n, i)) {
		*w = 2;
		return 1;
	}
	cl = class_at(s, n, i, w);
	if (skip_punct && s[i] == '<') { /* dropped before a letter (see emit) */
		size_t j = i + 1, k;
		while (j < n && (s[j] == '<' || (s[j] != '<' && skippable(s, n, j, 1, &k))))
			j += s[j] == '<' ? 1 : k;
		*w = j - i;
		return j < n && is_alpha(s[j]);
	}
	if (cl == CL_DOT && i > 0 && is_digit_at(s, n, i - 1) && is_digit_at(s, n, i + 1))
		return 0; /* 1.5 keeps its point */
	return cl == CL_SPACE || cl == CL_IGNORE ||
	       (skip_punct && (cl == CL_PUNCT || cl == CL_DOT || cl == CL_COMMA || cl == CL_APOS));
}

/* Skips leading prefixes, repeatedly, together with the spaces (and, when
 * punctuation is stripped anyway, the punctuation) around them. */
static size_t numbering_end(const UChar *s, size_t n, int skip_punct)
{
	size_t i = 0, e, w;
	while (i < n) {
		if ((e = prefix_at(s, n, i, skip_punct)))
			i = e;
		else if (skippable(s, n, i, skip_punct, &w))
			i += w;
		else
			break;
	}
	return i;
}

/* ---------------------------------------------------------------- numbers */

/* A decimal number as digit strings: ip without leading zeros ("" is 0),
 * fp without trailing zeros. Longer digit runs are cut (ok = 0: not reported).
 * Zeros that only count as leading (ip) or trailing (fp) cut nothing: 0.5000…0
 * with any number of zeros is 0.5, as 000…05 is 5. */
typedef struct {
	char ip[40];
	char fp[24];
	unsigned ipn, fpn;
	unsigned fz; /* fraction zeros read after fp, written only if a digit follows */
	int ok;
} ndec;

static void dec_clear(ndec *d)
{
	d->ipn = d->fpn = d->fz = 0;
	d->ok = 1;
}

static void dec_int_digit(ndec *d, int v)
{
	if (!d->ipn && !v)
		return;
	if (d->ipn < sizeof d->ip)
		d->ip[d->ipn++] = (char)('0' + v);
	else
		d->ok = 0;
}

static void dec_frac_digit(ndec *d, int v)
{
	if (!v) {
		if (d->fz < sizeof d->fp) /* more would not fit anyway */
			d->fz++;
		return;
	}
	if (d->fz < sizeof d->fp - d->fpn) {
		memset(d->fp + d->fpn, '0', d->fz);
		d->fpn += d->fz;
		d->fz = 0;
		d->fp[d->fpn++] = (char)('0' + v);
	} else {
		d->ok = 0;
	}
}

/* Ends the fraction digits: the zeros still held are trailing ones. */
static void dec_trim(ndec *d)
{
	d->fz = 0;
	while (d->fpn && d->fp[d->fpn - 1] == '0')
		d->fpn--;
}

static void dec_from_u64(ndec *d, uint64_t v)
{
	char t[24];
	int k = 0;
	dec_clear(d);
	while (v) {
		t[k++] = (char)('0' + v % 10);
		v /= 10;
	}
	while (k)
		dec_int_digit(d, t[--k] - '0');
}

/* d *= 10^k */
static void dec_shift(ndec *d, unsigned k)
{
	while (k--) {
		int v = 0;
		if (d->fpn) {
			v = d->fp[0] - '0';
			memmove(d->fp, d->fp + 1, --d->fpn);
		}
		if (d->ipn || v)
			dec_int_digit(d, v);
	}
	dec_trim(d);
}

static int cn_digit(UChar c)
{
	switch (c) {
	case u'零': case u'〇': return 0;
	case u'一': case u'壹': return 1;
	case u'二': case u'两': case u'兩': case u'贰': case u'貳': return 2;
	case u'三': case u'叁': case u'參': return 3;
	case u'四': case u'肆': return 4;
	case u'五': case u'伍': return 5;
	case u'六': case u'陆': case u'陸': return 6;
	case u'七': case u'柒': return 7;
	case u'八': case u'捌': return 8;
	case u'九': case u'玖': return 9;
	default: return -1;
	}
}

static uint64_t cn_unit(UChar c)
{
	switch (c) {
	case u'十': case u'拾': return 10;
	case u'百': case u'佰': return 100;
	case u'千': case u'仟': return 1000;
	case u'万': case u'萬': return 10000;
	case u'亿': case u'億': return 100000000;
	default: return 0;
	}
}

static unsigned unit_exp(uint64_t u)
{
	unsigned k = 0;
	while (u >= 10) {
		u /= 10;
		k++;
	}
	return k;
}

/* Financial forms that are also ordinary words on their own (陆地, 队伍, 拾取 …). */
static int is_financial(UChar c)
{
	return c == u'壹' || c == u'贰' || c == u'貳' || c == u'叁' || c == u'參' || c == u'肆' ||
	       c == u'伍' || c == u'陆' || c == u'陸' || c == u'柒' || c == u'捌' || c == u'玖' ||
	       c == u'拾' || c == u'佰' || c == u'仟';
}

#define CN_NONE UINT64_MAX
#define CN_MAX 1000000000000000000ull /* values beyond 10^18 are not reported */

/* Parses a Chinese (or mixed Arabic/Chinese) numeral from s[i]: 五十 十五 一百二十
 * 三千五百 两万五 二〇二三 5万3千 一百零五 三点五. `pending` is an Arabic integer
 * already read in front of s[i] (CN_NONE for none). unit_start lets a unit begin
 * the numeral (百分之百). Returns the index after the numeral (i when there is none). */
static size_t cn_parse(const UChar *s, size_t n, size_t i, uint64_t pending, int unit_start, ndec *d)
{
	enum { T_NONE, T_DIGIT, T_UNIT, T_ZERO } prev = pending == CN_NONE ? T_NONE : T_DIGIT;
	uint64_t result = 0, section = 0, last_unit = 0, u;
	int any = pending != CN_NONE, arabic = any, after_unit = 0, v;
	size_t j = i, end = i;
	while (j < n) {
		UChar c = s[j];
		if ((v = cn_digit(c)) >= 0) {
			if (v == 0 && pending == CN_NONE && any && (prev == T_UNIT || prev == T_ZERO)) {
				prev = T_ZERO; /* 一百零五: a placeholder */
				j++;
				continue;
			}
			if (pending != CN_NONE) {
				/* 二〇二三: a run of bare digits */
				if (prev != T_DIGIT || arabic || after_unit || section || result ||
				    pending >= CN_MAX / 10)
					break;
				pending = pending * 10 + (uint64_t)v;
			} else {
				pending = (uint64_t)v;
				after_unit = prev == T_UNIT;
			}
			prev = T_DIGIT;
			arabic = 0;
			any = 1;
			end = ++j;
			continue;
		}
		if (digit_val(c) >= 0 && any && pending == CN_NONE) { /* 5万3千 */
			uint64_t a = 0;
			size_t k = j;
			while (k < n && (v = digit_val(s[k])) >= 0 && a < CN_MAX / 10)
				a = a * 10 + (uint64_t)v, k++;
			if (k < n && digit_val(s[k]) >= 0)
				break;
			pending = a;
			after_unit = 0;
			prev = T_DIGIT;
			arabic = 1;
			end = j = k;
			continue;
		}
		if ((u = cn_unit(c))) {
			uint64_t m;
			if (u < 10000) {
				if (pending != CN_NONE)
					m = pending;
				else if ((u == 10 && (prev != T_DIGIT)) || (!any && unit_start))
					m = 1; /* 十五, 一百一十, 百分之百 */
				else
					break;
				if (m > (CN_MAX - section) / u)
					break;
				section += m * u;
			} else {
				uint64_t sect = section + (pending == CN_NONE ? 0 : pending);
				if (!sect && !(u > 10000 && result)) { /* 一万亿 multiplies it all */
					if (any || !unit_start)
						break;
					sect = 1; /* 百分之万 */
				}
				if (u == 10000) {
					if (sect > (CN_MAX - result) / u)
						break;
					result += sect * u;
				} else {
					if (result + sect > CN_MAX / u)
						break;
					result = (result + sect) * u;
				}
				section = 0;
			}
			pending = CN_NONE;
			prev = T_UNIT;
			last_unit = u;
			any = 1;
			end = ++j;
			continue;
		}
		break;
	}
	if (!any || end == i)
		return i;
	/* 一百二 = 120, 三千五 = 3500, 两万五 = 25000 (the digit after a unit stands
	 * for the next lower unit) */
	if (pending != CN_NONE && after_unit && !arabic && pending < 10 && last_unit >= 100)
		pending *= last_unit / 10;
	dec_from_u64(d, result + section + (pending == CN_NONE ? 0 : pending));
	/* 三点五, 零点五: decimals */
	if (end + 1 < n && s[end] == u'点' && (cn_digit(s[end + 1]) >= 0 || digit_val(s[end + 1]) >= 0)) {
		j = end + 1;
		while (j < n && ((v = cn_digit(s[j])) >= 0 || (v = digit_val(s[j])) >= 0)) {
			dec_frac_digit(d, v);
			j++;
		}
		dec_trim(d);
		end = j;
		while (end < n && (u = cn_unit(s[end]))) /* 三点五万 */
			dec_shift(d, unit_exp(u)), end++;
	}
	return end;
}

/* An Arabic number at s[i] (a digit): 30 1,000 0.50 ３０. Returns its end. */
static size_t arabic_parse(const UChar *s, size_t n, size_t i, ndec *d, int *is_int)
{
	size_t j = i;
	int v;
	dec_clear(d);
	while (j < n) {
		if ((v = digit_val(s[j])) >= 0) {
			dec_int_digit(d, v);
			j++;
			continue;
		}
		/* a thousands separator: ",ddd" and no fourth digit (the same test as emit()) */
		if (s[j] == ',' && is_digit_at(s, n, j + 1) && is_digit_at(s, n, j + 2) &&
		    is_digit_at(s, n, j + 3) && !is_digit_at(s, n, j + 4)) {
			j++;
			continue;
		}
		break;
	}
	*is_int = 1;
	if (j + 1 < n && (s[j] == '.' || s[j] == 0xFF0E) && is_digit_at(s, n, j + 1)) {
		*is_int = 0;
		for (j++; j < n && (v = digit_val(s[j])) >= 0; j++)
			dec_frac_digit(d, v);
		dec_trim(d);
	}
	return j;
}

/* A number value at s[i]: Arabic, Chinese or mixed (5万, 1.5万, 3千5百). */
static size_t value_parse(const UChar *s, size_t n, size_t i, int unit_start, ndec *d)
{
	size_t e;
	int is_int;
	if (i >= n)
		return i;
	if (digit_val(s[i]) >= 0) {
		e = arabic_parse(s, n, i, d, &is_int);
		if (e < n && cn_unit(s[e])) {
			if (is_int && d->ok && d->ipn <= 15) {
				uint64_t a = 0;
				unsigned k;
				size_t e2;
				ndec t;
				for (k = 0; k < d->ipn; k++)
					a = a * 10 + (uint64_t)(d->ip[k] - '0');
				e2 = cn_parse(s, n, e, a, 0, &t);
				if (e2 > e) {
					*d = t;
					return e2;
				}
			} else {
				while (e < n && cn_unit(s[e]))
					dec_shift(d, unit_exp(cn_unit(s[e]))), e++;
			}
		}
		return e;
	}
	if (cn_digit(s[i]) >= 0 || cn_unit(s[i]) == 10 || (unit_start && cn_unit(s[i])))
		return cn_parse(s, n, i, CN_NONE, unit_start, d);
	return i;
}

/* Words whose numeral character is not a number, matched where a numeral would
 * start. Chosen for traffic-law and exam text: adverbs and set phrases with 一
 * (一定 一律 一旦 …), 十分/十字(路口), 零件, 二手(车), 三角(警告牌), 四周 …
 * 百/千/万/亿 never start a number, so 千万 百姓 万能 need no entry. */
static const UChar *const STOP_AHEAD[] = {
	u"一定", u"一般", u"一律", u"一旦", u"一致", u"一起", u"一侧", u"一边", u"一切", u"一些",
	u"一直", u"一样", u"一下", u"一并", u"一同", u"一时", u"一方", u"一概", u"一贯", u"一再",
	u"一度", u"一向", u"一道", u"一齐", u"一面", u"一经", u"一味", u"一带", u"一旁", u"一番",
	u"一点", u"一会", u"一阵", u"一心", u"一意", u"一举", u"一连", u"一路", u"一流", u"一瞬",
	u"一刹", u"一氧化", u"一手", u"一体", u"一一", u"一系列", u"一半", u"一头", u"一身",
	u"十分", u"十足", u"十字", u"十全",
	u"零件", u"零部件", u"零星", u"零散", u"零售", u"零钱", u"零碎",
	u"二手", u"二氧化", u"三角", u"三思", u"四周", u"四处", u"四肢", u"四面", u"八方",
};

/* Two-character words whose second character is the numeral: 统一 唯一 万一 … */
static const UChar STOP_BEHIND[][2] = {
	{u'统', u'一'}, {u'唯', u'一'}, {u'同', u'一'}, {u'逐', u'一'}, {u'之', u'一'},
	{u'不', u'一'}, {u'专', u'一'}, {u'划', u'一'}, {u'单', u'一'}, {u'如', u'一'},
	{u'归', u'一'}, {u'合', u'一'}, {u'万', u'一'}, {u'均', u'一'}, {u'某', u'一'},
	{u'任', u'一'}, {u'另', u'一'}, {u'每', u'一'}, {u'纯', u'一'}, {u'再', u'三'},
	{u'统', u'壹'},
};

static void mark_stop_heads(uint8_t *cls)
{
	size_t k;
	for (k = 0; k < sizeof STOP_BEHIND / sizeof STOP_BEHIND[0]; k++)
		cls[STOP_BEHIND[k][0]] |= CF_JOIN_R;
}

/* When a stop word starts at s[i], its length (what to skip); else 0. */
static size_t stopword_at(const UChar *s, size_t n, size_t i)
{
	size_t k, m;
	UChar c = s[i];
	if (c != u'一' && c != u'十' && c != u'零' && c != u'二' && c != u'三' && c != u'四' &&
	    c != u'八' && c != u'壹')
		return 0; /* no stop word starts with or ends in another numeral */
	if (i > 0)
		for (k = 0; k < sizeof STOP_BEHIND / sizeof STOP_BEHIND[0]; k++)
			if (s[i - 1] == STOP_BEHIND[k][0] && s[i] == STOP_BEHIND[k][1])
				return 1;
	if (i + 1 >= n)
		return 0;
	for (k = 0; k < sizeof STOP_AHEAD / sizeof STOP_AHEAD[0]; k++) {
		if (STOP_AHEAD[k][0] != c || STOP_AHEAD[k][1] != s[i + 1] ||
		    !(m = match_at(s, n, i, STOP_AHEAD[k])))
			continue;
		/* 一点五 is 1.5, 一点 alone is "a little" */
		if (STOP_AHEAD[k][1] == u'点' && i + 2 < n &&
		    (cn_digit(s[i + 2]) >= 0 || digit_val(s[i + 2]) >= 0))
			return 0;
		return m;
	}
	return 0;
}

/* Appends d in canonical form ("0" for zero, "0.5", "1000"). */
static int put_dec(nd_buf *b, const ndec *d)
{
	int rc = d->ipn ? nd_buf_append(b, d->ip, d->ipn) : nd_buf_putc(b, '0');
	if (!rc && d->fpn && !(rc = nd_buf_putc(b, '.')))
		rc = nd_buf_append(b, d->fp, d->fpn);
	return rc;
}

/* Records one number, spelled by s[b..e): d, then "/den" for a fraction, then the
 * suffix (% or ‰). A number too long to hold (ok = 0) is not recorded. */
static int num_add(span_list *L, const ndec *d, const char *suffix, const ndec *den, size_t b,
		   size_t e)
{
	int rc;
	size_t start = L->text.len;
	if (!d->ok || (den && !den->ok))
		return 0;
	if (L->n == L->cap) {
		size_t c = L->cap ? L->cap * 2 : 32;
		num_span *p = nd_reallocarray(L->v, c, sizeof *p);
		if (!p)
			return nd_seterr(ND_ENOMEM, "out of memory for number features");
		L->v = p;
		L->cap = c;
	}
	rc = put_dec(&L->text, d);
	if (!rc && den && !(rc = nd_buf_putc(&L->text, '/')))
		rc = put_dec(&L->text, den);
	if (!rc && suffix)
		rc = nd_buf_append(&L->text, suffix, strlen(suffix));
	if (rc)
		return rc;
	/* an offset, not a pointer: the text buffer may still move */
	L->v[L->n].b = b;
	L->v[L->n].e = e;
	L->v[L->n].off = start;
	L->v[L->n].len = L->text.len - start;
	L->v[L->n].p = NULL;
	L->n++;
	return 0;
}

static int is_den(const ndec *d, const char *v)
{
	return d->fpn == 0 && d->ipn == strlen(v) && !memcmp(d->ip, v, d->ipn);
}

/* Reads the number (if any) at s[i], a CF_NUM character, into L; *next gets where
 * to go on. */
static int number_at(span_list *L, const UChar *s, size_t n, size_t i, size_t *next)
{
	size_t start = i, e, e2;
	ndec x, y;
	const char *suffix = NULL;
	UChar c = s[i];
	int ordinal = 0, is_int;
	*next = i + 1;
	/* 百分之三十 → 30%, 千分之五 → 5‰ */
	if ((c == u'百' || c == u'千') && i + 2 < n && s[i + 1] == u'分' && s[i + 2] == u'之') {
		e = value_parse(s, n, i + 3, 1, &y);
		*next = e > i + 3 ? e : i + 3;
		return e > i + 3 ? num_add(L, &y, c == u'百' ? "%" : "\xe2\x80\xb0", NULL, i, e) : 0;
	}
	if (c == u'第') {
		ordinal = 1;
		start = i + 1;
	} else if (digit_val(c) < 0 && (e = stopword_at(s, n, i))) {
		*next = i + e;
		return 0;
	}
	e = value_parse(s, n, start, 0, &x);
	if (e == start)
		return 0;
	*next = e;
	if (!ordinal && e - start == 1 && is_financial(s[start]))
		return 0;
	/* 三分之一 → 1/3 (分之 fractions; 百分之 is a percentage). One with a part too
	 * long to record is left out whole and keeps its spelling: nothing in it is
	 * punctuation, so the next pass reads the same span. (Read as its parts, its
	 * pieces could be written otherwise: 亿点1234…000一 → "亿点1234…000 1", which
	 * reads as a shorter, recordable denominator.) */
	if (e + 2 < n && s[e] == u'分' && s[e + 1] == u'之') {
		e2 = value_parse(s, n, e + 2, 1, &y);
		if (e2 > e + 2) {
			*next = e2;
			if (is_den(&x, "100"))
				return num_add(L, &y, "%", NULL, start, e2);
			if (is_den(&x, "1000"))
				return num_add(L, &y, "\xe2\x80\xb0", NULL, start, e2);
			return num_add(L, &y, NULL, &x, start, e2);
		}
	}
	/* 1/3, but not the parts of 2023/05/01. A fraction with a part too long to
	 * record (ok = 0; 1.000…8 cut to 1 looks whole) is read as its parts, each on
	 * its own, so its denominator is written canonically like any number. Left
	 * out whole it kept its spelling, its '/' dropped as punctuation
	 * (1.000…8/0005 → "1.000…8 0005"), and the next pass read the denominator as a
	 * number of its own ("1.000…8 5"). Read on its own, the numerator spans what
	 * it spanned (it is skipped whole when too long), and so does the denominator,
	 * an Arabic digit run that no unit follows. */
	if (digit_val(s[start]) >= 0 && e + 1 < n && s[e] == '/' && is_digit_at(s, n, e + 1) &&
	    !(start > 0 && s[start - 1] == '/') && x.ok && x.fpn == 0) {
		e2 = arabic_parse(s, n, e + 1, &y, &is_int);
		if (is_int && y.ok && !(e2 < n && (s[e2] == '/' || cn_unit(s[e2])))) {
			*next = e2;
			return num_add(L, &x, NULL, &y, start, e2);
		}
	}
	if (e < n && (s[e] == '%' || s[e] == 0xFF05))
		suffix = "%", *next = e + 1;
	else if (e < n && s[e] == 0x2030)
		suffix = "\xe2\x80\xb0", *next = e + 1;
	return num_add(L, &x, suffix, NULL, start, *next);
}

static int span_cmp(const void *a, const void *b)
{
	const num_span *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, m);
	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* Sorts L's strings and joins the distinct ones into z->numbers ("2,30%,50"). */
static int numbers_join(nd_normalizer *z, span_list *L)
{
	size_t k;
	int rc = 0;
	z->numbers.len = 0;
	if (z->numbers.data)
		z->numbers.data[0] = '\0';
	for (k = 0; k < L->n; k++)
		L->v[k].p = L->text.data + L->v[k].off;
	if (L->n > 16) {
		qsort(L->v, L->n, sizeof *L->v, span_cmp);
	} else { /* the usual handful: insertion sort beats qsort's set-up */
		for (k = 1; k < L->n; k++) {
			num_span t = L->v[k];
			size_t j = k;
			for (; j > 0 && span_cmp(&L->v[j - 1], &t) > 0; j--)
				L->v[j] = L->v[j - 1];
			L->v[j] = t;
		}
	}
	for (k = 0; k < L->n && !rc; k++) {
		if (k && !span_cmp(&L->v[k], &L->v[k - 1]))
			continue; /* each distinct number once */
		if (z->numbers.len)
			rc = nd_buf_putc(&z->numbers, ',');
		if (!rc)
			rc = nd_buf_append(&z->numbers, L->v[k].p, L->v[k].len);
	}
	return rc;
}

/* ---------------------------------------------------------------- negations */

/* Longest entries first; count 0 marks words that are not negations but would
 * otherwise be read as 不/无/非/未 + something. */
static const struct {
	const UChar *w;
	unsigned count;
} NEG_WORDS[] = {
	{u"不同", 0}, {u"不断", 0}, {u"不斷", 0}, {u"不仅", 0}, {u"不僅", 0}, {u"不但", 0},
	{u"不管", 0}, {u"不论", 0}, {u"不論", 0}, {u"不久", 0}, {u"不过", 0}, {u"不過", 0},
	{u"无论", 0}, {u"無論", 0}, {u"非常", 0}, {u"未来", 0}, {u"未來", 0}, {u"除非", 0},
	{u"不得", 1}, {u"不准", 1}, {u"不應", 1}, {u"不应", 1}, {u"不能", 1}, {u"不可", 1},
	{u"不要", 1}, {u"不许", 1}, {u"不許", 1}, {u"不宜", 1}, {u"不必", 1}, {u"不用", 1},
	{u"禁止", 1}, {u"严禁", 1}, {u"嚴禁", 1}, {u"没有", 1}, {u"沒有", 1}, {u"并非", 1},
	{u"並非", 1}, {u"无需", 1}, {u"無需", 1}, {u"无须", 1}, {u"無須", 1}, {u"无法", 1},
	{u"無法", 1}, {u"不", 1}, {u"没", 1}, {u"沒", 1}, {u"无", 1}, {u"無", 1}, {u"未", 1},
	{u"勿", 1}, {u"非", 1},
};

static const struct {
	char w[8];
	size_t len;
} EN_NEG[] = {{"not", 3}, {"no", 2}, {"never", 5}, {"none", 4}, {"nor", 3}, {"neither", 7},
	      {"nobody", 6}, {"nothing", 7}, {"cannot", 6}, {"without", 7}};

/* English number words: what a copy writes as digits ("three tips" / "3 tips")
 * and what tells two questions apart ("a five year old" / "a ten year old"). */
static const struct {
	char w[10];
	unsigned char len;
	unsigned v;
} EN_NUM[] = {{"zero", 4, 0}, {"one", 3, 1}, {"two", 3, 2}, {"three", 5, 3}, {"four", 4, 4},
	      {"five", 4, 5}, {"six", 3, 6}, {"seven", 5, 7}, {"eight", 5, 8}, {"nine", 4, 9},
	      {"ten", 3, 10}, {"eleven", 6, 11}, {"twelve", 6, 12}, {"thirteen", 8, 13},
	      {"fourteen", 8, 14}, {"fifteen", 7, 15}, {"sixteen", 7, 16}, {"seventeen", 9, 17},
	      {"eighteen", 8, 18}, {"nineteen", 8, 19}, {"twenty", 6, 20}, {"thirty", 6, 30},
	      {"forty", 5, 40}, {"fifty", 5, 50}, {"sixty", 5, 60}, {"seventy", 7, 70},
	      {"eighty", 6, 80}, {"ninety", 6, 90}},
  EN_MUL[] = {{"hundred", 7, 100}, {"thousand", 8, 1000}, {"million", 7, 1000000},
	      {"billion", 7, 1000000000}};

/* The letters of the ASCII word at s[i] (lower-cased into w, at most cap), and its
 * end; *m > cap when it is longer. */
static size_t letters_at(const UChar *s, size_t n, size_t i, char *w, size_t cap, size_t *m)
{
	*m = 0;
	for (; i < n; i++) {
		if ((s[i] == '\'' || s[i] == 0x2019) && i + 1 < n && is_alpha(s[i + 1]) && *m)
			continue; /* dropped inside a word: z'ero is written zero */
		if (!is_alpha(s[i]))
			break;
		if ((*m)++ < cap)
			w[*m - 1] = (char)(s[i] | 0x20);
	}
	return i;
}

static int en_lookup(const char *w, size_t m, int mul, unsigned *v)
{
	size_t k, nk = mul ? sizeof EN_MUL / sizeof *EN_MUL : sizeof EN_NUM / sizeof *EN_NUM;
	for (k = 0; k < nk; k++) {
		const char *x = mul ? EN_MUL[k].w : EN_NUM[k].w;
		size_t xl = mul ? EN_MUL[k].len : EN_NUM[k].len;
		if (xl == m && !memcmp(x, w, m)) {
			*v = mul ? EN_MUL[k].v : EN_NUM[k].v;
			return 1;
		}
	}
	return 0;
}

/* What may not touch an English number word, as the output will have it: a
 * letter (any script: Blüten holds no ten) or digit (but the n of a "\\n"
 * escape, which becomes a space), or a CJK
 * character that reads as part of a number (五, 万, 分之, 点). A number word that
 * touches one is left as a word, so whether it reads as a number never changes
 * when its neighbours are written anew (five分之一 is not 1/5; seven一 is not 71). */
static int blocks_before(const UChar *s, size_t n, size_t k)
{
	UChar c = s[k];
	size_t w;
	if (U16_IS_TRAIL(c) && k >= 1 && U16_IS_LEAD(s[k - 1]))
		return class_at(s, n, k - 1, &w) == CL_WORD; /* a letter beyond the BMP */
	if (is_alnum(c))
		return !(k >= 1 && is_escape_at(s, n, k - 1));
	if (c == '%' || c == 0xFF05 || c == 0x2030) /* what 百分之一 before it becomes */
		return 1;
	return c >= 0x80 && ((g.cls[c] & (CF_NUM | CF_JOIN_L | CF_JOIN_R)) || (g.cls[c] & CL_MASK) == CL_WORD);
}

/* 1 when all that comes before s[i] is one option letter (and separators): "A
 * five" written "a 5" would read as the label "A" and a text "5" */
static int after_lone_label(const UChar *s, size_t n, size_t i)
{
	size_t k, content = 0;
	UChar first = 0;
	for (k = 0; k < i && content < 2; k++) {
		int cl = g.cls[s[k]] & CL_MASK;
		if (k > 0 && is_escape_at(s, n, k - 1))
			continue; /* the n of "\n": a space in the output */
		if (cl == CL_WORD || cl == CL_CJK || (g.cls[s[k]] & CF_NUM)) {
			if (!content++)
				first = s[k];
		}
	}
	return content == 1 && is_option_letter(first);
}

static int blocks_after(const UChar *s, size_t n, size_t k)
{
	UChar c = s[k];
	size_t w;
	if (U16_IS_LEAD(c))
		return class_at(s, n, k, &w) == CL_WORD;
	return (unsigned)(c - '0') < 10u ||
	       (c >= 0x80 && ((g.cls[c] & (CF_NUM | CF_JOIN_L | CF_JOIN_R)) || (g.cls[c] & CL_MASK) == CL_WORD));
}

/* The end of the run of characters at s[j] that the output writes as one space
 * between two words (white space, punctuation, a "\\n" escape, a '<' it drops
 * before a letter), so that words read as one number here read so in the output
 * too; j when there is none. */
static size_t word_gap(const UChar *s, size_t n, size_t j)
{
	size_t k = j;
	while (k < n) {
		size_t w;
		int cl = class_at(s, n, k, &w); /* an emoji is a symbol, dropped like '-' */
		if (is_escape_at(s, n, k))
			k += 2;
		else if (cl == CL_SPACE || cl == CL_PUNCT || cl == CL_COMMA || cl == CL_DOT || cl == CL_APOS ||
			 cl == CL_IGNORE || s[k] == '<' || s[k] == 0xFF1C)
			k += w;
		else
			break;
	}
	return k;
}

/* A number spelled in English words at s[i], the whole word w[0..m) ending at j:
 * "five", "twenty-five", "twenty five", "three hundred", "two hundred thousand".
 * Each word must stand free (see blocks_before/after); a word that could extend
 * the number but does not stand free is not taken. @return its end, or 0 when it
 * is not one; *value gets it. */
static size_t en_number_at(const UChar *s, size_t n, size_t i, const char *w, size_t m, size_t j,
			   uint64_t *value)
{
	char x[10];
	size_t xm, e;
	unsigned v, u;
	if ((i > 0 && blocks_before(s, n, i - 1)) || (j < n && blocks_after(s, n, j)) || !en_lookup(w, m, 0, &v) ||
	    after_lone_label(s, n, i))
		return 0;
	uint64_t val = v;
	int extended = 0;
	/* twenty-five, twenty five (any separator the output writes as one space) */
	size_t k2 = word_gap(s, n, j);
	if (v >= 20 && k2 > j && k2 < n && is_alpha(s[k2])) {
		e = letters_at(s, n, k2, x, sizeof x, &xm);
		if (xm <= sizeof x && en_lookup(x, xm, 0, &u) && u >= 1 && u <= 9 && !(e < n && blocks_after(s, n, e))) {
			val += u;
			j = e;
			extended = 1;
		}
	}
	/* three hundred, two hundred thousand */
	while ((k2 = word_gap(s, n, j)) > j && k2 < n && is_alpha(s[k2])) {
		e = letters_at(s, n, k2, x, sizeof x, &xm);
		if (xm > sizeof x || !en_lookup(x, xm, 1, &u) || (e < n && blocks_after(s, n, e)) || val > CN_MAX / u)
			break; /* values beyond 10^18 are not reported: "billion billion" stops at the first */
		val *= u;
		j = e;
		extended = 1;
	}
	if (v == 1 && !extended)
		return 0; /* "one" alone is mostly a pronoun (which one, no one, one of the following) */
	*value = val;
	return j;
}

/* An ASCII word at s[i]: letters with inner apostrophes (don't, can’t). */
static size_t english_at(span_list *L, const UChar *s, size_t n, size_t i, unsigned *neg, int *rc)
{
	char w[16] = {0};
	size_t j = i, m = 0, k;
	if (i > 0 && is_escape_at(s, n, i - 1))
		return i + 1; /* the n of "\n", a space in the output: the word starts after it */
	while (j < n) {
		UChar c = s[j];
		if (is_alpha(c)) {
			if (m < sizeof w)
				w[m++] = (char)(c | 0x20);
			else
				m = sizeof w + 1; /* too long to be one of ours */
			j++;
		} else if ((c == '\'' || c == 0x2019) && j + 1 < n && is_alpha(s[j + 1]) && m <= sizeof w) {
			if (m < sizeof w)
				w[m++] = '\'';
			j++;
		} else {
			break;
		}
	}
	if (m > sizeof w)
		return j;
	{ /* a number word (its letters: the output drops inner apostrophes), with
	   * its % or ‰ as a number of digits takes them */
		uint64_t v;
		char lw[16];
		size_t lm, k2 = 0;
		for (k = 0; k < m; k++)
			if (w[k] != '\'')
				lw[k2++] = w[k];
		lm = k2;
		size_t e = en_number_at(s, n, i, lw, lm, j, &v);
		if (e) {
			ndec d;
			const char *suffix = NULL;
			dec_from_u64(&d, v);
			if (e < n && (s[e] == '%' || s[e] == 0xFF05))
				suffix = "%", e++;
			else if (e < n && s[e] == 0x2030)
				suffix = "\xe2\x80\xb0", e++;
			*rc = num_add(L, &d, suffix, NULL, i, e);
			return e;
		}
	}
	if (m >= 3 && w[m - 1] == 't' && w[m - 2] == '\'' && w[m - 3] == 'n') { /* n't */
		(*neg)++;
		return j;
	}
	if ((m >= 8 && !memcmp(w, "prohibit", 8)) || (m >= 6 && !memcmp(w, "forbid", 6)) ||
	    (m >= 6 && !memcmp(w, "forbad", 6))) {
		(*neg)++;
		return j;
	}
	for (k = 0; k < sizeof EN_NEG / sizeof EN_NEG[0]; k++) {
		if (EN_NEG[k].len != m || memcmp(EN_NEG[k].w, w, m))
			continue;
		if (m == 2 && j < n && s[j] == '.') /* "No. 5" is a number sign */
			return j;
		(*neg)++;
		return j;
	}
	return j;
}

static size_t negation_at(const UChar *s, size_t n, size_t i, unsigned *neg)
{
	size_t k, m;
	UChar next = i + 1 < n ? s[i + 1] : 0;
	for (k = 0; k < sizeof NEG_WORDS / sizeof NEG_WORDS[0]; k++) {
		const UChar *w = NEG_WORDS[k].w;
		if (w[0] != s[i] || (w[1] && w[1] != next) || !(m = match_at(s, n, i, w)))
			continue;
		*neg += NEG_WORDS[k].count;
		return i + m;
	}
	return i + 1;
}

/* Reads the numbers of s into L, in text order, and, when neg is non-NULL, counts
 * the negation markers into *neg. */
static ND_ALWAYS_INLINE int scan_text(span_list *L, const UChar *s, size_t n, unsigned *neg)
{
	size_t i = 0, next;
	unsigned ignored = 0;
	int rc = 0;
	L->text.len = 0;
	L->n = 0;
	while (i < n) {
		uint8_t fl = g.cls[s[i]];
		if (ND_LIKELY(!(fl & (CF_NUM | CF_NEG)))) {
			i++;
			continue;
		}
		if (fl & CF_NUM) {
			if ((rc = number_at(L, s, n, i, &next)))
				return rc;
			i = next;
		} else if (s[i] < 0x80) { /* an English word: numbers always, negations if asked */
			i = english_at(L, s, n, i, neg ? neg : &ignored, &rc);
			if (rc)
				return rc;
		} else if (neg) {
			i = negation_at(s, n, i, neg);
		} else {
			i++;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- output */

/* Room emit() needs for n units with the numbers of L written canonically: a
 * unit gives at most itself and a space before it (UTF-8: 3 bytes; a pair, two
 * units, 4), a number at most its string (ASCII, and ‰: 1 unit, 3 bytes) and a
 * space before it. */
static size_t emit_units(size_t n, const span_list *L)
{
	return 2 * n + (L ? L->text.len + L->n : 0) + 1;
}

static size_t emit_bytes(size_t n, const span_list *L)
{
	return 3 * n + (L ? L->text.len + L->n : 0) + 1;
}

/* Does o[0..m) spell the canonical string p[0..len) (ASCII and ‰)? */
static int spells_canon(const UChar *o, size_t m, const char *p, size_t len)
{
	size_t k = 0, j = 0;
	while (k < len && j < m) {
		if ((unsigned char)p[k] < 0x80) {
			if (o[j] != (UChar)p[k])
				return 0;
			k++;
		} else { /* "\xe2\x80\xb0" */
			if (o[j] != 0x2030)
				return 0;
			k += 3;
		}
		j++;
	}
	return k == len && j == m;
}

static inline char *put_utf8(char *o, uint32_t c)
{
	if (c < 0x80) {
		*o++ = (char)c;
	} else if (c < 0x800) {
		*o++ = (char)(0xC0 | (c >> 6));
		*o++ = (char)(0x80 | (c & 0x3F));
	} else if (c < 0x10000) {
		*o++ = (char)(0xE0 | (c >> 12));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3F));
		*o++ = (char)(0x80 | (c & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (c >> 18));
		*o++ = (char)(0x80 | ((c >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3F));
		*o++ = (char)(0x80 | (c & 0x3F));
	}
	return o;
}

/* Where emit_core() writes: UTF-16 (u, m units so far) when w16, UTF-8 (b) when
 * w8. The flags are constants at each call, so each caller gets a loop that
 * writes only what it needs. */
typedef struct {
	UChar *u;
	size_t m;
	char *b;
} sink;

static ND_ALWAYS_INLINE void sink_put(sink *k, int w16, int w8, uint32_t c)
{
	if (w16) {
		if (c < 0x10000) {
			k->u[k->m++] = (UChar)c;
		} else {
			k->u[k->m++] = U16_LEAD(c);
			k->u[k->m++] = U16_TRAIL(c);
		}
	}
	if (w8)
		k->b = put_utf8(k->b, c);
}

/* For emit_core: is the item c (class and flags fl; next: what follows it in the
 * text) written next a seam after what came before (hot: a CF_JOIN_R item and a
 * dropped separator; num_end: a number right before)? 分 goes on a number only
 * as 分之 (when something else comes between them, that is a seam of its own). */
static inline int item_seam(int hot, int num_end, int fl, uint32_t c, UChar next)
{
	return (hot && (fl & CF_JOIN_L) && (c != u'分' || next == u'之')) ||
	       (num_end && ((fl & CF_NUM) || c == '.' || c == 0xFF0E || c == ','));
}

/* Drops punctuation (keeping 0.5, joining 1,000 and don't), collapses white
 * space (none next to CJK or kept symbols, one between words) and trims s[0..n).
 * Kept '<'s are held back until the next kept character: before an ASCII letter
 * they are dropped (as separators), so the output never holds a '<' that would
 * open a tag when it is normalised again.
 * With L, every number of L is written as its canonical string instead of its
 * spelling, with a space between it and a digit next to it (五5 → "5 5", not 55),
 * and the return value says whether the output has a seam: a place where a number
 * could read otherwise than in s, so that only reading the output back can tell.
 * The reader looks at nothing around a numeral but CF_JOIN_* characters, a
 * number's value depends only on what it spans, and a canonical string reads as
 * itself (but 1.5/3); so the output reads as L unless
 *   - a CF_JOIN_R item meets a CF_JOIN_L one (a number is both) where s had a
 *     separator between them (五十，万 → 50万, 一点，五 → 一点5);
 *   - a number is written right after a CF_JOIN_R character (一点十五 → 一点15,
 *     拾百分之五 → 拾5%), but for 分 (only 分之 reads on), another number (it
 *     ends at its % or ‰: 20%1) and 第 (an ordinal reads the same) unless 第 is
 *     what the output starts with (第一百二十五题 → 第125题 is numbering);
 *   - a number is written right before a numeral, which may go on an Arabic
 *     number where it did not go on the spelling (五十百 → 50百) or read
 *     otherwise without the spelling before it (3.5万一 → 35000一, no more
 *     万一), or before a decimal or thousands mark (3.0.5 → 3.5).
 * A space between two items keeps them apart. */
static ND_ALWAYS_INLINE int emit_core(const UChar *s, size_t n, int strip, const span_list *L,
				      sink *o, int w16, int w8)
{
	int last = -1, sep = 0;
	int after_digit = 0; /* the last unit written is a digit */
	int after_num = 0;   /* ... the end of a number written canonically */
	int after_int = 0;   /* ... of one without a decimal point */
	int join = 0;        /* the last item written is CF_JOIN_R (a number is) */
	int hot = 0;         /* ... and a separator was dropped after it */
	int num_end = 0;     /* the last item is a number, and nothing dropped since */
	int inert = 0;       /* the last item is a number, 分, or 第 not at the start */
	int any = 0;         /* something was written */
	int seam = !strip;   /* 一、 → 1、 would read as numbering: always read back */
	int point, slash;    /* the number written has a decimal point, a '/' */
	size_t i, w, j, held = 0; /* '<'s not written yet */
	size_t k = 0, nb = L && L->n ? L->v[0].b : SIZE_MAX;
	for (i = 0; i < n; i += w) {
		uint32_t c = s[i];
		int fl = g.cls[c], cl = fl & CL_MASK;
		w = 1;
		if (ND_UNLIKELY(i == nb)) { /* a number: its canonical string */
			const num_span *sp = &L->v[k];
			const char *p = L->text.data + sp->off;
			if (held) { /* a digit follows: the '<'s stay */
				for (; held; held--)
					sink_put(o, w16, w8, '<');
				last = CL_KEEP;
				sep = join = hot = inert = 0;
			}
			if ((sep && last == CL_WORD) || after_digit) {
				sink_put(o, w16, w8, ' ');
				join = hot = inert = 0;
			}
			seam |= hot || (join && !inert);
			point = slash = 0;
			for (j = 0; j < sp->len; j++) {
				if ((unsigned char)p[j] < 0x80) {
					sink_put(o, w16, w8, (unsigned char)p[j]);
					point |= p[j] == '.';
					slash |= p[j] == '/';
				} else { /* "\xe2\x80\xb0" */
					sink_put(o, w16, w8, 0x2030);
					j += 2;
				}
			}
			seam |= point && slash; /* 1.5/3 reads as 1.5 and 3 */
			after_digit = after_num = (unsigned)(p[sp->len - 1] - '0') < 10u;
			after_int = after_num && !point;
			last = after_digit ? CL_WORD : CL_KEEP; /* % ‰ */
			sep = hot = 0;
			/* a number right after it is a space or its % ‰ away */
			join = inert = num_end = any = 1;
			w = sp->e - i;
			nb = ++k < L->n ? L->v[k].b : SIZE_MAX;
			continue;
		}
		if (ND_LIKELY(cl == CL_CJK && !held)) { /* never spaced */
			size_t i0 = i;
			if (L && ND_UNLIKELY(hot | num_end))
				seam |= item_seam(hot, num_end, fl, c, i + 1 < n ? s[i + 1] : 0);
			sink_put(o, w16, w8, c);
			/* the rest of the run up to a number: only its last character
			 * matters to what follows */
			while (i + 1 < n && i + 1 != nb && (g.cls[s[i + 1]] & CL_MASK) == CL_CJK)
				sink_put(o, w16, w8, s[++i]);
			sep = after_digit = after_num = after_int = 0;
			last = CL_CJK;
			if (L) {
				c = s[i];
				join = (g.cls[c] >> 6) & 1; /* CF_JOIN_R */
				inert = c == u'分' || (c == u'第' && (any || i > i0));
				hot = num_end = 0;
				any = 1;
			}
			continue;
		}
		if (ND_UNLIKELY(cl == CL_SURR)) {
			cl = class_at(s, n, i, &w);
			c = w == 2 ? (uint32_t)U16_GET_SUPPLEMENTARY(s[i], s[i + 1]) : 0xFFFD;
			fl = cl;
		}
		switch (cl) {
		case CL_SPACE:
			sep = 1;
			hot = join, num_end = 0;
			continue;
		case CL_IGNORE:
			hot = join, num_end = 0;
			continue;
		/* 0.5 and 1,000: between digits of the text and of what was written. Right
		 * after a number written canonically the number has ended, so a comma is
		 * punctuation, and so is a point after a whole number, where it would
		 * make a decimal (五十3.5 is 53 and 5, 3.0.5 is 3 and 5; 9.3.1 stays) */
		case CL_DOT:
			if (after_digit && !after_int && is_digit_at(s, n, i - 1) && is_digit_at(s, n, i + 1))
				cl = CL_WORD;
			break;
		case CL_COMMA:
			if (strip && after_digit && !after_num && is_digit_at(s, n, i - 1) &&
			    is_digit_at(s, n, i + 1) && is_digit_at(s, n, i + 2) && is_digit_at(s, n, i + 3) &&
			    !is_digit_at(s, n, i + 4)) {
				hot = join, num_end = 0;
				continue;
			}
			break;
		case CL_APOS: /* don't */
			if (strip && i > 0 && i + 1 < n && is_alpha(s[i - 1]) && is_alpha(s[i + 1])) {
				hot = join, num_end = 0;
				continue;
			}
			break;
		case CL_PUNCT:
			if (c == '\\' && is_escape_at(s, n, i)) { /* a literal "\n" */
				sep = 1;
				hot = join, num_end = 0;
				w = 2;
				continue;
			}
			break;
		default:
			break;
		}
		if (cl == CL_PUNCT || cl == CL_DOT || cl == CL_COMMA || cl == CL_APOS) {
			if (strip) {
				sep = 1;
				hot = join, num_end = 0;
				continue;
			}
			cl = CL_WORD;
		}
		if (strip && c == '<') {
			held++;
			hot = join, num_end = 0; /* until the '<' is written */
			continue;
		}
		if (held) {
			if (c < 0x80 && is_alpha((UChar)c)) {
				sep = 1;
			} else {
				for (; held; held--)
					sink_put(o, w16, w8, '<');
				last = CL_KEEP;
				sep = join = hot = num_end = inert = 0;
				any = 1;
			}
			held = 0;
		}
		if ((sep && last == CL_WORD && cl == CL_WORD) || (after_num && digit_val((UChar)c) >= 0)) {
			sink_put(o, w16, w8, ' ');
			join = hot = num_end = inert = 0;
		}
		sep = 0;
		sink_put(o, w16, w8, c);
		after_digit = digit_val((UChar)c) >= 0;
		after_num = after_int = 0;
		last = cl;
		if (L) {
			seam |= item_seam(hot, num_end, fl, c, i + w < n ? s[i + w] : 0);
			join = (fl >> 6) & 1;
			inert = c == u'分' || (c == u'第' && any);
			hot = num_end = 0;
			any = 1;
		}
	}
	for (; held; held--)
		sink_put(o, w16, w8, '<');
	return seam;
}

static int reserve_out(nd_normalizer *z, size_t need)
{
	char *p;
	size_t c;
	if (need <= z->out_cap)
		return 0;
	c = need + need / 2 + 64;
	if (!(p = realloc(z->out, c)))
		return nd_seterr(ND_ENOMEM, "out of memory for a %zu-byte output", c);
	z->out = p;
	z->out_cap = c;
	return 0;
}

/* The output of s[0..n), with the numbers of L (may be NULL) written canonically,
 * as NUL-terminated UTF-8 in z->out; *seam (with L) as emit_core() tells. */
static ND_ALWAYS_INLINE int emit_utf8(nd_normalizer *z, const UChar *s, size_t n,
				      const span_list *L, int *seam, const char **out,
				      size_t *out_len)
{
	sink o = {NULL, 0, NULL};
	int rc = reserve_out(z, emit_bytes(n, L));
	if (rc)
		return rc;
	o.b = z->out;
	if (L)
		*seam = emit_core(s, n, z->opts.strip_punct, L, &o, 0, 1);
	else
		emit_core(s, n, z->opts.strip_punct, NULL, &o, 0, 1);
	*o.b = '\0';
	*out = z->out;
	*out_len = (size_t)(o.b - z->out);
	return 0;
}

/* The same output as UTF-16 in z->u[d] (*m units), to be read again. */
static int emit_u16(nd_normalizer *z, const UChar *s, size_t n, const span_list *L, int d,
		    size_t *m)
{
	sink o = {NULL, 0, NULL};
	int rc = reserve_units(&z->u[d], &z->ucap[d], emit_units(n, L));
	if (rc)
		return rc;
	o.u = z->u[d];
	emit_core(s, n, z->opts.strip_punct, L, &o, 1, 0);
	*m = o.m;
	return 0;
}

/* o[0..m) (from emit_core: no lone surrogates) as NUL-terminated UTF-8 in z->out. */
static int to_utf8(nd_normalizer *z, const UChar *o, size_t m, const char **out, size_t *out_len)
{
	size_t i;
	char *d;
	int rc = reserve_out(z, 3 * m + 1); /* a pair (2 units) takes 4 bytes */
	if (rc)
		return rc;
	d = z->out;
	for (i = 0; i < m; i++) {
		uint32_t c = o[i];
		if (U16_IS_LEAD(c) && i + 1 < m)
			c = (uint32_t)U16_GET_SUPPLEMENTARY(c, o[++i]);
		d = put_utf8(d, c);
	}
	*d = '\0';
	*out = z->out;
	*out_len = (size_t)(d - z->out);
	return 0;
}

/* Reads the numbers of o[0..m), an output written from the numbers of A, into B;
 * *same is 1 when normalising o again would give o back with the same numbers:
 * B reads A's strings, in order, each spelled canonically, and no numbering prefix
 * shows at the start (第一百二十五题 → 第125题 would be one). */
static int reread(nd_normalizer *z, const UChar *o, size_t m, const span_list *A, span_list *B,
		  int *same)
{
	size_t k;
	int rc = scan_text(B, o, m, NULL);
	*same = 0;
	if (rc || B->n != A->n)
		return rc;
	for (k = 0; k < B->n; k++) {
		const num_span *a = &A->v[k], *b = &B->v[k];
		const char *bp = B->text.data + b->off;
		if (a->len != b->len || memcmp(A->text.data + a->off, bp, b->len) ||
		    !spells_canon(o + b->b, b->e - b->b, bp, b->len))
			return 0;
	}
	if (z->opts.strip_numbering && numbering_end(o, m, z->opts.strip_punct) != 0)
		return 0;
	*same = 1;
	return 0;
}

/* canon_numbers: writes s[0..n) (in z->u[b]) with its numbers in canonical form;
 * *Lp gets the numbers the output reads as. Normalising the output again gives
 * the output: where it has a seam (see emit_core) it is read back, and where the
 * numbers read back are not the ones written (五十，万 → 50万, read as 500000), the
 * numbers are read from the text without punctuation (五十万) and written again;
 * if that does not hold either (五十万万 → 500000万), the text keeps its numerals
 * as they are. */
static int canon_text(nd_normalizer *z, int b, size_t start, size_t n, unsigned *neg,
		      span_list **Lp, const char **out, size_t *out_len)
{
	span_list *A = &z->scan[0], *B = &z->scan[1];
	int o = !b, rc, seam, same;
	size_t m, pn;
	*Lp = A;
	if ((rc = scan_text(A, z->u[b] + start, n, neg)) ||
	    (rc = emit_utf8(z, z->u[b] + start, n, A, &seam, out, out_len)) || !seam)
		return rc;
	if ((rc = emit_u16(z, z->u[b] + start, n, A, o, &m)) ||
	    (rc = reread(z, z->u[o], m, A, B, &same)))
		return rc;
	if (same)
		return 0; /* *out is right; the numbers are the same */
	/* the text as it reads without punctuation, in u[o]; s is not needed after it */
	if ((rc = emit_u16(z, z->u[b] + start, n, NULL, o, &pn)) ||
	    (rc = scan_text(A, z->u[o], pn, NULL)) || (rc = emit_u16(z, z->u[o], pn, A, b, &m)) ||
	    (rc = reread(z, z->u[b], m, A, B, &same)))
		return rc;
	if (same) {
		*Lp = B;
		return to_utf8(z, z->u[b], m, out, out_len);
	}
	return to_utf8(z, z->u[o], pn, out, out_len);
}

/* Drops the combining marks (BMP, general category Mn/Me) whose base is white
 * space or punctuation: the base is dropped from the output, and the mark would
 * then sit on whatever comes before it ("<.\u0338x" would be written "<\u0338x",
 * which the next pass composes into the symbol ≮ and drops). */
static inline int maybe_mark(UChar c)
{
	/* the blocks that hold combining marks (Mn, Me) in the BMP; CJK text, its
	 * punctuation and full-width forms are outside them and never asked about */
	int in = (c >= 0x300 && c < 0x2000) || (c >= 0x20D0 && c <= 0x20FF) || (c >= 0x2C00 && c < 0x2E00) ||
		 (c >= 0x302A && c <= 0x302F) || c == 0x3099 || c == 0x309A || (c >= 0xA600 && c < 0xAC00) ||
		 (c >= 0xFB1E && c <= 0xFB1E) || (c >= 0xFE00 && c <= 0xFE2F);
	return in && (U_GET_GC_MASK(c) & (U_GC_MN_MASK | U_GC_ME_MASK));
}

static size_t drop_orphan_marks(UChar *s, size_t n)
{
	size_t i, o, w;
	int base = CL_WORD; /* class of the last character that is not a mark */
	for (i = 0; i < n && !maybe_mark(s[i]); i++)
		; /* most texts hold no mark: nothing to do */
	if (i == n)
		return n;
	for (i = o = 0; i < n; i += w) {
		int cl = class_at(s, n, i, &w);
		if (is_escape_at(s, n, i)) { /* "\\n": a space in the output */
			cl = CL_SPACE;
			w = 2;
		}
		if (w == 1 && maybe_mark(s[i])) {
			if (base == CL_SPACE || base == CL_PUNCT || base == CL_IGNORE || base == CL_APOS ||
			    base == CL_COMMA || base == CL_DOT)
				continue;
		} else {
			base = cl;
		}
		for (size_t k = 0; k < w; k++)
			s[o++] = s[i + k];
	}
	return o;
}

/* ---------------------------------------------------------------- API */

void nd_normalizer_free(nd_normalizer *z)
{
	int k;
	if (!z)
		return;
	if (z->t2s)
		utrans_close(z->t2s);
	free(z->u[0]);
	free(z->u[1]);
	free(z->out);
	for (k = 0; k < 2; k++) {
		free(z->scan[k].v);
		nd_buf_free(&z->scan[k].text);
	}
	nd_buf_free(&z->numbers);
	free(z);
}

int nd_normalizer_create(nd_normalizer **out, const nd_norm_opts *opts)
{
	static const UChar t2s_id[] = u"Traditional-Simplified";
	nd_norm_opts def = ND_NORM_OPTS_INIT;
	nd_normalizer *z = NULL;
	UErrorCode st = U_ZERO_ERROR;
	int rc;
	if (!out)
		return nd_seterr(ND_EINVAL, "nd_normalizer_create: out is NULL");
	*out = NULL;
	if (!opts)
		opts = &def;
	if (opts->version != ND_NORM_OPTS_VERSION)
		return nd_seterr(ND_EINVAL, "nd_norm_opts: version %u is not supported (expected %d)",
				 opts->version, ND_NORM_OPTS_VERSION);
	if ((rc = tables_get()))
		return rc;
	if (!(z = calloc(1, sizeof *z)))
		return nd_seterr(ND_ENOMEM, "out of memory for a normalizer");
	z->opts = *opts;
	if (opts->t2s) {
		z->t2s = utrans_openU(t2s_id, -1, UTRANS_FORWARD, NULL, 0, NULL, &st);
		if (U_FAILURE(st) || !z->t2s) {
			rc = nd_seterr(ND_EBACKEND, "ICU: cannot open the Traditional-Simplified transliterator: %s",
				       u_errorName(st));
			goto cleanup;
		}
	}
	*out = z;
	z = NULL;
cleanup:
	nd_normalizer_free(z);
	return rc;
}

int nd_normalize_text(nd_normalizer *z, const char *text, size_t len, const char **out,
		      size_t *out_len, nd_text_features *features)
{
	UChar *s;
	size_t n, start = 0;
	unsigned neg = 0;
	span_list *L;
	int rc = 0, b;
	if (!z || !out || !out_len || (!text && len))
		return nd_seterr(ND_EINVAL, "nd_normalize_text: NULL argument");
	L = &z->scan[0];
	*out = NULL;
	*out_len = 0;
	if (len > ND_NORM_MAX_INPUT)
		return nd_seterr(ND_ELIMIT, "text of %zu bytes exceeds the %zu-byte normalisation limit",
				 len, ND_NORM_MAX_INPUT);
	if ((rc = reserve_units(&z->u[0], &z->ucap[0], len + 1)))
		return rc;
	s = z->u[0];
	if ((n = utf8_to_utf16((const unsigned char *)text, len, s)) == SIZE_MAX)
		return ND_EUTF8;
	if (z->opts.strip_html && len && (memchr(text, '<', len) || memchr(text, '&', len)))
		n = strip_html(s, n);
	if (z->opts.fold && (rc = fold_text(z, &s, &n)))
		return rc;
	if (z->opts.t2s && (rc = t2s_text(z, &s, &n)))
		return rc;
	if (z->opts.strip_punct && (!z->opts.fold || z->icu_folded))
		n = drop_orphan_marks(s, n);
	if (z->opts.strip_numbering)
		start = numbering_end(s, n, z->opts.strip_punct);
	b = s == z->u[0] ? 0 : 1;
	if (z->opts.canon_numbers) {
		rc = canon_text(z, b, start, n - start, features ? &neg : NULL, &L, out, out_len);
	} else { /* the features are read before punctuation goes (0.5, 1/3) */
		if (features)
			rc = scan_text(L, s + start, n - start, &neg);
		if (!rc)
			rc = emit_utf8(z, s + start, n - start, NULL, NULL, out, out_len);
	}
	if (!rc && features && !(rc = numbers_join(z, L))) {
		features->numbers = z->numbers.len ? z->numbers.data : "";
		features->numbers_len = z->numbers.len;
		features->negations = neg;
	}
	if (rc) {
		*out = NULL;
		*out_len = 0;
	}
	return rc;
}
