// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon_bench: ktls_upgrade() through ktlsd against the same upgrades in
 * process, and the memory a handshake parked in the daemon costs.
 *
 * Needs kTLS and root, so it runs in the VM test bed (make bench-daemon,
 * selftests/vm/bench-daemon.sh). It makes its own PKI (an ECDSA P-256 CA
 * and a server certificate for localhost), writes a ktlsd configuration
 * with the same identity and trust, and starts build/bin/ktlsd -f on it.
 *
 * Rate. A measurement upgrades BENCH_CONNS loopback connections at both
 * ends, client and server, BENCH_INFLIGHT connections at a time, all with
 * the non-blocking ktls_upgrade_start()/_continue() from this one thread:
 *
 *	in process	opts.config set: the engine runs here, so this
 *			thread does every handshake of both ends
 *	daemon		opts.socket_path set: the sockets go to ktlsd,
 *			whose one thread does the handshakes; this one
 *			only hands them over (on connections to ktlsd
 *			that libktls keeps and reuses) and waits
 *
 * Both put the crypto on one thread. With two CPUs, though, the daemon
 * path can also run this process's share (SCM_RIGHTS, the answers, the
 * TCP connections themselves) on the other CPU at the same time, which the in-process
 * path cannot, and that would flatter it. So every round measures both
 * paths twice: pinned, this process and ktlsd on one CPU (the fair
 * comparison, which the target is judged on), and unpinned (what a
 * two-CPU machine gives). Rounds interleave the paths so that drift of
 * the emulator's speed hits both alike; the ratio is taken per round.
 * The first connection of each measurement carries a record each way
 * through the kernel, so the upgrades are known to be real. CPU is this
 * process's (getrusage) plus ktlsd's (/proc/PID/stat) over the span.
 * Beside them, what the daemon path costs with no handshake at all: a
 * request ktlsd refuses (an unknown identity) after reading and checking
 * it, so the gap between the paths can be told apart from the crypto.
 *
 * Memory. BENCH_PARKED client-role upgrades go to ktlsd against a
 * listener whose accepted sockets never speak: each ClientHello arrives
 * and its handshake waits for a ServerHello that never comes. ktlsd's
 * VmRSS before and after, divided, is the cost of one parked handshake in
 * the daemon; its counters must say that many are in flight. Kernel
 * memory (sockets, epoll entries) is not in VmRSS; the system's Slab
 * growth is printed beside it for scale.
 *
 * Environment: BENCH_CONNS (default 80), BENCH_ROUNDS (9), BENCH_INFLIGHT
 * (16), BENCH_WARMUP (16 connections per path), BENCH_PARKED (10000),
 * KTLSD_BIN (default: ../bin/ktlsd next to this program). The defaults
 * keep make bench-daemon, VM boot included, near two and a half minutes under
 * emulation on an idle 2-core host (three times that on a busy one); as in
 * bulk_bench, many short rounds beat a few long ones, because the
 * emulator's speed swings with the host's load: single rounds of the
 * pinned ratio spread over 15 to 20 points, so the median wants nine.
 *
 * Exits 0 whether or not the targets are met (it is a benchmark); non-zero
 * when something failed: an upgrade, a record, the daemon.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ktls.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define NSEC_PER_SEC		1000000000ULL
#define SERVER_NAME		"localhost"
#define IDENTITY_NAME		"bench"
#define UPGRADE_TIMEOUT_MS	60000
/* Parked upgrades must outlive the parking itself, which takes minutes under emulation. */
#define PARK_TIMEOUT_MS		1800000
#define PARK_PHASE_MS		600000
/* Parked upgrades started whose ClientHello has not been seen yet. */
#define PARK_WINDOW		16
#define DAEMON_START_MS		30000
#define DAEMON_DRAIN_MS		120000
#define MAX_INFLIGHT		256
#define MAX_ROUNDS		15
#define RATE_TARGET		0.80
#define MEMORY_TARGET_KIB	32.0

enum path {
	PATH_IN_PROCESS,
	PATH_DAEMON,
	PATH_COUNT,
};

static const char *const path_names[PATH_COUNT] = {
	[PATH_IN_PROCESS] = "in process",
	[PATH_DAEMON] = "daemon",
};

enum placement {
	PLACE_PINNED,
	PLACE_UNPINNED,
	PLACE_COUNT,
};

static const char *const placement_names[PLACE_COUNT] = {
	[PLACE_PINNED] = "pinned",
	[PLACE_UNPINNED] = "unpinned",
};

struct options {
	unsigned long op_conns;
	unsigned long op_rounds;
	unsigned long op_inflight;
	unsigned long op_warmup;
	unsigned long op_parked;
};

/* What the environment may set, and its bounds. */
static const struct option_spec {
	const char *os_env;
	size_t os_offset;
	unsigned long os_default, os_min, os_max;
} option_specs[] = {
	{ "BENCH_CONNS", offsetof(struct options, op_conns), 80, 1, 100000 },
	{ "BENCH_ROUNDS", offsetof(struct options, op_rounds), 9, 1, MAX_ROUNDS },
	{ "BENCH_INFLIGHT", offsetof(struct options, op_inflight), 16, 1, MAX_INFLIGHT },
	{ "BENCH_WARMUP", offsetof(struct options, op_warmup), 16, 0, 100000 },
	{ "BENCH_PARKED", offsetof(struct options, op_parked), 10000, 1, 100000 },
};

/* Everything a run owns, for the exit path to undo. */
struct bench {
	char b_dir[64];
	char b_ca[96];
	char b_cert[96];
	char b_key[96];
	char b_conf[96];
	char b_sock[96];
	char b_log[96];
	pid_t b_owner;			/* the process that cleans up (not a forked child) */
	pid_t b_daemon;			/* ktlsd, 0 when not running */
	int b_failed;
	struct ktls_config *b_client_cfg;
	struct ktls_config *b_server_cfg;
	cpu_set_t b_all_cpus;		/* the affinity we started with: unpinned */
	int b_pin_cpu;			/* the one CPU of the pinned measurements */
	int b_cpu_count;		/* in b_all_cpus */
};

