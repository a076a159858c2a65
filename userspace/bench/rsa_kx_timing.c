// SPDX-License-Identifier: GPL-2.0-only
/*
 * rsa_kx_timing: does our TLS 1.2 server take longer over an RSA
 * ClientKeyExchange whose premaster is bad than over a good one?
 *
 * RFC 5246 7.4.7.1 asks a server not to let a client tell a premaster that
 * decrypts with bad padding, or to the wrong length or version, from a
 * good one, since that answer is Bleichenbacher's oracle. The engine uses
 * a random premaster in all those cases and goes on as if nothing
 * happened; this program measures whether the time it takes tells.
 *
 * One RSA-2048 server identity, TLS_RSA_WITH_AES_128_GCM_SHA256, and one
 * ClientHello made once by a libktls client and replayed. Each trial takes
 * a fresh server connection through that ClientHello (not timed), then
 * times the one ktls_handshake() call that is given the ClientKeyExchange
 * record alone: the decryption, the transcript and the master secret.
 * The ciphertexts are made beforehand, 64 of each class:
 *
 *   good           PKCS#1 v1.5 type 2, 48 bytes starting 03 03
 *   bad_padding    the block starts 00 01 instead of 00 02
 *   no_separator   00 02 and no zero byte after the padding
 *   wrong_length   correct padding, a 47-byte premaster
 *   wrong_version  correct padding, 48 bytes starting 03 02
 *
 * The classes are interleaved in a shuffled order, so that drift (other
 * jobs, frequency changes) falls on all of them alike; the process stays
 * on one CPU. Wall-clock time (CLOCK_MONOTONIC) is what a remote client
 * could see. For each class: the 10th percentile, median, mean and
 * standard deviation, and Welch's t against good, over all trials and
 * over the trials below the pooled 90th percentile (which drops the
 * interrupts and preemptions that make the tail). |t| above 4.5, the
 * usual bound in leakage assessment, would be a difference to look into;
 * "resolution" is the difference of the means that would have reached
 * it, which shrinks with the square root of the trials.
 *
 * Usage: rsa_kx_timing [-n TRIALS]: trials per class, default 1500
 * (or BENCH_RSA_TRIALS), about 12 s on this project's machine. Exits
 * non-zero only when something fails, never on the statistics.
 */
#include <errno.h>
#include <float.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ktls.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BENCH_SUITE		"TLS_RSA_WITH_AES_128_GCM_SHA256"
#define RSA_BITS		2048
#define RSA_BYTES		(RSA_BITS / 8)
#define PREMASTER_LEN		48
#define POOL_SIZE		64	/* distinct ciphertexts per class */
#define DEFAULT_TRIALS		1500
#define TRIM_PERCENTILE		0.90
#define T_BOUND			4.5

/* TLS 1.2 record and handshake framing of a ClientKeyExchange (RFC 5246 7.4.7). */
#define CONTENT_HANDSHAKE	22
#define HS_CLIENT_KEY_EXCHANGE	16
#define CKE_BODY_LEN		(2 + RSA_BYTES)
#define CKE_MSG_LEN		(4 + CKE_BODY_LEN)
#define CKE_RECORD_LEN		(5 + CKE_MSG_LEN)

enum kx_class {
	CLASS_GOOD,
	CLASS_BAD_PADDING,
	CLASS_NO_SEPARATOR,
	CLASS_WRONG_LENGTH,
	CLASS_WRONG_VERSION,
	CLASS_COUNT,
};

/* How each class's plaintext block is laid out. */
static const struct class_facts {
	const char	*cf_name;
	uint8_t		cf_block_type;		/* second byte of the block */
	int		cf_separator;		/* a zero byte before the premaster */
	size_t		cf_premaster_len;
	uint8_t		cf_version_minor;	/* second byte of the premaster */
} classes[CLASS_COUNT] = {
	[CLASS_GOOD]		= { "good",		2, 1, PREMASTER_LEN,	 3 },
	[CLASS_BAD_PADDING]	= { "bad_padding",	1, 1, PREMASTER_LEN,	 3 },
	[CLASS_NO_SEPARATOR]	= { "no_separator",	2, 0, PREMASTER_LEN,	 3 },
	[CLASS_WRONG_LENGTH]	= { "wrong_length",	2, 1, PREMASTER_LEN - 1, 3 },
	[CLASS_WRONG_VERSION]	= { "wrong_version",	2, 1, PREMASTER_LEN,	 2 },
};

