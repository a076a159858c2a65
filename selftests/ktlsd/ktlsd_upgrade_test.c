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
 * with non-blocking sockets completing on their error queues. The lib_
 * tests take the same path through libktls (ktls_upgrade() with
 * opts.via = KTLS_VIA_MODULE, blocking and in an event loop) and check
 * what it reports, errors included; two_netns_each_own_daemon runs a
 * daemon in each of two network namespaces.
 *
 * ktls_peer_test.c's ktlsd_daemon fixture does the same through the unix
 * socket. Processes, paths, certificates (by openssl(1)) and the module
 * come from test_util.h; one byte pattern serves both directions.
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
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
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
#include "test_util.h"

#define BULK_SIZE		(16u << 20)	/* each way */
#define LIB_BULK_SIZE		(4u << 20)	/* each way, through libktls's module mode */
#define STEP_MS			20000
#define TRANSFER_MS		100000
#define MANY_PAIRS		500		/* both ends upgraded: 1,000 upgrades */
#define TEST_HOST		"localhost"
#define NOBODY			65534
/* A prime: no record or pipe size lines up with it. */
#define PATTERN_PERIOD		251

/* ------------------------------------------------------------ small things */

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

/* ------------------------------------------------------------ sockets */

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
static int connect_when_listening(int port, struct tu_proc *peer)
{
	long long deadline = tu_now_ms() + STEP_MS;
	int fd;

	for (;;) {
		fd = connect_port(port);
		if (fd != -ECONNREFUSED)
			return fd;
		if (!tu_proc_running(peer))
			return -ESRCH;
		if (tu_now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(20000);
	}
}

static int accept_within(int listener, int timeout_ms)
{
	int ret = tu_wait_fd(listener, POLLIN, tu_now_ms() + timeout_ms);

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
		if (tu_now_ms() >= deadline)
			return 0;
		/* POLLERR is what completion raises; no events asked. */
		poll(&pfd, 1, 200);
	}
	return 1;
}

/* ------------------------------------------------------------ the fixture */

FIXTURE(ktlsd_upgrade) {
	char		dir[64];
	char		ca[96];
	char		cert[96];
	char		key[96];
	char		conf[96];
	char		sock_path[108];
	struct tu_proc	daemon;		/* ktlsd -f, netlink = yes */
	struct tu_proc	peer;		/* s_server or s_client */
	int		loaded;		/* we loaded the module: we unload it */
	int		sock;
	int		other;		/* the far end of a loopback pair */
	int		listener;
	int		port;
	struct tu_tls_stat	stat_before;
};

