/* Writing a split plan: the parts (as read, or as LLaMA-Factory alpaca / sharegpt from
 * exam-bank records through a template), dataset_info.json and the split.json manifest,
 * all staged in a temporary directory and moved into place at the end (docs/split.md). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "split_internal.h" /* internal.h first: jsonw.h uses nd_buf */
#include "jsonw.h"

const char *nd_emit_name(nd_emit_format f)
{
	return f == ND_EMIT_ALPACA ? "alpaca" : f == ND_EMIT_SHAREGPT ? "sharegpt" : "same";
}

int nd_emit_parse(nd_emit_format *out, const char *name)
{
	for (int f = ND_EMIT_SAME; f <= ND_EMIT_SHAREGPT; f++)
		if (name && !strcmp(name, nd_emit_name((nd_emit_format)f))) {
			*out = (nd_emit_format)f;
			return 0;
		}
	return nd_seterr(ND_EINVAL, "unknown emit format \"%s\" (same, alpaca, sharegpt)", name ? name : "");
}

/* -------------------------------------------------------------- template -- */

enum { T_SYSTEM, T_INSTRUCTION, T_INPUT, T_OUTPUT, T_OPTION, T_OPTION_SEP, T_JUDGE_TRUE, T_JUDGE_FALSE, T_ANSWER_SEP, T_N };

static const char *const tmpl_member[T_N] = {"system",     "instruction", "input",       "output",          "option",
					      "option_separator", "judge_true", "judge_false", "answer_separator"};

/* The built-in template: the usual shape of driving-exam SFT data. */
static const char *const tmpl_default[T_N] = {
	"",
	"请回答以下驾驶考试题目，并提供解释。",
	"题目：{stem}\n题型：{type}\n{options}",
	"正确答案是：{answer}\n解析：{explanation}",
	"选项{letter}：{text}",
	"\n",
	"正确",
	"错误",
	"",
};

typedef struct {
	char *s[T_N];
} tmpl;

enum { P_STEM, P_TYPE, P_TYPE_RAW, P_CATEGORY, P_OPTIONS, P_ANSWER, P_ANSWER_TEXT, P_EXPLANATION, P_ID, P_IMAGE,
       P_LETTER, P_TEXT, P_N };
static const char *const ph_name[P_N] = {"stem",   "type",        "type_raw",    "category", "options", "answer",
					 "answer_text", "explanation", "id", "image",  "letter",  "text"};

static int ph_lookup(const char *s, size_t n)
{
	for (int k = 0; k < P_N; k++)
		if (strlen(ph_name[k]) == n && !memcmp(ph_name[k], s, n))
			return k;
	return -1;
}

/* Checks the placeholders of member @m: {letter} and {text} belong to "option" only. */
static int tmpl_check_member(const char *path, int m, const char *s)
{
	for (const char *p = s; *p; p++) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			p++;
			continue;
		}
		if (*p == '}')
			return nd_seterr(ND_EINVAL, "template %s: member \"%s\": a lone '}' (write \"}}\")", path,
					 tmpl_member[m]);
		if (*p != '{')
			continue;
		const char *e = strchr(p, '}');
		if (!e)
			return nd_seterr(ND_EINVAL, "template %s: member \"%s\": '{' without '}' (write \"{{\")", path,
					 tmpl_member[m]);
		int k = ph_lookup(p + 1, (size_t)(e - p - 1));
		int option_only = k == P_LETTER || k == P_TEXT;
		if (k < 0 || option_only != (m == T_OPTION) ||
		    m == T_OPTION_SEP || m == T_JUDGE_TRUE || m == T_JUDGE_FALSE || m == T_ANSWER_SEP)
			return nd_seterr(ND_EINVAL, "template %s: member \"%s\": placeholder {%.*s} is not known here%s",
					 path, tmpl_member[m], (int)(e - p - 1), p + 1,
					 m == T_OPTION ? " (option takes {letter} and {text})"
						       : " (see docs/split.md for the placeholders)");
		p = e;
	}
	return 0;
}

