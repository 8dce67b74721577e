/* The dedup decision path on small hand-made banks: each guard, conflicts and their
 * policies, keep policies, the chaining check, determinism across thread counts. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "neardup/dedup.h"

static const char *write_tmp(const char *name, const char *text)
{
	return nd_test_write(name, text, strlen(text));
}

typedef struct {
	nd_dataset *ds;
	nd_result *r;
} run_t;

static run_t run(const char *jsonl, nd_dedup_opts *o)
{
	run_t x = {NULL, NULL};
	nd_load_opts lo = ND_LOAD_OPTS_INIT;
	nd_dedup_opts d = ND_DEDUP_OPTS_INIT;
	d.lex.ngram = 1;
	if (!o)
		o = &d;
	int rc = nd_dataset_load(&x.ds, write_tmp("dedup.jsonl", jsonl), &lo);
	CHECK_MSG(rc == 0, "load: %s", nd_error_last());
	if (rc)
		return x;
	rc = nd_dedup_run(&x.r, x.ds, o, NULL, 0);
	CHECK_MSG(rc == 0, "dedup: %s", nd_error_last());
	return x;
}

static void done(run_t *x)
{
	nd_result_free(x->r);
	nd_dataset_free(x->ds);
}

/* 1 when records a and b ended in one cluster. */
static int together(const run_t *x, uint32_t a, uint32_t b)
{
	const nd_cluster *c;
	size_t n = nd_result_clusters(x->r, &c);
	for (size_t i = 0; i < n; i++) {
		int ha = 0, hb = 0;
		for (size_t k = 0; k < c[i].n_members; k++) {
			ha |= c[i].members[k].index == a;
			hb |= c[i].members[k].index == b;
		}
		if (ha && hb)
			return 1;
	}
	return 0;
}

static const nd_variant *variant(const run_t *x, uint32_t a, uint32_t b)
{
	const nd_variant *v;
	size_t n = nd_result_variants(x->r, &v);
	for (size_t i = 0; i < n; i++)
		if (v[i].a == a && v[i].b == b)
			return &v[i];
	return NULL;
}

#define Q(stem, opts, ans) "{\"question\": \"" stem "\", \"options\": " opts ", \"answer\": \"" ans "\"}\n"
#define J(stem, ans) "{\"question\": \"" stem "\", \"options\": [], \"answer\": \"" ans "\"}\n"

TEST(dedup_scraped_copies_merge)
{
	run_t x = run(Q("驾驶机动车应当随身携带哪种证件？", "[\"A、工作证\", \"B、驾驶证\", \"C、身份证\", \"D、职业资格证\"]", "B")
		      Q("12、驾驶机动车应当随身携带哪种证件?", "[\"A.职业资格证\", \"B.工作证\", \"C.驾驶证\", \"D.身份证\"]", "C")
		      J("对未取得驾驶证驾驶机动车的，追究其法律责任。", "对")
		      "{\"question\": \"对未取得驾驶证驾驶机动车的,追究其法律责任.\", \"choose\": \"A、正确 \\\\n\\\\nB、错误\", \"answer\": \"A\"}\n",
		      NULL);
	if (!x.r)
		return done(&x);
	CHECK(together(&x, 0, 1));
	CHECK(together(&x, 2, 3));
	const nd_dedup_stats *s = nd_result_stats(x.r);
	CHECK_EQ_INT(s->kept, 2);
	CHECK_EQ_INT(s->conflicts, 0); /* B and C name the same option text */
	CHECK_EQ_INT(nd_result_kept_by(x.r, 1), 0);
	done(&x);
}

/* A group of one leaves no mark behind for the next component formed on the
 * same worker: component {0..3} ends with record 2 alone; in component {4..7} the
 * vote keeps 5, so member 7 (no edge to 5) takes the pass of its strongest edge
 * inside the group — 4-7 (minhash), never 6-7 (semantic; 6 is not in the group),
 * which a stale mark on position 2 used to let in. */
