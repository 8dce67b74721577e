/* neardup — deduplication: passes → guards → clusters → keepers → report.
 *
 * Pairs come from the lexical pass (nd_lex_pairs) and, when enabled, the semantic
 * pass; every pair then goes through the same decision path:
 *   guards    veto pairs whose records differ in a number, a negation, the option
 *             set, the image, or one swapped content word ("variants", reported);
 *   conflicts duplicates whose answers (compared as option text) differ;
 *   clusters  union-find over accepted pairs, re-formed around leaders so that every
 *             member is itself similar to the record kept (no chaining A~B~C);
 *   keeper    one record per cluster by the keep policy.
 */
#ifndef ND_DEDUP_H
#define ND_DEDUP_H

#include "neardup/common.h"
#include "neardup/lexical.h"
#include "neardup/records.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Guards (bit flags). */
enum {
	ND_GUARD_NUMBER = 1u << 0,   /* the numbers differ (40 vs 50) */
	ND_GUARD_NEGATION = 1u << 1, /* the count of negation markers differs */
	ND_GUARD_OPTIONS = 1u << 2,  /* both have options and the sets differ */
	ND_GUARD_IMAGE = 1u << 3,    /* both have an image and they differ */
	ND_GUARD_SWAP = 1u << 4,     /* the stems differ by a substituted content word */
	ND_GUARD_ALL = 0x1F
};

/*! nd_guard_name() : "number", "negation", "options", "image", "swap" (static). */
ND_API const char *nd_guard_name(unsigned guard);

typedef enum {
	ND_KEEP_COMPLETE = 0, /* answer, options, explanation, fewest defects, longest
	                       * explanation, then earliest */
	ND_KEEP_FIRST,        /* earliest in the input */
	ND_KEEP_LONGEST       /* most text (stem, options, answer, explanation), then earliest */
} nd_keep_policy;

typedef enum {
	ND_CONFLICT_KEEP = 0, /* merge; keep a record holding the cluster's most common answer */
	ND_CONFLICT_SEPARATE, /* do not merge records whose answers differ */
	ND_CONFLICT_DROP      /* merge, then drop every record of a conflicting cluster */
} nd_conflict_policy;

/*! name/parse helpers for the policies: "complete", "first", "longest";
 * "keep", "separate", "drop". parse returns ND_EINVAL on an unknown name. */
ND_API const char *nd_keep_name(nd_keep_policy p);
ND_API int nd_keep_parse(nd_keep_policy *out, const char *name);
ND_API const char *nd_conflict_name(nd_conflict_policy p);
ND_API int nd_conflict_parse(nd_conflict_policy *out, const char *name);

#define ND_DEDUP_OPTS_VERSION 2
typedef struct {
	unsigned version;        /* ND_DEDUP_OPTS_VERSION */
	nd_lex_opts lex;         /* the lexical pass (threshold, method, n-gram, b/r …) */
	unsigned guards;         /* ND_GUARD_* enabled; default ND_GUARD_ALL */
	nd_keep_policy keep;     /* default ND_KEEP_COMPLETE */
	nd_conflict_policy on_conflict; /* default ND_CONFLICT_KEEP */
	size_t giant_cluster;    /* clusters at least this large are flagged; default 50 */
	size_t max_details;      /* the first this many variants (in pair order) get their
	                          * detail, the rest NULL: a detail reads both records'
	                          * strings, and a templated bank has millions of variants
	                          * (dedup sets its --max-listed); default SIZE_MAX, all */
} nd_dedup_opts;
#define ND_DEDUP_OPTS_INIT                                                               \
	{ ND_DEDUP_OPTS_VERSION, ND_LEX_OPTS_INIT, ND_GUARD_ALL, ND_KEEP_COMPLETE,           \
	  ND_CONFLICT_KEEP, 50, SIZE_MAX }

/* Which pass found a pair. */
typedef enum { ND_PASS_EXACT = 0, ND_PASS_MINHASH, ND_PASS_SIMHASH, ND_PASS_SEMANTIC } nd_pass;
ND_API const char *nd_pass_name(nd_pass p);

/* An external pair (from the semantic pass) to decide alongside the lexical ones. */
typedef struct {
	uint32_t a, b;
	float sim;    /* cosine */
	nd_pass pass;
} nd_extra_pair;

typedef struct {
	uint32_t index;   /* record index in the input */
	float similarity; /* Jaccard of shingle sets with the kept record (1 for it) */
	nd_pass pass;     /* the pass of the pair that brought it in */
	float cosine;     /* pass ND_PASS_SEMANTIC: the cosine of that pair (to the kept
	                   * record, or to the member's strongest partner in the cluster);
	                   * otherwise NaN */
} nd_member;

