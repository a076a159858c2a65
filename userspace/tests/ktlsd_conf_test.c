// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsd.conf(5) and the policy made from it: files that load (and what
 * they load to), files that must not (each with the error text and line it
 * must give), and the decisions ktlsd_policy_check() takes. The
 * certificates come from gencerts.sh: build/tests/certs when the
 * interop scripts made it already (or $KTLS_CERTS), else made here.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "../ktlsd/ktlsd.h"
#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static char dir[] = "/tmp/ktlsd-conf-XXXXXX";
static char certs[256];
static char conf_path[256];
static char err[512];

static int cert_dir_ok(const char *path)
{
	char file[PATH_MAX];

	snprintf(file, sizeof(file), "%s/server-p256.chain.pem", path);
	return !access(file, R_OK);
}

static int find_certs(void)
{
	const char *env = getenv("KTLS_CERTS");
	char cmd[sizeof(certs) + 64], real[PATH_MAX];

	if (env && cert_dir_ok(env)) {
		snprintf(certs, sizeof(certs), "%s", env);
		return 0;
	}
	if (cert_dir_ok("build/tests/certs")) {
		if (!realpath("build/tests/certs", real) || strlen(real) >= sizeof(certs))
			return -1;
		strcpy(certs, real);
		return 0;
	}
	snprintf(certs, sizeof(certs), "%s/certs", dir);
	snprintf(cmd, sizeof(cmd), "userspace/tests/gencerts.sh %s >/dev/null 2>&1", certs);
	return system(cmd) ? -1 : 0;
}

/*
 * Writes @text as the test's ktlsd.conf: "@C@" stands for the certificate
 * directory and "@D@" for the scratch one. Unless @system_trust, a
 * [trust default] of root.pem follows the text (after it, so line numbers
 * stay): loading the system store takes 70000 allocations, and under
 * valgrind dozens of them take minutes.
 */
static const char *write_conf_as(const char *name, const char *text, int system_trust)
{
	FILE *f;
	const char *p;

	snprintf(conf_path, sizeof(conf_path), "%s/%s", dir, name);
	f = fopen(conf_path, "w");
	if (!f)
		return conf_path;
	for (p = text; *p; p++) {
		if (!strncmp(p, "@C@", 3) || !strncmp(p, "@D@", 3)) {
			fputs(p[1] == 'C' ? certs : dir, f);
			p += 2;
		} else {
			fputc(*p, f);
		}
	}
	if (!system_trust)
		fprintf(f, "[trust default]\nca_file = %s/root.pem\n", certs);
	fclose(f);
	return conf_path;
}

static int load_with(const char *text, int system_trust, struct ktlsd_conf **conf)
{
	const char *path = write_conf_as("ktlsd.conf", text, system_trust);
	int ret = ktlsd_conf_load(path, conf, err, sizeof(err));

	if (ret)
		tap_diag("load: %s", err);
	return ret;
}

static int load(const char *text, struct ktlsd_conf **conf)
{
	return load_with(text, 0, conf);
}

static int acl_has_uid(const struct ktlsd_acl *acl, uid_t uid)
{
	size_t i;

	for (i = 0; i < acl->ac_uid_count; i++)
		if (acl->ac_uids[i] == uid)
			return 1;
	return 0;
}

static int acl_has_gid(const struct ktlsd_acl *acl, gid_t gid)
{
	size_t i;

	for (i = 0; i < acl->ac_gid_count; i++)
		if (acl->ac_gids[i] == gid)
			return 1;
	return 0;
}