static void tmpl_free(tmpl *t)
{
	for (int m = 0; m < T_N; m++)
		free(t->s[m]);
}

static int tmpl_load(tmpl *t, const char *path)
{
	FILE *f = NULL;
	char *data = NULL;
	cJSON *j = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	memset(t, 0, sizeof *t);
	if (path) {
		if (!(f = fopen(path, "rb")))
			return nd_seterr(ND_EIO, "template %s: %s", path, strerror(errno));
		for (;;) {
			if (len + 4096 + 1 > cap) {
				char *nd = realloc(data, cap = 2 * cap + 8192);
				if (!nd) {
					rc = nd_seterr(ND_ENOMEM, "out of memory");
					goto cleanup;
				}
				data = nd;
			}
			size_t got = fread(data + len, 1, 4096, f);
			len += got;
			if (got < 4096)
				break;
		}
		if (ferror(f)) {
			rc = nd_seterr(ND_EIO, "template %s: read error", path);
			goto cleanup;
		}
		data[len] = 0;
		if (!(j = cJSON_ParseWithLength(data, len)) || !cJSON_IsObject(j)) {
			rc = nd_seterr(ND_EINVAL, "template %s: not a JSON object", path);
			goto cleanup;
		}
		for (cJSON *it = j->child; it; it = it->next) {
			int m;
			for (m = 0; m < T_N; m++)
				if (it->string && !strcmp(it->string, tmpl_member[m]))
					break;
			if (m == T_N) {
				rc = nd_seterr(ND_EINVAL, "template %s: unknown member \"%s\" (system, instruction, input, "
							  "output, option, option_separator, judge_true, judge_false, "
							  "answer_separator)", path, it->string ? it->string : "");
				goto cleanup;
			}
			if (!cJSON_IsString(it)) {
				rc = nd_seterr(ND_EINVAL, "template %s: member \"%s\" is not a string", path, it->string);
				goto cleanup;
			}
			free(t->s[m]);
			if (!(t->s[m] = strdup(it->valuestring))) {
				rc = nd_seterr(ND_ENOMEM, "out of memory");
				goto cleanup;
			}
		}
	}
	for (int m = 0; m < T_N && !rc; m++) {
		if (!t->s[m] && !(t->s[m] = strdup(tmpl_default[m])))
			rc = nd_seterr(ND_ENOMEM, "out of memory");
		else
			rc = tmpl_check_member(path ? path : "(built-in)", m, t->s[m]);
	}
cleanup:
	if (f)
		fclose(f);
	free(data);
	cJSON_Delete(j);
	if (rc)
		tmpl_free(t);
	return rc;
}

int nd_emit_template_check(const char *path)
{
	tmpl t;
	int rc = tmpl_load(&t, path);
	if (!rc)
		tmpl_free(&t);
	return rc;
}

/* The values of one record's placeholders. */
typedef struct {
	const char *v[P_N];
	nd_buf options, answer, answer_text;
} rvals;

/* Expands @s into @out. A line holding placeholders that all expand to "" is left
 * out with its line break ("题型：{type}" for a record without a type). */
static int expand(nd_buf *out, const char *s, const rvals *rv)
{
	nd_buf line = {0};
	int rc = 0, first = 1;
	const char *p = s;
	while (!rc) {
		size_t nph = 0, full = 0;
		line.len = 0;
		if (line.data)
			line.data[0] = 0;
		for (; *p && *p != '\n' && !rc; p++) {
			if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
				rc = nd_buf_putc(&line, *p++);
			} else if (*p == '{') {
				const char *e = strchr(p, '}');
				int k = ph_lookup(p + 1, (size_t)(e - p - 1)); /* checked at load */
				const char *v = k >= 0 && rv->v[k] ? rv->v[k] : "";
				nph++;
				full += *v != 0;
				rc = nd_buf_append(&line, v, strlen(v));
				p = e;
			} else {
				rc = nd_buf_putc(&line, *p);
			}
		}
		if (!rc && !(nph && !full)) {
			if (!first)
				rc = nd_buf_putc(out, '\n');
			if (!rc)
				rc = nd_buf_append(out, line.data ? line.data : "", line.len);
			first = 0;
		}
		if (!*p)
			break;
		p++; /* the '\n' */
	}
	nd_buf_free(&line);
	if (!rc)
		rc = nd_buf_append(out, "", 0); /* data is a C string even when nothing was kept */
	return rc ? nd_seterr(ND_ENOMEM, "out of memory") : 0;
}

