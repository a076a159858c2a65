// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The TLS 1.3 server state machine. The server answers one ClientHello
 * (or two, around one HelloRetryRequest) with its whole flight at once:
 * ServerHello, then EncryptedExtensions, CertificateRequest, Certificate,
 * CertificateVerify and Finished coalesced into as few records as fit.
 */
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"

struct client_hello {
	const uint8_t *session_id;
	size_t session_id_len;
	struct ktls_reader suites;
	int offers_tls13;
	int have_versions;
	int have_groups;
	struct ktls_reader groups;
	int have_key_share;
	struct ktls_reader shares;
	int have_sigalgs;
	const uint8_t *alpn;
	size_t alpn_len;
	const uint8_t *cookie;
	size_t cookie_len;
	int after_psk;		/* pre_shared_key must be the last extension */
};

static int server_read_server_name(struct ktls_conn *conn, struct ktls_reader *body)
{
	struct ktls_reader list, name;
	uint8_t type;

	if (ktls_read_block(body, 2, 1, &list))
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "malformed server_name");
	while (ktls_reader_left(&list)) {
		if (ktls_read_u8(&list, &type) || ktls_read_block(&list, 2, 1, &name))
			return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "malformed server_name");
		if (type != 0 || conn->cn_server_name)
			continue;
		if (memchr(name.pos, 0, ktls_reader_left(&name)))
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
					 "server_name with a NUL byte");
		conn->cn_server_name = strndup((const char *)name.pos, ktls_reader_left(&name));
		if (!conn->cn_server_name)
			return KTLS_ERROR_NO_MEMORY;
	}
	return 0;
}

static int server_client_hello_ext(struct ktls_conn *conn, void *ctx, uint16_t type,
				   struct ktls_reader *body)
{
	struct client_hello *ch = ctx;
	struct ktls_reader list, entry;
	uint16_t version;
	int ret = 0;

	if (ch->after_psk)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "pre_shared_key is not the last extension");
	switch (type) {
	case KTLS_EXT_SERVER_NAME:
		return server_read_server_name(conn, body);
	case KTLS_EXT_SUPPORTED_GROUPS:
		ch->have_groups = 1;
		ret = ktls_read_block(body, 2, 2, &ch->groups);
		if (!ret && ktls_reader_left(&ch->groups) % 2)
			ret = KTLS_ALERT_DECODE_ERROR;
		break;
	case KTLS_EXT_SIGNATURE_ALGORITHMS:
		ch->have_sigalgs = 1;
		return ktls_read_sigschemes(conn, body);
	case KTLS_EXT_KEY_SHARE:
		ch->have_key_share = 1;
		ret = ktls_read_block(body, 2, 0, &ch->shares);
		break;
	case KTLS_EXT_SUPPORTED_VERSIONS:
		ch->have_versions = 1;
		ret = ktls_read_block(body, 1, 2, &list);
		if (!ret && ktls_reader_left(&list) % 2)
			ret = KTLS_ALERT_DECODE_ERROR;
		while (!ret && ktls_reader_left(&list)) {
			ktls_read_u16(&list, &version);
			if (version == KTLS_VERSION_TLS13)
				ch->offers_tls13 = 1;
		}
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
	case KTLS_EXT_COOKIE:
		ret = ktls_read_block(body, 2, 1, &list);
		ch->cookie = list.pos;
		ch->cookie_len = ktls_reader_left(&list);
		break;
	case KTLS_EXT_PRE_SHARED_KEY:
		/* No resumption yet: the offer is ignored. */
		ch->after_psk = 1;
		/* fall through */
	default:
		body->pos = body->end;
		break;
	}
	if (ret)
		return ktls_fail(conn, ret, "malformed extension %u in ClientHello", type);
	return 0;
}

