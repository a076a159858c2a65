// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsd_upgrade_test.c - socket upgrades through ktlsd.ko and ktlsd.
 *
 * An application upgrades its connected TCP socket with two socket
 * options (TCP_ULP "ktlsd", then KTLSD_OPT_UPGRADE); the module queues
 * the request, ktlsd takes it over generic netlink (READY, ACCEPT), runs
 * the handshake and installs kTLS, and answers with DONE. This program
 * loads the module, starts ktlsd with netlink = yes, and checks the whole
 * path against OpenSSL's s_server and s_client with 16 MiB each way, the
 * errors a requester must see (no daemon, a daemon killed mid-handshake,
 * a stalled peer, a certificate refused either way, a uid policy denies,
 * a second request on one socket), and 1,000 upgrades in flight at once
 * with non-blocking sockets completing on their error queues.
 *
 * ktls_peer_test.c's ktlsd_daemon fixture does the same through the unix
 * socket; the helpers here follow its approach in fewer lines (openssl(1)
 * makes the certificates, one byte pattern serves both directions).
 *
 * Needs: root, openssl(1) in PATH, ktlsd in ../bin beside this program
 * (or $KTLS_BIN) and the module in ../module/<release>/ktlsd.ko (or
 * $KTLSD_MODULE). Skips when the module is neither built nor loaded.
 * KTLS_TEST_FIXTURE=ktlsd_upgrade runs this fixture alone (as in
 * ktls_peer_test.c).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <linux/ktlsd.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ktls.h"
#include "kselftest_harness.h"

#define BULK_SIZE		(16u << 20)	/* each way */
#define STEP_MS			20000
#define TRANSFER_MS		100000
#define MANY_PAIRS		500		/* both ends upgraded: 1,000 upgrades */
#define TEST_HOST		"localhost"
#define NOBODY			65534
/* A prime: no record or pipe size lines up with it. */
#define PATTERN_PERIOD		251

/* ------------------------------------------------------------ small things */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) ? -errno : 0;
}

/* 0 when @fd has @events, -ETIMEDOUT at @deadline. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int ret;

	do {
		left = deadline - now_ms();
		ret = poll(&pfd, 1, left > 0 ? (int)left : 0);
	} while (ret < 0 && errno == EINTR);
	return ret > 0 ? 0 : ret ? -errno : -ETIMEDOUT;
}

/* Byte @off of direction @seed: the two directions differ in every byte. */
static unsigned char pattern(uint64_t off, unsigned char seed)
{
	return (unsigned char)(off % PATTERN_PERIOD) ^ seed;
}

static void pattern_fill(unsigned char *buf, size_t len, uint64_t off, unsigned char seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i, seed);
}

/* Offset of the first wrong byte, -1 if none. */
static long pattern_check(const unsigned char *buf, size_t len, uint64_t off,
			  unsigned char seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern(off + i, seed))
			return (long)i;
	return -1;
}

struct tls_stat {
	long	tx_sw;
	long	rx_sw;
	long	decrypt_error;
};

static void read_tls_stat(struct tls_stat *st)
{
	char name[64];
	long value;
	FILE *f;

	memset(st, 0, sizeof(*st));
	f = fopen("/proc/net/tls_stat", "re");
	if (!f)
		return;		/* tls.ko not loaded yet: all zero */
	while (fscanf(f, "%63s %ld", name, &value) == 2) {
		if (!strcmp(name, "TlsTxSw"))
			st->tx_sw = value;
		else if (!strcmp(name, "TlsRxSw"))
			st->rx_sw = value;
		else if (!strcmp(name, "TlsDecryptError"))
			st->decrypt_error = value;
	}
	fclose(f);
}

/* @name beside this program's directory: "../bin/ktlsd" and the like. */
static int beside_self(const char *rel, char *path, size_t size)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	if ((size_t)snprintf(path, size, "%s/../%s", self, rel) >= size)
		return -ENAMETOOLONG;
	return access(path, R_OK) ? -errno : 0;
}

/* ------------------------------------------------------------ processes */

struct proc {
	pid_t	pid;
	int	in;		/* its stdin, -1 when closed */
	int	out;		/* its stdout, -1 when it goes to the log */
	char	log[128];	/* stderr, and stdout without a pipe */
};

static void proc_init(struct proc *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->in = p->out = -1;
}

/* Runs @argv with pipes on stdin (and stdout with @pipe_out), the rest to the log. */
static int proc_start(struct proc *p, const char *dir, const char *name, char *const argv[],
		      int pipe_out)
{
	int in[2], out[2] = { -1, -1 }, log;

	snprintf(p->log, sizeof(p->log), "%s/%s.log", dir, name);
	log = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log < 0)
		return -errno;
	if (pipe2(in, O_CLOEXEC) || (pipe_out && pipe2(out, O_CLOEXEC))) {
		close(log);
		return -errno;
	}
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (!p->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) < 0 || dup2(pipe_out ? out[1] : log, 1) < 0 ||
		    dup2(log, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(log);
	p->in = in[1];
	if (pipe_out) {
		close(out[1]);
		p->out = out[0];
	}
	if (set_nonblocking(p->in) || (pipe_out && set_nonblocking(p->out)))
		return -errno;
	return 0;
}