static int record_values(rvals *rv, const nd_record *r, const tmpl *t)
{
	int rc = 0;
	size_t correct = 0;
	memset(rv->v, 0, sizeof rv->v);
	rv->options.len = rv->answer.len = rv->answer_text.len = 0;
	rc |= nd_buf_reserve(&rv->options, 0) | nd_buf_reserve(&rv->answer, 0) | nd_buf_reserve(&rv->answer_text, 0);
	if (rc)
		return nd_seterr(ND_ENOMEM, "out of memory");
	rv->options.data[0] = rv->answer.data[0] = rv->answer_text.data[0] = 0;
	rv->v[P_STEM] = r->stem;
	rv->v[P_TYPE_RAW] = r->type;
	rv->v[P_CATEGORY] = r->category;
	rv->v[P_EXPLANATION] = r->explanation;
	rv->v[P_ID] = r->id;
	rv->v[P_IMAGE] = r->image;
	for (size_t i = 0; i < r->n_options && !rc; i++) {
		rvals ov;
		char letter[2] = {(char)('A' + i), 0};
		memset(&ov, 0, sizeof ov);
		ov.v[P_LETTER] = letter;
		ov.v[P_TEXT] = r->options[i];
		if (i)
			rc = nd_buf_append(&rv->options, t->s[T_OPTION_SEP], strlen(t->s[T_OPTION_SEP]));
		if (!rc)
			rc = expand(&rv->options, t->s[T_OPTION], &ov);
		if (!rc && r->answer_kind == ND_ANSWER_CHOICE && (r->answer_mask >> i & 1)) {
			if (correct)
				rc = nd_buf_append(&rv->answer, t->s[T_ANSWER_SEP], strlen(t->s[T_ANSWER_SEP])) ||
				     nd_buf_append(&rv->answer_text, "；", strlen("；"));
			rc = rc || nd_buf_putc(&rv->answer, letter[0]) ||
			     nd_buf_append(&rv->answer_text, r->options[i], strlen(r->options[i]));
			correct++;
		}
	}
	if (rc)
		return nd_seterr(ND_ENOMEM, "out of memory");
	rv->v[P_OPTIONS] = rv->options.data;
	switch (r->answer_kind) {
	case ND_ANSWER_JUDGE:
		rv->v[P_TYPE] = "判断题";
		rv->v[P_ANSWER] = rv->v[P_ANSWER_TEXT] = r->judge_value ? t->s[T_JUDGE_TRUE] : t->s[T_JUDGE_FALSE];
		break;
	case ND_ANSWER_CHOICE:
		rv->v[P_TYPE] = correct > 1 ? "多选题" : "单选题";
		rv->v[P_ANSWER] = rv->answer.data;
		rv->v[P_ANSWER_TEXT] = rv->answer_text.data;
		break;
	case ND_ANSWER_TEXT:
		rv->v[P_TYPE] = r->type;
		rv->v[P_ANSWER] = rv->v[P_ANSWER_TEXT] = r->answer_text;
		break;
	default:
		rv->v[P_TYPE] = r->type;
		break;
	}
	return 0;
}

static void rvals_free(rvals *rv)
{
	nd_buf_free(&rv->options);
	nd_buf_free(&rv->answer);
	nd_buf_free(&rv->answer_text);
}

/* One part as an alpaca or sharegpt JSON array. *no_answer counts records emitted
 * without an answer. */
