/* Streaming JSON writer (see jsonw.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "jsonw.h"
#include "neardup/normalize.h"

void nd_jw_init(nd_jw *w, nd_outfile *f, int pretty)
{
	memset(w, 0, offsetof(nd_jw, stage));
	w->f = f;
	w->pretty = pretty;
	w->cur = w->stage;
	w->lim = w->stage + sizeof w->stage;
}

/* Mem mode: the window is the room after mem->len, at least @extra bytes. */
static int mem_window(nd_jw *w, size_t extra)
{
	nd_buf *b = w->mem;
	int rc = nd_buf_reserve(b, extra < 4096 ? 4096 : extra);
	if (rc) {
		w->cur = w->lim = w->stage; /* no room: every put takes the slow path and stops */
		return rc;
	}
	w->cur = b->data + b->len;
	w->lim = b->data + b->cap - 1; /* nd_buf keeps a byte for its NUL */
	return 0;
}

void nd_jw_init_mem(nd_jw *w, nd_buf *mem, int pretty, int depth, size_t items)
{
	memset(w, 0, offsetof(nd_jw, stage));
	w->mem = mem;
	w->pretty = pretty;
	if (depth < 0 || depth >= ND_JW_MAX_DEPTH) {
		w->rc = nd_seterr(ND_EINTERNAL, "JSON writer nested too deep");
		depth = 0;
	}
	w->depth = depth;
	w->count[depth] = items;
	w->kind[depth] = ']';
	w->cur = w->lim = w->stage;
	if (!w->rc)
		w->rc = mem_window(w, 0);
}

int nd_jw_flush(nd_jw *w)
{
	if (w->mem) {
		if (!w->rc) {
			w->mem->len = (size_t)(w->cur - w->mem->data);
			w->mem->data[w->mem->len] = '\0';
		}
	} else {
		if (!w->rc && w->cur > w->stage)
			w->rc = nd_outfile_write(w->f, w->stage, (size_t)(w->cur - w->stage));
		w->cur = w->stage;
	}
	return w->rc;
}

static void put_slow(nd_jw *w, const char *s, size_t n)
{
	if (w->rc)
		return;
	if (w->mem) {
		w->mem->len = (size_t)(w->cur - w->mem->data);
		if ((w->rc = mem_window(w, n)))
			return;
	} else {
		if (nd_jw_flush(w))
			return;
		if (n >= sizeof w->stage) { /* a spliced chunk: straight to the file */
			w->rc = nd_outfile_write(w->f, s, n);
			return;
		}
	}
	memcpy(w->cur, s, n);
	w->cur += n;
}

static inline void put(nd_jw *w, const char *s, size_t n)
{
	if (ND_LIKELY(n <= (size_t)(w->lim - w->cur))) {
		memcpy(w->cur, s, n);
		w->cur += n;
	} else {
		put_slow(w, s, n);
	}
}

static inline void put1(nd_jw *w, char c)
{
	if (ND_LIKELY(w->cur < w->lim))
		*w->cur++ = c;
	else
		put_slow(w, &c, 1);
}

static void indent(nd_jw *w)
{
	static const char spaces[] = "\n                                                                ";
	if (!w->pretty)
		return;
	size_t n = 1 + (size_t)w->depth * 2;
	if (n > sizeof spaces - 1)
		n = sizeof spaces - 1;
	if (ND_LIKELY((size_t)(w->lim - w->cur) >= sizeof spaces)) {
		/* a fixed-size copy is a few vector stores, not a call; the bytes after
		 * the n wanted are room the next put overwrites */
		memcpy(w->cur, spaces, sizeof spaces);
		w->cur += n;
	} else {
		put(w, spaces, n);
	}
}

/* Comma and indentation before a value or key at the current level. */
static void before_item(nd_jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (w->count[w->depth]++)
			put1(w, ',');
		indent(w);
	}
}