static struct bench bench;

/* One measurement of one path. */
struct rate_sample {
	double rs_upgrades_per_s;	/* both ends count */
	double rs_cpu_ms;		/* per connection: this process and ktlsd */
	double rs_daemon_cpu_ms;	/* of which ktlsd */
	double rs_cpus;			/* CPU time over wall time */
	double rs_switches;		/* per connection: both processes' context switches */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "daemon_bench: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	bench.b_failed = 1;
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	return now_ns() / 1000000;
}

static void options_read(struct options *o)
{
	const struct option_spec *os;
	unsigned long value;
	const char *text;
	char *end;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(option_specs); i++) {
		os = &option_specs[i];
		value = os->os_default;
		text = getenv(os->os_env);
		if (text && *text) {
			errno = 0;
			value = strtoul(text, &end, 10);
			if (errno || *end || value < os->os_min || value > os->os_max)
				die("%s=%s: want a number from %lu to %lu", os->os_env, text,
				    os->os_min, os->os_max);
		}
		*(unsigned long *)((char *)o + os->os_offset) = value;
	}
}

/* ---- files: the PKI, the configuration, the daemon's log ---- */

struct cert_extension {
	int ce_nid;
	const char *ce_value;
};

static const struct cert_extension ca_extensions[] = {
	{ NID_basic_constraints, "critical,CA:TRUE" },
	{ NID_key_usage, "critical,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier, "hash" },
};

static const struct cert_extension leaf_extensions[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "serverAuth" },
	{ NID_subject_alt_name, "DNS:" SERVER_NAME ",IP:127.0.0.1" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};

/* Signs @key's certificate for @cn with @signer's key, or self-signs when @signer is NULL. */
static X509 *cert_issue(EVP_PKEY *key, const char *cn, X509 *signer, EVP_PKEY *signer_key,
			const struct cert_extension *exts, size_t count, long serial)
{
	X509 *cert = X509_new();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	X509_NAME *subject;
	size_t i;

	if (!cert)
		return NULL;
	subject = X509_get_subject_name(cert);
	if (!X509_set_version(cert, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 86400) ||
	    !X509_set_pubkey(cert, key) ||
	    !X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(cert, signer ? X509_get_subject_name(signer) : subject))
		goto out_free_cert;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, signer ? signer : cert, cert, NULL, NULL, 0);
	for (i = 0; i < count; i++) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].ce_nid, exts[i].ce_value);
		if (!ext)
			goto out_free_cert;
		if (!X509_add_ext(cert, ext, -1)) {
			X509_EXTENSION_free(ext);
			goto out_free_cert;
		}
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(cert, signer_key ? signer_key : key, EVP_sha256()))
		goto out_free_cert;
	return cert;

out_free_cert:
	X509_free(cert);
	return NULL;
}

/* Writes @cert, or @key when @cert is NULL, as PEM. */
static void pem_write(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *f = fopen(path, "we");
	int ok;

	if (!f)
		die("%s: %s", path, strerror(errno));
	ok = cert ? PEM_write_X509(f, cert) :
		    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) || !ok)
		die("writing %s failed", path);
}

static void pki_create(void)
{
	EVP_PKEY *ca_key, *leaf_key;
	X509 *ca, *leaf;

	ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!ca_key || !leaf_key)
		die("P-256 key generation failed");
	ca = cert_issue(ca_key, "daemon_bench CA", NULL, NULL, ca_extensions,
			ARRAY_SIZE(ca_extensions), 1);
	leaf = ca ? cert_issue(leaf_key, SERVER_NAME, ca, ca_key, leaf_extensions,
			       ARRAY_SIZE(leaf_extensions), 2) : NULL;
	if (!leaf)
		die("issuing the test certificates failed");
	pem_write(bench.b_ca, ca, NULL);
	pem_write(bench.b_cert, leaf, NULL);
	pem_write(bench.b_key, NULL, leaf_key);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(ca_key);
}

/*
 * The daemon gets what the in-process configurations get: the engine's
 * defaults, the client checking the server against the test CA, the server
 * asking for no client certificate. Logging stays at its default (info:
 * a line per handshake), which a real deployment pays too.
 */
static void conf_write(const struct options *o)
{
	FILE *f = fopen(bench.b_conf, "we");

	if (!f)
		die("%s: %s", bench.b_conf, strerror(errno));
	fprintf(f, "[daemon]\n"
		"socket = %s\n"
		"socket_mode = 0600\n"
		"handshake_timeout = %d\n"
		"max_timeout = %d\n"
		"max_handshakes = %lu\n"
		"max_handshakes_per_uid = %lu\n"
		"log_level = info\n\n"
		"[trust bench]\n"
		"ca_file = %s\n"
		"system = no\n\n"
		"[client]\n"
		"allow_users = *\n"
		"trust = bench\n"
		"verify = required\n\n"
		"[identity " IDENTITY_NAME "]\n"
		"cert = %s\n"
		"key = %s\n"
		"roles = server\n"
		"allow_users = *\n",
		bench.b_sock, UPGRADE_TIMEOUT_MS, PARK_TIMEOUT_MS,
		o->op_parked + 1024, o->op_parked + 1024, bench.b_ca,
		bench.b_cert, bench.b_key);
	if (fclose(f))
		die("%s: %s", bench.b_conf, strerror(errno));
}

