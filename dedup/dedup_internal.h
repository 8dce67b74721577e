/* Private parts of the dedup module. */
#ifndef ND_DEDUP_INTERNAL_H
#define ND_DEDUP_INTERNAL_H

#include "internal.h"
#include "neardup/dedup.h"

/* Runs the enabled guards in order (number, negation, options, image, swap).
 * @return 0 when none fires, else the ND_GUARD_* bit of the first that did;
 * @detail (may be NULL) receives a short reason. Thread-safe. */
unsigned nd_guard_check(const nd_compare *a, const nd_compare *b, unsigned enabled, char *detail, size_t dn);

/* Index 0..4 of a single ND_GUARD_* bit (for per-guard counters). */
int nd_guard_index(unsigned guard);

#endif
