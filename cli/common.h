/* What the three tools share: exit codes, messages, option parsing helpers,
 * signal handling. Only cli/ prints or exits. */
#ifndef ND_CLI_COMMON_H
#define ND_CLI_COMMON_H

#include <stdio.h>
#include "neardup/common.h"
#include "neardup/records.h"

/* Exit codes (docs/exit-codes.md). */
enum {
	EXIT_OK = 0,
	EXIT_GATE_FAILED = 1, /* validate: a gate failed */
	EXIT_USAGE = 2,       /* bad command line */
	EXIT_DATA = 3,        /* input is malformed, unmappable or empty */
	EXIT_IO = 4,          /* a file could not be read or written */
	EXIT_RESOURCE = 5,    /* out of memory or over a limit */
	EXIT_BACKEND = 6,     /* FAISS/ICU/BLAS or an HTTP embedding service failed */
	EXIT_GATE_WARN = 7,   /* validate --strict: a gate warned */
	EXIT_INTERNAL = 70,   /* a bug */
	EXIT_SIGINT = 130,    /* interrupted by SIGINT (128 + 2) */
	EXIT_SIGTERM = 143    /* terminated by SIGTERM (128 + 15) */
};

extern const char *nd_cli_prog; /* "dedup", "validate", "embed" */
extern int nd_cli_quiet;

/* "prog: message" on stderr. */
void nd_cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Diagnostics (notes, summaries): stderr unless -q. */
void nd_cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "prog: <nd_error_last()>" and returns the exit code for library code @rc. */
int nd_cli_fail(int rc);
/* Exit code for a library error code. */
int nd_cli_exit_code(int rc);
/* Usage error: message, hint to --help, exit code EXIT_USAGE. */
int nd_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse numbers strictly; on failure print a usage error and return -1. */
int nd_cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out);
int nd_cli_parse_uint(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
		      unsigned long long *out);

/* SIGINT/SIGTERM: the first sets the library's interrupt flag (work stops at the
 * next check, temporary files are removed on the way out); a second removes them
 * at once and exits. */
void nd_cli_install_signals(void);
/* The exit code after ND_EINTR: 130 or 143 depending on the signal. */
int nd_cli_interrupt_exit(void);

/* Closes stdout and checks for write errors (a full disk behind a redirection). */
int nd_cli_close_stdout(void);

/* On a terminal (and without -q), shows the current stage on one line of stderr,
 * overwritten by the next; NULL clears it. Nothing when stderr is not a TTY. */
void nd_cli_progress(const char *stage);

/* The reading options every tool takes, with getopt_long codes of their own:
 * put ND_CLI_READING_OPTIONS in the long-option table, ND_CLI_READING_HELP in the
 * help text, and offer every option code to nd_cli_reading_option(). */
enum {
	ND_CLI_OPT_PRESET = 0x1000,
	ND_CLI_OPT_FIELDS,
	ND_CLI_OPT_RECORDS_KEY,
	ND_CLI_OPT_MAX_RECORD,
	ND_CLI_OPT_T2S
};
#define ND_CLI_READING_OPTIONS                                                       \
	{"preset", required_argument, NULL, ND_CLI_OPT_PRESET},                      \
	{"fields", required_argument, NULL, ND_CLI_OPT_FIELDS},                      \
	{"records-key", required_argument, NULL, ND_CLI_OPT_RECORDS_KEY},            \
	{"max-record-bytes", required_argument, NULL, ND_CLI_OPT_MAX_RECORD},        \
	{"t2s", no_argument, NULL, ND_CLI_OPT_T2S}
#define ND_CLI_READING_HELP                                                                     \
	"      --preset NAME       auto (default), exam, alpaca, sharegpt, messages\n"               \
	"      --fields SPEC       explicit mapping, e.g. stem=question,options=choose,answer=ans\n" \
	"      --records-key KEY   the member of a wrapping object that holds the records\n"         \
	"      --max-record-bytes N  larger records are an error (default 67108864)\n"              \
	"      --t2s               fold Traditional Chinese to Simplified before comparing\n"
/* @return 1 when @c was a reading option (applied to @lo), 0 when it is not one,
 * -1 after printing a usage error. */
int nd_cli_reading_option(int c, const char *arg, nd_load_opts *lo);
/* Checks the reading options together; prints a usage error and returns -1 if wrong. */
int nd_cli_reading_check(const nd_load_opts *lo);

/* The one INPUT operand after the options: sets *input, or prints a usage error
 * and returns EXIT_USAGE. */
int nd_cli_single_input(int argc, char **argv, int optind_, const char **input);
/* 1 when the two paths name one file, however spelled (./a, /abs/a, a symlink to
 * it), or would once written; "-", NULL and character devices never match. An
 * output that is an input is refused, and so are two outputs that are one file. */
int nd_cli_same_file(const char *a, const char *b);
/* Before any work: an output path whose directory is missing or not writable, or
 * that is a directory, is reported (naming it) and gives EXIT_IO; 0 when it can be
 * created ("-" and NULL always). A run never fails at its end for a path it could
 * have checked at its start, after other outputs went out. */
int nd_cli_output_check(const char *path);

/* Monotonic seconds, for the summary's timings. */
double nd_cli_now(void);

#endif