TEST(dedup_member_pass_from_its_own_group)
{
	static const char *const jsonl =
		"{\"id\":\"P0\",\"question\":\"apple banana cherry delta echo foxtrot golf hotel\",\"answer\":\"red\"}\n"
		"{\"id\":\"P1\",\"question\":\"india juliet kilo lima mike november oscar papa\",\"answer\":\"red\"}\n"
		"{\"id\":\"P2\",\"question\":\"quebec romeo sierra tango uniform victor whiskey xray\",\"answer\":\"red\"}\n"
		"{\"id\":\"P3\",\"question\":\"one two three four five six seven eight\",\"answer\":\"red\"}\n"
		"{\"id\":\"Q0\",\"question\":\"yankee zulu alpha bravo charlie dog easy fox\",\"answer\":\"red\"}\n"
		"{\"id\":\"Q1\",\"question\":\"george how item jig king love mike nan\",\"answer\":\"blue\"}\n"
		"{\"id\":\"Q2\",\"question\":\"oboe peter queen roger sugar tare uncle victor\",\"answer\":\"green\"}\n"
		"{\"id\":\"Q3\",\"question\":\"william xray yoke zebra ant bee cat dolphin\",\"answer\":\"blue\"}\n";
	nd_extra_pair ex[] = {{0, 1, 0.9f, ND_PASS_MINHASH}, {1, 2, 0.9f, ND_PASS_MINHASH},
			      {0, 3, 0.9f, ND_PASS_MINHASH}, {4, 5, 0.9f, ND_PASS_MINHASH},
			      {4, 7, 0.9f, ND_PASS_MINHASH}, {6, 7, 0.95f, ND_PASS_SEMANTIC}};
	nd_load_opts lo = ND_LOAD_OPTS_INIT;
	nd_dataset *ds = NULL;
	int rc = nd_dataset_load(&ds, write_tmp("groups.jsonl", jsonl), &lo);
	CHECK_MSG(rc == 0, "load: %s", nd_error_last());
	for (unsigned threads = 1; threads <= 2 && rc == 0; threads++) {
		nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
		nd_result *r = NULL;
		o.lex.threshold = 1.0;
		o.lex.threads = threads;
		o.keep = ND_KEEP_FIRST;
		o.guards = 0;
		rc = nd_dedup_run(&r, ds, &o, ex, sizeof ex / sizeof *ex);
		CHECK_MSG(rc == 0, "run: %s", nd_error_last());
		const nd_cluster *cl;
		size_t nc = r ? nd_result_clusters(r, &cl) : 0, seen = 0;
		for (size_t i = 0; i < nc; i++)
			for (size_t k = 1; k < cl[i].n_members; k++)
				if (cl[i].members[k].index == 7) {
					seen++;
					CHECK_EQ_INT(cl[i].kept, 5);
					CHECK_MSG(cl[i].members[k].pass == ND_PASS_MINHASH && isnan(cl[i].members[k].cosine),
						  "threads %u: member 7 is %s, cosine %g", threads,
						  nd_pass_name(cl[i].members[k].pass), (double)cl[i].members[k].cosine);
				} else if (cl[i].members[k].index == 4) {
					/* a caller's non-semantic pair (4-5, 0.9) brings its own score,
					 * not a Jaccard: the similarity to the kept record is computed
					 * (the texts share no word) */
					CHECK_MSG(cl[i].members[k].similarity == 0.0f, "member 4: similarity %g",
						  (double)cl[i].members[k].similarity);
				}
		CHECK_EQ_INT(seen, 1);
		nd_result_free(r);
	}
	nd_dataset_free(ds);
}

