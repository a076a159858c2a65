// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The connection: the public entry points, the record loop that feeds
 * handshake messages to the role's dispatcher, post-handshake messages,
 * and key export for kTLS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"

struct ktls_conn *ktls_conn_new(struct ktls_config *cfg, enum ktls_role role)
{
	struct ktls_conn *conn;

	if (!cfg || (role != KTLS_ROLE_CLIENT && role != KTLS_ROLE_SERVER) || kc_init())
		return NULL;
	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return NULL;
	conn->cn_cfg = ktls_config_get(cfg);
	conn->cn_role = role;
	conn->cn_alpn_list = cfg->cf_alpn;
	conn->cn_alpn_list_len = cfg->cf_alpn_len;
	conn->cn_verify = role == KTLS_ROLE_CLIENT ? cfg->cf_verify : cfg->cf_verify_client;
	conn->cn_state = role == KTLS_ROLE_CLIENT ? KTLS_STATE_CLIENT_START :
						    KTLS_STATE_SERVER_EXPECT_CLIENT_HELLO;
	return conn;
}

static void conn_free_ticket(struct ktls_conn *conn)
{
	if (!conn->cn_ticket)
		return;
	kc_cleanse(conn->cn_ticket, sizeof(*conn->cn_ticket) + conn->cn_ticket->tk_len);
	free(conn->cn_ticket);
	conn->cn_ticket = NULL;
}

void ktls_conn_free(struct ktls_conn *conn)
{
	if (!conn)
		return;
	ktls_protection_clear(&conn->cn_tx);
	ktls_protection_clear(&conn->cn_rx);
	kc_hash_free(conn->cn_transcript);
	kc_kex_free(conn->cn_kex);
	kc_chain_free(conn->cn_peer_chain);
	ktls_buf_dispose(&conn->cn_client_hello);
	ktls_buf_dispose(&conn->cn_cookie);
	ktls_buf_dispose(&conn->cn_hs_in);
	ktls_buf_dispose(&conn->cn_flight);
	ktls_buf_dispose(&conn->cn_hs_log);
	free(conn->cn_server_name);
	free(conn->cn_alpn);
	free(conn->cn_alpn_list_owned);
	conn_free_ticket(conn);
	ktls_config_put(conn->cn_cfg);
	kc_cleanse(conn, sizeof(*conn));
	free(conn);
}

int ktls_conn_set_server_name(struct ktls_conn *conn, const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (conn->cn_role != KTLS_ROLE_CLIENT || conn->cn_state != KTLS_STATE_CLIENT_START)
		return KTLS_ERROR_STATE;
	if (!len || len > 255)
		return KTLS_ERROR_INVALID_ARGUMENT;
	free(conn->cn_server_name);
	conn->cn_server_name = strdup(name);
	return conn->cn_server_name ? 0 : KTLS_ERROR_NO_MEMORY;
}

int ktls_conn_set_alpn(struct ktls_conn *conn, const char *list)
{
	uint8_t wire[KTLS_MAX_ALPN_WIRE], *copy;
	size_t len;
	int ret;

	if (conn->cn_state != KTLS_STATE_CLIENT_START &&
	    conn->cn_state != KTLS_STATE_SERVER_EXPECT_CLIENT_HELLO)
		return KTLS_ERROR_STATE;
	ret = ktls_alpn_encode(list, wire, sizeof(wire), &len);
	if (ret)
		return ret;
	copy = len ? malloc(len) : NULL;
	if (len && !copy)
		return KTLS_ERROR_NO_MEMORY;
	if (len)
		memcpy(copy, wire, len);
	free(conn->cn_alpn_list_owned);
	conn->cn_alpn_list_owned = copy;
	conn->cn_alpn_list = copy;
	conn->cn_alpn_list_len = len;
	return 0;
}

int ktls_conn_set_verify(struct ktls_conn *conn, enum ktls_verify_policy policy)
{
	if (conn->cn_state != KTLS_STATE_CLIENT_START &&
	    conn->cn_state != KTLS_STATE_SERVER_EXPECT_CLIENT_HELLO)
		return KTLS_ERROR_STATE;
	switch (policy) {
	case KTLS_VERIFY_REQUIRED:
	case KTLS_VERIFY_OPTIONAL:
	case KTLS_VERIFY_NONE:
		conn->cn_verify = policy;
		return 0;
	default:
		return KTLS_ERROR_INVALID_ARGUMENT;
	}
}

