// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The TLS 1.3 client state machine. ktls_client_handle_message() is the
 * only dispatcher: each state accepts exactly the messages RFC 8446
 * allows next, and anything else is unexpected_message.
 */
#include <string.h>

#include "ktls_int.h"

/* Extensions our ClientHello can carry; a server may only answer these. */
static int client_offered(const struct ktls_conn *conn, uint16_t type)
{
	switch (type) {
	case KTLS_EXT_SERVER_NAME:
		return conn->cn_server_name && !ktls_is_ip_literal(conn->cn_server_name);
	case KTLS_EXT_ALPN:
		return conn->cn_alpn_list_len != 0;
	case KTLS_EXT_COOKIE:
		return conn->cn_cookie.off != 0;
	case KTLS_EXT_SUPPORTED_GROUPS:
	case KTLS_EXT_SIGNATURE_ALGORITHMS:
	case KTLS_EXT_SIGNATURE_ALGORITHMS_CERT:
	case KTLS_EXT_KEY_SHARE:
	case KTLS_EXT_SUPPORTED_VERSIONS:
		return 1;
	default:
		return 0;
	}
}

static int client_unexpected_extension(struct ktls_conn *conn, uint16_t type, const char *msg)
{
	if (client_offered(conn, type))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "extension %u not allowed in %s", type, msg);
	return ktls_fail(conn, KTLS_ALERT_UNSUPPORTED_EXTENSION,
			 "unsolicited extension %u in %s", type, msg);
}

static int client_write_hello_extensions(struct ktls_conn *conn, struct ktls_buf *b)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	uint8_t pub[KC_MAX_KEX_PUBLIC];
	size_t pub_len, ext, list, i;
	int ret;

	if (client_offered(conn, KTLS_EXT_SERVER_NAME)) {
		size_t name_len = strlen(conn->cn_server_name);

		if ((ret = ktls_ext_begin(b, KTLS_EXT_SERVER_NAME, &ext)) ||
		    (ret = ktls_buf_open_block(b, 2, &list)) ||
		    (ret = ktls_buf_push_u8(b, 0)) ||	/* host_name */
		    (ret = ktls_buf_push_u16(b, (uint16_t)name_len)) ||
		    (ret = ktls_buf_push(b, conn->cn_server_name, name_len)) ||
		    (ret = ktls_buf_close_block(b, 2, list)) ||
		    (ret = ktls_ext_end(b, ext)))
			return ret;
	}
	if ((ret = ktls_ext_begin(b, KTLS_EXT_SUPPORTED_GROUPS, &ext)) ||
	    (ret = ktls_buf_open_block(b, 2, &list)))
		return ret;
	for (i = 0; i < cfg->cf_group_count; i++)
		if ((ret = ktls_buf_push_u16(b, cfg->cf_groups[i])))
			return ret;
	/* TLS 1.2 peers may sign with PKCS#1 v1.5 (RFC 8446 4.2.3). */
	if ((ret = ktls_buf_close_block(b, 2, list)) ||
	    (ret = ktls_ext_end(b, ext)) ||
	    (ret = ktls_ext_begin(b, KTLS_EXT_SIGNATURE_ALGORITHMS, &ext)) ||
	    (ret = ktls_write_sigschemes(b, !ktls12_client_offers(cfg))) ||
	    (ret = ktls_ext_end(b, ext)) ||
	    (ret = ktls_ext_begin(b, KTLS_EXT_SIGNATURE_ALGORITHMS_CERT, &ext)) ||
	    (ret = ktls_write_sigschemes(b, 0)) ||
	    (ret = ktls_ext_end(b, ext)))
		return ret;
	if (conn->cn_alpn_list_len &&
	    ((ret = ktls_ext_begin(b, KTLS_EXT_ALPN, &ext)) ||
	     (ret = ktls_buf_push_u16(b, (uint16_t)conn->cn_alpn_list_len)) ||
	     (ret = ktls_buf_push(b, conn->cn_alpn_list, conn->cn_alpn_list_len)) ||
	     (ret = ktls_ext_end(b, ext))))
		return ret;
	if (cfg->cf_max_version >= KTLS_VERSION_TLS13) {
		ret = ktls_kex_generate(conn, conn->cn_group->id, pub, &pub_len);
		if (ret)
			return ret;
		if ((ret = ktls_ext_begin(b, KTLS_EXT_KEY_SHARE, &ext)) ||
		    (ret = ktls_buf_open_block(b, 2, &list)) ||
		    (ret = ktls_buf_push_u16(b, conn->cn_group->id)) ||
		    (ret = ktls_buf_push_u16(b, (uint16_t)pub_len)) ||
		    (ret = ktls_buf_push(b, pub, pub_len)) ||
		    (ret = ktls_buf_close_block(b, 2, list)) ||
		    (ret = ktls_ext_end(b, ext)))
			return ret;
	}
	if ((ret = ktls_ext_begin(b, KTLS_EXT_SUPPORTED_VERSIONS, &ext)) ||
	    (ret = ktls_buf_open_block(b, 1, &list)) ||
	    (cfg->cf_max_version >= KTLS_VERSION_TLS13 &&
	     (ret = ktls_buf_push_u16(b, KTLS_VERSION_TLS13))) ||
	    (ktls12_client_offers(cfg) && (ret = ktls_buf_push_u16(b, KTLS_VERSION_TLS12))) ||
	    (ret = ktls_buf_close_block(b, 1, list)) ||
	    (ret = ktls_ext_end(b, ext)))
		return ret;
	if (ktls12_client_offers(cfg) && (ret = ktls12_write_hello_extensions(conn, b)))
		return ret;
	if (conn->cn_cookie.off &&
	    ((ret = ktls_ext_begin(b, KTLS_EXT_COOKIE, &ext)) ||
	     (ret = ktls_buf_push_u16(b, (uint16_t)conn->cn_cookie.off)) ||
	     (ret = ktls_buf_push(b, conn->cn_cookie.base, conn->cn_cookie.off)) ||
	     (ret = ktls_ext_end(b, ext))))
		return ret;
	return 0;
}