/* Runs a handshake between two engine configs in memory; 0 when both finish. */
static int handshake(struct ktls_config *client_cfg, struct ktls_config *server_cfg)
{
	struct ktls_conn *c = ktls_conn_new(client_cfg, KTLS_ROLE_CLIENT);
	struct ktls_conn *s = ktls_conn_new(server_cfg, KTLS_ROLE_SERVER);
	int cret = KTLS_ERROR_IN_PROGRESS, sret = KTLS_ERROR_IN_PROGRESS, round;
	struct ktls_buf to_c, to_s;
	size_t n;

	ktls_buf_init(&to_c, NULL, 0);
	ktls_buf_init(&to_s, NULL, 0);
	if (!c || !s || ktls_conn_set_server_name(c, "localhost"))
		goto out;
	for (round = 0; round < 20; round++) {
		if (cret == KTLS_ERROR_IN_PROGRESS) {
			n = to_c.off;
			cret = ktls_handshake(c, &to_s, to_c.base, &n);
			ktls_buf_shift(&to_c, n);
		}
		if (sret == KTLS_ERROR_IN_PROGRESS) {
			n = to_s.off;
			sret = ktls_handshake(s, &to_c, to_s.base, &n);
			ktls_buf_shift(&to_s, n);
		}
		if (cret != KTLS_ERROR_IN_PROGRESS && sret != KTLS_ERROR_IN_PROGRESS)
			break;
	}
	if (cret || sret)
		tap_diag("handshake: client %s (%s), server %s (%s)", ktls_error_string(cret),
			 ktls_get_error_detail(c), ktls_error_string(sret),
			 ktls_get_error_detail(s));
out:
	ktls_conn_free(c);
	ktls_conn_free(s);
	ktls_buf_dispose(&to_c);
	ktls_buf_dispose(&to_s);
	return cret || sret;
}

/* ---------------------------------------------------------------- good files */

static void test_minimal(void)
{
	struct ktlsd_conf *conf = NULL;
	int ret = load_with("# nothing but a comment\n", 1, &conf);

	tap_ok(!ret && conf, "a file with only a comment loads");
	if (!conf)
		return;
	tap_ok(!strcmp(conf->kc_socket_path, KTLSD_DEFAULT_SOCKET) &&
	       conf->kc_socket_mode == 0666 && conf->kc_timeout_ms == 10000 &&
	       conf->kc_max_timeout_ms == 60000 && conf->kc_max_handshakes == 4096 &&
	       conf->kc_max_per_uid == 256 && conf->kc_log_level == LOG_INFO,
	       "[daemon] defaults");
	tap_ok(conf->kc_client_acl.ac_any_user && conf->kc_client_cfg &&
	       !conf->kc_identity_count && !ktlsd_conf_find_identity(conf, "web"),
	       "defaults: the client role for everyone, no identities");
	ktlsd_conf_put(conf);
}

static const char full_conf[] =
	"; every key once\n"
	"[daemon]\n"
	"socket = /run/test/ktlsd.sock\n"
	"socket_mode = 0660\n"
	"handshake_timeout = 5000\n"
	"max_timeout = 20000\n"
	"max_handshakes = 100\n"
	"max_handshakes_per_uid = 10\n"
	"log_level = debug   ; inline comment\n"
	"\n"
	"[tls]\n"
	"min_version = 1.2\n"
	"max_version = 1.3\n"
	"ciphers = TLS_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n"
	"groups = x25519, secp256r1\n"
	"\n"
	"[trust test]\n"
	"ca_file = @C@/root.pem\n"
	"[trust two]\n"
	"ca_file = @C@/root.pem\n"
	"ca_file = @C@/rogue.pem\n"
	"system = no\n"
	"\n"
	"[client]\n"
	"allow_users = 1000\n"
	"allow_groups = 4242\n"
	"trust = test\n"
	"verify = optional\n"
	"\n"
	"[identity web]\n"
	"cert = @C@/server-p256.chain.pem\n"
	"key = @C@/server-p256.key\n"
	"roles = server, client\n"
	"allow_users = 33\n"
	"allow_groups = 4\n"
	"trust = two\n"
	"verify_client = optional\n"
	"verify = required\n"
	"alpn = h2, http/1.1\n";

