// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLS 1.2 building blocks against known answers: the PRF (the SHA-256
 * vector published on the IETF TLS list, and SHA-384), the master secret
 * with and without RFC 7627, the key block, Finished, and one protected
 * record for AES-GCM and for ChaCha20-Poly1305. Expected values were made
 * with `openssl kdf ... TLS1-PRF` and Python's cryptography AEADs.
 * Then the engine against itself in TLS 1.2, in memory: every suite and
 * group, version negotiation, client certificates, kTLS export, and
 * peers that lie (through the test hooks), each with its alert.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/tls.h>
#include <sys/socket.h>

#include "ktls_int.h"
#include "tap.h"

static void fill(uint8_t *p, size_t len, uint8_t first)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(first + i);
}

static void test_prf(enum kc_hash_id hash, const char *secret_hex, const char *seed_hex,
		     const char *want_hex, const char *what)
{
	size_t secret_len, seed_len, want_len;
	uint8_t *secret = tap_unhex(secret_hex, &secret_len);
	uint8_t *seed = tap_unhex(seed_hex, &seed_len);
	uint8_t *want = tap_unhex(want_hex, &want_len);
	uint8_t out[256];

	tap_ok(!ktls_prf(hash, secret, secret_len, "test label", seed, seed_len, NULL, 0,
			 out, want_len), "%s: PRF runs", what);
	tap_mem_eq(out, want, want_len, what);
	free(secret);
	free(seed);
	free(want);
}

static const struct ktls_suite *suite(uint16_t id)
{
	return ktls_suite_by_id(id);
}

/* Seals one record with @key/@iv at sequence 1, compares, then opens it. */
static void test_record(uint16_t suite_id, const uint8_t *key, const uint8_t *iv,
			const char *want_hex, const char *what)
{
	static const char msg[] = "hello, tls 1.2";
	struct ktls_protection tx = { 0 }, rx = { 0 };
	struct ktls_buf out = { 0 };
	uint8_t scratch[KTLS_MAX_CIPHERTEXT_13], type = 0;
	const uint8_t *frag;
	size_t want_len, consumed, frag_len;
	uint8_t *want = tap_unhex(want_hex, &want_len);

	tap_ok(!ktls_protection_set12(&tx, suite(suite_id), key, iv, 1) &&
	       !ktls_protection_set12(&rx, suite(suite_id), key, iv, 0), "%s: keys set", what);
	tx.seq = rx.seq = 1;
	tap_ok(!ktls_record_write(&tx, &out, KTLS_CT_APPLICATION_DATA, msg, strlen(msg)) &&
	       out.off == want_len, "%s: sealed", what);
	tap_mem_eq(out.base, want, want_len, what);
	tap_ok(!ktls_record_read(&rx, out.base, out.off, &consumed, scratch, &type, &frag,
				 &frag_len) && consumed == out.off && type == KTLS_CT_APPLICATION_DATA &&
	       frag_len == strlen(msg) && !memcmp(frag, msg, frag_len) && rx.seq == 2,
	       "%s: opens", what);
	out.base[out.off - 1] ^= 1;
	rx.seq = 1;
	tap_ok(ktls_record_read(&rx, out.base, out.off, &consumed, scratch, &type, &frag,
				&frag_len) == KTLS_ALERT_BAD_RECORD_MAC, "%s: tampered tag", what);
	ktls_protection_clear(&tx);
	ktls_protection_clear(&rx);
	ktls_buf_dispose(&out);
	free(want);
}


/* ---- handshakes in memory ---- */

static char dir[] = "/tmp/ktls-tls12-XXXXXX";

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int make_leaf(const char *name, const char *keyopt, const char *san)
{
	return run("cd %s && openssl genpkey %s -out %s.key 2>/dev/null && "
		   "openssl req -new -key %s.key -subj /CN=%s -out %s.csr 2>/dev/null && "
		   "printf 'subjectAltName=%s\\n' > %s.ext && "
		   "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		   "-days 2 -extfile %s.ext -out %s.pem 2>/dev/null",
		   dir, keyopt, name, name, name, name, san, name, name, name, name);
}