static int make_pki(FIXTURE_DATA(ktlsd_upgrade) *self)
{
	char cakey[96];
	int ret;

	snprintf(cakey, sizeof(cakey), "%s/ca.key", self->dir);
	ret = tu_make_ca(self->dir, "ktlsd test CA", cakey, self->ca);
	return ret ? ret : tu_make_cert(self->dir, self->ca, cakey, TEST_HOST,
					"DNS:" TEST_HOST ",IP:127.0.0.1", 2, self->key, self->cert);
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

static int load_module(FIXTURE_DATA(ktlsd_upgrade) *self, char *why, size_t whylen)
{
	int ret = tu_module_load("ktlsd", "KTLSD_MODULE", "module", why, whylen);

	self->loaded = !ret;
	return ret == 1 ? 0 : ret;
}

/* ktlsd with the module's family bound: before that a request is ESRCH. */
static int start_daemon(FIXTURE_DATA(ktlsd_upgrade) *self)
{
	return tu_start_ktlsd(&self->daemon, self->dir, self->conf, "netlink: serving", STEP_MS);
}

FIXTURE_SETUP(ktlsd_upgrade)
{
	struct rlimit nofile = { .rlim_cur = 16384, .rlim_max = 16384 };
	char why[512];
	int ret;

	SKIP_UNLESS_FIXTURE("ktlsd_upgrade");
	self->sock = self->other = self->listener = -1;
	tu_proc_init(&self->daemon);
	tu_proc_init(&self->peer);
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
	self->listener = tu_loopback_listener(&self->port, 1024);
	ASSERT_LE(0, self->listener);
	tu_read_tls_stat(&self->stat_before);
}

FIXTURE_TEARDOWN(ktlsd_upgrade)
{
	char *rm_argv[] = { "rm", "-rf", self->dir, NULL };

	if (!_metadata->passed) {
		TU_LOG_DUMP(self->daemon.log);
		TU_LOG_DUMP(self->peer.log);
	}
	tu_proc_stop(&self->peer, SIGKILL);
	tu_proc_stop(&self->daemon, SIGKILL);
	if (self->sock >= 0)
		close(self->sock);
	if (self->other >= 0)
		close(self->other);
	if (self->listener >= 0)
		close(self->listener);
	if (self->dir[0] == '/')
		tu_run("/tmp", rm_argv, STEP_MS);
	if (self->loaded)
		tu_module_unload("ktlsd", 5000);
}

/* ------------------------------------------------------------ peers and data */

/* s_server for one connection, TLS 1.3, data only on stdin and stdout. */
static int start_s_server(FIXTURE_DATA(ktlsd_upgrade) *self, int *port)
{
	char accept_arg[32];
	char *argv[] = { "openssl", "s_server", "-naccept", "1", "-accept", accept_arg,
			 "-cert", self->cert, "-key", self->key, "-tls1_3", "-quiet", NULL };
	int fd = tu_loopback_listener(port, 1024);

	if (fd < 0)
		return fd;
	close(fd);
	snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", *port);
	return tu_proc_start(&self->peer, self->dir, "s_server", argv,
			     TU_PROC_NONBLOCK | TU_PROC_PIPE_OUT);
}

/* s_client to our listener, verifying against @ca_file ("" for none at all). */
static int start_s_client(FIXTURE_DATA(ktlsd_upgrade) *self, const char *ca_file)
{
	char connect_arg[32];
	char *argv[] = { "openssl", "s_client", "-quiet", "-no_ign_eof", "-nocommands",
			 "-connect", connect_arg, "-tls1_3", "-verify_return_error",
			 "-verify_hostname", TEST_HOST, "-CAfile", (char *)ca_file, NULL };

	snprintf(connect_arg, sizeof(connect_arg), "127.0.0.1:%d", self->port);
	return tu_proc_start(&self->peer, self->dir, "s_client", argv,
			     TU_PROC_NONBLOCK | TU_PROC_PIPE_OUT);
}

#define SEED_OUT	0x00	/* us to the peer */
#define SEED_IN		0x5a	/* the peer to us */

/*
 * @size bytes each way between the kTLS socket and the peer process: ours
 * into the socket and out of the peer's stdout, the peer's stdin into
 * the connection and out of ktls_read(). Then the peer's stdin ends, it
 * sends close_notify, and our stream must end cleanly.
 */
static void bulk_size(struct __test_metadata *_metadata, FIXTURE_DATA(ktlsd_upgrade) *self,
		      uint64_t size)
{
	uint64_t out_sent = 0, out_back = 0, in_fed = 0, in_read = 0;
	long long deadline = tu_now_ms() + TRANSFER_MS, started = tu_now_ms();
	static unsigned char buf[65536], chunk[65536];
	struct tu_tls_stat after;
	struct pollfd pfd[3];
	ssize_t n;
	long bad;

	ASSERT_EQ(0, tu_set_nonblocking(self->sock));
	while (out_back < size || in_read < size) {
		pfd[0] = (struct pollfd){ .fd = self->sock,
			.events = (in_read < size ? POLLIN : 0) |
				  (out_sent < size ? POLLOUT : 0) };
		pfd[1] = (struct pollfd){ .fd = in_fed < size ? self->peer.in : -1,
					  .events = POLLOUT };
		pfd[2] = (struct pollfd){ .fd = self->peer.out, .events = POLLIN };
		ASSERT_LT(0, poll(pfd, 3, (int)(deadline - tu_now_ms())))
			TH_LOG("stuck: out %llu sent, %llu back; in %llu fed, %llu read",
			       (unsigned long long)out_sent, (unsigned long long)out_back,
			       (unsigned long long)in_fed, (unsigned long long)in_read);
		if (pfd[0].revents & (POLLOUT | POLLERR)) {
			n = size - out_sent < sizeof(chunk) ? size - out_sent :
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
				ASSERT_GE(size, in_read + (uint64_t)n);
				bad = pattern_check(buf, (size_t)n, in_read, SEED_IN);
				ASSERT_EQ(-1, bad) TH_LOG("byte %llu from the peer is wrong",
							  (unsigned long long)(in_read + bad));
				in_read += (uint64_t)n;
			}
		}
		if (pfd[1].revents) {
			n = size - in_fed < sizeof(chunk) ? size - in_fed : sizeof(chunk);
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
				ASSERT_GE(size, out_back + (uint64_t)n);
				bad = pattern_check(buf, (size_t)n, out_back, SEED_OUT);
				ASSERT_EQ(-1, bad) TH_LOG("byte %llu we sent arrived wrong",
							  (unsigned long long)(out_back + bad));
				out_back += (uint64_t)n;
			}
		}
	}
	fprintf(stderr, "# %llu bytes each way in %lld ms\n", (unsigned long long)size,
		tu_now_ms() - started);
	/* The peer's close_notify ends our stream, with nothing after it. */
	tu_proc_close_stdin(&self->peer);
	for (;;) {
		n = ktls_read(NULL, self->sock, buf, sizeof(buf));
		if (n != -EAGAIN)
			break;
		ASSERT_EQ(0, tu_wait_fd(self->sock, POLLIN, tu_now_ms() + STEP_MS));
	}
	EXPECT_EQ(0, n) TH_LOG("after the peer's close: %s", strerror((int)-n));
	tu_read_tls_stat(&after);
	EXPECT_EQ(self->stat_before.tx_sw + 1, after.tx_sw);
	EXPECT_EQ(self->stat_before.rx_sw + 1, after.rx_sw);
	EXPECT_EQ(self->stat_before.decrypt_error, after.decrypt_error);
}

