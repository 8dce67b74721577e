#include "harness.h"
#include "internal.h"
#include "neardup/common.h"

TEST(error_messages_are_thread_local_and_prefixed)
{
	CHECK_EQ_INT(nd_seterr(ND_EINVAL, "bad %d", 7), ND_EINVAL);
	CHECK_EQ_STR(nd_error_last(), "bad 7");
	nd_error_prefix(ND_EINVAL, "file.json");
	CHECK_EQ_STR(nd_error_last(), "file.json: bad 7");
	nd_error_clear();
	CHECK_EQ_STR(nd_error_last(), "");
	CHECK_EQ_STR(nd_strerror(ND_EUTF8), "invalid UTF-8");
	CHECK_EQ_STR(nd_version(), ND_VERSION_STRING);
}

TEST(buf_and_arena_grow)
{
	nd_buf b = {0};
	nd_arena a = {0};
	int i;
	for (i = 0; i < 1000; i++)
		CHECK_OK(nd_buf_printf(&b, "%d,", i));
	CHECK(b.len > 2000);
	CHECK(memcmp(b.data, "0,1,2,", 6) == 0);
	CHECK_EQ_INT(b.data[b.len], 0);
	nd_buf_free(&b);
	for (i = 0; i < 10000; i++) {
		char *s = nd_arena_strndup(&a, "hello world", 5);
		CHECK(s && strcmp(s, "hello") == 0);
		CHECK(((uintptr_t)s & 7) == 0);
	}
	CHECK(nd_arena_alloc(&a, 1 << 20) != NULL); /* larger than a block */
	nd_arena_free(&a);
	nd_arena_free(NULL);
}

typedef struct {
	int *hits;
	size_t fail_at;
} pf_ctx;

static int pf_body(void *ctx, size_t b, size_t e, unsigned w)
{
	pf_ctx *c = ctx;
	(void)w;
	for (size_t i = b; i < e; i++) {
		if (i >= c->fail_at)
			return nd_seterr(ND_EPARSE, "failed at item %zu", i);
		c->hits[i]++;
	}
	return 0;
}

TEST(parallel_for_covers_range_and_reports_lowest_error)
{
	int hits[1000] = {0};
	pf_ctx c = {hits, (size_t)-1};
	unsigned t;
	for (t = 1; t <= 8; t *= 2) {
		memset(hits, 0, sizeof hits);
		CHECK_OK(nd_parallel_for(1000, 7, t, pf_body, &c));
		for (int i = 0; i < 1000; i++)
			CHECK_EQ_INT(hits[i], 1);
	}
	c.fail_at = 500;
	for (t = 1; t <= 8; t *= 2) {
		CHECK_EQ_INT(nd_parallel_for(1000, 7, t, pf_body, &c), ND_EPARSE);
		/* item 500 sits in chunk 71 (497..503): its failure, at 500, is reported */
		CHECK_EQ_STR(nd_error_last(), "failed at item 500");
	}
}

