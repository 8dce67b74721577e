/* The HTTP embedder: an OpenAI-compatible client (POST {url}/embeddings with
 * {"model": M, "input": [texts], "encoding_format": "float"}), on libcurl's multi
 * interface.
 *
 *  - each distinct text is requested once, in batches of opts->batch, in order of first
 *    appearance; at most opts->concurrency requests are in flight;
 *  - 429, 5xx, timeouts, refused/reset/empty connections are retried up to max_retries
 *    times after retry_base_ms * 2^(attempt-1) * U[0.5, 1.5) (capped at 30 s; a longer
 *    Retry-After wins); any other status, a malformed reply or a dimension mismatch stops
 *    the run with a message naming the batch;
 *  - the API key is read from the environment variable opts->api_key_env when a request
 *    is built and only ever goes into that request's header;
 *  - the cache (opts->cache_path) is an append-only file: a 16-byte header, then one entry
 *    per vector {key[16], uint32 dim, float[dim], uint64 check}, key = two 64-bit hashes of
 *    (model, text), check = hash of key + dim + floats. Each finished batch is appended
 *    with one write(2), so a run killed at any point leaves whole entries plus at most one
 *    torn tail, which the next run cuts off. The next run reads the cache first and asks
 *    the service only for the texts missing from it; vectors are stored exactly as
 *    received (float32), so the output is the same bytes either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include "internal.h"
#include "jsonw.h"
#include "neardup/lexical.h"
#include "embed_internal.h"

#define CACHE_MAGIC "NDEMBCACHE1\n\0\0\0\0"
#define CACHE_HDR 16
#define MAX_BACKOFF_MS 30000.0
/* a reply larger than this is not an embedding reply (4096 texts x 4096 dims as text) */
#define MAX_REPLY ((size_t)1 << 30)

typedef struct {
	uint64_t k[2];
} tkey;

typedef struct {
	tkey key;
	uint32_t dim;
	size_t off; /* float offset into the cache's vector store */
} centry;

typedef struct {
	size_t first, count;  /* distinct texts [first, first + count) */
	unsigned attempt;
	double not_before;    /* seconds (nd_now) */
	CURL *h;
	struct curl_slist *hdr;
	nd_buf body, resp;
	int running, done;
} batch;

typedef struct {
	const nd_embed_opts *o;
	const char *const *texts;
	const size_t *lens;
	/* distinct texts to fetch */
	size_t *dtext;        /* distinct id -> a text index holding it */
	tkey *dkey;
	size_t nd;
	float *dvec;          /* nd * dim once dim is known */
	unsigned char *have;  /* per distinct id */
	size_t dim;
	int cache_fd;
	uint64_t rng;
	nd_embed_stats *stats;
	char endpoint[2048];
} http_ctx;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t text_len(const http_ctx *c, size_t i)
{
	return !c->texts[i] ? 0 : c->lens ? c->lens[i] : strlen(c->texts[i]);
}

static tkey text_key(const char *model, const char *s, size_t len)
{
	uint64_t m = nd_hash64(model, strlen(model), 0x6D6F64656Cull);
	tkey k = {{nd_hash64(s, len, m), nd_hash64(s, len, m ^ 0xA5A5A5A5A5A5A5A5ull)}};
	return k;
}

static int key_cmp(const tkey *a, const tkey *b)
{
	if (a->k[0] != b->k[0])
		return a->k[0] < b->k[0] ? -1 : 1;
	return (a->k[1] > b->k[1]) - (a->k[1] < b->k[1]);
}

static int cmp_centry(const void *a, const void *b) { return key_cmp(&((const centry *)a)->key, &((const centry *)b)->key); }

static uint64_t entry_check(const tkey *k, uint32_t dim, const float *v)
{
	uint64_t h = nd_hash64(k, sizeof *k, dim);
	return nd_hash64(v, dim * sizeof *v, h);
}

/* ---------------------------------------------------------------- cache -- */

