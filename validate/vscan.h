/* validate/ — private: per-record checks (textscan.c). */
#ifndef ND_VSCAN_H
#define ND_VSCAN_H

#include "vinternal.h"

#define VS_NCHECKS (VC_LAST_RECORD_CHECK - VC_FIRST_RECORD_CHECK + 1)

typedef struct {
	const char *field; /* "stem", "options", "answer", "answer_text", "explanation", or a JSON member */
	int opt;           /* option number for "options", else -1 */
	size_t at;         /* byte offset in that text (a turn number for chat checks) */
	const char *what;  /* a short static word on what was found */
} vs_where;

typedef struct {
	unsigned flags;    /* bit k - VC_FIRST_RECORD_CHECK for each per-record check k that fired */
	size_t cjk, letters, length;
	int full_punct, half_punct;
	const char *half_at_field;
	int half_at_opt;
	size_t half_at;
	vs_where *where;   /* NULL, or VS_NCHECKS slots: where each check fired first */
} vs_scan;

typedef enum { VS_UNKNOWN = 0, VS_JUDGE, VS_SINGLE, VS_MULTI } vs_type;

vs_type nd_vs_type(const char *type);
int nd_vs_is_cjk(uint32_t c);
int nd_vs_exam_like(const nd_record *rec, nd_preset p);
void nd_vs_text(vs_scan *r, const char *field, int opt, const char *text);
/* Runs every per-record check on @rec (@bytes: its original JSON, for format checks). */
void nd_vs_record(vs_scan *r, const nd_record *rec, nd_preset preset, const char *bytes, size_t len);
/* The text a vs_where points into. */
const char *nd_vs_field_text(const nd_record *rec, const char *field, int opt);

#endif