void ktls_conn_set_test_hooks(struct ktls_conn *conn, const struct ktls_test_hooks *hooks)
{
	conn->cn_hooks = hooks;
}

static int conn_is_established(const struct ktls_conn *conn)
{
	return conn->cn_state == KTLS_STATE_POST_HANDSHAKE || conn->cn_state == KTLS_STATE_CLOSED;
}

int ktls_handshake_is_complete(const struct ktls_conn *conn)
{
	return conn_is_established(conn);
}

static int conn_send_alert(struct ktls_conn *conn, struct ktls_buf *sendbuf, uint8_t level,
			   uint8_t desc)
{
	uint8_t alert[2] = { level, desc };

	return ktls_record_write(&conn->cn_tx, sendbuf, KTLS_CT_ALERT, alert, sizeof(alert));
}

/*
 * Ends the connection after @err: our own alert goes out (internal_error
 * for local failures), nothing of a half-built flight does.
 */
int ktls_conn_fail(struct ktls_conn *conn, struct ktls_buf *sendbuf, int err)
{
	uint8_t desc = KTLS_ALERT_INTERNAL_ERROR;

	if (conn->cn_state == KTLS_STATE_FAILED)
		return conn->cn_error;
	if (KTLS_ERROR_IS_SELF_ALERT(err))
		desc = (uint8_t)err;
	/* With kTLS TX our sequence numbers are the kernel's: install.c sends it. */
	if (!KTLS_ERROR_IS_PEER_ALERT(err) && err != KTLS_ERROR_CONFIG &&
	    err != KTLS_ERROR_INVALID_ARGUMENT && !conn->cn_kernel_tx)
		conn_send_alert(conn, sendbuf, 2, desc);
	if (!KTLS_ERROR_IS_SELF_ALERT(err) && !KTLS_ERROR_IS_PEER_ALERT(err))
		ktls_fail(conn, err, "%s", ktls_error_string(err));
	ktls_buf_dispose(&conn->cn_flight);
	ktls_buf_dispose(&conn->cn_hs_in);
	ktls_buf_dispose(&conn->cn_hs_log);
	kc_cleanse(conn->cn_secret, sizeof(conn->cn_secret));
	kc_cleanse(conn->cn_client_ap, sizeof(conn->cn_client_ap));
	kc_cleanse(conn->cn_premaster, sizeof(conn->cn_premaster));
	conn->cn_error = err;
	conn->cn_state = KTLS_STATE_FAILED;
	return err;
}

int ktls_conn_alert(struct ktls_conn *conn, const uint8_t *frag, size_t len)
{
	if (len != 2)
		return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "malformed alert");
	if (frag[1] == KTLS_ALERT_CLOSE_NOTIFY && conn_is_established(conn))
		return KTLS_ERROR_CLOSED;
	return ktls_fail(conn, KTLS_ERROR_PEER_ALERT(frag[1]), "peer sent alert %s",
			 ktls_alert_name(frag[1]));
}

static int conn_handle_new_session_ticket(struct ktls_conn *conn, const uint8_t *msg,
					  size_t len)
{
	struct ktls_reader r, nonce, ticket, exts;
	uint32_t lifetime, age_add;
	struct ktls_ticket *tk;
	size_t ticket_len;
	int ret;

	if (conn->cn_role != KTLS_ROLE_CLIENT)
		return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
				 "NewSessionTicket sent to a server");
	ktls_reader_init(&r, msg + 4, len - 4);
	if ((ret = ktls_read_u32(&r, &lifetime)) ||
	    (ret = ktls_read_u32(&r, &age_add)) ||
	    (ret = ktls_read_block(&r, 1, 0, &nonce)) ||
	    (ret = ktls_read_block(&r, 2, 1, &ticket)) ||
	    (ret = ktls_read_block(&r, 2, 0, &exts)) ||
	    (ret = ktls_read_end(&r)))
		return ktls_fail(conn, ret, "malformed NewSessionTicket");
	/* At most seven days (RFC 8446 4.6.1). */
	if (lifetime > 604800)
		return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER, "ticket lifetime too long");
	/* The newest is kept; without resumption there is no use for more. */
	ticket_len = ktls_reader_left(&ticket);
	tk = malloc(sizeof(*tk) + ticket_len);
	if (!tk)
		return KTLS_ERROR_NO_MEMORY;
	tk->tk_lifetime = lifetime;
	tk->tk_age_add = age_add;
	tk->tk_nonce_len = (uint8_t)ktls_reader_left(&nonce);
	memcpy(tk->tk_nonce, nonce.pos, tk->tk_nonce_len);
	tk->tk_len = ticket_len;
	memcpy(tk->tk_ticket, ticket.pos, ticket_len);
	conn_free_ticket(conn);
	conn->cn_ticket = tk;
	conn->cn_ticket_count++;
	return 0;
}