static int client_send_hello(struct ktls_conn *conn, struct ktls_buf *sendbuf)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	struct ktls_buf *b = &conn->cn_flight;
	size_t msg, block, i;
	int ret;

	if ((ret = ktls_msg_begin(b, KTLS_HS_CLIENT_HELLO, &msg)) ||
	    (ret = ktls_buf_push_u16(b, KTLS_VERSION_TLS12)) ||
	    (ret = ktls_buf_push(b, conn->cn_client_random, 32)) ||
	    (ret = ktls_buf_push_u8(b, conn->cn_session_id_len)) ||
	    (ret = ktls_buf_push(b, conn->cn_session_id, conn->cn_session_id_len)) ||
	    (ret = ktls_buf_open_block(b, 2, &block)))
		return ret;
	for (i = 0; i < cfg->cf_suite_count; i++) {
		const struct ktls_suite *s = cfg->cf_suites[i];

		if (s->version < cfg->cf_min_version || s->version > cfg->cf_max_version)
			continue;
		if ((ret = ktls_buf_push_u16(b, s->id)))
			return ret;
	}
	if ((ret = ktls_buf_close_block(b, 2, block)) ||
	    (ret = ktls_buf_push_u8(b, 1)) ||
	    (ret = ktls_buf_push_u8(b, 0)) ||	/* null compression only */
	    (ret = ktls_buf_open_block(b, 2, &block)) ||
	    (ret = client_write_hello_extensions(conn, b)) ||
	    (ret = ktls_buf_close_block(b, 2, block)) ||
	    (ret = ktls_msg_end(conn, b, msg)))
		return ret;
	return ktls_flush_flight(conn, sendbuf);
}

int ktls_client_start(struct ktls_conn *conn, struct ktls_buf *sendbuf)
{
	const struct ktls_config *cfg = conn->cn_cfg;

	if (!cfg->cf_suite_count || !cfg->cf_group_count)
		return ktls_fail(conn, KTLS_ERROR_CONFIG, "no cipher suite or group configured");
	ktls_random(conn, conn->cn_client_random);
	if (cfg->cf_middlebox_compat) {
		conn->cn_session_id_len = 32;
		if (kc_random(conn->cn_session_id, 32))
			return KTLS_ERROR_LIBRARY;
	}
	conn->cn_group = ktls_group_by_id(cfg->cf_groups[0]);
	conn->cn_state = KTLS_STATE_CLIENT_EXPECT_SERVER_HELLO;
	return client_send_hello(conn, sendbuf);
}