static int make_certs(void)
{
	if (!mkdtemp(dir) ||
	    run("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		"-nodes -keyout ca.key -out ca.pem -subj /CN=test-ca -days 2 2>/dev/null", dir))
		return -1;
	return make_leaf("p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
			 "DNS:localhost") ||
	       make_leaf("p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384",
			 "DNS:localhost") ||
	       make_leaf("rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", "DNS:localhost") ||
	       make_leaf("client", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "DNS:client");
}

static struct ktls_config *config(const char *ident, uint16_t min, uint16_t max)
{
	struct ktls_config *cfg = ktls_config_new();
	char cert[256], key[256], ca[256];

	if (ident) {
		snprintf(cert, sizeof(cert), "%s/%s.pem", dir, ident);
		snprintf(key, sizeof(key), "%s/%s.key", dir, ident);
		if (ktls_config_add_identity(cfg, cert, key))
			tap_diag("identity %s: %s", ident, ktls_config_error(cfg));
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	ktls_config_set_ca_file(cfg, ca);
	if (ktls_config_set_versions(cfg, min, max))
		tap_diag("versions: %s", ktls_config_error(cfg));
	return cfg;
}

struct pair {
	struct ktls_conn *c, *s;
	struct ktls_buf to_c, to_s;
	int cret, sret;
	struct ktls_test_hooks chooks, shooks;
};

static void pair_init(struct pair *p, struct ktls_config *ccfg, struct ktls_config *scfg)
{
	memset(p, 0, sizeof(*p));
	p->c = ktls_conn_new(ccfg, KTLS_ROLE_CLIENT);
	p->s = ktls_conn_new(scfg, KTLS_ROLE_SERVER);
	ktls_config_free(ccfg);
	ktls_config_free(scfg);
	ktls_conn_set_server_name(p->c, "localhost");
	ktls_conn_set_test_hooks(p->c, &p->chooks);
	ktls_conn_set_test_hooks(p->s, &p->shooks);
	p->cret = p->sret = KTLS_ERROR_IN_PROGRESS;
}

static void pair_free(struct pair *p)
{
	ktls_conn_free(p->c);
	ktls_conn_free(p->s);
	ktls_buf_dispose(&p->to_c);
	ktls_buf_dispose(&p->to_s);
}

static int step(struct ktls_conn *conn, struct ktls_buf *in, struct ktls_buf *out)
{
	size_t n = in->off;
	int ret = ktls_handshake(conn, out, in->base, &n);

	ktls_buf_shift(in, n);
	return ret;
}

static void handshake(struct pair *p)
{
	int i;

	for (i = 0; i < 20; i++) {
		if (p->cret == KTLS_ERROR_IN_PROGRESS)
			p->cret = step(p->c, &p->to_c, &p->to_s);
		if (p->sret == KTLS_ERROR_IN_PROGRESS)
			p->sret = step(p->s, &p->to_s, &p->to_c);
		if (p->cret != KTLS_ERROR_IN_PROGRESS && p->sret != KTLS_ERROR_IN_PROGRESS)
			return;
	}
}

static int transfer(struct ktls_conn *from, struct ktls_conn *to, struct ktls_buf *wire,
		    struct ktls_buf *back, size_t len)
{
	struct ktls_buf plain = { 0 };
	uint8_t *data = malloc(len);
	size_t i, n;
	int ok;

	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	ok = !ktls_send(from, wire, data, len);
	n = wire->off;
	ok = ok && !ktls_receive(to, &plain, back, wire->base, &n);
	ktls_buf_shift(wire, n);
	ok = ok && plain.off == len && !memcmp(plain.base, data, len);
	ktls_buf_dispose(&plain);
	free(data);
	return ok;
}

static int receive_error(struct ktls_conn *conn, struct ktls_buf *wire)
{
	struct ktls_buf plain = { 0 }, out = { 0 };
	size_t n = wire->off;
	int ret = ktls_receive(conn, &plain, &out, wire->base, &n);

	ktls_buf_shift(wire, n);
	ktls_buf_dispose(&plain);
	ktls_buf_dispose(&out);
	return ret;
}

static void test_suites(void)
{
	const struct ktls_suite *suite;
	const struct ktls_group *group;
	union ktls_crypto_info ctx, srx;
	size_t clen, slen;
	struct pair p;

	for (suite = ktls_suites; suite->id; suite++) {
		if (suite->version != KTLS_VERSION_TLS12 || suite->kx == KTLS_KX_RSA)
			continue;
		for (group = ktls_groups; group->id; group++) {
			struct ktls_config *ccfg = config(NULL, KTLS_VERSION_TLS12,
							  KTLS_VERSION_TLS13);
			const char *ident = suite->kx == KTLS_KX_ECDHE_RSA ? "rsa" : "p256";

			struct ktls_config *scfg = config(ident, KTLS_VERSION_TLS12,
							  KTLS_VERSION_TLS12);
			char groups[64];

			/* RFC 8422 5.1: the P-256 certificate needs secp256r1 offered. */
			snprintf(groups, sizeof(groups), "%s,secp256r1", group->name);
			ktls_config_set_ciphers(ccfg, suite->name);
			ktls_config_set_groups(ccfg, group->id == KC_GROUP_SECP256R1 ?
					       group->name : groups);
			ktls_config_set_groups(scfg, group->name);
			pair_init(&p, ccfg, scfg);
			handshake(&p);
			tap_ok(!p.cret && !p.sret, "%s %s: handshake (%s / %s)", suite->name,
			       group->name, ktls_get_error_detail(p.c), ktls_get_error_detail(p.s));
			if (p.cret || p.sret) {
				pair_free(&p);
				continue;
			}
			tap_ok(!strcmp(ktls_get_cipher_name(p.c), suite->name) &&
			       !strcmp(ktls_get_cipher_name(p.s), suite->name) &&
			       !strcmp(ktls_get_group_name(p.c), group->name) &&
			       !strcmp(ktls_get_version_name(p.c), "TLSv1.2") &&
			       !strcmp(ktls_get_version_name(p.s), "TLSv1.2"),
			       "%s %s: negotiated what was asked", suite->name, group->name);
			tap_ok(transfer(p.c, p.s, &p.to_s, &p.to_c, 100000) &&
			       transfer(p.s, p.c, &p.to_c, &p.to_s, 0) &&
			       transfer(p.s, p.c, &p.to_c, &p.to_s, 1),
			       "%s %s: data both ways", suite->name, group->name);
			tap_ok(!ktls_export_crypto_info(p.c, KTLS_DIR_TX, &ctx, &clen) &&
			       !ktls_export_crypto_info(p.s, KTLS_DIR_RX, &srx, &slen) &&
			       clen == slen && !memcmp(&ctx, &srx, clen) &&
			       ctx.info.version == TLS_1_2_VERSION &&
			       ctx.info.cipher_type == suite->kernel_cipher_type &&
			       ktls_get_record_seq(p.c, KTLS_DIR_TX) == 8,
			       "%s %s: client TX export equals server RX export", suite->name,
			       group->name);
			if (suite->aead != KC_CHACHA20_POLY1305)
				tap_ok(suite->aead == KC_AES_128_GCM ?
				       !memcmp(ctx.aes_gcm_128.iv, ctx.aes_gcm_128.rec_seq, 8) :
				       !memcmp(ctx.aes_gcm_256.iv, ctx.aes_gcm_256.rec_seq, 8),
				       "%s %s: explicit nonce is the sequence number", suite->name,
				       group->name);
			pair_free(&p);
		}
	}
}

static void test_key_types(void)
{
	static const struct {
		const char *ident, *sigalg;
	} cases[] = {
		{ "p256", "ecdsa_secp256r1_sha256" },
		{ "p384", "ecdsa_secp384r1_sha384" },
		{ "rsa", "rsa_pss_rsae_sha256" },
	};
	struct pair p;
	size_t i;

	for (i = 0; i < KTLS_ARRAY_SIZE(cases); i++) {
		pair_init(&p, config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13),
			  config(cases[i].ident, KTLS_VERSION_TLS12, KTLS_VERSION_TLS12));
		handshake(&p);
		tap_ok(!p.cret && !p.sret && ktls_get_sigalg_name(p.c) &&
		       !strcmp(ktls_get_sigalg_name(p.c), cases[i].sigalg),
		       "%s server key: TLS 1.2 with %s (%s)", cases[i].ident, cases[i].sigalg,
		       ktls_get_error_detail(p.c));
		pair_free(&p);
	}
}

static void test_versions(void)
{
	struct pair p;

	pair_init(&p, config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13),
		  config("p256", KTLS_VERSION_TLS12, KTLS_VERSION_TLS13));
	handshake(&p);
	tap_ok(!p.cret && !p.sret && !strcmp(ktls_get_version_name(p.c), "TLSv1.3"),
	       "1.2+1.3 client, 1.2+1.3 server: TLS 1.3");
	pair_free(&p);

	pair_init(&p, config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS12),
		  config("p256", KTLS_VERSION_TLS12, KTLS_VERSION_TLS13));
	handshake(&p);
	tap_ok(!p.cret && !p.sret && !strcmp(ktls_get_version_name(p.s), "TLSv1.2") &&
	       !memcmp(p.s->cn_server_random + 24, ktls_downgrade_tls12, 8),
	       "1.2 client, 1.2+1.3 server: TLS 1.2 with the downgrade sentinel");
	pair_free(&p);

	pair_init(&p, config(NULL, KTLS_VERSION_TLS13, KTLS_VERSION_TLS13),
		  config("p256", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12));
	handshake(&p);
	tap_ok(p.sret == KTLS_ALERT_PROTOCOL_VERSION,
	       "1.3 client, 1.2 server: protocol_version (%s)", ktls_get_error_detail(p.s));
	pair_free(&p);

	pair_init(&p, config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS12),
		  config("p256", KTLS_VERSION_TLS13, KTLS_VERSION_TLS13));
	handshake(&p);
	tap_ok(p.sret == KTLS_ALERT_PROTOCOL_VERSION &&
	       p.cret == KTLS_ERROR_PEER_ALERT(KTLS_ALERT_PROTOCOL_VERSION),
	       "1.2 client, 1.3 server: protocol_version");
	pair_free(&p);
}

