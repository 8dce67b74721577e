/* A small streaming JSON writer over nd_outfile: objects and arrays nest, commas
 * and indentation are placed for the caller, strings are escaped. Errors stick:
 * after the first failed write every call is a no-op and nd_jw_finish returns it. */
#ifndef ND_JSONW_H
#define ND_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include "neardup/records.h"

#define ND_JW_MAX_DEPTH 32

typedef struct {
	nd_outfile *f;
	int rc;
	int depth;
	int pretty;
	int count[ND_JW_MAX_DEPTH]; /* items written at each level */
	char kind[ND_JW_MAX_DEPTH];  /* '}' or ']' to close each level */
	int after_key;
} nd_jw;

void nd_jw_init(nd_jw *w, nd_outfile *f, int pretty);
void nd_jw_object(nd_jw *w);
void nd_jw_array(nd_jw *w);
void nd_jw_end(nd_jw *w); /* closes the innermost object or array */
void nd_jw_key(nd_jw *w, const char *key);
void nd_jw_str(nd_jw *w, const char *s); /* NULL writes null */
void nd_jw_strn(nd_jw *w, const char *s, size_t n);
void nd_jw_int(nd_jw *w, long long v);
void nd_jw_uint(nd_jw *w, unsigned long long v);
void nd_jw_num(nd_jw *w, double v, int digits); /* fixed decimals; NaN/Inf as null */
void nd_jw_bool(nd_jw *w, int v);
void nd_jw_null(nd_jw *w);
void nd_jw_raw(nd_jw *w, const char *json, size_t n); /* an already-valid JSON value */
int nd_jw_finish(nd_jw *w); /* writes the final newline; returns the first error */

/* The members every neardup JSON document starts with, inside its root object:
 * "schema": @schema, "tool": {"name": @tool, "version": @version}. */
void nd_jw_header(nd_jw *w, const char *schema, const char *tool, const char *version);
/* Finishes the document and renames the file into place, or removes it when any
 * write failed. Frees @f either way. @return the first error, or 0. */
int nd_jw_commit(nd_jw *w, nd_outfile *f);

/* Escapes @s into @b as a JSON string body (no quotes). Invalid UTF-8 is replaced
 * by U+FFFD so the output is always valid JSON. */
int nd_json_escape(nd_buf *b, const char *s, size_t n);

#endif
