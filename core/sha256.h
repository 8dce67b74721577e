#ifndef ND_SHA256_H
#define ND_SHA256_H
#include <stddef.h>
/* SHA-256 of @len bytes as 64 lower-case hex digits + NUL. @return 0 or ND_EBACKEND. */
int nd_sha256(const void *data, size_t len, char hex[65]);
#endif
