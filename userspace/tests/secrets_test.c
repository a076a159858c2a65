// SPDX-License-Identifier: GPL-2.0-only
/*
 * Secret hygiene, checked by poison and scan: this program replaces
 * free() (the executable's definition wins for libktls and libcrypto
 * alike), and every block freed while checking is searched for the
 * secrets seen so far: each handshake, application and updated traffic
 * secret, each record key and IV, and the master secret, snapshotted
 * from both connections after every engine call. A secret found in a
 * block being freed was not wiped before the free. Stack copies are not
 * covered (they are reviewed: see Documentation/hardening.rst).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"
#include "tap.h"

#define CERTS "userspace/fuzz/certs"
#define MAX_SECRETS 128
#define PROBE 12	/* bytes of a secret that identify it */

void __libc_free(void *ptr);
void free(void *ptr);

static uint8_t secrets[MAX_SECRETS][PROBE];
static size_t secret_count;
static int checking;
static size_t leaks, scanned;
static char leak_what[256];

static int all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

void free(void *ptr)
{
	size_t size, i;

	if (ptr && checking) {
		checking = 0;	/* no recursion through anything called here */
		size = malloc_usable_size(ptr);
		scanned++;
		for (i = 0; i < secret_count; i++)
			if (memmem(ptr, size, secrets[i], PROBE)) {
				if (!leaks++)
					snprintf(leak_what, sizeof(leak_what),
						 "secret %zu in a freed block of %zu bytes", i, size);
			}
		checking = 1;
	}
	__libc_free(ptr);
}

static void remember(const uint8_t *secret, size_t len)
{
	size_t i;

	if (len < PROBE || all_zero(secret, len))
		return;
	for (i = 0; i < secret_count; i++)
		if (!memcmp(secrets[i], secret, PROBE))
			return;
	if (secret_count < MAX_SECRETS)
		memcpy(secrets[secret_count++], secret, PROBE);
}

static void snapshot(const struct ktls_conn *c)
{
	const struct ktls_protection *p[2] = { &c->cn_tx, &c->cn_rx };
	size_t i;

	remember(c->cn_secret, sizeof(c->cn_secret));
	if (c->cn_premaster_len)	/* TLS 1.2: ECDHE shared secret or RSA premaster */
		remember(c->cn_premaster, c->cn_premaster_len);
	remember(c->cn_client_ap, sizeof(c->cn_client_ap));
	for (i = 0; i < 2; i++) {
		if (!p[i]->suite)
			continue;
		remember(p[i]->secret, sizeof(p[i]->secret));
		remember(p[i]->key, kc_aead_key_size(p[i]->suite->aead));
		remember(p[i]->iv, sizeof(p[i]->iv));
	}
}

/* What one session runs: TLS 1.3, or 1.2 with ECDHE or RSA key transport. */
struct session_kind {
	const char *groups;		/* client's, NULL: default */
	uint16_t version;
	const char *ciphers;		/* both sides, NULL: default */
	const char *server_ident;	/* certs/<name>.pem and .key */
	const char *ca;
};

static const struct session_kind tls13 = { NULL, KTLS_VERSION_TLS13, NULL, "server", "ca" };

static struct ktls_config *config(const struct session_kind *k, const char *ident,
				  int client_auth)
{
	struct ktls_config *cfg = ktls_config_new();
	char cert[128], key[128];

	if (ident) {
		snprintf(cert, sizeof(cert), CERTS "/%s.pem", ident);
		snprintf(key, sizeof(key), CERTS "/%s.key", ident);
		ktls_config_add_identity(cfg, cert, key);
	}
	snprintf(cert, sizeof(cert), CERTS "/%s.pem", k->ca);
	ktls_config_set_ca_file(cfg, cert);
	/* both CAs: the client certificate comes from the Ed25519 one */
	ktls_config_set_ca_file(cfg, CERTS "/ca.pem");
	ktls_config_set_versions(cfg, k->version, k->version);
	if (k->ciphers)
		ktls_config_set_ciphers(cfg, k->ciphers);
	if (client_auth)
		ktls_config_set_verify_client(cfg, KTLS_VERIFY_REQUIRED);
	return cfg;
}

static int step(struct ktls_conn *conn, struct ktls_buf *in, struct ktls_buf *out)
{
	size_t n = in->off;
	int ret = ktls_handshake(conn, out, in->base, &n);

	ktls_buf_shift(in, n);
	snapshot(conn);
	return ret;
}

