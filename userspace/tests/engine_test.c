// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine against itself, in memory: both roles, every suite and group,
 * every key type, HelloRetryRequest, client authentication, and the
 * negative paths that need a peer which lies (through the test hooks).
 * Certificates are made at run time with the openssl CLI.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktls_int.h"
#include "tap.h"

static char dir[] = "/tmp/ktls-engine-XXXXXX";

static void path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

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

/* A leaf for @cn signed by @ca with SAN DNS:localhost; @keyopt is for openssl genpkey. */
static int make_leaf(const char *name, const char *keyopt, const char *ca, const char *san)
{
	return run("cd %s && openssl genpkey %s -out %s.key 2>/dev/null && "
		   "openssl req -new -key %s.key -subj /CN=%s -out %s.csr 2>/dev/null && "
		   "printf 'subjectAltName=%s\\n' > %s.ext && "
		   "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial "
		   "-days 2 -extfile %s.ext -out %s.pem 2>/dev/null",
		   dir, keyopt, name, name, name, name, san, name, name, ca, ca, name, name);
}

static int make_certs(void)
{
	if (!mkdtemp(dir))
		return -1;
	if (run("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		"-nodes -keyout ca.key -out ca.pem -subj /CN=test-ca -days 2 2>/dev/null && "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		"-nodes -keyout other.key -out other.pem -subj /CN=other-ca -days 2 2>/dev/null",
		dir))
		return -1;
	if (make_leaf("p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "ca",
		      "DNS:localhost") ||
	    make_leaf("p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", "ca",
		      "DNS:localhost") ||
	    make_leaf("rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", "ca",
		      "DNS:localhost") ||
	    make_leaf("rsapss", "-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048", "ca",
		      "DNS:localhost") ||
	    make_leaf("ed25519", "-algorithm ED25519", "ca", "DNS:localhost") ||
	    make_leaf("client", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "ca",
		      "DNS:client") ||
	    make_leaf("www", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "ca",
		      "DNS:www.example.test") ||
	    make_leaf("untrusted", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "other",
		      "DNS:localhost"))
		return -1;
	return 0;
}

struct pair {
	struct ktls_config *ccfg, *scfg;
	struct ktls_conn *c, *s;
	struct ktls_buf to_c, to_s;	/* bytes in flight */
	struct ktls_buf rx_c, rx_s;	/* bytes arrived, not yet consumed */
	int cret, sret;
	struct ktls_test_hooks chooks, shooks;
};

static struct ktls_config *config(const char *ident, const char *ca)
{
	struct ktls_config *cfg = ktls_config_new();
	char cert[256], key[256], capath[256];

	if (ident) {
		snprintf(cert, sizeof(cert), "%s/%s.pem", dir, ident);
		snprintf(key, sizeof(key), "%s/%s.key", dir, ident);
		if (ktls_config_add_identity(cfg, cert, key))
			tap_diag("identity %s: %s", ident, ktls_config_error(cfg));
	}
	if (ca) {
		path(capath, sizeof(capath), ca);
		ktls_config_set_ca_file(cfg, capath);
	}
	return cfg;
}

static void pair_init(struct pair *p, struct ktls_config *ccfg, struct ktls_config *scfg)
{
	memset(p, 0, sizeof(*p));
	p->ccfg = ccfg;
	p->scfg = scfg;
	p->c = ktls_conn_new(ccfg, KTLS_ROLE_CLIENT);
	p->s = ktls_conn_new(scfg, KTLS_ROLE_SERVER);
	ktls_conn_set_server_name(p->c, "localhost");
	p->cret = p->sret = KTLS_ERROR_IN_PROGRESS;
}

static void pair_free(struct pair *p)
{
	ktls_conn_free(p->c);
	ktls_conn_free(p->s);
	ktls_config_free(p->ccfg);
	ktls_config_free(p->scfg);
	ktls_buf_dispose(&p->to_c);
	ktls_buf_dispose(&p->to_s);
	ktls_buf_dispose(&p->rx_c);
	ktls_buf_dispose(&p->rx_s);
}

/*
 * Feeds one side what the other sent, as a socket would: @chunk > 0
 * delivers at most that many bytes a call into the receive buffer @rx.
 */
static int step(struct ktls_conn *conn, struct ktls_buf *in, struct ktls_buf *rx,
		struct ktls_buf *out, size_t chunk)
{
	size_t n = in->off;
	int ret;