static void proc_close_stdin(struct proc *p)
{
	if (p->in >= 0)
		close(p->in);
	p->in = -1;
}

static int proc_running(struct proc *p)
{
	return p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == 0;
}

/* Its exit status within @timeout_ms, else it is killed: -ETIMEDOUT. */
static int proc_wait(struct proc *p, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int status;

	while (waitpid(p->pid, &status, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
			p->pid = -1;
			return -ETIMEDOUT;
		}
		usleep(20000);
	}
	p->pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void proc_stop(struct proc *p)
{
	proc_close_stdin(p);
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = -1;
	}
	if (p->out >= 0)
		close(p->out);
	p->out = -1;
}

static void proc_log_dump(struct __test_metadata *_metadata, const struct proc *p)
{
	char buf[8192], *line, *save = NULL;
	ssize_t n;
	int fd;

	if (!p->log[0] || (fd = open(p->log, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	TH_LOG("---- %s:", p->log);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		TH_LOG("  | %s", line);
}

static int log_has(const struct proc *p, const char *text)
{
	char buf[65536];
	ssize_t n;
	int fd;

	fd = open(p->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, text) != NULL;
}

/* A command that must succeed: openssl making the certificates. */
static int run(const char *dir, char *const argv[])
{
	struct proc p;
	int ret;

	proc_init(&p);
	ret = proc_start(&p, dir, "run", argv, 0);
	proc_close_stdin(&p);
	if (!ret)
		ret = proc_wait(&p, STEP_MS);
	return ret;
}

/* ------------------------------------------------------------ sockets */

static int loopback_listener(int *port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 1024) ||
	    getsockname(fd, (struct sockaddr *)&addr, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	*port = ntohs(addr.sin_port);
	return fd;
}

static int connect_port(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fd;
	err = -errno;
	close(fd);
	return err;
}

/* To a peer that is still starting: the first accepted attempt is the connection. */
static int connect_when_listening(int port, struct proc *peer)
{
	long long deadline = now_ms() + STEP_MS;
	int fd;

	for (;;) {
		fd = connect_port(port);
		if (fd != -ECONNREFUSED)
			return fd;
		if (!proc_running(peer))
			return -ESRCH;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(20000);
	}
}

static int accept_within(int listener, int timeout_ms)
{
	int ret = wait_fd(listener, POLLIN, now_ms() + timeout_ms);

	if (ret)
		return ret;
	ret = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	return ret < 0 ? -errno : ret;
}

/* Both ends of one loopback connection, on @listener's port. */
static int loopback_pair(int listener, int port, int *client, int *server)
{
	*client = connect_port(port);
	if (*client < 0)
		return *client;
	*server = accept_within(listener, STEP_MS);
	if (*server < 0) {
		close(*client);
		return *server;
	}
	return 0;
}

/* ------------------------------------------------------------ the upgrade */

static int upgrade_start(int fd, uint32_t role, const char *peer_name, const char *identity,
			 uint32_t timeout_ms)
{
	struct ktlsd_upgrade ku = { .ku_role = role, .ku_timeout_ms = timeout_ms };

	if (peer_name)
		snprintf(ku.ku_peer_name, sizeof(ku.ku_peer_name), "%s", peer_name);
	if (identity)
		snprintf(ku.ku_identity, sizeof(ku.ku_identity), "%s", identity);
	if (setsockopt(fd, SOL_TCP, TCP_ULP, KTLSD_ULP_NAME, sizeof(KTLSD_ULP_NAME)))
		return -errno;
	return setsockopt(fd, KTLSD_SOL, KTLSD_OPT_UPGRADE, &ku, sizeof(ku)) ? -errno : 0;
}

static int upgrade_client(int fd, const char *peer_name, uint32_t timeout_ms)
{
	return upgrade_start(fd, KTLSD_ROLE_CLIENT, peer_name, NULL, timeout_ms);
}

static int upgrade_server(int fd, const char *identity, uint32_t timeout_ms)
{
	return upgrade_start(fd, KTLSD_ROLE_SERVER, NULL, identity, timeout_ms);
}

/*
 * A non-blocking upgrade's outcome from the socket's error queue: 1 and
 * the status in *@status (0 or a positive errno), 0 if not there yet.
 */
static int upgrade_completion(int fd, int *status)
{
	char control[512];
	struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };
	struct sock_extended_err ee;
	struct cmsghdr *cmsg;

	if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return 0;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(cmsg), sizeof(ee));
		if (ee.ee_origin != SO_EE_ORIGIN_LOCAL || ee.ee_code != KTLSD_EE_CODE_UPGRADE)
			continue;
		*status = (int)ee.ee_errno;
		return 1;
	}
	return 0;
}

