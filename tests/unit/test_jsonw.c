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
