/* Field mapping: from one parsed JSON record to the common view nd_record.
 * Presets know the field names real datasets use; --fields names them explicitly.
 * Answers are parsed into option indices or a judge value so that later stages
 * compare them as option text, whatever the letters or encodings. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mapping_internal.h"

/* Field aliases of the exam-bank preset, in priority order. */
static const char *const STEM_KEYS[] = {"question", "stem", "题目", "title", NULL};
static const char *const OPTIONS_KEYS[] = {"options", "choose", "choices", "选项", NULL};
static const char *const ANSWER_KEYS[] = {"answer", "answers", "correct_answer", "答案", "ans", NULL};
static const char *const EXPL_KEYS[] = {"explanation", "explains", "explain", "analysis", "bestanswer",
					"解析", NULL};
static const char *const IMAGE_KEYS[] = {"image", "url", "pic", "imageurl", "image_url", "img", NULL};
static const char *const ID_KEYS[] = {"id", "qid", "question_id", "_id", "uid", NULL};
static const char *const TYPE_KEYS[] = {"type", "question_type", "题型", NULL};
static const char *const CATEGORY_KEYS[] = {"category", "chapter", "section", NULL};

enum { F_STEM, F_OPTIONS, F_ANSWER, F_EXPL, F_IMAGE, F_ID, F_TYPE, F_CATEGORY, F_NFIELDS };
static const char *const FIELD_NAMES[F_NFIELDS] = {"stem", "options", "answer", "explanation",
						    "image", "id", "type", "category"};

/* ------------------------------------------------------------ helpers -- */

static const cJSON *get_key(const cJSON *obj, const char *key)
{
	for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next)
		if (c->string && c->string[0] == key[0] && strcmp(c->string, key) == 0)
			return c;
	return NULL;
}

static const cJSON *get_any(const cJSON *obj, const char *const *keys, const char **used)
{
	for (; *keys; keys++) {
		const cJSON *v = get_key(obj, *keys);
		if (v) {
			if (used)
				*used = *keys;
			return v;
		}
	}
	return NULL;
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsBool(v)) return "a boolean";
	if (cJSON_IsNull(v)) return "null";
	if (cJSON_IsArray(v)) return "an array";
	if (cJSON_IsObject(v)) return "an object";
	return "invalid";
}

static void trim(const char **s, size_t *n)
{
	const unsigned char *p = (const unsigned char *)*s;
	size_t len = *n;
	for (;;) {
		if (len && (isspace(p[0]))) {
			p++, len--;
		} else if (len >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) { /* U+3000 */
			p += 3, len -= 3;
		} else {
			break;
		}
	}
	for (;;) {
		if (len && isspace(p[len - 1]))
			len--;
		else if (len >= 3 && p[len - 3] == 0xE3 && p[len - 2] == 0x80 && p[len - 1] == 0x80)
			len -= 3;
		else
			break;
	}
	*s = (const char *)p;
	*n = len;
}

static char *arena_trimmed(nd_arena *a, const char *s, size_t n)
{
	trim(&s, &n);
	return nd_arena_strndup(a, s, n);
}

/* A string field: strings are copied trimmed, numbers printed (ids), null/absent give
 * NULL, an empty string gives NULL; other types are an error naming the field. */
static int field_string(const cJSON *v, const char *field, int allow_number, nd_arena *a, const char **out)
{
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		size_t n = strlen(s);
		trim(&s, &n);
		if (n == 0)
			return 0;
		if (!(*out = nd_arena_strndup(a, s, n)))
			return nd_seterr(ND_ENOMEM, "out of memory");
		return 0;
	}
	if (allow_number && cJSON_IsNumber(v)) {
		char buf[64];
		double d = v->valuedouble;
		if (d < 9e15 && d > -9e15 && d == (double)(long long)d) { /* range first: the cast of 6e47 is UB */
			/* "%lld" by hand: a numeric id on each of a million records */
			long long x = (long long)d;
			char *e = buf + sizeof buf - 1, *p;
			*e = '\0';
			p = nd_utoa_end(x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x, e);
			if (x < 0)
				*--p = '-';
			memmove(buf, p, (size_t)(e - p) + 1);
		} else
			snprintf(buf, sizeof buf, "%.17g", d);
		if (!(*out = nd_arena_strndup(a, buf, strlen(buf))))
			return nd_seterr(ND_ENOMEM, "out of memory");
		return 0;
	}
	return nd_seterr(ND_EFORMAT, "field \"%s\" is %s, expected a string", field, type_name(v));
}

/* Text or a list of texts (explanations are often lists): joined by newlines. */
static int field_text_or_list(const cJSON *v, const char *field, nd_arena *a, const char **out)
{
	nd_buf b = {0};
	*out = NULL;
	if (!v || !cJSON_IsArray(v))
		return field_string(v, field, 1, a, out);
	for (const cJSON *c = v->child; c; c = c->next) {
		if (cJSON_IsNull(c))
			continue;
		if (!cJSON_IsString(c)) {
			nd_buf_free(&b);
			return nd_seterr(ND_EFORMAT, "field \"%s\" holds %s, expected strings", field,
					 type_name(c));
		}
		const char *s = c->valuestring;
		size_t n = strlen(s);
		trim(&s, &n);
		if (!n)
			continue;
		if ((b.len && nd_buf_putc(&b, '\n')) || nd_buf_append(&b, s, n)) {
			nd_buf_free(&b);
			return ND_ENOMEM;
		}
	}
	if (b.len && !(*out = nd_arena_strndup(a, b.data, b.len))) {
		nd_buf_free(&b);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	nd_buf_free(&b);
	return 0;
}

/* ------------------------------------------------------------- options -- */

/* Reads a full-width or ASCII letter A-Z at s; returns 0-25 and its byte length. */
static int read_letter(const unsigned char *s, size_t n, size_t *len)
{
	if (n >= 1 && s[0] >= 'A' && s[0] <= 'Z') {
		*len = 1;
		return s[0] - 'A';
	}
	if (n >= 1 && s[0] >= 'a' && s[0] <= 'z') {
		*len = 1;
		return s[0] - 'a' + 100; /* lower case: a label only when followed by punctuation */
	}
	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBC && s[2] >= 0xA1 && s[2] <= 0xBA) { /* Ａ-Ｚ */
		*len = 3;
		return s[2] - 0xA1;
	}
	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBD && s[2] >= 0x81 && s[2] <= 0x9A) { /* ａ-ｚ */
		*len = 3;
		return s[2] - 0x81 + 100;
	}
	return -1;
}

