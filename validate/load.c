/* Reading what is validated: one dataset, the files a dedup report names, or splits.
 *
 * A dataset whose records all parse is loaded as it is (nd_dataset_load). When some
 * records do not (malformed JSON, invalid UTF-8, not an object, a field of the wrong
 * type), those are set aside as parse errors and the others are loaded from a
 * temporary JSON array of their original bytes; splits are always read that way, one
 * array for all of them, so one dedup pass sees every record. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sha256.h"
#include "vload.h"

void nd_vdata_free(nd_vdata *d)
{
	if (!d)
		return;
	nd_dataset_free(d->ds);
	free(d->split);
	free(d->orig);
	for (size_t i = 0; i < d->nbad; i++)
		free(d->bad[i].msg);
	for (int i = 0; i < 3; i++)
		if (d->spool[i]) {
			unlink(d->spool[i]);
			free(d->spool[i]);
		}
	memset(d, 0, sizeof *d);
}

static const char *tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

static int make_tmp(char **path, FILE **f)
{
	nd_buf b = {0};
	if (nd_buf_printf(&b, "%s/neardup-validate.XXXXXX", tmpdir()))
		return nd_seterr(ND_ENOMEM, "out of memory");
	int fd = mkstemp(b.data);
	if (fd < 0) {
		int e = errno;
		nd_buf_free(&b);
		return nd_seterr(ND_EIO, "cannot create a temporary file in %s: %s", tmpdir(), strerror(e));
	}
	*f = fdopen(fd, "wb");
	if (!*f) {
		close(fd);
		unlink(b.data);
		nd_buf_free(&b);
		return nd_seterr(ND_EIO, "cannot open a temporary file: %s", strerror(errno));
	}
	*path = b.data;
	return 0;
}

/* "-" is read once into a temporary file, so the records can be read twice. */
static int spool_stdin(char **path)
{
	FILE *f;
	char buf[65536];
	size_t n;
	int rc = make_tmp(path, &f);
	if (rc)
		return rc;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		if (fwrite(buf, 1, n, f) != n)
			break;
	if (ferror(stdin) || ferror(f) || fclose(f)) {
		unlink(*path);
		free(*path);
		*path = NULL;
		return nd_seterr(ND_EIO, "-: cannot spool standard input: %s", strerror(errno));
	}
	return 0;
}

static int add_bad(nd_vdata *d, int src, size_t index, const char *msg)
{
	if (d->nbad >= ND_VALIDATE_MAX_BAD)
		return nd_seterr(ND_EPARSE, "%s: more than %d malformed records; the last: record %zu: %s",
				 d->display[src], ND_VALIDATE_MAX_BAD, index, msg);
	d->bad[d->nbad].src = src;
	d->bad[d->nbad].index = index;
	d->bad[d->nbad].msg = nd_strndup(msg, strlen(msg));
	if (!d->bad[d->nbad].msg)
		return nd_seterr(ND_ENOMEM, "out of memory");
	d->nbad++;
	return 0;
}

typedef struct {
	int src;
	size_t index;
	const char *p;
	size_t len;
	int dead;
} good_rec;

/* "…: record N (byte …): message" → N and the message. */
static int parse_record_error(const char *m, size_t *n, const char **msg)
{
	const char *r = strstr(m, ": record ");
	if (!r)
		return -1;
	char *end;
	unsigned long long v = strtoull(r + 9, &end, 10);
	if (end == r + 9)
		return -1;
	*n = (size_t)v;
	const char *c = strstr(end, "): ");
	*msg = c ? c + 3 : end;
	return 0;
}

static int write_array(const good_rec *g, size_t n, char **path)
{
	FILE *f;
	int rc = make_tmp(path, &f);
	if (rc)
		return rc;
	fputs("[\n", f);
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		if (g[i].dead)
			continue;
		if (!first)
			fputs(",\n", f);
		first = 0;
		fwrite(g[i].p, 1, g[i].len, f);
	}
	fputs("\n]\n", f);
	if (ferror(f) | fclose(f)) {
		unlink(*path);
		free(*path);
		*path = NULL;
		return nd_seterr(ND_EIO, "cannot write a temporary file in %s (disk full?)", tmpdir());
	}
	return 0;
}

