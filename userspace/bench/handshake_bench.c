// SPDX-License-Identifier: GPL-2.0-only
/*
 * handshake_bench: full TLS 1.3 and TLS 1.2 handshakes in memory, one
 * thread, libktls against OpenSSL's libssl on the same libcrypto, and both
 * against the crypto-only floor.
 *
 * Each stack handshakes with itself (its client with its server) with the
 * same settings: one certificate (ECDSA P-256 or RSA-2048, both under one
 * ECDSA P-256 CA), X25519 only, TLS_AES_128_GCM_SHA256 only, no tickets,
 * no session cache, the client checking the chain against the CA and the
 * name "localhost" (also sent as SNI). The TLS 1.2 rows use the ECDSA
 * certificate, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 only and the
 * extended master secret. Both sides run on one thread, so
 * the CPU time of each side is read with CLOCK_THREAD_CPUTIME_ID around
 * every call into it: what a server (or a client) alone would spend, with
 * nothing precomputed. The creation and freeing of connection objects is
 * timed apart and shown in a second table.
 *
 * The floor of a side is the libcrypto work that side cannot avoid, done
 * with the API families the backend uses and nothing else: the X25519
 * key pair and shared secret, the CertificateVerify signature (server) or
 * the leaf parse, chain check and signature check (client), the key
 * schedule as userspace/lib/keysched.c and handshake.c perform it (for
 * TLS 1.2: the PRF calls of prf.c, and the ServerKeyExchange signature),
 * the transcript hash, the AEAD keys and the records. Record and transcript
 * sizes are those of a real libktls handshake, read off the wire. Where
 * EVP offers a cheaper path to the same operation (a reused keygen
 * context, a copied signing context) the floor takes it, so it is a
 * limit and not a copy of the backend; nothing secret is reused.
 *
 * Usage: handshake_bench [-s SECONDS] [-n COUNT] [-c ecdsa|rsa] [-t 1.3|1.2]
 *			  [-m libktls|libssl|floor]
 * -s (or BENCH_SECONDS): time per measurement, default 2.5; -n fixes the
 * handshake count instead (handy under valgrind); -c, -t and -m restrict
 * the run to one certificate, one TLS version or one measurement. Exits
 * non-zero only when something fails; whether the targets are met is
 * printed.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ktls.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define NSEC_PER_SEC		1000000000ULL
#define SERVER_NAME		"localhost"
#define BENCH_GROUP		"x25519"
#define BENCH_SUITE		"TLS_AES_128_GCM_SHA256"
#define BENCH_SUITE_TLS12	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
/* The same, as libssl names it. */
#define BENCH_SSL_CIPHER_TLS12	"ECDHE-ECDSA-AES128-GCM-SHA256"
/*
 * In 1.2 the client's groups also name the curves its peer's ECDSA key may
 * use (RFC 8422 5.1): both servers refuse a P-256 certificate unless the
 * client lists secp256r1. X25519 stays first, and the checks insist on it.
 */
#define BENCH_GROUPS_TLS12	BENCH_GROUP ",secp256r1"
#define BENCH_SSL_GROUPS_TLS12	"X25519:P-256"
#define DEFAULT_SECONDS		2.5
#define WARMUP_NSEC		(NSEC_PER_SEC / 4)
/* Rounds interleave the measurements so a noisy moment hits all of them. */
#define ROUNDS			25
#define MAX_FLIGHT_CALLS	8	/* calls per side before a handshake is declared stuck */
#define MAX_RECORDS		8	/* protected records per side per handshake */
#define WIRE_BUF_SIZE		(64 * 1024)

/* The targets of issue 2. */
#define TARGET_RATIO		1.5
#define TARGET_FLOOR_SHARE	0.85

enum side {
	SIDE_SERVER,
	SIDE_CLIENT,
	SIDE_COUNT,
};

static const char *const side_names[SIDE_COUNT] = { "server", "client" };

/* CPU nanoseconds spent in each side: in handshake calls, and in creating and freeing. */
struct cpu_split {
	uint64_t handshake[SIDE_COUNT];
	uint64_t lifecycle[SIDE_COUNT];
};

/* Crypto work one side of a real libktls handshake did, as seen on the wire. */
struct floor_spec {
	size_t transcript_len;		/* handshake message bytes hashed */
	size_t seal_len[MAX_RECORDS];	/* inner plaintext of each record this side protects */
	size_t seal_count;
	size_t open_len[MAX_RECORDS];	/* ciphertext incl. tag of each record it opens */
	size_t open_count;
	size_t random_len;		/* bytes drawn from the CSPRNG */
};

/* The pieces of the floor, timed apart to show where a handshake's crypto goes. */
enum floor_part {
	PART_KEX,
	PART_SIGNATURE,
	PART_CHAIN,
	PART_KEY_SCHEDULE,
	PART_RECORDS,
	PART_RANDOM,
	PART_COUNT,
};

static const char *const floor_part_names[PART_COUNT] = {
	[PART_KEX] = "x25519",
	[PART_SIGNATURE] = "signature",
	[PART_CHAIN] = "cert+chain",
	[PART_KEY_SCHEDULE] = "key schedule",
	[PART_RECORDS] = "aead",
	[PART_RANDOM] = "random",
};

/* One group of rows: a certificate and a protocol version. */
struct cert_kind {
	const char *name;		/* column label */
	const char *file;		/* base name of the .pem/.key in the temp dir */
	const char *genpkey;		/* openssl genpkey arguments */
	int is_rsa;
	const char *ktls_sigalg;	/* the scheme both stacks must end up using */
	int ssl_sig_type;		/* the same, as libssl reports it (hash: SHA-256) */
	uint16_t version;		/* the only one both sides allow */
	const char *version_label;	/* column label */
	const char *suite;		/* IANA name, the only one allowed */
	int aead_keys;			/* AEAD key setups per side */
};

static const struct cert_kind cert_kinds[] = {
	{ "ecdsa-p256", "ecdsa", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", 0,
	  "ecdsa_secp256r1_sha256", EVP_PKEY_EC, KTLS_VERSION_TLS13, "1.3", BENCH_SUITE, 4 },
	{ "rsa-2048", "rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", 1,
	  "rsa_pss_rsae_sha256", EVP_PKEY_RSA_PSS, KTLS_VERSION_TLS13, "1.3", BENCH_SUITE, 4 },
	/* No handshake traffic keys in 1.2: one key each way. */
	{ "ecdsa-p256", "ecdsa", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", 0,
	  "ecdsa_secp256r1_sha256", EVP_PKEY_EC, KTLS_VERSION_TLS12, "1.2", BENCH_SUITE_TLS12,
	  2 },
};

#define MAX_AEAD_KEYS		4

/* Everything one certificate's measurements need, built once. */
struct bench {
	const struct cert_kind *kind;
	char cert_path[256], key_path[256], ca_path[256];

	struct ktls_config *ktls_server_cfg, *ktls_client_cfg;
	struct ktls_buf to_server, to_client;	/* reused wire buffers */

	SSL_CTX *ssl_server_ctx, *ssl_client_ctx;

