// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The TLS 1.2 server (RFC 5246 7.3, ECDHE of RFC 8422), entered from
 * server.c when the ClientHello does not offer TLS 1.3 (or we do not
 * speak it). It answers with ServerHello, Certificate,
 * ServerKeyExchange, [CertificateRequest] and ServerHelloDone in one
 * flight; no session resumption, no renegotiation.
 */
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"

struct client_hello12 {
	struct ktls_reader suites;
	int offers_tls12;
	int have_versions;
	int have_ems;
	int have_reneg;
	int have_sigalgs;
	int have_groups;
	struct ktls_reader groups;
	const uint8_t *alpn;
	size_t alpn_len;
};

static int server12_client_hello_ext(struct ktls_conn *conn, void *ctx, uint16_t type,
				     struct ktls_reader *body)
{
	struct client_hello12 *ch = ctx;
	struct ktls_reader list, entry;
	uint16_t version;
	uint8_t format;
	int ret = 0, uncompressed = 0;

	switch (type) {
	case KTLS_EXT_SUPPORTED_VERSIONS:
		ch->have_versions = 1;
		ret = ktls_read_block(body, 1, 2, &list);
		if (!ret && ktls_reader_left(&list) % 2)
			ret = KTLS_ALERT_DECODE_ERROR;
		while (!ret && ktls_reader_left(&list)) {
			ktls_read_u16(&list, &version);
			if (version == KTLS_VERSION_TLS12)
				ch->offers_tls12 = 1;
		}
		break;
	case KTLS_EXT_SUPPORTED_GROUPS:
		ch->have_groups = 1;
		ret = ktls_read_block(body, 2, 2, &ch->groups);
		if (!ret && ktls_reader_left(&ch->groups) % 2)
			ret = KTLS_ALERT_DECODE_ERROR;
		break;
	case KTLS_EXT_SIGNATURE_ALGORITHMS:
		ch->have_sigalgs = 1;
		return ktls_read_sigschemes(conn, body);
	case KTLS_EXT_EC_POINT_FORMATS:
		ret = ktls_read_block(body, 1, 1, &list);
		while (!ret && !ktls_read_u8(&list, &format))
			uncompressed |= format == 0;
		if (!ret && !uncompressed)
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
					 "client does not accept uncompressed points");
		conn->cn_peer_point_formats = 1;
		break;
	case KTLS_EXT_EXTENDED_MASTER_SECRET:
		ch->have_ems = 1;
		break;
	case KTLS_EXT_RENEGOTIATION_INFO:
		ret = ktls_read_block(body, 1, 0, &list);
		if (!ret && ktls_reader_left(&list))
			return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE,
					 "non-empty renegotiation_info");
		ch->have_reneg = 1;
		break;
	case KTLS_EXT_ALPN:
		ret = ktls_read_block(body, 2, 2, &list);
		if (ret)
			break;
		ch->alpn = list.pos;
		ch->alpn_len = ktls_reader_left(&list);
		while (!ret && ktls_reader_left(&list))
			ret = ktls_read_block(&list, 1, 1, &entry);
		break;
	default:
		/* server_name was read by server.c; others we do not answer. */
		body->pos = body->end;
		break;
	}
	if (ret)
		return ktls_fail(conn, ret, "malformed extension %u in ClientHello", type);
	return 0;
}

static int server12_parse_client_hello(struct ktls_conn *conn, const uint8_t *msg, size_t len,
				       struct client_hello12 *ch)
{
	struct ktls_reader r, session_id, compression, exts;
	const uint8_t *random;
	uint16_t legacy_version;
	int ret, null_compression = 0;
	uint8_t method;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_u16(&r, &legacy_version)) ||
	    (ret = ktls_read_bytes(&r, 32, &random)) ||
	    (ret = ktls_read_block(&r, 1, 0, &session_id)) ||
	    (ret = ktls_read_block(&r, 2, 2, &ch->suites)) ||
	    (ret = ktls_read_block(&r, 1, 1, &compression)))
		return ktls_fail(conn, ret, "malformed ClientHello");
	ktls_reader_init(&exts, NULL, 0);
	if (ktls_reader_left(&r) &&
	    ((ret = ktls_read_block(&r, 2, 0, &exts)) || (ret = ktls_read_end(&r))))
		return ktls_fail(conn, ret, "malformed ClientHello");
	ret = ktls_for_each_extension(conn, &exts, server12_client_hello_ext, ch);
	if (ret)
		return ret;
	if (!ch->have_versions)
		ch->offers_tls12 = legacy_version >= KTLS_VERSION_TLS12;
	if (!ch->offers_tls12)
		return ktls_fail(conn, KTLS_ALERT_PROTOCOL_VERSION,
				 "client offers neither TLS 1.3 nor TLS 1.2");
	/* RFC 5246 7.4.1.2: the list must contain null, and only null is chosen. */
	while (!ktls_read_u8(&compression, &method))
		null_compression |= method == 0;
	if (!null_compression)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "ClientHello without null compression");
	memcpy(conn->cn_client_random, random, 32);
	return 0;
}


