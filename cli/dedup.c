/* dedup — find near-duplicate records, keep one per cluster, explain every decision. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common.h"
#include "neardup/dedup.h"
#include "neardup/records.h"
#include "neardup/embed.h"
#include "neardup/split.h"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: dedup [OPTIONS] INPUT\n"
"Find near-duplicate records in INPUT (JSON array, JSON Lines, a wrapped array, or -\n"
"for stdin), keep one record per cluster, and report every decision.\n"
"\n"
"Output:\n"
"  -o, --output FILE       kept records, byte-for-byte, input order and container\n"
"                          (default: stdout; - for stdout)\n"
"      --report FILE       JSON report: parameters, stats, clusters, variants, conflicts\n"
"      --removed FILE      JSON Lines: each removed record with the index of its keeper\n"
"      --dry-run           write only the report (and --removed), not the records\n"
"      --timings           add per-stage timings to the report (not deterministic)\n"
"      --max-listed N      variants and conflicts listed in the report (default 100000;\n"
"                          0 = all); the stats always count all of them\n"
"  -q, --quiet             no notes or summary on stderr\n"
"\n"
"Similarity (lexical pass):\n"
"  -t, --threshold T       Jaccard of shingle sets a pair needs, 0 < T <= 1 (default 0.85)\n"
"      --method M          minhash (default) or simhash\n"
"      --ngram N           tokens per shingle: CJK characters or Latin words (default 3)\n"
"      --num-perm N        MinHash permutations (default 128)\n"
"      --bands B --rows R  LSH banding (default: derived from the threshold)\n"
"      --simhash-bits K    SimHash: max Hamming distance of candidates (default 3)\n"
"      --seed N            hash seed (default 1)\n"
"      --threads N         worker threads, 0 = all cores (default 0); output is the same\n"
"\n"
"Decisions:\n"
"      --no-guard NAME     disable a guard: number, negation, options, image, swap\n"
"                          (repeatable; all are on by default)\n"
"      --keep POLICY       complete (default), first, longest\n"
"      --on-conflict P     duplicates whose answers differ: keep (default: merge, keep a\n"
"                          record with the most common answer), separate, drop\n"
"\n"
"Reading:\n"
ND_CLI_READING_HELP
"\n"
"Semantic second pass (docs/embed.md): on by default, after the lexical pass; the pairs\n"
"it alone finds pass stricter guards (an image on one side only, reworded content words)\n"
"      --no-semantic       lexical pass only\n"
"      --semantic          (the default; accepted for older scripts)\n"
"      --semantic-threshold C  cosine a semantic pair needs (default 0.99)\n"
"      --semantic-knn K    pairs per record: its K nearest above the cosine (default 8;\n"
"                          0 = all pairs above it)\n"
"      --vectors FILE      vectors from elsewhere (.npy or .fvecs, one row per record)\n"
"      --embed-url URL     an OpenAI-compatible endpoint, e.g. http://localhost:8000/v1\n"
"      --embed-model NAME  the model to ask for\n"
"      --api-key-env VAR   the environment variable holding the API key\n"
"      --embed-cache FILE  on-disk cache of fetched vectors (a rerun fetches only what is missing)\n"
"      --embed-timeout S   seconds per request to the service (default 60)\n"
"      --embed-retries N   retries on 429/5xx/timeouts/resets (default 6)\n"
"\n"
"Split into parts after deduplication (docs/split.md):\n"
"      --split SPEC        e.g. train=0.7,val=0.2,test=0.1 (or =70,=20,=10): one file per\n"
"                          part; duplicates, variants and near-twins stay in one part;\n"
"                          stratified by type and category\n"
"      --out-dir DIR       where the parts go (must not exist, unless --force)\n"
"      --force             write into an existing DIR\n"
"      --emit F            same (default: records as read), alpaca or sharegpt\n"
"                          (LLaMA-Factory, with DIR/dataset_info.json)\n"
"      --template FILE     prompt template for alpaca/sharegpt (JSON; docs/split.md)\n"
"      --no-group-variants let variants (near-twins a guard kept apart) be split apart\n"
"      --split-near T      Jaccard that also keeps records together (default 0.65; 0 off)\n"
"      --split-seed N      seed of the split (default: --seed)\n"
"\n"
"  -h, --help              this help\n"
"  -V, --version           print the version\n"
"\n"
"Exit codes: 0 ok, 2 usage, 3 bad input data, 4 I/O error, 5 out of memory or over a\n"
"limit, 70 internal error, 130/143 interrupted. See docs/exit-codes.md.\n");
}

enum {
	OPT_REPORT = 256, OPT_MAX_LISTED, OPT_REMOVED, OPT_DRY_RUN, OPT_TIMINGS, OPT_METHOD, OPT_NGRAM, OPT_NUM_PERM,
	OPT_BANDS, OPT_ROWS, OPT_SIMHASH_BITS, OPT_SEED, OPT_THREADS, OPT_NO_GUARD, OPT_KEEP,
	OPT_ON_CONFLICT, /* the semantic pass (docs/embed.md) */
	OPT_SEMANTIC, OPT_NO_SEMANTIC, OPT_SEM_THRESHOLD, OPT_VECTORS, OPT_EMBED_URL, OPT_EMBED_MODEL, OPT_API_KEY_ENV,
	OPT_EMBED_CACHE, OPT_SEM_KNN, OPT_EMBED_TIMEOUT, OPT_EMBED_RETRIES,
	/* --split (docs/split.md) */
	OPT_SPLIT, OPT_OUT_DIR, OPT_FORCE, OPT_EMIT, OPT_TEMPLATE, OPT_GROUP_VARIANTS, OPT_NO_GROUP_VARIANTS,
	OPT_SPLIT_NEAR, OPT_SPLIT_SEED
};