static void bulk(struct __test_metadata *_metadata, FIXTURE_DATA(ktlsd_upgrade) *self)
{
	bulk_size(_metadata, self, BULK_SIZE);
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
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, "handshake ok uid=0 pid="));
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, " via=netlink role=client"));
	bulk(_metadata, self);
	EXPECT_EQ(0, tu_proc_wait(&self->peer, STEP_MS));
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
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, " via=netlink role=server"));
	bulk(_metadata, self);
	shutdown(self->sock, SHUT_WR);
	EXPECT_EQ(0, tu_proc_wait(&self->peer, STEP_MS));
}

/* ------------------------------------------------------------ errors */

/* Refused before any byte went out: the connection still carries plain TCP. */
static void check_plain(struct __test_metadata *_metadata, int a, int b)
{
	char c = 0;

	EXPECT_EQ(1, send(a, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(0, tu_wait_fd(b, POLLIN, tu_now_ms() + STEP_MS));
	EXPECT_EQ(1, recv(b, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ('x', c);
}

TEST_F_TIMEOUT(ktlsd_upgrade, no_daemon_is_esrch, 60)
{
	long long started;
	int ret;

	tu_proc_stop(&self->daemon, SIGKILL);
	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	started = tu_now_ms();
	ret = upgrade_client(self->sock, TEST_HOST, STEP_MS);
	EXPECT_EQ(-ESRCH, ret) TH_LOG("got %s", strerror(-ret));
	/* At once, not after a timeout. */
	EXPECT_GT(STEP_MS / 2, tu_now_ms() - started);
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
	long long deadline = tu_now_ms() + timeout_ms;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (tu_now_ms() >= deadline) {
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
	ASSERT_EQ(0, tu_wait_fd(self->other, POLLIN, tu_now_ms() + STEP_MS))
		TH_LOG("no ClientHello from the daemon");
	kill(self->daemon.pid, SIGKILL);
	killed = tu_now_ms();
	err = child_errno(pid, 30000);
	EXPECT_EQ(ECONNABORTED, err) TH_LOG("the requester got %s after %lld ms",
					    err < 0 ? "no answer" : strerror(err),
					    tu_now_ms() - killed);
	/* Nobody may use a socket whose handshake stopped halfway. */
	EXPECT_EQ(-1, send(self->sock, "x", 1, MSG_NOSIGNAL));
}

/* A peer that never answers: ETIMEDOUT after the requester's timeout. */
TEST_F_TIMEOUT(ktlsd_upgrade, stalled_peer_times_out, 60)
{
	long long started = tu_now_ms(), took;
	int ret;

	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	ret = upgrade_client(self->sock, TEST_HOST, 2000);
	took = tu_now_ms() - started;
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
	EXPECT_NE(0, tu_proc_wait(&self->peer, STEP_MS));
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
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, "handshake failed uid=65534 pid="));
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
	long long started = tu_now_ms();
	int ret, status = -1;

	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	ASSERT_EQ(0, tu_set_nonblocking(self->sock));
	ret = upgrade_client(self->sock, TEST_HOST, 2000);
	ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("got %s", strerror(-ret));
	EXPECT_EQ(-1, setsockopt(self->sock, KTLSD_SOL, KTLSD_OPT_UPGRADE, &ku, sizeof(ku)));
	EXPECT_EQ(EALREADY, errno) TH_LOG("got %s", strerror(errno));
	/* The first one still ends, by its timeout: the peer is silent. */
	EXPECT_EQ(1, wait_completion(self->sock, &status, tu_now_ms() + STEP_MS));
	EXPECT_EQ(ETIMEDOUT, status) TH_LOG("got %s", strerror(status));
	EXPECT_LE(1900, tu_now_ms() - started);
}

/* ------------------------------------------------------------ through libktls */

/*
 * ktls_upgrade() with opts.via = KTLS_VIA_MODULE makes the same two
 * socket options, then reads the outcome's details back from the
 * module's recent completions: these tests check that both halves of
 * the library's module mode reach the application.
 */

static struct ktls_upgrade_opts module_opts(enum ktls_role role, const char *peer_name,
					    const char *identity, int timeout_ms)
{
	struct ktls_upgrade_opts opts = {
		.role = role,
		.peer_name = peer_name,
		.identity = identity,
		.timeout_ms = timeout_ms,
		.via = KTLS_VIA_MODULE,
	};

	return opts;
}

TEST_F_TIMEOUT(ktlsd_upgrade, lib_client_with_s_server, 240)
{
	struct ktls_upgrade_opts opts = module_opts(KTLS_ROLE_CLIENT, TEST_HOST, NULL, STEP_MS);
	struct ktls_upgrade_info info;
	int port, ret;

	ASSERT_EQ(0, start_s_server(self, &port));
	self->sock = connect_when_listening(port, &self->peer);
	ASSERT_LE(0, self->sock) TH_LOG("connect: %s", strerror(-self->sock));
	memset(&info, 0x55, sizeof(info));
	ret = ktls_upgrade(self->sock, &opts, &info);
	ASSERT_EQ(0, ret) TH_LOG("ktls_upgrade: %s (%.200s)", strerror(-ret), info.detail);
	EXPECT_EQ(0, info.status);
	check_ktls(_metadata, self->sock);
	/* The daemon's report, through the module's dump. */
	EXPECT_EQ(KTLS_VERSION_TLS13, info.version);
	EXPECT_NE(0, info.cipher[0]);
	EXPECT_LT(strnlen(info.cipher, sizeof(info.cipher)), sizeof(info.cipher));
	EXPECT_NE(NULL, strstr(info.peer_subject, "CN=" TEST_HOST))
		TH_LOG("peer_subject \"%.200s\"", info.peer_subject);
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, " via=netlink role=client"));
	bulk_size(_metadata, self, LIB_BULK_SIZE);
	EXPECT_EQ(0, tu_proc_wait(&self->peer, STEP_MS));
}

/* The event-loop form on an O_NONBLOCK socket: completion is POLLERR on it. */
TEST_F_TIMEOUT(ktlsd_upgrade, lib_event_loop_server_with_s_client, 240)
{
	struct ktls_upgrade_opts opts = module_opts(KTLS_ROLE_SERVER, NULL, "web", STEP_MS);
	const struct ktls_upgrade_info *info;
	struct ktls_upgrade *up = NULL;
	int ret, waits = 0;
	struct pollfd pfd;

	ASSERT_EQ(0, start_s_client(self, self->ca));
	self->sock = accept_within(self->listener, STEP_MS);
	ASSERT_LE(0, self->sock) TH_LOG("accept: %s", strerror(-self->sock));
	ASSERT_EQ(0, tu_set_nonblocking(self->sock));
	ret = ktls_upgrade_start(self->sock, &opts, &up);
	ASSERT_EQ(0, ret) TH_LOG("ktls_upgrade_start: %s (%.200s)", strerror(-ret),
				 up ? ktls_upgrade_get_info(up)->detail : "");
	ASSERT_NE(NULL, up);
	do {
		pfd.fd = ktls_upgrade_poll_fd(up, &pfd.events);
		/* The module reports on the socket itself, with no events asked. */
		EXPECT_EQ(self->sock, pfd.fd);
		EXPECT_EQ(0, pfd.events);
		ASSERT_LE(0, poll(&pfd, 1, ktls_upgrade_timeout(up)));
		ret = ktls_upgrade_continue(up);
		waits++;
	} while (ret == -EINPROGRESS && waits < 1000);
	info = ktls_upgrade_get_info(up);
	EXPECT_EQ(0, ret) TH_LOG("ktls_upgrade_continue: %s (%.200s)", strerror(-ret),
				 info->detail);
	EXPECT_EQ(0, info->status);
	EXPECT_EQ(KTLS_VERSION_TLS13, info->version);
	EXPECT_NE(0, info->cipher[0]);
	ktls_upgrade_free(up);
	ASSERT_EQ(0, ret);
	/* The socket's mode is left as it was. */
	EXPECT_TRUE(fcntl(self->sock, F_GETFL) & O_NONBLOCK);
	check_ktls(_metadata, self->sock);
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, " via=netlink role=server"));
	bulk_size(_metadata, self, LIB_BULK_SIZE);
	shutdown(self->sock, SHUT_WR);
	EXPECT_EQ(0, tu_proc_wait(&self->peer, STEP_MS));
}

