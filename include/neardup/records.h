/* neardup — reading datasets, mapping records to a common view, writing them back.
 *
 * An input is a JSON array, JSON Lines, or a JSON object that wraps the record
 * array ({"questions": [...]}), detected from content (never the file name), with
 * or without a UTF-8 BOM, LF or CRLF. "-" reads standard input (spooled to an
 * unlinked temporary file so records can be written back byte-for-byte).
 * Records are found by a streaming structural scan and parsed one element at a
 * time: no document tree of the whole file is ever built.
 *
 * Every record keeps its original bytes (offset + length in the input) and gets a
 * view {id, stem, options[], answer, image, explanation, type, category} through
 * a preset (exam bank, alpaca, sharegpt, OpenAI messages) or an explicit mapping.
 */
#ifndef ND_RECORDS_H
#define ND_RECORDS_H

#include "neardup/common.h"
#include "neardup/normalize.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- input -- */

typedef enum {
	ND_CONTAINER_ARRAY = 0, /* [ {...}, {...} ] */
	ND_CONTAINER_JSONL = 1, /* one JSON object per line */
	ND_CONTAINER_WRAPPED = 2 /* { "key": [ {...}, ... ], ... } */
} nd_container;

/*! nd_container_name() : "array", "jsonl" or "wrapped" (static). */
ND_API const char *nd_container_name(nd_container c);

typedef struct nd_input nd_input;

#define ND_INPUT_OPTS_VERSION 1
typedef struct {
	unsigned version;        /* ND_INPUT_OPTS_VERSION */
	size_t max_record_bytes; /* larger records are an ND_ELIMIT error; default 64 MiB */
	const char *records_key; /* wrapper member holding the records; NULL = detect */
} nd_input_opts;
#define ND_INPUT_OPTS_INIT { ND_INPUT_OPTS_VERSION, (size_t)64 << 20, NULL }

/* What detection found. Strings are owned by the input. */
typedef struct {
	const char *path;        /* as given ("-" for stdin) */
	uint64_t size;           /* bytes */
	nd_container container;
	const char *wrapper_key; /* for ND_CONTAINER_WRAPPED, else NULL */
	int bom;                 /* input starts with a UTF-8 BOM */
	int crlf;                /* the first line ends with CRLF */
} nd_input_info;

/* One record's place in the input. */
typedef struct {
	uint64_t offset; /* byte offset of the record's first byte */
	size_t len;      /* bytes */
	size_t index;    /* 0-based record number */
} nd_span;

/*! nd_input_open() :
 * Opens @path ("-" = stdin), maps it and detects the container. @opts may be NULL.
 * @return 0; ND_EIO (cannot open/read: message names the path and errno),
 *   ND_EEMPTY (empty file or only whitespace), ND_EPARSE (not JSON: the message
 *   gives the byte offset), ND_EMAPPING (a wrapper object with no record array, or
 *   with two candidate arrays and no opts->records_key), ND_ENOMEM. */
ND_API int nd_input_open(nd_input **out, const char *path, const nd_input_opts *opts);

/*! nd_input_free() : unmaps and closes; NULL is a no-op. */
ND_API void nd_input_free(nd_input *in);

/*! nd_input_info_get() : @return detection results; valid while @in is open. */
ND_API const nd_input_info *nd_input_info_get(const nd_input *in);

/*! nd_input_data() : @return the whole input's bytes (read-only, valid while open). */
ND_API const char *nd_input_data(const nd_input *in);

/*! nd_input_next() :
 * Finds the next record. @return 1 and fills *span; 0 at the end; a negative
 * ND_EPARSE / ND_ELIMIT on a structural error ("file: byte N, line L: ..."). The
 * span's bytes are checked only structurally here; nd_dataset_load parses them. */
ND_API int nd_input_next(nd_input *in, nd_span *span);

/* --------------------------------------------------------------- records -- */

typedef enum {
	ND_PRESET_AUTO = 0,
	ND_PRESET_EXAM,     /* question + options/choose/item1../a..d + answer */
	ND_PRESET_ALPACA,   /* instruction, input, output, system, history */
	ND_PRESET_SHAREGPT, /* conversations: [{from, value}] */
	ND_PRESET_MESSAGES, /* messages: [{role, content}] */
	ND_PRESET_FIELDS    /* explicit --fields mapping */
} nd_preset;

