/* Normalisation (core/normalize.c): UTF-8 validation, each pipeline stage, guard
 * features, the fold fast path against ICU, and idempotence on random text. */
#include <stdlib.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include "harness.h"
#include "internal.h"
#include "neardup/normalize.h"

/* A normalizer with the given stages on (1) or off (0). */
static nd_normalizer *mk6(int fold, int html, int numbering, int punct, int t2s, int canon)
{
	nd_norm_opts o = ND_NORM_OPTS_INIT;
	nd_normalizer *z = NULL;
	o.fold = fold;
	o.strip_html = html;
	o.strip_numbering = numbering;
	o.strip_punct = punct;
	o.t2s = t2s;
	o.canon_numbers = canon;
	if (nd_normalizer_create(&z, &o) != 0)
		nd_test_fail(__FILE__, __LINE__, "nd_normalizer_create: %s", nd_error_last());
	return z;
}

/* The stages without canon_numbers: these tests pin the output as it was before
 * that option existed (canon_numbers = 0 leaves it unchanged). */
static nd_normalizer *mk(int fold, int html, int numbering, int punct, int t2s)
{
	return mk6(fold, html, numbering, punct, t2s, 0);
}

/* The defaults: every stage but t2s, numbers written canonically. */
static nd_normalizer *mk_canon(void) { return mk6(1, 1, 1, 1, 0, 1); }

static void norm_is(nd_normalizer *z, const char *in, const char *want, int line)
{
	const char *out = NULL;
	size_t len = 0;
	int rc;
	if (!z)
		return;
	rc = nd_normalize_text(z, in, strlen(in), &out, &len, NULL);
	if (rc != 0)
		nd_test_fail(__FILE__, line, "normalize(\"%s\") returned %d: %s", in, rc, nd_error_last());
	else if (strcmp(out, want) != 0 || len != strlen(want))
		nd_test_fail(__FILE__, line, "normalize(\"%s\") == \"%s\" (%zu bytes), expected \"%s\"", in,
			     out, len, want);
}
#define NORM_IS(z, in, want) norm_is((z), (in), (want), __LINE__)

#define ANY_NEG (~0u) /* feat_is: do not check the negation count */

static void feat_is(nd_normalizer *z, const char *in, const char *nums, unsigned neg, int line)
{
	const char *out = NULL;
	size_t len = 0;
	nd_text_features f;
	int rc;
	if (!z)
		return;
	memset(&f, 0xAB, sizeof f);
	rc = nd_normalize_text(z, in, strlen(in), &out, &len, &f);
	if (rc != 0) {
		nd_test_fail(__FILE__, line, "normalize(\"%s\") returned %d: %s", in, rc, nd_error_last());
		return;
	}
	if (strcmp(f.numbers, nums) != 0 || f.numbers_len != strlen(nums))
		nd_test_fail(__FILE__, line, "numbers(\"%s\") == \"%s\", expected \"%s\"", in, f.numbers,
			     nums);
	if (neg != ANY_NEG && f.negations != neg)
		nd_test_fail(__FILE__, line, "negations(\"%s\") == %u, expected %u", in, f.negations, neg);
}
#define FEAT_IS(z, in, nums, neg) feat_is((z), (in), (nums), (neg), __LINE__)

static void utf8_bad_at(const char *s, size_t len, size_t want, int line)
{
	size_t off = (size_t)-1;
	int rc = nd_utf8_validate(s, len, &off);
	if (rc != ND_EUTF8)
		nd_test_fail(__FILE__, line, "nd_utf8_validate returned %d, expected ND_EUTF8", rc);
	else if (off != want)
		nd_test_fail(__FILE__, line, "bad offset %zu, expected %zu", off, want);
}
#define UTF8_BAD_AT(s, want) utf8_bad_at((s), sizeof(s) - 1, (want), __LINE__)

/* ---------------------------------------------------------------- UTF-8 */

TEST(utf8_validate_accepts_valid_text)
{
	static const char mixed[] = "abc 驾驶机动车 ĀĂ \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF end";
	char big[4096];
	size_t off = 7;
	CHECK_OK(nd_utf8_validate("", 0, NULL));
	CHECK_OK(nd_utf8_validate(NULL, 0, &off));
	CHECK_OK(nd_utf8_validate(mixed, sizeof mixed - 1, &off));
	CHECK_EQ_INT(off, 7); /* untouched on success */
	memset(big, 'x', sizeof big);
	CHECK_OK(nd_utf8_validate(big, sizeof big, NULL));
	/* the boundaries of each length */
	CHECK_OK(nd_utf8_validate("\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80", 14, NULL));
	CHECK_OK(nd_utf8_validate("\xF0\x90\x80\x80", 4, NULL));
}

/* An independent reference: the first offset at which s[0 .. n) stops being
 * valid UTF-8 without NUL (Unicode's Table 3-7 of well-formed byte sequences), or
 * n when it is valid. */
static size_t utf8_ref_bad(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned lo = 0x80, hi = 0xBF;
		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		else
			return i;
		if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return i;
		i += len;
	}
	return n;
}

/* nd_utf8_validate against the reference on random text of valid characters with
 * a few bad bytes anywhere (long texts go through the AVX2 blocks, where the CPU
 * has them, short ones through the walk alone): the same verdict and offset */
TEST(utf8_validate_matches_reference_on_random_text)
{
	static const char *const good[] = {"a", " ", "驾", "驶", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80",
					   "\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80",
					   "\xF4\x8F\xBF\xBF", "\xF3\xBF\xBF\xBF", "Ā", "😀", "\x7F"};
	/* single bad bytes, and whole sequences each wrong in one way only: surrogates,
	 * overlong forms, beyond U+10FFFF, cut short, a continuation too many */
	static const char *const bad[] = {"\x80", "\xBF", "\xC0", "\xC1", "\xC2", "\xE0", "\xED", "\xEF",
					  "\xF0", "\xF4", "\xF5", "\xF8", "\xFE", "\xFF", "\xA0", "\x90",
					  "\xED\xA0\x80", "\xED\xBF\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF",
					  "\xF0\x80\x80\x80", "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80",
					  "\xF4\xBF\xBF\xBF", "\xF5\x80\x80\x80", "\xF7\xBF\xBF\xBF", "\xC0\x80",
					  "\xC1\xBF", "\xF0\x9F\x98", "\xE9\xA9", "\xE9\xA9\xBE\xBE",
					  "\xF0\x9F\x98\x80\x80", "\xC2\x80\x80", ""};
	uint64_t x = nd_test_seed() ^ 0x9E3779B97F4A7C15ull;
	unsigned char buf[600];
	size_t checked_long = 0;
	for (int rep = 0; rep < 200000; rep++) {
		size_t n = 0, want = 1 + (size_t)(rep % 7 == 0 ? 40 : (x >> 7) % 500);
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		while (n < want && n + 4 < sizeof buf) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			unsigned r = (unsigned)(x >> 33);
			if (r % 1000 < (rep % 3 ? 3u : 30u)) { /* something bad (the last entry: a NUL) */
				size_t b = (r >> 10) % (sizeof bad / sizeof *bad), l = strlen(bad[b]);
				if (l)
					memcpy(buf + n, bad[b], l), n += l;
				else
					buf[n++] = 0;
			} else {
				const char *g = good[(r >> 10) % (sizeof good / sizeof *good)];
				size_t l = strlen(g);
				memcpy(buf + n, g, l);
				n += l;
			}
		}
		if (rep % 5 == 0 && n > 3) /* cut anywhere, inside a character too */
			n -= (size_t)(x >> 40) % 4;
		size_t want_bad = utf8_ref_bad(buf, n), off = SIZE_MAX;
		int rc = nd_utf8_validate((const char *)buf, n, &off);
		checked_long += n >= 64;
		if (want_bad == n)
			CHECK_MSG(rc == 0, "rep %d: %zu valid bytes refused at %zu", rep, n, off);
		else
			CHECK_MSG(rc == ND_EUTF8 && off == want_bad, "rep %d: bad at %zu, got rc %d offset %zu", rep,
				  want_bad, rc, off);
	}
	CHECK(checked_long > 100000);
}

