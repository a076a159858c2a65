/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal interfaces of libktls, grouped by the file that implements them.
 */
#ifndef KTLS_INT_H
#define KTLS_INT_H

#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include "ktls.h"
#include <linux/ktlsd.h>
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
#define KTLS_HS_HELLO_REQUEST		0
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
#define KTLS_EXT_EC_POINT_FORMATS	11
#define KTLS_EXT_SIGNATURE_ALGORITHMS	13
#define KTLS_EXT_ALPN			16
#define KTLS_EXT_EXTENDED_MASTER_SECRET	23
#define KTLS_EXT_RECORD_SIZE_LIMIT	28
#define KTLS_EXT_SESSION_TICKET		35
#define KTLS_EXT_PRE_SHARED_KEY		41
#define KTLS_EXT_EARLY_DATA		42
#define KTLS_EXT_SUPPORTED_VERSIONS	43
#define KTLS_EXT_COOKIE			44
#define KTLS_EXT_PSK_KEY_EXCHANGE_MODES	45
#define KTLS_EXT_CERTIFICATE_AUTHORITIES 47
#define KTLS_EXT_SIGNATURE_ALGORITHMS_CERT 50
#define KTLS_EXT_KEY_SHARE		51
#define KTLS_EXT_RENEGOTIATION_INFO	0xff01

/* The signalling suite of RFC 5746 3.3. */
#define KTLS_SCSV_RENEGOTIATION_INFO	0x00ff

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
	/* An absent block (NULL, 0) is valid: no arithmetic on NULL (UB). */
	r->end = len ? r->pos + len : r->pos;
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

/* How a suite authenticates and agrees keys; TLS 1.3 suites say neither. */
enum ktls_kx {
	KTLS_KX_TLS13,
	KTLS_KX_ECDHE_ECDSA,
	KTLS_KX_ECDHE_RSA,
	KTLS_KX_RSA,		/* RSA key transport: offered only when named */
};