static void open_(nd_jw *w, char c)
{
	before_item(w);
	put1(w, c);
	if (w->depth + 1 >= ND_JW_MAX_DEPTH) {
		if (!w->rc)
			w->rc = nd_seterr(ND_EINTERNAL, "JSON writer nested too deep");
		return;
	}
	w->depth++;
	w->count[w->depth] = 0;
	w->kind[w->depth] = c == '{' ? '}' : ']';
}

void nd_jw_object(nd_jw *w) { open_(w, '{'); }
void nd_jw_array(nd_jw *w) { open_(w, '['); }

void nd_jw_end(nd_jw *w)
{
	if (w->depth <= 0)
		return;
	size_t had = w->count[w->depth];
	char close = w->kind[w->depth];
	w->depth--;
	if (had)
		indent(w);
	put1(w, close);
}

int nd_json_escape(nd_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0;
	int rc = 0;
	while (i < n && !rc) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80) {
			/* copy a valid UTF-8 sequence as is; replace a bad one */
			size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
			size_t bad;
			if (len > 1 && i + len <= n && nd_utf8_validate(s + i, len, &bad) == 0) {
				i += len;
				run += len;
				continue;
			}
			if ((rc = nd_buf_append(b, s + i - run, run)))
				break;
			run = 0;
			rc = nd_buf_append(b, "\xEF\xBF\xBD", 3);
			i++;
			continue;
		}
		if ((rc = nd_buf_append(b, s + i - run, run)))
			break;
		run = 0;
		switch (c) {
		case '"': rc = nd_buf_append(b, "\\\"", 2); break;
		case '\\': rc = nd_buf_append(b, "\\\\", 2); break;
		case '\n': rc = nd_buf_append(b, "\\n", 2); break;
		case '\r': rc = nd_buf_append(b, "\\r", 2); break;
		case '\t': rc = nd_buf_append(b, "\\t", 2); break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			rc = nd_buf_append(b, u, 6);
		}
		}
		i++;
	}
	if (!rc && run)
		rc = nd_buf_append(b, s + i - run, run);
	return rc;
}

static void write_string(nd_jw *w, const char *s, size_t n);

void nd_jw_keyn(nd_jw *w, const char *key, size_t n)
{
	before_item(w);
	write_string(w, key, n);
	put1(w, ':');
	if (w->pretty)
		put1(w, ' ');
	w->after_key = 1;
}

/* 1 when @s needs no escaping: printable ASCII other than '"' and '\\' (keys,
 * ids, guard names, most numbers-as-strings). */
static int plain_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

static void write_string(nd_jw *w, const char *s, size_t n)
{
	if (plain_ascii(s, n)) {
		put1(w, '"');
		put(w, s, n);
		put1(w, '"');
		return;
	}
	nd_buf b = {0};
	int rc = nd_buf_putc(&b, '"');
	if (!rc)
		rc = nd_json_escape(&b, s, n);
	if (!rc)
		rc = nd_buf_putc(&b, '"');
	if (rc && !w->rc)
		w->rc = rc;
	put(w, b.data, b.len);
	nd_buf_free(&b);
}

void nd_jw_strn(nd_jw *w, const char *s, size_t n)
{
	before_item(w);
	write_string(w, s, n);
}

static void scalar(nd_jw *w, const char *s)
{
	before_item(w);
	put(w, s, strlen(s));
}

void nd_jw_int(nd_jw *w, long long v)
{
	char b[32], *e = b + sizeof b;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	char *p = nd_utoa_end(u, e);
	if (v < 0)
		*--p = '-';
	before_item(w);
	put(w, p, (size_t)(e - p));
}

void nd_jw_uint(nd_jw *w, unsigned long long v)
{
	char b[32], *e = b + sizeof b;
	char *p = nd_utoa_end(v, e);
	before_item(w);
	put(w, p, (size_t)(e - p));
}

