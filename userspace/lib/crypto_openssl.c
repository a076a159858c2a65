// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The crypto backend on OpenSSL 3.0 libcrypto: the only file of libktls
 * that includes OpenSSL headers.
 *
 * This backs a handshake that must be cheaper than libssl's, so nothing is
 * looked up by name per call where libcrypto lets us avoid it:
 * - digests and ciphers are fetched once by kc_init() into tables indexed
 *   by the kc_*_id enums;
 * - NIST key pairs are generated from a cached parameters key, and peer
 *   public values are imported by copying the parameters of a cached key
 *   (both measured about twice as fast as going by group name);
 * - HMAC is built on EVP_MD: measured about twice as fast as duplicating
 *   a keyed EVP_MAC context, and EVP_KDF's HKDF costs a fetch per call;
 * - each thread keeps its own initialised key generation contexts (see
 *   struct kc_scratch), as a context from the group name costs ~9 us;
 * - a private key carries a DigestSign context per scheme, set up at load
 *   and copied per signature (~2 us against 10-17 us for a fresh init);
 * - peer certificates are parsed through a small shared cache keyed by
 *   their DER bytes (see kc_cert_cache): 3.0's d2i_X509 builds a decoder
 *   for the public key every time and costs ~450 us, more than the rest of
 *   a client's handshake. Verification itself is never cached.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ktls.h"
#include "crypto.h"

#define KC_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KC_MAX_BLOCK		128	/* SHA-384/512 block, for HMAC */
/* A scheme that hashes inside the signature (EdDSA); an unrestricted key. */
#define KC_HASH_NONE		KC_HASH_COUNT

/* ---- per-algorithm facts ---- */

static const struct kc_hash_info {
	const char *name;
	size_t size;
	size_t block;
} kc_hashes[KC_HASH_COUNT] = {
	[KC_SHA256] = { "SHA2-256", 32, 64 },
	[KC_SHA384] = { "SHA2-384", 48, 128 },
	[KC_SHA512] = { "SHA2-512", 64, 128 },
};

static const struct kc_aead_info {
	const char *name;
	size_t key_size;
} kc_aeads[KC_AEAD_COUNT] = {
	[KC_AES_128_GCM] = { "AES-128-GCM", 16 },
	[KC_AES_256_GCM] = { "AES-256-GCM", 32 },
	[KC_CHACHA20_POLY1305] = { "ChaCha20-Poly1305", 32 },
};

static const struct kc_group_info {
	enum kc_group_id id;
	const char *keytype;
	const char *curve;	/* NULL: not a NIST curve */
	int curve_nid;
	size_t public_len;
	size_t secret_len;	/* also the length of a private value */
} kc_groups[] = {
	{ KC_GROUP_X25519, "X25519", NULL, NID_undef, 32, 32 },
	{ KC_GROUP_SECP256R1, "EC", "P-256", NID_X9_62_prime256v1, 65, 32 },
	{ KC_GROUP_SECP384R1, "EC", "P-384", NID_secp384r1, 97, 48 },
};

/* Key types as TLS sees them: RSA-PSS keys and each curve are apart. */
enum kc_key_kind {
	KC_KEY_UNSUPPORTED,
	KC_KEY_RSA,		/* rsaEncryption */
	KC_KEY_RSA_PSS,		/* id-RSASSA-PSS */
	KC_KEY_P256,
	KC_KEY_P384,
	KC_KEY_P521,
	KC_KEY_ED25519,
	KC_KEY_ED448,
};

static const struct kc_key_type {
	int base_id;
	int curve_nid;
	enum kc_key_kind kind;
} kc_key_types[] = {
	{ EVP_PKEY_RSA, NID_undef, KC_KEY_RSA },
	{ EVP_PKEY_RSA_PSS, NID_undef, KC_KEY_RSA_PSS },
	{ EVP_PKEY_EC, NID_X9_62_prime256v1, KC_KEY_P256 },
	{ EVP_PKEY_EC, NID_secp384r1, KC_KEY_P384 },
	{ EVP_PKEY_EC, NID_secp521r1, KC_KEY_P521 },
	{ EVP_PKEY_ED25519, NID_undef, KC_KEY_ED25519 },
	{ EVP_PKEY_ED448, NID_undef, KC_KEY_ED448 },
};

static const struct kc_scheme_info {
	uint16_t scheme;
	enum kc_key_kind key;
	enum kc_hash_id hash;	/* KC_HASH_NONE for EdDSA */
	int padding;		/* RSA_PKCS1_*; 0 for non-RSA */
} kc_schemes[] = {
	{ KC_SIG_RSA_PKCS1_SHA256, KC_KEY_RSA, KC_SHA256, RSA_PKCS1_PADDING },
	{ KC_SIG_RSA_PKCS1_SHA384, KC_KEY_RSA, KC_SHA384, RSA_PKCS1_PADDING },
	{ KC_SIG_RSA_PKCS1_SHA512, KC_KEY_RSA, KC_SHA512, RSA_PKCS1_PADDING },
	{ KC_SIG_ECDSA_SECP256R1_SHA256, KC_KEY_P256, KC_SHA256, 0 },
	{ KC_SIG_ECDSA_SECP384R1_SHA384, KC_KEY_P384, KC_SHA384, 0 },
	{ KC_SIG_ECDSA_SECP521R1_SHA512, KC_KEY_P521, KC_SHA512, 0 },
	{ KC_SIG_RSA_PSS_RSAE_SHA256, KC_KEY_RSA, KC_SHA256, RSA_PKCS1_PSS_PADDING },
	{ KC_SIG_RSA_PSS_RSAE_SHA384, KC_KEY_RSA, KC_SHA384, RSA_PKCS1_PSS_PADDING },
	{ KC_SIG_RSA_PSS_RSAE_SHA512, KC_KEY_RSA, KC_SHA512, RSA_PKCS1_PSS_PADDING },
	{ KC_SIG_ED25519, KC_KEY_ED25519, KC_HASH_NONE, 0 },
	{ KC_SIG_ED448, KC_KEY_ED448, KC_HASH_NONE, 0 },
	{ KC_SIG_RSA_PSS_PSS_SHA256, KC_KEY_RSA_PSS, KC_SHA256, RSA_PKCS1_PSS_PADDING },
	{ KC_SIG_RSA_PSS_PSS_SHA384, KC_KEY_RSA_PSS, KC_SHA384, RSA_PKCS1_PSS_PADDING },
	{ KC_SIG_RSA_PSS_PSS_SHA512, KC_KEY_RSA_PSS, KC_SHA512, RSA_PKCS1_PSS_PADDING },
};

/* Which alert a failed chain check sends; anything else is certificate_unknown. */
static const struct kc_verify_alert {
	int x509_error;
	int alert;
} kc_verify_alerts[] = {
	{ X509_V_ERR_CERT_HAS_EXPIRED, KTLS_ALERT_CERTIFICATE_EXPIRED },
	{ X509_V_ERR_CERT_NOT_YET_VALID, KTLS_ALERT_CERTIFICATE_EXPIRED },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, KTLS_ALERT_UNKNOWN_CA },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, KTLS_ALERT_UNKNOWN_CA },
	{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, KTLS_ALERT_UNKNOWN_CA },
	{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, KTLS_ALERT_UNKNOWN_CA },
	{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, KTLS_ALERT_UNKNOWN_CA },
	{ X509_V_ERR_CERT_UNTRUSTED, KTLS_ALERT_UNKNOWN_CA },
	{ X509_V_ERR_INVALID_CA, KTLS_ALERT_UNKNOWN_CA },
	{ X509_V_ERR_PATH_LENGTH_EXCEEDED, KTLS_ALERT_UNKNOWN_CA },
	{ X509_V_ERR_CERT_CHAIN_TOO_LONG, KTLS_ALERT_UNKNOWN_CA },
	{ X509_V_ERR_HOSTNAME_MISMATCH, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_IP_ADDRESS_MISMATCH, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_EMAIL_MISMATCH, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_CERT_SIGNATURE_FAILURE, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_CERT_REJECTED, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_EE_KEY_TOO_SMALL, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_CA_KEY_TOO_SMALL, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_CA_MD_TOO_WEAK, KTLS_ALERT_BAD_CERTIFICATE },
	{ X509_V_ERR_CERT_REVOKED, KTLS_ALERT_CERTIFICATE_REVOKED },
	{ X509_V_ERR_INVALID_PURPOSE, KTLS_ALERT_UNSUPPORTED_CERTIFICATE },
	{ X509_V_ERR_INVALID_EXTENSION, KTLS_ALERT_UNSUPPORTED_CERTIFICATE },
	{ X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, KTLS_ALERT_UNSUPPORTED_CERTIFICATE },
	{ X509_V_ERR_OUT_OF_MEM, KTLS_ALERT_INTERNAL_ERROR },
	{ X509_V_ERR_UNSPECIFIED, KTLS_ALERT_INTERNAL_ERROR },
};