typedef struct {
	centry *e;
	size_t n;
	float *vec;
} cache_t;

/* Reads every whole entry; cuts a torn tail off the file. */
static int cache_load(cache_t *cc, int fd, const char *path)
{
	struct stat st;
	unsigned char *data = NULL;
	size_t size, at = CACHE_HDR, cap = 0, vcap = 0, vn = 0;
	int rc = 0;
	if (fstat(fd, &st))
		return nd_seterr(ND_EIO, "%s: cannot stat: %s", path, strerror(errno));
	size = (size_t)st.st_size;
	if (size == 0) {
		if (write(fd, CACHE_MAGIC, CACHE_HDR) != CACHE_HDR)
			return nd_seterr(ND_EIO, "%s: cannot write: %s", path, strerror(errno));
		return 0;
	}
	data = malloc(size);
	if (!data)
		return nd_seterr(ND_ENOMEM, "%s: out of memory reading the cache", path);
	if (pread(fd, data, size, 0) != (ssize_t)size) {
		rc = nd_seterr(ND_EIO, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (size < CACHE_HDR || memcmp(data, CACHE_MAGIC, CACHE_HDR)) {
		rc = nd_seterr(ND_EFORMAT, "%s is not an embedding cache of this program; remove it or choose "
			       "another --cache", path);
		goto out;
	}
	while (at + 20 <= size) {
		tkey k;
		uint32_t dim;
		uint64_t chk;
		memcpy(&k, data + at, 16);
		memcpy(&dim, data + at + 16, 4);
		if (dim == 0 || dim > 65536 || at + 20 + (size_t)dim * 4 + 8 > size)
			break;
		if (vn + dim > vcap) {
			size_t nc = (vcap ? vcap * 2 : 65536) + dim;
			float *p = realloc(cc->vec, nc * sizeof *p);
			if (!p) {
				rc = nd_seterr(ND_ENOMEM, "out of memory");
				goto out;
			}
			cc->vec = p;
			vcap = nc;
		}
		memcpy(cc->vec + vn, data + at + 20, (size_t)dim * 4);
		memcpy(&chk, data + at + 20 + (size_t)dim * 4, 8);
		if (chk != entry_check(&k, dim, cc->vec + vn))
			break;
		if (cc->n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			centry *p = realloc(cc->e, nc * sizeof *p);
			if (!p) {
				rc = nd_seterr(ND_ENOMEM, "out of memory");
				goto out;
			}
			cc->e = p;
			cap = nc;
		}
		cc->e[cc->n].key = k;
		cc->e[cc->n].dim = dim;
		cc->e[cc->n].off = vn;
		cc->n++;
		vn += dim;
		at += 20 + (size_t)dim * 4 + 8;
	}
	if (at != size && ftruncate(fd, (off_t)at)) {
		rc = nd_seterr(ND_EIO, "%s: cannot cut the torn tail: %s", path, strerror(errno));
		goto out;
	}
	if (cc->n)
		qsort(cc->e, cc->n, sizeof *cc->e, cmp_centry);
out:
	free(data);
	return rc;
}

static const centry *cache_find(const cache_t *cc, const tkey *k)
{
	size_t lo = 0, hi = cc->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(&cc->e[mid].key, k);
		if (c == 0)
			return &cc->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cache_append(http_ctx *c, const batch *b)
{
	nd_buf w = {0};
	int rc = 0;
	if (c->cache_fd < 0)
		return 0;
	for (size_t i = b->first; i < b->first + b->count && !rc; i++) {
		uint32_t dim = (uint32_t)c->dim;
		const float *v = c->dvec + i * c->dim;
		uint64_t chk = entry_check(&c->dkey[i], dim, v);
		rc = nd_buf_append(&w, &c->dkey[i], 16);
		if (!rc) rc = nd_buf_append(&w, &dim, 4);
		if (!rc) rc = nd_buf_append(&w, v, c->dim * 4);
		if (!rc) rc = nd_buf_append(&w, &chk, 8);
	}
	if (rc) {
		nd_buf_free(&w);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	size_t len = w.len;
	ssize_t put = write(c->cache_fd, w.data, len);
	nd_buf_free(&w);
	if (put != (ssize_t)len)
		return nd_seterr(ND_EIO, "%s: cannot append: %s", c->o->cache_path, put < 0 ? strerror(errno) : "short write");
	return 0;
}

/* ------------------------------------------------------------- requests -- */

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
	nd_buf *b = ud;
	if (b->len + sz * nm > MAX_REPLY || nd_buf_append(b, p, sz * nm))
		return 0; /* curl reports a write error */
	return sz * nm;
}

static int batch_start(http_ctx *c, CURLM *multi, batch *b)
{
	int rc = 0;
	nd_buf_free(&b->resp);
	memset(&b->resp, 0, sizeof b->resp);
	if (!b->body.len) {
		rc = nd_buf_append(&b->body, "{\"model\":\"", 10);
		if (!rc) rc = nd_json_escape(&b->body, c->o->model, strlen(c->o->model));
		if (!rc) rc = nd_buf_append(&b->body, "\",\"encoding_format\":\"float\",\"input\":[", 37);
		for (size_t i = b->first; i < b->first + b->count && !rc; i++) {
			size_t t = c->dtext[i];
			if (i > b->first)
				rc = nd_buf_putc(&b->body, ',');
			if (!rc) rc = nd_buf_putc(&b->body, '"');
			if (!rc) rc = nd_json_escape(&b->body, c->texts[t], text_len(c, t));
			if (!rc) rc = nd_buf_putc(&b->body, '"');
		}
		if (!rc) rc = nd_buf_append(&b->body, "]}", 2);
		if (rc)
			return nd_seterr(ND_ENOMEM, "out of memory building a request");
	}
	b->h = curl_easy_init();
	b->hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (!b->h || !b->hdr)
		return nd_seterr(ND_ENOMEM, "curl: out of memory");
	if (c->o->api_key_env) {
		const char *key = getenv(c->o->api_key_env);
		nd_buf a = {0};
		if (!key || !*key)
			return nd_seterr(ND_EINVAL, "environment variable %s (--api-key-env) is not set or empty",
					 c->o->api_key_env);
		if (nd_buf_printf(&a, "Authorization: Bearer %s", key))
			return nd_seterr(ND_ENOMEM, "out of memory");
		struct curl_slist *s = curl_slist_append(b->hdr, a.data);
		memset(a.data, 0, a.len); /* the key lives on only in curl's list, freed after the request */
		nd_buf_free(&a);
		if (!s)
			return nd_seterr(ND_ENOMEM, "curl: out of memory");
		b->hdr = s;
	}
	curl_easy_setopt(b->h, CURLOPT_URL, c->endpoint);
	curl_easy_setopt(b->h, CURLOPT_PROTOCOLS_STR, "http,https"); /* and no redirect to file:// */
	curl_easy_setopt(b->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(b->h, CURLOPT_HTTPHEADER, b->hdr);
	curl_easy_setopt(b->h, CURLOPT_POSTFIELDS, b->body.data);
	curl_easy_setopt(b->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body.len);
	curl_easy_setopt(b->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(b->h, CURLOPT_WRITEDATA, &b->resp);
	curl_easy_setopt(b->h, CURLOPT_TIMEOUT_MS, (long)c->o->timeout_ms);
	curl_easy_setopt(b->h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->o->timeout_ms < 10000 ? c->o->timeout_ms : 10000));
	curl_easy_setopt(b->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(b->h, CURLOPT_PRIVATE, b);
	curl_easy_setopt(b->h, CURLOPT_ACCEPT_ENCODING, "");
	if (curl_multi_add_handle(multi, b->h) != CURLM_OK)
		return nd_seterr(ND_ENET, "curl: cannot add a request");
	b->running = 1;
	if (c->stats)
		c->stats->requests++;
	return 0;
}

static void batch_end(CURLM *multi, batch *b)
{
	if (b->h) {
		curl_multi_remove_handle(multi, b->h);
		curl_easy_cleanup(b->h);
		b->h = NULL;
	}
	curl_slist_free_all(b->hdr); /* holds the key: freed at once */
	b->hdr = NULL;
	b->running = 0;
}

/* Parses a 200 reply into c->dvec. */
static int parse_reply(http_ctx *c, batch *b)
{
	cJSON *root = cJSON_ParseWithLength(b->resp.data ? b->resp.data : "", b->resp.len), *data, *item;
	unsigned char *seen = NULL;
	int rc = 0;
	size_t t0 = c->dtext[b->first];
#define BAD(...) do { rc = nd_seterr(ND_ENET, __VA_ARGS__); goto out; } while (0)
	if (!root)
		BAD("%s: malformed reply to the batch starting at text %zu: not JSON (%zu bytes: \"%.60s\")", c->endpoint,
		    t0, b->resp.len, b->resp.data ? b->resp.data : "");
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsArray(data))
		BAD("%s: malformed reply to the batch starting at text %zu: no \"data\" array", c->endpoint, t0);
	if ((size_t)cJSON_GetArraySize(data) != b->count)
		BAD("%s: reply to the batch starting at text %zu has %d embeddings for %zu texts", c->endpoint, t0,
		    cJSON_GetArraySize(data), b->count);
	seen = calloc(b->count, 1);
	if (!seen)
		BAD("out of memory");
	size_t pos = 0;
	cJSON_ArrayForEach(item, data) {
		cJSON *idx = cJSON_GetObjectItemCaseSensitive(item, "index"), *emb = cJSON_GetObjectItemCaseSensitive(item, "embedding"), *v;
		size_t k = pos++;
		if (idx) {
			if (!cJSON_IsNumber(idx) || idx->valuedouble < 0 || idx->valuedouble >= (double)b->count ||
			    idx->valuedouble != floor(idx->valuedouble))
				BAD("%s: reply to the batch starting at text %zu: bad \"index\"", c->endpoint, t0);
			k = (size_t)idx->valuedouble;
		}
		if (seen[k]++)
			BAD("%s: reply to the batch starting at text %zu: index %zu twice", c->endpoint, t0, k);
		if (!cJSON_IsArray(emb))
			BAD("%s: reply to the batch starting at text %zu: item %zu has no \"embedding\" array "
			    "(base64 replies are not supported)", c->endpoint, t0, k);
		size_t dim = (size_t)cJSON_GetArraySize(emb);
		if (dim == 0)
			BAD("%s: reply to the batch starting at text %zu: empty embedding", c->endpoint, t0);
		if (!c->dim) {
			if (c->o->dim && dim != c->o->dim)
				BAD("%s: dimension mismatch: the service returns %zu, --dim says %u", c->endpoint, dim, c->o->dim);
			c->dim = dim;
			c->dvec = nd_calloc(c->nd ? c->nd : 1, dim * sizeof *c->dvec);
			if (!c->dvec)
				BAD("out of memory for %zu vectors of %zu floats", c->nd, dim);
		} else if (dim != c->dim) {
			BAD("%s: dimension mismatch: text %zu got %zu dimensions, earlier vectors have %zu", c->endpoint,
			    c->dtext[b->first + k], dim, c->dim);
		}
		float *out = c->dvec + (b->first + k) * c->dim;
		size_t j = 0;
		cJSON_ArrayForEach(v, emb) {
			if (!cJSON_IsNumber(v))
				BAD("%s: reply to the batch starting at text %zu: a non-number in embedding %zu", c->endpoint,
				    t0, k);
			out[j++] = (float)v->valuedouble;
		}
	}
#undef BAD
out:
	free(seen);
	cJSON_Delete(root);
	return rc;
}

static double backoff_s(http_ctx *c, unsigned attempt, curl_off_t retry_after)
{
	double ms = c->o->retry_base_ms * pow(2.0, (double)(attempt - 1));
	if (ms > MAX_BACKOFF_MS)
		ms = MAX_BACKOFF_MS;
	c->rng = c->rng * 6364136223846793005ull + 1442695040888963407ull;
	ms *= 0.5 + (double)(c->rng >> 11) * 0x1.0p-53; /* jitter: spread retries of concurrent batches */
	if (retry_after > 0 && retry_after * 1000.0 > ms)
		ms = retry_after * 1000.0 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : retry_after * 1000.0;
	return ms / 1000.0;
}

static int fetch(http_ctx *c, size_t first_missing)
{
	const nd_embed_opts *o = c->o;
	size_t nb = 0, next = 0, done = 0, todo = c->nd - first_missing;
	batch *bs;
	CURLM *multi;
	int rc = 0;
	(void)todo;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return nd_seterr(ND_ENET, "curl_global_init failed");
	/* distinct ids [first_missing, nd) are the missing ones, contiguous */
	nb = (c->nd - first_missing + o->batch - 1) / o->batch;
	if (!nb)
		return 0;
	bs = nd_calloc(nb, sizeof *bs);
	multi = curl_multi_init();
	if (!bs || !multi) {
		free(bs);
		if (multi)
			curl_multi_cleanup(multi);
		return nd_seterr(ND_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nb; i++) {
		bs[i].first = first_missing + i * o->batch;
		bs[i].count = c->nd - bs[i].first < o->batch ? c->nd - bs[i].first : o->batch;
	}
	unsigned inflight = 0;
	while (done < nb) {
		double now = nd_now();
		if (nd_interrupted()) {
			rc = nd_seterr(ND_EINTR, "interrupted");
			break;
		}
		/* start: retries whose time has come first (lowest index), then new batches */
		for (size_t i = 0; i < next && inflight < o->concurrency; i++)
			if (!bs[i].done && !bs[i].running && bs[i].attempt && bs[i].not_before <= now) {
				if ((rc = batch_start(c, multi, &bs[i])))
					goto stop;
				inflight++;
			}
		while (next < nb && inflight < o->concurrency) {
			if ((rc = batch_start(c, multi, &bs[next])))
				goto stop;
			next++;
			inflight++;
		}
		int still;
		curl_multi_perform(multi, &still);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			batch *b;
			long status = 0;
			curl_off_t ra = 0;
			CURLcode res = m->data.result;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&b);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RETRY_AFTER, &ra);
			batch_end(multi, b);
			inflight--;
			if (res == CURLE_OK && status == 200) {
				if ((rc = parse_reply(c, b)) || (rc = cache_append(c, b)))
					goto stop;
				for (size_t i = b->first; i < b->first + b->count; i++)
					c->have[i] = 1;
				nd_buf_free(&b->body);
				nd_buf_free(&b->resp);
				b->done = 1;
				done++;
				if (c->stats)
					c->stats->fetched += b->count;
				continue;
			}
			int retryable = res == CURLE_OK ? (status == 429 || status >= 500)
					: (res == CURLE_OPERATION_TIMEDOUT || res == CURLE_COULDNT_CONNECT ||
					   res == CURLE_RECV_ERROR || res == CURLE_SEND_ERROR || res == CURLE_GOT_NOTHING ||
					   res == CURLE_PARTIAL_FILE);
			char what[160];
			if (res == CURLE_OK)
				snprintf(what, sizeof what, "HTTP %ld", status);
			else
				snprintf(what, sizeof what, "%s", curl_easy_strerror(res));
			if (!retryable) {
				rc = nd_seterr(ND_ENET, "%s: %s for the batch starting at text %zu%s%.*s", c->endpoint, what,
					       c->dtext[b->first], b->resp.len ? ": " : "",
					       (int)(b->resp.len < 200 ? b->resp.len : 200), b->resp.data ? b->resp.data : "");
				goto stop;
			}
			if (b->attempt >= o->max_retries) {
				rc = nd_seterr(ND_ENET, "%s: %s for the batch starting at text %zu, after %u retries",
					       c->endpoint, what, c->dtext[b->first], b->attempt);
				goto stop;
			}
			b->attempt++;
			b->not_before = nd_now() + backoff_s(c, b->attempt, ra);
			if (c->stats)
				c->stats->retries++;
		}
		if (done < nb) {
			int numfds;
			curl_multi_poll(multi, NULL, 0, inflight ? 50 : 10, &numfds);
		}
	}
stop:
	for (size_t i = 0; i < nb; i++) {
		if (bs[i].h)
			batch_end(multi, &bs[i]);
		curl_slist_free_all(bs[i].hdr);
		nd_buf_free(&bs[i].body);
		nd_buf_free(&bs[i].resp);
	}
	free(bs);
	curl_multi_cleanup(multi);
	return rc;
}

typedef struct {
	tkey key;
	size_t text;
} kt;

static int cmp_kt(const void *a, const void *b)
{
	const kt *x = a, *y = b;
	int c = key_cmp(&x->key, &y->key);
	return c ? c : (x->text > y->text) - (x->text < y->text);
}

static int cmp_kt_text(const void *a, const void *b)
{
	const kt *x = a, *y = b;
	return (x->text > y->text) - (x->text < y->text);
}

int nd_http_embed(float **out, size_t *dim, const char *const *texts, const size_t *lens, size_t n,
		  const nd_embed_opts *o, nd_embed_stats *stats)
{
	http_ctx c;
	cache_t cc = {NULL, 0, NULL};
	kt *all = NULL, *uniq = NULL;
	size_t nu = 0, *text_did = NULL;
	float *x = NULL;
	int rc = 0;

	memset(&c, 0, sizeof c);
	c.o = o;
	c.texts = texts;
	c.lens = lens;
	c.cache_fd = -1;
	c.stats = stats;
	c.rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	{
		size_t ul = strlen(o->url);
		while (ul && o->url[ul - 1] == '/')
			ul--;
		if (ul + 12 >= sizeof c.endpoint)
			return nd_seterr(ND_EINVAL, "embedding URL is too long");
		if (strncasecmp(o->url, "http://", 7) != 0 && strncasecmp(o->url, "https://", 8) != 0)
			return nd_seterr(ND_EINVAL, "embedding URL '%s' is not http:// or https:// (an OpenAI-compatible "
						    "service, e.g. http://localhost:8000/v1)", o->url);
		snprintf(c.endpoint, sizeof c.endpoint, "%.*s/embeddings", (int)ul, o->url);
	}
	if (o->api_key_env && (!getenv(o->api_key_env) || !*getenv(o->api_key_env)))
		return nd_seterr(ND_EINVAL, "environment variable %s (--api-key-env) is not set or empty", o->api_key_env);
	/* distinct non-empty texts, in order of first appearance */
	all = nd_malloc((n + 1) * sizeof *all);
	text_did = nd_malloc((n + 1) * sizeof *text_did);
	if (!all || !text_did) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	size_t ne = 0;
	for (size_t i = 0; i < n; i++) {
		text_did[i] = SIZE_MAX;
		if (text_len(&c, i)) {
			all[ne].key = text_key(o->model, texts[i], text_len(&c, i));
			all[ne].text = i;
			ne++;
		}
	}
	qsort(all, ne, sizeof *all, cmp_kt);
	uniq = nd_malloc((ne + 1) * sizeof *uniq);
	if (!uniq) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ne; i++)
		if (i == 0 || key_cmp(&all[i].key, &all[i - 1].key))
			uniq[nu++] = all[i];
	qsort(uniq, nu, sizeof *uniq, cmp_kt_text);
	/* the cache */
	if (o->cache_path) {
		c.cache_fd = open(o->cache_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (c.cache_fd < 0) {
			rc = nd_seterr(ND_EIO, "%s: cannot open the cache: %s", o->cache_path, strerror(errno));
			goto out;
		}
		if ((rc = cache_load(&cc, c.cache_fd, o->cache_path)))
			goto out;
	}
	/* cached first (distinct ids 0..), then missing ones (contiguous, in text order) */
	c.nd = nu;
	c.dtext = nd_malloc((nu + 1) * sizeof *c.dtext);
	c.dkey = nd_malloc((nu + 1) * sizeof *c.dkey);
	c.have = nd_calloc(nu + 1, 1);
	if (!c.dtext || !c.dkey || !c.have) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	size_t ncached = 0, nmiss = 0;
	for (size_t i = 0; i < nu; i++)
		ncached += cache_find(&cc, &uniq[i].key) != NULL;
	for (size_t i = 0; i < nu; i++) {
		const centry *e = cache_find(&cc, &uniq[i].key);
		size_t id = e ? 0 : ncached;
		id += e ? (i - nmiss) : nmiss;
		if (!e)
			nmiss++;
		c.dtext[id] = uniq[i].text;
		c.dkey[id] = uniq[i].key;
		if (e) {
			if (!c.dim) {
				if (o->dim && e->dim != o->dim) {
					rc = nd_seterr(ND_ENET, "dimension mismatch: the cache %s holds %u-dimensional vectors, "
						       "--dim says %u", o->cache_path, e->dim, o->dim);
					goto out;
				}
				c.dim = e->dim;
				c.dvec = nd_calloc(nu ? nu : 1, c.dim * sizeof *c.dvec);
				if (!c.dvec) {
					rc = nd_seterr(ND_ENOMEM, "out of memory");
					goto out;
				}
			} else if (e->dim != c.dim) {
				rc = nd_seterr(ND_ENET, "dimension mismatch in the cache %s: %u and %zu", o->cache_path, e->dim,
					       c.dim);
				goto out;
			}
			memcpy(c.dvec + id * c.dim, cc.vec + e->off, c.dim * sizeof *c.dvec);
			c.have[id] = 1;
		}
	}
	if (stats)
		stats->cached = ncached;
	free(cc.e);
	free(cc.vec);
	cc.e = NULL;
	cc.vec = NULL;
	if ((rc = fetch(&c, ncached)))
		goto out;
	if (!c.dim) { /* every text empty */
		c.dim = o->dim ? o->dim : 1;
	}
	x = nd_calloc(n ? n : 1, c.dim * sizeof *x);
	if (!x) {
		rc = nd_seterr(ND_ENOMEM, "out of memory");
		goto out;
	}
	/* map every text to its distinct id through its key */
	for (size_t i = 0; i < nu; i++)
		uniq[i].text = i; /* reuse: uniq sorted by key gives key -> distinct id */
	{
		kt *byk = nd_malloc((nu + 1) * sizeof *byk);
		if (!byk) {
			rc = nd_seterr(ND_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < nu; i++) {
			byk[i].key = c.dkey[i];
			byk[i].text = i;
		}
		qsort(byk, nu, sizeof *byk, cmp_kt);
		for (size_t i = 0, j = 0; i < ne; i++) { /* all[] is sorted by key too */
			while (j < nu && key_cmp(&byk[j].key, &all[i].key) < 0)
				j++;
			text_did[all[i].text] = byk[j].text;
		}
		free(byk);
	}
	for (size_t i = 0; i < n; i++)
		if (text_did[i] != SIZE_MAX)
			memcpy(x + i * c.dim, c.dvec + text_did[i] * c.dim, c.dim * sizeof *x);
	*out = x;
	*dim = c.dim;
	x = NULL;
out:
	if (c.cache_fd >= 0)
		close(c.cache_fd);
	free(cc.e);
	free(cc.vec);
	free(all);
	free(uniq);
	free(text_did);
	free(c.dtext);
	free(c.dkey);
	free(c.have);
	free(c.dvec);
	free(x);
	return rc;
}