struct bench {
	char		b_dir[64];
	char		b_cert[96];
	char		b_key[96];
	EVP_PKEY	*b_rsa;
	struct ktls_config *b_server_cfg;
	struct ktls_buf	b_client_hello;		/* the records, as sent */
	uint8_t		b_records[CLASS_COUNT][POOL_SIZE][CKE_RECORD_LEN];
	unsigned long	b_trials;		/* per class */
	uint8_t		*b_order;		/* class of each trial */
	double		*b_ns[CLASS_COUNT];	/* per class, in trial order */
};

static struct bench bench;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rsa_kx_timing: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void remove_files(void)
{
	if (!bench.b_dir[0])
		return;
	unlink(bench.b_cert);
	unlink(bench.b_key);
	rmdir(bench.b_dir);
}

/* ---- the server identity ---- */

static void write_pem_or_die(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *f = fopen(path, "we");
	int ok;

	if (!f)
		die("%s: %s", path, strerror(errno));
	ok = cert ? PEM_write_X509(f, cert) :
		    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) || !ok)
		die("cannot write %s", path);
}

/* A self-signed RSA certificate: nobody verifies it, the server only loads it. */
static void make_identity(void)
{
	X509_NAME *name;
	X509 *cert;

	snprintf(bench.b_dir, sizeof(bench.b_dir), "/tmp/ktls-rsa-kx-XXXXXX");
	if (!mkdtemp(bench.b_dir)) {
		bench.b_dir[0] = '\0';
		die("mkdtemp: %s", strerror(errno));
	}
	atexit(remove_files);
	snprintf(bench.b_cert, sizeof(bench.b_cert), "%s/rsa.pem", bench.b_dir);
	snprintf(bench.b_key, sizeof(bench.b_key), "%s/rsa.key", bench.b_dir);

	bench.b_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
	cert = X509_new();
	if (!bench.b_rsa || !cert)
		die("RSA key generation failed");
	name = X509_get_subject_name(cert);
	if (!X509_set_version(cert, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), 86400) ||
	    !X509_set_pubkey(cert, bench.b_rsa) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(cert, name) ||
	    !X509_sign(cert, bench.b_rsa, EVP_sha256()))
		die("cannot make the certificate");
	write_pem_or_die(bench.b_cert, cert, NULL);
	write_pem_or_die(bench.b_key, NULL, bench.b_rsa);
	X509_free(cert);
}

static struct ktls_config *config_or_die(int server)
{
	struct ktls_config *cfg = ktls_config_new();

	if (!cfg)
		die("ktls_config_new failed");
	/* RSA key transport is off unless named; the client never sees a certificate. */
	if (ktls_config_set_versions(cfg, KTLS_VERSION_TLS12, KTLS_VERSION_TLS12) ||
	    ktls_config_set_ciphers(cfg, BENCH_SUITE) ||
	    (server && ktls_config_add_identity(cfg, bench.b_cert, bench.b_key)) ||
	    (!server && ktls_config_set_verify(cfg, KTLS_VERIFY_NONE)))
		die("config: %s", ktls_config_error(cfg));
	return cfg;
}

/* The ClientHello of a libktls client that offers the suite alone. */
static void capture_client_hello(void)
{
	struct ktls_config *cfg = config_or_die(0);
	struct ktls_conn *client = ktls_conn_new(cfg, KTLS_ROLE_CLIENT);
	static const uint8_t nothing[1];
	size_t inlen = 0;

	ktls_buf_init(&bench.b_client_hello, NULL, 0);
	if (!client || ktls_conn_set_server_name(client, "localhost") ||
	    ktls_handshake(client, &bench.b_client_hello, nothing, &inlen) !=
	    KTLS_ERROR_IN_PROGRESS || !bench.b_client_hello.off)
		die("the client did not start a handshake");
	ktls_conn_free(client);
	ktls_config_free(cfg);
}

/* ---- ClientKeyExchange records ---- */

