/* Streaming JSON writer (see jsonw.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "jsonw.h"
#include "neardup/normalize.h"

void nd_jw_init(nd_jw *w, nd_outfile *f, int pretty)
{
	memset(w, 0, sizeof *w);
	w->f = f;
	w->pretty = pretty;
}

static void put(nd_jw *w, const char *s, size_t n)
{
	if (!w->rc)
		w->rc = nd_outfile_write(w->f, s, n);
}

static void indent(nd_jw *w)
{
	static const char spaces[] = "                                                                ";
	if (!w->pretty)
		return;
	put(w, "\n", 1);
	size_t n = (size_t)w->depth * 2;
	put(w, spaces, n < sizeof spaces - 1 ? n : sizeof spaces - 1);
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
			put(w, ",", 1);
		indent(w);
	}
}

static void open_(nd_jw *w, const char *c)
{
	before_item(w);
	put(w, c, 1);
	if (w->depth + 1 >= ND_JW_MAX_DEPTH) {
		if (!w->rc)
			w->rc = nd_seterr(ND_EINTERNAL, "JSON writer nested too deep");
		return;
	}
	w->depth++;
	w->count[w->depth] = 0;
	w->kind[w->depth] = c[0] == '{' ? '}' : ']';
}

void nd_jw_object(nd_jw *w) { open_(w, "{"); }
void nd_jw_array(nd_jw *w) { open_(w, "["); }

void nd_jw_end(nd_jw *w)
{
	if (w->depth <= 0)
		return;
	int had = w->count[w->depth];
	char close = w->kind[w->depth];
	w->depth--;
	if (had)
		indent(w);
	put(w, &close, 1);
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

void nd_jw_key(nd_jw *w, const char *key)
{
	before_item(w);
	write_string(w, key, strlen(key));
	put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
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
		put(w, "\"", 1);
		put(w, s, n);
		put(w, "\"", 1);
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

void nd_jw_str(nd_jw *w, const char *s)
{
	if (!s)
		nd_jw_null(w);
	else
		nd_jw_strn(w, s, strlen(s));
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
		char *e = b + sizeof b - 1, *p;
		*e = '\0';
		p = e;
		for (int d = 0; d < digits; d++) {
			*--p = (char)('0' + q % 10);
			q /= 10;
		}
		*--p = '.';
		p = nd_utoa_end(q, p);
		if (signbit(v)) /* "%.*f" keeps the sign of -0.00001 and -0.0 */
			*--p = '-';
		memmove(b, p, (size_t)(e - p) + 1);
	} else {
		snprintf(b, sizeof b, "%.*f", digits, v);
	}
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

int nd_jw_finish(nd_jw *w)
{
	put(w, "\n", 1);
	return w->rc;
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
