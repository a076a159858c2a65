// SPDX-License-Identifier: GPL-2.0-only
/*
 * handshake_test.c - ktlsd serving the kernel's own "handshake" family.
 *
 * In-kernel TLS consumers (NFS, NVMe over TLS) ask net/handshake for a
 * handshake on a kernel socket; a daemon in the family's "tlshd" group
 * ACCEPTs the socket, does the handshake, installs kTLS and sends DONE.
 * ktlsd does that in tlshd's place. The consumer here is a test module,
 * selftests/kmod/ktlsd_hs_test.ko, driven through debugfs: it connects to
 * (or accepts from) an openssl(1) peer on loopback, calls
 * tls_client_hello_anon / _x509 or tls_server_hello_x509, waits for the
 * done callback, checks kTLS TX and RX on the socket and moves a line
 * through it. This program checks:
 *
 *  - client, anonymous and x509: status 0, "tls" ULP with TX and RX set,
 *    "ping" reaches s_server -rev and "gnip" comes back through kTLS;
 *  - server (x509, [handshake] server_identity): s_client verifies us,
 *    its line reaches the module, which answers it reversed;
 *  - a server certificate for another name: EKEYREJECTED (or EACCES);
 *  - no daemon in the group: ESRCH from the kernel at once;
 *  - one log line per outcome with via=handshake.
 *
 * Skips on kernels without the family (before 6.5; bookworm's 6.1) and
 * where the module was not built for the running kernel. Needs root,
 * openssl(1), ktlsd in ../bin beside this program (or $KTLS_BIN), the
 * module in ../kmod/<release>/ (or $KTLSD_HS_MODULE).
 * KTLS_TEST_FIXTURE=handshake runs this fixture alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define TEST_HOST	"ktlsd-hs.test"
#define OTHER_HOST	"other-hs.test"
#define STEP_MS		30000
#define MODULE_NAME	"ktlsd_hs_test"
#define DEBUGFS		"/sys/kernel/debug"
#define HS_DIR		DEBUGFS "/" MODULE_NAME

#define SKIP_UNLESS_FIXTURE(name)						\
	do {									\
		const char *only = getenv("KTLS_TEST_FIXTURE");			\
		if (only && *only && strcmp(only, name))			\
			SKIP(longjmp(_metadata->env, 1), "KTLS_TEST_FIXTURE=%s", only); \
	} while (0)

/* ------------------------------------------------------------ small things */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int write_text(const char *path, const char *text)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* @rel beside this program's directory: "../bin/ktlsd" and the like. */
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

/*
 * Does the kernel have generic netlink family @name? 1, 0, or a negative
 * errno when the controller could not be asked.
 */
static int genl_family_exists(const char *name)
{
	struct {
		struct nlmsghdr nh;
		struct genlmsghdr gh;
		char attrs[64];
	} req = { 0 };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char reply[4096];
	struct nlattr *na = (struct nlattr *)req.attrs;
	struct nlmsghdr *nh = (struct nlmsghdr *)reply;
	size_t len = strlen(name) + 1;
	ssize_t n;
	int fd, ret;

	if (NLA_HDRLEN + len > sizeof(req.attrs))
		return -ENAMETOOLONG;
	na->nla_type = CTRL_ATTR_FAMILY_NAME;
	na->nla_len = NLA_HDRLEN + len;
	memcpy(req.attrs + NLA_HDRLEN, name, len);
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(na->nla_len));
	req.nh.nlmsg_type = GENL_ID_CTRL;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.gh.cmd = CTRL_CMD_GETFAMILY;
	req.gh.version = 1;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	n = sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	if (n >= 0)
		n = recv(fd, reply, sizeof(reply), 0);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	if ((size_t)n < sizeof(*nh) || !NLMSG_OK(nh, (size_t)n))
		return -EPROTO;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		ret = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
		return ret == -ENOENT ? 0 : ret;
	}
	return nh->nlmsg_type == GENL_ID_CTRL;
}