TEST(utf8_validate_rejects_with_exact_offsets)
{
	char big[64];
	UTF8_BAD_AT("\x80", 0);                     /* stray continuation */
	UTF8_BAD_AT("ab\xC0\x80", 2);               /* overlong NUL */
	UTF8_BAD_AT("ab\xC1\xBF", 2);               /* overlong '\x7F' */
	UTF8_BAD_AT("\xE0\x9F\xBF", 0);             /* overlong 3-byte */
	UTF8_BAD_AT("x\xF0\x8F\xBF\xBF", 1);        /* overlong 4-byte */
	UTF8_BAD_AT("驾\xED\xA0\x80", 3);           /* high surrogate U+D800 */
	UTF8_BAD_AT("驾驶\xED\xBF\xBF", 6);         /* low surrogate U+DFFF */
	UTF8_BAD_AT("\xF4\x90\x80\x80", 0);         /* U+110000 */
	UTF8_BAD_AT("ok\xF5\x80\x80\x80", 2);       /* lead byte beyond U+10FFFF */
	UTF8_BAD_AT("ok\xFF", 2);
	UTF8_BAD_AT("驾驶\xE6\x9C", 6);             /* truncated at the end */
	UTF8_BAD_AT("驾驶\xE6\x9CX", 6);            /* truncated by ASCII */
	UTF8_BAD_AT("\xF0\x9F\x98", 0);             /* truncated 4-byte */
	UTF8_BAD_AT("abc\0def", 3);                 /* NUL */
	memset(big, 'a', sizeof big);
	big[41] = '\xFE'; /* past the 8-byte ASCII fast path */
	utf8_bad_at(big, sizeof big, 41, __LINE__);
	big[41] = 'a';
	big[63] = '\0';
	utf8_bad_at(big, sizeof big, 63, __LINE__);
	CHECK_EQ_INT(nd_utf8_validate("ab\0", 3, NULL), ND_EUTF8);
	CHECK_EQ_STR(nd_error_last(), "NUL byte at byte 2");
	CHECK_EQ_INT(nd_utf8_validate("ab\xC0\x80", 4, NULL), ND_EUTF8);
	CHECK_EQ_STR(nd_error_last(), "invalid UTF-8 at byte 2");
}

TEST(normalize_rejects_invalid_utf8_and_nul)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	const char *out = "x";
	size_t len = 9;
	nd_text_features f;
	CHECK_EQ_INT(nd_normalize_text(z, "驾驶\xE6\x9C", 8, &out, &len, &f), ND_EUTF8);
	CHECK_EQ_STR(nd_error_last(), "invalid UTF-8 at byte 6");
	CHECK(out == NULL);
	CHECK_EQ_INT(len, 0);
	CHECK_EQ_INT(nd_normalize_text(z, "12、abc\0def", 12, &out, &len, NULL), ND_EUTF8);
	CHECK_EQ_STR(nd_error_last(), "NUL byte at byte 8");
	CHECK_EQ_INT(nd_normalize_text(z, "aaaaaaaaaaaaaaaaaaaa\xC3", 21, &out, &len, NULL), ND_EUTF8);
	CHECK_EQ_STR(nd_error_last(), "invalid UTF-8 at byte 20");
	/* the normalizer still works afterwards */
	NORM_IS(z, "驾驶", "驾驶");
	nd_normalizer_free(z);
}

/* ---------------------------------------------------------------- API */

TEST(normalize_create_checks_arguments)
{
	nd_norm_opts o = ND_NORM_OPTS_INIT;
	nd_normalizer *z = (nd_normalizer *)&o;
	const char *out;
	size_t len;
	o.version = 99;
	CHECK_EQ_INT(nd_normalizer_create(&z, &o), ND_EINVAL);
	CHECK(z == NULL);
	CHECK_EQ_INT(nd_normalizer_create(NULL, NULL), ND_EINVAL);
	CHECK_OK(nd_normalizer_create(&z, NULL)); /* defaults */
	CHECK_EQ_INT(nd_normalize_text(NULL, "a", 1, &out, &len, NULL), ND_EINVAL);
	CHECK_EQ_INT(nd_normalize_text(z, NULL, 1, &out, &len, NULL), ND_EINVAL);
	CHECK_EQ_INT(nd_normalize_text(z, "a", 1, NULL, &len, NULL), ND_EINVAL);
	CHECK_OK(nd_normalize_text(z, NULL, 0, &out, &len, NULL));
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(len, 0);
	nd_normalizer_free(z);
	nd_normalizer_free(NULL);
}

TEST(normalize_spec_examples)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	NORM_IS(z, "12、驾驶机动车，应当随身携带哪种证件？", "驾驶机动车应当随身携带哪种证件");
	NORM_IS(z, "ＡＢＣ　Ｄｅｆ", "abc def");
	NORM_IS(z, "<p>在高速公路上&nbsp;行驶</p>", "在高速公路上行驶");
	NORM_IS(z, "", "");
	NORM_IS(z, "   \t\n ", "");
	NORM_IS(z, "，。！？、", "");
	nd_normalizer_free(z);
}

TEST(normalize_html_tags_and_entities)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	nd_normalizer *keep = mk(0, 1, 0, 0, 0); /* only HTML + spaces */
	NORM_IS(z, "<p>驾驶</p><br/><br />机动车", "驾驶机动车");
	NORM_IS(z, "<span style=\"color:#333\">在高速公路上</span>", "在高速公路上");
	NORM_IS(z, "<img src=\"a.jpg\" alt=\"x>y\">图", "图");
	NORM_IS(z, "<!-- 注释 <b> -->正文<!DOCTYPE html>", "正文");
	NORM_IS(z, "<script>var a = '<p>';</script>正文<style>p{}</style>", "正文");
	NORM_IS(z, "word<br>word", "word word");
	NORM_IS(z, "he<b>ll</b>o", "hello"); /* inline tags join */
	NORM_IS(z, "<DIV CLASS=x>Text</DIV>", "text");
	/* a '<' that opens no tag survives stripping */
	NORM_IS(keep, "速度<50", "速度<50");
	NORM_IS(keep, "a<b", "a<b");
	NORM_IS(keep, "x < y > z", "x<y>z"); /* kept symbols are never spaced */
	NORM_IS(keep, "<p class=\"unterminated", "<p class=\"unterminated");
	NORM_IS(keep, "速度<v且v>30", "速度<v且v>30"); /* "<v且" is not a tag name */
	NORM_IS(z, "速度<50", "速度<50");
	NORM_IS(z, "速度＜50", "速度<50");
	NORM_IS(z, "车速≤50", "车速≤50");
	/* entities */
	NORM_IS(keep, "&amp; &lt; &gt; &quot; &#39; &apos;", "&<>\" ' '");
	NORM_IS(keep, "&#x4e00;&#19968;&#X4E8C;", "一一二");
	NORM_IS(keep, "&ldquo;好&rdquo;&hellip;", "\xE2\x80\x9C好\xE2\x80\x9D\xE2\x80\xA6");
	NORM_IS(keep, "&nbsp行驶", "行驶"); /* legacy entity without ';' */
	NORM_IS(keep, "&#0;&#xD800;&#x110000;", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	NORM_IS(keep, "&unknown; & &#; &#xZ;", "&unknown; & &#; &#xZ;");
	NORM_IS(keep, "&lt;p&gt;", "<p>"); /* decoded once: not a tag on this pass */
	NORM_IS(keep, "&#x1F600;", "\xF0\x9F\x98\x80");
	NORM_IS(z, "&amp;amp;", "amp");
	NORM_IS(z, "&lt;b&gt;bold&lt;/b&gt;", "b>bold b>"); /* no '<' left that opens a tag */
	nd_normalizer_free(z);
	nd_normalizer_free(keep);
}

