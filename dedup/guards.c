/* Guards: reasons two similar records are still different questions. Each guard
 * looks at the comparison data of both records (nd_compare) and, when it fires,
 * says why in a short detail for the report ("40 vs 50", "左 → 右"). */
#include <pthread.h>
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
 * Two copies of one question differ by edits of a kind: a word inserted or
 * dropped (应当→应, 周岁→岁, "驾驶机动车" added), punctuation, one word traded for a
 * synonym (不管→无论, 需→用, 如果→若). Two different questions that look alike
 * differ by one word traded for its opposite (左/右, 上坡/下坡, 白天/夜间,
 * 加速/减速, 开启/关闭). Synonyms and opposites cannot be told apart by their
 * shape, so the rule is: diff the normalised stems character by character; a hunk
 * that replaces text (deletes and inserts at one place) fires when the deleted
 * and the inserted side hold two different members of one contrast class below.
 * Pure insertions and deletions never fire. docs/accuracy.md measures the rule
 * against the first version, which fired on any replaced content character: that
 * one vetoed synonyms (需→用, 使用→开启) and cost recall on the real banks. */

/* Classes of words that contrast with each other in traffic rules. A class is a
 * '|'-separated list of slots, a slot a ','-separated list of synonyms; a hunk
 * fires when one side holds a word x and the other a word y of another slot of the
 * same class (neither inside the other): 不得 → 可以 fires, 不得 → 不能 does not. */
static const char *const CONTRAST[] = {
	"左|右", "上|下", "前|后", "先|后", "内|外", "进|出", "里|外", "东|西|南|北",
	"加|减", "增|减|降|升", "高|低", "大|小", "快|慢", "多|少", "长|短", "远|近", "宽|窄",
	"轻|重", "早|晚", "新|旧", "正|反|负", "主|辅", "开|关|停", "启|闭", "亮|灭", "明|暗",
	"白天|夜间|夜晚|晚上|傍晚|黎明", "晴|阴|雨|雪|雾|冰", "红|绿|黄|蓝|白|黑",
	"直行|转弯|左转|右转|掉头|倒车", "可以,允许,准许|不得,不能,不可以,严禁,禁止|必须,应当,应该",
	"以上|以下|以内|以外", "超过|低于|不足|达到", "最高|最低", "城市|乡村|农村|郊区", "干燥|湿滑|潮湿",
	"上坡|下坡", "加速|减速", "开启|关闭", "远光|近光", "单|双", "同|反",
	/* vehicles: kind, size and weight class, and gear positions (case-folded) */
	"客|货", "轻|中|重", "大|中|小|微", "汽车|摩托车|拖拉机|电动车|自行车|三轮", "p|n|d|r",
	/* licence classes (准驾车型; case-folded, matched as whole tokens) and documents */
	"a1|a2|a3|b1|b2|c1|c2|c3|c4|c5|c6|d|e|f|m|n|p|a|b|c", "驾驶证|行驶证|身份证|登记证书|号牌",
	/* places and road conditions */
	"高速|山区|城市|乡村|农村|沿河|环山|隧道|桥|窄|急弯|弯道|漫水|泥泞|铁路|路口|坡|匝道|辅路|积水|冰雪|结冰|普通",
	"出租|载货|载客|校车|挂车|摩托|机动|客车|货车|轿车|公交|救护|消防|工程",
	/* dangerous goods */
	"苯|甲醇|乙醇|氯气|氯|硫酸|盐酸|液氨|天然气|液化石油|柴油|汽油|过氧化氢|炸药|烟花",
	/* the people of case questions (王某 vs 李某: another case) */
	"王某|李某|张某|刘某|陈某|杨某|黄某|赵某|吴某|周某|徐某|孙某|马某|朱某|胡某|郭某|何某|高某|林某|罗某|郑某|梁某|谢某|宋某|唐某|许某|韩某|冯某|邓某|曹某|彭某|曾某|肖某|田某|董某|袁某|潘某|于某|蒋某|蔡某|余某|杜某|叶某|程某|苏某|魏某|吕某|丁某|任某|沈某|姚某|卢某|姜某|崔某|钟某|谭某|陆某|汪某|范某|金某|石某|廖某|贾某|夏某|韦某|付某|方某|白某|邹某|孟某|熊某|秦某|邱某|江某|尹某|薛某|闫某|段某|雷某|侯某|龙某|史某|陶某|黎某|贺某|顾某|毛某|郝某|龚某|邵某|万某|钱某|严某|覃某|武某|戴某|莫某|孔某|向某|汤某",
	NULL};

