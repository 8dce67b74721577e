/* neardup — text normalisation (ICU) and guard features.
 *
 * Normalisation makes two scraped copies of one question look alike:
 *   NFKC + case folding (full/half width), HTML tags and entities removed,
 *   numbering and type prefixes removed ("12、", "第12题", "【单选题】", "(多选)", "1."),
 *   numbers written one way (六十, 60, ６０ → 60; 百分之四十 → 40%), punctuation
 *   removed, whitespace collapsed (no spaces next to CJK characters, one space
 *   between Latin/digit words), optional Traditional→Simplified.
 *
 * Guard features describe what must be equal for two texts to be duplicates:
 *   the numbers they contain (Arabic and Chinese numerals as values), and their
 *   negation markers.
 *
 * The stages, in order (each can be switched off in nd_norm_opts):
 *   1. strip_html: a tag is '<' + letter, '/' or '!' up to its '>' ("<p>", "</span>",
 *      "<br/>", "<img src=…>", "<!-- … -->"; <script>/<style> with their content) and
 *      becomes a space (inline tags such as <b>, <span> become nothing); entities are
 *      decoded once (&nbsp; &amp; &lt; &gt; &quot; &#39; &#x4e00; &#19968; and the
 *      common named ones; &#0; and invalid code points give U+FFFD). A '<' that opens
 *      no tag stays ("速度<50").
 *   2. fold: NFKC_Casefold (ＡＢＣ→abc, １２→12, ｶﾀｶﾅ→カタカナ, ß→ss, ZWSP/BOM removed).
 *   3. t2s: ICU "Traditional-Simplified" (駕駛機動車→驾驶机动车).
 *   4. strip_numbering: leading prefixes, repeatedly, with the spaces (and, with
 *      strip_punct, the punctuation) around them: digits (at most 4) before 、 . ． ) ）
 *      : ：("12、" "12." "12)"; "1.2." too), a numeral or a type word in brackets
 *      ("(12)" "（一）" "【单选题】" "[多选题]" "(多选)"), "第12题"/"第十二题", a type
 *      word before a colon ("单选题："), and option letters A–H before 、 . ． : ： ) ）
 *      in brackets or before a space and CJK/digit ("A、" "(B)" "C 减速"). A number that
 *      is content stays: "50米以内", "3年内", "1.5米", "10:30", "2023年".
 *   5. the features are read here (before punctuation goes: 0.5 stays a decimal).
 *   6. canon_numbers: every number the features list is written as its canonical
 *      string (see nd_text_features.numbers), in place of its spelling: 每小时六十公里
 *      → 每小时60公里, 百分之四十 → 40%, 三年内 → 3年内, 二百元 → 200元, 第一 → 第1,
 *      一点五 → 1.5, 三分之一 → 1/3 (the '/' stays), 5万 → 50000, 007 → 7, 3.0 → 3,
 *      1,000 → 1000. What is not a number stays as it is (一定, 统一, 十分, 一侧).
 *      Numbers side by side stay apart: 五5 → "5 5", 一、二级 → "1 2级"; a point or
 *      comma right after a number that ended before it is punctuation (3.0.5 →
 *      "3 5", 五十3.5 → "53 5"; 9.3.1 stays).
 *      The numbers of the output are the features: where the text without its
 *      punctuation reads otherwise than the text (五十，万 → 50万, which reads
 *      500000; 队伍、拾取 → 队伍拾取, which holds 伍拾), the numbers are read from
 *      the text without punctuation (→ "500000", "队50取"; 慢一点，五十米 → "慢15米",
 *      as 慢一点五十米 reads); where no canonical writing reads back as itself
 *      (五十万万: 500000万 would read 5000000000; 三分之一点五: 1.5/3; 第一百二十五题:
 *      第125题 is numbering), the text keeps its numerals as they are, as without
 *      canon_numbers. Neither happens in the question banks we have seen; random
 *      punctuation soup hits them.
 *   7. strip_punct: Unicode punctuation and symbols (P*, S*) are dropped and act as
 *      word separators, except '%', '‰', '<', '>', '≤', '≥' (kept, never spaced),
 *      '.' between two digits (kept: 0.5), ',' inside a thousands group (dropped
 *      without a separator: 1,000 → 1000) and an apostrophe between letters
 *      (don't → dont). A '<' before a letter is dropped too, so no output opens a tag.
 *   8. always: white space (and literal "\n" "\r" "\t" escapes left by double-encoded
 *      JSON) collapses to nothing next to a CJK character (Han, Kana, Hangul, Bopomofo)
 *      or a kept symbol, to one space between two other words; the text is trimmed.
 * With the default options nd_normalize_text is idempotent: normalising its output
 * again gives the same output, and (with canon_numbers) the same numbers.
 */