static int server_parse_client_hello(struct ktls_conn *conn, const uint8_t *msg, size_t len,
				     struct client_hello *ch)
{
	struct ktls_reader r, session_id, compression, exts;
	const uint8_t *random;
	uint16_t legacy_version;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_u16(&r, &legacy_version)) ||
	    (ret = ktls_read_bytes(&r, 32, &random)) ||
	    (ret = ktls_read_block(&r, 1, 0, &session_id)) ||
	    (ret = ktls_read_block(&r, 2, 2, &ch->suites)) ||
	    (ret = ktls_read_block(&r, 1, 1, &compression)))
		return ktls_fail(conn, ret, "malformed ClientHello");
	if (ktls_reader_left(&session_id) > 32 || ktls_reader_left(&ch->suites) % 2)
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "malformed ClientHello");
	/* No extensions at all means SSL 3.0 to TLS 1.2 without them. */
	if (!ktls_reader_left(&r) && !ktls12_client_offers(conn->cn_cfg))
		return ktls_fail(conn, KTLS_ALERT_PROTOCOL_VERSION, "client does not offer TLS 1.3");
	ktls_reader_init(&exts, NULL, 0);
	if (ktls_reader_left(&r) &&
	    ((ret = ktls_read_block(&r, 2, 0, &exts)) || (ret = ktls_read_end(&r))))
		return ktls_fail(conn, ret, "malformed ClientHello");
	ret = ktls_for_each_extension(conn, &exts, server_client_hello_ext, ch);
	if (ret)
		return ret;
	/* server12.c takes it from here (and refuses if TLS 1.2 is off). */
	if (!ch->offers_tls13 || conn->cn_cfg->cf_max_version < KTLS_VERSION_TLS13)
		return 0;
	/* RFC 8446 4.1.2: exactly one method, null. */
	if (ktls_reader_left(&compression) != 1 || compression.pos[0] != 0)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "legacy_compression_methods is not exactly null");
	if (!conn->cn_did_hrr)
		memcpy(conn->cn_client_random, random, 32);
	ch->session_id = session_id.pos;
	ch->session_id_len = ktls_reader_left(&session_id);
	return 0;
}


static int server_select_suite(struct ktls_conn *conn, const struct client_hello *ch)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	size_t i;

	for (i = 0; i < cfg->cf_suite_count; i++) {
		if (cfg->cf_suites[i]->version != KTLS_VERSION_TLS13)
			continue;
		if (ktls_reader_has_u16(ch->suites, cfg->cf_suites[i]->id)) {
			if (conn->cn_suite && conn->cn_suite != cfg->cf_suites[i])
				return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
						 "second ClientHello changed the cipher suites");
			conn->cn_suite = cfg->cf_suites[i];
			return 0;
		}
	}
	return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE, "no cipher suite in common");
}

static int server_select_identity(struct ktls_conn *conn, const struct client_hello *ch)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	const struct ktls_sigscheme *info;
	size_t order[KTLS_MAX_IDENTITIES], count, i, j;

	if (!ch->have_sigalgs)
		return ktls_fail(conn, KTLS_ALERT_MISSING_EXTENSION,
				 "ClientHello without signature_algorithms");
	if (!cfg->cf_identity_count)
		return ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR, "server has no certificate");
	count = ktls_identity_order(conn, order);
	for (i = 0; i < count; i++) {
		const struct ktls_identity *id = &cfg->cf_identities[order[i]];

		for (j = 0; j < conn->cn_peer_sigscheme_count; j++) {
			info = ktls_sigscheme_by_id(conn->cn_peer_sigschemes[j]);
			if (info->tls13_handshake && kc_pkey_can_sign(id->key, info->id)) {
				conn->cn_identity = id;
				conn->cn_own_sigscheme = info->id;
				return 0;
			}
		}
	}
	return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE,
			 "no signature algorithm in common with our certificates");
}

/*
 * Picks the group, preferring one the client sent a share for, so that
 * a HelloRetryRequest is needed only when no share is usable. Returns the
 * client's share in @share, or an empty @share when a retry is needed.
 */