static int conn_write_key_update(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				 int request_update)
{
	uint8_t msg[5] = { KTLS_HS_KEY_UPDATE, 0, 0, 1, (uint8_t)!!request_update };
	int ret;

	ret = ktls_record_write(&conn->cn_tx, sendbuf, KTLS_CT_HANDSHAKE, msg, sizeof(msg));
	if (!ret)
		ret = ktls_update_traffic_secret(conn->cn_suite->hash, conn->cn_tx.secret);
	if (!ret)
		ret = ktls_protection_set(&conn->cn_tx, conn->cn_suite, conn->cn_tx.secret, 1);
	return ret;
}

static int conn_handle_key_update(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				  const uint8_t *msg, size_t len)
{
	int ret;

	if (len != 5 || msg[4] > 1)
		return ktls_fail(conn, len != 5 ? KTLS_ALERT_DECODE_ERROR :
				 KTLS_ALERT_ILLEGAL_PARAMETER, "malformed KeyUpdate");
	ret = ktls_update_traffic_secret(conn->cn_suite->hash, conn->cn_rx.secret);
	if (!ret)
		ret = ktls_protection_set(&conn->cn_rx, conn->cn_suite, conn->cn_rx.secret, 0);
	conn->cn_rx_key_changed = 1;
	if (ret || !msg[4] || conn->cn_sent_close_notify)
		return ret;
	/* With kTLS TX the answer must go through the kernel: install.c sends it. */
	if (conn->cn_kernel_tx) {
		conn->cn_key_update_owed = 1;
		return 0;
	}
	return conn_write_key_update(conn, sendbuf, 0);
}

/* TLS 1.2 after the handshake: renegotiation is refused (RFC 5746 4.2, 4.4). */
static int conn_handle_post_handshake12(struct ktls_conn *conn, const uint8_t *msg)
{
	int is_client = conn->cn_role == KTLS_ROLE_CLIENT;

	if (msg[0] == (is_client ? KTLS_HS_HELLO_REQUEST : KTLS_HS_CLIENT_HELLO))
		return ktls_fail(conn, KTLS_ALERT_NO_RENEGOTIATION, "renegotiation refused");
	return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
			 "unexpected post-handshake message %u", msg[0]);
}

static int conn_handle_post_handshake(struct ktls_conn *conn, struct ktls_buf *sendbuf,
				      const uint8_t *msg, size_t len)
{
	if (conn->cn_version == KTLS_VERSION_TLS12)
		return conn_handle_post_handshake12(conn, msg);
	switch (msg[0]) {
	case KTLS_HS_NEW_SESSION_TICKET:
		return conn_handle_new_session_ticket(conn, msg, len);
	case KTLS_HS_KEY_UPDATE:
		return conn_handle_key_update(conn, sendbuf, msg, len);
	default:
		return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
				 "unexpected post-handshake message %u", msg[0]);
	}
}

/*
 * Reassembles handshake messages across records and hands each whole one
 * to the state machine. A message may not span a key change.
 */