/*! nd_preset_name() / nd_preset_parse() : "auto", "exam", "alpaca", "sharegpt",
 * "messages", "fields". parse returns ND_EINVAL for an unknown name. */
ND_API const char *nd_preset_name(nd_preset p);
ND_API int nd_preset_parse(nd_preset *out, const char *name);

typedef enum {
	ND_ANSWER_NONE = 0, /* the record has no answer */
	ND_ANSWER_JUDGE,    /* true/false question: judge_value holds it */
	ND_ANSWER_CHOICE,   /* one or more options: answer_mask holds them */
	ND_ANSWER_TEXT,     /* free text (alpaca output, assistant turn, a question without options) */
	ND_ANSWER_INVALID   /* present but cannot be read (letter outside the options …) */
} nd_answer_kind;

/* Defects a record can carry (bit flags), used by keep policies and validate. */
enum {
	ND_DEFECT_NO_STEM = 1u << 0,
	ND_DEFECT_NO_ANSWER = 1u << 1,
	ND_DEFECT_BAD_ANSWER = 1u << 2,
	ND_DEFECT_NO_OPTIONS = 1u << 3, /* a choice question without options */
	ND_DEFECT_NO_EXPLANATION = 1u << 4
};

#define ND_MAX_OPTIONS 26

/* The common view of one record. Every string is NUL-terminated UTF-8 owned by the
 * dataset, NULL when absent. Texts are as written (not normalised), except that
 * option labels ("A、", "B.") are removed from options. */
typedef struct {
	const char *id;
	const char *stem;
	const char *const *options;
	size_t n_options;
	const char *answer_raw;      /* the answer as written ("B", "A,C,D", "对", "2") */
	nd_answer_kind answer_kind;
	uint32_t answer_mask;        /* ND_ANSWER_CHOICE: bit i = options[i] is correct */
	int judge_value;             /* ND_ANSWER_JUDGE: 1 true, 0 false */
	const char *answer_text;     /* ND_ANSWER_TEXT: the text */
	const char *image;
	const char *explanation;
	const char *type;            /* as written: "single", "判断题" … */
	const char *category;
	unsigned defects;            /* ND_DEFECT_* */
	nd_span span;                /* where the original bytes are */
} nd_record;

/* ---------------------------------------------------------------- dataset -- */

typedef struct nd_dataset nd_dataset;

#define ND_LOAD_OPTS_VERSION 1
typedef struct {
	unsigned version;        /* ND_LOAD_OPTS_VERSION */
	nd_preset preset;        /* default ND_PRESET_AUTO */
	const char *fields;      /* for ND_PRESET_FIELDS: "stem=question,options=choose,answer=ans,
	                          * id=qid,image=pic,explanation=analysis,type=t,category=c";
	                          * "a.b" follows nested objects, "x+y" joins fields */
	nd_input_opts input;
	nd_norm_opts norm;
	double constant_share;   /* a stem component equal in >= this share of records is
	                          * left out of similarity; default 0.9; 0 disables */
	unsigned threads;        /* 0 = all cores; results do not depend on it */
} nd_load_opts;
#define ND_LOAD_OPTS_INIT                                                                  \
	{ ND_LOAD_OPTS_VERSION, ND_PRESET_AUTO, NULL, ND_INPUT_OPTS_INIT, ND_NORM_OPTS_INIT, 0.9, 0 }

/*! nd_dataset_load() :
 * Reads every record of @path, maps it and normalises its comparison text.
 * @return 0; the nd_input_open codes; ND_EPARSE (a malformed record: the message
 *   names the file, record number, byte offset and line); ND_EFORMAT (a record that is
 *   not an object, or a field of the wrong type); ND_EUTF8; ND_EMAPPING (no preset
 *   fits, or several do); ND_EEMPTY (no records); ND_ENOMEM; ND_EINTR. */
ND_API int nd_dataset_load(nd_dataset **out, const char *path, const nd_load_opts *opts);

/*! nd_dataset_free() : NULL is a no-op. */
ND_API void nd_dataset_free(nd_dataset *ds);

ND_API size_t nd_dataset_count(const nd_dataset *ds);
/*! nd_dataset_data() : the input's bytes (nd_dataset_input()->size of them), valid while @ds lives. */
ND_API const char *nd_dataset_data(const nd_dataset *ds);
/*! nd_dataset_sha256() : SHA-256 of the input's bytes (all of them, as read), 64
 * lower-case hex digits; computed while loading, so asking costs nothing. */