static int server_select_group(struct ktls_conn *conn, const struct client_hello *ch,
			       struct ktls_reader *share)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	struct ktls_reader shares = ch->shares, key;
	uint16_t seen[16], group;
	size_t nseen = 0, i;
	int ret;

	if (!ch->have_groups || !ch->have_key_share)
		return ktls_fail(conn, KTLS_ALERT_MISSING_EXTENSION,
				 "ClientHello without supported_groups or key_share");
	ktls_reader_init(share, NULL, 0);
	while (ktls_reader_left(&shares)) {
		if ((ret = ktls_read_u16(&shares, &group)) ||
		    (ret = ktls_read_block(&shares, 2, 1, &key)))
			return ktls_fail(conn, ret, "malformed key_share");
		for (i = 0; i < nseen; i++)
			if (seen[i] == group)
				return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
						 "two key shares for group 0x%04x", group);
		if (nseen == KTLS_ARRAY_SIZE(seen))
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER, "too many key shares");
		seen[nseen++] = group;
		if (!ktls_reader_has_u16(ch->groups, group))
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
					 "key share for a group not in supported_groups");
	}
	for (i = 0; i < cfg->cf_group_count; i++) {
		shares = ch->shares;
		while (!ktls_read_u16(&shares, &group) && !ktls_read_block(&shares, 2, 1, &key)) {
			if (group == cfg->cf_groups[i]) {
				conn->cn_group = ktls_group_by_id(group);
				*share = key;
				return 0;
			}
		}
	}
	if (conn->cn_did_hrr)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "second ClientHello lacks the requested key share");
	for (i = 0; i < cfg->cf_group_count; i++) {
		if (ktls_reader_has_u16(ch->groups, cfg->cf_groups[i])) {
			conn->cn_group = ktls_group_by_id(cfg->cf_groups[i]);
			return 0;
		}
	}
	return ktls_fail(conn, KTLS_ALERT_HANDSHAKE_FAILURE, "no key exchange group in common");
}


/* ServerHello and HelloRetryRequest share one layout (RFC 8446 4.1.3). */
static int server_write_hello(struct ktls_conn *conn, const uint8_t *random,
			      const uint8_t *pub, size_t pub_len)
{
	struct ktls_buf *b = &conn->cn_flight;
	int is_hrr = random == ktls_hrr_random;
	size_t msg, block, ext;
	int ret;

	if ((ret = ktls_msg_begin(b, KTLS_HS_SERVER_HELLO, &msg)) ||
	    (ret = ktls_buf_push_u16(b, KTLS_VERSION_TLS12)) ||
	    (ret = ktls_buf_push(b, random, 32)) ||
	    (ret = ktls_buf_push_u8(b, conn->cn_session_id_len)) ||
	    (ret = ktls_buf_push(b, conn->cn_session_id, conn->cn_session_id_len)) ||
	    (ret = ktls_buf_push_u16(b, conn->cn_suite->id)) ||
	    (ret = ktls_buf_push_u8(b, 0)) ||
	    (ret = ktls_buf_open_block(b, 2, &block)) ||
	    (ret = ktls_ext_begin(b, KTLS_EXT_KEY_SHARE, &ext)) ||
	    (ret = ktls_buf_push_u16(b, conn->cn_group->id)))
		return ret;
	if (!is_hrr &&
	    ((ret = ktls_buf_push_u16(b, (uint16_t)pub_len)) ||
	     (ret = ktls_buf_push(b, pub, pub_len))))
		return ret;
	if ((ret = ktls_ext_end(b, ext)) ||
	    (ret = ktls_ext_begin(b, KTLS_EXT_SUPPORTED_VERSIONS, &ext)) ||
	    (ret = ktls_buf_push_u16(b, KTLS_VERSION_TLS13)) ||
	    (ret = ktls_ext_end(b, ext)))
		return ret;
	if (is_hrr &&
	    ((ret = ktls_ext_begin(b, KTLS_EXT_COOKIE, &ext)) ||
	     (ret = ktls_buf_push_u16(b, (uint16_t)conn->cn_cookie.off)) ||
	     (ret = ktls_buf_push(b, conn->cn_cookie.base, conn->cn_cookie.off)) ||
	     (ret = ktls_ext_end(b, ext))))
		return ret;
	if ((ret = ktls_buf_close_block(b, 2, block)))
		return ret;
	return ktls_msg_end(conn, b, msg);
}

static int server_send_hello_retry(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				   const uint8_t *ch1, size_t len)
{
	uint8_t synthetic[4 + KC_MAX_DIGEST], cookie[32];
	size_t size = kc_hash_size(conn->cn_suite->hash);
	int ret;

	synthetic[0] = KTLS_HS_MESSAGE_HASH;
	synthetic[1] = 0;
	synthetic[2] = 0;
	synthetic[3] = (uint8_t)size;
	if ((ret = kc_hash_oneshot(conn->cn_suite->hash, ch1, len, synthetic + 4)) ||
	    (ret = ktls_transcript_add(conn, synthetic, 4 + size)) ||
	    (ret = kc_random(cookie, sizeof(cookie))) ||
	    (ret = ktls_buf_push(&conn->cn_cookie, cookie, sizeof(cookie))) ||
	    (ret = server_write_hello(conn, ktls_hrr_random, NULL, 0)) ||
	    (ret = ktls_flush_flight(conn, sendbuf)))
		return ret;
	if (conn->cn_session_id_len && (ret = ktls_send_ccs(conn, sendbuf)))
		return ret;
	conn->cn_did_hrr = 1;
	conn->cn_state = KTLS_STATE_SERVER_EXPECT_SECOND_CLIENT_HELLO;
	return 0;
}