/* Is something listening on 127.0.0.1:@port? From /proc, so no connection is used up. */
static int port_listening(int port)
{
	unsigned int local_port, state;
	char line[256];
	int found = 0;
	FILE *f;

	f = fopen("/proc/net/tcp", "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x", &local_port, &state) == 2)
			found = local_port == (unsigned int)port && state == 0x0a;
	fclose(f);
	return found;
}

/* A port free on loopback now (bound, then let go). */
static int free_port(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd, port = -1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&addr, sizeof(addr)) &&
	    !getsockname(fd, (struct sockaddr *)&addr, &len))
		port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

/* ------------------------------------------------------------ processes */

struct proc {
	pid_t	pid;
	int	in;		/* its stdin, -1 when closed */
	char	log[128];	/* its stdout and stderr */
};

static void proc_init(struct proc *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->in = -1;
}

static int proc_start(struct proc *p, const char *dir, const char *name, char *const argv[])
{
	int in[2], log;

	snprintf(p->log, sizeof(p->log), "%s/%s.log", dir, name);
	log = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log < 0)
		return -errno;
	if (pipe2(in, O_CLOEXEC)) {
		close(log);
		return -errno;
	}
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (!p->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(log);
	p->in = in[1];
	return 0;
}

/* Its exit status within @timeout_ms; else it is killed and -ETIMEDOUT. */
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
	if (p->in >= 0)
		close(p->in);
	p->in = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		if (proc_wait(p, 2000) == -ETIMEDOUT)
			return;		/* proc_wait() killed it */
	}
	p->pid = -1;
}

static int proc_running(struct proc *p)
{
	return p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == 0;
}

static int log_has(const struct proc *p, const char *text)
{
	char buf[65536];

	return !read_text(p->log, buf, sizeof(buf)) && strstr(buf, text);
}

static void log_dump(struct __test_metadata *_metadata, const struct proc *p)
{
	char buf[8192], *line, *save = NULL;

	if (!p->log[0] || read_text(p->log, buf, sizeof(buf)))
		return;
	TH_LOG("---- %s:", p->log);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		TH_LOG("  | %s", line);
}

/* A command that must succeed, such as openssl making a certificate. */
static int run(const char *dir, char *const argv[])
{
	struct proc p;
	int ret;

	proc_init(&p);
	ret = proc_start(&p, dir, "run", argv);
	if (p.in >= 0)
		close(p.in);
	if (!ret)
		ret = proc_wait(&p, STEP_MS);
	return ret > 0 ? -EIO : ret;
}

/* ------------------------------------------------------------ the fixture */

FIXTURE(handshake) {
	char		dir[64];
	char		ca[96];
	char		cakey[96];
	char		conf[128];
	struct proc	daemon;
	struct proc	peer;
	int		loaded;		/* we loaded the module: we unload it */
	int		port;
};

static int load_module(FIXTURE_DATA(handshake) *self, char *why, size_t whylen)
{
	const char *env = getenv("KTLSD_HS_MODULE");
	char path[PATH_MAX], rel[128];
	struct utsname un;
	int fd, ret;

	uname(&un);
	snprintf(rel, sizeof(rel), "kmod/%s/%s.ko", un.release, MODULE_NAME);
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else if (beside_self(rel, path, sizeof(path)))
		snprintf(path, sizeof(path), "build/%s", rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%.200s: %s (make selftests-kmod)", path, strerror(errno));
		return -ENOENT;
	}
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	if (ret && ret != -EEXIST) {
		snprintf(why, whylen, "finit_module %.200s: %s", path, strerror(-ret));
		return ret;
	}
	self->loaded = !ret;
	return 0;
}

static void unload_module(FIXTURE_DATA(handshake) *self)
{
	long long deadline = now_ms() + 5000;

	if (!self->loaded)
		return;
	while (syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK) && errno == EWOULDBLOCK &&
	       now_ms() < deadline)
		usleep(50000);
	self->loaded = 0;
}