TEST_F_TIMEOUT(ktlsd_upgrade, lib_no_daemon_is_esrch, 60)
{
	struct ktls_upgrade_opts opts = module_opts(KTLS_ROLE_CLIENT, TEST_HOST, NULL, STEP_MS);
	struct ktls_upgrade_info info;
	long long started;
	int ret;

	tu_proc_stop(&self->daemon, SIGKILL);
	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	started = tu_now_ms();
	ret = ktls_upgrade(self->sock, &opts, &info);
	EXPECT_EQ(-ESRCH, ret) TH_LOG("got %s", strerror(-ret));
	EXPECT_EQ(-ESRCH, info.status);
	EXPECT_NE(0, info.detail[0]);
	EXPECT_GT(STEP_MS / 2, tu_now_ms() - started);
	/* Refused before the handshake: still plain TCP, both ways. */
	check_plain(_metadata, self->sock, self->other);
	check_plain(_metadata, self->other, self->sock);
}

/*
 * With ktlsd.ko gone the ULP cannot be attached: ENOENT. Only when this
 * program loaded the module itself, so unloading it disturbs nobody; and
 * only when the kernel cannot load it back by itself (modprobe finds no
 * ktlsd.ko for the VM's kernels).
 */
TEST_F_TIMEOUT(ktlsd_upgrade, lib_no_module_is_enoent, 90)
{
	struct ktls_upgrade_opts opts = module_opts(KTLS_ROLE_CLIENT, TEST_HOST, NULL, STEP_MS);
	struct ktls_upgrade_info info;
	char why[512];
	int ret;

	if (!self->loaded)
		SKIP(return, "ktlsd.ko was loaded before this program: not unloading it");
	tu_proc_stop(&self->daemon, SIGKILL);
	ret = tu_module_unload("ktlsd", 10000);
	ASSERT_EQ(0, ret) TH_LOG("delete_module: %s", strerror(-ret));
	self->loaded = 0;
	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	ret = ktls_upgrade(self->sock, &opts, &info);
	if (ret == -ESRCH && !access("/sys/module/ktlsd", F_OK)) {
		self->loaded = 1;
		SKIP(return, "the kernel loaded ktlsd.ko again by itself (modprobe)");
	}
	EXPECT_EQ(-ENOENT, ret) TH_LOG("got %s", strerror(-ret));
	EXPECT_EQ(-ENOENT, info.status);
	EXPECT_NE(0, info.detail[0]);
	check_plain(_metadata, self->sock, self->other);
	/* Back for the tests after this one's teardown, as the setup left it. */
	ASSERT_EQ(0, load_module(self, why, sizeof(why))) TH_LOG("%s", why);
}

