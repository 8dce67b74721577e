/* validate — the data gate: schema and quality checks, residual duplicates, split
 * leakage, distributions; gates decide the exit code. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"
#include "neardup/validate.h"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: validate [OPTIONS] REPORT.json | DATA.json\n"
"       validate [OPTIONS] --train A --val B [--test C]\n"
"Check a dataset, the output a dedup report describes, or a train/val/test split, and\n"
"exit non-zero when a gate fails: a CI data gate.\n"
"\n"
"What is checked:\n"
"  REPORT.json             a dedup --report: its input must still match the size and\n"
"                          SHA-256 it states; the output it names is validated\n"
"  DATA.json               any dataset (JSON array, JSON Lines, wrapped array, - = stdin)\n"
"      --train/--val/--test FILE  a split: all checks, plus leakage between splits\n"
"\n"
"Gates:\n"
"      --gates FILE        warn/fail levels per check (docs/validation-schema.md)\n"
"      --warn ID=X         warn when check ID's value is above X (X = off removes it)\n"
"      --fail ID=X         fail when above X, e.g. --fail residual_near_rate=0.005\n"
"      --strict            a warning fails too (exit 7)\n"
"      --baseline FILE     compare with an earlier --json: records drop, duplicate growth,\n"
"                          checks that newly warn or fail\n"
"      --list-checks       print every check id with its unit and default levels\n"
"\n"
"Reports (stdout gets the summary: the gate table, then the worst findings):\n"
"      --json FILE         the validation as JSON (neardup.validation/1)\n"
"      --html FILE         one self-contained HTML page with plots\n"
"  -q, --quiet             no notes on stderr\n"
"      --timings           stage timings on stderr\n"
"\n"
"Duplicates:\n"
"  -t, --threshold T       residual scan threshold (default 0.85 as dedup, or the report's)\n"
"      --ngram N           tokens per shingle (default 1 as dedup, or the report's)\n"
"      --probe T           the stricter probe's threshold (default threshold - 0.1,\n"
"                          run by default up to 200000 records)\n"
"      --no-probe          skip the stricter probe\n"
"      --no-residual       skip the near-duplicate scan (exact duplicates are still counted)\n"
"      --max-bucket N      LSH buckets above N members are chained, not paired (default 256)\n"
"      --threads N         worker threads, 0 = all cores (default 0); output is the same\n"
"\n"
"Reading:\n"
ND_CLI_READING_HELP
"      --max-examples N    record indices kept per check (default 10)\n"
"\n"
"  -h, --help              this help\n"
"  -V, --version           print the version\n"
"\n"
"Exit codes: 0 every gate passed, 1 a gate failed, 2 usage or bad gates file, 3 bad\n"
"data (corrupt report, input changed since the report), 4 I/O error (a file missing),\n"
"5 over a limit, 7 --strict and a gate warned. See docs/exit-codes.md.\n");
}

enum {
	OPT_TRAIN = 256, OPT_VAL, OPT_TEST, OPT_GATES, OPT_WARN, OPT_FAIL, OPT_STRICT, OPT_BASELINE, OPT_LIST,
	OPT_JSON, OPT_HTML, OPT_NGRAM, OPT_PROBE, OPT_NO_PROBE, OPT_NO_RESIDUAL, OPT_THREADS, OPT_MAX_EXAMPLES, OPT_MAX_BUCKET, OPT_TIMINGS
};

static const struct option long_opts[] = {
	{"train", required_argument, NULL, OPT_TRAIN},
	{"val", required_argument, NULL, OPT_VAL},
	{"test", required_argument, NULL, OPT_TEST},
	{"gates", required_argument, NULL, OPT_GATES},
	{"warn", required_argument, NULL, OPT_WARN},
	{"fail", required_argument, NULL, OPT_FAIL},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"baseline", required_argument, NULL, OPT_BASELINE},
	{"list-checks", no_argument, NULL, OPT_LIST},
	{"json", required_argument, NULL, OPT_JSON},
	{"html", required_argument, NULL, OPT_HTML},
	{"quiet", no_argument, NULL, 'q'},
	{"threshold", required_argument, NULL, 't'},
	{"ngram", required_argument, NULL, OPT_NGRAM},
	{"probe", required_argument, NULL, OPT_PROBE},
	{"no-probe", no_argument, NULL, OPT_NO_PROBE},
	{"no-residual", no_argument, NULL, OPT_NO_RESIDUAL},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"max-examples", required_argument, NULL, OPT_MAX_EXAMPLES},
	{"max-bucket", required_argument, NULL, OPT_MAX_BUCKET},
	{"timings", no_argument, NULL, OPT_TIMINGS},
	ND_CLI_READING_OPTIONS,
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}};

/* A dedup report starts with its schema member; a dataset never names it. */
static int looks_like_report(const char *path)
{
	char buf[4096];
	FILE *f;
	size_t n;
	if (!strcmp(path, "-") || !(f = fopen(path, "rb")))
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = buf;
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	return *p == '{' && strstr(buf, "\"neardup.report/") != NULL;
}

