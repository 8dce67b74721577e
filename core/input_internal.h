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

/* Lets the kernel drop the input's resident pages once every record is parsed, so
 * a multi-GB input does not count against the process's memory while later stages
 * run. The data stays readable. */
void nd_input_release_pages(nd_input *in, uint64_t begin, uint64_t end);

#endif
