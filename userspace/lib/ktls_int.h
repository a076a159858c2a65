/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal interfaces of libktls, grouped by the file that implements them.
 */
#ifndef KTLS_INT_H
#define KTLS_INT_H

#include <stdint.h>
#include <stddef.h>

#include "ktls.h"
#include "crypto.h"

#define KTLS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Record layer limits (RFC 8446 5.1, 5.2). */
#define KTLS_MAX_PLAINTEXT		16384
#define KTLS_MAX_CIPHERTEXT_13		(16384 + 256)
#define KTLS_RECORD_HEADER_LEN		5
/* Largest handshake message we accept (a certificate chain dominates). */
#define KTLS_MAX_HANDSHAKE_MESSAGE	(64 * 1024)

/* Content types. */
#define KTLS_CT_CHANGE_CIPHER_SPEC	20
#define KTLS_CT_ALERT			21
#define KTLS_CT_HANDSHAKE		22
#define KTLS_CT_APPLICATION_DATA	23

/* Handshake message types. */
#define KTLS_HS_CLIENT_HELLO		1
#define KTLS_HS_SERVER_HELLO		2
#define KTLS_HS_NEW_SESSION_TICKET	4
#define KTLS_HS_END_OF_EARLY_DATA	5
#define KTLS_HS_ENCRYPTED_EXTENSIONS	8
#define KTLS_HS_CERTIFICATE		11
#define KTLS_HS_SERVER_KEY_EXCHANGE	12
#define KTLS_HS_CERTIFICATE_REQUEST	13
#define KTLS_HS_SERVER_HELLO_DONE	14
#define KTLS_HS_CERTIFICATE_VERIFY	15
#define KTLS_HS_CLIENT_KEY_EXCHANGE	16
#define KTLS_HS_FINISHED		20
#define KTLS_HS_KEY_UPDATE		24
#define KTLS_HS_MESSAGE_HASH		254

/* Extensions. */
#define KTLS_EXT_SERVER_NAME		0
#define KTLS_EXT_SUPPORTED_GROUPS	10
#define KTLS_EXT_SIGNATURE_ALGORITHMS	13
#define KTLS_EXT_ALPN			16
#define KTLS_EXT_RECORD_SIZE_LIMIT	28
#define KTLS_EXT_PRE_SHARED_KEY		41
#define KTLS_EXT_EARLY_DATA		42
#define KTLS_EXT_SUPPORTED_VERSIONS	43
#define KTLS_EXT_COOKIE			44
#define KTLS_EXT_PSK_KEY_EXCHANGE_MODES	45
#define KTLS_EXT_CERTIFICATE_AUTHORITIES 47
#define KTLS_EXT_SIGNATURE_ALGORITHMS_CERT 50
#define KTLS_EXT_KEY_SHARE		51

/* ---- buf.c: encoding into ktls_buf, bounded decoding ---- */

int ktls_buf_push_u8(struct ktls_buf *buf, uint8_t v);
int ktls_buf_push_u16(struct ktls_buf *buf, uint16_t v);
int ktls_buf_push_u24(struct ktls_buf *buf, uint32_t v);
int ktls_buf_push_u32(struct ktls_buf *buf, uint32_t v);
int ktls_buf_push_u64(struct ktls_buf *buf, uint64_t v);
/*
 * Length-prefixed blocks: open reserves @len_size bytes of length and
 * returns the mark; close writes the length (KTLS_ERROR_INVALID_ARGUMENT if it
 * does not fit).
 */
int ktls_buf_open_block(struct ktls_buf *buf, size_t len_size, size_t *mark);
int ktls_buf_close_block(struct ktls_buf *buf, size_t len_size, size_t mark);

/* A bounded reader: every read fails with KTLS_ALERT_DECODE_ERROR past end. */
struct ktls_reader {
	const uint8_t *pos;
	const uint8_t *end;
};

static inline void ktls_reader_init(struct ktls_reader *r, const void *p, size_t len)
{
	r->pos = p;
	r->end = r->pos + len;
}

static inline size_t ktls_reader_left(const struct ktls_reader *r)
{
	return (size_t)(r->end - r->pos);
}

int ktls_read_u8(struct ktls_reader *r, uint8_t *v);
int ktls_read_u16(struct ktls_reader *r, uint16_t *v);
int ktls_read_u24(struct ktls_reader *r, uint32_t *v);
int ktls_read_u32(struct ktls_reader *r, uint32_t *v);
int ktls_read_bytes(struct ktls_reader *r, size_t len, const uint8_t **p);
/* Opens a block with a @len_size-byte length prefix as @sub; @min_len bounds
 * its length from below (decode_error otherwise). */
int ktls_read_block(struct ktls_reader *r, size_t len_size, size_t min_len,
		    struct ktls_reader *sub);
/* decode_error if bytes remain. */
int ktls_read_end(const struct ktls_reader *r);

/* ---- tables.c: per-suite, per-group and per-scheme facts ---- */

