/* The split: spec parsing, grouping the kept records, and the assignment of groups to
 * parts (docs/split.md). Writing the parts is emit.c. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dedup_internal.h"
#include "neardup/lexical.h"
#include "split_internal.h"

/* ------------------------------------------------------------------ spec -- */

static int reserved_name(const char *s, size_t n)
{
	return (n == 5 && !memcmp(s, "split", 5)) || (n == 12 && !memcmp(s, "dataset_info", 12));
}

int nd_split_spec_parse(const char *spec, nd_arena *arena, const char **names, double *ratios)
{
	const char *nm[ND_SPLIT_MAX_PARTS];
	size_t nl[ND_SPLIT_MAX_PARTS];
	double r[ND_SPLIT_MAX_PARTS], sum = 0;
	size_t np = 0;
	const char *p = spec;

	if (!spec || !*spec)
		return nd_seterr(ND_EINVAL, "empty split spec: give parts as name=ratio, e.g. train=0.7,val=0.2,test=0.1");
	for (;;) {
		const char *end = strchr(p, ','), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && isspace((unsigned char)*p))
			p++, len--;
		eq = memchr(p, '=', len);
		if (!eq)
			return nd_seterr(ND_EINVAL, "split part '%.*s' is not name=ratio (e.g. train=0.7)", (int)len, p);
		size_t n = (size_t)(eq - p);
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n == 0)
			return nd_seterr(ND_EINVAL, "split part '%.*s' has no name", (int)len, p);
		if (n > ND_SPLIT_NAME_MAX)
			return nd_seterr(ND_EINVAL, "split part name '%.*s' is longer than %d bytes", (int)n, p,
					 ND_SPLIT_NAME_MAX);
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '_' && p[i] != '-')
				return nd_seterr(ND_EINVAL, "split part name '%.*s' may hold only letters, digits, '_' "
							    "and '-' (it becomes a file name)", (int)n, p);
		if (reserved_name(p, n))
			return nd_seterr(ND_EINVAL, "split part name '%.*s' is reserved (the directory holds "
						    "split.json and dataset_info.json)", (int)n, p);
		for (size_t k = 0; k < np; k++)
			if (nl[k] == n && !memcmp(nm[k], p, n))
				return nd_seterr(ND_EINVAL, "split part '%.*s' is named twice", (int)n, p);
		if (np == ND_SPLIT_MAX_PARTS)
			return nd_seterr(ND_EINVAL, "more than %d split parts", ND_SPLIT_MAX_PARTS);
		/* the ratio: a number up to the comma */
		char num[64];
		size_t vl = len - (size_t)(eq + 1 - p);
		const char *v = eq + 1;
		while (vl && isspace((unsigned char)*v))
			v++, vl--;
		while (vl && isspace((unsigned char)v[vl - 1]))
			vl--;
		if (vl == 0 || vl >= sizeof num)
			return nd_seterr(ND_EINVAL, "split part '%.*s' needs a ratio (name=0.7 or name=70)", (int)n, p);
		memcpy(num, v, vl);
		num[vl] = 0;
		char *e;
		errno = 0;
		double x = strtod(num, &e);
		if (*e || errno || !isfinite(x))
			return nd_seterr(ND_EINVAL, "split part '%.*s': ratio '%s' is not a number", (int)n, p, num);
		if (x == 0)
			return nd_seterr(ND_EINVAL, "split part '%.*s' has ratio 0: an empty part", (int)n, p);
		if (x < 0)
			return nd_seterr(ND_EINVAL, "split part '%.*s' has a negative ratio %s", (int)n, p, num);
		nm[np] = p;
		nl[np] = n;
		r[np++] = x;
		sum += x;
		if (!end)
			break;
		p = end + 1;
	}
	/* 1e-6 relative: "0.33,0.33,0.34" sums exactly in decimal, not in binary */
	if (fabs(sum - 1) > 1e-6 && fabs(sum - 100) > 1e-4)
		return nd_seterr(ND_EINVAL, "split ratios sum to %g: they must sum to 1 (or to 100)", sum);
	for (size_t k = 0; k < np; k++) {
		if (ratios)
			ratios[k] = r[k] / sum;
		if (names && !(names[k] = nd_arena_strndup(arena, nm[k], nl[k])))
			return nd_seterr(ND_ENOMEM, "out of memory");
	}
	return (int)np;
}