/* Label separators: 、 . ． : ： ) ） (ASCII or full width). Returns byte length or 0. */
static size_t label_sep(const unsigned char *s, size_t n)
{
	if (n >= 1 && (s[0] == '.' || s[0] == ':' || s[0] == ')' || s[0] == ']'))
		return 1;
	if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x81) return 3; /* 、 */
	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBC &&
	    (s[2] == 0x8E || s[2] == 0x9A || s[2] == 0x89)) return 3; /* ． ： ） */
	if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x91) return 3; /* 】 */
	return 0;
}

/* If text starts with an option label ("A、", "(B)", "C.", "Ｄ：", "【A】"), returns the
 * label's index and sets *skip to the bytes to drop; otherwise -1. A bare letter
 * followed by a space counts only when it is the expected label @expect (so an
 * English option "A car" is not mangled). */
static int option_label(const char *text, size_t n, int expect, size_t *skip)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t p = 0, l, q;
	int open = 0;
	if (n >= 1 && (s[0] == '(' || s[0] == '[')) {
		p = 1;
		open = 1;
	} else if (n >= 3 && s[0] == 0xEF && s[1] == 0xBC && s[2] == 0x88) { /* （ */
		p = 3;
		open = 1;
	} else if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x90) { /* 【 */
		p = 3;
		open = 1;
	}
	int idx = read_letter(s + p, n - p, &l);
	if (idx < 0)
		return -1;
	q = p + l;
	size_t sep = label_sep(s + q, n - q);
	int lower = idx >= 100;
	if (lower)
		idx -= 100;
	if (sep) {
		q += sep;
	} else if (!open && !lower && idx == expect && q < n && (s[q] == ' ' || s[q] == '\t')) {
		q++;
	} else if (!open && idx == expect && q == n) {
		/* the option is just its letter: keep it as text */
		return -1;
	} else {
		return -1;
	}
	if (open && !sep)
		return -1;
	while (q < n && (s[q] == ' ' || s[q] == '\t'))
		q++;
	*skip = q;
	return idx;
}

typedef struct {
	const char *text[ND_MAX_OPTIONS];
	size_t len[ND_MAX_OPTIONS];
	size_t n;
} opt_list;

static int opt_push(opt_list *o, const char *s, size_t n)
{
	trim(&s, &n);
	if (o->n >= ND_MAX_OPTIONS)
		return nd_seterr(ND_EFORMAT, "more than %d options", ND_MAX_OPTIONS);
	o->text[o->n] = s;
	o->len[o->n] = n;
	o->n++;
	return 0;
}

/* Splits a "choose" string ("A、正确 \n\nB、错误", with real or literal "\n"
 * separators, or all options on one line) into options. */
static int split_choose(const char *s, opt_list *o, nd_buf *tmp)
{
	tmp->len = 0;
	/* literal backslash-n sequences (double-escaped JSON) become newlines */
	for (const char *p = s; *p; p++) {
		if (p[0] == '\\' && (p[1] == 'n' || p[1] == 'r')) {
			if (nd_buf_putc(tmp, '\n'))
				return ND_ENOMEM;
			p++;
		} else if (nd_buf_putc(tmp, *p)) {
			return ND_ENOMEM;
		}
	}
	if (!tmp->data)
		return 0;
	const char *d = tmp->data;
	size_t n = tmp->len, i = 0, start = (size_t)-1;
	int expect = 0;
	/* an option starts at a label that is at the start of the text or after
	 * whitespace, and is the next expected letter */
	while (i < n) {
		size_t skip;
		int at_boundary = i == 0 || d[i - 1] == '\n' || d[i - 1] == ' ' || d[i - 1] == '\t';
		if (at_boundary) {
			int idx = option_label(d + i, n - i, expect, &skip);
			if (idx == expect) {
				if (start != (size_t)-1 && opt_push(o, d + start, i - start))
					return ND_EFORMAT;
				start = i + skip;
				i += skip;
				expect++;
				continue;
			}
		}
		i++;
	}
	if (start != (size_t)-1)
		return opt_push(o, d + start, n - start);
	/* no labels: one option per non-empty line */
	size_t ls = 0;
	for (i = 0; i <= n; i++) {
		if (i == n || d[i] == '\n') {
			const char *t = d + ls;
			size_t tl = i - ls;
			trim(&t, &tl);
			if (tl && opt_push(o, t, tl))
				return ND_EFORMAT;
			ls = i + 1;
		}
	}
	return 0;
}

static int options_from_array(const cJSON *v, const char *field, opt_list *o)
{
	int i = 0;
	for (const cJSON *c = v->child; c; c = c->next, i++) {
		const char *s;
		if (cJSON_IsString(c)) {
			s = c->valuestring;
		} else if (cJSON_IsObject(c)) {
			/* [{"key": "A", "value": "..."}]-style options */
			const cJSON *t = get_key(c, "value");
			if (!t) t = get_key(c, "text");
			if (!t) t = get_key(c, "content");
			if (!cJSON_IsString(t))
				return nd_seterr(ND_EFORMAT, "field \"%s\" holds an object without a "
						 "\"value\"/\"text\" string", field);
			s = t->valuestring;
		} else if (cJSON_IsNumber(c)) {
			return nd_seterr(ND_EFORMAT, "field \"%s\" holds a number, expected strings", field);
		} else {
			return nd_seterr(ND_EFORMAT, "field \"%s\" holds %s, expected strings", field,
					 type_name(c));
		}
		size_t n = strlen(s), skip;
		if (option_label(s, n, i, &skip) >= 0) {
			s += skip;
			n -= skip;
		}
		if (opt_push(o, s, n))
			return ND_EFORMAT;
	}
	return 0;
}