/* Moves what @from sent to @to through ktls_receive(). */
static int deliver(struct ktls_conn *to, struct ktls_buf *wire, struct ktls_buf *back)
{
	struct ktls_buf plain;
	size_t n = wire->off;
	int ret;

	ktls_buf_init(&plain, NULL, 0);
	ret = ktls_receive(to, &plain, back, wire->base, &n);
	ktls_buf_shift(wire, n);
	ktls_buf_dispose(&plain);
	snapshot(to);
	return ret;
}

/*
 * A handshake with client authentication, data both ways, a KeyUpdate
 * each way, then (if @fail) a forged record so the client fails, and the
 * frees; returns 1 if both sides completed.
 */
static int session(const struct session_kind *k, int fail)
{
	struct ktls_config *ccfg = config(k, "client", 0), *scfg = config(k, k->server_ident, 1);
	struct ktls_conn *c = ktls_conn_new(ccfg, KTLS_ROLE_CLIENT);
	struct ktls_conn *s = ktls_conn_new(scfg, KTLS_ROLE_SERVER);
	struct ktls_buf to_c, to_s;
	int cret = KTLS_ERROR_IN_PROGRESS, sret = KTLS_ERROR_IN_PROGRESS, i, ok;

	ktls_config_free(ccfg);
	ktls_config_free(scfg);
	if (k->groups)
		ktls_config_set_groups(ccfg, k->groups);
	ktls_conn_set_server_name(c, "localhost");
	ktls_buf_init(&to_c, NULL, 0);
	ktls_buf_init(&to_s, NULL, 0);
	for (i = 0; i < 8 && (cret == KTLS_ERROR_IN_PROGRESS || sret == KTLS_ERROR_IN_PROGRESS);
	     i++) {
		if (cret == KTLS_ERROR_IN_PROGRESS)
			cret = step(c, &to_c, &to_s);
		if (sret == KTLS_ERROR_IN_PROGRESS)
			sret = step(s, &to_s, &to_c);
	}
	ok = !cret && !sret;
	if (ok) {
		ktls_send(c, &to_s, "ping", 4);
		ktls_send_key_update(c, &to_s, 1);
		snapshot(c);
		deliver(s, &to_s, &to_c);
		ktls_send(s, &to_c, "pong", 4);
		deliver(c, &to_c, &to_s);
		deliver(s, &to_s, &to_c);
		if (fail) {
			ktls_send(s, &to_c, "pong", 4);
			to_c.base[to_c.off - 1] ^= 1;
			deliver(c, &to_c, &to_s);
			ok = ktls_get_error(c) == KTLS_ALERT_BAD_RECORD_MAC;
		}
	}
	ktls_conn_free(c);
	ktls_conn_free(s);
	ktls_buf_dispose(&to_c);
	ktls_buf_dispose(&to_s);
	return ok;
}

int main(void)
{
	/* Through a volatile pointer: a store followed by free() is dead otherwise. */
	void *(*volatile do_malloc)(size_t) = malloc;
	void (*volatile do_free)(void *) = free;
	size_t first;
	uint8_t *copy;

	static const struct session_kind p256 = { "secp256r1", KTLS_VERSION_TLS13, NULL,
						  "server", "ca" };
	static const struct session_kind tls12 = { NULL, KTLS_VERSION_TLS12, NULL,
						   "server", "ca" };
	static const struct session_kind tls12_rsa = { NULL, KTLS_VERSION_TLS12,
		"TLS_RSA_WITH_AES_128_GCM_SHA256", "server-rsa", "rsa-ca" };

	tap_plan(8);
	checking = 1;
	tap_ok(session(&tls13, 0), "x25519 handshake with client auth, data and KeyUpdate");
	first = secret_count;
	tap_ok(session(&p256, 0), "P-256 handshake, the same");
	tap_ok(session(&tls13, 1), "a session failed by a forged record");
	tap_ok(session(&tls12, 0), "TLS 1.2 ECDHE handshake with client auth and data");
	tap_ok(session(&tls12_rsa, 0), "TLS 1.2 RSA key transport handshake, the same");
	tap_ok(!leaks, "no freed block held a secret: %s", leaks ? leak_what : "none found");
	/* Positive control: a block that does hold a secret is caught. */
	copy = do_malloc(64);
	memcpy(copy + 20, secrets[0], PROBE);
	do_free(copy);
	tap_ok(leaks == 1, "the scan catches a secret left in a freed block");
	checking = 0;
	tap_diag("%zu distinct secrets tracked (%zu in the first session), %zu frees scanned",
		 secret_count, first, scanned);
	tap_ok(first >= 10 && scanned > 100, "the scan saw secrets and frees");
	return tap_done();
}
