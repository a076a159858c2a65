// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fuzzers' deterministic test mode. Both roles draw their randoms and
 * x25519 scalars from fixed patterns and the committed certificates use
 * Ed25519 (deterministic signatures), so a recorded handshake replays
 * byte for byte. Encrypted messages are reached without any change to
 * the library: the harness reads the receiving connection's current read
 * secret (struct ktls_conn is visible through ktls_int.h) and seals the
 * fuzzer's plaintext messages with it, so a mutated EncryptedExtensions,
 * Certificate, CertificateVerify or Finished arrives correctly protected
 * and is parsed.
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

int fuzz_seal(struct fuzz_sealer *s, struct ktls_conn *conn, struct ktls_buf *wire,
	      uint8_t type, const uint8_t *data, size_t len, size_t frag)
{
	const struct ktls_protection *rx = &conn->cn_rx;
	size_t n;
	int ret;

	if (!rx->suite) {
		fuzz_sealer_clear(s);
	} else if (!s->active || memcmp(s->secret, rx->secret, sizeof(s->secret))) {
		/* A key change on the receiver: follow it, from sequence 0. */
		fuzz_sealer_clear(s);
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
		msg_len = len;
		if (len >= 4) {
			msg_len = 4 + ((size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3]);
			if (msg_len > len)
				msg_len = len;
		}
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
	/* FUZZ_VERBOSE=1 shows how far each input got (checking the seeds). */
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fed %zu bytes: %s (%s)\n", *used,
			ret ? ktls_error_string(ret) : "complete", ktls_get_error_detail(conn));
	fuzz_sealer_clear(&sealer);
	ktls_buf_dispose(&wire);
	ktls_buf_dispose(&out);
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

int fuzz_handshake(unsigned int server_flags, unsigned int client_flags,
		   struct fuzz_capture *cap, struct ktls_conn **client_out,
		   struct ktls_conn **server_out)
{
	struct ktls_config *ccfg = fuzz_config(KTLS_ROLE_CLIENT, client_flags);
	struct ktls_config *scfg = fuzz_config(KTLS_ROLE_SERVER, server_flags | FUZZ_IDENTITY);
	struct ktls_conn *c = NULL, *s = NULL;
	struct ktls_buf to_c, to_s;
	int cret = KTLS_ERROR_IN_PROGRESS, sret = KTLS_ERROR_IN_PROGRESS;
	int i, ret = -1;

	ktls_buf_init(&to_c, NULL, 0);
	ktls_buf_init(&to_s, NULL, 0);
	if (!ccfg || !scfg)
		goto out_free;
	c = fuzz_conn(ccfg, KTLS_ROLE_CLIENT);
	s = fuzz_conn(scfg, KTLS_ROLE_SERVER);
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
	else if (c && s)
		fprintf(stderr, "fuzz handshake: client %s, server %s\n",
			ktls_get_error_detail(c), ktls_get_error_detail(s));
out_free:
	ktls_buf_dispose(&to_c);
	ktls_buf_dispose(&to_s);
	ktls_config_free(ccfg);
	ktls_config_free(scfg);
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

void fuzz_capture_dispose(struct fuzz_capture *cap)
{
	ktls_buf_dispose(&cap->client_msgs);
	ktls_buf_dispose(&cap->server_msgs);
	ktls_buf_dispose(&cap->server_wire);
	ktls_buf_dispose(&cap->client_wire);
}