static void random_nonzero(uint8_t *p, size_t len)
{
	size_t i;

	if (RAND_bytes(p, (int)len) != 1)
		die("RAND_bytes failed");
	for (i = 0; i < len; i++)
		while (!p[i])
			if (RAND_bytes(&p[i], 1) != 1)
				die("RAND_bytes failed");
}

/*
 * The encryption block of @class (RFC 8017 7.2.1: 00 02 PS 00 M), with
 * the flaw the class asks for, sealed with the raw public key operation.
 */
static void make_ciphertext(enum kx_class class, uint8_t *out)
{
	const struct class_facts *cf = &classes[class];
	size_t pad_len = RSA_BYTES - 3 - cf->cf_premaster_len, out_len = RSA_BYTES;
	uint8_t block[RSA_BYTES], *premaster;
	EVP_PKEY_CTX *ctx;

	block[0] = 0;
	block[1] = cf->cf_block_type;
	random_nonzero(block + 2, pad_len);
	block[2 + pad_len] = 0;
	premaster = block + 3 + pad_len;
	if (RAND_bytes(premaster, (int)cf->cf_premaster_len) != 1)
		die("RAND_bytes failed");
	premaster[0] = 3;
	premaster[1] = cf->cf_version_minor;
	if (!cf->cf_separator)
		random_nonzero(block + 2, RSA_BYTES - 2);

	ctx = EVP_PKEY_CTX_new(bench.b_rsa, NULL);
	if (!ctx || EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) <= 0 ||
	    EVP_PKEY_encrypt(ctx, out, &out_len, block, sizeof(block)) <= 0 ||
	    out_len != RSA_BYTES)
		die("raw RSA encryption failed");
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_cleanse(block, sizeof(block));
}

/*
 * Checks a ciphertext the ordinary way (not in constant time: this is the
 * bench's own check): only a good one opens to a 3.3 premaster of 48 bytes.
 */