/*
 * RFC 8422 5.1: the curve of an ECDSA certificate must be one the client
 * offered. Our ECDSA schemes are bound to the key's curve, so the scheme
 * tells which.
 */
static int server12_curve_offered(const struct client_hello12 *ch, uint16_t scheme)
{
	switch (scheme) {
	case KC_SIG_ECDSA_SECP256R1_SHA256:
		return ch->have_groups && ktls_reader_has_u16(ch->groups, KC_GROUP_SECP256R1);
	case KC_SIG_ECDSA_SECP384R1_SHA384:
		return ch->have_groups && ktls_reader_has_u16(ch->groups, KC_GROUP_SECP384R1);
	default:
		return 1;
	}
}

/* The first of our identities and the client's schemes that can authenticate @kx. */
static int server12_pick_identity(struct ktls_conn *conn, const struct client_hello12 *ch,
				  enum ktls_kx kx)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	size_t order[KTLS_MAX_IDENTITIES], count, i, j;

	count = ktls_identity_order(conn, order);
	for (i = 0; i < count; i++) {
		const struct ktls_identity *id = &cfg->cf_identities[order[i]];

		/* RSA key transport signs nothing: any rsaEncryption key decrypts. */
		if (kx == KTLS_KX_RSA) {
			if (!kc_pkey_can_sign(id->key, KC_SIG_RSA_PKCS1_SHA256))
				continue;
			conn->cn_identity = id;
			conn->cn_own_sigscheme = 0;
			return 1;
		}
		for (j = 0; j < conn->cn_peer_sigscheme_count; j++) {
			uint16_t scheme = conn->cn_peer_sigschemes[j];

			if (ktls12_scheme_fits(scheme, kx) && server12_curve_offered(ch, scheme) &&
			    kc_pkey_can_sign(id->key, scheme)) {
				conn->cn_identity = id;
				conn->cn_own_sigscheme = scheme;
				return 1;
			}
		}
	}
	return 0;
}

static int server12_select(struct ktls_conn *conn, const struct client_hello12 *ch)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	size_t i;

	if (!ch->have_sigalgs)
		return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE,
				 "ClientHello without signature_algorithms");
	if (!cfg->cf_identity_count)
		return ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR, "server has no certificate");
	for (i = 0; i < cfg->cf_suite_count; i++) {
		const struct ktls_suite *s = cfg->cf_suites[i];

		if (s->version != KTLS_VERSION_TLS12 || !ktls_reader_has_u16(ch->suites, s->id) ||
		    !server12_pick_identity(conn, ch, s->kx))
			continue;
		conn->cn_suite = s;
		break;
	}
	if (!conn->cn_suite)
		return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE, "no cipher suite in common");
	if (conn->cn_suite->kx == KTLS_KX_RSA)
		return 0;	/* no group needed */
	for (i = 0; i < cfg->cf_group_count; i++) {
		if (ch->have_groups && ktls_reader_has_u16(ch->groups, cfg->cf_groups[i])) {
			conn->cn_group = ktls_group_by_id(cfg->cf_groups[i]);
			return 0;
		}
	}
	return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE, "no key exchange group in common");
}


static int server12_write_hello(struct ktls_conn *conn)
{
	struct ktls_buf *b = &conn->cn_flight;
	size_t msg, block;
	int ret;

	ktls_random(conn, conn->cn_server_random);
	/* RFC 8446 4.1.3: tell a TLS 1.3 client that it was not us who chose 1.2. */
	if (conn->cn_cfg->cf_max_version >= KTLS_VERSION_TLS13)
		memcpy(conn->cn_server_random + 24, ktls_downgrade_tls12, 8);
	/* An empty session id: nothing is cached for resumption. */
	if ((ret = ktls_msg_begin(b, KTLS_HS_SERVER_HELLO, &msg)) ||
	    (ret = ktls_buf_push_u16(b, KTLS_VERSION_TLS12)) ||
	    (ret = ktls_buf_push(b, conn->cn_server_random, 32)) ||
	    (ret = ktls_buf_push_u8(b, 0)) ||
	    (ret = ktls_buf_push_u16(b, conn->cn_suite->id)) ||
	    (ret = ktls_buf_push_u8(b, 0)) ||
	    (ret = ktls_buf_open_block(b, 2, &block)) ||
	    (ret = ktls12_write_hello_extensions(conn, b)))
		return ret;
	if ((ret = ktls_write_server_acks(conn, b)))
		return ret;
	if ((ret = ktls_buf_close_block(b, 2, block)))
		return ret;
	return ktls_msg_end(conn, b, msg);
}