ND_API const char *nd_dataset_sha256(const nd_dataset *ds);
ND_API const nd_input_info *nd_dataset_input(const nd_dataset *ds);
ND_API nd_preset nd_dataset_preset(const nd_dataset *ds);
/*! nd_dataset_record() : @return record @i (0-based), valid while @ds lives. */
ND_API const nd_record *nd_dataset_record(const nd_dataset *ds, size_t i);

/* Comparison data of one record, derived from the view by normalisation. */
typedef struct {
	const char *text;         /* normalised stem + sorted normalised options (space-joined) */
	size_t text_len;
	const char *stem;         /* normalised stem alone */
	size_t stem_len;
	const char *numbers;      /* guard features of stem + options: see nd_text_features */
	unsigned negations;
	uint64_t option_set;      /* order-free hash of the normalised option texts; 0 = none */
	const char *answer;       /* normalised answer as text ("true"/"false" for judge
	                           * questions, option texts sorted and joined by "|"), "" = none */
	const char *image_key;    /* image file name without directories, query and
	                           * extension, lower-cased; NULL = no image */
	uint64_t exact_key;       /* hash of text + image_key: equal keys are exact duplicates */
	/* 64-bit hashes of numbers, answer and image_key, 0 when that is empty or
	 * absent: different hashes mean different strings, so the guards compare
	 * millions of pairs without touching the strings (equal hashes are confirmed). */
	uint64_t numbers_hash, answer_hash, image_hash;
} nd_compare;

/*! nd_dataset_compare() : @return the comparison data of record @i. */
ND_API const nd_compare *nd_dataset_compare(const nd_dataset *ds, size_t i);

/*! nd_dataset_notes() :
 * What detection decided, in words, for a tool to show ("JSON array wrapped in
 * object member \"questions\"", "preset exam: stem=question options=options …",
 * "field \"instruction\" has one value in 100% of records: left out of similarity").
 * @return the number of notes; *notes points at an array owned by @ds. */
ND_API size_t nd_dataset_notes(const nd_dataset *ds, const char *const **notes);

/*! nd_dataset_write() :
 * Writes the records whose keep[i] is non-zero, byte-for-byte as read, in input
 * order, in the input's container (array → array with the original leading and
 * trailing bytes, JSONL → JSONL, wrapped → the same wrapper). @path "-" writes to
 * stdout; otherwise the file is written to a temporary name in the same directory
 * and renamed into place, so no partial file is ever left. Writing with every
 * keep[i] set reproduces an input whose records are evenly separated byte-for-byte.
 * @return 0, ND_EIO (message names the path), ND_ENOMEM, ND_EINTR. */
ND_API int nd_dataset_write(const nd_dataset *ds, const char *path, const unsigned char *keep);

/* ------------------------------------------------------------ atomic file -- */

/* A file written under a temporary name and renamed on commit. "-" is stdout. */
typedef struct nd_outfile nd_outfile;

/*! nd_outfile_open() : creates "<path>.tmp.XXXXXX" beside @path (or uses stdout).
 * @return 0 or ND_EIO naming the path (missing directory, no permission). */
ND_API int nd_outfile_open(nd_outfile **out, const char *path);
/*! nd_outfile_write() : buffered write. @return 0 or ND_EIO (disk full …). */
ND_API int nd_outfile_write(nd_outfile *f, const void *data, size_t len);
ND_API int nd_outfile_printf(nd_outfile *f, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/*! nd_outfile_commit() : flushes, fsyncs, renames into place and frees @f.
 * @return 0 or ND_EIO (the temporary file is removed on failure). */
ND_API int nd_outfile_commit(nd_outfile *f);
/*! nd_outfile_abort() : removes the temporary file and frees @f; NULL is a no-op. */
ND_API void nd_outfile_abort(nd_outfile *f);
/*! nd_outfile_cleanup_all() :
 * Removes every temporary file still open in this process. Async-signal-safe
 * (only unlink(2)); a tool calls it from its SIGINT/SIGTERM handler. */
ND_API void nd_outfile_cleanup_all(void);

#ifdef __cplusplus
}
#endif
#endif