static void engine_configs_create(void)
{
	struct ktls_config *client = ktls_config_new(), *server = ktls_config_new();
	int ret;

	if (!client || !server)
		die("ktls_config_new failed");
	ret = ktls_config_set_ca_file(client, bench.b_ca);
	if (!ret)
		ret = ktls_config_set_verify(client, KTLS_VERIFY_REQUIRED);
	if (ret)
		die("client config: %s", ktls_config_error(client));
	ret = ktls_config_add_identity(server, bench.b_cert, bench.b_key);
	if (ret)
		die("server config: %s", ktls_config_error(server));
	bench.b_client_cfg = client;
	bench.b_server_cfg = server;
}

static void files_create(const struct options *o)
{
	snprintf(bench.b_dir, sizeof(bench.b_dir), "/tmp/daemon_bench.XXXXXX");
	if (!mkdtemp(bench.b_dir))
		die("mkdtemp: %s", strerror(errno));
	snprintf(bench.b_ca, sizeof(bench.b_ca), "%s/ca.pem", bench.b_dir);
	snprintf(bench.b_cert, sizeof(bench.b_cert), "%s/server.pem", bench.b_dir);
	snprintf(bench.b_key, sizeof(bench.b_key), "%s/server.key", bench.b_dir);
	snprintf(bench.b_conf, sizeof(bench.b_conf), "%s/ktlsd.conf", bench.b_dir);
	snprintf(bench.b_sock, sizeof(bench.b_sock), "%s/ktlsd.sock", bench.b_dir);
	snprintf(bench.b_log, sizeof(bench.b_log), "%s/ktlsd.log", bench.b_dir);
	pki_create();
	conf_write(o);
	engine_configs_create();
}

/* The end of ktlsd's log, when something went wrong. */
static void daemon_log_dump(void)
{
	char buf[2048];
	ssize_t n;
	off_t size;
	int fd;

	fd = open(bench.b_log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof(buf) ? size - (off_t)sizeof(buf) : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n > 0)
		fprintf(stderr, "daemon_bench: the end of ktlsd's log:\n%.*s", (int)n, buf);
}

/* ---- the daemon ---- */

static void daemon_stop(void)
{
	uint64_t deadline = now_ms() + 10000;
	int status;

	if (!bench.b_daemon)
		return;
	kill(bench.b_daemon, SIGTERM);
	while (waitpid(bench.b_daemon, &status, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			kill(bench.b_daemon, SIGKILL);
			waitpid(bench.b_daemon, &status, 0);
			break;
		}
		usleep(20000);
	}
	bench.b_daemon = 0;
}

static void cleanup(void)
{
	static const char *const names[] = {
		"ca.pem", "server.pem", "server.key", "ktlsd.conf", "ktlsd.sock", "ktlsd.log",
	};
	char path[128];
	size_t i;

	if (getpid() != bench.b_owner)
		return;
	if (bench.b_failed)
		daemon_log_dump();
	daemon_stop();
	ktls_config_free(bench.b_client_cfg);
	ktls_config_free(bench.b_server_cfg);
	if (!bench.b_dir[0])
		return;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", bench.b_dir, names[i]);
		unlink(path);
	}
	rmdir(bench.b_dir);
}

static void daemon_binary(char *path, size_t size)
{
	const char *env = getenv("KTLSD_BIN");
	char self[PATH_MAX];
	char *slash;
	ssize_t n;

	if (env && *env) {
		snprintf(path, size, "%s", env);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			die("readlink /proc/self/exe: %s", strerror(errno));
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		if ((size_t)snprintf(path, size, "%s/../bin/ktlsd", self) >= size)
			die("%s: path too long", self);
	}
	if (access(path, X_OK))
		die("%s: %s (make builds it; KTLSD_BIN names another)", path, strerror(errno));
}

static void daemon_start(void)
{
	uint64_t deadline = now_ms() + DAEMON_START_MS;
	struct ktlsd_counters counters;
	char path[PATH_MAX];
	int log, status;
	pid_t pid;

	daemon_binary(path, sizeof(path));
	log = open(bench.b_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log < 0)
		die("%s: %s", bench.b_log, strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0 ||
		    dup2(log, STDERR_FILENO) < 0)
			_exit(126);
		execl(path, "ktlsd", "-f", "-c", bench.b_conf, (char *)NULL);
		_exit(127);
	}
	close(log);
	bench.b_daemon = pid;
	/* Up once it answers on its socket. */
	while (ktlsd_get_counters(bench.b_sock, &counters)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			bench.b_daemon = 0;
			die("ktlsd exited at start (status 0x%x)", status);
		}
		if (now_ms() >= deadline)
			die("ktlsd did not answer on %s within %d ms", bench.b_sock,
			    DAEMON_START_MS);
		usleep(20000);
	}
}

static void daemon_counters(struct ktlsd_counters *c)
{
	int ret = ktlsd_get_counters(bench.b_sock, c);

	if (ret)
		die("ktlsd_get_counters: %s", strerror(-ret));
}

/* The "Key:  123 kB" line of a /proc status-like file, in KiB; -1 if absent. */
static long proc_kib(const char *file, const char *key)
{
	size_t len = strlen(key);
	char line[256];
	long value = -1;
	FILE *f;

	f = fopen(file, "re");
	if (!f)
		die("%s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			value = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	if (value < 0)
		die("%s: no %s", file, key);
	return value;
}

static long daemon_rss_kib(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)bench.b_daemon);
	return proc_kib(path, "VmRSS");
}

static long daemon_fd_count(void)
{
	struct dirent *de;
	char path[64];
	long count = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)bench.b_daemon);
	dir = opendir(path);
	if (!dir)
		die("%s: %s", path, strerror(errno));
	while ((de = readdir(dir)))
		count += de->d_name[0] != '.';
	closedir(dir);
	return count;
}

