/* nd_hash64: the one 64-bit hash every module uses (shingles, band keys, text
 * identity). Structure:
 *
 *   - input is read as 64-bit little-endian lanes, two lanes (16 bytes) at a time;
 *   - a pair of lanes is folded with a full 64x64->128-bit multiply, keeping
 *     lo ^ hi of the product ("mum"): every input bit reaches about half of the
 *     product bits, at the cost of one MUL;
 *   - longer inputs chain their 16-byte blocks through h = (h + mum(block)) * K3,
 *     which is a bijection of h for each block, so the block multiplies do not wait
 *     on each other and only an add and a multiply sit on the critical path;
 *   - the last (or only) 16 bytes go through one more mum, which is added to the
 *     chain; the length is mixed in, and a bijective xorshift-multiply finaliser
 *     spreads the result so that one flipped input bit flips each output bit with
 *     probability ~1/2 (the avalanche test in tests/unit/test_lexical.c checks it).
 *
 * Inputs of at most 16 bytes are read without a loop: two overlapping lanes
 * (first and last 8 or 4 bytes, or three single bytes below 4), which together
 * with the length determine the input exactly, so distinct short inputs reach the
 * multiply as distinct (a, b, len).
 *
 * A mum is zero when either operand is zero, which would wipe out the other
 * operand; see K1/K2 below for why that cannot happen on UTF-8 text.
 *
 * The seed enters additively before the finaliser: different seeds give different
 * functions, but not independent ones. Callers that need a family of independent
 * functions (MinHash) build it on top of one nd_hash64 value.
 */
#include "hash_impl.h"
#include "internal.h"
#include "neardup/lexical.h"

uint64_t nd_hash64(const void *data, size_t len, uint64_t seed) { return nd_hash64_inline(data, len, seed); }
