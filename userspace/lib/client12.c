// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The TLS 1.2 client (RFC 5246 7.3, ECDHE of RFC 8422), entered from
 * client.c when the ServerHello has no supported_versions. Each state
 * accepts exactly the next message of the full handshake; session
 * resumption and renegotiation are not offered.
 */
#include <string.h>

#include "ktls_int.h"

struct server_hello12 {
	int have_ems;
	int have_reneg;
};

static int client12_server_hello_ext(struct ktls_conn *conn, void *ctx, uint16_t type,
				     struct ktls_reader *body)
{
	struct server_hello12 *sh = ctx;
	struct ktls_reader list;
	uint8_t format;
	int uncompressed = 0;

	switch (type) {
	case KTLS_EXT_RENEGOTIATION_INFO:
		/* RFC 5746 3.4: on the initial handshake, empty. */
		if (ktls_read_block(body, 1, 0, &list) || ktls_reader_left(&list))
			return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE,
					 "non-empty renegotiation_info");
		sh->have_reneg = 1;
		return 0;
	case KTLS_EXT_EXTENDED_MASTER_SECRET:
		sh->have_ems = 1;
		return 0;
	case KTLS_EXT_EC_POINT_FORMATS:
		if (ktls_read_block(body, 1, 1, &list))
			return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR,
					 "malformed ec_point_formats");
		while (!ktls_read_u8(&list, &format))
			uncompressed |= format == 0;
		if (!uncompressed)
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
					 "server does not accept uncompressed points");
		return 0;
	case KTLS_EXT_ALPN:
		if (!conn->cn_alpn_list_len)
			break;
		return ktls_alpn_take_answer(conn, body);
	case KTLS_EXT_SERVER_NAME:
		if (!conn->cn_server_name || ktls_is_ip_literal(conn->cn_server_name))
			break;
		return 0;	/* empty acknowledgement */
	default:
		break;
	}
	return ktls_fail(conn, KTLS_ALERT_UNSUPPORTED_EXTENSION,
			 "unsolicited extension %u in ServerHello", type);
}

/* Called by client.c with a ServerHello that selects TLS 1.2. */
int ktls_client12_handle_server_hello(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	struct server_hello12 sh = { 0 };
	struct ktls_reader r, session_id, exts;
	const uint8_t *random;
	uint16_t version, suite_id;
	uint8_t compression;
	size_t i;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_u16(&r, &version)) ||
	    (ret = ktls_read_bytes(&r, 32, &random)) ||
	    (ret = ktls_read_block(&r, 1, 0, &session_id)) ||
	    (ret = ktls_read_u16(&r, &suite_id)) ||
	    (ret = ktls_read_u8(&r, &compression)))
		return ktls_fail(conn, ret, "malformed ServerHello");
	if (ktls_reader_left(&session_id) > 32)
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "malformed ServerHello");
	ktls_reader_init(&exts, NULL, 0);
	if (ktls_reader_left(&r) &&
	    ((ret = ktls_read_block(&r, 2, 0, &exts)) || (ret = ktls_read_end(&r))))
		return ktls_fail(conn, ret, "malformed ServerHello");
	if (version != KTLS_VERSION_TLS12 || !ktls12_client_offers(cfg))
		return ktls_fail(conn, KTLS_ALERT_PROTOCOL_VERSION,
				 "server does not speak TLS 1.3 (version 0x%04x)", version);
	/* RFC 8446 4.1.3: a TLS 1.3 server that answers 1.2 to us was fooled. */
	if (cfg->cf_max_version >= KTLS_VERSION_TLS13 &&
	    (!memcmp(random + 24, ktls_downgrade_tls12, 8) ||
	     !memcmp(random + 24, ktls_downgrade_tls11, 8)))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "downgrade sentinel in ServerHello.random");
	for (i = 0; i < cfg->cf_suite_count; i++)
		if (cfg->cf_suites[i]->id == suite_id &&
		    cfg->cf_suites[i]->version == KTLS_VERSION_TLS12)
			break;
	if (i == cfg->cf_suite_count)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "server selected cipher suite 0x%04x we did not offer", suite_id);
	if (compression)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "server selected compression method %u", compression);
	ret = ktls_for_each_extension(conn, &exts, client12_server_hello_ext, &sh);
	if (ret)
		return ret;
	if (!sh.have_ems)
		return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE,
				 "server does not support extended_master_secret");
	if (!sh.have_reneg)
		return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE,
				 "server does not support secure renegotiation");
	conn->cn_suite = cfg->cf_suites[i];
	conn->cn_group = NULL;	/* known from ServerKeyExchange, if any */
	memcpy(conn->cn_server_random, random, 32);
	/* The key_share we may have sent for TLS 1.3 is of no use now. */
	kc_kex_free(conn->cn_kex);
	conn->cn_kex = NULL;
	ret = ktls12_transcript_begin(conn, conn->cn_client_hello.base, conn->cn_client_hello.off);
	ktls_buf_dispose(&conn->cn_client_hello);
	if (!ret)
		ret = ktls_transcript_add(conn, msg, len);
	conn->cn_state = KTLS_STATE_CLIENT12_EXPECT_CERTIFICATE;
	return ret;
}