void nd_jw_num(nd_jw *w, double v, int digits)
{
	char b[64];
	if (isnan(v) || isinf(v)) {
		scalar(w, "null");
		return;
	}
	/* Fast path, same digits as "%.*f": scale and round when the scaled value is
	 * clearly not near a tie (so its rounding error cannot change the result);
	 * snprintf otherwise. */
	static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
	double t = fabs(v) * (digits >= 0 && digits <= 6 ? scale[digits] : 0);
	double fl = floor(t), frac = t - fl;
	if (digits >= 1 && digits <= 6 && t < 1e9 && fabs(frac - 0.5) > 1e-6) {
		unsigned long long q = (unsigned long long)fl + (frac > 0.5);
		char *e = b + sizeof b, *p = e;
		for (int d = 0; d < digits; d++) {
			*--p = (char)('0' + q % 10);
			q /= 10;
		}
		*--p = '.';
		p = nd_utoa_end(q, p);
		if (signbit(v)) /* "%.*f" keeps the sign of -0.00001 and -0.0 */
			*--p = '-';
		while (e[-1] == '0' && e[-2] != '.') /* 1.000000 prints as 1.0 */
			e--;
		before_item(w);
		put(w, p, (size_t)(e - p));
		return;
	}
	snprintf(b, sizeof b, "%.*f", digits, v);
	/* trim trailing zeros so 1.000000 prints as 1.0 */
	char *dot = strchr(b, '.');
	if (dot) {
		char *e = b + strlen(b) - 1;
		while (e > dot + 1 && *e == '0')
			*e-- = '\0';
	}
	scalar(w, b);
}

void nd_jw_bool(nd_jw *w, int v) { scalar(w, v ? "true" : "false"); }
void nd_jw_null(nd_jw *w) { scalar(w, "null"); }

void nd_jw_raw(nd_jw *w, const char *json, size_t n)
{
	before_item(w);
	put(w, json, n);
}

void nd_jw_splice(nd_jw *w, const char *json, size_t n, size_t items)
{
	put(w, json, n);
	w->count[w->depth] += items;
}

int nd_jw_finish(nd_jw *w)
{
	put(w, "\n", 1);
	return nd_jw_flush(w);
}

void nd_jw_header(nd_jw *w, const char *schema, const char *tool, const char *version)
{
	nd_jw_key(w, "schema");
	nd_jw_str(w, schema);
	nd_jw_key(w, "tool");
	nd_jw_object(w);
	nd_jw_key(w, "name");
	nd_jw_str(w, tool);
	nd_jw_key(w, "version");
	nd_jw_str(w, version);
	nd_jw_end(w);
}

int nd_jw_commit(nd_jw *w, nd_outfile *f)
{
	int rc = nd_jw_finish(w);
	if (rc) {
		nd_outfile_abort(f);
		return rc;
	}
	return nd_outfile_commit(f);
}

/* nd_jw_items: rounds of chunks. While the workers format the chunks of one round
 * into memory, one task (the round's first, so it starts at once) writes the
 * previous round's chunks to the parent writer in order; so memory holds two
 * rounds, not the document. */
#define ITEMS_CHUNK_BYTES (1u << 20) /* a chunk's expected output: big enough that a
					 * round's start and end cost little, small
					 * enough that two rounds are a few MB a worker */
#define ITEMS_CHUNKS_PER_WORKER 2    /* chunks differ in cost; more than one a worker
					 * lets the faster worker take the next */
#define ITEMS_DEFAULT_SIZE 256       /* bytes a value takes when the caller gives no size */

typedef struct {
	nd_jw *w;
	nd_jw_item_fn item;
	nd_jw_size_fn size;
	const void *ctx;
	size_t n, items0;  /* values, and the array's values before the first */
	int pretty, depth; /* w's, read by the formatting tasks while w is written */
	size_t per_round;  /* chunks a round holds at most */
	/* round r % 2: chunk j covers values [first[j], first[j + 1]) into buf[j] */
	size_t nchunks[2];
	size_t *first[2];
	nd_buf *buf[2];
	int cur;           /* the round being formatted */
} items_job;

