// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the client and server state machines share: the transcript, the
 * outgoing flight, the key schedule steps, and the authentication
 * messages (Certificate, CertificateVerify, Finished), which are the
 * same in both directions but for a context string.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"

#define KTLS_MAX_CHAIN_CERTS	16

int ktls_fail(struct ktls_conn *conn, int err, const char *fmt, ...)
{
	va_list ap;

	/* The first reason is the cause; later ones are consequences. */
	if (!conn->cn_detail[0]) {
		va_start(ap, fmt);
		vsnprintf(conn->cn_detail, sizeof(conn->cn_detail), fmt, ap);
		va_end(ap);
	}
	return err;
}

int ktls_transcript_start(struct ktls_conn *conn)
{
	conn->cn_transcript = kc_hash_new(conn->cn_suite->hash);
	if (!conn->cn_transcript)
		return KTLS_ERROR_NO_MEMORY;
	return 0;
}

int ktls_transcript_add(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	int ret;

	/* A client does not know the hash before ServerHello: keep ClientHello. */
	if (!conn->cn_transcript)
		return ktls_buf_push(&conn->cn_client_hello, msg, len);
	/* TLS 1.2 CertificateVerify signs the messages, not their hash. */
	if (conn->cn_version == KTLS_VERSION_TLS12 &&
	    (ret = ktls_buf_push(&conn->cn_hs_log, msg, len)))
		return ret;
	return kc_hash_update(conn->cn_transcript, msg, len);
}

int ktls_msg_begin(struct ktls_buf *buf, uint8_t type, size_t *mark)
{
	int ret = ktls_buf_push_u8(buf, type);

	if (ret)
		return ret;
	return ktls_buf_open_block(buf, 3, mark);
}

int ktls_msg_end(struct ktls_conn *conn, struct ktls_buf *buf, size_t mark)
{
	int ret = ktls_buf_close_block(buf, 3, mark);

	if (ret)
		return ret;
	if (conn->cn_hooks && conn->cn_hooks->outgoing)
		conn->cn_hooks->outgoing(conn->cn_hooks->arg, buf->base + mark - 1,
					 buf->off - mark + 1);
	return ktls_transcript_add(conn, buf->base + mark - 1, buf->off - mark + 1);
}

int ktls_flush_flight(struct ktls_conn *conn, struct ktls_buf *sendbuf)
{
	int ret;

	if (!conn->cn_flight.off)
		return 0;
	ret = ktls_record_write(&conn->cn_tx, sendbuf, KTLS_CT_HANDSHAKE,
				conn->cn_flight.base, conn->cn_flight.off);
	kc_cleanse(conn->cn_flight.base, conn->cn_flight.off);
	conn->cn_flight.off = 0;
	return ret;
}

/* Middlebox compatibility (RFC 8446 D.4): one plaintext CCS, at most once. */
int ktls_send_ccs(struct ktls_conn *conn, struct ktls_buf *sendbuf)
{
	static const uint8_t ccs[] = { KTLS_CT_CHANGE_CIPHER_SPEC, 0x03, 0x03, 0x00, 0x01, 0x01 };

	if (conn->cn_sent_ccs)
		return 0;
	conn->cn_sent_ccs = 1;
	return ktls_buf_push(sendbuf, ccs, sizeof(ccs));
}

void ktls_random(struct ktls_conn *conn, uint8_t *random)
{
	if (conn->cn_hooks && conn->cn_hooks->random)
		conn->cn_hooks->random(conn->cn_hooks->arg, random);
	else if (kc_random(random, 32))
		/* A broken CSPRNG must not yield a predictable random. */
		abort();
}

int ktls_kex_generate(struct ktls_conn *conn, uint16_t group, uint8_t *pub, size_t *pub_len)
{
	uint8_t priv[KC_MAX_KEX_SECRET];
	size_t priv_len = 0;
	int ret;

	kc_kex_free(conn->cn_kex);
	conn->cn_kex = NULL;
	if (conn->cn_hooks && conn->cn_hooks->kex_private)
		priv_len = conn->cn_hooks->kex_private(conn->cn_hooks->arg, group, priv);
	if (priv_len)
		ret = kc_kex_from_private(group, priv, priv_len, &conn->cn_kex, pub, pub_len);
	else
		ret = kc_kex_generate(group, &conn->cn_kex, pub, pub_len);
	kc_cleanse(priv, sizeof(priv));
	return ret;
}

