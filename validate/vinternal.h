/* validate/ — private: the check registry and the validation object. */
#ifndef ND_VINTERNAL_H
#define ND_VINTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "internal.h"
#include "neardup/validate.h"

/* The registry, in report order. Keep docs/validation-schema.md in step. */
enum {
	/* schema */
	VC_PARSE_ERRORS = 0,
	VC_MISSING_STEM,
	VC_MISSING_ANSWER,
	VC_BAD_ANSWER,
	VC_OPTIONS_MISSING,
	VC_TYPE_OPTIONS,
	VC_ANSWER_COUNT,
	VC_JUDGE_ANSWER,
	VC_ALPACA_EMPTY,
	VC_ALPACA_HISTORY,
	VC_CHAT_ROLES,
	VC_CHAT_TURNS,
	VC_CHAT_EMPTY_TURN,
	/* hygiene */
	VC_HTML,
	VC_MOJIBAKE,
	VC_CONTROL,
	VC_MIXED_PUNCT,
	VC_DOUBLED_PUNCT,
	VC_LOW_CJK,
	VC_REPEATED,
	VC_LENGTH_OUTLIER,
	VC_EMPTY_EXPL,
	VC_IMAGE_MISSING,
	/* duplicates */
	VC_RESIDUAL_EXACT,
	VC_RESIDUAL_NEAR,
	VC_RESIDUAL_PROBE,
	VC_CONFLICTS,
	VC_SAME_STEM,
	VC_LEAK_EXACT,
	VC_LEAK_NEAR,
	/* distribution */
	VC_ANSWER_SKEW,
	VC_REDUCTION,
	/* baseline */
	VC_BASE_DROP,
	VC_BASE_DUP_GROWTH,
	VC_BASE_NEW_FAILURES,
	VC_COUNT
};

/* Per-record checks are bits of one word per record (VC_MISSING_STEM .. VC_IMAGE_MISSING). */
#define VC_FIRST_RECORD_CHECK VC_MISSING_STEM
#define VC_LAST_RECORD_CHECK VC_IMAGE_MISSING

typedef struct {
	const char *id, *category, *title, *unit;
	double warn, fail; /* defaults; NaN = none */
} vc_def;

extern const vc_def nd_vc_defs[VC_COUNT];
int nd_vc_find(const char *id); /* registry index or -1 */
int nd_vc_is_fraction(int k);   /* unit is a rate or share: levels must be <= 1 */

struct nd_gates {
	double warn[VC_COUNT], fail[VC_COUNT];
};

typedef struct {
	nd_vexample *v;
	size_t n, cap;
} vc_examples;

#define ND_LEN_BINS 20
#define ND_SIM_BINS 20
#define ND_CSIZE_BINS 8

typedef struct {
	const char *name;
	size_t count;
} nd_vcount;

typedef enum { VMODE_DATASET = 0, VMODE_REPORT, VMODE_SPLIT } nd_vmode;

typedef struct {
	const char *role; /* "data", "report", "input", "output", "train", "val", "test" */
	const char *path;
	size_t records;   /* SIZE_MAX = not counted */
	uint64_t size;
	const char *sha256; /* NULL = not computed */
} nd_vsource;

struct nd_validation {
	nd_vmode mode;
	nd_arena arena;
	nd_vcheck checks[VC_COUNT];
	vc_examples ex[VC_COUNT];
	size_t max_examples;
	nd_vsource sources[5];
	size_t n_sources;
	const char *preset;
	size_t records;  /* validated, parse errors included */
	size_t split_records[3];
	/* parameters of the residual scan */
	int residual_run;
	double threshold, probe;
	unsigned ngram;
	const char *method;
	/* distributions */
	nd_vcount *types, *categories;
	size_t n_types, n_categories, other_types, other_categories;
	size_t pos_single[ND_MAX_OPTIONS], pos_multi[ND_MAX_OPTIONS];
	size_t single_choice, judge_true, judge_false;
	double len_median, len_mad, len_p95;
	size_t len_max, len_bin_width, len_bins[ND_LEN_BINS];
	double cjk_median;
	double sim_from;
	size_t sim_bins[ND_SIM_BINS];
	size_t csize_bins[ND_CSIZE_BINS];
	int has_reduction;
	size_t red_in, red_out, red_removed, red_clusters, red_conflicts;
	/* baseline */
	const char *baseline_path;
	size_t base_records;
	double base_dup;
	char **base_bad_ids; /* ids that warned or failed in the baseline */
	size_t n_base_bad;
	int has_baseline;
	nd_vstatus overall;
	nd_vtimings timings;
};

extern const char *const nd_csize_labels[ND_CSIZE_BINS];

/* Allocates the object with every check registered (SKIP, not applicable). */
int nd_validation_new(nd_validation **out, nd_vmode mode, size_t max_examples);
/* Marks check k as measured. */
void nd_vc_measure(nd_validation *v, int k, double value, size_t count, size_t total);
/* Adds an example (detail copied); keeps the first max_examples. */
int nd_vc_example(nd_validation *v, int k, size_t index, int split, const char *fmt, ...) ND_PRINTF(5, 6);
const char *nd_vstrdup(nd_validation *v, const char *s);

/* The measurement itself (run.c). */
typedef struct {
	const char *path[3];   /* sources: 1 (dataset, output) or up to 3 (splits) */
	const char *display[3];
	int nsrc;
	const unsigned char *exclude; /* for source 0 only: records left out (dry-run report) */
	size_t exclude_n;
	int split;             /* split mode: path[i] is split i (NULL = absent) */
} nd_vinput;
int nd_validate_run(nd_validation *v, const nd_vinput *in, const nd_validate_opts *o);

/* Reads a whole small file (gates, baseline, report) into a NUL-terminated malloc'd
 * buffer; @what names it in the error message. */
int nd_vslurp(const char *path, const char *what, char **out, size_t *len);
/* Check order for display: worst status first, then registry order; @return the count. */
int nd_vc_display_order(const nd_validation *v, int *order);
/* "#12", "test #3", or "" for an example about the whole collection. */
void nd_vexample_label(const nd_vexample *e, char *buf, size_t n);

/* Number formatting shared by the writers: "1.25%", "3", "0.95". */
void nd_vc_format_value(const nd_vcheck *c, double x, char *buf, size_t n);

#endif