int ktls_conn_handshake_fragment(struct ktls_conn *conn, struct ktls_buf *sendbuf,
					  const uint8_t *frag, size_t len)
{
	struct ktls_buf *in = &conn->cn_hs_in;
	size_t msg_len;
	int ret;

	if (!len)
		return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE, "empty handshake record");
	ret = ktls_buf_push(in, frag, len);
	if (ret)
		return ret;
	while (in->off >= 4) {
		msg_len = (size_t)in->base[1] << 16 | (size_t)in->base[2] << 8 | in->base[3];
		if (msg_len > KTLS_MAX_HANDSHAKE_MESSAGE)
			return ktls_fail(conn, KTLS_ALERT_ILLEGAL_PARAMETER,
					 "handshake message of %zu bytes exceeds the limit", msg_len);
		if (in->off < 4 + msg_len)
			return 0;
		conn->cn_rx_key_changed = 0;
		if (conn_is_established(conn))
			ret = conn_handle_post_handshake(conn, sendbuf, in->base, 4 + msg_len);
		else if (conn->cn_role == KTLS_ROLE_CLIENT)
			ret = ktls_client_handle_message(conn, sendbuf, in->base, 4 + msg_len);
		else
			ret = ktls_server_handle_message(conn, sendbuf, in->base, 4 + msg_len);
		ktls_buf_shift(in, 4 + msg_len);
		if (ret)
			return ret;
		if (conn->cn_rx_key_changed && in->off)
			return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
					 "handshake data spans a key change");
	}
	return 0;
}

static int conn_handle_ccs(struct ktls_conn *conn, const uint8_t *frag, size_t len)
{
	int before_first_hello = conn->cn_state == KTLS_STATE_SERVER_EXPECT_CLIENT_HELLO;

	/* In TLS 1.2 it switches the peer's keys; it may come only where expected. */
	if (conn->cn_version == KTLS_VERSION_TLS12 && !conn_is_established(conn)) {
		if (len != 1 || frag[0] != 1)
			return ktls_fail(conn, KTLS_ALERT_DECODE_ERROR, "malformed change_cipher_spec");
		return ktls12_handle_ccs(conn);
	}

	/* Dropped once, as RFC 8446 5 says; never after the handshake. */
	if (len != 1 || frag[0] != 1 || before_first_hello || conn->cn_received_ccs ||
	    conn_is_established(conn))
		return ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
				 "unexpected change_cipher_spec");
	conn->cn_received_ccs = 1;
	return 0;
}

int ktls_handshake(struct ktls_conn *conn, struct ktls_buf *sendbuf,
		   const void *input, size_t *inlen)
{
	uint8_t scratch[KTLS_MAX_CIPHERTEXT_13];
	const uint8_t *in = input, *frag;
	size_t avail = *inlen, off = 0, consumed, frag_len;
	uint8_t type;
	int ret = 0;

	*inlen = 0;
	if (conn->cn_state == KTLS_STATE_FAILED)
		return KTLS_ERROR_FAILED;
	if (conn_is_established(conn))
		return 0;
	if (conn->cn_state == KTLS_STATE_CLIENT_START) {
		ret = ktls_client_start(conn, sendbuf);
		if (ret)
			goto out_abort;
	}
	while (!conn_is_established(conn)) {
		/* Input may be NULL with no bytes: no arithmetic on it (UB). */
		if (off == avail)
			break;
		ret = ktls_record_read(&conn->cn_rx, in + off, avail - off, &consumed, scratch,
				       &type, &frag, &frag_len);
		if (ret == KTLS_ERROR_IN_PROGRESS)
			break;
		if (ret) {
			ktls_fail(conn, ret, "bad record from the peer");
			goto out_abort;
		}
		off += consumed;
		switch (type) {
		case KTLS_CT_HANDSHAKE:
			ret = ktls_conn_handshake_fragment(conn, sendbuf, frag, frag_len);
			break;
		case KTLS_CT_CHANGE_CIPHER_SPEC:
			ret = conn_handle_ccs(conn, frag, frag_len);
			break;
		case KTLS_CT_ALERT:
			ret = ktls_conn_alert(conn, frag, frag_len);
			break;
		default:
			ret = ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
					"application data before the handshake completed");
			break;
		}
		/* Only what this record decrypted needs wiping, not all 16 KiB. */
		if (frag == scratch)
			kc_cleanse(scratch, consumed);
		if (ret)
			goto out_abort;
	}
	*inlen = off;
	return conn_is_established(conn) ? 0 : KTLS_ERROR_IN_PROGRESS;

