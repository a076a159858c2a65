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
	p->tls12 = 0;
out:
	kc_cleanse(key, sizeof(key));
	return ret;
}

int ktls_protection_set12(struct ktls_protection *p, const struct ktls_suite *suite,
			  const uint8_t *key, const uint8_t *iv, int encrypt)
{
	struct kc_aead *aead = kc_aead_new(suite->aead, key, encrypt);

	if (!aead)
		return KTLS_ERROR_NO_MEMORY;
	kc_aead_free(p->aead);
	p->aead = aead;
	p->suite = suite;
	/* No traffic secret in TLS 1.2: nothing may be derived from it. */
	kc_cleanse(p->secret, sizeof(p->secret));
	kc_cleanse(p->key, sizeof(p->key));
	kc_cleanse(p->iv, sizeof(p->iv));
	memcpy(p->key, key, kc_aead_key_size(suite->aead));
	memcpy(p->iv, iv, ktls12_fixed_iv_len(suite));
	p->seq = 0;
	p->tls12 = 1;
	return 0;
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

/*
 * TLS 1.2 AEAD (RFC 5246 6.2.3.3): the explicit part of the GCM nonce is
 * the sequence number (RFC 5288 3 allows it, and kTLS continues from it),
 * ChaCha20 has none (RFC 7905 2). The additional data is seq || type ||
 * version || plaintext length.
 */
static size_t ktls12_explicit_len(const struct ktls_protection *p)
{
	return p->suite->aead == KC_CHACHA20_POLY1305 ? 0 : 8;
}

static void ktls12_nonce_aad(const struct ktls_protection *p, uint8_t type, size_t len,
			     const uint8_t *explicit, uint8_t *nonce, uint8_t *aad)
{
	int i;

	if (ktls12_explicit_len(p)) {
		memcpy(nonce, p->iv, 4);
		memcpy(nonce + 4, explicit, 8);
	} else {
		ktls_record_nonce(p, nonce);
	}
	for (i = 0; i < 8; i++)
		aad[i] = (uint8_t)(p->seq >> (56 - 8 * i));
	aad[8] = type;
	aad[9] = 0x03;
	aad[10] = 0x03;
	aad[11] = (uint8_t)(len >> 8);
	aad[12] = (uint8_t)len;
}

static int ktls12_record_seal_one(struct ktls_protection *p, struct ktls_buf *out, uint8_t type,
				  const uint8_t *data, size_t len)
{
	size_t explicit_len = ktls12_explicit_len(p);
	size_t total = explicit_len + len + KC_AEAD_TAG_LEN;
	uint8_t nonce[KC_AEAD_IV_LEN], aad[13];
	uint8_t *hdr, *body;
	int ret, i;

	if (p->seq == UINT64_MAX)
		return KTLS_ERROR_STATE;	/* no rekeying in TLS 1.2 */
	ret = ktls_buf_reserve(out, KTLS_RECORD_HEADER_LEN + total);
	if (ret)
		return ret;
	hdr = out->base + out->off;
	hdr[0] = type;
	hdr[1] = 0x03;
	hdr[2] = 0x03;
	hdr[3] = (uint8_t)(total >> 8);
	hdr[4] = (uint8_t)total;
	for (i = 0; i < (int)explicit_len; i++)
		hdr[KTLS_RECORD_HEADER_LEN + i] = (uint8_t)(p->seq >> (56 - 8 * i));
	body = hdr + KTLS_RECORD_HEADER_LEN + explicit_len;
	memmove(body, data, len);
	ktls12_nonce_aad(p, type, len, hdr + KTLS_RECORD_HEADER_LEN, nonce, aad);
	ret = kc_aead_seal(p->aead, nonce, aad, sizeof(aad), body, len, body);
	if (ret) {
		kc_cleanse(body, len);
		return ret;
	}
	p->seq++;
	out->off += KTLS_RECORD_HEADER_LEN + total;
	return 0;
}

static int ktls12_record_open(struct ktls_protection *p, const uint8_t *in, size_t len,
			      uint8_t *scratch, const uint8_t **frag, size_t *frag_len)
{
	size_t explicit_len = ktls12_explicit_len(p), plain_len;
	uint8_t nonce[KC_AEAD_IV_LEN], aad[13];
	const uint8_t *body = in + KTLS_RECORD_HEADER_LEN;
	int ret;

	if (len < explicit_len + KC_AEAD_TAG_LEN)
		return KTLS_ALERT_BAD_RECORD_MAC;
	plain_len = len - explicit_len - KC_AEAD_TAG_LEN;
	if (plain_len > KTLS_MAX_PLAINTEXT)
		return KTLS_ALERT_RECORD_OVERFLOW;
	ktls12_nonce_aad(p, in[0], plain_len, body, nonce, aad);
	ret = kc_aead_open(p->aead, nonce, aad, sizeof(aad), body + explicit_len,
			   len - explicit_len, scratch);
	if (ret) {
		kc_cleanse(scratch, len);
		return ret;
	}
	p->seq++;
	*frag = scratch;
	*frag_len = plain_len;
	return 0;
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

		if (p->suite && p->tls12) {
			ret = ktls12_record_seal_one(p, out, type, src, chunk);
		} else if (p->suite) {
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

	/* TLS 1.2 protects every content type but change_cipher_spec. */
	if (p->suite && p->tls12 && in[0] != KTLS_CT_CHANGE_CIPHER_SPEC) {
		*type = in[0];
		return ktls12_record_open(p, in, len, scratch, frag, frag_len);
	}

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
