/* Opening an input, detecting its container, and finding record boundaries with a
 * streaming structural scan (strings, escapes and nesting depth only); records are
 * parsed one at a time later, so no tree of the whole document is ever built. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* nd_skip_string */
#endif
#include "internal.h"
#include "input_internal.h"

/* cJSON gives up past 1000 levels (CJSON_NESTING_LIMIT); the scanner reports the
 * same limit itself so the message can say what happened. */
#define ND_MAX_DEPTH 1000

struct nd_input {
	nd_input_info info;
	char *path;
	char *wrapper_key;
	const char *data; /* the mapped bytes */
	size_t size;
	void *map;
	size_t map_len;
	int fd;
	size_t pos;    /* scan cursor */
	size_t index;  /* next record number */
	size_t max_record;
	int started;   /* array: the first element has been handed out */
	int done;
};

const char *nd_container_name(nd_container c)
{
	switch (c) {
	case ND_CONTAINER_ARRAY: return "array";
	case ND_CONTAINER_JSONL: return "jsonl";
	case ND_CONTAINER_WRAPPED: return "wrapped";
	}
	return "unknown";
}

void nd_input_where(const char *data, size_t size, size_t off, size_t *line, size_t *col)
{
	size_t l = 1, c = 1;
	if (off > size)
		off = size;
	for (size_t i = 0; i < off; i++) {
		if (data[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)data[i] & 0xC0) != 0x80) {
			c++; /* columns count characters, not bytes */
		}
	}
	*line = l;
	*col = c;
}

static int scan_error(const nd_input *in, int code, size_t off, const char *what)
{
	size_t line, col;
	nd_input_where(in->data, in->size, off, &line, &col);
	return nd_seterr(code, "%s: byte %zu (line %zu, column %zu): %s", in->info.path, off, line, col,
			 what);
}

static inline int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static size_t skip_ws(const char *d, size_t n, size_t p)
{
	while (p < n && is_ws(d[p]))
		p++;
	return p;
}

/* Where a '"' or '\\' may be, from p: past every 8 bytes that hold neither
 * (SWAR: a byte of w equals c when w ^ c has a zero byte, and
 * (x - 0x01..) & ~x & 0x80.. finds one); fewer than 8 bytes are left as they are. */
static inline size_t skip_plain_swar(const char *d, size_t n, size_t p)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	const uint64_t quotes = 0x2222222222222222ull, slashes = 0x5C5C5C5C5C5C5C5Cull;
	while (p + 8 <= n) {
		uint64_t w, q, b;
		memcpy(&w, d + p, 8);
		q = w ^ quotes;
		b = w ^ slashes;
		if ((((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
			break;
		p += 8;
	}
	return p;
}

#if defined(__SSE2__)
/* The same 16 bytes at a time, and exactly at the byte: SSE2 is in every x86-64
 * CPU, so no dispatch. Half the scan's time on CJK text (open + nd_input_collect
 * of a 412 MB file, one thread: 0.28 -> 0.14 s user). */
static inline size_t skip_plain_sse2(const char *d, size_t n, size_t p)
{
	const __m128i quotes = _mm_set1_epi8('"'), slashes = _mm_set1_epi8('\\');
	while (p + 16 <= n) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(d + p));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quotes),
								    _mm_cmpeq_epi8(v, slashes)));
		if (m)
			return p + (size_t)__builtin_ctz(m);
		p += 16;
	}
	return p;
}
#define skip_plain skip_plain_sse2
#else
#define skip_plain skip_plain_swar
#endif

/* The end of the string starting at d[p] == '"' (just past its closing quote), or
 * SIZE_MAX when the input ends first: @skip jumps over plain bytes, the loop
 * takes the rest one by one (an escape and the character after it). */
static inline size_t skip_string_with(const char *d, size_t n, size_t p,
				      size_t (*skip)(const char *, size_t, size_t))
{
	p++;
	for (;;) {
		p = skip(d, n, p);
		if (p >= n)
			return SIZE_MAX;
		char c = d[p];
		if (c == '"')
			return p + 1;
		p += c == '\\' ? 2 : 1;
	}
}