static int client12_handle_certificate(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	int ret = ktls12_handle_certificate(conn, msg, len);

	if (ret)
		return ret;
	if (conn->cn_peer_sent_empty_cert)
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "server sent no certificate");
	/* RSA key transport has no ServerKeyExchange: the certificate's key is used. */
	if (conn->cn_suite->kx == KTLS_KX_RSA) {
		if (!kc_chain_can_verify(conn->cn_peer_chain, KC_SIG_RSA_PKCS1_SHA256))
			return ktls_fail(conn, KTLS_ALERT_UNSUPPORTED_CERTIFICATE,
					 "RSA key transport with a certificate that is not RSA");
		conn->cn_state = KTLS_STATE_CLIENT12_EXPECT_CERTIFICATE_REQUEST_OR_DONE;
		return 0;
	}
	conn->cn_state = KTLS_STATE_CLIENT12_EXPECT_SERVER_KEY_EXCHANGE;
	return 0;
}

/* ClientKeyExchange for RSA key transport (RFC 5246 7.4.7.1). */
static int client12_write_rsa_key_exchange(struct ktls_conn *conn)
{
	uint8_t enc[KC_MAX_SIGNATURE];
	struct ktls_buf *b = &conn->cn_flight;
	size_t enc_len = sizeof(enc), mark;
	int ret;

	/* client_version of our ClientHello, then 46 random bytes. */
	conn->cn_premaster[0] = 0x03;
	conn->cn_premaster[1] = 0x03;
	conn->cn_premaster_len = KC_RSA_PREMASTER_LEN;
	if (kc_random(conn->cn_premaster + 2, KC_RSA_PREMASTER_LEN - 2))
		return KTLS_ERROR_LIBRARY;
	ret = kc_rsa_encrypt(conn->cn_peer_chain, conn->cn_premaster, KC_RSA_PREMASTER_LEN,
			     enc, &enc_len);
	if (ret)
		return ktls_fail(conn, ret, "cannot encrypt to the server's key");
	if ((ret = ktls_msg_begin(b, KTLS_HS_CLIENT_KEY_EXCHANGE, &mark)) ||
	    (ret = ktls_buf_push_u16(b, (uint16_t)enc_len)) ||
	    (ret = ktls_buf_push(b, enc, enc_len)))
		return ret;
	return ktls_msg_end(conn, b, mark);
}

/* ClientKeyExchange for ECDHE: our public value (RFC 8422 5.7). */
static int client12_write_ecdhe_key_exchange(struct ktls_conn *conn)
{
	struct ktls_buf *b = &conn->cn_flight;
	size_t mark;
	int ret;

	if ((ret = ktls_msg_begin(b, KTLS_HS_CLIENT_KEY_EXCHANGE, &mark)) ||
	    (ret = ktls_buf_push_u8(b, (uint8_t)conn->cn_kex_pub_len)) ||
	    (ret = ktls_buf_push(b, conn->cn_kex_pub, conn->cn_kex_pub_len)))
		return ret;
	return ktls_msg_end(conn, b, mark);
}

