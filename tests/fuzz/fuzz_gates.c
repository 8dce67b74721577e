/* Fuzz target: the gates file reader of validate (nd_gates_load, validate/gates.c) and
 * the command-line override parser (nd_gates_set), then gating a fixed validation.
 *
 * Input: a gates file. Its first line is also tried as a --warn/--fail spec.
 * Invariants: a failed load names the file and leaves the gates unchanged (the gated
 * statuses equal those of the defaults); gating never fails. */
#include "fuzz_common.h"
#include "neardup/validate.h"

static fz_memfile in_file;
static nd_validation *val;
static nd_vstatus default_status[64];
static size_t n_checks;

static void setup(void)
{
	static const char data[] =
		"[{\"question\":\"下列哪个是红色？<br>\",\"options\":[\"A、苹果\",\"B、香蕉\"],\"answer\":\"A\"},\n"
		" {\"question\":\"下列哪个是红色？\",\"options\":[\"苹果\",\"香蕉\"],\"answer\":\"B\"},\n"
		" {\"question\":\"1+1=3\",\"answer\":\"错\"},\n"
		" {\"question\":\"\",\"answer\":\"\"}]";
	char path[128];
	snprintf(path, sizeof path, "%s/data.json", fz_dir());
	fz_write_file(path, data, sizeof data - 1);
	nd_validate_opts o = ND_VALIDATE_OPTS_INIT;
	o.threads = 1;
	o.load.threads = 1;
	if (nd_validate_dataset(&val, path, &o) != 0) {
		fprintf(stderr, "fuzz_gates setup: %s\n", nd_error_last());
		abort();
	}
	nd_validation_gate(val, NULL);
	const nd_vcheck *c;
	n_checks = nd_validation_checks(val, &c);
	FZ_ASSERT(n_checks <= 64);
	for (size_t i = 0; i < n_checks; i++)
		default_status[i] = c[i].status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!val)
		setup();
	const char *path = fz_memfile_set(&in_file, data, size);
	nd_gates *g = NULL;
	if (nd_gates_create(&g) != 0)
		abort();
	int rc = nd_gates_load(g, path);
	const nd_vcheck *c;
	nd_vstatus worst = nd_validation_gate(val, g);
	FZ_ASSERT(worst == ND_VSTATUS_PASS || worst == ND_VSTATUS_WARN || worst == ND_VSTATUS_FAIL);
	nd_validation_checks(val, &c);
	if (rc != 0) {
		FZ_ASSERT(rc == ND_EINVAL || rc == ND_EIO || rc == ND_ENOMEM);
		FZ_ASSERT(strstr(nd_error_last(), path) != NULL);
		for (size_t i = 0; i < n_checks; i++)
			FZ_ASSERT(c[i].status == default_status[i]);
	}
	/* the first line as an override */
	const char *nl = memchr(data, '\n', size);
	size_t l = nl ? (size_t)(nl - (const char *)data) : size;
	if (l < 256) {
		char spec[256];
		memcpy(spec, data, l);
		spec[l] = 0;
		if (strlen(spec) == l) {
			if (nd_gates_set(g, ND_LEVEL_WARN, spec) != 0)
				FZ_ASSERT(nd_error_last()[0] != 0);
			if (nd_gates_set(g, ND_LEVEL_FAIL, spec) != 0)
				FZ_ASSERT(nd_error_last()[0] != 0);
			worst = nd_validation_gate(val, g);
			FZ_ASSERT(worst == ND_VSTATUS_PASS || worst == ND_VSTATUS_WARN || worst == ND_VSTATUS_FAIL);
		}
	}
	nd_gates_free(g);
	return 0;
}
