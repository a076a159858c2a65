// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulk_bench: TLS 1.3 bulk throughput over loopback TCP, with the records
 * sealed and opened by the kernel (kTLS) or in userspace.
 *
 * Each measurement forks. The parent is the TLS client and sends; the
 * child is the TLS server and receives. They handshake over a fresh
 * loopback connection, the receiver says through a pipe that it is ready,
 * and only then does the sender start the clock, so neither the handshake
 * nor ktls_install() is timed. The modes:
 *
 *	ktls		libktls handshake, ktls_install() on both ends, write()
 *			by the sender, ktls_read() (recvmsg(), which also takes
 *			the records a plain read() cannot) by the receiver
 *	ktls-sendfile	the same, but the sender calls sendfile() from a file
 *			in the temporary directory (tmpfs in the VM)
 *	engine		libktls handshake and libktls records in userspace,
 *			ktls_send()/ktls_receive(): what --no-ktls does
 *	libssl		OpenSSL's SSL_write()/SSL_read() with kTLS left off
 *			(checked with BIO_get_ktls_send/recv)
 *
 * Every send call carries 16 KiB of payload, one full record. The
 * receiver compares every byte it gets with the payload. Throughput is the
 * payload over the time from the sender's first call to the receiver
 * holding the last byte. CPU is what both processes spent over that span,
 * user and system, each taking its own getrusage() deltas. Loopback TCP
 * delivery runs in softirq on the sending CPU and, on kernels without
 * IRQ_TIME_ACCOUNTING (Debian's), is charged to the task it interrupted,
 * so it is in these figures; kTLS with a synchronous AEAD (AES-NI, SIMD
 * ChaCha20) seals in sendmsg() and opens in recvmsg(), in the processes
 * too. The AEAD implementation the kernel picked is printed at the end.
 * /proc/net/tls_stat is read around each measurement:
 * the kTLS modes must add two software TX and two software RX sockets
 * (both ends install both directions), the userspace modes none.
 *
 * Under emulation (the VM test bed without KVM) absolute figures mean
 * little: the ratios and the CPU per byte are what to track.
 *
 * Usage: bulk_bench [-m MODE[,MODE...]] [-c SUITE[,SUITE...]]
 * BENCH_MB: MiB per measurement (default 4). BENCH_ROUNDS: measurements
 * of each suite and mode, interleaved, the median shown (default 5).
 * The defaults keep make bench-ktls, VM boot included, near two minutes
 * under emulation; many short rounds beat few long ones there, because
 * the emulator's speed swings with the host's load.
 * Exits non-zero when anything fails: a handshake, kTLS not taking a
 * direction, a byte that differs, tls_stat not counting as it should.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ktls.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define NSEC_PER_SEC		1000000000ULL
#define MIB			(1024ULL * 1024)
#define GIB			(1024.0 * 1024 * 1024)
#define SERVER_NAME		"localhost"
#define BENCH_GROUP		"x25519"
#define RECORD_PAYLOAD		16384	/* per send call: one full TLS record */
#define SOCKET_READ		65536	/* per recv() of the userspace stacks */
#define DEFAULT_MB		4
#define DEFAULT_ROUNDS		5
#define MAX_ROUNDS		15

enum stack {
	STACK_LIBKTLS,
	STACK_LIBSSL,
};

/* One end of a measured connection. */
struct endpoint {
	int ep_fd;
	enum ktls_role ep_role;
	struct ktls_conn *ep_conn;	/* libktls modes */
	SSL *ep_ssl;			/* libssl mode */
	struct ktls_buf ep_net_in;	/* received, not yet taken by the engine */
	struct ktls_buf ep_net_out;	/* records waiting for the socket */
	struct ktls_buf ep_plain;	/* decrypted, not yet checked */
	uint8_t ep_read_buf[RECORD_PAYLOAD];
};

/* The bytes moved, the same in every mode. */
struct payload {
	const uint8_t *pl_data;		/* the file, mapped */
	size_t pl_len;
	int pl_fd;			/* for sendfile() */
	char pl_path[256];
};

struct bench_mode {
	const char *bm_name;
	const char *bm_summary;
	enum stack bm_stack;
	int bm_kernel_tls;		/* ktls_install() after the handshake */
	void (*bm_send)(struct endpoint *ep, const struct payload *pl);
	/* Returns the next plaintext, never 0 bytes: the stream must not end early. */
	size_t (*bm_receive)(struct endpoint *ep, const uint8_t **data);
};

/* What the receiver tells the sender when it holds the last byte. */
struct receiver_report {
	uint64_t rr_end_ns;		/* CLOCK_MONOTONIC, shared by both processes */
	uint64_t rr_user_ns;
	uint64_t rr_sys_ns;
};

/* The /proc/net/tls_stat counters a measurement checks. */
enum tls_counter {
	TLS_TX_SW,
	TLS_RX_SW,
	TLS_DECRYPT_ERROR,
	TLS_COUNTER_COUNT,
};

static const char *const tls_counter_names[TLS_COUNTER_COUNT] = {
	[TLS_TX_SW] = "TlsTxSw",
	[TLS_RX_SW] = "TlsRxSw",
	[TLS_DECRYPT_ERROR] = "TlsDecryptError",
};

struct tls_stat {
	long long ts_value[TLS_COUNTER_COUNT];
};

/* One measurement. CPU figures are seconds per GiB moved. */
struct sample {
	double sa_mbps;
	double sa_cpu;			/* both processes, user + sys */
	double sa_send_user, sa_send_sys;
	double sa_recv_user, sa_recv_sys;
	long long sa_tls_tx, sa_tls_rx;	/* tls_stat deltas */
};

/*
 * The TLS 1.3 suites (libktls and OpenSSL spell them alike), and the
 * AEAD kTLS asks the kernel's crypto API for with each.
 */
static const char *const suites[] = {
	"TLS_AES_128_GCM_SHA256",
	"TLS_AES_256_GCM_SHA384",
	"TLS_CHACHA20_POLY1305_SHA256",
};

static const char *const suite_kernel_aeads[ARRAY_SIZE(suites)] = {
	"gcm(aes)",
	"gcm(aes)",
	"rfc7539(chacha20,poly1305)",
};

enum mode_id {
	MODE_KTLS,
	MODE_KTLS_SENDFILE,
	MODE_ENGINE,
	MODE_LIBSSL,
	MODE_COUNT,
};

struct options {
	unsigned long op_mb;
	unsigned int op_rounds;
	int op_mode_wanted[MODE_COUNT];
	int op_suite_wanted[ARRAY_SIZE(suites)];
};

static char temp_dir[] = "/tmp/ktls-bulk-XXXXXX";
static pid_t temp_dir_owner;		/* forked children must not remove it */
static pid_t running_child;
static const char *role_name = "bulk_bench";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	fflush(stdout);
	/* One write: both processes may be failing at once. */
	n = snprintf(msg, sizeof(msg), "%s: error: ", role_name);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(msg, "\n");
	if (write(STDERR_FILENO, msg, strlen(msg)) < 0)
		exit(1);
	ERR_print_errors_fp(stderr);
	/* The other end would otherwise wait on a socket nobody serves. */
	if (running_child > 0)
		kill(running_child, SIGKILL);
	exit(1);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts))
		die("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t timeval_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * NSEC_PER_SEC + (uint64_t)tv->tv_usec * 1000;
}