/* 1 when the UTF-8 text [s, s+n) contains the word w. */
static int is_alnum_ascii(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* 1 when the UTF-8 text [s, s+n) contains the word w. A Latin word ("c1", "d")
 * must stand as a whole token, so "d" is not found inside "road". */
static int contains(const char *s, size_t n, const char *w, size_t wl)
{
	int latin = wl && is_alnum_ascii(w[0]);
	for (size_t i = 0; i + wl <= n; i++)
		if (memcmp(s + i, w, wl) == 0 &&
		    (!latin || ((i == 0 || !is_alnum_ascii(s[i - 1])) && (i + wl == n || !is_alnum_ascii(s[i + wl])))))
			return 1;
	return 0;
}

/* Words that narrow what a question is about (the kind of vehicle it covers): a
 * copy never adds or drops one, two different questions often do (客车 vs 大型客车).
 * Inserted or dropped alone, they fire the swap guard too. */
static const char *const QUALIFIERS[] = {"载客", "载货", "大型", "中型", "小型", "重型", "轻型", "微型", "低速",
					 "旅游", "长途", "校车", "危险", "营运", "专用", "特种", "半挂", "牵引",
					 "三轮", "摩托", NULL};


/* Looks for x on one side and y != x of the same class on the other. */
/* The class words, compiled once into a table bucketed by their first character,
 * so a hunk is matched in time proportional to its length (the decide stage looks
 * at millions of pairs). */
#define CW_MAX 512
#define CW_BUCKETS 256
#define CW_QUALIFIER 0xFFFF /* class number of the qualifiers */
typedef struct {
	const char *w;
	unsigned char len, slot, latin;
	unsigned short cls;
	short next; /* next word in the same bucket, -1 = none */
} cword;
static cword cwords[CW_MAX];
static short cw_head[CW_BUCKETS];
static pthread_once_t cw_once = PTHREAD_ONCE_INIT;

static unsigned cw_hash(const unsigned char *s, size_t avail)
{
	if (s[0] < 0x80 || avail < 3)
		return s[0];
	return (s[0] * 31u + s[1] * 7u + s[2]) & (CW_BUCKETS - 1);
}

static void cw_add(const char *w, size_t len, unsigned cls, unsigned slot, int *n)
{
	if (*n >= CW_MAX || len == 0 || len > 255)
		return;
	cword *c = &cwords[*n];
	c->w = w;
	c->len = (unsigned char)len;
	c->cls = (unsigned short)cls;
	c->slot = (unsigned char)slot;
	c->latin = is_alnum_ascii(w[0]);
	unsigned h = cw_hash((const unsigned char *)w, len);
	c->next = cw_head[h];
	cw_head[h] = (short)*n;
	(*n)++;
}

static void cw_build(void)
{
	int n = 0;
	for (int b = 0; b < CW_BUCKETS; b++)
		cw_head[b] = -1;
	for (unsigned c = 0; CONTRAST[c]; c++) {
		const char *x = CONTRAST[c];
		unsigned slot = 0;
		while (*x) {
			size_t xl = strcspn(x, "|,");
			cw_add(x, xl, c, slot, &n);
			slot += x[xl] == '|';
			x += xl + (x[xl] != '\0');
		}
	}
	for (int q = 0; QUALIFIERS[q]; q++)
		cw_add(QUALIFIERS[q], strlen(QUALIFIERS[q]), CW_QUALIFIER, 0, &n);
}

/* The class words found in [s, s+n), as indices into cwords (at most cap). */
static size_t cw_find(const char *s, size_t n, int latin, short *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if ((u[i] & 0xC0) == 0x80)
			continue; /* inside a character */
		for (short e = cw_head[cw_hash(u + i, n - i)]; e >= 0; e = cwords[e].next) {
			const cword *c = &cwords[e];
			if (c->len > n - i || memcmp(s + i, c->w, c->len) != 0)
				continue;
			if (c->latin && (!latin || (i > 0 && is_alnum_ascii(s[i - 1])) ||
					 (i + c->len < n && is_alnum_ascii(s[i + c->len]))))
				continue;
			size_t d;
			for (d = 0; d < k && out[d] != e; d++)
				;
			if (d == k && k < cap)
				out[k++] = e;
		}
	}
	return k;
}