static void test_client_auth(void)
{
	struct ktls_config *scfg;
	struct pair p;

	scfg = config("p256", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12);
	ktls_config_set_verify_client(scfg, KTLS_VERIFY_REQUIRED);
	pair_init(&p, config("client", KTLS_VERSION_TLS12, KTLS_VERSION_TLS13), scfg);
	handshake(&p);
	tap_ok(!p.cret && !p.sret && ktls_get_peer_subject(p.s) &&
	       !strcmp(ktls_get_peer_subject(p.s), "CN=client"),
	       "TLS 1.2 client certificate required and sent (%s)", ktls_get_error_detail(p.s));
	tap_ok(!p.cret && transfer(p.c, p.s, &p.to_s, &p.to_c, 1000),
	       "data after client authentication");
	pair_free(&p);

	scfg = config("rsa", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12);
	ktls_config_set_verify_client(scfg, KTLS_VERIFY_REQUIRED);
	pair_init(&p, config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13), scfg);
	handshake(&p);
	tap_ok(p.sret == KTLS_ALERT_HANDSHAKE_FAILURE &&
	       p.cret == KTLS_ERROR_PEER_ALERT(KTLS_ALERT_HANDSHAKE_FAILURE),
	       "TLS 1.2 client certificate required and absent: handshake_failure");
	pair_free(&p);

	scfg = config("p256", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12);
	ktls_config_set_verify_client(scfg, KTLS_VERIFY_OPTIONAL);
	pair_init(&p, config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13), scfg);
	handshake(&p);
	tap_ok(!p.cret && !p.sret && !ktls_get_peer_subject(p.s),
	       "TLS 1.2 client certificate optional and absent");
	pair_free(&p);
}

