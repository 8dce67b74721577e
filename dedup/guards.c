/* Guards: reasons two similar records are still different questions. Each guard
 * looks at the comparison data of both records (nd_compare) and, when it fires,
 * says why in a short detail for the report ("40 vs 50", "左 → 右"). */
#include <stdio.h>
#include <string.h>
#include "dedup_internal.h"

const char *nd_guard_name(unsigned guard)
{
	switch (guard) {
	case ND_GUARD_NUMBER: return "number";
	case ND_GUARD_NEGATION: return "negation";
	case ND_GUARD_OPTIONS: return "options";
	case ND_GUARD_IMAGE: return "image";
	case ND_GUARD_SWAP: return "swap";
	}
	return "unknown";
}

int nd_guard_index(unsigned guard)
{
	for (int i = 0; i < 5; i++)
		if (guard == 1u << i)
			return i;
	return 0;
}

/* ------------------------------------------------------------ swap rule --
 * Two copies of one question differ by edits of a kind: a function word inserted
 * or dropped (应当→应, 周岁→岁, "做法" added), punctuation, a modal swapped for
 * another (应→须). Two different questions that look alike differ by a content
 * word put in place of another (左/右, 上坡/下坡, 白天/夜间, 加速/减速, 开启/关闭).
 * So: diff the normalised stems character by character; a hunk that replaces
 * (deletes and inserts at one place) and involves a content character is a
 * swap. Pure insertions and deletions never fire, nor do replacements among
 * function characters. docs/accuracy.md measures what this rule gains. */

/* Function characters: particles, modal verbs, question words, measure words,
 * pronouns and conjunctions — the words scraped copies add, drop or trade. */
static const char FUNCTION_CHARS[] =
	"的地得了着过之其应当须需要必会能可将在于以时候是为被把和与及或等哪些个种什么何"
	"下列做法说这那该此所并且即则就都也还又再从向往由给让使吗呢吧啊位项条款者怎样如";

static int is_function_char(uint32_t cp)
{
	static uint32_t table[128];
	static size_t ntable;
	static int ready; /* benign race: every thread computes the same table */
	if (!ready) {
		const unsigned char *p = (const unsigned char *)FUNCTION_CHARS;
		size_t k = 0;
		while (*p && k < 128) {
			table[k++] = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
			p += 3;
		}
		ntable = k;
		ready = 1;
	}
	for (size_t i = 0; i < ntable; i++)
		if (table[i] == cp)
			return 1;
	return 0;
}

static int is_digit_cp(uint32_t cp) { return cp >= '0' && cp <= '9'; }

/* UTF-8 (valid, from the normaliser) to code points; returns count or -1 if > cap. */
static int decode(const char *s, size_t n, uint32_t *out, int cap)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	int k = 0;
	while (p < e) {
		uint32_t c = *p;
		int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (p + len > e)
			break;
		if (len == 2)
			c = (c & 0x1F) << 6 | (p[1] & 0x3F);
		else if (len == 3)
			c = (c & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
		else if (len == 4)
			c = (c & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 | (uint32_t)(p[2] & 0x3F) << 6 |
			    (p[3] & 0x3F);
		if (k == cap)
			return -1;
		out[k++] = c;
		p += len;
	}
	return k;
}

static size_t encode(uint32_t c, char *o)
{
	if (c < 0x80) { o[0] = (char)c; return 1; }
	if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
	if (c < 0x10000) {
		o[0] = (char)(0xE0 | c >> 12); o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | c >> 18); o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* Stems longer than this (in characters) skip the swap rule: long passages are
 * not the near-twin exam stems it is for, and the diff stays cheap. */
#define SWAP_MAX_CHARS 512
/* More edits than this and the stems are not "one word apart": no verdict. */
#define SWAP_MAX_D 24

enum { OP_EQ, OP_DEL, OP_INS };

/* Myers' O(ND) diff; fills ops (reversed) and returns D, or -1 when D > SWAP_MAX_D. */
static int myers(const uint32_t *a, int n, const uint32_t *b, int m, unsigned char *ops, int *nops)
{
	enum { W = 2 * SWAP_MAX_D + 3, OFF = SWAP_MAX_D + 1 };
	int v[W], trace[SWAP_MAX_D + 1][W];
	int d, k, x, y, found = -1;
	memset(v, 0, sizeof v);
	for (d = 0; d <= SWAP_MAX_D && found < 0; d++) {
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[OFF + k - 1] < v[OFF + k + 1]))
				x = v[OFF + k + 1];
			else
				x = v[OFF + k - 1] + 1;
			y = x - k;
			while (x < n && y < m && a[x] == b[y])
				x++, y++;
			v[OFF + k] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
		memcpy(trace[d], v, sizeof v);
	}
	if (found < 0)
		return -1;
	int no = 0;
	x = n;
	y = m;
	for (d = found; d > 0; d--) {
		const int *pv = trace[d - 1];
		k = x - y;
		int pk = (k == -d || (k != d && pv[OFF + k - 1] < pv[OFF + k + 1])) ? k + 1 : k - 1;
		int px = pv[OFF + pk], py = px - pk;
		while (x > px && y > py) {
			ops[no++] = OP_EQ;
			x--, y--;
		}
		ops[no++] = x == px ? OP_INS : OP_DEL;
		x = px;
		y = py;
	}
	while (x > 0 && y > 0) {
		ops[no++] = OP_EQ;
		x--, y--;
	}
	*nops = no;
	return found;
}

