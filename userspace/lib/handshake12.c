// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the TLS 1.2 client and server share (RFC 5246): the raw message
 * log that CertificateVerify signs, the 1.2 Certificate layout, the
 * master secret (always extended, RFC 7627), ChangeCipherSpec and
 * Finished.
 */
#include <string.h>

#include "ktls_int.h"

#define KTLS12_MAX_CHAIN_CERTS	16

/* 1 if a ClientHello built from @cfg offers TLS 1.2. */
int ktls12_client_offers(const struct ktls_config *cfg)
{
	return cfg->cf_min_version <= KTLS_VERSION_TLS12;
}

/* Which signature schemes authenticate which key exchange (RFC 5246 7.4.3, RFC 8422 5.4). */
int ktls12_scheme_fits(uint16_t scheme, enum ktls_kx kx)
{
	switch (scheme) {
	case KC_SIG_ECDSA_SECP256R1_SHA256:
	case KC_SIG_ECDSA_SECP384R1_SHA384:
	case KC_SIG_ED25519:
		return kx == KTLS_KX_ECDHE_ECDSA;
	case KC_SIG_RSA_PKCS1_SHA256:
	case KC_SIG_RSA_PKCS1_SHA384:
	case KC_SIG_RSA_PKCS1_SHA512:
	case KC_SIG_RSA_PSS_RSAE_SHA256:
	case KC_SIG_RSA_PSS_RSAE_SHA384:
	case KC_SIG_RSA_PSS_RSAE_SHA512:
		return kx == KTLS_KX_ECDHE_RSA;
	default:
		return 0;
	}
}

/*
 * Starts the transcript once the suite is known, with ClientHello. The
 * raw log is kept too: CertificateVerify signs the messages themselves
 * with the scheme's hash, which need not be the suite's.
 */
int ktls12_transcript_begin(struct ktls_conn *conn, const uint8_t *ch, size_t ch_len)
{
	int ret;

	conn->cn_version = KTLS_VERSION_TLS12;
	kc_hash_free(conn->cn_transcript);
	conn->cn_transcript = NULL;
	ret = ktls_transcript_start(conn);
	if (!ret)
		ret = ktls_transcript_add(conn, ch, ch_len);
	return ret;
}

int ktls12_write_certificate(struct ktls_conn *conn, const struct ktls_identity *id)
{
	struct ktls_buf *b = &conn->cn_flight;
	size_t msg, list, cert, i, n = id ? kc_chain_count(id->chain) : 0;
	int ret;

	ret = ktls_msg_begin(b, KTLS_HS_CERTIFICATE, &msg);
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
	}
	if (!ret)
		ret = ktls_buf_close_block(b, 3, list);
	if (!ret)
		ret = ktls_msg_end(conn, b, msg);
	return ret;
}

int ktls12_handle_certificate(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	struct ktls_reader r, list, cert;
	size_t count = 0;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_block(&r, 3, 0, &list)) || (ret = ktls_read_end(&r)))
		return ktls_fail(conn, ret, "malformed Certificate");
	ret = ktls_peer_chain_begin(conn);
	if (ret)
		return ret;
	while (ktls_reader_left(&list)) {
		if (++count > KTLS12_MAX_CHAIN_CERTS)
			return ktls_fail(conn, KTLS_ALERT_BAD_CERTIFICATE,
					 "certificate chain longer than %d", KTLS12_MAX_CHAIN_CERTS);
		ret = ktls_read_block(&list, 3, 1, &cert);
		if (ret)
			return ktls_fail(conn, ret, "malformed Certificate");
		ret = kc_chain_add_der(conn->cn_peer_chain, cert.pos, ktls_reader_left(&cert));
		if (ret)
			return ktls_fail(conn, ret, "unparsable certificate in chain");
	}
	return ktls_peer_chain_end(conn, msg, len, count);
}

/* After ClientKeyExchange is in the transcript: the session hash of RFC 7627 4. */
int ktls12_derive_master(struct ktls_conn *conn)
{
	uint8_t session_hash[KC_MAX_DIGEST];
	int ret;

	ret = kc_hash_peek(conn->cn_transcript, session_hash);
	if (!ret)
		ret = ktls12_master_secret(conn->cn_suite->hash, conn->cn_premaster,
					   conn->cn_premaster_len, session_hash, NULL, NULL,
					   conn->cn_secret);
	kc_cleanse(conn->cn_premaster, sizeof(conn->cn_premaster));
	conn->cn_premaster_len = 0;
	return ret;
}

int ktls12_write_certificate_verify(struct ktls_conn *conn, const struct ktls_identity *id,
				    uint16_t scheme)
{
	uint8_t sig[KC_MAX_SIGNATURE];
	struct ktls_buf *b = &conn->cn_flight;
	size_t sig_len = sizeof(sig), msg;
	int ret;

	ret = kc_sign(id->key, scheme, conn->cn_hs_log.base, conn->cn_hs_log.off, sig, &sig_len);
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

static int ktls12_offered_scheme(uint16_t id)
{
	return ktls_sigscheme_by_id(id) != NULL;
}

int ktls12_handle_certificate_verify(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	struct ktls_reader r, sig;
	uint16_t id;
	int ret;

	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_u16(&r, &id)) || (ret = ktls_read_block(&r, 2, 1, &sig)) ||
	    (ret = ktls_read_end(&r)))
		return ktls_fail(conn, ret, "malformed CertificateVerify");
	if (!ktls12_offered_scheme(id))
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
				 "CertificateVerify with a scheme we did not offer (0x%04x)", id);
	ret = kc_verify_tls12(conn->cn_peer_chain, id, conn->cn_hs_log.base, conn->cn_hs_log.off,
			sig.pos, ktls_reader_left(&sig));
	if (ret)
		return ktls_fail(conn, ret, "CertificateVerify signature does not verify");
	conn->cn_peer_sigscheme = id;
	return ktls_transcript_add(conn, msg, len);
}

