/* neardup — a leakage-free split of deduplicated records into parts (train/val/test),
 * and writing the parts as they were read or in LLaMA-Factory's formats.
 *
 * After nd_dedup_run, only the records kept go into parts (one per cluster). They are
 * first joined into *groups* that must not be separated:
 *   conflicts  duplicates whose answers differ (--on-conflict separate keeps both);
 *   variants   near-twins a guard kept apart (nd_result_variants), by default;
 *   near pairs records whose shingle-set Jaccard reaches opts.near_threshold (0.65 by
 *              default, guards ignored, or honoured when variants are not grouped):
 *              a wider radius than the dedup threshold catches duplicates the dedup
 *              missed (re-worded copies, chained clusters), which would otherwise be
 *              a leak of their own.
 * A pair involving a removed record counts for the record kept in its place
 * (nd_result_kept_by); records of a cluster dropped by --on-conflict drop go nowhere.
 * Groups are then stratified by (type, category) and assigned to parts by
 * nd_split_assign (docs/split.md describes the algorithm and its guarantees).
 *
 * Functions here are thread-safe on separate objects; a plan is read-only once made.
 */
#ifndef ND_SPLIT_H
#define ND_SPLIT_H

#include "neardup/common.h"
#include "neardup/dedup.h"
#include "neardup/records.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ND_SPLIT_MAX_PARTS 32 /* more parts than this is an ND_EINVAL spec error */
#define ND_SPLIT_NAME_MAX 64  /* bytes of a part name, which becomes a file name */

/*! nd_split_spec_check() :
 * Checks a split spec without data: "train=0.7,val=0.2,test=0.1" or
 * "train=70,val=20,test=10" — names of [A-Za-z0-9_-] (at most ND_SPLIT_NAME_MAX
 * bytes, distinct, neither "split" nor "dataset_info", which name files of their
 * own), each ratio > 0, and the ratios summing to 1 or to 100 (within 1e-6 relative).
 * @return the number of parts (>= 1), or ND_EINVAL with a message naming the
 *   offending part ("part 'test' has ratio 0: an empty part"). */
ND_API int nd_split_spec_check(const char *spec);

/*! nd_split_assign() :
 * The assignment itself, on groups alone (nd_split_plan_create calls it; exposed for
 * tests and other callers). Writes part_of[g] in [0, n_parts) for each of @n_groups
 * groups of sizes @size (records, each >= 1) in strata @stratum (NULL = one stratum);
 * @ratios (n_parts of them, > 0, any positive sum: they are normalised) are the
 * targets. Deterministic for a given @seed, which only orders groups of equal size
 * within a stratum. Every part gets at least one group.
 * @return 0; ND_EINVAL (NULL argument, n_parts == 0 or > ND_SPLIT_MAX_PARTS, a
 *   ratio <= 0, a group of size 0, more parts than groups); ND_ENOMEM. */
ND_API int nd_split_assign(int *part_of, const size_t *size, const uint32_t *stratum, size_t n_groups,
			   const double *ratios, size_t n_parts, uint64_t seed);

#define ND_SPLIT_OPTS_VERSION 1
typedef struct {
	unsigned version;      /* ND_SPLIT_OPTS_VERSION */
	const char *spec;      /* "train=0.7,val=0.2,test=0.1" (nd_split_spec_check); required */
	uint64_t seed;         /* orders equal-size groups; default 1 */
	int group_variants;    /* keep variants (guard-vetoed near-twins) together; default 1 */
	double near_threshold; /* Jaccard that ties two records to one group, in (0, 1];
	                        * 0 = only clusters, conflicts and variants; default 0.65
	                        * (docs/split.md: the widest radius whose groups stay small
	                        * on the real banks, and that keeps every gold cluster of
	                        * the generated corpus in one part) */
	unsigned ngram;        /* shingle size of the near pass; default 1 (as dedup's) */
	unsigned guards;       /* ND_GUARD_* whose firing makes a near pair a variant (split
	                        * apart when group_variants is 0); default ND_GUARD_ALL */
	int stratify;          /* by type and category, when records have them; default 1 */
	unsigned threads;      /* 0 = all cores; the plan does not depend on it */
} nd_split_opts;
#define ND_SPLIT_OPTS_INIT { ND_SPLIT_OPTS_VERSION, NULL, 1, 1, 0.65, 1, ND_GUARD_ALL, 1, 0 }

/* One part of a plan. Strings are owned by the plan. */
typedef struct {
	const char *name;  /* "train" */
	double ratio;      /* target share (normalised: the ratios sum to 1) */
	double achieved;   /* records / records placed */
	size_t records;    /* records placed in this part */
	size_t groups;     /* groups placed in this part */
} nd_split_part;

typedef struct {
	size_t records;          /* records placed (the dedup's kept records) */
	size_t groups;           /* groups formed from them */
	size_t largest_group;    /* records in the largest group */
	size_t multi_groups;     /* groups of two records or more */
	size_t joined_conflict;  /* pairs that joined two groups, by the reason */
	size_t joined_variant;
	size_t joined_near;
	size_t near_pairs;       /* pairs the near pass found (0 when it did not run) */
	size_t strata;           /* distinct (type, category); 1 when not stratified */
	double max_deviation;    /* max over parts of |achieved - ratio| */
	double max_stratum_deviation; /* the same inside each stratum of >= 20 records, max */
} nd_split_stats;

