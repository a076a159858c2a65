// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one harness file that calls libcrypto itself. The test hooks fix
 * each side's random and key exchange scalars, but not what libcrypto
 * draws inside an operation: the PKCS#1 padding and the premaster of
 * RSA key transport (the client's kc_random()), RSA-PSS salts and ECDSA
 * nonces. A constant generator makes all of those repeat, so a TLS 1.2
 * handshake with RSA recorded by mkcorpus replays in a target exactly
 * as an Ed25519 one does, and `make fuzz-corpus` writes the same bytes
 * each time.
 *
 * A constant rather than a seeded stream: the order of the calls differs
 * between a recording (both sides in one process) and a target (one side
 * alone), a constant does not care. The byte is not zero, as PKCS#1
 * padding redraws zero bytes.
 *
 * libcrypto 3.0 still routes RAND_bytes() and RAND_priv_bytes(), its own
 * internal calls included, through a RAND_METHOD set by the application;
 * that interface is deprecated, hence the suppression.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <string.h>

#include <openssl/rand.h>

#include "fuzz_common.h"

#define FUZZ_RANDOM_BYTE	0x5c

static int fuzz_rand_bytes(unsigned char *buf, int num)
{
	if (num > 0)
		memset(buf, FUZZ_RANDOM_BYTE, (size_t)num);
	return 1;
}

static int fuzz_rand_status(void)
{
	return 1;
}

static const RAND_METHOD fuzz_rand_method = {
	.bytes = fuzz_rand_bytes,
	.pseudorand = fuzz_rand_bytes,
	.status = fuzz_rand_status,
};

int fuzz_fixed_random(void)
{
	return RAND_set_rand_method(&fuzz_rand_method) == 1 ? 0 : -1;
}