int ktls_derive_handshake_secrets(struct ktls_conn *conn, const uint8_t *shared,
				  size_t shared_len)
{
	enum kc_hash_id hash = conn->cn_suite->hash;
	uint8_t early[KC_MAX_DIGEST], th[KC_MAX_DIGEST];
	uint8_t client_hs[KC_MAX_DIGEST], server_hs[KC_MAX_DIGEST];
	int is_client = conn->cn_role == KTLS_ROLE_CLIENT;
	int ret;

	ret = ktls_early_secret(hash, NULL, 0, early);
	if (!ret)
		ret = ktls_next_secret(hash, early, shared, shared_len, conn->cn_secret);
	if (!ret)
		ret = kc_hash_peek(conn->cn_transcript, th);
	if (!ret)
		ret = ktls_derive_secret(hash, conn->cn_secret, "c hs traffic", th, client_hs);
	if (!ret)
		ret = ktls_derive_secret(hash, conn->cn_secret, "s hs traffic", th, server_hs);
	if (!ret)
		ret = ktls_protection_set(&conn->cn_tx, conn->cn_suite,
					  is_client ? client_hs : server_hs, 1);
	if (!ret)
		ret = ktls_protection_set(&conn->cn_rx, conn->cn_suite,
					  is_client ? server_hs : client_hs, 0);
	conn->cn_rx_key_changed = 1;
	kc_cleanse(early, sizeof(early));
	kc_cleanse(client_hs, sizeof(client_hs));
	kc_cleanse(server_hs, sizeof(server_hs));
	return ret;
}

int ktls_derive_application_secrets(struct ktls_conn *conn, uint8_t *client_ap,
				    uint8_t *server_ap)
{
	enum kc_hash_id hash = conn->cn_suite->hash;
	uint8_t th[KC_MAX_DIGEST];
	int ret;

	ret = ktls_next_secret(hash, conn->cn_secret, NULL, 0, conn->cn_secret);
	if (!ret)
		ret = kc_hash_peek(conn->cn_transcript, th);
	if (!ret)
		ret = ktls_derive_secret(hash, conn->cn_secret, "c ap traffic", th, client_ap);
	if (!ret)
		ret = ktls_derive_secret(hash, conn->cn_secret, "s ap traffic", th, server_ap);
	return ret;
}

int ktls_write_certificate(struct ktls_conn *conn, const struct ktls_identity *id)
{
	struct ktls_buf *b = &conn->cn_flight;
	size_t msg, list, cert, i, n = id ? kc_chain_count(id->chain) : 0;
	int ret;

	ret = ktls_msg_begin(b, KTLS_HS_CERTIFICATE, &msg);
	if (!ret)
		ret = ktls_buf_push_u8(b, conn->cn_cert_context_len);
	if (!ret)
		ret = ktls_buf_push(b, conn->cn_cert_context, conn->cn_cert_context_len);
	if (!ret)
		ret = ktls_buf_open_block(b, 3, &list);
	for (i = 0; !ret && i < n; i++) {
		const uint8_t *der;
		size_t der_len;

		ret = kc_chain_der(id->chain, i, &der, &der_len);
		if (!ret)
			ret = ktls_buf_open_block(b, 3, &cert);
		if (!ret)
			ret = ktls_buf_push(b, der, der_len);
		if (!ret)
			ret = ktls_buf_close_block(b, 3, cert);
		if (!ret)
			ret = ktls_buf_push_u16(b, 0);	/* no CertificateEntry extensions */
	}
	if (!ret)
		ret = ktls_buf_close_block(b, 3, list);
	if (!ret)
		ret = ktls_msg_end(conn, b, msg);
	return ret;
}