typedef struct nd_split_plan nd_split_plan;

/*! nd_split_plan_create() :
 * Groups the records @res kept from @ds and assigns the groups to parts. @res must
 * come from nd_dedup_run on @ds. @opts->spec is required.
 * @return 0; ND_EINVAL (bad spec or options; more parts than groups: the message says
 *   how many groups there are); ND_ENOMEM; ND_EINTR; the nd_lex_pairs codes. */
ND_API int nd_split_plan_create(nd_split_plan **out, const nd_dataset *ds, const nd_result *res,
				const nd_split_opts *opts);

/*! nd_split_plan_free() : NULL is a no-op. */
ND_API void nd_split_plan_free(nd_split_plan *p);

/*! nd_split_plan_parts() : @return the number of parts; *parts points into @p, in spec order. */
ND_API size_t nd_split_plan_parts(const nd_split_plan *p, const nd_split_part **parts);

/*! nd_split_plan_stats() : @return the plan's statistics (owned by @p). */
ND_API const nd_split_stats *nd_split_plan_stats(const nd_split_plan *p);

/*! nd_split_plan_part_of() :
 * @return the part record @i is written to, or -1 when it is written to none (removed
 * as a duplicate, dropped, or @i out of range). */
ND_API int nd_split_plan_part_of(const nd_split_plan *p, size_t i);

/*! nd_split_plan_group_of() :
 * @return the group of record @i (the smallest index of a kept record in it), or
 * UINT32_MAX when @i is placed in no part. */
ND_API uint32_t nd_split_plan_group_of(const nd_split_plan *p, size_t i);

/* ---------------------------------------------------------------- writing -- */

typedef enum {
	ND_EMIT_SAME = 0, /* the records byte-for-byte, in the input's container */
	ND_EMIT_ALPACA,   /* LLaMA-Factory alpaca: [{"instruction","input","output"[,"system"]}] */
	ND_EMIT_SHAREGPT  /* LLaMA-Factory sharegpt: [{"conversations":[{"from","value"}…][,"system"]}] */
} nd_emit_format;

/*! nd_emit_name() / nd_emit_parse() : "same", "alpaca", "sharegpt"; parse returns
 * ND_EINVAL for another name. */
ND_API const char *nd_emit_name(nd_emit_format f);
ND_API int nd_emit_parse(nd_emit_format *out, const char *name);

/*! nd_emit_template_check() :
 * Reads a template file (docs/split.md: a JSON object with any of "system",
 * "instruction", "input", "output", "option", "option_separator", "judge_true",
 * "judge_false", "answer_separator"; placeholders {stem} {type} {type_raw}
 * {category} {options} {answer} {answer_text} {explanation} {id} {image}; "{{" and
 * "}}" for braces). @return 0; ND_EIO (cannot read); ND_EINVAL (not a JSON object, an
 * unknown member or placeholder, a member that is not a string). */
ND_API int nd_emit_template_check(const char *path);

/*! nd_split_dir_check() :
 * @return 0 when nd_split_write could write to @dir: it does not exist and its parent
 * does, or it is a directory and @force is set; ND_EINVAL when it exists without
 * @force, or exists and is not a directory; ND_EIO when its parent is missing. */
ND_API int nd_split_dir_check(const char *dir, int force);

#define ND_SPLIT_WRITE_OPTS_VERSION 1
typedef struct {
	unsigned version;          /* ND_SPLIT_WRITE_OPTS_VERSION */
	nd_emit_format emit;       /* default ND_EMIT_SAME */
	const char *template_path; /* ND_EMIT_ALPACA/SHAREGPT: NULL = the built-in template */
	int force;                 /* write into an existing directory */
} nd_split_write_opts;
#define ND_SPLIT_WRITE_OPTS_INIT { ND_SPLIT_WRITE_OPTS_VERSION, ND_EMIT_SAME, NULL, 0 }

/*! nd_split_write() :
 * Writes each part of @p to @dir: "<name>.json" (".jsonl" for --emit same of a JSON
 * Lines input), the manifest "split.json" (schema neardup.split/1: targets, achieved
 * ratios, counts, strata) and, for alpaca/sharegpt, "dataset_info.json" naming each
 * file with its "formatting" and "columns" for LLaMA-Factory. Everything is written
 * into a staging directory first ("<dir>.tmp.XXXXXX" beside @dir, or, with force,
 * "<dir>/.split.tmp.XXXXXX") and moved into place only when complete, so a failure
 * or interrupt leaves nothing behind. With force, files of an earlier run that this
 * run does not write are left, except a dataset_info.json that would describe them.
 * alpaca/sharegpt need exam-bank records (preset exam or fields).
 * @return 0; ND_EINVAL (see nd_split_dir_check; a template error; alpaca/sharegpt of
 *   non-exam records); ND_EIO (message names the path); ND_ENOMEM; ND_EINTR. */
ND_API int nd_split_write(const nd_split_plan *p, const nd_dataset *ds, const char *dir,
			  const nd_split_write_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
