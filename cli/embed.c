/* embed — the semantic pass's vectors (and optionally its pairs), for reuse or inspection. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"
#include "neardup/embed.h"
#include "neardup/records.h"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: embed [OPTIONS] INPUT -o VECTORS.npy\n"
"Embed the records of INPUT (JSON array, JSON Lines, a wrapped array, or - for stdin)\n"
"as unit vectors, one row per record in input order, and write them as a NumPy .npy\n"
"file (float32, shape (records, dim)). Each record's text is its normalised stem and\n"
"sorted options, as dedup compares them.\n"
"\n"
"Output:\n"
"  -o, --output FILE       the .npy file (- for stdout, not a terminal)\n"
"      --pairs FILE        also write the pairs with cosine >= --threshold as JSON Lines\n"
"                          {\"a\": i, \"b\": j, \"cosine\": x}, sorted by (a, b)\n"
"      --threshold T       cosine for --pairs, 0 < T <= 1 (default 0.99)\n"
"      --index M           search for --pairs: auto (default), exact, kmeans\n"
"      --knn K             --pairs: each record's K nearest above T only (dedup's\n"
"                          second pass uses 8); default 0: every pair above T\n"
"  -q, --quiet             no notes or summary on stderr\n"
"\n"
"Embedder (one of):\n"
"      --builtin           built-in, no model files (default): TF-IDF character n-grams\n"
"                          reduced by a randomized truncated SVD (LSA)\n"
"      --dim N             built-in: dimensions (default 256); others: expected dimension\n"
"      --seed N            built-in: seed (default 1)\n"
"      --vectors FILE      precomputed vectors: .npy (float32/float16, C order, (n, d)) or\n"
"                          .fvecs, one row per record\n"
"      --embed-url URL     an OpenAI-compatible service, e.g. http://localhost:8000/v1\n"
"                          (POST URL/embeddings)\n"
"      --embed-model NAME  the model name sent to the service (required with --embed-url)\n"
"      --api-key-env VAR   read the API key from environment variable VAR (never from\n"
"                          the command line; it is never written anywhere)\n"
"      --concurrency N     requests in flight (default 4)\n"
"      --batch N           texts per request (default 64)\n"
"      --timeout SEC       per-request timeout (default 60)\n"
"      --retries N         retries on 429/5xx/timeouts/resets (default 6)\n"
"      --cache FILE        vectors received so far; a rerun asks only for the missing\n"
"                          ones (default: OUTPUT.cache when OUTPUT is a file)\n"
"      --no-cache          no cache\n"
"\n"
"Reading (as dedup):\n"
ND_CLI_READING_HELP
"      --threads N         worker threads, 0 = all cores (default 0); output is the same\n"
"\n"
"  -h, --help              this help\n"
"  -V, --version           print the version\n"
"\n"
"Exit codes: 0 ok, 2 usage, 3 bad input data (also a bad vectors file), 4 I/O error,\n"
"5 out of memory or over a limit, 6 embedding service or FAISS/BLAS failure, 70 internal\n"
"error, 130/143 interrupted. See docs/exit-codes.md.\n");
}

enum {
	OPT_PAIRS = 256, OPT_THRESHOLD, OPT_INDEX, OPT_BUILTIN, OPT_DIM, OPT_SEED, OPT_VECTORS, OPT_URL, OPT_MODEL,
	OPT_KEY_ENV, OPT_CONCURRENCY, OPT_BATCH, OPT_TIMEOUT, OPT_RETRIES, OPT_CACHE, OPT_NO_CACHE, OPT_THREADS,
	OPT_KNN
};

static const struct option long_opts[] = {
	{"output", required_argument, NULL, 'o'},
	{"pairs", required_argument, NULL, OPT_PAIRS},
	{"threshold", required_argument, NULL, OPT_THRESHOLD},
	{"knn", required_argument, NULL, OPT_KNN},
	{"index", required_argument, NULL, OPT_INDEX},
	{"quiet", no_argument, NULL, 'q'},
	{"builtin", no_argument, NULL, OPT_BUILTIN},
	{"dim", required_argument, NULL, OPT_DIM},
	{"seed", required_argument, NULL, OPT_SEED},
	{"vectors", required_argument, NULL, OPT_VECTORS},
	{"embed-url", required_argument, NULL, OPT_URL},
	{"embed-model", required_argument, NULL, OPT_MODEL},
	{"api-key-env", required_argument, NULL, OPT_KEY_ENV},
	{"concurrency", required_argument, NULL, OPT_CONCURRENCY},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"cache", required_argument, NULL, OPT_CACHE},
	{"no-cache", no_argument, NULL, OPT_NO_CACHE},
	{"threads", required_argument, NULL, OPT_THREADS},
	ND_CLI_READING_OPTIONS,
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}};

static int write_pairs(const char *path, const nd_extra_pair *p, size_t n)
{
	nd_outfile *f;
	int rc = nd_outfile_open(&f, path);
	for (size_t i = 0; i < n && !rc; i++)
		rc = nd_outfile_printf(f, "{\"a\": %u, \"b\": %u, \"cosine\": %.6f}\n", p[i].a, p[i].b, p[i].sim);
	if (rc) {
		nd_outfile_abort(f);
		return rc;
	}
	return nd_outfile_commit(f);
}

int main(int argc, char **argv)
{
	nd_load_opts lo = ND_LOAD_OPTS_INIT;
	nd_embed_opts eo = ND_EMBED_OPTS_INIT;
	nd_embed_stats st;
	const char *output = NULL, *pairs_path = NULL, *input, *cache = NULL;
	int c, rc, code = EXIT_OK, kinds = 0, no_cache = 0;
	unsigned long long u;
	double v;
	nd_dataset *ds = NULL;
	float *x = NULL;
	size_t dim = 0;
	nd_extra_pair *pairs = NULL;
	size_t npairs = 0;
	char *cache_buf = NULL;

	nd_cli_prog = "embed";
	memset(&st, 0, sizeof st);
	eo.dim = 0; /* set below: 256 for the built-in embedder unless --dim */
	/* --pairs lists every pair above the threshold (range search needs 3 probes for
	 * recall >= 0.98, docs/embed.md); --knn K caps them as dedup does */
	eo.knn = 0;
	eo.probe = 3;
	while ((c = getopt_long(argc, argv, "o:qhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_PAIRS: pairs_path = optarg; break;
		case OPT_THRESHOLD:
			if (nd_cli_parse_double("--threshold", optarg, 1e-9, 1.0, &eo.threshold))
				return EXIT_USAGE;
			break;
		case OPT_KNN:
			if (nd_cli_parse_uint("--knn", optarg, 0, 4096, &u))
				return EXIT_USAGE;
			eo.knn = (unsigned)u;
			eo.probe = u ? 2 : 3;
			break;
		case OPT_INDEX:
			if (!strcmp(optarg, "auto")) eo.index = ND_INDEX_AUTO;
			else if (!strcmp(optarg, "exact")) eo.index = ND_INDEX_EXACT;
			else if (!strcmp(optarg, "kmeans")) eo.index = ND_INDEX_KMEANS;
			else return nd_cli_usage_error("--index takes auto, exact or kmeans, got '%s'", optarg);
			break;
		case 'q': nd_cli_quiet = 1; break;
		case OPT_BUILTIN: eo.kind = ND_EMBED_BUILTIN; kinds |= 1; break;
		case OPT_DIM:
			if (nd_cli_parse_uint("--dim", optarg, 1, 4096, &u))
				return EXIT_USAGE;
			eo.dim = (unsigned)u;
			break;
		case OPT_SEED:
			if (nd_cli_parse_uint("--seed", optarg, 0, UINT64_MAX, &u))
				return EXIT_USAGE;
			eo.seed = u;
			break;
		case OPT_VECTORS: eo.kind = ND_EMBED_VECTORS; eo.vectors_path = optarg; kinds |= 2; break;
		case OPT_URL: eo.kind = ND_EMBED_HTTP; eo.url = optarg; kinds |= 4; break;
		case OPT_MODEL: eo.model = optarg; break;
		case OPT_KEY_ENV: eo.api_key_env = optarg; break;
		case OPT_CONCURRENCY:
			if (nd_cli_parse_uint("--concurrency", optarg, 1, 256, &u))
				return EXIT_USAGE;
			eo.concurrency = (unsigned)u;
			break;
		case OPT_BATCH:
			if (nd_cli_parse_uint("--batch", optarg, 1, 4096, &u))
				return EXIT_USAGE;
			eo.batch = (unsigned)u;
			break;
		case OPT_TIMEOUT:
			if (nd_cli_parse_double("--timeout", optarg, 0.001, 3600, &v))
				return EXIT_USAGE;
			eo.timeout_ms = (unsigned)(v * 1000 + 0.5);
			break;
		case OPT_RETRIES:
			if (nd_cli_parse_uint("--retries", optarg, 0, 100, &u))
				return EXIT_USAGE;
			eo.max_retries = (unsigned)u;
			break;
		case OPT_CACHE: cache = optarg; break;
		case OPT_NO_CACHE: no_cache = 1; break;
		case OPT_THREADS:
			if (nd_cli_parse_uint("--threads", optarg, 0, 256, &u))
				return EXIT_USAGE;
			eo.threads = lo.threads = (unsigned)u;
			break;
		case 'h':
			usage(stdout);
			return nd_cli_close_stdout();
		case 'V':
			printf("embed (neardup) %s\n", nd_version());
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
	if (kinds & (kinds - 1))
		return nd_cli_usage_error("choose one embedder: --builtin, --vectors or --embed-url");
	if (eo.kind == ND_EMBED_HTTP && !eo.model)
		return nd_cli_usage_error("--embed-url needs --embed-model");
	if (eo.kind != ND_EMBED_HTTP && (eo.model || eo.api_key_env || cache))
		return nd_cli_usage_error("--embed-model, --api-key-env and --cache go with --embed-url");
	if (cache && no_cache)
		return nd_cli_usage_error("--cache and --no-cache contradict each other");
	if (eo.kind == ND_EMBED_BUILTIN && eo.dim == 0)
		eo.dim = 256;
	if (!output)
		output = "-";
	if (!strcmp(output, "-") && isatty(STDOUT_FILENO))
		return nd_cli_usage_error("the .npy output is binary: give -o FILE or redirect stdout");
	if (nd_cli_same_file(input, output) || nd_cli_same_file(input, pairs_path) ||
	    nd_cli_same_file(eo.vectors_path, output) || nd_cli_same_file(eo.vectors_path, pairs_path))
		return nd_cli_usage_error("an output file is an input ('%s'): inputs are never overwritten",
					  nd_cli_same_file(input, output) || nd_cli_same_file(eo.vectors_path, output)
						  ? output
						  : pairs_path);
	if ((rc = nd_cli_output_check(output)) || (rc = nd_cli_output_check(pairs_path)))
		return rc;
	if (nd_cli_same_file(pairs_path, output))
		return nd_cli_usage_error("two outputs name the same file ('%s', '%s')", output, pairs_path);
	if (eo.kind == ND_EMBED_HTTP && !no_cache) {
		if (!cache && strcmp(output, "-")) {
			size_t l = strlen(output);
			cache_buf = malloc(l + 7);
			if (!cache_buf)
				return nd_cli_fail(ND_ENOMEM);
			memcpy(cache_buf, output, l);
			memcpy(cache_buf + l, ".cache", 7);
			cache = cache_buf;
		}
		eo.cache_path = cache;
	}
	if (nd_cli_reading_check(&lo))
		return EXIT_USAGE;

	nd_cli_install_signals();
	double t0 = nd_cli_now();
	nd_cli_progress("reading and normalising records");
	rc = nd_dataset_load(&ds, input, &lo);
	nd_cli_progress(NULL);
	if (rc) {
		code = nd_cli_fail(rc);
		goto out;
	}
	const char *const *notes;
	size_t nn = nd_dataset_notes(ds, &notes);
	for (size_t i = 0; i < nn; i++)
		nd_cli_note("%s", notes[i]);
	nd_cli_progress("embedding");
	rc = nd_embed_dataset(&x, &dim, ds, &eo, &st);
	nd_cli_progress(NULL);
	if (rc) {
		code = nd_cli_fail(rc);
		goto out;
	}
	if (pairs_path) {
		nd_cli_progress("searching pairs");
		rc = nd_vector_pairs(&pairs, &npairs, x, nd_dataset_count(ds), dim, &eo, &st);
		nd_cli_progress(NULL);
		if (rc || (rc = write_pairs(pairs_path, pairs, npairs))) {
			code = nd_cli_fail(rc);
			goto out;
		}
	}
	nd_cli_progress("writing");
	if ((rc = nd_npy_write(output, x, nd_dataset_count(ds), dim))) {
		code = nd_cli_fail(rc);
		goto out;
	}
	nd_cli_progress(NULL);
	if (eo.kind == ND_EMBED_HTTP)
		nd_cli_note("%zu records, %zu-dimensional vectors from %s (%zu texts from the cache, %zu fetched in "
			    "%zu requests, %zu retries); %.2f s", nd_dataset_count(ds), dim, eo.url, st.cached, st.fetched,
			    st.requests, st.retries, nd_cli_now() - t0);
	else if (eo.kind == ND_EMBED_BUILTIN)
		nd_cli_note("%zu records, %zu-dimensional built-in vectors (%zu features, %.1f%% of the fit sample's "
			    "norm kept); %.2f s", nd_dataset_count(ds), dim, st.features, 100 * st.explained,
			    nd_cli_now() - t0);
	else
		nd_cli_note("%zu records, %zu-dimensional vectors from %s; %.2f s", nd_dataset_count(ds), dim,
			    eo.vectors_path, nd_cli_now() - t0);
	if (pairs_path)
		nd_cli_note("%zu pairs with cosine >= %g (%s search, %zu candidates)", npairs, eo.threshold,
			    nd_index_kind_name(st.index), st.candidates);
out:
	nd_cli_progress(NULL);
	free(x);
	free(pairs);
	free(cache_buf);
	nd_dataset_free(ds);
	if (code == EXIT_OK && !strcmp(output ? output : "", "-"))
		code = nd_cli_close_stdout();
	return code;
}
