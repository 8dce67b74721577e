/* Helpers shared by the fuzz targets (tests/fuzz/fuzz_*.c).
 *
 * The readers under test take a path, so an input is handed over as a file. A
 * memfd (memory only, no disk, no name left behind) is rewritten for each input and
 * opened through /proc/self/fd/N: the library sees an ordinary regular file it can
 * open, fstat and mmap.
 */
#ifndef ND_FUZZ_COMMON_H
#define ND_FUZZ_COMMON_H

#include <stddef.h> /* size_t */
#include <stdint.h> /* uint8_t */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h> /* memfd_create */
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: print it and abort, so libFuzzer (and the replay driver)
 * report the input as a crash. */
#define FZ_ASSERT(cond)                                                                          \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

typedef struct {
	int fd;
	char path[64];
} fz_memfile;

/* Replaces the content of @f (created on first use) with @data; returns its path. */
static inline const char *fz_memfile_set(fz_memfile *f, const void *data, size_t size)
{
	if (f->fd <= 0) {
		f->fd = memfd_create("ndfuzz", MFD_CLOEXEC);
		if (f->fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
	}
	if (ftruncate(f->fd, 0) != 0) {
		perror("ftruncate");
		abort();
	}
	const char *p = data;
	size_t off = 0;
	while (off < size) {
		ssize_t w = pwrite(f->fd, p + off, size - off, (off_t)off);
		if (w <= 0) {
			perror("pwrite");
			abort();
		}
		off += (size_t)w;
	}
	return f->path;
}

/* Writes @data to @path (a scratch file of the target), whole. */
static inline void fz_write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

/* A private scratch directory under /dev/shm (memory), removed at exit. */
static char fz_dir_path[64];
static void fz_dir_remove(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir_path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fz_dir_path);
}
static inline const char *fz_dir(void)
{
	if (!fz_dir_path[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(fz_dir_path, sizeof fz_dir_path, "%s/ndfuzz-XXXXXX", base);
		if (!mkdtemp(fz_dir_path)) {
			perror("mkdtemp");
			abort();
		}
		atexit(fz_dir_remove);
	}
	return fz_dir_path;
}

#endif
