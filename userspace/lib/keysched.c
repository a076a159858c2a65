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

/* Transcript-Hash("") of each hash, for "derived": constants save two hashes a handshake. */
static const uint8_t empty_transcript_hash[KC_HASH_COUNT][KC_MAX_DIGEST] = {
	[KC_SHA256] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
		0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
		0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	},
	[KC_SHA384] = {
		0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac, 0x96, 0x38,
		0x4c, 0xd9, 0x32, 0x7e, 0xb1, 0xb1, 0xe3, 0x6a,
		0x21, 0xfd, 0xb7, 0x11, 0x14, 0xbe, 0x07, 0x43,
		0x4c, 0x0c, 0xc7, 0xbf, 0x63, 0xf6, 0xe1, 0xda,
		0x27, 0x4e, 0xde, 0xbf, 0xe7, 0x6f, 0x65, 0xfb,
		0xd5, 0x1a, 0xd2, 0xf1, 0x48, 0x98, 0xb9, 0x5b,
	},
	[KC_SHA512] = {
		0xcf, 0x83, 0xe1, 0x35, 0x7e, 0xef, 0xb8, 0xbd,
		0xf1, 0x54, 0x28, 0x50, 0xd6, 0x6d, 0x80, 0x07,
		0xd6, 0x20, 0xe4, 0x05, 0x0b, 0x57, 0x15, 0xdc,
		0x83, 0xf4, 0xa9, 0x21, 0xd3, 0x6c, 0xe9, 0xce,
		0x47, 0xd0, 0xd1, 0x3c, 0x5d, 0x85, 0xf2, 0xb0,
		0xff, 0x83, 0x18, 0xd2, 0x87, 0x7e, 0xec, 0x2f,
		0x63, 0xb9, 0x31, 0xbd, 0x47, 0x41, 0x7a, 0x81,
		0xa5, 0x38, 0x32, 0x7a, 0xf9, 0x27, 0xda, 0x3e,
	},
};

int ktls_derive_secret(enum kc_hash_id hash, const uint8_t *secret, const char *label,
		       const uint8_t *transcript_hash, uint8_t *out)
{
	size_t len = kc_hash_size(hash);

	if (!len)
		return KTLS_ERROR_INVALID_ARGUMENT;
	if (!transcript_hash)
		transcript_hash = empty_transcript_hash[hash];
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