struct server_hello_exts {
	int have_version;
	uint16_t version;
	int have_key_share;
	uint16_t group;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *cookie;
	size_t cookie_len;
	int is_hrr;
	uint16_t tls12_ext;	/* an extension only TLS 1.2 may answer */
};

static int client_server_hello_ext(struct ktls_conn *conn, void *ctx, uint16_t type,
				   struct ktls_reader *body)
{
	struct server_hello_exts *sh = ctx;
	struct ktls_reader key, cookie;
	int ret;

	switch (type) {
	case KTLS_EXT_SUPPORTED_VERSIONS:
		sh->have_version = 1;
		ret = ktls_read_u16(body, &sh->version);
		break;
	case KTLS_EXT_KEY_SHARE:
		sh->have_key_share = 1;
		ret = ktls_read_u16(body, &sh->group);
		if (ret || sh->is_hrr)
			break;	/* HRR carries only the selected group */
		ret = ktls_read_block(body, 2, 1, &key);
		sh->key = key.pos;
		sh->key_len = ktls_reader_left(&key);
		break;
	case KTLS_EXT_COOKIE:
		if (!sh->is_hrr)
			return client_unexpected_extension(conn, type, "ServerHello");
		ret = ktls_read_block(body, 2, 1, &cookie);
		sh->cookie = cookie.pos;
		sh->cookie_len = ktls_reader_left(&cookie);
		break;
	default:
		/* A TLS 1.2 ServerHello is parsed again by client12.c. */
		if (!sh->is_hrr && ktls12_client_offers(conn->cn_cfg)) {
			sh->tls12_ext = type;
			body->pos = body->end;
			return 0;
		}
		return client_unexpected_extension(conn, type,
						   sh->is_hrr ? "HelloRetryRequest" : "ServerHello");
	}
	if (ret)
		return ktls_fail(conn, ret, "malformed extension %u in ServerHello", type);
	return 0;
}

/* Replaces ClientHello1 in the transcript by its hash (RFC 8446 4.4.1). */
static int client_transcript_after_hrr(struct ktls_conn *conn, const uint8_t *hrr, size_t len)
{
	uint8_t synthetic[4 + KC_MAX_DIGEST];
	size_t size = kc_hash_size(conn->cn_suite->hash);
	int ret;

	synthetic[0] = KTLS_HS_MESSAGE_HASH;
	synthetic[1] = 0;
	synthetic[2] = 0;
	synthetic[3] = (uint8_t)size;
	ret = kc_hash_oneshot(conn->cn_suite->hash, conn->cn_client_hello.base,
			      conn->cn_client_hello.off, synthetic + 4);
	if (!ret)
		ret = ktls_transcript_start(conn);
	if (!ret)
		ret = ktls_transcript_add(conn, synthetic, 4 + size);
	if (!ret)
		ret = ktls_transcript_add(conn, hrr, len);
	ktls_buf_dispose(&conn->cn_client_hello);
	return ret;
}

static int client_handle_hello_retry(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				     const struct server_hello_exts *sh,
				     const uint8_t *msg, size_t len)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	int ret;
	size_t i;

	if (conn->cn_did_hrr)
		return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE, "second HelloRetryRequest");
	if (sh->have_key_share) {
		for (i = 0; i < cfg->cf_group_count; i++)
			if (cfg->cf_groups[i] == sh->group)
				break;
		if (i == cfg->cf_group_count || sh->group == conn->cn_group->id)
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
					 "HelloRetryRequest selects group 0x%04x", sh->group);
		conn->cn_group = ktls_group_by_id(sh->group);
	} else if (!sh->cookie) {
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "HelloRetryRequest that would change nothing");
	}
	if (sh->cookie &&
	    (ret = ktls_buf_push(&conn->cn_cookie, sh->cookie, sh->cookie_len)))
		return ret;
	ret = client_transcript_after_hrr(conn, msg, len);
	if (ret)
		return ret;
	conn->cn_did_hrr = 1;
	conn->cn_state = KTLS_STATE_CLIENT_EXPECT_SECOND_SERVER_HELLO;
	if (cfg->cf_middlebox_compat && (ret = ktls_send_ccs(conn, sendbuf)))
		return ret;
	return client_send_hello(conn, sendbuf);
}