	/* floor inputs */
	struct floor_spec floor[SIDE_COUNT];
	int sent_ccs[SIDE_COUNT];	/* while learning: 1.2 handshake records are sealed */
	EVP_PKEY *server_key;
	X509_STORE *store;
	uint8_t *leaf_der;
	int leaf_der_len;
	uint8_t peer_x25519[32];	/* a valid public value to derive against */
	EVP_PKEY *x25519_template;	/* parameters a peer value is imported under */
	EVP_PKEY_CTX *x25519_keygen;	/* initialised once, generates many */
	EVP_MD_CTX *sign_template;	/* DigestSign set up once for the server key */
	uint8_t cv_tbs[64 + 34 + 32];	/* CertificateVerify content, SHA-256 transcript */
	size_t cv_tbs_len;		/* 1.2: signed ServerKeyExchange content, shorter */
	uint8_t cv_sig[512];
	size_t cv_sig_len;
	const EVP_MD *sha256;
	const EVP_CIPHER *aes128gcm;
	uint8_t *sealed;		/* WIRE_BUF_SIZE bytes of ciphertext */
	uint8_t open_tag[SIDE_COUNT][MAX_RECORDS][16];
	uint64_t part_ns[SIDE_COUNT][PART_COUNT];
	unsigned long part_runs[SIDE_COUNT];
};

struct measure {
	const char *name;
	void (*once)(struct bench *b, struct cpu_split *split);
};

static char temp_dir[] = "/tmp/ktls-bench-XXXXXX";
static int temp_dir_made;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "handshake_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static uint64_t cpu_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		die("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ---- certificates, made fresh at every run ---- */

static void remove_temp_dir(void)
{
	char cmd[64 + sizeof(temp_dir)];

	if (!temp_dir_made)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", temp_dir);
	if (system(cmd))
		fprintf(stderr, "handshake_bench: could not remove %s\n", temp_dir);
}

static void run_or_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run_or_die(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		die("command too long");
	if (system(cmd)) {
		/* The log holds openssl's own complaint. */
		snprintf(cmd, sizeof(cmd), "cat '%s/openssl.log' >&2", temp_dir);
		if (system(cmd))
			fprintf(stderr, "handshake_bench: no openssl log\n");
		die("certificate generation failed");
	}
}