/* Waits for the completion on @fd's error queue: 1, or 0 at @deadline. */
static int wait_completion(int fd, int *status, long long deadline)
{
	struct pollfd pfd = { .fd = fd };

	while (!upgrade_completion(fd, status)) {
		if (now_ms() >= deadline)
			return 0;
		/* POLLERR is what completion raises; no events asked. */
		poll(&pfd, 1, 200);
	}
	return 1;
}

/* ------------------------------------------------------------ the fixture */

#define SKIP_UNLESS_FIXTURE(name)						\
	do {									\
		const char *only = getenv("KTLS_TEST_FIXTURE");			\
		if (only && *only && strcmp(only, name))			\
			SKIP(longjmp(_metadata->env, 1), "KTLS_TEST_FIXTURE=%s", only); \
	} while (0)

FIXTURE(ktlsd_upgrade) {
	char		dir[64];
	char		ca[96];
	char		cert[96];
	char		key[96];
	char		conf[96];
	char		sock_path[108];
	struct proc	daemon;		/* ktlsd -f, netlink = yes */
	struct proc	peer;		/* s_server or s_client */
	int		loaded;		/* we loaded the module: we unload it */
	int		sock;
	int		other;		/* the far end of a loopback pair */
	int		listener;
	int		port;
	struct tls_stat	stat_before;
};

static int load_module(FIXTURE_DATA(ktlsd_upgrade) *self, char *why, size_t whylen)
{
	char path[PATH_MAX], rel[128];
	const char *env = getenv("KTLSD_MODULE");
	struct utsname un;
	int fd, ret;

	if (!access("/sys/module/ktlsd", F_OK))
		return 0;
	uname(&un);
	snprintf(rel, sizeof(rel), "module/%s/ktlsd.ko", un.release);
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else if (beside_self(rel, path, sizeof(path)))
		snprintf(path, sizeof(path), "build/%s", rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%.300s: %s (make module)", path, strerror(errno));
		return -ENOENT;
	}
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	if (ret && ret != -EEXIST) {
		snprintf(why, whylen, "finit_module %.300s: %s", path, strerror(-ret));
		return ret;
	}
	self->loaded = !ret;
	return 0;
}

/* Sockets and requests can hold the module a moment after they close. */
static void unload_module(FIXTURE_DATA(ktlsd_upgrade) *self)
{
	long long deadline = now_ms() + 5000;

	if (!self->loaded)
		return;
	while (syscall(SYS_delete_module, "ktlsd", O_NONBLOCK) && errno == EWOULDBLOCK &&
	       now_ms() < deadline)
		usleep(50000);
}

static int make_pki(FIXTURE_DATA(ktlsd_upgrade) *self)
{
	char cakey[96], csr[96], ext[96];
	char *ca_argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
			    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", cakey,
			    "-out", self->ca, "-days", "2", "-subj", "/CN=ktlsd test CA",
			    "-addext", "basicConstraints=critical,CA:TRUE",
			    "-addext", "keyUsage=critical,keyCertSign", NULL };
	char *csr_argv[] = { "openssl", "req", "-newkey", "ec", "-pkeyopt",
			     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", self->key,
			     "-out", csr, "-subj", "/CN=" TEST_HOST, NULL };
	char *sign_argv[] = { "openssl", "x509", "-req", "-in", csr, "-CA", self->ca,
			      "-CAkey", cakey, "-set_serial", "2", "-days", "2", "-out",
			      self->cert, "-extfile", ext, NULL };
	FILE *f;
	int ret;

	snprintf(cakey, sizeof(cakey), "%s/ca.key", self->dir);
	snprintf(csr, sizeof(csr), "%s/server.csr", self->dir);
	snprintf(ext, sizeof(ext), "%s/server.ext", self->dir);
	f = fopen(ext, "w");
	if (!f)
		return -errno;
	fprintf(f, "subjectAltName=DNS:%s,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
		"keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n",
		TEST_HOST);
	fclose(f);
	ret = run(self->dir, ca_argv);
	if (!ret)
		ret = run(self->dir, csr_argv);
	if (!ret)
		ret = run(self->dir, sign_argv);
	return ret > 0 ? -EIO : ret;
}