/*
 * Both ends of a loopback pair upgraded through the module by this
 * process: the server end from the event loop form, the client end
 * blocking. Their details must come back either way.
 */
static void lib_upgrade_pair(struct __test_metadata *_metadata,
			     FIXTURE_DATA(ktlsd_upgrade) *self)
{
	struct ktls_upgrade_opts client = module_opts(KTLS_ROLE_CLIENT, TEST_HOST, NULL, STEP_MS);
	struct ktls_upgrade_opts server = module_opts(KTLS_ROLE_SERVER, NULL, "web", STEP_MS);
	const struct ktls_upgrade_info *sinfo;
	struct ktls_upgrade_info info;
	struct ktls_upgrade *up = NULL;
	struct pollfd pfd;
	int ret;

	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	ASSERT_EQ(0, tu_set_nonblocking(self->other));
	ret = ktls_upgrade_start(self->other, &server, &up);
	ASSERT_EQ(0, ret) TH_LOG("ktls_upgrade_start: %s", strerror(-ret));
	ret = ktls_upgrade(self->sock, &client, &info);
	EXPECT_EQ(0, ret) TH_LOG("ktls_upgrade: %s (%.200s)", strerror(-ret), info.detail);
	EXPECT_EQ(KTLS_VERSION_TLS13, info.version);
	EXPECT_NE(0, info.cipher[0]);
	EXPECT_NE(NULL, strstr(info.peer_subject, "CN=" TEST_HOST))
		TH_LOG("peer_subject \"%.200s\"", info.peer_subject);
	do {
		pfd.fd = ktls_upgrade_poll_fd(up, &pfd.events);
		ASSERT_LE(0, poll(&pfd, 1, ktls_upgrade_timeout(up)));
		ret = ktls_upgrade_continue(up);
	} while (ret == -EINPROGRESS);
	sinfo = ktls_upgrade_get_info(up);
	EXPECT_EQ(0, ret) TH_LOG("server end: %s (%.200s)", strerror(-ret), sinfo->detail);
	EXPECT_EQ(KTLS_VERSION_TLS13, sinfo->version);
	EXPECT_EQ(0, strcmp(info.cipher, sinfo->cipher));
	ktls_upgrade_free(up);
	check_ktls(_metadata, self->sock);
	check_ktls(_metadata, self->other);
	close(self->sock);
	close(self->other);
	self->sock = self->other = -1;
}