static int client_handle_server_hello(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				      const uint8_t *msg, size_t len)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	struct server_hello_exts sh = { 0 };
	struct ktls_reader r, session_id, exts;
	const uint8_t *random;
	uint8_t shared[KC_MAX_KEX_SECRET], compression;
	size_t shared_len = sizeof(shared), i;
	uint16_t legacy_version, suite_id;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_u16(&r, &legacy_version)) ||
	    (ret = ktls_read_bytes(&r, 32, &random)) ||
	    (ret = ktls_read_block(&r, 1, 0, &session_id)) ||
	    (ret = ktls_read_u16(&r, &suite_id)) ||
	    (ret = ktls_read_u8(&r, &compression)))
		return ktls_fail(conn, ret, "malformed ServerHello");
	sh.is_hrr = !memcmp(random, ktls_hrr_random, 32);
	/* A TLS 1.2 ServerHello may end without an extension block. */
	if (ktls_reader_left(&r)) {
		if ((ret = ktls_read_block(&r, 2, 0, &exts)) || (ret = ktls_read_end(&r)))
			return ktls_fail(conn, ret, "malformed ServerHello");
		ret = ktls_for_each_extension(conn, &exts, client_server_hello_ext, &sh);
		if (ret)
			return ret;
	}
	if (!sh.have_version && ktls12_client_offers(cfg) && !sh.is_hrr && !conn->cn_did_hrr)
		return ktls_client12_handle_server_hello(conn, msg, len);
	if (sh.tls12_ext)
		return client_unexpected_extension(conn, sh.tls12_ext, "ServerHello");
	if (!sh.have_version) {
		if (!memcmp(random + 24, ktls_downgrade_tls12, 8) ||
		    !memcmp(random + 24, ktls_downgrade_tls11, 8))
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
					 "downgrade sentinel in ServerHello.random");
		return ktls_fail(conn, KTLS_ALERT_PROTOCOL_VERSION,
				 "server does not speak TLS 1.3 (version 0x%04x)", legacy_version);
	}
	if (sh.version != KTLS_VERSION_TLS13 || legacy_version != KTLS_VERSION_TLS12 ||
	    cfg->cf_max_version < KTLS_VERSION_TLS13)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "server selected version 0x%04x we did not offer", sh.version);
	if (ktls_reader_left(&session_id) != conn->cn_session_id_len ||
	    memcmp(session_id.pos, conn->cn_session_id, conn->cn_session_id_len))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "ServerHello does not echo our session id");
	if (compression)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "server selected compression method %u", compression);
	for (i = 0; i < cfg->cf_suite_count; i++)
		if (cfg->cf_suites[i]->id == suite_id &&
		    cfg->cf_suites[i]->version == KTLS_VERSION_TLS13)
			break;
	if (i == cfg->cf_suite_count || (conn->cn_suite && conn->cn_suite->id != suite_id))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "server selected cipher suite 0x%04x we did not offer", suite_id);
	conn->cn_suite = cfg->cf_suites[i];
	memcpy(conn->cn_server_random, random, 32);
	conn->cn_version = KTLS_VERSION_TLS13;

	if (sh.is_hrr)
		return client_handle_hello_retry(conn, sendbuf, &sh, msg, len);

	if (!sh.have_key_share)
		return ktls_fail(conn, KTLS_ALERT_MISSING_EXTENSION, "ServerHello without key_share");
	if (sh.group != conn->cn_group->id)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "ServerHello key_share for group 0x%04x we did not send", sh.group);
	ret = kc_kex_derive(conn->cn_kex, sh.key, sh.key_len, shared, &shared_len);
	kc_kex_free(conn->cn_kex);
	conn->cn_kex = NULL;
	if (ret) {
		ret = ktls_fail(conn, ret, "bad key_share from the server");
		goto out;
	}
	if (!conn->cn_transcript) {
		ret = ktls_transcript_start(conn);
		if (!ret)
			ret = ktls_transcript_add(conn, conn->cn_client_hello.base,
						  conn->cn_client_hello.off);
		ktls_buf_dispose(&conn->cn_client_hello);
		if (ret)
			goto out;
	}
	ret = ktls_transcript_add(conn, msg, len);
	if (!ret)
		ret = ktls_derive_handshake_secrets(conn, shared, shared_len);
	conn->cn_state = KTLS_STATE_CLIENT_EXPECT_ENCRYPTED_EXTENSIONS;