	if (chunk && n > chunk)
		n = chunk;
	ktls_buf_push(rx, in->base, n);
	ktls_buf_shift(in, n);
	n = rx->off;
	ret = ktls_handshake(conn, out, rx->base, &n);
	ktls_buf_shift(rx, n);
	/* Whatever the handshake left is the peer's next records: back to the wire. */
	if (ret != KTLS_ERROR_IN_PROGRESS && rx->off) {
		ktls_buf_push(rx, in->base, in->off);
		in->off = 0;
		ktls_buf_push(in, rx->base, rx->off);
		rx->off = 0;
	}
	return ret;
}

static void handshake(struct pair *p, size_t chunk)
{
	int i;

	for (i = 0; i < 100000; i++) {
		if (p->cret == KTLS_ERROR_IN_PROGRESS)
			p->cret = step(p->c, &p->to_c, &p->rx_c, &p->to_s, chunk);
		if (p->sret == KTLS_ERROR_IN_PROGRESS)
			p->sret = step(p->s, &p->to_s, &p->rx_s, &p->to_c, chunk);
		if (p->cret != KTLS_ERROR_IN_PROGRESS && p->sret != KTLS_ERROR_IN_PROGRESS)
			return;
		/* One side failed: let the other read the alert, then stop. */
		if ((p->cret != KTLS_ERROR_IN_PROGRESS && p->cret != 0) ||
		    (p->sret != KTLS_ERROR_IN_PROGRESS && p->sret != 0)) {
			if (p->cret == KTLS_ERROR_IN_PROGRESS)
				p->cret = step(p->c, &p->to_c, &p->rx_c, &p->to_s, 0);
			if (p->sret == KTLS_ERROR_IN_PROGRESS)
				p->sret = step(p->s, &p->to_s, &p->rx_s, &p->to_c, 0);
			return;
		}
		if (!p->to_c.off && !p->to_s.off && i > 2)
			return;
	}
}

/* Sends @len bytes from @from to @to through the engine's records. */
static int transfer(struct ktls_conn *from, struct ktls_conn *to, struct ktls_buf *wire,
		    struct ktls_buf *back, size_t len)
{
	struct ktls_buf plain;
	uint8_t *data = malloc(len);
	size_t i, n;
	int ok;

	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	ktls_buf_init(&plain, NULL, 0);
	ok = !ktls_send(from, wire, data, len);
	n = wire->off;
	ok = ok && !ktls_receive(to, &plain, back, wire->base, &n);
	ktls_buf_shift(wire, n);
	ok = ok && plain.off == len && !memcmp(plain.base, data, len);
	ktls_buf_dispose(&plain);
	free(data);
	return ok;
}

/* What ktls_receive() says about the bytes waiting in @wire. */
static int receive_error(struct ktls_conn *conn, struct ktls_buf *wire)
{
	struct ktls_buf plain, out;
	size_t n = wire->off;
	int ret;

	ktls_buf_init(&plain, NULL, 0);
	ktls_buf_init(&out, NULL, 0);
	ret = ktls_receive(conn, &plain, &out, wire->base, &n);
	ktls_buf_shift(wire, n);
	ktls_buf_dispose(&plain);
	ktls_buf_dispose(&out);
	return ret;
}