/* Filled once by kc_init(), read-only afterwards. */
static EVP_MD *kc_md[KC_HASH_COUNT];
static EVP_CIPHER *kc_cipher[KC_AEAD_COUNT];
/*
 * Per group: a key whose parameters new keys and imported peer values
 * copy (NIST: parameters only; X25519 has none, so its base point).
 */
static EVP_PKEY *kc_group_template[KC_ARRAY_SIZE(kc_groups)];

static pthread_once_t kc_once = PTHREAD_ONCE_INIT;
static int kc_init_status = KTLS_ERROR_LIBRARY;

/*
 * Per thread: libcrypto objects that cost more to create than to use, and
 * that one thread at a time may use. Created on a thread's first need;
 * freed by kc_scratch_key's destructor when the thread ends, and for the
 * thread that calls exit() by kc_at_exit(). Nothing secret stays in them
 * between calls: a key generation context keeps only the group.
 *
 * HMAC does not get one: a reused digest context keeps the last hash state
 * (an HMAC output) until the next call, and saves only 0.14 us of 2.4 us
 * per HMAC, about 1% of a handshake.
 */
struct kc_scratch {
	EVP_PKEY_CTX *ks_keygen[KC_ARRAY_SIZE(kc_groups)];	/* keygen_init done */
};

static pthread_key_t kc_scratch_key;	/* created by kc_init_once() */

static void kc_cert_cache_close(void);

/* ---- init and utilities ---- */

static EVP_PKEY *kc_make_template(const struct kc_group_info *g)
{
	static const uint8_t x25519_base_point[32] = { 9 };
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *tmpl = NULL;

	if (!g->curve)
		return EVP_PKEY_new_raw_public_key_ex(NULL, g->keytype, NULL, x25519_base_point,
						      sizeof(x25519_base_point));
	ctx = EVP_PKEY_CTX_new_from_name(NULL, g->keytype, NULL);
	if (ctx && EVP_PKEY_paramgen_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_group_name(ctx, g->curve) > 0)
		EVP_PKEY_paramgen(ctx, &tmpl);	/* tmpl stays NULL on failure */
	EVP_PKEY_CTX_free(ctx);
	return tmpl;
}

static void kc_scratch_free(void *arg)
{
	struct kc_scratch *scratch = arg;
	size_t i;

	if (!scratch)
		return;
	for (i = 0; i < KC_ARRAY_SIZE(scratch->ks_keygen); i++)
		EVP_PKEY_CTX_free(scratch->ks_keygen[i]);
	free(scratch);
}

/* The calling thread's scratch objects; NULL when out of memory. */
static struct kc_scratch *kc_scratch_get(void)
{
	struct kc_scratch *scratch = pthread_getspecific(kc_scratch_key);

	if (scratch)
		return scratch;
	scratch = calloc(1, sizeof(*scratch));
	if (!scratch)
		return NULL;
	if (pthread_setspecific(kc_scratch_key, scratch)) {
		free(scratch);
		return NULL;
	}
	return scratch;
}

/*
 * At exit, frees the certificate cache and the exiting thread's scratch, so
 * a leak checker finds them neither lost nor reachable (threads still
 * running keep theirs). Registered after libcrypto's own handler, so it
 * runs first. What kc_init() fetched stays, shown as "still reachable":
 * other threads may still be using it. Like every libktls object, this
 * needs libcrypto alive: a program must not call OPENSSL_cleanup() itself
 * before exit() (libcrypto does it then).
 */
static void kc_at_exit(void)
{
	kc_cert_cache_close();
	kc_scratch_free(pthread_getspecific(kc_scratch_key));
	pthread_setspecific(kc_scratch_key, NULL);
}

/* A partial failure keeps what was fetched: kc_init() fails for good anyway. */
static void kc_init_once(void)
{
	size_t i;

	/* Sets libcrypto's exit handler up before ours (handlers run in reverse). */
	if (!OPENSSL_init_crypto(0, NULL) || pthread_key_create(&kc_scratch_key, kc_scratch_free))
		return;
	for (i = 0; i < KC_HASH_COUNT; i++) {
		kc_md[i] = EVP_MD_fetch(NULL, kc_hashes[i].name, NULL);
		if (!kc_md[i])
			return;
	}
	for (i = 0; i < KC_AEAD_COUNT; i++) {
		kc_cipher[i] = EVP_CIPHER_fetch(NULL, kc_aeads[i].name, NULL);
		if (!kc_cipher[i])
			return;
	}
	for (i = 0; i < KC_ARRAY_SIZE(kc_groups); i++) {
		kc_group_template[i] = kc_make_template(&kc_groups[i]);
		if (!kc_group_template[i])
			return;
	}
	atexit(kc_at_exit);	/* should it fail, only a leak checker would notice */
	kc_init_status = 0;
}

int kc_init(void)
{
	if (pthread_once(&kc_once, kc_init_once))
		return KTLS_ERROR_LIBRARY;
	return kc_init_status;
}

int kc_random(void *buf, size_t len)
{
	if (len > INT_MAX)
		return KTLS_ERROR_INVALID_ARGUMENT;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : KTLS_ERROR_LIBRARY;
}

int kc_memcmp(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len);
}

void kc_cleanse(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

static int kc_hash_valid(enum kc_hash_id id)
{
	return (unsigned int)id < KC_HASH_COUNT;
}

/* ---- hashes ---- */

struct kc_hash {
	EVP_MD_CTX *running;
	EVP_MD_CTX *scratch;	/* kc_hash_peek() finishes a copy here */
};

size_t kc_hash_size(enum kc_hash_id id)
{
	return kc_hash_valid(id) ? kc_hashes[id].size : 0;
}

struct kc_hash *kc_hash_new(enum kc_hash_id id)
{
	struct kc_hash *h;

	if (!kc_hash_valid(id) || kc_init())
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->running = EVP_MD_CTX_new();
	h->scratch = EVP_MD_CTX_new();
	if (!h->running || !h->scratch || !EVP_DigestInit_ex2(h->running, kc_md[id], NULL)) {
		kc_hash_free(h);
		return NULL;
	}
	return h;
}

int kc_hash_update(struct kc_hash *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->running, data, len) ? 0 : KTLS_ERROR_LIBRARY;
}

int kc_hash_peek(const struct kc_hash *h, uint8_t *out)
{
	if (!EVP_MD_CTX_copy_ex(h->scratch, h->running) ||
	    !EVP_DigestFinal_ex(h->scratch, out, NULL))
		return KTLS_ERROR_LIBRARY;
	return 0;
}

void kc_hash_free(struct kc_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->running);
	EVP_MD_CTX_free(h->scratch);
	free(h);
}

int kc_hash_oneshot(enum kc_hash_id id, const void *data, size_t len, uint8_t *out)
{
	int ret;

	if (!kc_hash_valid(id))
		return KTLS_ERROR_INVALID_ARGUMENT;
	ret = kc_init();
	if (ret)
		return ret;
	return EVP_Digest(data, len, out, NULL, kc_md[id], NULL) ? 0 : KTLS_ERROR_LIBRARY;
}

/* ---- HMAC (RFC 2104) and HKDF (RFC 5869) ---- */

struct kc_span {
	const void *data;
	size_t len;
};

#define KC_HMAC_MAX_SPANS	3

