// SPDX-License-Identifier: GPL-2.0-only
/*
 * An identity from memory, as ktlsd reads a kernel consumer's certificate
 * and private key out of its keys: ktls_config_add_identity_mem() on
 * arbitrary bytes, so kc_chain_load_mem() (PEM, or DER certificates one
 * after another), kc_pkey_load_mem() (PEM, or DER with nothing after it)
 * and the check that the key is the leaf's. Input: a 16-bit length, that
 * many bytes of chain, and the rest as the key.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ktls_config *cfg;
	size_t chain_len;

	if (size < 2)
		return 0;
	chain_len = (size_t)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	if (chain_len > size)
		chain_len = size;
	cfg = ktls_config_new();
	if (!cfg)
		return 0;
	ktls_config_add_identity_mem(cfg, data, chain_len, data + chain_len, size - chain_len);
	ktls_config_free(cfg);
	return 0;
}