/* item1..item8, option1..8, optionA.., a..h, A..H: options spread over keys. */
static int options_from_keys(const cJSON *obj, opt_list *o)
{
	/* key prefix and the label style after it: '1' digits, 'A' upper, 'a' lower */
	static const struct {
		const char *prefix;
		char style;
	} patterns[] = {{"item", '1'}, {"option", '1'}, {"option", 'A'}, {"", 'a'}, {"", 'A'}};
	for (size_t p = 0; p < sizeof patterns / sizeof *patterns; p++) {
		opt_list tmp = {{0}, {0}, 0};
		for (int i = 0; i < 8; i++) {
			char key[16];
			snprintf(key, sizeof key, "%s%c", patterns[p].prefix, patterns[p].style + i);
			const cJSON *v = get_key(obj, key);
			if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring))
				break;
			if (!cJSON_IsString(v))
				return nd_seterr(ND_EFORMAT, "field \"%s\" is %s, expected a string", key,
						 type_name(v));
			const char *s = v->valuestring;
			size_t n = strlen(s), skip;
			if (option_label(s, n, i, &skip) >= 0) {
				s += skip;
				n -= skip;
			}
			opt_push(&tmp, s, n);
		}
		if (tmp.n >= 2) {
			*o = tmp;
			return 0;
		}
	}
	return 0;
}

/* ------------------------------------------------------------- answers -- */

int nd_judge_word(const char *s, size_t n)
{
	/* with their lengths: this runs for every answer and option of a bank */
#define W(x) {x, sizeof x - 1}
	static const struct {
		const char *w;
		size_t n;
	} yes[] = {W("对"), W("正确"), W("√"), W("✓"), W("✔"), W("是"), W("true"), W("True"), W("TRUE"), W("T"),
		   W("yes"), W("Yes"), W("Y"), W("right"), W("Right"), W("correct"), W("Correct"), W("对的"),
		   W("正确的")},
	  no[] = {W("错"), W("错误"), W("×"), W("✗"), W("✘"), W("x"), W("X"), W("否"), W("false"), W("False"),
		  W("FALSE"), W("F"), W("no"), W("No"), W("N"), W("wrong"), W("Wrong"), W("incorrect"),
		  W("Incorrect"), W("错的"), W("错误的")};
#undef W
	trim(&s, &n);
	if (n == 0 || n > 9) /* the longest word above is 9 bytes */
		return -1;
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		if (yes[i].n == n && memcmp(yes[i].w, s, n) == 0)
			return 1;
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		if (no[i].n == n && memcmp(no[i].w, s, n) == 0)
			return 0;
	return -1;
}

static int looks_judge_type(const char *type)
{
	if (!type)
		return 0;
	return strstr(type, "judge") || strstr(type, "判断") || strstr(type, "true_false") ||
	       strstr(type, "truefalse") || strcmp(type, "tf") == 0 || strcmp(type, "bool") == 0;
}

/* Strips answer prefixes people write: "答案：", "正确答案是", "Answer:". */
static void strip_answer_prefix(const char **s, size_t *n)
{
	static const char *const pre[] = {"正确答案是", "正确答案为", "正确答案：", "正确答案:", "正确答案",
					  "答案是", "答案为", "答案：", "答案:", "Answer:", "answer:",
					  "Answer：", NULL};
	trim(s, n);
	/* every prefix starts with 正, 答 (0xE6, 0xE7 lead bytes) or A/a */
	unsigned char c0 = *n ? (unsigned char)**s : 0;
	if (c0 != 0xE6 && c0 != 0xE7 && c0 != 'A' && c0 != 'a')
		return;
	for (int i = 0; pre[i]; i++) {
		size_t l = strlen(pre[i]);
		if (*n >= l && memcmp(*s, pre[i], l) == 0) {
			*s += l;
			*n -= l;
			trim(s, n);
			return;
		}
	}
}

/* "B", "A,C,D", "ABD", "1", "1、3", "ＡＣ": a mask of option indices, or 0 when the
 * text is not a list of labels. */
static uint32_t parse_labels(const char *s, size_t n, size_t n_options, int *out_of_range)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t mask = 0;
	size_t i = 0;
	int letters = 0, digits = 0;
	*out_of_range = 0;
	while (i < n) {
		size_t l;
		int idx = read_letter(p + i, n - i, &l);
		if (idx >= 100)
			idx -= 100; /* lower case letters */
		if (idx >= 0) {
			letters++;
		} else if (p[i] >= '1' && p[i] <= '9') {
			idx = p[i] - '1';
			l = 1;
			digits++;
		} else if (p[i] == ',' || p[i] == ' ' || p[i] == ';' || p[i] == '/' || p[i] == '|' ||
			   p[i] == '\t') {
			i++;
			continue;
		} else if (n - i >= 3 && ((p[i] == 0xEF && p[i + 1] == 0xBC && p[i + 2] == 0x8C) || /* ， */
					  (p[i] == 0xE3 && p[i + 1] == 0x80 && p[i + 2] == 0x81))) { /* 、 */
			i += 3;
			continue;
		} else {
			return 0;
		}
		if (letters && digits)
			return 0;
		if ((size_t)idx >= n_options || idx >= ND_MAX_OPTIONS)
			*out_of_range = 1;
		else
			mask |= 1u << idx;
		i += l;
	}
	return mask;
}

