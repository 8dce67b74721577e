/* SHA-256 for the input fingerprint in reports (validate checks a report's files
 * have not changed since dedup ran). OpenSSL's libcrypto uses the CPU's SHA
 * extensions where present: ~2 GB/s here, against ~250 MB/s for a portable loop,
 * which matters when the input is a few GB. */
#include <openssl/evp.h>
#include <string.h>
#include "internal.h"
#include "sha256.h"

int nd_sha256(const void *data, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	hex[0] = '\0';
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return nd_seterr(ND_EBACKEND, "SHA-256 failed in libcrypto");
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}
