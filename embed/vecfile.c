/* Vector files: .npy (NumPy format 1.0-3.0, '<f4' / '<f2', C order, 2-D) and .fvecs
 * (per row: int32 d, then d float32, little-endian), told apart by content; the .npy
 * writer; the row check every embedder's output goes through. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h> /* fstat: the data a header announces must be in the file */
#include "internal.h"
#include "embed_internal.h"

/* vectors beyond this are surely a corrupt header, not data (2^40 floats = 4 TB) */
#define MAX_ELEMS ((uint64_t)1 << 40)

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
	float f;
	if (exp == 0) { /* zero or subnormal: man * 2^-24 */
		f = ldexpf((float)man, -24);
		return sign ? -f : f;
	}
	if (exp == 31)
		bits = sign | 0x7F800000u | (man << 13); /* Inf / NaN */
	else
		bits = sign | ((exp + 112) << 23) | (man << 13);
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* Finds the value after 'key': in a NumPy header dict. */
static const char *npy_value(const char *hdr, const char *key)
{
	char pat[32];
	snprintf(pat, sizeof pat, "'%s'", key);
	const char *p = strstr(hdr, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	return p;
}

static int read_npy(float **out, size_t *n, size_t *d, FILE *f, const char *path, const unsigned char *magic)
{
	unsigned char lb[4];
	uint32_t hlen;
	char *hdr = NULL;
	float *x = NULL;
	uint16_t *tmp = NULL;
	int rc = 0, f16 = 0;
	unsigned long long rows = 0, cols = 0;

	if (magic[6] == 1) {
		if (fread(lb, 1, 2, f) != 2)
			goto trunc;
		hlen = lb[0] | (uint32_t)lb[1] << 8;
	} else if (magic[6] == 2 || magic[6] == 3) {
		if (fread(lb, 1, 4, f) != 4)
			goto trunc;
		hlen = lb[0] | (uint32_t)lb[1] << 8 | (uint32_t)lb[2] << 16 | (uint32_t)lb[3] << 24;
	} else {
		return nd_seterr(ND_EFORMAT, "%s: unsupported .npy format version %d", path, magic[6]);
	}
	if (hlen > (1u << 20))
		return nd_seterr(ND_EFORMAT, "%s: .npy header of %u bytes is not plausible", path, hlen);
	hdr = malloc(hlen + 1);
	if (!hdr)
		return nd_seterr(ND_ENOMEM, "out of memory");
	if (fread(hdr, 1, hlen, f) != hlen)
		goto trunc;
	hdr[hlen] = '\0';
	const char *v = npy_value(hdr, "descr");
	if (!v) {
		rc = nd_seterr(ND_EFORMAT, "%s: .npy header has no 'descr'", path);
		goto out;
	}
	if (!strncmp(v, "'<f4'", 5))
		f16 = 0;
	else if (!strncmp(v, "'<f2'", 5))
		f16 = 1;
	else {
		const char *e = *v ? strchr(v + 1, '\'') : NULL; /* v may sit on the header's NUL */
		rc = nd_seterr(ND_EFORMAT, "%s: .npy dtype %.*s is not supported: float32 ('<f4') or float16 ('<f2')",
			       path, e ? (int)(e - v + 1) : 8, v);
		goto out;
	}
	v = npy_value(hdr, "fortran_order");
	if (!v || strncmp(v, "False", 5)) {
		rc = nd_seterr(ND_EFORMAT, "%s: .npy array is in Fortran order; save it in C order "
			       "(numpy.ascontiguousarray)", path);
		goto out;
	}
	v = npy_value(hdr, "shape");
	{
		int consumed = 0;
		if (!v || sscanf(v, "(%llu, %llu)%n", &rows, &cols, &consumed) != 2 || consumed == 0) {
			rc = nd_seterr(ND_EFORMAT, "%s: .npy shape %.*s is not 2-D (n, d)", path,
				       v ? (int)(strcspn(v, ")") + (v[strcspn(v, ")")] == ')')) : 9, v ? v : "(missing)");
			goto out;
		}
	}
	if (rows == 0 || cols == 0 || cols > (1u << 20) || rows > MAX_ELEMS / cols) {
		rc = nd_seterr(ND_EFORMAT, "%s: .npy shape (%llu, %llu) is empty or too large", path, rows, cols);
		goto out;
	}
	{ /* a regular file must hold the data the header announces: no allocation on its word alone */
		struct stat st;
		long at = ftell(f);
		uint64_t esz = f16 ? 2 : 4;
		if (at >= 0 && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_size - (uint64_t)at < rows * cols * esz) {
			rc = nd_seterr(ND_EFORMAT, "%s: truncated: the header says (%llu, %llu) but row %zu is incomplete",
				       path, rows, cols, (size_t)(((uint64_t)st.st_size - (uint64_t)at) / esz / cols));
			goto out;
		}
	}
	x = malloc(rows * cols * sizeof *x);
	if (!x) {
		rc = nd_seterr(ND_ENOMEM, "%s: out of memory for %llu x %llu floats", path, rows, cols);
		goto out;
	}
	if (!f16) {
		size_t got = fread(x, sizeof *x, rows * cols, f);
		if (got != rows * cols) {
			rc = nd_seterr(ND_EFORMAT, "%s: truncated: the header says (%llu, %llu) but row %zu is incomplete",
				       path, rows, cols, (size_t)(got / cols));
			goto out;
		}
	} else {
		size_t chunk = 1 << 16;
		tmp = malloc(chunk * sizeof *tmp);
		if (!tmp) {
			rc = nd_seterr(ND_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t at = 0; at < rows * cols;) {
			size_t want = rows * cols - at < chunk ? rows * cols - at : chunk;
			size_t got = fread(tmp, sizeof *tmp, want, f);
			for (size_t i = 0; i < got; i++)
				x[at + i] = half_to_float(tmp[i]);
			at += got;
			if (got != want) {
				rc = nd_seterr(ND_EFORMAT, "%s: truncated: the header says (%llu, %llu) but row %zu is "
					       "incomplete", path, rows, cols, (size_t)(at / cols));
				goto out;
			}
		}
	}
	if (fgetc(f) != EOF) {
		rc = nd_seterr(ND_EFORMAT, "%s: bytes after the (%llu, %llu) array", path, rows, cols);
		goto out;
	}
	*out = x;
	x = NULL;
	*n = rows;
	*d = cols;
	goto out;
trunc:
	rc = nd_seterr(ND_EFORMAT, "%s: truncated .npy header", path);
out:
	free(hdr);
	free(x);
	free(tmp);
	return rc;
}

static int read_fvecs(float **out, size_t *n, size_t *d, FILE *f, const char *path)
{
	int32_t d0;
	long size;
	float *x = NULL;
	int rc = 0;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		return nd_seterr(ND_EIO, "%s: cannot seek: %s", path, strerror(errno));
	if (fread(&d0, 4, 1, f) != 1 || d0 <= 0 || d0 > (1 << 20))
		return nd_seterr(ND_EFORMAT, "%s: neither .npy nor .fvecs (first row dimension %d)", path, (int)d0);
	size_t rowb = 4 + 4 * (size_t)d0;
	if ((size_t)size % rowb)
		return nd_seterr(ND_EFORMAT, "%s: .fvecs size %ld is not a multiple of a %d-float row (%zu bytes): "
				 "row %zu is truncated or a row has another dimension", path, size, (int)d0, rowb,
				 (size_t)size / rowb);
	size_t rows = (size_t)size / rowb;
	x = malloc(rows * (size_t)d0 * sizeof *x);
	if (!x)
		return nd_seterr(ND_ENOMEM, "%s: out of memory", path);
	fseek(f, 0, SEEK_SET);
	for (size_t r = 0; r < rows; r++) {
		int32_t dr;
		if (fread(&dr, 4, 1, f) != 1 || fread(x + r * (size_t)d0, 4, (size_t)d0, f) != (size_t)d0) {
			rc = nd_seterr(ND_EIO, "%s: read error at row %zu", path, r);
			goto out;
		}
		if (dr != d0) {
			rc = nd_seterr(ND_EFORMAT, "%s: .fvecs row %zu (0-based) has dimension %d, row 0 has %d", path, r,
				       (int)dr, (int)d0);
			goto out;
		}
	}
	*out = x;
	x = NULL;
	*n = rows;
	*d = (size_t)d0;
out:
	free(x);
	return rc;
}

int nd_vectors_read(float **out, size_t *n, size_t *d, const char *path)
{
	unsigned char magic[8];
	FILE *f;
	int rc;
	if (!out || !n || !d || !path)
		return nd_seterr(ND_EINVAL, "nd_vectors_read: NULL argument");
	f = fopen(path, "rb");
	if (!f)
		return nd_seterr(ND_EIO, "%s: cannot open: %s", path, strerror(errno));
	size_t got = fread(magic, 1, 8, f);
	if (got == 8 && !memcmp(magic, "\x93NUMPY", 6))
		rc = read_npy(out, n, d, f, path, magic);
	else if (got < 8)
		rc = nd_seterr(ND_EFORMAT, "%s: too short for a .npy or .fvecs file (%zu bytes)", path, got);
	else
		rc = read_fvecs(out, n, d, f, path);
	fclose(f);
	return rc;
}

int nd_vectors_check(float *x, size_t n, size_t d) { return nd_vectors_check_from(x, n, d, 0); }

int nd_vectors_check_from(float *x, size_t n, size_t d, size_t first)
{
	for (size_t i = 0; i < n; i++) {
		float *r = x + i * d;
		size_t row = first + i;
		double s = 0;
		for (size_t k = 0; k < d; k++) {
			if (!isfinite(r[k]))
				return nd_seterr(ND_EFORMAT, "vector row %zu (0-based) holds %s at column %zu", row,
						 isnan(r[k]) ? "NaN" : "Inf", k);
			s += (double)r[k] * r[k];
		}
		if (!(s > 0) || !isfinite(s))
			return nd_seterr(ND_EFORMAT, "vector row %zu (0-based) is %s", row,
					 s > 0 ? "too large" : "all zeros");
		if (fabs(s - 1.0) <= 1e-6)
			continue; /* already unit length: left bit for bit (re-reading our own .npy) */
		float inv = (float)(1.0 / sqrt(s));
		if (isfinite(inv)) {
			for (size_t k = 0; k < d; k++)
				r[k] *= inv;
		} else { /* a row of subnormals: 1/norm overflows a float, so scale in double */
			for (size_t k = 0; k < d; k++)
				r[k] = (float)(r[k] / sqrt(s));
		}
	}
	return 0;
}

int nd_npy_write(const char *path, const float *x, size_t n, size_t d)
{
	char hdr[256];
	nd_outfile *f = NULL;
	int rc;
	if (!path || (!x && n && d))
		return nd_seterr(ND_EINVAL, "nd_npy_write: NULL argument");
	int len = snprintf(hdr + 10, sizeof hdr - 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }",
			   n, d);
	/* pad with spaces so data starts at a multiple of 64 bytes; the header ends in '\n' */
	size_t total = 10 + (size_t)len + 1;
	size_t padded = (total + 63) / 64 * 64;
	memset(hdr + 10 + len, ' ', padded - total);
	hdr[padded - 1] = '\n';
	memcpy(hdr, "\x93NUMPY\x01\x00", 8);
	hdr[8] = (char)((padded - 10) & 0xFF);
	hdr[9] = (char)((padded - 10) >> 8);
	if ((rc = nd_outfile_open(&f, path)))
		return rc;
	if ((rc = nd_outfile_write(f, hdr, padded)) || (rc = nd_outfile_write(f, x, n * d * sizeof *x))) {
		nd_outfile_abort(f);
		return rc;
	}
	return nd_outfile_commit(f);
}
