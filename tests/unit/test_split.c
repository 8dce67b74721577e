/* The split: spec parsing, the assignment (ratios, whole groups, strata, seeds, errors),
 * and plans and parts of a generated bank (tests/fixtures/split/bank.json). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "neardup/split.h"

TEST(split_spec_accepts_fractions_percentages_and_spaces)
{
	CHECK_EQ_INT(nd_split_spec_check("train=0.7,val=0.2,test=0.1"), 3);
	CHECK_EQ_INT(nd_split_spec_check("train=70,val=20,test=10"), 3);
	CHECK_EQ_INT(nd_split_spec_check(" a = 0.5 , b=0.5 "), 2);
	CHECK_EQ_INT(nd_split_spec_check("all=1"), 1);
	CHECK_EQ_INT(nd_split_spec_check("x1=0.33,x-2=0.33,x_3=0.34"), 3);
}

TEST(split_spec_rejects_bad_input_with_a_reason)
{
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{"train=0.7,val=0.2", "sum to 0.9"},
		{"train=0.7,val=0.2,test=0.2", "sum to 1.1"},
		{"train=80,val=30", "sum to 110"},
		{"train=1,test=0", "empty part"},
		{"train=1.1,test=-0.1", "negative"},
		{"train=0.5,train=0.5", "named twice"},
		{"split=0.5,b=0.5", "reserved"},
		{"dataset_info=0.5,b=0.5", "reserved"},
		{"a/b=0.5,c=0.5", "letters, digits"},
		{"train0.7", "not name=ratio"},
		{"=0.5,b=0.5", "no name"},
		{"a=,b=1", "needs a ratio"},
		{"a=x,b=1", "not a number"},
		{"", "empty split spec"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = nd_split_spec_check(bad[i].spec);
		CHECK_MSG(rc == ND_EINVAL, "'%s' gave %d", bad[i].spec, rc);
		CHECK_MSG(strstr(nd_error_last(), bad[i].says), "'%s': message '%s' lacks '%s'", bad[i].spec,
			  nd_error_last(), bad[i].says);
	}
	CHECK(nd_split_spec_check(NULL) == ND_EINVAL);
}

static void counts(size_t *per_part, size_t np, const int *part_of, const size_t *size, size_t ng)
{
	memset(per_part, 0, np * sizeof *per_part);
	for (size_t g = 0; g < ng; g++)
		per_part[part_of[g]] += size[g];
}

TEST(split_assign_unit_groups_meet_the_ratios_within_one_record)
{
	enum { N = 1000 };
	static size_t size[N];
	static int part[N];
	const double r[3] = {0.7, 0.2, 0.1};
	size_t c[3];
	for (size_t n = 10; n <= N; n += 97) { /* from 10: below, every part's one group beats its quota */
		for (size_t g = 0; g < n; g++)
			size[g] = 1;
		CHECK_OK(nd_split_assign(part, size, NULL, n, r, 3, nd_test_seed()));
		counts(c, 3, part, size, n);
		for (int p = 0; p < 3; p++)
			CHECK_MSG(fabs((double)c[p] - r[p] * (double)n) <= 1.0, "n %zu part %d: %zu records, quota %.1f", n,
				  p, c[p], r[p] * (double)n);
	}
}

/* Groups of 1..8 records (seeded): every part is within the largest group of its quota. */
TEST(split_assign_mixed_groups_stay_close_to_the_ratios)
{
	enum { N = 700 };
	static size_t size[N];
	static int part[N];
	const double r[3] = {70, 20, 10}; /* any positive scale */
	size_t c[3], total = 0;
	uint64_t x = nd_test_seed() | 1;
	for (size_t g = 0; g < N; g++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size[g] = 1 + (size_t)(x % 8);
		total += size[g];
	}
	CHECK_OK(nd_split_assign(part, size, NULL, N, r, 3, 42));
	counts(c, 3, part, size, N);
	for (int p = 0; p < 3; p++) {
		double quota = r[p] / 100 * (double)total;
		CHECK_MSG(fabs((double)c[p] - quota) <= 8, "part %d: %zu records, quota %.1f (seed %llu)", p, c[p], quota,
			  (unsigned long long)nd_test_seed());
	}
}

/* Two strata of different sizes (and a third that is tiny): each stratum is split close
 * to the ratios, not only the whole. */
