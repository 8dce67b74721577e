/* A small streaming JSON writer over nd_outfile or a memory buffer: objects and
 * arrays nest, commas and indentation are placed for the caller, strings are
 * escaped. Errors stick: after the first failed write every call is a no-op and
 * nd_jw_finish returns it. A writer is used by one thread at a time. */
#ifndef ND_JSONW_H
#define ND_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>   /* strlen, folded for the literal keys and strings of nd_jw_key, nd_jw_str */
#include "internal.h" /* nd_buf */
#include "neardup/records.h"

#define ND_JW_MAX_DEPTH 32
/* Bytes gathered before they are handed to the nd_outfile: a report makes some
 * twenty small writes per line, each a function call with its checks when given
 * one by one. */
#define ND_JW_STAGE 16384

typedef struct {
	nd_outfile *f;               /* the file, or NULL when writing into mem */
	nd_buf *mem;
	char *cur, *lim;             /* where the next byte goes; the end of the room there */
	int rc;
	int depth;
	int pretty;
	int after_key;
	size_t count[ND_JW_MAX_DEPTH]; /* items written at each level */
	char kind[ND_JW_MAX_DEPTH];    /* '}' or ']' to close each level */
	char stage[ND_JW_STAGE];       /* file mode: bytes not yet given to f */
} nd_jw;

void nd_jw_init(nd_jw *w, nd_outfile *f, int pretty);
/* A writer that appends to @mem (the caller's; free it with nd_buf_free) as if it
 * were inside an array at @depth that already holds @items values: its output is
 * what a writer at that point would write next, commas and indentation included.
 * Until nd_jw_flush, @mem->len does not count what was written. */
void nd_jw_init_mem(nd_jw *w, nd_buf *mem, int pretty, int depth, size_t items);
void nd_jw_object(nd_jw *w);
void nd_jw_array(nd_jw *w);
void nd_jw_end(nd_jw *w); /* closes the innermost object or array */
void nd_jw_keyn(nd_jw *w, const char *key, size_t n);
static inline void nd_jw_key(nd_jw *w, const char *key) { nd_jw_keyn(w, key, strlen(key)); }
void nd_jw_strn(nd_jw *w, const char *s, size_t n);
void nd_jw_null(nd_jw *w);
static inline void nd_jw_str(nd_jw *w, const char *s) /* NULL writes null */
{
	if (!s)
		nd_jw_null(w);
	else
		nd_jw_strn(w, s, strlen(s));
}
void nd_jw_int(nd_jw *w, long long v);
void nd_jw_uint(nd_jw *w, unsigned long long v);
void nd_jw_num(nd_jw *w, double v, int digits); /* fixed decimals; NaN/Inf as null */
void nd_jw_bool(nd_jw *w, int v);
void nd_jw_raw(nd_jw *w, const char *json, size_t n); /* an already-valid JSON value */
/* Appends @n bytes that a writer from nd_jw_init_mem(.., w's depth, w's item
 * count) wrote, holding @items values of the innermost array. */
void nd_jw_splice(nd_jw *w, const char *json, size_t n, size_t items);
/* Hands the gathered bytes on (to the file, or counts them in mem->len). @return
 * the first error, or 0. */
int nd_jw_flush(nd_jw *w);
int nd_jw_finish(nd_jw *w); /* writes the final newline and flushes; returns the first error */

/* Writes value @i into @w: the values of an array written by nd_jw_items. @w is
 * not the writer given to nd_jw_items when several threads format. */
typedef void (*nd_jw_item_fn)(nd_jw *w, const void *ctx, size_t i);
/* About how many bytes value @i takes, to cut the array into chunks of similar size. */
typedef size_t (*nd_jw_size_fn)(const void *ctx, size_t i);
/* Writes values 0 .. @n-1 with @item into the array open in @w, formatting chunks
 * of them on @threads workers (0 = all cores) while the formatted ones are written
 * in order, a few MB per worker at a time. The output is the same bytes as calling
 * @item(w, ctx, i) for each i in order, at any thread count; @item must be safe to
 * call from several threads at once. @size may be NULL (256 bytes each).
 * @return the first error (w's, kept in w), or 0. */
int nd_jw_items(nd_jw *w, size_t n, nd_jw_item_fn item, nd_jw_size_fn size, const void *ctx, unsigned threads);

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
