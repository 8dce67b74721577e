/* nd_hash64's implementation, inline for the loops that hash millions of short
 * strings (shingles): core/hash.c describes the design and holds the one
 * out-of-line copy, so both give the same values by construction. */
#ifndef ND_HASH_IMPL_H
#define ND_HASH_IMPL_H
#include <stdint.h>
#include <string.h>

/* Odd 64-bit constants with 30..34 bits set, drawn once from a CSPRNG (Python
 * random.SystemRandom().getrandbits(64) | 1, filtered on popcount). In K1 and K2
 * byte 1 was then overwritten with 0xFE, a byte that never occurs in UTF-8 nor in
 * the 0xFF-separated shingle strings: a lane equals K1 or K2 (the only way a mum
 * operand becomes zero) only if the input holds a 0xFE byte; on other data the
 * chance is 2^-64 per lane. */
#define K0 UINT64_C(0x1816b72147fa4f07)
#define K1 UINT64_C(0xd7c32c57027bfe87)
#define K2 UINT64_C(0xd32d6c9cc30dfe07)
#define K3 UINT64_C(0xc8779b9296026c5d)
#define K4 UINT64_C(0x02accbdfef0642ab)
#define M1 UINT64_C(0xdd36e9b009a0859f)
#define M2 UINT64_C(0xed1ef945ad8a0b71)

static inline uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8); /* unaligned-safe; one MOV on x86 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v); /* same hash on every host */
#endif
	return v;
}

static inline uint64_t rd32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* lo ^ hi of the 128-bit product */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
	unsigned __int128 p = (unsigned __int128)a * b;
	return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
	/* schoolbook 32x32 products; same value as the __int128 path */
	uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
	uint64_t lo = (mid << 32) | (uint32_t)ll;
	uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
	return lo ^ hi;
#endif
}

static inline uint64_t nd_hash64_inline(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ K0, a, b, x;

	if (len <= 16) {
		if (len >= 8) {
			a = rd64(p);
			b = rd64(p + len - 8);
		} else if (len >= 4) {
			a = rd32(p);
			b = rd32(p + len - 4);
		} else if (len > 0) {
			/* first, middle and last byte: all three bytes for len 3 */
			a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t left = len;
		while (left > 16) {
			h = (h + mum(rd64(p) ^ K1, rd64(p + 8) ^ K2)) * K3;
			p += 16;
			left -= 16;
		}
		/* the last 16 bytes, overlapping the previous block when left < 16 */
		a = rd64(p + left - 16);
		b = rd64(p + left - 8);
	}
	x = h + mum(a ^ K1, b ^ K2);
	x ^= (uint64_t)len * K4;
	/* bijective finaliser: xorshift, multiply, twice */
	x ^= x >> 32;
	x *= M1;
	x ^= x >> 29;
	x *= M2;
	x ^= x >> 32;
	return x;
}

#endif