/* 1 when [s, s+n) is only option letters A–H (either case) and separators */
static int letters_only(const char *s, size_t n)
{
	size_t letters = 0;
	for (size_t i = 0; i < n; i++) {
		char c = (char)(s[i] | 0x20);
		if (c >= 'a' && c <= 'h')
			letters++;
		else if (s[i] != ',' && s[i] != ' ' && s[i] != ';' && s[i] != '/')
			return 0;
	}
	return letters > 0;
}

void nd_parse_answer(const char *raw, const char *type, const char *const *options, size_t n_options,
		     nd_record *rec)
{
	const char *s = raw;
	size_t n;
	int j, oor;

	rec->answer_kind = ND_ANSWER_NONE;
	rec->answer_mask = 0;
	rec->judge_value = -1;
	if (!raw)
		return;
	n = strlen(raw);
	strip_answer_prefix(&s, &n);
	if (n == 0)
		return;
	/* options that are a true/false pair make this a judge question */
	int judge_opts = n_options == 2 && nd_judge_word(options[0], strlen(options[0])) >= 0 &&
			 nd_judge_word(options[1], strlen(options[1])) >= 0 &&
			 nd_judge_word(options[0], strlen(options[0])) !=
				 nd_judge_word(options[1], strlen(options[1]));
	if ((j = nd_judge_word(s, n)) >= 0 && (n_options == 0 || judge_opts)) {
		rec->answer_kind = ND_ANSWER_JUDGE;
		rec->judge_value = j;
		return;
	}
	uint32_t mask = parse_labels(s, n, n_options ? n_options : (looks_judge_type(type) ? 2 : 0), &oor);
	if (mask && !oor) {
		if (judge_opts) {
			if (mask == 1u || mask == 2u) {
				int k = mask == 1u ? 0 : 1;
				rec->answer_kind = ND_ANSWER_JUDGE;
				rec->judge_value = nd_judge_word(options[k], strlen(options[k]));
				return;
			}
		} else if (n_options == 0) {
			/* judge question written with A/B and no options: A = true, B = false */
			if (mask == 1u || mask == 2u) {
				rec->answer_kind = ND_ANSWER_JUDGE;
				rec->judge_value = mask == 1u;
				return;
			}
		} else {
			rec->answer_kind = ND_ANSWER_CHOICE;
			rec->answer_mask = mask;
			return;
		}
	}
	/* the answer written as the text of an option */
	for (size_t i = 0; i < n_options; i++) {
		if (strlen(options[i]) == n && memcmp(options[i], s, n) == 0) {
			if (judge_opts) {
				rec->answer_kind = ND_ANSWER_JUDGE;
				rec->judge_value = nd_judge_word(options[i], n);
			} else {
				rec->answer_kind = ND_ANSWER_CHOICE;
				rec->answer_mask = 1u << i;
			}
			return;
		}
	}
	if (n_options == 0 && !looks_judge_type(type) && !letters_only(s, n)) {
		/* no options to choose from: a question answered in words (a QA corpus, a
		 * fill-in question), compared as text; "C" or "A,B" with no options is an
		 * option list that went missing, and stays invalid */
		rec->answer_kind = ND_ANSWER_TEXT;
		rec->answer_text = raw;
		return;
	}
	rec->answer_kind = ND_ANSWER_INVALID;
	rec->defects |= ND_DEFECT_BAD_ANSWER;
}

/* ------------------------------------------------------------- presets -- */

int nd_mapping_for_preset(nd_mapping *m, nd_preset p)
{
	memset(m, 0, sizeof *m);
	m->preset = p;
	switch (p) {
	case ND_PRESET_EXAM:
		m->n_parts = 1;
		m->part_names[0] = "stem";
		break;
	case ND_PRESET_ALPACA:
		m->n_parts = 3;
		m->part_names[0] = "system";
		m->part_names[1] = "instruction";
		m->part_names[2] = "input";
		break;
	case ND_PRESET_SHAREGPT:
	case ND_PRESET_MESSAGES:
		m->n_parts = 2;
		m->part_names[0] = "system";
		m->part_names[1] = "user";
		break;
	default:
		return nd_seterr(ND_EINVAL, "preset %s cannot be set up without a spec", nd_preset_name(p));
	}
	return 0;
}

static int has_string(const cJSON *o, const char *k)
{
	const cJSON *v = get_key(o, k);
	return v && (cJSON_IsString(v) || cJSON_IsNull(v));
}

