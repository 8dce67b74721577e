/* Normalisation throughput: nd_normalize_text() with guard features over ≥ 50 MB
 * of synthetic driving-exam records built in memory (a stem of about 60 CJK
 * characters with full-width punctuation, numbers and, now and then, numbering,
 * HTML or full-width Latin; then four options "A、…").
 *
 *   build/bench-normalize [MB] [seed] [icu]   (default 64 MB, seed 1)
 *
 * "icu" puts a character without a one-unit fold (℃ → °c) in every record, so every
 * record takes ICU's normaliser instead of the per-unit table: the slow path.
 * Prints the input size, the time and MB/s (input bytes per second, one thread). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "neardup/normalize.h"

static const char *const PHRASES[] = {
	"驾驶机动车", "在高速公路上", "遇到前方车辆", "应当", "不得", "减速慢行", "随身携带",
	"驾驶证", "行驶证", "以每小时", "公里的速度", "行驶时", "与同车道前车", "保持", "米以上的距离",
	"路面结冰", "雨天", "夜间", "会车时", "开启近光灯", "禁止", "超车", "交叉路口", "停车",
	"连续弯道", "提前减速", "注意观察", "行人", "非机动车", "安全距离", "危险报警闪光灯",
	"一次记", "分", "处", "元罚款", "年内不得再次申请", "周岁", "铁路道口", "掉头", "倒车",
	"应急车道", "实习期", "驾驶人", "没有中心线的道路", "只有一条机动车道", "谨慎驾驶",
};
static const char *const PUNCT[] = {"，", "。", "、", "；", "："};
static const char *const OPTIONS[] = {"减速慢行", "加速通过", "停车避让", "鸣喇叭催促",
	"开启远光灯", "靠右侧减速行驶", "保持安全车速", "连续变更车道", "正确", "错误"};
static const char *const NUMS[] = {"30", "50", "100", "五十", "一百五十", "３０", "0.5", "12", "百分之二十", "20%"};

static uint64_t rng_state;
static int force_icu;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static void put(char **p, const char *s)
{
	size_t l = strlen(s);
	memcpy(*p, s, l);
	*p += l;
}

/* One record (≤ 2 KB) at p; returns its end. */
static char *record(char *p)
{
	char tmp[32];
	int k, cjk = 0, r = (int)rnd(20);
	if (r == 0) {
		snprintf(tmp, sizeof tmp, "%u、", 1 + rnd(1500));
		put(&p, tmp);
	} else if (r == 1) {
		put(&p, "【单选题】");
	} else if (r == 2) {
		put(&p, "<p>");
	}
	while (cjk < 60) {
		const char *ph = PHRASES[rnd(sizeof PHRASES / sizeof PHRASES[0])];
		put(&p, ph);
		cjk += (int)strlen(ph) / 3;
		if (rnd(6) == 0)
			put(&p, NUMS[rnd(sizeof NUMS / sizeof NUMS[0])]);
		if (rnd(5) == 0)
			put(&p, PUNCT[rnd(sizeof PUNCT / sizeof PUNCT[0])]);
	}
	if (force_icu)
		put(&p, "气温0℃");
	put(&p, rnd(2) ? "？" : "。");
	if (r == 2)
		put(&p, "</p>");
	if (r == 3)
		put(&p, "ＡＢＳ　系统");
	for (k = 0; k < 4; k++) {
		snprintf(tmp, sizeof tmp, " %c、", 'A' + k);
		put(&p, tmp);
		put(&p, OPTIONS[rnd(sizeof OPTIONS / sizeof OPTIONS[0])]);
	}
	return p;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 64, want, cap, n = 0, k, nrec = 0;
	size_t *off = NULL, out_bytes = 0;
	char *buf = NULL, *p;
	nd_normalizer *z = NULL;
	unsigned long long negs = 0, nums = 0;
	double t0, t1;
	int rc = 1;
	rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) * 2654435761u + 1 : 88172645463325252ull;
	force_icu = argc > 3 && !strcmp(argv[3], "icu");
	if (mb < 1)
		mb = 1;
	want = mb << 20;
	cap = want + 4096;
	buf = malloc(cap);
	off = malloc(sizeof *off * (want / 64 + 2));
	if (!buf || !off) {
		fprintf(stderr, "bench-normalize: out of memory\n");
		goto cleanup;
	}
	p = buf;
	off[0] = 0;
	while ((size_t)(p - buf) < want) {
		p = record(p);
		off[++nrec] = (size_t)(p - buf);
	}
	n = (size_t)(p - buf);
	if (!nrec)
		goto cleanup;
	if (nd_normalizer_create(&z, NULL)) {
		fprintf(stderr, "bench-normalize: %s\n", nd_error_last());
		goto cleanup;
	}
	{ /* warm-up: one-time tables, buffer growth */
		const char *o;
		size_t ol;
		nd_text_features f;
		nd_normalize_text(z, buf, off[1], &o, &ol, &f);
	}
	t0 = now();
	for (k = 0; k < nrec; k++) {
		const char *o;
		size_t ol;
		nd_text_features f;
		if (nd_normalize_text(z, buf + off[k], off[k + 1] - off[k], &o, &ol, &f)) {
			fprintf(stderr, "bench-normalize: record %zu: %s\n", k, nd_error_last());
			goto cleanup;
		}
		out_bytes += ol;
		negs += f.negations;
		nums += f.numbers_len;
	}
	t1 = now();
	printf("normalize+features%s: %zu records, %.1f MB in %.3f s: %.1f MB/s "
	       "(output %.1f MB; checksum %llu/%llu)\n",
	       force_icu ? " (ICU path)" : "", nrec, (double)n / 1e6, t1 - t0, (double)n / 1e6 / (t1 - t0), (double)out_bytes / 1e6,
	       negs, nums);
	rc = 0;
cleanup:
	nd_normalizer_free(z);
	free(buf);
	free(off);
	return rc;
}