static int slow_load(nd_vdata *d, const nd_vinput *in, const nd_load_opts *lo)
{
	nd_input *inp[3] = {NULL, NULL, NULL};
	good_rec *g = NULL;
	size_t ng = 0, cap = 0;
	char *tmp = NULL;
	int rc = 0;
	nd_input_opts io = lo->input;

	for (int s = 0; s < 3; s++) {
		if (!d->path[s])
			continue;
		if ((rc = nd_input_open(&inp[s], d->path[s], &io)))
			goto out;
		const char *data = nd_input_data(inp[s]);
		const nd_input_info *info = nd_input_info_get(inp[s]);
		nd_span sp;
		size_t pos = info->bom ? 3 : 0, line_no = 0;
		/* JSON Lines: one record per non-blank line, so a broken line is one bad record
		 * and not the end of the file */
		for (;;) {
			if (info->container == ND_CONTAINER_JSONL) {
				size_t end = pos;
				rc = 0;
				while (pos < info->size) {
					end = pos;
					while (end < info->size && data[end] != '\n')
						end++;
					size_t b = pos, e = end;
					while (b < e && (data[b] == ' ' || data[b] == '\t' || data[b] == '\r'))
						b++;
					while (e > b && (data[e - 1] == ' ' || data[e - 1] == '\t' || data[e - 1] == '\r'))
						e--;
					pos = end < info->size ? end + 1 : end;
					if (e > b) {
						sp.offset = b;
						sp.len = e - b;
						sp.index = line_no++;
						rc = 1;
						break;
					}
				}
			} else {
				rc = nd_input_next(inp[s], &sp);
			}
			if (rc != 1)
				break;
			d->src_records[s]++;
			if (s == 0 && in->exclude && sp.index < in->exclude_n && in->exclude[sp.index])
				continue;
			const char *p = data + sp.offset;
			size_t bad_at;
			char msg[160];
			msg[0] = 0;
			if (nd_utf8_validate(p, sp.len, &bad_at)) {
				snprintf(msg, sizeof msg, "invalid UTF-8 or NUL byte at byte %llu",
					 (unsigned long long)(sp.offset + bad_at));
			} else {
				const char *end = NULL;
				cJSON *j = cJSON_ParseWithLengthOpts(p, sp.len, &end, 0);
				if (!j)
					snprintf(msg, sizeof msg, "malformed JSON near byte %llu",
						 (unsigned long long)(sp.offset + (end ? (size_t)(end - p) : 0)));
				else if (!cJSON_IsObject(j))
					snprintf(msg, sizeof msg, "not a JSON object");
				cJSON_Delete(j);
			}
			if (msg[0]) {
				if ((rc = add_bad(d, s, sp.index, msg)))
					goto out;
				continue;
			}
			if (ng == cap) {
				size_t nc = cap ? cap * 2 : 1024;
				good_rec *ngp = nd_reallocarray(g, nc, sizeof *g);
				if (!ngp) {
					rc = nd_seterr(ND_ENOMEM, "out of memory");
					goto out;
				}
				g = ngp;
				cap = nc;
			}
			g[ng++] = (good_rec){s, sp.index, p, sp.len, 0};
		}
		if (rc < 0)
			goto out; /* structural: the file as a whole is broken */
		rc = 0;
	}
	for (;;) {
		size_t live = 0;
		for (size_t i = 0; i < ng; i++)
			live += !g[i].dead;
		if (live == 0) {
			if (d->nbad) /* name the first problem and where it is */
				rc = nd_seterr(ND_EEMPTY, "%s: no record is readable (%zu malformed; the first: record %zu: %s)",
					       d->display[d->bad[0].src], d->nbad, d->bad[0].index, d->bad[0].msg);
			else
				rc = nd_seterr(ND_EEMPTY, "%s: no record is readable", d->display[0]);
			goto out;
		}
		if ((rc = write_array(g, ng, &tmp)))
			goto out;
		rc = nd_dataset_load(&d->ds, tmp, lo);
		unlink(tmp);
		if (rc == 0)
			break;
		size_t k;
		const char *msg;
		if ((rc != ND_EPARSE && rc != ND_EFORMAT && rc != ND_EUTF8) || parse_record_error(nd_error_last(), &k, &msg))
			goto out;
		/* the k-th live record holds a field of the wrong type: set it aside, retry */
		size_t j = 0, i;
		for (i = 0; i < ng; i++)
			if (!g[i].dead && j++ == k)
				break;
		if (i == ng) {
			rc = nd_seterr(ND_EINTERNAL, "record %zu of the temporary array not found", k);
			goto out;
		}
		char m2[256];
		snprintf(m2, sizeof m2, "%s", msg);
		if ((rc = add_bad(d, g[i].src, g[i].index, m2)))
			goto out;
		g[i].dead = 1;
		free(tmp);
		tmp = NULL;
	}
	size_t n = nd_dataset_count(d->ds), j = 0;
	d->split = nd_malloc(n ? n : 1);
	d->orig = nd_reallocarray(NULL, n ? n : 1, sizeof *d->orig);
	if (!d->split || !d->orig) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ng; i++)
		if (!g[i].dead && j < n) {
			d->split[j] = (unsigned char)g[i].src;
			d->orig[j] = g[i].index;
			j++;
		}
	if (j != n)
		rc = nd_seterr(ND_EINTERNAL, "records read (%zu) differ from records written (%zu)", n, j);
