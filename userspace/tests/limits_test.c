// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every limit of Documentation/libktls.rst ("Limits"), hit in memory with
 * crafted messages: the handshake message size and the data buffered for
 * it, the chain length, the extension count, the key share count, one
 * HelloRetryRequest per handshake (both roles), and the record sizes.
 * Each limit is tested at its value (accepted) and one past it (refused
 * with the documented alert). Uses the certificates committed for the
 * fuzzers (userspace/fuzz/certs, Ed25519 leaves).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"
#include "tap.h"

#define CERTS "userspace/fuzz/certs"

static struct ktls_config *server_config(const char *groups)
{
	struct ktls_config *cfg = ktls_config_new();

	if (ktls_config_add_identity(cfg, CERTS "/server.pem", CERTS "/server.key"))
		tap_diag("identity: %s", ktls_config_error(cfg));
	if (groups)
		ktls_config_set_groups(cfg, groups);
	return cfg;
}

static struct ktls_conn *new_conn(struct ktls_config *cfg, enum ktls_role role)
{
	struct ktls_conn *conn = ktls_conn_new(cfg, role);

	ktls_config_free(cfg);	/* the connection holds its own reference */
	return conn;
}

/* Plaintext records of @type carrying @data, at most @frag bytes each. */
static void records(struct ktls_buf *out, uint8_t type, const uint8_t *data, size_t len,
		    size_t frag)
{
	uint8_t hdr[5] = { type, 3, 3 };
	size_t n;

	do {
		n = len < frag ? len : frag;
		hdr[3] = (uint8_t)(n >> 8);
		hdr[4] = (uint8_t)n;
		ktls_buf_push(out, hdr, 5);
		ktls_buf_push(out, data, n);
		data += n;
		len -= n;
	} while (len);
}

static int feed(struct ktls_conn *conn, const struct ktls_buf *wire)
{
	struct ktls_buf out;
	size_t n = wire->off;
	int ret;

	ktls_buf_init(&out, NULL, 0);
	ret = ktls_handshake(conn, &out, wire->base, &n);
	ktls_buf_dispose(&out);
	return ret;
}

static int detail_has(const struct ktls_conn *conn, const char *what)
{
	return strstr(ktls_get_error_detail(conn), what) != NULL;
}

/* ---- handshake message size and buffered data ---- */

static void test_message_size(void)
{
	static uint8_t body[KTLS_MAX_HANDSHAKE_MESSAGE + 4];
	struct ktls_conn *conn;
	struct ktls_buf wire;
	uint32_t len;
	int ret;

	for (len = KTLS_MAX_HANDSHAKE_MESSAGE; len <= KTLS_MAX_HANDSHAKE_MESSAGE + 1; len++) {
		conn = new_conn(server_config(NULL), KTLS_ROLE_SERVER);
		ktls_buf_init(&wire, NULL, 0);
		memset(body, 0x41, sizeof(body));
		body[0] = KTLS_HS_CLIENT_HELLO;
		body[1] = (uint8_t)(len >> 16);
		body[2] = (uint8_t)(len >> 8);
		body[3] = (uint8_t)len;
		/* All but the last byte: the message is still incomplete. */
		records(&wire, KTLS_CT_HANDSHAKE, body, 4 + (len < sizeof(body) - 4 ?
							    len : sizeof(body) - 4) - 1,
			KTLS_MAX_PLAINTEXT);
		ret = feed(conn, &wire);
		if (len == KTLS_MAX_HANDSHAKE_MESSAGE) {
			tap_ok(ret == KTLS_ERROR_IN_PROGRESS,
			       "handshake message of exactly 64 KiB is buffered (%s)",
			       ktls_error_string(ret));
			/* The buffer grows by doubling: 128 KiB allocated at most. */
			tap_ok(conn->cn_hs_in.off <= 4 + KTLS_MAX_HANDSHAKE_MESSAGE &&
			       conn->cn_hs_in.capacity <= 2 * KTLS_MAX_HANDSHAKE_MESSAGE,
			       "buffered handshake data stays within one message "
			       "(%zu bytes held, %zu allocated)", conn->cn_hs_in.off,
			       conn->cn_hs_in.capacity);
		} else {
			tap_ok(ret == KTLS_ALERT_ILLEGAL_PARAMETER,
			       "handshake message of 64 KiB + 1 is refused: %s (%s)",
			       ktls_error_string(ret), ktls_get_error_detail(conn));
			tap_ok(conn->cn_hs_in.off == 0, "and nothing stays buffered");
		}
		ktls_buf_dispose(&wire);
		ktls_conn_free(conn);
	}
}