static int kc_digest_spans(EVP_MD_CTX *ctx, const EVP_MD *md, const struct kc_span *spans,
			   size_t count, uint8_t *out)
{
	size_t i;

	if (!EVP_DigestInit_ex2(ctx, md, NULL))
		return 0;
	for (i = 0; i < count; i++)
		if (!EVP_DigestUpdate(ctx, spans[i].data, spans[i].len))
			return 0;
	return EVP_DigestFinal_ex(ctx, out, NULL);
}

/* HMAC of the concatenated @msg spans, computed in @ctx. */
static int kc_hmac_spans(EVP_MD_CTX *ctx, enum kc_hash_id id, const void *key, size_t key_len,
			 const struct kc_span *msg, size_t count, uint8_t *out)
{
	const struct kc_hash_info *info = &kc_hashes[id];
	uint8_t pad[KC_MAX_BLOCK] = { 0 };
	uint8_t inner[KC_MAX_DIGEST];
	struct kc_span spans[1 + KC_HMAC_MAX_SPANS] = { { pad, info->block } };
	int ret = KTLS_ERROR_LIBRARY;
	size_t i;

	if (key_len > info->block) {
		struct kc_span long_key = { key, key_len };

		if (!kc_digest_spans(ctx, kc_md[id], &long_key, 1, pad))
			goto out;
	} else if (key_len) {
		memcpy(pad, key, key_len);
	}
	for (i = 0; i < info->block; i++)
		pad[i] ^= 0x36;
	memcpy(spans + 1, msg, count * sizeof(*msg));
	if (!kc_digest_spans(ctx, kc_md[id], spans, 1 + count, inner))
		goto out;
	for (i = 0; i < info->block; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	spans[1] = (struct kc_span){ inner, info->size };
	if (!kc_digest_spans(ctx, kc_md[id], spans, 2, out))
		goto out;
	ret = 0;
out:
	kc_cleanse(pad, sizeof(pad));
	kc_cleanse(inner, sizeof(inner));
	return ret;
}

int kc_hmac(enum kc_hash_id id, const void *key, size_t key_len,
	    const void *data, size_t len, uint8_t *out)
{
	struct kc_span msg = { data, len };
	EVP_MD_CTX *ctx;
	int ret;

	if (!kc_hash_valid(id))
		return KTLS_ERROR_INVALID_ARGUMENT;
	ret = kc_init();
	if (ret)
		return ret;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return KTLS_ERROR_NO_MEMORY;
	ret = kc_hmac_spans(ctx, id, key, key_len, &msg, 1, out);
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* An empty salt works as HashLen zeros do: HMAC pads its key with zeros. */
int kc_hkdf_extract(enum kc_hash_id id, const void *salt, size_t salt_len,
		    const void *ikm, size_t ikm_len, uint8_t *prk)
{
	return kc_hmac(id, salt, salt_len, ikm, ikm_len, prk);
}

int kc_hkdf_expand(enum kc_hash_id id, const void *prk, size_t prk_len,
		   const void *info, size_t info_len, uint8_t *out, size_t out_len)
{
	uint8_t block[KC_MAX_DIGEST];
	uint8_t counter = 0;
	size_t size, done, n;
	EVP_MD_CTX *ctx;
	int ret = 0;

	if (!kc_hash_valid(id))
		return KTLS_ERROR_INVALID_ARGUMENT;
	size = kc_hashes[id].size;
	if (out_len > 255 * size)
		return KTLS_ERROR_INVALID_ARGUMENT;
	ret = kc_init();
	if (ret)
		return ret;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return KTLS_ERROR_NO_MEMORY;
	for (done = 0; done < out_len; done += n) {
		/* T(i) = HMAC(PRK, T(i-1) | info | i), T(0) empty */
		struct kc_span msg[KC_HMAC_MAX_SPANS] = {
			{ block, counter ? size : 0 },
			{ info, info_len },
			{ &counter, 1 },
		};

		counter++;
		ret = kc_hmac_spans(ctx, id, prk, prk_len, msg, KC_HMAC_MAX_SPANS, block);
		if (ret)
			break;
		n = out_len - done < size ? out_len - done : size;
		memcpy(out + done, block, n);
	}
	EVP_MD_CTX_free(ctx);
	kc_cleanse(block, sizeof(block));
	return ret;
}

/* ---- AEAD ---- */

struct kc_aead {
	EVP_CIPHER_CTX *ctx;	/* keyed once; each record sets only the nonce */
	int encrypt;
};

size_t kc_aead_key_size(enum kc_aead_id id)
{
	return (unsigned int)id < KC_AEAD_COUNT ? kc_aeads[id].key_size : 0;
}

struct kc_aead *kc_aead_new(enum kc_aead_id id, const uint8_t *key, int encrypt)
{
	struct kc_aead *a;

	if ((unsigned int)id >= KC_AEAD_COUNT || kc_init())
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->encrypt = !!encrypt;
	a->ctx = EVP_CIPHER_CTX_new();
	if (!a->ctx || !EVP_CipherInit_ex2(a->ctx, kc_cipher[id], key, NULL, a->encrypt, NULL)) {
		kc_aead_free(a);
		return NULL;
	}
	return a;
}

static int kc_aead_start(struct kc_aead *a, const uint8_t *nonce, const void *aad,
			 size_t aad_len)
{
	int n;

	if (!EVP_CipherInit_ex2(a->ctx, NULL, NULL, nonce, -1, NULL))
		return 0;
	return !aad_len || EVP_CipherUpdate(a->ctx, NULL, &n, aad, (int)aad_len);
}

int kc_aead_seal(struct kc_aead *a, const uint8_t nonce[KC_AEAD_IV_LEN],
		 const void *aad, size_t aad_len, const void *in, size_t len,
		 uint8_t *out)
{
	int n;

	if (!a->encrypt || aad_len > INT_MAX || len > INT_MAX)
		return KTLS_ERROR_INVALID_ARGUMENT;
	if (!kc_aead_start(a, nonce, aad, aad_len) ||
	    (len && !EVP_CipherUpdate(a->ctx, out, &n, in, (int)len)) ||
	    !EVP_CipherFinal_ex(a->ctx, out + len, &n) ||
	    !EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, KC_AEAD_TAG_LEN, out + len))
		return KTLS_ERROR_LIBRARY;
	return 0;
}

int kc_aead_open(struct kc_aead *a, const uint8_t nonce[KC_AEAD_IV_LEN],
		 const void *aad, size_t aad_len, const void *in, size_t len,
		 uint8_t *out)
{
	uint8_t tag[KC_AEAD_TAG_LEN];
	size_t plain_len;
	int n;

	if (a->encrypt || aad_len > INT_MAX || len > INT_MAX)
		return KTLS_ERROR_INVALID_ARGUMENT;
	if (len < KC_AEAD_TAG_LEN)
		return KTLS_ALERT_BAD_RECORD_MAC;
	plain_len = len - KC_AEAD_TAG_LEN;
	/* Taken first: decrypting in place must not reach the tag, but be sure. */
	memcpy(tag, (const uint8_t *)in + plain_len, KC_AEAD_TAG_LEN);
	if (!kc_aead_start(a, nonce, aad, aad_len) ||
	    !EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, KC_AEAD_TAG_LEN, tag))
		return KTLS_ERROR_LIBRARY;
	if ((plain_len && !EVP_CipherUpdate(a->ctx, out, &n, in, (int)plain_len)) ||
	    EVP_CipherFinal_ex(a->ctx, out + plain_len, &n) <= 0) {
		/* Nobody may act on plaintext that failed authentication. */
		kc_cleanse(out, plain_len);
		ERR_clear_error();
		return KTLS_ALERT_BAD_RECORD_MAC;
	}
	return 0;
}

void kc_aead_free(struct kc_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx);	/* wipes the key schedule */
	free(a);
}

/* ---- key exchange ---- */

struct kc_kex {
	EVP_PKEY *pkey;
	const struct kc_group_info *group;
};

static const struct kc_group_info *kc_group_find(enum kc_group_id id)
{
	size_t i;

	for (i = 0; i < KC_ARRAY_SIZE(kc_groups); i++)
		if (kc_groups[i].id == id)
			return &kc_groups[i];
	return NULL;
}

