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
#include <linux/keyctl.h>
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
#include "test_util.h"

#define TEST_HOST	"ktlsd-hs.test"
#define OTHER_HOST	"other-hs.test"
#define KEYRING_HOST	"keyring-hs.test"
#define STEP_MS		30000
#define MODULE_NAME	"ktlsd_hs_test"
#define DEBUGFS		"/sys/kernel/debug"
#define HS_DIR		DEBUGFS "/" MODULE_NAME

/* ------------------------------------------------------------ small things */

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

/* ------------------------------------------------------------ the fixture */

FIXTURE(handshake) {
	char		dir[64];
	char		ca[96];
	char		cakey[96];
	char		conf[128];
	struct tu_proc	daemon;
	struct tu_proc	peer;
	int		loaded;		/* we loaded the module: we unload it */
	int		port;
};

static int load_module(FIXTURE_DATA(handshake) *self, char *why, size_t whylen)
{
	int ret = tu_module_load(MODULE_NAME, "KTLSD_HS_MODULE", "kmod", why, whylen);

	self->loaded = !ret;
	return ret == 1 ? 0 : ret;
}

/* A key and a certificate for @host, signed by the test CA, as @name.pem/.key. */
static int make_cert(FIXTURE_DATA(handshake) *self, const char *name, const char *host,
		     int serial)
{
	char key[96], cert[96], san[96];

	snprintf(key, sizeof(key), "%s/%s.key", self->dir, name);
	snprintf(cert, sizeof(cert), "%s/%s.pem", self->dir, name);
	snprintf(san, sizeof(san), "DNS:%s", host);
	return tu_make_cert(self->dir, self->ca, self->cakey, host, san, serial, key, cert);
}

static int make_pki(FIXTURE_DATA(handshake) *self)
{
	int ret;

	ret = tu_make_ca(self->dir, "ktlsd handshake test CA", self->cakey, self->ca);
	if (!ret)
		ret = make_cert(self, "server", TEST_HOST, 2);
	if (!ret)
		ret = make_cert(self, "other", OTHER_HOST, 3);
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

FIXTURE_SETUP(handshake)
{
	char why[320];
	int ret;

	SKIP_UNLESS_FIXTURE("handshake");
	tu_proc_init(&self->daemon);
	tu_proc_init(&self->peer);
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
	ret = tu_start_ktlsd(&self->daemon, self->dir, self->conf, "handshake: serving", STEP_MS);
	ASSERT_EQ(0, ret) TH_LOG("ktlsd: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(handshake)
{
	char *rm_argv[] = { "rm", "-rf", self->dir, NULL };

	if (!_metadata->passed) {
		TU_LOG_DUMP(self->daemon.log);
		TU_LOG_DUMP(self->peer.log);
	}
	tu_proc_stop(&self->peer, SIGTERM);
	tu_proc_stop(&self->daemon, SIGTERM);
	if (self->dir[0] == '/')
		tu_run("/tmp", rm_argv, STEP_MS);
	if (self->loaded)
		tu_module_unload(MODULE_NAME, 5000);
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
	ret = tu_read_text(HS_DIR "/result", res->text, sizeof(res->text));
	if (ret < 0)
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
	long long deadline = tu_now_ms() + STEP_MS;
	int ret;

	self->port = tu_free_port();
	if (self->port < 0)
		return -EADDRNOTAVAIL;
	snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", self->port);
	snprintf(cert, sizeof(cert), "%s/%s.pem", self->dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", self->dir, name);
	ret = tu_proc_start(&self->peer, self->dir, "s_server", argv, 0);
	while (!ret && !port_listening(self->port)) {
		if (!tu_proc_running(&self->peer))
			return -ESRCH;
		if (tu_now_ms() >= deadline)
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
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, "handshake ok"));
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, "via=handshake"));
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
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, "handshake failed"));
}

/*
 * The module serves one connection; s_client verifies it against the CA
 * and @host, sends a line, and gets it back reversed over kTLS.
 */
static void server_case(struct __test_metadata *_metadata, FIXTURE_DATA(handshake) *self,
			const char *host)
{
	char command[64], connect_arg[32], out[4096];
	char *argv[] = { "openssl", "s_client", "-quiet", "-connect", connect_arg,
			 "-verify_return_error", "-verify_hostname", (char *)host,
			 "-servername", (char *)host, "-CAfile", self->ca, NULL };
	struct hs_result res;
	int ret;

	self->port = tu_free_port();
	ASSERT_LT(0, self->port);
	snprintf(command, sizeof(command), "listen %d", self->port);
	ASSERT_EQ(0, hs_command(command, &res)) TH_LOG("%s", res.text);
	snprintf(connect_arg, sizeof(connect_arg), "127.0.0.1:%d", self->port);
	ASSERT_EQ(0, tu_proc_start(&self->peer, self->dir, "s_client", argv, 0));
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
	tu_proc_wait(&self->peer, STEP_MS);
	ASSERT_LE(0, tu_read_text(self->peer.log, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "gnip")) TH_LOG("s_client: %s", out);
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, "role=server"));
}