size_t nd_skip_string_portable(const char *d, size_t n, size_t p)
{
	return skip_string_with(d, n, p, skip_plain_swar);
}

size_t nd_skip_string(const char *d, size_t n, size_t p)
{
	return skip_string_with(d, n, p, skip_plain);
}

int nd_scan_value(const char *d, size_t n, size_t p, size_t *end, size_t *err_off, const char **err)
{
	size_t depth = 0;
	if (p >= n) {
		*err_off = n;
		*err = "unexpected end of input, expected a value";
		return ND_EPARSE;
	}
	char c = d[p];
	if (c == '"') {
		size_t e = nd_skip_string(d, n, p);
		if (e == SIZE_MAX) {
			*err_off = p;
			*err = "unterminated string (truncated JSON?)";
			return ND_EPARSE;
		}
		*end = e;
		return 0;
	}
	if (c != '{' && c != '[') {
		/* a scalar: runs to a delimiter; cJSON checks its spelling later */
		size_t q = p;
		while (q < n && !is_ws(d[q]) && d[q] != ',' && d[q] != ']' && d[q] != '}')
			q++;
		if (q == p) {
			*err_off = p;
			*err = "expected a value";
			return ND_EPARSE;
		}
		*end = q;
		return 0;
	}
	for (; p < n; p++) {
		c = d[p];
		if (c == '"') {
			size_t e = nd_skip_string(d, n, p);
			if (e == SIZE_MAX) {
				*err_off = p;
				*err = "unterminated string (truncated JSON?)";
				return ND_EPARSE;
			}
			p = e - 1;
		} else if (c == '{' || c == '[') {
			if (++depth > ND_MAX_DEPTH) {
				*err_off = p;
				*err = "nested deeper than 1000 levels";
				return ND_ELIMIT;
			}
		} else if (c == '}' || c == ']') {
			if (--depth == 0) {
				*end = p + 1;
				return 0;
			}
		}
	}
	*err_off = n;
	*err = "unexpected end of input (truncated JSON?)";
	return ND_EPARSE;
}

static int spool_stdin(nd_input *in)
{
	const char *tmpdir = getenv("TMPDIR");
	char tmpl[4096];
	char buf[1 << 16];
	snprintf(tmpl, sizeof tmpl, "%s/neardup-stdin.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return nd_seterr(ND_EIO, "-: cannot create a temporary file for stdin in %s: %s",
				 tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
	unlink(tmpl); /* lives until closed */
	for (;;) {
		ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR && !nd_interrupted())
				continue;
			int e = errno;
			close(fd);
			return nd_seterr(ND_EIO, "-: read failed: %s", strerror(e));
		}
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(fd, buf + off, (size_t)(r - off));
			if (w < 0) {
				int e = errno;
				close(fd);
				return nd_seterr(ND_EIO, "-: cannot spool stdin to %s: %s",
						 tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(e));
			}
			off += w;
		}
	}
	in->fd = fd;
	return 0;
}