/* Our own config, so the host's openssl.cnf cannot add or change extensions. */
static void write_openssl_config(void)
{
	char path[sizeof(temp_dir) + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bench.cnf", temp_dir);
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	fputs("[req]\n"
	      "distinguished_name = dn\n"
	      "prompt = no\n"
	      "[dn]\n"
	      "CN = unused\n"
	      "[ca_ext]\n"
	      "basicConstraints = critical, CA:TRUE\n"
	      "keyUsage = critical, keyCertSign, cRLSign\n"
	      "subjectKeyIdentifier = hash\n"
	      "[leaf_ext]\n"
	      "basicConstraints = critical, CA:FALSE\n"
	      "keyUsage = critical, digitalSignature\n"
	      "extendedKeyUsage = serverAuth\n"
	      "subjectAltName = DNS:" SERVER_NAME "\n"
	      "subjectKeyIdentifier = hash\n"
	      "authorityKeyIdentifier = keyid:always\n", f);
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

/* Several row groups share one certificate: it is made once. */
static int cert_file_made_before(size_t index)
{
	size_t i;

	for (i = 0; i < index; i++)
		if (!strcmp(cert_kinds[i].file, cert_kinds[index].file))
			return 1;
	return 0;
}

static void make_certificates(void)
{
	size_t i;

	if (!mkdtemp(temp_dir))
		die("mkdtemp: %s", strerror(errno));
	temp_dir_made = 1;
	atexit(remove_temp_dir);
	write_openssl_config();
	run_or_die("cd '%s' && exec 2>openssl.log && "
		   "openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
		   "-out ca.key && "
		   "openssl req -config bench.cnf -x509 -new -key ca.key -subj /CN=ktls-bench-ca "
		   "-days 2 -sha256 -extensions ca_ext -out ca.pem",
		   temp_dir);
	for (i = 0; i < ARRAY_SIZE(cert_kinds); i++) {
		const struct cert_kind *k = &cert_kinds[i];

		if (cert_file_made_before(i))
			continue;
		run_or_die("cd '%s' && exec 2>openssl.log && "
			   "openssl genpkey -quiet %s -out %s.key && "
			   "openssl req -config bench.cnf -new -key %s.key -subj /CN=%s "
			   "-out %s.csr && "
			   "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -set_serial %zu "
			   "-days 2 -sha256 -extfile bench.cnf -extensions leaf_ext -out %s.pem",
			   temp_dir, k->genpkey, k->file, k->file, SERVER_NAME, k->file, k->file,
			   i + 2, k->file);
	}
}

/* ---- libktls ---- */

static struct ktls_config *ktls_config_or_die(const struct bench *b, int server)
{
	struct ktls_config *cfg = ktls_config_new();

	if (!cfg)
		die("ktls_config_new failed");
	/* The 1.3 rows keep the default range, so their ClientHello is the usual one. */
	if ((b->kind->version == KTLS_VERSION_TLS12 &&
	     ktls_config_set_versions(cfg, KTLS_VERSION_TLS12, KTLS_VERSION_TLS12)) ||
	    ktls_config_set_groups(cfg, b->kind->version == KTLS_VERSION_TLS12 ?
				   BENCH_GROUPS_TLS12 : BENCH_GROUP) ||
	    ktls_config_set_ciphers(cfg, b->kind->suite) ||
	    (server && ktls_config_add_identity(cfg, b->cert_path, b->key_path)) ||
	    (!server && ktls_config_set_ca_file(cfg, b->ca_path)) ||
	    (!server && ktls_config_set_verify(cfg, KTLS_VERIFY_REQUIRED)))
		die("libktls %s config: %s", server ? "server" : "client", ktls_config_error(cfg));
	return cfg;
}

/*
 * Feeds @conn all of @in and times the call. The engine must take every
 * byte: a handshake flight never carries anything past its end here.
 */
static int ktls_step(struct ktls_conn *conn, enum side who, struct ktls_buf *in,
		     struct ktls_buf *out, uint64_t *ns)
{
	size_t n = in->off;
	uint64_t start;
	int ret;

	start = cpu_now();
	ret = ktls_handshake(conn, out, in->base, &n);
	*ns += cpu_now() - start;
	if (ret && ret != KTLS_ERROR_IN_PROGRESS)
		die("libktls %s: %s (%s)", side_names[who], ktls_error_string(ret),
		    ktls_get_error_detail(conn));
	if (n != in->off)
		die("libktls left %zu of %zu bytes unread", in->off - n, in->off);
	in->off = 0;
	return ret;
}

static void ktls_check_result(const struct bench *b, struct ktls_conn *server,
			      struct ktls_conn *client)
{
	struct ktls_conn *both[SIDE_COUNT] = { server, client };
	size_t i;

	for (i = 0; i < SIDE_COUNT; i++) {
		struct ktls_conn *c = both[i];

		if (!ktls_handshake_is_complete(c) ||
		    ktls_get_version(c) != b->kind->version ||
		    strcmp(ktls_get_cipher_name(c), b->kind->suite) ||
		    strcmp(ktls_get_group_name(c), BENCH_GROUP) || ktls_get_hrr(c))
			die("libktls %s negotiated %s %s %s", side_names[i],
			    ktls_get_version_name(c), ktls_get_cipher_name(c),
			    ktls_get_group_name(c));
	}
	if (!ktls_get_sigalg_name(client) ||
	    strcmp(ktls_get_sigalg_name(client), b->kind->ktls_sigalg))
		die("libktls used signature scheme %s, expected %s",
		    ktls_get_sigalg_name(client) ? ktls_get_sigalg_name(client) : "(none)",
		    b->kind->ktls_sigalg);
	if (ktls_get_verify_result(client) != X509_V_OK)
		die("libktls client did not verify the chain (%ld)",
		    ktls_get_verify_result(client));
	if (!ktls_get_server_name(server) || strcmp(ktls_get_server_name(server), SERVER_NAME))
		die("libktls server did not get the SNI");
}

/* One full handshake: client and server alternate until both are done. */
static void ktls_once(struct bench *b, struct cpu_split *split)
{
	struct ktls_conn *client, *server;
	int cret = KTLS_ERROR_IN_PROGRESS, sret = KTLS_ERROR_IN_PROGRESS;
	uint64_t start;
	int calls;

	start = cpu_now();
	server = ktls_conn_new(b->ktls_server_cfg, KTLS_ROLE_SERVER);
	split->lifecycle[SIDE_SERVER] += cpu_now() - start;
	start = cpu_now();
	client = ktls_conn_new(b->ktls_client_cfg, KTLS_ROLE_CLIENT);
	if (client && ktls_conn_set_server_name(client, SERVER_NAME))
		die("ktls_conn_set_server_name failed");
	split->lifecycle[SIDE_CLIENT] += cpu_now() - start;
	if (!server || !client)
		die("ktls_conn_new failed");

	for (calls = 0; cret || sret; calls++) {
		if (calls == MAX_FLIGHT_CALLS)
			die("libktls handshake does not finish");
		if (cret)
			cret = ktls_step(client, SIDE_CLIENT, &b->to_client, &b->to_server,
					 &split->handshake[SIDE_CLIENT]);
		if (sret)
			sret = ktls_step(server, SIDE_SERVER, &b->to_server, &b->to_client,
					 &split->handshake[SIDE_SERVER]);
	}
	if (b->to_client.off || b->to_server.off)
		die("libktls sent bytes after the handshake");
	ktls_check_result(b, server, client);

	start = cpu_now();
	ktls_conn_free(server);
	split->lifecycle[SIDE_SERVER] += cpu_now() - start;
	start = cpu_now();
	ktls_conn_free(client);
	split->lifecycle[SIDE_CLIENT] += cpu_now() - start;
}

/*
 * Accounts the records of one flight to the floor of the side that sent
 * it (@from) and the side that receives it: plaintext handshake records
 * are hashed by both, protected ones are sealed by one and opened by the
 * other (all of them carry handshake messages here).
 */
static void floor_account_flight(struct bench *b, enum side from, const struct ktls_buf *wire)
{
	struct floor_spec *tx = &b->floor[from], *rx = &b->floor[!from];
	size_t off = 0, len;

	while (off + 5 <= wire->off) {
		const uint8_t *rec = wire->base + off;

		len = (size_t)rec[3] << 8 | rec[4];
		switch (rec[0]) {
		case 20:	/* change_cipher_spec: protection starts in 1.2 */
			b->sent_ccs[from] = 1;
			break;
		case 22:
			if (b->sent_ccs[from] && b->kind->version == KTLS_VERSION_TLS12) {
				/* explicit nonce, content, tag */
				if (len < 8 + 4 + 16 || tx->seal_count == MAX_RECORDS ||
				    rx->open_count == MAX_RECORDS)
					die("unexpected sealed record of %zu bytes", len);
				tx->seal_len[tx->seal_count++] = len - 8 - 16;
				rx->open_len[rx->open_count++] = len - 8;
				tx->transcript_len += len - 8 - 16;
				rx->transcript_len += len - 8 - 16;
				break;
			}
			/* in the clear */
			tx->transcript_len += len;
			rx->transcript_len += len;
			break;
		case 23:	/* protected: inner plaintext is content + type byte */
			if (len < 17 || tx->seal_count == MAX_RECORDS ||
			    rx->open_count == MAX_RECORDS)
				die("unexpected protected record of %zu bytes", len);
			tx->seal_len[tx->seal_count++] = len - 16;
			rx->open_len[rx->open_count++] = len;
			tx->transcript_len += len - 17;
			rx->transcript_len += len - 17;
			break;
		default:
			break;
		}
		off += 5 + len;
	}
}

/* One handshake whose flights are read to size the floor. */
static void ktls_learn_floor(struct bench *b)
{
	struct ktls_conn *client, *server;
	int cret = KTLS_ERROR_IN_PROGRESS, sret = KTLS_ERROR_IN_PROGRESS;
	uint64_t ignored = 0;
	int calls;

	memset(b->floor, 0, sizeof(b->floor));
	memset(b->sent_ccs, 0, sizeof(b->sent_ccs));
	/* server random (1.2: no session id); client random and legacy session id */
	b->floor[SIDE_SERVER].random_len = 32;
	b->floor[SIDE_CLIENT].random_len = 64;
	server = ktls_conn_new(b->ktls_server_cfg, KTLS_ROLE_SERVER);
	client = ktls_conn_new(b->ktls_client_cfg, KTLS_ROLE_CLIENT);
	if (!server || !client || ktls_conn_set_server_name(client, SERVER_NAME))
		die("ktls_conn_new failed");
	for (calls = 0; cret || sret; calls++) {
		if (calls == MAX_FLIGHT_CALLS)
			die("libktls handshake does not finish");
		if (cret) {
			cret = ktls_step(client, SIDE_CLIENT, &b->to_client, &b->to_server,
					 &ignored);
			floor_account_flight(b, SIDE_CLIENT, &b->to_server);
		}
		if (sret) {
			sret = ktls_step(server, SIDE_SERVER, &b->to_server, &b->to_client,
					 &ignored);
			floor_account_flight(b, SIDE_SERVER, &b->to_client);
		}
	}
	ktls_check_result(b, server, client);
	ktls_conn_free(server);
	ktls_conn_free(client);
}

/* ---- libssl ---- */

static SSL_CTX *ssl_ctx_or_die(const struct bench *b, int server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx ||
	    !SSL_CTX_set_min_proto_version(ctx, b->kind->version) ||
	    !SSL_CTX_set_max_proto_version(ctx, b->kind->version) ||
	    (b->kind->version == KTLS_VERSION_TLS12 &&
	     !SSL_CTX_set_cipher_list(ctx, BENCH_SSL_CIPHER_TLS12)) ||
	    !SSL_CTX_set1_groups_list(ctx, b->kind->version == KTLS_VERSION_TLS12 ?
				      BENCH_SSL_GROUPS_TLS12 : "X25519") ||
	    !SSL_CTX_set_ciphersuites(ctx, BENCH_SUITE) ||
	    !SSL_CTX_set_num_tickets(ctx, 0))
		die("libssl context setup failed");
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (server) {
		if (SSL_CTX_use_certificate_chain_file(ctx, b->cert_path) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, b->key_path, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1)
			die("libssl server identity");
	} else {
		if (SSL_CTX_load_verify_locations(ctx, b->ca_path, NULL) != 1)
			die("libssl client CA");
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
}

/* 1 when done, 0 when it waits for the peer; dies on anything else. */
static int ssl_step(SSL *ssl, const char *who, uint64_t *ns)
{
	uint64_t start;
	int ret, err;

	start = cpu_now();
	ret = SSL_do_handshake(ssl);
	*ns += cpu_now() - start;
	if (ret == 1)
		return 1;
	err = SSL_get_error(ssl, ret);
	if (err != SSL_ERROR_WANT_READ)
		die("libssl %s: SSL_do_handshake error %d (verify: %s)", who, err,
		    X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
	return 0;
}

static void ssl_check_result(const struct bench *b, SSL *server, SSL *client)
{
	SSL *both[SIDE_COUNT] = { server, client };
	int sig_type = NID_undef, sig_hash = NID_undef;
	size_t i;

	for (i = 0; i < SIDE_COUNT; i++) {
		const SSL_CIPHER *cipher = SSL_get_current_cipher(both[i]);

		if (SSL_version(both[i]) != b->kind->version || !cipher ||
		    strcmp(SSL_CIPHER_standard_name(cipher), b->kind->suite) ||
		    SSL_get_negotiated_group(both[i]) != NID_X25519 ||
		    SSL_session_reused(both[i]) ||
		    (b->kind->version == KTLS_VERSION_TLS12 && SSL_get_extms_support(both[i]) != 1))
			die("libssl %s negotiated something else", side_names[i]);
	}
	if (SSL_get_verify_result(client) != X509_V_OK)
		die("libssl client did not verify the chain");
	if (!SSL_get_peer_signature_type_nid(client, &sig_type) ||
	    !SSL_get_peer_signature_nid(client, &sig_hash) ||
	    sig_type != b->kind->ssl_sig_type || sig_hash != NID_sha256)
		die("libssl used signature %s with %s, not %s", OBJ_nid2sn(sig_type),
		    OBJ_nid2sn(sig_hash), b->kind->ktls_sigalg);
}

static void ssl_once(struct bench *b, struct cpu_split *split)
{
	BIO *client_bio, *server_bio;
	SSL *client, *server;
	int cdone = 0, sdone = 0, calls;
	uint64_t start;

	start = cpu_now();
	server = SSL_new(b->ssl_server_ctx);
	split->lifecycle[SIDE_SERVER] += cpu_now() - start;
	start = cpu_now();
	client = SSL_new(b->ssl_client_ctx);
	if (client && (!SSL_set_tlsext_host_name(client, SERVER_NAME) ||
		       !SSL_set1_host(client, SERVER_NAME)))
		die("libssl client name setup");
	split->lifecycle[SIDE_CLIENT] += cpu_now() - start;
	if (!server || !client)
		die("SSL_new failed");
	/* The transport is the harness's, not a side's: left out of the times. */
	if (!BIO_new_bio_pair(&client_bio, 0, &server_bio, 0))
		die("BIO_new_bio_pair failed");
	SSL_set_bio(client, client_bio, client_bio);
	SSL_set_bio(server, server_bio, server_bio);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);

	for (calls = 0; !cdone || !sdone; calls++) {
		if (calls == MAX_FLIGHT_CALLS)
			die("libssl handshake does not finish");
		if (!cdone)
			cdone = ssl_step(client, "client", &split->handshake[SIDE_CLIENT]);
		if (!sdone)
			sdone = ssl_step(server, "server", &split->handshake[SIDE_SERVER]);
	}
	if (BIO_ctrl_pending(client_bio) || BIO_ctrl_pending(server_bio))
		die("libssl sent bytes after the handshake");
	ssl_check_result(b, server, client);

	start = cpu_now();
	SSL_free(server);
	split->lifecycle[SIDE_SERVER] += cpu_now() - start;
	start = cpu_now();
	SSL_free(client);
	split->lifecycle[SIDE_CLIENT] += cpu_now() - start;
}

/* ---- the crypto floor ---- */

/*
 * HKDF-Expand-Label calls of one side in a full handshake without HRR
 * or client authentication, from keysched.c and handshake.c; every one
 * asks for at most one hash length, so it is a single HMAC. The engine
 * also does 3 HKDF-Extract (early, handshake, master secret), 2 HMAC
 * (Finished sent and checked), 2 hashes of "" (for "derived"), 5
 * transcript hash snapshots and 4 AEAD key setups per side.
 */
static const struct floor_expand {
	const char *label;
	int with_hash;		/* context is a transcript hash, else empty */
	size_t out_len;
	int count;
} floor_expands[] = {
	{ "derived", 1, 32, 2 },
	{ "c hs traffic", 1, 32, 1 },
	{ "s hs traffic", 1, 32, 1 },
	{ "c ap traffic", 1, 32, 1 },
	{ "s ap traffic", 1, 32, 1 },
	{ "key", 0, 16, 4 },
	{ "iv", 0, 12, 4 },
	{ "finished", 0, 32, 2 },
};

#define FLOOR_EXTRACTS		3
#define FLOOR_HMACS		2
#define FLOOR_EMPTY_HASHES	2
#define FLOOR_TRANSCRIPT_PEEKS	5

static void floor_check(int ok, const char *what)
{
	if (!ok)
		die("floor: %s failed", what);
}

/* HMAC-SHA256 from the digest, as the backend does it. */
static void floor_hmac(const struct bench *b, EVP_MD_CTX *ctx, const uint8_t *key,
		       size_t key_len, const void *msg, size_t msg_len, uint8_t *out)
{
	uint8_t pad[64] = { 0 }, inner[32];
	size_t i;

	memcpy(pad, key, key_len);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	floor_check(EVP_DigestInit_ex2(ctx, b->sha256, NULL) &&
		    EVP_DigestUpdate(ctx, pad, sizeof(pad)) &&
		    EVP_DigestUpdate(ctx, msg, msg_len) &&
		    EVP_DigestFinal_ex(ctx, inner, NULL), "HMAC inner hash");
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	floor_check(EVP_DigestInit_ex2(ctx, b->sha256, NULL) &&
		    EVP_DigestUpdate(ctx, pad, sizeof(pad)) &&
		    EVP_DigestUpdate(ctx, inner, sizeof(inner)) &&
		    EVP_DigestFinal_ex(ctx, out, NULL), "HMAC outer hash");
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* The transcript, fed in a few messages, and snapshotted as the engine does. */
static void floor_transcript(const struct bench *b, size_t transcript_len, int peeks)
{
	static const uint8_t message[512];
	EVP_MD_CTX *running = EVP_MD_CTX_new(), *snapshot = EVP_MD_CTX_new();
	uint8_t hash[32];
	size_t left, n;
	int i;

	floor_check(running && snapshot && EVP_DigestInit_ex2(running, b->sha256, NULL),
		    "transcript init");
	for (left = transcript_len; left; left -= n) {
		n = left < sizeof(message) ? left : sizeof(message);
		floor_check(EVP_DigestUpdate(running, message, n), "transcript update");
	}
	for (i = 0; i < peeks; i++)
		floor_check(EVP_MD_CTX_copy_ex(snapshot, running) &&
			    EVP_DigestFinal_ex(snapshot, hash, NULL), "transcript snapshot");
	EVP_MD_CTX_free(snapshot);
	EVP_MD_CTX_free(running);
}

/* The key schedule's HKDF, HMAC and hash work, and the transcript hash. */
static void floor_key_schedule(const struct bench *b, const struct floor_spec *spec)
{
	uint8_t secret[32] = { 1 }, hash[32] = { 2 }, info[2 + 1 + 255 + 1 + 32], block[33];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i, n, label_len;
	int j;

	floor_check(ctx != NULL, "EVP_MD_CTX_new");
	for (i = 0; i < FLOOR_EXTRACTS; i++)
		floor_hmac(b, ctx, secret, sizeof(secret), hash, sizeof(hash), secret);
	for (i = 0; i < ARRAY_SIZE(floor_expands); i++) {
		const struct floor_expand *e = &floor_expands[i];

		label_len = strlen(e->label);
		n = 0;
		info[n++] = 0;
		info[n++] = (uint8_t)e->out_len;
		info[n++] = (uint8_t)(6 + label_len);
		memcpy(info + n, "tls13 ", 6);
		n += 6;
		memcpy(info + n, e->label, label_len);
		n += label_len;
		info[n++] = e->with_hash ? 32 : 0;
		if (e->with_hash) {
			memcpy(info + n, hash, 32);
			n += 32;
		}
		info[n++] = 1;	/* HKDF-Expand's counter */
		for (j = 0; j < e->count; j++)
			floor_hmac(b, ctx, secret, sizeof(secret), info, n, block);
	}
	for (i = 0; i < FLOOR_HMACS; i++)
		floor_hmac(b, ctx, secret, sizeof(secret), hash, sizeof(hash), block);
	for (i = 0; i < FLOOR_EMPTY_HASHES; i++)
		floor_check(EVP_Digest("", 0, hash, NULL, b->sha256, NULL), "hash of \"\"");
	floor_transcript(b, spec->transcript_len, FLOOR_TRANSCRIPT_PEEKS);
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(block, sizeof(block));
}

/*
 * The TLS 1.2 PRF calls of one side in a full handshake with the extended
 * master secret, as prf.c makes them: P_SHA256 costs one HMAC for A(1),
 * one per output block and one for each further A(i). The transcript is
 * snapshotted three times: the session hash and both Finished.
 */
static const struct floor_prf_call {
	const char *label;
	size_t secret_len;	/* X25519 premaster secret, else the master secret */
	size_t seed_len;	/* after the label: a transcript hash or both randoms */
	size_t out_len;
} floor_prf_calls[] = {
	{ "extended master secret", 32, 32, 48 },
	{ "key expansion", 48, 64, 2 * 16 + 2 * 4 },
	{ "client finished", 48, 32, 12 },
	{ "server finished", 48, 32, 12 },
};

#define FLOOR_TLS12_TRANSCRIPT_PEEKS	3
#define FLOOR_PRF_MAX_SEED		(32 + 32 + 64)

static void floor_prf(const struct bench *b, const struct floor_spec *spec)
{
	uint8_t secret[48] = { 5 }, a[32], buf[32 + FLOOR_PRF_MAX_SEED] = { 6 }, block[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i, label_len, seed_len, left;

	floor_check(ctx != NULL, "EVP_MD_CTX_new");
	for (i = 0; i < ARRAY_SIZE(floor_prf_calls); i++) {
		const struct floor_prf_call *c = &floor_prf_calls[i];

		/* buf is A(i) || label || seed, so an output block is one HMAC over it. */
		label_len = strlen(c->label);
		memcpy(buf + 32, c->label, label_len);
		seed_len = label_len + c->seed_len;
		floor_hmac(b, ctx, secret, c->secret_len, buf + 32, seed_len, a);
		for (left = c->out_len;; left -= 32) {
			memcpy(buf, a, sizeof(a));
			floor_hmac(b, ctx, secret, c->secret_len, buf, 32 + seed_len, block);
			if (left <= 32)
				break;
			floor_hmac(b, ctx, secret, c->secret_len, a, sizeof(a), a);
		}
	}
	floor_transcript(b, spec->transcript_len, FLOOR_TLS12_TRANSCRIPT_PEEKS);
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(block, sizeof(block));
}

/* The key derivation of the row's version. */
static void floor_derive_keys(const struct bench *b, const struct floor_spec *spec)
{
	if (b->kind->version == KTLS_VERSION_TLS12)
		floor_prf(b, spec);
	else
		floor_key_schedule(b, spec);
}

static const uint8_t floor_aead_key[16] = { 3 }, floor_nonce[12] = { 4 };
static const uint8_t floor_aad[5] = { 23, 3, 3, 0, 0 };
static uint8_t floor_plain[WIRE_BUF_SIZE];	/* zeros */

/* Records are zeros under one key and nonce: one ciphertext serves every length. */
static void floor_seal(EVP_CIPHER_CTX *ctx, size_t len, uint8_t *out, uint8_t *tag)
{
	int n;

	floor_check(EVP_CipherInit_ex2(ctx, NULL, NULL, floor_nonce, -1, NULL) &&
		    EVP_CipherUpdate(ctx, NULL, &n, floor_aad, sizeof(floor_aad)) &&
		    EVP_CipherUpdate(ctx, out, &n, floor_plain, (int)len) &&
		    EVP_CipherFinal_ex(ctx, out + n, &n) &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag), "seal");
}

/* AEAD key setups for both directions (1.3: of both epochs), and the records themselves. */
static void floor_records(struct bench *b, const struct floor_spec *spec, enum side side)
{
	static uint8_t out[WIRE_BUF_SIZE];
	EVP_CIPHER_CTX *ctx[MAX_AEAD_KEYS];
	uint8_t tag[16];
	size_t i;
	int n;

	for (i = 0; i < (size_t)b->kind->aead_keys; i++) {
		ctx[i] = EVP_CIPHER_CTX_new();
		floor_check(ctx[i] && EVP_CipherInit_ex2(ctx[i], b->aes128gcm, floor_aead_key,
							 NULL, i & 1, NULL), "AEAD key setup");
	}
	for (i = 0; i < spec->seal_count; i++)
		floor_seal(ctx[1], spec->seal_len[i], out, tag);
	for (i = 0; i < spec->open_count; i++)
		floor_check(EVP_CipherInit_ex2(ctx[0], NULL, NULL, floor_nonce, -1, NULL) &&
			    EVP_CIPHER_CTX_ctrl(ctx[0], EVP_CTRL_AEAD_SET_TAG, 16,
						b->open_tag[side][i]) &&
			    EVP_CipherUpdate(ctx[0], NULL, &n, floor_aad, sizeof(floor_aad)) &&
			    EVP_CipherUpdate(ctx[0], out, &n, b->sealed,
					     (int)spec->open_len[i] - 16) &&
			    EVP_CipherFinal_ex(ctx[0], out + n, &n) > 0, "open");
	for (i = 0; i < (size_t)b->kind->aead_keys; i++)
		EVP_CIPHER_CTX_free(ctx[i]);
}

/* Valid ciphertext and tags for the records each side opens. */
static void floor_prepare_opens(struct bench *b)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t i;
	int side;

	floor_check(ctx && EVP_CipherInit_ex2(ctx, b->aes128gcm, floor_aead_key, NULL, 1, NULL),
		    "AEAD key setup");
	for (side = 0; side < SIDE_COUNT; side++)
		for (i = 0; i < b->floor[side].open_count; i++)
			floor_seal(ctx, b->floor[side].open_len[i] - 16, b->sealed,
				   b->open_tag[side][i]);
	EVP_CIPHER_CTX_free(ctx);
}

/*
 * An X25519 key pair, its public value, and the secret with a peer's
 * value. The keygen context is reused and the peer's value is imported
 * under a template key: the cheapest ways through EVP measured (about 9
 * and 8 us less than a context from the name and a raw public key import).
 */
static void floor_x25519(const struct bench *b)
{
	uint8_t pub[32], secret[32];
	size_t pub_len = sizeof(pub), secret_len = sizeof(secret);
	EVP_PKEY *key = NULL, *peer = EVP_PKEY_new();
	EVP_PKEY_CTX *ctx;

	floor_check(EVP_PKEY_keygen(b->x25519_keygen, &key) > 0, "X25519 keygen");
	floor_check(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
						    sizeof(pub), &pub_len), "X25519 public value");
	floor_check(peer && EVP_PKEY_copy_parameters(peer, b->x25519_template) > 0 &&
		    EVP_PKEY_set1_encoded_public_key(peer, b->peer_x25519,
						     sizeof(b->peer_x25519)) > 0,
		    "X25519 peer value");
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	floor_check(ctx && EVP_PKEY_derive_init(ctx) > 0 &&
		    EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) > 0 &&
		    EVP_PKEY_derive(ctx, secret, &secret_len) > 0, "X25519 derive");
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(key);
	OPENSSL_cleanse(secret, sizeof(secret));
}