/* Looks for x on one side and y of another slot of x's class on the other. */
static int contrast_in(const char *del, size_t dl, const char *ins, size_t il, int latin, char *detail,
		       size_t dn)
{
	short xs[32], ys[32];
	pthread_once(&cw_once, cw_build);
	size_t nx = cw_find(del, dl, latin, xs, 32), ny = nx ? cw_find(ins, il, latin, ys, 32) : 0;
	for (size_t p = 0; p < nx; p++) {
		const cword *x = &cwords[xs[p]];
		if (x->cls == CW_QUALIFIER || contains(ins, il, x->w, x->len))
			continue;
		for (size_t q = 0; q < ny; q++) {
			const cword *y = &cwords[ys[q]];
			if (y->cls != x->cls || y->slot == x->slot || contains(del, dl, y->w, y->len) ||
			    contains(x->w, x->len, y->w, y->len) || contains(y->w, y->len, x->w, x->len))
				continue;
			if (detail)
				snprintf(detail, dn, "%.*s → %.*s", (int)x->len, x->w, (int)y->len, y->w);
			return 1;
		}
	}
	return 0;
}

static int qualifier_in(const char *s, size_t n, const char **which, size_t *wl)
{
	short found[32];
	pthread_once(&cw_once, cw_build);
	size_t k = cw_find(s, n, 0, found, 32);
	for (size_t i = 0; i < k; i++)
		if (cwords[found[i]].cls == CW_QUALIFIER) {
			*which = cwords[found[i]].w;
			*wl = cwords[found[i]].len;
			return 1;
		}
	return 0;
}

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

/* 1 when the hunks [a, a+n) and [b, b+m) each hold at least two CJK characters
 * and share none: a rewording by other words, not a word inserted or dropped */
static int disjoint_words(const uint32_t *a, int n, const uint32_t *b, int m)
{
	int ca = 0, cb = 0;
	for (int i = 0; i < n; i++)
		ca += a[i] >= 0x3400;
	for (int j = 0; j < m; j++)
		cb += b[j] >= 0x3400;
	if (ca < 2 || cb < 2)
		return 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < m; j++)
			if (a[i] >= 0x3400 && a[i] == b[j])
				return 0;
	return 1;
}

static int has_char(const uint32_t *a, int n, uint32_t c)
{
	for (int i = 0; i < n; i++)
		if (a[i] == c)
			return 1;
	return 0;
}

/* Distinct CJK characters one stem holds that the other lacks, from which one
 * side counts as holding a clause the other does not have ("同时被处以暂扣机动车驾驶证的
 * …在暂扣期限届满后" against the same rule without that condition): a rewording
 * that shortens drops a word or two, not this many. */
#define CLAUSE_CHARS 6

/* 1 when each stem holds at least two CJK characters (distinct) the other lacks,
 * or one holds CLAUSE_CHARS of them */
