/* Test runner: runs every registered test (or those whose name contains argv[1]),
 * prints one line per test and the closing "N passed, N failed" line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness.h"
#include "neardup/common.h"

#define MAX_TESTS 2048

static struct {
	const char *name, *file;
	nd_test_fn fn;
} tests[MAX_TESTS];
static int ntests, cur_failed, cur_skipped;
static uint64_t seed;

void nd_test_register(const char *name, const char *file, nd_test_fn fn)
{
	if (ntests < MAX_TESTS) {
		tests[ntests].name = name;
		tests[ntests].file = file;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void nd_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	cur_failed++;
}

void nd_test_skip(const char *why)
{
	printf("    skipped: %s\n", why);
	cur_skipped = 1;
}

uint64_t nd_test_seed(void) { return seed; }

const char *nd_test_fixtures(void)
{
	const char *d = getenv("ND_TEST_FIXTURES");
	return d ? d : "tests/fixtures";
}

const char *nd_test_tmpdir(void)
{
	static char dir[256];
	if (!dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/nd-test-XXXXXX", t ? t : "/tmp");
		if (!mkdtemp(dir))
			snprintf(dir, sizeof dir, "/tmp");
	}
	return dir;
}

const char *nd_test_write(const char *name, const void *data, size_t len)
{
	static char path[8][512];
	static int k;
	k = (k + 1) % 8;
	snprintf(path[k], sizeof path[k], "%s/%s", nd_test_tmpdir(), name);
	FILE *f = fopen(path[k], "wb");
	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
	return path[k];
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0, i;
	const char *s = getenv("ND_TEST_SEED");
	seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	printf("unit tests (seed %llu; rerun with ND_TEST_SEED=%llu)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	for (i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		cur_failed = 0;
		cur_skipped = 0;
		nd_error_clear();
		tests[i].fn();
		if (cur_failed) {
			printf("FAIL %s (%s)\n", tests[i].name, tests[i].file);
			failed++;
		} else if (cur_skipped) {
			printf("skip %s\n", tests[i].name);
			skipped++;
		} else {
			printf("ok   %s\n", tests[i].name);
			passed++;
		}
		fflush(stdout);
	}
	printf("unit: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