static void test_full(void)
{
	const struct ktlsd_identity *web;
	struct ktlsd_conf *conf = NULL;
	int ret = load(full_conf, &conf);

	tap_ok(!ret && conf, "a file with every key loads");
	if (!conf)
		return;
	tap_ok(!strcmp(conf->kc_socket_path, "/run/test/ktlsd.sock") &&
	       conf->kc_socket_mode == 0660 && conf->kc_timeout_ms == 5000 &&
	       conf->kc_max_timeout_ms == 20000 && conf->kc_max_handshakes == 100 &&
	       conf->kc_max_per_uid == 10 && conf->kc_log_level == LOG_DEBUG,
	       "[daemon] values, socket_mode in octal");
	tap_ok(!conf->kc_client_acl.ac_any_user && acl_has_uid(&conf->kc_client_acl, 1000) &&
	       acl_has_gid(&conf->kc_client_acl, 4242) && conf->kc_client_cfg,
	       "[client] allow_users replaces the everyone default");
	web = ktlsd_conf_find_identity(conf, "web");
	tap_ok(web && web->id_roles == ((1u << KTLSD_ROLE_SERVER) | (1u << KTLSD_ROLE_CLIENT)) &&
	       web->id_server_cfg && web->id_client_cfg && acl_has_uid(&web->id_acl, 33) &&
	       acl_has_gid(&web->id_acl, 4) && !web->id_acl.ac_any_user,
	       "identity web: both roles, one engine config each, its acl");
	/* [client] trusts root.pem; the identity serves a leaf root signed. */
	tap_ok(web && !handshake(conf->kc_client_cfg, web->id_server_cfg),
	       "[client] config completes a handshake with identity web's server config");
	ktlsd_conf_put(conf);
}

static void test_pairs(void)
{
	const struct ktlsd_identity *id;
	struct ktlsd_conf *conf = NULL;
	int ret;

	ret = load_with("[trust default]\n"
			"ca_file = @C@/root.pem\n"
			"[identity multi]\n"
			"cert = @C@/server-p256.chain.pem\n"
			"key = @C@/server-p256.key\n"
			"cert = @C@/server-rsa.chain.pem\n"
			"key = @C@/server-rsa.key\n"
			"cert = @C@/server-ed25519.chain.pem\n"
			"key = @C@/server-ed25519.key\n"
			"cert = @C@/server-p384.chain.pem\n"
			"key = @C@/server-p384.key\n"
			"allow_users = *\n", 1, &conf);
	id = conf ? ktlsd_conf_find_identity(conf, "multi") : NULL;
	tap_ok(!ret && id && id->id_server_cfg && !id->id_client_cfg &&
	       id->id_roles == 1u << KTLSD_ROLE_SERVER && id->id_acl.ac_any_user,
	       "four cert/key pairs in one identity; roles default to server");
	tap_ok(id && !handshake(conf->kc_client_cfg, id->id_server_cfg),
	       "[trust default] replaced by root.pem: the client config verifies the server");
	ktlsd_conf_put(conf);
}

static void test_users(void)
{
	struct passwd *daemon_user = getpwnam("daemon");
	struct group *adm = getgrnam("adm");
	uid_t daemon_uid = daemon_user ? daemon_user->pw_uid : 1;
	gid_t adm_gid = adm ? adm->gr_gid : 4;
	const struct ktlsd_identity *id;
	struct ktlsd_conf *conf = NULL;
	int ret;

	ret = load("[identity ops]\n"
		   "cert = @C@/client-p256.chain.pem\n"
		   "key = @C@/client-p256.key\n"
		   "roles = client\n"
		   "allow_users = daemon, 4321\n"
		   "allow_users = root\n"
		   "allow_groups = adm,77\n", &conf);
	id = conf ? ktlsd_conf_find_identity(conf, "ops") : NULL;
	tap_ok(!ret && id && id->id_acl.ac_uid_count == 3 && acl_has_uid(&id->id_acl, daemon_uid) &&
	       acl_has_uid(&id->id_acl, 4321) && acl_has_uid(&id->id_acl, 0),
	       "allow_users: names resolved, numbers kept, repeated keys add up");
	tap_ok(id && id->id_acl.ac_gid_count == 2 && acl_has_gid(&id->id_acl, adm_gid) &&
	       acl_has_gid(&id->id_acl, 77) && !id->id_server_cfg && id->id_client_cfg,
	       "allow_groups: names and numbers; client role only");
	ktlsd_conf_put(conf);
}