int nd_mapping_detect(nd_mapping *m, cJSON *const *samples, size_t n, const char *path)
{
	size_t score[5] = {0}, objects = 0;
	const char *names[5] = {NULL, "exam", "alpaca", "sharegpt", "messages"};
	for (size_t i = 0; i < n; i++) {
		const cJSON *o = samples[i];
		if (!cJSON_IsObject(o))
			continue;
		objects++;
		if (get_any(o, STEM_KEYS, NULL))
			score[ND_PRESET_EXAM]++;
		if (has_string(o, "instruction") && get_key(o, "output"))
			score[ND_PRESET_ALPACA]++;
		if (cJSON_IsArray(get_key(o, "conversations")))
			score[ND_PRESET_SHAREGPT]++;
		if (cJSON_IsArray(get_key(o, "messages")))
			score[ND_PRESET_MESSAGES]++;
	}
	/* a preset fits when nearly every sampled object has its fields; 90% leaves room
	 * for a few damaged records, which mapping then reports one by one */
	int nfit = 0, chosen = 0;
	char list[128] = "";
	for (int p = 1; p <= 4; p++) {
		if (objects && score[p] * 10 >= objects * 9) {
			nfit++;
			chosen = p;
			if (list[0])
				strcat(list, ", ");
			strcat(list, names[p]);
		}
	}
	if (nfit > 1)
		return nd_seterr(ND_EMAPPING, "%s: records fit several presets (%s); choose one with "
				 "--preset or map fields with --fields", path, list);
	if (nfit == 0) {
		char fits[160] = "";
		for (int p = 1; p <= 4; p++)
			if (score[p]) {
				size_t l = strlen(fits);
				snprintf(fits + l, sizeof fits - l, "%s%s %zu", l ? ", " : "", names[p], score[p]);
			}
		if (fits[0]) /* some records fit a preset, the rest another shape */
			return nd_seterr(ND_EMAPPING, "%s: the records are of mixed shapes (of %zu sampled: %s; a "
						      "preset needs 90%%); choose one with --preset (records of other shapes "
						      "are then not compared) or map fields with --fields",
					 path, objects, fits);
		char keys[256] = "";
		const cJSON *o = NULL;
		for (size_t i = 0; i < n && !o; i++)
			if (cJSON_IsObject(samples[i]))
				o = samples[i];
		for (const cJSON *c = o ? o->child : NULL; c; c = c->next) {
			if (strlen(keys) + 2 + strlen(c->string) + sizeof ", …" > sizeof keys) { /* room left for ", …" */
				strcat(keys, ", …");
				break;
			}
			if (keys[0])
				strcat(keys, ", ");
			strcat(keys, c->string);
		}
		return nd_seterr(ND_EMAPPING, "%s: records fit no preset (first record's keys: %s); map "
				 "them with --fields stem=KEY,answer=KEY,...", path,
				 o ? (keys[0] ? keys : "none") : "not an object");
	}
	int rc = nd_mapping_for_preset(m, (nd_preset)chosen);
	if (rc)
		return rc;
	switch (chosen) {
	case ND_PRESET_EXAM: {
		/* say which aliases the samples use (each record is read with whichever
		 * of its field's aliases it has) */
		const char *const *aliases[F_NFIELDS] = {STEM_KEYS, OPTIONS_KEYS, ANSWER_KEYS, EXPL_KEYS,
							 IMAGE_KEYS, ID_KEYS, TYPE_KEYS, CATEGORY_KEYS};
		size_t l = (size_t)snprintf(m->description, sizeof m->description, "preset exam (");
		for (int f = 0; f < F_NFIELDS; f++) {
			int seen = 0;
			for (int k = 0; aliases[f][k]; k++) {
				size_t i;
				for (i = 0; i < n; i++)
					if (get_key(samples[i], aliases[f][k]))
						break;
				if (i == n || l + 40 >= sizeof m->description)
					continue;
				l += (size_t)snprintf(m->description + l, sizeof m->description - l, "%s%s%s",
						      seen ? "|" : (m->description[l - 1] == '(' ? "" : " "),
						      seen ? "" : FIELD_NAMES[f], "");
				if (!seen)
					l += (size_t)snprintf(m->description + l, sizeof m->description - l, "=");
				l += (size_t)snprintf(m->description + l, sizeof m->description - l, "%s",
						      aliases[f][k]);
				seen = 1;
			}
		}
		strcat(m->description, ")");
		break;
	}
	case ND_PRESET_ALPACA:
		snprintf(m->description, sizeof m->description,
			 "preset alpaca (stem=instruction+input answer=output)");
		break;
	case ND_PRESET_SHAREGPT:
		snprintf(m->description, sizeof m->description,
			 "preset sharegpt (stem=human turns answer=gpt turns)");
		break;
	default:
		snprintf(m->description, sizeof m->description,
			 "preset messages (stem=user turns answer=assistant turns)");
	}
	return 0;
}

int nd_mapping_compile_fields(nd_mapping *m, const char *spec)
{
	memset(m, 0, sizeof *m);
	m->preset = ND_PRESET_FIELDS;
	m->n_parts = 1;
	m->part_names[0] = "stem";
	const char *p = spec;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		int f;
		if (!eq)
			return nd_seterr(ND_EINVAL, "--fields: \"%.*s\" is not NAME=KEY", (int)len, p);
		for (f = 0; f < F_NFIELDS; f++)
			if (strlen(FIELD_NAMES[f]) == (size_t)(eq - p) && memcmp(FIELD_NAMES[f], p, eq - p) == 0)
				break;
		if (f == F_NFIELDS)
			return nd_seterr(ND_EINVAL, "--fields: unknown name \"%.*s\" (known: stem, options, "
					 "answer, explanation, image, id, type, category)", (int)(eq - p), p);
		if (eq + 1 == p + len)
			return nd_seterr(ND_EINVAL, "--fields: %s has no key", FIELD_NAMES[f]);
		free(m->spec[f]);
		if (!(m->spec[f] = nd_strndup(eq + 1, (size_t)(p + len - eq - 1))))
			return nd_seterr(ND_ENOMEM, "out of memory");
		p = comma ? comma + 1 : NULL;
	}
	if (!m->spec[F_STEM])
		return nd_seterr(ND_EINVAL, "--fields must map stem (e.g. --fields stem=question)");
	snprintf(m->description, sizeof m->description, "fields (%s)", spec);
	return 0;
}

void nd_mapping_release(nd_mapping *m)
{
	for (int i = 0; i < 9; i++) {
		free(m->spec[i]);
		m->spec[i] = NULL;
	}
}

/* Resolves "a.b" inside obj. */
static const cJSON *get_path(const cJSON *obj, const char *path, size_t len)
{
	const cJSON *cur = obj;
	const char *p = path, *end = path + len;
	while (cur && p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t kl = dot ? (size_t)(dot - p) : (size_t)(end - p);
		const cJSON *next = NULL;
		for (const cJSON *c = cur->child; c; c = c->next)
			if (c->string && strlen(c->string) == kl && memcmp(c->string, p, kl) == 0) {
				next = c;
				break;
			}
		cur = next;
		p = dot ? dot + 1 : end;
	}
	return cur;
}