static int exclusive_chars(const uint32_t *a, int n, const uint32_t *b, int m, char *detail, size_t dn)
{
	uint32_t xa[CLAUSE_CHARS], xb[CLAUSE_CHARS];
	int ka = 0, kb = 0;
	for (int i = 0; i < n && ka < CLAUSE_CHARS; i++)
		if (a[i] >= 0x3400 && !has_char(b, m, a[i]) && !has_char(xa, ka, a[i]))
			xa[ka++] = a[i];
	for (int j = 0; j < m && kb < CLAUSE_CHARS; j++)
		if (b[j] >= 0x3400 && !has_char(a, n, b[j]) && !has_char(xb, kb, b[j]))
			xb[kb++] = b[j];
	if (ka == CLAUSE_CHARS || kb == CLAUSE_CHARS) {
		if (detail) {
			char t[64];
			size_t l = 0;
			const uint32_t *x = ka == CLAUSE_CHARS ? xa : xb;
			for (int k = 0; k < CLAUSE_CHARS; k++)
				l += encode(x[k], t + l);
			snprintf(detail, dn, "%s%.*s… (a clause on one side only)", ka == CLAUSE_CHARS ? "-" : "+",
				 (int)l, t);
		}
		return 1;
	}
	if (ka < 2 || kb < 2)
		return 0;
	if (detail) {
		char t[32];
		size_t l = 0;
		l += encode(xa[0], t + l);
		l += encode(xa[1], t + l);
		t[l++] = '/';
		l += encode(xb[0], t + l);
		l += encode(xb[1], t + l);
		snprintf(detail, dn, "%.*s (reworded)", (int)l, t);
	}
	return 1;
}

/* The first Latin word (ASCII letters, 2 or more; the stems are normalised, so
 * lower case) of [s, s+n) that [t, t+m) does not hold as a word; its length, 0
 * when there is none. */
static size_t exclusive_word(const char *s, size_t n, const char *t, size_t m, const char **w)
{
	for (size_t i = 0; i < n;) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && is_alnum_ascii(s[j]))
			j++;
		int letters = 1;
		for (size_t k = i; k < j; k++)
			letters &= !(s[k] >= '0' && s[k] <= '9');
		if (j - i >= 2 && letters && !(i > 0 && is_alnum_ascii(s[i - 1])) && !contains(t, m, s + i, j - i)) {
			*w = s + i;
			return j - i;
		}
		i = j;
	}
	return 0;
}

/* 1 when each stem holds a Latin word the other lacks: the Latin counterpart of
 * exclusive_chars (a word, not two characters, is what a swapped slot changes:
 * "into french" / "into german") */
static int exclusive_words(const char *a, size_t la, const char *b, size_t lb, char *detail, size_t dn)
{
	const char *wa, *wb;
	size_t na = exclusive_word(a, la, b, lb, &wa), nb = na ? exclusive_word(b, lb, a, la, &wb) : 0;
	if (!na || !nb)
		return 0;
	if (detail)
		snprintf(detail, dn, "%.*s/%.*s (reworded)", (int)(na < 40 ? na : 40), wa, (int)(nb < 40 ? nb : 40), wb);
	return 1;
}

/* strict (pairs only the semantic pass found, which are never one edit apart):
 * also fires when each stem holds two characters the other lacks, or on a
 * replacement hunk of disjoint words (docs/accuracy.md measures both) */
