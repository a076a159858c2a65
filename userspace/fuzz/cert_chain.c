// SPDX-License-Identifier: GPL-2.0-only
/*
 * Certificate chains from arbitrary DER, as a peer's Certificate message
 * would carry them: parse, count, subject, key checks against every
 * signature scheme, a signature check, and path verification against the
 * test CA. Input: certificates each prefixed with a 16-bit length.
 */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kc_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	store = kc_store_new();
	if (!store || kc_store_add_file(store, FUZZ_CERT_DIR "/ca.pem"))
		return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t tbs[64] = { 0x20 };
	struct kc_chain *chain = kc_chain_new();
	const struct ktls_sigscheme *ss;
	const uint8_t *der;
	char buf[256];
	size_t len, i;
	long x509_error;

	if (!chain)
		return 0;
	while (size >= 2 && kc_chain_count(chain) < 20) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (kc_chain_add_der(chain, data, len))
			break;
		data += len;
		size -= len;
	}
	for (i = 0; i < kc_chain_count(chain); i++)
		kc_chain_der(chain, i, &der, &len);
	if (kc_chain_count(chain)) {
		kc_chain_subject(chain, buf, sizeof(buf));
		for (ss = ktls_sigschemes; ss->id; ss++)
			if (kc_chain_can_verify(chain, ss->id))
				kc_verify(chain, ss->id, tbs, sizeof(tbs), data, size);
		kc_chain_verify(store, chain, 1, "localhost", &x509_error, buf, sizeof(buf));
		kc_chain_verify(store, chain, 0, NULL, &x509_error, buf, sizeof(buf));
	}
	kc_chain_free(chain);
	return 0;
}