TEST(normalize_fold_width_and_case)
{
	nd_normalizer *z = mk(1, 0, 0, 1, 0);
	nd_normalizer *nofold = mk(0, 0, 0, 1, 0);
	NORM_IS(z, "ＡＢＣ　Ｄｅｆ", "abc def");
	NORM_IS(z, "１２３４５", "12345");
	NORM_IS(z, "HELLO World", "hello world");
	NORM_IS(z, "Straße", "strasse");                 /* ICU path: ß → ss */
	NORM_IS(z, "ｶﾀｶﾅ", "カタカナ");                     /* half-width katakana */
	NORM_IS(z, "e\xCC\x81", "\xC3\xA9");              /* e + U+0301 composes */
	NORM_IS(z, "\xE3\x8E\x9E", "km");                  /* ㎞ */
	NORM_IS(z, "a\xE2\x80\x8B" "b", "ab");              /* ZWSP disappears */
	NORM_IS(z, "驾驶\xEF\xBB\xBF机动车", "驾驶机动车"); /* BOM */
	NORM_IS(z, "ＡＢＣ，ｄｅｆ。", "abc def");
	NORM_IS(nofold, "ＡＢＣ　Ｄｅｆ", "ＡＢＣ Ｄｅｆ");
	NORM_IS(nofold, "HELLO", "HELLO");
	nd_normalizer_free(z);
	nd_normalizer_free(nofold);
}

TEST(normalize_t2s)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 1);
	nd_normalizer *off = mk(1, 1, 1, 1, 0);
	NORM_IS(z, "駕駛機動車", "驾驶机动车");
	NORM_IS(z, "12、駕駛機動車，應當隨身攜帶駕駛證？", "驾驶机动车应当随身携带驾驶证");
	NORM_IS(z, "驾驶机动车", "驾驶机动车");
	NORM_IS(z, "ABC 駕駛", "abc驾驶");
	NORM_IS(off, "駕駛機動車", "駕駛機動車");
	FEAT_IS(z, "嚴禁酒後駕駛，五十米內", "50", 1);
	nd_normalizer_free(z);
	nd_normalizer_free(off);
}

TEST(normalize_strips_numbering_prefixes)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	nd_normalizer *raw = mk(0, 0, 1, 0, 0); /* numbering only */
	static const char *const cases[][2] = {
		{"12、驾驶", "驾驶"},           {"12.驾驶", "驾驶"},
		{"12．驾驶", "驾驶"},           {"(12)驾驶", "驾驶"},
		{"（12）驾驶", "驾驶"},         {"12)驾驶", "驾驶"},
		{"12）驾驶", "驾驶"},           {"12:驾驶", "驾驶"},
		{"12：驾驶", "驾驶"},           {"第12题 驾驶", "驾驶"},
		{"第十二题驾驶", "驾驶"},       {"第十二题：驾驶", "驾驶"},
		{"【单选题】驾驶", "驾驶"},     {"[多选题]驾驶", "驾驶"},
		{"(多选)驾驶", "驾驶"},         {"（判断题）驾驶", "驾驶"},
		{"单选题：驾驶", "驾驶"},       {"判断题:驾驶", "驾驶"},
		{"【单选题】12、驾驶", "驾驶"}, {"12、【单选题】驾驶", "驾驶"},
		{"  3. 驾驶", "驾驶"},          {"（一）驾驶", "驾驶"},
		{"[ 3 ]驾驶", "驾驶"},          {"【判断】驾驶", "驾驶"},
		{"1.2.驾驶", "驾驶"},           {"，12、驾驶", "驾驶"},
		{"A、减速慢行", "减速慢行"},    {"B.减速慢行", "减速慢行"},
		{"C．减速慢行", "减速慢行"},    {"D：减速慢行", "减速慢行"},
		{"(A)减速慢行", "减速慢行"},    {"A 减速慢行", "减速慢行"},
		{"Ａ、５０公里", "50公里"},     {"a.50公里", "50公里"},
		{"\\n12、驾驶", "驾驶"},        {"12、", ""},
		/* numbers that are content stay */
		{"50米以内不得停车", "50米以内不得停车"},
		{"3年内不得申请", "3年内不得申请"},
		{"1.5米以上", "1.5米以上"},
		{"10:30出发", "10 30出发"},
		{"2023年", "2023年"},
		{"12345、驾驶", "12345驾驶"},
		{"第一次驾驶", "第一次驾驶"},
		{"第12条规定", "第12条规定"},
		{"(50米)以内", "50米以内"},
		{"一、二级公路", "一二级公路"},
		{"A1驾驶证", "a1驾驶证"},
		{"a car", "a car"},
		{"e.g. this", "e g this"},
		{"单选题目很多", "单选题目很多"},
		{"判断正确", "判断正确"},
		/* a type word of every first character the prefix check knows */
		{"不定项选择题：驾驶", "驾驶"}, {"多项选择题:驾驶", "驾驶"},
		{"單項選擇題：驾驶", "驾驶"},   {"選擇題：驾驶", "驾驶"},
		{"选择：驾驶", "驾驶"},         {"填空题：驾驶", "驾驶"},
		{"问答题:驾驶", "驾驶"},        {"简答题：驾驶", "驾驶"},
		{"【填空】驾驶", "驾驶"},       {"[判斷]驾驶", "驾驶"},
	};
	size_t k;
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++)
		norm_is(z, cases[k][0], cases[k][1], __LINE__);
	/* without punctuation stripping the prefix goes and the rest stays as is */
	NORM_IS(raw, "12、驾驶，机动车", "驾驶，机动车");
	NORM_IS(raw, "【单选题】：驾驶", "驾驶");
	NORM_IS(raw, "，12、驾驶", "，12、驾驶"); /* leading punctuation is content here */
	NORM_IS(raw, "1.5米", "1.5米");
	nd_normalizer_free(z);
	nd_normalizer_free(raw);
	z = mk(1, 1, 0, 1, 0);
	NORM_IS(z, "12、驾驶", "12驾驶");
	NORM_IS(z, "【单选题】驾驶", "单选题驾驶");
	nd_normalizer_free(z);
}

