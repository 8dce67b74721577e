/* Private parts of the input reader shared with the dataset loader. */
#ifndef ND_INPUT_INTERNAL_H
#define ND_INPUT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "neardup/records.h"

/* Line and column (1-based, columns in characters) of byte @off. */
void nd_input_where(const char *data, size_t size, size_t off, size_t *line, size_t *col);

/* Structural scan of one JSON value at d[p]: *end = offset after it. On failure
 * returns ND_EPARSE/ND_ELIMIT with *err_off and a static *err text. */
int nd_scan_value(const char *d, size_t n, size_t p, size_t *end, size_t *err_off, const char **err);

/* The end of the JSON string at d[p] == '"' (the offset after its closing quote,
 * SIZE_MAX when it is unterminated in d[0..n)), a backslash escaping the byte after
 * it. nd_skip_string is the one the scanner uses (SSE2 on x86-64, else the
 * portable one); both are here so a test can run one against the other. */
size_t nd_skip_string(const char *d, size_t n, size_t p);
size_t nd_skip_string_portable(const char *d, size_t n, size_t p);

/* Pieces a JSON Lines file is cut into for nd_input_collect: large enough that a
 * piece's own costs (a memchr to the next newline, one span array, one work item)
 * vanish beside scanning it (~1 ms per MiB), small enough that two or more workers
 * balance and that a file of a few MiB is already scanned in parallel. */
#define ND_INPUT_PIECE_BYTES ((size_t)1 << 20)

/* Every record of a freshly opened input, as repeated nd_input_next() would find
 * them: *spans (caller frees) holds *count spans, numbered from 0. A JSON Lines
 * file is cut after newlines into pieces of about @piece_bytes (0 = the default
 * above) that @threads workers scan at once; when a piece does not start at a
 * record (one written over several lines) or anything fails, the file is scanned
 * again serially, so the spans, and the error code and message of the first
 * structural error, are those of nd_input_next() at any thread count and piece
 * size. Arrays are scanned serially. Afterwards nd_input_next() returns 0. */
int nd_input_collect(nd_input *in, unsigned threads, size_t piece_bytes, nd_span **spans, size_t *count);

/* Lets the kernel drop the input's resident pages once every record is parsed, so
 * a multi-GB input does not count against the process's memory while later stages
 * run. The data stays readable. */
void nd_input_release_pages(nd_input *in, uint64_t begin, uint64_t end);

#endif
