/* Fuzz target: the report readers of validate.
 *
 *  - nd_validate_report (validate/load.c): a dedup report (neardup.report/1). The
 *    scratch directory holds in.json and out.json, the files the seed reports name
 *    (relative paths, resolved against the report's folder), so a mutated report gets
 *    past the size/SHA-256 check and on to the output it describes;
 *  - nd_validation_compare (validate/gates.c): a --baseline (neardup.validation/1),
 *    compared with a fixed validation of in.json, then gated and written as JSON.
 * The same bytes go to both readers. Invariants: errors carry a message naming the
 * report; a validation that loads can be gated and summarised. */
#include "fuzz_common.h"
#include "neardup/validate.h"

/* the dataset the seed reports describe: tests/fuzz/corpora/fuzz_report/README */
static const char in_json[] =
	"[{\"question\":\"a b c d e\",\"answer\":\"对\"},{\"question\":\"a b c d e\",\"answer\":\"对\"},"
	"{\"question\":\"x y z\",\"answer\":\"错\"}]";
static const char out_json[] =
	"[{\"question\":\"a b c d e\",\"answer\":\"对\"},{\"question\":\"x y z\",\"answer\":\"错\"}]";

static char report_path[128], base_path[128], data_path[128], json_path[128];

static void setup(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/in.json", fz_dir());
	fz_write_file(p, in_json, sizeof in_json - 1);
	snprintf(data_path, sizeof data_path, "%s", p);
	snprintf(p, sizeof p, "%s/out.json", fz_dir());
	fz_write_file(p, out_json, sizeof out_json - 1);
	snprintf(report_path, sizeof report_path, "%s/report.json", fz_dir());
	snprintf(base_path, sizeof base_path, "%s/baseline.json", fz_dir());
	snprintf(json_path, sizeof json_path, "%s/validation.json", fz_dir());
}

static void use(nd_validation *v)
{
	char *text = NULL;
	nd_vstatus s = nd_validation_gate(v, NULL);
	FZ_ASSERT(s == ND_VSTATUS_PASS || s == ND_VSTATUS_WARN || s == ND_VSTATUS_FAIL);
	FZ_ASSERT(nd_validation_text(v, &text) == 0 && text);
	free(text);
	FZ_ASSERT(nd_validation_write_json(v, json_path) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!report_path[0])
		setup();
	nd_validate_opts o = ND_VALIDATE_OPTS_INIT;
	o.threads = 1;
	o.load.threads = 1;
	nd_validation *v = NULL;

	fz_write_file(report_path, data, size);
	int rc = nd_validate_report(&v, report_path, &o);
	if (rc == 0)
		use(v);
	else
		FZ_ASSERT(rc < 0 && nd_error_last()[0] != 0);
	nd_validation_free(v);
	v = NULL;

	fz_write_file(base_path, data, size);
	if (nd_validate_dataset(&v, data_path, &o) != 0) {
		fprintf(stderr, "fuzz_report: %s\n", nd_error_last());
		abort();
	}
	rc = nd_validation_compare(v, base_path);
	if (rc != 0)
		FZ_ASSERT(rc < 0 && strstr(nd_error_last(), base_path) != NULL);
	use(v);
	nd_validation_free(v);
	return 0;
}