static void cpu_times(uint64_t *user_ns, uint64_t *sys_ns)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage: %s", strerror(errno));
	*user_ns = timeval_ns(&ru.ru_utime);
	*sys_ns = timeval_ns(&ru.ru_stime);
}

/* Returns 0, or -1 when the kernel has no tls module loaded (no file). */
static int tls_stat_read(struct tls_stat *st)
{
	char name[64];
	long long value;
	FILE *f;
	int i;

	memset(st, 0, sizeof(*st));
	f = fopen("/proc/net/tls_stat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &value) == 2)
		for (i = 0; i < TLS_COUNTER_COUNT; i++)
			if (!strcmp(name, tls_counter_names[i]))
				st->ts_value[i] = value;
	fclose(f);
	return 0;
}

/*
 * The implementation the kernel's crypto API picks for @aead: the
 * highest priority entry of that name in /proc/crypto. Under emulation it
 * tells whether kTLS ran on AES-NI or on the generic C code.
 */
static void kernel_aead_driver(const char *aead, char *driver, size_t size)
{
	char line[256], name[128] = "", this_driver[128] = "";
	long priority = -1, best = -1;
	FILE *f = fopen("/proc/crypto", "r");

	snprintf(driver, size, "unknown");
	if (!f)
		return;
	/* Blocks of "key : value" lines; the priority line follows name and driver. */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "name : %127s", name) == 1)
			continue;
		if (sscanf(line, "driver : %127s", this_driver) == 1)
			continue;
		if (sscanf(line, "priority : %ld", &priority) == 1 && !strcmp(name, aead) &&
		    priority > best) {
			best = priority;
			snprintf(driver, size, "%s (priority %ld)", this_driver, priority);
		}
	}
	fclose(f);
}

/* ---- files: certificates and payload, made fresh at every run ---- */

/* Everything the run may leave in temp_dir. */
static const char *const temp_files[] = {
	"bench.cnf", "openssl.log", "ca.key", "ca.pem", "leaf.key", "leaf.pem", "payload",
};

static void temp_path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", temp_dir, name);
}

static void remove_temp_dir(void)
{
	char path[sizeof(temp_dir) + 16];
	size_t i;

	if (getpid() != temp_dir_owner)
		return;
	for (i = 0; i < ARRAY_SIZE(temp_files); i++) {
		temp_path(path, sizeof(path), temp_files[i]);
		unlink(path);
	}
	if (rmdir(temp_dir))
		fprintf(stderr, "bulk_bench: could not remove %s: %s\n", temp_dir,
			strerror(errno));
}

static void make_temp_dir(void)
{
	/* Always /tmp, tmpfs in the VM: sendfile() must not wait for a disk. */
	if (!mkdtemp(temp_dir))
		die("mkdtemp %s: %s", temp_dir, strerror(errno));
	temp_dir_owner = getpid();
	atexit(remove_temp_dir);
}

static void write_text_file(const char *name, const char *text)
{
	char path[sizeof(temp_dir) + 16];
	FILE *f;

	temp_path(path, sizeof(path), name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) == EOF || fclose(f))
		die("%s: %s", path, strerror(errno));
}

/*
 * A P-256 CA and a P-256 leaf for "localhost" it signed, made with the
 * openssl command under a configuration of our own, so the host's
 * openssl.cnf cannot change the extensions. Two commands, not the usual
 * three (req -x509 signs with -CA itself): each costs about a second in
 * the emulated VM.
 */
static void make_certificates(void)
{
	char cmd[2048];

	write_text_file("bench.cnf",
			"[req]\n"
			"distinguished_name = dn\n"
			"prompt = no\n"
			"[dn]\n"
			"CN = placeholder\n"
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
			"authorityKeyIdentifier = keyid:always\n");
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && exec 2>openssl.log && "
		 "openssl req -config bench.cnf -x509 -newkey ec "
		 "-pkeyopt ec_paramgen_curve:P-256 -noenc -keyout ca.key "
		 "-subj /CN=bulk-bench-ca -days 2 -sha256 -extensions ca_ext -out ca.pem && "
		 "openssl req -config bench.cnf -x509 -newkey ec "
		 "-pkeyopt ec_paramgen_curve:P-256 -noenc -keyout leaf.key "
		 "-subj /CN=" SERVER_NAME " -CA ca.pem -CAkey ca.key -set_serial 2 "
		 "-days 2 -sha256 -extensions leaf_ext -out leaf.pem",
		 temp_dir);
	if (system(cmd)) {
		/* openssl's own complaint is in the log. */
		snprintf(cmd, sizeof(cmd), "cat '%s/openssl.log' >&2", temp_dir);
		if (system(cmd))
			fprintf(stderr, "bulk_bench: no openssl log\n");
		die("making the certificates with the openssl command failed");
	}
}

