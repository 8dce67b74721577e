/* Private helpers shared by every module of the library (not installed). */
#ifndef ND_INTERNAL_H
#define ND_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "neardup/common.h"

#if defined(__GNUC__)
#define ND_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define ND_LIKELY(x) __builtin_expect(!!(x), 1)
#define ND_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define ND_PRINTF(fmt, args)
#define ND_LIKELY(x) (x)
#define ND_UNLIKELY(x) (x)
#endif

/* Record a message for nd_error_last() and return `code`, so callers can write
 * `return nd_seterr(ND_EINVAL, "bad value %d", v);`. */
int nd_seterr(int code, const char *fmt, ...) ND_PRINTF(2, 3);
/* Prefix the current message: "<prefix>: <old message>". Returns code. */
int nd_error_prefix(int code, const char *fmt, ...) ND_PRINTF(2, 3);

/* 1 when the tool asked the library to stop (see nd_set_interrupt_flag). */
int nd_interrupted(void);

/* Checked allocation helpers: never abort; return NULL on overflow/failure. */
void *nd_malloc(size_t n);
void *nd_calloc(size_t count, size_t size);
void *nd_reallocarray(void *p, size_t count, size_t size);
char *nd_strndup(const char *s, size_t n);

/* A growable byte buffer. Zero-initialise it; free with nd_buf_free. */
typedef struct {
	char *data;
	size_t len;
	size_t cap;
} nd_buf;
int nd_buf_reserve(nd_buf *b, size_t extra); /* room for `extra` more bytes + NUL */
int nd_buf_append(nd_buf *b, const void *p, size_t n);
int nd_buf_putc(nd_buf *b, char c);
int nd_buf_printf(nd_buf *b, const char *fmt, ...) ND_PRINTF(2, 3);
void nd_buf_free(nd_buf *b);

/* Bump arena for many small, same-lifetime allocations (record views, strings). */
typedef struct nd_arena_block nd_arena_block;
struct nd_arena_block {
	nd_arena_block *next;
	size_t used, size;
	_Alignas(16) unsigned char mem[];
};
typedef struct {
	nd_arena_block *head;
	size_t block_size;
} nd_arena;
void *nd_arena_alloc(nd_arena *a, size_t n); /* 8-byte aligned; NULL on failure */
/* nd_arena_alloc with its common case inline, for callers that allocate per value */
static inline void *nd_arena_alloc_fast(nd_arena *a, size_t n)
{
	nd_arena_block *b = a->head;
	size_t m = (n + 7) & ~(size_t)7;
	if (b && m >= n && b->size - b->used >= m) {
		void *p = b->mem + b->used;
		b->used += m;
		return p;
	}
	return nd_arena_alloc(a, n);
}
char *nd_arena_strndup(nd_arena *a, const char *s, size_t n);
void nd_arena_free(nd_arena *a);
/* Empties @a for reuse: keeps one block of the arena's block size (the pages a
 * scratch arena touches again), frees the rest. */
void nd_arena_reset(nd_arena *a);


/* Run fn(ctx, begin, end, worker) over [0, n) split into contiguous chunks of at
 * most `grain` items, on `threads` workers (0 = all cores). Chunks are taken in
 * order; results must not depend on which worker ran which chunk. Returns the first
 * non-zero value returned by fn (lowest chunk index wins, so errors are
 * deterministic), or 0. */
typedef int (*nd_range_fn)(void *ctx, size_t begin, size_t end, unsigned worker);
int nd_parallel_for(size_t n, size_t grain, unsigned threads, nd_range_fn fn, void *ctx);
unsigned nd_cpu_count(void);

/* Writes the decimal digits of @v so that they end at @end; returns where they
 * start ("%llu" without printf: reports and readers format millions of them). */
char *nd_utoa_end(unsigned long long v, char *end);

/* For writers that walk a dataset's records in input order, reading their bytes
 * (nd_dataset_write, the removed list): drops the input pages of the window of
 * records before record @i when @i starts a window, as loading did, so that a
 * copy of a large input does not count its size in resident memory again. */
struct nd_dataset;
void nd_dataset_release_behind(const struct nd_dataset *ds, size_t i);

/* For the per-character and per-pair loops whose helpers the compiler would
 * otherwise call (normalize.c, lexical.c). */
#if defined(__GNUC__)
#define ND_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ND_ALWAYS_INLINE inline
#endif

/* What the CPU offers the kernels chosen at run time (the build targets plain
 * x86-64): 1 when it has AVX2 / POPCNT; 0 on other architectures. */
int nd_cpu_has_avx2(void);
int nd_cpu_has_popcnt(void);
/* AVX-512 F/VL/BW/DQ with VPOPCNTQ (and the OS saving ZMM state): the verification's pair loop */
int nd_cpu_has_avx512pop(void);

/* utf8_avx2.c, for nd_utf8_validate: how many leading bytes of s[0 .. len) AVX2
 * found to be whole valid UTF-8 sequences without NUL (a prefix ending on a
 * sequence boundary; 0 when it found anything wrong, so that the scalar walk
 * names the error); call only when nd_cpu_has_avx2(). */
size_t nd_utf8_avx2_prefix(const unsigned char *s, size_t len);

/* Monotonic clock in seconds, for stage timings. */
double nd_now(void);

#endif