/* The signed content of CertificateVerify (RFC 8446 4.4.3). */
static int ktls_cv_content(struct ktls_conn *conn, int by_server, uint8_t *out, size_t *len)
{
	static const char server_ctx[] = "TLS 1.3, server CertificateVerify";
	static const char client_ctx[] = "TLS 1.3, client CertificateVerify";
	const char *ctx = by_server ? server_ctx : client_ctx;
	size_t n = 0;
	int ret;

	memset(out, 0x20, 64);
	n += 64;
	memcpy(out + n, ctx, sizeof(server_ctx));	/* includes the 0 separator */
	n += sizeof(server_ctx);
	ret = kc_hash_peek(conn->cn_transcript, out + n);
	if (ret)
		return ret;
	*len = n + kc_hash_size(conn->cn_suite->hash);
	return 0;
}

int ktls_write_certificate_verify(struct ktls_conn *conn, const struct ktls_identity *id,
				  uint16_t scheme)
{
	uint8_t tbs[64 + 34 + KC_MAX_DIGEST], sig[KC_MAX_SIGNATURE];
	struct ktls_buf *b = &conn->cn_flight;
	size_t tbs_len, sig_len = sizeof(sig), msg;
	int by_server = conn->cn_role == KTLS_ROLE_SERVER;
	int ret;

	ret = ktls_cv_content(conn, by_server, tbs, &tbs_len);
	if (ret)
		return ret;
	if (conn->cn_hooks && conn->cn_hooks->sign)
		ret = conn->cn_hooks->sign(conn->cn_hooks->arg, scheme, tbs, tbs_len, sig, &sig_len);
	else
		ret = kc_sign(id->key, scheme, tbs, tbs_len, sig, &sig_len);
	if (ret)
		return ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR, "signing failed");
	ret = ktls_msg_begin(b, KTLS_HS_CERTIFICATE_VERIFY, &msg);
	if (!ret)
		ret = ktls_buf_push_u16(b, scheme);
	if (!ret)
		ret = ktls_buf_push_u16(b, (uint16_t)sig_len);
	if (!ret)
		ret = ktls_buf_push(b, sig, sig_len);
	if (!ret)
		ret = ktls_msg_end(conn, b, msg);
	conn->cn_own_sigscheme = scheme;
	return ret;
}

int ktls_write_finished(struct ktls_conn *conn)
{
	enum kc_hash_id hash = conn->cn_suite->hash;
	uint8_t th[KC_MAX_DIGEST], verify[KC_MAX_DIGEST];
	struct ktls_buf *b = &conn->cn_flight;
	size_t msg;
	int ret;

	ret = kc_hash_peek(conn->cn_transcript, th);
	if (!ret)
		ret = ktls_finished_verify_data(hash, conn->cn_tx.secret, th, verify);
	if (!ret)
		ret = ktls_msg_begin(b, KTLS_HS_FINISHED, &msg);
	if (!ret)
		ret = ktls_buf_push(b, verify, kc_hash_size(hash));
	if (!ret)
		ret = ktls_msg_end(conn, b, msg);
	kc_cleanse(verify, sizeof(verify));
	return ret;
}

int ktls_verify_peer_chain(struct ktls_conn *conn)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	int is_client = conn->cn_role == KTLS_ROLE_CLIENT;
	enum ktls_verify_policy policy = conn->cn_verify;
	char reason[128] = "";
	int ret;

	if (policy == KTLS_VERIFY_NONE)
		return 0;
	if (!cfg->cf_store) {
		conn->cn_verify_result = -1;
		if (policy == KTLS_VERIFY_OPTIONAL)
			return 0;
		return ktls_fail(conn, KTLS_ALERT_UNKNOWN_CA, "no trust anchors configured");
	}
	ret = kc_chain_verify(cfg->cf_store, conn->cn_peer_chain, is_client,
			      is_client ? conn->cn_server_name : NULL,
			      &conn->cn_verify_result, reason, sizeof(reason));
	if (ret && policy == KTLS_VERIFY_REQUIRED)
		return ktls_fail(conn, ret, "%s", reason[0] ? reason : "certificate verify failed");
	return 0;
}

/* A fresh chain for the peer's Certificate, both versions: kc_chain_add_der() fills it. */
int ktls_peer_chain_begin(struct ktls_conn *conn)
{
	kc_chain_free(conn->cn_peer_chain);
	conn->cn_peer_chain = kc_chain_new();
	return conn->cn_peer_chain ? 0 : KTLS_ERROR_NO_MEMORY;
}