/*
 * The library remembers the module family's id; a reload gives the family
 * a new one, and the details must still come back after it.
 */
TEST_F_TIMEOUT(ktlsd_upgrade, lib_details_after_module_reload, 180)
{
	char why[512];
	int ret;

	if (!self->loaded)
		SKIP(return, "ktlsd.ko was loaded before this program: not reloading it");
	lib_upgrade_pair(_metadata, self);
	tu_proc_stop(&self->daemon, SIGKILL);
	ret = tu_module_unload("ktlsd", 10000);
	ASSERT_EQ(0, ret) TH_LOG("delete_module: %s", strerror(-ret));
	self->loaded = 0;
	ASSERT_EQ(0, load_module(self, why, sizeof(why))) TH_LOG("%s", why);
	ret = start_daemon(self);
	ASSERT_EQ(0, ret) TH_LOG("ktlsd: %s", strerror(-ret));
	lib_upgrade_pair(_metadata, self);
}

/* ktls_upgrade() in a child that is nobody: the info comes back over @pipe_fd. */
static pid_t lib_upgrade_in_child(int fd, const struct ktls_upgrade_opts *opts, uid_t uid,
				  int pipe_fd)
{
	struct ktls_upgrade_info info;
	pid_t pid = fork();

	if (pid)
		return pid;
	memset(&info, 0, sizeof(info));
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		_exit(255);
	ktls_upgrade(fd, opts, &info);
	_exit(write(pipe_fd, &info, sizeof(info)) == sizeof(info) ? 0 : 254);
}