static int ciphertext_is_good(const uint8_t *ciphertext)
{
	uint8_t plain[RSA_BYTES];
	size_t plain_len = sizeof(plain);
	EVP_PKEY_CTX *ctx;
	int good;

	ctx = EVP_PKEY_CTX_new(bench.b_rsa, NULL);
	if (!ctx || EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
		die("RSA decryption setup failed");
	good = EVP_PKEY_decrypt(ctx, plain, &plain_len, ciphertext, RSA_BYTES) > 0 &&
	       plain_len == PREMASTER_LEN && plain[0] == 3 && plain[1] == 3;
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return good;
}

static void make_records(void)
{
	uint8_t *rec;
	size_t c, i;

	for (c = 0; c < CLASS_COUNT; c++) {
		for (i = 0; i < POOL_SIZE; i++) {
			rec = bench.b_records[c][i];
			rec[0] = CONTENT_HANDSHAKE;
			rec[1] = 3;
			rec[2] = 3;
			rec[3] = CKE_MSG_LEN >> 8;
			rec[4] = CKE_MSG_LEN & 0xff;
			rec[5] = HS_CLIENT_KEY_EXCHANGE;
			rec[6] = 0;
			rec[7] = CKE_BODY_LEN >> 8;
			rec[8] = CKE_BODY_LEN & 0xff;
			rec[9] = RSA_BYTES >> 8;
			rec[10] = RSA_BYTES & 0xff;
			make_ciphertext(c, rec + 11);
			if (ciphertext_is_good(rec + 11) != (c == CLASS_GOOD))
				die("a %s ciphertext came out %s", classes[c].cf_name,
				    c == CLASS_GOOD ? "bad" : "good");
		}
	}
}

/* ---- trials ---- */

/* A balanced, shuffled sequence of classes (Fisher-Yates). */
static void make_order(void)
{
	unsigned long total = bench.b_trials * CLASS_COUNT, i, j;
	uint32_t r;
	uint8_t t;

	bench.b_order = malloc(total);
	if (!bench.b_order)
		die("out of memory");
	for (i = 0; i < total; i++)
		bench.b_order[i] = (uint8_t)(i % CLASS_COUNT);
	for (i = total - 1; i > 0; i--) {
		if (RAND_bytes((uint8_t *)&r, sizeof(r)) != 1)
			die("RAND_bytes failed");
		j = r % (i + 1);
		t = bench.b_order[i];
		bench.b_order[i] = bench.b_order[j];
		bench.b_order[j] = t;
	}
}

/* One trial; returns the nanoseconds the ClientKeyExchange took. */
static double trial(const uint8_t *record, struct ktls_buf *out)
{
	struct ktls_conn *server = ktls_conn_new(bench.b_server_cfg, KTLS_ROLE_SERVER);
	size_t inlen = bench.b_client_hello.off;
	uint64_t start, end;
	int ret;

	if (!server)
		die("ktls_conn_new failed");
	ret = ktls_handshake(server, out, bench.b_client_hello.base, &inlen);
	if (ret != KTLS_ERROR_IN_PROGRESS || inlen != bench.b_client_hello.off)
		die("server refused the ClientHello: %s", ktls_get_error_detail(server));
	out->off = 0;

	inlen = CKE_RECORD_LEN;
	start = now_ns();
	ret = ktls_handshake(server, out, record, &inlen);
	end = now_ns();
	/* Every class must look the same from here: no alert, waiting for CCS. */
	if (ret != KTLS_ERROR_IN_PROGRESS || inlen != CKE_RECORD_LEN || out->off)
		die("server reacted to a ClientKeyExchange: %#x %s", ret,
		    ktls_get_error_detail(server));
	ktls_conn_free(server);
	return (double)(end - start);
}

static void run_trials(void)
{
	unsigned long total = bench.b_trials * CLASS_COUNT, done[CLASS_COUNT] = { 0 }, i;
	struct ktls_buf out;
	size_t c;

	for (c = 0; c < CLASS_COUNT; c++) {
		bench.b_ns[c] = calloc(bench.b_trials, sizeof(double));
		if (!bench.b_ns[c])
			die("out of memory");
	}
	ktls_buf_init(&out, NULL, 0);
	/* Warm-up: lazy initialisation and caches, a few of each class, not kept. */
	for (i = 0; i < 20 * CLASS_COUNT; i++)
		trial(bench.b_records[i % CLASS_COUNT][i % POOL_SIZE], &out);
	for (i = 0; i < total; i++) {
		c = bench.b_order[i];
		bench.b_ns[c][done[c]] = trial(bench.b_records[c][done[c] % POOL_SIZE], &out);
		done[c]++;
	}
	ktls_buf_dispose(&out);
}

/* ---- statistics ---- */

struct summary {
	unsigned long	s_n;
	double		s_mean;
	double		s_var;		/* unbiased */
};

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double sorted_quantile(const double *sorted, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1));

	return sorted[i];
}

/* Mean and variance of the values of @v at most @limit. */
static void summarize(const double *v, size_t n, double limit, struct summary *s)
{
	double delta, m2 = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	/* Welford: one pass, no cancellation. */
	for (i = 0; i < n; i++) {
		if (v[i] > limit)
			continue;
		s->s_n++;
		delta = v[i] - s->s_mean;
		s->s_mean += delta / (double)s->s_n;
		m2 += delta * (v[i] - s->s_mean);
	}
	s->s_var = s->s_n > 1 ? m2 / (double)(s->s_n - 1) : 0;
}

/* Newton's iteration: the Makefile's rule for benches links no libm. */
static double square_root(double x)
{
	double r = x > 1 ? x : 1, next;
	int i;

	if (x <= 0)
		return 0;
	for (i = 0; i < 200; i++) {
		next = (r + x / r) / 2;
		if (next >= r)
			break;
		r = next;
	}
	return r;
}

static double absolute(double x)
{
	return x < 0 ? -x : x;
}

/* The standard error of the difference of the two means. */
static double standard_error(const struct summary *a, const struct summary *b)
{
	return square_root(a->s_var / (double)a->s_n + b->s_var / (double)b->s_n);
}

static double welch_t(const struct summary *a, const struct summary *b)
{
	double se = standard_error(a, b);

	return se > 0 ? (a->s_mean - b->s_mean) / se : 0;
}