/* ECDHE parameters signed with both randoms (RFC 8422 5.4). */
static int server12_write_server_key_exchange(struct ktls_conn *conn)
{
	uint8_t params[4 + KC_MAX_KEX_PUBLIC], tbs[64 + sizeof(params)], sig[KC_MAX_SIGNATURE];
	struct ktls_buf *b = &conn->cn_flight;
	size_t pub_len = KC_MAX_KEX_PUBLIC, sig_len = sizeof(sig), msg;
	int ret;

	ret = ktls_kex_generate(conn, conn->cn_group->id, params + 4, &pub_len);
	if (ret)
		return ret;
	params[0] = 3;	/* named_curve */
	params[1] = (uint8_t)(conn->cn_group->id >> 8);
	params[2] = (uint8_t)conn->cn_group->id;
	params[3] = (uint8_t)pub_len;
	memcpy(tbs, conn->cn_client_random, 32);
	memcpy(tbs + 32, conn->cn_server_random, 32);
	memcpy(tbs + 64, params, 4 + pub_len);
	if (conn->cn_hooks && conn->cn_hooks->sign)
		ret = conn->cn_hooks->sign(conn->cn_hooks->arg, conn->cn_own_sigscheme, tbs,
					   64 + 4 + pub_len, sig, &sig_len);
	else
		ret = kc_sign(conn->cn_identity->key, conn->cn_own_sigscheme, tbs,
			      64 + 4 + pub_len, sig, &sig_len);
	if (ret)
		return ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR, "signing failed");
	if ((ret = ktls_msg_begin(b, KTLS_HS_SERVER_KEY_EXCHANGE, &msg)) ||
	    (ret = ktls_buf_push(b, params, 4 + pub_len)) ||
	    (ret = ktls_buf_push_u16(b, conn->cn_own_sigscheme)) ||
	    (ret = ktls_buf_push_u16(b, (uint16_t)sig_len)) ||
	    (ret = ktls_buf_push(b, sig, sig_len)))
		return ret;
	return ktls_msg_end(conn, b, msg);
}

static int server12_write_certificate_request(struct ktls_conn *conn)
{
	/* rsa_sign, ecdsa_sign (RFC 5246 7.4.4, RFC 8422 5.5) */
	static const uint8_t types[] = { 1, 64 };
	struct ktls_buf *b = &conn->cn_flight;
	size_t msg;
	int ret;

	if ((ret = ktls_msg_begin(b, KTLS_HS_CERTIFICATE_REQUEST, &msg)) ||
	    (ret = ktls_buf_push_u8(b, sizeof(types))) ||
	    (ret = ktls_buf_push(b, types, sizeof(types))) ||
	    (ret = ktls_write_sigschemes(b, 0)) ||
	    (ret = ktls_buf_push_u16(b, 0)))	/* no certificate_authorities */
		return ret;
	return ktls_msg_end(conn, b, msg);
}

/* Called by server.c with a ClientHello that leads to TLS 1.2. */
int ktls_server12_handle_client_hello(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				      const uint8_t *msg, size_t len)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	int request_cert = conn->cn_verify != KTLS_VERIFY_NONE;
	struct client_hello12 ch = { 0 };
	size_t mark;
	int ret;

	if (cfg->cf_min_version > KTLS_VERSION_TLS12)
		return ktls_fail(conn, KTLS_ALERT_PROTOCOL_VERSION, "client does not offer TLS 1.3");
	if (conn->cn_did_hrr)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "second ClientHello falls back to TLS 1.2");
	kc_hash_free(conn->cn_transcript);
	conn->cn_transcript = NULL;
	conn->cn_suite = NULL;
	if ((ret = server12_parse_client_hello(conn, msg, len, &ch)))
		return ret;
	if (!ch.have_ems)
		return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE,
				 "client does not support extended_master_secret");
	if ((ret = server12_select(conn, &ch)) || (ret = ktls_select_alpn(conn, ch.alpn, ch.alpn_len)) ||
	    (ret = ktls12_transcript_begin(conn, msg, len)) ||
	    (ret = server12_write_hello(conn)) ||
	    (ret = ktls12_write_certificate(conn, conn->cn_identity)) ||
	    (conn->cn_suite->kx != KTLS_KX_RSA &&
	     (ret = server12_write_server_key_exchange(conn))) ||
	    (request_cert && (ret = server12_write_certificate_request(conn))) ||
	    (ret = ktls_msg_begin(&conn->cn_flight, KTLS_HS_SERVER_HELLO_DONE, &mark)) ||
	    (ret = ktls_msg_end(conn, &conn->cn_flight, mark)) ||
	    (ret = ktls_flush_flight(conn, sendbuf)))
		return ret;
	conn->cn_state = request_cert ? KTLS_STATE_SERVER12_EXPECT_CERTIFICATE :
					KTLS_STATE_SERVER12_EXPECT_CLIENT_KEY_EXCHANGE;
	return 0;
}