TEST(normalize_punctuation_and_spaces)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	nd_normalizer *keep = mk(1, 0, 0, 0, 0);
	static const char *const cases[][2] = {
		{"驾驶机动车，应当减速。", "驾驶机动车应当减速"},
		{"hello, world!", "hello world"},
		{"hello,world", "hello world"},
		{"1,000元", "1000元"},
		{"1,000,000", "1000000"},
		{"1,00", "1 00"},
		{"1,0000", "1 0000"},
		{"0.5米", "0.5米"},
		{"0．5米", "0.5米"},
		{"1.2.3", "1.2.3"},
		{"结束.", "结束"},
		{"5. 驾驶", "驾驶"},
		{"30%", "30%"},
		{"３０％的", "30%的"},
		{"30 %", "30%"},
		{"5‰", "5‰"},
		{"don't stop", "dont stop"},
		{"can’t", "cant"},
		{"'quoted'", "quoted"},
		{"2-3年", "2 3年"},
		{"a - b", "a b"},
		{"30公里/小时", "30公里小时"},
		{"km/h", "km h"},
		{"驾驶 机动车", "驾驶机动车"},
		{"abc 驾驶 def", "abc驾驶def"},
		{"  a   b  ", "a b"},
		{"a\tb\r\nc", "a b c"},
		{"减速慢行 \\n\\n", "减速慢行"},
		{"line\\nnext", "line next"},
		{"好😀好", "好好"},
		{"价格$100", "价格100"},
		{"温度30℃", "温度30 c"},
		{"《道路交通安全法》第九十条", "道路交通安全法第九十条"},
		{"“正确”", "正确"},
		{"ABS　系统", "abs系统"},
		{"ＡＢＳ 和 ＥＳＰ", "abs和esp"},
		{"x<y", "x y"},
		{"速度 < 50", "速度<50"},
		{"速度>50", "速度>50"},
	};
	size_t k;
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++)
		norm_is(z, cases[k][0], cases[k][1], __LINE__);
	NORM_IS(keep, "驾驶，机动车。", "驾驶,机动车。");
	NORM_IS(keep, "  a ,  b  ", "a , b");
	NORM_IS(keep, "驾驶 ， 机动车", "驾驶,机动车"); /* ',' is spaced like a word */
	NORM_IS(keep, "a ， b", "a , b");
	nd_normalizer_free(z);
	nd_normalizer_free(keep);
}

TEST(normalize_one_megabyte_text)
{
	static const char piece[] = "12、驾驶机动车，在五十米以内不得停车。";
	static const char want[] = "12驾驶机动车在五十米以内不得停车";
	size_t plen = sizeof piece - 1, wlen = sizeof want - 1, reps = (1u << 20) / plen + 1, k;
	char *in = malloc(reps * plen);
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	const char *out = NULL;
	size_t len = 0;
	nd_text_features f;
	if (!in || !z) {
		CHECK(0);
		free(in);
		nd_normalizer_free(z);
		return;
	}
	for (k = 0; k < reps; k++)
		memcpy(in + k * plen, piece, plen);
	CHECK(reps * plen >= (1u << 20));
	CHECK_OK(nd_normalize_text(z, in, reps * plen, &out, &len, &f));
	/* the first "12、" is numbering; the others are content */
	CHECK_EQ_INT(len, reps * wlen - 2);
	if (len == reps * wlen - 2) {
		CHECK(memcmp(out, want + 2, wlen - 2) == 0);
		for (k = 1; k < reps; k++)
			if (memcmp(out + k * wlen - 2, want, wlen) != 0)
				break;
		CHECK_EQ_INT(k, reps);
		CHECK_EQ_INT(out[len], '\0');
	}
	CHECK_EQ_STR(f.numbers, "12,50");
	CHECK_EQ_INT(f.negations, reps);
	free(in);
	nd_normalizer_free(z);
}

TEST(normalize_limits_input_size)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	const char *out = "x";
	size_t len = 1;
	/* refused before a byte is read */
	CHECK_EQ_INT(nd_normalize_text(z, "abc", ((size_t)64 << 20) + 1, &out, &len, NULL), ND_ELIMIT);
	CHECK(out == NULL);
	nd_normalizer_free(z);
}

TEST(normalize_reuses_its_buffers)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	const char *o1, *o2;
	size_t l1, l2;
	nd_text_features f1, f2;
	static const char t1[] = "在五十米以内，车速不超过30公里", t2[] = "在二十米以内，车速不超过60公里";
	memset(&f1, 0, sizeof f1);
	memset(&f2, 0, sizeof f2);
	CHECK_OK(nd_normalize_text(z, t1, sizeof t1 - 1, &o1, &l1, &f1));
	CHECK_OK(nd_normalize_text(z, t2, sizeof t2 - 1, &o2, &l2, &f2));
	CHECK(o1 == o2); /* same storage, no reallocation for a same-size text */
	CHECK(f1.numbers == f2.numbers);
	CHECK_EQ_STR(o2, "在二十米以内车速不超过60公里");
	CHECK_EQ_STR(f2.numbers, "20,60");
	nd_normalizer_free(z);
	z = mk_canon(); /* the same with canon_numbers, and through its read-back path */
	CHECK_OK(nd_normalize_text(z, t1, sizeof t1 - 1, &o1, &l1, &f1));
	CHECK_OK(nd_normalize_text(z, t2, sizeof t2 - 1, &o2, &l2, &f2));
	CHECK(o1 == o2);
	CHECK(f1.numbers == f2.numbers);
	CHECK_EQ_STR(o2, "在20米以内车速不超过60公里");
	CHECK_OK(nd_normalize_text(z, "五十，万", strlen("五十，万"), &o2, &l2, &f2));
	CHECK(o1 == o2);
	CHECK(f1.numbers == f2.numbers);
	CHECK_EQ_STR(o2, "500000");
	nd_normalizer_free(z);
}

/* ---------------------------------------------------------------- features */

TEST(features_numbers)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	static const struct {
		const char *in, *nums;
	} cases[] = {
		{"在五十米以内，车速不超过30公里/小时", "30,50"},
		{"五十", "50"},
		{"十五", "15"},
		{"一百二十", "120"},
		{"两辆车", "2"},
		{"三千五百", "3500"},
		{"一万", "10000"},
		{"二十五万", "250000"},
		{"5万元", "50000"},
		{"1.5万", "15000"},
		{"5万3千", "53000"},
		{"百分之五十", "50%"},
		{"百分之三十与30%", "30%"},
		{"百分之零点五", "0.5%"},
		{"百分之百", "100%"},
		{"千分之五与5‰", "5‰"},
		{"超过规定时速５０％以上", "50%"},
		{"1,000元", "1000"},
		{"0.50米", "0.5"},
		{"007号", "7"},
		{"0号", "0"},
		{"3.0米", "3"},
		{"一百零五", "105"},
		{"一千零五十", "1050"},
		{"二〇二三年", "2023"},
		{"一百二", "120"},
		{"高速一百五，普通五十米", "150,50"},
		{"两万五", "25000"},
		{"三亿五千万", "350000000"},
		{"一万亿", "1000000000000"},
		{"三点五米", "3.5"},
		{"零点五", "0.5"},
		{"三分之一", "1/3"},
		{"1/3的路段", "1/3"},
		{"2023/05/01", "1,2023,5"},
		{"壹佰贰拾元", "120"},
		{"十一", "11"},
		{"一千万", "10000000"},
		{"第一", "1"},
		{"第二次", "2"},
		{"安全第一", "1"},
		{"第一时间", "1"},
		{"一次记12分", "1,12"},
		{"C1驾驶证", "1"},
		{"３０公里", "30"},
		{"限制高度为3.5米，限速40", "3.5,40"},
		{"期满前九十日内", "90"},
		{"10:30", "10,30"},
		{"No. 5", "5"},
		/* words that merely contain a numeral character */
		{"一定要一般情况下一律", ""},
		{"一旦发生一致一起一侧一边", ""},
		{"一切一些一直一样一下一并一同一时一方一概", ""},
		{"统一唯一同一逐一之一不一万一", ""},
		{"原因之一", ""},
		{"十分危险的十字路口", ""},
		{"千万不要", ""},
		{"二手车零件", ""},
		{"一氧化碳二氧化碳", ""},
		{"三角警告牌放在四周", ""},
		{"陆地、队伍、拾取", ""},
		{"伍拾元", "50"},
		{"慢一点", ""},
		{"一点五倍", "1.5"},
		{"老百姓万能", ""},
		{"另一侧每一辆", ""},
		{"再三确认", ""},
		{"只有一条机动车道", "1"},
		{"一方无驾驶证", ""},
		{"", ""},
	};
	nd_normalizer *canon = mk_canon();
	size_t k;
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		feat_is(z, cases[k].in, cases[k].nums, ANY_NEG, __LINE__);
		/* canon_numbers reads the same numbers, but for text whose output reads
		 * otherwise: 队伍拾取 holds 伍拾 once the 、 is gone, and says "50" */
		feat_is(canon, cases[k].in,
			strcmp(cases[k].in, "陆地、队伍、拾取") ? cases[k].nums : "50", ANY_NEG, __LINE__);
	}
	nd_normalizer_free(z);
	nd_normalizer_free(canon);
}