static int write_chat(const nd_split_plan *p, const nd_dataset *ds, int part, nd_emit_format emit, const tmpl *t,
		      const char *path, size_t *no_answer)
{
	nd_outfile *f = NULL;
	nd_buf ins = {0}, inp = {0}, outp = {0}, user = {0};
	rvals rv;
	nd_jw w;
	int rc;

	memset(&rv, 0, sizeof rv);
	if ((rc = nd_outfile_open(&f, path)))
		return rc;
	nd_jw_init(&w, f, 1);
	nd_jw_array(&w);
	for (size_t i = 0; i < p->n && !rc; i++) {
		if (p->part_of[i] != part)
			continue;
		if (nd_interrupted()) {
			rc = nd_seterr(ND_EINTR, "interrupted");
			break;
		}
		const nd_record *r = nd_dataset_record(ds, i);
		ins.len = inp.len = outp.len = user.len = 0;
		if ((rc = record_values(&rv, r, t)) || (rc = expand(&ins, t->s[T_INSTRUCTION], &rv)) ||
		    (rc = expand(&inp, t->s[T_INPUT], &rv)) || (rc = expand(&outp, t->s[T_OUTPUT], &rv)))
			break;
		if (!rv.v[P_ANSWER] || !*rv.v[P_ANSWER])
			++*no_answer;
		nd_jw_object(&w);
		if (emit == ND_EMIT_ALPACA) {
			nd_jw_key(&w, "instruction");
			nd_jw_strn(&w, ins.data, ins.len);
			nd_jw_key(&w, "input");
			nd_jw_strn(&w, inp.data, inp.len);
			nd_jw_key(&w, "output");
			nd_jw_strn(&w, outp.data, outp.len);
		} else {
			/* the user turn is what LLaMA-Factory builds from alpaca: instruction "\n" input */
			if (nd_buf_append(&user, ins.data, ins.len) || (ins.len && inp.len && nd_buf_putc(&user, '\n')) ||
			    nd_buf_append(&user, inp.data, inp.len)) {
				rc = nd_seterr(ND_ENOMEM, "out of memory");
				break;
			}
			nd_jw_key(&w, "conversations");
			nd_jw_array(&w);
			nd_jw_object(&w);
			nd_jw_key(&w, "from");
			nd_jw_str(&w, "human");
			nd_jw_key(&w, "value");
			nd_jw_strn(&w, user.data ? user.data : "", user.len);
			nd_jw_end(&w);
			nd_jw_object(&w);
			nd_jw_key(&w, "from");
			nd_jw_str(&w, "gpt");
			nd_jw_key(&w, "value");
			nd_jw_strn(&w, outp.data, outp.len);
			nd_jw_end(&w);
			nd_jw_end(&w);
		}
		if (*t->s[T_SYSTEM]) {
			nd_buf sys = {0};
			if ((rc = expand(&sys, t->s[T_SYSTEM], &rv)))
				break;
			nd_jw_key(&w, "system");
			nd_jw_strn(&w, sys.data, sys.len);
			nd_buf_free(&sys);
		}
		nd_jw_end(&w);
	}
	if (!rc) {
		nd_jw_end(&w);
		rc = nd_jw_finish(&w);
	}
	if (rc)
		nd_outfile_abort(f);
	else
		rc = nd_outfile_commit(f); /* frees f, and removes the temporary on failure */
	rvals_free(&rv);
	nd_buf_free(&ins);
	nd_buf_free(&inp);
	nd_buf_free(&outp);
	nd_buf_free(&user);
	return rc;
}

/* ---------------------------------------------------------- the manifests -- */

