// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fuzzers' deterministic test mode. Both roles draw their randoms and
 * x25519 scalars from fixed patterns and the committed certificates use
 * Ed25519 (deterministic signatures), so a recorded handshake replays
 * byte for byte; the TLS 1.2 targets also fix libcrypto's generator for
 * what RSA draws (fuzz_random.c). Encrypted messages are reached without
 * any change to the library: the harness reads the receiving
 * connection's current read keys (struct ktls_conn is visible through
 * ktls_int.h: the TLS 1.3 traffic secret, or the TLS 1.2 record key and
 * IV from the key block) and seals the fuzzer's plaintext messages with
 * them, so a mutated EncryptedExtensions, Certificate, CertificateVerify
 * or Finished arrives correctly protected and is parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

struct fuzz_hook_arg {
	uint8_t pattern;
	struct ktls_buf *msgs;	/* NULL: nothing captured */
};

static struct fuzz_hook_arg client_arg = { .pattern = 0x11 };
static struct fuzz_hook_arg server_arg = { .pattern = 0x5a };

static void fuzz_random(void *arg, uint8_t *random)
{
	const struct fuzz_hook_arg *a = arg;
	int i;

	for (i = 0; i < 32; i++)
		random[i] = (uint8_t)(a->pattern + i);
}

static size_t fuzz_kex_private(void *arg, uint16_t group, uint8_t *priv)
{
	const struct fuzz_hook_arg *a = arg;

	/* Patterns below each curve's order; other groups draw fresh keys. */
	switch (group) {
	case 0x001d:	/* x25519 */
	case 0x0017:	/* secp256r1 */
		memset(priv, a->pattern, 32);
		return 32;
	case 0x0018:	/* secp384r1 */
		memset(priv, a->pattern, 48);
		return 48;
	default:
		return 0;
	}
}

static void fuzz_outgoing(void *arg, uint8_t *msg, size_t len)
{
	const struct fuzz_hook_arg *a = arg;

	if (a->msgs)
		ktls_buf_push(a->msgs, msg, len);
}

static const struct ktls_test_hooks client_hooks = {
	.arg = &client_arg,
	.random = fuzz_random,
	.kex_private = fuzz_kex_private,
	.outgoing = fuzz_outgoing,
};

static const struct ktls_test_hooks server_hooks = {
	.arg = &server_arg,
	.random = fuzz_random,
	.kex_private = fuzz_kex_private,
	.outgoing = fuzz_outgoing,
};

/* Every suite of the engine, RSA key transport too, in its table's order. */
static int fuzz_all_suites(struct ktls_config *cfg)
{
	char list[1024];
	size_t off = 0, i;
	int n;

	for (i = 0; ktls_suites[i].id; i++) {
		n = snprintf(list + off, sizeof(list) - off, "%s%s", i ? "," : "",
			     ktls_suites[i].name);
		if (n < 0 || (size_t)n >= sizeof(list) - off)
			return KTLS_ERROR_CONFIG;
		off += (size_t)n;
	}
	return ktls_config_set_ciphers(cfg, list);
}

static int fuzz_config_rsa(struct ktls_config *cfg, enum ktls_role role, unsigned int flags)
{
	int ret = fuzz_all_suites(cfg);

	if (!ret)
		ret = ktls_config_set_ca_file(cfg, FUZZ_CERT_DIR "/rsa-ca.pem");
	if (!ret && role == KTLS_ROLE_SERVER && (flags & FUZZ_IDENTITY))
		ret = ktls_config_add_identity(cfg, FUZZ_CERT_DIR "/server-rsa.pem",
					       FUZZ_CERT_DIR "/server-rsa.key");
	return ret;
}

struct ktls_config *fuzz_config(enum ktls_role role, unsigned int flags)
{
	struct ktls_config *cfg = ktls_config_new();
	const char *name = role == KTLS_ROLE_CLIENT ? "client" : "server";
	char cert[512], key[512];
	int ret = 0;