/* Installs one direction's keys from the key block (RFC 5246 6.3). */
static int ktls12_set_keys(struct ktls_conn *conn, int tx)
{
	int client_keys = tx == (conn->cn_role == KTLS_ROLE_CLIENT);
	struct ktls12_keys keys;
	int ret;

	ret = ktls12_key_block(conn->cn_suite, conn->cn_secret, conn->cn_client_random,
			       conn->cn_server_random, &keys);
	if (!ret)
		ret = ktls_protection_set12(tx ? &conn->cn_tx : &conn->cn_rx, conn->cn_suite,
					    client_keys ? keys.client_key : keys.server_key,
					    client_keys ? keys.client_iv : keys.server_iv, tx);
	kc_cleanse(&keys, sizeof(keys));
	return ret;
}

/* Flushes the flight, then ChangeCipherSpec and our Finished under the new keys. */
int ktls12_send_ccs_finished(struct ktls_conn *conn, struct ktls_buf *sendbuf)
{
	static const uint8_t ccs = 1;
	uint8_t th[KC_MAX_DIGEST], verify[KTLS12_VERIFY_DATA_LEN];
	struct ktls_buf *b = &conn->cn_flight;
	size_t msg;
	int ret;

	if ((ret = ktls_flush_flight(conn, sendbuf)) ||
	    (ret = ktls_record_write(&conn->cn_tx, sendbuf, KTLS_CT_CHANGE_CIPHER_SPEC, &ccs, 1)) ||
	    (ret = ktls12_set_keys(conn, 1)) ||
	    (ret = kc_hash_peek(conn->cn_transcript, th)) ||
	    (ret = ktls12_verify_data(conn->cn_suite->hash, conn->cn_secret,
				      conn->cn_role == KTLS_ROLE_SERVER, th, verify)) ||
	    (ret = ktls_msg_begin(b, KTLS_HS_FINISHED, &msg)) ||
	    (ret = ktls_buf_push(b, verify, sizeof(verify))) ||
	    (ret = ktls_msg_end(conn, b, msg)))
		goto out;
	ret = ktls_flush_flight(conn, sendbuf);
out:
	kc_cleanse(verify, sizeof(verify));
	return ret;
}

/* The peer's ChangeCipherSpec: its keys apply from the next record on. */
int ktls12_handle_ccs(struct ktls_conn *conn)
{
	int ret;

	switch (conn->cn_state) {
	case KTLS_STATE_CLIENT12_EXPECT_CCS:
		conn->cn_state = KTLS_STATE_CLIENT12_EXPECT_FINISHED;
		break;
	case KTLS_STATE_SERVER12_EXPECT_CCS:
		conn->cn_state = KTLS_STATE_SERVER12_EXPECT_FINISHED;
		break;
	default:
		return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
				 "unexpected change_cipher_spec");
	}
	if (conn->cn_hs_in.off)
		return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
				 "handshake data spans a key change");
	ret = ktls12_set_keys(conn, 0);
	conn->cn_rx_key_changed = 1;
	return ret;
}

int ktls12_handle_finished(struct ktls_conn *conn, const uint8_t *msg, size_t len)
{
	uint8_t th[KC_MAX_DIGEST], expect[KTLS12_VERIFY_DATA_LEN];
	int ret;

	if (len - 4 != KTLS12_VERIFY_DATA_LEN)
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "Finished of the wrong length");
	ret = kc_hash_peek(conn->cn_transcript, th);
	if (!ret)
		ret = ktls12_verify_data(conn->cn_suite->hash, conn->cn_secret,
					 conn->cn_role == KTLS_ROLE_CLIENT, th, expect);
	if (!ret && kc_memcmp(expect, msg + 4, sizeof(expect)))
		ret = ktls_fail(conn, KTLS_ALERT_DECRYPT_ERROR, "peer's Finished does not verify");
	kc_cleanse(expect, sizeof(expect));
	if (ret)
		return ret;
	return ktls_transcript_add(conn, msg, len);
}

/*
 * What a TLS 1.2 hello carries in either direction: ec_point_formats
 * (uncompressed only), extended_master_secret and an empty
 * renegotiation_info (we never renegotiate, RFC 5746 3.4, 3.6).
 */
int ktls12_write_hello_extensions(struct ktls_conn *conn, struct ktls_buf *b)
{
	size_t ext;
	int ret;

	if ((conn->cn_role == KTLS_ROLE_CLIENT || conn->cn_peer_point_formats) &&
	    ((ret = ktls_ext_begin(b, KTLS_EXT_EC_POINT_FORMATS, &ext)) ||
	     (ret = ktls_buf_push_u8(b, 1)) ||
	     (ret = ktls_buf_push_u8(b, 0)) ||
	     (ret = ktls_ext_end(b, ext))))
		return ret;
	if ((ret = ktls_ext_begin(b, KTLS_EXT_EXTENDED_MASTER_SECRET, &ext)) ||
	    (ret = ktls_ext_end(b, ext)) ||
	    (ret = ktls_ext_begin(b, KTLS_EXT_RENEGOTIATION_INFO, &ext)) ||
	    (ret = ktls_buf_push_u8(b, 0)) ||
	    (ret = ktls_ext_end(b, ext)))
		return ret;
	return 0;
}