int nd_split_spec_check(const char *spec)
{
	return nd_split_spec_parse(spec, NULL, NULL, NULL);
}

/* ------------------------------------------------------------ assignment -- */

typedef struct {
	uint32_t st;
	size_t size, st_max, st_total, idx;
	uint64_t key;
} gitem;

static int cmp_stratum(const void *a, const void *b)
{
	const gitem *x = a, *y = b;
	if (x->st != y->st)
		return x->st < y->st ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Strata with the largest group first (they are the hardest to balance, so later
 * strata can make up for them), then larger strata; inside a stratum, larger groups
 * first, equal sizes in seeded random order. */
static int cmp_order(const void *a, const void *b)
{
	const gitem *x = a, *y = b;
	if (x->st_max != y->st_max)
		return x->st_max > y->st_max ? -1 : 1;
	if (x->st_total != y->st_total)
		return x->st_total > y->st_total ? -1 : 1;
	if (x->st != y->st)
		return x->st < y->st ? -1 : 1;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static uint64_t group_key(size_t idx, uint64_t seed)
{
	unsigned char b[8]; /* little-endian bytes: the same key on every platform */
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)idx >> (8 * i));
	return nd_hash64(b, sizeof b, seed ^ 0x53504c4954ull /* "SPLIT" */);
}

int nd_split_assign(int *part_of, const size_t *size, const uint32_t *stratum, size_t ng, const double *ratios,
		    size_t np, uint64_t seed)
{
	double r[ND_SPLIT_MAX_PARTS], sum = 0, total = 0;
	size_t a[ND_SPLIT_MAX_PARTS] = {0}, cnt[ND_SPLIT_MAX_PARTS] = {0}, empty = np;
	gitem *it;

	if (!part_of || !size || !ratios || (ng && !size))
		return nd_seterr(ND_EINVAL, "nd_split_assign: NULL argument");
	if (np == 0 || np > ND_SPLIT_MAX_PARTS)
		return nd_seterr(ND_EINVAL, "nd_split_assign: %zu parts (1 to %d)", np, ND_SPLIT_MAX_PARTS);
	for (size_t p = 0; p < np; p++) {
		if (!(ratios[p] > 0) || !isfinite(ratios[p]))
			return nd_seterr(ND_EINVAL, "nd_split_assign: ratio %zu is %g, not > 0", p, ratios[p]);
		sum += ratios[p];
	}
	for (size_t p = 0; p < np; p++)
		r[p] = ratios[p] / sum;
	if (ng < np)
		return nd_seterr(ND_EINVAL, "%zu parts but only %zu group%s of records to place (duplicates, "
					    "variants and near-twins stay together): use fewer parts",
				 np, ng, ng == 1 ? "" : "s");
	if (!(it = nd_calloc(ng, sizeof *it)))
		return nd_seterr(ND_ENOMEM, "out of memory for %zu groups", ng);
	for (size_t g = 0; g < ng; g++) {
		if (size[g] == 0) {
			free(it);
			return nd_seterr(ND_EINVAL, "nd_split_assign: group %zu has size 0", g);
		}
		it[g].st = stratum ? stratum[g] : 0;
		it[g].size = size[g];
		it[g].idx = g;
		it[g].key = group_key(g, seed);
	}
	qsort(it, ng, sizeof *it, cmp_stratum);
	for (size_t i = 0, j; i < ng; i = j) {
		size_t mx = 0, tot = 0;
		for (j = i; j < ng && it[j].st == it[i].st; j++) {
			mx = it[j].size > mx ? it[j].size : mx;
			tot += it[j].size;
		}
		for (size_t k = i; k < j; k++) {
			it[k].st_max = mx;
			it[k].st_total = tot;
		}
	}
	qsort(it, ng, sizeof *it, cmp_order);
	/* Greedy: each group goes to the part furthest below its quota once the group is
	 * counted (ratio * (placed + size) - part's records); ties to the earlier part.
	 * When only as many groups remain as parts are empty, they go to empty parts. */
	for (size_t k = 0; k < ng; k++) {
		double s = (double)it[k].size, best = -INFINITY;
		size_t bp = 0;
		int forced = ng - k <= empty;
		for (size_t p = 0; p < np; p++) {
			if (forced && cnt[p])
				continue;
			double d = r[p] * (total + s) - (double)a[p];
			if (d > best) {
				best = d;
				bp = p;
			}
		}
		part_of[it[k].idx] = (int)bp;
		if (cnt[bp]++ == 0)
			empty--;
		a[bp] += it[k].size;
		total += s;
	}
	free(it);
	return 0;
}