struct ktls_suite {
	uint16_t id;
	const char *name;		/* IANA name */
	enum kc_aead_id aead;
	enum kc_hash_id hash;
	uint16_t kernel_cipher_type;	/* TLS_CIPHER_* of linux/tls.h */
	uint16_t version;		/* KTLS_VERSION_TLS13 or _TLS12 */
	enum ktls_kx kx;
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

/* ---- prf.c: TLS 1.2 key derivation (RFC 5246 5, 6.3, 8.1; RFC 7627) ---- */

#define KTLS12_MASTER_SECRET_LEN	48
#define KTLS12_VERIFY_DATA_LEN		12

/* The key block cut for an AEAD suite; IVs are 4 (GCM) or 12 (ChaCha20) bytes. */
struct ktls12_keys {
	uint8_t client_key[KC_MAX_KEY];
	uint8_t server_key[KC_MAX_KEY];
	uint8_t client_iv[KC_AEAD_IV_LEN];
	uint8_t server_iv[KC_AEAD_IV_LEN];
};

int ktls_prf(enum kc_hash_id hash, const uint8_t *secret, size_t secret_len,
	     const char *label, const uint8_t *seed1, size_t seed1_len,
	     const uint8_t *seed2, size_t seed2_len, uint8_t *out, size_t out_len);
/* @session_hash non-NULL: extended master secret; else from the randoms. */
int ktls12_master_secret(enum kc_hash_id hash, const uint8_t *premaster, size_t premaster_len,
			 const uint8_t *session_hash, const uint8_t *client_random,
			 const uint8_t *server_random, uint8_t *master);
size_t ktls12_fixed_iv_len(const struct ktls_suite *suite);
int ktls12_key_block(const struct ktls_suite *suite, const uint8_t *master,
		     const uint8_t *client_random, const uint8_t *server_random,
		     struct ktls12_keys *keys);
int ktls12_verify_data(enum kc_hash_id hash, const uint8_t *master, int by_server,
		       const uint8_t *transcript_hash, uint8_t *out);

/* ---- record.c: protection of one direction, and record framing ---- */

struct ktls_protection {
	const struct ktls_suite *suite;	/* NULL while in plaintext */
	struct kc_aead *aead;
	uint8_t secret[KC_MAX_DIGEST];
	uint8_t key[KC_MAX_KEY];
	uint8_t iv[KC_AEAD_IV_LEN];	/* TLS 1.2 AES-GCM: the 4-byte salt, then zeros */
	uint64_t seq;
	int tls12;			/* RFC 5246 6.2.3.3 record format */
};

/* Installs keys from a traffic secret; seq restarts at 0. */
int ktls_protection_set(struct ktls_protection *p, const struct ktls_suite *suite,
			const uint8_t *secret, int encrypt);
/* TLS 1.2: keys from the key block; @iv is ktls12_fixed_iv_len() bytes. */
int ktls_protection_set12(struct ktls_protection *p, const struct ktls_suite *suite,
			  const uint8_t *key, const uint8_t *iv, int encrypt);
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
 * protected, decrypts into @scratch; on success @type, @frag and @frag_len
 * describe the inner content. Enforces the size limits
 * (record_overflow) and rejects bad MACs (bad_record_mac).
 */
int ktls_record_read(struct ktls_protection *p, const uint8_t *in, size_t in_len,
		     size_t *consumed, uint8_t *scratch, uint8_t *type,
		     const uint8_t **frag, size_t *frag_len);

/* ---- config.c ---- */

#define KTLS_MAX_IDENTITIES	8
#define KTLS_MAX_ALPN_WIRE	256

struct ktls_identity {
	struct kc_chain *chain;
	struct kc_pkey *key;
};

struct ktls_config {
	int cf_refcount;	/* atomic: the config and each conn hold one */
	struct ktls_identity cf_identities[KTLS_MAX_IDENTITIES];
	size_t cf_identity_count;
	struct kc_store *cf_store;	/* NULL: no trust anchors configured */
	enum ktls_verify_policy cf_verify;
	enum ktls_verify_policy cf_verify_client;
	uint8_t cf_alpn[KTLS_MAX_ALPN_WIRE];	/* ProtocolNameList body */
	size_t cf_alpn_len;
	uint16_t cf_groups[8];
	size_t cf_group_count;
	const struct ktls_suite *cf_suites[16];
	size_t cf_suite_count;
	uint16_t cf_min_version;
	uint16_t cf_max_version;
	int cf_middlebox_compat;
	char cf_error[256];
};

struct ktls_config *ktls_config_get(struct ktls_config *cfg);
void ktls_config_put(struct ktls_config *cfg);
/*
 * A new config with @base's settings and trust anchors (shared) but none
 * of its identities; for a connection that brings its own.
 */
struct ktls_config *ktls_config_dup(struct ktls_config *base);
/* ktls_config_add_identity() from memory: PEM, or DER as keyrings hold it. */
int ktls_config_add_identity_mem(struct ktls_config *cfg, const uint8_t *chain_data,
				 size_t chain_len, const uint8_t *key_data, size_t key_len);

/* ---- conn.c / handshake.c / client.c / server.c: the connection ---- */

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
	/* Sees (and may corrupt) each handshake message this side writes. */
	void (*outgoing)(void *arg, uint8_t *msg, size_t len);
};

void ktls_conn_set_test_hooks(struct ktls_conn *conn, const struct ktls_test_hooks *hooks);

/* A NewSessionTicket as received (RFC 8446 4.6.1). */
struct ktls_ticket {
	uint32_t tk_lifetime;
	uint32_t tk_age_add;
	uint8_t tk_nonce[255];
	uint8_t tk_nonce_len;
	size_t tk_len;
	uint8_t tk_ticket[];	/* tk_len bytes */
};