/* Offset of extension @type's header in a hello, or 0. */
static size_t hello_ext(const uint8_t *msg, size_t len, uint16_t type)
{
	size_t off = 4 + 2 + 32;

	off += 1 + msg[off];
	if (msg[0] == KTLS_HS_CLIENT_HELLO) {
		off += 2 + ((size_t)msg[off] << 8 | msg[off + 1]);
		off += 1 + msg[off];
	} else {
		off += 3;
	}
	for (off += 2; off + 4 <= len; off += 4 + ((size_t)msg[off + 2] << 8 | msg[off + 3]))
		if (((uint16_t)msg[off] << 8 | msg[off + 1]) == type)
			return off;
	return 0;
}

enum lie {
	LIE_SUITE, LIE_COMPRESSION, LIE_NO_EMS, LIE_SKE_SIGNATURE, LIE_FINISHED, LIE_SENTINEL,
	LIE_SERVER_NO_EMS, LIE_ALPN_NAME, LIE_ALPN_FORMAT,
};

static void lie(void *arg, uint8_t *msg, size_t len)
{
	enum lie what = *(enum lie *)arg;
	size_t ext;

	switch (what) {
	case LIE_SUITE:
		if (msg[0] == KTLS_HS_SERVER_HELLO)
			msg[4 + 2 + 32 + 1 + msg[4 + 2 + 32] + 1] = 0x30;	/* 0xc030 */
		break;
	case LIE_COMPRESSION:
		if (msg[0] == KTLS_HS_SERVER_HELLO)
			msg[4 + 2 + 32 + 1 + msg[4 + 2 + 32] + 2] = 1;
		break;
	case LIE_NO_EMS:
		if (msg[0] == KTLS_HS_CLIENT_HELLO &&
		    (ext = hello_ext(msg, len, KTLS_EXT_EXTENDED_MASTER_SECRET)))
			msg[ext] = 0xfa;	/* an extension the server ignores */
		break;
	case LIE_SERVER_NO_EMS:
		/*
		 * ec_point_formats swallows the empty extended_master_secret
		 * after it: its four bytes become point formats.
		 */
		if (msg[0] == KTLS_HS_SERVER_HELLO &&
		    (ext = hello_ext(msg, len, KTLS_EXT_EC_POINT_FORMATS)) &&
		    ext + 9 + 4 <= len && msg[ext + 6] == 0x00 && msg[ext + 7] == 0x17) {
			msg[ext + 3] += 4;
			msg[ext + 4] += 4;
		}
		break;
	case LIE_ALPN_NAME:	/* "h2" answered as "h3" */
	case LIE_ALPN_FORMAT:	/* "h2" answered as "h" and a byte left over */
		if (msg[0] == KTLS_HS_SERVER_HELLO && (ext = hello_ext(msg, len, KTLS_EXT_ALPN)) &&
		    ext + 9 <= len) {
			if (what == LIE_ALPN_NAME)
				msg[ext + 8] = '3';
			else
				msg[ext + 6] = 1;
		}
		break;
	case LIE_SKE_SIGNATURE:
		if (msg[0] == KTLS_HS_SERVER_KEY_EXCHANGE)
			msg[len - 1] ^= 1;
		break;
	case LIE_FINISHED:
		if (msg[0] == KTLS_HS_FINISHED)
			msg[4] ^= 1;
		break;
	default:
		break;
	}
}