/* EVP_DigestSign/Verify with the TLS 1.3 parameters (RSA: PSS, salt = hash length). */
static EVP_MD_CTX *floor_sig_ctx(const struct bench *b, EVP_PKEY *key, int sign)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx;
	int ok;

	floor_check(ctx != NULL, "EVP_MD_CTX_new");
	if (sign)
		ok = EVP_DigestSignInit(ctx, &pctx, b->sha256, NULL, key) > 0;
	else
		ok = EVP_DigestVerifyInit(ctx, &pctx, b->sha256, NULL, key) > 0;
	if (ok && b->kind->is_rsa)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, b->sha256) > 0;
	floor_check(ok, "signature setup");
	return ctx;
}

/* Adds the time since *@mark to @part and moves the mark. */
static void floor_lap(struct bench *b, enum side side, enum floor_part part, uint64_t *mark)
{
	uint64_t now = cpu_now();

	b->part_ns[side][part] += now - *mark;
	*mark = now;
}

static void floor_server_once(struct bench *b, struct cpu_split *split)
{
	uint8_t random[64], sig[512];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *ctx;
	uint64_t start = cpu_now(), mark = start;

	floor_check(RAND_bytes(random, (int)b->floor[SIDE_SERVER].random_len) == 1, "RAND_bytes");
	floor_lap(b, SIDE_SERVER, PART_RANDOM, &mark);
	floor_x25519(b);
	floor_lap(b, SIDE_SERVER, PART_KEX, &mark);
	/* A copy of a prepared context: about 10 us less than EVP_DigestSignInit. */
	ctx = EVP_MD_CTX_new();
	floor_check(ctx && EVP_MD_CTX_copy_ex(ctx, b->sign_template) &&
		    EVP_DigestSign(ctx, sig, &sig_len, b->cv_tbs, b->cv_tbs_len) > 0, "sign");
	EVP_MD_CTX_free(ctx);
	floor_lap(b, SIDE_SERVER, PART_SIGNATURE, &mark);
	floor_derive_keys(b, &b->floor[SIDE_SERVER]);
	floor_lap(b, SIDE_SERVER, PART_KEY_SCHEDULE, &mark);
	floor_records(b, &b->floor[SIDE_SERVER], SIDE_SERVER);
	floor_lap(b, SIDE_SERVER, PART_RECORDS, &mark);
	split->handshake[SIDE_SERVER] += mark - start;
	b->part_runs[SIDE_SERVER]++;
}