out_abort:
	*inlen = off;
	return ktls_conn_fail(conn, sendbuf, ret);
}

int ktls_send(struct ktls_conn *conn, struct ktls_buf *sendbuf, const void *data, size_t len)
{
	if (conn->cn_state == KTLS_STATE_FAILED)
		return KTLS_ERROR_FAILED;
	if (!conn_is_established(conn) || conn->cn_sent_close_notify || conn->cn_kernel_tx)
		return KTLS_ERROR_STATE;
	return ktls_record_write(&conn->cn_tx, sendbuf, KTLS_CT_APPLICATION_DATA, data, len);
}

int ktls_receive(struct ktls_conn *conn, struct ktls_buf *plaintext,
		 struct ktls_buf *sendbuf, const void *input, size_t *inlen)
{
	const uint8_t *in = input, *frag;
	size_t avail = *inlen, off = 0, consumed, frag_len, start = plaintext->off;
	uint8_t type;
	int ret = 0;

	*inlen = 0;
	if (conn->cn_state == KTLS_STATE_FAILED)
		return KTLS_ERROR_FAILED;
	if (conn->cn_state == KTLS_STATE_CLOSED)
		return KTLS_ERROR_CLOSED;
	if (!conn_is_established(conn) || conn->cn_kernel_rx)
		return KTLS_ERROR_STATE;
	for (;;) {
		if (off == avail)	/* also keeps a NULL @input out of arithmetic */
			break;
		/* Decrypt straight into the caller's buffer. */
		ret = ktls_buf_reserve(plaintext, KTLS_MAX_CIPHERTEXT_13);
		if (ret)
			goto out_abort;
		ret = ktls_record_read(&conn->cn_rx, in + off, avail - off, &consumed,
				       plaintext->base + plaintext->off, &type, &frag, &frag_len);
		if (ret == KTLS_ERROR_IN_PROGRESS)
			break;
		if (ret) {
			ktls_fail(conn, ret, "bad record from the peer");
			goto out_abort;
		}
		if (type != KTLS_CT_HANDSHAKE && conn->cn_hs_in.off) {
			ret = ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
					"record interleaved with a handshake message");
			goto out_abort;
		}
		switch (type) {
		case KTLS_CT_APPLICATION_DATA:
			off += consumed;
			plaintext->off += frag_len;
			continue;
		case KTLS_CT_HANDSHAKE:
			off += consumed;
			ret = ktls_conn_handshake_fragment(conn, sendbuf, frag, frag_len);
			kc_cleanse(plaintext->base + plaintext->off, frag_len);
			break;
		case KTLS_CT_ALERT:
			ret = ktls_conn_alert(conn, frag, frag_len);
			kc_cleanse(plaintext->base + plaintext->off, frag_len);
			if (ret == KTLS_ERROR_CLOSED) {
				/* Data before close_notify is delivered first; the close next call. */
				if (plaintext->off != start) {
					/* undo the decryption so the record is read again */
					conn->cn_rx.seq--;
					*inlen = off;
					return 0;
				}
				off += consumed;
				conn->cn_state = KTLS_STATE_CLOSED;
				*inlen = off;
				return KTLS_ERROR_CLOSED;
			}
			off += consumed;
			break;
		default:
			off += consumed;
			ret = ktls_fail(conn, KTLS_ALERT_UNEXPECTED_MESSAGE,
					"change_cipher_spec after the handshake");
			break;
		}
		if (ret)
			goto out_abort;
	}
	*inlen = off;
	return 0;

out_abort:
	*inlen = off;
	return ktls_conn_fail(conn, sendbuf, ret);
}

int ktls_send_close_notify(struct ktls_conn *conn, struct ktls_buf *sendbuf)
{
	int ret;

	if (!conn_is_established(conn) || conn->cn_kernel_tx)
		return KTLS_ERROR_STATE;
	if (conn->cn_sent_close_notify)
		return 0;
	ret = conn_send_alert(conn, sendbuf, 1, KTLS_ALERT_CLOSE_NOTIFY);
	if (!ret)
		conn->cn_sent_close_notify = 1;
	return ret;
}

