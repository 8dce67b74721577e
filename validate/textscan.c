/* Per-record checks: schema per format and text hygiene. Pure functions of one
 * record, so they run on any thread. */
#include <cjson/cJSON.h>
#include <string.h>
#include "vscan.h"

static uint32_t next_cp(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp;
	int len;
	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if ((c & 0xE0) == 0xC0) {
		cp = c & 0x1F;
		len = 2;
	} else if ((c & 0xF0) == 0xE0) {
		cp = c & 0x0F;
		len = 3;
	} else if ((c & 0xF8) == 0xF0) {
		cp = c & 0x07;
		len = 4;
	} else {
		(*i)++;
		return 0xFFFD;
	}
	if (*i + (size_t)len > n) {
		*i = n;
		return 0xFFFD;
	}
	for (int k = 1; k < len; k++)
		cp = (cp << 6) | (s[*i + (size_t)k] & 0x3F);
	*i += (size_t)len;
	return cp;
}

int nd_vs_is_cjk(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0x20000 && c <= 0x323AF);
}

static int is_full_punct(uint32_t c)
{
	return c == 0xFF0C || c == 0x3002 || c == 0xFF1F || c == 0xFF01 || c == 0xFF1A || c == 0xFF1B || c == 0xFF08 ||
	       c == 0xFF09;
}

static int is_half_punct(uint32_t c)
{
	return c == ',' || c == '?' || c == '!' || c == ':' || c == ';' || c == '(' || c == ')';
}

static int is_doubled_punct(uint32_t c)
{
	/* not . - … — (ellipses and dashes are written doubled on purpose) */
	return c == 0xFF0C || c == 0x3002 || c == 0xFF1F || c == 0xFF01 || c == 0xFF1B || c == 0x3001 || c == 0xFF1A ||
	       c == ',' || c == ';' || c == '?' || c == '!';
}

static int is_control(uint32_t c)
{
	return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F || (c >= 0x80 && c <= 0x9F) ||
	       (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E) || c == 0x2060 || c == 0xFEFF;
}

static int is_punct_space(uint32_t c)
{
	return c <= 0x40 || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0xBF) || (c >= 0x2000 && c <= 0x206F) ||
	       (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
	       (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) || (c >= 0x2500 && c <= 0x25FF);
}

/* Characters a run of which is normal: fill-in blanks, rules, ellipses, digits. */
static int run_ok(uint32_t c)
{
	return (c >= '0' && c <= '9') || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '_' || c == '-' ||
	       c == '.' || c == '*' || c == '=' || c == '~' || c == 0x2026 || c == 0x2014 || c == 0x2015 || c == 0xFF3F ||
	       c == 0xFF0D || c == 0x3000 || c == 0x00B7 || c == 0x2500 || c == 0x2022 || c == 0xFF3F || c == 0x25A1 ||
	       c == 0xFF0E || c == 0xFF10 || c == 0x3007 || c == 0xFFFD;
}

#define RUN_MIN 6

/* Mis-decoded text: UTF-8 read as GBK (锟斤拷 is U+FFFD twice; 鈥 锛 銆 鐨 浣犲 are the GBK
 * readings of the UTF-8 of " ， 、 的 你好), as Latin-1 (â€ Ã© Â) or uninitialised
 * memory shown as GBK (烫烫烫, 屯屯屯). The loop below looks only where a pattern's first
 * character is. */
static const char *const MOJIBAKE[] = {"锟斤拷", "烫烫烫", "屯屯屯", "â€", "Ã©", "Ã¨", "Ã¤", "Ã¶", "Ã¼", "Ã ",
				       "Â ", "鈥", "锛", "銆", "鐨", "浣犲", NULL};

static int mojibake_lead(uint32_t c)
{
	return c == 0x951F || c == 0x70EB || c == 0x5C6F || c == 0xE2 || c == 0xC3 || c == 0xC2 || c == 0x9225 ||
	       c == 0x951B || c == 0x9286 || c == 0x9428 || c == 0x6D63;
}

static int mojibake_at(const char *p, size_t left)
{
	for (int k = 0; MOJIBAKE[k]; k++) {
		size_t l = strlen(MOJIBAKE[k]);
		if (l <= left && !memcmp(p, MOJIBAKE[k], l))
			return 1;
	}
	return 0;
}

static void mark_opt(vs_scan *r, int k, const char *field, int opt, size_t at, const char *what);
static void mark(vs_scan *r, int k, const char *field, size_t at, const char *what)
{
	mark_opt(r, k, field, -1, at, what);
}