static const struct option long_opts[] = {
	{"output", required_argument, NULL, 'o'},
	{"report", required_argument, NULL, OPT_REPORT},
	{"max-listed", required_argument, NULL, OPT_MAX_LISTED},
	{"removed", required_argument, NULL, OPT_REMOVED},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"timings", no_argument, NULL, OPT_TIMINGS},
	{"quiet", no_argument, NULL, 'q'},
	{"threshold", required_argument, NULL, 't'},
	{"method", required_argument, NULL, OPT_METHOD},
	{"ngram", required_argument, NULL, OPT_NGRAM},
	{"num-perm", required_argument, NULL, OPT_NUM_PERM},
	{"bands", required_argument, NULL, OPT_BANDS},
	{"rows", required_argument, NULL, OPT_ROWS},
	{"simhash-bits", required_argument, NULL, OPT_SIMHASH_BITS},
	{"seed", required_argument, NULL, OPT_SEED},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"no-guard", required_argument, NULL, OPT_NO_GUARD},
	{"keep", required_argument, NULL, OPT_KEEP},
	{"on-conflict", required_argument, NULL, OPT_ON_CONFLICT},
	/* the semantic pass */
	{"semantic", no_argument, NULL, OPT_SEMANTIC},
	{"no-semantic", no_argument, NULL, OPT_NO_SEMANTIC},
	{"semantic-threshold", required_argument, NULL, OPT_SEM_THRESHOLD},
	{"vectors", required_argument, NULL, OPT_VECTORS},
	{"embed-url", required_argument, NULL, OPT_EMBED_URL},
	{"embed-model", required_argument, NULL, OPT_EMBED_MODEL},
	{"api-key-env", required_argument, NULL, OPT_API_KEY_ENV},
	{"embed-cache", required_argument, NULL, OPT_EMBED_CACHE},
	{"embed-timeout", required_argument, NULL, OPT_EMBED_TIMEOUT},
	{"embed-retries", required_argument, NULL, OPT_EMBED_RETRIES},
	{"semantic-knn", required_argument, NULL, OPT_SEM_KNN},
	/* --split */
	{"split", required_argument, NULL, OPT_SPLIT},
	{"out-dir", required_argument, NULL, OPT_OUT_DIR},
	{"force", no_argument, NULL, OPT_FORCE},
	{"emit", required_argument, NULL, OPT_EMIT},
	{"template", required_argument, NULL, OPT_TEMPLATE},
	{"group-variants", no_argument, NULL, OPT_GROUP_VARIANTS},
	{"no-group-variants", no_argument, NULL, OPT_NO_GROUP_VARIANTS},
	{"split-near", required_argument, NULL, OPT_SPLIT_NEAR},
	{"split-seed", required_argument, NULL, OPT_SPLIT_SEED},
	ND_CLI_READING_OPTIONS,
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}};

/* Outputs are renamed into place one at a time; when a later one fails (or a signal
 * stops the run), the ones this run already put in place are removed again, so a
 * failed run leaves no output at all, as it says. Devices and stdout are never
 * removed; a file is listed only once this run has written it. */