static void sentinel_random(void *arg, uint8_t *random)
{
	kc_random(random, 32);
	memcpy(random + 24, ktls_downgrade_tls12, 8);
}

static void test_lies(void)
{
	static const struct {
		enum lie what;
		int by_server;
		int alert;
		const char *name;
	} cases[] = {
		{ LIE_SUITE, 1, KTLS_ALERT_ILLEGAL_PARAMETER, "server picks a suite not offered" },
		{ LIE_COMPRESSION, 1, KTLS_ALERT_ILLEGAL_PARAMETER, "server picks compression" },
		{ LIE_NO_EMS, 0, KTLS_ALERT_HANDSHAKE_FAILURE, "client without EMS" },
		{ LIE_SERVER_NO_EMS, 1, KTLS_ALERT_HANDSHAKE_FAILURE, "server without EMS" },
		{ LIE_ALPN_NAME, 1, KTLS_ALERT_ILLEGAL_PARAMETER, "server answers ALPN not offered" },
		{ LIE_ALPN_FORMAT, 1, KTLS_ALERT_DECODE_ERROR, "ALPN answer with a byte left over" },
		{ LIE_SKE_SIGNATURE, 1, KTLS_ALERT_DECRYPT_ERROR,
		  "ServerKeyExchange with a bad signature" },
		{ LIE_FINISHED, 0, KTLS_ALERT_DECRYPT_ERROR, "client Finished tampered" },
		{ LIE_FINISHED, 1, KTLS_ALERT_DECRYPT_ERROR, "server Finished tampered" },
		{ LIE_SENTINEL, 1, KTLS_ALERT_ILLEGAL_PARAMETER,
		  "1.2 ServerHello with the downgrade sentinel to a 1.3 client" },
	};
	struct ktls_config *ccfg, *scfg;
	struct pair p;
	size_t i;

	for (i = 0; i < KTLS_ARRAY_SIZE(cases); i++) {
		enum lie what = cases[i].what;
		int liar_ret, victim_ret;

		ccfg = config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13);
		ktls_config_set_ciphers(ccfg, "TLS_AES_128_GCM_SHA256,"
					"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
		scfg = config("p256", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12);
		if (what == LIE_ALPN_NAME || what == LIE_ALPN_FORMAT) {
			ktls_config_set_alpn(ccfg, "h2");
			ktls_config_set_alpn(scfg, "h2");
		}
		pair_init(&p, ccfg, scfg);
		if (cases[i].by_server) {
			p.shooks.arg = &what;
			p.shooks.outgoing = lie;
			if (what == LIE_SENTINEL)
				p.shooks.random = sentinel_random;
		} else {
			p.chooks.arg = &what;
			p.chooks.outgoing = lie;
		}
		handshake(&p);
		liar_ret = cases[i].by_server ? p.sret : p.cret;
		victim_ret = cases[i].by_server ? p.cret : p.sret;
		/* A liar that finished first learns of it when it reads. */
		if (!liar_ret)
			liar_ret = receive_error(cases[i].by_server ? p.s : p.c,
						 cases[i].by_server ? &p.to_s : &p.to_c);
		tap_ok(victim_ret == cases[i].alert &&
		       liar_ret == KTLS_ERROR_PEER_ALERT(cases[i].alert),
		       "%s: %s (%x %x: %s)", cases[i].name, ktls_alert_name(cases[i].alert),
		       victim_ret, liar_ret,
		       ktls_get_error_detail(cases[i].by_server ? p.c : p.s));
		pair_free(&p);
	}
}