	if (!cfg)
		return NULL;
	if (flags & FUZZ_IDENTITY) {
		snprintf(cert, sizeof(cert), "%s/%s.pem", FUZZ_CERT_DIR, name);
		snprintf(key, sizeof(key), "%s/%s.key", FUZZ_CERT_DIR, name);
		ret = ktls_config_add_identity(cfg, cert, key);
	}
	if (!ret)
		ret = ktls_config_set_ca_file(cfg, FUZZ_CERT_DIR "/ca.pem");
	/* Its legacy_session_id is random outside the hooks: keep the hello fixed. */
	if (!ret)
		ret = ktls_config_set_middlebox_compat(cfg, 0);
	if (!ret && (flags & FUZZ_P256_ONLY))
		ret = ktls_config_set_groups(cfg, "secp256r1");
	if (!ret && (flags & FUZZ_CLIENT_AUTH))
		ret = ktls_config_set_verify_client(cfg, KTLS_VERIFY_OPTIONAL);
	if (!ret && (flags & (FUZZ_TLS12 | FUZZ_TLS12_ONLY)))
		ret = ktls_config_set_versions(cfg, KTLS_VERSION_TLS12,
					       flags & FUZZ_TLS12_ONLY ? KTLS_VERSION_TLS12 :
									 KTLS_VERSION_TLS13);
	if (!ret && (flags & FUZZ_RSA))
		ret = fuzz_config_rsa(cfg, role, flags);
	if (ret) {
		fprintf(stderr, "fuzz config: %s\n", ktls_config_error(cfg));
		ktls_config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct ktls_conn *fuzz_conn(struct ktls_config *cfg, enum ktls_role role)
{
	struct ktls_conn *conn = ktls_conn_new(cfg, role);

	if (!conn)
		return NULL;
	ktls_conn_set_test_hooks(conn, role == KTLS_ROLE_CLIENT ? &client_hooks : &server_hooks);
	if (role == KTLS_ROLE_CLIENT)
		ktls_conn_set_server_name(conn, "localhost");
	return conn;
}

size_t fuzz_frag_size(uint8_t selector)
{
	/* Mostly whole records; the top bit asks for 1..128-byte fragments. */
	if (selector & 0x80)
		return (size_t)(selector & 0x7f) + 1;
	return KTLS_MAX_PLAINTEXT;
}

void fuzz_sealer_clear(struct fuzz_sealer *s)
{
	ktls_protection_clear(&s->p);
	kc_cleanse(s->secret, sizeof(s->secret));
	s->active = 0;
}

/* 1 if @s seals for the keys @rx opens with now. */
static int fuzz_sealer_follows(const struct fuzz_sealer *s, const struct ktls_protection *rx)
{
	if (!s->active || s->p.suite != rx->suite || s->p.tls12 != rx->tls12)
		return 0;
	/* TLS 1.2 keys come from the key block: no secret to compare. */
	if (rx->tls12)
		return !memcmp(s->p.key, rx->key, sizeof(rx->key)) &&
		       !memcmp(s->p.iv, rx->iv, sizeof(rx->iv));
	return !memcmp(s->secret, rx->secret, sizeof(s->secret));
}

int fuzz_seal(struct fuzz_sealer *s, struct ktls_conn *conn, struct ktls_buf *wire,
	      uint8_t type, const uint8_t *data, size_t len, size_t frag)
{
	const struct ktls_protection *rx = &conn->cn_rx;
	size_t n;
	int ret;

	if (!rx->suite) {
		fuzz_sealer_clear(s);
	} else if (!fuzz_sealer_follows(s, rx)) {
		/* A key change on the receiver: follow it, from sequence 0. */
		fuzz_sealer_clear(s);
		if (rx->tls12)
			ret = ktls_protection_set12(&s->p, rx->suite, rx->key, rx->iv, 1);
		else
			ret = ktls_protection_set(&s->p, rx->suite, rx->secret, 1);
		if (ret)
			return ret;
		memcpy(s->secret, rx->secret, sizeof(s->secret));
		s->active = 1;
	}
	do {
		n = len < frag ? len : frag;
		ret = ktls_record_write(&s->p, wire, type, data, n);
		if (ret)
			return ret;
		data += n;
		len -= n;
	} while (len);
	return 0;
}

/* A handshake message at @data: its header's length, clamped to @len. */
static size_t fuzz_message_len(const uint8_t *data, size_t len)
{
	size_t msg_len;

	if (len < 4)
		return len;
	msg_len = 4 + ((size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3]);
	return msg_len < len ? msg_len : len;
}

void fuzz_report(const struct ktls_conn *conn, size_t used, int ret)
{
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fed %zu bytes: %s (%s)\n", used,
			ret ? ktls_error_string(ret) : "complete", ktls_get_error_detail(conn));
}

int fuzz_feed_messages(struct ktls_conn *conn, const uint8_t *data, size_t len,
		       size_t frag, size_t *used)
{
	struct fuzz_sealer sealer;
	struct ktls_buf wire, out;
	size_t msg_len, n;
	int ret = KTLS_ERROR_IN_PROGRESS;

	memset(&sealer, 0, sizeof(sealer));
	ktls_buf_init(&wire, NULL, 0);
	ktls_buf_init(&out, NULL, 0);
	*used = 0;
	while (len && ret == KTLS_ERROR_IN_PROGRESS) {
		msg_len = fuzz_message_len(data, len);
		wire.off = 0;
		ret = fuzz_seal(&sealer, conn, &wire, KTLS_CT_HANDSHAKE, data, msg_len, frag);
		if (ret)
			break;
		n = wire.off;
		ret = ktls_handshake(conn, &out, wire.base, &n);
		out.off = 0;
		data += msg_len;
		len -= msg_len;
		*used += msg_len;
	}
	fuzz_report(conn, *used, ret);
	fuzz_sealer_clear(&sealer);
	ktls_buf_dispose(&wire);
	ktls_buf_dispose(&out);
	return ret;
}

/* Wire bytes to @conn: the handshake while it runs, ktls_receive() after. */
static int fuzz_deliver(struct ktls_conn *conn, const struct ktls_buf *wire,
			struct ktls_buf *out, struct ktls_buf *plain)
{
	size_t n = wire->off;
	int ret;

