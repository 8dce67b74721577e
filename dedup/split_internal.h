/* Private parts of the split: the plan, shared by split.c (grouping, assignment) and
 * emit.c (writing the parts). */
#ifndef ND_SPLIT_INTERNAL_H
#define ND_SPLIT_INTERNAL_H

#include "internal.h"
#include "neardup/split.h"

/* One stratum: a (type, category) pair and how its records were placed. */
typedef struct {
	const char *type, *category; /* NULL when the records have none */
	size_t records;
	size_t *per_part; /* records in each part */
} nd_split_stratum;

struct nd_split_plan {
	size_t n;              /* records in the dataset */
	int *part_of;          /* per record: part or -1 */
	uint32_t *group_of;    /* per record: group id (smallest kept index) or UINT32_MAX */
	nd_split_part parts[ND_SPLIT_MAX_PARTS];
	size_t nparts;
	nd_split_stratum *strata;
	size_t nstrata;
	nd_split_stats stats;
	nd_split_opts opts;    /* as given (spec points into the arena) */
	nd_arena arena;
};

/* Parses @spec into names (arena strings) and ratios normalised to sum 1.
 * @return the number of parts or ND_EINVAL; @names/@ratios may be NULL to check only. */
int nd_split_spec_parse(const char *spec, nd_arena *arena, const char **names, double *ratios);

#endif