/*
 * Pseudo-random bytes (xorshift64*): the ciphers do not care what they
 * seal, and a CSPRNG would spend the emulated CPU on nothing we measure.
 */
static void fill_pseudo_random(uint8_t *buf, size_t len, uint64_t *state)
{
	uint64_t x = *state, word;
	size_t i;

	for (i = 0; i < len; i += sizeof(word)) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		word = x * 0x2545F4914F6CDD1DULL;
		memcpy(buf + i, &word, len - i < sizeof(word) ? len - i : sizeof(word));
	}
	*state = x;
}

/* The payload lives once, in the file: sendfile() reads it, the rest map it. */
static void make_payload(struct payload *pl, size_t len)
{
	uint64_t state = (uint64_t)clock_ns(CLOCK_REALTIME) | 1;
	static uint8_t chunk[1 << 20];
	size_t done, n;
	void *map;

	temp_path(pl->pl_path, sizeof(pl->pl_path), "payload");
	pl->pl_fd = open(pl->pl_path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (pl->pl_fd < 0)
		die("%s: %s", pl->pl_path, strerror(errno));
	for (done = 0; done < len; done += n) {
		n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		fill_pseudo_random(chunk, n, &state);
		errno = 0;
		if (write(pl->pl_fd, chunk, n) != (ssize_t)n)
			die("writing %s: %s", pl->pl_path, errno ? strerror(errno) : "short write");
	}
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, pl->pl_fd, 0);
	if (map == MAP_FAILED)
		die("mmap %s: %s", pl->pl_path, strerror(errno));
	pl->pl_data = map;
	pl->pl_len = len;
}

/* ---- sockets ---- */

static int listen_loopback(uint16_t *port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&addr, &len))
		die("loopback listener: %s", strerror(errno));
	*port = ntohs(addr.sin_port);
	return fd;
}

static int connect_loopback(uint16_t port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		die("connect to 127.0.0.1:%u: %s", port, strerror(errno));
	return fd;
}

static void send_all(int fd, const uint8_t *data, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send: %s", n ? strerror(errno) : "nothing sent");
		data += n;
		len -= (size_t)n;
	}
}

