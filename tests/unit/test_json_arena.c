/* nd_json_use_arenas: records read with cJSON's allocations in per-thread arenas
 * are the records read with malloc, bad records get the same errors, and a
 * program's own cJSON trees still work once the hooks are in. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "internal.h"
#include "neardup/records.h"

static const char *str(const char *s) { return s ? s : "(null)"; }

/* Everything a load produced, as one string (or the error it gave). */
static void digest(const char *path, unsigned threads, nd_buf *out)
{
	nd_load_opts o = ND_LOAD_OPTS_INIT;
	nd_dataset *ds = NULL;
	o.threads = threads;
	out->len = 0;
	int rc = nd_dataset_load(&ds, path, &o);
	if (rc) {
		nd_buf_printf(out, "error %d: %s", rc, nd_error_last());
		return;
	}
	for (size_t i = 0; i < nd_dataset_count(ds); i++) {
		const nd_record *r = nd_dataset_record(ds, i);
		const nd_compare *c = nd_dataset_compare(ds, i);
		nd_buf_printf(out, "%zu id=%s stem=%s answer=%s/%d/%u expl=%s image=%s type=%s |", i, str(r->id),
			      str(r->stem), str(r->answer_raw), (int)r->answer_kind, r->answer_mask,
			      str(r->explanation), str(r->image), str(r->type));
		for (size_t k = 0; k < r->n_options; k++)
			nd_buf_printf(out, " opt=%s", r->options[k]);
		nd_buf_printf(out, " text=%s numbers=%s key=%016llx\n", c->text, c->numbers,
			      (unsigned long long)c->exact_key);
	}
	nd_dataset_free(ds);
}

/* Many records of every kind of value (nested objects, arrays, escapes, numbers,
 * literals), enough for several work items at two threads. */
static const char *write_bank(void)
{
	nd_buf b = {0};
	for (int i = 0; i < 3000; i++)
		nd_buf_printf(&b,
			      "{\"id\": %d, \"question\": \"第%d题：在\\\"%s\\\"路段行驶，最高速度为%d公里\\u002F小时？\","
			      " \"options\": [\"A、%d\", \"B、%d\", {\"text\": \"ignored\"}, \"C、%d\"],"
			      " \"answer\": \"%c\", \"explanation\": %s, \"image\": %s, \"meta\": {\"x\": [1, 2.5e3,"
			      " true, false, null], \"y\": {}}}\n",
			      i, i, i % 2 ? "城市" : "高速", 40 + i % 7 * 10, 30 + i % 5, 40 + i % 5, 50 + i % 5,
			      "ABC"[i % 3], i % 4 ? "\"见\\t道路交通安全法\"" : "null",
			      i % 5 ? "null" : "\"img/sign.png\"");
	const char *p = nd_test_write("arena-bank.jsonl", b.data, b.len);
	nd_buf_free(&b);
	return p;
}

TEST(json_arena_reads_the_same_records)
{
	const char *bank = write_bank();
	/* a bad record far in, after whole work items have been read into the arenas */
	nd_buf bad = {0};
	for (int i = 0; i < 2000; i++)
		nd_buf_printf(&bad, "{\"question\": \"题%d\", \"answer\": \"对\"}\n", i);
	nd_buf_printf(&bad, "{\"question\": \"坏\", \"answer\": [1, 2,]}\n");
	const char *broken = nd_test_write("arena-broken.jsonl", bad.data, bad.len);
	nd_buf_free(&bad);

	nd_buf before1 = {0}, before2 = {0}, brk = {0}, after = {0};
	digest(bank, 1, &before1);
	digest(bank, 2, &before2);
	digest(broken, 2, &brk);
	CHECK_MSG(strncmp(before1.data, "0 id=0", 6) == 0, "bank loads: %.200s", before1.data);
	CHECK_MSG(strstr(brk.data, "record 2000") != NULL, "the bad record is named: %s", brk.data);

	nd_json_use_arenas();
	nd_json_use_arenas(); /* twice is harmless */
	for (unsigned t = 1; t <= 3; t++) {
		digest(bank, t, &after);
		CHECK_MSG(after.len == before1.len && memcmp(after.data, before1.data, after.len) == 0,
			  "threads %u: the records differ with the arenas", t);
	}
	CHECK_MSG(before2.len == before1.len && memcmp(before2.data, before1.data, before1.len) == 0,
		  "1 and 2 threads agree");
	digest(broken, 2, &after);
	CHECK_EQ_STR(after.data, brk.data);

	/* the program's own trees: allocated and freed by malloc, outside any reader */
	cJSON *mine = cJSON_Parse("{\"a\": [1, \"two\", {\"b\": null}]}");
	CHECK(mine != NULL);
	if (mine) {
		CHECK_EQ_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(mine, "a"), 1)->valuestring, "two");
		char *txt = cJSON_PrintUnformatted(mine);
		CHECK_EQ_STR(txt, "{\"a\":[1,\"two\",{\"b\":null}]}");
		cJSON_free(txt);
		cJSON_Delete(mine);
	}
	nd_buf_free(&before1);
	nd_buf_free(&before2);
	nd_buf_free(&brk);
	nd_buf_free(&after);
}

TEST(json_arena_reset_keeps_one_block)
{
	nd_arena a = {0};
	a.block_size = 4096;
	void *p = nd_arena_alloc(&a, 100);
	CHECK(p != NULL);
	CHECK(nd_arena_alloc(&a, 100000) != NULL); /* a block of its own */
	for (int i = 0; i < 100; i++)
		CHECK(nd_arena_alloc(&a, 1000) != NULL); /* more blocks */
	nd_arena_reset(&a);
	/* one block of the arena's size is kept and reused from its start */
	void *q = nd_arena_alloc(&a, 100);
	CHECK(q != NULL);
	nd_arena_reset(&a);
	CHECK(nd_arena_alloc(&a, 100) == q);
	nd_arena_free(&a);
	nd_arena empty = {0};
	nd_arena_reset(&empty); /* nothing to keep */
	CHECK(empty.head == NULL);
}