/* ------------------------------------------------------------- grouping -- */

/* The record standing for @i in the parts: its keeper, or UINT32_MAX. */
static uint32_t placed(const nd_result *res, const unsigned char *keep, size_t n, uint32_t i)
{
	uint32_t k = nd_result_kept_by(res, i);
	return k != UINT32_MAX && k < n && keep[k] ? k : UINT32_MAX;
}

static int join(uint32_t *parent, const nd_result *res, const unsigned char *keep, size_t n, uint32_t a, uint32_t b)
{
	uint32_t ka = placed(res, keep, n, a), kb = placed(res, keep, n, b);
	return ka != UINT32_MAX && kb != UINT32_MAX && nd_uf_union(parent, ka, kb);
}

static int near_pass(uint32_t *parent, const nd_dataset *ds, const nd_result *res, const unsigned char *keep,
		     const nd_split_opts *o, nd_split_stats *st)
{
	size_t n = nd_dataset_count(ds), np = 0;
	const char **texts = nd_calloc(n, sizeof *texts);
	size_t *lens = nd_calloc(n, sizeof *lens);
	nd_pair *pairs = NULL;
	nd_lex_opts lo = ND_LEX_OPTS_INIT;
	int rc = 0;

	if (!texts || !lens) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		const nd_compare *c = nd_dataset_compare(ds, i);
		/* records that go nowhere take part too: a removed duplicate links its keeper */
		texts[i] = c->text;
		lens[i] = c->text_len;
	}
	lo.threshold = o->near_threshold;
	lo.ngram = o->ngram;
	lo.threads = o->threads;
	if ((rc = nd_lex_pairs(texts, lens, n, &lo, &pairs, &np, NULL))) {
		nd_error_prefix(rc, "split: near pass");
		goto cleanup;
	}
	st->near_pairs = np;
	for (size_t k = 0; k < np; k++) {
		if (!o->group_variants &&
		    nd_guard_check(nd_dataset_compare(ds, pairs[k].a), nd_dataset_compare(ds, pairs[k].b), o->guards,
				   NULL, 0))
			continue; /* a variant: may be split apart */
		st->joined_near += (size_t)join(parent, res, keep, n, pairs[k].a, pairs[k].b);
	}
cleanup:
	free(pairs);
	free(texts);
	free(lens);
	return rc;
}

static const char *nz(const char *s) { return s ? s : ""; }

typedef struct {
	const char *type, *category;
	size_t g;
} skey;

static int cmp_skey(const void *a, const void *b)
{
	const skey *x = a, *y = b;
	int c = strcmp(nz(x->type), nz(y->type));
	if (!c)
		c = strcmp(nz(x->category), nz(y->category));
	if (!c)
		c = x->g < y->g ? -1 : x->g > y->g;
	return c;
}