/* One explicit state per expected message (picotls style). */
enum ktls_state {
	KTLS_STATE_CLIENT_START,
	KTLS_STATE_CLIENT_EXPECT_SERVER_HELLO,
	KTLS_STATE_CLIENT_EXPECT_SECOND_SERVER_HELLO,
	KTLS_STATE_CLIENT_EXPECT_ENCRYPTED_EXTENSIONS,
	KTLS_STATE_CLIENT_EXPECT_CERTIFICATE_REQUEST_OR_CERTIFICATE,
	KTLS_STATE_CLIENT_EXPECT_CERTIFICATE,
	KTLS_STATE_CLIENT_EXPECT_CERTIFICATE_VERIFY,
	KTLS_STATE_CLIENT_EXPECT_FINISHED,
	KTLS_STATE_SERVER_EXPECT_CLIENT_HELLO,
	KTLS_STATE_SERVER_EXPECT_SECOND_CLIENT_HELLO,
	KTLS_STATE_SERVER_EXPECT_CERTIFICATE,
	KTLS_STATE_SERVER_EXPECT_CERTIFICATE_VERIFY,
	KTLS_STATE_SERVER_EXPECT_FINISHED,
	/* TLS 1.2 (RFC 5246 7.3), entered from ServerHello / ClientHello */
	KTLS_STATE_CLIENT12_EXPECT_CERTIFICATE,
	KTLS_STATE_CLIENT12_EXPECT_SERVER_KEY_EXCHANGE,
	KTLS_STATE_CLIENT12_EXPECT_CERTIFICATE_REQUEST_OR_DONE,
	KTLS_STATE_CLIENT12_EXPECT_SERVER_HELLO_DONE,
	KTLS_STATE_CLIENT12_EXPECT_CCS,
	KTLS_STATE_CLIENT12_EXPECT_FINISHED,
	KTLS_STATE_SERVER12_EXPECT_CERTIFICATE,
	KTLS_STATE_SERVER12_EXPECT_CLIENT_KEY_EXCHANGE,
	KTLS_STATE_SERVER12_EXPECT_CERTIFICATE_VERIFY,
	KTLS_STATE_SERVER12_EXPECT_CCS,
	KTLS_STATE_SERVER12_EXPECT_FINISHED,
	KTLS_STATE_POST_HANDSHAKE,
	KTLS_STATE_CLOSED,	/* close_notify received */
	KTLS_STATE_FAILED,
};

#define KTLS_MAX_SIGSCHEMES	32
#define KTLS_MAX_CERT_CONTEXT	255

struct ktls_conn {
	struct ktls_config *cn_cfg;
	enum ktls_role cn_role;
	enum ktls_state cn_state;
	const struct ktls_test_hooks *cn_hooks;

	uint16_t cn_version;
	const struct ktls_suite *cn_suite;
	const struct ktls_group *cn_group;
	uint16_t cn_peer_sigscheme;	/* of the peer's CertificateVerify */
	uint16_t cn_own_sigscheme;
	const struct ktls_identity *cn_identity;

	struct kc_hash *cn_transcript;	/* NULL until the suite is known */
	struct ktls_buf cn_client_hello;	/* client: CH1 kept until the hash is known */
	struct kc_kex *cn_kex;
	uint8_t cn_client_random[32];
	uint8_t cn_server_random[32];
	uint8_t cn_session_id[32];
	uint8_t cn_session_id_len;
	int cn_did_hrr;
	int cn_sent_ccs;
	struct ktls_buf cn_cookie;	/* HRR cookie (server: ours; client: to echo) */

	uint8_t cn_secret[KC_MAX_DIGEST];	/* early, then handshake, then master secret */
	uint8_t cn_client_ap[KC_MAX_DIGEST];	/* server: RX secret once the client finishes */
	struct ktls_protection cn_tx;
	struct ktls_protection cn_rx;
	int cn_rx_key_changed;
	struct ktls_buf cn_hs_in;	/* handshake message reassembly */
	struct ktls_buf cn_flight;	/* outgoing handshake messages, coalesced */

	/* peer's lists we must answer from */
	uint16_t cn_peer_sigschemes[KTLS_MAX_SIGSCHEMES];
	size_t cn_peer_sigscheme_count;
	int cn_cert_requested;		/* client: the server sent CertificateRequest */
	uint8_t cn_cert_context[KTLS_MAX_CERT_CONTEXT];
	uint8_t cn_cert_context_len;
	int cn_peer_sent_empty_cert;