TEST(dedup_each_guard_keeps_near_twins_apart)
{
	const char *bank =
		J("机动车在高速公路上行驶，最高车速不得超过每小时120公里。", "对")   /* 0 */
		J("机动车在高速公路上行驶，最高车速不得超过每小时100公里。", "对")   /* 1 number */
		J("夜间会车时应当在距对向来车150米以外改用近光灯。", "对")         /* 2 */
		J("夜间会车时不应当在距对向来车150米以外改用近光灯。", "错")       /* 3 negation */
		Q("这个标志是何含义？", "[\"A、注意行人\", \"B、注意儿童\", \"C、学校区域\", \"D、人行横道\"]", "B") /* 4 */
		Q("这个标志是何含义？", "[\"A、注意行人\", \"B、注意儿童\", \"C、学校区域\", \"D、注意落石\"]", "B") /* 5 options */
		"{\"question\": \"如图所示，在这种情况下应当减速慢行，注意观察路况。\", \"options\": [], \"answer\": \"对\", \"image\": \"http://a/x/1001.jpg\"}\n" /* 6 */
		"{\"question\": \"如图所示，在这种情况下应当减速慢行，注意观察路况。\", \"options\": [], \"answer\": \"对\", \"image\": \"http://a/x/1002.jpg\"}\n" /* 7 image */
		"{\"question\": \"如图所示，在这种情况下应当减速慢行，注意观察路况。\", \"options\": [], \"answer\": \"对\", \"image\": null}\n" /* 8 no image */
		J("驾驶机动车在道路上向左变更车道时，应当提前开启左转向灯，注意观察。", "对") /* 9 */
		J("驾驶机动车在道路上向右变更车道时，应当提前开启右转向灯，注意观察。", "对"); /* 10 swap */
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.ngram = 1;
	o.lex.threshold = 0.8;
	run_t x = run(bank, &o);
	if (!x.r)
		return done(&x);
	const nd_variant *v;
	CHECK(!together(&x, 0, 1));
	CHECK((v = variant(&x, 0, 1)) && v->guard == ND_GUARD_NUMBER && strcmp(v->detail, "120 vs 100") == 0);
	CHECK(!together(&x, 2, 3));
	CHECK((v = variant(&x, 2, 3)) && v->guard == ND_GUARD_NEGATION);
	CHECK(!together(&x, 4, 5));
	CHECK((v = variant(&x, 4, 5)) && v->guard == ND_GUARD_OPTIONS);
	CHECK(!together(&x, 6, 7));
	CHECK((v = variant(&x, 6, 7)) && v->guard == ND_GUARD_IMAGE);
	/* one side without an image is not a difference: one site drops pictures */
	CHECK(together(&x, 6, 8) || together(&x, 7, 8));
	CHECK(!together(&x, 9, 10));
	CHECK((v = variant(&x, 9, 10)) && v->guard == ND_GUARD_SWAP && strstr(v->detail, "左") && strstr(v->detail, "右"));
	const nd_dedup_stats *s = nd_result_stats(x.r);
	CHECK_EQ_INT(s->vetoed[0], 1);
	CHECK_EQ_INT(s->vetoed[1], 1);
	CHECK_EQ_INT(s->vetoed[2], 1);
	CHECK(s->vetoed[3] >= 1);
	CHECK_EQ_INT(s->vetoed[4], 1);
	done(&x);

	/* max_details: the first variants in pair order keep their detail, the rest
	 * have none; the decisions do not change */
	{
		char details[16][200];
		uint32_t pa[16], pb[16];
		size_t na = 0, kept_all = 0;
		run_t all = run(bank, &o);
		if (all.r) {
			const nd_variant *va;
			na = nd_result_variants(all.r, &va);
			for (size_t i = 0; i < na && i < 16; i++) {
				CHECK(va[i].detail != NULL);
				snprintf(details[i], sizeof details[i], "%s", va[i].detail ? va[i].detail : "");
				pa[i] = va[i].a;
				pb[i] = va[i].b;
			}
			kept_all = nd_result_stats(all.r)->kept;
		}
		done(&all);
		nd_dedup_opts od = o;
		od.max_details = 2;
		run_t few = run(bank, &od);
		if (few.r) {
			const nd_variant *vf;
			size_t nf = nd_result_variants(few.r, &vf);
			CHECK_EQ_INT(nf, na);
			CHECK(nf > 2 && nf <= 16);
			for (size_t i = 0; i < nf && i < na && i < 16; i++) {
				CHECK(vf[i].a == pa[i] && vf[i].b == pb[i]);
				if (i < 2)
					CHECK_MSG(vf[i].detail && strcmp(vf[i].detail, details[i]) == 0, "variant %zu", i);
				else
					CHECK_MSG(vf[i].detail == NULL, "variant %zu has a detail past max_details", i);
			}
			CHECK_EQ_INT(nd_result_stats(few.r)->kept, kept_all);
		}
		done(&few);
	}

	/* each guard can be switched off, and then its twins merge */
	unsigned guards[] = {ND_GUARD_NUMBER, ND_GUARD_NEGATION, ND_GUARD_OPTIONS, ND_GUARD_SWAP};
	uint32_t pairs[][2] = {{0, 1}, {2, 3}, {4, 5}, {9, 10}};
	for (int g = 0; g < 4; g++) {
		o.guards = ND_GUARD_ALL & ~guards[g];
		x = run(bank, &o);
		if (x.r)
			CHECK_MSG(together(&x, pairs[g][0], pairs[g][1]), "guard %s off: pair not merged",
				  nd_guard_name(guards[g]));
		done(&x);
	}
}

static const char *CONFLICT_BANK =
	J("夜间会车时应当使用远光灯。", "错")
	J("夜间会车时应使用远光灯。", "对")
	J("夜间会车时，应当使用远光灯。", "错")
	J("驾驶机动车应当随身携带驾驶证。", "对");