static void mark_opt(vs_scan *r, int k, const char *field, int opt, size_t at, const char *what)
{
	unsigned bit = 1u << (k - VC_FIRST_RECORD_CHECK);
	if (r->flags & bit)
		return;
	r->flags |= bit;
	if (r->where) {
		r->where[k - VC_FIRST_RECORD_CHECK].field = field;
		r->where[k - VC_FIRST_RECORD_CHECK].at = at;
		r->where[k - VC_FIRST_RECORD_CHECK].what = what;
		r->where[k - VC_FIRST_RECORD_CHECK].opt = opt;
	}
}

void nd_vs_text(vs_scan *r, const char *field, int opt, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n, i = 0;
	uint32_t prev = 0, runc = 0;
	size_t run = 0, run_at = 0, prev_at = 0;
	int prev_cjk = 0;
	if (!text)
		return;
	n = strlen(text);
	while (i < n) {
		size_t at = i;
		uint32_t c = next_cp(s, n, &i);
		int cjk = nd_vs_is_cjk(c);
		if (cjk)
			r->cjk++;
		if (cjk || (!is_punct_space(c) && c != 0xFFFD))
			r->letters++;
		if (c == '<' && i < n) {
			unsigned char d = s[i];
			if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || d == '!' ||
			    (d == '/' && i + 1 < n && ((s[i + 1] | 0x20) >= 'a' && (s[i + 1] | 0x20) <= 'z'))) {
				for (size_t j = i; j < n && j < i + 200 && s[j] != '<'; j++)
					if (s[j] == '>') {
						mark_opt(r, VC_HTML, field, opt, at, "tag");
						break;
					}
			}
		} else if (c == '&' && i < n) {
			size_t j = i, digits = 0;
			if (s[j] == '#') {
				j++;
				if (j < n && (s[j] == 'x' || s[j] == 'X'))
					j++;
				while (j < n && digits < 8 && ((s[j] >= '0' && s[j] <= '9') || ((s[j] | 0x20) >= 'a' &&
											      (s[j] | 0x20) <= 'f')))
					j++, digits++;
			} else {
				while (j < n && digits < 10 && (s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z')
					j++, digits++;
				if (digits < 2)
					digits = 0;
			}
			if (digits && j < n && s[j] == ';')
				mark_opt(r, VC_HTML, field, opt, at, "entity");
		}
		if (c == 0xFFFD)
			mark_opt(r, VC_MOJIBAKE, field, opt, at, "U+FFFD");
		else if (mojibake_lead(c) && mojibake_at(text + at, n - at))
			mark_opt(r, VC_MOJIBAKE, field, opt, at, "pattern");
		if (is_control(c))
			mark_opt(r, VC_CONTROL, field, opt, at, "control");
		if (is_full_punct(c))
			r->full_punct = 1;
		if (is_half_punct(c) && prev_cjk) {
			r->half_punct = 1;
			if (!r->half_at_field) {
				r->half_at_field = field;
				r->half_at_opt = opt;
				r->half_at = at;
			}
		}
		/* half-width punctuation followed by a CJK character */
		if (cjk && is_half_punct(prev) && !r->half_punct) {
			r->half_punct = 1;
			r->half_at_field = field;
			r->half_at_opt = opt;
			r->half_at = prev_at;
		}
		if (c == prev && is_doubled_punct(c))
			mark_opt(r, VC_DOUBLED_PUNCT, field, opt, prev_at, "doubled");
		if (c == runc) {
			run++;
		} else {
			runc = c;
			run = 1;
			run_at = at;
		}
		if (run == RUN_MIN && !run_ok(c))
			mark_opt(r, VC_REPEATED, field, opt, run_at, "run");
		prev = c;
		prev_at = at;
		prev_cjk = cjk;
	}
}

static int blank(const char *s)
{
	if (!s)
		return 1;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

vs_type nd_vs_type(const char *t)
{
	if (!t)
		return VS_UNKNOWN;
	char low[64];
	size_t i;
	for (i = 0; t[i] && i + 1 < sizeof low; i++)
		low[i] = (t[i] >= 'A' && t[i] <= 'Z') ? (char)(t[i] + 32) : t[i];
	low[i] = 0;
	if (strstr(low, "judge") || strstr(low, "判断") || strstr(low, "true_false") || strstr(low, "truefalse") ||
	    !strcmp(low, "tf") || strstr(low, "是非") || strstr(low, "bool"))
		return VS_JUDGE;
	if (strstr(low, "multi") || strstr(low, "多选") || strstr(low, "多项") || strstr(low, "不定项"))
		return VS_MULTI;
	if (strstr(low, "single") || strstr(low, "单选") || strstr(low, "单项") || !strcmp(low, "choice") ||
	    !strcmp(low, "select"))
		return VS_SINGLE;
	return VS_UNKNOWN;
}

static const char *const IMAGE_WORDS[] = {"如图", "图中", "下图", "图示", "看图", "图片", "此图", "该图", "the picture",
					  "the figure", "the image", "shown below", NULL};

int nd_vs_exam_like(const nd_record *rec, nd_preset p)
{
	return p == ND_PRESET_EXAM || p == ND_PRESET_FIELDS || rec->n_options > 0 ||
	       rec->answer_kind == ND_ANSWER_JUDGE || rec->answer_kind == ND_ANSWER_CHOICE ||
	       rec->answer_kind == ND_ANSWER_INVALID;
}

static int role_in(const char *r, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(r, *set))
			return 1;
	return 0;
}

static void chat_checks(vs_scan *r, const cJSON *obj, int sg)
{
	static const char *const USER[] = {"human", "user", "observation", "tool", NULL};
	static const char *const ASSISTANT[] = {"gpt", "assistant", "function_call", "function", NULL};
	const char *field = sg ? "conversations" : "messages";
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, field);
	size_t turns = 0;
	int pos = 0;
	const char *last_side = NULL;
	if (!cJSON_IsArray(arr)) {
		mark(r, VC_CHAT_TURNS, field, 0, "missing");
		return;
	}
	for (const cJSON *t = arr->child; t; t = t->next, pos++) {
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(t, sg ? "from" : "role");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(t, sg ? "value" : "content");
		if (!cJSON_IsString(role)) {
			mark(r, VC_CHAT_ROLES, field, (size_t)pos, "no role");
			continue;
		}
		if (!strcmp(role->valuestring, "system")) {
			if (pos != 0)
				mark(r, VC_CHAT_ROLES, field, (size_t)pos, "system not first");
			continue;
		}
		int want_user = (turns % 2) == 0;
		int is_user = role_in(role->valuestring, USER), is_asst = role_in(role->valuestring, ASSISTANT);
		if (!is_user && !is_asst)
			mark(r, VC_CHAT_ROLES, field, (size_t)pos, "unknown role");
		else if (want_user != is_user)
			mark(r, VC_CHAT_ROLES, field, (size_t)pos, "out of turn");
		last_side = is_asst ? "assistant" : "user";
		turns++;
		if (!cJSON_IsString(content) || blank(content->valuestring))
			mark(r, VC_CHAT_EMPTY_TURN, field, (size_t)pos, "empty");
	}
	if (turns == 0 || turns % 2 || (last_side && strcmp(last_side, "assistant")))
		mark(r, VC_CHAT_TURNS, field, turns, "turns");
}