out:
	kc_cleanse(shared, sizeof(shared));
	return ret;
}

static int client_encrypted_ext(struct ktls_conn *conn, void *ctx, uint16_t type,
				struct ktls_reader *body)
{
	switch (type) {
	case KTLS_EXT_ALPN:
		if (!conn->cn_alpn_list_len)
			break;
		return ktls_alpn_take_answer(conn, body);
	case KTLS_EXT_SERVER_NAME:
		if (!client_offered(conn, type))
			break;
		return 0;	/* empty acknowledgement */
	case KTLS_EXT_SUPPORTED_GROUPS:
		body->pos = body->end;	/* the server's preferences: informational */
		return 0;
	default:
		break;
	}
	return client_unexpected_extension(conn, type, "EncryptedExtensions");
}

static int client_handle_encrypted_extensions(struct ktls_conn *conn, const uint8_t *msg,
					      size_t len)
{
	struct ktls_reader r, exts;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_block(&r, 2, 0, &exts)) || (ret = ktls_read_end(&r)))
		return ktls_fail(conn, ret, "malformed EncryptedExtensions");
	ret = ktls_for_each_extension(conn, &exts, client_encrypted_ext, NULL);
	if (ret)
		return ret;
	conn->cn_state = KTLS_STATE_CLIENT_EXPECT_CERTIFICATE_REQUEST_OR_CERTIFICATE;
	return ktls_transcript_add(conn, msg, len);
}

static int client_certificate_request_ext(struct ktls_conn *conn, void *ctx, uint16_t type,
					  struct ktls_reader *body)
{
	int *have_sigalgs = ctx;

	if (type == KTLS_EXT_SIGNATURE_ALGORITHMS) {
		*have_sigalgs = 1;
		return ktls_read_sigschemes(conn, body);
	}
	body->pos = body->end;	/* others (certificate_authorities, ...) are advisory */
	return 0;
}

static int client_handle_certificate_request(struct ktls_conn *conn, const uint8_t *msg,
					     size_t len)
{
	struct ktls_reader r, ctx, exts;
	int have_sigalgs = 0, ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_block(&r, 1, 0, &ctx)) ||
	    (ret = ktls_read_block(&r, 2, 2, &exts)) ||
	    (ret = ktls_read_end(&r)))
		return ktls_fail(conn, ret, "malformed CertificateRequest");
	/* In the handshake the context is empty (RFC 8446 4.3.2). */
	if (ktls_reader_left(&ctx))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "CertificateRequest with a context in the handshake");
	ret = ktls_for_each_extension(conn, &exts, client_certificate_request_ext, &have_sigalgs);
	if (ret)
		return ret;
	if (!have_sigalgs)
		return ktls_fail(conn, KTLS_ALERT_MISSING_EXTENSION,
				 "CertificateRequest without signature_algorithms");
	conn->cn_cert_requested = 1;
	conn->cn_state = KTLS_STATE_CLIENT_EXPECT_CERTIFICATE;
	return ktls_transcript_add(conn, msg, len);
}

static int client_handle_certificate(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	int ret = ktls_handle_certificate(conn, msg, len);

	if (ret)
		return ret;
	if (conn->cn_peer_sent_empty_cert)
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "server sent no certificate");
	conn->cn_state = KTLS_STATE_CLIENT_EXPECT_CERTIFICATE_VERIFY;
	return 0;
}