static void test_layout(void)
{
	char name[KTLSD_IDENTITY_MAX + 1], text[1024];
	struct ktlsd_conf *conf = NULL;
	int ret;

	/* Indented lines are keys of their own, never continuation lines. */
	ret = load("[identity web]\n"
		   "    cert = @C@/server-p256.chain.pem\n"
		   "    key = @C@/server-p256.key\n"
		   "\tallow_users = 0\n", &conf);
	tap_ok(!ret && conf && conf->kc_identity_count == 1 &&
	       acl_has_uid(&conf->kc_identities[0].id_acl, 0),
	       "indented keys are keys, not continuations of the previous value");
	ktlsd_conf_put(conf);

	/* Longer than libinih keeps of a section name. */
	memset(name, 'n', KTLSD_IDENTITY_MAX);
	name[KTLSD_IDENTITY_MAX] = 0;
	snprintf(text, sizeof(text), "[identity %s]\ncert = @C@/server-p256.chain.pem\n"
		 "key = @C@/server-p256.key\n", name);
	conf = NULL;
	ret = load(text, &conf);
	tap_ok(!ret && conf && ktlsd_conf_find_identity(conf, name),
	       "an identity name of %d characters is kept whole", KTLSD_IDENTITY_MAX);
	ktlsd_conf_put(conf);
}

static void test_refs(void)
{
	struct ktlsd_conf *conf = NULL;

	if (load("", &conf)) {
		tap_ok(0, "reference counting");
		return;
	}
	tap_ok(ktlsd_conf_get(conf) == conf && conf->kc_refs == 2,
	       "ktlsd_conf_get adds a reference");
	ktlsd_conf_put(conf);
	tap_ok(conf->kc_refs == 1, "ktlsd_conf_put drops one; the last frees (valgrind)");
	ktlsd_conf_put(conf);
	ktlsd_conf_put(NULL);
}

/* The shipped example, its /etc/ktlsd/ files pointed at test certificates. */
static void test_example(void)
{
	static const char *const links[][2] = {
		{ "corp-ca.pem", "root.pem" },
		{ "web-ecdsa.chain.pem", "server-p256.chain.pem" },
		{ "web-ecdsa.key", "server-p256.key" },
		{ "web-rsa.chain.pem", "server-rsa.chain.pem" },
		{ "web-rsa.key", "server-rsa.key" },
		{ "backup.chain.pem", "server-big.chain.pem" },
		{ "backup.key", "server-big.key" },
	};
	char etc[64], from[128], to[512], line[256], *text;
	const struct ktlsd_identity *web, *backup;
	struct ktlsd_conf *conf = NULL;
	size_t i, len = 0;
	FILE *f;
	int ret;

	snprintf(etc, sizeof(etc), "%s/etc", dir);
	mkdir(etc, 0700);
	for (i = 0; i < ARRAY_SIZE(links); i++) {
		snprintf(from, sizeof(from), "%s/%s", etc, links[i][0]);
		snprintf(to, sizeof(to), "%s/%s", certs, links[i][1]);
		if (symlink(to, from))
			tap_diag("symlink %s: %s", from, strerror(errno));
	}
	f = fopen("userspace/ktlsd/ktlsd.conf.example", "r");
	text = calloc(1, 16384);
	while (f && text && fgets(line, sizeof(line), f)) {
		/* /etc/ktlsd/x -> @D@/etc/x */
		char *at = strstr(line, "/etc/ktlsd/");

		if (at && !strchr(line, '#')) {
			*at = 0;
			len += snprintf(text + len, 16384 - len, "%s@D@/etc/%s", line, at + 11);
		} else {
			len += snprintf(text + len, 16384 - len, "%s", line);
		}
	}
	if (f)
		fclose(f);
	ret = text && f ? load_with(text, 1, &conf) : -1;
	web = conf ? ktlsd_conf_find_identity(conf, "web") : NULL;
	backup = conf ? ktlsd_conf_find_identity(conf, "backup") : NULL;
	tap_ok(!ret && web && backup && web->id_server_cfg && !web->id_client_cfg &&
	       backup->id_server_cfg && backup->id_client_cfg,
	       "ktlsd.conf.example loads");
	ktlsd_conf_put(conf);
	free(text);
}

/* -------------------------------------------------------------- broken files */