static int nonblank_output(const cJSON *o)
{
	if (cJSON_IsString(o))
		return !blank(o->valuestring);
	if (cJSON_IsArray(o)) {
		if (!o->child)
			return 0;
		for (const cJSON *x = o->child; x; x = x->next)
			if (!cJSON_IsString(x) || blank(x->valuestring))
				return 0;
		return 1;
	}
	return 0;
}

static void alpaca_checks(vs_scan *r, const cJSON *obj)
{
	const cJSON *ins = cJSON_GetObjectItemCaseSensitive(obj, "instruction");
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(obj, "output");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "history");
	if (!cJSON_IsString(ins) || blank(ins->valuestring))
		mark(r, VC_ALPACA_EMPTY, "instruction", 0, "blank");
	else if (!nonblank_output(out))
		mark(r, VC_ALPACA_EMPTY, "output", 0, "blank");
	if (h && !cJSON_IsNull(h)) {
		int ok = cJSON_IsArray(h);
		for (const cJSON *p = ok ? h->child : NULL; p && ok; p = p->next)
			ok = cJSON_IsArray(p) && cJSON_GetArraySize(p) == 2 && cJSON_IsString(p->child) &&
			     cJSON_IsString(p->child->next);
		if (!ok)
			mark(r, VC_ALPACA_HISTORY, "history", 0, "shape");
	}
}