TEST(dedup_conflicts_and_their_policies)
{
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.ngram = 1;
	o.lex.threshold = 0.8;
	run_t x = run(CONFLICT_BANK, &o);
	if (x.r) {
		const nd_conflict *c;
		size_t n = nd_result_conflicts(x.r, &c);
		CHECK(n >= 1);
		CHECK(together(&x, 0, 1) && together(&x, 0, 2));
		/* keep: the record kept holds the majority answer (错, records 0 and 2) */
		CHECK(nd_result_keep(x.r)[0] || nd_result_keep(x.r)[2]);
		CHECK(!nd_result_keep(x.r)[1]);
		const nd_cluster *cl;
		CHECK_EQ_INT(nd_result_clusters(x.r, &cl), 1);
		CHECK(cl[0].conflict);
	}
	done(&x);
	o.on_conflict = ND_CONFLICT_SEPARATE;
	x = run(CONFLICT_BANK, &o);
	if (x.r) {
		CHECK(together(&x, 0, 2));
		CHECK(!together(&x, 0, 1));
		CHECK(nd_result_keep(x.r)[1]);
	}
	done(&x);
	o.on_conflict = ND_CONFLICT_DROP;
	x = run(CONFLICT_BANK, &o);
	if (x.r) {
		CHECK(!nd_result_keep(x.r)[0] && !nd_result_keep(x.r)[1] && !nd_result_keep(x.r)[2]);
		CHECK(nd_result_keep(x.r)[3]);
		CHECK_EQ_INT(nd_result_kept_by(x.r, 1), UINT32_MAX);
		CHECK_EQ_INT(nd_result_stats(x.r)->dropped_by_conflict, 3);
	}
	done(&x);
}

TEST(dedup_keep_policies)
{
	const char *bank =
		"{\"question\": \"雾天行车应当开启雾灯。\", \"options\": [], \"answer\": \"对\"}\n"
		"{\"question\": \"雾天行车应当开启雾灯\", \"options\": [], \"answer\": \"对\", \"explanation\": \"短\"}\n"
		"{\"question\": \"雾天行车，应当开启雾灯。\", \"options\": [], \"answer\": \"对\", \"explanation\": \"雾天能见度低，开启雾灯便于他人发现。\"}\n"
		"{\"question\": \"雾天行车应当开启雾灯!\", \"options\": [], \"answer\": \"\", \"explanation\": \"没有答案但解释最长最长最长最长最长最长最长最长最长最长。\"}\n";
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.ngram = 1;
	o.lex.threshold = 0.8;
	run_t x = run(bank, &o);
	if (x.r)
		CHECK_EQ_INT(nd_result_kept_by(x.r, 0), 2); /* answer + longest explanation */
	done(&x);
	o.keep = ND_KEEP_FIRST;
	x = run(bank, &o);
	if (x.r)
		CHECK_EQ_INT(nd_result_kept_by(x.r, 2), 0);
	done(&x);
	o.keep = ND_KEEP_LONGEST;
	x = run(bank, &o);
	if (x.r)
		CHECK_EQ_INT(nd_result_kept_by(x.r, 0), 3);
	done(&x);
}

TEST(dedup_chains_are_split_around_the_kept_record)
{
	/* each neighbour differs by one character: A~B~C~D~E, but A and E are far apart */
	const char *bank =
		J("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉", "对")
		J("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申戌", "对")
		J("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未亥戌", "对")
		J("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午金亥戌", "对")
		J("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳木金亥戌", "对")
		J("甲乙丙丁戊己庚辛壬癸子丑寅卯辰水木金亥戌", "对");
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.ngram = 1;
	o.lex.threshold = 0.85;
	o.lex.ngram = 1;
	o.guards = 0;
	run_t x = run(bank, &o);
	if (x.r) {
		const nd_cluster *c;
		size_t n = nd_result_clusters(x.r, &c);
		CHECK(n >= 2); /* one chain, more than one cluster */
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < c[i].n_members; k++)
				CHECK_MSG(c[i].members[k].similarity >= 0.85f - 1e-6f,
					  "member %u of cluster %zu has similarity %.3f to its kept record",
					  c[i].members[k].index, i, c[i].members[k].similarity);
		CHECK(nd_result_stats(x.r)->split_members > 0);
	}
	done(&x);
}

