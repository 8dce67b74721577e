/* cJSON allocation hooks that let the record readers parse into a per-thread
 * arena instead of malloc'ing every node and string.
 *
 * cJSON allocates one node per JSON value and one buffer per string, then frees
 * them one by one: reading a million exam records, malloc and free were 12% of
 * the read stage's CPU time. With the hooks installed, a reader that brackets a
 * parse with nd_json_arena_enter()/nd_json_arena_leave() gets every allocation of
 * that parse from its own bump arena, and drops the whole tree by resetting the
 * arena. On any other thread, or on this one outside the bracket, the hooks are
 * malloc and free, so a program's own cJSON trees are untouched.
 *
 * cJSON's hooks are process-wide and cannot be read back, so the library never
 * installs them on its own: a program opts in with nd_json_use_arenas() (the CLI
 * tools do) when it sets no cJSON hooks of its own.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "internal.h"
#include "neardup/records.h"

static atomic_int installed;
static _Thread_local nd_arena *current;

static void *hook_malloc(size_t n)
{
	nd_arena *a = current;
	return a ? nd_arena_alloc_fast(a, n) : malloc(n);
}

/* Inside a bracket every pointer cJSON frees came from the bracket's arena (the
 * reader parses and reads, nothing else), and the arena's reset frees them all. */
static void hook_free(void *p)
{
	if (!current)
		free(p);
}

void nd_json_use_arenas(void)
{
	cJSON_Hooks h = {hook_malloc, hook_free};
	cJSON_InitHooks(&h);
	atomic_store(&installed, 1);
}

int nd_json_arena_enter(nd_arena *a)
{
	if (!atomic_load_explicit(&installed, memory_order_relaxed))
		return 0;
	current = a;
	return 1;
}

void nd_json_arena_leave(nd_arena *a)
{
	current = NULL;
	nd_arena_reset(a);
}
