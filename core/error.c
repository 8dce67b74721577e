/* Thread-local error messages and the library version. */
#include <stdio.h>
#include <string.h>
#include "internal.h"

#define ND_ERRMSG_MAX 1024

static _Thread_local char errmsg[ND_ERRMSG_MAX];
static volatile int *interrupt_flag;

int nd_seterr(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof errmsg, fmt, ap);
	va_end(ap);
	return code;
}

int nd_error_prefix(int code, const char *fmt, ...)
{
	char prefix[ND_ERRMSG_MAX], old[ND_ERRMSG_MAX];
	va_list ap;
	memcpy(old, errmsg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	if (old[0])
		snprintf(errmsg, sizeof errmsg, "%.500s: %.500s", prefix, old);
	else
		snprintf(errmsg, sizeof errmsg, "%s", prefix);
	return code;
}

const char *nd_error_last(void) { return errmsg; }

void nd_error_clear(void) { errmsg[0] = '\0'; }

const char *nd_strerror(int code)
{
	switch (code) {
	case ND_OK: return "success";
	case ND_ENOMEM: return "out of memory";
	case ND_EINVAL: return "invalid argument";
	case ND_EIO: return "input/output error";
	case ND_EPARSE: return "malformed input";
	case ND_EUTF8: return "invalid UTF-8";
	case ND_EMAPPING: return "records do not map to a known schema";
	case ND_EEMPTY: return "no records";
	case ND_ELIMIT: return "limit exceeded";
	case ND_EFORMAT: return "unexpected content";
	case ND_EBACKEND: return "backend library failure";
	case ND_ENET: return "network failure";
	case ND_EINTR: return "interrupted";
	case ND_EINTERNAL: return "internal error";
	default: return "unknown error";
	}
}

const char *nd_version(void) { return ND_VERSION_STRING; }

void nd_set_interrupt_flag(volatile int *flag) { interrupt_flag = flag; }

int nd_interrupted(void) { return interrupt_flag && *interrupt_flag; }