int ktls_send_key_update(struct ktls_conn *conn, struct ktls_buf *sendbuf, int request_update)
{
	if (!conn_is_established(conn) || conn->cn_sent_close_notify || conn->cn_kernel_tx ||
	    conn->cn_version != KTLS_VERSION_TLS13)
		return KTLS_ERROR_STATE;
	return conn_write_key_update(conn, sendbuf, request_update);
}

/* ---- what was negotiated ---- */

uint16_t ktls_get_version(const struct ktls_conn *conn)
{
	return conn->cn_version;
}

const char *ktls_get_version_name(const struct ktls_conn *conn)
{
	switch (conn->cn_version) {
	case KTLS_VERSION_TLS13:
		return "TLSv1.3";
	case KTLS_VERSION_TLS12:
		return "TLSv1.2";
	default:
		return NULL;
	}
}

const char *ktls_get_cipher_name(const struct ktls_conn *conn)
{
	return conn->cn_suite ? conn->cn_suite->name : NULL;
}

const char *ktls_get_group_name(const struct ktls_conn *conn)
{
	return conn->cn_group ? conn->cn_group->name : NULL;
}

const char *ktls_get_sigalg_name(const struct ktls_conn *conn)
{
	uint16_t id = conn->cn_role == KTLS_ROLE_CLIENT ? conn->cn_peer_sigscheme :
							  conn->cn_own_sigscheme;
	const struct ktls_sigscheme *s = ktls_sigscheme_by_id(id);

	return s ? s->name : NULL;
}

const char *ktls_get_alpn(const struct ktls_conn *conn)
{
	return conn->cn_alpn;
}

const char *ktls_get_server_name(const struct ktls_conn *conn)
{
	return conn->cn_server_name;
}

int ktls_get_hrr(const struct ktls_conn *conn)
{
	return conn->cn_did_hrr;
}

const char *ktls_get_peer_subject(const struct ktls_conn *conn)
{
	return conn->cn_peer_subject[0] ? conn->cn_peer_subject : NULL;
}

size_t ktls_get_peer_cert_count(const struct ktls_conn *conn)
{
	return conn->cn_peer_chain ? kc_chain_count(conn->cn_peer_chain) : 0;
}

int ktls_get_peer_cert(const struct ktls_conn *conn, size_t index,
		       const uint8_t **der, size_t *der_len)
{
	if (index >= ktls_get_peer_cert_count(conn))
		return KTLS_ERROR_INVALID_ARGUMENT;
	return kc_chain_der(conn->cn_peer_chain, index, der, der_len);
}

long ktls_get_verify_result(const struct ktls_conn *conn)
{
	return conn->cn_verify_result;
}

size_t ktls_get_ticket_count(const struct ktls_conn *conn)
{
	return conn->cn_ticket_count;
}

int ktls_get_ticket(const struct ktls_conn *conn, uint32_t *lifetime,
		    const uint8_t **ticket, size_t *ticket_len)
{
	if (!conn->cn_ticket)
		return KTLS_ERROR_STATE;
	*lifetime = conn->cn_ticket->tk_lifetime;
	*ticket = conn->cn_ticket->tk_ticket;
	*ticket_len = conn->cn_ticket->tk_len;
	return 0;
}

int ktls_get_error(const struct ktls_conn *conn)
{
	return conn ? conn->cn_error : 0;
}

int ktls_peer_closed(const struct ktls_conn *conn)
{
	return conn->cn_state == KTLS_STATE_CLOSED;
}

const char *ktls_get_error_detail(const struct ktls_conn *conn)
{
	return conn ? conn->cn_detail : "";
}

/* ---- key export for kTLS ---- */

int ktls_export_crypto_info(const struct ktls_conn *conn, enum ktls_direction dir,
			    union ktls_crypto_info *info, size_t *info_len)
{
	const struct ktls_protection *p = dir == KTLS_DIR_TX ? &conn->cn_tx : &conn->cn_rx;
	uint8_t seq[8];
	int i;