/* A key and a certificate for @host, signed by the test CA, as @name.pem/.key. */
static int make_cert(FIXTURE_DATA(handshake) *self, const char *name, const char *host)
{
	char key[96], cert[96], csr[96], ext[96], subj[96];
	char *csr_argv[] = { "openssl", "req", "-newkey", "ec", "-pkeyopt",
			     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
			     "-out", csr, "-subj", subj, NULL };
	char *sign_argv[] = { "openssl", "x509", "-req", "-in", csr, "-CA", self->ca,
			      "-CAkey", self->cakey, "-CAcreateserial", "-days", "2",
			      "-out", cert, "-extfile", ext, NULL };
	FILE *f;
	int ret;

	snprintf(key, sizeof(key), "%s/%s.key", self->dir, name);
	snprintf(cert, sizeof(cert), "%s/%s.pem", self->dir, name);
	snprintf(csr, sizeof(csr), "%s/%s.csr", self->dir, name);
	snprintf(ext, sizeof(ext), "%s/%s.ext", self->dir, name);
	snprintf(subj, sizeof(subj), "/CN=%s", host);
	f = fopen(ext, "w");
	if (!f)
		return -errno;
	fprintf(f, "subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n"
		"keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n",
		host);
	fclose(f);
	ret = run(self->dir, csr_argv);
	return ret ? ret : run(self->dir, sign_argv);
}

static int make_pki(FIXTURE_DATA(handshake) *self)
{
	char *ca_argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
			    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", self->cakey,
			    "-out", self->ca, "-days", "2", "-subj", "/CN=ktlsd handshake test CA",
			    "-addext", "basicConstraints=critical,CA:TRUE",
			    "-addext", "keyUsage=critical,keyCertSign", NULL };
	int ret;

	ret = run(self->dir, ca_argv);
	if (!ret)
		ret = make_cert(self, "server", TEST_HOST);
	if (!ret)
		ret = make_cert(self, "other", OTHER_HOST);
	return ret;
}

/*
 * The CA is the only trust for the client role; "web" serves and is the
 * client certificate for x509 requests; the module's family stays off.
 */
static int write_conf(FIXTURE_DATA(handshake) *self)
{
	FILE *f = fopen(self->conf, "w");

	if (!f)
		return -errno;
	fprintf(f, "[daemon]\nsocket = %s/ktlsd.sock\nnetlink = no\nlog_level = debug\n\n"
		"[trust test]\nca_file = %s\nsystem = no\n\n"
		"[client]\ntrust = test\n\n"
		"[identity web]\ncert = %s/server.pem\nkey = %s/server.key\n"
		"roles = server, client\nallow_users = root\ntrust = test\n\n"
		"[handshake]\nserver_identity = web\nclient_identity = web\n",
		self->dir, self->ca, self->dir, self->dir);
	return fclose(f) ? -errno : 0;
}

static int start_daemon(FIXTURE_DATA(handshake) *self)
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
	ret = proc_start(&self->daemon, self->dir, "ktlsd", argv);
	while (!ret && !log_has(&self->daemon, "handshake: serving")) {
		if (!proc_running(&self->daemon))
			return -ESRCH;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(20000);
	}
	return ret;
}