/* ktlsd's user and system time, from /proc/PID/stat (clock ticks). */
static uint64_t daemon_cpu_ns(void)
{
	unsigned long long user, sys;
	char buf[1024], path[64], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)bench.b_daemon);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		die("%s: unreadable", path);
	buf[n] = '\0';
	/* After the command name in parentheses: state is field 3, utime 14, stime 15. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &user, &sys) != 2)
		die("%s: unexpected format", path);
	return (user + sys) * NSEC_PER_SEC / (uint64_t)sysconf(_SC_CLK_TCK);
}

/*
 * Context switches of @pid (0: this process), voluntary and not, from
 * /proc/PID/status. Under emulation a switch between processes costs
 * about as much as a few hundred syscalls, so they explain much of what
 * the daemon path costs beyond its syscalls.
 */
static unsigned long long switches(pid_t pid)
{
	unsigned long long total = 0, n;
	char path[64], line[256];
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %llu", &n) == 1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %llu", &n) == 1)
			total += n;
	fclose(f);
	return total;
}

static uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * NSEC_PER_SEC +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000;
}

/* ---- CPU placement ---- */

static void affinity_init(void)
{
	int cpu;

	if (sched_getaffinity(0, sizeof(bench.b_all_cpus), &bench.b_all_cpus))
		die("sched_getaffinity: %s", strerror(errno));
	bench.b_cpu_count = CPU_COUNT(&bench.b_all_cpus);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &bench.b_all_cpus))
			break;
	bench.b_pin_cpu = cpu;
}

/* Pinned: this process and ktlsd share one CPU. Unpinned: both may use all. */
static void place(enum placement where)
{
	const cpu_set_t *set = &bench.b_all_cpus;
	cpu_set_t one;

	if (where == PLACE_PINNED) {
		CPU_ZERO(&one);
		CPU_SET(bench.b_pin_cpu, &one);
		set = &one;
	}
	if (sched_setaffinity(0, sizeof(*set), set) ||
	    sched_setaffinity(bench.b_daemon, sizeof(*set), set))
		die("sched_setaffinity: %s", strerror(errno));
}

/* ---- loopback connections ---- */

static int listener_open(int backlog, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd;

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)addr, &len))
		die("loopback listener: %s", strerror(errno));
	return fd;
}

/* A connection to @listener: our end in fds[0], the accepted end in fds[1]. */
static void connection_open(int listener, const struct sockaddr_in *addr, int fds[2])
{
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0)
		die("socket: %s", strerror(errno));
	if (connect(fds[0], (const struct sockaddr *)addr, sizeof(*addr)))
		die("connect to 127.0.0.1:%u: %s", ntohs(addr->sin_port), strerror(errno));
	fds[1] = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (fds[1] < 0)
		die("accept: %s", strerror(errno));
}

static struct ktls_upgrade_opts upgrade_opts(enum path path, enum ktls_role role, int timeout_ms)
{
	struct ktls_upgrade_opts opts = {
		.role = role,
		.peer_name = role == KTLS_ROLE_CLIENT ? SERVER_NAME : NULL,
		.timeout_ms = timeout_ms,
	};

	if (path == PATH_IN_PROCESS) {
		opts.config = role == KTLS_ROLE_CLIENT ? bench.b_client_cfg : bench.b_server_cfg;
	} else {
		opts.socket_path = bench.b_sock;
		opts.identity = role == KTLS_ROLE_SERVER ? IDENTITY_NAME : NULL;
	}
	return opts;
}

/* Starts an upgrade and takes its first step; returns 0, -EINPROGRESS or the failure. */
static int upgrade_begin(int fd, const struct ktls_upgrade_opts *opts, struct ktls_upgrade **up)
{
	int ret = ktls_upgrade_start(fd, opts, up);

	return ret ? ret : ktls_upgrade_continue(*up);
}

/* ---- rate ---- */

/* One connection, upgraded at both ends: [0] is the client, [1] the server. */
struct pair_slot {
	int ps_busy;
	int ps_fd[2];
	struct ktls_upgrade *ps_up[2];
	int ps_ret[2];			/* -EINPROGRESS while running */
};

static const enum ktls_role pair_roles[2] = { KTLS_ROLE_CLIENT, KTLS_ROLE_SERVER };

static void pair_begin(struct pair_slot *ps, enum path path, int listener,
		       const struct sockaddr_in *addr)
{
	struct ktls_upgrade_opts opts;
	int end;

	connection_open(listener, addr, ps->ps_fd);
	ps->ps_busy = 1;
	for (end = 0; end < 2; end++) {
		opts = upgrade_opts(path, pair_roles[end], UPGRADE_TIMEOUT_MS);
		ps->ps_ret[end] = upgrade_begin(ps->ps_fd[end], &opts, &ps->ps_up[end]);
	}
}

static int pair_running(const struct pair_slot *ps)
{
	return ps->ps_ret[0] == -EINPROGRESS || ps->ps_ret[1] == -EINPROGRESS;
}

static void pair_check(const struct pair_slot *ps, enum path path)
{
	const struct ktls_upgrade_info *info;
	int end;

	for (end = 0; end < 2; end++) {
		if (!ps->ps_ret[end])
			continue;
		info = ps->ps_up[end] ? ktls_upgrade_get_info(ps->ps_up[end]) : NULL;
		die("%s: upgrade of the %s end failed: %s%s%s", path_names[path],
		    pair_roles[end] == KTLS_ROLE_CLIENT ? "client" : "server",
		    strerror(-ps->ps_ret[end]), info && info->detail[0] ? ": " : "",
		    info ? info->detail : "");
	}
}

/* A record each way through the kernel, which holds both ends' keys now. */
static void pair_exchange(const struct pair_slot *ps)
{
	static const char *const words[2] = { "from the client", "from the server" };
	char buf[64];
	ssize_t n;
	int from;

	for (from = 0; from < 2; from++) {
		if (write(ps->ps_fd[from], words[from], strlen(words[from])) !=
		    (ssize_t)strlen(words[from]))
			die("write on an upgraded socket: %s", strerror(errno));
		n = ktls_read(NULL, ps->ps_fd[!from], buf, sizeof(buf));
		if (n != (ssize_t)strlen(words[from]) || memcmp(buf, words[from], (size_t)n))
			die("the record %s did not arrive intact (%zd: %s)", words[from], n,
			    n < 0 ? strerror((int)-n) : "wrong bytes");
	}
}