static int server_write_encrypted_extensions(struct ktls_conn *conn)
{
	struct ktls_buf *b = &conn->cn_flight;
	size_t msg, block;
	int ret;

	if ((ret = ktls_msg_begin(b, KTLS_HS_ENCRYPTED_EXTENSIONS, &msg)) ||
	    (ret = ktls_buf_open_block(b, 2, &block)))
		return ret;
	if ((ret = ktls_write_server_acks(conn, b)))
		return ret;
	if ((ret = ktls_buf_close_block(b, 2, block)))
		return ret;
	return ktls_msg_end(conn, b, msg);
}

static int server_write_certificate_request(struct ktls_conn *conn)
{
	struct ktls_buf *b = &conn->cn_flight;
	size_t msg, block, ext;
	int ret;

	if ((ret = ktls_msg_begin(b, KTLS_HS_CERTIFICATE_REQUEST, &msg)) ||
	    (ret = ktls_buf_push_u8(b, 0)) ||	/* empty certificate_request_context */
	    (ret = ktls_buf_open_block(b, 2, &block)) ||
	    (ret = ktls_ext_begin(b, KTLS_EXT_SIGNATURE_ALGORITHMS, &ext)) ||
	    (ret = ktls_write_sigschemes(b, 1)) ||
	    (ret = ktls_ext_end(b, ext)) ||
	    (ret = ktls_buf_close_block(b, 2, block)))
		return ret;
	return ktls_msg_end(conn, b, msg);
}

static int server_send_flight(struct ktls_conn *conn, struct ktls_buf *sendbuf,
			      const struct ktls_reader *share)
{
	uint8_t pub[KC_MAX_KEX_PUBLIC], shared[KC_MAX_KEX_SECRET], server_ap[KC_MAX_DIGEST];
	size_t pub_len = sizeof(pub), shared_len = sizeof(shared);
	int request_cert = conn->cn_verify != KTLS_VERIFY_NONE;
	int ret;

	ret = ktls_kex_generate(conn, conn->cn_group->id, pub, &pub_len);
	if (!ret) {
		ret = kc_kex_derive(conn->cn_kex, share->pos, ktls_reader_left(share),
				    shared, &shared_len);
		if (ret)
			ret = ktls_fail(conn, ret, "bad key_share from the client");
	}
	kc_kex_free(conn->cn_kex);
	conn->cn_kex = NULL;
	if (ret)
		goto out;
	ktls_random(conn, conn->cn_server_random);
	if ((ret = server_write_hello(conn, conn->cn_server_random, pub, pub_len)) ||
	    (ret = ktls_flush_flight(conn, sendbuf)))
		goto out;
	if (conn->cn_session_id_len && (ret = ktls_send_ccs(conn, sendbuf)))
		goto out;
	if ((ret = ktls_derive_handshake_secrets(conn, shared, shared_len)) ||
	    (ret = server_write_encrypted_extensions(conn)) ||
	    (request_cert && (ret = server_write_certificate_request(conn))) ||
	    (ret = ktls_write_certificate(conn, conn->cn_identity)) ||
	    (ret = ktls_write_certificate_verify(conn, conn->cn_identity,
						 conn->cn_own_sigscheme)) ||
	    (ret = ktls_write_finished(conn)) ||
	    (ret = ktls_flush_flight(conn, sendbuf)) ||
	    (ret = ktls_derive_application_secrets(conn, conn->cn_client_ap, server_ap)) ||
	    (ret = ktls_protection_set(&conn->cn_tx, conn->cn_suite, server_ap, 1)))
		goto out;
	conn->cn_state = request_cert ? KTLS_STATE_SERVER_EXPECT_CERTIFICATE :
					KTLS_STATE_SERVER_EXPECT_FINISHED;
out:
	kc_cleanse(shared, sizeof(shared));
	kc_cleanse(server_ap, sizeof(server_ap));
	return ret;
}