/* Cuts the chunks of the next round from value @from; returns where it ends. */
static size_t cut_round(items_job *j, size_t from)
{
	size_t *first = j->first[j->cur], k = 0;
	while (k < j->per_round && from < j->n) {
		first[k++] = from;
		size_t bytes = 0;
		do
			bytes += j->size ? j->size(j->ctx, from) : ITEMS_DEFAULT_SIZE;
		while (++from < j->n && bytes < ITEMS_CHUNK_BYTES);
	}
	first[k] = from;
	j->nchunks[j->cur] = k;
	return from;
}

/* Writes the chunks of the round before the current one, in order. */
static int write_round(items_job *j, int round)
{
	for (size_t k = 0; k < j->nchunks[round]; k++) {
		nd_buf *b = &j->buf[round][k];
		nd_jw_splice(j->w, b->data, b->len, j->first[round][k + 1] - j->first[round][k]);
		b->len = 0;
	}
	j->nchunks[round] = 0;
	return j->w->rc;
}

/* Task 0 writes the previous round; task k formats chunk k - 1 of this one. */
static int items_task(void *ctx, size_t begin, size_t end, unsigned worker)
{
	items_job *j = ctx;
	(void)worker;
	for (size_t t = begin; t < end; t++) {
		if (t == 0) {
			int rc = write_round(j, !j->cur);
			if (rc)
				return rc;
			continue;
		}
		size_t k = t - 1, a = j->first[j->cur][k], e = j->first[j->cur][k + 1];
		nd_jw cw;
		nd_jw_init_mem(&cw, &j->buf[j->cur][k], j->pretty, j->depth, j->items0 + a);
		for (size_t i = a; i < e && !cw.rc; i++)
			j->item(&cw, j->ctx, i);
		int rc = nd_jw_flush(&cw);
		if (rc)
			return rc;
	}
	return 0;
}

int nd_jw_items(nd_jw *w, size_t n, nd_jw_item_fn item, nd_jw_size_fn size, const void *ctx, unsigned threads)
{
	items_job j;
	int rc = 0;

	if (w->rc)
		return w->rc;
	if (w->after_key || w->depth == 0 || w->kind[w->depth] != ']')
		return w->rc = nd_seterr(ND_EINTERNAL, "nd_jw_items outside an array");
	if (threads == 0)
		threads = nd_cpu_count();
	if (threads == 1 || n == 0) {
		for (size_t i = 0; i < n && !w->rc; i++)
			item(w, ctx, i);
		return w->rc;
	}
	memset(&j, 0, sizeof j);
	j.w = w;
	j.item = item;
	j.size = size;
	j.ctx = ctx;
	j.n = n;
	j.items0 = w->count[w->depth];
	j.pretty = w->pretty;
	j.depth = w->depth;
	j.per_round = (size_t)threads * ITEMS_CHUNKS_PER_WORKER;
	for (int r = 0; r < 2; r++) {
		j.first[r] = nd_calloc(j.per_round + 1, sizeof *j.first[r]);
		j.buf[r] = nd_calloc(j.per_round, sizeof *j.buf[r]);
		if (!j.first[r] || !j.buf[r]) {
			rc = nd_seterr(ND_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	for (size_t from = 0; from < n && !rc;) {
		from = cut_round(&j, from);
		rc = nd_parallel_for(j.nchunks[j.cur] + 1, 1, threads, items_task, &j);
		j.cur = !j.cur;
	}
	if (!rc)
		rc = write_round(&j, !j.cur);
cleanup:
	for (int r = 0; r < 2; r++) {
		for (size_t k = 0; j.buf[r] && k < j.per_round; k++)
			nd_buf_free(&j.buf[r][k]);
		free(j.buf[r]);
		free(j.first[r]);
	}
	if (rc && !w->rc)
		w->rc = rc;
	return w->rc;
}