/*
 * The peer's Certificate of @count entries, read whole: into the
 * transcript, then either noted as empty (the caller's policy decides
 * whether that may be) or its subject kept and the chain verified.
 */
int ktls_peer_chain_end(struct ktls_conn *conn, const uint8_t *msg, size_t len, size_t count)
{
	int ret = ktls_transcript_add(conn, msg, len);

	if (ret)
		return ret;
	if (!count) {
		kc_chain_free(conn->cn_peer_chain);
		conn->cn_peer_chain = NULL;
		conn->cn_peer_sent_empty_cert = 1;
		return 0;
	}
	kc_chain_subject(conn->cn_peer_chain, conn->cn_peer_subject,
			 sizeof(conn->cn_peer_subject));
	return ktls_verify_peer_chain(conn);
}

/*
 * The server's ALPN answer (EncryptedExtensions in 1.3, ServerHello in
 * 1.2), to a list we sent: exactly one name, and one we offered.
 */
int ktls_alpn_take_answer(struct ktls_conn *conn, struct ktls_reader *body)
{
	struct ktls_reader list, name;

	if (ktls_read_block(body, 2, 2, &list) || ktls_read_block(&list, 1, 1, &name) ||
	    ktls_read_end(&list))
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "malformed ALPN answer");
	if (!ktls_alpn_contains(conn->cn_alpn_list, conn->cn_alpn_list_len, name.pos,
				ktls_reader_left(&name)))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "server selected a protocol we did not offer");
	conn->cn_alpn = strndup((const char *)name.pos, ktls_reader_left(&name));
	return conn->cn_alpn ? 0 : KTLS_ERROR_NO_MEMORY;
}

int ktls_handle_certificate(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	struct ktls_reader r, ctx, list, exts;
	const uint8_t *der;
	uint32_t der_len;
	size_t count = 0;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_block(&r, 1, 0, &ctx)) != 0 ||
	    (ret = ktls_read_block(&r, 3, 0, &list)) != 0 ||
	    (ret = ktls_read_end(&r)) != 0)
		return ktls_fail(conn, ret, "malformed Certificate");
	/* Ours is empty for the handshake; a client echoes what we sent. */
	if (ktls_reader_left(&ctx) != conn->cn_cert_context_len ||
	    kc_memcmp(ctx.pos, conn->cn_cert_context, conn->cn_cert_context_len))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "Certificate has the wrong request context");
	ret = ktls_peer_chain_begin(conn);
	if (ret)
		return ret;
	while (ktls_reader_left(&list)) {
		if (++count > KTLS_MAX_CHAIN_CERTS)
			return ktls_fail(conn, KTLS_ALERT_BAD_CERTIFICATE,
					 "certificate chain longer than %d", KTLS_MAX_CHAIN_CERTS);
		if ((ret = ktls_read_u24(&list, &der_len)) != 0 ||
		    (ret = (der_len ? 0 : KTLS_ALERT_DECODE_ERROR)) != 0 ||
		    (ret = ktls_read_bytes(&list, der_len, &der)) != 0 ||
		    (ret = ktls_read_block(&list, 2, 0, &exts)) != 0)
			return ktls_fail(conn, ret, "malformed CertificateEntry");
		ret = kc_chain_add_der(conn->cn_peer_chain, der, der_len);
		if (ret)
			return ktls_fail(conn, ret, "unparsable certificate in chain");
	}
	return ktls_peer_chain_end(conn, msg, len, count);
}

int ktls_handle_certificate_verify(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	uint8_t tbs[64 + 34 + KC_MAX_DIGEST];
	const struct ktls_sigscheme *scheme;
	struct ktls_reader r, sig;
	uint16_t id;
	size_t tbs_len;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_u16(&r, &id)) != 0 ||
	    (ret = ktls_read_block(&r, 2, 1, &sig)) != 0 ||
	    (ret = ktls_read_end(&r)) != 0)
		return ktls_fail(conn, ret, "malformed CertificateVerify");
	scheme = ktls_sigscheme_by_id(id);
	if (!scheme || !scheme->tls13_handshake)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "CertificateVerify with a scheme we did not offer (0x%04x)", id);
	ret = ktls_cv_content(conn, conn->cn_role == KTLS_ROLE_CLIENT, tbs, &tbs_len);
	if (ret)
		return ret;
	ret = kc_verify(conn->cn_peer_chain, id, tbs, tbs_len, sig.pos, ktls_reader_left(&sig));
	if (ret)
		return ktls_fail(conn, ret, "CertificateVerify signature (%s) does not verify",
				 scheme->name);
	conn->cn_peer_sigscheme = id;
	return ktls_transcript_add(conn, msg, len);
}