static void list_checks(void)
{
	size_t n = nd_validate_check_defs(NULL, 0);
	nd_vcheck *c = calloc(n, sizeof *c);
	if (!c)
		return;
	nd_validate_check_defs(c, n);
	printf("%-24s %-12s %-8s %8s %8s  %s\n", "id", "category", "unit", "warn >", "fail >", "what");
	for (size_t i = 0; i < n; i++) {
		char w[16], f[16];
		if (isnan(c[i].warn))
			snprintf(w, sizeof w, "-");
		else
			snprintf(w, sizeof w, "%g", c[i].warn);
		if (isnan(c[i].fail))
			snprintf(f, sizeof f, "-");
		else
			snprintf(f, sizeof f, "%g", c[i].fail);
		printf("%-24s %-12s %-8s %8s %8s  %s\n", c[i].id, c[i].category, c[i].unit, w, f, c[i].title);
	}
	free(c);
}

int main(int argc, char **argv)
{
	nd_validate_opts o = ND_VALIDATE_OPTS_INIT;
	const char *split[3] = {NULL, NULL, NULL}, *gates_path = NULL, *baseline = NULL, *json = NULL, *html = NULL;
	const char *overrides[64];
	nd_level levels[64];
	size_t n_over = 0;
	int strict = 0, c, rc, code = EXIT_OK, threshold_given = 0, ngram_given = 0, max_bucket_given = 0, timings = 0;
	unsigned long long u;
	nd_gates *g = NULL;
	nd_validation *v = NULL;
	char *text = NULL;

	nd_cli_prog = "validate";
	while ((c = getopt_long(argc, argv, "qt:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_TRAIN: split[0] = optarg; break;
		case OPT_VAL: split[1] = optarg; break;
		case OPT_TEST: split[2] = optarg; break;
		case OPT_GATES: gates_path = optarg; break;
		case OPT_WARN:
		case OPT_FAIL:
			if (n_over == sizeof overrides / sizeof *overrides)
				return nd_cli_usage_error("too many --warn/--fail overrides");
			overrides[n_over] = optarg;
			levels[n_over++] = c == OPT_FAIL ? ND_LEVEL_FAIL : ND_LEVEL_WARN;
			break;
		case OPT_STRICT: strict = 1; break;
		case OPT_BASELINE: baseline = optarg; break;
		case OPT_LIST:
			list_checks();
			return nd_cli_close_stdout();
		case OPT_JSON: json = optarg; break;
		case OPT_HTML: html = optarg; break;
		case 'q': nd_cli_quiet = 1; break;
		case 't':
			if (nd_cli_parse_double("--threshold", optarg, 1e-9, 1.0, &o.dedup.lex.threshold))
				return EXIT_USAGE;
			threshold_given = 1;
			break;
		case OPT_NGRAM:
			if (nd_cli_parse_uint("--ngram", optarg, 1, 16, &u))
				return EXIT_USAGE;
			o.dedup.lex.ngram = (unsigned)u;
			ngram_given = 1;
			break;
		case OPT_PROBE:
			if (nd_cli_parse_double("--probe", optarg, 1e-9, 1.0, &o.probe))
				return EXIT_USAGE;
			break;
		case OPT_NO_PROBE: o.probe = -1; break;
		case OPT_NO_RESIDUAL: o.residual = 0; break;
		case OPT_THREADS:
			if (nd_cli_parse_uint("--threads", optarg, 0, 256, &u))
				return EXIT_USAGE;
			o.threads = (unsigned)u;
			break;
		case OPT_MAX_EXAMPLES:
			if (nd_cli_parse_uint("--max-examples", optarg, 0, 100000, &u))
				return EXIT_USAGE;
			o.max_examples = (size_t)u;
			break;
		case OPT_TIMINGS: timings = 1; break;
		case OPT_MAX_BUCKET:
			if (nd_cli_parse_uint("--max-bucket", optarg, 0, 1u << 30, &u))
				return EXIT_USAGE;
			o.dedup.lex.max_bucket = (size_t)u;
			max_bucket_given = 1;
			break;
		case 'h':
			usage(stdout);
			return nd_cli_close_stdout();
		case 'V':
			printf("validate (neardup) %s\n", nd_version());
			return nd_cli_close_stdout();
		default:
			switch (nd_cli_reading_option(c, optarg, &o.load)) {
			case 1: break;
			case 0: return nd_cli_usage_error("unknown or incomplete option");
			default: return EXIT_USAGE;
			}
			break;
		}
	}
	int is_split = split[0] || split[1] || split[2];
	if (is_split && optind < argc)
		return nd_cli_usage_error("give either a file or --train/--val/--test, not both");
	if (!is_split && optind >= argc)
		return nd_cli_usage_error("missing REPORT.json or DATA.json (or --train/--val/--test)");
	if (optind + 1 < argc)
		return nd_cli_usage_error("one file only, got '%s' too", argv[optind + 1]);
	if (is_split && (!split[0] || (!split[1] && !split[2])))
		return nd_cli_usage_error("a split needs --train and at least one of --val and --test");
	if (nd_cli_reading_check(&o.load))
		return EXIT_USAGE;
	if (o.probe > 0 && o.probe >= o.dedup.lex.threshold && threshold_given)
		return nd_cli_usage_error("--probe %g must be below the threshold %g (a stricter probe looks further)",
					  o.probe, o.dedup.lex.threshold);
	const char *inputs[4] = {is_split ? NULL : argv[optind], split[0], split[1], split[2]};
	for (int i = 0; i < 4; i++)
		if (nd_cli_same_file(inputs[i], json) || nd_cli_same_file(inputs[i], html))
			return nd_cli_usage_error("an output file is the input '%s': the input is never overwritten", inputs[i]);
	if ((rc = nd_cli_output_check(json)) || (rc = nd_cli_output_check(html)))
		return rc;
	if (nd_cli_same_file(json, html))
		return nd_cli_usage_error("--json and --html name the same file");

	/* gates first: a bad gates file is a usage error before any work */
	if ((rc = nd_gates_create(&g)))
		return nd_cli_fail(rc);
	if (gates_path && (rc = nd_gates_load(g, gates_path))) {
		code = nd_cli_fail(rc);
		goto out;
	}
	for (size_t i = 0; i < n_over; i++)
		if ((rc = nd_gates_set(g, levels[i], overrides[i]))) {
			code = nd_cli_usage_error("%s", nd_error_last());
			goto out;
		}

	nd_cli_install_signals();
	double t0 = nd_cli_now();
	nd_cli_progress("validating");
	if (is_split) {
		rc = nd_validate_split(&v, split, &o);
	} else if (looks_like_report(argv[optind])) {
		/* the report's own parameters, unless the command line gives some */
		o.keep_dedup_opts = threshold_given || ngram_given || max_bucket_given;
		nd_cli_note("%s is a dedup report: checking its input, validating its output", argv[optind]);
		rc = nd_validate_report(&v, argv[optind], &o);
	} else {
		rc = nd_validate_dataset(&v, argv[optind], &o);
	}
	nd_cli_progress(NULL);
	if (rc) {
		code = nd_cli_fail(rc);
		goto out;
	}
	if (baseline && (rc = nd_validation_compare(v, baseline))) {
		code = nd_cli_fail(rc);
		goto out;
	}
	if (timings) {
		nd_vtimings tm;
		nd_validation_timings(v, &tm);
		const nd_dedup_stats *ds = &tm.residual_stats;
		nd_cli_err("timings: load %.2f s, checks %.2f s, residual %.2f s (signatures %.2f, candidates %.2f, "
			   "verify %.2f, decide %.2f, cluster %.2f; %zu candidate pairs), probe %.2f s",
			   tm.load, tm.checks, tm.residual, ds->lex.t_signature, ds->lex.t_candidates, ds->lex.t_verify,
			   ds->t_decide, ds->t_cluster, ds->lex.candidates, tm.probe);
	}
	nd_vstatus st = nd_validation_gate(v, g);
	if (json && (rc = nd_validation_write_json(v, json))) {
		code = nd_cli_fail(rc);
		goto out;
	}
	if (html && (rc = nd_validation_write_html(v, html))) {
		code = nd_cli_fail(rc);
		goto out;
	}
	if (!(json && !strcmp(json, "-")) && !(html && !strcmp(html, "-"))) {
		if ((rc = nd_validation_text(v, &text))) {
			code = nd_cli_fail(rc);
			goto out;
		}
		fputs(text, stdout);
	}
	nd_cli_note("%s in %.2f s", st == ND_VSTATUS_FAIL ? "a gate failed" : st == ND_VSTATUS_WARN ? "gates warned" : "all gates passed",
		    nd_cli_now() - t0);
	code = st == ND_VSTATUS_FAIL ? EXIT_GATE_FAILED : (st == ND_VSTATUS_WARN && strict) ? EXIT_GATE_WARN : EXIT_OK;
	{
		int cc = nd_cli_close_stdout();
		if (cc)
			code = cc;
	}
out:
	free(text);
	nd_validation_free(v);
	nd_gates_free(g);
	return code;
}