static int swap_check(const char *sa, size_t la, const char *sb, size_t lb, char *detail, size_t dn)
{
	uint32_t a[SWAP_MAX_CHARS], b[SWAP_MAX_CHARS];
	unsigned char ops[2 * SWAP_MAX_CHARS + 2];
	int n = decode(sa, la, a, SWAP_MAX_CHARS), m = decode(sb, lb, b, SWAP_MAX_CHARS), no = 0;
	if (n < 0 || m < 0 || myers(a, n, b, m, ops, &no) < 0)
		return 0;
	/* walk forward (ops are reversed) and look at each hunk */
	int i = 0, j = 0, p = no - 1;
	while (p >= 0) {
		if (ops[p] == OP_EQ) {
			i++, j++, p--;
			continue;
		}
		int di = i, dj = j, content = 0;
		while (p >= 0 && ops[p] != OP_EQ) {
			if (ops[p] == OP_DEL) {
				content |= !is_function_char(a[i]) && !is_digit_cp(a[i]);
				i++;
			} else {
				content |= !is_function_char(b[j]) && !is_digit_cp(b[j]);
				j++;
			}
			p--;
		}
		if (i > di && j > dj && content) {
			char left[64], right[64];
			size_t l = 0, r = 0;
			for (int q = di; q < i && l + 4 < sizeof left; q++)
				l += encode(a[q], left + l);
			for (int q = dj; q < j && r + 4 < sizeof right; q++)
				r += encode(b[q], right + r);
			snprintf(detail, dn, "%.*s → %.*s", (int)l, left, (int)r, right);
			return 1;
		}
	}
	return 0;
}

unsigned nd_guard_check(const nd_compare *a, const nd_compare *b, unsigned enabled, char *detail, size_t dn)
{
	if (detail && dn)
		detail[0] = '\0';
	if ((enabled & ND_GUARD_NUMBER) && strcmp(a->numbers, b->numbers) != 0) {
		if (detail)
			snprintf(detail, dn, "%s vs %s", *a->numbers ? a->numbers : "none",
				 *b->numbers ? b->numbers : "none");
		return ND_GUARD_NUMBER;
	}
	if ((enabled & ND_GUARD_NEGATION) && a->negations != b->negations) {
		if (detail)
			snprintf(detail, dn, "%u vs %u negations", a->negations, b->negations);
		return ND_GUARD_NEGATION;
	}
	if ((enabled & ND_GUARD_OPTIONS) && a->option_set && b->option_set && a->option_set != b->option_set) {
		if (detail)
			snprintf(detail, dn, "option sets differ");
		return ND_GUARD_OPTIONS;
	}
	if ((enabled & ND_GUARD_IMAGE) && a->image_key && b->image_key && strcmp(a->image_key, b->image_key)) {
		if (detail)
			snprintf(detail, dn, "%s vs %s", a->image_key, b->image_key);
		return ND_GUARD_IMAGE;
	}
	if ((enabled & ND_GUARD_SWAP) && (a->stem_len != b->stem_len || memcmp(a->stem, b->stem, a->stem_len))) {
		char tmp[160];
		if (swap_check(a->stem, a->stem_len, b->stem, b->stem_len, tmp, sizeof tmp)) {
			if (detail)
				snprintf(detail, dn, "%s", tmp);
			return ND_GUARD_SWAP;
		}
	}
	return 0;
}
