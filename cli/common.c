/* Shared CLI helpers (see common.h). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common.h"
#include "neardup/records.h"

const char *nd_cli_prog = "neardup";
int nd_cli_quiet;

static volatile int interrupt_flag;
static volatile sig_atomic_t last_signal;

void nd_cli_err(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", nd_cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void nd_cli_note(const char *fmt, ...)
{
	va_list ap;
	if (nd_cli_quiet)
		return;
	fprintf(stderr, "%s: ", nd_cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int nd_cli_exit_code(int rc)
{
	switch (rc) {
	case ND_OK: return EXIT_OK;
	case ND_EINVAL: return EXIT_USAGE;
	case ND_EPARSE:
	case ND_EUTF8:
	case ND_EMAPPING:
	case ND_EEMPTY:
	case ND_EFORMAT: return EXIT_DATA;
	case ND_EIO: return EXIT_IO;
	case ND_ENOMEM:
	case ND_ELIMIT: return EXIT_RESOURCE;
	case ND_EBACKEND:
	case ND_ENET: return EXIT_BACKEND;
	case ND_EINTR: return nd_cli_interrupt_exit();
	default: return EXIT_INTERNAL;
	}
}

int nd_cli_fail(int rc)
{
	const char *m = nd_error_last();
	if (rc == ND_EINTR)
		nd_cli_err("interrupted; no output written");
	else
		nd_cli_err("%s", m && *m ? m : nd_strerror(rc));
	return nd_cli_exit_code(rc);
}

int nd_cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", nd_cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", nd_cli_prog);
	return EXIT_USAGE;
}

int nd_cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = s ? strtod(s, &end) : 0;
	if (!s || !*s || *end || errno || isnan(v) || v < lo || v > hi) {
		nd_cli_usage_error("%s needs a number from %g to %g, got '%s'", opt, lo, hi, s ? s : "");
		return -1;
	}
	*out = v;
	return 0;
}

int nd_cli_parse_uint(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
		      unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = s && *s != '-' ? strtoull(s, &end, 10) : 0;
	if (!s || !*s || *s == '-' || *end || errno || v < lo || v > hi) {
		nd_cli_usage_error("%s needs a whole number from %llu to %llu, got '%s'", opt, lo, hi, s ? s : "");
		return -1;
	}
	*out = v;
	return 0;
}

static void on_signal(int sig)
{
	if (interrupt_flag) {
		/* second signal: no more waiting for the library to notice */
		nd_outfile_cleanup_all();
		_exit(sig == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT);
	}
	last_signal = sig;
	interrupt_flag = 1;
}

void nd_cli_install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error we report */
	nd_set_interrupt_flag(&interrupt_flag);
}

int nd_cli_interrupt_exit(void)
{
	nd_outfile_cleanup_all();
	return last_signal == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
}

int nd_cli_close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		nd_cli_err("error writing to stdout: %s", strerror(errno));
		return EXIT_IO;
	}
	return EXIT_OK;
}

double nd_cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int progress_shown;

void nd_cli_progress(const char *stage)
{
	static int tty = -1;
	if (tty < 0)
		tty = isatty(STDERR_FILENO) && !getenv("NO_PROGRESS");
	if (nd_cli_quiet || !tty)
		return;
	if (stage) {
		fprintf(stderr, "\r\033[K%s: %s…", nd_cli_prog, stage);
		progress_shown = 1;
	} else if (progress_shown) {
		fputs("\r\033[K", stderr);
		progress_shown = 0;
	}
	fflush(stderr);
}

int nd_cli_reading_option(int c, const char *arg, nd_load_opts *lo)
{
	unsigned long long u;
	switch (c) {
	case ND_CLI_OPT_PRESET:
		if (nd_preset_parse(&lo->preset, arg)) {
			nd_cli_usage_error("%s", nd_error_last());
			return -1;
		}
		return 1;
	case ND_CLI_OPT_FIELDS:
		lo->fields = arg;
		lo->preset = ND_PRESET_FIELDS;
		return 1;
	case ND_CLI_OPT_RECORDS_KEY:
		lo->input.records_key = arg;
		return 1;
	case ND_CLI_OPT_MAX_RECORD:
		if (nd_cli_parse_uint("--max-record-bytes", arg, 1, (unsigned long long)1 << 40, &u))
			return -1;
		lo->input.max_record_bytes = (size_t)u;
		return 1;
	case ND_CLI_OPT_T2S:
		lo->norm.t2s = 1;
		return 1;
	default:
		return 0;
	}
}

int nd_cli_reading_check(const nd_load_opts *lo)
{
	if (lo->preset == ND_PRESET_FIELDS && !lo->fields) {
		nd_cli_usage_error("--preset fields needs --fields");
		return -1;
	}
	return 0;
}

int nd_cli_single_input(int argc, char **argv, int optind_, const char **input)
{
	if (optind_ >= argc)
		return nd_cli_usage_error("missing INPUT (a file, or - for stdin)");
	if (optind_ + 1 < argc)
		return nd_cli_usage_error("one INPUT only, got '%s' too", argv[optind_ + 1]);
	*input = argv[optind_];
	return 0;
}

/* The directory of @path into dir ("." for a bare name, "/" for /name); returns
 * the last component. */
static const char *parent_dir(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, cap, ".");
	else if (slash == path)
		snprintf(dir, cap, "/");
	else
		snprintf(dir, cap, "%.*s", (int)(slash - path), path);
	return slash ? slash + 1 : path;
}

/* Where a path points: an existing file's device and inode, or, for a file not
 * there yet, its directory's device and inode and its last component. */
typedef struct {
	dev_t dev;
	ino_t ino;
	const char *name; /* NULL for an existing file */
	int device;       /* a character device (/dev/null): written in place */
} file_key;

static int key_of(const char *path, file_key *k)
{
	struct stat st;
	memset(k, 0, sizeof *k);
	if (stat(path, &st) == 0) {
		k->dev = st.st_dev;
		k->ino = st.st_ino;
		k->device = S_ISCHR(st.st_mode);
		return 0;
	}
	char dir[4096];
	const char *name = parent_dir(path, dir, sizeof dir);
	if (stat(dir, &st) != 0)
		return -1;
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->name = name;
	return 0;
}

int nd_cli_same_file(const char *a, const char *b)
{
	file_key x, y;
	if (!a || !b || !strcmp(a, "-") || !strcmp(b, "-"))
		return 0;
	int ka = key_of(a, &x);
	if (ka == 0 && x.device)
		return 0;
	if (!strcmp(a, b))
		return 1;
	if (ka || key_of(b, &y) || y.device)
		return 0;
	if (!x.name != !y.name)
		return 0; /* one exists, the other does not */
	return x.dev == y.dev && x.ino == y.ino && (!x.name || !strcmp(x.name, y.name));
}

int nd_cli_output_check(const char *path)
{
	struct stat st;
	char dir[4096];
	if (!path || !strcmp(path, "-"))
		return 0;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			nd_cli_err("%s: cannot create output file: it is a directory", path);
			return EXIT_IO;
		}
		if (!S_ISREG(st.st_mode))
			return 0; /* a device or a pipe, written in place: opening it tells */
	}
	parent_dir(path, dir, sizeof dir);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		nd_cli_err("%s: cannot create output file: directory '%s' does not exist", path, dir);
		return EXIT_IO;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		nd_cli_err("%s: cannot create output file in '%s': %s", path, dir, strerror(errno));
		return EXIT_IO;
	}
	return 0;
}