TEST(features_negations)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	static const struct {
		const char *in;
		unsigned neg;
	} cases[] = {
		{"应当", 0},
		{"不应当", 1},
		{"不得", 1},
		{"严禁酒后驾驶，不得超速", 2},
		{"禁止停车", 1},
		{"不可以", 1},
		{"不需要", 1},
		{"没有中心线的道路", 1},
		{"未按规定", 1},
		{"请勿吸烟", 1},
		{"非机动车", 1},
		{"无法打开", 1},
		{"并非如此", 1},
		{"不得不停车", 2},
		{"不同的车辆不断增加", 0},
		{"不仅如此，不但", 0},
		{"无论何时", 0},
		{"非常危险", 0},
		{"未来", 0},
		{"除非必要", 0},
		{"不管不顾", 1},
		{"驾驶证被暂扣期间驾驶", 0},
		{"不按规定会车，一次记1分", 1},
		{"You must not drive", 1},
		{"can't stop, don't go", 2},
		{"NEVER cannot without", 3},
		{"it is prohibited and forbidden", 2},
		{"No. 5 is fine", 0},
		{"no entry", 1},
		{"nothing notable", 1},
		{"knot another", 0},
	};
	size_t k;
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const char *out;
		size_t len;
		nd_text_features f;
		int rc = nd_normalize_text(z, cases[k].in, strlen(cases[k].in), &out, &len, &f);
		CHECK_MSG(rc == 0 && f.negations == cases[k].neg, "negations(\"%s\") == %u, expected %u",
			  cases[k].in, rc ? 99u : f.negations, cases[k].neg);
	}
	nd_normalizer_free(z);
}

TEST(features_follow_the_pipeline)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	nd_normalizer *raw = mk(0, 0, 0, 0, 0);
	FEAT_IS(z, "12、在五十米以内不得停车", "50", 1);       /* numbering is not a number */
	FEAT_IS(z, "第3题 限速60", "60", 0);
	FEAT_IS(z, "<p>限速&#54;&#48;</p>", "60", 0);          /* entities first */
	FEAT_IS(z, "ＮＯＴ ５０", "50", 1);                    /* folded first */
	FEAT_IS(raw, "ＮＯＴ ５０％", "50%", 0);               /* full-width digits without fold */
	FEAT_IS(raw, "NOT 12、", "12", 1);
	FEAT_IS(z, "", "", 0);
	nd_normalizer_free(z);
	nd_normalizer_free(raw);
	z = mk(1, 1, 0, 1, 0); /* numbering kept: then it is a number */
	FEAT_IS(z, "12、在五十米以内", "12,50", 0);
	nd_normalizer_free(z);
}

/* ---------------------------------------------------------------- canon_numbers */

/* Two copies of one question that write their numbers differently normalise alike. */
TEST(normalize_canon_writes_numbers_canonically)
{
	nd_normalizer *z = mk_canon();
	static const char *const cases[][2] = {
		/* the spellings of one number meet */
		{"每小时六十公里", "每小时60公里"},
		{"每小时60公里", "每小时60公里"},
		{"百分之四十", "40%"},
		{"40%", "40%"},
		{"３０％的", "30%的"},
		{"30 %", "30%"},
		{"百分之零点五", "0.5%"},
		{"千分之五与5‰", "5‰与5‰"},
		{"三年内", "3年内"},
		{"二百元", "200元"},
		{"壹佰贰拾元", "120元"},
		{"一百零五", "105"},
		{"两万五", "25000"},
		{"二〇二三年", "2023年"},
		{"一点五米", "1.5米"},
		{"零点五", "0.5"},
		{"0.50米", "0.5米"},
		{"3.0米", "3米"},
		{"007号", "7号"},
		{"1,000元", "1000元"},
		{"１２３", "123"},
		{"三分之一", "1/3"},
		{"1/3的路段", "1/3的路段"},
		{"5万元", "50000元"},
		{"五万元", "50000元"},
		{"1.5万", "15000"},
		{"5万3千", "53000"},
		/* ordinals keep 第 */
		{"第一", "第1"},
		{"第二次", "第2次"},
		{"安全第一", "安全第1"},
		{"《道路交通安全法》第九十条", "道路交通安全法第90条"},
		{"12、第三条", "第3条"},
		{"第十二题 限速六十", "限速60"},
		/* inside Latin text */
		{"C1驾驶证", "c1驾驶证"},
		{"C一驾驶证", "c1驾驶证"},
		{"No. 5", "no 5"},
		/* words that merely contain a numeral stay as they are */
		{"一定要减速", "一定要减速"},
		{"一般情况下", "一般情况下"},
		{"统一指挥", "统一指挥"},
		{"十分危险的十字路口", "十分危险的十字路口"},
		{"停在道路一侧", "停在道路一侧"},
		{"千万不要", "千万不要"},
		{"原因之一", "原因之一"},
		{"慢一点", "慢一点"},
		{"一点五倍", "1.5倍"},
		{"只有一条机动车道", "只有1条机动车道"},
		/* numbers side by side stay apart */
		{"一、二级公路", "1 2级公路"},
		{"五5", "5 5"},
		{"三分之一2", "1/3 2"},
		{"2023/05/01", "2023 5 1"},
		{"10:30", "10 30"},
		{"9.3.1操作方法", "9.3.1操作方法"},
		{"3.0.5", "3 5"},
		{"五十3.5", "53 5"},
		{"百分之一百二十3.5", "123%5"},
		/* what punctuation kept apart meets: read back, it stays as it was */
		{"限速60，不得超速", "限速60不得超速"},
		{"统，一", "统1"},
		{"第，一定", "第1定"},
		/* ... or reads as the text without punctuation (see normalize.h) */
		{"五十，万", "500000"},
		{"慢一点，五十米", "慢15米"},
		/* ... or keeps its numerals, where no canonical writing reads back */
		{"五十万万", "五十万万"},
		{"三分之一点五", "三分之一点五"},
		{"第一百二十五题驾驶", "第一百二十五题驾驶"},
		{"一点十五", "一点十五"},
		{"3.5万一", "3.5万一"},
		{"拾百分之五", "拾百分之五"},
	};
	size_t k;
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++)
		norm_is(z, cases[k][0], cases[k][1], __LINE__);
	FEAT_IS(z, "五十万万", "500000", 0);
	FEAT_IS(z, "三分之一点五", "1.5/3", 0);
	FEAT_IS(z, "五十，万", "500000", 0);
	FEAT_IS(z, "慢一点，五十米", "15", 0);
	FEAT_IS(z, "第一百二十五题驾驶", "125", 0);
	FEAT_IS(z, "一点十五", "15", 0);
	FEAT_IS(z, "3.5万一", "35000", 0);
	nd_normalizer_free(z);
}

/* in gives want with the numbers nums, and that output gives itself with the same
 * numbers (the idempotence normalize.h promises for the defaults). */
