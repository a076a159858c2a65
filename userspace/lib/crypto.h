/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The crypto backend: the only interface of libktls that reaches libcrypto
 * (implemented in crypto_openssl.c). Algorithm objects are fetched once by
 * kc_init(); every function here is thread safe after that.
 *
 * Conventions: functions return 0 on success and a KTLS_ERROR_* / alert
 * code (include/ktls.h) on failure. Secrets passed in are not kept unless
 * said; secrets held inside objects are wiped when the object is freed.
 */
#ifndef KTLS_CRYPTO_H
#define KTLS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define KC_MAX_DIGEST		64
#define KC_MAX_KEY		32
#define KC_AEAD_IV_LEN		12
#define KC_AEAD_TAG_LEN		16
#define KC_MAX_KEX_PUBLIC	133	/* uncompressed P-521 point; we use up to P-384 (97) */
#define KC_MAX_KEX_SECRET	66
#define KC_MAX_SIGNATURE	1024	/* RSA-8192 */

enum kc_hash_id {
	KC_SHA256,
	KC_SHA384,
	KC_SHA512,
	KC_HASH_COUNT,
};

enum kc_aead_id {
	KC_AES_128_GCM,
	KC_AES_256_GCM,
	KC_CHACHA20_POLY1305,
	KC_AEAD_COUNT,
};

/* TLS NamedGroup code points. */
enum kc_group_id {
	KC_GROUP_SECP256R1 = 0x0017,
	KC_GROUP_SECP384R1 = 0x0018,
	KC_GROUP_X25519 = 0x001d,
};

/* TLS SignatureScheme code points. */
enum kc_sigscheme {
	KC_SIG_RSA_PKCS1_SHA256 = 0x0401,
	KC_SIG_RSA_PKCS1_SHA384 = 0x0501,
	KC_SIG_RSA_PKCS1_SHA512 = 0x0601,
	KC_SIG_ECDSA_SECP256R1_SHA256 = 0x0403,
	KC_SIG_ECDSA_SECP384R1_SHA384 = 0x0503,
	KC_SIG_ECDSA_SECP521R1_SHA512 = 0x0603,
	KC_SIG_RSA_PSS_RSAE_SHA256 = 0x0804,
	KC_SIG_RSA_PSS_RSAE_SHA384 = 0x0805,
	KC_SIG_RSA_PSS_RSAE_SHA512 = 0x0806,
	KC_SIG_ED25519 = 0x0807,
	KC_SIG_ED448 = 0x0808,
	KC_SIG_RSA_PSS_PSS_SHA256 = 0x0809,
	KC_SIG_RSA_PSS_PSS_SHA384 = 0x080a,
	KC_SIG_RSA_PSS_PSS_SHA512 = 0x080b,
};

/* Must be called once before anything else; idempotent and thread safe. */
int kc_init(void);

/* Random bytes from the CSPRNG. */
int kc_random(void *buf, size_t len);
/* Constant-time comparison: 0 when equal. */
int kc_memcmp(const void *a, const void *b, size_t len);
/* Wipe memory so the compiler cannot elide it. */
void kc_cleanse(void *p, size_t len);

/* Hashes. */
size_t kc_hash_size(enum kc_hash_id id);
struct kc_hash;
struct kc_hash *kc_hash_new(enum kc_hash_id id);
int kc_hash_update(struct kc_hash *h, const void *data, size_t len);
/* Digest of everything so far, without ending the running hash. */
int kc_hash_peek(const struct kc_hash *h, uint8_t *out);
void kc_hash_free(struct kc_hash *h);
int kc_hash_oneshot(enum kc_hash_id id, const void *data, size_t len, uint8_t *out);

/* HMAC and HKDF (RFC 5869). */
int kc_hmac(enum kc_hash_id id, const void *key, size_t key_len,
	    const void *data, size_t len, uint8_t *out);
int kc_hkdf_extract(enum kc_hash_id id, const void *salt, size_t salt_len,
		    const void *ikm, size_t ikm_len, uint8_t *prk);
int kc_hkdf_expand(enum kc_hash_id id, const void *prk, size_t prk_len,
		   const void *info, size_t info_len, uint8_t *out, size_t out_len);

/* AEAD record protection. The key is copied into the context. */
size_t kc_aead_key_size(enum kc_aead_id id);
struct kc_aead;
struct kc_aead *kc_aead_new(enum kc_aead_id id, const uint8_t *key, int encrypt);
/* out receives len + KC_AEAD_TAG_LEN bytes; out may equal in. */
int kc_aead_seal(struct kc_aead *a, const uint8_t nonce[KC_AEAD_IV_LEN],
		 const void *aad, size_t aad_len, const void *in, size_t len,
		 uint8_t *out);
/* len includes the tag; out receives len - KC_AEAD_TAG_LEN bytes;
 * returns KTLS_ALERT_BAD_RECORD_MAC when authentication fails. */
int kc_aead_open(struct kc_aead *a, const uint8_t nonce[KC_AEAD_IV_LEN],
		 const void *aad, size_t aad_len, const void *in, size_t len,
		 uint8_t *out);
void kc_aead_free(struct kc_aead *a);

/* Ephemeral key exchange for the TLS groups above. */
struct kc_kex;
/* New key pair; writes the TLS-encoded public value (X25519: 32 bytes,
 * NIST curves: uncompressed point). */
int kc_kex_generate(enum kc_group_id group, struct kc_kex **kex,
		    uint8_t *pub, size_t *pub_len);