/* 1 if @id is a group our ClientHello offered. */
static int client12_offered_group(const struct ktls_config *cfg, uint16_t id)
{
	size_t i;

	for (i = 0; i < cfg->cf_group_count; i++)
		if (cfg->cf_groups[i] == id)
			return 1;
	return 0;
}

/* ServerKeyExchange for ECDHE (RFC 8422 5.4), signed over both randoms and the params. */
static int client12_handle_server_key_exchange(struct ktls_conn *conn, const uint8_t *msg,
					       size_t len)
{
	uint8_t tbs[64 + 4 + 255];
	struct ktls_reader r, point, sig;
	const uint8_t *params = msg + 4;
	const struct ktls_sigscheme *scheme;
	size_t params_len, pub_len = sizeof(conn->cn_kex_pub);
	uint16_t group, scheme_id;
	uint8_t curve_type;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_u8(&r, &curve_type)) ||
	    (ret = ktls_read_u16(&r, &group)) ||
	    (ret = ktls_read_block(&r, 1, 1, &point)))
		return ktls_fail(conn, ret, "malformed ServerKeyExchange");
	params_len = (size_t)(r.pos - params);
	if ((ret = ktls_read_u16(&r, &scheme_id)) ||
	    (ret = ktls_read_block(&r, 2, 1, &sig)) ||
	    (ret = ktls_read_end(&r)))
		return ktls_fail(conn, ret, "malformed ServerKeyExchange");
	if (curve_type != 3 || !client12_offered_group(conn->cn_cfg, group))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "ServerKeyExchange for a group we did not offer (0x%04x)", group);
	scheme = ktls_sigscheme_by_id(scheme_id);
	if (!scheme || !ktls12_scheme_fits(scheme_id, conn->cn_suite->kx))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "ServerKeyExchange signed with scheme 0x%04x", scheme_id);
	memcpy(tbs, conn->cn_client_random, 32);
	memcpy(tbs + 32, conn->cn_server_random, 32);
	memcpy(tbs + 64, params, params_len);
	ret = kc_verify_tls12(conn->cn_peer_chain, scheme_id, tbs, 64 + params_len, sig.pos,
			ktls_reader_left(&sig));
	if (ret)
		return ktls_fail(conn, ret, "ServerKeyExchange signature (%s) does not verify",
				 scheme->name);
	conn->cn_peer_sigscheme = scheme_id;
	conn->cn_group = ktls_group_by_id(group);
	ret = ktls_kex_generate(conn, group, conn->cn_kex_pub, &pub_len);
	if (ret)
		return ret;
	conn->cn_kex_pub_len = pub_len;
	conn->cn_premaster_len = sizeof(conn->cn_premaster);
	ret = kc_kex_derive(conn->cn_kex, point.pos, ktls_reader_left(&point),
			    conn->cn_premaster, &conn->cn_premaster_len);
	kc_kex_free(conn->cn_kex);
	conn->cn_kex = NULL;
	if (ret)
		return ktls_fail(conn, ret, "bad ECDHE public value from the server");
	conn->cn_state = KTLS_STATE_CLIENT12_EXPECT_CERTIFICATE_REQUEST_OR_DONE;
	return ktls_transcript_add(conn, msg, len);
}

static int client12_handle_certificate_request(struct ktls_conn *conn, const uint8_t *msg,
					       size_t len)
{
	struct ktls_reader r, types, cas;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_block(&r, 1, 1, &types)))
		return ktls_fail(conn, ret, "malformed CertificateRequest");
	ret = ktls_read_sigschemes(conn, &r);
	if (ret)
		return ret;
	/* certificate_authorities is advisory. */
	if ((ret = ktls_read_block(&r, 2, 0, &cas)) || (ret = ktls_read_end(&r)))
		return ktls_fail(conn, ret, "malformed CertificateRequest");
	conn->cn_cert_requested = 1;
	conn->cn_state = KTLS_STATE_CLIENT12_EXPECT_SERVER_HELLO_DONE;
	return ktls_transcript_add(conn, msg, len);
}