	if (ktls_handshake_is_complete(conn))
		ret = ktls_receive(conn, plain, out, wire->base, &n);
	else
		ret = ktls_handshake(conn, out, wire->base, &n);
	out->off = 0;
	plain->off = 0;
	return ret;
}

/* An established connection answers 0 and takes the next item. */
static int fuzz_goes_on(const struct ktls_conn *conn, int ret)
{
	return ret == KTLS_ERROR_IN_PROGRESS || (!ret && ktls_handshake_is_complete(conn));
}

int fuzz_feed_items(struct ktls_conn *conn, const uint8_t *data, size_t len, size_t frag,
		    size_t *used)
{
	struct ktls_protection cleartext = { 0 };
	const uint8_t *start = data;
	struct fuzz_sealer sealer;
	struct ktls_buf wire, out, plain;
	size_t body_len, record_size;
	uint8_t type;
	int ret = KTLS_ERROR_IN_PROGRESS;

	memset(&sealer, 0, sizeof(sealer));
	ktls_buf_init(&wire, NULL, 0);
	ktls_buf_init(&out, NULL, 0);
	ktls_buf_init(&plain, NULL, 0);
	while (len && fuzz_goes_on(conn, ret)) {
		type = data[0];
		data++;
		len--;
		if (type == KTLS_CT_HANDSHAKE) {
			body_len = fuzz_message_len(data, len);
			record_size = frag;
		} else {
			if (len < 2)
				break;
			body_len = (size_t)data[0] << 8 | data[1];
			data += 2;
			len -= 2;
			if (body_len > len)
				body_len = len;
			record_size = KTLS_MAX_PLAINTEXT;
			if (type == FUZZ_RAW_HANDSHAKE)
				type = KTLS_CT_HANDSHAKE;
		}
		wire.off = 0;
		if (type == KTLS_CT_CHANGE_CIPHER_SPEC)
			ret = ktls_record_write(&cleartext, &wire, type, data, body_len);
		else
			ret = fuzz_seal(&sealer, conn, &wire, type, data, body_len, record_size);
		if (ret)
			break;
		ret = fuzz_deliver(conn, &wire, &out, &plain);
		data += body_len;
		len -= body_len;
	}
	*used = (size_t)(data - start);
	fuzz_report(conn, *used, ret);
	fuzz_sealer_clear(&sealer);
	ktls_buf_dispose(&wire);
	ktls_buf_dispose(&out);
	ktls_buf_dispose(&plain);
	return ret;
}

static void pump(struct ktls_conn *conn, int *ret, struct ktls_buf *in, struct ktls_buf *out,
		 struct ktls_buf *wire_copy)
{
	size_t before = out->off, n = in->off;