static int swap_check(const char *sa, size_t la, const char *sb, size_t lb, int strict, char *detail, size_t dn)
{
	uint32_t a[SWAP_MAX_CHARS], b[SWAP_MAX_CHARS];
	unsigned char ops[2 * SWAP_MAX_CHARS + 2];
	int n = decode(sa, la, a, SWAP_MAX_CHARS), m = decode(sb, lb, b, SWAP_MAX_CHARS), no = 0;
	if (strict && n > 0 && m > 0 && exclusive_chars(a, n, b, m, detail, dn))
		return 1;
	if (strict && exclusive_words(sa, la, sb, lb, detail, dn))
		return 1;
	if (n < 0 || m < 0 || myers(a, n, b, m, ops, &no) < 0)
		return 0;
	/* walk forward (ops are reversed) and look at each hunk */
	int i = 0, j = 0, p = no - 1;
	while (p >= 0) {
		if (ops[p] == OP_EQ) {
			i++, j++, p--;
			continue;
		}
		int di = i, dj = j;
		while (p >= 0 && ops[p] != OP_EQ) {
			if (ops[p] == OP_DEL)
				i++;
			else
				j++;
			p--;
		}
		if (i - di == 1 && j - dj == 1 && i < n && j < m && a[i] == 0x67D0 && b[j] == 0x67D0 &&
		    a[di] >= 0x3400 && b[dj] >= 0x3400) {
			/* one surname traded before 某 (萧某 / 罗某): the people of another case, whatever
			 * the surname (the class below lists only the common ones) */
			if (detail) {
				char l[8], r[8];
				size_t ll = encode(a[di], l), rl = encode(b[dj], r);
				snprintf(detail, dn, "%.*s某 → %.*s某", (int)ll, l, (int)rl, r);
			}
			return 1;
		}
		if (i > di && j > dj) {
			/* the hunk's text on both sides; then widened by one character of context
			 * so a class word cut by the diff (上坡/下坡 differ in 上/下) is seen whole,
			 * and to whole Latin tokens (c1/b2) */
			for (int widen = 0; widen <= 2; widen++) {
				char left[128], right[128];
				size_t l = 0, r = 0;
				int fa = di, ta = i, fb = dj, tb = j;
				if (widen) {
					fa -= fa > 0, fb -= fb > 0, ta += ta < n, tb += tb < m;
					if (widen == 2) { /* a second character: 驾驶证 vs 行驶证 */
						fa -= fa > 0, fb -= fb > 0, ta += ta < n, tb += tb < m;
					}
					while (fa > 0 && a[fa - 1] < 0x80 && is_alnum_ascii((char)a[fa - 1]))
						fa--;
					while (ta < n && a[ta] < 0x80 && is_alnum_ascii((char)a[ta]))
						ta++;
					while (fb > 0 && b[fb - 1] < 0x80 && is_alnum_ascii((char)b[fb - 1]))
						fb--;
					while (tb < m && b[tb] < 0x80 && is_alnum_ascii((char)b[tb]))
						tb++;
				}
				for (int q = fa; q < ta && l + 4 < sizeof left; q++)
					l += encode(a[q], left + l);
				for (int q = fb; q < tb && r + 4 < sizeof right; q++)
					r += encode(b[q], right + r);
				/* Latin words only once the hunk covers whole tokens */
				if (contrast_in(left, l, right, r, widen > 0, detail, dn))
					return 1;
			}
			if (strict && disjoint_words(a + di, i - di, b + dj, j - dj)) {
				if (detail) {
					char left[128], right[128];
					size_t l = 0, r = 0;
					for (int q = di; q < i && l + 4 < sizeof left; q++)
						l += encode(a[q], left + l);
					for (int q = dj; q < j && r + 4 < sizeof right; q++)
						r += encode(b[q], right + r);
					snprintf(detail, dn, "%.*s → %.*s (reworded)", (int)l, left, (int)r, right);
				}
				return 1;
			}
		} else {
			/* a pure insertion or deletion: only a qualifier fires */
			char text[128];
			size_t l = 0;
			const char *which;
			size_t wl;
			const uint32_t *src = i > di ? a : b;
			int from = i > di ? di : dj, to = i > di ? i : j;
			for (int q = from; q < to && l + 4 < sizeof text; q++)
				l += encode(src[q], text + l);
			if (qualifier_in(text, l, &which, &wl)) {
				if (detail)
					snprintf(detail, dn, "%s%.*s", i > di ? "-" : "+", (int)wl, which);
				return 1;
			}
		}
	}
	return 0;
}

/* "40 vs 50": the numbers only one side has (both lists are sorted, ','-joined).
 * Written with memcpy: a million vetoed pairs get one each. */
