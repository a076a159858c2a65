// SPDX-License-Identifier: LGPL-2.1-or-later
/* The TLS 1.3 key schedule (RFC 8446 section 7.1). */
#include <string.h>

#include "ktls_int.h"

int ktls_hkdf_expand_label(enum kc_hash_id hash, const uint8_t *secret,
			   const char *label, const uint8_t *context, size_t context_len,
			   uint8_t *out, size_t out_len)
{
	/* HkdfLabel: uint16 length, opaque label<7..255>, opaque context<0..255> */
	uint8_t info[2 + 1 + 255 + 1 + 255];
	size_t label_len = strlen(label), n = 0;
	int ret;

	if (label_len > 255 - 6 || context_len > 255 || out_len > 0xffff)
		return KTLS_ERROR_INVALID_ARGUMENT;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(6 + label_len);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = (uint8_t)context_len;
	if (context_len)
		memcpy(info + n, context, context_len);
	n += context_len;
	ret = kc_hkdf_expand(hash, secret, kc_hash_size(hash), info, n, out, out_len);
	kc_cleanse(info, sizeof(info));
	return ret;
}

int ktls_derive_secret(enum kc_hash_id hash, const uint8_t *secret, const char *label,
		       const uint8_t *transcript_hash, uint8_t *out)
{
	uint8_t empty[KC_MAX_DIGEST];
	size_t len = kc_hash_size(hash);
	int ret;

	if (!transcript_hash) {
		ret = kc_hash_oneshot(hash, "", 0, empty);
		if (ret)
			return ret;
		transcript_hash = empty;
	}
	return ktls_hkdf_expand_label(hash, secret, label, transcript_hash, len, out, len);
}

int ktls_early_secret(enum kc_hash_id hash, const uint8_t *psk, size_t psk_len, uint8_t *out)
{
	static const uint8_t zeros[KC_MAX_DIGEST];
	size_t len = kc_hash_size(hash);

	if (!psk) {
		psk = zeros;
		psk_len = len;
	}
	return kc_hkdf_extract(hash, zeros, len, psk, psk_len, out);
}

int ktls_next_secret(enum kc_hash_id hash, const uint8_t *prev, const uint8_t *ikm,
		     size_t ikm_len, uint8_t *out)
{
	static const uint8_t zeros[KC_MAX_DIGEST];
	uint8_t derived[KC_MAX_DIGEST];
	size_t len = kc_hash_size(hash);
	int ret;

	ret = ktls_derive_secret(hash, prev, "derived", NULL, derived);
	if (ret)
		goto out;
	if (!ikm) {
		ikm = zeros;
		ikm_len = len;
	}
	ret = kc_hkdf_extract(hash, derived, len, ikm, ikm_len, out);
out:
	kc_cleanse(derived, sizeof(derived));
	return ret;
}

int ktls_traffic_key_iv(const struct ktls_suite *suite, const uint8_t *secret,
			uint8_t *key, uint8_t *iv)
{
	int ret;

	ret = ktls_hkdf_expand_label(suite->hash, secret, "key", NULL, 0, key,
				     kc_aead_key_size(suite->aead));
	if (ret)
		return ret;
	return ktls_hkdf_expand_label(suite->hash, secret, "iv", NULL, 0, iv, KC_AEAD_IV_LEN);
}

int ktls_finished_verify_data(enum kc_hash_id hash, const uint8_t *base_secret,
			      const uint8_t *transcript_hash, uint8_t *out)
{
	uint8_t finished_key[KC_MAX_DIGEST];
	size_t len = kc_hash_size(hash);
	int ret;

	ret = ktls_hkdf_expand_label(hash, base_secret, "finished", NULL, 0, finished_key, len);
	if (!ret)
		ret = kc_hmac(hash, finished_key, len, transcript_hash, len, out);
	kc_cleanse(finished_key, sizeof(finished_key));
	return ret;
}

int ktls_update_traffic_secret(enum kc_hash_id hash, uint8_t *secret)
{
	uint8_t next[KC_MAX_DIGEST];
	size_t len = kc_hash_size(hash);
	int ret;

	ret = ktls_hkdf_expand_label(hash, secret, "traffic upd", NULL, 0, next, len);
	if (!ret)
		memcpy(secret, next, len);
	kc_cleanse(next, sizeof(next));
	return ret;
}
