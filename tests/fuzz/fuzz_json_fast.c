/* Fuzz target: the record parser's fast path (core/json_fast.c) against cJSON on
 * any bytes. Invariant: whenever the fast path answers, cJSON_ParseWithLengthOpts
 * accepts the same bytes with the same tree and the same end; libFuzzer's input
 * is exactly @size bytes, so a read past them is a sanitizer error. */
#include "fuzz_common.h"
#include "internal.h"
#include "json_fast.h"
#include "json_tree_eq.h"

static nd_arena arena;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fe = NULL, *ce = NULL;
	cJSON *f = nd_json_parse_fast((const char *)data, size, &arena, &fe);
	if (f) {
		char why[256] = "";
		cJSON *c = cJSON_ParseWithLengthOpts((const char *)data, size, &ce, 0);
		FZ_ASSERT(c != NULL);
		FZ_ASSERT(fe == ce);
		if (!nd_json_same_tree(f, c, why, sizeof why)) {
			fprintf(stderr, "fast path differs from cJSON: %s\n", why);
			FZ_ASSERT(0);
		}
		cJSON_Delete(c);
	}
	nd_arena_reset(&arena);
	return 0;
}
