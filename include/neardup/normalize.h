/* neardup — text normalisation (ICU) and guard features.
 *
 * Normalisation makes two scraped copies of one question look alike:
 *   NFKC + case folding (full/half width), HTML tags and entities removed,
 *   numbering and type prefixes removed ("12、", "第12题", "【单选题】", "(多选)", "1."),
 *   punctuation removed, whitespace collapsed (no spaces next to CJK characters,
 *   one space between Latin/digit words), optional Traditional→Simplified.
 *
 * Guard features describe what must be equal for two texts to be duplicates:
 *   the numbers they contain (Arabic and Chinese numerals as values), and their
 *   negation markers.
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
	int strip_punct;     /* drop punctuation/symbols, collapse spaces; default 1 */
	int t2s;             /* Traditional → Simplified Chinese; default 0 */
} nd_norm_opts;
#define ND_NORM_OPTS_INIT { ND_NORM_OPTS_VERSION, 1, 1, 1, 1, 0 }

/*! nd_normalizer_create() :
 * Opens the ICU objects normalisation needs. A normalizer is NOT thread-safe:
 * create one per thread. @opts may be NULL (defaults).
 * @return 0, ND_EINVAL (bad version), ND_EBACKEND (ICU failed), ND_ENOMEM. */
ND_API int nd_normalizer_create(nd_normalizer **out, const nd_norm_opts *opts);

/*! nd_normalizer_free() : releases everything; NULL is a no-op. */
ND_API void nd_normalizer_free(nd_normalizer *n);

/* Guard features of one text (see nd_normalize_text). */
typedef struct {
	/* The numbers found, as canonical decimal strings sorted in byte order and
	 * joined by ',' ("2,30%,50"); "" when none. Chinese numerals are converted:
	 * 五十→50, 两→2, 百分之三十→30%, 一百二十→120; full-width digits are folded;
	 * words that merely contain a numeral character (一定, 一般, 统一, 一律 …) are
	 * not numbers. Owned by the normalizer, valid until its next call. */
	const char *numbers;
	size_t numbers_len;
	/* How many negation markers the text holds (不/不得/禁止/严禁/不应/不准/不可/
	 * 没有/无/未/勿/非, not/no/never/cannot/…); a compound (不得) counts once and
	 * words that are not negations (不同, 不断, 无论, 非常 …) are not counted. */
	unsigned negations;
} nd_text_features;

/*! nd_normalize_text() :
 * Normalises UTF-8 @text of @len bytes (need not be NUL-terminated).
 * On success *out points at the NUL-terminated result (*out_len bytes) owned by
 * @n and valid until the next call on @n. When @features is non-NULL it is filled
 * from the same text (its strings are also owned by @n).
 * @return 0; ND_EUTF8 when @text is not valid UTF-8 or holds a NUL byte (the
 *   message gives the byte offset inside @text); ND_ENOMEM; ND_EBACKEND. */
ND_API int nd_normalize_text(nd_normalizer *n, const char *text, size_t len, const char **out,
			     size_t *out_len, nd_text_features *features);

/*! nd_utf8_validate() :
 * @return 0 when @s[0..len) is valid UTF-8 without NUL bytes; otherwise ND_EUTF8 and
 * *bad_offset (when non-NULL) is the offset of the first bad byte. Thread-safe. */
ND_API int nd_utf8_validate(const char *s, size_t len, size_t *bad_offset);

#ifdef __cplusplus
}
#endif
#endif