static void floor_client_once(struct bench *b, struct cpu_split *split)
{
	const uint8_t *der = b->leaf_der;
	X509_STORE_CTX *store_ctx;
	uint8_t random[64];
	EVP_MD_CTX *ctx;
	X509 *leaf;
	uint64_t start = cpu_now(), mark = start;

	floor_check(RAND_bytes(random, (int)b->floor[SIDE_CLIENT].random_len) == 1, "RAND_bytes");
	floor_lap(b, SIDE_CLIENT, PART_RANDOM, &mark);
	floor_x25519(b);
	floor_lap(b, SIDE_CLIENT, PART_KEX, &mark);
	leaf = d2i_X509(NULL, &der, b->leaf_der_len);
	store_ctx = X509_STORE_CTX_new();
	floor_check(leaf && store_ctx && X509_STORE_CTX_init(store_ctx, b->store, leaf, NULL) &&
		    X509_STORE_CTX_set_purpose(store_ctx, X509_PURPOSE_SSL_SERVER) &&
		    X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(store_ctx),
						SERVER_NAME, 0) &&
		    X509_verify_cert(store_ctx) == 1, "chain verification");
	X509_STORE_CTX_free(store_ctx);
	floor_lap(b, SIDE_CLIENT, PART_CHAIN, &mark);
	ctx = floor_sig_ctx(b, X509_get0_pubkey(leaf), 0);
	floor_check(EVP_DigestVerify(ctx, b->cv_sig, b->cv_sig_len, b->cv_tbs,
				     b->cv_tbs_len) == 1, "signature check");
	EVP_MD_CTX_free(ctx);
	floor_lap(b, SIDE_CLIENT, PART_SIGNATURE, &mark);
	X509_free(leaf);
	floor_lap(b, SIDE_CLIENT, PART_CHAIN, &mark);
	floor_derive_keys(b, &b->floor[SIDE_CLIENT]);
	floor_lap(b, SIDE_CLIENT, PART_KEY_SCHEDULE, &mark);
	floor_records(b, &b->floor[SIDE_CLIENT], SIDE_CLIENT);
	floor_lap(b, SIDE_CLIENT, PART_RECORDS, &mark);
	split->handshake[SIDE_CLIENT] += mark - start;
	b->part_runs[SIDE_CLIENT]++;
}

