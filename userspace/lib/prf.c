// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The TLS 1.2 key derivation: the PRF of RFC 5246 section 5, the
 * (extended) master secret of RFC 5246 8.1 and RFC 7627, the key block
 * of RFC 5246 6.3 cut for AEAD suites, and the Finished verify_data.
 */
#include <string.h>

#include "ktls_int.h"

/* Longest label we use ("extended master secret") plus two seeds. */
#define PRF_MAX_LABEL	32
#define PRF_MAX_SEED	(2 * KC_MAX_DIGEST)

/*
 * P_hash(secret, label || seed1 || seed2) of RFC 5246 5: the seed is
 * split in two so callers need not concatenate the randoms themselves.
 */
int ktls_prf(enum kc_hash_id hash, const uint8_t *secret, size_t secret_len,
	     const char *label, const uint8_t *seed1, size_t seed1_len,
	     const uint8_t *seed2, size_t seed2_len, uint8_t *out, size_t out_len)
{
	/* A(i) || label || seed, the input of each output block. */
	uint8_t buf[KC_MAX_DIGEST + PRF_MAX_LABEL + PRF_MAX_SEED];
	uint8_t a[KC_MAX_DIGEST], block[KC_MAX_DIGEST];
	size_t hlen = kc_hash_size(hash), label_len = strlen(label), seed_len, take;
	int ret = 0;

	if (!hlen || label_len > PRF_MAX_LABEL || seed1_len + seed2_len > PRF_MAX_SEED)
		return KTLS_ERROR_INVALID_ARGUMENT;
	memcpy(buf + hlen, label, label_len);
	if (seed1_len)
		memcpy(buf + hlen + label_len, seed1, seed1_len);
	if (seed2_len)
		memcpy(buf + hlen + label_len + seed1_len, seed2, seed2_len);
	seed_len = label_len + seed1_len + seed2_len;

	/* A(1) = HMAC(secret, A(0)) with A(0) = label || seed. */
	ret = kc_hmac(hash, secret, secret_len, buf + hlen, seed_len, a);
	while (!ret && out_len) {
		memcpy(buf, a, hlen);
		ret = kc_hmac(hash, secret, secret_len, buf, hlen + seed_len, block);
		if (ret)
			break;
		take = out_len < hlen ? out_len : hlen;
		memcpy(out, block, take);
		out += take;
		out_len -= take;
		if (out_len)
			ret = kc_hmac(hash, secret, secret_len, a, hlen, a);
	}
	kc_cleanse(buf, sizeof(buf));
	kc_cleanse(a, sizeof(a));
	kc_cleanse(block, sizeof(block));
	return ret;
}

int ktls12_master_secret(enum kc_hash_id hash, const uint8_t *premaster, size_t premaster_len,
			 const uint8_t *session_hash, const uint8_t *client_random,
			 const uint8_t *server_random, uint8_t *master)
{
	/* RFC 7627 4: the session hash replaces the randoms. */
	if (session_hash)
		return ktls_prf(hash, premaster, premaster_len, "extended master secret",
				session_hash, kc_hash_size(hash), NULL, 0,
				master, KTLS12_MASTER_SECRET_LEN);
	return ktls_prf(hash, premaster, premaster_len, "master secret", client_random, 32,
			server_random, 32, master, KTLS12_MASTER_SECRET_LEN);
}

/* Length of the implicit part of the nonce (RFC 5288 3, RFC 7905 2). */
size_t ktls12_fixed_iv_len(const struct ktls_suite *suite)
{
	return suite->aead == KC_CHACHA20_POLY1305 ? KC_AEAD_IV_LEN : 4;
}

int ktls12_key_block(const struct ktls_suite *suite, const uint8_t *master,
		     const uint8_t *client_random, const uint8_t *server_random,
		     struct ktls12_keys *keys)
{
	/* client key, server key, client IV, server IV (RFC 5246 6.3). */
	uint8_t block[2 * KC_MAX_KEY + 2 * KC_AEAD_IV_LEN];
	size_t key_len = kc_aead_key_size(suite->aead), iv_len = ktls12_fixed_iv_len(suite);
	int ret;

	ret = ktls_prf(suite->hash, master, KTLS12_MASTER_SECRET_LEN, "key expansion",
		       server_random, 32, client_random, 32, block, 2 * (key_len + iv_len));
	if (!ret) {
		memset(keys, 0, sizeof(*keys));
		memcpy(keys->client_key, block, key_len);
		memcpy(keys->server_key, block + key_len, key_len);
		memcpy(keys->client_iv, block + 2 * key_len, iv_len);
		memcpy(keys->server_iv, block + 2 * key_len + iv_len, iv_len);
	}
	kc_cleanse(block, sizeof(block));
	return ret;
}

int ktls12_verify_data(enum kc_hash_id hash, const uint8_t *master, int by_server,
		       const uint8_t *transcript_hash, uint8_t *out)
{
	return ktls_prf(hash, master, KTLS12_MASTER_SECRET_LEN,
			by_server ? "server finished" : "client finished",
			transcript_hash, kc_hash_size(hash), NULL, 0, out, KTLS12_VERIFY_DATA_LEN);
}