static const char *committed[4];
static int ncommitted;

static void written(const char *path)
{
	struct stat st;
	if (!path || !strcmp(path, "-") || (stat(path, &st) == 0 && !S_ISREG(st.st_mode)))
		return;
	if (ncommitted < (int)(sizeof committed / sizeof *committed))
		committed[ncommitted++] = path;
}

static void roll_back(void)
{
	for (int i = 0; i < ncommitted; i++)
		unlink(committed[i]);
	ncommitted = 0;
}

int main(int argc, char **argv)
{
	nd_load_opts lo = ND_LOAD_OPTS_INIT;
	nd_dedup_opts dopts = ND_DEDUP_OPTS_INIT;
	nd_report_info info;
	const char *output = NULL, *report = NULL, *removed = NULL, *input;
	int dry_run = 0, timings = 0, c, rc, code = EXIT_OK;
	/* a templated bank of a million records has millions of near-twins: listing them
	 * all makes a report of hundreds of MB that nobody reads */
	size_t max_listed = 100000;
	unsigned long long u;
	nd_dataset *ds = NULL;
	nd_result *res = NULL;
	/* the semantic pass */
	nd_embed_opts eopts = ND_EMBED_OPTS_INIT;
	/* 1 by default, 0 with --no-semantic; 2 when an option needs the pass (--vectors,
	 * --embed-url, --semantic-threshold …), which --no-semantic contradicts */
	int semantic = 1, no_semantic = 0;
	nd_extra_pair *sem_pairs = NULL;
	size_t n_sem = 0;
	/* --split */
	nd_split_opts sopts = ND_SPLIT_OPTS_INIT;
	nd_split_write_opts swo = ND_SPLIT_WRITE_OPTS_INIT;
	const char *out_dir = NULL;
	int split_seed_given = 0;
	nd_split_plan *plan = NULL;

	nd_cli_prog = "dedup";
	memset(&info, 0, sizeof info);
	while ((c = getopt_long(argc, argv, "o:qt:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_REPORT: report = optarg; break;
		case OPT_MAX_LISTED:
			if (nd_cli_parse_uint("--max-listed", optarg, 0, SIZE_MAX, &u))
				return EXIT_USAGE;
			max_listed = (size_t)u;
			break;
		case OPT_REMOVED: removed = optarg; break;
		case OPT_DRY_RUN: dry_run = 1; break;
		case OPT_TIMINGS: timings = 1; break;
		case 'q': nd_cli_quiet = 1; break;
		case 't':
			if (nd_cli_parse_double("--threshold", optarg, 1e-9, 1.0, &dopts.lex.threshold))
				return EXIT_USAGE;
			break;
		case OPT_METHOD:
			if (!strcmp(optarg, "minhash"))
				dopts.lex.method = ND_LEX_MINHASH;
			else if (!strcmp(optarg, "simhash"))
				dopts.lex.method = ND_LEX_SIMHASH;
			else
				return nd_cli_usage_error("--method must be minhash or simhash, got '%s'", optarg);
			break;
		case OPT_NGRAM:
			if (nd_cli_parse_uint("--ngram", optarg, 1, 16, &u))
				return EXIT_USAGE;
			dopts.lex.ngram = (unsigned)u;
			break;
		case OPT_NUM_PERM:
			/* 4096 permutations already estimate Jaccard to ±0.01; more only costs */
			if (nd_cli_parse_uint("--num-perm", optarg, 1, 4096, &u))
				return EXIT_USAGE;
			dopts.lex.num_perm = (unsigned)u;
			break;
		case OPT_BANDS:
			if (nd_cli_parse_uint("--bands", optarg, 1, 4096, &u))
				return EXIT_USAGE;
			dopts.lex.bands = (unsigned)u;
			break;
		case OPT_ROWS:
			if (nd_cli_parse_uint("--rows", optarg, 1, 4096, &u))
				return EXIT_USAGE;
			dopts.lex.rows = (unsigned)u;
			break;
		case OPT_SIMHASH_BITS:
			if (nd_cli_parse_uint("--simhash-bits", optarg, 0, 16, &u))
				return EXIT_USAGE;
			dopts.lex.simhash_bits = (unsigned)u;
			break;
		case OPT_SEED:
			if (nd_cli_parse_uint("--seed", optarg, 0, UINT64_MAX, &u))
				return EXIT_USAGE;
			dopts.lex.seed = u;
			break;
		case OPT_THREADS:
			if (nd_cli_parse_uint("--threads", optarg, 0, 256, &u))
				return EXIT_USAGE;
			dopts.lex.threads = lo.threads = (unsigned)u;
			break;
		case OPT_NO_GUARD: {
			unsigned g;
			for (g = 1; g <= ND_GUARD_SWAP; g <<= 1)
				if (!strcmp(optarg, nd_guard_name(g)))
					break;
			if (g > ND_GUARD_SWAP)
				return nd_cli_usage_error("--no-guard takes number, negation, options, image or "
							  "swap, got '%s'", optarg);
			dopts.guards &= ~g;
			break;
		}
		case OPT_KEEP:
			if (nd_keep_parse(&dopts.keep, optarg))
				return nd_cli_usage_error("%s", nd_error_last());
			break;
		case OPT_ON_CONFLICT:
			if (nd_conflict_parse(&dopts.on_conflict, optarg))
				return nd_cli_usage_error("%s", nd_error_last());
			break;
		/* --split */
		case OPT_SPLIT:
			if (nd_split_spec_check(optarg) < 0)
				return nd_cli_usage_error("--split: %s", nd_error_last());
			sopts.spec = optarg;
			break;
		case OPT_OUT_DIR: out_dir = optarg; break;
		case OPT_FORCE: swo.force = 1; break;
		case OPT_EMIT:
			if (nd_emit_parse(&swo.emit, optarg))
				return nd_cli_usage_error("--emit: %s", nd_error_last());
			break;
		case OPT_TEMPLATE: swo.template_path = optarg; break;
		case OPT_GROUP_VARIANTS: sopts.group_variants = 1; break;
		case OPT_NO_GROUP_VARIANTS: sopts.group_variants = 0; break;
		case OPT_SPLIT_NEAR:
			if (nd_cli_parse_double("--split-near", optarg, 0.0, 1.0, &sopts.near_threshold))
				return EXIT_USAGE;
			break;
		case OPT_SPLIT_SEED:
			if (nd_cli_parse_uint("--split-seed", optarg, 0, UINT64_MAX, &u))
				return EXIT_USAGE;
			sopts.seed = u;
			split_seed_given = 1;
			break;
		case OPT_SEMANTIC: break; /* the default */
		case OPT_NO_SEMANTIC: no_semantic = 1; break;
		case OPT_SEM_THRESHOLD:
			if (nd_cli_parse_double("--semantic-threshold", optarg, -1.0, 1.0, &eopts.threshold))
				return EXIT_USAGE;
			semantic = 2;
			break;
		case OPT_VECTORS:
			eopts.kind = ND_EMBED_VECTORS;
			eopts.vectors_path = optarg;
			eopts.dim = 0; /* whatever the file holds (768, 1024 …), as embed does */
			semantic = 2;
			break;
		case OPT_EMBED_URL:
			eopts.kind = ND_EMBED_HTTP;
			eopts.url = optarg;
			eopts.dim = 0; /* whatever the service returns, the same for every reply */
			semantic = 2;
			break;
		case OPT_EMBED_MODEL: eopts.model = optarg; break;
		case OPT_API_KEY_ENV: eopts.api_key_env = optarg; break;
		case OPT_EMBED_CACHE: eopts.cache_path = optarg; break;
		case OPT_EMBED_TIMEOUT: {
			double v;
			if (nd_cli_parse_double("--embed-timeout", optarg, 0.001, 3600, &v))
				return EXIT_USAGE;
			eopts.timeout_ms = (unsigned)(v * 1000 + 0.5);
			break;
		}
		case OPT_EMBED_RETRIES:
			if (nd_cli_parse_uint("--embed-retries", optarg, 0, 100, &u))
				return EXIT_USAGE;
			eopts.max_retries = (unsigned)u;
			break;
		case OPT_SEM_KNN:
			if (nd_cli_parse_uint("--semantic-knn", optarg, 0, 4096, &u))
				return EXIT_USAGE;
			eopts.knn = (unsigned)u;
			break;
		case 'h':
			usage(stdout);
			return nd_cli_close_stdout();
		case 'V':
			printf("dedup (neardup) %s\n", nd_version());
			return nd_cli_close_stdout();
		default:
			switch (nd_cli_reading_option(c, optarg, &lo)) {
			case 1: break;
			case 0: return nd_cli_usage_error("unknown or incomplete option");
			default: return EXIT_USAGE;
			}
			break;
		}
	}
	if (nd_cli_single_input(argc, argv, optind, &input))
		return EXIT_USAGE;
	if (no_semantic && semantic == 2)
		return nd_cli_usage_error("--no-semantic turns off the semantic pass that --vectors, --embed-url "
					  "and --semantic-threshold configure");
	if (no_semantic)
		semantic = 0;
	if ((dopts.lex.bands == 0) != (dopts.lex.rows == 0))
		return nd_cli_usage_error("--bands and --rows go together");
	if (dopts.lex.bands && (unsigned long long)dopts.lex.bands * dopts.lex.rows > dopts.lex.num_perm)
		return nd_cli_usage_error("--bands x --rows (%u x %u) exceeds --num-perm %u", dopts.lex.bands,
					  dopts.lex.rows, dopts.lex.num_perm);
	if (nd_cli_reading_check(&lo))
		return EXIT_USAGE;
	/* --split: checked before any reading, so a bad command writes nothing */
	if (!sopts.spec && (out_dir || swo.force || swo.emit != ND_EMIT_SAME || swo.template_path))
		return nd_cli_usage_error("--out-dir, --force, --emit and --template go with --split");
	if (sopts.spec) {
		if (!out_dir && !dry_run)
			return nd_cli_usage_error("--split needs --out-dir DIR");
		if (swo.template_path && swo.emit == ND_EMIT_SAME)
			return nd_cli_usage_error("--template needs --emit alpaca or sharegpt");
		if (swo.template_path && nd_emit_template_check(swo.template_path))
			return nd_cli_fail(nd_emit_template_check(swo.template_path));
		if (out_dir && !dry_run && (rc = nd_split_dir_check(out_dir, swo.force)))
			return nd_cli_fail(rc);
		if (!split_seed_given)
			sopts.seed = dopts.lex.seed;
		sopts.ngram = dopts.lex.ngram;
		sopts.guards = dopts.guards;
		sopts.threads = dopts.lex.threads;
	}
	if (!output && !dry_run && !sopts.spec)
		output = "-";
	if (dry_run && output)
		return nd_cli_usage_error("--dry-run writes no records: drop -o or --dry-run");
	if (dry_run && !report && !removed)
		return nd_cli_usage_error("--dry-run needs --report or --removed");
	const char *outs[3] = {output, report, removed};
	for (int i = 0; i < 3; i++)
		if ((rc = nd_cli_output_check(outs[i])))
			return rc;
	for (int i = 0; i < 3; i++) {
		if (nd_cli_same_file(input, outs[i]) || nd_cli_same_file(eopts.vectors_path, outs[i]))
			return nd_cli_usage_error("an output file is the input '%s': the input is never overwritten",
						  outs[i]);
		for (int j = i + 1; j < 3; j++)
			if (nd_cli_same_file(outs[i], outs[j]))
				return nd_cli_usage_error("two outputs name the same file ('%s', '%s')", outs[i],
							  outs[j]);
	}
	if (!strcmp(input, "-") && isatty(STDIN_FILENO))
		nd_cli_note("reading records from the terminal (stdin); end with Ctrl-D");

	nd_cli_install_signals();
	double t0 = nd_cli_now();
	nd_cli_progress("reading and normalising records");
	rc = nd_dataset_load(&ds, input, &lo);
	nd_cli_progress(NULL);
	if (rc) {
		code = nd_cli_fail(rc);
		goto out;
	}
	info.t_read = nd_cli_now() - t0;
	const char *const *notes;
	size_t nn = nd_dataset_notes(ds, &notes);
	for (size_t i = 0; i < nn; i++)
		nd_cli_note("%s", notes[i]);
	if (semantic) {
		nd_embed_stats es;
		nd_cli_progress("semantic pass: embedding and searching");
		eopts.threads = dopts.lex.threads;
		rc = nd_semantic_pairs(&sem_pairs, &n_sem, ds, &eopts, &es);
		nd_cli_progress(NULL);
		if (rc) {
			code = nd_cli_fail(rc);
			goto out;
		}
		nd_cli_note("semantic pass: %s embedder, %zu-dimensional, %s index: %zu pairs at cosine >= %.3f",
			    nd_embed_kind_name(eopts.kind), es.dim, nd_index_kind_name(es.index), n_sem,
			    eopts.threshold);
		info.semantic = 1;
		info.semantic_embedder = nd_embed_kind_name(eopts.kind);
		info.semantic_threshold = eopts.threshold;
	}
	nd_cli_progress("finding near-duplicates");
	dopts.max_details = max_listed ? max_listed : SIZE_MAX; /* the report lists no more (0: all) */
	rc = nd_dedup_run(&res, ds, &dopts, sem_pairs, n_sem);
	nd_cli_progress(NULL);
	if (rc) {
		code = nd_cli_fail(rc);
		goto out;
	}
	/* --split: the plan first, so that a split error (more parts than groups) writes nothing */
	if (sopts.spec) {
		nd_cli_progress("splitting");
		if ((rc = nd_split_plan_create(&plan, ds, res, &sopts)) ||
		    (!dry_run && (rc = nd_split_write(plan, ds, out_dir, &swo)))) {
			code = nd_cli_fail(rc);
			goto out;
		}
		const nd_split_part *parts;
		size_t np = nd_split_plan_parts(plan, &parts);
		const nd_split_stats *ss = nd_split_plan_stats(plan);
		for (size_t k = 0; k < np; k++)
			nd_cli_note("split: %-8s %6zu records (%zu groups)  ratio %.4f, achieved %.4f", parts[k].name,
				    parts[k].records, parts[k].groups, parts[k].ratio, parts[k].achieved);
		nd_cli_note("split: %zu records in %zu groups (largest %zu; joined: %zu variant, %zu conflict, %zu near), "
			    "%zu strata%s%s", ss->records, ss->groups, ss->largest_group, ss->joined_variant,
			    ss->joined_conflict, ss->joined_near, ss->strata, dry_run ? "; dry run, nothing written" : "; in ",
			    dry_run ? "" : out_dir);
	}
	double t1 = nd_cli_now();
	nd_cli_progress("writing");
	if (output && (rc = nd_dataset_write(ds, output, nd_result_keep(res)))) {
		code = nd_cli_fail(rc);
		goto out;
	}
	written(output);
	if (removed && (rc = nd_removed_write(res, ds, removed))) {
		code = nd_cli_fail(rc);
		goto out;
	}
	written(removed);
	info.t_write = nd_cli_now() - t1;
	info.tool_version = nd_version();
	info.output_path = output;
	info.removed_path = removed;
	info.dry_run = dry_run;
	info.with_timings = timings;
	info.max_listed = max_listed;
	if (report && (rc = nd_report_write(res, ds, &dopts, &info, report))) {
		code = nd_cli_fail(rc);
		goto out;
	}
	written(report);
	nd_cli_progress(NULL);
	const nd_dedup_stats *s = nd_result_stats(res);
	if (semantic) {
		size_t both = s->pairs_semantic - s->pairs_semantic_only;
		nd_cli_note("pairs: %zu lexical pass only, %zu both passes, %zu semantic pass only",
			    s->pairs_exact + s->pairs_lexical - both, both, s->pairs_semantic_only);
	}
	nd_cli_note("%zu records in, %zu kept, %zu removed in %zu clusters (exact pairs %zu, lexical %zu); "
		    "%zu answer conflicts; %zu variants kept apart (number %zu, negation %zu, options %zu, "
		    "image %zu, swap %zu); %.2f s",
		    s->records, s->kept, s->removed, s->clusters, s->pairs_exact, s->pairs_lexical, s->conflicts,
		    s->vetoed[0] + s->vetoed[1] + s->vetoed[2] + s->vetoed[3] + s->vetoed[4], s->vetoed[0],
		    s->vetoed[1], s->vetoed[2], s->vetoed[3], s->vetoed[4], nd_cli_now() - t0);
	if (s->giant_clusters)
		nd_cli_note("warning: %zu giant clusters (>= %zu members): check the report", s->giant_clusters,
			    dopts.giant_cluster);
	if (s->empty_texts)
		nd_cli_note("warning: %zu records have nothing to compare (no text in the fields the preset reads; "
			    "other record shapes, or a --fields name that matches nothing?): kept, never compared",
			    s->empty_texts);
out:
	nd_cli_progress(NULL);
	if (code != EXIT_OK)
		roll_back();
	nd_split_plan_free(plan);
	free(sem_pairs);
	nd_result_free(res);
	nd_dataset_free(ds);
	if (code == EXIT_OK && output && !strcmp(output, "-"))
		code = nd_cli_close_stdout();
	return code;
}