static void corrupt_key_exchange(void *arg, uint8_t *msg, size_t len)
{
	if (msg[0] == KTLS_HS_CLIENT_KEY_EXCHANGE)
		msg[len / 2] ^= 0x40;
}

static void test_rsa_key_transport(void)
{
	static const char *const suites[] = {
		"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
	};
	struct ktls_config *ccfg, *scfg;
	struct pair p;
	size_t i;

	for (i = 0; i < KTLS_ARRAY_SIZE(suites); i++) {
		ccfg = config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13);
		scfg = config("rsa", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12);
		ktls_config_set_ciphers(ccfg, suites[i]);
		ktls_config_set_ciphers(scfg, suites[i]);
		pair_init(&p, ccfg, scfg);
		handshake(&p);
		tap_ok(!p.cret && !p.sret && !strcmp(ktls_get_cipher_name(p.c), suites[i]) &&
		       transfer(p.c, p.s, &p.to_s, &p.to_c, 5000) &&
		       transfer(p.s, p.c, &p.to_c, &p.to_s, 5000),
		       "%s when named: handshake and data (%s)", suites[i],
		       ktls_get_error_detail(p.s));
		pair_free(&p);
	}

	/* Off by default: a server that only has it finds nothing in common. */
	scfg = config("rsa", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12);
	ktls_config_set_ciphers(scfg, suites[0]);
	pair_init(&p, config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13), scfg);
	handshake(&p);
	tap_ok(p.sret == KTLS_ALERT_HANDSHAKE_FAILURE, "RSA key transport is not offered by default");
	pair_free(&p);

	/*
	 * A premaster that does not decrypt is replaced silently by a random
	 * one: the keys differ, so the client's Finished record fails.
	 */
	ccfg = config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13);
	scfg = config("rsa", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12);
	ktls_config_set_ciphers(ccfg, suites[0]);
	ktls_config_set_ciphers(scfg, suites[0]);
	pair_init(&p, ccfg, scfg);
	p.chooks.outgoing = corrupt_key_exchange;
	handshake(&p);
	tap_ok(p.sret == KTLS_ALERT_BAD_RECORD_MAC,
	       "corrupted RSA premaster: handshake goes on, the client's Finished fails (%s)",
	       ktls_get_error_detail(p.s));
	pair_free(&p);
}

