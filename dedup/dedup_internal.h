/* Private parts of the dedup module. */
#ifndef ND_DEDUP_INTERNAL_H
#define ND_DEDUP_INTERNAL_H

#include "internal.h"
#include "neardup/dedup.h"

/* Runs the enabled guards in order (number, negation, options, image, swap).
 * @return 0 when none fires, else the ND_GUARD_* bit of the first that did;
 * @detail (may be NULL) receives a short reason. Thread-safe. */
unsigned nd_guard_check(const nd_compare *a, const nd_compare *b, unsigned enabled, char *detail, size_t dn);
/* nd_guard_check, stricter, for pairs only the semantic pass found: an image on one
 * side only is a difference, and so is a stem hunk that rewords with disjoint words,
 * or a contrast word on each side when the stems are too far apart to diff. */
unsigned nd_guard_check_strict(const nd_compare *a, const nd_compare *b, unsigned enabled, char *detail,
			       size_t dn);
/* 1 when both records have an answer and the answers differ. */
int nd_answers_differ(const nd_compare *a, const nd_compare *b);

/* 1 when records a and b have one shingle set because their texts are the same
 * bytes (the lexical pass groups identical texts); 0 for texts without one. */
int nd_shingle_sets_same(const nd_shingle_sets *s, size_t a, size_t b);

/* Index 0..4 of a single ND_GUARD_* bit (for per-guard counters). */
int nd_guard_index(unsigned guard);

/* Union-find with path halving; the smaller index is always the root, so the
 * result does not depend on the order in which pairs are joined. */
static inline uint32_t nd_uf_find(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

/* Joins the sets of a and b. @return 1 when they were apart. */
static inline int nd_uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
	a = nd_uf_find(parent, a);
	b = nd_uf_find(parent, b);
	if (a == b)
		return 0;
	if (a < b)
		parent[b] = a;
	else
		parent[a] = b;
	return 1;
}

#endif
