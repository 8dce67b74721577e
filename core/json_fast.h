/* The record parser's fast path (core/json_fast.c). */
#ifndef ND_JSON_FAST_H
#define ND_JSON_FAST_H
#include <cjson/cJSON.h>
#include "internal.h"

/* The tree cJSON_ParseWithLengthOpts(text, len, end, 0) builds, its nodes and
 * strings in @a (freed with @a: never cJSON_Delete it), and *end where cJSON's
 * would be. NULL when the text is malformed or takes a form left to cJSON (see
 * json_fast.c): parse it with cJSON then, which decides and words the error. */
cJSON *nd_json_parse_fast(const char *text, size_t len, nd_arena *a, const char **end);

#endif