/* The first of the server's schemes one of our identities can sign with. */
static const struct ktls_identity *client_pick_identity(struct ktls_conn *conn, uint16_t *scheme)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	const struct ktls_sigscheme *info;
	size_t i, j;

	for (i = 0; i < conn->cn_peer_sigscheme_count; i++) {
		info = ktls_sigscheme_by_id(conn->cn_peer_sigschemes[i]);
		if (!info || !info->tls13_handshake)
			continue;
		for (j = 0; j < cfg->cf_identity_count; j++) {
			if (kc_pkey_can_sign(cfg->cf_identities[j].key, info->id)) {
				*scheme = info->id;
				return &cfg->cf_identities[j];
			}
		}
	}
	return NULL;
}

static int client_handle_finished(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				  const uint8_t *msg, size_t len)
{
	uint8_t client_ap[KC_MAX_DIGEST], server_ap[KC_MAX_DIGEST];
	const struct ktls_identity *id = NULL;
	uint16_t scheme = 0;
	int ret;

	ret = ktls_handle_finished(conn, msg, len);
	if (ret)
		return ret;
	ret = ktls_derive_application_secrets(conn, client_ap, server_ap);
	if (ret)
		goto out;
	if (conn->cn_cfg->cf_middlebox_compat && (ret = ktls_send_ccs(conn, sendbuf)))
		goto out;
	if (conn->cn_cert_requested) {
		id = client_pick_identity(conn, &scheme);
		ret = ktls_write_certificate(conn, id);
		if (!ret && id)
			ret = ktls_write_certificate_verify(conn, id, scheme);
		if (ret)
			goto out;
	}
	ret = ktls_write_finished(conn);
	if (!ret)
		ret = ktls_flush_flight(conn, sendbuf);
	if (!ret)
		ret = ktls_protection_set(&conn->cn_tx, conn->cn_suite, client_ap, 1);
	if (!ret)
		ret = ktls_protection_set(&conn->cn_rx, conn->cn_suite, server_ap, 0);
	conn->cn_rx_key_changed = 1;
	conn->cn_identity = id;
	conn->cn_state = KTLS_STATE_POST_HANDSHAKE;
out:
	kc_cleanse(client_ap, sizeof(client_ap));
	kc_cleanse(server_ap, sizeof(server_ap));
	return ret;
}

int ktls_client_handle_message(struct ktls_conn *conn, struct ktls_buf *sendbuf,
			       const uint8_t *msg, size_t len)
{
	uint8_t type = msg[0];

	if (conn->cn_version == KTLS_VERSION_TLS12)
		return ktls_client12_handle_message(conn, sendbuf, msg, len);
	switch (conn->cn_state) {
	case KTLS_STATE_CLIENT_EXPECT_SERVER_HELLO:
	case KTLS_STATE_CLIENT_EXPECT_SECOND_SERVER_HELLO:
		if (type != KTLS_HS_SERVER_HELLO)
			break;
		return client_handle_server_hello(conn, sendbuf, msg, len);
	case KTLS_STATE_CLIENT_EXPECT_ENCRYPTED_EXTENSIONS:
		if (type != KTLS_HS_ENCRYPTED_EXTENSIONS)
			break;
		return client_handle_encrypted_extensions(conn, msg, len);
	case KTLS_STATE_CLIENT_EXPECT_CERTIFICATE_REQUEST_OR_CERTIFICATE:
		if (type == KTLS_HS_CERTIFICATE_REQUEST)
			return client_handle_certificate_request(conn, msg, len);
		/* fall through */
	case KTLS_STATE_CLIENT_EXPECT_CERTIFICATE:
		if (type != KTLS_HS_CERTIFICATE)
			break;
		return client_handle_certificate(conn, msg, len);
	case KTLS_STATE_CLIENT_EXPECT_CERTIFICATE_VERIFY:
		if (type != KTLS_HS_CERTIFICATE_VERIFY)
			break;
		conn->cn_state = KTLS_STATE_CLIENT_EXPECT_FINISHED;
		return ktls_handle_certificate_verify(conn, msg, len);
	case KTLS_STATE_CLIENT_EXPECT_FINISHED:
		if (type != KTLS_HS_FINISHED)
			break;
		return client_handle_finished(conn, sendbuf, msg, len);
	default:
		return ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR, "client in state %d",
				 conn->cn_state);
	}
	return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
			 "unexpected handshake message %u", type);
}