static EVP_PKEY *kc_template(const struct kc_group_info *g)
{
	return kc_group_template[g - kc_groups];
}

/* Wraps @pkey (always consumed) and writes its TLS-encoded public value. */
static int kc_kex_wrap(const struct kc_group_info *g, EVP_PKEY *pkey, struct kc_kex **kex,
		       uint8_t *pub, size_t *pub_len)
{
	struct kc_kex *k;
	size_t len = 0;
	int ret;

	if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
					     KC_MAX_KEX_PUBLIC, &len) || len != g->public_len) {
		ret = KTLS_ERROR_LIBRARY;
		goto out_free_pkey;
	}
	k = malloc(sizeof(*k));
	if (!k) {
		ret = KTLS_ERROR_NO_MEMORY;
		goto out_free_pkey;
	}
	k->pkey = pkey;
	k->group = g;
	*kex = k;
	*pub_len = len;
	return 0;

out_free_pkey:
	EVP_PKEY_free(pkey);
	return ret;
}

/* A key generation context for @g, ready to generate many keys. */
static int kc_keygen_ctx_new(const struct kc_group_info *g, EVP_PKEY_CTX **out)
{
	EVP_PKEY_CTX *ctx;

	/* 3.0's X25519 keygen refuses a template; it has no parameters anyway. */
	if (g->curve)
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, kc_template(g), NULL);
	else
		ctx = EVP_PKEY_CTX_new_from_name(NULL, g->keytype, NULL);
	if (!ctx)
		return KTLS_ERROR_NO_MEMORY;
	if (EVP_PKEY_keygen_init(ctx) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		ERR_clear_error();
		return KTLS_ERROR_LIBRARY;
	}
	*out = ctx;
	return 0;
}

int kc_kex_generate(enum kc_group_id group, struct kc_kex **kex,
		    uint8_t *pub, size_t *pub_len)
{
	const struct kc_group_info *g = kc_group_find(group);
	struct kc_scratch *scratch;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX **ctx;
	int ret;

	if (!g)
		return KTLS_ERROR_INVALID_ARGUMENT;
	ret = kc_init();
	if (ret)
		return ret;
	scratch = kc_scratch_get();
	if (!scratch)
		return KTLS_ERROR_NO_MEMORY;
	ctx = &scratch->ks_keygen[g - kc_groups];
	if (!*ctx) {
		ret = kc_keygen_ctx_new(g, ctx);
		if (ret)
			return ret;
	}
	if (EVP_PKEY_keygen(*ctx, &pkey) <= 0) {
		/* The next call starts from a fresh context, whatever went wrong. */
		EVP_PKEY_CTX_free(*ctx);
		*ctx = NULL;
		ERR_clear_error();
		return KTLS_ERROR_LIBRARY;
	}
	return kc_kex_wrap(g, pkey, kex, pub, pub_len);
}

/* NIST key from a big-endian scalar; libcrypto does not derive the public point itself. */
static int kc_ec_key_from_private(const struct kc_group_info *g, const uint8_t *priv,
				  size_t priv_len, EVP_PKEY **pkey)
{
	uint8_t pub[KC_MAX_KEX_PUBLIC];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EC_POINT *point = NULL;
	BIGNUM *scalar = NULL;
	EC_GROUP *group;
	int ret = KTLS_ERROR_LIBRARY;

	group = EC_GROUP_new_by_curve_name_ex(NULL, NULL, g->curve_nid);
	if (!group)
		return KTLS_ERROR_LIBRARY;
	/* A secure BIGNUM makes the parameter builder wipe its copy on free. */
	scalar = BN_secure_new();
	point = EC_POINT_new(group);
	if (!scalar || !point || !BN_bin2bn(priv, (int)priv_len, scalar))
		goto out;
	if (BN_is_zero(scalar) || BN_cmp(scalar, EC_GROUP_get0_order(group)) >= 0) {
		ret = KTLS_ERROR_INVALID_ARGUMENT;
		goto out;
	}
	if (!EC_POINT_mul(group, point, scalar, NULL, NULL, NULL) ||
	    EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub),
			       NULL) != g->public_len)
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (!bld ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->curve, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, scalar) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, g->public_len))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, g->keytype, NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out;
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(point);
	BN_clear_free(scalar);
	EC_GROUP_free(group);
	return ret;
}

int kc_kex_from_private(enum kc_group_id group, const uint8_t *priv, size_t priv_len,
			struct kc_kex **kex, uint8_t *pub, size_t *pub_len)
{
	const struct kc_group_info *g = kc_group_find(group);
	EVP_PKEY *pkey = NULL;
	int ret;

	if (!g || priv_len != g->secret_len)
		return KTLS_ERROR_INVALID_ARGUMENT;
	ret = kc_init();
	if (ret)
		return ret;
	if (g->curve) {
		ret = kc_ec_key_from_private(g, priv, priv_len, &pkey);
		if (ret)
			return ret;
	} else {
		pkey = EVP_PKEY_new_raw_private_key_ex(NULL, g->keytype, NULL, priv, priv_len);
		if (!pkey)
			return KTLS_ERROR_LIBRARY;
	}
	return kc_kex_wrap(g, pkey, kex, pub, pub_len);
}

/*
 * Decoding a NIST point checks that it is on the curve. With cofactor 1
 * that is all a peer value needs, and the 65/97-byte uncompressed form
 * cannot encode the point at infinity.
 */
static int kc_kex_import_peer(const struct kc_group_info *g, const uint8_t *peer,
			      size_t peer_len, EVP_PKEY **out)
{
	EVP_PKEY *key;

	if (peer_len != g->public_len ||
	    (g->curve && peer[0] != POINT_CONVERSION_UNCOMPRESSED))
		return KTLS_ALERT_ILLEGAL_PARAMETER;
	key = EVP_PKEY_new();
	if (!key)
		return KTLS_ERROR_NO_MEMORY;
	if (EVP_PKEY_copy_parameters(key, kc_template(g)) <= 0) {
		EVP_PKEY_free(key);
		return KTLS_ERROR_LIBRARY;
	}
	if (EVP_PKEY_set1_encoded_public_key(key, peer, peer_len) <= 0) {
		EVP_PKEY_free(key);
		ERR_clear_error();
		return KTLS_ALERT_ILLEGAL_PARAMETER;
	}
	*out = key;
	return 0;
}

static int kc_is_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;

	while (len--)
		acc |= *p++;
	return acc == 0;
}

int kc_kex_derive(struct kc_kex *kex, const uint8_t *peer, size_t peer_len,
		  uint8_t *secret, size_t *secret_len)
{
	const struct kc_group_info *g = kex->group;
	size_t len = KC_MAX_KEX_SECRET;
	EVP_PKEY *peer_key;
	EVP_PKEY_CTX *ctx;
	int ret;

	ret = kc_kex_import_peer(g, peer, peer_len, &peer_key);
	if (ret)
		return ret;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, kex->pkey, NULL);
	if (!ctx) {
		ret = KTLS_ERROR_NO_MEMORY;
		goto out_free_peer;
	}
	if (EVP_PKEY_derive_init(ctx) <= 0) {
		ret = KTLS_ERROR_LIBRARY;
		goto out_free_ctx;
	}
	/*
	 * No second validation of the peer (it would cost a scalar
	 * multiplication). A failing derive is the peer's doing: X25519
	 * refuses the all-zero result of a small-order point.
	 */
	if (EVP_PKEY_derive_set_peer_ex(ctx, peer_key, 0) <= 0 ||
	    EVP_PKEY_derive(ctx, secret, &len) <= 0 ||
	    len != g->secret_len || kc_is_zero(secret, len)) {
		kc_cleanse(secret, g->secret_len);
		ERR_clear_error();
		ret = KTLS_ALERT_ILLEGAL_PARAMETER;
		goto out_free_ctx;
	}
	*secret_len = len;
out_free_ctx:
	EVP_PKEY_CTX_free(ctx);
out_free_peer:
	EVP_PKEY_free(peer_key);
	return ret;
}

void kc_kex_free(struct kc_kex *kex)
{
	if (!kex)
		return;
	EVP_PKEY_free(kex->pkey);	/* wipes the private value */
	free(kex);
}