/* The server's premaster decryption: right, wrong version, wrong length, garbage. */
static void test_rsa_decrypt(void)
{
	uint8_t premaster[48], enc[KC_MAX_SIGNATURE], out[48], out2[48];
	struct kc_chain *chain = NULL;
	struct kc_pkey *key = NULL;
	char cert[256], keyfile[256];
	size_t enc_len = sizeof(enc);

	snprintf(cert, sizeof(cert), "%s/rsa.pem", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/rsa.key", dir);
	kc_chain_load(cert, &chain);
	kc_pkey_load(keyfile, &key);
	fill(premaster, sizeof(premaster), 0x10);
	premaster[0] = 0x03;
	premaster[1] = 0x03;
	tap_ok(chain && key && !kc_rsa_encrypt(chain, premaster, 48, enc, &enc_len) &&
	       !kc_rsa_decrypt_premaster(key, enc, enc_len, KTLS_VERSION_TLS12, out) &&
	       !memcmp(out, premaster, 48), "RSA premaster decrypts");
	premaster[1] = 0x02;
	enc_len = sizeof(enc);
	tap_ok(!kc_rsa_encrypt(chain, premaster, 48, enc, &enc_len) &&
	       !kc_rsa_decrypt_premaster(key, enc, enc_len, KTLS_VERSION_TLS12, out) &&
	       memcmp(out, premaster, 48) &&
	       !kc_rsa_decrypt_premaster(key, enc, enc_len, KTLS_VERSION_TLS12, out2) &&
	       memcmp(out, out2, 48), "wrong version in the premaster: a fresh random one, no error");
	enc_len = sizeof(enc);
	tap_ok(!kc_rsa_encrypt(chain, premaster, 47, enc, &enc_len) &&
	       !kc_rsa_decrypt_premaster(key, enc, enc_len, KTLS_VERSION_TLS12, out) &&
	       memcmp(out, premaster, 47), "47-byte premaster: random, no error");
	enc[10] ^= 0x55;
	tap_ok(!kc_rsa_decrypt_premaster(key, enc, enc_len, KTLS_VERSION_TLS12, out) &&
	       !kc_rsa_decrypt_premaster(key, enc, 17, KTLS_VERSION_TLS12, out2),
	       "garbage and short ciphertexts: random premasters, no error");
	kc_chain_free(chain);
	kc_pkey_free(key);
}

/* What ktls_install() hands the kernel for a TLS 1.2 connection, through the seam. */
static struct {
	int names[8];
	union ktls_crypto_info info[2];
	size_t count, infos;
} seen;

static int seen_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (seen.count < KTLS_ARRAY_SIZE(seen.names))
		seen.names[seen.count++] = name;
	if (level == SOL_TLS && (name == TLS_TX || name == TLS_RX) && seen.infos < 2 &&
	    len <= sizeof(seen.info[0]))
		memcpy(&seen.info[seen.infos++], val, len);
	return 0;
}

static void test_install(void)
{
	static const struct ktls_syscalls sys = { .setsockopt = seen_setsockopt };
	struct ktls_install_opts opts = { 0 };
	struct ktls_install_status status;
	struct ktls_buf plain = { 0 };
	union ktls_crypto_info tx;
	struct pair p;
	size_t i, len;
	int ret, nopad = 0;

	pair_init(&p, config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13),
		  config("p256", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12));
	handshake(&p);
	ktls_export_crypto_info(p.c, KTLS_DIR_TX, &tx, &len);
	memset(&seen, 0, sizeof(seen));
	ktls_set_syscalls(&sys);
	ret = ktls_install(p.c, 99, NULL, 0, &plain, &opts, &status);
	ktls_set_syscalls(NULL);
	for (i = 0; i < seen.count; i++)
		nopad |= seen.names[i] == TLS_RX_EXPECT_NO_PAD;
	tap_ok(!ret && seen.infos == 2 && seen.info[0].info.version == TLS_1_2_VERSION &&
	       seen.info[1].info.version == TLS_1_2_VERSION && !memcmp(&seen.info[0], &tx, len) &&
	       !nopad, "kTLS install of TLS 1.2: TLS_1_2_VERSION both ways, no TLS_RX_EXPECT_NO_PAD");
	ktls_buf_dispose(&plain);
	pair_free(&p);
}

static void test_renegotiation(void)
{
	static const uint8_t hello_request[4] = { KTLS_HS_HELLO_REQUEST, 0, 0, 0 };
	struct pair p;
	int ret;

	pair_init(&p, config(NULL, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13),
		  config("p256", KTLS_VERSION_TLS12, KTLS_VERSION_TLS12));
	handshake(&p);
	ktls_record_write(&p.s->cn_tx, &p.to_c, KTLS_CT_HANDSHAKE, hello_request, 4);
	ret = receive_error(p.c, &p.to_c);
	tap_ok(!p.cret && ret == KTLS_ALERT_NO_RENEGOTIATION,
	       "HelloRequest after the handshake: no_renegotiation");
	tap_ok(ktls_send_key_update(p.s, &p.to_c, 0) == KTLS_ERROR_STATE,
	       "no KeyUpdate in TLS 1.2");
	pair_free(&p);
}