int nd_split_plan_create(nd_split_plan **out, const nd_dataset *ds, const nd_result *res, const nd_split_opts *opts)
{
	nd_split_plan *p = NULL;
	uint32_t *parent = NULL, *gid = NULL, *groot = NULL, *gstratum = NULL;
	size_t *gsize = NULL, ng = 0, n;
	int *gpart = NULL;
	skey *keys = NULL;
	const char *names[ND_SPLIT_MAX_PARTS];
	double ratios[ND_SPLIT_MAX_PARTS];
	const unsigned char *keep;
	int rc = 0, np;

	if (!out || !ds || !res || !opts)
		return nd_seterr(ND_EINVAL, "nd_split_plan_create: NULL argument");
	*out = NULL;
	if (opts->version != ND_SPLIT_OPTS_VERSION)
		return nd_seterr(ND_EINVAL, "nd_split_opts version %u, expected %d", opts->version, ND_SPLIT_OPTS_VERSION);
	if (!(opts->near_threshold >= 0 && opts->near_threshold <= 1))
		return nd_seterr(ND_EINVAL, "split near threshold %g is outside [0, 1]", opts->near_threshold);
	if (opts->near_threshold > 0 && opts->ngram == 0)
		return nd_seterr(ND_EINVAL, "split near pass: ngram must be >= 1");
	n = nd_dataset_count(ds);
	if (n >= UINT32_MAX)
		return nd_seterr(ND_ELIMIT, "split: %zu records is over the limit", n);
	if (!(p = nd_calloc(1, sizeof *p)))
		return nd_seterr(ND_ENOMEM, "out of memory");
	p->arena.block_size = 1 << 14;
	if ((np = nd_split_spec_parse(opts->spec, &p->arena, names, ratios)) < 0) {
		rc = np;
		goto cleanup;
	}
	p->opts = *opts;
	p->n = n;
	p->nparts = (size_t)np;
	keep = nd_result_keep(res);
	parent = nd_malloc(n * sizeof *parent);
	gid = nd_malloc(n * sizeof *gid);
	p->part_of = nd_malloc(n * sizeof *p->part_of);
	p->group_of = nd_malloc(n * sizeof *p->group_of);
	if (n && (!parent || !gid || !p->part_of || !p->group_of)) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu records", n);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		parent[i] = (uint32_t)i;

	/* conflicts always: both answers of one question in two parts is a leak */
	const nd_conflict *cf;
	size_t ncf = nd_result_conflicts(res, &cf);
	for (size_t k = 0; k < ncf; k++)
		p->stats.joined_conflict += (size_t)join(parent, res, keep, n, cf[k].a, cf[k].b);
	if (opts->group_variants) {
		const nd_variant *v;
		size_t nv = nd_result_variants(res, &v);
		for (size_t k = 0; k < nv; k++)
			p->stats.joined_variant += (size_t)join(parent, res, keep, n, v[k].a, v[k].b);
	}
	if (opts->near_threshold > 0 && (rc = near_pass(parent, ds, res, keep, opts, &p->stats)))
		goto cleanup;

	/* groups, numbered in the order of their smallest record (the root) */
	for (size_t i = 0; i < n; i++) {
		gid[i] = UINT32_MAX;
		if (!keep[i])
			continue;
		uint32_t root = nd_uf_find(parent, (uint32_t)i);
		if (root == i)
			gid[i] = (uint32_t)ng++;
		else
			gid[i] = gid[root]; /* root < i: numbered already */
	}
	if (ng == 0) {
		rc = nd_seterr(ND_EEMPTY, "split: no records left to place");
		goto cleanup;
	}
	gsize = nd_calloc(ng, sizeof *gsize);
	groot = nd_calloc(ng, sizeof *groot);
	gstratum = nd_calloc(ng, sizeof *gstratum);
	gpart = nd_calloc(ng, sizeof *gpart);
	keys = nd_calloc(ng, sizeof *keys);
	if (!gsize || !groot || !gstratum || !gpart || !keys) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu groups", ng);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if (gid[i] == UINT32_MAX)
			continue;
		if (gsize[gid[i]]++ == 0)
			groot[gid[i]] = (uint32_t)i;
		p->stats.records++;
	}

	/* strata: the (type, category) of each group's first record, sorted */
	int any = 0;
	for (size_t g = 0; g < ng; g++) {
		const nd_record *rec = nd_dataset_record(ds, groot[g]);
		keys[g].type = opts->stratify ? rec->type : NULL;
		keys[g].category = opts->stratify ? rec->category : NULL;
		keys[g].g = g;
		any |= (keys[g].type && *keys[g].type) || (keys[g].category && *keys[g].category);
	}
	if (!any)
		for (size_t g = 0; g < ng; g++)
			keys[g].type = keys[g].category = NULL;
	qsort(keys, ng, sizeof *keys, cmp_skey);
	size_t ns = 0;
	for (size_t k = 0; k < ng; k++) {
		if (k == 0 || strcmp(nz(keys[k].type), nz(keys[k - 1].type)) ||
		    strcmp(nz(keys[k].category), nz(keys[k - 1].category)))
			ns++;
		gstratum[keys[k].g] = (uint32_t)(ns - 1);
	}
	if (!(p->strata = nd_arena_alloc(&p->arena, ns * sizeof *p->strata))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto cleanup;
	}
	memset(p->strata, 0, ns * sizeof *p->strata);
	p->nstrata = ns;
	for (size_t k = 0; k < ng; k++) {
		nd_split_stratum *s = &p->strata[gstratum[keys[k].g]];
		if (s->per_part)
			continue;
		/* copies: the plan may outlive the dataset */
		s->type = keys[k].type ? nd_arena_strndup(&p->arena, keys[k].type, strlen(keys[k].type)) : NULL;
		s->category = keys[k].category ? nd_arena_strndup(&p->arena, keys[k].category, strlen(keys[k].category))
					       : NULL;
		s->per_part = nd_arena_alloc(&p->arena, p->nparts * sizeof *s->per_part);
		if ((keys[k].type && !s->type) || (keys[k].category && !s->category) || !s->per_part) {
			rc = nd_seterr(ND_ENOMEM, "out of memory");
			goto cleanup;
		}
		memset(s->per_part, 0, p->nparts * sizeof *s->per_part);
	}

	if ((rc = nd_split_assign(gpart, gsize, gstratum, ng, ratios, p->nparts, opts->seed)))
		goto cleanup;

	for (size_t k = 0; k < p->nparts; k++) {
		p->parts[k].name = names[k];
		p->parts[k].ratio = ratios[k];
	}
	for (size_t g = 0; g < ng; g++) {
		p->parts[gpart[g]].groups++;
		p->parts[gpart[g]].records += gsize[g];
		p->strata[gstratum[g]].per_part[gpart[g]] += gsize[g];
		p->strata[gstratum[g]].records += gsize[g];
		if (gsize[g] > p->stats.largest_group)
			p->stats.largest_group = gsize[g];
		p->stats.multi_groups += gsize[g] > 1;
	}
	for (size_t i = 0; i < n; i++) {
		p->part_of[i] = gid[i] == UINT32_MAX ? -1 : gpart[gid[i]];
		p->group_of[i] = gid[i] == UINT32_MAX ? UINT32_MAX : groot[gid[i]];
	}
	p->stats.groups = ng;
	p->stats.strata = ns;
	for (size_t k = 0; k < p->nparts; k++) {
		nd_split_part *pt = &p->parts[k];
		pt->achieved = (double)pt->records / (double)p->stats.records;
		double d = fabs(pt->achieved - pt->ratio);
		if (d > p->stats.max_deviation)
			p->stats.max_deviation = d;
		for (size_t s = 0; s < ns; s++) {
			/* small strata cannot follow the ratios: 3 records in 7:2:1 */
			if (p->strata[s].records < 20)
				continue;
			d = fabs((double)p->strata[s].per_part[k] / (double)p->strata[s].records - pt->ratio);
			if (d > p->stats.max_stratum_deviation)
				p->stats.max_stratum_deviation = d;
		}
	}
	p->opts.spec = NULL;
	*out = p;
	p = NULL;
cleanup:
	nd_split_plan_free(p);
	free(parent);
	free(gid);
	free(groot);
	free(gsize);
	free(gstratum);
	free(gpart);
	free(keys);
	return rc;
}

void nd_split_plan_free(nd_split_plan *p)
{
	if (!p)
		return;
	free(p->part_of);
	free(p->group_of);
	nd_arena_free(&p->arena);
	free(p);
}

size_t nd_split_plan_parts(const nd_split_plan *p, const nd_split_part **parts)
{
	if (parts)
		*parts = p ? p->parts : NULL;
	return p ? p->nparts : 0;
}

const nd_split_stats *nd_split_plan_stats(const nd_split_plan *p)
{
	return p ? &p->stats : NULL;
}

int nd_split_plan_part_of(const nd_split_plan *p, size_t i)
{
	return p && i < p->n ? p->part_of[i] : -1;
}

uint32_t nd_split_plan_group_of(const nd_split_plan *p, size_t i)
{
	return p && i < p->n ? p->group_of[i] : UINT32_MAX;
}