/* ---- signatures ---- */

struct kc_key_facts {
	enum kc_key_kind kind;
	int pss_restricted;		/* id-RSASSA-PSS key with parameters */
	enum kc_hash_id pss_hash;	/* the one hash they allow; KC_HASH_NONE: not ours */
};

struct kc_pkey {
	EVP_PKEY *pkey;
	struct kc_key_facts facts;
	/*
	 * Indexed like kc_schemes: DigestSign set up at load for each scheme
	 * the key can do, then only read (each signature works on a copy), so
	 * threads share it. NULL for EdDSA, which has no digest state to
	 * prepare, and where setting up failed: kc_sign() then sets up per call.
	 */
	EVP_MD_CTX *sign_ready[KC_ARRAY_SIZE(kc_schemes)];
};

static void kc_prepare_signing(struct kc_pkey *key);

static int kc_curve_nid(const EVP_PKEY *pkey)
{
	char name[80];

	if (!EVP_PKEY_get_group_name(pkey, name, sizeof(name), NULL))
		return NID_undef;
	return OBJ_txt2nid(name);
}

/* id-RSASSA-PSS keys may carry parameters that fix the hash. */
static void kc_pss_restriction(const EVP_PKEY *pkey, struct kc_key_facts *facts)
{
	char name[80];
	size_t i;

	facts->pss_restricted = EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_RSA_DIGEST,
								name, sizeof(name), NULL);
	if (!facts->pss_restricted)
		return;
	for (i = 0; i < KC_HASH_COUNT; i++)
		if (EVP_MD_is_a(kc_md[i], name))
			facts->pss_hash = (enum kc_hash_id)i;
}

static void kc_key_facts(const EVP_PKEY *pkey, struct kc_key_facts *facts)
{
	int base_id, nid = NID_undef;
	size_t i;

	facts->kind = KC_KEY_UNSUPPORTED;
	facts->pss_restricted = 0;
	facts->pss_hash = KC_HASH_NONE;
	if (!pkey)
		return;
	base_id = EVP_PKEY_get_base_id(pkey);
	if (base_id == EVP_PKEY_EC)
		nid = kc_curve_nid(pkey);
	for (i = 0; i < KC_ARRAY_SIZE(kc_key_types); i++)
		if (kc_key_types[i].base_id == base_id && kc_key_types[i].curve_nid == nid)
			facts->kind = kc_key_types[i].kind;
	if (facts->kind == KC_KEY_RSA_PSS)
		kc_pss_restriction(pkey, facts);
	ERR_clear_error();
}

/* The scheme's facts if a key of this kind can use it, else NULL. */
static const struct kc_scheme_info *kc_scheme_for_key(const struct kc_key_facts *facts,
						      uint16_t scheme)
{
	size_t i;

	for (i = 0; i < KC_ARRAY_SIZE(kc_schemes); i++) {
		const struct kc_scheme_info *s = &kc_schemes[i];

		if (s->scheme != scheme)
			continue;
		if (s->key != facts->kind || (facts->pss_restricted && facts->pss_hash != s->hash))
			return NULL;
		return s;
	}
	return NULL;
}

static int kc_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return -1;	/* a daemon has nobody to ask */
}

/* @pkey as a signing key, or freed: only the kinds the engine signs with. */
static int kc_pkey_wrap(EVP_PKEY *pkey, struct kc_pkey **key)
{
	struct kc_pkey *k;
	int ret;

	k = calloc(1, sizeof(*k));
	if (!k) {
		ret = KTLS_ERROR_NO_MEMORY;
		goto out_free_pkey;
	}
	k->pkey = pkey;
	kc_key_facts(pkey, &k->facts);
	if (k->facts.kind == KC_KEY_UNSUPPORTED || EVP_PKEY_get_size(pkey) > KC_MAX_SIGNATURE) {
		ret = KTLS_ERROR_CONFIG;
		goto out_free_key;
	}
	kc_prepare_signing(k);
	*key = k;
	return 0;

out_free_key:
	free(k);
out_free_pkey:
	EVP_PKEY_free(pkey);
	return ret;
}

int kc_pkey_load(const char *path, struct kc_pkey **key)
{
	EVP_PKEY *pkey;
	BIO *bio;
	int ret;

	ret = kc_init();
	if (ret)
		return ret;
	bio = BIO_new_file(path, "r");
	if (!bio) {
		ERR_clear_error();
		return KTLS_ERROR_CONFIG;
	}
	pkey = PEM_read_bio_PrivateKey_ex(bio, NULL, kc_no_passphrase, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey) {
		ERR_clear_error();
		return KTLS_ERROR_CONFIG;
	}
	return kc_pkey_wrap(pkey, key);
}

/* PEM text, as opposed to DER: what a PEM reader looks for first. */
static int kc_is_pem(const uint8_t *data, size_t len)
{
	static const char begin[] = "-----BEGIN ";

	return len >= sizeof(begin) - 1 && !memcmp(data, begin, sizeof(begin) - 1);
}

int kc_pkey_load_mem(const uint8_t *data, size_t len, struct kc_pkey **key)
{
	const unsigned char *p = data;
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	int ret;

	ret = kc_init();
	if (ret)
		return ret;
	if (!len || len > KC_MEM_MAX)
		return KTLS_ERROR_CONFIG;
	if (kc_is_pem(data, len)) {
		bio = BIO_new_mem_buf(data, (int)len);
		if (bio)
			pkey = PEM_read_bio_PrivateKey_ex(bio, NULL, kc_no_passphrase, NULL, NULL,
							  NULL);
		BIO_free(bio);
	} else {
		/* PKCS#8 or the key type's own structure; nothing may follow it. */
		pkey = d2i_AutoPrivateKey_ex(NULL, &p, (long)len, NULL, NULL);
		if (pkey && p != data + len) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	if (!pkey) {
		ERR_clear_error();
		return KTLS_ERROR_CONFIG;
	}
	return kc_pkey_wrap(pkey, key);
}

void kc_pkey_free(struct kc_pkey *key)
{
	size_t i;

	if (!key)
		return;
	for (i = 0; i < KC_ARRAY_SIZE(key->sign_ready); i++)
		EVP_MD_CTX_free(key->sign_ready[i]);
	EVP_PKEY_free(key->pkey);
	free(key);
}

int kc_pkey_can_sign(const struct kc_pkey *key, uint16_t scheme)
{
	return kc_scheme_for_key(&key->facts, scheme) != NULL;
}

static int kc_sigctx_init(EVP_MD_CTX *ctx, const struct kc_scheme_info *s, EVP_PKEY *pkey,
			  const struct kc_key_facts *facts, int sign)
{
	int any_salt = !sign && !facts->pss_restricted;
	const EVP_MD *md = s->hash == KC_HASH_NONE ? NULL : kc_md[s->hash];
	EVP_PKEY_CTX *pctx;
	int ok;

	if (sign)
		ok = EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey);
	else
		ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey);
	if (ok <= 0)
		return KTLS_ERROR_LIBRARY;
	if (!s->padding)
		return 0;
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, s->padding) <= 0)
		return KTLS_ERROR_LIBRARY;
	if (s->padding != RSA_PKCS1_PSS_PADDING)
		return 0;
	/*
	 * RFC 8446 4.2.3: salt as long as the digest, MGF1 with the same
	 * hash. Verification takes any salt length (libssl's peers send the
	 * digest length anyway), except where the key's parameters set a
	 * minimum: libcrypto then refuses to detect it.
	 */
	if (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, any_salt ? RSA_PSS_SALTLEN_AUTO :
							      RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0)
		return KTLS_ERROR_LIBRARY;
	return 0;
}

/* Fills key->sign_ready; what cannot be prepared is left to kc_sign(). */
static void kc_prepare_signing(struct kc_pkey *key)
{
	size_t i;

	for (i = 0; i < KC_ARRAY_SIZE(kc_schemes); i++) {
		const struct kc_scheme_info *s = &kc_schemes[i];
		EVP_MD_CTX *ctx;

		if (s->hash == KC_HASH_NONE || kc_scheme_for_key(&key->facts, s->scheme) != s)
			continue;
		ctx = EVP_MD_CTX_new();
		if (ctx && kc_sigctx_init(ctx, s, key->pkey, &key->facts, 1)) {
			EVP_MD_CTX_free(ctx);
			ctx = NULL;
		}
		key->sign_ready[i] = ctx;
	}
	ERR_clear_error();
}