void nd_vs_record(vs_scan *r, const nd_record *rec, nd_preset preset, const char *bytes, size_t len)
{
	r->flags = 0;
	r->cjk = r->letters = 0;
	r->full_punct = r->half_punct = 0;
	r->half_at_field = NULL;
	int exam = nd_vs_exam_like(rec, preset);
	vs_type t = nd_vs_type(rec->type);

	if (blank(rec->stem))
		mark(r, VC_MISSING_STEM, "stem", 0, "blank");
	if (exam) {
		if (rec->answer_kind == ND_ANSWER_NONE)
			mark(r, VC_MISSING_ANSWER, "answer", 0, "none");
		if (rec->answer_kind == ND_ANSWER_INVALID)
			mark(r, VC_BAD_ANSWER, "answer", 0, "unreadable");
		if ((rec->defects & ND_DEFECT_NO_OPTIONS) || ((t == VS_SINGLE || t == VS_MULTI) && rec->n_options == 0))
			mark(r, VC_OPTIONS_MISSING, "options", 0, "none");
		if ((t == VS_JUDGE && rec->n_options != 0 && rec->n_options != 2) || rec->n_options == 1)
			mark(r, VC_TYPE_OPTIONS, "options", rec->n_options, "count");
		for (size_t a = 0; a < rec->n_options; a++)
			for (size_t b = a + 1; b < rec->n_options; b++)
				if (!strcmp(rec->options[a], rec->options[b]))
					mark(r, VC_TYPE_OPTIONS, "options", b, "repeated");
		if (rec->answer_kind == ND_ANSWER_CHOICE) {
			int pc = __builtin_popcount(rec->answer_mask);
			if ((t == VS_MULTI && pc < 2) || (t == VS_SINGLE && pc > 1))
				mark(r, VC_ANSWER_COUNT, "answer", (size_t)pc, "count");
		}
		if (t == VS_JUDGE && rec->answer_kind != ND_ANSWER_JUDGE && rec->answer_kind != ND_ANSWER_NONE)
			mark(r, VC_JUDGE_ANSWER, "answer", 0, "not judge");
		if (blank(rec->explanation))
			mark(r, VC_EMPTY_EXPL, "explanation", 0, "blank");
		/* every Chinese word holds 图; the English ones a space */
		if (blank(rec->image) && rec->stem && (strstr(rec->stem, "图") || strchr(rec->stem, ' ')))
			for (int k = 0; IMAGE_WORDS[k]; k++) {
				const char *p = strstr(rec->stem, IMAGE_WORDS[k]);
				if (p) {
					mark(r, VC_IMAGE_MISSING, "stem", (size_t)(p - rec->stem), IMAGE_WORDS[k]);
					break;
				}
			}
	}
	if (preset == ND_PRESET_ALPACA || preset == ND_PRESET_SHAREGPT || preset == ND_PRESET_MESSAGES) {
		cJSON *obj = cJSON_ParseWithLength(bytes, len);
		if (obj) {
			if (preset == ND_PRESET_ALPACA)
				alpaca_checks(r, obj);
			else
				chat_checks(r, obj, preset == ND_PRESET_SHAREGPT);
			cJSON_Delete(obj);
		}
	}
	nd_vs_text(r, "stem", -1, rec->stem);
	for (size_t k = 0; k < rec->n_options; k++)
		nd_vs_text(r, "options", (int)k, rec->options[k]);
	nd_vs_text(r, "answer", -1, rec->answer_raw);
	if (rec->answer_text != rec->answer_raw)
		nd_vs_text(r, "answer_text", -1, rec->answer_text);
	nd_vs_text(r, "explanation", -1, rec->explanation);
	if (r->full_punct && r->half_punct && r->cjk > 0)
		mark_opt(r, VC_MIXED_PUNCT, r->half_at_field, r->half_at_opt, r->half_at, "mixed");
	/* length: code points of the stem (the question, or what the user says) */
	size_t cps = 0;
	if (rec->stem)
		for (const unsigned char *p = (const unsigned char *)rec->stem; *p; p++)
			cps += (*p & 0xC0) != 0x80;
	r->length = cps;
}

const char *nd_vs_field_text(const nd_record *rec, const char *field, int opt)
{
	if (!field)
		return NULL;
	if (!strcmp(field, "stem"))
		return rec->stem;
	if (!strcmp(field, "explanation"))
		return rec->explanation;
	if (!strcmp(field, "answer"))
		return rec->answer_raw;
	if (!strcmp(field, "answer_text"))
		return rec->answer_text;
	if (!strcmp(field, "options") && opt >= 0 && (size_t)opt < rec->n_options)
		return rec->options[opt];
	return NULL;
}