TEST_F_TIMEOUT(ktlsd_upgrade, lib_policy_denies_uid, 60)
{
	struct ktls_upgrade_opts opts = module_opts(KTLS_ROLE_SERVER, NULL, "web", STEP_MS);
	struct ktls_upgrade_info info;
	int fds[2], err;
	pid_t pid;

	ASSERT_EQ(0, loopback_pair(self->listener, self->port, &self->sock, &self->other));
	ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
	pid = lib_upgrade_in_child(self->sock, &opts, NOBODY, fds[1]);
	ASSERT_LE(0, pid);
	close(fds[1]);
	err = child_errno(pid, STEP_MS + 5000);
	EXPECT_EQ(0, err) TH_LOG("the child: %s", err < 0 ? "no answer" : "could not report");
	memset(&info, 0, sizeof(info));
	EXPECT_EQ((ssize_t)sizeof(info), read(fds[0], &info, sizeof(info)));
	close(fds[0]);
	EXPECT_EQ(-EACCES, info.status) TH_LOG("the child got %s", strerror(-info.status));
	EXPECT_NE(0, info.detail[0]);
	EXPECT_LT(strnlen(info.detail, sizeof(info.detail)), sizeof(info.detail));
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, "handshake failed uid=65534 pid="));
	check_plain(_metadata, self->other, self->sock);
}

/* ------------------------------------------------------------ network namespaces */

#define NETNS_PORT	4433	/* the same in both: each netns has its own */

static int netns_lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(fd, SIOCSIFFLAGS, &ifr))
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * One namespace's side, in a child: its own network namespace, its own
 * ktlsd (config, socket and log in @sub), an s_server in there, and one
 * module upgrade as client. Tells @ready when its daemon serves, waits
 * for @go to close so that both daemons run at once, and exits with the
 * step that failed (0: all went well).
 */
static int netns_side(FIXTURE_DATA(ktlsd_upgrade) *self, const char *sub, int ready, int go)
{
	struct ktls_upgrade_opts opts = module_opts(KTLS_ROLE_CLIENT, TEST_HOST, NULL, STEP_MS);
	struct ktls_upgrade_info info;
	char accept_arg[32], c, ulp[16] = "";
	char *argv[] = { "openssl", "s_server", "-naccept", "1", "-accept", accept_arg,
			 "-cert", self->cert, "-key", self->key, "-tls1_3", "-quiet", NULL };
	socklen_t len = sizeof(ulp);
	int ret;

	/* The fixture's daemon and peer are the parent's, not this side's. */
	tu_proc_init(&self->daemon);
	tu_proc_init(&self->peer);
	if (unshare(CLONE_NEWNET))
		return 10;
	if (netns_lo_up())
		return 11;
	/* @sub fits them all: the fixture's directory and "/netns<n>". */
	snprintf(self->dir, sizeof(self->dir), "%.63s", sub);
	snprintf(self->conf, sizeof(self->conf), "%.63s/ktlsd.conf", sub);
	snprintf(self->sock_path, sizeof(self->sock_path), "%.63s/ktlsd.sock", sub);
	if (mkdir(sub, 0700) || write_conf(self))
		return 12;
	if (start_daemon(self))
		return 13;
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
		return 14;
	snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", NETNS_PORT);
	if (tu_proc_start(&self->peer, self->dir, "s_server", argv,
			  TU_PROC_NONBLOCK | TU_PROC_PIPE_OUT))
		return 15;
	self->sock = connect_when_listening(NETNS_PORT, &self->peer);
	if (self->sock < 0)
		return 16;
	ret = ktls_upgrade(self->sock, &opts, &info);
	if (ret) {
		fprintf(stderr, "# %s: ktls_upgrade: %s (%s)\n", sub, strerror(-ret), info.detail);
		return 17;
	}
	if (getsockopt(self->sock, SOL_TCP, TCP_ULP, ulp, &len) || strcmp(ulp, "tls") ||
	    info.version != KTLS_VERSION_TLS13)
		return 18;
	/* The outcome line may follow the answer by a moment. */
	for (ret = 0; ret < 250 && !tu_proc_log_has(&self->daemon, "handshake ok"); ret++)
		usleep(20000);
	tu_proc_stop(&self->peer, SIGKILL);
	tu_proc_stop(&self->daemon, SIGKILL);
	return 0;
}

/* How many times @text is in the file @path. */
static int file_count(const char *path, const char *text)
{
	static char buf[65536];
	int fd, count = 0;
	const char *at;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	for (at = strstr(buf, text); at; at = strstr(at + 1, text))
		count++;
	return count;
}

