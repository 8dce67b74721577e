/* A minimal fork-join parallel loop on POSIX threads. Chunks are handed out in
 * index order through an atomic counter; a failure is attributed to its chunk so
 * the caller always sees the error of the lowest failing chunk, whatever the
 * scheduling (deterministic error messages at any thread count). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define ND_MAX_THREADS 256

typedef struct {
	size_t n, grain, nchunks;
	nd_range_fn fn;
	void *ctx;
	atomic_size_t next;
	atomic_size_t fail_chunk; /* lowest failing chunk so far, nchunks = none */
	pthread_mutex_t lock;
	int fail_rc;
	char fail_msg[1024];
} job;

typedef struct {
	job *j;
	unsigned worker;
} worker_arg;

static void run_chunks(job *j, unsigned worker)
{
	for (;;) {
		size_t c = atomic_fetch_add(&j->next, 1);
		if (c >= j->nchunks || c > atomic_load(&j->fail_chunk))
			return;
		size_t b = c * j->grain, e = b + j->grain < j->n ? b + j->grain : j->n;
		int rc = j->fn(j->ctx, b, e, worker);
		if (rc) {
			pthread_mutex_lock(&j->lock);
			if (c < atomic_load(&j->fail_chunk)) {
				atomic_store(&j->fail_chunk, c);
				j->fail_rc = rc;
				strncpy(j->fail_msg, nd_error_last(), sizeof j->fail_msg - 1);
				j->fail_msg[sizeof j->fail_msg - 1] = '\0';
			}
			pthread_mutex_unlock(&j->lock);
		}
	}
}

static void *thread_main(void *p)
{
	worker_arg *a = p;
	run_chunks(a->j, a->worker);
	return NULL;
}

unsigned nd_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > ND_MAX_THREADS ? ND_MAX_THREADS : (unsigned)n;
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
/* __builtin_cpu_init is required before __builtin_cpu_supports outside
 * constructors; it only reads CPUID once */
int nd_cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") != 0;
}

int nd_cpu_has_popcnt(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("popcnt") != 0;
}

int nd_cpu_has_avx512pop(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
	       __builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("popcnt");
}
#else
int nd_cpu_has_avx2(void) { return 0; }
int nd_cpu_has_popcnt(void) { return 0; }
int nd_cpu_has_avx512pop(void) { return 0; }
#endif

int nd_parallel_for(size_t n, size_t grain, unsigned threads, nd_range_fn fn, void *ctx)
{
	job j;
	pthread_t tid[ND_MAX_THREADS];
	worker_arg args[ND_MAX_THREADS];
	unsigned started = 0, t;

	if (n == 0)
		return 0;
	if (grain == 0)
		grain = 1;
	if (threads == 0)
		threads = nd_cpu_count();
	if (threads > ND_MAX_THREADS)
		threads = ND_MAX_THREADS;
	memset(&j, 0, sizeof j);
	j.n = n;
	j.grain = grain;
	j.nchunks = n / grain + (n % grain != 0);
	j.fn = fn;
	j.ctx = ctx;
	atomic_init(&j.next, 0);
	atomic_init(&j.fail_chunk, j.nchunks);
	pthread_mutex_init(&j.lock, NULL);
	if (threads > j.nchunks)
		threads = (unsigned)j.nchunks;

	for (t = 1; t < threads; t++) {
		args[t].j = &j;
		args[t].worker = t;
		if (pthread_create(&tid[t], NULL, thread_main, &args[t]) != 0)
			break; /* run with fewer workers; the result is the same */
		started++;
	}
	run_chunks(&j, 0);
	for (t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&j.lock);
	if (atomic_load(&j.fail_chunk) < j.nchunks) {
		nd_seterr(j.fail_rc, "%s", j.fail_msg);
		return j.fail_rc;
	}
	return 0;
}