int ktls_handle_finished(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	enum kc_hash_id hash = conn->cn_suite->hash;
	uint8_t th[KC_MAX_DIGEST], expect[KC_MAX_DIGEST];
	size_t size = kc_hash_size(hash);
	int ret;

	if (len - 4 != size)
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "Finished of the wrong length");
	ret = kc_hash_peek(conn->cn_transcript, th);
	if (!ret)
		ret = ktls_finished_verify_data(hash, conn->cn_rx.secret, th, expect);
	if (!ret && kc_memcmp(expect, msg + 4, size))
		ret = ktls_fail(conn, KTLS_ALERT_DECRYPT_ERROR, "peer's Finished does not verify");
	kc_cleanse(expect, sizeof(expect));
	if (ret)
		return ret;
	return ktls_transcript_add(conn, msg, len);
}

int ktls_write_sigschemes(struct ktls_buf *buf, int handshake_only)
{
	const struct ktls_sigscheme *s;
	size_t mark;
	int ret;

	ret = ktls_buf_open_block(buf, 2, &mark);
	for (s = ktls_sigschemes; !ret && s->id; s++)
		if (s->tls13_handshake || !handshake_only)
			ret = ktls_buf_push_u16(buf, s->id);
	if (!ret)
		ret = ktls_buf_close_block(buf, 2, mark);
	return ret;
}

int ktls_read_sigschemes(struct ktls_conn *conn, struct ktls_reader *r)
{
	struct ktls_reader list;
	uint16_t id;
	int ret;

	ret = ktls_read_block(r, 2, 2, &list);
	if (ret || ktls_reader_left(&list) % 2)
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "malformed signature_algorithms");
	conn->cn_peer_sigscheme_count = 0;
	while (ktls_reader_left(&list)) {
		ktls_read_u16(&list, &id);
		if (ktls_sigscheme_by_id(id) &&
		    conn->cn_peer_sigscheme_count < KTLS_MAX_SIGSCHEMES)
			conn->cn_peer_sigschemes[conn->cn_peer_sigscheme_count++] = id;
	}
	return 0;
}

int ktls_for_each_extension(struct ktls_conn *conn, struct ktls_reader *exts,
			    ktls_ext_cb cb, void *ctx)
{
	uint16_t seen[KTLS_MAX_EXTENSIONS];
	struct ktls_reader body;
	size_t count = 0, i;
	uint16_t type;
	int ret;

	while (ktls_reader_left(exts)) {
		if ((ret = ktls_read_u16(exts, &type)) != 0 ||
		    (ret = ktls_read_block(exts, 2, 0, &body)) != 0)
			return ktls_fail(conn, ret, "malformed extension block");
		if (count == KTLS_MAX_EXTENSIONS)
			return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "too many extensions");
		for (i = 0; i < count; i++)
			if (seen[i] == type)
				return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
						 "duplicate extension %u", type);
		seen[count++] = type;
		ret = cb(conn, ctx, type, &body);
		if (ret)
			return ret;
		if (ktls_read_end(&body))
			return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR,
					 "trailing bytes in extension %u", type);
	}
	return 0;
}

int ktls_is_ip_literal(const char *name)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

int ktls_ext_begin(struct ktls_buf *buf, uint16_t type, size_t *mark)
{
	int ret = ktls_buf_push_u16(buf, type);

	if (ret)
		return ret;
	return ktls_buf_open_block(buf, 2, mark);
}

int ktls_ext_end(struct ktls_buf *buf, size_t mark)
{
	return ktls_buf_close_block(buf, 2, mark);
}

/* 1 if @name is one of the ProtocolNameList entries in @wire. */
int ktls_alpn_contains(const uint8_t *wire, size_t wire_len, const uint8_t *name, size_t len)
{
	struct ktls_reader r, entry;

	ktls_reader_init(&r, wire, wire_len);
	while (ktls_reader_left(&r)) {
		if (ktls_read_block(&r, 1, 1, &entry))
			return 0;
		if (ktls_reader_left(&entry) == len && !memcmp(entry.pos, name, len))
			return 1;
	}
	return 0;
}

