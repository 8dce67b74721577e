/* Fuzz target: field mapping and answer parsing (core/mapping.c).
 *
 * Input: a first line "PRESET [FIELDS-SPEC]" (PRESET one of auto exam alpaca sharegpt
 * messages fields; a line that names no preset means auto), then the dataset. So the
 * fuzzer varies both the --fields spec and the records it maps.
 * Invariants: answer masks only name existing options, a judge value is 0/1, option
 * and answer strings are valid UTF-8, the defects agree with the view. */
#include "fuzz_common.h"
#include "neardup/normalize.h"
#include "neardup/records.h"

static fz_memfile in_file;

static void check_str(const char *s)
{
	if (s)
		FZ_ASSERT(nd_utf8_validate(s, strlen(s), NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t head = nl ? (size_t)(nl - (const char *)data) : 0;
	char line[512];
	nd_load_opts lo = ND_LOAD_OPTS_INIT;
	lo.threads = 1;
	if (head && head < sizeof line) {
		memcpy(line, data, head);
		line[head] = 0;
		char *sp = strchr(line, ' ');
		if (sp)
			*sp++ = 0;
		nd_preset p;
		if (nd_preset_parse(&p, line) == 0) {
			lo.preset = p;
			lo.fields = sp; /* NULL for a preset without a spec */
		}
	}
	size_t off = nl ? head + 1 : 0;
	const char *path = fz_memfile_set(&in_file, data + off, size - off);
	nd_dataset *ds = NULL;
	int rc = nd_dataset_load(&ds, path, &lo);
	if (rc == 0) {
		for (size_t i = 0; i < nd_dataset_count(ds); i++) {
			const nd_record *r = nd_dataset_record(ds, i);
			const nd_compare *c = nd_dataset_compare(ds, i);
			FZ_ASSERT(r->n_options <= ND_MAX_OPTIONS);
			for (size_t k = 0; k < r->n_options; k++) {
				FZ_ASSERT(r->options[k] != NULL);
				check_str(r->options[k]);
			}
			check_str(r->stem);
			check_str(r->answer_raw);
			check_str(r->id);
			switch (r->answer_kind) {
			case ND_ANSWER_CHOICE:
				FZ_ASSERT(r->answer_mask != 0);
				FZ_ASSERT(r->n_options == 32 || (r->answer_mask >> r->n_options) == 0);
				break;
			case ND_ANSWER_JUDGE:
				FZ_ASSERT(r->judge_value == 0 || r->judge_value == 1);
				break;
			case ND_ANSWER_TEXT:
				FZ_ASSERT(r->answer_text != NULL);
				check_str(r->answer_text);
				break;
			case ND_ANSWER_NONE:
				FZ_ASSERT(r->defects & ND_DEFECT_NO_ANSWER);
				break;
			case ND_ANSWER_INVALID:
				FZ_ASSERT(r->defects & ND_DEFECT_BAD_ANSWER);
				break;
			default:
				FZ_ASSERT(!"unknown answer kind");
			}
			FZ_ASSERT(c->answer != NULL && c->numbers != NULL);
			check_str(c->answer);
			check_str(c->stem);
		}
	} else {
		FZ_ASSERT(rc < 0 && nd_error_last()[0] != 0);
	}
	nd_dataset_free(ds);
	return 0;
}