	if (*ret != KTLS_ERROR_IN_PROGRESS)
		return;
	*ret = ktls_handshake(conn, out, in->base, &n);
	ktls_buf_shift(in, n);
	if (wire_copy)
		ktls_buf_push(wire_copy, out->base + before, out->off - before);
}

int fuzz_handshake_configs(struct ktls_config *scfg, struct ktls_config *ccfg,
			   struct fuzz_capture *cap, struct ktls_conn **client_out,
			   struct ktls_conn **server_out)
{
	struct ktls_conn *c = fuzz_conn(ccfg, KTLS_ROLE_CLIENT);
	struct ktls_conn *s = fuzz_conn(scfg, KTLS_ROLE_SERVER);
	struct ktls_buf to_c, to_s;
	int cret = KTLS_ERROR_IN_PROGRESS, sret = KTLS_ERROR_IN_PROGRESS;
	int i, ret = -1;

	ktls_buf_init(&to_c, NULL, 0);
	ktls_buf_init(&to_s, NULL, 0);
	if (!c || !s)
		goto out_free;
	client_arg.msgs = cap ? &cap->client_msgs : NULL;
	server_arg.msgs = cap ? &cap->server_msgs : NULL;
	for (i = 0; i < 16; i++) {
		pump(c, &cret, &to_c, &to_s, cap ? &cap->client_wire : NULL);
		pump(s, &sret, &to_s, &to_c, cap ? &cap->server_wire : NULL);
		if (cret != KTLS_ERROR_IN_PROGRESS && sret != KTLS_ERROR_IN_PROGRESS)
			break;
	}
	client_arg.msgs = NULL;
	server_arg.msgs = NULL;
	if (!cret && !sret)
		ret = 0;
	else
		fprintf(stderr, "fuzz handshake: client %s, server %s\n",
			ktls_get_error_detail(c), ktls_get_error_detail(s));
out_free:
	ktls_buf_dispose(&to_c);
	ktls_buf_dispose(&to_s);
	if (client_out && !ret)
		*client_out = c;
	else
		ktls_conn_free(c);
	if (server_out && !ret)
		*server_out = s;
	else
		ktls_conn_free(s);
	return ret;
}

int fuzz_handshake(unsigned int server_flags, unsigned int client_flags,
		   struct fuzz_capture *cap, struct ktls_conn **client_out,
		   struct ktls_conn **server_out)
{
	struct ktls_config *ccfg = fuzz_config(KTLS_ROLE_CLIENT, client_flags);
	struct ktls_config *scfg = fuzz_config(KTLS_ROLE_SERVER, server_flags | FUZZ_IDENTITY);
	int ret = -1;

	if (ccfg && scfg)
		ret = fuzz_handshake_configs(scfg, ccfg, cap, client_out, server_out);
	/* The connections hold their own references. */
	ktls_config_free(ccfg);
	ktls_config_free(scfg);
	return ret;
}

void fuzz_capture_dispose(struct fuzz_capture *cap)
{
	ktls_buf_dispose(&cap->client_msgs);
	ktls_buf_dispose(&cap->server_msgs);
	ktls_buf_dispose(&cap->server_wire);
	ktls_buf_dispose(&cap->client_wire);
}
