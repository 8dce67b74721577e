/* Read + map + normalise throughput: loads a dataset file the way dedup does and
 * reports MB/s and records/s, at the given thread count.
 *   build/bench-read FILE [THREADS] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include "neardup/records.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench-read FILE [THREADS]\n");
		return 2;
	}
	nd_load_opts o = ND_LOAD_OPTS_INIT;
	o.threads = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	nd_dataset *ds;
	double t0 = now();
	int rc = nd_dataset_load(&ds, argv[1], &o);
	double t = now() - t0;
	if (rc) {
		fprintf(stderr, "bench-read: %s\n", nd_error_last());
		return 1;
	}
	double mb = (double)nd_dataset_input(ds)->size / 1e6;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("read+map+normalise: %zu records, %.1f MB in %.3f s = %.1f MB/s, %.0f records/s "
	       "(threads %u; per thread %.1f MB/s); peak RSS %.0f MB\n",
	       nd_dataset_count(ds), mb, t, mb / t, (double)nd_dataset_count(ds) / t, o.threads,
	       mb / t / (o.threads ? o.threads : 2), ru.ru_maxrss / 1024.0);
	nd_dataset_free(ds);
	return 0;
}