static int map_input(nd_input *in)
{
	struct stat st;
	if (fstat(in->fd, &st) != 0)
		return nd_seterr(ND_EIO, "%s: %s", in->info.path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return nd_seterr(ND_EIO, "%s: is a directory", in->info.path);
	if (!S_ISREG(st.st_mode)) {
		/* a pipe or device given by name: spool it like stdin */
		int rc, old = dup(STDIN_FILENO);
		dup2(in->fd, STDIN_FILENO);
		close(in->fd);
		rc = spool_stdin(in);
		dup2(old, STDIN_FILENO);
		close(old);
		if (rc)
			return rc;
		if (fstat(in->fd, &st) != 0)
			return nd_seterr(ND_EIO, "%s: %s", in->info.path, strerror(errno));
	}
	in->size = (size_t)st.st_size;
	in->info.size = (uint64_t)st.st_size;
	if (in->size == 0)
		return nd_seterr(ND_EEMPTY, "%s: the file is empty", in->info.path);
	in->map = mmap(NULL, in->size, PROT_READ, MAP_PRIVATE, in->fd, 0);
	if (in->map == MAP_FAILED) {
		in->map = NULL;
		return nd_seterr(ND_EIO, "%s: cannot map %zu bytes: %s", in->info.path, in->size,
				 strerror(errno));
	}
	in->map_len = in->size;
	madvise(in->map, in->map_len, MADV_SEQUENTIAL);
	in->data = in->map;
	return 0;
}

/* Keys of chat presets hold arrays of objects inside one record; such a key does not
 * make an object a wrapper. */
static int is_record_level_key(const char *k, size_t n)
{
	static const char *const keys[] = {"conversations", "messages", "history", "options", "choices", "turns"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
			return 1;
	return 0;
}

/* Looks inside the top-level object at [p, end) for a member holding the record
 * array. Sets *array_at to the '[' offset of the chosen member, or leaves it 0. */
static int find_wrapped_array(nd_input *in, size_t p, size_t end, const char *want, size_t *array_at)
{
	const char *d = in->data;
	size_t err_off, e;
	const char *err;
	size_t found = 0, nfound = 0;
	char names[256] = "";
	int rc;

	p = skip_ws(d, end, p + 1);
	while (p < end && d[p] != '}') {
		if (d[p] != '"')
			return scan_error(in, ND_EPARSE, p, "expected a member name");
		size_t ks = p + 1, ke = nd_skip_string(d, end, p);
		if (ke == SIZE_MAX || ke >= end)
			return scan_error(in, ND_EPARSE, p, "unterminated member name");
		size_t klen = ke - 1 - ks, bad;
		if (nd_utf8_validate(d + ks, klen, &bad)) /* the name goes into notes and the report */
			return scan_error(in, ND_EUTF8, ks + bad, "invalid UTF-8 or NUL byte in a member name");
		p = skip_ws(d, end, ke);
		if (p >= end || d[p] != ':')
			return scan_error(in, ND_EPARSE, p, "expected ':' after a member name");
		p = skip_ws(d, end, p + 1);
		if ((rc = nd_scan_value(d, end, p, &e, &err_off, &err)))
			return scan_error(in, rc, err_off, err);
		int candidate = 0;
		if (d[p] == '[') {
			size_t q = skip_ws(d, e, p + 1);
			candidate = (q < e && (d[q] == '{' || d[q] == ']'));
		}
		if (want) {
			if (strlen(want) == klen && memcmp(want, d + ks, klen) == 0) {
				if (d[p] != '[')
					return nd_seterr(ND_EMAPPING, "%s: member \"%s\" is not an array",
							 in->info.path, want);
				found = p;
				nfound = 1;
				in->wrapper_key = nd_strndup(d + ks, klen);
			}
		} else if (candidate && !is_record_level_key(d + ks, klen)) {
			if (nfound == 0) {
				found = p;
				in->wrapper_key = nd_strndup(d + ks, klen);
			}
			nfound++;
			if (strlen(names) + klen + 8 < sizeof names) {
				strcat(names, nfound > 1 ? ", \"" : "\"");
				strncat(names, d + ks, klen);
				strcat(names, "\"");
			}
		}
		p = skip_ws(d, end, e);
		if (p < end && d[p] == ',')
			p = skip_ws(d, end, p + 1);
	}
	if (want && !nfound)
		return nd_seterr(ND_EMAPPING, "%s: the top-level object has no member \"%s\"", in->info.path, want);
	if (nfound > 1)
		return nd_seterr(ND_EMAPPING,
				 "%s: the top-level object has several arrays of objects (%s); name the "
				 "one holding the records with --records-key",
				 in->info.path, names);
	if (nfound == 1 && !in->wrapper_key)
		return nd_seterr(ND_ENOMEM, "out of memory");
	*array_at = nfound ? found : 0;
	return 0;
}

static int detect(nd_input *in, const char *records_key)
{
	const char *d = in->data;
	size_t n = in->size, p = 0, e, err_off;
	const char *err;
	int rc;

	if (n >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0) {
		in->info.bom = 1;
		p = 3;
	}
	const char *nl = memchr(d, '\n', n);
	in->info.crlf = nl && nl > d && nl[-1] == '\r';
	p = skip_ws(d, n, p);
	if (p >= n)
		return nd_seterr(ND_EEMPTY, "%s: the file holds only whitespace", in->info.path);
	if (d[p] == '[') {
		in->info.container = ND_CONTAINER_ARRAY;
		in->pos = p + 1;
		return 0;
	}
	if (d[p] != '{')
		return scan_error(in, ND_EPARSE, p,
				  "expected a JSON array, a JSON object or JSON Lines");
	if ((rc = nd_scan_value(d, n, p, &e, &err_off, &err)))
		return scan_error(in, rc, err_off, err);
	size_t after = skip_ws(d, n, e);
	if (after < n && !records_key) {
		in->info.container = ND_CONTAINER_JSONL;
		in->pos = p;
		return 0;
	}
	size_t array_at = 0;
	if ((rc = find_wrapped_array(in, p, e, records_key, &array_at)))
		return rc;
	if (array_at) {
		if (after < n)
			return scan_error(in, ND_EPARSE, after, "unexpected data after the top-level object");
		in->info.container = ND_CONTAINER_WRAPPED;
		in->info.wrapper_key = in->wrapper_key;
		in->pos = array_at + 1;
		return 0;
	}
	in->info.container = ND_CONTAINER_JSONL; /* one object: a one-record JSON Lines file */
	in->pos = p;
	return 0;
}

int nd_input_open(nd_input **out, const char *path, const nd_input_opts *opts)
{
	nd_input_opts defaults = ND_INPUT_OPTS_INIT;
	nd_input *in;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != ND_INPUT_OPTS_VERSION)
		return nd_seterr(ND_EINVAL, "nd_input_opts: unsupported version %u", opts->version);
	if (!path || !*path)
		return nd_seterr(ND_EINVAL, "empty input path");
	if (!(in = calloc(1, sizeof *in)))
		return nd_seterr(ND_ENOMEM, "out of memory");
	in->fd = -1;
	in->max_record = opts->max_record_bytes ? opts->max_record_bytes : ((size_t)64 << 20);
	if (!(in->path = nd_strndup(path, strlen(path)))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto fail;
	}
	in->info.path = in->path;
	if (strcmp(path, "-") == 0) {
		if ((rc = spool_stdin(in)))
			goto fail;
	} else if ((in->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = nd_seterr(ND_EIO, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if ((rc = map_input(in)) || (rc = detect(in, opts->records_key)))
		goto fail;
	*out = in;
	return 0;
fail:
	nd_input_free(in);
	return rc;
}

void nd_input_free(nd_input *in)
{
	if (!in)
		return;
	if (in->map)
		munmap(in->map, in->map_len);
	if (in->fd >= 0)
		close(in->fd);
	free(in->wrapper_key);
	free(in->path);
	free(in);
}

const nd_input_info *nd_input_info_get(const nd_input *in) { return &in->info; }

const char *nd_input_data(const nd_input *in) { return in->data; }

void nd_input_release_pages(nd_input *in, uint64_t begin, uint64_t end)
{
	/* the mapping is read-only and backed by the file: dropped pages are read again
	 * on the next access (when kept records are written). Only whole pages inside
	 * [begin, end) are dropped. */
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t pg = ps > 0 ? (uint64_t)ps : 4096;
	uint64_t b = (begin + pg - 1) / pg * pg, e = end / pg * pg;
	if (in->map && e > b && e <= in->map_len)
		madvise((char *)in->map + b, (size_t)(e - b), MADV_DONTNEED);
}

/* Scans the record value at d[p] (record number @index) into *span: its structure
 * and the size limit. Reads the input only, so pieces of a file can be scanned at
 * once (nd_input_collect). */
static int scan_record(const nd_input *in, size_t p, size_t index, nd_span *span)
{
	size_t e, err_off;
	const char *err;
	int rc = nd_scan_value(in->data, in->size, p, &e, &err_off, &err);
	if (rc) {
		char msg[160];
		snprintf(msg, sizeof msg, "record %zu: %s", index, err);
		return scan_error(in, rc, err_off, msg);
	}
	if (e - p > in->max_record) {
		char msg[200];
		snprintf(msg, sizeof msg, "record %zu is %zu bytes, over the %zu-byte limit "
			 "(raise it with --max-record-bytes)", index, e - p, in->max_record);
		return scan_error(in, ND_ELIMIT, p, msg);
	}
	span->offset = p;
	span->len = e - p;
	span->index = index;
	return 0;
}

static int take(nd_input *in, size_t p, nd_span *span)
{
	int rc = scan_record(in, p, in->index, span);
	if (rc)
		return rc;
	in->index++;
	in->pos = p + span->len;
	return 1;
}

/* JSON Lines: nothing but blanks may follow a record on its line. */
static int check_line_end(const nd_input *in, const nd_span *span)
{
	const char *d = in->data;
	size_t n = in->size, q = (size_t)span->offset + span->len;
	while (q < n && (d[q] == ' ' || d[q] == '\t' || d[q] == '\r'))
		q++;
	if (q < n && d[q] != '\n') {
		char msg[160];
		snprintf(msg, sizeof msg, "unexpected data after record %zu on its line "
			 "(JSON Lines needs one record per line)", span->index);
		return scan_error(in, ND_EPARSE, q, msg);
	}
	return 0;
}

int nd_input_next(nd_input *in, nd_span *span)
{
	const char *d = in->data;
	size_t n = in->size, p;

	if (in->done)
		return 0;
	if (nd_interrupted())
		return nd_seterr(ND_EINTR, "interrupted");
	if (in->info.container == ND_CONTAINER_JSONL) {
		p = skip_ws(d, n, in->pos);
		if (p >= n) {
			in->done = 1;
			return 0;
		}
		int rc = take(in, p, span);
		if (rc < 0 || (rc = check_line_end(in, span)))
			return rc;
		return 1;
	}
	/* array or wrapped array */
	p = skip_ws(d, n, in->pos);
	if (p >= n)
		return scan_error(in, ND_EPARSE, n, "unexpected end of input inside the record array "
				  "(truncated JSON?)");
	if (in->started) {
		if (d[p] == ',') {
			p = skip_ws(d, n, p + 1);
			if (p < n && d[p] == ']')
				return scan_error(in, ND_EPARSE, p, "trailing comma before ']'");
		} else if (d[p] != ']') {
			return scan_error(in, ND_EPARSE, p, "expected ',' or ']' after a record");
		}
	}
	if (p < n && d[p] == ']') {
		in->done = 1;
		if (in->info.container == ND_CONTAINER_ARRAY) {
			size_t q = skip_ws(d, n, p + 1);
			if (q < n)
				return scan_error(in, ND_EPARSE, q, "unexpected data after the top-level array");
		}
		in->pos = p + 1;
		return 0;
	}
	in->started = 1;
	return take(in, p, span);
}

/* ------------------------------------------------------------------ collect -- */

/* The serial scan: nd_input_next until the end. */
static int collect_serial(nd_input *in, nd_span **out, size_t *count)
{
	size_t n = 0, cap = 1024;
	nd_span *spans = malloc(cap * sizeof *spans), s;
	int rc;
	if (!spans)
		return nd_seterr(ND_ENOMEM, "out of memory");
	while ((rc = nd_input_next(in, &s)) == 1) {
		if (n == cap) {
			nd_span *p = nd_reallocarray(spans, cap * 2, sizeof *p);
			if (!p) {
				rc = nd_seterr(ND_ENOMEM, "out of memory holding %zu record positions", cap);
				break;
			}
			spans = p;
			cap *= 2;
		}
		spans[n++] = s;
	}
	if (rc) {
		free(spans);
		return rc;
	}
	*out = spans;
	*count = n;
	return 0;
}

/* One piece of a JSON Lines file: the records that start in [begin, end), numbered
 * from 0 inside the piece. */
typedef struct {
	size_t begin, end;
	nd_span *spans;
	size_t n, cap;
} jsonl_piece;

typedef struct {
	const nd_input *in;
	jsonl_piece *pieces;
} collect_ctx;

/* Any failure, and a record that runs on past the end of its piece, sends the
 * caller back to the serial scan, so its return value is only "not like serial". */
static int scan_piece(const nd_input *in, jsonl_piece *pc)
{
	size_t pos = pc->begin;
	for (;;) {
		size_t p = skip_ws(in->data, in->size, pos);
		int rc;
		if (p >= pc->end)
			return 0;
		if (pc->n == pc->cap) {
			size_t cap = pc->cap ? pc->cap * 2 : 1024;
			nd_span *s = nd_reallocarray(pc->spans, cap, sizeof *s);
			if (!s)
				return nd_seterr(ND_ENOMEM, "out of memory");
			pc->spans = s;
			pc->cap = cap;
		}
		nd_span *s = &pc->spans[pc->n];
		if ((rc = scan_record(in, p, pc->n, s)) || (rc = check_line_end(in, s)))
			return rc;
		pos = p + s->len;
		if (pos > pc->end) /* a record over several lines crosses into the next piece */
			return ND_EPARSE;
		if ((++pc->n & 1023) == 0 && nd_interrupted())
			return ND_EINTR;
	}
}

static int scan_pieces(void *ctx, size_t b, size_t e, unsigned w)
{
	collect_ctx *c = ctx;
	int rc = 0;
	(void)w;
	for (size_t k = b; k < e && !rc; k++)
		rc = scan_piece(c->in, &c->pieces[k]);
	return rc;
}

/* Pieces of about @piece_bytes, each ending just after a newline (or at the end). */
static jsonl_piece *split_pieces(const nd_input *in, size_t piece_bytes, size_t *npieces)
{
	const char *d = in->data;
	size_t n = in->size, begin = in->pos, k = 0;
	size_t max = (n - begin) / piece_bytes + 1;
	jsonl_piece *pcs = calloc(max, sizeof *pcs);
	if (!pcs)
		return NULL;
	while (begin < n && k < max) {
		size_t end = n;
		if (n - begin > piece_bytes) {
			const char *nl = memchr(d + begin + piece_bytes, '\n', n - begin - piece_bytes);
			end = nl ? (size_t)(nl - d) + 1 : n;
		}
		pcs[k].begin = begin;
		pcs[k].end = end;
		k++;
		begin = end;
	}
	*npieces = k;
	return pcs;
}

int nd_input_collect(nd_input *in, unsigned threads, size_t piece_bytes, nd_span **out, size_t *count)
{
	jsonl_piece *pcs = NULL;
	size_t np = 0, total = 0;
	nd_span *spans = NULL;

	*out = NULL;
	*count = 0;
	if (!piece_bytes)
		piece_bytes = ND_INPUT_PIECE_BYTES;
	/* a JSON Lines record sits on one line (JSON strings hold no raw newline),
	 * so the file can be cut after newlines and its pieces scanned at once. A
	 * piece that does not start where the serial scan would (a record written
	 * over several lines, or a raw newline the scanner let through in a string)
	 * makes a scan fail or run on past its piece's end, and then the serial scan
	 * decides. Otherwise each piece ends in blanks after its last record and the
	 * next starts at the record after them: the spans are the serial ones. */
	if (in->info.container != ND_CONTAINER_JSONL || in->index || in->done ||
	    in->size - in->pos <= piece_bytes || !(pcs = split_pieces(in, piece_bytes, &np)) || np < 2)
		goto serial;
	if (nd_parallel_for(np, 1, threads, scan_pieces, &(collect_ctx){in, pcs}))
		goto serial;
	for (size_t k = 0; k < np; k++)
		total += pcs[k].n;
	if (!(spans = nd_reallocarray(NULL, total ? total : 1, sizeof *spans)))
		goto serial;
	for (size_t k = 0, at = 0; k < np; k++) {
		for (size_t i = 0; i < pcs[k].n; i++) {
			spans[at] = pcs[k].spans[i];
			spans[at].index = at;
			at++;
		}
		free(pcs[k].spans);
	}
	free(pcs);
	in->index = total;
	in->pos = in->size;
	in->done = 1;
	*out = spans;
	*count = total;
	return 0;
serial:
	for (size_t k = 0; pcs && k < np; k++)
		free(pcs[k].spans);
	free(pcs);
	nd_error_clear();
	return collect_serial(in, out, count);
}