/* Key pair from a fixed private value (test vectors only). */
int kc_kex_from_private(enum kc_group_id group, const uint8_t *priv, size_t priv_len,
			struct kc_kex **kex, uint8_t *pub, size_t *pub_len);
/* Shared secret with the peer's TLS-encoded public value. A malformed or
 * off-curve peer value, or an all-zero X25519 result, is
 * KTLS_ALERT_ILLEGAL_PARAMETER. */
int kc_kex_derive(struct kc_kex *kex, const uint8_t *peer, size_t peer_len,
		  uint8_t *secret, size_t *secret_len);
void kc_kex_free(struct kc_kex *kex);

/* Private keys. */
struct kc_pkey;
int kc_pkey_load(const char *path, struct kc_pkey **key);
/*
 * The same from memory: PEM text, or DER (PKCS#8 or the key type's own
 * structure) with nothing after it. At most KC_MEM_MAX bytes.
 */
#define KC_MEM_MAX	(1 << 20)
int kc_pkey_load_mem(const uint8_t *data, size_t len, struct kc_pkey **key);
void kc_pkey_free(struct kc_pkey *key);
/* 1 if @key can sign with @scheme (key type, curve, RSA-PSS vs rsaEncryption). */
int kc_pkey_can_sign(const struct kc_pkey *key, uint16_t scheme);
int kc_sign(const struct kc_pkey *key, uint16_t scheme, const void *tbs, size_t tbs_len,
	    uint8_t *sig, size_t *sig_len);

/* Certificates. A chain is an ordered list of DER certificates, leaf first. */
struct kc_chain;
int kc_chain_load(const char *path, struct kc_chain **chain);	/* PEM file */
/* PEM text, or DER certificates one after another; leaf first either way. */
int kc_chain_load_mem(const uint8_t *data, size_t len, struct kc_chain **chain);
struct kc_chain *kc_chain_new(void);
int kc_chain_add_der(struct kc_chain *chain, const uint8_t *der, size_t len);
size_t kc_chain_count(const struct kc_chain *chain);
int kc_chain_der(const struct kc_chain *chain, size_t index, const uint8_t **der, size_t *len);
/* 1 if the leaf's public key fits @key (identity sanity check). */
int kc_chain_matches_key(const struct kc_chain *chain, const struct kc_pkey *key);
/* 1 if the leaf's public key can verify @scheme. */
int kc_chain_can_verify(const struct kc_chain *chain, uint16_t scheme);
/* "CN=...,O=..." of the leaf, written to buf (always NUL-terminated). */
int kc_chain_subject(const struct kc_chain *chain, char *buf, size_t size);
void kc_chain_free(struct kc_chain *chain);
/* Verifies a signature made with the leaf's key. Wrong signature is
 * KTLS_ALERT_DECRYPT_ERROR; a scheme that does not fit the key is
 * KTLS_ALERT_ILLEGAL_PARAMETER. */
int kc_verify(const struct kc_chain *chain, uint16_t scheme, const void *tbs, size_t tbs_len,
	      const uint8_t *sig, size_t sig_len);

/* kc_verify() as TLS 1.2 means it: an ECDSA scheme fixes the hash, not the curve. */
int kc_verify_tls12(const struct kc_chain *chain, uint16_t scheme, const void *tbs,
		    size_t tbs_len, const uint8_t *sig, size_t sig_len);

/* RSA key transport of TLS 1.2 (PKCS#1 v1.5 encryption). */
#define KC_RSA_PREMASTER_LEN	48
/* Encrypts to the leaf's RSA key; @out holds KC_MAX_SIGNATURE bytes. */
int kc_rsa_encrypt(const struct kc_chain *chain, const void *in, size_t len,
		   uint8_t *out, size_t *out_len);
/*
 * Decrypts a premaster secret without an oracle (RFC 5246 7.4.7.1): bad
 * padding, length or version yield a random premaster, in constant time,
 * and still 0. Errors only for an unusable key or a broken CSPRNG.
 */
int kc_rsa_decrypt_premaster(const struct kc_pkey *key, const uint8_t *in, size_t len,
			     uint16_t client_version, uint8_t *premaster);

/* Trust store. */
struct kc_store;
struct kc_store *kc_store_new(void);
int kc_store_add_file(struct kc_store *store, const char *path);
int kc_store_add_dir(struct kc_store *store, const char *path);
int kc_store_add_system(struct kc_store *store);
/* Another handle on the same anchors (reference counted): each is freed alone. */
struct kc_store *kc_store_share(struct kc_store *store);
void kc_store_free(struct kc_store *store);

/*
 * Verifies @chain against @store: path to a trusted root, validity dates,
 * key usage for @purpose_server (1: the chain is a server's, 0: a
 * client's), and if @name is not NULL, the leaf's subjectAltName against
 * @name (DNS name, or IPv4/IPv6 literal matched against iPAddress).
 * On failure returns the alert to send (bad_certificate, unknown_ca,
 * certificate_expired, ...) and sets *x509_error to the X509_V_ERR_* code
 * and errbuf to a readable reason.
 */
/* 1 if the leaf's subjectAltName (or CN, as X509_check_host allows) covers DNS @name. */
int kc_chain_leaf_names(const struct kc_chain *chain, const char *name);
int kc_chain_verify(const struct kc_store *store, const struct kc_chain *chain,
		    int purpose_server, const char *name, long *x509_error,
		    char *errbuf, size_t errbuf_size);

#endif /* KTLS_CRYPTO_H */