/* Each must fail with its errno and, after "FILE:", this text. */
static const struct broken {
	const char *what;
	const char *text;
	int err;
	const char *msg;
} broken[] = {
	{ "unknown section", "# c\n[colour]\nx = 1\n", -EINVAL, ":2: unknown section [colour]" },
	{ "unknown section without keys", "[daemon]\nlog_level = info\n[empty]\n", -EINVAL,
	  ":3: unknown section [empty]" },
	{ "empty identity section", "[identity web]\n", -EINVAL, ":1: identity web has no cert" },
	{ "unknown key", "[daemon]\nsocket = /run/x.sock\ncolour = blue\n", -EINVAL,
	  ":3: unknown key 'colour' in [daemon]" },
	{ "not a number", "[daemon]\nhandshake_timeout = 10s\n", -EINVAL,
	  ":2: handshake_timeout: '10s' is not a number from 1 to 3600000" },
	{ "number out of range", "[daemon]\nmax_handshakes = 0\n", -EINVAL,
	  ":2: max_handshakes: '0' is not a number from 1 to 1000000" },
	{ "negative number", "[daemon]\nmax_handshakes_per_uid = -1\n", -EINVAL,
	  ":2: max_handshakes_per_uid: '-1' is not a number" },
	{ "unknown log level", "[daemon]\nlog_level = loud\n", -EINVAL,
	  ":2: log_level: 'loud' is not one of err, warning, notice, info, debug" },
	{ "mode not octal", "[daemon]\nsocket_mode = 0999\n", -EINVAL,
	  ":2: socket_mode: '0999' is not an octal mode up to 0777" },
	{ "relative socket path", "[daemon]\nsocket = ktlsd.sock\n", -EINVAL,
	  ":2: socket: 'ktlsd.sock' is not an absolute path" },
	{ "timeout above the cap", "[daemon]\n\nhandshake_timeout = 70000\n", -EINVAL,
	  ":3: handshake_timeout 70000 is above max_timeout 60000" },
	{ "syntax error", "[daemon]\nsocket\n", -EINVAL, ":2: syntax error" },
	{ "a syntax error before another error wins", "[daemon]\nsocket\nlog_level = loud\n",
	  -EINVAL, ":2: syntax error" },
	{ "an error before a syntax error wins", "[daemon]\nlog_level = loud\nsocket\n",
	  -EINVAL, ":2: log_level: 'loud'" },
	{ "unclosed section header", "[daemon\nsocket = /a\n", -EINVAL, ":1: syntax error" },
	{ "key outside any section", "socket = /run/x.sock\n", -EINVAL,
	  ":1: socket: outside any section" },
	{ "key given twice", "[daemon]\nlog_level = info\nlog_level = debug\n", -EINVAL,
	  ":3: log_level: given twice in one section" },
	{ "section given twice",
	  "[daemon]\nlog_level = info\n[tls]\nmin_version = 1.2\n[daemon]\nsocket = /a\n", -EINVAL,
	  ":5: [daemon] appears twice (first on line 1)" },
	{ "unnamed section with a name", "[daemon main]\nlog_level = info\n", -EINVAL,
	  ":1: [daemon] takes no name" },
	{ "identity without a name", "[identity]\ncert = /x\n", -EINVAL,
	  ":1: [identity] needs a name" },
	{ "identity name with a slash", "[identity we/b]\ncert = /x\n", -EINVAL,
	  ":1: [identity we/b]: a name is 1 to 63 of A-Z a-z 0-9 . _ -" },
	{ "identity name too long",
	  "[identity nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	  "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn]\ncert = /x\n",
	  -EINVAL, ":1: [identity nnnnnnnn" },
	{ "line too long",
	  "[daemon]\nsocket = /xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	  -EINVAL, ":2: line longer than 198 characters" },
	{ "min_version above max_version", "[tls]\nmin_version = 1.3\nmax_version = 1.2\n",
	  -EINVAL, ":3: max_version is below min_version" },
	{ "unknown version", "[tls]\nmin_version = 1.1\n", -EINVAL,
	  ":2: min_version: '1.1' is not one of 1.2, 1.3" },
	{ "unknown cipher suite", "[tls]\nciphers = TLS_AES_128_GCM_SHA256, TLS_NULL\n", -EINVAL,
	  ":2: ciphers: unknown cipher suite 'TLS_NULL'" },
	{ "unknown group", "[tls]\ngroups = x25519, x448\n", -EINVAL,
	  ":2: groups: unknown group 'x448'" },
	{ "empty list item", "[tls]\ngroups = x25519,,secp256r1\n", -EINVAL,
	  ":2: groups: empty item in 'x25519,,secp256r1'" },
	{ "cert without key",
	  "[identity web]\ncert = @C@/server-p256.chain.pem\nroles = server\n", -EINVAL,
	  ":2: cert without a key" },
	{ "key without cert", "[identity web]\nkey = @C@/server-p256.key\n", -EINVAL,
	  ":2: key: no cert before it" },
	{ "cert after a cert without key",
	  "[identity web]\ncert = @C@/server-p256.chain.pem\ncert = @C@/server-rsa.chain.pem\n"
	  "key = @C@/server-rsa.key\n", -EINVAL, ":3: cert: the cert on line 2 has no key yet" },
	{ "five cert/key pairs",
	  "[identity web]\n"
	  "cert = @C@/server-p256.chain.pem\nkey = @C@/server-p256.key\n"
	  "cert = @C@/server-rsa.chain.pem\nkey = @C@/server-rsa.key\n"
	  "cert = @C@/server-p384.chain.pem\nkey = @C@/server-p384.key\n"
	  "cert = @C@/server-ed25519.chain.pem\nkey = @C@/server-ed25519.key\n"
	  "cert = @C@/server-chain.chain.pem\nkey = @C@/server-chain.key\n", -EINVAL,
	  ":10: cert: more than 4 cert and key pairs" },
	{ "missing cert file",
	  "[identity web]\ncert = @D@/missing.pem\nkey = @C@/server-p256.key\n", -EINVAL,
	  ":2: web: " },
	{ "second identity fails after the first was built (nothing leaks)",
	  "[identity a]\ncert = @C@/server-p256.chain.pem\nkey = @C@/server-p256.key\n"
	  "roles = server, client\n"
	  "[identity b]\ncert = @D@/missing.pem\nkey = @C@/server-p256.key\n", -EINVAL,
	  ":6: b: " },
	{ "key that does not match the cert",
	  "[identity web]\n\ncert = @C@/server-p256.chain.pem\nkey = @C@/server-rsa.key\n",
	  -EINVAL, ":3: web: " },
	{ "unknown trust for an identity",
	  "[identity web]\ncert = @C@/client-p256.chain.pem\nkey = @C@/client-p256.key\n"
	  "roles = client\ntrust = corp\n", -EINVAL, ":5: unknown trust 'corp'" },
	{ "unknown trust for [client]", "[client]\ntrust = corp\n", -EINVAL,
	  ":2: unknown trust 'corp'" },
	{ "duplicate identity",
	  "[identity web]\ncert = @C@/server-p256.chain.pem\nkey = @C@/server-p256.key\n"
	  "[identity web]\ncert = @C@/server-rsa.chain.pem\nkey = @C@/server-rsa.key\n", -EINVAL,
	  ":4: identity web defined twice (first on line 1)" },
	{ "second identity of the same name, without keys",
	  "[identity web]\ncert = @C@/server-p256.chain.pem\nkey = @C@/server-p256.key\n"
	  "[identity web]\n", -EINVAL, ":4: identity web defined twice (first on line 1)" },
	{ "identity with no cert", "[identity web]\nroles = server\nallow_users = 0\n", -EINVAL,
	  ":1: identity web has no cert" },
	{ "unknown user",
	  "[identity web]\ncert = @C@/server-p256.chain.pem\nkey = @C@/server-p256.key\n"
	  "allow_users = 0, no-such-user-ktlsd\n", -EINVAL,
	  ":4: allow_users: unknown user 'no-such-user-ktlsd'" },
	{ "unknown group", "[client]\nallow_groups = no-such-group-ktlsd\n", -EINVAL,
	  ":2: allow_groups: unknown group 'no-such-group-ktlsd'" },
	{ "uid -1 is no uid", "[client]\nallow_users = 4294967295\n", -EINVAL,
	  ":2: allow_users: unknown user '4294967295'" },
	{ "unknown role", "[identity web]\nroles = server, peer\n", -EINVAL,
	  ":2: roles: 'peer' is not one of server, client" },
	{ "unknown verify policy", "[identity web]\nverify_client = sometimes\n", -EINVAL,
	  ":2: verify_client: 'sometimes' is not one of required, optional, none" },
	{ "trust with no anchors", "[trust corp]\nsystem = no\n", -EINVAL,
	  ":1: trust corp: no ca_file, ca_dir or system = yes" },
	{ "trust with a missing CA file", "[trust corp]\nca_file = @D@/nope.pem\n", -EINVAL,
	  ":2: corp: " },
	{ "trust defined twice",
	  "[trust corp]\nsystem = yes\n[trust corp]\nca_file = @C@/root.pem\n", -EINVAL,
	  ":3: trust corp defined twice (first on line 1)" },
	{ "handshake identity that does not exist", "[handshake]\nserver_identity = nope\n",
	  -EINVAL, ":2: server_identity: identity nope does not exist" },
	{ "handshake identity without the role",
	  "[identity web]\ncert = @C@/server-p256.chain.pem\nkey = @C@/server-p256.key\n"
	  "[handshake]\nclient_identity = web\n", -EINVAL,
	  ":5: client_identity: identity web lacks that role" },
	{ "handshake serve not a boolean", "[handshake]\nserve = maybe\n", -EINVAL,
	  ":2: serve: 'maybe' is not one of yes, no, true, false" },
};