/* @sig holds KC_MAX_SIGNATURE bytes; keys that sign longer are refused at load. */
int kc_sign(const struct kc_pkey *key, uint16_t scheme, const void *tbs, size_t tbs_len,
	    uint8_t *sig, size_t *sig_len)
{
	const struct kc_scheme_info *s = kc_scheme_for_key(&key->facts, scheme);
	size_t len = KC_MAX_SIGNATURE;
	EVP_MD_CTX *ctx, *ready;
	int ret;

	if (!s)
		return KTLS_ERROR_INVALID_ARGUMENT;
	ret = kc_init();
	if (ret)
		return ret;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return KTLS_ERROR_NO_MEMORY;
	ready = key->sign_ready[s - kc_schemes];
	if (ready)
		ret = EVP_MD_CTX_copy_ex(ctx, ready) ? 0 : KTLS_ERROR_LIBRARY;
	else
		ret = kc_sigctx_init(ctx, s, key->pkey, &key->facts, 1);
	if (!ret && EVP_DigestSign(ctx, sig, &len, tbs, tbs_len) <= 0)
		ret = KTLS_ERROR_LIBRARY;
	if (!ret)
		*sig_len = len;
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* ---- certificate chains ---- */

struct kc_cert {
	X509 *x509;
	uint8_t *der;		/* as received or as in the PEM file */
	size_t der_len;
};

struct kc_chain {
	struct kc_cert *certs;
	size_t count;
	size_t capacity;
	struct kc_key_facts leaf;	/* of certs[0]'s public key */
};

/* Sorting out the leaf's key needs the digest table, so init here. */
struct kc_chain *kc_chain_new(void)
{
	if (kc_init())
		return NULL;
	return calloc(1, sizeof(struct kc_chain));
}

void kc_chain_free(struct kc_chain *chain)
{
	size_t i;

	if (!chain)
		return;
	for (i = 0; i < chain->count; i++) {
		X509_free(chain->certs[i].x509);
		OPENSSL_free(chain->certs[i].der);
	}
	free(chain->certs);
	free(chain);
}

/* Appends, taking ownership of @x509 and @der even on failure. */
static int kc_chain_push(struct kc_chain *chain, X509 *x509, uint8_t *der, size_t der_len)
{
	if (chain->count == chain->capacity) {
		size_t capacity = chain->capacity ? 2 * chain->capacity : 4;
		struct kc_cert *certs = realloc(chain->certs, capacity * sizeof(*certs));

		if (!certs) {
			X509_free(x509);
			OPENSSL_free(der);
			return KTLS_ERROR_NO_MEMORY;
		}
		chain->certs = certs;
		chain->capacity = capacity;
	}
	if (!chain->count)
		kc_key_facts(X509_get0_pubkey(x509), &chain->leaf);
	chain->certs[chain->count++] = (struct kc_cert){ x509, der, der_len };
	return 0;
}

/*
 * The certificate cache: parsed certificates shared between chains, so a
 * client that meets the same server chain again looks it up instead of
 * running d2i_X509 (~450 us in 3.0, for the decoder it builds per key).
 *
 * - Keyed by the exact DER bytes: a 64-bit FNV-1a hash picks candidates,
 *   the length and a full memcmp confirm. Only bytes that parsed
 *   completely (nothing trailing) are ever stored, so a hit returns what
 *   d2i_X509 would have.
 * - A hit shares the X509 (X509_up_ref); an X509 is safe to use from
 *   several threads, as libssl's stores and contexts do. Nothing about
 *   trust is kept: kc_chain_verify() builds and checks the path, the
 *   signatures, the dates (against the time now) and the name every time.
 * - Bounded: KC_CERT_CACHE_SLOTS entries of at most KC_CERT_CACHE_MAX_DER
 *   bytes (larger certificates are parsed and not stored), replaced by the
 *   clock algorithm. A peer sending ever new certificates only churns it;
 *   an entry used since the hand last passed gets a second chance.
 * - One mutex for lookups and inserts: they only scan the slots, while
 *   hashing, parsing and freeing happen outside it.
 * - kc_at_exit() empties and closes it; later lookups just miss.
 */
#define KC_CERT_CACHE_SLOTS	64
#define KC_CERT_CACHE_MAX_DER	(16 * 1024)

struct kc_cert_slot {
	uint64_t cs_hash;
	uint8_t *cs_der;	/* NULL: slot free */
	size_t cs_der_len;
	X509 *cs_x509;		/* the cache's reference */
	int cs_used;		/* looked up since the clock hand last passed */
};

static struct kc_cert_cache {
	pthread_mutex_t cc_lock;	/* protects the next 3 fields */
	struct kc_cert_slot cc_slots[KC_CERT_CACHE_SLOTS];
	size_t cc_hand;
	int cc_closed;
} kc_cert_cache = { .cc_lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t kc_der_hash(const uint8_t *der, size_t len)
{
	uint64_t hash = 0xcbf29ce484222325ULL;

	while (len--) {
		hash ^= *der++;
		hash *= 0x100000001b3ULL;
	}
	return hash;
}

static struct kc_cert_slot *__kc_cert_cache_find_locked(uint64_t hash, const uint8_t *der,
							 size_t len)
{
	struct kc_cert_slot *slot;

	for (slot = kc_cert_cache.cc_slots;
	     slot < kc_cert_cache.cc_slots + KC_CERT_CACHE_SLOTS; slot++)
		if (slot->cs_der && slot->cs_hash == hash && slot->cs_der_len == len &&
		    !memcmp(slot->cs_der, der, len))
			return slot;
	return NULL;
}

/* A new reference to the cached certificate with exactly these bytes, or NULL. */
static X509 *kc_cert_cache_get(uint64_t hash, const uint8_t *der, size_t len)
{
	struct kc_cert_slot *slot;
	X509 *x509 = NULL;

	pthread_mutex_lock(&kc_cert_cache.cc_lock);
	slot = __kc_cert_cache_find_locked(hash, der, len);
	if (slot && X509_up_ref(slot->cs_x509)) {
		slot->cs_used = 1;
		x509 = slot->cs_x509;
	}
	pthread_mutex_unlock(&kc_cert_cache.cc_lock);
	return x509;
}

/*
 * Stores @x509, parsed from exactly @der, unless another thread stored the
 * same bytes meanwhile. Best effort: on any failure the cache goes without.
 */
static void kc_cert_cache_put(uint64_t hash, const uint8_t *der, size_t len, X509 *x509)
{
	struct kc_cert_slot *slot, old = { 0 };
	uint8_t *copy;

	copy = OPENSSL_memdup(der, len);
	if (!copy || !X509_up_ref(x509)) {
		OPENSSL_free(copy);
		return;
	}
	pthread_mutex_lock(&kc_cert_cache.cc_lock);
	if (kc_cert_cache.cc_closed || __kc_cert_cache_find_locked(hash, der, len)) {
		old = (struct kc_cert_slot){ .cs_der = copy, .cs_x509 = x509 };
		goto out_unlock;
	}
	for (;;) {
		slot = &kc_cert_cache.cc_slots[kc_cert_cache.cc_hand];
		kc_cert_cache.cc_hand = (kc_cert_cache.cc_hand + 1) % KC_CERT_CACHE_SLOTS;
		if (!slot->cs_der || !slot->cs_used)
			break;
		slot->cs_used = 0;
	}
	old = *slot;
	*slot = (struct kc_cert_slot){ hash, copy, len, x509, 0 };
out_unlock:
	pthread_mutex_unlock(&kc_cert_cache.cc_lock);
	/* Whatever left the cache (or never got in) is freed outside the lock. */
	X509_free(old.cs_x509);
	OPENSSL_free(old.cs_der);
}

static void kc_cert_cache_close(void)
{
	struct kc_cert_slot *slot;

	pthread_mutex_lock(&kc_cert_cache.cc_lock);
	kc_cert_cache.cc_closed = 1;
	for (slot = kc_cert_cache.cc_slots;
	     slot < kc_cert_cache.cc_slots + KC_CERT_CACHE_SLOTS; slot++) {
		X509_free(slot->cs_x509);
		OPENSSL_free(slot->cs_der);
		*slot = (struct kc_cert_slot){ 0 };
	}
	pthread_mutex_unlock(&kc_cert_cache.cc_lock);
}

/* @der parsed as one whole certificate, through the cache when it fits. */
static int kc_cert_parse(const uint8_t *der, size_t len, X509 **out)
{
	int cacheable = len <= KC_CERT_CACHE_MAX_DER;
	const uint8_t *end = der;
	uint64_t hash = 0;
	X509 *x509;

	if (len > LONG_MAX)
		return KTLS_ALERT_BAD_CERTIFICATE;
	if (cacheable) {
		hash = kc_der_hash(der, len);
		x509 = kc_cert_cache_get(hash, der, len);
		if (x509) {
			*out = x509;
			return 0;
		}
	}
	x509 = d2i_X509(NULL, &end, (long)len);
	if (!x509 || end != der + len) {
		X509_free(x509);
		ERR_clear_error();
		return KTLS_ALERT_BAD_CERTIFICATE;
	}
	if (cacheable)
		kc_cert_cache_put(hash, der, len, x509);
	*out = x509;
	return 0;
}

int kc_chain_add_der(struct kc_chain *chain, const uint8_t *der, size_t len)
{
	uint8_t *copy;
	X509 *x509;
	int ret;

	ret = kc_cert_parse(der, len, &x509);
	if (ret)
		return ret;
	copy = OPENSSL_memdup(der, len);
	if (!copy) {
		X509_free(x509);
		return KTLS_ERROR_NO_MEMORY;
	}
	return kc_chain_push(chain, x509, copy, len);
}

static int kc_chain_push_x509(struct kc_chain *chain, X509 *x509)
{
	uint8_t *der = NULL;
	int len;

	len = i2d_X509(x509, &der);
	if (len <= 0) {
		X509_free(x509);
		return KTLS_ERROR_LIBRARY;
	}
	return kc_chain_push(chain, x509, der, (size_t)len);
}

/* Every PEM certificate @bio holds, in order; none, or junk after them, fails. */
static int kc_chain_read_pem(BIO *bio, struct kc_chain **out)
{
	struct kc_chain *chain;
	X509 *x509;
	int ret = 0;

	chain = kc_chain_new();
	if (!chain)
		return KTLS_ERROR_NO_MEMORY;
	while (!ret && (x509 = PEM_read_bio_X509(bio, NULL, kc_no_passphrase, NULL)))
		ret = kc_chain_push_x509(chain, x509);
	/* Reading stops with "no start line" at the end of a sound file only. */
	if (!ret && (!chain->count ||
		     ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE))
		ret = KTLS_ERROR_CONFIG;
	ERR_clear_error();
	if (ret) {
		kc_chain_free(chain);
		return ret;
	}
	*out = chain;
	return 0;
}

int kc_chain_load(const char *path, struct kc_chain **out)
{
	BIO *bio;
	int ret;

	bio = BIO_new_file(path, "r");
	if (!bio) {
		ERR_clear_error();
		return KTLS_ERROR_CONFIG;
	}
	ret = kc_chain_read_pem(bio, out);
	BIO_free(bio);
	return ret;
}

int kc_chain_load_mem(const uint8_t *data, size_t len, struct kc_chain **out)
{
	const unsigned char *p = data, *end = data + len;
	struct kc_chain *chain;
	X509 *x509;
	BIO *bio;
	int ret = 0;

	if (!len || len > KC_MEM_MAX)
		return KTLS_ERROR_CONFIG;
	if (kc_is_pem(data, len)) {
		bio = BIO_new_mem_buf(data, (int)len);
		if (!bio)
			return KTLS_ERROR_NO_MEMORY;
		ret = kc_chain_read_pem(bio, out);
		BIO_free(bio);
		return ret;
	}
	/* DER certificates one after another, leaf first, and nothing else. */
	chain = kc_chain_new();
	if (!chain)
		return KTLS_ERROR_NO_MEMORY;
	while (!ret && p < end) {
		x509 = d2i_X509(NULL, &p, (long)(end - p));
		ret = x509 ? kc_chain_push_x509(chain, x509) : KTLS_ERROR_CONFIG;
	}
	ERR_clear_error();
	if (ret) {
		kc_chain_free(chain);
		return ret;
	}
	*out = chain;
	return 0;
}

size_t kc_chain_count(const struct kc_chain *chain)
{
	return chain->count;
}

int kc_chain_der(const struct kc_chain *chain, size_t index, const uint8_t **der, size_t *len)
{
	if (index >= chain->count)
		return KTLS_ERROR_INVALID_ARGUMENT;
	*der = chain->certs[index].der;
	*len = chain->certs[index].der_len;
	return 0;
}

int kc_chain_matches_key(const struct kc_chain *chain, const struct kc_pkey *key)
{
	int match;

	if (!chain->count)
		return 0;
	match = EVP_PKEY_eq(X509_get0_pubkey(chain->certs[0].x509), key->pkey) == 1;
	ERR_clear_error();
	return match;
}

int kc_chain_can_verify(const struct kc_chain *chain, uint16_t scheme)
{
	return chain->count && kc_scheme_for_key(&chain->leaf, scheme) != NULL;
}

/* RFC 2253 order and escaping, but UTF-8 stays readable. */
#define KC_SUBJECT_FLAGS	(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

int kc_chain_subject(const struct kc_chain *chain, char *buf, size_t size)
{
	char *text;
	size_t n;
	long len;
	BIO *bio;

	if (!size)
		return KTLS_ERROR_INVALID_ARGUMENT;
	buf[0] = '\0';
	if (!chain->count)
		return KTLS_ERROR_INVALID_ARGUMENT;
	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return KTLS_ERROR_NO_MEMORY;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(chain->certs[0].x509), 0,
			       KC_SUBJECT_FLAGS) < 0) {
		BIO_free(bio);
		return KTLS_ERROR_LIBRARY;
	}
	len = BIO_get_mem_data(bio, &text);
	n = len > 0 ? (size_t)len : 0;
	if (n >= size)
		n = size - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	BIO_free(bio);
	return 0;
}