static int write_conf(FIXTURE_DATA(ktlsd_upgrade) *self)
{
	FILE *f = fopen(self->conf, "w");

	if (!f)
		return -errno;
	/* max_timeout: a thousand handshakes share one emulated core */
	fprintf(f, "[daemon]\nsocket = %s\nnetlink = yes\nhandshake_timeout = 60000\n"
		"max_timeout = 600000\n"
		"max_handshakes_per_uid = 4096\nlog_level = info\n\n"
		"[trust test]\nca_file = %s\nsystem = no\n\n"
		"[client]\ntrust = test\n\n"
		"[identity web]\ncert = %s\nkey = %s\nroles = server, client\n"
		"allow_users = root\ntrust = test\n",
		self->sock_path, self->ca, self->cert, self->key);
	return fclose(f) ? -errno : 0;
}

/* ktlsd with the module's family bound: before that a request is ESRCH. */
static int start_daemon(FIXTURE_DATA(ktlsd_upgrade) *self)
{
	char path[PATH_MAX];
	char *argv[] = { path, "-f", "-c", self->conf, NULL };
	const char *env = getenv("KTLS_BIN");
	long long deadline = now_ms() + STEP_MS;
	int ret;

	if (env && *env)
		snprintf(path, sizeof(path), "%s/ktlsd", env);
	else if ((ret = beside_self("bin/ktlsd", path, sizeof(path))))
		return ret;
	ret = proc_start(&self->daemon, self->dir, "ktlsd", argv, 0);
	while (!ret && !log_has(&self->daemon, "netlink: serving")) {
		if (!proc_running(&self->daemon))
			return -ESRCH;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(20000);
	}
	return ret;
}