/* The first of the server's schemes one of our identities can sign with. */
static const struct ktls_identity *client12_pick_identity(struct ktls_conn *conn,
							  uint16_t *scheme)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	size_t i, j;

	for (i = 0; i < conn->cn_peer_sigscheme_count; i++) {
		uint16_t id = conn->cn_peer_sigschemes[i];

		for (j = 0; j < cfg->cf_identity_count; j++) {
			if (kc_pkey_can_sign(cfg->cf_identities[j].key, id)) {
				*scheme = id;
				return &cfg->cf_identities[j];
			}
		}
	}
	return NULL;
}

static int client12_handle_server_hello_done(struct ktls_conn *conn, struct ktls_buf *sendbuf,
					     const uint8_t *msg, size_t len)
{
	const struct ktls_identity *id = NULL;
	uint16_t scheme = 0;
	int ret;

	if (len != 4)
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "malformed ServerHelloDone");
	ret = ktls_transcript_add(conn, msg, len);
	if (ret)
		return ret;
	if (conn->cn_cert_requested) {
		id = client12_pick_identity(conn, &scheme);
		if ((ret = ktls12_write_certificate(conn, id)))
			return ret;
	}
	if (conn->cn_suite->kx == KTLS_KX_RSA)
		ret = client12_write_rsa_key_exchange(conn);
	else
		ret = client12_write_ecdhe_key_exchange(conn);
	if (!ret)
		ret = ktls12_derive_master(conn);
	if (ret)
		return ret;
	if (id && (ret = ktls12_write_certificate_verify(conn, id, scheme)))
		return ret;
	conn->cn_identity = id;
	ret = ktls12_send_ccs_finished(conn, sendbuf);
	conn->cn_state = KTLS_STATE_CLIENT12_EXPECT_CCS;
	return ret;
}

static int client12_handle_finished(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	int ret = ktls12_handle_finished(conn, msg, len);

	if (ret)
		return ret;
	ktls_buf_dispose(&conn->cn_hs_log);
	conn->cn_state = KTLS_STATE_POST_HANDSHAKE;
	return 0;
}

int ktls_client12_handle_message(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				 const uint8_t *msg, size_t len)
{
	uint8_t type = msg[0];

	switch (conn->cn_state) {
	case KTLS_STATE_CLIENT12_EXPECT_CERTIFICATE:
		if (type != KTLS_HS_CERTIFICATE)
			break;
		return client12_handle_certificate(conn, msg, len);
	case KTLS_STATE_CLIENT12_EXPECT_SERVER_KEY_EXCHANGE:
		if (type != KTLS_HS_SERVER_KEY_EXCHANGE)
			break;
		return client12_handle_server_key_exchange(conn, msg, len);
	case KTLS_STATE_CLIENT12_EXPECT_CERTIFICATE_REQUEST_OR_DONE:
		if (type == KTLS_HS_CERTIFICATE_REQUEST)
			return client12_handle_certificate_request(conn, msg, len);
		/* fall through */
	case KTLS_STATE_CLIENT12_EXPECT_SERVER_HELLO_DONE:
		if (type != KTLS_HS_SERVER_HELLO_DONE)
			break;
		return client12_handle_server_hello_done(conn, sendbuf, msg, len);
	case KTLS_STATE_CLIENT12_EXPECT_FINISHED:
		if (type != KTLS_HS_FINISHED)
			break;
		return client12_handle_finished(conn, msg, len);
	case KTLS_STATE_CLIENT12_EXPECT_CCS:
		break;	/* a handshake message where ChangeCipherSpec belongs */
	default:
		return ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR, "client in state %d",
				 conn->cn_state);
	}
	if (type == KTLS_HS_HELLO_REQUEST)
		return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
				 "HelloRequest during the handshake");
	return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
			 "unexpected handshake message %u", type);
}
