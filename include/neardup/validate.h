/* neardup — validation: schema and quality checks, duplicate residual, split
 * leakage, distributions, gates, and the JSON / text / HTML reports.
 *
 * A validation looks at one of three things:
 *   nd_validate_dataset  any dataset file;
 *   nd_validate_report   a dedup report (neardup.report/1): the input it names must
 *                        still have the size and SHA-256 the report states; the data
 *                        checked is the output it names (or, for a --dry-run report,
 *                        the input minus the records the report removed);
 *   nd_validate_split    train / val / test files: every check over all of them, and
 *                        leakage (a val/test record with an exact or near twin in an
 *                        earlier split).
 * It measures every check of the registry (docs/validation-schema.md lists them):
 * each has an id ("residual_near_rate"), a category, a title, a unit, an observed
 * value, a count of records and example record indices. Gates (nd_gates) then turn
 * values into pass / warn / fail. Nothing is printed: the tool prints.
 *
 * Record indices are 0-based positions in the file they come from (for a report, the
 * output file; for a dry-run report, the input); in split mode an example also names
 * its split. Records that are not valid JSON objects (or hold a field of the wrong
 * type, or invalid UTF-8) are counted by the "parse_errors" check and left out of every
 * other check, up to ND_VALIDATE_MAX_BAD of them: more is a data error.
 *
 * Threads: a validation and a gates object are not thread-safe; separate objects may
 * be used on separate threads. Results do not depend on the thread count.
 */
#ifndef ND_VALIDATE_H
#define ND_VALIDATE_H

#include "neardup/common.h"
#include "neardup/dedup.h"
#include "neardup/records.h"