	if (!conn_is_established(conn) || !p->suite)
		return KTLS_ERROR_STATE;
	for (i = 0; i < 8; i++)
		seq[i] = (uint8_t)(p->seq >> (56 - 8 * i));
	memset(info, 0, sizeof(*info));
	info->info.version = p->tls12 ? TLS_1_2_VERSION : TLS_1_3_VERSION;
	info->info.cipher_type = p->suite->kernel_cipher_type;
	/*
	 * TLS 1.3 and TLS 1.2 ChaCha20: kTLS takes the 12-byte IV as salt (4)
	 * + iv (8), or whole. TLS 1.2 GCM: salt is the implicit 4 bytes and iv
	 * the next explicit nonce, which we keep equal to the sequence number.
	 */
	switch (p->suite->kernel_cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		memcpy(info->aes_gcm_128.salt, p->iv, TLS_CIPHER_AES_GCM_128_SALT_SIZE);
		memcpy(info->aes_gcm_128.iv, p->tls12 ? seq : p->iv + 4,
		       TLS_CIPHER_AES_GCM_128_IV_SIZE);
		memcpy(info->aes_gcm_128.key, p->key, TLS_CIPHER_AES_GCM_128_KEY_SIZE);
		memcpy(info->aes_gcm_128.rec_seq, seq, sizeof(seq));
		*info_len = sizeof(info->aes_gcm_128);
		return 0;
	case TLS_CIPHER_AES_GCM_256:
		memcpy(info->aes_gcm_256.salt, p->iv, TLS_CIPHER_AES_GCM_256_SALT_SIZE);
		memcpy(info->aes_gcm_256.iv, p->tls12 ? seq : p->iv + 4,
		       TLS_CIPHER_AES_GCM_256_IV_SIZE);
		memcpy(info->aes_gcm_256.key, p->key, TLS_CIPHER_AES_GCM_256_KEY_SIZE);
		memcpy(info->aes_gcm_256.rec_seq, seq, sizeof(seq));
		*info_len = sizeof(info->aes_gcm_256);
		return 0;
	case TLS_CIPHER_CHACHA20_POLY1305:
		memcpy(info->chacha20_poly1305.iv, p->iv, TLS_CIPHER_CHACHA20_POLY1305_IV_SIZE);
		memcpy(info->chacha20_poly1305.key, p->key, TLS_CIPHER_CHACHA20_POLY1305_KEY_SIZE);
		memcpy(info->chacha20_poly1305.rec_seq, seq, sizeof(seq));
		*info_len = sizeof(info->chacha20_poly1305);
		return 0;
	default:
		return KTLS_ERROR_STATE;
	}
}

uint64_t ktls_get_record_seq(const struct ktls_conn *conn, enum ktls_direction dir)
{
	return dir == KTLS_DIR_TX ? conn->cn_tx.seq : conn->cn_rx.seq;
}

/* ---- errors ---- */

static const char *const ktls_alert_names[256] = {
	[KTLS_ALERT_CLOSE_NOTIFY] = "close_notify",
	[KTLS_ALERT_UNEXPECTED_MESSAGE] = "unexpected_message",
	[KTLS_ALERT_BAD_RECORD_MAC] = "bad_record_mac",
	[KTLS_ALERT_RECORD_OVERFLOW] = "record_overflow",
	[KTLS_ALERT_HANDSHAKE_FAILURE] = "handshake_failure",
	[KTLS_ALERT_BAD_CERTIFICATE] = "bad_certificate",
	[KTLS_ALERT_UNSUPPORTED_CERTIFICATE] = "unsupported_certificate",
	[KTLS_ALERT_CERTIFICATE_REVOKED] = "certificate_revoked",
	[KTLS_ALERT_CERTIFICATE_EXPIRED] = "certificate_expired",
	[KTLS_ALERT_CERTIFICATE_UNKNOWN] = "certificate_unknown",
	[KTLS_ALERT_ILLEGAL_PARAMETER] = "illegal_parameter",
	[KTLS_ALERT_UNKNOWN_CA] = "unknown_ca",
	[KTLS_ALERT_ACCESS_DENIED] = "access_denied",
	[KTLS_ALERT_DECODE_ERROR] = "decode_error",
	[KTLS_ALERT_DECRYPT_ERROR] = "decrypt_error",
	[KTLS_ALERT_PROTOCOL_VERSION] = "protocol_version",
	[KTLS_ALERT_INSUFFICIENT_SECURITY] = "insufficient_security",
	[KTLS_ALERT_INTERNAL_ERROR] = "internal_error",
	[KTLS_ALERT_INAPPROPRIATE_FALLBACK] = "inappropriate_fallback",
	[KTLS_ALERT_USER_CANCELED] = "user_canceled",
	[KTLS_ALERT_NO_RENEGOTIATION] = "no_renegotiation",
	[KTLS_ALERT_MISSING_EXTENSION] = "missing_extension",
	[KTLS_ALERT_UNSUPPORTED_EXTENSION] = "unsupported_extension",
	[KTLS_ALERT_UNRECOGNIZED_NAME] = "unrecognized_name",
	[KTLS_ALERT_BAD_CERTIFICATE_STATUS] = "bad_certificate_status_response",
	[KTLS_ALERT_UNKNOWN_PSK_IDENTITY] = "unknown_psk_identity",
	[KTLS_ALERT_CERTIFICATE_REQUIRED] = "certificate_required",
	[KTLS_ALERT_NO_APPLICATION_PROTOCOL] = "no_application_protocol",
};