/* [handshake] server_identity's certificate. */
TEST_F_TIMEOUT(handshake, server_x509, 120)
{
	server_case(_metadata, self, TEST_HOST);
}

/* Nobody in the "tlshd" group: the kernel refuses the request at once. */
TEST_F_TIMEOUT(handshake, no_daemon, 120)
{
	char command[128];
	struct hs_result res;
	int ret;

	tu_proc_stop(&self->daemon, SIGTERM);
	ret = start_s_server(self, "server", 0);
	ASSERT_EQ(0, ret) TH_LOG("s_server: %s", strerror(-ret));
	snprintf(command, sizeof(command), "client %d %s", self->port, TEST_HOST);
	ret = hs_command(command, &res);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", command, strerror(-ret));
	EXPECT_EQ(-ESRCH, res.status) TH_LOG("%s", res.text);
}

/* ------------------------------------------------------------ the consumer's own keys */

/*
 * @name.pem and .key as DER "user" keys in our session keyring, as an
 * admin would add them for NFS or NVMe (keyctl padd user ... @s), readable
 * by root's user as well as by their possessors: ktlsd reads them by serial.
 */
static int add_der_key(FIXTURE_DATA(handshake) *self, const char *file, int is_key,
		       int32_t keyring, int32_t *serial)
{
	char in[128], out[128], data[8192];
	char *argv[] = { "openssl", is_key ? "pkey" : "x509", "-in", in, "-outform", "DER",
			 "-out", out, NULL };
	long ret;
	int len;

	snprintf(in, sizeof(in), "%s/%s", self->dir, file);
	snprintf(out, sizeof(out), "%s/%s.der", self->dir, file);
	ret = tu_run(self->dir, argv, STEP_MS);
	if (ret)
		return ret < 0 ? (int)ret : -EIO;
	len = tu_read_text(out, data, sizeof(data));
	if (len <= 0)
		return len < 0 ? len : -ENODATA;
	ret = syscall(SYS_add_key, "user", file, data, (size_t)len,
		      keyring ? keyring : KEY_SPEC_SESSION_KEYRING);
	memset(data, 0, sizeof(data));
	if (ret < 0)
		return -errno;
	*serial = (int32_t)ret;
	/* possessor: all; user: view and read. In @keyring: possessors only. */
	if (!keyring && syscall(SYS_keyctl, KEYCTL_SETPERM, *serial, 0x3f030000L) < 0)
		return -errno;
	return 0;
}

/* @keyring: 0, or the keyring to put them in and to name in the request. */
static void set_keys(struct __test_metadata *_metadata, FIXTURE_DATA(handshake) *self,
		     const char *name, int32_t keyring, int32_t *cert, int32_t *key)
{
	char file[64], command[96];
	struct hs_result res;
	int ret;

	snprintf(file, sizeof(file), "%s.pem", name);
	ret = add_der_key(self, file, 0, keyring, cert);
	ASSERT_EQ(0, ret) TH_LOG("%s as a key: %s", file, strerror(-ret));
	snprintf(file, sizeof(file), "%s.key", name);
	ret = add_der_key(self, file, 1, keyring, key);
	ASSERT_EQ(0, ret) TH_LOG("%s as a key: %s", file, strerror(-ret));
	snprintf(command, sizeof(command), "keys %d %d %d", *cert, *key, keyring);
	ASSERT_EQ(0, hs_command(command, &res)) TH_LOG("%s", res.text);
}

/*
 * An x509 client hello with the keys "keys" named: s_server requires a
 * client certificate and says whose it got, into @out.
 */
static void client_case_keys(struct __test_metadata *_metadata, FIXTURE_DATA(handshake) *self,
			     int32_t cert, int32_t key, char *out, size_t size)
{
	char log[64];

	client_case(_metadata, self, "client-x509", 1);
	snprintf(log, sizeof(log), "identity=\"keys:%d/%d\"", cert, key);
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, log));
	tu_proc_stop(&self->peer, SIGTERM);
	ASSERT_LE(0, tu_read_text(self->peer.log, out, size));
	EXPECT_NE(NULL, strstr(out, "CN = " KEYRING_HOST)) TH_LOG("s_server: %s", out);
}