/* Keys, leaf and a valid signature for the floor, prepared before any timing. */
static void floor_setup(struct bench *b)
{
	static const uint8_t base_point[32] = { 9 };
	EVP_PKEY *peer = NULL;
	EVP_MD_CTX *ctx;
	size_t len = sizeof(b->peer_x25519);
	X509 *leaf;
	FILE *f;

	b->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	b->aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	floor_check(b->sha256 && b->aes128gcm, "fetch");
	f = fopen(b->key_path, "r");
	floor_check(f && (b->server_key = PEM_read_PrivateKey(f, NULL, NULL, NULL)),
		    "reading the server key");
	fclose(f);
	f = fopen(b->cert_path, "r");
	floor_check(f && (leaf = PEM_read_X509(f, NULL, NULL, NULL)), "reading the leaf");
	fclose(f);
	b->leaf_der = NULL;
	b->leaf_der_len = i2d_X509(leaf, &b->leaf_der);
	X509_free(leaf);
	floor_check(b->leaf_der_len > 0, "leaf encoding");
	b->store = X509_STORE_new();
	floor_check(b->store && X509_STORE_load_file(b->store, b->ca_path) == 1, "CA store");

	peer = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	floor_check(peer && EVP_PKEY_get_raw_public_key(peer, b->peer_x25519, &len), "peer key");
	EVP_PKEY_free(peer);
	b->x25519_template = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, base_point,
							    sizeof(base_point));
	b->x25519_keygen = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	floor_check(b->x25519_template && b->x25519_keygen &&
		    EVP_PKEY_keygen_init(b->x25519_keygen) > 0, "X25519 setup");
	b->sign_template = floor_sig_ctx(b, b->server_key, 1);

	if (b->kind->version == KTLS_VERSION_TLS12) {
		/* both randoms, then curve type, named curve and the X25519 value */
		b->cv_tbs_len = 32 + 32 + 1 + 2 + 1 + 32;
		floor_check(RAND_bytes(b->cv_tbs, (int)b->cv_tbs_len) == 1, "RAND_bytes");
	} else {
		b->cv_tbs_len = sizeof(b->cv_tbs);
		memset(b->cv_tbs, 0x20, 64);
		memcpy(b->cv_tbs + 64, "TLS 1.3, server CertificateVerify", 34);
		floor_check(RAND_bytes(b->cv_tbs + 98, 32) == 1, "RAND_bytes");
	}
	/* Made through the template, so the client's check also proves the copy signs right. */
	ctx = EVP_MD_CTX_new();
	b->cv_sig_len = sizeof(b->cv_sig);
	floor_check(ctx && EVP_MD_CTX_copy_ex(ctx, b->sign_template) &&
		    EVP_DigestSign(ctx, b->cv_sig, &b->cv_sig_len, b->cv_tbs,
				   b->cv_tbs_len) > 0, "sign");
	EVP_MD_CTX_free(ctx);
}

static void floor_teardown(struct bench *b)
{
	EVP_MD_free((EVP_MD *)b->sha256);
	EVP_CIPHER_free((EVP_CIPHER *)b->aes128gcm);
	EVP_PKEY_free(b->server_key);
	EVP_PKEY_free(b->x25519_template);
	EVP_PKEY_CTX_free(b->x25519_keygen);
	EVP_MD_CTX_free(b->sign_template);
	X509_STORE_free(b->store);
	OPENSSL_free(b->leaf_der);
}

/* ---- running and reporting ---- */

enum measure_id {
	MEASURE_LIBKTLS,
	MEASURE_LIBSSL,
	MEASURE_FLOOR_SERVER,
	MEASURE_FLOOR_CLIENT,
	MEASURE_COUNT,
};