struct ktls_suite {
	uint16_t id;
	const char *name;		/* IANA name */
	enum kc_aead_id aead;
	enum kc_hash_id hash;
	uint16_t kernel_cipher_type;	/* TLS_CIPHER_* of linux/tls.h */
};

struct ktls_group {
	uint16_t id;
	const char *name;
};

struct ktls_sigscheme {
	uint16_t id;
	const char *name;
	int tls13_handshake;	/* usable in CertificateVerify of TLS 1.3 */
};

extern const struct ktls_suite ktls_suites[];	/* terminated by id 0 */
extern const struct ktls_group ktls_groups[];
extern const struct ktls_sigscheme ktls_sigschemes[];

const struct ktls_suite *ktls_suite_by_id(uint16_t id);
const struct ktls_suite *ktls_suite_by_name(const char *name);
const struct ktls_group *ktls_group_by_id(uint16_t id);
const struct ktls_group *ktls_group_by_name(const char *name);
const struct ktls_sigscheme *ktls_sigscheme_by_id(uint16_t id);

/* ---- keysched.c: RFC 8446 section 7 ---- */

int ktls_hkdf_expand_label(enum kc_hash_id hash, const uint8_t *secret,
			   const char *label, const uint8_t *context, size_t context_len,
			   uint8_t *out, size_t out_len);
/* Derive-Secret with an already computed transcript hash (NULL: hash of ""). */
int ktls_derive_secret(enum kc_hash_id hash, const uint8_t *secret, const char *label,
		       const uint8_t *transcript_hash, uint8_t *out);
/* Early secret from a PSK (NULL: zeros). */
int ktls_early_secret(enum kc_hash_id hash, const uint8_t *psk, size_t psk_len, uint8_t *out);
/* HKDF-Extract(Derive-Secret(prev, "derived", ""), ikm); ikm NULL: zeros. */
int ktls_next_secret(enum kc_hash_id hash, const uint8_t *prev, const uint8_t *ikm,
		     size_t ikm_len, uint8_t *out);
int ktls_traffic_key_iv(const struct ktls_suite *suite, const uint8_t *secret,
			uint8_t *key, uint8_t *iv);
/* verify_data = HMAC(finished_key(base), transcript_hash). */
int ktls_finished_verify_data(enum kc_hash_id hash, const uint8_t *base_secret,
			      const uint8_t *transcript_hash, uint8_t *out);
/* application_traffic_secret_N+1, in place. */
int ktls_update_traffic_secret(enum kc_hash_id hash, uint8_t *secret);

/* ---- record.c: protection of one direction, and record framing ---- */

struct ktls_protection {
	const struct ktls_suite *suite;	/* NULL while in plaintext */
	struct kc_aead *aead;
	uint8_t secret[KC_MAX_DIGEST];
	uint8_t key[KC_MAX_KEY];
	uint8_t iv[KC_AEAD_IV_LEN];
	uint64_t seq;
};

/* Installs keys from a traffic secret; seq restarts at 0. */
int ktls_protection_set(struct ktls_protection *p, const struct ktls_suite *suite,
			const uint8_t *secret, int encrypt);
void ktls_protection_clear(struct ktls_protection *p);
/*
 * Appends @data as records of @type, split at KTLS_MAX_PLAINTEXT,
 * encrypted if @p has keys (TLSInnerPlaintext with no padding).
 */
int ktls_record_write(struct ktls_protection *p, struct ktls_buf *out, uint8_t type,
		      const void *data, size_t len);
/*
 * Parses one record from @in. Returns KTLS_ERROR_IN_PROGRESS when fewer
 * than a whole record is there, else consumes it (*consumed) and, when
 * protected, decrypts into @scratch; on success *type/*frag/*frag_len
 * describe the inner content. Enforces the size limits
 * (record_overflow) and rejects bad MACs (bad_record_mac).
 */
int ktls_record_read(struct ktls_protection *p, const uint8_t *in, size_t in_len,
		     size_t *consumed, uint8_t *scratch, uint8_t *type,
		     const uint8_t **frag, size_t *frag_len);

/* ---- conn.c / client.c / server.c: the connection ---- */

/* Deterministic inputs for known-answer tests (RFC 8448); never set in production. */
struct ktls_test_hooks {
	void *arg;
	/* Fills the 32-byte random of this side. */
	void (*random)(void *arg, uint8_t *random);
	/* Raw private scalar to use for @group; returns its length or 0. */
	size_t (*kex_private)(void *arg, uint16_t group, uint8_t *priv);
	/* Overrides the CertificateVerify signature (RSA-PSS is randomized). */
	int (*sign)(void *arg, uint16_t scheme, const uint8_t *tbs, size_t tbs_len,
		    uint8_t *sig, size_t *sig_len);
};

void ktls_conn_set_test_hooks(struct ktls_conn *conn, const struct ktls_test_hooks *hooks);

#endif /* KTLS_INT_H */