TEST(split_assign_stratifies)
{
	enum { N = 900 };
	static size_t size[N];
	static uint32_t st[N];
	static int part[N];
	const double r[3] = {0.7, 0.2, 0.1};
	size_t c[3][3] = {{0}}, tot[3] = {0};
	for (size_t g = 0; g < N; g++) {
		size[g] = 1 + g % 3;
		st[g] = g < 600 ? 0 : g < 890 ? 1 : 2;
	}
	CHECK_OK(nd_split_assign(part, size, st, N, r, 3, 7));
	for (size_t g = 0; g < N; g++) {
		c[st[g]][part[g]] += size[g];
		tot[st[g]] += size[g];
	}
	for (int s = 0; s < 2; s++)
		for (int p = 0; p < 3; p++) {
			double share = (double)c[s][p] / (double)tot[s];
			CHECK_MSG(fabs(share - r[p]) < 0.01, "stratum %d part %d: share %.4f", s, p, share);
		}
}

TEST(split_assign_is_deterministic_by_seed)
{
	enum { N = 300 };
	static size_t size[N];
	static int a[N], b[N], c[N];
	const double r[3] = {0.7, 0.2, 0.1};
	for (size_t g = 0; g < N; g++)
		size[g] = 1 + (g * 7) % 4;
	CHECK_OK(nd_split_assign(a, size, NULL, N, r, 3, 1));
	CHECK_OK(nd_split_assign(b, size, NULL, N, r, 3, 1));
	CHECK_OK(nd_split_assign(c, size, NULL, N, r, 3, 2));
	CHECK(!memcmp(a, b, sizeof a));
	CHECK_MSG(memcmp(a, c, sizeof a) != 0, "seeds 1 and 2 gave the same assignment");
}

TEST(split_assign_fills_every_part_and_rejects_bad_input)
{
	size_t size[4] = {50, 1, 1, 1};
	int part[4];
	const double r[3] = {0.98, 0.01, 0.01};
	CHECK_OK(nd_split_assign(part, size, NULL, 3, r, 3, 1));
	int seen[3] = {0};
	for (int g = 0; g < 3; g++)
		seen[part[g]] = 1;
	CHECK(seen[0] && seen[1] && seen[2]);
	CHECK(part[0] == 0); /* the big group goes where the quota is */

	CHECK(nd_split_assign(part, size, NULL, 2, r, 3, 1) == ND_EINVAL);
	CHECK(strstr(nd_error_last(), "3 parts but only 2 groups") != NULL);
	const double zero[2] = {1, 0};
	CHECK(nd_split_assign(part, size, NULL, 4, zero, 2, 1) == ND_EINVAL);
	size_t bad[2] = {1, 0};
	CHECK(nd_split_assign(part, bad, NULL, 2, r, 2, 1) == ND_EINVAL);
	CHECK(nd_split_assign(part, size, NULL, 4, r, 0, 1) == ND_EINVAL);
	CHECK(nd_split_assign(NULL, size, NULL, 4, r, 3, 1) == ND_EINVAL);
}

/* ------------------------------------------------------------ on a bank -- */

typedef struct {
	nd_dataset *ds;
	nd_result *res;
} bank_t;

static int bank_open(bank_t *b)
{
	char path[512];
	nd_load_opts lo = ND_LOAD_OPTS_INIT;
	nd_dedup_opts d = ND_DEDUP_OPTS_INIT;
	memset(b, 0, sizeof *b);
	snprintf(path, sizeof path, "%s/split/bank.json", nd_test_fixtures());
	lo.threads = 1;
	d.lex.threads = 1;
	int rc = nd_dataset_load(&b->ds, path, &lo);
	CHECK_MSG(rc == 0, "load %s: %s", path, nd_error_last());
	if (!rc && (rc = nd_dedup_run(&b->res, b->ds, &d, NULL, 0)))
		CHECK_MSG(0, "dedup: %s", nd_error_last());
	return rc;
}

static void bank_close(bank_t *b)
{
	nd_result_free(b->res);
	nd_dataset_free(b->ds);
}