static void pair_end(struct pair_slot *ps)
{
	int end;

	for (end = 0; end < 2; end++) {
		ktls_upgrade_free(ps->ps_up[end]);
		close(ps->ps_fd[end]);
	}
	memset(ps, 0, sizeof(*ps));
}

/* Runs @count connections through @path, @inflight at a time. */
static void rate_measure(enum path path, unsigned long count, unsigned long inflight,
			 struct rate_sample *out)
{
	struct pair_slot slots[MAX_INFLIGHT] = { 0 };
	struct pollfd pfd[2 * MAX_INFLIGHT];
	struct ktls_upgrade *owner[2 * MAX_INFLIGHT];
	int *owner_ret[2 * MAX_INFLIGHT];
	unsigned long started = 0, done = 0, i;
	uint64_t t0, t1, cpu0, cpu1, dcpu0, dcpu1;
	unsigned long long sw0, sw1;
	struct sockaddr_in addr;
	int listener, timeout, left, end;
	nfds_t n, k;

	listener = listener_open((int)inflight * 2, &addr);
	sw0 = switches(0) + switches(bench.b_daemon);
	cpu0 = self_cpu_ns();
	dcpu0 = daemon_cpu_ns();
	t0 = now_ns();
	while (done < count) {
		for (i = 0; i < inflight && started < count; i++) {
			if (slots[i].ps_busy)
				continue;
			pair_begin(&slots[i], path, listener, &addr);
			started++;
		}
		n = 0;
		timeout = -1;
		for (i = 0; i < inflight; i++) {
			for (end = 0; slots[i].ps_busy && end < 2; end++) {
				if (slots[i].ps_ret[end] != -EINPROGRESS)
					continue;
				owner[n] = slots[i].ps_up[end];
				owner_ret[n] = &slots[i].ps_ret[end];
				pfd[n].fd = ktls_upgrade_poll_fd(owner[n], &pfd[n].events);
				left = ktls_upgrade_timeout(owner[n]);
				if (timeout < 0 || left < timeout)
					timeout = left;
				n++;
			}
		}
		if (n && poll(pfd, n, timeout) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		/* Timed-out ones get no event: their own clock ends them. */
		for (k = 0; k < n; k++)
			if (pfd[k].revents || !ktls_upgrade_timeout(owner[k]))
				*owner_ret[k] = ktls_upgrade_continue(owner[k]);
		for (i = 0; i < inflight; i++) {
			if (!slots[i].ps_busy || pair_running(&slots[i]))
				continue;
			pair_check(&slots[i], path);
			if (!done)
				pair_exchange(&slots[i]);
			pair_end(&slots[i]);
			done++;
		}
	}
	t1 = now_ns();
	cpu1 = self_cpu_ns();
	dcpu1 = daemon_cpu_ns();
	sw1 = switches(0) + switches(bench.b_daemon);
	close(listener);
	out->rs_switches = (double)(sw1 - sw0) / (double)count;
	out->rs_upgrades_per_s = 2.0 * (double)count * NSEC_PER_SEC / (double)(t1 - t0);
	out->rs_daemon_cpu_ms = (double)(dcpu1 - dcpu0) / 1e6 / (double)count;
	out->rs_cpu_ms = (double)(cpu1 - cpu0) / 1e6 / (double)count + out->rs_daemon_cpu_ms;
	out->rs_cpus = (double)(cpu1 - cpu0 + dcpu1 - dcpu0) / (double)(t1 - t0);
}

static int double_compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *values, size_t count)
{
	double sorted[MAX_ROUNDS];

	memcpy(sorted, values, count * sizeof(*values));
	qsort(sorted, count, sizeof(*sorted), double_compare);
	return count % 2 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
}

static double minimum(const double *values, size_t count)
{
	double low = values[0];
	size_t i;

	for (i = 1; i < count; i++)
		if (values[i] < low)
			low = values[i];
	return low;
}

/* Per placement: each round's samples of both paths, and their ratio. */
struct rate_results {
	struct rate_sample rr_samples[MAX_ROUNDS][PATH_COUNT];
	double rr_ratio[MAX_ROUNDS];	/* daemon / in process, same round */
};

static void rate_print_row(unsigned long round, enum placement where,
			   const struct rate_results *r)
{
	const struct rate_sample *a = &r->rr_samples[round][PATH_IN_PROCESS];
	const struct rate_sample *b = &r->rr_samples[round][PATH_DAEMON];

	printf("%5lu  %-9s %9.1f %9.1f %6.1f%% %9.1f %9.1f %9.1f %6.2f %6.2f %5.1f %5.1f\n",
	       round + 1,
	       placement_names[where], a->rs_upgrades_per_s, b->rs_upgrades_per_s,
	       100 * r->rr_ratio[round], a->rs_cpu_ms, b->rs_cpu_ms - b->rs_daemon_cpu_ms,
	       b->rs_daemon_cpu_ms, a->rs_cpus, b->rs_cpus, a->rs_switches, b->rs_switches);
}

/*
 * Each round measures both placements, and in each both paths: A then B
 * in odd rounds, B then A in even ones, so that a trend in the emulator's
 * speed does not favour the path that always comes second.
 */