static void canon_fixed(nd_normalizer *z, const char *in, const char *want, const char *nums,
			int line)
{
	const char *out = NULL;
	char *once;
	size_t len = 0;
	nd_text_features f;
	int rc;
	if (!z)
		return;
	feat_is(z, in, nums, ANY_NEG, line);
	rc = nd_normalize_text(z, in, strlen(in), &out, &len, NULL);
	if (rc != 0) {
		nd_test_fail(__FILE__, line, "normalize(\"%s\") returned %d: %s", in, rc, nd_error_last());
		return;
	}
	if (strcmp(out, want) != 0)
		nd_test_fail(__FILE__, line, "normalize(\"%s\") == \"%s\", expected \"%s\"", in, out, want);
	if (!(once = strdup(out))) {
		nd_test_fail(__FILE__, line, "out of memory");
		return;
	}
	rc = nd_normalize_text(z, once, strlen(once), &out, &len, &f);
	if (rc != 0)
		nd_test_fail(__FILE__, line, "normalize(\"%s\") returned %d: %s", once, rc, nd_error_last());
	else if (strcmp(out, once) != 0 || len != strlen(once))
		nd_test_fail(__FILE__, line, "not idempotent: \"%s\" gives \"%s\"", once, out);
	else if (strcmp(f.numbers, nums) != 0)
		nd_test_fail(__FILE__, line, "numbers(\"%s\") == \"%s\" on the second pass, expected \"%s\"",
			     once, f.numbers, nums);
	free(once);
}
#define CANON_FIXED(z, in, want, nums) canon_fixed((z), (in), (want), (nums), __LINE__)

/* 40 and 41 significant digits: an Arabic number holds at most 40 integer and 24
 * fraction digits; a longer one is no number (not in the features) and keeps its
 * spelling. */
#define D40 "1234567890123456789012345678901234567890"
#define D41 D40 "1"
#define Z27 "000000000000000000000000000" /* more zeros than a fraction holds */

/* tests/fuzz/corpora/fuzz_normalize/minimal-fraction-long-numerator: a fraction
 * with a part too long to record was left out whole, so its denominator kept its
 * leading zeros; with its '/' dropped it read as a number of its own on the second
 * pass ("… 0005" → "… 5"). Now each part of such a fraction is read on its own. */
TEST(normalize_canon_long_numbers_and_fractions_are_idempotent)
{
	nd_normalizer *z = mk_canon();
	/* the fuzz finding and its mirror images */
	CANON_FIXED(z, "1." Z27 "8/0005", "1." Z27 "8 5", "5");
	CANON_FIXED(z, D41 "/0005", D41 " 5", "5");
	CANON_FIXED(z, "0005/" D41, "5 " D41, "5");
	CANON_FIXED(z, "0005/1." Z27 "8", "5 1." Z27 "8", "5");
	CANON_FIXED(z, "1." Z27 "8/0005/0007", "1." Z27 "8 5 7", "5,7");
	CANON_FIXED(z, D41 "/5%", D41 " 5%", "5%");
	/* a 分之 fraction has no punctuation to lose: too long, it stays as spelled
	 * (read as its parts, 亿点…000一 would be written "亿点…000 1", whose shorter
	 * denominator the next pass records) */
	CANON_FIXED(z, D41 "分之0005", D41 "分之0005", "");
	CANON_FIXED(z, "三分之" D41, "三分之" D41, "");
	CANON_FIXED(z, "0分之亿点1234567890123" Z27 "一,9亿分之5",
		    "0分之亿点1234567890123" Z27 "一9亿分之5", "5");
	/* at the limit a number is still one: fraction and parts canonical */
	CANON_FIXED(z, "000" D40, D40, D40);
	CANON_FIXED(z, D40 "/0005", D40 "/5", D40 "/5");
	CANON_FIXED(z, "0005/" D40, "5/" D40, "5/" D40);
	CANON_FIXED(z, "0.000000000000000000000001", "0.000000000000000000000001",
		    "0.000000000000000000000001");
	/* one past it: no number, spelled as it was (leading zero too) */
	CANON_FIXED(z, "0" D41, "0" D41, "");
	CANON_FIXED(z, "0.0000000000000000000000001", "0.0000000000000000000000001", "");
	/* trailing fraction zeros never make a number too long */
	CANON_FIXED(z, "0.5" Z27, "0.5", "0.5");
	CANON_FIXED(z, "3." Z27 "/4", "3/4", "3/4");
	CANON_FIXED(z, "1.5" Z27 "万", "15000", "15000");
	CANON_FIXED(z, "1.500米", "1.5米", "1.5");
	/* fractions, slashes, percentages and ranges */
	CANON_FIXED(z, "1/0005", "1/5", "1/5");
	CANON_FIXED(z, "0005/0003", "5/3", "5/3");
	CANON_FIXED(z, "3.0/4", "3/4", "3/4");
	CANON_FIXED(z, "1.5/3", "1.5 3", "1.5,3");
	CANON_FIXED(z, "0.50/0.25", "0.5 0.25", "0.25,0.5");
	CANON_FIXED(z, "1/2/3", "1 2 3", "1,2,3");
	CANON_FIXED(z, "0001/0002/0003", "1 2 3", "1,2,3");
	CANON_FIXED(z, "1,000/0005", "1000/5", "1000/5");
	CANON_FIXED(z, "一百/0005", "100 5", "100,5");
	CANON_FIXED(z, "0005%", "5%", "5%");
	CANON_FIXED(z, "百分之0005", "5%", "5%");
	CANON_FIXED(z, "30-50", "30 50", "30,50");
	CANON_FIXED(z, "030-050米", "30 50米", "30,50");
	CANON_FIXED(z, "30％-50％", "30%50%", "30%,50%");
	nd_normalizer_free(z);
}

TEST(normalize_canon_off_keeps_the_old_output)
{
	nd_normalizer *z = mk(1, 1, 1, 1, 0);
	static const char *const cases[][2] = {
		{"每小时六十公里", "每小时六十公里"}, {"百分之四十", "百分之四十"},
		{"三年内", "三年内"},                 {"第一", "第一"},
		{"5万元", "5万元"},                   {"三分之一", "三分之一"},
		{"1/3的路段", "1 3的路段"},           {"0.50米", "0.50米"},
		{"007号", "007号"},                   {"２０２３/05/01", "2023 05 01"},
		{"一、二级公路", "一二级公路"},       {"3.0.5", "3.0.5"},
		{"五十，万", "五十万"},               {"9.3.1", "9.3.1"},
	};
	size_t k;
	nd_norm_opts o = ND_NORM_OPTS_INIT;
	CHECK_EQ_INT(o.canon_numbers, 1); /* on by default */
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++)
		norm_is(z, cases[k][0], cases[k][1], __LINE__);
	FEAT_IS(z, "五十，万", "50", 0); /* read before punctuation goes, as before */
	nd_normalizer_free(z);
}

/* The numbers in Arabic in s, in canonical form (digits, an optional fraction
 * part, then % or ‰; or digits/digits), sorted, each once, joined by ','. Written
 * for the test, apart from the library's reader. */
static void arabic_numbers(const char *s, char *out, size_t cap)
{
	char tok[64][48];
	size_t nt = 0, i = 0, k, j, len = 0;
	while (s[i]) {
		size_t b = i, l;
		if ((unsigned)(s[i] - '0') >= 10u) {
			i++;
			continue;
		}
		while ((unsigned)(s[i] - '0') < 10u)
			i++;
		if (s[i] == '/' && (unsigned)(s[i + 1] - '0') < 10u) {
			for (i++; (unsigned)(s[i] - '0') < 10u; i++)
				;
		} else {
			if (s[i] == '.' && (unsigned)(s[i + 1] - '0') < 10u)
				for (i++; (unsigned)(s[i] - '0') < 10u; i++)
					;
			if (s[i] == '%')
				i++;
			else if (!strncmp(s + i, "\xe2\x80\xb0", 3))
				i += 3;
		}
		l = i - b;
		if (nt < 64 && l < sizeof tok[0]) {
			memcpy(tok[nt], s + b, l);
			tok[nt++][l] = '\0';
		}
	}
	for (k = 1; k < nt; k++) /* insertion sort: byte order, as the features */
		for (j = k; j > 0 && strcmp(tok[j - 1], tok[j]) > 0; j--) {
			char t[48];
			memcpy(t, tok[j], sizeof t);
			memcpy(tok[j], tok[j - 1], sizeof t);
			memcpy(tok[j - 1], t, sizeof t);
		}
	out[0] = '\0';
	for (k = 0; k < nt; k++) {
		size_t l = strlen(tok[k]);
		if (k && !strcmp(tok[k], tok[k - 1]))
			continue;
		if (len + l + 2 > cap)
			break;
		if (len)
			out[len++] = ',';
		memcpy(out + len, tok[k], l + 1);
		len += l;
	}
}