static int write_dataset_info(const nd_split_plan *p, nd_emit_format emit, const tmpl *t, const char *path)
{
	nd_outfile *f;
	nd_jw w;
	int rc;
	if ((rc = nd_outfile_open(&f, path)))
		return rc;
	nd_jw_init(&w, f, 1);
	nd_jw_object(&w);
	for (size_t k = 0; k < p->nparts; k++) {
		char file[ND_SPLIT_NAME_MAX + 8];
		snprintf(file, sizeof file, "%s.json", p->parts[k].name);
		nd_jw_key(&w, p->parts[k].name);
		nd_jw_object(&w);
		nd_jw_key(&w, "file_name");
		nd_jw_str(&w, file);
		nd_jw_key(&w, "formatting");
		nd_jw_str(&w, nd_emit_name(emit));
		nd_jw_key(&w, "columns");
		nd_jw_object(&w);
		if (emit == ND_EMIT_ALPACA) {
			nd_jw_key(&w, "prompt");
			nd_jw_str(&w, "instruction");
			nd_jw_key(&w, "query");
			nd_jw_str(&w, "input");
			nd_jw_key(&w, "response");
			nd_jw_str(&w, "output");
		} else {
			nd_jw_key(&w, "messages");
			nd_jw_str(&w, "conversations");
		}
		if (*t->s[T_SYSTEM]) {
			nd_jw_key(&w, "system");
			nd_jw_str(&w, "system");
		}
		nd_jw_end(&w);
		if (emit == ND_EMIT_SHAREGPT) {
			nd_jw_key(&w, "tags");
			nd_jw_object(&w);
			nd_jw_key(&w, "role_tag");
			nd_jw_str(&w, "from");
			nd_jw_key(&w, "content_tag");
			nd_jw_str(&w, "value");
			nd_jw_key(&w, "user_tag");
			nd_jw_str(&w, "human");
			nd_jw_key(&w, "assistant_tag");
			nd_jw_str(&w, "gpt");
			nd_jw_end(&w);
		}
		nd_jw_end(&w);
	}
	nd_jw_end(&w);
	return nd_jw_commit(&w, f);
}