/* Appends what one recv() returns to @in; the peer must not close first. */
static void recv_some(int fd, struct ktls_buf *in)
{
	ssize_t n;
	int err;

	err = ktls_buf_reserve(in, SOCKET_READ);
	if (err)
		die("ktls_buf_reserve: %s", ktls_error_string(err));
	do {
		n = recv(fd, in->base + in->off, in->capacity - in->off, 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		die("recv: %s", n ? strerror(errno) : "the peer closed the connection");
	in->off += (size_t)n;
}

static void pipe_write(int fd, const void *data, size_t len)
{
	if (write(fd, data, len) != (ssize_t)len)
		die("pipe write: %s", strerror(errno));
}

/* Returns 0, or -1 when the other process went away without writing. */
static int pipe_read(int fd, void *data, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, data, len);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/* ---- libktls ---- */

static struct ktls_config *ktls_config_for(const char *suite, enum ktls_role role)
{
	struct ktls_config *cfg = ktls_config_new();
	char ca[sizeof(temp_dir) + 16], cert[sizeof(temp_dir) + 16], key[sizeof(temp_dir) + 16];

	temp_path(ca, sizeof(ca), "ca.pem");
	temp_path(cert, sizeof(cert), "leaf.pem");
	temp_path(key, sizeof(key), "leaf.key");
	if (!cfg)
		die("ktls_config_new failed");
	if (ktls_config_set_ciphers(cfg, suite) || ktls_config_set_groups(cfg, BENCH_GROUP) ||
	    ktls_config_set_versions(cfg, KTLS_VERSION_TLS13, KTLS_VERSION_TLS13) ||
	    (role == KTLS_ROLE_SERVER && ktls_config_add_identity(cfg, cert, key)) ||
	    (role == KTLS_ROLE_CLIENT && ktls_config_set_ca_file(cfg, ca)) ||
	    (role == KTLS_ROLE_CLIENT && ktls_config_set_verify(cfg, KTLS_VERIFY_REQUIRED)))
		die("libktls config for %s: %s", suite, ktls_config_error(cfg));
	return cfg;
}

static void ktls_handshake_fd(struct endpoint *ep, struct ktls_config *cfg, const char *suite)
{
	const char *cipher, *version;
	size_t inlen;
	int ret;

	ep->ep_conn = ktls_conn_new(cfg, ep->ep_role);
	if (!ep->ep_conn ||
	    (ep->ep_role == KTLS_ROLE_CLIENT &&
	     ktls_conn_set_server_name(ep->ep_conn, SERVER_NAME)))
		die("ktls_conn_new failed");
	/* The engine is always handed a real pointer, even with no input yet. */
	if (ktls_buf_reserve(&ep->ep_net_in, SOCKET_READ))
		die("out of memory");
	for (;;) {
		inlen = ep->ep_net_in.off;
		ret = ktls_handshake(ep->ep_conn, &ep->ep_net_out, ep->ep_net_in.base, &inlen);
		ktls_buf_shift(&ep->ep_net_in, inlen);
		/* Our flight, or the alert of a failure, goes out either way. */
		send_all(ep->ep_fd, ep->ep_net_out.base, ep->ep_net_out.off);
		ep->ep_net_out.off = 0;
		if (!ret)
			break;
		if (ret != KTLS_ERROR_IN_PROGRESS)
			die("libktls handshake: %s (%s)", ktls_error_string(ret),
			    ktls_get_error_detail(ep->ep_conn));
		/* One record per call is allowed: offer the rest before waiting. */
		if (inlen && ep->ep_net_in.off)
			continue;
		recv_some(ep->ep_fd, &ep->ep_net_in);
	}
	cipher = ktls_get_cipher_name(ep->ep_conn);
	version = ktls_get_version_name(ep->ep_conn);
	if (ktls_get_version(ep->ep_conn) != KTLS_VERSION_TLS13 || !cipher || strcmp(cipher, suite))
		die("libktls negotiated %s %s, not TLSv1.3 %s", version ? version : "(none)",
		    cipher ? cipher : "(none)", suite);
}

/*
 * Both directions go to the kernel; what arrived past the handshake is
 * decrypted by the installer into ep_plain, checked before anything read.
 */
static void ktls_install_fd(struct endpoint *ep)
{
	struct ktls_install_status st;
	int ret;

	ret = ktls_install(ep->ep_conn, ep->ep_fd, ep->ep_net_in.base, ep->ep_net_in.off,
			   &ep->ep_plain, NULL, &st);
	if (st.pending_consumed)
		ktls_buf_shift(&ep->ep_net_in, ep->ep_net_in.off);
	if (ret == -ENOENT)
		die("this kernel has no kTLS (%s): the kTLS modes run in the VM "
		    "(make bench-ktls); here use -m engine,libssl", st.detail);
	if (ret || st.installed != (KTLS_INSTALLED_TX | KTLS_INSTALLED_RX))
		die("ktls_install: %s (kTLS %s)", st.detail, ktls_install_name(st.installed));
}

/* kTLS TX: the kernel seals what write() takes. */
static void send_ktls_write(struct endpoint *ep, const struct payload *pl)
{
	size_t off = 0, n;
	ssize_t got;

	while (off < pl->pl_len) {
		n = pl->pl_len - off < RECORD_PAYLOAD ? pl->pl_len - off : RECORD_PAYLOAD;
		got = write(ep->ep_fd, pl->pl_data + off, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			die("write to the kTLS socket: %s", got ? strerror(errno) : "0 bytes");
		off += (size_t)got;
	}
}

/* kTLS TX fed from the page cache: the payload never enters this process. */
static void send_ktls_sendfile(struct endpoint *ep, const struct payload *pl)
{
	off_t off = 0;
	size_t n;
	ssize_t got;

	while ((size_t)off < pl->pl_len) {
		n = pl->pl_len - (size_t)off < RECORD_PAYLOAD ? pl->pl_len - (size_t)off :
								 RECORD_PAYLOAD;
		got = sendfile(ep->ep_fd, pl->pl_fd, &off, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			die("sendfile to the kTLS socket: %s", got ? strerror(errno) : "0 bytes");
	}
}

static size_t receive_ktls(struct endpoint *ep, const uint8_t **data)
{
	ssize_t n;

	do {
		n = ktls_read(ep->ep_conn, ep->ep_fd, ep->ep_read_buf, sizeof(ep->ep_read_buf));
	} while (n == -EINTR);
	if (n <= 0)
		die("ktls_read: %s%s%s", n ? strerror((int)-n) : "end of stream",
		    *ktls_get_error_detail(ep->ep_conn) ? ": " : "",
		    ktls_get_error_detail(ep->ep_conn));
	*data = ep->ep_read_buf;
	return (size_t)n;
}

/* Userspace records: one ktls_send() and one send() per record. */
static void send_engine(struct endpoint *ep, const struct payload *pl)
{
	size_t off, n;
	int err;

	for (off = 0; off < pl->pl_len; off += n) {
		n = pl->pl_len - off < RECORD_PAYLOAD ? pl->pl_len - off : RECORD_PAYLOAD;
		err = ktls_send(ep->ep_conn, &ep->ep_net_out, pl->pl_data + off, n);
		if (err)
			die("ktls_send: %s", ktls_error_string(err));
		send_all(ep->ep_fd, ep->ep_net_out.base, ep->ep_net_out.off);
		ep->ep_net_out.off = 0;
	}
}

/* Decrypts every whole record received, reading more until there is one. */
static size_t receive_engine(struct endpoint *ep, const uint8_t **data)
{
	size_t inlen;
	int err;

	ktls_buf_shift(&ep->ep_plain, ep->ep_plain.off);
	while (!ep->ep_plain.off) {
		if (!ep->ep_net_in.off)
			recv_some(ep->ep_fd, &ep->ep_net_in);
		inlen = ep->ep_net_in.off;
		err = ktls_receive(ep->ep_conn, &ep->ep_plain, &ep->ep_net_out,
				   ep->ep_net_in.base, &inlen);
		ktls_buf_shift(&ep->ep_net_in, inlen);
		if (err)
			die("ktls_receive: %s (%s)", ktls_error_string(err),
			    ktls_get_error_detail(ep->ep_conn));
		if (ep->ep_net_out.off)
			die("ktls_receive produced %zu bytes to send", ep->ep_net_out.off);
		/* Only part of a record so far: wait for the rest. */
		if (!inlen && !ep->ep_plain.off)
			recv_some(ep->ep_fd, &ep->ep_net_in);
	}
	*data = ep->ep_plain.base;
	return ep->ep_plain.off;
}

/* ---- libssl ---- */

static SSL_CTX *ssl_ctx_for(const char *suite, enum ktls_role role)
{
	int server = role == KTLS_ROLE_SERVER;
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	char ca[sizeof(temp_dir) + 16], cert[sizeof(temp_dir) + 16], key[sizeof(temp_dir) + 16];

	temp_path(ca, sizeof(ca), "ca.pem");
	temp_path(cert, sizeof(cert), "leaf.pem");
	temp_path(key, sizeof(key), "leaf.key");
	if (!ctx)
		die("SSL_CTX_new failed");
	/* Userspace records are the point: kTLS stays off (it is off by default too). */
	SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_KTLS);
	/* Like the engine's receiver: up to 64 KiB per recv(), not two reads per record. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, SOCKET_READ);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, suite) || !SSL_CTX_set1_groups_list(ctx, BENCH_GROUP))
		die("libssl settings for %s refused", suite);
	if (server) {
		/* libktls sends no tickets either. */
		if (!SSL_CTX_set_num_tickets(ctx, 0) ||
		    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
			die("libssl server identity refused");
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
			die("libssl CA file refused");
	}
	return ctx;
}

static void ssl_handshake_fd(struct endpoint *ep, SSL_CTX *ctx, const char *suite)
{
	const char *cipher;
	int ret;

	ep->ep_ssl = SSL_new(ctx);
	if (!ep->ep_ssl || !SSL_set_fd(ep->ep_ssl, ep->ep_fd))
		die("SSL_new failed");
	if (ep->ep_role == KTLS_ROLE_CLIENT) {
		if (!SSL_set_tlsext_host_name(ep->ep_ssl, SERVER_NAME) ||
		    !SSL_set1_host(ep->ep_ssl, SERVER_NAME))
			die("libssl server name refused");
		ret = SSL_connect(ep->ep_ssl);
	} else {
		ret = SSL_accept(ep->ep_ssl);
	}
	if (ret != 1)
		die("libssl handshake: SSL error %d", SSL_get_error(ep->ep_ssl, ret));
	cipher = SSL_get_cipher_name(ep->ep_ssl);
	if (SSL_version(ep->ep_ssl) != TLS1_3_VERSION || !cipher || strcmp(cipher, suite))
		die("libssl negotiated %s %s, not TLSv1.3 %s", SSL_get_version(ep->ep_ssl),
		    cipher ? cipher : "(none)", suite);
	if (BIO_get_ktls_send(SSL_get_wbio(ep->ep_ssl)) ||
	    BIO_get_ktls_recv(SSL_get_rbio(ep->ep_ssl)))
		die("libssl turned kTLS on: this mode must measure userspace records");
}

static void send_ssl(struct endpoint *ep, const struct payload *pl)
{
	size_t off, n;
	int ret;

	for (off = 0; off < pl->pl_len; off += n) {
		n = pl->pl_len - off < RECORD_PAYLOAD ? pl->pl_len - off : RECORD_PAYLOAD;
		ret = SSL_write(ep->ep_ssl, pl->pl_data + off, (int)n);
		if (ret != (int)n)
			die("SSL_write: SSL error %d", SSL_get_error(ep->ep_ssl, ret));
	}
}

static size_t receive_ssl(struct endpoint *ep, const uint8_t **data)
{
	int ret = SSL_read(ep->ep_ssl, ep->ep_read_buf, sizeof(ep->ep_read_buf));

	if (ret <= 0)
		die("SSL_read: SSL error %d", SSL_get_error(ep->ep_ssl, ret));
	*data = ep->ep_read_buf;
	return (size_t)ret;
}

/* ---- modes ---- */

static const struct bench_mode modes[MODE_COUNT] = {
	[MODE_KTLS] = { "ktls", "libktls handshake, kTLS TX+RX: write() / ktls_read()",
			STACK_LIBKTLS, 1, send_ktls_write, receive_ktls },
	[MODE_KTLS_SENDFILE] = { "ktls-sendfile", "as ktls, the sender calls sendfile() "
				 "from a file in /tmp", STACK_LIBKTLS, 1, send_ktls_sendfile,
				 receive_ktls },
	[MODE_ENGINE] = { "engine", "libktls records in userspace (--no-ktls): "
			  "ktls_send() / ktls_receive()", STACK_LIBKTLS, 0, send_engine,
			  receive_engine },
	[MODE_LIBSSL] = { "libssl", "OpenSSL SSL_write() / SSL_read(), kTLS off "
			  "(BIO_get_ktls_send/recv checked)", STACK_LIBSSL, 0, send_ssl,
			  receive_ssl },
};

/* The userspace stacks each kTLS mode is compared with, in the ratio table. */
static const enum mode_id userspace_modes[] = { MODE_ENGINE, MODE_LIBSSL };

/* Per suite, built once before any fork. */
struct suite_setup {
	struct ktls_config *ss_ktls[2];		/* by enum ktls_role */
	SSL_CTX *ss_ssl[2];
};

static void endpoint_init(struct endpoint *ep, int fd, enum ktls_role role)
{
	memset(ep, 0, sizeof(*ep));
	ep->ep_fd = fd;
	ep->ep_role = role;
	ktls_buf_init(&ep->ep_net_in, NULL, 0);
	ktls_buf_init(&ep->ep_net_out, NULL, 0);
	ktls_buf_init(&ep->ep_plain, NULL, 0);
}

static void endpoint_dispose(struct endpoint *ep)
{
	if (ep->ep_conn)
		ktls_conn_free(ep->ep_conn);
	SSL_free(ep->ep_ssl);
	ktls_buf_dispose(&ep->ep_net_in);
	ktls_buf_dispose(&ep->ep_net_out);
	ktls_buf_dispose(&ep->ep_plain);
	close(ep->ep_fd);
}

static void endpoint_handshake(struct endpoint *ep, const struct bench_mode *mode,
			       const struct suite_setup *ss, const char *suite)
{
	switch (mode->bm_stack) {
	case STACK_LIBKTLS:
		ktls_handshake_fd(ep, ss->ss_ktls[ep->ep_role], suite);
		if (mode->bm_kernel_tls)
			ktls_install_fd(ep);
		break;
	case STACK_LIBSSL:
		ssl_handshake_fd(ep, ss->ss_ssl[ep->ep_role], suite);
		break;
	default:
		die("internal error: stack %d", mode->bm_stack);
	}
}

/* The bytes at @off of the stream must be the payload's, and no more than it. */
static void check_bytes(const struct payload *pl, size_t off, const uint8_t *data, size_t len)
{
	size_t i;

	if (len > pl->pl_len - off)
		die("received %zu bytes past the end of the %zu byte payload",
		    len - (pl->pl_len - off), pl->pl_len);
	if (!memcmp(pl->pl_data + off, data, len))
		return;
	for (i = 0; pl->pl_data[off + i] == data[i]; i++)
		;
	die("byte %zu of the stream differs from the payload", off + i);
}

/* The child: TLS server, receiver. Exits, never returns. */
static void run_receiver(int listen_fd, int ready_fd, int report_fd,
			 const struct bench_mode *mode, const struct suite_setup *ss,
			 const char *suite, const struct payload *pl)
{
	uint64_t user0, sys0, user1, sys1;
	struct receiver_report report;
	struct endpoint ep;
	const uint8_t *data;
	size_t off = 0, n;
	int fd;

	role_name = "bulk_bench receiver";
	do {
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	close(listen_fd);
	endpoint_init(&ep, fd, KTLS_ROLE_SERVER);
	endpoint_handshake(&ep, mode, ss, suite);

	cpu_times(&user0, &sys0);
	pipe_write(ready_fd, "R", 1);
	/* Data the installer decrypted comes before anything read from the socket. */
	if (ep.ep_plain.off) {
		check_bytes(pl, off, ep.ep_plain.base, ep.ep_plain.off);
		off += ep.ep_plain.off;
	}
	while (off < pl->pl_len) {
		n = mode->bm_receive(&ep, &data);
		check_bytes(pl, off, data, n);
		off += n;
	}
	report.rr_end_ns = clock_ns(CLOCK_MONOTONIC);
	cpu_times(&user1, &sys1);
	report.rr_user_ns = user1 - user0;
	report.rr_sys_ns = sys1 - sys0;
	pipe_write(report_fd, &report, sizeof(report));
	endpoint_dispose(&ep);
	exit(0);
}

static double per_gib(uint64_t ns, size_t bytes)
{
	return (double)ns / (double)NSEC_PER_SEC * GIB / (double)bytes;
}

/* Checks the kTLS counters moved as the mode says they must. */
static void check_tls_stat(const struct bench_mode *mode, const char *suite,
			   const struct tls_stat *before, struct sample *s)
{
	long long want = mode->bm_kernel_tls ? 2 : 0, decrypt_errors;
	struct tls_stat after;

	/*
	 * The first kTLS socket loads the module: a missing file before
	 * counts as zeros (tls_stat_read() cleared them).
	 */
	if (tls_stat_read(&after)) {
		if (want)
			die("%s %s: no /proc/net/tls_stat after a kTLS transfer", mode->bm_name,
			    suite);
		return;
	}
	s->sa_tls_tx = after.ts_value[TLS_TX_SW] - before->ts_value[TLS_TX_SW];
	s->sa_tls_rx = after.ts_value[TLS_RX_SW] - before->ts_value[TLS_RX_SW];
	decrypt_errors = after.ts_value[TLS_DECRYPT_ERROR] - before->ts_value[TLS_DECRYPT_ERROR];
	if (s->sa_tls_tx != want || s->sa_tls_rx != want || decrypt_errors)
		die("%s %s: tls_stat moved TlsTxSw %+lld TlsRxSw %+lld TlsDecryptError %+lld, "
		    "expected %+lld %+lld 0", mode->bm_name, suite, s->sa_tls_tx, s->sa_tls_rx,
		    decrypt_errors, want, want);
}

/* The parent: TLS client, sender. One connection, one sample. */
static void measure(const struct bench_mode *mode, const struct suite_setup *ss,
		    const char *suite, const struct payload *pl, struct sample *s)
{
	int ready[2], report_pipe[2], listen_fd, status;
	uint64_t start_ns, user0, sys0, user1, sys1;
	struct receiver_report report;
	struct tls_stat stat_before;
	struct endpoint ep;
	uint16_t port;
	char go;
	pid_t pid;

	memset(s, 0, sizeof(*s));
	tls_stat_read(&stat_before);
	listen_fd = listen_loopback(&port);
	if (pipe2(ready, O_CLOEXEC) || pipe2(report_pipe, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		close(ready[0]);
		close(report_pipe[0]);
		running_child = 0;
		run_receiver(listen_fd, ready[1], report_pipe[1], mode, ss, suite, pl);
	}
	running_child = pid;
	close(listen_fd);
	close(ready[1]);
	close(report_pipe[1]);

	endpoint_init(&ep, connect_loopback(port), KTLS_ROLE_CLIENT);
	endpoint_handshake(&ep, mode, ss, suite);
	if (ep.ep_plain.off)
		die("the receiver sent application data");
	if (pipe_read(ready[0], &go, 1))
		die("%s %s: the receiver failed before the transfer", mode->bm_name, suite);

	cpu_times(&user0, &sys0);
	start_ns = clock_ns(CLOCK_MONOTONIC);
	mode->bm_send(&ep, pl);
	cpu_times(&user1, &sys1);
	if (pipe_read(report_pipe[0], &report, sizeof(report)))
		die("%s %s: the receiver failed during the transfer", mode->bm_name, suite);

	endpoint_dispose(&ep);
	close(ready[0]);
	close(report_pipe[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		die("%s %s: the receiver did not exit cleanly", mode->bm_name, suite);
	running_child = 0;

	if (report.rr_end_ns <= start_ns)
		die("the receiver's clock ended before the sender's started");
	s->sa_mbps = (double)pl->pl_len / ((double)(report.rr_end_ns - start_ns) / 1e3);
	s->sa_send_user = per_gib(user1 - user0, pl->pl_len);
	s->sa_send_sys = per_gib(sys1 - sys0, pl->pl_len);
	s->sa_recv_user = per_gib(report.rr_user_ns, pl->pl_len);
	s->sa_recv_sys = per_gib(report.rr_sys_ns, pl->pl_len);
	s->sa_cpu = s->sa_send_user + s->sa_send_sys + s->sa_recv_user + s->sa_recv_sys;
	check_tls_stat(mode, suite, &stat_before, s);
}

/* ---- reporting ---- */

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of one field over the rounds, each field on its own. */
static double median_of(const struct sample *samples, unsigned int rounds, size_t field)
{
	double v[MAX_ROUNDS];
	unsigned int i;

	for (i = 0; i < rounds; i++)
		memcpy(&v[i], (const char *)&samples[i] + field, sizeof(double));
	qsort(v, rounds, sizeof(v[0]), compare_double);
	return rounds % 2 ? v[rounds / 2] : (v[rounds / 2 - 1] + v[rounds / 2]) / 2;
}

#define MEDIAN(samples, rounds, field) \
	median_of(samples, rounds, offsetof(struct sample, field))

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static void print_header(const struct options *o)
{
	char line[256], model[128] = "unknown";
	struct utsname u;
	unsigned int i;
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
		snprintf(u.release, sizeof(u.release), "unknown");
	printf("bulk_bench: TLS 1.3 bulk transfer over loopback TCP, one sending and one "
	       "receiving process\n");
	printf("NOTE: in the emulated VM (qemu TCG) absolute figures mean little: track the ratios "
	       "and the CPU per GiB.\n"
	       "      Emulation prices instructions unlike hardware, and its speed follows the "
	       "host's load: compare runs made on a quiet host.\n");
	printf("machine:  %ld CPUs online, %s, Linux %s\n", sysconf(_SC_NPROCESSORS_ONLN), model,
	       u.release);
	printf("openssl:  %s (libssl and libktls share this libcrypto)\n",
	       OpenSSL_version(OPENSSL_VERSION));
	printf("transfer: %lu MiB per measurement (BENCH_MB), 16 KiB per send call (one full "
	       "record), client sends, server receives; " BENCH_GROUP ", P-256 certificate\n",
	       o->op_mb);
	printf("rounds:   %u per suite and mode, interleaved, median shown (BENCH_ROUNDS)\n",
	       o->op_rounds);
	printf("modes:\n");
	for (i = 0; i < MODE_COUNT; i++)
		if (o->op_mode_wanted[i])
			printf("  %-14s %s\n", modes[i].bm_name, modes[i].bm_summary);
	printf("columns:  MB/s = 10^6 bytes/s from the first send to the last byte received;\n"
	       "          cpu = user+sys seconds per GiB of both processes over that span "
	       "(snd/rcv: sender/receiver usr+sys);\n"
	       "          tls_stat = TlsTxSw/TlsRxSw added by the measurement (kTLS: both ends, "
	       "both directions)\n");
	printf("checks:   every byte compared with the payload; handshake and setup not timed\n");
	fflush(stdout);
}

typedef struct sample samples_by_mode[MODE_COUNT][MAX_ROUNDS];

static int kernel_mode_wanted(const struct options *o)
{
	return o->op_mode_wanted[MODE_KTLS] || o->op_mode_wanted[MODE_KTLS_SENDFILE];
}

static int userspace_mode_wanted(const struct options *o)
{
	return o->op_mode_wanted[MODE_ENGINE] || o->op_mode_wanted[MODE_LIBSSL];
}

static void print_table(const struct options *o, const samples_by_mode *all)
{
	unsigned int r = o->op_rounds;
	size_t si;
	int m;

	printf("\n%-29s %-13s %8s %8s %14s %14s %9s\n", "suite", "mode", "MB/s", "cpu",
	       "snd usr+sys", "rcv usr+sys", "tls_stat");
	for (si = 0; si < ARRAY_SIZE(suites); si++) {
		if (!o->op_suite_wanted[si])
			continue;
		for (m = 0; m < MODE_COUNT; m++) {
			const struct sample *s = all[si][m];
			char send[32], recv[32], stat[48];

			if (!o->op_mode_wanted[m])
				continue;
			snprintf(send, sizeof(send), "%.2f+%.2f", MEDIAN(s, r, sa_send_user),
				 MEDIAN(s, r, sa_send_sys));
			snprintf(recv, sizeof(recv), "%.2f+%.2f", MEDIAN(s, r, sa_recv_user),
				 MEDIAN(s, r, sa_recv_sys));
			/* Every round was checked against the same expectation. */
			snprintf(stat, sizeof(stat), "+%lld/+%lld", s[0].sa_tls_tx,
				 s[0].sa_tls_rx);
			printf("%-29s %-13s %8.1f %8.2f %14s %14s %9s\n", suites[si],
			       modes[m].bm_name, MEDIAN(s, r, sa_mbps), MEDIAN(s, r, sa_cpu), send,
			       recv, stat);
		}
	}
}

static void print_kernel_aeads(const struct options *o)
{
	char driver[192];
	size_t si;

	printf("\nkernel AEAD behind kTLS (highest priority in /proc/crypto):\n");
	for (si = 0; si < ARRAY_SIZE(suites); si++) {
		if (!o->op_suite_wanted[si])
			continue;
		kernel_aead_driver(suite_kernel_aeads[si], driver, sizeof(driver));
		printf("  %-29s %s: %s\n", suites[si], suite_kernel_aeads[si], driver);
	}
}

static void print_ratios(const struct options *o, const samples_by_mode *all)
{
	unsigned int r = o->op_rounds;
	size_t si, k;
	int m;

	printf("\nratios, kTLS mode / userspace mode (MB/s: above 1 is faster; "
	       "cpu per byte: below 1 is cheaper)\n");
	printf("%-29s %-13s %-8s %8s %8s\n", "suite", "kTLS mode", "versus", "MB/s", "cpu");
	for (si = 0; si < ARRAY_SIZE(suites); si++) {
		if (!o->op_suite_wanted[si])
			continue;
		for (m = 0; m < MODE_COUNT; m++) {
			const struct sample *s = all[si][m];

			if (!modes[m].bm_kernel_tls || !o->op_mode_wanted[m])
				continue;
			for (k = 0; k < ARRAY_SIZE(userspace_modes); k++) {
				enum mode_id u = userspace_modes[k];
				const struct sample *us = all[si][u];

				if (!o->op_mode_wanted[u])
					continue;
				printf("%-29s %-13s %-8s %7.2fx %7.2fx\n", suites[si],
				       modes[m].bm_name, modes[u].bm_name,
				       ratio(MEDIAN(s, r, sa_mbps), MEDIAN(us, r, sa_mbps)),
				       ratio(MEDIAN(s, r, sa_cpu), MEDIAN(us, r, sa_cpu)));
			}
		}
	}
}

static void print_results(const struct options *o, const samples_by_mode *all)
{
	print_table(o, all);
	if (kernel_mode_wanted(o))
		print_kernel_aeads(o);
	if (kernel_mode_wanted(o) && userspace_mode_wanted(o))
		print_ratios(o, all);
}

/* ---- command line ---- */

static void usage(void)
{
	fprintf(stderr, "usage: bulk_bench [-m MODE[,MODE...]] [-c SUITE[,SUITE...]]\n"
			"  MODE: ktls, ktls-sendfile, engine, libssl (default: all)\n"
			"  SUITE: a TLS 1.3 suite name or a unique part of it (default: all)\n"
			"  environment: BENCH_MB (MiB per measurement, default %d), "
			"BENCH_ROUNDS (default %d)\n", DEFAULT_MB, DEFAULT_ROUNDS);
	exit(2);
}

static unsigned long env_number(const char *name, unsigned long def, unsigned long max)
{
	const char *v = getenv(name);
	unsigned long n;
	char *end;

	if (!v || !*v)
		return def;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !n || n > max || *v == '-')
		die("%s=%s: expected a whole number from 1 to %lu", name, v, max);
	return n;
}

/* Marks each comma separated @list entry found (exactly, or as a unique part) in @names. */
static void select_names(const char *list, const char *const *names, size_t count,
			 int *wanted, const char *what)
{
	char *copy = strdup(list), *item, *save = NULL;
	size_t i, hit, hits;

	if (!copy)
		die("out of memory");
	memset(wanted, 0, count * sizeof(*wanted));
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		hits = 0;
		hit = 0;
		for (i = 0; i < count; i++) {
			if (!strcmp(names[i], item)) {
				hits = 1;
				hit = i;
				break;
			}
			if (strcasestr(names[i], item)) {
				hits++;
				hit = i;
			}
		}
		if (hits != 1)
			die("%s '%s' %s", what, item, hits ? "is ambiguous" : "is unknown");
		wanted[hit] = 1;
	}
	free(copy);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	const char *mode_names[MODE_COUNT];
	int opt, i;

	memset(o, 0, sizeof(*o));
	o->op_mb = env_number("BENCH_MB", DEFAULT_MB, 4096);
	o->op_rounds = (unsigned int)env_number("BENCH_ROUNDS", DEFAULT_ROUNDS, MAX_ROUNDS);
	for (i = 0; i < MODE_COUNT; i++) {
		mode_names[i] = modes[i].bm_name;
		o->op_mode_wanted[i] = 1;
	}
	for (i = 0; i < (int)ARRAY_SIZE(suites); i++)
		o->op_suite_wanted[i] = 1;
	while ((opt = getopt(argc, argv, "m:c:h")) != -1) {
		switch (opt) {
		case 'm':
			select_names(optarg, mode_names, MODE_COUNT, o->op_mode_wanted, "mode");
			break;
		case 'c':
			select_names(optarg, suites, ARRAY_SIZE(suites), o->op_suite_wanted,
				     "suite");
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

int main(int argc, char **argv)
{
	static samples_by_mode samples[ARRAY_SIZE(suites)];
	struct suite_setup setups[ARRAY_SIZE(suites)];
	uint64_t run_start = clock_ns(CLOCK_MONOTONIC);
	struct payload pl;
	struct options o;
	unsigned int round;
	size_t si;
	int m;

	parse_options(argc, argv, &o);
	/* A receiver that died must fail a send, not kill the sender silently. */
	signal(SIGPIPE, SIG_IGN);
	print_header(&o);
	make_temp_dir();
	make_certificates();
	make_payload(&pl, o.op_mb * MIB);
	for (si = 0; si < ARRAY_SIZE(suites); si++) {
		enum ktls_role role;

		memset(&setups[si], 0, sizeof(setups[si]));
		if (!o.op_suite_wanted[si])
			continue;
		for (role = KTLS_ROLE_CLIENT; role <= KTLS_ROLE_SERVER; role++) {
			setups[si].ss_ktls[role] = ktls_config_for(suites[si], role);
			setups[si].ss_ssl[role] = ssl_ctx_for(suites[si], role);
		}
	}

	/* Rounds interleave suites and modes, so a slow moment hits all of them. */
	for (round = 0; round < o.op_rounds; round++) {
		for (si = 0; si < ARRAY_SIZE(suites); si++) {
			if (!o.op_suite_wanted[si])
				continue;
			for (m = 0; m < MODE_COUNT; m++)
				if (o.op_mode_wanted[m])
					measure(&modes[m], &setups[si], suites[si], &pl,
						&samples[si][m][round]);
		}
		fprintf(stderr, "bulk_bench: round %u of %u done\n", round + 1, o.op_rounds);
	}
	print_results(&o, (const samples_by_mode *)samples);
	printf("\nrun time: %.1f s\n",
	       (double)(clock_ns(CLOCK_MONOTONIC) - run_start) / (double)NSEC_PER_SEC);

	for (si = 0; si < ARRAY_SIZE(suites); si++) {
		enum ktls_role role;

		for (role = KTLS_ROLE_CLIENT; role <= KTLS_ROLE_SERVER; role++) {
			if (setups[si].ss_ktls[role])
				ktls_config_free(setups[si].ss_ktls[role]);
			SSL_CTX_free(setups[si].ss_ssl[role]);
		}
	}
	munmap((void *)pl.pl_data, pl.pl_len);
	close(pl.pl_fd);
	return 0;
}
