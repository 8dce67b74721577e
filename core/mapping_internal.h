/* Field mapping: presets, explicit --fields specs, answer parsing. */
#ifndef ND_MAPPING_INTERNAL_H
#define ND_MAPPING_INTERNAL_H

#include <cjson/cJSON.h>
#include "internal.h"
#include "neardup/records.h"

/* Pieces a stem is made of (alpaca: instruction, input; chat: system, user turns),
 * kept apart so a piece that is the same in nearly every record can be left out
 * of similarity. */
#define ND_STEM_PARTS 3

typedef struct {
	const char *name;  /* "instruction" … (static) */
} nd_stem_part_info;

/* A compiled mapping. */
typedef struct {
	nd_preset preset;
	/* ND_PRESET_FIELDS: one path list per view field; "" = unmapped */
	char *spec[9];
	int n_parts;                       /* stem parts this mapping yields */
	const char *part_names[ND_STEM_PARTS];
	char description[512];             /* for the notes */
} nd_mapping;

/* Per-record mapping output besides nd_record. */
typedef struct {
	const char *part[ND_STEM_PARTS];   /* stem pieces (arena), NULL = absent */
	int judge_options;                 /* the options are a true/false pair */
} nd_mapped_extra;

/* Chooses a preset from sample records; *m is filled. On ambiguity or no match
 * returns ND_EMAPPING with a message naming the keys seen. */
int nd_mapping_detect(nd_mapping *m, cJSON *const *samples, size_t n, const char *path);
/* Compiles an explicit "stem=a,options=b,..." spec. */
int nd_mapping_compile_fields(nd_mapping *m, const char *spec);
void nd_mapping_release(nd_mapping *m);
/* Sets up a mapping for a named preset without detection. */
int nd_mapping_for_preset(nd_mapping *m, nd_preset p);

/* Maps one parsed record. Strings are copied into @arena. Errors (wrong field type)
 * are ND_EFORMAT with a message naming the field; the caller adds file/record. */
int nd_map_record(const nd_mapping *m, const cJSON *obj, nd_arena *arena, nd_record *rec,
		  nd_mapped_extra *extra);

/* Parses an answer as written against the record's options (exposed for tests). */
void nd_parse_answer(const char *raw, const char *type, const char *const *options, size_t n_options,
		     nd_record *rec);

/* Judge value of a word ("对", "正确", "true", "√" …): 1 true, 0 false, -1 not a judge word. */
int nd_judge_word(const char *s, size_t n);

#endif