static int server12_handle_certificate(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	int ret = ktls12_handle_certificate(conn, msg, len);

	if (ret)
		return ret;
	if (conn->cn_peer_sent_empty_cert && conn->cn_verify == KTLS_VERIFY_REQUIRED)
		return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE, "client sent no certificate");
	conn->cn_state = KTLS_STATE_SERVER12_EXPECT_CLIENT_KEY_EXCHANGE;
	return 0;
}

/*
 * RSA key transport: whatever the decryption yields is the premaster
 * (RFC 5246 7.4.7.1); a bad one shows only as a Finished that does not
 * verify.
 */
static int server12_rsa_premaster(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	struct ktls_reader r, enc;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_block(&r, 2, 1, &enc)) || (ret = ktls_read_end(&r)))
		return ktls_fail(conn, ret, "malformed ClientKeyExchange");
	ret = kc_rsa_decrypt_premaster(conn->cn_identity->key, enc.pos, ktls_reader_left(&enc),
				       KTLS_VERSION_TLS12, conn->cn_premaster);
	if (ret)
		return ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR, "RSA decryption unavailable");
	conn->cn_premaster_len = KC_RSA_PREMASTER_LEN;
	return 0;
}

/* ECDHE: the client's public value against our ServerKeyExchange key (RFC 8422 5.7). */
static int server12_ecdhe_premaster(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	struct ktls_reader r, point;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_block(&r, 1, 1, &point)) || (ret = ktls_read_end(&r)))
		return ktls_fail(conn, ret, "malformed ClientKeyExchange");
	conn->cn_premaster_len = sizeof(conn->cn_premaster);
	ret = kc_kex_derive(conn->cn_kex, point.pos, ktls_reader_left(&point),
			    conn->cn_premaster, &conn->cn_premaster_len);
	kc_kex_free(conn->cn_kex);
	conn->cn_kex = NULL;
	if (ret)
		return ktls_fail(conn, ret, "bad ECDHE public value from the client");
	return 0;
}

static int server12_handle_client_key_exchange(struct ktls_conn *conn, const uint8_t *msg,
					       size_t len)
{
	int ret;

	if (conn->cn_suite->kx == KTLS_KX_RSA)
		ret = server12_rsa_premaster(conn, msg, len);
	else
		ret = server12_ecdhe_premaster(conn, msg, len);
	if (ret || (ret = ktls_transcript_add(conn, msg, len)) ||
	    (ret = ktls12_derive_master(conn)))
		return ret;
	conn->cn_state = conn->cn_peer_chain ? KTLS_STATE_SERVER12_EXPECT_CERTIFICATE_VERIFY :
					       KTLS_STATE_SERVER12_EXPECT_CCS;
	return 0;
}

static int server12_handle_finished(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				    const uint8_t *msg, size_t len)
{
	int ret = ktls12_handle_finished(conn, msg, len);

	if (!ret)
		ret = ktls12_send_ccs_finished(conn, sendbuf);
	if (ret)
		return ret;
	ktls_buf_dispose(&conn->cn_hs_log);
	conn->cn_state = KTLS_STATE_POST_HANDSHAKE;
	return 0;
}

int ktls_server12_handle_message(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				 const uint8_t *msg, size_t len)
{
	uint8_t type = msg[0];
	int ret;

	switch (conn->cn_state) {
	case KTLS_STATE_SERVER12_EXPECT_CERTIFICATE:
		if (type != KTLS_HS_CERTIFICATE)
			break;
		return server12_handle_certificate(conn, msg, len);
	case KTLS_STATE_SERVER12_EXPECT_CLIENT_KEY_EXCHANGE:
		if (type != KTLS_HS_CLIENT_KEY_EXCHANGE)
			break;
		return server12_handle_client_key_exchange(conn, msg, len);
	case KTLS_STATE_SERVER12_EXPECT_CERTIFICATE_VERIFY:
		if (type != KTLS_HS_CERTIFICATE_VERIFY)
			break;
		ret = ktls12_handle_certificate_verify(conn, msg, len);
		conn->cn_state = KTLS_STATE_SERVER12_EXPECT_CCS;
		return ret;
	case KTLS_STATE_SERVER12_EXPECT_FINISHED:
		if (type != KTLS_HS_FINISHED)
			break;
		return server12_handle_finished(conn, sendbuf, msg, len);
	case KTLS_STATE_SERVER12_EXPECT_CCS:
		break;
	default:
		return ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR, "server in state %d",
				 conn->cn_state);
	}
	return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
			 "unexpected handshake message %u", type);
}
