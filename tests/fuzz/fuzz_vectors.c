/* Fuzz target: the .npy / .fvecs reader (embed/vecfile.c) and the row check.
 * Invariants: a file that reads gives n * d readable floats with n, d > 0 and no
 * overflow; nd_vectors_check then either accepts (rows of unit length) or names a row. */
#include <math.h>
#include "fuzz_common.h"
#include "neardup/embed.h"

static fz_memfile in_file;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_memfile_set(&in_file, data, size);
	float *x = NULL;
	size_t n = 0, d = 0;
	int rc = nd_vectors_read(&x, &n, &d, path);
	if (rc == 0) {
		FZ_ASSERT(x && n > 0 && d > 0);
		FZ_ASSERT(n <= SIZE_MAX / d / sizeof(float));
		/* the data is all in the file: at most one float per 2 bytes (float16) */
		FZ_ASSERT(n * d <= size / 2);
		volatile float sink = 0;
		for (size_t i = 0; i < n * d; i++)
			sink += x[i];
		(void)sink;
		if (nd_vectors_check(x, n, d) == 0) {
			for (size_t i = 0; i < n; i++) {
				double s = 0;
				for (size_t j = 0; j < d; j++)
					s += (double)x[i * d + j] * x[i * d + j];
				FZ_ASSERT(fabs(s - 1.0) < 1e-3);
			}
		} else {
			FZ_ASSERT(strstr(nd_error_last(), "row") != NULL);
		}
	} else {
		FZ_ASSERT(rc < 0 && x == NULL && nd_error_last()[0] != 0);
	}
	free(x);
	return 0;
}