TEST(split_plan_keeps_clusters_variants_and_conflicts_in_one_part)
{
	bank_t b;
	nd_split_plan *p = NULL;
	nd_split_opts o = ND_SPLIT_OPTS_INIT;
	if (bank_open(&b))
		goto out;
	o.spec = "train=0.7,val=0.2,test=0.1";
	o.threads = 1;
	CHECK_OK(nd_split_plan_create(&p, b.ds, b.res, &o));
	if (!p)
		goto out;
	size_t n = nd_dataset_count(b.ds), placed = 0;
	const unsigned char *keep = nd_result_keep(b.res);
	for (size_t i = 0; i < n; i++) {
		int part = nd_split_plan_part_of(p, i);
		CHECK_MSG((part >= 0) == (keep[i] != 0), "record %zu: part %d, keep %d", i, part, keep[i]);
		placed += part >= 0;
		/* a removed record: its keeper is placed, and so is it in effect */
		uint32_t k = nd_result_kept_by(b.res, i);
		if (k != UINT32_MAX && k != i)
			CHECK(nd_split_plan_part_of(p, k) >= 0);
	}
	const nd_variant *v;
	size_t nv = nd_result_variants(b.res, &v);
	CHECK_MSG(nv > 0, "the bank has no variants: the test proves nothing");
	for (size_t k = 0; k < nv; k++) {
		uint32_t ka = nd_result_kept_by(b.res, v[k].a), kb = nd_result_kept_by(b.res, v[k].b);
		if (ka == UINT32_MAX || kb == UINT32_MAX)
			continue;
		CHECK_MSG(nd_split_plan_part_of(p, ka) == nd_split_plan_part_of(p, kb), "variant %u/%u split apart",
			  v[k].a, v[k].b);
		CHECK(nd_split_plan_group_of(p, ka) == nd_split_plan_group_of(p, kb));
	}
	const nd_split_part *parts;
	size_t np = nd_split_plan_parts(p, &parts), sum = 0;
	CHECK_EQ_INT(np, 3);
	for (size_t k = 0; k < np; k++) {
		sum += parts[k].records;
		CHECK(parts[k].records > 0 && parts[k].groups > 0);
		CHECK_MSG(fabs(parts[k].achieved - parts[k].ratio) < 0.05, "%s: achieved %.3f, ratio %.3f", parts[k].name,
			  parts[k].achieved, parts[k].ratio);
	}
	CHECK_EQ_STR(parts[1].name, "val");
	const nd_split_stats *st = nd_split_plan_stats(p);
	CHECK_EQ_INT(sum, placed);
	CHECK_EQ_INT(st->records, placed);
	CHECK(st->strata > 1); /* the bank has types and categories */
	CHECK(st->groups < placed && st->multi_groups > 0);
	CHECK(nd_split_plan_part_of(p, n) == -1);
	CHECK(nd_split_plan_group_of(p, n) == UINT32_MAX);
out:
	nd_split_plan_free(p);
	bank_close(&b);
}

TEST(split_plan_without_variant_grouping_lets_variants_apart)
{
	bank_t b;
	nd_split_plan *with = NULL, *without = NULL;
	nd_split_opts o = ND_SPLIT_OPTS_INIT;
	if (bank_open(&b))
		goto out;
	o.spec = "a=0.5,b=0.5";
	CHECK_OK(nd_split_plan_create(&with, b.ds, b.res, &o));
	o.group_variants = 0;
	CHECK_OK(nd_split_plan_create(&without, b.ds, b.res, &o));
	if (!with || !without)
		goto out;
	CHECK(nd_split_plan_stats(without)->joined_variant == 0);
	CHECK(nd_split_plan_stats(with)->joined_variant > 0);
	CHECK_MSG(nd_split_plan_stats(without)->groups > nd_split_plan_stats(with)->groups,
		  "groups: %zu without variant grouping, %zu with", nd_split_plan_stats(without)->groups,
		  nd_split_plan_stats(with)->groups);
out:
	nd_split_plan_free(with);
	nd_split_plan_free(without);
	bank_close(&b);
}

TEST(split_plan_errors_more_parts_than_groups_and_bad_options)
{
	bank_t b;
	nd_split_plan *p = NULL;
	nd_split_opts o = ND_SPLIT_OPTS_INIT;
	char spec[4096];
	size_t len = 0;
	if (bank_open(&b))
		goto out;
	/* 32 parts, the maximum, of a bank whose groups are fewer once joined at 0.2 */
	for (int k = 0; k < ND_SPLIT_MAX_PARTS; k++)
		len += (size_t)snprintf(spec + len, sizeof spec - len, "%sp%d=3.125", k ? "," : "", k); /* 32 x 3.125 = 100 */
	o.spec = spec;
	o.near_threshold = 0.2;
	CHECK(nd_split_plan_create(&p, b.ds, b.res, &o) == ND_EINVAL);
	CHECK_MSG(strstr(nd_error_last(), "parts but only") != NULL, "message: %s", nd_error_last());
	CHECK(p == NULL);
	o = (nd_split_opts)ND_SPLIT_OPTS_INIT;
	o.spec = "a=0.5,b=0.4";
	CHECK(nd_split_plan_create(&p, b.ds, b.res, &o) == ND_EINVAL);
	o.spec = "a=0.5,b=0.5";
	o.near_threshold = 1.5;
	CHECK(nd_split_plan_create(&p, b.ds, b.res, &o) == ND_EINVAL);
	o.near_threshold = 0.65;
	o.version = 99;
	CHECK(nd_split_plan_create(&p, b.ds, b.res, &o) == ND_EINVAL);
	nd_split_plan_free(NULL);
out:
	bank_close(&b);
}