out:
	free(tmp);
	free(g);
	for (int s = 0; s < 3; s++)
		nd_input_free(inp[s]);
	return rc;
}

/* An error about a stdin spool names "-", not the temporary file. */
static int unspool_message(const nd_vdata *d, int rc)
{
	if (rc == 0)
		return 0;
	for (int s = 0; s < 3; s++) {
		const char *m = nd_error_last(), *p;
		if (!d->spool[s] || !(p = strstr(m, d->spool[s])))
			continue;
		nd_buf b = {0};
		nd_buf_append(&b, m, (size_t)(p - m));
		nd_buf_append(&b, "-", 1);
		nd_buf_append(&b, p + strlen(d->spool[s]), strlen(p + strlen(d->spool[s])));
		if (b.data)
			nd_seterr(rc, "%s", b.data);
		nd_buf_free(&b);
	}
	return rc;
}

int nd_vdata_load(nd_vdata *d, const nd_vinput *in, const nd_load_opts *lo)
{
	int rc;
	memset(d, 0, sizeof *d);
	for (int s = 0; s < 3; s++) {
		d->display[s] = in->display[s] ? in->display[s] : in->path[s];
		d->path[s] = in->path[s];
		if (in->path[s] && !strcmp(in->path[s], "-")) {
			if ((rc = spool_stdin(&d->spool[s])))
				return rc;
			d->path[s] = d->spool[s];
		}
	}
	if (!in->split && !in->exclude) {
		rc = nd_dataset_load(&d->ds, d->path[0], lo);
		if (rc == 0 || (rc != ND_EPARSE && rc != ND_EFORMAT && rc != ND_EUTF8))
			return unspool_message(d, rc);
	}
	rc = slow_load(d, in, lo);
	return unspool_message(d, rc);
}

size_t nd_vdata_orig(const nd_vdata *d, size_t row)
{
	return d->orig ? d->orig[row] : row;
}

int nd_vdata_split(const nd_vdata *d, size_t row)
{
	return d->split ? d->split[row] : 0;
}

/* ---------------------------------------------------------------- report -- */