static int write_manifest(const nd_split_plan *p, const nd_dataset *ds, nd_emit_format emit, const char *ext,
			  size_t no_answer, const char *path)
{
	const nd_split_stats *st = &p->stats;
	nd_outfile *f;
	nd_jw w;
	int rc;
	if ((rc = nd_outfile_open(&f, path)))
		return rc;
	nd_jw_init(&w, f, 1);
	nd_jw_object(&w);
	nd_jw_header(&w, "neardup.split/1", "neardup dedup", nd_version());
	nd_jw_key(&w, "input");
	nd_jw_object(&w);
	nd_jw_key(&w, "path");
	nd_jw_str(&w, nd_dataset_input(ds)->path);
	nd_jw_key(&w, "records");
	nd_jw_uint(&w, nd_dataset_count(ds));
	nd_jw_key(&w, "preset");
	nd_jw_str(&w, nd_preset_name(nd_dataset_preset(ds)));
	nd_jw_end(&w);
	nd_jw_key(&w, "params");
	nd_jw_object(&w);
	nd_jw_key(&w, "seed");
	nd_jw_uint(&w, p->opts.seed);
	nd_jw_key(&w, "group_variants");
	nd_jw_bool(&w, p->opts.group_variants);
	nd_jw_key(&w, "near_threshold");
	nd_jw_num(&w, p->opts.near_threshold, 4);
	nd_jw_key(&w, "ngram");
	nd_jw_uint(&w, p->opts.ngram);
	nd_jw_key(&w, "stratify");
	nd_jw_bool(&w, p->opts.stratify);
	nd_jw_key(&w, "emit");
	nd_jw_str(&w, nd_emit_name(emit));
	nd_jw_end(&w);
	nd_jw_key(&w, "parts");
	nd_jw_array(&w);
	for (size_t k = 0; k < p->nparts; k++) {
		char file[ND_SPLIT_NAME_MAX + 8];
		snprintf(file, sizeof file, "%s%s", p->parts[k].name, ext);
		nd_jw_object(&w);
		nd_jw_key(&w, "name");
		nd_jw_str(&w, p->parts[k].name);
		nd_jw_key(&w, "file");
		nd_jw_str(&w, file);
		nd_jw_key(&w, "ratio");
		nd_jw_num(&w, p->parts[k].ratio, 6);
		nd_jw_key(&w, "achieved");
		nd_jw_num(&w, p->parts[k].achieved, 6);
		nd_jw_key(&w, "records");
		nd_jw_uint(&w, p->parts[k].records);
		nd_jw_key(&w, "groups");
		nd_jw_uint(&w, p->parts[k].groups);
		nd_jw_end(&w);
	}
	nd_jw_end(&w);
	nd_jw_key(&w, "stats");
	nd_jw_object(&w);
	nd_jw_key(&w, "records");
	nd_jw_uint(&w, st->records);
	nd_jw_key(&w, "groups");
	nd_jw_uint(&w, st->groups);
	nd_jw_key(&w, "multi_groups");
	nd_jw_uint(&w, st->multi_groups);
	nd_jw_key(&w, "largest_group");
	nd_jw_uint(&w, st->largest_group);
	nd_jw_key(&w, "joined");
	nd_jw_object(&w);
	nd_jw_key(&w, "conflict");
	nd_jw_uint(&w, st->joined_conflict);
	nd_jw_key(&w, "variant");
	nd_jw_uint(&w, st->joined_variant);
	nd_jw_key(&w, "near");
	nd_jw_uint(&w, st->joined_near);
	nd_jw_end(&w);
	nd_jw_key(&w, "near_pairs");
	nd_jw_uint(&w, st->near_pairs);
	nd_jw_key(&w, "strata");
	nd_jw_uint(&w, st->strata);
	nd_jw_key(&w, "max_deviation");
	nd_jw_num(&w, st->max_deviation, 6);
	nd_jw_key(&w, "max_stratum_deviation");
	nd_jw_num(&w, st->max_stratum_deviation, 6);
	nd_jw_key(&w, "records_without_answer");
	nd_jw_uint(&w, no_answer);
	nd_jw_end(&w);
	nd_jw_key(&w, "strata");
	nd_jw_array(&w);
	for (size_t s = 0; s < p->nstrata; s++) {
		nd_jw_object(&w);
		nd_jw_key(&w, "type");
		nd_jw_str(&w, p->strata[s].type);
		nd_jw_key(&w, "category");
		nd_jw_str(&w, p->strata[s].category);
		nd_jw_key(&w, "records");
		nd_jw_uint(&w, p->strata[s].records);
		nd_jw_key(&w, "parts");
		nd_jw_object(&w);
		for (size_t k = 0; k < p->nparts; k++) {
			nd_jw_key(&w, p->parts[k].name);
			nd_jw_uint(&w, p->strata[s].per_part[k]);
		}
		nd_jw_end(&w);
		nd_jw_end(&w);
	}
	nd_jw_end(&w);
	nd_jw_end(&w);
	return nd_jw_commit(&w, f);
}

/* ---------------------------------------------------------- the directory -- */

/* @dir without trailing slashes (malloc'd), or NULL. */
static char *clean_dir(const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return nd_strndup(dir, n);
}

