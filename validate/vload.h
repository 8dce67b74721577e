/* validate/ — private: reading the records to validate (load.c). */
#ifndef ND_VLOAD_H
#define ND_VLOAD_H

#include "vinternal.h"

typedef struct {
	int src;      /* source (split) number */
	size_t index; /* record index in that source */
	char *msg;
} nd_vbad;

typedef struct {
	nd_dataset *ds;          /* the records that parsed */
	unsigned char *split;    /* per row: source number (NULL = all 0) */
	size_t *orig;            /* per row: index in its source (NULL = the row itself) */
	nd_vbad bad[ND_VALIDATE_MAX_BAD];
	size_t nbad;
	size_t src_records[3];   /* records seen per source (slow path only; 0 otherwise) */
	const char *path[3], *display[3];
	char *spool[3];          /* stdin copies, removed on free */
} nd_vdata;

int nd_vdata_load(nd_vdata *d, const nd_vinput *in, const nd_load_opts *lo);
void nd_vdata_free(nd_vdata *d);
size_t nd_vdata_orig(const nd_vdata *d, size_t row);
int nd_vdata_split(const nd_vdata *d, size_t row);

/* A dedup report, opened and checked against its input. */
typedef struct {
	char *text;
	struct cJSON *root;
	char *input_path;        /* resolved; NULL for stdin */
	char *output_path;       /* resolved; NULL when none */
	unsigned char *exclude;  /* no output: input records the report removed */
	size_t input_records, output_records, removed, clusters, conflicts;
	uint64_t input_size;
	char sha[65];
	int input_checked;
} nd_vreport;

/* Parses @rp, checks the input's size and SHA-256, finds the data to validate and,
 * with @take_params, copies the report's parameters into @dopts. */
int nd_vreport_open(nd_vreport *r, const char *rp, nd_dedup_opts *dopts, int take_params);
void nd_vreport_free(nd_vreport *r);

#endif