/* A --fields entry: "a+b" joins several string fields with newlines. */
static int spec_text(const cJSON *obj, const char *spec, const char *field, nd_arena *a, const char **out)
{
	nd_buf b = {0};
	const char *p = spec;
	*out = NULL;
	while (*p) {
		const char *plus = strchr(p, '+');
		size_t len = plus ? (size_t)(plus - p) : strlen(p);
		const cJSON *v = get_path(obj, p, len);
		const char *s = NULL;
		int rc = field_text_or_list(v, field, a, &s);
		if (rc) {
			nd_buf_free(&b);
			return rc;
		}
		if (s && ((b.len && nd_buf_putc(&b, '\n')) || nd_buf_append(&b, s, strlen(s)))) {
			nd_buf_free(&b);
			return ND_ENOMEM;
		}
		p = plus ? plus + 1 : p + len;
	}
	if (b.len && !(*out = nd_arena_strndup(a, b.data, b.len))) {
		nd_buf_free(&b);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	nd_buf_free(&b);
	return 0;
}

/* ----------------------------------------------------- exam convention -- */

/* Alpaca exam records often carry "题目：…\n题型：…\n选项A：…" in their input and
 * "正确答案是B…" in their output. Returns 1 when @input has that shape. */
static int parse_exam_input(const char *input, nd_arena *a, nd_record *rec, opt_list *o)
{
	const char *q = strstr(input, "题目");
	if (!q)
		return 0;
	const char *p = input;
	int found = 0;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *line = p;
		size_t ll = len;
		trim(&line, &ll);
		const char *colon = NULL;
		for (size_t i = 0; i + 1 < ll; i++) {
			if (line[i] == ':') { colon = line + i + 1; break; }
			if (i + 3 <= ll && memcmp(line + i, "：", 3) == 0) { colon = line + i + 3; break; }
		}
		if (colon) {
			size_t kl = (size_t)(colon - line), vl = ll - kl;
			const char *v = colon;
			trim(&v, &vl);
			if (kl >= 6 && memcmp(line, "题目", 6) == 0) {
				rec->stem = nd_arena_strndup(a, v, vl);
				found = 1;
			} else if (kl >= 6 && memcmp(line, "题型", 6) == 0) {
				rec->type = nd_arena_strndup(a, v, vl);
			} else if (kl >= 6 && memcmp(line, "选项", 6) == 0) {
				opt_push(o, v, vl);
			}
		} else if (found && o->n == 0 && ll) {
			size_t skip;
			if (option_label(line, ll, (int)o->n, &skip) >= 0)
				opt_push(o, line + skip, ll - skip);
		} else if (o->n && ll) {
			size_t skip;
			if (option_label(line, ll, (int)o->n, &skip) >= 0)
				opt_push(o, line + skip, ll - skip);
		}
		p = eol ? eol + 1 : p + len;
	}
	return found;
}

/* The answer inside an exam-convention output: "正确答案是B。解析：…" → "B". */
static const char *answer_in_output(const char *out, nd_arena *a, const char **expl)
{
	static const char *const keys[] = {"正确答案是", "正确答案为", "正确答案：", "正确答案:", "答案是",
					   "答案：", "答案:", NULL};
	for (int i = 0; keys[i]; i++) {
		const char *k = strstr(out, keys[i]);
		if (!k)
			continue;
		const char *v = k + strlen(keys[i]);
		while (*v == ' ')
			v++;
		size_t n = 0;
		/* letters, digits, separators, or a judge word */
		while (v[n] && (isalnum((unsigned char)v[n]) || v[n] == ',' || v[n] == ' '))
			n++;
		if (n == 0) {
			static const char *const words[] = {"正确", "错误", "对", "错", "√", "×", NULL};
			for (int w = 0; words[w]; w++)
				if (strncmp(v, words[w], strlen(words[w])) == 0)
					n = strlen(words[w]);
		}
		if (n == 0)
			continue;
		const char *rest = v + n;
		while (*rest && strchr(" \n。.，,", *rest))
			rest++;
		const char *jx = strstr(rest, "解析");
		if (jx) {
			rest = jx + strlen("解析");
			if (strncmp(rest, "：", 3) == 0)
				rest += 3;
			else if (*rest == ':')
				rest++;
		}
		if (*rest && expl)
			*expl = arena_trimmed(a, rest, strlen(rest));
		return arena_trimmed(a, v, n);
	}
	return NULL;
}

/* ------------------------------------------------------------- mapping -- */

static int finish_options(nd_record *rec, const opt_list *o, nd_arena *a)
{
	if (!o->n)
		return 0;
	const char **opts = nd_arena_alloc(a, o->n * sizeof *opts);
	if (!opts)
		return nd_seterr(ND_ENOMEM, "out of memory");
	for (size_t i = 0; i < o->n; i++)
		if (!(opts[i] = nd_arena_strndup(a, o->text[i], o->len[i])))
			return nd_seterr(ND_ENOMEM, "out of memory");
	rec->options = opts;
	rec->n_options = o->n;
	return 0;
}