#ifndef ND_NORMALIZE_H
#define ND_NORMALIZE_H

#include "neardup/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nd_normalizer nd_normalizer;

#define ND_NORM_OPTS_VERSION 1
typedef struct {
	unsigned version;    /* ND_NORM_OPTS_VERSION */
	int fold;            /* NFKC + case fold (full/half width); default 1 */
	int strip_html;      /* remove tags, decode entities; default 1 */
	int strip_numbering; /* remove leading numbering/type prefixes; default 1 */
	int strip_punct;     /* drop punctuation/symbols; default 1 (spaces always collapse) */
	int t2s;             /* Traditional → Simplified Chinese; default 0 */
	int canon_numbers;   /* write numbers canonically (六十 → 60, stage 6); default 1 */
} nd_norm_opts;
#define ND_NORM_OPTS_INIT { ND_NORM_OPTS_VERSION, 1, 1, 1, 1, 0, 1 }

/*! nd_normalizer_create() :
 * Opens the ICU objects normalisation needs. A normalizer is NOT thread-safe:
 * create one per thread (normalizers on different threads may run at once; the
 * character tables they share are built once per process). @opts may be NULL (defaults).
 * @return 0, ND_EINVAL (bad version), ND_EBACKEND (ICU failed), ND_ENOMEM. */
ND_API int nd_normalizer_create(nd_normalizer **out, const nd_norm_opts *opts);

/*! nd_normalizer_free() : releases everything; NULL is a no-op. */
ND_API void nd_normalizer_free(nd_normalizer *n);

