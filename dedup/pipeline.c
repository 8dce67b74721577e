/* The dedup decision path: lexical pairs (+ semantic pairs) → guards → conflicts →
 * union-find → clusters re-formed around leaders → keepers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dedup_internal.h"
#include "lexical_internal.h" /* nd_radix_sort_kv */

typedef struct {
	uint32_t a, b;
	float sim;
	unsigned char pass;     /* nd_pass */
	unsigned char veto;     /* ND_GUARD_* bit or 0 */
	unsigned char conflict; /* answers differ */
	unsigned char lexical;  /* the lexical pass found it too */
} edge;

struct nd_result {
	size_t n;
	unsigned char *keep;
	uint32_t *kept_by;
	nd_cluster *clusters;
	size_t nclusters;
	nd_member *members;
	size_t nmembers;
	nd_variant *variants;
	size_t nvariants;
	nd_conflict *conflicts;
	size_t nconflicts;
	nd_buf *details;  /* the variants' details, one buffer per decide chunk */
	size_t ndetails;
	nd_dedup_stats stats;
};

const char *nd_pass_name(nd_pass p)
{
	switch (p) {
	case ND_PASS_EXACT: return "exact";
	case ND_PASS_MINHASH: return "minhash";
	case ND_PASS_SIMHASH: return "simhash";
	case ND_PASS_SEMANTIC: return "semantic";
	}
	return "unknown";
}

const char *nd_keep_name(nd_keep_policy p)
{
	return p == ND_KEEP_FIRST ? "first" : p == ND_KEEP_LONGEST ? "longest" : "complete";
}

int nd_keep_parse(nd_keep_policy *out, const char *name)
{
	for (int p = 0; p <= ND_KEEP_LONGEST; p++)
		if (name && !strcmp(name, nd_keep_name((nd_keep_policy)p))) {
			*out = (nd_keep_policy)p;
			return 0;
		}
	return nd_seterr(ND_EINVAL, "unknown keep policy \"%s\" (complete, first, longest)", name ? name : "");
}

const char *nd_conflict_name(nd_conflict_policy p)
{
	return p == ND_CONFLICT_SEPARATE ? "separate" : p == ND_CONFLICT_DROP ? "drop" : "keep";
}

int nd_conflict_parse(nd_conflict_policy *out, const char *name)
{
	for (int p = 0; p <= ND_CONFLICT_DROP; p++)
		if (name && !strcmp(name, nd_conflict_name((nd_conflict_policy)p))) {
			*out = (nd_conflict_policy)p;
			return 0;
		}
	return nd_seterr(ND_EINVAL, "unknown conflict policy \"%s\" (keep, separate, drop)", name ? name : "");
}

/* ------------------------------------------------------------ keep order -- */

typedef struct {
	const nd_dataset *ds;
	nd_keep_policy policy;
} keep_ctx;

static size_t slen(const char *s) { return s ? strlen(s) : 0; }

static size_t record_length(const nd_record *r)
{
	size_t n = slen(r->stem) + slen(r->explanation) + slen(r->answer_text);
	for (size_t i = 0; i < r->n_options; i++)
		n += strlen(r->options[i]);
	return n;
}

static int popcount(unsigned x) { return __builtin_popcount(x); }

/* A record's place in keep order as one number: records sort by (key, index)
 * ascending. --keep complete: an answer first, then options, then an explanation,
 * then fewer defects, then the longer explanation (lengths past 2^55 bytes would
 * tie); longest: the longer record; first: index order alone. */
#define KEEP_LEN_BITS 55
static uint64_t keep_key(const keep_ctx *k, uint32_t i)
{
	const nd_record *r = nd_dataset_record(k->ds, i);
	const uint64_t len_max = ((uint64_t)1 << KEEP_LEN_BITS) - 1;
	if (k->policy == ND_KEEP_COMPLETE) {
		uint64_t no_answer = r->answer_kind == ND_ANSWER_NONE || r->answer_kind == ND_ANSWER_INVALID;
		uint64_t no_options = (r->defects & ND_DEFECT_NO_OPTIONS) != 0;
		uint64_t no_expl = r->explanation == NULL;
		uint64_t defects = (uint64_t)popcount(r->defects); /* at most 32: 6 bits */
		uint64_t la = slen(r->explanation);
		return no_answer << 63 | no_options << 62 | no_expl << 61 | defects << KEEP_LEN_BITS |
		       (len_max - (la < len_max ? la : len_max));
	}
	if (k->policy == ND_KEEP_LONGEST) {
		uint64_t la = record_length(r), top = UINT64_MAX >> 1;
		return top - (la < top ? la : top);
	}
	return 0;
}

