#ifndef ND_SHA256_H
#define ND_SHA256_H
#include <stddef.h>
/* SHA-256 of @len bytes as 64 lower-case hex digits + NUL. @return 0 or ND_EBACKEND. */
int nd_sha256(const void *data, size_t len, char hex[65]);

/* The same over data that arrives in pieces (the reader hashes each window of
 * the input while its pages are resident). begin, any number of updates, end;
 * end (or free on an error path) releases the context. */
typedef struct nd_sha256_ctx nd_sha256_ctx;
int nd_sha256_begin(nd_sha256_ctx **ctx);
int nd_sha256_update(nd_sha256_ctx *ctx, const void *data, size_t len);
int nd_sha256_end(nd_sha256_ctx *ctx, char hex[65]);
void nd_sha256_free(nd_sha256_ctx *ctx);
#endif