static void number_detail(const char *a, const char *b, char *out, size_t dn)
{
	char left[128], right[128];
	size_t ll = 0, rl = 0;
	const char *p = a, *q = b;
	while (*p || *q) {
		const char *pe = p + strcspn(p, ","), *qe = q + strcspn(q, ",");
		size_t pl = (size_t)(pe - p), ql = (size_t)(qe - q);
		int c = !*p ? 1 : !*q ? -1 : strncmp(p, q, pl < ql ? pl : ql);
		if (c == 0 && *p && *q)
			c = pl < ql ? -1 : pl > ql;
		if (c == 0) {
			p = *pe ? pe + 1 : pe;
			q = *qe ? qe + 1 : qe;
			continue;
		}
		char *dst = c < 0 ? left : right;
		size_t *used = c < 0 ? &ll : &rl;
		const char *s = c < 0 ? p : q;
		size_t l = c < 0 ? pl : ql;
		if (*used + l + 2 < sizeof left) {
			if (*used)
				dst[(*used)++] = ',';
			memcpy(dst + *used, s, l);
			*used += l;
		}
		if (c < 0)
			p = *pe ? pe + 1 : pe;
		else
			q = *qe ? qe + 1 : qe;
	}
	/* "%s vs %s", "none" for an empty side, cut to dn - 1 bytes */
	size_t o = 0;
	const char *parts[3] = {ll ? left : "none", " vs ", rl ? right : "none"};
	size_t lens[3] = {ll ? ll : 4, 4, rl ? rl : 4};
	for (int k = 0; k < 3 && dn; k++) {
		size_t take = lens[k] < dn - 1 - o ? lens[k] : dn - 1 - o;
		memcpy(out + o, parts[k], take);
		o += take;
	}
	if (dn)
		out[o] = '\0';
}

/* Two feature strings are equal: their hashes first (0 = empty), the strings only
 * to confirm equal non-zero hashes. */
static int same_feature(uint64_t ha, const char *a, uint64_t hb, const char *b)
{
	return ha == hb && (!ha || strcmp(a, b) == 0);
}

int nd_answers_differ(const nd_compare *a, const nd_compare *b)
{
	return a->answer_hash && b->answer_hash && !same_feature(a->answer_hash, a->answer, b->answer_hash, b->answer);
}

unsigned nd_guard_check(const nd_compare *a, const nd_compare *b, unsigned enabled, char *detail, size_t dn)
{
	if (detail && dn)
		detail[0] = '\0';
	if ((enabled & ND_GUARD_NUMBER) && !same_feature(a->numbers_hash, a->numbers, b->numbers_hash, b->numbers)) {
		if (detail)
			number_detail(a->numbers, b->numbers, detail, dn);
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
	if ((enabled & ND_GUARD_IMAGE) && a->image_hash && b->image_hash &&
	    !same_feature(a->image_hash, a->image_key, b->image_hash, b->image_key)) {
		if (detail)
			snprintf(detail, dn, "%s vs %s", a->image_key, b->image_key);
		return ND_GUARD_IMAGE;
	}
	if ((enabled & ND_GUARD_SWAP) && (a->stem_len != b->stem_len || memcmp(a->stem, b->stem, a->stem_len))) {
		char tmp[160];
		tmp[0] = '\0';
		if (swap_check(a->stem, a->stem_len, b->stem, b->stem_len, 0, tmp, sizeof tmp)) {
			if (detail)
				snprintf(detail, dn, "%s", tmp);
			return ND_GUARD_SWAP;
		}
	}
	return 0;
}

unsigned nd_guard_check_strict(const nd_compare *a, const nd_compare *b, unsigned enabled, char *detail, size_t dn)
{
	unsigned g = nd_guard_check(a, b, enabled, detail, dn);
	if (g)
		return g;
	/* one side without an image: a lexical copy often lost its picture, but a
	 * semantic pair of identical-looking text with and without a picture is a
	 * picture question and a text question */
	if ((enabled & ND_GUARD_IMAGE) && !a->image_hash != !b->image_hash) {
		if (detail)
			snprintf(detail, dn, "%s vs %s", a->image_hash ? a->image_key : "no image",
				 b->image_hash ? b->image_key : "no image");
		return ND_GUARD_IMAGE;
	}
	if ((enabled & ND_GUARD_SWAP) && (a->stem_len != b->stem_len || memcmp(a->stem, b->stem, a->stem_len))) {
		char tmp[160];
		tmp[0] = '\0';
		if (swap_check(a->stem, a->stem_len, b->stem, b->stem_len, 1, tmp, sizeof tmp)) {
			if (detail)
				snprintf(detail, dn, "%s", tmp);
			return ND_GUARD_SWAP;
		}
	}
	return 0;
}
