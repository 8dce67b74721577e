/* Allocation helpers, growable buffers and arenas. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>
#include "internal.h"

void *nd_malloc(size_t n) { return malloc(n ? n : 1); }

void *nd_calloc(size_t count, size_t size) { return calloc(count ? count : 1, size ? size : 1); }

void *nd_reallocarray(void *p, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	size_t total = count * size;
	return realloc(p, total ? total : 1);
}

char *nd_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

int nd_buf_reserve(nd_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;
	if (extra > SIZE_MAX - b->len - 1)
		return nd_seterr(ND_ENOMEM, "buffer size overflow");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return nd_seterr(ND_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
	b->data = p;
	b->cap = cap;
	return 0;
}

int nd_buf_append(nd_buf *b, const void *p, size_t n)
{
	int rc = nd_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int nd_buf_putc(nd_buf *b, char c) { return nd_buf_append(b, &c, 1); }

int nd_buf_printf(nd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return nd_seterr(ND_EINVAL, "bad format string");
	if ((rc = nd_buf_reserve(b, (size_t)n)))
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void nd_buf_free(nd_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void *nd_arena_alloc(nd_arena *a, size_t n)
{
	nd_arena_block *b = a->head;
	n = (n + 7) & ~(size_t)7;
	if (!b || b->size - b->used < n) {
		size_t bs = a->block_size ? a->block_size : 64 * 1024;
		if (n > bs / 4)
			bs = n; /* a large item gets a block of its own */
		if (bs > SIZE_MAX - sizeof *b)
			return NULL;
		nd_arena_block *nb = malloc(sizeof *nb + bs);
		if (!nb)
			return NULL;
#ifdef MADV_POPULATE_WRITE
		/* a big block is filled by the thread that asked for it: its pages in one
		 * call instead of a fault each (reading 1M records: 0.65 -> 0.45 s of
		 * system time); advice only, and older kernels ignore it */
		if (bs >= ((size_t)256 << 10)) {
			uintptr_t lo = ((uintptr_t)nb->mem + 4095) & ~(uintptr_t)4095;
			uintptr_t hi = ((uintptr_t)nb->mem + bs) & ~(uintptr_t)4095;
			if (hi > lo)
				madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
		}
#endif
		nb->used = 0;
		nb->size = bs;
		if (b && n == bs) { /* keep the partly used block in front */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = b->mem + b->used;
	b->used += n;
	return p;
}

char *nd_arena_strndup(nd_arena *a, const char *s, size_t n)
{
	char *d;
	if (n == SIZE_MAX || !(d = nd_arena_alloc(a, n + 1)))
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void nd_arena_free(nd_arena *a)
{
	nd_arena_block *b, *next;
	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

void nd_arena_reset(nd_arena *a)
{
	size_t bs = a->block_size ? a->block_size : 64 * 1024;
	nd_arena_block *keep = NULL, *b, *next;
	for (b = a->head; b; b = next) {
		next = b->next;
		if (!keep && b->size == bs)
			keep = b;
		else
			free(b);
	}
	if (keep) {
		keep->used = 0;
		keep->next = NULL;
	}
	a->head = keep;
}

double nd_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

char *nd_utoa_end(unsigned long long v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}