/* Numbers spelled every way, in a few words, with the punctuation and the words
 * around numerals that scraped questions have. */
static const char *const NUM_FRAGMENTS[] = {
	"六十", "60", "百分之四十", "40%", "３０％", "30 %", "三", "3", "年内", "二百", "200",
	"元", "第一", "第1", "一点五", "1.5", "三分之一", "1/3", "5万", "两万五", "1.5万",
	"二〇二三", "０.５", "１２", "1,000", "0.50", "3.0", "五十", "一百零五", "十五", "千分之五",
	"5‰", "壹佰", "一定", "一般", "统一", "十分", "一侧", "之一", "一点", "c1", "abc", "No. ",
	"驾驶", "米", "公里", "每小时", "不得", "，", "、", "。", " ", "：", "/", ".", "-", "(", ")",
	"<p>", "&nbsp;", "10:30",
};

/* The features list exactly the numbers the output shows in Arabic, or, where
 * that cannot be written (五十万万, 一点 before 十五: see normalize.h), the output is
 * the one without canon_numbers; that stays rare even on this crowded text. */
TEST(normalize_canon_features_are_the_numbers_of_the_output)
{
	nd_normalizer *z = mk_canon(), *off = mk(1, 1, 1, 1, 0);
	uint64_t seed = nd_test_seed(), s = seed;
	char buf[512], shown[512], as_is[1024];
	size_t k, fails = 0, kept = 0, cases = 500;
	for (k = 0; k < cases && z && off; k++) {
		size_t len = 0, nf = 0, m, l, l0;
		const char *out, *o0;
		nd_text_features f;
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		m = (size_t)(s >> 60) + 1; /* 1..16 fragments */
		while (nf++ < m) {
			const char *p;
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			p = NUM_FRAGMENTS[(s >> 33) % (sizeof NUM_FRAGMENTS / sizeof NUM_FRAGMENTS[0])];
			l = strlen(p);
			memcpy(buf + len, p, l);
			len += l;
		}
		if (nd_normalize_text(off, buf, len, &o0, &l0, NULL) != 0 || l0 >= sizeof as_is) {
			CHECK_MSG(0, "normalize failed on \"%.*s\": %s", (int)len, buf, nd_error_last());
			break;
		}
		memcpy(as_is, o0, l0 + 1);
		if (nd_normalize_text(z, buf, len, &out, &l, &f) != 0) {
			CHECK_MSG(0, "normalize failed on \"%.*s\": %s", (int)len, buf, nd_error_last());
			break;
		}
		arabic_numbers(out, shown, sizeof shown);
		if (!strcmp(shown, f.numbers))
			continue;
		if (!strcmp(out, as_is)) {
			kept++;
			continue;
		}
		if (fails++ < 5)
			nd_test_fail(__FILE__, __LINE__,
				     "seed %llu case %zu: \"%.*s\" -> \"%s\" shows [%s], features [%s]",
				     (unsigned long long)seed, k, (int)len, buf, out, shown, f.numbers);
	}
	CHECK_EQ_INT(fails, 0);
	CHECK_MSG(kept * 20 <= cases, "%zu of %zu texts kept their numerals", kept, cases);
	nd_normalizer_free(z);
	nd_normalizer_free(off);
}

/* ---------------------------------------------------------------- against ICU */

/* Every BMP character whose NFKC_Casefold is made of letters, numbers and marks
 * only (so no later stage touches it), in runs, through the pipeline with folding
 * alone, compared with ICU's NFKC_Casefold of the same run. Covers the per-unit
 * table (runs of boundary characters) and the ICU fallback (runs with others). */
TEST(normalize_fold_matches_icu)
{
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *nf = unorm2_getNFKCCasefoldInstance(&st);
	nd_normalizer *z = mk(1, 0, 0, 0, 0);
	static UChar pool[0x10000], run[256], ref[4096];
	char in8[1024], ref8[16384];
	size_t npool = 0, k, mism = 0;
	uint64_t seed = nd_test_seed();
	UChar32 c;
	if (U_FAILURE(st) || !z) {
		CHECK(0);
		nd_normalizer_free(z);
		return;
	}
	for (c = 1; c < 0x10000; c++) {
		UChar src = (UChar)c, dst[32];
		int32_t n, i;
		int good = !U_IS_SURROGATE(c) && c != '\\';
		st = U_ZERO_ERROR;
		n = unorm2_normalize(nf, &src, 1, dst, 32, &st);
		good = good && U_SUCCESS(st) && n > 0 &&
		       (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK | U_GC_M_MASK));
		for (i = 0; good && i < n; i++)
			good = !U16_IS_SURROGATE(dst[i]) &&
			       (U_GET_GC_MASK(dst[i]) & (U_GC_L_MASK | U_GC_N_MASK | U_GC_M_MASK)) &&
			       !u_isUWhiteSpace(dst[i]);
		if (good)
			pool[npool++] = (UChar)c;
	}
	CHECK(npool > 40000);
	/* runs in code point order (exhaustive), then random mixtures */
	for (k = 0; k < npool + 200 * 64; k += 64) {
		int32_t rn = 0, refn, l8;
		const char *out;
		size_t len, t;
		for (t = 0; t < 64; t++) {
			if (k < npool) {
				if (k + t >= npool)
					break;
				run[rn++] = pool[k + t];
			} else {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				run[rn++] = pool[(seed >> 33) % npool];
			}
		}
		if (run[0] >= 0x300 && run[0] <= 0x36F)
			run[0] = 'a'; /* keep a starter first, as numbering skipping does not apply */
		st = U_ZERO_ERROR;
		u_strToUTF8(in8, sizeof in8, &l8, run, rn, &st);
		refn = unorm2_normalize(nf, run, rn, ref, 4096, &st);
		{
			int32_t r8;
			u_strToUTF8(ref8, sizeof ref8, &r8, ref, refn, &st);
		}
		if (U_FAILURE(st)) {
			CHECK_MSG(0, "ICU failed: %s", u_errorName(st));
			break;
		}
		if (nd_normalize_text(z, in8, (size_t)l8, &out, &len, NULL) != 0 || strcmp(out, ref8)) {
			if (mism++ < 5)
				nd_test_fail(__FILE__, __LINE__, "fold of run at %zu (U+%04X…) differs from ICU",
					     k, run[0]);
		}
	}
	CHECK_EQ_INT(mism, 0);
	nd_normalizer_free(z);
}

/* English number words are numbers: written as digits, recorded as features;
 * only whole words, and none that touches a digit or a CJK numeral. */