/* ---- record sizes ---- */

static void test_record_size(void)
{
	static uint8_t junk[KTLS_MAX_PLAINTEXT + 1];
	struct ktls_conn *conn;
	struct ktls_buf wire;
	int ret;

	conn = new_conn(server_config(NULL), KTLS_ROLE_SERVER);
	ktls_buf_init(&wire, NULL, 0);
	records(&wire, KTLS_CT_HANDSHAKE, junk, sizeof(junk), sizeof(junk));
	ret = feed(conn, &wire);
	tap_ok(ret == KTLS_ALERT_RECORD_OVERFLOW, "plaintext record of 2^14 + 1 bytes: %s",
	       ktls_error_string(ret));
	ktls_buf_dispose(&wire);
	ktls_conn_free(conn);
}

/* ---- extensions ---- */

static int count_ext(struct ktls_conn *conn, void *ctx, uint16_t type, struct ktls_reader *body)
{
	(*(size_t *)ctx)++;
	body->pos = body->end;
	return 0;
}

static void test_extension_count(void)
{
	struct ktls_conn *conn;
	struct ktls_reader r;
	struct ktls_buf b;
	size_t n, seen;
	int ret;

	for (n = KTLS_MAX_EXTENSIONS; n <= KTLS_MAX_EXTENSIONS + 1; n++) {
		conn = new_conn(server_config(NULL), KTLS_ROLE_SERVER);
		ktls_buf_init(&b, NULL, 0);
		for (seen = 0; seen < n; seen++) {
			ktls_buf_push_u16(&b, (uint16_t)(0x1000 + seen));
			ktls_buf_push_u16(&b, 0);
		}
		seen = 0;
		ktls_reader_init(&r, b.base, b.off);
		ret = ktls_for_each_extension(conn, &r, count_ext, &seen);
		if (n == KTLS_MAX_EXTENSIONS)
			tap_ok(!ret && seen == n, "%zu extensions are accepted", n);
		else
			tap_ok(ret == KTLS_ALERT_DECODE_ERROR && seen == KTLS_MAX_EXTENSIONS,
			       "%zu extensions: %s after %zu", n, ktls_error_string(ret), seen);
		ktls_buf_dispose(&b);
		ktls_conn_free(conn);
	}
	conn = new_conn(server_config(NULL), KTLS_ROLE_SERVER);
	ktls_buf_init(&b, NULL, 0);
	ktls_buf_push_u16(&b, 0x1234);
	ktls_buf_push_u16(&b, 0);
	ktls_buf_push_u16(&b, 0x1234);
	ktls_buf_push_u16(&b, 0);
	ktls_reader_init(&r, b.base, b.off);
	seen = 0;
	ret = ktls_for_each_extension(conn, &r, count_ext, &seen);
	tap_ok(ret == KTLS_ALERT_ILLEGAL_PARAMETER, "an extension type twice: %s",
	       ktls_error_string(ret));
	ktls_buf_dispose(&b);
	ktls_conn_free(conn);
}

/* ---- ClientHello crafting: key shares, HelloRetryRequest ---- */

static void ext_begin(struct ktls_buf *b, uint16_t type, size_t *mark)
{
	ktls_buf_push_u16(b, type);
	ktls_buf_open_block(b, 2, mark);
}

/*
 * A TLS 1.3 ClientHello offering x25519, secp256r1 and @fake other groups, with a
 * key share for x25519 and for the first @fake_shares fake groups.
 */
