/* A very small unit-test harness: TEST(name) { ... } registers a test through a
 * constructor; CHECK* record failures and keep going; main() lives in harness.c.
 * Tests that draw random data print their seed and honour ND_TEST_SEED. */
#ifndef ND_TEST_HARNESS_H
#define ND_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*nd_test_fn)(void);
void nd_test_register(const char *name, const char *file, nd_test_fn fn);
void nd_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void nd_test_skip(const char *why);
uint64_t nd_test_seed(void);
/* Directory holding fixtures (tests/fixtures) and a scratch dir for outputs. */
const char *nd_test_fixtures(void);
const char *nd_test_tmpdir(void);
/* Writes @len bytes to a file named @name in nd_test_tmpdir() and returns its path
 * (one of 8 rotating static buffers, so a few paths can be alive at once). */
const char *nd_test_write(const char *name, const void *data, size_t len);

#define TEST(name)                                                              \
	static void test_##name(void);                                          \
	__attribute__((constructor)) static void register_##name(void)          \
	{                                                                       \
		nd_test_register(#name, __FILE__, test_##name);                 \
	}                                                                       \
	static void test_##name(void)

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond))                                                    \
			nd_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);   \
	} while (0)
#define CHECK_MSG(cond, ...)                                                    \
	do {                                                                    \
		if (!(cond))                                                    \
			nd_test_fail(__FILE__, __LINE__, __VA_ARGS__);          \
	} while (0)
#define CHECK_EQ_INT(a, b)                                                      \
	do {                                                                    \
		long long va_ = (long long)(a), vb_ = (long long)(b);           \
		if (va_ != vb_)                                                 \
			nd_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
				     #a, va_, #b, vb_);                          \
	} while (0)
#define CHECK_EQ_STR(a, b)                                                      \
	do {                                                                    \
		const char *sa_ = (a), *sb_ = (b);                              \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                      \
			nd_test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", \
				     #a, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); \
	} while (0)
/* Evaluate an nd_* call and fail (showing nd_error_last()) when it is non-zero. */
#define CHECK_OK(call)                                                          \
	do {                                                                    \
		int rc_ = (call);                                               \
		if (rc_ != 0)                                                   \
			nd_test_fail(__FILE__, __LINE__, "%s returned %d: %s", #call, rc_, \
				     nd_error_last());                           \
	} while (0)

#endif