FIXTURE_SETUP(ktlsd_upgrade)
{
	struct rlimit nofile = { .rlim_cur = 16384, .rlim_max = 16384 };
	char why[512];
	int ret;

	SKIP_UNLESS_FIXTURE("ktlsd_upgrade");
	self->sock = self->other = self->listener = -1;
	proc_init(&self->daemon);
	proc_init(&self->peer);
	if (geteuid())
		SKIP(longjmp(_metadata->env, 1), "needs root (the module, CAP_NET_ADMIN for ktlsd)");
	ret = load_module(self, why, sizeof(why));
	if (ret == -ENOENT)
		SKIP(longjmp(_metadata->env, 1), "no ktlsd.ko: %s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	signal(SIGPIPE, SIG_IGN);
	/* A thousand sockets here and as many in the daemon, which inherits this. */
	setrlimit(RLIMIT_NOFILE, &nofile);

	snprintf(self->dir, sizeof(self->dir), "/tmp/ktlsd-upgrade.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->ca, sizeof(self->ca), "%s/ca.pem", self->dir);
	snprintf(self->cert, sizeof(self->cert), "%s/server.pem", self->dir);
	snprintf(self->key, sizeof(self->key), "%s/server.key", self->dir);
	snprintf(self->conf, sizeof(self->conf), "%s/ktlsd.conf", self->dir);
	snprintf(self->sock_path, sizeof(self->sock_path), "%s/ktlsd.sock", self->dir);
	ret = make_pki(self);
	ASSERT_EQ(0, ret) TH_LOG("openssl: %s", strerror(-ret));
	ASSERT_EQ(0, write_conf(self));
	ret = start_daemon(self);
	ASSERT_EQ(0, ret) TH_LOG("ktlsd: %s", strerror(-ret));
	self->listener = loopback_listener(&self->port);
	ASSERT_LE(0, self->listener);
	read_tls_stat(&self->stat_before);
}

FIXTURE_TEARDOWN(ktlsd_upgrade)
{
	char *rm_argv[] = { "rm", "-rf", self->dir, NULL };

	if (!_metadata->passed) {
		proc_log_dump(_metadata, &self->daemon);
		proc_log_dump(_metadata, &self->peer);
	}
	proc_stop(&self->peer);
	proc_stop(&self->daemon);
	if (self->sock >= 0)
		close(self->sock);
	if (self->other >= 0)
		close(self->other);
	if (self->listener >= 0)
		close(self->listener);
	if (self->dir[0] == '/')
		run("/tmp", rm_argv);
	unload_module(self);
}

/* ------------------------------------------------------------ peers and data */

/* s_server for one connection, TLS 1.3, data only on stdin and stdout. */
static int start_s_server(FIXTURE_DATA(ktlsd_upgrade) *self, int *port)
{
	char accept_arg[32];
	char *argv[] = { "openssl", "s_server", "-naccept", "1", "-accept", accept_arg,
			 "-cert", self->cert, "-key", self->key, "-tls1_3", "-quiet", NULL };
	int fd = loopback_listener(port);

	if (fd < 0)
		return fd;
	close(fd);
	snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", *port);
	return proc_start(&self->peer, self->dir, "s_server", argv, 1);
}

/* s_client to our listener, verifying against @ca_file ("" for none at all). */
static int start_s_client(FIXTURE_DATA(ktlsd_upgrade) *self, const char *ca_file)
{
	char connect_arg[32];
	char *argv[] = { "openssl", "s_client", "-quiet", "-no_ign_eof", "-nocommands",
			 "-connect", connect_arg, "-tls1_3", "-verify_return_error",
			 "-verify_hostname", TEST_HOST, "-CAfile", (char *)ca_file, NULL };

	snprintf(connect_arg, sizeof(connect_arg), "127.0.0.1:%d", self->port);
	return proc_start(&self->peer, self->dir, "s_client", argv, 1);
}

#define SEED_OUT	0x00	/* us to the peer */
#define SEED_IN		0x5a	/* the peer to us */

/*
 * BULK_SIZE each way between the kTLS socket and the peer process: ours
 * into the socket and out of the peer's stdout, the peer's stdin into
 * the connection and out of ktls_read(). Then the peer's stdin ends, it
 * sends close_notify, and our stream must end cleanly.
 */
static void bulk(struct __test_metadata *_metadata, FIXTURE_DATA(ktlsd_upgrade) *self)
{
	uint64_t out_sent = 0, out_back = 0, in_fed = 0, in_read = 0;
	long long deadline = now_ms() + TRANSFER_MS, started = now_ms();
	static unsigned char buf[65536], chunk[65536];
	struct tls_stat after;
	struct pollfd pfd[3];
	ssize_t n;
	long bad;

	ASSERT_EQ(0, set_nonblocking(self->sock));
	while (out_back < BULK_SIZE || in_read < BULK_SIZE) {
		pfd[0] = (struct pollfd){ .fd = self->sock,
			.events = (in_read < BULK_SIZE ? POLLIN : 0) |
				  (out_sent < BULK_SIZE ? POLLOUT : 0) };
		pfd[1] = (struct pollfd){ .fd = in_fed < BULK_SIZE ? self->peer.in : -1,
					  .events = POLLOUT };
		pfd[2] = (struct pollfd){ .fd = self->peer.out, .events = POLLIN };
		ASSERT_LT(0, poll(pfd, 3, (int)(deadline - now_ms())))
			TH_LOG("stuck: out %llu sent, %llu back; in %llu fed, %llu read",
			       (unsigned long long)out_sent, (unsigned long long)out_back,
			       (unsigned long long)in_fed, (unsigned long long)in_read);
		if (pfd[0].revents & (POLLOUT | POLLERR)) {
			n = BULK_SIZE - out_sent < sizeof(chunk) ? BULK_SIZE - out_sent :
								   sizeof(chunk);
			pattern_fill(chunk, (size_t)n, out_sent, SEED_OUT);
			n = write(self->sock, chunk, (size_t)n);
			ASSERT_TRUE(n > 0 || errno == EAGAIN) TH_LOG("write: %s", strerror(errno));
			out_sent += n > 0 ? (uint64_t)n : 0;
		}
		if (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			n = ktls_read(NULL, self->sock, buf, sizeof(buf));
			ASSERT_TRUE(n > 0 || n == -EAGAIN) TH_LOG("ktls_read: %s after %llu bytes",
				n ? strerror((int)-n) : "end of stream", (unsigned long long)in_read);
			if (n > 0) {
				ASSERT_GE(BULK_SIZE, in_read + (uint64_t)n);
				bad = pattern_check(buf, (size_t)n, in_read, SEED_IN);
				ASSERT_EQ(-1, bad) TH_LOG("byte %llu from the peer is wrong",
							  (unsigned long long)(in_read + bad));
				in_read += (uint64_t)n;
			}
		}
		if (pfd[1].revents) {
			n = BULK_SIZE - in_fed < sizeof(chunk) ? BULK_SIZE - in_fed : sizeof(chunk);
			pattern_fill(chunk, (size_t)n, in_fed, SEED_IN);
			n = write(self->peer.in, chunk, (size_t)n);
			ASSERT_TRUE(n > 0 || errno == EAGAIN) TH_LOG("peer stdin: %s",
								     strerror(errno));
			in_fed += n > 0 ? (uint64_t)n : 0;
		}
		if (pfd[2].revents) {
			n = read(self->peer.out, buf, sizeof(buf));
			ASSERT_TRUE(n > 0 || (n < 0 && errno == EAGAIN))
				TH_LOG("the peer's stdout ended after %llu bytes",
				       (unsigned long long)out_back);
			if (n > 0) {
				ASSERT_GE(BULK_SIZE, out_back + (uint64_t)n);
				bad = pattern_check(buf, (size_t)n, out_back, SEED_OUT);
				ASSERT_EQ(-1, bad) TH_LOG("byte %llu we sent arrived wrong",
							  (unsigned long long)(out_back + bad));
				out_back += (uint64_t)n;
			}
		}
	}
	fprintf(stderr, "# %u bytes each way in %lld ms\n", BULK_SIZE, now_ms() - started);
	/* The peer's close_notify ends our stream, with nothing after it. */
	proc_close_stdin(&self->peer);
	for (;;) {
		n = ktls_read(NULL, self->sock, buf, sizeof(buf));
		if (n != -EAGAIN)
			break;
		ASSERT_EQ(0, wait_fd(self->sock, POLLIN, now_ms() + STEP_MS));
	}
	EXPECT_EQ(0, n) TH_LOG("after the peer's close: %s", strerror((int)-n));
	read_tls_stat(&after);
	EXPECT_EQ(self->stat_before.tx_sw + 1, after.tx_sw);
	EXPECT_EQ(self->stat_before.rx_sw + 1, after.rx_sw);
	EXPECT_EQ(self->stat_before.decrypt_error, after.decrypt_error);
}

/* The socket's ULP is now the kernel's "tls", TLS 1.3 keys in both directions. */
static void check_ktls(struct __test_metadata *_metadata, int fd)
{
	static const int dirs[] = { TLS_TX, TLS_RX };
	struct tls_crypto_info info;
	char ulp[16] = "";
	socklen_t len = sizeof(ulp);
	size_t i;

	ASSERT_EQ(0, getsockopt(fd, SOL_TCP, TCP_ULP, ulp, &len));
	EXPECT_STREQ("tls", ulp);
	/* The header alone says version and cipher, without the keys. */
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		len = sizeof(info);
		memset(&info, 0, sizeof(info));
		EXPECT_EQ(0, getsockopt(fd, SOL_TLS, dirs[i], &info, &len))
			TH_LOG("%s: %s", i ? "TLS_RX" : "TLS_TX", strerror(errno));
		EXPECT_EQ(TLS_1_3_VERSION, info.version);
	}
}

/* ------------------------------------------------------------ upgrades */

TEST_F_TIMEOUT(ktlsd_upgrade, client_with_s_server, 240)
{
	int port, ret;

	ASSERT_EQ(0, start_s_server(self, &port));
	self->sock = connect_when_listening(port, &self->peer);
	ASSERT_LE(0, self->sock) TH_LOG("connect: %s", strerror(-self->sock));
	ret = upgrade_client(self->sock, TEST_HOST, STEP_MS);
	ASSERT_EQ(0, ret) TH_LOG("upgrade: %s", strerror(-ret));
	check_ktls(_metadata, self->sock);
	/* One outcome line, marked as the module's. */
	EXPECT_TRUE(log_has(&self->daemon, "handshake ok uid=0 pid="));
	EXPECT_TRUE(log_has(&self->daemon, " via=netlink role=client"));
	bulk(_metadata, self);
	EXPECT_EQ(0, proc_wait(&self->peer, STEP_MS));
}

TEST_F_TIMEOUT(ktlsd_upgrade, server_with_s_client, 240)
{
	int ret;

	ASSERT_EQ(0, start_s_client(self, self->ca));
	self->sock = accept_within(self->listener, STEP_MS);
	ASSERT_LE(0, self->sock) TH_LOG("accept: %s", strerror(-self->sock));
	ret = upgrade_server(self->sock, "web", STEP_MS);
	ASSERT_EQ(0, ret) TH_LOG("upgrade: %s", strerror(-ret));
	check_ktls(_metadata, self->sock);
	EXPECT_TRUE(log_has(&self->daemon, " via=netlink role=server"));
	bulk(_metadata, self);
	shutdown(self->sock, SHUT_WR);
	EXPECT_EQ(0, proc_wait(&self->peer, STEP_MS));
}

/* ------------------------------------------------------------ errors */

/* Refused before any byte went out: the connection still carries plain TCP. */
static void check_plain(struct __test_metadata *_metadata, int a, int b)
{
	char c = 0;

	EXPECT_EQ(1, send(a, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(0, wait_fd(b, POLLIN, now_ms() + STEP_MS));
	EXPECT_EQ(1, recv(b, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ('x', c);
}

TEST_F_TIMEOUT(ktlsd_upgrade, no_daemon_is_esrch, 60)
{
	long long started;
	int ret;

	proc_stop(&self->daemon);
	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	started = now_ms();
	ret = upgrade_client(self->sock, TEST_HOST, STEP_MS);
	EXPECT_EQ(-ESRCH, ret) TH_LOG("got %s", strerror(-ret));
	/* At once, not after a timeout. */
	EXPECT_GT(STEP_MS / 2, now_ms() - started);
	check_plain(_metadata, self->sock, self->other);
}

/* Upgrades @fd in a child; its exit status is the errno (0: success). */
static pid_t upgrade_in_child(int fd, uint32_t role, const char *peer_name,
			      const char *identity, uint32_t timeout_ms, uid_t uid)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
		_exit(255);
	_exit(-upgrade_start(fd, role, peer_name, identity, timeout_ms));
}

/* The child's errno within @timeout_ms, -ETIMEDOUT if it still waits. */
static int child_errno(pid_t pid, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -ETIMEDOUT;
		}
		usleep(20000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The daemon dies with the ClientHello sent: the requester hears it at once. */
TEST_F_TIMEOUT(ktlsd_upgrade, daemon_killed_mid_handshake, 90)
{
	long long killed;
	pid_t pid;
	int err;

	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	pid = upgrade_in_child(self->sock, KTLSD_ROLE_CLIENT, TEST_HOST, NULL, 15000, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, wait_fd(self->other, POLLIN, now_ms() + STEP_MS))
		TH_LOG("no ClientHello from the daemon");
	kill(self->daemon.pid, SIGKILL);
	killed = now_ms();
	err = child_errno(pid, 30000);
	EXPECT_EQ(ECONNABORTED, err) TH_LOG("the requester got %s after %lld ms",
					    err < 0 ? "no answer" : strerror(err),
					    now_ms() - killed);
	/* Nobody may use a socket whose handshake stopped halfway. */
	EXPECT_EQ(-1, send(self->sock, "x", 1, MSG_NOSIGNAL));
}

/* A peer that never answers: ETIMEDOUT after the requester's timeout. */
TEST_F_TIMEOUT(ktlsd_upgrade, stalled_peer_times_out, 60)
{
	long long started = now_ms(), took;
	int ret;

	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	ret = upgrade_client(self->sock, TEST_HOST, 2000);
	took = now_ms() - started;
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("got %s", strerror(-ret));
	EXPECT_LE(1900, took);
	EXPECT_GT(10000, took);
	EXPECT_EQ(-1, send(self->sock, "x", 1, MSG_NOSIGNAL));
}

/* s_client trusts nothing that signed our certificate: its alert is EACCES. */
TEST_F_TIMEOUT(ktlsd_upgrade, peer_rejects_certificate, 60)
{
	int ret;

	/* The leaf itself is no trust anchor: the chain does not verify. */
	ASSERT_EQ(0, start_s_client(self, self->cert));
	self->sock = accept_within(self->listener, STEP_MS);
	ASSERT_LE(0, self->sock);
	ret = upgrade_server(self->sock, "web", STEP_MS);
	EXPECT_EQ(-EACCES, ret) TH_LOG("got %s", strerror(-ret));
	EXPECT_NE(0, proc_wait(&self->peer, STEP_MS));
}

/* And ours of the peer's: a name it does not hold is EKEYREJECTED. */
TEST_F_TIMEOUT(ktlsd_upgrade, peer_certificate_rejected, 60)
{
	int port, ret;

	ASSERT_EQ(0, start_s_server(self, &port));
	self->sock = connect_when_listening(port, &self->peer);
	ASSERT_LE(0, self->sock);
	ret = upgrade_client(self->sock, "other.example", STEP_MS);
	EXPECT_EQ(-EKEYREJECTED, ret) TH_LOG("got %s", strerror(-ret));
}

/* The identity names root alone: nobody's request is refused, untouched. */
TEST_F_TIMEOUT(ktlsd_upgrade, policy_denies_uid, 60)
{
	pid_t pid;
	int err;

	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	pid = upgrade_in_child(self->sock, KTLSD_ROLE_SERVER, NULL, "web", STEP_MS, NOBODY);
	ASSERT_LE(0, pid);
	err = child_errno(pid, STEP_MS + 5000);
	EXPECT_EQ(EACCES, err) TH_LOG("the child got %s", err < 0 ? "no answer" : strerror(err));
	EXPECT_TRUE(log_has(&self->daemon, "handshake failed uid=65534 pid="));
	check_plain(_metadata, self->other, self->sock);
}

/* One request per socket: again on an upgraded one is not the module's option. */
TEST_F_TIMEOUT(ktlsd_upgrade, second_request_on_same_socket, 60)
{
	struct ktlsd_upgrade ku = { .ku_role = KTLSD_ROLE_CLIENT };
	int port, ret;

	ASSERT_EQ(0, start_s_server(self, &port));
	self->sock = connect_when_listening(port, &self->peer);
	ASSERT_LE(0, self->sock);
	ret = upgrade_client(self->sock, TEST_HOST, STEP_MS);
	ASSERT_EQ(0, ret) TH_LOG("upgrade: %s", strerror(-ret));
	EXPECT_EQ(-1, setsockopt(self->sock, KTLSD_SOL, KTLSD_OPT_UPGRADE, &ku, sizeof(ku)));
	EXPECT_EQ(ENOPROTOOPT, errno) TH_LOG("got %s", strerror(errno));
	EXPECT_EQ(-1, setsockopt(self->sock, SOL_TCP, TCP_ULP, KTLSD_ULP_NAME,
				 sizeof(KTLSD_ULP_NAME)));
	EXPECT_EQ(EEXIST, errno) TH_LOG("got %s", strerror(errno));
	check_ktls(_metadata, self->sock);
}

/* And a second request while the first is in flight. */
TEST_F_TIMEOUT(ktlsd_upgrade, second_request_while_pending, 60)
{
	struct ktlsd_upgrade ku = { .ku_role = KTLSD_ROLE_CLIENT, .ku_timeout_ms = 2000 };
	long long started = now_ms();
	int ret, status = -1;

	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	ASSERT_EQ(0, set_nonblocking(self->sock));
	ret = upgrade_client(self->sock, TEST_HOST, 2000);
	ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("got %s", strerror(-ret));
	EXPECT_EQ(-1, setsockopt(self->sock, KTLSD_SOL, KTLSD_OPT_UPGRADE, &ku, sizeof(ku)));
	EXPECT_EQ(EALREADY, errno) TH_LOG("got %s", strerror(errno));
	/* The first one still ends, by its timeout: the peer is silent. */
	EXPECT_EQ(1, wait_completion(self->sock, &status, now_ms() + STEP_MS));
	EXPECT_EQ(ETIMEDOUT, status) TH_LOG("got %s", strerror(status));
	EXPECT_LE(1900, now_ms() - started);
}

/* ------------------------------------------------------------ many at once */

struct pair_state {
	int	fd;
	int	done;
	int	status;
};

/*
 * MANY_PAIRS connections, both ends upgraded at once with non-blocking
 * sockets, so the daemon is each one's client and server; completions
 * come from the error queues. Each pair then carries a record.
 */
TEST_F_TIMEOUT(ktlsd_upgrade, thousand_concurrent_upgrades, 900)
{
	size_t count = 2 * MANY_PAIRS, i, done = 0, ok = 0;
	struct pair_state *ps = calloc(count, sizeof(*ps));
	struct pollfd *pfd = calloc(count, sizeof(*pfd));
	long long started = now_ms(), deadline = started + 800000;
	struct ktlsd_counters c;
	char buf[64], want[64];
	ssize_t n;
	int ret;

	ASSERT_NE(NULL, ps);
	ASSERT_NE(NULL, pfd);
	for (i = 0; i < MANY_PAIRS; i++) {
		ASSERT_EQ(0, loopback_pair(self->listener, self->port, &ps[2 * i].fd,
					   &ps[2 * i + 1].fd));
		ASSERT_EQ(0, set_nonblocking(ps[2 * i].fd));
		ASSERT_EQ(0, set_nonblocking(ps[2 * i + 1].fd));
		ret = upgrade_client(ps[2 * i].fd, TEST_HOST, 600000);
		ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("client %zu: %s", i, strerror(-ret));
		ret = upgrade_server(ps[2 * i + 1].fd, "web", 600000);
		ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("server %zu: %s", i, strerror(-ret));
	}
	while (done < count && now_ms() < deadline) {
		/* No events asked: POLLERR is what completion raises. */
		for (i = 0; i < count; i++)
			pfd[i] = (struct pollfd){ .fd = ps[i].done ? -1 : ps[i].fd };
		if (poll(pfd, count, 1000) < 0 && errno != EINTR)
			break;
		for (i = 0; i < count; i++) {
			if (ps[i].done || !pfd[i].revents)
				continue;
			if (!upgrade_completion(ps[i].fd, &ps[i].status))
				continue;
			ps[i].done = 1;
			done++;
			ok += !ps[i].status;
		}
	}
	fprintf(stderr, "# %zu upgrades through ktlsd.ko in %lld ms\n", done,
		now_ms() - started);
	EXPECT_EQ(count, done);
	EXPECT_EQ(count, ok);
	for (i = 0, n = 0; i < count && n < 10; i++)
		if (ps[i].done && ps[i].status && ++n)
			TH_LOG("upgrade %zu: %s", i, strerror(ps[i].status));
	/* The kernel seals on one end what it opens on the other. */
	for (i = 0; i < MANY_PAIRS && ok == count; i++) {
		snprintf(want, sizeof(want), "pair %zu", i);
		ASSERT_EQ((ssize_t)strlen(want), write(ps[2 * i].fd, want, strlen(want)));
		ASSERT_EQ(0, wait_fd(ps[2 * i + 1].fd, POLLIN, now_ms() + STEP_MS));
		memset(buf, 0, sizeof(buf));
		n = ktls_read(NULL, ps[2 * i + 1].fd, buf, sizeof(buf) - 1);
		ASSERT_EQ((ssize_t)strlen(want), n);
		EXPECT_STREQ(want, buf);
	}
	ASSERT_EQ(0, ktlsd_get_counters(self->sock_path, &c));
	EXPECT_EQ(count, c.ok);
	EXPECT_EQ(0, c.failed);
	EXPECT_EQ(0, c.in_flight);
	for (i = 0; i < count; i++)
		close(ps[i].fd);
	free(ps);
	free(pfd);
}

TEST_HARNESS_MAIN