static int chat_turns(const cJSON *arr, const char *field, const char *role_key, const char *text_key,
		      nd_arena *a, nd_record *rec, nd_mapped_extra *x)
{
	nd_buf user = {0}, asst = {0};
	int rc = 0;
	for (const cJSON *t = arr->child; t; t = t->next) {
		if (!cJSON_IsObject(t)) {
			rc = nd_seterr(ND_EFORMAT, "field \"%s\" holds %s, expected objects", field, type_name(t));
			goto out;
		}
		const cJSON *r = get_key(t, role_key), *v = get_key(t, text_key);
		if (!cJSON_IsString(r)) {
			rc = nd_seterr(ND_EFORMAT, "a turn in \"%s\" has no \"%s\" string", field, role_key);
			goto out;
		}
		if (v && !cJSON_IsString(v) && !cJSON_IsNull(v)) {
			rc = nd_seterr(ND_EFORMAT, "a turn in \"%s\" has \"%s\" of %s, expected a string", field,
				       text_key, type_name(v));
			goto out;
		}
		const char *role = r->valuestring, *text = cJSON_IsString(v) ? v->valuestring : "";
		nd_buf *dst;
		if (!strcmp(role, "system")) {
			if (!(x->part[0] = arena_trimmed(a, text, strlen(text)))) {
				rc = ND_ENOMEM;
				goto out;
			}
			continue;
		} else if (!strcmp(role, "human") || !strcmp(role, "user")) {
			dst = &user;
		} else if (!strcmp(role, "gpt") || !strcmp(role, "assistant") || !strcmp(role, "bot") ||
			   !strcmp(role, "model")) {
			dst = &asst;
		} else {
			continue; /* function/tool turns take no part in similarity */
		}
		if ((dst->len && nd_buf_putc(dst, '\n')) || nd_buf_append(dst, text, strlen(text))) {
			rc = ND_ENOMEM;
			goto out;
		}
	}
	if (user.len && !(x->part[1] = arena_trimmed(a, user.data, user.len)))
		rc = ND_ENOMEM;
	if (asst.len && !(rec->answer_text = arena_trimmed(a, asst.data, asst.len)))
		rc = ND_ENOMEM;
	if (rec->answer_text && !*rec->answer_text)
		rec->answer_text = NULL;
out:
	nd_buf_free(&user);
	nd_buf_free(&asst);
	return rc;
}