static int server_handle_client_hello(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				      const uint8_t *msg, size_t len)
{
	struct client_hello ch = { 0 };
	struct ktls_reader share;
	int ret;

	if ((ret = server_parse_client_hello(conn, msg, len, &ch)))
		return ret;
	if (!ch.offers_tls13 || conn->cn_cfg->cf_max_version < KTLS_VERSION_TLS13)
		return ktls_server12_handle_client_hello(conn, sendbuf, msg, len);
	if (conn->cn_did_hrr) {
		if (ch.session_id_len != conn->cn_session_id_len ||
		    memcmp(ch.session_id, conn->cn_session_id, ch.session_id_len))
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
					 "second ClientHello changed the session id");
		if (ch.cookie_len != conn->cn_cookie.off ||
		    kc_memcmp(ch.cookie, conn->cn_cookie.base, ch.cookie_len))
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
					 "second ClientHello does not echo our cookie");
	} else {
		memcpy(conn->cn_session_id, ch.session_id, ch.session_id_len);
		conn->cn_session_id_len = (uint8_t)ch.session_id_len;
	}
	if ((ret = server_select_suite(conn, &ch)) ||
	    (ret = server_select_identity(conn, &ch)) ||
	    (ret = server_select_group(conn, &ch, &share)) ||
	    (ret = ktls_select_alpn(conn, ch.alpn, ch.alpn_len)))
		return ret;
	conn->cn_version = KTLS_VERSION_TLS13;
	if (!conn->cn_transcript && (ret = ktls_transcript_start(conn)))
		return ret;
	if (!ktls_reader_left(&share))
		return server_send_hello_retry(conn, sendbuf, msg, len);
	ret = ktls_transcript_add(conn, msg, len);
	if (ret)
		return ret;
	return server_send_flight(conn, sendbuf, &share);
}

static int server_handle_certificate(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	int ret = ktls_handle_certificate(conn, msg, len);

	if (ret)
		return ret;
	if (!conn->cn_peer_sent_empty_cert) {
		conn->cn_state = KTLS_STATE_SERVER_EXPECT_CERTIFICATE_VERIFY;
		return 0;
	}
	if (conn->cn_verify == KTLS_VERIFY_REQUIRED)
		return ktls_fail(conn, KTLS_ALERT_CERTIFICATE_REQUIRED,
				 "client sent no certificate");
	conn->cn_state = KTLS_STATE_SERVER_EXPECT_FINISHED;
	return 0;
}

static int server_handle_finished(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	int ret = ktls_handle_finished(conn, msg, len);

	if (!ret)
		ret = ktls_protection_set(&conn->cn_rx, conn->cn_suite, conn->cn_client_ap, 0);
	kc_cleanse(conn->cn_client_ap, sizeof(conn->cn_client_ap));
	conn->cn_rx_key_changed = 1;
	conn->cn_state = KTLS_STATE_POST_HANDSHAKE;
	return ret;
}

int ktls_server_handle_message(struct ktls_conn *conn, struct ktls_buf *sendbuf,
			       const uint8_t *msg, size_t len)
{
	uint8_t type = msg[0];

	if (conn->cn_version == KTLS_VERSION_TLS12)
		return ktls_server12_handle_message(conn, sendbuf, msg, len);
	switch (conn->cn_state) {
	case KTLS_STATE_SERVER_EXPECT_CLIENT_HELLO:
	case KTLS_STATE_SERVER_EXPECT_SECOND_CLIENT_HELLO:
		if (type != KTLS_HS_CLIENT_HELLO)
			break;
		return server_handle_client_hello(conn, sendbuf, msg, len);
	case KTLS_STATE_SERVER_EXPECT_CERTIFICATE:
		if (type != KTLS_HS_CERTIFICATE)
			break;
		return server_handle_certificate(conn, msg, len);
	case KTLS_STATE_SERVER_EXPECT_CERTIFICATE_VERIFY:
		if (type != KTLS_HS_CERTIFICATE_VERIFY)
			break;
		conn->cn_state = KTLS_STATE_SERVER_EXPECT_FINISHED;
		return ktls_handle_certificate_verify(conn, msg, len);
	case KTLS_STATE_SERVER_EXPECT_FINISHED:
		if (type != KTLS_HS_FINISHED)
			break;
		return server_handle_finished(conn, msg, len);
	default:
		return ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR, "server in state %d",
				 conn->cn_state);
	}
	return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
			 "unexpected handshake message %u", type);
}