static const struct measure measures[MEASURE_COUNT] = {
	[MEASURE_LIBKTLS] = { "libktls", ktls_once },
	[MEASURE_LIBSSL] = { "libssl", ssl_once },
	[MEASURE_FLOOR_SERVER] = { "floor", floor_server_once },
	[MEASURE_FLOOR_CLIENT] = { "floor", floor_client_once },
};

struct options {
	double seconds;
	unsigned long count;		/* 0: from the warm-up */
	const char *only_cert;		/* NULL: all */
	const char *only_version;	/* NULL: all */
	const char *only_measure;	/* NULL: all */
};

/* Per measure and side: handshakes per second in each round, and with create/free. */
struct results {
	unsigned long count[MEASURE_COUNT];
	double rate[MEASURE_COUNT][SIDE_COUNT][ROUNDS];
	double full_rate[MEASURE_COUNT][SIDE_COUNT][ROUNDS];
	int ran[MEASURE_COUNT];
};

static uint64_t split_total(const struct cpu_split *s)
{
	return s->handshake[SIDE_SERVER] + s->handshake[SIDE_CLIENT];
}

/* Warms caches and lazy initialisation up, and sizes the count for @seconds. */
static unsigned long calibrate(struct bench *b, const struct measure *m, const struct options *o)
{
	struct cpu_split split;
	unsigned long n = 0;
	double per;

	memset(&split, 0, sizeof(split));
	do {
		m->once(b, &split);
		n++;
	} while (split_total(&split) < WARMUP_NSEC);
	if (o->count)
		return o->count;
	per = (double)split_total(&split) / (double)n / (double)NSEC_PER_SEC;
	n = (unsigned long)(o->seconds / per);
	return n < ROUNDS ? ROUNDS : n;
}

static double rate(unsigned long n, uint64_t ns)
{
	return ns ? (double)n * (double)NSEC_PER_SEC / (double)ns : 0;
}

static void run_round(struct bench *b, enum measure_id id, int round, struct results *r)
{
	unsigned long n = r->count[id] / ROUNDS, i;
	struct cpu_split split;
	int side;

	memset(&split, 0, sizeof(split));
	if (round < (int)(r->count[id] % ROUNDS))
		n++;
	for (i = 0; i < n; i++)
		measures[id].once(b, &split);
	for (side = 0; side < SIDE_COUNT; side++) {
		r->rate[id][side][round] = rate(n, split.handshake[side]);
		r->full_rate[id][side][round] =
			rate(n, split.handshake[side] + split.lifecycle[side]);
	}
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v)
{
	double sorted[ROUNDS];

	memcpy(sorted, v, sizeof(sorted));
	qsort(sorted, ROUNDS, sizeof(sorted[0]), compare_double);
	return sorted[ROUNDS / 2];
}

/* Half the interquartile range relative to the median, in percent. */
static double spread(const double *v)
{
	double sorted[ROUNDS], mid;

	memcpy(sorted, v, sizeof(sorted));
	qsort(sorted, ROUNDS, sizeof(sorted[0]), compare_double);
	mid = sorted[ROUNDS / 2];
	return mid > 0 ? 50.0 * (sorted[3 * ROUNDS / 4] - sorted[ROUNDS / 4]) / mid : 0;
}

/*
 * Ratios are taken round by round, between measurements that ran seconds
 * apart, so load that comes and goes on the machine mostly cancels out.
 */
static void round_ratios(const double *num, const double *den, double *out)
{
	int i;

	for (i = 0; i < ROUNDS; i++)
		out[i] = den[i] > 0 ? num[i] / den[i] : 0;
}

static int measure_wanted(const struct options *o, enum measure_id id)
{
	return !o->only_measure || !strcmp(o->only_measure, measures[id].name);
}

static void bench_setup(struct bench *b, const struct cert_kind *kind)
{
	static uint8_t to_server[WIRE_BUF_SIZE], to_client[WIRE_BUF_SIZE];
	static uint8_t sealed[WIRE_BUF_SIZE];

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	snprintf(b->cert_path, sizeof(b->cert_path), "%s/%s.pem", temp_dir, kind->file);
	snprintf(b->key_path, sizeof(b->key_path), "%s/%s.key", temp_dir, kind->file);
	snprintf(b->ca_path, sizeof(b->ca_path), "%s/ca.pem", temp_dir);
	b->ktls_server_cfg = ktls_config_or_die(b, 1);
	b->ktls_client_cfg = ktls_config_or_die(b, 0);
	ktls_buf_init(&b->to_server, to_server, sizeof(to_server));
	ktls_buf_init(&b->to_client, to_client, sizeof(to_client));
	b->ssl_server_ctx = ssl_ctx_or_die(b, 1);
	b->ssl_client_ctx = ssl_ctx_or_die(b, 0);
	b->sealed = sealed;
	floor_setup(b);
	ktls_learn_floor(b);
	floor_prepare_opens(b);
}

static void bench_teardown(struct bench *b)
{
	floor_teardown(b);
	SSL_CTX_free(b->ssl_server_ctx);
	SSL_CTX_free(b->ssl_client_ctx);
	ktls_config_free(b->ktls_server_cfg);
	ktls_config_free(b->ktls_client_cfg);
	ktls_buf_dispose(&b->to_server);
	ktls_buf_dispose(&b->to_client);
}

static void print_floor_parts(const struct bench *b)
{
	int side, part;

	for (side = 0; side < SIDE_COUNT; side++) {
		if (!b->part_runs[side])
			continue;
		printf("%s/%s: floor of the %s, us per handshake:", b->kind->name,
		       b->kind->version_label, side_names[side]);
		for (part = 0; part < PART_COUNT; part++)
			if (b->part_ns[side][part])
				printf(" %s %.1f", floor_part_names[part],
				       (double)b->part_ns[side][part] / 1000.0 /
				       (double)b->part_runs[side]);
		printf("\n");
	}
}

static void run_cert(const struct cert_kind *kind, const struct options *o, struct results *r)
{
	struct bench b;
	int id, round;

	bench_setup(&b, kind);
	memset(r, 0, sizeof(*r));
	for (id = 0; id < MEASURE_COUNT; id++) {
		r->ran[id] = measure_wanted(o, id);
		if (r->ran[id])
			r->count[id] = calibrate(&b, &measures[id], o);
	}
	for (round = 0; round < ROUNDS; round++)
		for (id = 0; id < MEASURE_COUNT; id++)
			if (r->ran[id])
				run_round(&b, id, round, r);
	printf("%s/%s: wire bytes of a libktls handshake: transcript %zu, "
	       "server seals %zu record(s), client seals %zu\n", kind->name, kind->version_label,
	       b.floor[SIDE_SERVER].transcript_len, b.floor[SIDE_SERVER].seal_count,
	       b.floor[SIDE_CLIENT].seal_count);
	printf("%s/%s: handshakes per measurement: libktls %lu, libssl %lu, "
	       "floor server %lu, client %lu\n", kind->name, kind->version_label,
	       r->count[MEASURE_LIBKTLS],
	       r->count[MEASURE_LIBSSL], r->count[MEASURE_FLOOR_SERVER],
	       r->count[MEASURE_FLOOR_CLIENT]);
	print_floor_parts(&b);
	bench_teardown(&b);
}