int nd_map_record(const nd_mapping *m, const cJSON *obj, nd_arena *a, nd_record *rec, nd_mapped_extra *x)
{
	opt_list o = {{0}, {0}, 0};
	nd_buf tmp = {0};
	const char *key = NULL;
	const cJSON *v;
	int rc = 0;

	memset(x, 0, sizeof *x);
	if (!cJSON_IsObject(obj))
		return nd_seterr(ND_EFORMAT, "expected a JSON object, got %s", type_name(obj));
	if ((rc = field_string(get_any(obj, ID_KEYS, &key), key ? key : "id", 1, a, &rec->id)))
		return rc;

	switch (m->preset) {
	case ND_PRESET_EXAM:
	case ND_PRESET_FIELDS: {
		int fields = m->preset == ND_PRESET_FIELDS;
		const char *type_raw = NULL;
		if (fields) {
			if ((rc = spec_text(obj, m->spec[F_STEM], "stem", a, &rec->stem)))
				goto out;
		} else {
			v = get_any(obj, STEM_KEYS, &key);
			if ((rc = field_string(v, key ? key : "question", 0, a, &rec->stem)))
				goto out;
		}
		x->part[0] = rec->stem;
		/* type and category first: the answer parser looks at the type */
		const char *tk = NULL, *ck = NULL;
		if (fields) {
			if (m->spec[F_TYPE] && (rc = spec_text(obj, m->spec[F_TYPE], "type", a, &type_raw)))
				goto out;
			if (m->spec[F_CATEGORY] &&
			    (rc = spec_text(obj, m->spec[F_CATEGORY], "category", a, &rec->category)))
				goto out;
		} else {
			if ((rc = field_string(get_any(obj, TYPE_KEYS, &tk), tk ? tk : "type", 1, a, &type_raw)))
				goto out;
			if ((rc = field_string(get_any(obj, CATEGORY_KEYS, &ck), ck ? ck : "category", 1, a,
					       &rec->category)))
				goto out;
		}
		rec->type = type_raw;
		/* options */
		const char *ok = NULL;
		v = fields ? (m->spec[F_OPTIONS] ? get_path(obj, m->spec[F_OPTIONS], strlen(m->spec[F_OPTIONS]))
						  : NULL)
			   : get_any(obj, OPTIONS_KEYS, &ok);
		if (fields)
			ok = m->spec[F_OPTIONS];
		if (v && cJSON_IsArray(v)) {
			if ((rc = options_from_array(v, ok, &o)))
				goto out;
		} else if (v && cJSON_IsString(v)) {
			if ((rc = split_choose(v->valuestring, &o, &tmp)))
				goto out;
		} else if (v && cJSON_IsObject(v)) {
			/* {"A": "...", "B": "..."} */
			if ((rc = options_from_keys(v, &o)))
				goto out;
		} else if (v && !cJSON_IsNull(v)) {
			rc = nd_seterr(ND_EFORMAT, "field \"%s\" is %s, expected an array or a string", ok,
				       type_name(v));
			goto out;
		} else if (!fields && (rc = options_from_keys(obj, &o))) {
			goto out;
		}
		if ((rc = finish_options(rec, &o, a)))
			goto out;
		/* answer, explanation, image */
		const char *ak = NULL, *ek = NULL, *ik = NULL;
		if (fields) {
			if (m->spec[F_ANSWER] && (rc = spec_text(obj, m->spec[F_ANSWER], "answer", a, &rec->answer_raw)))
				goto out;
			if (m->spec[F_EXPL] && (rc = spec_text(obj, m->spec[F_EXPL], "explanation", a,
							       &rec->explanation)))
				goto out;
			if (m->spec[F_IMAGE] && (rc = spec_text(obj, m->spec[F_IMAGE], "image", a, &rec->image)))
				goto out;
		} else {
			v = get_any(obj, ANSWER_KEYS, &ak);
			if (v && cJSON_IsArray(v)) {
				/* ["A", "C"] */
				nd_buf ab = {0};
				for (const cJSON *c = v->child; c; c = c->next) {
					if (!cJSON_IsString(c) && !cJSON_IsNumber(c)) {
						nd_buf_free(&ab);
						rc = nd_seterr(ND_EFORMAT, "field \"%s\" holds %s", ak, type_name(c));
						goto out;
					}
					if (ab.len)
						nd_buf_putc(&ab, ',');
					if (cJSON_IsString(c))
						nd_buf_append(&ab, c->valuestring, strlen(c->valuestring));
					else
						nd_buf_printf(&ab, "%d", c->valueint);
				}
				rec->answer_raw = ab.len ? nd_arena_strndup(a, ab.data, ab.len) : NULL;
				nd_buf_free(&ab);
			} else if (v && cJSON_IsBool(v)) {
				rec->answer_raw = cJSON_IsTrue(v) ? "true" : "false";
			} else if ((rc = field_string(v, ak ? ak : "answer", 1, a, &rec->answer_raw))) {
				goto out;
			}
			if ((rc = field_text_or_list(get_any(obj, EXPL_KEYS, &ek), ek ? ek : "explanation", a,
						     &rec->explanation)))
				goto out;
			if ((rc = field_string(get_any(obj, IMAGE_KEYS, &ik), ik ? ik : "image", 0, a, &rec->image)))
				goto out;
		}
		nd_parse_answer(rec->answer_raw, rec->type, rec->options, rec->n_options, rec);
		break;
	}
	case ND_PRESET_ALPACA: {
		const char *ins = NULL, *input = NULL, *output = NULL, *sys = NULL;
		if ((rc = field_string(get_key(obj, "instruction"), "instruction", 0, a, &ins)) ||
		    (rc = field_string(get_key(obj, "input"), "input", 0, a, &input)) ||
		    (rc = field_text_or_list(get_key(obj, "output"), "output", a, &output)) ||
		    (rc = field_string(get_key(obj, "system"), "system", 0, a, &sys)))
			goto out;
		v = get_key(obj, "history");
		if (v && !cJSON_IsNull(v) && !cJSON_IsArray(v)) {
			rc = nd_seterr(ND_EFORMAT, "field \"history\" is %s, expected an array", type_name(v));
			goto out;
		}
		x->part[0] = sys;
		x->part[1] = ins;
		if (input && parse_exam_input(input, a, rec, &o)) {
			x->part[2] = rec->stem;
			if ((rc = finish_options(rec, &o, a)))
				goto out;
			const char *expl = NULL;
			if (output)
				rec->answer_raw = answer_in_output(output, a, &expl);
			rec->explanation = expl;
			if (rec->answer_raw) {
				nd_parse_answer(rec->answer_raw, rec->type, rec->options, rec->n_options, rec);
			} else if (output) {
				rec->answer_kind = ND_ANSWER_TEXT;
				rec->answer_text = output;
			}
		} else {
			x->part[2] = input;
			/* the view's stem: instruction and input as the model sees them */
			if (ins && input) {
				size_t l1 = strlen(ins), l2 = strlen(input);
				char *s = nd_arena_alloc(a, l1 + l2 + 2);
				if (!s) {
					rc = nd_seterr(ND_ENOMEM, "out of memory");
					goto out;
				}
				memcpy(s, ins, l1);
				s[l1] = '\n';
				memcpy(s + l1 + 1, input, l2 + 1);
				rec->stem = s;
			} else {
				rec->stem = ins ? ins : input;
			}
			if (output) {
				rec->answer_kind = ND_ANSWER_TEXT;
				rec->answer_text = output;
			}
		}
		break;
	}
	case ND_PRESET_SHAREGPT:
	case ND_PRESET_MESSAGES: {
		int sg = m->preset == ND_PRESET_SHAREGPT;
		const char *field = sg ? "conversations" : "messages";
		v = get_key(obj, field);
		if (!v || !cJSON_IsArray(v)) {
			rc = v ? nd_seterr(ND_EFORMAT, "field \"%s\" is %s, expected an array", field, type_name(v))
			       : nd_seterr(ND_EFORMAT, "field \"%s\" is missing", field);
			goto out;
		}
		if ((rc = chat_turns(v, field, sg ? "from" : "role", sg ? "value" : "content", a, rec, x)))
			goto out;
		if (sg && !x->part[0]) {
			const char *sys = NULL;
			if ((rc = field_string(get_key(obj, "system"), "system", 0, a, &sys)))
				goto out;
			x->part[0] = sys;
		}
		rec->stem = x->part[1];
		if (rec->answer_text)
			rec->answer_kind = ND_ANSWER_TEXT;
		break;
	}
	default:
		rc = nd_seterr(ND_EINTERNAL, "no mapping chosen");
		goto out;
	}
	if (!rec->stem)
		rec->defects |= ND_DEFECT_NO_STEM;
	if (rec->answer_kind == ND_ANSWER_NONE)
		rec->defects |= ND_DEFECT_NO_ANSWER;
	if (!rec->explanation && m->preset != ND_PRESET_SHAREGPT && m->preset != ND_PRESET_MESSAGES &&
	    rec->answer_kind != ND_ANSWER_TEXT)
		rec->defects |= ND_DEFECT_NO_EXPLANATION;
	if (rec->answer_kind == ND_ANSWER_CHOICE && rec->n_options == 0)
		rec->defects |= ND_DEFECT_NO_OPTIONS;
	x->judge_options = rec->answer_kind == ND_ANSWER_JUDGE && rec->n_options == 2;
out:
	nd_buf_free(&tmp);
	return rc;
}

const char *nd_preset_name(nd_preset p)
{
	switch (p) {
	case ND_PRESET_AUTO: return "auto";
	case ND_PRESET_EXAM: return "exam";
	case ND_PRESET_ALPACA: return "alpaca";
	case ND_PRESET_SHAREGPT: return "sharegpt";
	case ND_PRESET_MESSAGES: return "messages";
	case ND_PRESET_FIELDS: return "fields";
	}
	return "unknown";
}

int nd_preset_parse(nd_preset *out, const char *name)
{
	for (int p = ND_PRESET_AUTO; p <= ND_PRESET_FIELDS; p++)
		if (name && strcmp(name, nd_preset_name((nd_preset)p)) == 0) {
			*out = (nd_preset)p;
			return 0;
		}
	return nd_seterr(ND_EINVAL, "unknown preset \"%s\" (auto, exam, alpaca, sharegpt, messages)",
			 name ? name : "");
}