static void rate_run(const struct options *o, struct rate_results results[PLACE_COUNT])
{
	struct rate_sample warm, *s;
	unsigned long round;
	int where, i, path;

	printf("\nrate: %lu connections per measurement, each upgraded at both ends (%lu upgrades),\n"
	       "      %lu connections in flight, %lu rounds (A,B then B,A), after %lu warm-up\n"
	       "      connections per path (BENCH_CONNS, BENCH_INFLIGHT, BENCH_ROUNDS, BENCH_WARMUP)\n",
	       o->op_conns, 2 * o->op_conns, o->op_inflight, o->op_rounds, o->op_warmup);
	printf("      A: in process, the handshakes on this process's one thread\n"
	       "      B: through ktlsd, the handshakes on ktlsd's one thread; this process hands\n"
	       "         the sockets over and waits. Unpinned, this process's share can run\n"
	       "         on the other CPU while ktlsd computes, which A cannot do: B may look\n"
	       "         better than one CPU allows. Pinned, both processes share CPU %d.\n",
	       bench.b_pin_cpu);
	place(PLACE_UNPINNED);
	for (path = 0; o->op_warmup && path < PATH_COUNT; path++)
		rate_measure((enum path)path, o->op_warmup, o->op_inflight, &warm);

	printf("\n%5s  %-9s %9s %9s %7s %9s %9s %9s %6s %6s %5s %5s\n", "", "", "upgr/s",
	       "upgr/s", "B/A", "A cpu", "B cpu", "B cpu", "A", "B", "A", "B");
	printf("%5s  %-9s %9s %9s %7s %9s %9s %9s %6s %6s %5s %5s\n", "round", "placement", "A",
	       "B", "", "ms/conn", "bench", "ktlsd", "CPUs", "CPUs", "cs", "cs");
	for (round = 0; round < o->op_rounds; round++) {
		for (where = 0; where < PLACE_COUNT; where++) {
			place((enum placement)where);
			s = results[where].rr_samples[round];
			for (i = 0; i < PATH_COUNT; i++) {
				path = round % 2 ? PATH_COUNT - 1 - i : i;
				rate_measure((enum path)path, o->op_conns, o->op_inflight, &s[path]);
			}
			results[where].rr_ratio[round] = s[PATH_DAEMON].rs_upgrades_per_s /
							 s[PATH_IN_PROCESS].rs_upgrades_per_s;
			rate_print_row(round, (enum placement)where, &results[where]);
		}
	}
	place(PLACE_UNPINNED);
	printf("(upgr/s counts both ends of each connection; CPU is user + system per connection,\n"
	       " in clock ticks; CPUs: CPU time over wall time, above 1.00 when processes overlapped;\n"
	       " cs: context switches per connection, both processes)\n");
}

/*
 * What the daemon path costs before any handshake: a request naming an
 * identity ktlsd does not have is read, checked, refused with -ENOKEY and
 * answered, and its socket is left untouched, so one connection serves
 * every request. Pinned, like the like-for-like rate figure.
 */
static void roundtrip_run(unsigned long count)
{
	struct ktls_upgrade_opts opts = upgrade_opts(PATH_DAEMON, KTLS_ROLE_SERVER,
						     UPGRADE_TIMEOUT_MS);
	uint64_t t0, cpu0, dcpu0, wall;
	struct sockaddr_in addr;
	struct ktls_upgrade_info info;
	unsigned long i;
	int listener, fds[2], ret;

	opts.identity = "no-such-identity";
	listener = listener_open(1, &addr);
	connection_open(listener, &addr, fds);
	place(PLACE_PINNED);
	t0 = now_ns();
	cpu0 = self_cpu_ns();
	dcpu0 = daemon_cpu_ns();
	for (i = 0; i < count; i++) {
		ret = ktls_upgrade(fds[1], &opts, &info);
		if (ret != -ENOKEY)
			die("a request for an unknown identity got %s, not ENOKEY: %s",
			    strerror(-ret), info.detail);
	}
	wall = now_ns() - t0;
	printf("\nround trip without a handshake, pinned: %lu requests naming an identity ktlsd\n"
	       "lacks, each read, checked, refused (ENOKEY), logged and answered: %.1f/s,\n"
	       "CPU %.2f ms here + %.2f ms in ktlsd per request\n", count,
	       (double)count * NSEC_PER_SEC / (double)wall,
	       (double)(self_cpu_ns() - cpu0) / 1e6 / (double)count,
	       (double)(daemon_cpu_ns() - dcpu0) / 1e6 / (double)count);
	place(PLACE_UNPINNED);
	close(fds[0]);
	close(fds[1]);
	close(listener);
}

static double rate_median(const struct options *o, const struct rate_results *r,
			  enum path path, size_t offset)
{
	double values[MAX_ROUNDS];
	size_t round;

	for (round = 0; round < o->op_rounds; round++)
		values[round] = *(const double *)((const char *)&r->rr_samples[round][path] +
						  offset);
	return median(values, o->op_rounds);
}

#define RATE_MEDIAN(o, r, path, field) \
	rate_median(o, r, path, offsetof(struct rate_sample, field))

static void rate_report(const struct options *o, const struct rate_results *r,
			enum placement where)
{
	size_t n = o->op_rounds;

	printf("%-9s medians: A %.1f upgrades/s at %.1f ms CPU/conn; B %.1f upgrades/s at\n"
		 "          %.1f ms CPU/conn (ktlsd %.1f); B/A median %.1f%%, min %.1f%%\n",
	       placement_names[where], RATE_MEDIAN(o, r, PATH_IN_PROCESS, rs_upgrades_per_s),
	       RATE_MEDIAN(o, r, PATH_IN_PROCESS, rs_cpu_ms),
	       RATE_MEDIAN(o, r, PATH_DAEMON, rs_upgrades_per_s),
	       RATE_MEDIAN(o, r, PATH_DAEMON, rs_cpu_ms),
	       RATE_MEDIAN(o, r, PATH_DAEMON, rs_daemon_cpu_ms),
	       100 * median(r->rr_ratio, n), 100 * minimum(r->rr_ratio, n));
}

/* ---- memory ---- */

/* A client upgrade in the daemon whose server never answers. */
struct parked {
	int pk_fds[2];			/* ours (handed to ktlsd), and the silent accepted end */
	struct ktls_upgrade *pk_up;
};