static void report(void)
{
	size_t n = bench.b_trials, c, total = n * CLASS_COUNT;
	struct summary all[CLASS_COUNT], trimmed[CLASS_COUNT];
	double *pooled, *sorted, limit, worst = 0, t_all, t_trim;

	pooled = malloc(total * sizeof(double));
	sorted = malloc(n * sizeof(double));
	if (!pooled || !sorted)
		die("out of memory");
	for (c = 0; c < CLASS_COUNT; c++)
		memcpy(pooled + c * n, bench.b_ns[c], n * sizeof(double));
	qsort(pooled, total, sizeof(double), compare_double);
	limit = sorted_quantile(pooled, total, TRIM_PERCENTILE);

	printf("%-14s %6s %8s %10s %9s %8s %7s %7s %10s\n", "class", "n", "p10 us", "median us",
	       "mean us", "sd us", "t all", "t <p90", "resolution");
	for (c = 0; c < CLASS_COUNT; c++) {
		memcpy(sorted, bench.b_ns[c], n * sizeof(double));
		qsort(sorted, n, sizeof(double), compare_double);
		summarize(bench.b_ns[c], n, DBL_MAX, &all[c]);
		summarize(bench.b_ns[c], n, limit, &trimmed[c]);
		printf("%-14s %6zu %8.1f %10.1f %9.1f %8.1f ", classes[c].cf_name, n,
		       sorted_quantile(sorted, n, 0.1) / 1e3, sorted_quantile(sorted, n, 0.5) / 1e3,
		       all[c].s_mean / 1e3, square_root(all[c].s_var) / 1e3);
		if (c == CLASS_GOOD) {
			printf("%7s %7s %10s\n", "-", "-", "-");
			continue;
		}
		t_all = welch_t(&all[c], &all[CLASS_GOOD]);
		t_trim = welch_t(&trimmed[c], &trimmed[CLASS_GOOD]);
		if (absolute(t_all) > worst)
			worst = absolute(t_all);
		if (absolute(t_trim) > worst)
			worst = absolute(t_trim);
		printf("%7.2f %7.2f %10.1f\n", t_all, t_trim,
		       T_BOUND * standard_error(&trimmed[c], &trimmed[CLASS_GOOD]) / 1e3);
	}
	printf("largest |t| against good: %.2f (%s %.1f); resolution: the difference of the\n"
	       "means below p90, in us, that would have reached |t| = %.1f in this run\n",
	       worst, worst > T_BOUND ? "above" : "within", T_BOUND, T_BOUND);
	free(sorted);
	free(pooled);
}

/* ---- main ---- */

static void pin_to_current_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "rsa_kx_timing: not pinned to a CPU: %s\n", strerror(errno));
}

static unsigned long parse_trials(const char *s)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || n < 2 || n > 10000000)
		die("trials per class must be a number from 2 to 10000000, not '%s'", s);
	return n;
}

int main(int argc, char **argv)
{
	const char *env = getenv("BENCH_RSA_TRIALS");
	uint64_t start;
	size_t c;
	int opt;

	bench.b_trials = env && *env ? parse_trials(env) : DEFAULT_TRIALS;
	while ((opt = getopt(argc, argv, "n:h")) != -1) {
		switch (opt) {
		case 'n':
			bench.b_trials = parse_trials(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n TRIALS_PER_CLASS]\n", argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: %s [-n TRIALS_PER_CLASS]\n", argv[0]);
		return 2;
	}

	pin_to_current_cpu();
	start = now_ns();
	make_identity();
	bench.b_server_cfg = config_or_die(1);
	capture_client_hello();
	make_records();
	make_order();
	printf("rsa_kx_timing: TLS 1.2 %s, RSA-%d, server ClientKeyExchange step, "
	       "%lu trials per class, interleaved\n", BENCH_SUITE, RSA_BITS, bench.b_trials);
	run_trials();
	report();
	printf("rsa_kx_timing: %.1f s in all\n", (double)(now_ns() - start) / 1e9);

	for (c = 0; c < CLASS_COUNT; c++)
		free(bench.b_ns[c]);
	free(bench.b_order);
	ktls_buf_dispose(&bench.b_client_hello);
	ktls_config_free(bench.b_server_cfg);
	EVP_PKEY_free(bench.b_rsa);
	return 0;
}
