/* Fuzz target: the HTTP embedder's reply parser (parse_reply in embed/http.c).
 *
 * parse_reply is static, so embed/http.c is compiled into this target with its one
 * external function renamed (the library's copy stays as it is); no network is used.
 * Input: byte 0 = batch shape (texts in the batch 1..8, offset of the batch 0..3),
 * byte 1 = dimension state (--dim given or not, a dimension already known from an
 * earlier batch), then the reply body. Invariants: a parsed reply fills exactly the
 * batch's rows; a rejected one names the endpoint and leaves rows outside the batch
 * untouched. */
#define nd_http_embed fuzz_copy_of_nd_http_embed
#include "../../embed/http.c"
#undef nd_http_embed
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t count = 1 + (data[0] & 7), first = (data[0] >> 3) & 3;
	nd_embed_opts o = ND_EMBED_OPTS_INIT;
	o.kind = ND_EMBED_HTTP;
	o.url = "http://fuzz.invalid/v1";
	o.model = "m";
	o.dim = (data[1] & 1) ? 3 : 0;
	http_ctx c;
	memset(&c, 0, sizeof c);
	c.o = &o;
	c.nd = first + count;
	c.cache_fd = -1;
	snprintf(c.endpoint, sizeof c.endpoint, "%s/embeddings", o.url);
	size_t dtext[16];
	for (size_t i = 0; i < c.nd; i++)
		dtext[i] = i;
	c.dtext = dtext;
	if (data[1] & 2) { /* an earlier batch fixed the dimension */
		c.dim = o.dim ? o.dim : (data[1] & 4) ? 3 : 2; /* an earlier batch passed the --dim check */
		c.dvec = nd_calloc(c.nd, c.dim * sizeof *c.dvec);
		if (!c.dvec)
			abort();
	}
	batch b;
	memset(&b, 0, sizeof b);
	b.first = first;
	b.count = count;
	/* the body as curl hands it over: exactly the bytes received */
	if (size > 2 && nd_buf_append(&b.resp, data + 2, size - 2))
		abort();
	int rc = parse_reply(&c, &b);
	if (rc == 0) {
		FZ_ASSERT(c.dim > 0 && c.dvec);
		if (o.dim)
			FZ_ASSERT(c.dim == o.dim);
		volatile float sink = 0;
		for (size_t i = 0; i < c.nd * c.dim; i++)
			sink += c.dvec[i];
		(void)sink;
	} else {
		FZ_ASSERT(rc == ND_ENET && nd_error_last()[0] != 0);
		if (c.dvec)
			for (size_t i = 0; i < first * c.dim; i++)
				FZ_ASSERT(c.dvec[i] == 0.0f);
	}
	free(c.dvec);
	nd_buf_free(&b.resp);
	return 0;
}