/*
 * Two network namespaces, each with its own ktlsd: ktlsd.ko hands each
 * request to the daemon of the requester's namespace, so each daemon's
 * log has its own side's request and not the other's, and the fixture's
 * daemon (in this namespace) sees neither.
 */
TEST_F_TIMEOUT(ktlsd_upgrade, two_netns_each_own_daemon, 120)
{
	char sub[2][64], mine[64], theirs[64];
	struct tu_proc side[2];	/* only for their daemons' logs */
	int ready[2], go[2], i, err;
	pid_t pid[2];
	char c;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	for (i = 0; i < 2; i++) {
		snprintf(sub[i], sizeof(sub[i]), "%.48s/netns%d", self->dir, i);
		tu_proc_init(&side[i]);
		snprintf(side[i].log, sizeof(side[i].log), "%.63s/ktlsd.log", sub[i]);
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			close(ready[0]);
			close(go[1]);
			_exit(netns_side(self, sub[i], ready[1], go[0]));
		}
	}
	close(ready[1]);
	close(go[0]);
	/* Both daemons serve before either side asks. */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(1, read(ready[0], &c, 1));
	close(go[1]);
	close(ready[0]);
	for (i = 0; i < 2; i++) {
		err = child_errno(pid[i], 90000);
		EXPECT_EQ(0, err) TH_LOG("netns %d: failed at step %d (see netns_side())", i, err);
	}
	for (i = 0; i < 2; i++) {
		snprintf(mine, sizeof(mine), "handshake ok uid=0 pid=%d ", (int)pid[i]);
		snprintf(theirs, sizeof(theirs), " pid=%d ", (int)pid[!i]);
		EXPECT_EQ(1, file_count(side[i].log, "handshake ")) TH_LOG("%s", side[i].log);
		EXPECT_EQ(1, file_count(side[i].log, mine)) TH_LOG("%s: not \"%s\"", side[i].log,
								     mine);
		EXPECT_EQ(0, file_count(side[i].log, theirs)) TH_LOG("%s has \"%s\"", side[i].log,
								       theirs);
		EXPECT_EQ(1, file_count(side[i].log, " via=netlink role=client"));
	}
	EXPECT_EQ(0, file_count(self->daemon.log, "handshake "));
	if (!_metadata->passed)
		for (i = 0; i < 2; i++)
			TU_LOG_DUMP(side[i].log);
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
	long long started = tu_now_ms(), deadline = started + 800000;
	struct ktlsd_counters c;
	char buf[64], want[64];
	ssize_t n;
	int ret;

	ASSERT_NE(NULL, ps);
	ASSERT_NE(NULL, pfd);
	for (i = 0; i < MANY_PAIRS; i++) {
		ASSERT_EQ(0, loopback_pair(self->listener, self->port, &ps[2 * i].fd,
					   &ps[2 * i + 1].fd));
		ASSERT_EQ(0, tu_set_nonblocking(ps[2 * i].fd));
		ASSERT_EQ(0, tu_set_nonblocking(ps[2 * i + 1].fd));
		ret = upgrade_client(ps[2 * i].fd, TEST_HOST, 600000);
		ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("client %zu: %s", i, strerror(-ret));
		ret = upgrade_server(ps[2 * i + 1].fd, "web", 600000);
		ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("server %zu: %s", i, strerror(-ret));
	}
	while (done < count && tu_now_ms() < deadline) {
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
		tu_now_ms() - started);
	EXPECT_EQ(count, done);
	EXPECT_EQ(count, ok);
	for (i = 0, n = 0; i < count && n < 10; i++)
		if (ps[i].done && ps[i].status && ++n)
			TH_LOG("upgrade %zu: %s", i, strerror(ps[i].status));
	/* The kernel seals on one end what it opens on the other. */
	for (i = 0; i < MANY_PAIRS && ok == count; i++) {
		snprintf(want, sizeof(want), "pair %zu", i);
		ASSERT_EQ((ssize_t)strlen(want), write(ps[2 * i].fd, want, strlen(want)));
		ASSERT_EQ(0, tu_wait_fd(ps[2 * i + 1].fd, POLLIN, tu_now_ms() + STEP_MS));
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