static int file_exists(const char *dir, const char *name)
{
	char path[1024];
	struct stat sb;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &sb) == 0;
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static char *slurp(const char *dir, const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = calloc(1, (size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = 0;
	fclose(f);
	return s;
}

TEST(split_write_stages_refuses_existing_dirs_and_emits_formats)
{
	bank_t b;
	nd_split_plan *p = NULL;
	nd_split_opts o = ND_SPLIT_OPTS_INIT;
	nd_split_write_opts w = ND_SPLIT_WRITE_OPTS_INIT;
	char dir[768], parent[512], tpl[768];
	char *s = NULL;
	if (bank_open(&b))
		goto out;
	o.spec = "train=0.7,val=0.2,test=0.1";
	CHECK_OK(nd_split_plan_create(&p, b.ds, b.res, &o));
	if (!p)
		goto out;
	snprintf(parent, sizeof parent, "%s/splitw", nd_test_tmpdir());
	mkdir(parent, 0777);
	snprintf(dir, sizeof dir, "%s/out/", parent); /* a trailing slash is fine */
	CHECK_OK(nd_split_write(p, b.ds, dir, &w));
	CHECK(file_exists(dir, "train.json") && file_exists(dir, "val.json") && file_exists(dir, "test.json"));
	CHECK(file_exists(dir, "split.json") && !file_exists(dir, "dataset_info.json"));
	CHECK_EQ_INT(dir_entries(parent), 1); /* no staging directory left */

	/* exists: refused without force, nothing changes */
	CHECK(nd_split_write(p, b.ds, dir, &w) == ND_EINVAL);
	CHECK(strstr(nd_error_last(), "--force") != NULL);
	CHECK_EQ_INT(dir_entries(dir), 4);

	/* with force, alpaca into the same directory: parts replaced, dataset_info added */
	w.force = 1;
	w.emit = ND_EMIT_ALPACA;
	CHECK_OK(nd_split_write(p, b.ds, dir, &w));
	CHECK_EQ_INT(dir_entries(dir), 5);
	s = slurp(dir, "train.json");
	CHECK(s && strstr(s, "\"instruction\": \"请回答以下驾驶考试题目，并提供解释。\"") && strstr(s, "正确答案是："));
	free(s);
	s = slurp(dir, "dataset_info.json");
	CHECK(s && strstr(s, "\"formatting\": \"alpaca\"") && strstr(s, "\"file_name\": \"test.json\""));
	free(s);

	/* back to same: the stale dataset_info.json goes */
	w.emit = ND_EMIT_SAME;
	CHECK_OK(nd_split_write(p, b.ds, dir, &w));
	CHECK(!file_exists(dir, "dataset_info.json"));

	/* a template: a system prompt, another option style, a dropped line */
	snprintf(tpl, sizeof tpl, "%s/tpl.json", parent);
	FILE *f = fopen(tpl, "w");
	if (f) {
		fputs("{\"system\": \"你是驾校教练。\", \"input\": \"{stem}\\n{options}\\n出处：{id_missing}\"}", f);
		fclose(f);
	}
	CHECK(nd_emit_template_check(tpl) == ND_EINVAL); /* unknown placeholder */
	CHECK(strstr(nd_error_last(), "{id_missing}") != NULL);
	f = fopen(tpl, "w");
	if (f) {
		fputs("{\"system\": \"你是驾校教练。\", \"input\": \"{stem}\\n{options}\\n图片：{image}\", "
		      "\"option\": \"{letter}. {text}\", \"output\": \"{answer}（{answer_text}）\"}",
		      f);
		fclose(f);
	}
	CHECK_OK(nd_emit_template_check(tpl));
	w.emit = ND_EMIT_SHAREGPT;
	w.template_path = tpl;
	CHECK_OK(nd_split_write(p, b.ds, dir, &w));
	s = slurp(dir, "train.json");
	CHECK(s && strstr(s, "\"from\": \"human\"") && strstr(s, "\"system\": \"你是驾校教练。\"") && strstr(s, "\\nA. "));
	free(s);
	s = slurp(dir, "dataset_info.json");
	CHECK(s && strstr(s, "\"messages\": \"conversations\"") && strstr(s, "\"system\": \"system\"") &&
	      strstr(s, "\"assistant_tag\": \"gpt\""));
	free(s);
	s = NULL;

	/* errors: a file where the directory goes, a missing parent */
	CHECK(nd_split_dir_check(tpl, 1) == ND_EINVAL);
	snprintf(dir, sizeof dir, "%s/no/such/out", parent);
	CHECK(nd_split_dir_check(dir, 0) == ND_EIO);
	w.template_path = NULL;
	CHECK(nd_split_write(p, b.ds, dir, &w) == ND_EIO);
out:
	free(s);
	nd_split_plan_free(p);
	bank_close(&b);
}