int main(void)
{
	uint8_t premaster[48], session_hash[32], cr[32], sr[32], master[48], fin[12];
	struct ktls12_keys keys;
	size_t len;
	uint8_t *want;

	tap_plan(24 + 18 * 4 + 12 + 3 + 4 + 4 + 8 + 2 + 4 + 4 + 1 + 2);
	kc_init();
	if (make_certs()) {
		tap_diag("cannot make certificates in %s", dir);
		return 1;
	}
	test_prf(KC_SHA256, "9bbe436ba940f017b17652849a71db35", "a0ba9f936cda311827a6f796ffd5198c",
		 "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
		 "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
		 "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
		 "87347b66", "PRF SHA-256 (IETF TLS list vector)");
	test_prf(KC_SHA384, "b80b733d6ceefcdc71566ea48e5567df", "cd665cf6a8447dd6ff8b27555edb7465",
		 "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
		 "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
		 "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
		 "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
		 "91c8f3a26854308d5eaa3be85e0990703d73e56f", "PRF SHA-384");

	fill(premaster, sizeof(premaster), 0x01);
	fill(session_hash, sizeof(session_hash), 0x40);
	fill(cr, sizeof(cr), 0x80);
	fill(sr, sizeof(sr), 0xa0);
	tap_ok(!ktls12_master_secret(KC_SHA256, premaster, 48, NULL, cr, sr, master),
	       "master secret");
	want = tap_unhex("f378c3c65c172238b93baa784eaf68282d635ee14eb9c3dba27cac2e8ad5bc68"
			 "0db99448b52860e03d2907a588510d75", &len);
	tap_mem_eq(master, want, len, "master secret (RFC 5246 8.1)");
	free(want);
	tap_ok(!ktls12_master_secret(KC_SHA256, premaster, 48, session_hash, cr, sr, master),
	       "extended master secret");
	want = tap_unhex("ed2c0d6d370e2b2322b5506ec56782a2b53461f132778283f65deec7b96890b8"
			 "9f6be4edd3e88ee4bba28f8457990c9f", &len);
	tap_mem_eq(master, want, len, "extended master secret (RFC 7627 4)");
	free(want);

	tap_ok(!ktls12_key_block(suite(0xc02b), master, cr, sr, &keys), "key block, AES-128-GCM");
	want = tap_unhex("b1f3f6a7c63eac0b385c0fff813e9b1429dffee117d560c5dbbf80db37a67c26"
			 "7293dc8c86fa45b7", &len);
	tap_ok(!memcmp(keys.client_key, want, 16) && !memcmp(keys.server_key, want + 16, 16) &&
	       !memcmp(keys.client_iv, want + 32, 4) && !memcmp(keys.server_iv, want + 36, 4),
	       "key block cut into keys and 4-byte salts");
	test_record(0xc02b, keys.client_key, keys.client_iv,
		    "1703030026000000000000000170f83bcdda318da010d18693e9e865b2f90d90"
		    "e863aaf2dbb2e79dc2352d", "AES-128-GCM record");
	free(want);

	tap_ok(!ktls12_key_block(suite(0xcca9), master, cr, sr, &keys), "key block, ChaCha20");
	want = tap_unhex("b1f3f6a7c63eac0b385c0fff813e9b1429dffee117d560c5dbbf80db37a67c26"
			 "7293dc8c86fa45b705212d36f8bc2e8f2d53c1958f3c1278c6310b9d0fa65668"
			 "e7ecaaf3c46fa740f630ec8068b4b2eb052959b25a0677c2", &len);
	tap_ok(!memcmp(keys.client_key, want, 32) && !memcmp(keys.server_key, want + 32, 32) &&
	       !memcmp(keys.client_iv, want + 64, 12) && !memcmp(keys.server_iv, want + 76, 12),
	       "key block cut into keys and 12-byte IVs");
	test_record(0xcca9, keys.client_key, keys.client_iv,
		    "170303001e85e3f2ee023f5d283162c21d8e8f92c7b184e4748831ab6b5d1ccc"
		    "994b17", "ChaCha20-Poly1305 record");
	free(want);

	tap_ok(!ktls12_verify_data(KC_SHA256, master, 1, session_hash, fin), "verify_data");
	want = tap_unhex("53ef15adc0af62231ade826c", &len);
	tap_mem_eq(fin, want, len, "server Finished verify_data");
	free(want);
	kc_cleanse(&keys, sizeof(keys));

	test_suites();
	test_key_types();
	test_versions();
	test_client_auth();
	test_lies();
	test_renegotiation();
	test_rsa_key_transport();
	test_rsa_decrypt();
	test_install();
	run("rm -rf %s", dir);
	return tap_done();
}