int nd_split_dir_check(const char *dir, int force)
{
	struct stat sb;
	char *d, *slash;
	int rc = 0;
	if (!dir || !*dir)
		return nd_seterr(ND_EINVAL, "no output directory given");
	if (!(d = clean_dir(dir)))
		return nd_seterr(ND_ENOMEM, "out of memory");
	if (stat(d, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			rc = nd_seterr(ND_EINVAL, "%s exists and is not a directory", d);
		else if (!force)
			rc = nd_seterr(ND_EINVAL, "output directory %s exists: pass --force to write the parts into it", d);
	} else if (errno != ENOENT) {
		rc = nd_seterr(ND_EIO, "%s: %s", d, strerror(errno));
	} else {
		slash = strrchr(d, '/');
		if (slash) {
			*(slash == d ? slash + 1 : slash) = 0;
			if (stat(d, &sb) != 0 || !S_ISDIR(sb.st_mode))
				rc = nd_seterr(ND_EIO, "cannot create %s: directory %s does not exist", dir, d);
		}
	}
	free(d);
	return rc;
}

/* mkdir "<base>.tmp.XXXXXX" (or "<base>/.split.tmp.XXXXXX") with the process umask
 * (mkdtemp would make it 0700, and the renamed directory would keep that). */
static char *make_staging(const char *base, int inside)
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t x = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)base;
	size_t n = strlen(base) + 24;
	char *s = nd_malloc(n);
	if (!s)
		return NULL;
	for (int tries = 0; tries < 100; tries++) {
		char suf[7];
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		for (int i = 0; i < 6; i++)
			suf[i] = digits[(x >> (10 + 6 * i)) % 36];
		suf[6] = 0;
		snprintf(s, n, inside ? "%s/.split.tmp.%s" : "%s.tmp.%s", base, suf);
		if (mkdir(s, 0777) == 0)
			return s;
		if (errno != EEXIST)
			break;
	}
	nd_seterr(ND_EIO, "cannot create a staging directory %s: %s", s, strerror(errno));
	free(s);
	return NULL;
}

#define MAX_FILES (ND_SPLIT_MAX_PARTS + 2)

static int path_in(char *buf, size_t n, const char *dir, const char *file)
{
	if ((size_t)snprintf(buf, n, "%s/%s", dir, file) >= n)
		return nd_seterr(ND_ELIMIT, "path too long: %s/%s", dir, file);
	return 0;
}

/* The files a split writes in @d must not include its input (with --force, an
 * input named train.jsonl inside the output directory would be replaced). */
static int refuse_input_in(const char *d, const nd_dataset *ds, const nd_split_plan *p, const char *ext)
{
	const char *in = nd_dataset_input(ds)->path;
	struct stat is, os;
	char path[4096];
	if (!in || !strcmp(in, "-") || stat(in, &is) != 0)
		return 0;
	for (size_t k = 0; k < p->nparts + 2; k++) {
		if (k < p->nparts)
			snprintf(path, sizeof path, "%s/%s%s", d, p->parts[k].name, ext);
		else
			snprintf(path, sizeof path, "%s/%s", d, k == p->nparts ? "dataset_info.json" : "split.json");
		if (stat(path, &os) == 0 && os.st_dev == is.st_dev && os.st_ino == is.st_ino)
			return nd_seterr(ND_EINVAL, "%s is the input %s: a split never overwrites its input", path, in);
	}
	return 0;
}