/* -------------------------------------------------------------- helpers -- */

static int edge_cmp(const void *x, const void *y)
{
	const edge *a = x, *b = y;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	if (a->lexical != b->lexical) /* a pair both passes found counts as the lexical one */
		return a->lexical ? -1 : 1;
	return (int)a->pass - (int)b->pass;
}

/* The decide stage runs the guards on every pair in parallel, without details:
 * most pairs of a templated bank are vetoed (2.7M of 3.2M at 1M records), and a
 * detail reads both records' strings. The first o->max_details variants get theirs
 * afterwards, in parallel too, each chunk's details in its own buffer
 * (NUL-terminated, in variant order). */
#define DECIDE_GRAIN 4096
typedef struct {
	const nd_dataset *ds;
	const nd_dedup_opts *o;
	const nd_shingle_sets *sets;
	edge *e;
} decide_ctx;

static int decide_range(void *ctx, size_t b, size_t e, unsigned w)
{
	(void)w; /* any worker does the same */
	decide_ctx *c = ctx;
	for (size_t i = b; i < e; i++) {
		edge *x = &c->e[i];
		/* b is anywhere in the dataset: fetch its comparison data a few pairs
		 * ahead, and its stem (for the swap diff) once that has arrived */
		if (i + 16 < e) { /* the struct spans two cache lines */
			const char *cb16 = (const char *)nd_dataset_compare(c->ds, c->e[i + 16].b);
			__builtin_prefetch(cb16);
			__builtin_prefetch(cb16 + sizeof(nd_compare) - 1);
		}
		if (i + 8 < e) { /* the strings the guards may compare */
			const nd_compare *cb8 = nd_dataset_compare(c->ds, c->e[i + 8].b);
			__builtin_prefetch(cb8->stem);
			__builtin_prefetch(cb8->numbers);
			__builtin_prefetch(cb8->answer);
		}
		const nd_compare *ca = nd_dataset_compare(c->ds, x->a), *cb = nd_dataset_compare(c->ds, x->b);
		/* a lexical pair of identical texts (the lexical pass grouped them: one
		 * set for both; their Jaccard is 1, so only such pairs are looked up) */
		if (x->pass != ND_PASS_SEMANTIC && x->sim >= 1.0f && nd_shingle_sets_same(c->sets, x->a, x->b))
			x->pass = ND_PASS_EXACT;
		x->veto = (unsigned char)(x->lexical ? nd_guard_check(ca, cb, c->o->guards, NULL, 0)
						     : nd_guard_check_strict(ca, cb, c->o->guards, NULL, 0));
		x->conflict = !x->veto && nd_answers_differ(ca, cb);
	}
	return nd_interrupted() ? nd_seterr(ND_EINTR, "interrupted") : 0;
}

typedef struct {
	const nd_dataset *ds;
	const nd_dedup_opts *o;
	nd_variant *v;
	const unsigned char *strict; /* per variant: a pair only the semantic pass found */
	nd_buf *details;             /* one per chunk of DECIDE_GRAIN variants */
} detail_ctx;

/* The details of variants [b, e): the same guard, run again with a detail. */
static int detail_range(void *ctx, size_t b, size_t e, unsigned w)
{
	(void)w; /* any worker does the same */
	detail_ctx *c = ctx;
	nd_buf *out = &c->details[b / DECIDE_GRAIN];
	size_t *at = malloc((e - b) * sizeof *at);
	if (!at)
		return nd_seterr(ND_ENOMEM, "out of memory for variant details");
	for (size_t i = b; i < e; i++) {
		nd_variant *v = &c->v[i];
		const nd_compare *ca = nd_dataset_compare(c->ds, v->a), *cb = nd_dataset_compare(c->ds, v->b);
		char detail[200];
		unsigned g = c->strict[i] ? nd_guard_check_strict(ca, cb, c->o->guards, detail, sizeof detail)
					  : nd_guard_check(ca, cb, c->o->guards, detail, sizeof detail);
		at[i - b] = out->len;
		if (g != v->guard) /* cannot happen: the same checks on the same records */
			detail[0] = '\0';
		if (nd_buf_append(out, detail, strlen(detail) + 1)) {
			free(at);
			return nd_seterr(ND_ENOMEM, "out of memory for variant details");
		}
	}
	/* pointers once the buffer has stopped growing */
	for (size_t i = b; i < e; i++)
		c->v[i].detail = out->data + at[i - b];
	free(at);
	return 0;
}