static int kc_verify_scheme(const struct kc_chain *chain, const struct kc_scheme_info *s,
			    const void *tbs, size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx;
	int ret;

	ret = kc_init();
	if (ret)
		return ret;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return KTLS_ERROR_NO_MEMORY;
	ret = kc_sigctx_init(ctx, s, X509_get0_pubkey(chain->certs[0].x509), &chain->leaf, 0);
	if (!ret && EVP_DigestVerify(ctx, sig, sig_len, tbs, tbs_len) != 1) {
		ERR_clear_error();
		ret = KTLS_ALERT_DECRYPT_ERROR;
	}
	EVP_MD_CTX_free(ctx);
	return ret;
}

int kc_verify(const struct kc_chain *chain, uint16_t scheme, const void *tbs, size_t tbs_len,
	      const uint8_t *sig, size_t sig_len)
{
	const struct kc_scheme_info *s;

	if (!chain->count)
		return KTLS_ERROR_INVALID_ARGUMENT;
	s = kc_scheme_for_key(&chain->leaf, scheme);
	if (!s)
		return KTLS_ALERT_ILLEGAL_PARAMETER;
	return kc_verify_scheme(chain, s, tbs, tbs_len, sig, sig_len);
}

static int kc_kind_is_ecdsa(enum kc_key_kind kind)
{
	return kind == KC_KEY_P256 || kind == KC_KEY_P384 || kind == KC_KEY_P521;
}