/* The consumer names its own certificate: the keys' subject, not client_identity's. */
TEST_F_TIMEOUT(handshake, client_x509_own_keys, 120)
{
	int32_t cert, key;
	char out[8192];

	ASSERT_EQ(0, make_cert(self, "keyring", KEYRING_HOST, 4));
	set_keys(_metadata, self, "keyring", 0, &cert, &key);
	client_case_keys(_metadata, self, cert, key, out, sizeof(out));
	EXPECT_EQ(NULL, strstr(out, "CN = " TEST_HOST)) TH_LOG("s_server: %s", out);
}

/* An x509 client hello with the keys @keys_command named: refused with @status. */
static void client_keys_refused(struct __test_metadata *_metadata,
				FIXTURE_DATA(handshake) *self, const char *keys_command,
				int status, const char *logged)
{
	char command[128];
	struct hs_result res;
	int ret;

	ASSERT_EQ(0, hs_command(keys_command, &res)) TH_LOG("%s", res.text);
	ret = start_s_server(self, "server", 0);
	ASSERT_EQ(0, ret) TH_LOG("s_server: %s", strerror(-ret));
	snprintf(command, sizeof(command), "client-x509 %d %s", self->port, TEST_HOST);
	ret = hs_command(command, &res);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", command, strerror(-ret));
	TH_LOG("%s, %s -> %s", keys_command, command, res.text);
	EXPECT_EQ(status, res.status) TH_LOG("status %d (%s)", res.status, strerror(-res.status));
	EXPECT_EQ(0, res.tx);
	EXPECT_EQ(0, res.rx);
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, logged)) TH_LOG("no \"%s\" logged", logged);
}

/*
 * As NFS and NVMe hand them over: the keys in a keyring of the consumer's
 * that only its possessors may read, named in the request. The kernel
 * links that keyring into ktlsd's process keyring at ACCEPT, which makes
 * ktlsd a possessor; nothing else would let it read them.
 */
TEST_F_TIMEOUT(handshake, client_x509_keys_in_consumer_keyring, 120)
{
	char out[8192], none[64];
	int32_t ring, cert, key;
	long ret;

	ASSERT_EQ(0, make_cert(self, "keyring", KEYRING_HOST, 4));
	ret = syscall(SYS_add_key, "keyring", "ktlsd-hs-test", NULL, (size_t)0,
		      KEY_SPEC_PROCESS_KEYRING);
	ASSERT_LT(0, ret) TH_LOG("a keyring: %s", strerror(errno));
	ring = (int32_t)ret;
	/* possessor: all; user: view, search and link (what ACCEPT's link needs) */
	ASSERT_EQ(0, syscall(SYS_keyctl, KEYCTL_SETPERM, ring, 0x3f190000L))
		TH_LOG("setperm: %s", strerror(errno));
	set_keys(_metadata, self, "keyring", ring, &cert, &key);
	/* Without the keyring named, ktlsd cannot read them. */
	snprintf(none, sizeof(none), "keys %d %d 0", cert, key);
	client_keys_refused(_metadata, self, none, -EACCES, "certificate key");
	snprintf(none, sizeof(none), "keys %d %d %d", cert, key, ring);
	ASSERT_EQ(0, hs_command(none, &(struct hs_result){ 0 }));
	tu_proc_stop(&self->peer, SIGKILL);
	client_case_keys(_metadata, self, cert, key, out, sizeof(out));
}

/* The module serves with the keys' certificate: s_client checks its name. */
TEST_F_TIMEOUT(handshake, server_x509_own_keys, 120)
{
	int32_t cert, key;
	char log[64];

	ASSERT_EQ(0, make_cert(self, "keyring", KEYRING_HOST, 4));
	set_keys(_metadata, self, "keyring", 0, &cert, &key);
	server_case(_metadata, self, KEYRING_HOST);
	snprintf(log, sizeof(log), "identity=\"keys:%d/%d\"", cert, key);
	EXPECT_TRUE(tu_proc_log_has(&self->daemon, log));
}

/* Keys that do not exist: the consumer hears ENOKEY, and nothing is keyed. */
TEST_F_TIMEOUT(handshake, client_x509_missing_keys, 120)
{
	client_keys_refused(_metadata, self, "keys 2147483000 2147483001", -ENOKEY,
			    "certificate key 2147483000");
}

/* A certificate key and a private key that do not belong together: EKEYREJECTED. */
TEST_F_TIMEOUT(handshake, client_x509_mismatched_keys, 120)
{
	int32_t cert, key, other_cert, other_key;
	char command[96];

	ASSERT_EQ(0, make_cert(self, "keyring", KEYRING_HOST, 4));
	set_keys(_metadata, self, "keyring", 0, &cert, &key);
	set_keys(_metadata, self, "other", 0, &other_cert, &other_key);
	snprintf(command, sizeof(command), "keys %d %d", cert, other_key);
	client_keys_refused(_metadata, self, command, -EKEYREJECTED, "does not match");
}

TEST_HARNESS_MAIN