struct memory_result {
	long mr_rss_before, mr_rss_after, mr_rss_released;	/* KiB */
	long mr_fds_before, mr_fds_after;
	long mr_slab_before, mr_slab_after;			/* KiB, system-wide */
	uint64_t mr_in_flight;
	double mr_park_s;
	double mr_self_cpu_ms, mr_daemon_cpu_ms;	/* per parked handshake */
};

static void park_one(struct parked *pk, int listener, const struct sockaddr_in *addr)
{
	struct ktls_upgrade_opts opts = upgrade_opts(PATH_DAEMON, KTLS_ROLE_CLIENT,
						     PARK_TIMEOUT_MS);
	int ret;

	connection_open(listener, addr, pk->pk_fds);
	ret = upgrade_begin(pk->pk_fds[0], &opts, &pk->pk_up);
	if (ret != -EINPROGRESS)
		die("parking an upgrade: %s%s%s", strerror(-ret), pk->pk_up ? ": " : "",
		    pk->pk_up ? ktls_upgrade_get_info(pk->pk_up)->detail : "");
}

/*
 * Parks @count upgrades, PARK_WINDOW at a time: one counts as parked once
 * its ClientHello reached the silent end, so the daemon is past its first
 * step and waiting, and never more than the window is on its way in.
 */
static void park_all(struct parked *parked, unsigned long count)
{
	struct pollfd pfd[2 * PARK_WINDOW];
	unsigned long pending[PARK_WINDOW];
	unsigned long started = 0, confirmed = 0;
	uint64_t deadline = now_ms() + PARK_PHASE_MS;
	struct sockaddr_in addr;
	size_t npending = 0, k;
	struct parked *pk;
	int listener, ret;

	listener = listener_open(SOMAXCONN, &addr);
	while (confirmed < count) {
		while (started < count && npending < PARK_WINDOW) {
			park_one(&parked[started], listener, &addr);
			pending[npending++] = started++;
		}
		for (k = 0; k < npending; k++) {
			pk = &parked[pending[k]];
			pfd[2 * k].fd = pk->pk_fds[1];
			pfd[2 * k].events = POLLIN;
			pfd[2 * k + 1].fd = ktls_upgrade_poll_fd(pk->pk_up, &pfd[2 * k + 1].events);
		}
		if (poll(pfd, 2 * npending, 1000) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (now_ms() >= deadline)
			die("parking: only %lu of %lu ClientHellos arrived in %d s", confirmed,
			    count, PARK_PHASE_MS / 1000);
		/* Downwards, so the entry moved into a freed place was seen already. */
		for (k = npending; k-- > 0;) {
			pk = &parked[pending[k]];
			if (pfd[2 * k + 1].revents) {
				ret = ktls_upgrade_continue(pk->pk_up);
				if (ret != -EINPROGRESS)
					die("a parked upgrade ended: %s: %s", strerror(-ret),
					    ktls_upgrade_get_info(pk->pk_up)->detail);
			}
			if (pfd[2 * k].revents & POLLIN) {
				confirmed++;
				pending[k] = pending[--npending];
			}
		}
	}
	close(listener);
}

static void unpark_all(struct parked *parked, unsigned long count)
{
	unsigned long i;

	for (i = 0; i < count; i++) {
		ktls_upgrade_free(parked[i].pk_up);
		close(parked[i].pk_fds[0]);
		close(parked[i].pk_fds[1]);
	}
}

/*
 * Waits for ktlsd to drop the abandoned handshakes. It may be too busy
 * with them to answer a counters request in time; that is no failure.
 */
static void daemon_drain(void)
{
	uint64_t deadline = now_ms() + DAEMON_DRAIN_MS;
	struct ktlsd_counters c = { 0 };
	int ret;

	for (;;) {
		ret = ktlsd_get_counters(bench.b_sock, &c);
		if (ret && ret != -ETIMEDOUT)
			die("ktlsd_get_counters: %s", strerror(-ret));
		if (!ret && !c.in_flight)
			return;
		if (now_ms() >= deadline)
			die("ktlsd still has %llu in flight %d s after their requesters left",
			    (unsigned long long)c.in_flight, DAEMON_DRAIN_MS / 1000);
		usleep(100000);
	}
}

/* Every parked connection costs this process 3 descriptors and ktlsd 2. */
static void nofile_raise(unsigned long parked)
{
	rlim_t want = (rlim_t)parked * 3 + 4096;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("raising RLIMIT_NOFILE to %llu: %s (run as root, or lower BENCH_PARKED)",
		    (unsigned long long)want, strerror(errno));
}

static void memory_run(const struct options *o, struct memory_result *m)
{
	struct parked *parked = calloc(o->op_parked, sizeof(*parked));
	double count = (double)o->op_parked;
	uint64_t t0, cpu0, dcpu0;
	struct ktlsd_counters c;

	if (!parked)
		die("out of memory");
	printf("\nmemory: %lu client upgrades parked in ktlsd, each waiting for a ServerHello\n"
	       "        from a peer that never speaks (BENCH_PARKED)\n", o->op_parked);
	daemon_counters(&c);
	if (c.in_flight)
		die("ktlsd has %llu in flight before parking", (unsigned long long)c.in_flight);
	m->mr_rss_before = daemon_rss_kib();
	m->mr_fds_before = daemon_fd_count();
	m->mr_slab_before = proc_kib("/proc/meminfo", "Slab");
	t0 = now_ns();
	cpu0 = self_cpu_ns();
	dcpu0 = daemon_cpu_ns();
	park_all(parked, o->op_parked);
	m->mr_park_s = (double)(now_ns() - t0) / NSEC_PER_SEC;
	m->mr_self_cpu_ms = (double)(self_cpu_ns() - cpu0) / 1e6 / count;
	m->mr_daemon_cpu_ms = (double)(daemon_cpu_ns() - dcpu0) / 1e6 / count;
	daemon_counters(&c);
	m->mr_in_flight = c.in_flight;
	m->mr_rss_after = daemon_rss_kib();
	m->mr_fds_after = daemon_fd_count();
	m->mr_slab_after = proc_kib("/proc/meminfo", "Slab");

	printf("  parked in %.1f s (CPU per handshake: %.2f ms here, %.2f ms in ktlsd)\n",
	       m->mr_park_s, m->mr_self_cpu_ms, m->mr_daemon_cpu_ms);
	printf("  ktlsd_get_counters: in_flight %llu\n", (unsigned long long)m->mr_in_flight);
	printf("  ktlsd VmRSS: %ld KiB before, %ld KiB parked: %.2f KiB per parked handshake\n",
	       m->mr_rss_before, m->mr_rss_after,
	       (double)(m->mr_rss_after - m->mr_rss_before) / count);
	printf("  ktlsd descriptors: %ld before, %ld parked (%.2f per handshake: the socket\n"
	       "  and the requester's connection)\n", m->mr_fds_before, m->mr_fds_after,
	       (double)(m->mr_fds_after - m->mr_fds_before) / count);
	printf("  kernel Slab, whole system, not in VmRSS: +%.2f KiB per parked connection\n"
	       "  (both TCP ends, both ends of the unix connection, epoll entries)\n",
	       (double)(m->mr_slab_after - m->mr_slab_before) / count);
	if (m->mr_in_flight != o->op_parked)
		die("ktlsd counts %llu in flight with %lu parked",
		    (unsigned long long)m->mr_in_flight, o->op_parked);

	t0 = now_ns();
	unpark_all(parked, o->op_parked);
	free(parked);
	daemon_drain();
	m->mr_rss_released = daemon_rss_kib();
	printf("  torn down: the requesters closed, ktlsd dropped all %lu in %.1f s;\n"
	       "  its VmRSS after that: %ld KiB\n", o->op_parked,
	       (double)(now_ns() - t0) / NSEC_PER_SEC, m->mr_rss_released);
}

/* ---- summary ---- */

static void summary_row(const char *what, const char *figure, const char *target, int met,
			const char *note)
{
	printf("| %-48s | %-10s | %-8s | %-4s |%s%s\n", what, figure, target,
	       met ? "PASS" : "MISS", note ? " " : "", note ? note : "");
}

static void summary(const struct options *o, const struct rate_results rates[PLACE_COUNT],
		    const struct memory_result *m)
{
	double per = (double)(m->mr_rss_after - m->mr_rss_before) / (double)o->op_parked;
	char figure[32];
	double ratio;
	int where;

	printf("\nsummary\n");
	for (where = 0; where < PLACE_COUNT; where++)
		rate_report(o, &rates[where], (enum placement)where);
	printf("\n| %-48s | %-10s | %-8s | %-4s |\n", "measure", "figure", "target", "");
	printf("|%s|------------|----------|------|\n",
	       "--------------------------------------------------");
	for (where = 0; where < PLACE_COUNT; where++) {
		char what[64];

		ratio = median(rates[where].rr_ratio, o->op_rounds);
		snprintf(what, sizeof(what), "daemon rate / in-process rate, %s (median)",
			 placement_names[where]);
		snprintf(figure, sizeof(figure), "%.1f%%", 100 * ratio);
		summary_row(what, figure, ">= 80%", ratio >= RATE_TARGET,
			    where == PLACE_PINNED ? "<- the like-for-like figure" :
			    "(ktlsd and this process may overlap)");
	}
	snprintf(figure, sizeof(figure), "%.2f KiB", per);
	summary_row("ktlsd VmRSS per parked handshake", figure, "< 32 KiB",
		    per < MEMORY_TARGET_KIB, NULL);
}

/* "QEMU TCG CPU ..." says the figures come from an emulator. */
static void cpu_model(char *out, size_t size)
{
	char line[256], *colon;
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(out, size, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) || !(colon = strchr(line, ':')))
			continue;
		snprintf(out, size, "%s", colon + 2);
		out[strcspn(out, "\n")] = '\0';
		break;
	}
	if (f)
		fclose(f);
}