typedef struct {
	uint32_t kept;          /* index of the record kept */
	const nd_member *members; /* every member, the kept one first, then by index */
	size_t n_members;
	int conflict;           /* members' answers differ */
	int dropped;            /* ND_CONFLICT_DROP removed the whole cluster */
	int giant;              /* n_members >= opts.giant_cluster */
} nd_cluster;

/* A pair a guard kept apart (a near-twin, not a duplicate). */
typedef struct {
	uint32_t a, b;
	float similarity;
	unsigned guard;         /* the ND_GUARD_* that vetoed it (the first that fired) */
	const char *detail;     /* "40 vs 50", "左 → 右" …; NULL past opts.max_details */
} nd_variant;

/* Duplicates whose answers differ. */
typedef struct {
	uint32_t a, b;
	const char *answer_a, *answer_b; /* normalised answer text */
} nd_conflict;

typedef struct {
	size_t records, kept, removed;
	size_t empty_texts;           /* records with no comparable text */
	size_t pairs_exact, pairs_lexical, pairs_semantic; /* pairs found per pass */
	size_t pairs_semantic_only;   /* semantic pairs the lexical pass did not find */
	size_t vetoed[5];             /* per guard, in ND_GUARD_* bit order */
	size_t accepted;              /* pairs that became edges */
	size_t clusters, giant_clusters, split_members; /* split off by the chaining check */
	size_t conflicts, conflict_clusters, dropped_by_conflict;
	nd_lex_stats lex;
	double t_lexical, t_decide, t_cluster; /* seconds */
} nd_dedup_stats;

typedef struct nd_result nd_result;

/*! nd_dedup_run() :
 * Runs the lexical pass over @ds, decides its pairs together with @extra (may be
 * NULL/0), clusters and chooses keepers. Output is identical for any thread count.
 * @return 0, ND_EINVAL (bad options), ND_ENOMEM, ND_EINTR. */
ND_API int nd_dedup_run(nd_result **out, const nd_dataset *ds, const nd_dedup_opts *opts,
			const nd_extra_pair *extra, size_t n_extra);

/*! nd_result_free() : NULL is a no-op. */
ND_API void nd_result_free(nd_result *r);

ND_API const nd_dedup_stats *nd_result_stats(const nd_result *r);
/*! nd_result_keep() : keep[i] is 1 when record i is kept (array of nd_dataset_count). */
ND_API const unsigned char *nd_result_keep(const nd_result *r);
/*! nd_result_kept_by() : the index of the record kept in place of record @i
 * (i itself when kept or in no cluster; UINT32_MAX when its cluster was dropped). */
ND_API uint32_t nd_result_kept_by(const nd_result *r, size_t i);
ND_API size_t nd_result_clusters(const nd_result *r, const nd_cluster **clusters);
ND_API size_t nd_result_variants(const nd_result *r, const nd_variant **variants);
ND_API size_t nd_result_conflicts(const nd_result *r, const nd_conflict **conflicts);

/* Everything the report states besides the result. */
typedef struct {
	const char *tool_version;
	const char *output_path;  /* NULL when not written */
	const char *removed_path;
	double t_read, t_write;   /* seconds; timings are written only when
	                           * with_timings is set (they differ run to run) */
	int with_timings;
	size_t max_listed;        /* variants and conflicts listed at most (the stats count
	                           * all, "variants_listed"/"conflicts_listed" say how many
	                           * are in the lists); 0 = all */
	int semantic;             /* the semantic pass ran: its pairs were given to nd_dedup_run */
	const char *semantic_embedder; /* "builtin", "vectors", "http" */
	double semantic_threshold;
	int dry_run;
} nd_report_info;

/*! nd_report_write() :
 * Writes the report (docs/report-schema.md, "schema": "neardup.report/1") to @path
 * atomically. @return 0, ND_EIO, ND_ENOMEM. */
ND_API int nd_report_write(const nd_result *r, const nd_dataset *ds, const nd_dedup_opts *opts,
			   const nd_report_info *info, const char *path);

/*! nd_removed_write() : JSON Lines, one removed record per line:
 * {"index": i, "kept_by": k|null, "reason": "duplicate"|"conflict-drop", "record": <original bytes>}. */
ND_API int nd_removed_write(const nd_result *r, const nd_dataset *ds, const char *path);

#ifdef __cplusplus
}
#endif
#endif