FIXTURE_SETUP(handshake)
{
	char why[320];
	int ret;

	SKIP_UNLESS_FIXTURE("handshake");
	proc_init(&self->daemon);
	proc_init(&self->peer);
	if (geteuid())
		SKIP(longjmp(_metadata->env, 1), "needs root (a module, CAP_NET_ADMIN)");
	ret = genl_family_exists("handshake");
	if (!ret)
		SKIP(longjmp(_metadata->env, 1),
		     "this kernel has no \"handshake\" genl family (net/handshake is 6.5+)");
	ASSERT_EQ(1, ret) TH_LOG("asking genl for \"handshake\": %s", strerror(-ret));
	ret = load_module(self, why, sizeof(why));
	if (ret == -ENOENT)
		SKIP(longjmp(_metadata->env, 1), "no test module: %s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	/* From here teardown runs, even when setup fails. */
	_metadata->setup_completed = true;
	if (access(HS_DIR, F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	ASSERT_EQ(0, access(HS_DIR "/run", W_OK)) TH_LOG("%s: %s", HS_DIR, strerror(errno));
	signal(SIGPIPE, SIG_IGN);

	snprintf(self->dir, sizeof(self->dir), "/tmp/ktlsd-hs.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->ca, sizeof(self->ca), "%s/ca.pem", self->dir);
	snprintf(self->cakey, sizeof(self->cakey), "%s/ca.key", self->dir);
	snprintf(self->conf, sizeof(self->conf), "%s/ktlsd.conf", self->dir);
	ret = make_pki(self);
	ASSERT_EQ(0, ret) TH_LOG("openssl: %s", strerror(-ret));
	ASSERT_EQ(0, write_conf(self));
	ret = start_daemon(self);
	ASSERT_EQ(0, ret) TH_LOG("ktlsd: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(handshake)
{
	char *rm_argv[] = { "rm", "-rf", self->dir, NULL };

	if (!_metadata->passed) {
		log_dump(_metadata, &self->daemon);
		log_dump(_metadata, &self->peer);
	}
	proc_stop(&self->peer);
	proc_stop(&self->daemon);
	if (self->dir[0] == '/')
		run("/tmp", rm_argv);
	unload_module(self);
}

/* ------------------------------------------------------------ the consumer */

/* What the module says after a command: "status=N ulp=NAME tx=N rx=N io=N line=TEXT". */
struct hs_result {
	int	status;
	char	ulp[16];
	int	tx;
	int	rx;
	int	io;
	char	line[128];
	char	text[256];
};

static int hs_command(const char *command, struct hs_result *res)
{
	const char *line;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = write_text(HS_DIR "/run", command);
	if (ret)
		return ret;
	ret = read_text(HS_DIR "/result", res->text, sizeof(res->text));
	if (ret)
		return ret;
	if (sscanf(res->text, "status=%d ulp=%15s tx=%d rx=%d io=%d", &res->status, res->ulp,
		   &res->tx, &res->rx, &res->io) != 5)
		return -EPROTO;
	line = strstr(res->text, " line=");
	if (line)
		snprintf(res->line, sizeof(res->line), "%.*s", (int)strcspn(line + 6, " \n"),
			 line + 6);
	return 0;
}

/*
 * s_server -rev: each line comes back reversed; one connection. With
 * @client_cert it requires a client certificate from the test CA.
 */
static int start_s_server(FIXTURE_DATA(handshake) *self, const char *name, int client_cert)
{
	char accept_arg[32], cert[96], key[96];
	char *argv[] = { "openssl", "s_server", "-rev", "-naccept", "1", "-accept", accept_arg,
			 "-cert", cert, "-key", key, "-num_tickets", "0",
			 client_cert ? "-Verify" : NULL, "1", "-CAfile", self->ca, NULL };
	long long deadline = now_ms() + STEP_MS;
	int ret;

	self->port = free_port();
	if (self->port < 0)
		return -EADDRNOTAVAIL;
	snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", self->port);
	snprintf(cert, sizeof(cert), "%s/%s.pem", self->dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", self->dir, name);
	ret = proc_start(&self->peer, self->dir, "s_server", argv);
	while (!ret && !port_listening(self->port)) {
		if (!proc_running(&self->peer))
			return -ESRCH;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(20000);
	}
	return ret;
}

static void client_case(struct __test_metadata *_metadata, FIXTURE_DATA(handshake) *self,
			const char *verb, int client_cert)
{
	char command[128];
	struct hs_result res;
	int ret;

	ret = start_s_server(self, "server", client_cert);
	ASSERT_EQ(0, ret) TH_LOG("s_server: %s", strerror(-ret));
	snprintf(command, sizeof(command), "%s %d %s", verb, self->port, TEST_HOST);
	ret = hs_command(command, &res);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", command, strerror(-ret));
	TH_LOG("%s -> %s", command, res.text);
	ASSERT_EQ(0, res.status) TH_LOG("handshake: %s", strerror(-res.status));
	EXPECT_STREQ("tls", res.ulp);
	EXPECT_LE(1, res.tx);
	EXPECT_LE(1, res.rx);
	EXPECT_EQ(0, res.io);
	EXPECT_STREQ("gnip", res.line);
	EXPECT_TRUE(log_has(&self->daemon, "handshake ok"));
	EXPECT_TRUE(log_has(&self->daemon, "via=handshake"));
}

TEST_F_TIMEOUT(handshake, client_anon, 120)
{
	client_case(_metadata, self, "client", 0);
}

TEST_F_TIMEOUT(handshake, client_x509, 120)
{
	/* s_server insists on a client certificate: [handshake] client_identity's */
	client_case(_metadata, self, "client-x509", 1);
}

/* The server's certificate names another host: the kernel hears a rejection. */
TEST_F_TIMEOUT(handshake, client_wrong_name, 120)
{
	char command[128];
	struct hs_result res;
	int ret;

	ret = start_s_server(self, "other", 0);
	ASSERT_EQ(0, ret) TH_LOG("s_server: %s", strerror(-ret));
	snprintf(command, sizeof(command), "client %d %s", self->port, TEST_HOST);
	ret = hs_command(command, &res);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", command, strerror(-ret));
	TH_LOG("%s -> %s", command, res.text);
	EXPECT_TRUE(res.status == -EKEYREJECTED || res.status == -EACCES)
		TH_LOG("status %d (%s)", res.status, strerror(-res.status));
	/* the "tls" ULP may stay attached (it cannot come off), but never keyed */
	EXPECT_EQ(0, res.tx);
	EXPECT_EQ(0, res.rx);
	EXPECT_TRUE(log_has(&self->daemon, "handshake failed"));
}

/* The module serves; s_client verifies it against the CA and the name. */
TEST_F_TIMEOUT(handshake, server_x509, 120)
{
	char command[64], connect_arg[32], out[4096];
	char *argv[] = { "openssl", "s_client", "-quiet", "-connect", connect_arg,
			 "-verify_return_error", "-verify_hostname", TEST_HOST,
			 "-servername", TEST_HOST, "-CAfile", self->ca, NULL };
	struct hs_result res;
	int ret;

	self->port = free_port();
	ASSERT_LT(0, self->port);
	snprintf(command, sizeof(command), "listen %d", self->port);
	ASSERT_EQ(0, hs_command(command, &res)) TH_LOG("%s", res.text);
	snprintf(connect_arg, sizeof(connect_arg), "127.0.0.1:%d", self->port);
	ASSERT_EQ(0, proc_start(&self->peer, self->dir, "s_client", argv));
	ASSERT_EQ(5, write(self->peer.in, "ping\n", 5));
	ret = hs_command("server", &res);
	ASSERT_EQ(0, ret) TH_LOG("server: %s", strerror(-ret));
	TH_LOG("server -> %s", res.text);
	ASSERT_EQ(0, res.status) TH_LOG("handshake: %s", strerror(-res.status));
	EXPECT_STREQ("tls", res.ulp);
	EXPECT_LE(1, res.tx);
	EXPECT_LE(1, res.rx);
	EXPECT_STREQ("ping", res.line);
	/* the module closed after its answer: s_client ends */
	proc_wait(&self->peer, STEP_MS);
	ASSERT_EQ(0, read_text(self->peer.log, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "gnip")) TH_LOG("s_client: %s", out);
	EXPECT_TRUE(log_has(&self->daemon, "role=server"));
}

/* Nobody in the "tlshd" group: the kernel refuses the request at once. */
TEST_F_TIMEOUT(handshake, no_daemon, 120)
{
	char command[128];
	struct hs_result res;
	int ret;

	proc_stop(&self->daemon);
	ret = start_s_server(self, "server", 0);
	ASSERT_EQ(0, ret) TH_LOG("s_server: %s", strerror(-ret));
	snprintf(command, sizeof(command), "client %d %s", self->port, TEST_HOST);
	ret = hs_command(command, &res);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", command, strerror(-ret));
	EXPECT_EQ(-ESRCH, res.status) TH_LOG("%s", res.text);
}

TEST_HARNESS_MAIN