TEST(normalize_english_number_words)
{
	nd_normalizer *z = mk_canon();
	NORM_IS(z, "Give three tips for staying healthy.", "give 3 tips for staying healthy");
	NORM_IS(z, "twenty-five apples", "25 apples");
	NORM_IS(z, "Twenty Five%", "25%");
	NORM_IS(z, "two hundred thousand people", "200000 people");
	NORM_IS(z, "one, two, three", "one 2 3"); /* "one" alone is mostly a pronoun */
	NORM_IS(z, "one hundred and twenty-one", "100 and 21");
	NORM_IS(z, "nineteen billion billion", "19000000000 billion"); /* stops before 10^18 is passed */
	NORM_IS(z, "Blüten Nöten éfive", "blüten nöten éfive");    /* no number inside another script's word */
	NORM_IS(z, "A five year old", "a five year old"); /* "a 5 …" would read as option label A */
	NORM_IS(z, "someone often fivefold", "someone often fivefold");
	NORM_IS(z, "five5 5five", "five5 5five");
	NORM_IS(z, "five分之一", "five分之一");
	NORM_IS(z, "don't one's", "dont ones");
	NORM_IS(z, "s'ixty z'ero", "60 0"); /* written without the apostrophe, read as that */
	/* a combining mark on dropped punctuation goes with it (it would compose with '<') */
	NORM_IS(z, "<.\xcc\xb8x", "x");
	NORM_IS(z, "a \xcc\x81" "b", "a b");
	NORM_IS(z, "a\\n\xcc\xb8" "b", "a b"); /* on the n of an escape: a space too */
	NORM_IS(z, "x\\nseven", "x 7");    /* the n of an escape is a space, not a letter */
	FEAT_IS(z, "explain to a five year old", "5", 0);
	FEAT_IS(z, "explain to a ten year old", "10", 0);
	FEAT_IS(z, "no one knows", "", 1);
	FEAT_IS(z, "which one of the following", "", 0);
	FEAT_IS(z, "Give 3 tips", "3", 0);
	FEAT_IS(z, "Give three tips", "3", 0);
	nd_normalizer_free(z);
}

/* ---------------------------------------------------------------- properties */

static const char *const FRAGMENTS[] = {
	"驾驶", "机动车", "应当", "不得", "禁止", "五十", "一百二十", "两", "第一", "一定", "米",
	"12、", "第3题", "【单选题】", "(多选)", "（判断题）", "A、", "B.", "(C)", "D ",
	"，", "。", "？", "、", "：", ":", ".", ",", "!", "-", "/", "%", "％", "‰", "<", ">", "≤",
	"＜", "&", ";", "#", "'", "’", "\"", "(", ")", "（", "）", "【", "】", "[", "]",
	" ", "  ", "\t", "\n", "　", "\\n", "\xC2\xA0", "\xE2\x80\x8B",
	"1", "2", "0", "3.5", "1,000", "30%", "０", "５", "．", "，",
	"a", "b", "p", "x", "br", "not", "don't", "No", "ABC", "Ｄｅｆ", "ß", "e\xCC\x81", "\xCC\x81",
	"<p>", "</p>", "<br/>", "<span class=\"x\">", "</span>", "<!-- c -->",
	"&nbsp;", "&amp;", "&lt;", "&gt;", "&#x4e00;", "&#19968;", "&lt;b&gt;", "&quot;",
	"ｶﾀｶﾅ", "㎞", "℃", "😀", "駕駛", "한국어", "ひらがな",
	"第", "题", "单选", "判断题", "十二", "一", "三", "万", "点", "百分之", "不", "e", "g",
	/* English number words, alone and in the shapes they combine in */
	"five", "Twenty", "twenty-", "one", "hundred", " hundred", "thousand", "nine", "ten", "A ",
	"seventy-seven", "zero", "billion", "分之", "one's", "'", "-",
};

static size_t random_text(uint64_t *s, char *buf, size_t cap)
{
	size_t len = 0, n, k;
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	n = (size_t)(*s >> 59) + 1; /* 1..32 fragments */
	for (k = 0; k < n; k++) {
		const char *f;
		size_t l;
		*s = *s * 6364136223846793005ull + 1442695040888963407ull;
		f = FRAGMENTS[(*s >> 33) % (sizeof FRAGMENTS / sizeof FRAGMENTS[0])];
		l = strlen(f);
		if (len + l >= cap)
			break;
		memcpy(buf + len, f, l);
		len += l;
	}
	return len;
}

/* Normalising the output again gives the output and, with canon_numbers, the
 * same features (the features are the numbers the output shows). */
static void idempotence(int t2s, int canon, size_t cases)
{
	nd_normalizer *z = mk6(1, 1, 1, 1, t2s, canon);
	nd_normalizer *z2 = mk6(1, 1, 1, 1, t2s, canon);
	uint64_t seed = nd_test_seed(), s = seed;
	char buf[512], once[2048], nums[512];
	size_t k, fails = 0;
	for (k = 0; k < cases && z && z2; k++) {
		size_t len = random_text(&s, buf, sizeof buf), l1, l2;
		const char *o1, *o2;
		nd_text_features f1, f2;
		if (nd_normalize_text(z, buf, len, &o1, &l1, &f1) != 0 || l1 >= sizeof once ||
		    f1.numbers_len >= sizeof nums) {
			CHECK_MSG(0, "normalize failed on \"%.*s\": %s", (int)len, buf, nd_error_last());
			break;
		}
		memcpy(once, o1, l1 + 1);
		memcpy(nums, f1.numbers, f1.numbers_len + 1);
		if (nd_normalize_text(z2, once, l1, &o2, &l2, &f2) != 0 || strcmp(o2, once) != 0 ||
		    (canon && strcmp(f2.numbers, nums) != 0)) {
			if (fails++ < 5)
				nd_test_fail(__FILE__, __LINE__,
					     "seed %llu case %zu: \"%.*s\" -> \"%s\" [%s] -> \"%s\" [%s]",
					     (unsigned long long)seed, k, (int)len, buf, once, nums, o2,
					     f2.numbers);
		}
		/* the output is valid UTF-8 without NUL, and never starts or ends with a space */
		CHECK(nd_utf8_validate(once, l1, NULL) == 0);
		CHECK(l1 == 0 || (once[0] != ' ' && once[l1 - 1] != ' '));
	}
	CHECK_EQ_INT(fails, 0);
	nd_normalizer_free(z);
	nd_normalizer_free(z2);
}

TEST(normalize_is_idempotent_on_random_text) { idempotence(0, 0, 20000); }

TEST(normalize_is_idempotent_with_t2s) { idempotence(1, 0, 3000); }

TEST(normalize_canon_is_idempotent_on_random_text) { idempotence(0, 1, 20000); }

TEST(normalize_canon_is_idempotent_with_t2s) { idempotence(1, 1, 3000); }

typedef struct {
	const char *want[4];
	int bad;
} thread_ctx;

static int per_thread(void *ctx, size_t b, size_t e, unsigned w)
{
	(void)w;
	thread_ctx *t = ctx;
	nd_normalizer *z = NULL;
	static const char *const in[4] = {"12、驾驶机动车，应当", "ＡＢＣ　Ｄｅｆ",
					  "<p>在高速公路上&nbsp;行驶</p>", "駕駛"};
	int rc = nd_normalizer_create(&z, NULL);
	size_t i;
	for (i = b; i < e && !rc; i++) {
		const char *out;
		size_t len;
		rc = nd_normalize_text(z, in[i % 4], strlen(in[i % 4]), &out, &len, NULL);
		if (!rc && strcmp(out, t->want[i % 4]) != 0)
			t->bad = 1;
	}
	nd_normalizer_free(z);
	return rc;
}

TEST(normalize_one_normalizer_per_thread)
{
	thread_ctx t = {{"驾驶机动车应当", "abc def", "在高速公路上行驶", "駕駛"}, 0};
	CHECK_OK(nd_parallel_for(400, 10, 4, per_thread, &t));
	CHECK_EQ_INT(t.bad, 0);
}