static void test_broken(void)
{
	struct ktlsd_conf *conf;
	char want[512];
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(broken); i++) {
		conf = (struct ktlsd_conf *)&conf;	/* must come back NULL */
		ret = ktlsd_conf_load(write_conf_as("ktlsd.conf", broken[i].text, 0), &conf, err,
				      sizeof(err));
		snprintf(want, sizeof(want), "%s%s", conf_path, broken[i].msg);
		if (!tap_ok(ret == broken[i].err && !conf && !strncmp(err, want, strlen(want)),
			    "broken: %s", broken[i].what))
			tap_diag("got %d '%s', want %d '%s'", ret, err, broken[i].err, want);
	}
	/* The engine's own words follow for the file errors. */
	ktlsd_conf_load(write_conf_as("ktlsd.conf", "[identity web]\n"
				      "cert = @D@/missing.pem\nkey = @C@/server-p256.key\n", 0),
			&conf, err, sizeof(err));
	tap_ok(strstr(err, "missing.pem: no certificate could be read") != NULL,
	       "a missing cert names the file: %s", err);

	snprintf(conf_path, sizeof(conf_path), "%s/absent.conf", dir);
	ret = ktlsd_conf_load(conf_path, &conf, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: No such file or directory", conf_path);
	tap_ok(ret == -ENOENT && !conf && !strcmp(err, want), "a missing file is -ENOENT: %s",
	       err);
}