static void header(void)
{
	char model[128];
	struct utsname u;

	uname(&u);
	cpu_model(model, sizeof(model));
	printf("daemon_bench: kernel %s, %ld CPUs online (%s),\n"
	       "              %d in this process's affinity, %ld MiB memory,\n"
	       "              ktlsd pid %d, %s\n", u.release, sysconf(_SC_NPROCESSORS_ONLN),
	       model, bench.b_cpu_count, proc_kib("/proc/meminfo", "MemTotal") / 1024,
	       (int)bench.b_daemon, OpenSSL_version(OPENSSL_VERSION));
	printf("settings:     TLS 1.3 with the engine's defaults on both paths, ECDSA P-256\n"
	       "              server certificate, the client verifying chain and name, ktlsd\n"
	       "              logging a line per handshake (log_level info) to a tmpfs file\n");
}

int main(void)
{
	struct rate_results *rates = calloc(PLACE_COUNT, sizeof(*rates));
	struct memory_result memory = { 0 };
	uint64_t started = now_ns();
	struct options o;

	if (!rates)
		die("out of memory");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	options_read(&o);
	bench.b_owner = getpid();
	atexit(cleanup);
	affinity_init();
	/* Before ktlsd starts, so that it inherits the limit too. */
	nofile_raise(o.op_parked);
	files_create(&o);
	daemon_start();
	header();

	rate_run(&o, rates);
	roundtrip_run(2 * o.op_conns);
	memory_run(&o, &memory);
	summary(&o, rates, &memory);

	printf("\ndaemon_bench: done in %.0f s\n", (double)(now_ns() - started) / NSEC_PER_SEC);
	free(rates);
	return 0;
}
