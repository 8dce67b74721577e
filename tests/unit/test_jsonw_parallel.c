/* nd_jw_items: an array formatted by chunks on several threads is the same bytes
 * as the serial writer's, at any thread count, in pretty and compact form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "internal.h"

#include "jsonw.h"

/* Values of varied shape and size: nested objects, arrays, escaped strings, and
 * now and then a large one (bigger than a chunk, which is about 1 MB). */
typedef struct {
	uint64_t seed;
	size_t big_every;
} items_ctx;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void item(nd_jw *w, const void *ctx, size_t i)
{
	const items_ctx *c = ctx;
	uint64_t r = mix(c->seed ^ (i * 0x9E3779B97F4A7C15ULL));
	size_t members = c->big_every && i % c->big_every == 0 ? 3000 : (size_t)(r % 5);
	switch (r % 4) {
	case 0:
		nd_jw_uint(w, i);
		return;
	case 1:
		nd_jw_str(w, i % 3 ? "plain" : "quote \" tab \t 驾 \xC3");
		return;
	default:
		break;
	}
	nd_jw_object(w);
	nd_jw_key(w, "i");
	nd_jw_uint(w, i);
	nd_jw_key(w, "members");
	nd_jw_array(w);
	for (size_t k = 0; k < members; k++) {
		nd_jw_object(w);
		nd_jw_key(w, "k");
		nd_jw_int(w, -(long long)k);
		nd_jw_key(w, "s");
		nd_jw_num(w, (double)(r % 1000) / 997.0, 4);
		nd_jw_end(w);
	}
	nd_jw_end(w);
	if (r & 64) {
		nd_jw_key(w, "empty");
		nd_jw_object(w);
		nd_jw_end(w);
	}
	nd_jw_end(w);
}

/* Most values are small; the size estimate is deliberately rough. */
static size_t item_size(const void *ctx, size_t i)
{
	const items_ctx *c = ctx;
	return c->big_every && i % c->big_every == 0 ? 1000000 : 3000;
}

/* Writes a document holding the array @before + @n values and returns its bytes
 * (malloc'd), or NULL. threads 1 is the serial writer. */
static char *write_doc(const char *name, int pretty, size_t before, size_t n, unsigned threads,
		       const items_ctx *c, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", nd_test_tmpdir(), name);
	nd_outfile *f;
	CHECK_OK(nd_outfile_open(&f, path));
	nd_jw w;
	nd_jw_init(&w, f, pretty);
	nd_jw_object(&w);
	nd_jw_key(&w, "list");
	nd_jw_array(&w);
	for (size_t i = 0; i < before; i++)
		nd_jw_str(&w, "before");
	CHECK_OK(nd_jw_items(&w, n, item, item_size, c, threads));
	nd_jw_end(&w);
	nd_jw_key(&w, "after");
	nd_jw_bool(&w, 1);
	nd_jw_end(&w);
	CHECK_OK(nd_jw_commit(&w, f));
	FILE *in = fopen(path, "rb");
	if (!in)
		return NULL;
	fseek(in, 0, SEEK_END);
	long size = ftell(in);
	fseek(in, 0, SEEK_SET);
	char *buf = malloc((size_t)size + 1);
	*len = buf ? fread(buf, 1, (size_t)size, in) : 0;
	fclose(in);
	return buf;
}

TEST(json_items_parallel_same_bytes)
{
	items_ctx c = {nd_test_seed(), 0};
	static const size_t counts[] = {0, 1, 2, 700, 5000};
	static const unsigned threads[] = {2, 3, 8};
	for (int pretty = 0; pretty <= 1; pretty++) {
		for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
			for (size_t before = 0; before <= 2; before += 2) {
				/* every 97th value big: many chunks and rounds; and none */
				c.big_every = ci % 2 ? 97 : 0;
				size_t n1 = 0;
				char *serial = write_doc("items-1.json", pretty, before, counts[ci], 1, &c, &n1);
				CHECK(serial != NULL);
				for (size_t t = 0; serial && t < sizeof threads / sizeof *threads; t++) {
					size_t nt = 0;
					char *par = write_doc("items-t.json", pretty, before, counts[ci], threads[t], &c, &nt);
					CHECK_MSG(par && nt == n1 && memcmp(par, serial, n1) == 0,
						  "pretty %d, %zu values after %zu, %u threads: %zu bytes, serial %zu",
						  pretty, counts[ci], before, threads[t], nt, n1);
					free(par);
				}
				free(serial);
			}
		}
	}
}

/* The memory writer continues an array as the parent would: a value spliced in
 * reads the same as one written directly. */
TEST(json_mem_writer_splices)
{
	nd_buf b = {0};
	nd_jw m;
	nd_jw_init_mem(&m, &b, 1, 2, 1);
	nd_jw_object(&m);
	nd_jw_key(&m, "x");
	nd_jw_uint(&m, 1);
	nd_jw_end(&m);
	nd_jw_uint(&m, 2);
	CHECK_OK(nd_jw_flush(&m));
	CHECK_EQ_STR(b.data, ",\n    {\n      \"x\": 1\n    },\n    2");
	nd_buf_free(&b);

	/* the same without items before: no leading comma */
	nd_jw_init_mem(&m, &b, 0, 1, 0);
	nd_jw_str(&m, "a");
	nd_jw_null(&m);
	CHECK_OK(nd_jw_flush(&m));
	CHECK_EQ_STR(b.data, "\"a\",null");
	nd_buf_free(&b);
}

TEST(json_items_errors)
{
	/* not inside an array */
	char path[512];
	snprintf(path, sizeof path, "%s/items-err.json", nd_test_tmpdir());
	nd_outfile *f;
	items_ctx c = {1, 0};
	CHECK_OK(nd_outfile_open(&f, path));
	nd_jw w;
	nd_jw_init(&w, f, 1);
	nd_jw_object(&w);
	CHECK_EQ_INT(nd_jw_items(&w, 3, item, NULL, &c, 2), ND_EINTERNAL);
	CHECK_EQ_INT(nd_jw_finish(&w), ND_EINTERNAL);
	nd_outfile_abort(f);

	/* a failed write while workers format: the error comes back, nothing leaks */
	FILE *probe = fopen("/dev/full", "wb");
	if (!probe) {
		nd_test_skip("no /dev/full");
		return;
	}
	fclose(probe);
	for (unsigned t = 1; t <= 3; t++) {
		CHECK_OK(nd_outfile_open(&f, "/dev/full"));
		nd_jw_init(&w, f, 1);
		nd_jw_array(&w);
		c.big_every = 5;
		CHECK_EQ_INT(nd_jw_items(&w, 400, item, item_size, &c, t), ND_EIO);
		CHECK_EQ_INT(nd_jw_finish(&w), ND_EIO);
		nd_outfile_abort(f);
	}
}