const char *ktls_alert_name(int alert)
{
	if (alert < 0 || alert > 255 || !ktls_alert_names[alert])
		return "unknown_alert";
	return ktls_alert_names[alert];
}

static const struct {
	int code;
	int err;	/* negative errno */
	const char *text;
} ktls_internal_errors[] = {
	{ KTLS_ERROR_NO_MEMORY, -ENOMEM, "out of memory" },
	{ KTLS_ERROR_IN_PROGRESS, -EAGAIN, "handshake in progress" },
	{ KTLS_ERROR_LIBRARY, -EIO, "crypto library failure" },
	{ KTLS_ERROR_INVALID_ARGUMENT, -EINVAL, "invalid argument" },
	{ KTLS_ERROR_CLOSED, -ECONNRESET, "peer closed the connection" },
	{ KTLS_ERROR_CONFIG, -EINVAL, "unusable configuration" },
	{ KTLS_ERROR_STATE, -EINVAL, "not valid in this connection state" },
	{ KTLS_ERROR_FAILED, -EPROTO, "connection already failed" },
};

static int ktls_alert_is_certificate(int alert)
{
	switch (alert) {
	case KTLS_ALERT_BAD_CERTIFICATE:
	case KTLS_ALERT_UNSUPPORTED_CERTIFICATE:
	case KTLS_ALERT_CERTIFICATE_REVOKED:
	case KTLS_ALERT_CERTIFICATE_EXPIRED:
	case KTLS_ALERT_CERTIFICATE_UNKNOWN:
	case KTLS_ALERT_UNKNOWN_CA:
	case KTLS_ALERT_CERTIFICATE_REQUIRED:
		return 1;
	default:
		return 0;
	}
}

const char *ktls_error_string(int err)
{
	size_t i;

	if (err == 0)
		return "success";
	if (KTLS_ERROR_IS_SELF_ALERT(err) || KTLS_ERROR_IS_PEER_ALERT(err))
		return ktls_alert_name(err & 0xff);
	for (i = 0; i < KTLS_ARRAY_SIZE(ktls_internal_errors); i++)
		if (ktls_internal_errors[i].code == err)
			return ktls_internal_errors[i].text;
	return "unknown error";
}

int ktls_error_to_errno(int err)
{
	size_t i;

	if (err == 0)
		return 0;
	/* Our verdict on the peer's certificate, or the peer's on ours. */
	if (KTLS_ERROR_IS_SELF_ALERT(err) && ktls_alert_is_certificate(err))
		return -EKEYREJECTED;
	if (KTLS_ERROR_IS_PEER_ALERT(err)) {
		int alert = err & 0xff;

		if (ktls_alert_is_certificate(alert) || alert == KTLS_ALERT_ACCESS_DENIED ||
		    alert == KTLS_ALERT_HANDSHAKE_FAILURE)
			return -EACCES;
		if (alert == KTLS_ALERT_CLOSE_NOTIFY)
			return -ECONNRESET;
		return -EPROTO;
	}
	if (KTLS_ERROR_IS_SELF_ALERT(err))
		return -EPROTO;
	for (i = 0; i < KTLS_ARRAY_SIZE(ktls_internal_errors); i++)
		if (ktls_internal_errors[i].code == err)
			return ktls_internal_errors[i].err;
	return -EPROTO;
}