static void test_suites_and_groups(void)
{
	const struct ktls_suite *suite;
	const struct ktls_group *group;
	union ktls_crypto_info ctx, srx;
	size_t clen, slen;
	struct pair p;

	for (suite = ktls_suites; suite->id; suite++) {
		if (suite->version != KTLS_VERSION_TLS13)
			continue;	/* TLS 1.2: tls12_test.c */
		for (group = ktls_groups; group->id; group++) {
			struct ktls_config *ccfg = config(NULL, "ca.pem");

			ktls_config_set_ciphers(ccfg, suite->name);
			ktls_config_set_groups(ccfg, group->name);
			pair_init(&p, ccfg, config("p256", NULL));
			handshake(&p, 0);
			tap_ok(!p.cret && !p.sret, "%s %s: handshake (%s)", suite->name, group->name,
			       ktls_get_error_detail(p.c));
			tap_ok(!strcmp(ktls_get_cipher_name(p.c), suite->name) &&
			       !strcmp(ktls_get_cipher_name(p.s), suite->name) &&
			       !strcmp(ktls_get_group_name(p.s), group->name) &&
			       !strcmp(ktls_get_version_name(p.c), "TLSv1.3") && !ktls_get_hrr(p.c),
			       "%s %s: negotiated what was asked", suite->name, group->name);
			tap_ok(transfer(p.c, p.s, &p.to_s, &p.to_c, 100000) &&
			       transfer(p.s, p.c, &p.to_c, &p.to_s, 1),
			       "%s %s: data both ways", suite->name, group->name);
			tap_ok(!ktls_export_crypto_info(p.c, KTLS_DIR_TX, &ctx, &clen) &&
			       !ktls_export_crypto_info(p.s, KTLS_DIR_RX, &srx, &slen) &&
			       clen == slen && !memcmp(&ctx, &srx, clen) &&
			       ctx.info.cipher_type == suite->kernel_cipher_type &&
			       ktls_get_record_seq(p.c, KTLS_DIR_TX) == 7,
			       "%s %s: client TX export equals server RX export", suite->name,
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
		{ "rsapss", "rsa_pss_pss_sha256" },
		{ "ed25519", "ed25519" },
	};
	struct pair p;
	size_t i;

	for (i = 0; i < KTLS_ARRAY_SIZE(cases); i++) {
		pair_init(&p, config(NULL, "ca.pem"), config(cases[i].ident, NULL));
		handshake(&p, 0);
		tap_ok(!p.cret && !p.sret && ktls_get_sigalg_name(p.c) &&
		       !strcmp(ktls_get_sigalg_name(p.c), cases[i].sigalg),
		       "%s server key: handshake with %s (%s)", cases[i].ident, cases[i].sigalg,
		       ktls_get_error_detail(p.c));
		pair_free(&p);
	}
}

static void test_hrr(void)
{
	struct ktls_config *scfg = config("p256", NULL);
	struct pair p;

	ktls_config_set_groups(scfg, "secp384r1");
	pair_init(&p, config(NULL, "ca.pem"), scfg);
	handshake(&p, 0);
	tap_ok(!p.cret && !p.sret && ktls_get_hrr(p.c) && ktls_get_hrr(p.s) &&
	       !strcmp(ktls_get_group_name(p.c), "secp384r1"),
	       "HelloRetryRequest when the client's share is not acceptable");
	tap_ok(transfer(p.c, p.s, &p.to_s, &p.to_c, 1000), "data after HelloRetryRequest");
	pair_free(&p);
}

static void test_client_auth(void)
{
	struct ktls_config *scfg;
	struct pair p;

	scfg = config("p256", "ca.pem");
	ktls_config_set_verify_client(scfg, KTLS_VERIFY_REQUIRED);
	pair_init(&p, config("client", "ca.pem"), scfg);
	handshake(&p, 0);
	tap_ok(!p.cret && !p.sret && ktls_get_peer_subject(p.s) &&
	       !strcmp(ktls_get_peer_subject(p.s), "CN=client") &&
	       ktls_get_peer_cert_count(p.s) == 1,
	       "client certificate required and sent (%s)", ktls_get_error_detail(p.s));
	pair_free(&p);

	scfg = config("p256", "ca.pem");
	ktls_config_set_verify_client(scfg, KTLS_VERIFY_REQUIRED);
	pair_init(&p, config(NULL, "ca.pem"), scfg);
	handshake(&p, 0);
	/* The client is done after its Finished; the alert reaches it as data would. */
	tap_ok(p.sret == KTLS_ALERT_CERTIFICATE_REQUIRED && p.cret == 0 &&
	       receive_error(p.c, &p.to_c) == KTLS_ERROR_PEER_ALERT(KTLS_ALERT_CERTIFICATE_REQUIRED),
	       "client certificate required and absent: certificate_required (%x %x)",
	       p.cret, p.sret);
	pair_free(&p);

	scfg = config("p256", "ca.pem");
	ktls_config_set_verify_client(scfg, KTLS_VERIFY_OPTIONAL);
	pair_init(&p, config(NULL, "ca.pem"), scfg);
	handshake(&p, 0);
	tap_ok(!p.cret && !p.sret && !ktls_get_peer_subject(p.s),
	       "client certificate optional and absent");
	pair_free(&p);
}

static void test_verification(void)
{
	struct ktls_config *ccfg;
	struct pair p;

	pair_init(&p, config(NULL, "ca.pem"), config("untrusted", NULL));
	handshake(&p, 0);
	tap_ok(p.cret == KTLS_ALERT_UNKNOWN_CA &&
	       p.sret == KTLS_ERROR_PEER_ALERT(KTLS_ALERT_UNKNOWN_CA),
	       "untrusted chain: unknown_ca (%s)", ktls_get_error_detail(p.c));
	pair_free(&p);

	pair_init(&p, config(NULL, "ca.pem"), config("client", NULL));
	handshake(&p, 0);
	tap_ok(p.cret == KTLS_ALERT_BAD_CERTIFICATE, "wrong host name: bad_certificate (%s)",
	       ktls_get_error_detail(p.c));
	pair_free(&p);

	ccfg = config(NULL, NULL);
	ktls_config_set_verify(ccfg, KTLS_VERIFY_NONE);
	pair_init(&p, ccfg, config("client", NULL));
	handshake(&p, 0);
	tap_ok(!p.cret && !p.sret, "verify none accepts the wrong name");
	pair_free(&p);
}

/* Flips the last byte of the message of type @arg. */
static void corrupt_message(void *arg, uint8_t *msg, size_t len)
{
	if (msg[0] == *(uint8_t *)arg)
		msg[len - 1] ^= 1;
}

static void retype_message(void *arg, uint8_t *msg, size_t len)
{
	if (msg[0] == KTLS_HS_ENCRYPTED_EXTENSIONS)
		msg[0] = KTLS_HS_CERTIFICATE;
}

static void test_tampering(void)
{
	uint8_t finished = KTLS_HS_FINISHED, cv = KTLS_HS_CERTIFICATE_VERIFY;
	struct pair p;

	pair_init(&p, config(NULL, "ca.pem"), config("p256", NULL));
	p.shooks.outgoing = corrupt_message;
	p.shooks.arg = &finished;
	ktls_conn_set_test_hooks(p.s, &p.shooks);
	handshake(&p, 0);
	tap_ok(p.cret == KTLS_ALERT_DECRYPT_ERROR, "tampered server Finished: decrypt_error");
	pair_free(&p);

	pair_init(&p, config(NULL, "ca.pem"), config("p256", NULL));
	p.chooks.outgoing = corrupt_message;
	p.chooks.arg = &finished;
	ktls_conn_set_test_hooks(p.c, &p.chooks);
	handshake(&p, 0);
	tap_ok(p.sret == KTLS_ALERT_DECRYPT_ERROR && p.cret == 0 &&
	       receive_error(p.c, &p.to_c) == KTLS_ERROR_PEER_ALERT(KTLS_ALERT_DECRYPT_ERROR),
	       "tampered client Finished: server says decrypt_error");
	pair_free(&p);

	pair_init(&p, config(NULL, "ca.pem"), config("p256", NULL));
	p.shooks.outgoing = corrupt_message;
	p.shooks.arg = &cv;
	ktls_conn_set_test_hooks(p.s, &p.shooks);
	handshake(&p, 0);
	tap_ok(p.cret == KTLS_ALERT_DECRYPT_ERROR, "bad CertificateVerify signature: decrypt_error");
	pair_free(&p);

	pair_init(&p, config(NULL, "ca.pem"), config("p256", NULL));
	p.shooks.outgoing = retype_message;
	ktls_conn_set_test_hooks(p.s, &p.shooks);
	handshake(&p, 0);
	tap_ok(p.cret == KTLS_ALERT_UNEXPECTED_MESSAGE &&
	       p.sret == KTLS_ERROR_PEER_ALERT(KTLS_ALERT_UNEXPECTED_MESSAGE),
	       "message out of order: unexpected_message");
	pair_free(&p);
}

/*
 * Rewrites the server's ALPN answer in EncryptedExtensions: *@arg 0 names
 * "h3" instead of "h2", 1 shortens the name so a byte is left over.
 */
static void alpn_lie(void *arg, uint8_t *msg, size_t len)
{
	size_t off;

	if (msg[0] != KTLS_HS_ENCRYPTED_EXTENSIONS)
		return;
	for (off = 4 + 2; off + 4 <= len; off += 4 + ((size_t)msg[off + 2] << 8 | msg[off + 3])) {
		if (msg[off] != 0 || msg[off + 1] != KTLS_EXT_ALPN || off + 9 > len)
			continue;
		if (*(int *)arg)
			msg[off + 6] = 1;
		else
			msg[off + 8] = '3';
		return;
	}
}

static void test_negotiation_failures(void)
{
	struct ktls_config *ccfg, *scfg;
	struct pair p;
	int lie;

	ccfg = config(NULL, "ca.pem");
	scfg = config("p256", NULL);
	ktls_config_set_ciphers(ccfg, "TLS_AES_128_GCM_SHA256");
	ktls_config_set_ciphers(scfg, "TLS_AES_256_GCM_SHA384");
	pair_init(&p, ccfg, scfg);
	handshake(&p, 0);
	tap_ok(p.sret == KTLS_ALERT_HANDSHAKE_FAILURE &&
	       p.cret == KTLS_ERROR_PEER_ALERT(KTLS_ALERT_HANDSHAKE_FAILURE),
	       "no common cipher suite: handshake_failure");
	pair_free(&p);

	ccfg = config(NULL, "ca.pem");
	scfg = config("p256", NULL);
	ktls_config_set_groups(ccfg, "x25519");
	ktls_config_set_groups(scfg, "secp384r1");
	pair_init(&p, ccfg, scfg);
	handshake(&p, 0);
	tap_ok(p.sret == KTLS_ALERT_HANDSHAKE_FAILURE, "no common group: handshake_failure");
	pair_free(&p);

	ccfg = config(NULL, "ca.pem");
	scfg = config("p256", NULL);
	ktls_config_set_alpn(ccfg, "http/1.1");
	ktls_config_set_alpn(scfg, "h2");
	pair_init(&p, ccfg, scfg);
	handshake(&p, 0);
	tap_ok(p.sret == KTLS_ALERT_NO_APPLICATION_PROTOCOL,
	       "no common ALPN protocol: no_application_protocol");
	pair_free(&p);

	ccfg = config(NULL, "ca.pem");
	scfg = config("p256", NULL);
	ktls_config_set_alpn(ccfg, "foo,h2");
	ktls_config_set_alpn(scfg, "h2,http/1.1");
	pair_init(&p, ccfg, scfg);
	handshake(&p, 0);
	tap_ok(!p.cret && ktls_get_alpn(p.c) && !strcmp(ktls_get_alpn(p.c), "h2") &&
	       !strcmp(ktls_get_alpn(p.s), "h2") &&
	       !strcmp(ktls_get_server_name(p.s), "localhost"),
	       "ALPN h2 and SNI seen by both sides");
	pair_free(&p);

	for (lie = 0; lie < 2; lie++) {
		ccfg = config(NULL, "ca.pem");
		scfg = config("p256", NULL);
		ktls_config_set_alpn(ccfg, "h2");
		ktls_config_set_alpn(scfg, "h2");
		pair_init(&p, ccfg, scfg);
		p.shooks.outgoing = alpn_lie;
		p.shooks.arg = &lie;
		ktls_conn_set_test_hooks(p.s, &p.shooks);
		handshake(&p, 0);
		if (lie)
			tap_ok(p.cret == KTLS_ALERT_DECODE_ERROR && !ktls_get_alpn(p.c),
			       "an ALPN answer with a byte left over: decode_error (%s)",
			       ktls_get_error_detail(p.c));
		else
			tap_ok(p.cret == KTLS_ALERT_ILLEGAL_PARAMETER && !ktls_get_alpn(p.c),
			       "an ALPN answer not offered: illegal_parameter (%s)",
			       ktls_get_error_detail(p.c));
		pair_free(&p);
	}
}

/* ktls_conn_set_alpn() and ktls_conn_set_verify() win over the shared config. */
static void test_connection_overrides(void)
{
	struct ktls_config *ccfg, *scfg;
	struct pair p;

	ccfg = config(NULL, "ca.pem");
	scfg = config("p256", NULL);
	ktls_config_set_alpn(ccfg, "http/1.1");
	ktls_config_set_alpn(scfg, "http/1.1");
	pair_init(&p, ccfg, scfg);
	tap_ok(ktls_conn_set_alpn(p.c, "h2,,x") == KTLS_ERROR_INVALID_ARGUMENT,
	       "connection ALPN: an empty name is refused");
	tap_ok(!ktls_conn_set_alpn(p.c, "spdy/3,h2") && !ktls_conn_set_alpn(p.s, "h2"),
	       "connection ALPN lists set on both sides");
	handshake(&p, 0);
	tap_ok(!p.cret && !p.sret && ktls_get_alpn(p.c) && !strcmp(ktls_get_alpn(p.c), "h2"),
	       "connection ALPN lists used instead of the config's http/1.1");
	tap_ok(ktls_conn_set_alpn(p.c, "h2") == KTLS_ERROR_STATE,
	       "connection ALPN cannot change after the handshake");
	pair_free(&p);

	/* No trust anchors: only a connection that asks for no check succeeds. */
	ccfg = config(NULL, NULL);
	scfg = config("p256", NULL);
	pair_init(&p, ccfg, scfg);
	tap_ok(ktls_conn_set_verify(p.c, (enum ktls_verify_policy)7) ==
	       KTLS_ERROR_INVALID_ARGUMENT && !ktls_conn_set_verify(p.c, KTLS_VERIFY_NONE),
	       "connection verify policy: NONE accepted, nonsense refused");
	handshake(&p, 0);
	tap_ok(!p.cret && !p.sret, "client with verify=none on the connection completes");
	pair_free(&p);

	ccfg = config(NULL, "ca.pem");
	scfg = config("p256", "ca.pem");
	pair_init(&p, ccfg, scfg);
	ktls_conn_set_verify(p.s, KTLS_VERIFY_REQUIRED);
	handshake(&p, 0);
	tap_ok(p.sret == KTLS_ALERT_CERTIFICATE_REQUIRED,
	       "server with verify=required on the connection asks for a certificate");
	pair_free(&p);
}

/* A server with two certificates answers each name with the one that names it. */
static void test_identity_by_sni(void)
{
	static const uint16_t versions[] = { KTLS_VERSION_TLS13, KTLS_VERSION_TLS12 };
	struct ktls_config *ccfg, *scfg;
	char cert[256], key[256];
	struct pair p;
	size_t v;

	for (v = 0; v < KTLS_ARRAY_SIZE(versions); v++) {
		ccfg = config(NULL, "ca.pem");
		scfg = config("p256", NULL);
		snprintf(cert, sizeof(cert), "%s/www.pem", dir);
		snprintf(key, sizeof(key), "%s/www.key", dir);
		ktls_config_add_identity(scfg, cert, key);
		ktls_config_set_versions(ccfg, versions[v], versions[v]);
		ktls_config_set_versions(scfg, KTLS_VERSION_TLS12, KTLS_VERSION_TLS13);
		pair_init(&p, ccfg, scfg);
		ktls_conn_set_server_name(p.c, "www.example.test");
		handshake(&p, 0);
		tap_ok(!p.cret && !p.sret && strstr(ktls_get_peer_subject(p.c), "CN=www"),
		       "%s: SNI www.example.test gets the second certificate (%s)",
		       versions[v] == KTLS_VERSION_TLS13 ? "TLS 1.3" : "TLS 1.2",
		       ktls_get_error_detail(p.c));
		pair_free(&p);
	}

	ccfg = config(NULL, "ca.pem");
	scfg = config("p256", NULL);
	snprintf(cert, sizeof(cert), "%s/www.pem", dir);
	snprintf(key, sizeof(key), "%s/www.key", dir);
	ktls_config_add_identity(scfg, cert, key);
	pair_init(&p, ccfg, scfg);
	handshake(&p, 0);
	tap_ok(!p.cret && strstr(ktls_get_peer_subject(p.c), "CN=p256"),
	       "SNI localhost gets the first certificate");
	pair_free(&p);
}

/* Rewrites the ClientHello: @arg selects what to break. */
static void break_client_hello(void *arg, uint8_t *msg, size_t len)
{
	int what = *(int *)arg;
	size_t off = 4 + 2 + 32;

	if (msg[0] != KTLS_HS_CLIENT_HELLO)
		return;
	off += 1 + msg[off];				/* session id */
	off += 2 + (msg[off] << 8 | msg[off + 1]);	/* cipher suites */
	if (what == 0) {
		msg[off + 1] = 1;			/* compression: DEFLATE */
		return;
	}
	for (off += 1 + msg[off] + 2; off + 4 <= len; off += 4 + (msg[off + 2] << 8 | msg[off + 3]))
		if (msg[off] == 0 && msg[off + 1] == KTLS_EXT_SUPPORTED_VERSIONS)
			msg[off] = 0xfa;		/* hide supported_versions */
}

static void test_client_hello_rules(void)
{
	int what;
	struct pair p;

	what = 0;
	pair_init(&p, config(NULL, "ca.pem"), config("p256", NULL));
	p.chooks.outgoing = break_client_hello;
	p.chooks.arg = &what;
	ktls_conn_set_test_hooks(p.c, &p.chooks);
	handshake(&p, 0);
	tap_ok(p.sret == KTLS_ALERT_ILLEGAL_PARAMETER,
	       "compression other than null: illegal_parameter");
	pair_free(&p);

	what = 1;
	pair_init(&p, config(NULL, "ca.pem"), config("p256", NULL));
	p.chooks.outgoing = break_client_hello;
	p.chooks.arg = &what;
	ktls_conn_set_test_hooks(p.c, &p.chooks);
	handshake(&p, 0);
	tap_ok(p.sret == KTLS_ALERT_PROTOCOL_VERSION, "TLS 1.3 not offered: protocol_version");
	pair_free(&p);
}

static void test_records(void)
{
	static const uint8_t big[5] = { KTLS_CT_HANDSHAKE, 3, 3, 0x40, 0x01 };
	struct ktls_buf out;
	struct pair p;
	size_t n;
	int ret;

	pair_init(&p, config(NULL, "ca.pem"), config("p256", NULL));
	ktls_buf_init(&out, NULL, 0);
	p.cret = step(p.c, &p.to_c, &p.rx_c, &p.to_s, 0);
	n = p.to_s.off - 1;
	ret = ktls_handshake(p.s, &out, p.to_s.base, &n);
	tap_ok(ret == KTLS_ERROR_IN_PROGRESS && n == 0 && !out.off,
	       "truncated record: nothing consumed, waits for more");
	n = sizeof(big);
	ret = ktls_handshake(p.s, &out, big, &n);
	tap_ok(ret == KTLS_ALERT_RECORD_OVERFLOW && out.off == 7 && out.base[6] == 22,
	       "oversized record: record_overflow alert sent");
	ktls_buf_dispose(&out);
	pair_free(&p);

	pair_init(&p, config(NULL, "ca.pem"), config("p256", NULL));
	handshake(&p, 0);
	ktls_send(p.c, &p.to_s, "hello", 5);
	p.to_s.base[p.to_s.off - 3] ^= 0x80;
	ktls_buf_init(&out, NULL, 0);
	{
		struct ktls_buf plain;

		ktls_buf_init(&plain, NULL, 0);
		n = p.to_s.off;
		ret = ktls_receive(p.s, &plain, &out, p.to_s.base, &n);
		ktls_buf_dispose(&plain);
	}
	tap_ok(ret == KTLS_ALERT_BAD_RECORD_MAC && out.off > 0,
	       "bit flip in a record: bad_record_mac alert sent");
	ktls_buf_dispose(&out);
	pair_free(&p);
}

static void test_post_handshake(void)
{
	struct ktls_buf plain;
	struct pair p;
	size_t n;
	int ret;

	pair_init(&p, config(NULL, "ca.pem"), config("p256", NULL));
	handshake(&p, 0);
	ktls_send_key_update(p.c, &p.to_s, 1);
	tap_ok(transfer(p.c, p.s, &p.to_s, &p.to_c, 5000) && p.to_c.off > 0 &&
	       transfer(p.s, p.c, &p.to_c, &p.to_s, 5000) && transfer(p.c, p.s, &p.to_s, &p.to_c, 10),
	       "KeyUpdate with update_requested answered; data flows both ways after");

	ktls_buf_init(&plain, NULL, 0);
	ktls_send(p.s, &p.to_c, "bye", 3);
	ktls_send_close_notify(p.s, &p.to_c);
	n = p.to_c.off;
	ret = ktls_receive(p.c, &plain, &p.to_s, p.to_c.base, &n);
	ktls_buf_shift(&p.to_c, n);
	n = p.to_c.off;
	tap_ok(ret == 0 && plain.off == 3 &&
	       ktls_receive(p.c, &plain, &p.to_s, p.to_c.base, &n) == KTLS_ERROR_CLOSED,
	       "data then close_notify: data first, then end of stream");
	ktls_buf_dispose(&plain);
	pair_free(&p);

	pair_init(&p, config(NULL, "ca.pem"), config("rsa", NULL));
	handshake(&p, 1);
	tap_ok(!p.cret && !p.sret, "handshake fed one byte at a time");
	pair_free(&p);
}

/* Reads @name in the test directory whole; *@len gets its size. */
static uint8_t *slurp_file(const char *name, size_t *len)
{
	char file[256];
	uint8_t *data;
	long size;
	FILE *f;

	path(file, sizeof(file), name);
	f = fopen(file, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	data = malloc((size_t)size + 1);
	if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
		free(data);
		data = NULL;
	}
	fclose(f);
	*len = (size_t)size;
	return data;
}

/*
 * Identities from memory (ktlsd's keyring certificates) on a copy of a
 * config that keeps its settings and its trust anchors.
 */
static void test_identity_from_memory(void)
{
	static const char *const names[] = {
		"p256.pem", "p256.key", "p256.der", "p256.key.der", "rsa.key.der",
	};
	uint8_t *data[KTLS_ARRAY_SIZE(names)];
	size_t len[KTLS_ARRAY_SIZE(names)], i;
	struct ktls_config *base, *ccfg, *scfg;
	struct pair p;
	int ret;

	run("cd %s && openssl x509 -in p256.pem -outform DER -out p256.der && "
	    "openssl pkey -in p256.key -outform DER -out p256.key.der && "
	    "openssl pkey -in rsa.key -outform DER -out rsa.key.der", dir);
	for (i = 0; i < KTLS_ARRAY_SIZE(names); i++)
		data[i] = slurp_file(names[i], &len[i]);

	/* PEM; the copy keeps the base's ALPN list. */
	base = config(NULL, NULL);
	ktls_config_set_alpn(base, "h2");
	scfg = ktls_config_dup(base);
	ktls_config_free(base);
	ccfg = config(NULL, "ca.pem");
	ktls_config_set_alpn(ccfg, "h2");
	ret = data[0] && data[1] ? ktls_config_add_identity_mem(scfg, data[0], len[0], data[1],
								 len[1]) : -1;
	pair_init(&p, ccfg, scfg);
	handshake(&p, 0);
	tap_ok(!ret && !p.cret && !p.sret && ktls_get_alpn(p.c) && !strcmp(ktls_get_alpn(p.c), "h2"),
	       "a PEM identity from memory, on a copy that kept ALPN (%d %x %x)", ret, p.cret,
	       p.sret);
	pair_free(&p);

	/* DER, as keyrings hold it; the client's copy verifies with the base's anchors. */
	base = config(NULL, "ca.pem");
	ccfg = ktls_config_dup(base);
	ktls_config_free(base);
	base = config(NULL, NULL);
	scfg = ktls_config_dup(base);
	ktls_config_free(base);
	ret = data[2] && data[3] ? ktls_config_add_identity_mem(scfg, data[2], len[2], data[3],
								 len[3]) : -1;
	pair_init(&p, ccfg, scfg);
	handshake(&p, 0);
	tap_ok(!ret && !p.cret && !p.sret && !strcmp(ktls_get_peer_subject(p.c), "CN=p256"),
	       "a DER identity from memory, verified with anchors shared by a copy (%d %x %x)",
	       ret, p.cret, p.sret);
	pair_free(&p);

	scfg = config(NULL, NULL);
	ret = data[2] && data[4] ? ktls_config_add_identity_mem(scfg, data[2], len[2], data[4],
								 len[4]) : -1;
	tap_ok(ret == KTLS_ERROR_CONFIG && strstr(ktls_config_error(scfg), "does not match"),
	       "a key that is not the certificate's: refused (%s)", ktls_config_error(scfg));
	ret = data[2] && data[3] ? ktls_config_add_identity_mem(scfg, data[2], len[2], data[3],
								 len[3] - 1) : -1;
	tap_ok(ret == KTLS_ERROR_CONFIG && strstr(ktls_config_error(scfg), "private key"),
	       "a truncated DER key: refused (%s)", ktls_config_error(scfg));
	if (data[3]) {
		data[3][len[3]] = 0;	/* slurp_file() left room for it */
		ret = ktls_config_add_identity_mem(scfg, data[2], len[2], data[3], len[3] + 1);
	}
	tap_ok(ret == KTLS_ERROR_CONFIG && strstr(ktls_config_error(scfg), "private key"),
	       "a DER key with a byte after it: refused (%s)", ktls_config_error(scfg));
	ret = data[2] ? ktls_config_add_identity_mem(scfg, data[2] + 1, len[2] - 1, data[3],
						      len[3]) : -1;
	tap_ok(ret == KTLS_ERROR_CONFIG && strstr(ktls_config_error(scfg), "certificate"),
	       "a DER certificate missing its first byte: refused (%s)", ktls_config_error(scfg));
	ktls_config_free(scfg);
	for (i = 0; i < KTLS_ARRAY_SIZE(names); i++)
		free(data[i]);
}

int main(void)
{
	tap_plan(36 + 5 + 2 + 3 + 3 + 4 + 4 + 2 + 3 + 3 + 7 + 3 + 2 + 6);
	if (make_certs()) {
		tap_diag("cannot make certificates in %s", dir);
		return 1;
	}
	test_suites_and_groups();
	test_key_types();
	test_hrr();
	test_client_auth();
	test_verification();
	test_tampering();
	test_negotiation_failures();
	test_connection_overrides();
	test_identity_by_sni();
	test_identity_from_memory();
	test_client_hello_rules();
	test_records();
	test_post_handshake();
	run("rm -rf %s", dir);
	return tap_done();
}