static void details_free(nd_buf *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		nd_buf_free(&d[i]);
	free(d);
}

/* Jaccard of two records on the lexical pass's shingle sets (built once, with
 * the same ngram): no shingling here. */
static float jaccard_of(const nd_shingle_sets *sets, uint32_t a, uint32_t b)
{
	return (float)nd_shingle_sets_jaccard(sets, a, b);
}

/* Accepted edges of the whole graph as adjacency lists (CSR), for lookups inside
 * clusters. */
typedef struct {
	size_t *off;
	uint32_t *to;
	unsigned char *pass;
	unsigned char *lexical; /* the lexical pass found the edge: its sim is the Jaccard */
	float *sim;
} graph;

static int graph_build(graph *g, size_t n, const edge *e, const size_t *acc, size_t nacc)
{
	size_t m = 2 * nacc;
	g->off = calloc(n + 1, sizeof *g->off);
	g->to = malloc((m ? m : 1) * sizeof *g->to);
	g->pass = malloc(m ? m : 1);
	g->lexical = malloc(m ? m : 1);
	g->sim = malloc((m ? m : 1) * sizeof *g->sim);
	if (!g->off || !g->to || !g->pass || !g->lexical || !g->sim)
		return nd_seterr(ND_ENOMEM, "out of memory for %zu edges", nacc);
	for (size_t k = 0; k < nacc; k++) {
		g->off[e[acc[k]].a + 1]++;
		g->off[e[acc[k]].b + 1]++;
	}
	for (size_t i = 0; i < n; i++)
		g->off[i + 1] += g->off[i];
	size_t *fill = malloc((n ? n : 1) * sizeof *fill);
	if (!fill)
		return nd_seterr(ND_ENOMEM, "out of memory");
	memcpy(fill, g->off, n * sizeof *fill);
	for (size_t k = 0; k < nacc; k++) {
		const edge *x = &e[acc[k]];
		size_t p = fill[x->a]++, q = fill[x->b]++;
		g->to[p] = x->b, g->pass[p] = x->pass, g->lexical[p] = x->lexical, g->sim[p] = x->sim;
		g->to[q] = x->a, g->pass[q] = x->pass, g->lexical[q] = x->lexical, g->sim[q] = x->sim;
	}
	free(fill);
	return 0;
}

static void graph_free(graph *g)
{
	free(g->off);
	free(g->to);
	free(g->pass);
	free(g->lexical);
	free(g->sim);
}

/* The edge a–b if accepted: returns its index in g->to, or SIZE_MAX. */
static size_t graph_edge(const graph *g, uint32_t a, uint32_t b)
{
	for (size_t p = g->off[a]; p < g->off[a + 1]; p++)
		if (g->to[p] == b)
			return p;
	return SIZE_MAX;
}

/* --------------------------------------------------------------- result -- */

/* One union-find component of two or more records: its members are order[start ..
 * start + k). Its clusters go to clusters[start ..] (at most k / 2 of them) and
 * their members to members[start ..] (at most k), so components are formed in
 * parallel without sharing any output. */
typedef struct {
	size_t start, k;
	size_t ncl, split;
} component;

/* A record and its keep_key, sorted by (key, index). */
typedef struct keyed {
	uint64_t key; /* keep_key */
	uint32_t idx;
} keyed;

/* A worker's scratch arrays for form_groups, grown to the largest component it
 * has formed (most components are two or three records: a malloc each was a
 * good part of the stage). */
typedef struct {
	unsigned char *taken, *ingroup;
	uint32_t *grp, *order;
	size_t *gi;
	keyed *kv; /* keep keys of a component's records */
	size_t cap;
} scratch;

typedef struct {
	const nd_dataset *ds;
	const nd_dedup_opts *o;
	const graph *g;
	keep_ctx kc;
	const nd_shingle_sets *sets;
	uint32_t *pos; /* record index -> position in its component while it is formed, else UINT32_MAX */
	uint32_t *order;
	component *comp;
	nd_cluster *clusters;
	nd_member *members;
	scratch *scr;  /* per worker */
} cluster_ctx;

static void scratch_free(scratch *s)
{
	free(s->taken);
	free(s->ingroup);
	free(s->grp);
	free(s->order);
	free(s->gi);
	free(s->kv);
}

