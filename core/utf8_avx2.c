/* UTF-8 validation 32 bytes at a time with AVX2, for nd_utf8_validate
 * (normalize.c), which runs it first and falls back to its scalar walk whenever it
 * reports anything: the scalar walk alone decides the error and its offset.
 *
 * The method is the "lookup" algorithm of Keiser and Lemire ("Validating UTF-8 in
 * less than one instruction per byte", 2021), written here from the paper: each
 * byte and the one before it are classified by three 16-entry tables (the high
 * nibble of the previous byte, its low nibble, the high nibble of the byte); the
 * AND of the three classes is non-zero exactly for the invalid two-byte patterns
 * (too short, too long, overlong, surrogate, above U+10FFFF), except that a
 * continuation byte after a continuation byte is an error only when it is not
 * the third or fourth byte of a sequence, which the bytes two and three back
 * decide. NUL bytes are refused too (the library does not accept them in text).
 *
 * Built without -mavx2: only the function marked target("avx2") uses it, and
 * nd_utf8_validate calls it only where nd_cpu_has_avx2().
 */
#include <stddef.h>
#include <stdint.h>
#include "internal.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

/* The classes (one bit each; bit 6 serves two patterns that share no byte pair) */
#define TOO_SHORT (1 << 0)      /* 11______ 0_______, 11______ 11______ */
#define TOO_LONG (1 << 1)       /* 0_______ 10______ */
#define OVERLONG_3 (1 << 2)     /* 11100000 100_____ */
#define TOO_LARGE (1 << 3)      /* 11110100 1001____, 11110100 101_____, 11110101+ 10______ */
#define SURROGATE (1 << 4)      /* 11101101 101_____ */
#define OVERLONG_2 (1 << 5)     /* 1100000_ 10______ */
#define TOO_LARGE_1000 (1 << 6) /* 11110101+ 1000____ */
#define OVERLONG_4 (1 << 6)     /* 11110000 1000____ */
#define TWO_CONTS (1 << 7)      /* 10______ 10______ */
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

#define ND_AVX2 __attribute__((target("avx2")))

ND_AVX2 static inline __m256i table16(char b0, char b1, char b2, char b3, char b4, char b5, char b6, char b7,
				      char b8, char b9, char b10, char b11, char b12, char b13, char b14, char b15)
{
	return _mm256_setr_epi8(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b0, b1, b2,
				b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15);
}

/* the 32 bytes ending n bytes before @in, reaching back into @prev */
#define PREV(in, prev, n) _mm256_alignr_epi8((in), _mm256_permute2x128_si256((prev), (in), 0x21), 16 - (n))

ND_AVX2 static inline __m256i hi_nibble(__m256i v)
{
	return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
}

/* 1 when s[0 .. n) (n a multiple of 32) holds only valid sequences and no NUL,
 * the last one possibly left open at the very end; 0 when something may be wrong. */
ND_AVX2 static int blocks_ok(const unsigned char *s, size_t n)
{
	const __m256i b1_high = table16(TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
					TOO_LONG, TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
					TOO_SHORT | OVERLONG_2, TOO_SHORT, TOO_SHORT | OVERLONG_3 | SURROGATE,
					TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
	const __m256i b1_low = table16(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
				       CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000,
				       CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
				       CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
				       CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
				       CARRY | TOO_LARGE | TOO_LARGE_1000,
				       CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
				       CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000);
	const __m256i b2_high = table16(TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
					TOO_SHORT,
					TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
					TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
					TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
					TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE, TOO_SHORT,
					TOO_SHORT, TOO_SHORT, TOO_SHORT);
	const __m256i zero = _mm256_setzero_si256();
	__m256i prev = zero, err = zero;
	for (size_t i = 0; i < n; i += 32) {
		__m256i in = _mm256_loadu_si256((const __m256i *)(s + i));
		__m256i p1 = PREV(in, prev, 1);
		__m256i sc = _mm256_and_si256(
			_mm256_and_si256(_mm256_shuffle_epi8(b1_high, hi_nibble(p1)),
					 _mm256_shuffle_epi8(b1_low, _mm256_and_si256(p1, _mm256_set1_epi8(0x0F)))),
			_mm256_shuffle_epi8(b2_high, hi_nibble(in)));
		/* a byte two back >= 0xE0 or three back >= 0xF0: this byte must be a
		 * continuation, which the tables marked TWO_CONTS (0x80) */
		__m256i p2 = PREV(in, prev, 2), p3 = PREV(in, prev, 3);
		__m256i third = _mm256_subs_epu8(p2, _mm256_set1_epi8((char)(0xE0 - 0x80)));
		__m256i fourth = _mm256_subs_epu8(p3, _mm256_set1_epi8((char)(0xF0 - 0x80)));
		__m256i must = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
		err = _mm256_or_si256(err, _mm256_xor_si256(must, sc));
		err = _mm256_or_si256(err, _mm256_cmpeq_epi8(in, zero));
		prev = in;
	}
	return _mm256_testz_si256(err, err);
}

size_t nd_utf8_avx2_prefix(const unsigned char *s, size_t len)
{
	size_t n = len / 32 * 32;
	if (n == 0 || !blocks_ok(s, n))
		return 0;
	/* back up to the start of a sequence the blocks may have left open at the end:
	 * the caller's walk checks it whole */
	size_t p = n;
	while (p > 0 && n - p < 3 && (s[p - 1] & 0xC0) == 0x80)
		p--;
	if (s[p - 1] >= 0xC0) /* n >= 32, so p >= n - 3 > 0 */
		p--;
	return p;
}

#else /* not x86 or not a GNU-compatible compiler: the scalar walk does it all */

size_t nd_utf8_avx2_prefix(const unsigned char *s, size_t len)
{
	(void)s;
	(void)len;
	return 0;
}

#endif