#ifdef __cplusplus
extern "C" {
#endif

/* More malformed records than this in one validation is ND_EPARSE/ND_EFORMAT. */
#define ND_VALIDATE_MAX_BAD 100

/* The probe is a second whole dedup pass at a lower threshold (more candidate pairs):
 * by default it runs up to this many records; above, only when opts.probe > 0. */
#define ND_VALIDATE_PROBE_AUTO 200000

#define ND_VALIDATE_OPTS_VERSION 1
typedef struct {
	unsigned version;      /* ND_VALIDATE_OPTS_VERSION */
	nd_load_opts load;     /* how datasets are read (preset, fields, records key …) */
	nd_dedup_opts dedup;   /* the residual scan: threshold, n-gram, method, guards …
	                        * (a report's own parameters replace these in
	                        * nd_validate_report unless keep_dedup_opts is set) */
	int keep_dedup_opts;   /* nd_validate_report: use @dedup, not the report's params */
	int residual;          /* run the residual near-duplicate scan; default 1 (0 leaves
	                        * the duplicate checks but residual_exact_rate unmeasured) */
	double probe;          /* the stricter probe's threshold: > 0 the value, 0 = the
	                        * threshold minus 0.1 (at least 0.5) for collections of at
	                        * most ND_VALIDATE_PROBE_AUTO records, < 0 = no probe;
	                        * default 0 */
	size_t max_examples;   /* example indices kept per check; default 10 */
	unsigned threads;      /* 0 = all cores; results do not depend on it */
} nd_validate_opts;
#define ND_VALIDATE_OPTS_INIT                                                               \
	{ ND_VALIDATE_OPTS_VERSION, ND_LOAD_OPTS_INIT, ND_DEDUP_OPTS_INIT, 0, 1, 0.0, 10, 0 }

typedef struct nd_validation nd_validation;

/*! nd_validate_dataset() :
 * Validates the dataset at @path ("-" = stdin). @opts may be NULL (defaults).
 * @return 0; the nd_dataset_load codes for a file that cannot be read at all
 *   (ND_EIO, ND_EEMPTY, ND_EPARSE for a structural error such as a truncated array,
 *   ND_EMAPPING …); ND_EPARSE/ND_EFORMAT when more than ND_VALIDATE_MAX_BAD records
 *   are malformed; ND_EINVAL (bad options); ND_ENOMEM; ND_EINTR. */
ND_API int nd_validate_dataset(nd_validation **out, const char *path, const nd_validate_opts *opts);

/*! nd_validate_report() :
 * Validates what the dedup report at @report_path describes. Relative paths in the
 * report are tried as given, then relative to the report's folder.
 * @return 0; ND_EIO (the report, or the input it names, cannot be read: the message
 *   says which); ND_EPARSE (the report is not JSON: corrupt or truncated);
 *   ND_EFORMAT (not a neardup.report/1, a member missing or of the wrong type; the
 *   input's size or SHA-256 differs from the report: "input changed since the report";
 *   the output's record count differs from the report); the nd_validate_dataset codes. */
ND_API int nd_validate_report(nd_validation **out, const char *report_path, const nd_validate_opts *opts);

/* The splits, in leakage order: a record leaks when an earlier split holds its twin. */
typedef enum { ND_SPLIT_TRAIN = 0, ND_SPLIT_VAL = 1, ND_SPLIT_TEST = 2 } nd_split;
/*! nd_split_name() : "train", "val", "test" (static). */
ND_API const char *nd_split_name(nd_split s);

/*! nd_validate_split() :
 * Validates paths[ND_SPLIT_TRAIN], [VAL], [TEST] (a NULL entry is an absent split; at
 * least two must be given, train among them). The files are read as one collection:
 * the checks cover every record; residual duplicates count pairs inside one split;
 * leakage_exact / leakage_near count val/test records with a twin in an earlier split.
 * @return as nd_validate_dataset; ND_EINVAL when fewer than two splits or no train. */
ND_API int nd_validate_split(nd_validation **out, const char *const paths[3], const nd_validate_opts *opts);

/*! nd_validation_free() : NULL is a no-op. */
ND_API void nd_validation_free(nd_validation *v);

/* ------------------------------------------------------------------ gates -- */

typedef enum {
	ND_VSTATUS_PASS = 0, /* within its gates */
	ND_VSTATUS_INFO,     /* measured, no gate level set */
	ND_VSTATUS_SKIP,     /* does not apply (exam checks on chat data, leakage without splits …) */
	ND_VSTATUS_WARN,     /* above its warn level */
	ND_VSTATUS_FAIL      /* above its fail level */
} nd_vstatus;

/*! nd_vstatus_name() : "pass", "info", "skip", "warn", "fail" (static). */
ND_API const char *nd_vstatus_name(nd_vstatus s);

/* Gate levels for every check: a check warns when its value is above `warn` and
 * fails when above `fail` (strictly above: "fail": 0 fails on any occurrence). */
typedef struct nd_gates nd_gates;

/*! nd_gates_create() : the default gates (docs/validation-schema.md): fail on parse
 * errors, leakage, a residual duplicate rate above 0.5%; warn on everything else that
 * flags records. @return 0 or ND_ENOMEM. */
ND_API int nd_gates_create(nd_gates **out);
/*! nd_gates_free() : NULL is a no-op. */
ND_API void nd_gates_free(nd_gates *g);

/*! nd_gates_load() :
 * Applies a gates file (schema "neardup.gates/1", docs/validation-schema.md) on top of
 * @g: {"schema": "neardup.gates/1", "gates": {"<check id>": {"warn": x, "fail": y}
 * | "off"}}; a level given as null is removed, a level not given is left as it was.
 * @return 0; ND_EIO (cannot read: message names the path); ND_EINVAL (not JSON, wrong
 *   schema, an unknown check id, an unknown member, a threshold that is not a number,
 *   is negative, or is above 1 for a rate or share, or warn above fail): the message
 *   names the file and the offending member. @g is unchanged on failure. */
ND_API int nd_gates_load(nd_gates *g, const char *path);

typedef enum { ND_LEVEL_WARN = 0, ND_LEVEL_FAIL = 1 } nd_level;

/*! nd_gates_set() :
 * Sets one level from "<check id>=<number>" (a command-line override) or removes it
 * from "<check id>=off". @return 0 or ND_EINVAL (unknown id, bad number; the message
 * says which). */
ND_API int nd_gates_set(nd_gates *g, nd_level level, const char *spec);

/* ------------------------------------------------------------- results -- */

typedef struct {
	size_t index;       /* record index in its file; SIZE_MAX when the example is no record */
	int split;          /* nd_split in split mode, -1 otherwise */
	const char *detail; /* what was seen ("<br> in stem", "near-twin of #3 (0.95)") */
} nd_vexample;

typedef struct {
	const char *id;          /* "html_residue" */
	const char *category;    /* "schema", "hygiene", "duplicates", "distribution", "baseline" */
	const char *title;       /* one line, for people */
	const char *unit;        /* "records" (a count), "rate" (count / total), "share",
	                          * "pairs", "groups", "ratio" */
	int applicable;          /* 0: not measured here (status SKIP) */
	double value;            /* what the gates compare: a count, a rate, a share, a ratio */
	size_t count;            /* records (or pairs, groups) concerned */
	size_t total;            /* out of */
	double warn, fail;       /* the levels applied; NaN when none */
	nd_vstatus status;       /* after nd_validation_gate; INFO/SKIP before */
	const nd_vexample *examples;
	size_t n_examples;
} nd_vcheck;

/*! nd_validation_checks() : every check of the registry, in registry order.
 * @return their number; *checks points into @v. */
ND_API size_t nd_validation_checks(const nd_validation *v, const nd_vcheck **checks);

/*! nd_validate_check_defs() :
 * The registry without measurements: fills up to @cap entries of @out with each
 * check's id, category, title, unit and default warn/fail levels (NaN = none;
 * status SKIP). @return the number of checks (call with @cap 0 to size @out). */
ND_API size_t nd_validate_check_defs(nd_vcheck *out, size_t cap);

/* Seconds spent per stage (not part of any report: they differ run to run). */
typedef struct {
	double load, checks, residual, probe;
	nd_dedup_stats residual_stats; /* of the residual scan (zero when not run) */
} nd_vtimings;

/*! nd_validation_timings() : the stage timings of @v. */
ND_API void nd_validation_timings(const nd_validation *v, nd_vtimings *out);

/*! nd_validation_records() : records validated (parse errors included). */
ND_API size_t nd_validation_records(const nd_validation *v);

/*! nd_validation_compare() :
 * Reads an earlier validation (the JSON nd_validation_write_json wrote) and measures
 * the baseline checks against it: baseline_records_drop, baseline_dup_growth,
 * baseline_new_failures (the last one once nd_validation_gate runs).
 * @return 0, ND_EIO, ND_EPARSE (not JSON), ND_EFORMAT (not neardup.validation/1). */
ND_API int nd_validation_compare(nd_validation *v, const char *baseline_path);

/*! nd_validation_gate() :
 * Sets each check's status from @g (NULL = the defaults) and returns the worst:
 * ND_VSTATUS_FAIL, ND_VSTATUS_WARN or ND_VSTATUS_PASS. May be called again with other
 * gates. */
ND_API nd_vstatus nd_validation_gate(nd_validation *v, const nd_gates *g);

/* ------------------------------------------------------------- reports -- */

/*! nd_validation_write_json() : the report (docs/validation-schema.md,
 * "neardup.validation/1") to @path ("-" = stdout), atomically; byte-identical for the
 * same input and options. @return 0, ND_EIO, ND_ENOMEM. */
ND_API int nd_validation_write_json(const nd_validation *v, const char *path);

/*! nd_validation_write_html() : one self-contained HTML page (inline CSS and SVG:
 * the gate table, similarity histogram of near pairs, cluster sizes, length histogram,
 * answer positions, findings) to @path, atomically. @return 0, ND_EIO, ND_ENOMEM. */
ND_API int nd_validation_write_html(const nd_validation *v, const char *path);

/*! nd_validation_text() :
 * The human summary: the gate table first, then the worst findings with record
 * indices, then the distributions. *out is malloc'd (free with free()), NUL-terminated.
 * @return 0 or ND_ENOMEM. */
ND_API int nd_validation_text(const nd_validation *v, char **out);

#ifdef __cplusplus
}
#endif
#endif