static void client_hello(struct ktls_buf *wire, size_t fake, size_t fake_shares)
{
	static const uint8_t x25519_pub[32] = { 9 };	/* the base point: a valid key */
	struct ktls_buf m;
	size_t msg, exts, e, list, i;
	uint8_t random[32] = { 1 };

	ktls_buf_init(&m, NULL, 0);
	ktls_buf_push_u8(&m, KTLS_HS_CLIENT_HELLO);
	ktls_buf_open_block(&m, 3, &msg);
	ktls_buf_push_u16(&m, 0x0303);
	ktls_buf_push(&m, random, sizeof(random));
	ktls_buf_push_u8(&m, 0);			/* legacy_session_id */
	ktls_buf_push_u16(&m, 2);
	ktls_buf_push_u16(&m, 0x1301);			/* TLS_AES_128_GCM_SHA256 */
	ktls_buf_push_u8(&m, 1);
	ktls_buf_push_u8(&m, 0);			/* null compression */
	ktls_buf_open_block(&m, 2, &exts);
	ext_begin(&m, KTLS_EXT_SUPPORTED_VERSIONS, &e);
	ktls_buf_push_u8(&m, 2);
	ktls_buf_push_u16(&m, KTLS_VERSION_TLS13);
	ktls_buf_close_block(&m, 2, e);
	ext_begin(&m, KTLS_EXT_SIGNATURE_ALGORITHMS, &e);
	ktls_buf_push_u16(&m, 2);
	ktls_buf_push_u16(&m, KC_SIG_ED25519);
	ktls_buf_close_block(&m, 2, e);
	ext_begin(&m, KTLS_EXT_SUPPORTED_GROUPS, &e);
	ktls_buf_open_block(&m, 2, &list);
	for (i = 0; i < fake; i++)
		ktls_buf_push_u16(&m, (uint16_t)(0x2000 + i));
	ktls_buf_push_u16(&m, 0x001d);
	ktls_buf_push_u16(&m, 0x0017);	/* secp256r1: offered, not shared */
	ktls_buf_close_block(&m, 2, list);
	ktls_buf_close_block(&m, 2, e);
	ext_begin(&m, KTLS_EXT_KEY_SHARE, &e);
	ktls_buf_open_block(&m, 2, &list);
	for (i = 0; i < fake_shares; i++) {
		ktls_buf_push_u16(&m, (uint16_t)(0x2000 + i));
		ktls_buf_push_u16(&m, 1);
		ktls_buf_push_u8(&m, 0x55);
	}
	ktls_buf_push_u16(&m, 0x001d);
	ktls_buf_push_u16(&m, sizeof(x25519_pub));
	ktls_buf_push(&m, x25519_pub, sizeof(x25519_pub));
	ktls_buf_close_block(&m, 2, list);
	ktls_buf_close_block(&m, 2, e);
	ktls_buf_close_block(&m, 2, exts);
	ktls_buf_close_block(&m, 3, msg);
	records(wire, KTLS_CT_HANDSHAKE, m.base, m.off, KTLS_MAX_PLAINTEXT);
	ktls_buf_dispose(&m);
}

static void test_key_shares(void)
{
	struct ktls_conn *conn;
	struct ktls_buf wire;
	size_t shares;
	int ret;

	/* 16 shares in all: 15 unknown groups and x25519, which is chosen. */
	for (shares = 16; shares <= 17; shares++) {
		conn = new_conn(server_config(NULL), KTLS_ROLE_SERVER);
		ktls_buf_init(&wire, NULL, 0);
		client_hello(&wire, 20, shares - 1);
		ret = feed(conn, &wire);
		if (shares == 16)
			tap_ok(ret == KTLS_ERROR_IN_PROGRESS && conn->cn_group &&
			       conn->cn_group->id == 0x001d,
			       "16 key shares: the server answers (%s %s)",
			       ktls_error_string(ret), ktls_get_error_detail(conn));
		else
			tap_ok(ret == KTLS_ALERT_ILLEGAL_PARAMETER &&
			       detail_has(conn, "too many key shares"),
			       "17 key shares: %s (%s)", ktls_error_string(ret),
			       ktls_get_error_detail(conn));
		ktls_buf_dispose(&wire);
		ktls_conn_free(conn);
	}
}

static void test_server_hrr_once(void)
{
	struct ktls_conn *conn;
	struct ktls_buf wire;
	int ret;

	/* The server takes only P-256; the hello shares only x25519: HRR. */
	conn = new_conn(server_config("secp256r1"), KTLS_ROLE_SERVER);
	ktls_buf_init(&wire, NULL, 0);
	client_hello(&wire, 0, 0);
	ret = feed(conn, &wire);
	tap_ok(ret == KTLS_ERROR_IN_PROGRESS && conn->cn_did_hrr,
	       "server: a hello without a usable share gets a HelloRetryRequest");
	/* The second hello still shares the wrong group: no second HRR. */
	ret = feed(conn, &wire);
	tap_ok(ret > 0 && ret < 0x100 && conn->cn_state == KTLS_STATE_FAILED,
	       "server: the second hello without it fails, no second HRR: %s (%s)",
	       ktls_error_string(ret), ktls_get_error_detail(conn));
	ktls_buf_dispose(&wire);
	ktls_conn_free(conn);
}