int kc_verify_tls12(const struct kc_chain *chain, uint16_t scheme, const void *tbs,
		    size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
	size_t i;

	if (!chain->count)
		return KTLS_ERROR_INVALID_ARGUMENT;
	/* In TLS 1.2 an ECDSA scheme names the hash only: any curve signs with it. */
	for (i = 0; i < KC_ARRAY_SIZE(kc_schemes); i++)
		if (kc_schemes[i].scheme == scheme && kc_kind_is_ecdsa(kc_schemes[i].key) &&
		    kc_kind_is_ecdsa(chain->leaf.kind))
			return kc_verify_scheme(chain, &kc_schemes[i], tbs, tbs_len, sig, sig_len);
	return kc_verify(chain, scheme, tbs, tbs_len, sig, sig_len);
}

/* ---- RSA key transport (TLS 1.2, RFC 5246 7.4.7.1) ---- */

int kc_rsa_encrypt(const struct kc_chain *chain, const void *in, size_t len,
		   uint8_t *out, size_t *out_len)
{
	EVP_PKEY_CTX *ctx;
	int ret = KTLS_ERROR_LIBRARY;

	if (!chain->count || chain->leaf.kind != KC_KEY_RSA)
		return KTLS_ALERT_ILLEGAL_PARAMETER;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, X509_get0_pubkey(chain->certs[0].x509), NULL);
	if (!ctx)
		return KTLS_ERROR_NO_MEMORY;
	if (EVP_PKEY_encrypt_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
	    EVP_PKEY_encrypt(ctx, out, out_len, in, len) > 0)
		ret = 0;
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

/*
 * The Bleichenbacher countermeasure: a random premaster is made first,
 * and the decrypted one replaces it only when padding, length and the
 * version in it are all right, chosen with a mask rather than a branch.
 * libcrypto's RSA_PKCS1_WITH_TLS_PADDING (3.0 and later) already does
 * the padding and version checks in constant time and hands back its own
 * random on failure; the mask here also covers the calls that fail
 * outright (a ciphertext of the wrong length), so every failure looks
 * the same to the peer: a Finished that does not verify.
 */
int kc_rsa_decrypt_premaster(const struct kc_pkey *key, const uint8_t *in, size_t len,
			     uint16_t client_version, uint8_t *premaster)
{
	uint8_t random[KC_RSA_PREMASTER_LEN], plain[KC_MAX_SIGNATURE];
	size_t plain_len = sizeof(plain), i;
	unsigned int version = client_version;
	OSSL_PARAM params[2];
	EVP_PKEY_CTX *ctx;
	unsigned char good;
	int ok = 0;

	if (key->facts.kind != KC_KEY_RSA)
		return KTLS_ERROR_INVALID_ARGUMENT;
	if (kc_random(random, sizeof(random)))
		return KTLS_ERROR_LIBRARY;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	if (!ctx) {
		kc_cleanse(random, sizeof(random));
		return KTLS_ERROR_NO_MEMORY;
	}
	params[0] = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &version);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_decrypt_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_WITH_TLS_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_params(ctx, params) > 0)
		ok = EVP_PKEY_decrypt(ctx, plain, &plain_len, in, len) > 0;
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	/* good is 0xff when ok and 48 bytes came out, else 0, without branching on them. */
	good = (unsigned char)(0u - (unsigned int)(ok & (plain_len == KC_RSA_PREMASTER_LEN)));
	for (i = 0; i < KC_RSA_PREMASTER_LEN; i++)
		premaster[i] = (unsigned char)((plain[i] & good) | (random[i] & ~good));
	kc_cleanse(plain, sizeof(plain));
	kc_cleanse(random, sizeof(random));
	return 0;
}

/* ---- trust store and chain verification ---- */

struct kc_store {
	X509_STORE *store;
};

struct kc_store *kc_store_new(void)
{
	struct kc_store *store;

	store = calloc(1, sizeof(*store));
	if (!store)
		return NULL;
	store->store = X509_STORE_new();
	if (!store->store) {
		free(store);
		return NULL;
	}
	return store;
}

struct kc_store *kc_store_share(struct kc_store *store)
{
	struct kc_store *copy;

	copy = calloc(1, sizeof(*copy));
	if (!copy)
		return NULL;
	if (!X509_STORE_up_ref(store->store)) {
		free(copy);
		return NULL;
	}
	copy->store = store->store;
	return copy;
}

void kc_store_free(struct kc_store *store)
{
	if (!store)
		return;
	X509_STORE_free(store->store);
	free(store);
}

int kc_store_add_file(struct kc_store *store, const char *path)
{
	if (X509_STORE_load_file(store->store, path) != 1) {
		ERR_clear_error();
		return KTLS_ERROR_CONFIG;
	}
	return 0;
}

/* The hash_dir lookup only opens files on demand, so check the directory now. */
int kc_store_add_dir(struct kc_store *store, const char *path)
{
	struct stat st;

	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return KTLS_ERROR_CONFIG;
	if (X509_STORE_load_path(store->store, path) != 1) {
		ERR_clear_error();
		return KTLS_ERROR_CONFIG;
	}
	return 0;
}

int kc_store_add_system(struct kc_store *store)
{
	if (X509_STORE_set_default_paths(store->store) != 1) {
		ERR_clear_error();
		return KTLS_ERROR_CONFIG;
	}
	return 0;
}

static int kc_verify_error_alert(int x509_error)
{
	size_t i;

	for (i = 0; i < KC_ARRAY_SIZE(kc_verify_alerts); i++)
		if (kc_verify_alerts[i].x509_error == x509_error)
			return kc_verify_alerts[i].alert;
	return KTLS_ALERT_CERTIFICATE_UNKNOWN;
}

static int kc_verify_setup(X509_STORE_CTX *ctx, int purpose_server, const char *name)
{
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	uint8_t addr[sizeof(struct in6_addr)];
	int ok;

	if (!X509_STORE_CTX_set_purpose(ctx, purpose_server ? X509_PURPOSE_SSL_SERVER :
							       X509_PURPOSE_SSL_CLIENT))
		return KTLS_ERROR_LIBRARY;
	if (!name)
		return 0;
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, name);
	else
		ok = X509_VERIFY_PARAM_set1_host(param, name, 0);
	return ok ? 0 : KTLS_ERROR_LIBRARY;
}

static void kc_verify_report(int x509_error, char *errbuf, size_t errbuf_size)
{
	if (errbuf && errbuf_size)
		snprintf(errbuf, errbuf_size, "certificate verify failed: %s",
			 X509_verify_cert_error_string(x509_error));
}

int kc_chain_leaf_names(const struct kc_chain *chain, const char *name)
{
	if (!chain->count || !name)
		return 0;
	return X509_check_host(chain->certs[0].x509, name, strlen(name),
			       X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

int kc_chain_verify(const struct kc_store *store, const struct kc_chain *chain,
		    int purpose_server, const char *name, long *x509_error,
		    char *errbuf, size_t errbuf_size)
{
	STACK_OF(X509) *untrusted;
	X509_STORE_CTX *ctx;
	int ret, err;
	size_t i;

	*x509_error = X509_V_OK;
	if (errbuf && errbuf_size)
		errbuf[0] = '\0';
	/* An empty name would switch the name check off without a word. */
	if (!chain->count || (name && !*name))
		return KTLS_ERROR_INVALID_ARGUMENT;
	untrusted = sk_X509_new_reserve(NULL, (int)chain->count);
	if (!untrusted)
		return KTLS_ERROR_NO_MEMORY;
	for (i = 1; i < chain->count; i++)
		sk_X509_push(untrusted, chain->certs[i].x509);
	ctx = X509_STORE_CTX_new();
	if (!ctx) {
		ret = KTLS_ERROR_NO_MEMORY;
		goto out_free_untrusted;
	}
	if (!X509_STORE_CTX_init(ctx, store->store, chain->certs[0].x509, untrusted)) {
		ret = KTLS_ERROR_LIBRARY;
		goto out_free_ctx;
	}
	ret = kc_verify_setup(ctx, purpose_server, name);
	if (ret)
		goto out_free_ctx;
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		if (err == X509_V_OK)
			err = X509_V_ERR_UNSPECIFIED;
		*x509_error = err;
		kc_verify_report(err, errbuf, errbuf_size);
		ret = kc_verify_error_alert(err);
	}
out_free_ctx:
	X509_STORE_CTX_free(ctx);
out_free_untrusted:
	sk_X509_free(untrusted);
	ERR_clear_error();
	return ret;
}