int nd_split_write(const nd_split_plan *p, const nd_dataset *ds, const char *dir, const nd_split_write_opts *opts)
{
	nd_split_write_opts o = ND_SPLIT_WRITE_OPTS_INIT;
	char *d = NULL, *stage = NULL, *path = NULL;
	char files[MAX_FILES][ND_SPLIT_NAME_MAX + 24];
	size_t nfiles = 0, plen, no_answer = 0;
	unsigned char *mask = NULL;
	const char *ext = ".json";
	int rc = 0, exists = 0, have_tmpl = 0;
	struct stat sb;
	tmpl t;

	if (!p || !ds || !dir)
		return nd_seterr(ND_EINVAL, "nd_split_write: NULL argument");
	if (opts)
		o = *opts;
	if (o.version != ND_SPLIT_WRITE_OPTS_VERSION)
		return nd_seterr(ND_EINVAL, "nd_split_write_opts version %u, expected %d", o.version,
				 ND_SPLIT_WRITE_OPTS_VERSION);
	if (p->n != nd_dataset_count(ds))
		return nd_seterr(ND_EINVAL, "nd_split_write: the plan is for %zu records, the dataset has %zu", p->n,
				 nd_dataset_count(ds));
	if (o.emit != ND_EMIT_SAME) {
		nd_preset pr = nd_dataset_preset(ds);
		if (pr != ND_PRESET_EXAM && pr != ND_PRESET_FIELDS)
			return nd_seterr(ND_EINVAL, "--emit %s builds prompts from exam-bank records (preset exam or "
						    "fields); these are %s records: use --emit same",
					 nd_emit_name(o.emit), nd_preset_name(pr));
		if ((rc = tmpl_load(&t, o.template_path)))
			return rc;
		have_tmpl = 1;
	} else if (nd_dataset_input(ds)->container == ND_CONTAINER_JSONL) {
		ext = ".jsonl";
	}
	if ((rc = nd_split_dir_check(dir, o.force)))
		goto cleanup;
	if (!(d = clean_dir(dir))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto cleanup;
	}
	exists = stat(d, &sb) == 0;
	if (exists && (rc = refuse_input_in(d, ds, p, ext)))
		goto cleanup;
	if (!(stage = make_staging(d, exists))) {
		rc = ND_EIO;
		goto cleanup;
	}
	plen = strlen(d) + strlen(stage) + 2 * ND_SPLIT_NAME_MAX + 64;
	if (!(path = nd_malloc(plen)) || !(mask = nd_calloc(p->n, 1))) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto cleanup;
	}

	for (size_t k = 0; k < p->nparts && !rc; k++) {
		if (nd_interrupted()) {
			rc = nd_seterr(ND_EINTR, "interrupted");
			break;
		}
		snprintf(files[nfiles], sizeof files[0], "%s%s", p->parts[k].name, ext);
		if ((rc = path_in(path, plen, stage, files[nfiles])))
			break;
		nfiles++;
		if (o.emit == ND_EMIT_SAME) {
			for (size_t i = 0; i < p->n; i++)
				mask[i] = p->part_of[i] == (int)k;
			rc = nd_dataset_write(ds, path, mask);
		} else {
			rc = write_chat(p, ds, (int)k, o.emit, &t, path, &no_answer);
		}
	}
	if (!rc && o.emit != ND_EMIT_SAME) {
		snprintf(files[nfiles], sizeof files[0], "dataset_info.json");
		if (!(rc = path_in(path, plen, stage, files[nfiles++])))
			rc = write_dataset_info(p, o.emit, &t, path);
	}
	if (!rc) {
		snprintf(files[nfiles], sizeof files[0], "split.json");
		if (!(rc = path_in(path, plen, stage, files[nfiles++])))
			rc = write_manifest(p, ds, o.emit, ext, no_answer, path);
	}
	if (!rc && nd_interrupted())
		rc = nd_seterr(ND_EINTR, "interrupted");
	if (rc)
		goto cleanup;

	/* everything is complete: move it into place */
	if (!exists) {
		if (rename(stage, d) != 0) {
			rc = nd_seterr(ND_EIO, "cannot rename %s to %s: %s", stage, d, strerror(errno));
			goto cleanup;
		}
		free(stage);
		stage = NULL;
	} else {
		char *to = nd_malloc(plen);
		if (!to) {
			rc = nd_seterr(ND_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t k = 0; k < nfiles && !rc; k++) {
			if (!(rc = path_in(path, plen, stage, files[k])) && !(rc = path_in(to, plen, d, files[k])) &&
			    rename(path, to) != 0)
				rc = nd_seterr(ND_EIO, "cannot rename %s to %s: %s", path, to, strerror(errno));
		}
		/* an earlier run's dataset_info.json would describe files this run replaced */
		if (!rc && o.emit == ND_EMIT_SAME && !path_in(to, plen, d, "dataset_info.json") && unlink(to) != 0 &&
		    errno != ENOENT)
			rc = nd_seterr(ND_EIO, "cannot remove the stale %s: %s", to, strerror(errno));
		free(to);
		if (rc)
			goto cleanup;
	}
cleanup:
	if (stage) {
		/* a failure (or, with force, the emptied staging directory): nothing of it stays */
		for (size_t k = 0; path && k < nfiles; k++)
			if (!path_in(path, plen, stage, files[k]))
				unlink(path);
		rmdir(stage);
	}
	if (have_tmpl)
		tmpl_free(&t);
	free(stage);
	free(path);
	free(mask);
	free(d);
	return rc;
}