TEST(dedup_output_identical_at_any_thread_count)
{
	/* a bank with many near-duplicates, built from a seed */
	uint64_t seed = nd_test_seed();
	static const char *const words[] = {"驾驶", "机动车", "道路", "行驶", "应当", "减速", "注意", "行人",
					    "车辆", "路口", "信号灯", "停车", "高速", "公路", "夜间", "雨天"};
	char *bank = malloc(1 << 21);
	size_t len = 0;
	for (int i = 0; i < 3000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t s = seed >> 20;
		len += (size_t)sprintf(bank + len, "{\"question\": \"");
		for (int w = 0; w < 12; w++)
			len += (size_t)sprintf(bank + len, "%s", words[(s >> (w * 4 % 40)) % 16 ^ (i % 7 == 0 ? 0 : (unsigned)(w == 11))]);
		len += (size_t)sprintf(bank + len, "\", \"options\": [], \"answer\": \"%s\"}\n", s & 1 ? "对" : "错");
	}
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.ngram = 1;
	o.lex.threshold = 0.7;
	unsigned char *first = NULL;
	size_t nfirst = 0;
	unsigned threads[] = {1, 2, 8};
	for (int t = 0; t < 3; t++) {
		o.lex.threads = threads[t];
		run_t x = run(bank, &o);
		if (x.r) {
			char path[600];
			snprintf(path, sizeof path, "%s/det-report.json", nd_test_tmpdir());
			nd_report_info info = {0};
			CHECK_OK(nd_report_write(x.r, x.ds, &o, &info, path));
			FILE *f = fopen(path, "rb");
			unsigned char *buf = malloc(1 << 24);
			size_t n = f ? fread(buf, 1, 1 << 24, f) : 0;
			if (f)
				fclose(f);
			if (!first) {
				first = buf;
				nfirst = n;
				CHECK(nd_result_stats(x.r)->clusters > 10);
			} else {
				CHECK_MSG(n == nfirst && memcmp(buf, first, n) == 0,
					  "report differs at %u threads (seed %llu)", threads[t],
					  (unsigned long long)nd_test_seed());
				free(buf);
			}
		}
		done(&x);
	}
	free(first);
	free(bank);
}

TEST(dedup_identical_copies_join_whichever_record_leads)
{
	/* identical texts are linked to their first occurrence only; the record kept is
	 * the last (it alone has an explanation): every copy must still join it */
	const char *bank =
		"{\"question\": \"雾天行车应当开启雾灯。\", \"options\": [], \"answer\": \"对\"}\n"
		"{\"question\": \"雾天行车应当开启雾灯。\", \"options\": [], \"answer\": \"对\"}\n"
		"{\"question\": \"雾天行车，应当开启雾灯\", \"options\": [], \"answer\": \"对\"}\n"
		"{\"question\": \"雾天行车应当开启雾灯。\", \"options\": [], \"answer\": \"对\", \"explanation\": \"雾天能见度低。\"}\n";
	run_t x = run(bank, NULL);
	if (x.r) {
		const nd_cluster *c;
		CHECK_EQ_INT(nd_result_clusters(x.r, &c), 1);
		CHECK_EQ_INT(c[0].n_members, 4);
		CHECK_EQ_INT(c[0].kept, 3);
		CHECK_EQ_INT(nd_result_stats(x.r)->kept, 1);
	}
	done(&x);
}

TEST(dedup_swap_guard_licence_classes_and_qualifiers)
{
	const char *bank =
		J("持有C1驾驶证的人可以驾驶三轮汽车上道路行驶，应当遵守交通信号。", "对") /* 0 */
		J("持有A1驾驶证的人可以驾驶三轮汽车上道路行驶，应当遵守交通信号。", "对") /* 1 licence class */
		J("驾驶客车在高速公路上行驶时，乘车人应当系好安全带，不得站立。", "对")     /* 2 */
		J("驾驶大型客车在高速公路上行驶时，乘车人应当系好安全带，不得站立。", "对") /* 3 qualifier */
		J("驾驶机动车在高速公路上遇到大雾时，应当开启雾灯和危险报警闪光灯。", "对") /* 4 */
		J("在高速公路上遇到大雾时，应当开启雾灯和危险报警闪光灯。", "对");         /* 5 subject dropped: a copy */
	nd_dedup_opts o = ND_DEDUP_OPTS_INIT;
	o.lex.threshold = 0.8;
	run_t x = run(bank, &o);
	if (x.r) {
		const nd_variant *v;
		CHECK(!together(&x, 0, 1));
		CHECK((v = variant(&x, 0, 1)) && v->guard == ND_GUARD_SWAP && strstr(v->detail, "c1") &&
		      strstr(v->detail, "a1"));
		CHECK(!together(&x, 2, 3));
		CHECK((v = variant(&x, 2, 3)) && v->guard == ND_GUARD_SWAP && strcmp(v->detail, "+大型") == 0);
		CHECK(together(&x, 4, 5)); /* an inserted subject is how copies differ */
	}
	done(&x);
}