static void server_hrr(struct ktls_buf *wire, uint16_t group)
{
	struct ktls_buf m;
	size_t msg, exts, e;

	ktls_buf_init(&m, NULL, 0);
	ktls_buf_push_u8(&m, KTLS_HS_SERVER_HELLO);
	ktls_buf_open_block(&m, 3, &msg);
	ktls_buf_push_u16(&m, 0x0303);
	ktls_buf_push(&m, ktls_hrr_random, 32);
	ktls_buf_push_u8(&m, 0);		/* echoes the client's empty session id */
	ktls_buf_push_u16(&m, 0x1301);
	ktls_buf_push_u8(&m, 0);
	ktls_buf_open_block(&m, 2, &exts);
	ext_begin(&m, KTLS_EXT_SUPPORTED_VERSIONS, &e);
	ktls_buf_push_u16(&m, KTLS_VERSION_TLS13);
	ktls_buf_close_block(&m, 2, e);
	ext_begin(&m, KTLS_EXT_KEY_SHARE, &e);
	ktls_buf_push_u16(&m, group);
	ktls_buf_close_block(&m, 2, e);
	ktls_buf_close_block(&m, 2, exts);
	ktls_buf_close_block(&m, 3, msg);
	records(wire, KTLS_CT_HANDSHAKE, m.base, m.off, KTLS_MAX_PLAINTEXT);
	ktls_buf_dispose(&m);
}

static void test_client_hrr_once(void)
{
	struct ktls_config *cfg = ktls_config_new();
	struct ktls_conn *conn;
	struct ktls_buf wire;
	size_t n = 0;
	int ret;

	ktls_config_set_middlebox_compat(cfg, 0);	/* empty session id to echo */
	ktls_config_set_groups(cfg, "x25519,secp256r1");
	conn = new_conn(cfg, KTLS_ROLE_CLIENT);
	ktls_buf_init(&wire, NULL, 0);
	ret = ktls_handshake(conn, &wire, NULL, &n);	/* the first ClientHello */
	wire.off = 0;
	server_hrr(&wire, 0x0017);
	ret = feed(conn, &wire);
	tap_ok(ret == KTLS_ERROR_IN_PROGRESS && ktls_get_hrr(conn),
	       "client: a HelloRetryRequest for P-256 is followed (%s %s)",
	       ktls_error_string(ret), ktls_get_error_detail(conn));
	ret = feed(conn, &wire);
	tap_ok(ret == KTLS_ALERT_UNEXPECTED_MESSAGE,
	       "client: a second HelloRetryRequest: %s (%s)", ktls_error_string(ret),
	       ktls_get_error_detail(conn));
	ktls_buf_dispose(&wire);
	ktls_conn_free(conn);
}

/* ---- certificate chain length ---- */

static void test_chain_length(void)
{
	struct kc_chain *leaf = NULL;
	struct ktls_conn *conn;
	const uint8_t *der;
	struct ktls_buf m;
	size_t n, i, der_len, msg, list;
	int ret;

	if (kc_chain_load(CERTS "/server.pem", &leaf) || kc_chain_der(leaf, 0, &der, &der_len)) {
		tap_ok(0, "load the test certificate");
		return;
	}
	for (n = 16; n <= 17; n++) {
		conn = new_conn(ktls_config_new(), KTLS_ROLE_CLIENT);
		ktls_buf_init(&m, NULL, 0);
		ktls_buf_push_u8(&m, KTLS_HS_CERTIFICATE);
		ktls_buf_open_block(&m, 3, &msg);
		ktls_buf_push_u8(&m, 0);		/* certificate_request_context */
		ktls_buf_open_block(&m, 3, &list);
		for (i = 0; i < n; i++) {
			ktls_buf_push_u24(&m, (uint32_t)der_len);
			ktls_buf_push(&m, der, der_len);
			ktls_buf_push_u16(&m, 0);
		}
		ktls_buf_close_block(&m, 3, list);
		ktls_buf_close_block(&m, 3, msg);
		ret = ktls_handle_certificate(conn, m.base, m.off);
		if (n == 16)
			tap_ok(!detail_has(conn, "longer than") &&
			       kc_chain_count(conn->cn_peer_chain) == 16,
			       "a chain of 16 certificates is read whole (%s)",
			       ret ? ktls_get_error_detail(conn) : "accepted");
		else
			tap_ok(ret == KTLS_ALERT_BAD_CERTIFICATE && detail_has(conn, "longer than"),
			       "a chain of 17 certificates: %s (%s)", ktls_error_string(ret),
			       ktls_get_error_detail(conn));
		ktls_buf_dispose(&m);
		ktls_conn_free(conn);
	}
	kc_chain_free(leaf);
}

int main(void)
{
	tap_plan(16);
	test_message_size();
	test_record_size();
	test_extension_count();
	test_key_shares();
	test_server_hrr_once();
	test_client_hrr_once();
	test_chain_length();
	return tap_done();
}