/* SHA-256("HelloRetryRequest"), RFC 8446 4.1.3. */
const uint8_t ktls_hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};
const uint8_t ktls_downgrade_tls12[8] = { 0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01 };
const uint8_t ktls_downgrade_tls11[8] = { 0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00 };

/* 1 if the list of u16 values in @list holds @want. */
int ktls_reader_has_u16(struct ktls_reader list, uint16_t want)
{
	uint16_t v;

	while (!ktls_read_u16(&list, &v))
		if (v == want)
			return 1;
	return 0;
}

/*
 * Server: the order to try our identities in. Those whose certificate
 * names the client's SNI come first, so one configuration can serve
 * several names; then the rest, in configuration order, for clients that
 * sent no SNI or one no certificate names. @order has room for
 * KTLS_MAX_IDENTITIES; returns how many were written.
 */
size_t ktls_identity_order(const struct ktls_conn *conn, size_t *order)
{
	const struct ktls_config *cfg = conn->cn_cfg;
	int named[KTLS_MAX_IDENTITIES] = { 0 };
	size_t i, n = 0;

	if (cfg->cf_identity_count > 1 && conn->cn_server_name)
		for (i = 0; i < cfg->cf_identity_count; i++)
			named[i] = kc_chain_leaf_names(cfg->cf_identities[i].chain,
						       conn->cn_server_name);
	for (i = 0; i < cfg->cf_identity_count; i++)
		if (named[i])
			order[n++] = i;
	for (i = 0; i < cfg->cf_identity_count; i++)
		if (!named[i])
			order[n++] = i;
	return n;
}

/*
 * Server: the first of our ALPN protocols the client offered in @offered
 * (a ProtocolNameList body; NULL if the client sent no ALPN).
 */
int ktls_select_alpn(struct ktls_conn *conn, const uint8_t *offered, size_t offered_len)
{
	struct ktls_reader ours, name;

	if (!conn->cn_alpn_list_len || !offered)
		return 0;
	ktls_reader_init(&ours, conn->cn_alpn_list, conn->cn_alpn_list_len);
	while (!ktls_read_block(&ours, 1, 1, &name)) {
		if (ktls_alpn_contains(offered, offered_len, name.pos, ktls_reader_left(&name))) {
			free(conn->cn_alpn);
			conn->cn_alpn = strndup((const char *)name.pos, ktls_reader_left(&name));
			return conn->cn_alpn ? 0 : KTLS_ERROR_NO_MEMORY;
		}
	}
	return ktls_fail(conn, KTLS_ALERT_NO_APPLICATION_PROTOCOL,
			 "no application protocol in common");
}

/*
 * Server: what it answers to the client's offers, the same in TLS 1.3's
 * EncryptedExtensions and TLS 1.2's ServerHello: the chosen ALPN protocol,
 * and an empty server_name acknowledging the name was seen (RFC 6066 3).
 */
int ktls_write_server_acks(struct ktls_conn *conn, struct ktls_buf *b)
{
	size_t ext, list, alpn_len;
	int ret;

	if (conn->cn_alpn) {
		alpn_len = strlen(conn->cn_alpn);
		if ((ret = ktls_ext_begin(b, KTLS_EXT_ALPN, &ext)) ||
		    (ret = ktls_buf_open_block(b, 2, &list)) ||
		    (ret = ktls_buf_push_u8(b, (uint8_t)alpn_len)) ||
		    (ret = ktls_buf_push(b, conn->cn_alpn, alpn_len)) ||
		    (ret = ktls_buf_close_block(b, 2, list)) ||
		    (ret = ktls_ext_end(b, ext)))
			return ret;
	}
	/* An empty server_name acknowledges that the name was seen (RFC 6066 3). */
	if (conn->cn_server_name &&
	    ((ret = ktls_ext_begin(b, KTLS_EXT_SERVER_NAME, &ext)) ||
	     (ret = ktls_ext_end(b, ext))))
		return ret;
	return 0;
}