	char *cn_server_name;
	char *cn_alpn;			/* negotiated */
	/* what we offer or accept: the config's, or ktls_conn_set_alpn()'s own copy */
	const uint8_t *cn_alpn_list;	/* ProtocolNameList body */
	size_t cn_alpn_list_len;
	uint8_t *cn_alpn_list_owned;
	enum ktls_verify_policy cn_verify;	/* of the peer: cf_verify or cf_verify_client */
	struct kc_chain *cn_peer_chain;
	long cn_verify_result;
	char cn_peer_subject[256];
	size_t cn_ticket_count;
	struct ktls_ticket *cn_ticket;	/* the newest, kept for resumption later */
	int cn_sent_close_notify;
	int cn_received_ccs;
	int cn_kernel_rx;		/* the kernel decrypts: KeyUpdate needs it told */
	int cn_kernel_tx;
	int cn_key_update_owed;		/* peer asked for our KeyUpdate (kernel TX) */
	int cn_error;
	char cn_detail[160];

	/* TLS 1.2 only */
	struct ktls_buf cn_hs_log;	/* raw messages, for CertificateVerify */
	uint8_t cn_premaster[KC_MAX_KEX_SECRET];
	size_t cn_premaster_len;
	uint8_t cn_kex_pub[KC_MAX_KEX_PUBLIC];	/* client: our ClientKeyExchange value */
	size_t cn_kex_pub_len;
	int cn_peer_point_formats;	/* server: the client sent ec_point_formats */
};

/* config.c */
int ktls_alpn_encode(const char *list, uint8_t *wire, size_t size, size_t *wire_len);

