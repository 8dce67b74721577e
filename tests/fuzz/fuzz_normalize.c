/* Fuzz target: text normalisation and guard features (core/normalize.c).
 *
 * Input: one byte of option bits (fold, strip_html, strip_numbering, strip_punct, t2s,
 * canon_numbers), then the text. Invariants: the error agrees with nd_utf8_validate; a
 * result is valid UTF-8 of the length reported; the numbers feature is sorted distinct
 * canonical numbers; with the default options a second pass changes nothing
 * (idempotence, as include/neardup/normalize.h promises). */
#include "fuzz_common.h"
#include "neardup/normalize.h"

static nd_normalizer *norms[64];

static nd_normalizer *get(unsigned bits)
{
	if (!norms[bits]) {
		nd_norm_opts o = ND_NORM_OPTS_INIT;
		o.fold = bits & 1;
		o.strip_html = (bits >> 1) & 1;
		o.strip_numbering = (bits >> 2) & 1;
		o.strip_punct = (bits >> 3) & 1;
		o.t2s = (bits >> 4) & 1;
		o.canon_numbers = (bits >> 5) & 1;
		if (nd_normalizer_create(&norms[bits], &o) != 0) {
			fprintf(stderr, "nd_normalizer_create: %s\n", nd_error_last());
			abort();
		}
	}
	return norms[bits];
}

#define DEFAULT_BITS (1u | 2u | 4u | 8u | 32u) /* ND_NORM_OPTS_INIT */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned bits = data[0] & 63;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	nd_normalizer *n = get(bits);
	const char *out = NULL;
	size_t out_len = 0;
	nd_text_features f;
	size_t bad;
	int valid = nd_utf8_validate(len ? text : NULL, len, &bad) == 0;
	int rc = nd_normalize_text(n, len ? text : NULL, len, &out, &out_len, &f);
	if (!valid) {
		FZ_ASSERT(rc == ND_EUTF8 && out == NULL && out_len == 0);
		return 0;
	}
	FZ_ASSERT(rc == 0);
	FZ_ASSERT(out && strlen(out) == out_len);
	FZ_ASSERT(nd_utf8_validate(out, out_len, NULL) == 0);
	FZ_ASSERT(f.numbers && strlen(f.numbers) == f.numbers_len);
	/* numbers: distinct, in byte order, no empty item */
	{
		const char *p = f.numbers, *prev = NULL;
		size_t prev_len = 0;
		while (*p) {
			const char *e = strchr(p, ',');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			FZ_ASSERT(l > 0);
			if (prev) {
				size_t m = l < prev_len ? l : prev_len;
				int c = memcmp(prev, p, m);
				FZ_ASSERT(c < 0 || (c == 0 && prev_len < l));
			}
			prev = p;
			prev_len = l;
			p = e ? e + 1 : p + l;
		}
	}
	if (bits == DEFAULT_BITS) {
		char *first = malloc(out_len + 1);
		if (!first)
			abort();
		memcpy(first, out, out_len + 1);
		size_t first_len = out_len;
		rc = nd_normalize_text(n, first, first_len, &out, &out_len, NULL);
		FZ_ASSERT(rc == 0);
		if (out_len != first_len || memcmp(out, first, first_len) != 0) {
			fprintf(stderr, "not idempotent:\n  once:  \"%s\"\n  twice: \"%s\"\n", first, out);
			abort();
		}
		free(first);
	}
	return 0;
}