/* Guard features of one text (see nd_normalize_text). */
typedef struct {
	/* The numbers found, as canonical decimal strings sorted in byte order and
	 * joined by ',' ("2,30%,50"), each distinct number once; "" when none. Chinese
	 * numerals are converted: 五十→50, 两→2, 百分之三十→30%, 一百二十→120;
	 * full-width digits are folded; words that merely contain a numeral character (一定, 一般, 统一, 一律 …) are
	 * not numbers. Owned by the normalizer, valid until its next call.
	 * Canonical form: no leading zeros, no trailing fraction zeros (007→7, 0.50→0.5,
	 * 3.0→3), thousands separators dropped (1,000→1000); "%" for 30% and 百分之三十,
	 * "‰" for 5‰ and 千分之五, "a/b" for 1/3 and 三分之一. Chinese: 零〇一二两三…九
	 * 十百千万亿 and 壹贰叁肆伍陆柒捌玖拾佰仟 (十五→15, 一百零五→105, 两万五→25000,
	 * 一百二→120, 二〇二三→2023, 三点五→3.5), mixed 5万→50000, 1.5万→15000;
	 * ordinals keep their number (第一→1, 第二→2). English number words count
	 * and are written as digits: three→3, twenty-five→25, two hundred thousand
	 * →200000, when each word stands free (not touching a letter of any script, a
	 * digit or a CJK numeral; not right after a lone option letter at the start:
	 * "A five …" stays, as "a 5" would read as option label A); "one" alone is a
	 * pronoun, not a number; values above 10^18 are left out. Not numbers: the set phrases
	 * 一定 一般 一律 一旦 一致 一起 一侧 一边 一切 一些 一直 一样 一下 一并 一同 一时
	 * 一方 一概 一贯 一再 一度 一向 一道 一齐 一面 一经 一味 一带 一旁 一番 一点 (but
	 * 一点五=1.5) 一会 一阵 一心 一意 一举 一连 一路 一流 一瞬 一刹 一氧化 一手 一体
	 * 一一 一系列 一半 一头 一身 十分 十足 十字 十全 零件 零部件 零星 零散 零售 零钱
	 * 零碎 二手 二氧化 三角 三思 四周 四处 四肢 四面 八方, the words ending in one
	 * 统一 唯一 同一 逐一 之一 不一 专一 划一 单一 如一 归一 合一 万一 均一 某一 任一
	 * 另一 每一 纯一 再三, a lone financial numeral (陆地, 队伍, 拾取), and 百/千/万/亿
	 * at the start of a word (千万, 百姓, 万能). Values above 10^18 are left out.
	 * With canon_numbers these are the numbers of the output: it shows them in
	 * this form (but where stage 6 keeps the numerals) and normalising it gives
	 * them again. */
	const char *numbers;
	size_t numbers_len;
	/* How many negation markers the text holds (不/不得/禁止/严禁/不应/不准/不可/
	 * 没有/无/未/勿/非, not/no/never/cannot/…); a compound (不得) counts once and
	 * words that are not negations (不同, 不断, 无论, 非常 …) are not counted.
	 * Markers, longest match first: 不得 不准 不应 不能 不可 不要 不许 不宜 不必 不用
	 * 禁止 严禁 没有 并非 无需 无须 无法, then 不 没 无 未 勿 非 (so 非机动车 counts:
	 * it names a different thing than 机动车; 不得不 counts 2; 别 is not a marker).
	 * Not markers: 不同 不断 不仅 不但 不管 不论 不久 不过 无论 非常 未来 除非.
	 * English, whole words in any case: not no never none nor neither nobody nothing
	 * cannot without, any word ending in n't, prohibit…, forbid…/forbad…
	 * ("No." before a number is not counted). */
	unsigned negations;
} nd_text_features;

/*! nd_normalize_text() :
 * Normalises UTF-8 @text of @len bytes (need not be NUL-terminated).
 * On success *out points at the NUL-terminated result (*out_len bytes) owned by
 * @n and valid until the next call on @n. When @features is non-NULL it is filled
 * from the same text (its strings are also owned by @n).
 * @text may be NULL when @len is 0. On failure *out is NULL and *out_len 0.
 * The normalizer's buffers only grow: once they fit the longest text seen, a call
 * allocates nothing (t2s aside: ICU's transliterator may allocate).
 * @return 0; ND_EUTF8 when @text is not valid UTF-8 or holds a NUL byte (the
 *   message gives the byte offset inside @text: "invalid UTF-8 at byte N",
 *   "NUL byte at byte N"); ND_EINVAL (NULL @n, @out, @out_len, or @text with @len > 0);
 *   ND_ELIMIT (@len above 64 MiB); ND_ENOMEM; ND_EBACKEND. */
ND_API int nd_normalize_text(nd_normalizer *n, const char *text, size_t len, const char **out,
			     size_t *out_len, nd_text_features *features);

/*! nd_utf8_validate() :
 * @return 0 when @s[0..len) is valid UTF-8 without NUL bytes; otherwise ND_EUTF8 and
 * *bad_offset (when non-NULL) is the offset of the first bad byte. Thread-safe.
 * Strict: overlong forms, surrogates (U+D800–DFFF), values above U+10FFFF, stray
 * continuation bytes and truncated sequences are invalid; the offset is that of the
 * first byte of the offending sequence (the lead byte of a truncated one). The
 * message is "invalid UTF-8 at byte N" or "NUL byte at byte N". @s may be NULL when
 * @len is 0 (ND_EINVAL otherwise). *bad_offset is untouched on success. */
ND_API int nd_utf8_validate(const char *s, size_t len, size_t *bad_offset);

#ifdef __cplusplus
}
#endif
#endif
