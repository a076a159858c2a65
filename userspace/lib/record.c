// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The record layer as the engine uses it: during the handshake, and for
 * application data when kTLS is not in use. After kTLS is installed the
 * kernel does this work with the same keys and sequence numbers.
 */
#include <string.h>

#include "ktls_int.h"

int ktls_protection_set(struct ktls_protection *p, const struct ktls_suite *suite,
			const uint8_t *secret, int encrypt)
{
	struct kc_aead *aead;
	uint8_t key[KC_MAX_KEY];
	int ret;

	ret = ktls_traffic_key_iv(suite, secret, key, p->iv);
	if (ret)
		goto out;
	aead = kc_aead_new(suite->aead, key, encrypt);
	if (!aead) {
		ret = KTLS_ERROR_NO_MEMORY;
		goto out;
	}
	kc_aead_free(p->aead);
	p->aead = aead;
	p->suite = suite;
	if (secret != p->secret)
		memcpy(p->secret, secret, kc_hash_size(suite->hash));
	memcpy(p->key, key, sizeof(key));
	p->seq = 0;
out:
	kc_cleanse(key, sizeof(key));
	return ret;
}

void ktls_protection_clear(struct ktls_protection *p)
{
	kc_aead_free(p->aead);
	kc_cleanse(p, sizeof(*p));
	p->aead = NULL;
	p->suite = NULL;
}

/* Per-record nonce: the IV XORed with the 64-bit sequence number (RFC 8446 5.3). */
static void ktls_record_nonce(const struct ktls_protection *p, uint8_t *nonce)
{
	int i;

	memcpy(nonce, p->iv, KC_AEAD_IV_LEN);
	for (i = 0; i < 8; i++)
		nonce[KC_AEAD_IV_LEN - 1 - i] ^= (uint8_t)(p->seq >> (8 * i));
}

static int ktls_record_seal_one(struct ktls_protection *p, struct ktls_buf *out, uint8_t type,
				const uint8_t *data, size_t len)
{
	size_t inner = len + 1, total = inner + KC_AEAD_TAG_LEN;
	uint8_t nonce[KC_AEAD_IV_LEN];
	uint8_t *hdr, *body;
	int ret;

	if (p->seq == UINT64_MAX)
		return KTLS_ERROR_STATE;	/* must rekey first */
	ret = ktls_buf_reserve(out, KTLS_RECORD_HEADER_LEN + total);
	if (ret)
		return ret;
	hdr = out->base + out->off;
	hdr[0] = KTLS_CT_APPLICATION_DATA;
	hdr[1] = 0x03;
	hdr[2] = 0x03;
	hdr[3] = (uint8_t)(total >> 8);
	hdr[4] = (uint8_t)total;
	body = hdr + KTLS_RECORD_HEADER_LEN;
	memmove(body, data, len);
	body[len] = type;
	ktls_record_nonce(p, nonce);
	ret = kc_aead_seal(p->aead, nonce, hdr, KTLS_RECORD_HEADER_LEN, body, inner, body);
	if (ret) {
		kc_cleanse(body, inner);
		return ret;
	}
	p->seq++;
	out->off += KTLS_RECORD_HEADER_LEN + total;
	return 0;
}

int ktls_record_write(struct ktls_protection *p, struct ktls_buf *out, uint8_t type,
		      const void *data, size_t len)
{
	const uint8_t *src = data;
	int ret;

	do {
		size_t chunk = len < KTLS_MAX_PLAINTEXT ? len : KTLS_MAX_PLAINTEXT;

		if (p->suite) {
			ret = ktls_record_seal_one(p, out, type, src, chunk);
		} else {
			uint8_t hdr[KTLS_RECORD_HEADER_LEN] = {
				type, 0x03, 0x03, (uint8_t)(chunk >> 8), (uint8_t)chunk
			};

			ret = ktls_buf_push(out, hdr, sizeof(hdr));
			if (!ret)
				ret = ktls_buf_push(out, src, chunk);
		}
		if (ret)
			return ret;
		src += chunk;
		len -= chunk;
	} while (len);
	return 0;
}

int ktls_record_read(struct ktls_protection *p, const uint8_t *in, size_t in_len,
		     size_t *consumed, uint8_t *scratch, uint8_t *type,
		     const uint8_t **frag, size_t *frag_len)
{
	uint8_t nonce[KC_AEAD_IV_LEN];
	size_t len, plain_len;
	int ret;

	if (in_len < KTLS_RECORD_HEADER_LEN)
		return KTLS_ERROR_IN_PROGRESS;
	/* legacy_record_version: only its major byte is meaningful. */
	if (in[1] != 0x03)
		return KTLS_ALERT_DECODE_ERROR;
	len = (size_t)in[3] << 8 | in[4];
	if (len > (p->suite ? KTLS_MAX_CIPHERTEXT_13 : KTLS_MAX_PLAINTEXT))
		return KTLS_ALERT_RECORD_OVERFLOW;
	switch (in[0]) {
	case KTLS_CT_CHANGE_CIPHER_SPEC:
	case KTLS_CT_ALERT:
	case KTLS_CT_HANDSHAKE:
	case KTLS_CT_APPLICATION_DATA:
		break;
	default:
		return KTLS_ALERT_UNEXPECTED_MESSAGE;
	}
	if (in_len < KTLS_RECORD_HEADER_LEN + len)
		return KTLS_ERROR_IN_PROGRESS;
	*consumed = KTLS_RECORD_HEADER_LEN + len;

	/* Unprotected records; the caller decides which types it tolerates. */
	if (!p->suite || in[0] != KTLS_CT_APPLICATION_DATA) {
		if (p->suite && in[0] == KTLS_CT_HANDSHAKE)
			return KTLS_ALERT_UNEXPECTED_MESSAGE;
		*type = in[0];
		*frag = in + KTLS_RECORD_HEADER_LEN;
		*frag_len = len;
		return 0;
	}

	if (len < KC_AEAD_TAG_LEN + 1)
		return KTLS_ALERT_BAD_RECORD_MAC;
	ktls_record_nonce(p, nonce);
	ret = kc_aead_open(p->aead, nonce, in, KTLS_RECORD_HEADER_LEN,
			   in + KTLS_RECORD_HEADER_LEN, len, scratch);
	if (ret) {
		/* GCM writes plaintext before the tag is checked: none may remain. */
		kc_cleanse(scratch, len);
		return ret;
	}
	p->seq++;
	/* Strip TLSInnerPlaintext padding: the content type is the last non-zero byte. */
	plain_len = len - KC_AEAD_TAG_LEN;
	while (plain_len && !scratch[plain_len - 1])
		plain_len--;
	if (!plain_len)
		return KTLS_ALERT_UNEXPECTED_MESSAGE;
	plain_len--;
	if (plain_len > KTLS_MAX_PLAINTEXT)
		return KTLS_ALERT_RECORD_OVERFLOW;
	*type = scratch[plain_len];
	if (*type != KTLS_CT_ALERT && *type != KTLS_CT_HANDSHAKE &&
	    *type != KTLS_CT_APPLICATION_DATA)
		return KTLS_ALERT_UNEXPECTED_MESSAGE;
	*frag = scratch;
	*frag_len = plain_len;
	return 0;
}