/* ---------------------------------------------------------------- policy */

static const char policy_conf[] =
	"[client]\n"
	"allow_users = 2000\n"
	"[identity web]\n"
	"cert = @C@/server-p256.chain.pem\n"
	"key = @C@/server-p256.key\n"
	"allow_users = 1000\n"
	"allow_groups = 4242\n"
	"[identity mtls]\n"
	"cert = @C@/client-p256.chain.pem\n"
	"key = @C@/client-p256.key\n"
	"roles = client\n"
	"allow_users = 1000\n"
	"[identity locked]\n"
	"cert = @C@/server-p384.chain.pem\n"
	"key = @C@/server-p384.key\n"
	"roles = server, client\n";

static int check(const struct ktlsd_conf *conf, uid_t uid, gid_t gid, gid_t extra,
		 enum ktlsd_role role, const char *identity, struct ktls_config **cfg,
		 char *why, size_t whylen)
{
	struct ktlsd_requester who = { .rq_uid = uid, .rq_gid = gid, .rq_pid = 1 };

	if (extra) {
		who.rq_groups[0] = 10;
		who.rq_groups[1] = extra;
		who.rq_group_count = 2;
	}
	return ktlsd_policy_check(conf, &who, role, identity, cfg, why, whylen);
}

static void test_policy(void)
{
	const struct ktlsd_identity *web, *mtls;
	struct ktlsd_conf *conf = NULL, *open_conf = NULL;
	struct ktls_config *cfg;
	char why[256];
	int ret;

	if (load(policy_conf, &conf) || load_with("", 1, &open_conf)) {
		tap_ok(0, "policy files load");
		ktlsd_conf_put(conf);
		return;
	}
	web = ktlsd_conf_find_identity(conf, "web");
	mtls = ktlsd_conf_find_identity(conf, "mtls");

	ret = check(conf, 1000, 1000, 0, KTLSD_ROLE_SERVER, "web", &cfg, why, sizeof(why));
	tap_ok(!ret && cfg == web->id_server_cfg, "named uid may use its identity: %s", why);
	ret = check(conf, 3000, 3000, 4242, KTLSD_ROLE_SERVER, "web", &cfg, why, sizeof(why));
	tap_ok(!ret && cfg == web->id_server_cfg, "allowed through a supplementary group");
	ret = check(conf, 3000, 4242, 0, KTLSD_ROLE_SERVER, "web", &cfg, why, sizeof(why));
	tap_ok(!ret && cfg == web->id_server_cfg, "allowed through the primary group");
	ret = check(conf, 3000, 3000, 5000, KTLSD_ROLE_SERVER, "web", &cfg, why, sizeof(why));
	tap_ok(ret == -EACCES && !cfg && !strcmp(why, "uid 3000 not allowed to use identity web"),
	       "other uid denied: %s", why);
	ret = check(conf, 0, 0, 0, KTLSD_ROLE_SERVER, "locked", &cfg, why, sizeof(why));
	tap_ok(ret == -EACCES && !cfg, "an identity naming nobody is for nobody, root included");
	ret = check(conf, 1000, 1000, 0, KTLSD_ROLE_SERVER, "nope", &cfg, why, sizeof(why));
	tap_ok(ret == -ENOKEY && !cfg && !strcmp(why, "no identity nope"),
	       "unknown identity is -ENOKEY: %s", why);
	ret = check(conf, 1000, 1000, 0, KTLSD_ROLE_CLIENT, "web", &cfg, why, sizeof(why));
	tap_ok(ret == -ENOKEY && !cfg && strstr(why, "not for the client role"),
	       "role the identity lacks is -ENOKEY: %s", why);
	ret = check(conf, 1000, 1000, 0, KTLSD_ROLE_CLIENT, "mtls", &cfg, why, sizeof(why));
	tap_ok(!ret && cfg == mtls->id_client_cfg, "client identity in the client role");
	ret = check(conf, 1000, 1000, 0, KTLSD_ROLE_SERVER, "", &cfg, why, sizeof(why));
	tap_ok(ret == -ENOKEY && !cfg, "a server without an identity is -ENOKEY: %s", why);
	ret = check(conf, 1000, 1000, 0, (enum ktlsd_role)7, "web", &cfg, why, sizeof(why));
	tap_ok(ret == -EINVAL && !cfg, "unknown role is -EINVAL");

	ret = check(open_conf, 12345, 12345, 0, KTLSD_ROLE_CLIENT, NULL, &cfg, why, sizeof(why));
	tap_ok(!ret && cfg == open_conf->kc_client_cfg,
	       "client role without identity: everyone by default");
	ret = check(conf, 2000, 2000, 0, KTLSD_ROLE_CLIENT, NULL, &cfg, why, sizeof(why));
	tap_ok(!ret && cfg == conf->kc_client_cfg, "restricted [client] allows its uid");
	ret = check(conf, 1000, 1000, 0, KTLSD_ROLE_CLIENT, "", &cfg, why, sizeof(why));
	tap_ok(ret == -EACCES && !cfg, "restricted [client] denies others: %s", why);
	ktlsd_conf_put(conf);
	ktlsd_conf_put(open_conf);
}

int main(void)
{
	char cmd[64];

	tap_plan(3 + 5 + 2 + 2 + 2 + 2 + 1 + (int)ARRAY_SIZE(broken) + 2 + 13);
	if (!mkdtemp(dir) || find_certs()) {
		tap_diag("no test certificates (%s)", certs);
		return 1;
	}
	test_minimal();
	test_full();
	test_pairs();
	test_users();
	test_layout();
	test_refs();
	test_example();
	test_broken();
	test_policy();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		tap_diag("could not remove %s", dir);
	return tap_done();
}