static int scratch_reserve(scratch *s, size_t k)
{
	if (k <= s->cap)
		return 0;
	scratch_free(s);
	s->taken = calloc(k, 1);
	s->ingroup = calloc(k, 1);
	s->grp = malloc(k * sizeof *s->grp);
	s->order = malloc(k * sizeof *s->order);
	s->gi = malloc(k * sizeof *s->gi);
	s->kv = malloc(k * sizeof *s->kv);
	s->cap = k;
	if (!s->taken || !s->ingroup || !s->grp || !s->order || !s->gi || !s->kv) {
		s->cap = 0;
		return nd_seterr(ND_ENOMEM, "out of memory for a component of %zu records", k);
	}
	return 0;
}

/* Ascending sorts of the small arrays form_groups makes (a group's members):
 * insertion sort up to a few dozen, qsort beyond. */
#define SMALL_SORT 32

static int size_cmp(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	return a < b ? -1 : a > b;
}

static void sort_sizes(size_t *v, size_t n)
{
	if (n > SMALL_SORT) {
		qsort(v, n, sizeof *v, size_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		size_t x = v[i], j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static int keyed_cmp(const void *x, const void *y)
{
	const keyed *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Records v[0 .. k) into keep order, their keys computed once each (@kv: room
 * for k). */
static void sort_by_keep(const keep_ctx *kc, uint32_t *v, size_t k, keyed *kv)
{
	for (size_t i = 0; i < k; i++) {
		kv[i].key = keep_key(kc, v[i]);
		kv[i].idx = v[i];
	}
	if (k > SMALL_SORT) {
		qsort(kv, k, sizeof *kv, keyed_cmp);
	} else {
		for (size_t i = 1; i < k; i++) {
			keyed x = kv[i];
			size_t j = i;
			for (; j > 0 && keyed_cmp(&kv[j - 1], &x) > 0; j--)
				kv[j] = kv[j - 1];
			kv[j] = x;
		}
	}
	for (size_t i = 0; i < k; i++)
		v[i] = kv[i].idx;
}

static int u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static void sort_u32(uint32_t *v, size_t n)
{
	if (n > SMALL_SORT) {
		qsort(v, n, sizeof *v, u32_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		uint32_t x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Forms the final groups of one union-find component @m[0..k) (sorted by keep
 * order): the best remaining record leads a group of every remaining member that
 * has an accepted edge to it or is itself similar to it (Jaccard >= threshold, no
 * guard firing); the rest form further groups. */
static int form_groups(cluster_ctx *c, component *cp, scratch *scr)
{
	uint32_t *m = c->order + cp->start;
	size_t k = cp->k;
	nd_member *out = c->members + cp->start;
	nd_cluster *cl_out = c->clusters + cp->start;
	const nd_dataset *ds = c->ds;
	int rc = 0, first_group = 1;
	size_t written = 0;
	if ((rc = scratch_reserve(scr, k)))
		return rc;
	/* taken[] and ingroup[] are all zero between components */
	unsigned char *taken = scr->taken, *ingroup = scr->ingroup;
	uint32_t *grp = scr->grp;
	size_t *gi = scr->gi;
	for (size_t i = 0; i < k; i++)
		c->pos[m[i]] = (uint32_t)i;
	for (size_t lead = 0; lead < k; lead++) {
		if (taken[lead])
			continue;
		/* the leader and every remaining record with an accepted pair to it: the
		 * pair passed verification and every guard, so each member is itself
		 * similar to its leader, and a chain A~B~C cannot bring C in through B.
		 * Looking only at the leader's pairs keeps this linear in the pairs of the
		 * component; a record whose pair with the leader LSH missed leads its own
		 * cluster. */
		size_t ng = 0;
		taken[lead] = 1;
		gi[ng++] = lead;
		for (size_t q = c->g->off[m[lead]]; q < c->g->off[m[lead] + 1]; q++) {
			uint32_t j = c->pos[c->g->to[q]];
			if (j != UINT32_MAX && !taken[j]) {
				taken[j] = 1;
				gi[ng++] = j;
			}
		}
		/* identical texts are linked as a star to their first occurrence (a spanning
		 * set, not all pairs): whoever joined brings its identical twins along,
		 * when they are compatible with the leader too (an image on both sides
		 * may differ) */
		for (size_t x = 0; x < ng; x++) {
			uint32_t r = m[gi[x]];
			for (size_t q = c->g->off[r]; q < c->g->off[r + 1]; q++) {
				uint32_t j = c->pos[c->g->to[q]];
				if (j == UINT32_MAX || taken[j] || c->g->pass[q] != ND_PASS_EXACT)
					continue;
				const nd_compare *a = nd_dataset_compare(ds, m[lead]), *b = nd_dataset_compare(ds, m[j]);
				if (nd_guard_check(a, b, c->o->guards, NULL, 0) ||
				    (c->o->on_conflict == ND_CONFLICT_SEPARATE && nd_answers_differ(a, b)))
					continue;
				taken[j] = 1;
				gi[ng++] = j;
			}
		}
		/* members in keep order (their position in m), so ties below go to the
		 * better record */
		sort_sizes(gi + 1, ng - 1);
		for (size_t x = 0; x < ng; x++) {
			grp[x] = m[gi[x]];
			ingroup[gi[x]] = 1;
		}
		if (!first_group)
			cp->split += ng;
		first_group = 0;
		if (ng < 2)
			continue;
		/* the record kept: with conflicting answers under "keep", one holding the
		 * most common answer (ties: the better record in keep order) */
		size_t kept = 0, first_answer = 0;
		int conflict = 0;
		while (first_answer < ng && !*nd_dataset_compare(ds, grp[first_answer])->answer)
			first_answer++;
		for (size_t x = first_answer + 1; x < ng; x++)
			if (nd_answers_differ(nd_dataset_compare(ds, grp[first_answer]), nd_dataset_compare(ds, grp[x])))
				conflict = 1;
		if (conflict && c->o->on_conflict == ND_CONFLICT_KEEP) {
			size_t best = 0, best_votes = 0;
			for (size_t x = 0; x < ng; x++) {
				const char *ans = nd_dataset_compare(ds, grp[x])->answer;
				size_t votes = 0;
				if (!*ans)
					continue;
				for (size_t y = 0; y < ng; y++)
					votes += strcmp(ans, nd_dataset_compare(ds, grp[y])->answer) == 0;
				if (votes > best_votes) {
					best_votes = votes;
					best = x;
				}
			}
			kept = best;
		}
		uint32_t kept_idx = grp[kept];
		nd_cluster cl;
		memset(&cl, 0, sizeof cl);
		cl.kept = kept_idx;
		cl.conflict = conflict;
		cl.dropped = conflict && c->o->on_conflict == ND_CONFLICT_DROP;
		cl.giant = c->o->giant_cluster && ng >= c->o->giant_cluster;
		cl.n_members = ng;
		cl.members = out + written;
		/* kept first, the others by index */
		uint32_t *order = scr->order;
		size_t no = 0;
		for (size_t x = 0; x < ng; x++)
			if (x != kept)
				order[no++] = grp[x];
		sort_u32(order, no);
		nd_member *mm = out + written;
		mm[0].index = kept_idx;
		mm[0].similarity = 1.0f;
		mm[0].pass = ND_PASS_EXACT;
		mm[0].cosine = NAN;
		for (size_t x = 0; x < no; x++) {
			uint32_t idx = order[x];
			float s = NAN;
			/* the pass: that of the edge to the kept record, else of the member's
			 * strongest edge inside the group */
			size_t p = graph_edge(c->g, kept_idx, idx);
			nd_pass pass = ND_PASS_MINHASH;
			float cosine = NAN;
			if (p != SIZE_MAX) {
				pass = (nd_pass)c->g->pass[p];
				if (pass == ND_PASS_SEMANTIC) /* a semantic edge's sim is its cosine */
					cosine = c->g->sim[p];
				else if (c->g->lexical[p]) /* the lexical pass's is the Jaccard, computed
							    * as jaccard_of does (a caller's extra pair
							    * brings its own score) */
					s = c->g->sim[p];
			} else {
				float best = -1;
				for (size_t q = c->g->off[idx]; q < c->g->off[idx + 1]; q++) {
					uint32_t j = c->pos[c->g->to[q]];
					if (j != UINT32_MAX && ingroup[j] && c->g->sim[q] > best) {
						best = c->g->sim[q];
						pass = (nd_pass)c->g->pass[q];
						cosine = pass == ND_PASS_SEMANTIC ? c->g->sim[q] : NAN;
					}
				}
			}
			if (isnan(s))
				s = jaccard_of(c->sets, kept_idx, idx);
			mm[x + 1].index = idx;
			mm[x + 1].similarity = s;
			mm[x + 1].pass = pass;
			mm[x + 1].cosine = cosine;
		}
		for (size_t x = 0; x < ng; x++)
			ingroup[gi[x]] = 0;
		written += ng;
		cl_out[cp->ncl++] = cl;
	}
	/* the scratch arrays clean for the worker's next component (a group of one
	 * leaves its ingroup[] mark: it is skipped before the marks are cleared) */
	for (size_t i = 0; i < k; i++) {
		c->pos[m[i]] = UINT32_MAX;
		taken[i] = 0;
		ingroup[i] = 0;
	}
	return rc;
}

/* Components [b, e): sorted into keep order, then formed into clusters. */
static int cluster_range(void *ctx, size_t b, size_t e, unsigned w)
{
	cluster_ctx *c = ctx;
	int rc;
	for (size_t i = b; i < e; i++) {
		component *cp = &c->comp[i];
		if ((rc = scratch_reserve(&c->scr[w], cp->k)))
			return rc;
		sort_by_keep(&c->kc, c->order + cp->start, cp->k, c->scr[w].kv);
		if ((rc = form_groups(c, cp, &c->scr[w])))
			return rc;
	}
	return nd_interrupted() ? nd_seterr(ND_EINTR, "interrupted") : 0;
}

int nd_dedup_run(nd_result **out, const nd_dataset *ds, const nd_dedup_opts *o, const nd_extra_pair *extra,
		 size_t n_extra)
{
	nd_dedup_opts defaults = ND_DEDUP_OPTS_INIT;
	nd_result *r = NULL;
	const char **texts = NULL;
	size_t *lens = NULL, np = 0, ne = 0;
	nd_pair *pairs = NULL;
	nd_shingle_sets *sets = NULL;
	edge *e = NULL;
	component *comp = NULL;
	nd_cluster *tmpc = NULL;
	nd_kv *kvc = NULL;
	nd_buf *details = NULL;
	size_t nchunks = 0;
	unsigned char *strict = NULL;
	size_t *acc = NULL, nacc = 0; /* the accepted edges' indices, ascending */
	scratch *scr = NULL;
	uint32_t *parent = NULL, *order = NULL, *pos = NULL;
	graph g;
	int rc = 0;
	double t0;

	memset(&g, 0, sizeof g);
	*out = NULL;
	if (!o)
		o = &defaults;
	if (o->version != ND_DEDUP_OPTS_VERSION)
		return nd_seterr(ND_EINVAL, "nd_dedup_opts: unsupported version %u", o->version);
	if (!(o->lex.threshold > 0 && o->lex.threshold <= 1))
		return nd_seterr(ND_EINVAL, "threshold %g is outside (0, 1]", o->lex.threshold);
	size_t n = nd_dataset_count(ds);
	if (!(r = calloc(1, sizeof *r)))
		return nd_seterr(ND_ENOMEM, "out of memory");
	r->n = n;
	r->stats.records = n;
	texts = malloc(n * sizeof *texts);
	lens = malloc(n * sizeof *lens);
	r->keep = malloc(n);
	r->kept_by = malloc(n * sizeof *r->kept_by);
	if (!texts || !lens || !r->keep || !r->kept_by) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu records", n);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const nd_compare *c = nd_dataset_compare(ds, i);
		texts[i] = c->text_len ? c->text : NULL;
		lens[i] = c->text_len;
		r->stats.empty_texts += c->text_len == 0;
		r->keep[i] = 1;
		r->kept_by[i] = (uint32_t)i;
	}

	/* 1. the lexical pass */
	t0 = nd_now();
	if ((rc = nd_lex_pairs_ex(texts, lens, n, &o->lex, &pairs, &np, &r->stats.lex, &sets)))
		goto fail;
	r->stats.t_lexical = nd_now() - t0;

	/* 2. all pairs, decided together */
	t0 = nd_now();
	e = malloc((np + n_extra + 1) * sizeof *e);
	if (!e) {
		rc = nd_seterr(ND_ENOMEM, "out of memory for %zu pairs", np + n_extra);
		goto fail;
	}
	/* lexical pairs of identical texts become ND_PASS_EXACT in the decide stage,
	 * where both records are looked at anyway (in parallel) */
	for (size_t i = 0; i < np; i++) {
		edge x = {pairs[i].a, pairs[i].b, pairs[i].sim,
			  (unsigned char)(o->lex.method == ND_LEX_SIMHASH ? ND_PASS_SIMHASH : ND_PASS_MINHASH), 0, 0,
			  1};
		e[ne++] = x;
	}
	free(pairs);
	pairs = NULL;
	for (size_t i = 0; i < n_extra; i++) {
		uint32_t a = extra[i].a, b = extra[i].b;
		if (a == b || a >= n || b >= n) {
			rc = nd_seterr(ND_EINVAL, "extra pair %zu (%u, %u) is out of range", i, a, b);
			goto fail;
		}
		edge x = {a < b ? a : b, a < b ? b : a, extra[i].sim, (unsigned char)extra[i].pass, 0, 0, 0};
		e[ne++] = x;
		r->stats.pairs_semantic++;
	}
	/* the lexical pass hands its pairs over sorted; only extra pairs need a sort */
	size_t unsorted = 0;
	for (size_t i = 1; i < ne && !unsorted; i++)
		unsorted = edge_cmp(&e[i - 1], &e[i]) > 0;
	if (unsorted)
		qsort(e, ne, sizeof *e, edge_cmp);
	/* a pair found by both passes counts once, as the lexical one */
	size_t w = 0;
	for (size_t i = 0; i < ne; i++) {
		if (w && e[w - 1].a == e[i].a && e[w - 1].b == e[i].b)
			continue;
		if (!e[i].lexical)
			r->stats.pairs_semantic_only++;
		e[w++] = e[i];
	}
	ne = w;
	decide_ctx dc = {ds, o, sets, e};
	if ((rc = nd_parallel_for(ne, DECIDE_GRAIN, o->lex.threads, decide_range, &dc)))
		goto fail;
	acc = malloc((ne + 1) * sizeof *acc);
	if (!acc) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	size_t nvar = 0, ncon = 0;
	for (size_t i = 0; i < ne; i++) {
		if (e[i].lexical) {
			r->stats.pairs_exact += e[i].pass == ND_PASS_EXACT;
			r->stats.pairs_lexical += e[i].pass != ND_PASS_EXACT;
		}
		if (e[i].veto) {
			r->stats.vetoed[nd_guard_index(e[i].veto)]++;
			nvar++;
			continue;
		}
		if (e[i].conflict) {
			ncon++;
			if (o->on_conflict == ND_CONFLICT_SEPARATE)
				continue;
		}
		acc[nacc++] = i;
		r->stats.accepted++;
	}
	/* variants and conflicts, then the details of the first max_details variants */
	size_t ndet = nvar < o->max_details ? nvar : o->max_details;
	r->variants = calloc(nvar + 1, sizeof *r->variants);
	r->conflicts = calloc(ncon + 1, sizeof *r->conflicts);
	strict = malloc(ndet + 1);
	if (!r->variants || !r->conflicts || !strict) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ne; i++) {
		if (e[i].veto) {
			if (r->nvariants < ndet)
				strict[r->nvariants] = !e[i].lexical;
			nd_variant *v = &r->variants[r->nvariants++];
			v->a = e[i].a;
			v->b = e[i].b;
			v->similarity = e[i].sim;
			v->guard = e[i].veto;
			v->detail = NULL;
		} else if (e[i].conflict) {
			const nd_compare *a = nd_dataset_compare(ds, e[i].a), *b = nd_dataset_compare(ds, e[i].b);
			nd_conflict *c = &r->conflicts[r->nconflicts++];
			c->a = e[i].a;
			c->b = e[i].b;
			c->answer_a = a->answer;
			c->answer_b = b->answer;
		}
	}
	nchunks = ndet / DECIDE_GRAIN + 1;
	if (!(details = calloc(nchunks, sizeof *details))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	detail_ctx tc = {ds, o, r->variants, strict, details};
	if ((rc = nd_parallel_for(ndet, DECIDE_GRAIN, o->lex.threads, detail_range, &tc)))
		goto fail;
	free(strict);
	strict = NULL;
	r->details = details; /* the variants point into them */
	r->ndetails = nchunks;
	details = NULL;
	r->stats.conflicts = r->nconflicts;
	r->stats.t_decide = nd_now() - t0;

	/* 3. clusters */
	t0 = nd_now();
	parent = malloc(n * sizeof *parent);
	order = malloc(n * sizeof *order);
	r->members = malloc((n + 1) * sizeof *r->members);
	if (!parent || !order || !r->members) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		parent[i] = (uint32_t)i;
	for (size_t k = 0; k < nacc; k++)
		nd_uf_union(parent, e[acc[k]].a, e[acc[k]].b);
	if ((rc = graph_build(&g, n, e, acc, nacc)))
		goto fail;
	free(e);
	e = NULL;
	/* members of each component, components in order of their smallest index */
	size_t *count = calloc(n + 1, sizeof *count);
	if (!count) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		count[nd_uf_find(parent, (uint32_t)i) + 1]++;
	for (size_t i = 0; i < n; i++)
		count[i + 1] += count[i];
	for (size_t i = 0; i < n; i++)
		order[count[parent[i]]++] = (uint32_t)i; /* parent[] is now fully compressed */
	free(count);
	if (!(pos = malloc(n * sizeof *pos))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	memset(pos, 0xFF, n * sizeof *pos);
	/* the components of two or more records, formed in parallel */
	size_t ncomp = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && parent[order[j]] == parent[order[i]])
			j++;
		ncomp += j - i >= 2;
		i = j;
	}
	comp = calloc(ncomp + 1, sizeof *comp);
	tmpc = malloc((n + 1) * sizeof *tmpc);
	if (!comp || !tmpc) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	ncomp = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && parent[order[j]] == parent[order[i]])
			j++;
		if (j - i >= 2)
			comp[ncomp++] = (component){i, j - i, 0, 0};
		i = j;
	}
	unsigned nw = o->lex.threads ? o->lex.threads : nd_cpu_count();
	if (!(scr = calloc(nw, sizeof *scr))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	cluster_ctx cc = {ds, o, &g, {ds, o->keep}, sets, pos, order, comp, tmpc, r->members, scr};
	rc = nd_parallel_for(ncomp, 256, nw, cluster_range, &cc);
	for (unsigned k = 0; k < nw; k++)
		scratch_free(&scr[k]);
	free(scr);
	scr = NULL;
	if (rc)
		goto fail;
	size_t total = 0;
	for (size_t i = 0; i < ncomp; i++)
		total += comp[i].ncl;
	if (!(r->clusters = malloc((total + 1) * sizeof *r->clusters))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	/* clusters in order of their kept record (one cluster a record: the keys
	 * are distinct), whatever the component order: a radix sort of (kept,
	 * where) pairs, then the clusters copied in that order */
	if (!(kvc = malloc((2 * total + 1) * sizeof *kvc))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ncomp; i++) {
		r->stats.split_members += comp[i].split;
		for (size_t x = comp[i].start; x < comp[i].start + comp[i].ncl; x++) {
			kvc[r->nclusters].key = tmpc[x].kept;
			kvc[r->nclusters].idx = (uint32_t)x;
			r->nclusters++;
			r->nmembers += tmpc[x].n_members;
		}
	}
	nd_radix_sort_kv(kvc, kvc + total, total);
	for (size_t c = 0; c < total; c++)
		r->clusters[c] = tmpc[kvc[c].idx];
	free(kvc);
	kvc = NULL;
	free(comp);
	free(tmpc);
	comp = NULL;
	tmpc = NULL;
	for (size_t c = 0; c < r->nclusters; c++) {
		const nd_cluster *cl = &r->clusters[c];
		r->stats.giant_clusters += cl->giant;
		r->stats.conflict_clusters += cl->conflict;
		for (size_t k = 0; k < cl->n_members; k++) {
			uint32_t idx = cl->members[k].index;
			if (cl->dropped) {
				r->keep[idx] = 0;
				r->kept_by[idx] = UINT32_MAX;
				r->stats.dropped_by_conflict++;
			} else if (idx != cl->kept) {
				r->keep[idx] = 0;
				r->kept_by[idx] = cl->kept;
			}
		}
	}
	r->stats.clusters = r->nclusters;
	for (size_t k = 0; k < n; k++)
		r->stats.kept += r->keep[k];
	r->stats.removed = n - r->stats.kept;
	r->stats.t_cluster = nd_now() - t0;
	free(pos);
	graph_free(&g);
	nd_shingle_sets_free(sets);
	free(parent);
	free(order);
	free(acc);
	free(texts);
	free(lens);
	*out = r;
	return 0;
fail:
	free(comp);
	free(tmpc);
	free(kvc);
	details_free(details, nchunks);
	free(pos);
	graph_free(&g);
	nd_shingle_sets_free(sets);
	free(parent);
	free(order);
	free(acc);
	free(strict);
	free(e);
	free(pairs);
	free(texts);
	free(lens);
	nd_result_free(r);
	return rc;
}

void nd_result_free(nd_result *r)
{
	if (!r)
		return;
	free(r->keep);
	free(r->kept_by);
	free(r->clusters);
	free(r->members);
	free(r->variants);
	free(r->conflicts);
	details_free(r->details, r->ndetails);
	free(r);
}

const nd_dedup_stats *nd_result_stats(const nd_result *r) { return &r->stats; }
const unsigned char *nd_result_keep(const nd_result *r) { return r->keep; }
uint32_t nd_result_kept_by(const nd_result *r, size_t i) { return i < r->n ? r->kept_by[i] : UINT32_MAX; }

size_t nd_result_clusters(const nd_result *r, const nd_cluster **c)
{
	*c = r->clusters;
	return r->nclusters;
}

size_t nd_result_variants(const nd_result *r, const nd_variant **v)
{
	*v = r->variants;
	return r->nvariants;
}

size_t nd_result_conflicts(const nd_result *r, const nd_conflict **c)
{
	*c = r->conflicts;
	return r->nconflicts;
}
