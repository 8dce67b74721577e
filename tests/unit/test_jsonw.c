#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "internal.h"

#include "jsonw.h"
#include "sha256.h"
#include <cjson/cJSON.h>

TEST(sha256_known_vectors)
{
	char hex[65];
	nd_sha256("", 0, hex);
	CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	nd_sha256("abc", 3, hex);
	CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes: two tail blocks */
	nd_sha256(m, strlen(m), hex);
	CHECK_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(json_writer_escapes_and_nests)
{
	char path[512];
	snprintf(path, sizeof path, "%s/jw.json", nd_test_tmpdir());
	nd_outfile *f;
	CHECK_OK(nd_outfile_open(&f, path));
	nd_jw w;
	nd_jw_init(&w, f, 1);
	nd_jw_object(&w);
	nd_jw_key(&w, "s");
	nd_jw_str(&w, "a\"b\\c\n\x01驾\xC3");
	nd_jw_key(&w, "list");
	nd_jw_array(&w);
	nd_jw_int(&w, -3);
	nd_jw_num(&w, 0.5, 4);
	nd_jw_null(&w);
	nd_jw_object(&w);
	nd_jw_end(&w);
	nd_jw_array(&w);
	nd_jw_end(&w);
	nd_jw_end(&w);
	nd_jw_key(&w, "t");
	nd_jw_bool(&w, 1);
	nd_jw_end(&w);
	CHECK_OK(nd_jw_finish(&w));
	CHECK_OK(nd_outfile_commit(f));
	FILE *in = fopen(path, "rb");
	char buf[1024] = {0};
	size_t n = in ? fread(buf, 1, sizeof buf - 1, in) : 0;
	if (in)
		fclose(in);
	cJSON *j = cJSON_ParseWithLength(buf, n);
	CHECK_MSG(j != NULL, "writer output is not JSON: %s", buf);
	if (j) {
		CHECK_EQ_STR(cJSON_GetObjectItem(j, "s")->valuestring, "a\"b\\c\n\x01驾\xEF\xBF\xBD");
		cJSON *l = cJSON_GetObjectItem(j, "list");
		CHECK_EQ_INT(cJSON_GetArraySize(l), 5);
		CHECK(cJSON_GetArrayItem(l, 1)->valuedouble == 0.5);
		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "t")));
		cJSON_Delete(j);
	}
}

/* Numbers are formatted without printf on the fast path: every value must print
 * exactly as "%.*f" (trailing zeros trimmed) and "%lld" would, ties included. */
TEST(json_writer_numbers_match_printf)
{
	char path[512];
	snprintf(path, sizeof path, "%s/jwnum.json", nd_test_tmpdir());
	uint64_t s = nd_test_seed();
	enum { N = 20000 };
	static double vals[N];
	static int digs[N];
	static long long ints[N];
	for (int i = 0; i < N; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		uint32_t r = (uint32_t)(s >> 32);
		switch (i % 5) {
		case 0: vals[i] = (double)(float)(r / 4294967296.0); break; /* a float similarity */
		case 1: vals[i] = (double)(r % 64) / 64.0; break;            /* dyadic: exact ties at 4 digits */
		case 2: vals[i] = -(double)(r % 100000) / 20000.0; break;    /* negatives, 5-decimal values */
		case 3: vals[i] = (double)r / 1000.0; break;
		default: vals[i] = i % 2 ? 0.0 : -0.0; break;
		}
		digs[i] = 1 + (int)(r % 6);
		ints[i] = (long long)(s ^ (s << 7)) >> (r % 60);
	}
	ints[0] = 0, ints[1] = -1, ints[2] = (long long)(-9223372036854775807LL - 1);
	nd_outfile *f;
	CHECK_OK(nd_outfile_open(&f, path));
	nd_jw w;
	nd_jw_init(&w, f, 0);
	nd_jw_array(&w);
	for (int i = 0; i < N; i++) {
		nd_jw_num(&w, vals[i], digs[i]);
		nd_jw_int(&w, ints[i]);
	}
	nd_jw_end(&w);
	CHECK_OK(nd_jw_finish(&w));
	CHECK_OK(nd_outfile_commit(f));
	FILE *in = fopen(path, "rb");
	static char got[2 * N * 48];
	size_t n = in ? fread(got, 1, sizeof got - 1, in) : 0;
	if (in)
		fclose(in);
	got[n] = '\0';
	const char *p = got + 1; /* after '[' */
	int bad = 0;
	for (int i = 0; i < N && !bad; i++) {
		char want[64], wi[32];
		snprintf(want, sizeof want, "%.*f", digs[i], vals[i]);
		char *dot = strchr(want, '.'), *e = want + strlen(want) - 1;
		while (dot && e > dot + 1 && *e == '0')
			*e-- = '\0';
		snprintf(wi, sizeof wi, "%lld", ints[i]);
		size_t a = strcspn(p, ",]");
		if (a != strlen(want) || memcmp(p, want, a)) {
			CHECK_MSG(0, "value %d: %.17g with %d digits printed as %.*s, printf gives %s", i, vals[i], digs[i],
				  (int)a, p, want);
			bad = 1;
		}
		p += a + 1;
		size_t b = strcspn(p, ",]");
		if (b != strlen(wi) || memcmp(p, wi, b)) {
			CHECK_MSG(0, "int %d: %lld printed as %.*s", i, ints[i], (int)b, p);
			bad = 1;
		}
		p += b + 1;
	}
}
