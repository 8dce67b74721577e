/* Comparing two cJSON trees node by node: the JSON fast path's tests
 * (tests/unit/test_json_fast.c, tests/fuzz/fuzz_json_fast.c). */
#ifndef ND_TEST_JSON_TREE_EQ_H
#define ND_TEST_JSON_TREE_EQ_H
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

/* 1 when trees @a and @b are the same: types, values, keys, and the links,
 * including the head's prev that points at the last child; else 0 with the
 * first difference in @why. */
static int nd_json_same_tree(const cJSON *a, const cJSON *b, char *why, size_t wn)
{
	if (a->type != b->type) {
		snprintf(why, wn, "type %d vs %d", a->type, b->type);
		return 0;
	}
	if (!a->valuestring != !b->valuestring || (a->valuestring && strcmp(a->valuestring, b->valuestring))) {
		snprintf(why, wn, "valuestring \"%s\" vs \"%s\"", a->valuestring ? a->valuestring : "(null)",
			 b->valuestring ? b->valuestring : "(null)");
		return 0;
	}
	if (!a->string != !b->string || (a->string && strcmp(a->string, b->string))) {
		snprintf(why, wn, "key \"%s\" vs \"%s\"", a->string ? a->string : "(null)",
			 b->string ? b->string : "(null)");
		return 0;
	}
	if (a->valueint != b->valueint || memcmp(&a->valuedouble, &b->valuedouble, sizeof(double))) {
		snprintf(why, wn, "number %d/%.17g vs %d/%.17g", a->valueint, a->valuedouble, b->valueint,
			 b->valuedouble);
		return 0;
	}
	const cJSON *x = a->child, *y = b->child, *px = NULL, *py = NULL;
	for (; x && y; px = x, py = y, x = x->next, y = y->next) {
		if ((x->prev == px) != (y->prev == py)) {
			snprintf(why, wn, "prev link differs");
			return 0;
		}
		if (!nd_json_same_tree(x, y, why, wn))
			return 0;
	}
	if (x || y) {
		snprintf(why, wn, "child counts differ");
		return 0;
	}
	if (a->child && ((a->child->prev == px) != (b->child->prev == py))) {
		snprintf(why, wn, "head's prev differs");
		return 0;
	}
	return 1;
}

#endif
