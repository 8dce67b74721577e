/* Output files written under a temporary name and renamed into place, so a crash,
 * a full disk or a signal never leaves a partial file at the requested path. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "neardup/records.h"

#define OUT_BUF_SIZE (1 << 16)
/* Temporary files open at once in one process: a tool writes at most a handful
 * (output, report, removed list, split parts). */
#define MAX_LIVE_TMP 64
#define WRITEBACK_STEP (8 << 20)

struct nd_outfile {
	int fd;
	int is_stdout;
	int slot;
	char *path, *tmp;
	off_t written, queued; /* bytes written; bytes whose writeback was started */
	size_t used;
	char buf[OUT_BUF_SIZE];
};

/* Registry for nd_outfile_cleanup_all(), read from signal handlers: fixed storage,
 * a slot is published by setting live after its path is written. */
static char live_path[MAX_LIVE_TMP][PATH_MAX];
static volatile sig_atomic_t live[MAX_LIVE_TMP];

static int claim_slot(const char *tmp)
{
	for (int i = 0; i < MAX_LIVE_TMP; i++) {
		if (!live[i] && strlen(tmp) < PATH_MAX) {
			strcpy(live_path[i], tmp);
			live[i] = 1;
			return i;
		}
	}
	return -1; /* still correct without cleanup-on-signal for this file */
}

static void release_slot(int slot)
{
	if (slot >= 0)
		live[slot] = 0;
}

void nd_outfile_cleanup_all(void)
{
	for (int i = 0; i < MAX_LIVE_TMP; i++)
		if (live[i])
			unlink(live_path[i]);
}

int nd_outfile_open(nd_outfile **out, const char *path)
{
	nd_outfile *f;
	*out = NULL;
	if (!path || !*path)
		return nd_seterr(ND_EINVAL, "empty output path");
	if (!(f = calloc(1, sizeof *f)))
		return nd_seterr(ND_ENOMEM, "out of memory");
	f->slot = -1;
	if (strcmp(path, "-") == 0) {
		f->fd = STDOUT_FILENO;
		f->is_stdout = 1;
		*out = f;
		return 0;
	}
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		free(f);
		return nd_seterr(ND_EIO, "%s: is a directory", path);
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or pipe (/dev/null, /dev/stdout, a FIFO): written in place, since
		 * renaming over it would replace the device with a file */
		f->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (f->fd < 0) {
			int e = errno;
			free(f);
			return nd_seterr(ND_EIO, "%s: cannot open for writing: %s", path, strerror(e));
		}
		f->is_stdout = 1;
		f->path = nd_strndup(path, strlen(path));
		*out = f;
		return 0;
	}
	size_t n = strlen(path);
	f->path = nd_strndup(path, n);
	f->tmp = malloc(n + 16);
	if (!f->path || !f->tmp) {
		free(f->path);
		free(f->tmp);
		free(f);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	snprintf(f->tmp, n + 16, "%s.tmp.XXXXXX", path);
	f->fd = mkstemp(f->tmp);
	if (f->fd < 0) {
		int e = errno;
		free(f->path);
		free(f->tmp);
		free(f);
		return nd_seterr(ND_EIO, "%s: cannot create output file: %s", path, strerror(e));
	}
	fchmod(f->fd, 0644); /* mkstemp makes 0600; outputs are data files others read */
	f->slot = claim_slot(f->tmp);
	*out = f;
	return 0;
}

static int write_all(nd_outfile *f, const char *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(f->fd, p + off, n - off);
		if (w < 0) {
			if (errno == EINTR && !nd_interrupted())
				continue;
			int e = errno;
			return nd_seterr(ND_EIO, "%s: write failed: %s", f->path ? f->path : "stdout",
					 strerror(e));
		}
		off += (size_t)w;
	}
	f->written += (off_t)n;
#ifdef SYNC_FILE_RANGE_WRITE
	/* start the disk writes of each WRITEBACK_STEP as it is written, so the fsync of
	 * commit has little left to wait for (a 133 MB report waited ~40 ms); only
	 * advice, so its failure is left for the fsync to report */
	if (f->tmp && f->written - f->queued >= WRITEBACK_STEP) {
		sync_file_range(f->fd, f->queued, f->written - f->queued, SYNC_FILE_RANGE_WRITE);
		f->queued = f->written;
	}
#endif
	return 0;
}

static int flush_buf(nd_outfile *f)
{
	int rc = write_all(f, f->buf, f->used);
	f->used = 0;
	return rc;
}

/* The buffer is full, or @len does not fit: the interruption check, a flush, and a
 * large block written without a copy. */
static int write_slow(nd_outfile *f, const char *p, size_t len)
{
	int rc;
	if (nd_interrupted())
		return nd_seterr(ND_EINTR, "interrupted");
	size_t room = OUT_BUF_SIZE - f->used;
	memcpy(f->buf + f->used, p, room);
	f->used = OUT_BUF_SIZE;
	p += room;
	len -= room;
	if ((rc = flush_buf(f)))
		return rc;
	if (len >= OUT_BUF_SIZE)
		return write_all(f, p, len);
	memcpy(f->buf, p, len);
	f->used = len;
	return 0;
}

int nd_outfile_write(nd_outfile *f, const void *data, size_t len)
{
	/* most writes are a few bytes: a copy, and the checks when the buffer is full */
	if (ND_LIKELY(len <= OUT_BUF_SIZE - f->used)) {
		memcpy(f->buf + f->used, data, len);
		f->used += len;
		return 0;
	}
	return write_slow(f, data, len);
}

int nd_outfile_printf(nd_outfile *f, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n, rc;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return nd_seterr(ND_EINVAL, "bad format");
	if ((size_t)n < sizeof small)
		return nd_outfile_write(f, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return nd_seterr(ND_ENOMEM, "out of memory");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = nd_outfile_write(f, big, (size_t)n);
	free(big);
	return rc;
}

static void outfile_release(nd_outfile *f)
{
	release_slot(f->slot);
	free(f->path);
	free(f->tmp);
	free(f);
}

int nd_outfile_commit(nd_outfile *f)
{
	int rc = nd_interrupted() ? nd_seterr(ND_EINTR, "interrupted") : flush_buf(f);
	if (f->is_stdout) {
		if (f->fd != STDOUT_FILENO && close(f->fd) != 0 && !rc)
			rc = nd_seterr(ND_EIO, "%s: close failed: %s", f->path, strerror(errno));
		free(f->path);
		free(f);
		return rc;
	}
	if (!rc && fsync(f->fd) != 0 && errno != EINVAL && errno != EROFS)
		rc = nd_seterr(ND_EIO, "%s: fsync failed: %s", f->path, strerror(errno));
	if (close(f->fd) != 0 && !rc)
		rc = nd_seterr(ND_EIO, "%s: close failed: %s", f->path, strerror(errno));
	if (!rc && rename(f->tmp, f->path) != 0)
		rc = nd_seterr(ND_EIO, "%s: cannot rename into place: %s", f->path, strerror(errno));
	if (rc)
		unlink(f->tmp);
	outfile_release(f);
	return rc;
}

void nd_outfile_abort(nd_outfile *f)
{
	if (!f)
		return;
	if (f->is_stdout) {
		if (f->fd != STDOUT_FILENO)
			close(f->fd);
		free(f->path);
		free(f);
		return;
	}
	close(f->fd);
	unlink(f->tmp);
	outfile_release(f);
}
