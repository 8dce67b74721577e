/* neardup — common definitions: export macro, error codes, version.
 *
 * Conventions of the whole API:
 *  - functions return int: 0 (ND_OK) on success, a negative ND_E* code on failure;
 *    out-parameters come first;
 *  - on failure a human-readable message is kept in thread-local storage and read
 *    with nd_error_last(); it stays valid until the next failing call on the same thread;
 *  - every *_free() accepts NULL;
 *  - option structs carry a `version` field and have an ND_*_OPTS_INIT initialiser;
 *  - the library never prints, exits or aborts.
 */
#ifndef ND_COMMON_H
#define ND_COMMON_H

#include <stddef.h> /* size_t */
#include <stdint.h> /* uint64_t */

#if defined(__GNUC__) && defined(ND_BUILDING_LIBRARY)
#define ND_API __attribute__((visibility("default")))
#else
#define ND_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define ND_VERSION_MAJOR 0
#define ND_VERSION_MINOR 1
#define ND_VERSION_PATCH 0
#define ND_VERSION_STRING "0.1.0"

/* Error codes. Stable: tools map them to exit codes (docs/exit-codes.md). */
enum {
	ND_OK = 0,
	ND_ENOMEM = -1,    /* allocation failed or a size limit would overflow */
	ND_EINVAL = -2,    /* invalid argument or option value */
	ND_EIO = -3,       /* read/write/open failure (errno in the message) */
	ND_EPARSE = -4,    /* malformed JSON or other syntax error in input */
	ND_EUTF8 = -5,     /* invalid UTF-8 or NUL byte in text */
	ND_EMAPPING = -6,  /* records do not fit any preset, or the mapping is ambiguous */
	ND_EEMPTY = -7,    /* input holds no records */
	ND_ELIMIT = -8,    /* input exceeds a documented limit */
	ND_EFORMAT = -9,   /* a well-formed file with wrong content (wrong field type, shape) */
	ND_EBACKEND = -10, /* an external library (ICU, FAISS, BLAS) failed */
	ND_ENET = -11,     /* HTTP transport or protocol failure */
	ND_EINTR = -12,    /* cancelled through an interrupt flag */
	ND_EINTERNAL = -13 /* a bug: an invariant did not hold */
};

/*! nd_error_last() :
 * @return the message of the last failure on the calling thread, or "" when none.
 * The pointer is thread-local and valid until the next failing call on this thread. */
ND_API const char *nd_error_last(void);

/*! nd_error_clear() : forget the calling thread's last message. */
ND_API void nd_error_clear(void);

/*! nd_strerror() :
 * @return a static, generic description of an ND_E* code ("unknown error" otherwise). */
ND_API const char *nd_strerror(int code);

/*! nd_version() : @return the library version as "MAJOR.MINOR.PATCH" (static string). */
ND_API const char *nd_version(void);

/*! nd_set_interrupt_flag() :
 * Long-running library calls poll *flag (when non-NULL) and fail with ND_EINTR once it
 * becomes non-zero; a tool points it at a flag its signal handler sets. Process-wide;
 * call before starting work. */
ND_API void nd_set_interrupt_flag(volatile int *flag);

#ifdef __cplusplus
}
#endif
#endif /* ND_COMMON_H */