static void print_header(const struct options *o)
{
	char line[256], model[256] = "unknown", load[128];
	struct utsname u;
	FILE *f;

	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	if (uname(&u))
		strcpy(u.release, "unknown");
	f = fopen("/proc/loadavg", "r");
	if (!f || !fgets(load, sizeof(load), f))
		strcpy(load, "unknown\n");
	if (f)
		fclose(f);
	printf("handshake_bench: full TLS 1.3 and 1.2 handshakes in memory, "
	       "both sides on one thread\n");
	printf("machine:  %ld CPUs online, %s, Linux %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	       model, u.release);
	/* Other work on the machine shows in the spread column: say how busy it was. */
	printf("load:     %s", load);
	printf("openssl:  %s (libssl and libktls share this libcrypto)\n",
	       OpenSSL_version(OPENSSL_VERSION));
	printf("settings: " BENCH_GROUP ", " BENCH_SUITE " (1.2: " BENCH_SUITE_TLS12
	       ", extended master secret, client also lists secp256r1), no tickets, "
	       "no session cache, "
	       "client verifies chain (ECDSA P-256 CA) and name \"" SERVER_NAME "\"\n");
	if (o->count)
		printf("timing:   CPU time per side (CLOCK_THREAD_CPUTIME_ID), %lu handshakes "
		       "per measurement, median of %d rounds\n", o->count, ROUNDS);
	else
		printf("timing:   CPU time per side (CLOCK_THREAD_CPUTIME_ID), about %.1f s "
		       "per measurement, median of %d rounds\n", o->seconds, ROUNDS);
	fflush(stdout);
}

/* One line of the main table. */
struct row {
	int has_ssl, has_floor;
	double ours, theirs, floor;	/* median handshakes per second */
	double ratio, share;		/* medians of the per-round ratios */
	double spread;			/* the worse of the two ratios' spreads */
};

static void make_row(const struct results *r, int side, struct row *row)
{
	enum measure_id fid = side == SIDE_SERVER ? MEASURE_FLOOR_SERVER : MEASURE_FLOOR_CLIENT;
	const double *ours = r->rate[MEASURE_LIBKTLS][side];
	double ratios[ROUNDS], shares[ROUNDS];

	row->has_ssl = r->ran[MEASURE_LIBKTLS] && r->ran[MEASURE_LIBSSL];
	row->has_floor = r->ran[MEASURE_LIBKTLS] && r->ran[fid];
	row->ours = median(ours);
	row->theirs = median(r->rate[MEASURE_LIBSSL][side]);
	row->floor = median(r->rate[fid][side]);
	round_ratios(ours, r->rate[MEASURE_LIBSSL][side], ratios);
	round_ratios(ours, r->rate[fid][side], shares);
	row->ratio = median(ratios);
	row->share = median(shares);
	row->spread = 0;
	if (row->has_ssl)
		row->spread = spread(ratios);
	if (row->has_floor && spread(shares) > row->spread)
		row->spread = spread(shares);
}

static int results_empty(const struct results *r)
{
	int id;

	for (id = 0; id < MEASURE_COUNT; id++)
		if (r->ran[id])
			return 0;
	return 1;
}

static const char *verdict(int known, int ok)
{
	if (!known)
		return "-";
	return ok ? "met" : "NOT met";
}

static void print_results(const struct results *all, size_t kinds)
{
	struct row row;
	size_t k;
	int side;

	printf("\n%-11s %-3s %-6s %10s %9s %6s %9s %13s %6s\n", "cert", "tls", "side",
	       "libktls/s",
	       "libssl/s", "ratio", "floor/s", "libktls%floor", "+-%");
	for (k = 0; k < kinds; k++) {
		if (results_empty(&all[k]))
			continue;
		for (side = 0; side < SIDE_COUNT; side++) {
			make_row(&all[k], side, &row);
			printf("%-11s %-3s %-6s %10.1f %9.1f %5.2fx %9.1f %12.1f%% %5.1f%%\n",
			       cert_kinds[k].name, cert_kinds[k].version_label,
			       side_names[side], row.ours, row.theirs,
			       row.ratio, row.floor, 100.0 * row.share, row.spread);
		}
	}

	printf("\nincluding connection create and free (ktls_conn_new/free, SSL_new/free):\n");
	printf("%-11s %-3s %-6s %10s %9s %6s\n", "cert", "tls", "side", "libktls/s", "libssl/s",
	       "ratio");
	for (k = 0; k < kinds; k++) {
		const struct results *r = &all[k];

		if (!r->ran[MEASURE_LIBKTLS] && !r->ran[MEASURE_LIBSSL])
			continue;
		for (side = 0; side < SIDE_COUNT; side++) {
			double ratios[ROUNDS];

			round_ratios(r->full_rate[MEASURE_LIBKTLS][side],
				     r->full_rate[MEASURE_LIBSSL][side], ratios);
			printf("%-11s %-3s %-6s %10.1f %9.1f %5.2fx\n", cert_kinds[k].name,
			       cert_kinds[k].version_label, side_names[side],
			       median(r->full_rate[MEASURE_LIBKTLS][side]),
			       median(r->full_rate[MEASURE_LIBSSL][side]), median(ratios));
		}
	}

	printf("\ntargets: each side >= %.2fx libssl and >= %.0f%% of the floor "
	       "(+-%% is half the interquartile range of the per-round ratios)\n",
	       TARGET_RATIO, 100 * TARGET_FLOOR_SHARE);
	for (k = 0; k < kinds; k++) {
		if (!all[k].ran[MEASURE_LIBKTLS])
			continue;
		for (side = 0; side < SIDE_COUNT; side++) {
			make_row(&all[k], side, &row);
			printf("  %-11s %-3s %-6s ratio %s, floor %s\n", cert_kinds[k].name,
			       cert_kinds[k].version_label, side_names[side],
			       verdict(row.has_ssl, row.ratio >= TARGET_RATIO),
			       verdict(row.has_floor, row.share >= TARGET_FLOOR_SHARE));
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: handshake_bench [-s SECONDS] [-n COUNT] [-c ecdsa|rsa] "
			"[-t 1.3|1.2] [-m libktls|libssl|floor]\n");
	exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	const char *env = getenv("BENCH_SECONDS");
	char *end;
	int opt;

	o->seconds = DEFAULT_SECONDS;
	if (env && *env) {
		o->seconds = strtod(env, &end);
		if (*end || o->seconds <= 0)
			die("BENCH_SECONDS=%s is not a positive number", env);
	}
	while ((opt = getopt(argc, argv, "s:n:c:t:m:h")) != -1) {
		switch (opt) {
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end || o->seconds <= 0)
				usage();
			break;
		case 'n':
			o->count = strtoul(optarg, &end, 10);
			if (*end || o->count < ROUNDS)
				die("-n needs at least %d handshakes", ROUNDS);
			break;
		case 'c':
			o->only_cert = optarg;
			break;
		case 't':
			o->only_version = optarg;
			if (strcmp(optarg, "1.3") && strcmp(optarg, "1.2"))
				usage();
			break;
		case 'm':
			o->only_measure = optarg;
			if (strcmp(optarg, "libktls") && strcmp(optarg, "libssl") &&
			    strcmp(optarg, "floor"))
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* One core, so the two sides never overlap and the times add up to the run. */
static void pin_to_current_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "handshake_bench: not pinned to a CPU: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
	struct results results[ARRAY_SIZE(cert_kinds)];
	struct options o = { 0 };
	size_t k;

	parse_options(argc, argv, &o);
	pin_to_current_cpu();
	print_header(&o);
	make_certificates();
	memset(results, 0, sizeof(results));
	for (k = 0; k < ARRAY_SIZE(cert_kinds); k++) {
		if ((o.only_cert && !strstr(cert_kinds[k].name, o.only_cert)) ||
		    (o.only_version && strcmp(cert_kinds[k].version_label, o.only_version)))
			continue;
		run_cert(&cert_kinds[k], &o, &results[k]);
	}
	print_results(results, ARRAY_SIZE(cert_kinds));
	return 0;
}