static const cJSON *member(const cJSON *o, const char *path)
{
	/* "a.b" */
	char key[64];
	const char *dot;
	while (o && (dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = 0;
		o = cJSON_GetObjectItemCaseSensitive(o, key);
		path = dot + 1;
	}
	return o ? cJSON_GetObjectItemCaseSensitive(o, path) : NULL;
}

static int need(const cJSON *root, const char *rp, const char *path, int type, const cJSON **out)
{
	const cJSON *m = member(root, path);
	int ok = m && ((type == 's' && cJSON_IsString(m)) || (type == 'n' && cJSON_IsNumber(m)) ||
		       (type == 'o' && cJSON_IsObject(m)) || (type == 'a' && cJSON_IsArray(m)) ||
		       (type == 'S' && (cJSON_IsString(m) || cJSON_IsNull(m))));
	if (!ok)
		return nd_seterr(ND_EFORMAT, "%s: member %s is %s: not a complete neardup dedup report", rp, path,
				 m ? "of the wrong type" : "missing");
	*out = m;
	return 0;
}

/* A path from the report: as given, else relative to the report's folder. */
static char *resolve(const char *rp, const char *p)
{
	struct stat st;
	if (p[0] == '/' || stat(p, &st) == 0)
		return nd_strndup(p, strlen(p));
	const char *slash = strrchr(rp, '/');
	if (!slash)
		return nd_strndup(p, strlen(p));
	nd_buf b = {0};
	if (nd_buf_append(&b, rp, (size_t)(slash - rp + 1)) || nd_buf_append(&b, p, strlen(p))) {
		nd_buf_free(&b);
		return NULL;
	}
	if (stat(b.data, &st) != 0) {
		nd_buf_free(&b);
		return nd_strndup(p, strlen(p));
	}
	return b.data;
}

static int check_input(const char *rp, const char *path, uint64_t size, const char *sha, char hex[65])
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	int rc = 0;
	if (fd < 0)
		return nd_seterr(ND_EIO, "%s: the input the report names, %s, cannot be opened (%s): was it moved or "
				 "deleted?", rp, path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = nd_seterr(ND_EIO, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size != size) {
		rc = nd_seterr(ND_EFORMAT, "%s: input changed since the report: %s is %llu bytes, the report says %llu",
			       rp, path, (unsigned long long)st.st_size, (unsigned long long)size);
		goto out;
	}
	void *m = NULL;
	if (st.st_size > 0) {
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			rc = nd_seterr(ND_EIO, "%s: cannot map: %s", path, strerror(errno));
			goto out;
		}
	}
	rc = nd_sha256(m ? m : "", (size_t)st.st_size, hex);
	if (m)
		munmap(m, (size_t)st.st_size);
	if (rc)
		goto out;
	if (strcmp(hex, sha))
		rc = nd_seterr(ND_EFORMAT, "%s: input changed since the report: the SHA-256 of %s is %.12s…, the report "
			       "says %.12s…", rp, path, hex, sha);
out:
	close(fd);
	return rc;
}

/* A JSON number usable as a size or count: whole, >= 0, exactly representable (so
 * the cast to size_t is defined). */
static int count_ok(const cJSON *x)
{
	return cJSON_IsNumber(x) && x->valuedouble >= 0 && x->valuedouble <= 9007199254740992.0 &&
	       x->valuedouble == floor(x->valuedouble);
}

static int hexok(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')))
			return 0;
	return i == 64;
}

void nd_vreport_free(nd_vreport *r)
{
	if (!r)
		return;
	free(r->input_path);
	free(r->output_path);
	free(r->exclude);
	free(r->text);
	cJSON_Delete(r->root);
	memset(r, 0, sizeof *r);
}