/* handshake.c: what both roles share */
int ktls_fail(struct ktls_conn *conn, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ktls_transcript_start(struct ktls_conn *conn);
int ktls_transcript_add(struct ktls_conn *conn, const uint8_t *msg, size_t len);
int ktls_msg_begin(struct ktls_buf *buf, uint8_t type, size_t *mark);
int ktls_msg_end(struct ktls_conn *conn, struct ktls_buf *buf, size_t mark);
int ktls_flush_flight(struct ktls_conn *conn, struct ktls_buf *sendbuf);
int ktls_send_ccs(struct ktls_conn *conn, struct ktls_buf *sendbuf);
void ktls_random(struct ktls_conn *conn, uint8_t *random);
int ktls_kex_generate(struct ktls_conn *conn, uint16_t group, uint8_t *pub, size_t *pub_len);
int ktls_derive_handshake_secrets(struct ktls_conn *conn, const uint8_t *shared,
				  size_t shared_len);
int ktls_derive_application_secrets(struct ktls_conn *conn, uint8_t *client_ap,
				    uint8_t *server_ap);
int ktls_write_certificate(struct ktls_conn *conn, const struct ktls_identity *id);
int ktls_write_certificate_verify(struct ktls_conn *conn, const struct ktls_identity *id,
				  uint16_t scheme);
int ktls_write_finished(struct ktls_conn *conn);
int ktls_handle_certificate(struct ktls_conn *conn, const uint8_t *msg, size_t len);
int ktls_verify_peer_chain(struct ktls_conn *conn);
int ktls_peer_chain_begin(struct ktls_conn *conn);
int ktls_peer_chain_end(struct ktls_conn *conn, const uint8_t *msg, size_t len, size_t count);
int ktls_alpn_take_answer(struct ktls_conn *conn, struct ktls_reader *body);
int ktls_handle_certificate_verify(struct ktls_conn *conn, const uint8_t *msg, size_t len);
int ktls_handle_finished(struct ktls_conn *conn, const uint8_t *msg, size_t len);
int ktls_write_sigschemes(struct ktls_buf *buf, int handshake_only);
int ktls_read_sigschemes(struct ktls_conn *conn, struct ktls_reader *r);
int ktls_is_ip_literal(const char *name);
int ktls_ext_begin(struct ktls_buf *buf, uint16_t type, size_t *mark);
int ktls_ext_end(struct ktls_buf *buf, size_t mark);
int ktls_alpn_contains(const uint8_t *wire, size_t wire_len, const uint8_t *name, size_t len);
int ktls_reader_has_u16(struct ktls_reader list, uint16_t want);
size_t ktls_identity_order(const struct ktls_conn *conn, size_t *order);
int ktls_select_alpn(struct ktls_conn *conn, const uint8_t *offered, size_t offered_len);
int ktls_write_server_acks(struct ktls_conn *conn, struct ktls_buf *b);

extern const uint8_t ktls_hrr_random[32];
extern const uint8_t ktls_downgrade_tls12[8];
extern const uint8_t ktls_downgrade_tls11[8];

/* Extension blocks: each type at most once, bounded in count. */
#define KTLS_MAX_EXTENSIONS	64
typedef int (*ktls_ext_cb)(struct ktls_conn *conn, void *ctx, uint16_t type,
			   struct ktls_reader *body);
int ktls_for_each_extension(struct ktls_conn *conn, struct ktls_reader *exts,
			    ktls_ext_cb cb, void *ctx);

/* client.c / server.c: one dispatcher per role */
int ktls_client_start(struct ktls_conn *conn, struct ktls_buf *sendbuf);
int ktls_client_handle_message(struct ktls_conn *conn, struct ktls_buf *sendbuf,
			       const uint8_t *msg, size_t len);
int ktls_server_handle_message(struct ktls_conn *conn, struct ktls_buf *sendbuf,
			       const uint8_t *msg, size_t len);

/* handshake12.c: what both TLS 1.2 roles share */
int ktls12_client_offers(const struct ktls_config *cfg);
int ktls12_scheme_fits(uint16_t scheme, enum ktls_kx kx);
int ktls12_transcript_begin(struct ktls_conn *conn, const uint8_t *ch, size_t ch_len);
int ktls12_write_certificate(struct ktls_conn *conn, const struct ktls_identity *id);
int ktls12_handle_certificate(struct ktls_conn *conn, const uint8_t *msg, size_t len);
int ktls12_derive_master(struct ktls_conn *conn);
int ktls12_write_certificate_verify(struct ktls_conn *conn, const struct ktls_identity *id,
				    uint16_t scheme);
int ktls12_handle_certificate_verify(struct ktls_conn *conn, const uint8_t *msg, size_t len);
int ktls12_send_ccs_finished(struct ktls_conn *conn, struct ktls_buf *sendbuf);
int ktls12_handle_ccs(struct ktls_conn *conn);
int ktls12_handle_finished(struct ktls_conn *conn, const uint8_t *msg, size_t len);
int ktls12_write_hello_extensions(struct ktls_conn *conn, struct ktls_buf *b);

/* client12.c / server12.c: the TLS 1.2 halves of the dispatchers */
int ktls_client12_handle_server_hello(struct ktls_conn *conn, const uint8_t *msg, size_t len);
int ktls_client12_handle_message(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				 const uint8_t *msg, size_t len);
int ktls_server12_handle_client_hello(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				      const uint8_t *msg, size_t len);
int ktls_server12_handle_message(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				 const uint8_t *msg, size_t len);

/* conn.c: post-handshake messages, shared with the kTLS read path */
int ktls_conn_handshake_fragment(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				 const uint8_t *frag, size_t len);
int ktls_conn_alert(struct ktls_conn *conn, const uint8_t *frag, size_t len);
int ktls_conn_fail(struct ktls_conn *conn, struct ktls_buf *sendbuf, int err);

/* ---- install.c: kTLS, reached through a seam so tests run without a kernel ---- */

struct ktls_syscalls {
	int (*setsockopt)(int fd, int level, int name, const void *val, socklen_t len);
	ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
	ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
};

/* NULL restores the system calls. */
void ktls_set_syscalls(const struct ktls_syscalls *sys);

/* proto.c: the unix socket protocol to ktlsd */
struct ktlsd_msg_builder {
	uint8_t mb_buf[KTLSD_MSG_MAX];
	size_t mb_len;
	int mb_overflow;	/* an attribute did not fit: finish says -EMSGSIZE */
};

struct ktlsd_attrs {
	const uint8_t *at_value[KTLSD_A_MAX + 1];	/* NULL: absent */
	uint16_t at_len[KTLSD_A_MAX + 1];
};

struct ktlsd_request {
	uint32_t rq_role;		/* enum ktlsd_role */
	uint32_t rq_verify;		/* enum ktlsd_verify */
	uint32_t rq_timeout_ms;
	char rq_peer_name[KTLSD_PEER_NAME_MAX + 1];
	char rq_alpn[KTLSD_ALPN_MAX + 1];
	char rq_identity[KTLSD_IDENTITY_MAX + 1];
	/* The kernel's handshake family only: key serials to read the identity from, 0: none */
	uint32_t rq_cert_serial;
	uint32_t rq_key_serial;
};

void ktlsd_msg_init(struct ktlsd_msg_builder *b, uint16_t type);
void ktlsd_msg_put(struct ktlsd_msg_builder *b, uint16_t type, const void *value, size_t len);
void ktlsd_msg_put_u32(struct ktlsd_msg_builder *b, uint16_t type, uint32_t value);
void ktlsd_msg_put_u64(struct ktlsd_msg_builder *b, uint16_t type, uint64_t value);
void ktlsd_msg_put_str(struct ktlsd_msg_builder *b, uint16_t type, const char *s);
int ktlsd_msg_finish(struct ktlsd_msg_builder *b);
int ktlsd_msg_length(const void *hdr, size_t len);
int ktlsd_msg_parse(const void *buf, size_t len, uint16_t *type, struct ktlsd_attrs *attrs);
/* The attributes alone; a netlink message's payload has the same layout. */
int ktlsd_attrs_parse(const void *buf, size_t len, struct ktlsd_attrs *attrs);
int ktlsd_attr_u32(const struct ktlsd_attrs *attrs, int type, uint32_t *value);
int ktlsd_attr_u64(const struct ktlsd_attrs *attrs, int type, uint64_t *value);
int ktlsd_attr_str(const struct ktlsd_attrs *attrs, int type, char *out, size_t size);
int ktlsd_request_decode(const struct ktlsd_attrs *attrs, struct ktlsd_request *rq);
void ktlsd_request_encode(struct ktlsd_msg_builder *b, const struct ktlsd_request *rq);
void ktlsd_result_encode(struct ktlsd_msg_builder *b, const struct ktls_upgrade_info *info);
int ktlsd_result_decode(const struct ktlsd_attrs *attrs, struct ktls_upgrade_info *info);

/*
 * drive.c: one handshake on a non-blocking TCP socket, shared by the
 * in-process ktls_upgrade() and the daemon. Records are read exactly,
 * header then body, so nothing past the handshake's last record leaves
 * the kernel and kTLS RX starts on a record boundary with no backlog.
 */
struct ktls_drive {
	struct ktls_conn *dv_conn;
	int dv_fd;
	int dv_started;
	int dv_error;			/* negative errno once failed */
	struct ktls_buf dv_out;		/* sealed bytes not yet sent */
	uint8_t dv_header[KTLS_RECORD_HEADER_LEN];
	size_t dv_header_len;
	uint8_t *dv_record;		/* header and body of the record being read */
	size_t dv_record_len, dv_record_off;
};

/* A connected TCP socket: 0, -ENOTSOCK, -ESOCKTNOSUPPORT or -ENOTCONN. */
int ktls_socket_check_tcp(int fd);
/* That, then the "tls" ULP attached (-ENOPROTOOPT, -EALREADY). */
int ktls_socket_check(int fd);
const char *ktls_socket_check_reason(int err);

/*
 * upgrade_module.c: ktls_upgrade() through ktlsd.ko. Submit returns 0 when
 * a blocking socket is done, -EINPROGRESS on an O_NONBLOCK one, else the
 * refusal with *why. Collect returns 1 with *status once the completion
 * is on the socket's error queue, 0 before. The result's details come
 * from the module's record of recent completions, best effort.
 */
int ktls_module_submit(int fd, const struct ktls_upgrade_opts *opts, int timeout_ms,
		       const char **why);
int ktls_module_collect(int fd, int *status);
void ktls_module_result(int fd, struct ktls_upgrade_info *info);
void ktls_drive_init(struct ktls_drive *dv, struct ktls_conn *conn, int fd);
int ktls_drive_step(struct ktls_drive *dv, short *events);
void ktls_drive_dispose(struct ktls_drive *dv);
int ktls_upgrade_conn_new(struct ktls_config *cfg, enum ktls_role role, const char *peer_name,
			  const char *alpn, uint32_t verify, struct ktls_conn **connp,
			  const char **why);
void ktls_upgrade_info_fill(struct ktls_upgrade_info *info, const struct ktls_conn *conn,
			    int status);

#endif /* KTLS_INT_H */