int nd_vreport_open(nd_vreport *r, const char *rp, nd_dedup_opts *dopts, int take_params)
{
	size_t len = 0;
	const cJSON *m = NULL, *in_path = NULL, *in_size = NULL, *in_sha = NULL, *in_rec = NULL, *out_path = NULL,
		    *out_rec = NULL, *params = NULL, *stats = NULL, *clusters = NULL;
	int rc;
	memset(r, 0, sizeof *r);
	if ((rc = nd_vslurp(rp, "report", &r->text, &len)))
		return rc;
	const char *end = NULL;
	r->root = cJSON_ParseWithLengthOpts(r->text, len + 1, &end, 1);
	if (!r->root)
		return nd_seterr(ND_EPARSE, "%s: the report is not valid JSON (near byte %zu of %zu): corrupt or truncated",
				 rp, end ? (size_t)(end - r->text) : (size_t)0, len);
	if ((rc = need(r->root, rp, "schema", 's', &m)))
		return rc;
	if (strcmp(m->valuestring, "neardup.report/1"))
		return nd_seterr(ND_EFORMAT, "%s: schema is \"%s\", expected \"neardup.report/1\"", rp, m->valuestring);
	if ((rc = need(r->root, rp, "input.path", 's', &in_path)) || (rc = need(r->root, rp, "input.size", 'n', &in_size)) ||
	    (rc = need(r->root, rp, "input.sha256", 's', &in_sha)) ||
	    (rc = need(r->root, rp, "input.records", 'n', &in_rec)) ||
	    (rc = need(r->root, rp, "output.path", 'S', &out_path)) ||
	    (rc = need(r->root, rp, "output.records", 'n', &out_rec)) || (rc = need(r->root, rp, "params", 'o', &params)) ||
	    (rc = need(r->root, rp, "params.threshold", 'n', &m)) || (rc = need(r->root, rp, "stats", 'o', &stats)) ||
	    (rc = need(r->root, rp, "stats.removed", 'n', &m)) || (rc = need(r->root, rp, "clusters", 'a', &clusters)))
		return rc;
	if (!hexok(in_sha->valuestring))
		return nd_seterr(ND_EFORMAT, "%s: input.sha256 is not 64 hex digits", rp);
	const cJSON *rem = member(r->root, "stats.removed"), *ncl = member(r->root, "stats.clusters"),
		    *ncf = member(r->root, "stats.conflicts.pairs");
	if (!count_ok(in_size) || !count_ok(in_rec) || !count_ok(out_rec) || !count_ok(rem) ||
	    (ncl && !count_ok(ncl)) || (ncf && !count_ok(ncf)))
		return nd_seterr(ND_EFORMAT, "%s: a size or count that is negative, fractional or above 2^53: not a "
				 "dedup report", rp);
	r->input_records = (size_t)in_rec->valuedouble;
	r->output_records = (size_t)out_rec->valuedouble;
	r->input_size = (uint64_t)in_size->valuedouble;
	r->removed = (size_t)rem->valuedouble;
	r->clusters = ncl ? (size_t)ncl->valuedouble : (size_t)cJSON_GetArraySize(clusters);
	r->conflicts = ncf ? (size_t)ncf->valuedouble : 0;
	snprintf(r->sha, sizeof r->sha, "%s", in_sha->valuestring);
	for (char *c = r->sha; *c; c++) /* compared with the lower-case digest */
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');

	/* the input must be the one the report was made from */
	if (strcmp(in_path->valuestring, "-")) {
		if (!(r->input_path = resolve(rp, in_path->valuestring)))
			return nd_seterr(ND_ENOMEM, "out of memory");
		char hex[65];
		if ((rc = check_input(rp, r->input_path, r->input_size, r->sha, hex)))
			return rc;
		r->input_checked = 1;
	}
	if (cJSON_IsString(out_path) && strcmp(out_path->valuestring, "-")) {
		if (!(r->output_path = resolve(rp, out_path->valuestring)))
			return nd_seterr(ND_ENOMEM, "out of memory");
		if (access(r->output_path, R_OK) != 0)
			return nd_seterr(ND_EIO, "%s: the output the report names, %s, cannot be read (%s): was it moved or "
					 "deleted?", rp, r->output_path, strerror(errno));
	} else {
		/* no output file: the input minus what the report removed */
		if (!r->input_path)
			return nd_seterr(ND_EFORMAT, "%s: the report read standard input and wrote no output file: there is "
					 "nothing to re-read; validate the data file itself", rp);
		r->exclude = nd_calloc(r->input_records ? r->input_records : 1, 1);
		if (!r->exclude)
			return nd_seterr(ND_ENOMEM, "out of memory");
		for (const cJSON *c = clusters->child; c; c = c->next) {
			const cJSON *kept = cJSON_GetObjectItemCaseSensitive(c, "kept");
			const cJSON *mem = cJSON_GetObjectItemCaseSensitive(c, "members");
			int dropped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "dropped"));
			if (!cJSON_IsNumber(kept) || !cJSON_IsArray(mem))
				return nd_seterr(ND_EFORMAT, "%s: a cluster without kept/members: not a dedup report", rp);
			for (const cJSON *x = mem->child; x; x = x->next) {
				const cJSON *ix = cJSON_GetObjectItemCaseSensitive(x, "index");
				if (!count_ok(ix) || !count_ok(kept) || ix->valuedouble >= (double)r->input_records)
					return nd_seterr(ND_EFORMAT, "%s: a cluster member index outside the input", rp);
				if (dropped || ix->valuedouble != kept->valuedouble)
					r->exclude[(size_t)ix->valuedouble] = 1;
			}
		}
	}
	if (take_params) {
		nd_lex_opts *l = &dopts->lex;
		l->threshold = member(r->root, "params.threshold")->valuedouble;
		if (!(l->threshold > 0 && l->threshold <= 1))
			return nd_seterr(ND_EFORMAT, "%s: params.threshold %g is outside (0, 1]", rp, l->threshold);
/* a parameter the report states must be one dedup could have used: absent is the
 * default, anything else out of range is a damaged report, not silently replaced */
#define NUM(path, dst, lo, hi, integral)                                                                \
	do {                                                                                            \
		const cJSON *x_ = member(r->root, path);                                                \
		if (!x_ || cJSON_IsNull(x_))                                                            \
			break;                                                                          \
		if (!cJSON_IsNumber(x_) || !(x_->valuedouble >= (lo) && x_->valuedouble <= (hi)) ||    \
		    ((integral) && x_->valuedouble != floor(x_->valuedouble)))                          \
			return nd_seterr(ND_EFORMAT, "%s: %s is not a%s number in [%g, %g]", rp, path,  \
					 (integral) ? "n integer" : "", (double)(lo), (double)(hi));    \
		dst = x_->valuedouble;                                                                  \
	} while (0)
		NUM("params.ngram", l->ngram, 1, 16, 1);
		NUM("params.num_perm", l->num_perm, 1, 4096, 1);
		NUM("params.seed", l->seed, 0, 1.8e19, 1);
		NUM("params.max_bucket", l->max_bucket, 0, 1e12, 1);
		NUM("params.simhash_bits", l->simhash_bits, 0, 16, 1);
		NUM("params.fp_weight", l->fp_weight, 0, 1e6, 0);
		NUM("params.fn_weight", l->fn_weight, 0, 1e6, 0);
		const cJSON *src = member(r->root, "params.bands_rows_source");
		if (cJSON_IsString(src) && !strcmp(src->valuestring, "given")) {
			NUM("params.bands", l->bands, 1, 4096, 1);
			NUM("params.rows", l->rows, 1, 4096, 1);
		}
#undef NUM
		const cJSON *meth = member(r->root, "params.method");
		if (cJSON_IsString(meth))
			l->method = !strcmp(meth->valuestring, "simhash") ? ND_LEX_SIMHASH : ND_LEX_MINHASH;
		const cJSON *gl = member(r->root, "params.guards");
		if (cJSON_IsArray(gl)) {
			dopts->guards = 0;
			for (const cJSON *x = gl->child; x; x = x->next)
				for (unsigned gb = 1; gb <= ND_GUARD_SWAP; gb <<= 1)
					if (cJSON_IsString(x) && !strcmp(x->valuestring, nd_guard_name(gb)))
						dopts->guards |= gb;
		}
	}
	return 0;
}
