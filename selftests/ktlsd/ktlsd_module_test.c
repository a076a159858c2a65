// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsd_module_test.c - ktlsd.ko alone, with this program as the daemon.
 *
 * The module is loaded from ../module/<release>/ktlsd.ko beside this
 * program (or $KTLSD_MODULE) and unloaded by the last test. An acceptor
 * written here with libnl-genl-3 joins the "ready" group, ACCEPTs and
 * answers DONE without any handshake, so every path of the module is
 * driven directly: success and daemon errnos, refusals (no daemon, not
 * connected, not TCP, a second request, a bad request), the module's
 * timeout, a signal, a close, the acceptor going away after ACCEPT or
 * before it, ACCEPT out of descriptors, the non-blocking form's error
 * queue, the counters and the dump, two network namespaces, module unload
 * with a request pending, and 1,000 upgrades in flight at once.
 *
 * Every TCP pair lingers 0 on close: a socket closed with the ULP still
 * attached is then destroyed at once (RST) and gives its module reference
 * back, instead of holding it through FIN_WAIT.
 *
 * KTLS_TEST_FIXTURE=ktlsd_module runs this fixture (as in ktls_peer_test.c).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <linux/ktlsd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kselftest_harness.h"
#include "test_util.h"

#ifndef SO_COOKIE
#define SO_COOKIE		57
#endif

#define MODULE_NAME		"ktlsd"
#define ACCEPT_WAIT_MS		10000
#define MANY			1000
#define MANY_TIMEOUT_MS		240000

/* ------------------------------------------------------------ the module */

static bool module_loaded(void)
{
	return access("/sys/module/" MODULE_NAME, F_OK) == 0;
}

/* ------------------------------------------------------------ the acceptor */

struct nl {
	struct nl_sock	*cmd;
	struct nl_sock	*ready;		/* joined to "ready": the daemon's presence */
	int		family;
};

static void acceptor_close(struct nl *nl)
{
	if (nl->ready)
		nl_socket_free(nl->ready);
	if (nl->cmd)
		nl_socket_free(nl->cmd);
	nl->ready = NULL;
	nl->cmd = NULL;
}

static void acceptor_stop_listening(struct nl *nl)
{
	if (nl->ready)
		nl_socket_free(nl->ready);
	nl->ready = NULL;
}

static int acceptor_open(struct nl *nl, bool listen)
{
	int group;

	memset(nl, 0, sizeof(*nl));
	nl->cmd = nl_socket_alloc();
	if (!nl->cmd || genl_connect(nl->cmd))
		goto out_close;
	nl->family = genl_ctrl_resolve(nl->cmd, KTLSD_FAMILY_NAME);
	if (nl->family < 0)
		goto out_close;
	if (!listen)
		return 0;
	group = genl_ctrl_resolve_grp(nl->cmd, KTLSD_FAMILY_NAME, KTLSD_MCGRP_READY);
	nl->ready = nl_socket_alloc();
	if (group < 0 || !nl->ready || genl_connect(nl->ready))
		goto out_close;
	nl_socket_disable_seq_check(nl->ready);
	/* Never read: a full buffer only drops notifications. */
	if (nl_socket_add_membership(nl->ready, group))
		goto out_close;
	return 0;

out_close:
	acceptor_close(nl);
	return -1;
}

/* Every attribute of one reply; the strings point into a copy. */
struct reply {
	bool		has[KTLSD_A_MAX + 1];
	uint64_t	u64[KTLSD_A_MAX + 1];
	char		str[KTLSD_A_MAX + 1][KTLSD_TEXT_MAX + 1];
	unsigned char	bin[KTLSD_A_MAX + 1][1024];
	size_t		bin_len[KTLSD_A_MAX + 1];
};

static void reply_parse(struct reply *r, struct nlattr **tb)
{
	int type;

	memset(r, 0, sizeof(*r));
	for (type = 1; type <= KTLSD_A_MAX; type++) {
		struct nlattr *a = tb[type];
		size_t len;

		if (!a)
			continue;
		len = nla_len(a);
		r->has[type] = true;
		if (len == 4)
			r->u64[type] = nla_get_u32(a);
		else if (len == 8)
			r->u64[type] = nla_get_u64(a);
		memcpy(r->bin[type], nla_data(a), len < sizeof(r->bin[0]) ? len : sizeof(r->bin[0]));
		r->bin_len[type] = len;
		snprintf(r->str[type], sizeof(r->str[0]), "%.*s", (int)len, (char *)nla_data(a));
	}
}

struct call {
	int		err;
	bool		done;
	struct reply	*replies;
	int		max;
	int		count;
};

static int call_valid(struct nl_msg *msg, void *arg)
{
	struct call *c = arg;
	struct nlattr *tb[KTLSD_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KTLSD_A_MAX, NULL))
		return NL_SKIP;
	if (c->count < c->max)
		reply_parse(&c->replies[c->count], tb);
	c->count++;
	return NL_OK;
}

static int call_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct call *c = arg;

	(void)who;
	c->err = e->error;
	c->done = true;
	return NL_STOP;
}

static int call_end(struct nl_msg *msg, void *arg)
{
	struct call *c = arg;

	(void)msg;
	c->done = true;
	return NL_STOP;
}

struct attr_u32 {
	int		type;
	uint32_t	value;
};

/*
 * One command; its u32 and string attributes from the lists, a u64
 * request id when @id is not 0. Returns 0 or the kernel's -errno; the
 * replies (one, or a dump's several) go to @replies.
 */
static int nl_call(struct nl *nl, uint8_t cmd, int flags, uint64_t id,
		   const struct attr_u32 *u32s, int n_u32,
		   const char *const *strs, int n_strs,
		   struct reply *replies, int max, int *count)
{
	struct call c = { .replies = replies, .max = max };
	struct nl_msg *msg = nlmsg_alloc();
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int i, ret = -ENOMEM;

	if (!msg || !cb)
		goto out;
	ret = -EMSGSIZE;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags, cmd,
			 KTLSD_FAMILY_VERSION))
		goto out;
	if (id && nla_put_u64(msg, KTLSD_A_REQUEST_ID, id))
		goto out;
	for (i = 0; i < n_u32; i++)
		if (nla_put_u32(msg, u32s[i].type, u32s[i].value))
			goto out;
	for (i = 0; i + 1 < n_strs; i += 2)
		if (nla_put_string(msg, (int)(intptr_t)strs[i], strs[i + 1]))
			goto out;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, call_valid, &c);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, call_end, &c);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, call_end, &c);
	nl_cb_err(cb, NL_CB_CUSTOM, call_error, &c);
	ret = -EIO;
	if (nl_send_auto(nl->cmd, msg) < 0)
		goto out;
	while (!c.done)
		if (nl_recvmsgs(nl->cmd, cb) < 0 && !c.done)
			goto out;
	ret = c.err;
	if (count)
		*count = c.count;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return ret;
}

static int nl_accept(struct nl *nl, struct reply *r)
{
	return nl_call(nl, KTLSD_CMD_ACCEPT, 0, 0, NULL, 0, NULL, 0, r, 1, NULL);
}

/* ACCEPT until a request comes (the requester may not have queued yet). */
static int nl_accept_wait(struct nl *nl, struct reply *r)
{
	long long deadline = tu_now_ms() + ACCEPT_WAIT_MS;
	int ret;

	while ((ret = nl_accept(nl, r)) == -ENOENT && tu_now_ms() < deadline)
		usleep(10000);
	return ret;
}

#define S(attr)	((const char *)(intptr_t)(attr))

static int nl_done(struct nl *nl, uint64_t id, uint32_t status, const char *cipher)
{
	const struct attr_u32 u32s[] = {
		{ KTLSD_A_STATUS, status },
		{ KTLSD_A_VERSION, 0x0304 },
	};
	const char *strs[] = { S(KTLSD_A_CIPHER), cipher ? cipher : "" };

	return nl_call(nl, KTLSD_CMD_DONE, 0, id, u32s, 2, strs, cipher ? 2 : 0,
		       NULL, 0, NULL);
}

static int nl_stats(struct nl *nl, struct reply *r)
{
	return nl_call(nl, KTLSD_CMD_STATS_GET, 0, 0, NULL, 0, NULL, 0, r, 1, NULL);
}

/* How many times @err ended a request, from STATS_BY_ERRNO. */
static uint64_t stats_errno(const struct reply *r, uint32_t err)
{
	const struct ktlsd_errno_count *ec = (const void *)r->bin[KTLSD_A_STATS_BY_ERRNO];
	size_t i, n = r->bin_len[KTLSD_A_STATS_BY_ERRNO] / sizeof(*ec);

	for (i = 0; i < n; i++)
		if (ec[i].kec_errno == err)
			return ec[i].kec_count;
	return 0;
}

/* ------------------------------------------------------------ sockets */

static int set_linger0(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* A connected loopback IPv4 pair, both ends lingering 0. */
static int tcp_pair(int *client, int *server)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int lfd, c = -1, s = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len))
		goto out;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sin, sizeof(sin)))
		goto out;
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0 || set_linger0(c) || set_linger0(s))
		goto out;
	close(lfd);
	*client = c;
	*server = s;
	return 0;
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	close(lfd);
	return -1;
}

static int set_ulp(int fd)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_ULP, KTLSD_ULP_NAME,
			  sizeof(KTLSD_ULP_NAME)) ? -errno : 0;
}

static void get_ulp(int fd, char *name, size_t len)
{
	socklen_t l = len - 1;

	memset(name, 0, len);
	if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, name, &l))
		snprintf(name, len, "error %d", errno);
}

static uint64_t cookie_of(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len);
	return cookie;
}

static void upgrade_init(struct ktlsd_upgrade *ku, uint32_t timeout_ms)
{
	memset(ku, 0, sizeof(*ku));
	ku->ku_role = KTLSD_ROLE_CLIENT;
	ku->ku_verify = KTLSD_VERIFY_REQUIRED;
	ku->ku_timeout_ms = timeout_ms;
	strcpy(ku->ku_peer_name, "peer.example");
	strcpy(ku->ku_alpn, "h2,http/1.1");
	strcpy(ku->ku_identity, "test");
}

static int upgrade_with(int fd, const struct ktlsd_upgrade *ku)
{
	return setsockopt(fd, KTLSD_SOL, KTLSD_OPT_UPGRADE, ku, sizeof(*ku)) ? -errno : 0;
}

static int upgrade(int fd, uint32_t timeout_ms)
{
	struct ktlsd_upgrade ku;

	upgrade_init(&ku, timeout_ms);
	return upgrade_with(fd, &ku);
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* The completion of a non-blocking upgrade: 0 with *ee filled, or -errno. */
static int read_completion(int fd, struct sock_extended_err *ee, int timeout_ms)
{
	char control[256];
	struct iovec iov = { 0 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct pollfd pfd = { .fd = fd, .events = 0 };
	struct cmsghdr *cm;

	if (poll(&pfd, 1, timeout_ms) != 1 || !(pfd.revents & POLLERR))
		return -ETIMEDOUT;
	if (recvmsg(fd, &msg, MSG_ERRQUEUE) < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) {
			memcpy(ee, CMSG_DATA(cm), sizeof(*ee));
			return 0;
		}
	}
	return -ENOMSG;
}

static int so_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

/* A child that upgrades @fd blocking and exits with the errno (0: ok). */
static pid_t upgrade_in_child(int fd, uint32_t timeout_ms)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(-upgrade(fd, timeout_ms));
	return pid;
}

static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* ------------------------------------------------------------ fixture */

FIXTURE(ktlsd_module) {
	struct nl	nl;
	int		client;
	int		server;
};

FIXTURE_SETUP(ktlsd_module)
{
	char why[400] = "";
	int ret;

	SKIP_UNLESS_FIXTURE("ktlsd_module");
	self->client = self->server = -1;
	ret = tu_module_load(MODULE_NAME, "KTLSD_MODULE", "module", why, sizeof(why));
	if (ret == 1)
		ret = 0;	/* in already */
	if (ret == -ENOENT)
		SKIP(longjmp(_metadata->env, 1), "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	ASSERT_EQ(0, acceptor_open(&self->nl, true));
	ASSERT_EQ(0, tcp_pair(&self->client, &self->server));
}

FIXTURE_TEARDOWN(ktlsd_module)
{
	if (self->client >= 0)
		close(self->client);
	if (self->server >= 0)
		close(self->server);
	acceptor_close(&self->nl);
}

/* Blocking upgrade; the acceptor checks what it is told and answers ok. */
TEST_F(ktlsd_module, success)
{
	struct reply acc, stats0, stats1;
	char ulp[32];
	pid_t pid;

	ASSERT_EQ(0, nl_stats(&self->nl, &stats0));
	ASSERT_EQ(0, set_ulp(self->client));
	get_ulp(self->client, ulp, sizeof(ulp));
	ASSERT_STREQ(KTLSD_ULP_NAME, ulp);
	pid = upgrade_in_child(self->client, 0);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, nl_accept_wait(&self->nl, &acc));
	ASSERT_TRUE(acc.has[KTLSD_A_SOCKFD]);
	EXPECT_EQ(cookie_of(self->client), acc.u64[KTLSD_A_SOCK_COOKIE]);
	EXPECT_EQ(cookie_of(self->client), cookie_of((int)acc.u64[KTLSD_A_SOCKFD]));
	EXPECT_NE(0, fcntl((int)acc.u64[KTLSD_A_SOCKFD], F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(KTLSD_ROLE_CLIENT, acc.u64[KTLSD_A_ROLE]);
	EXPECT_EQ(KTLSD_VERIFY_REQUIRED, acc.u64[KTLSD_A_VERIFY]);
	EXPECT_STREQ("peer.example", acc.str[KTLSD_A_PEER_NAME]);
	EXPECT_STREQ("h2,http/1.1", acc.str[KTLSD_A_ALPN]);
	EXPECT_STREQ("test", acc.str[KTLSD_A_IDENTITY]);
	EXPECT_EQ(getuid(), acc.u64[KTLSD_A_UID]);
	EXPECT_EQ(getgid(), acc.u64[KTLSD_A_GID]);
	EXPECT_EQ((uint64_t)pid, acc.u64[KTLSD_A_PID]);
	EXPECT_EQ(KTLSD_REQ_ACCEPTED, acc.u64[KTLSD_A_STATE]);
	EXPECT_TRUE(acc.has[KTLSD_A_GROUPS]);
	EXPECT_EQ(sizeof(struct sockaddr_in), acc.bin_len[KTLSD_A_LOCAL_ADDR]);
	EXPECT_EQ(sizeof(struct sockaddr_in), acc.bin_len[KTLSD_A_PEER_ADDR]);
	EXPECT_LT(0, acc.u64[KTLSD_A_TIMEOUT_MS]);
	EXPECT_GE(30000, acc.u64[KTLSD_A_TIMEOUT_MS]);
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0,
			     "TLS_AES_128_GCM_SHA256"));
	EXPECT_EQ(0, child_status(pid));
	close((int)acc.u64[KTLSD_A_SOCKFD]);
	get_ulp(self->client, ulp, sizeof(ulp));
	EXPECT_STREQ("", ulp);
	/* The same id again is gone. */
	EXPECT_EQ(-ENOENT, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	ASSERT_EQ(0, nl_stats(&self->nl, &stats1));
	EXPECT_EQ(stats0.u64[KTLSD_A_STATS_SUBMITTED] + 1, stats1.u64[KTLSD_A_STATS_SUBMITTED]);
	EXPECT_EQ(stats0.u64[KTLSD_A_STATS_OK] + 1, stats1.u64[KTLSD_A_STATS_OK]);
	EXPECT_EQ(0, stats1.u64[KTLSD_A_STATS_IN_FLIGHT]);
	/* The socket is plain TCP again and still works. */
	EXPECT_EQ(1, send(self->client, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(1, recv(self->server, ulp, 1, 0));
}

/* The daemon's errno is the requester's. */
TEST_F(ktlsd_module, done_errno)
{
	struct reply acc;
	char ulp[32];
	pid_t pid;

	ASSERT_EQ(0, set_ulp(self->client));
	pid = upgrade_in_child(self->client, 0);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, nl_accept_wait(&self->nl, &acc));
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], EKEYREJECTED, NULL));
	EXPECT_EQ(EKEYREJECTED, child_status(pid));
	close((int)acc.u64[KTLSD_A_SOCKFD]);
	get_ulp(self->client, ulp, sizeof(ulp));
	EXPECT_STREQ("", ulp);
	/* A status that is no errno is refused by the policy's range. */
	EXPECT_EQ(-ERANGE, nl_done(&self->nl, 1, 70000, NULL));
}

/*
 * The daemon's own path: it sets "tls" on the accepted socket, which takes
 * the module off first. With success the requester has a "tls" socket.
 */
TEST_F(ktlsd_module, tls_switch)
{
	struct reply acc;
	char ulp[32];
	pid_t pid;
	int fd;

	ASSERT_EQ(0, set_ulp(self->client));
	pid = upgrade_in_child(self->client, 0);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, nl_accept_wait(&self->nl, &acc));
	fd = (int)acc.u64[KTLSD_A_SOCKFD];
	/* Accepted: "tls" attaches, the module having left the socket. */
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")))
		TH_LOG("TCP_ULP tls: %s", strerror(errno));
	get_ulp(self->client, ulp, sizeof(ulp));
	EXPECT_STREQ("tls", ulp);
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	EXPECT_EQ(0, child_status(pid));
	get_ulp(self->client, ulp, sizeof(ulp));
	EXPECT_STREQ("tls", ulp);
	close(fd);
}

/* A failure after "tls" was set: the socket is shut down, never half-upgraded. */
TEST_F(ktlsd_module, tls_switch_failed)
{
	struct reply acc;
	int fd;
	char c;

	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	EXPECT_EQ(-EEXIST, setsockopt(self->client, IPPROTO_TCP, TCP_ULP, "tls",
				      sizeof("tls")) ? -errno : 0);
	ASSERT_EQ(0, nl_accept(&self->nl, &acc));
	fd = (int)acc.u64[KTLSD_A_SOCKFD];
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")));
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], EPROTO, NULL));
	close(fd);
	EXPECT_EQ(EPROTO, so_error(self->client));
	EXPECT_EQ(0, recv(self->client, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(-1, send(self->client, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
}

/* No socket joined "ready": ESRCH at once, counted by errno. */
TEST_F(ktlsd_module, no_daemon)
{
	struct reply stats0, stats1;
	long long start;

	ASSERT_EQ(0, nl_stats(&self->nl, &stats0));
	acceptor_stop_listening(&self->nl);
	ASSERT_EQ(0, set_ulp(self->client));
	start = tu_now_ms();
	EXPECT_EQ(-ESRCH, upgrade(self->client, 0));
	EXPECT_GT(2000, tu_now_ms() - start);
	ASSERT_EQ(0, nl_stats(&self->nl, &stats1));
	EXPECT_EQ(stats_errno(&stats0, ESRCH) + 1, stats_errno(&stats1, ESRCH));
	EXPECT_EQ(stats0.u64[KTLSD_A_STATS_SUBMITTED], stats1.u64[KTLSD_A_STATS_SUBMITTED]);
}

/* Only a connected TCP socket takes the ULP. */
TEST_F(ktlsd_module, not_connected)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTCONN, set_ulp(fd));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(fd, 1));
	EXPECT_EQ(-ENOTCONN, set_ulp(fd));
	close(fd);
}

TEST_F(ktlsd_module, not_tcp)
{
	struct ktlsd_upgrade ku;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ASSERT_LE(0, fd);
	EXPECT_GT(0, set_ulp(fd));
	upgrade_init(&ku, 0);
	EXPECT_GT(0, upgrade_with(fd, &ku));
	close(fd);
	/* Without the ULP the option is not there. */
	EXPECT_EQ(-ENOPROTOOPT, upgrade(self->client, 0));
}

TEST_F(ktlsd_module, second_request)
{
	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	EXPECT_EQ(-EALREADY, upgrade(self->client, 0));
	/* The ULP cannot be set twice either. */
	EXPECT_EQ(-EEXIST, set_ulp(self->client));
}

TEST_F(ktlsd_module, bad_request)
{
	struct ktlsd_upgrade ku;

	ASSERT_EQ(0, set_ulp(self->client));
	upgrade_init(&ku, 0);
	EXPECT_EQ(-EINVAL, setsockopt(self->client, KTLSD_SOL, KTLSD_OPT_UPGRADE, &ku,
				      sizeof(ku) - 1) ? -errno : 0);
	ku.ku_role = 0;
	EXPECT_EQ(-EINVAL, upgrade_with(self->client, &ku));
	upgrade_init(&ku, 0);
	ku.ku_verify = 9;
	EXPECT_EQ(-EINVAL, upgrade_with(self->client, &ku));
	upgrade_init(&ku, 0);
	ku.ku_flags = 1;
	EXPECT_EQ(-EINVAL, upgrade_with(self->client, &ku));
	upgrade_init(&ku, 0);
	memset(ku.ku_peer_name, 'a', sizeof(ku.ku_peer_name));
	EXPECT_EQ(-EINVAL, upgrade_with(self->client, &ku));
	upgrade_init(&ku, 0);
	memset(ku.ku_identity, 'a', sizeof(ku.ku_identity));
	EXPECT_EQ(-EINVAL, upgrade_with(self->client, &ku));
	upgrade_init(&ku, 3600 * 1000);
	EXPECT_EQ(-EINVAL, upgrade_with(self->client, &ku));
	EXPECT_EQ(-EFAULT, setsockopt(self->client, KTLSD_SOL, KTLSD_OPT_UPGRADE, NULL,
				      sizeof(ku)) ? -errno : 0);
	EXPECT_EQ(-ENOPROTOOPT, setsockopt(self->client, KTLSD_SOL, 1, &ku,
					   sizeof(ku)) ? -errno : 0);
	/* Nothing was queued: a valid request still goes. */
	ASSERT_EQ(0, set_nonblock(self->client));
	EXPECT_EQ(-EINPROGRESS, upgrade(self->client, 0));
}

/* Nobody accepts: the module's timer ends it; the socket stays plain TCP. */
TEST_F(ktlsd_module, timeout)
{
	struct reply stats0, stats1;
	long long start;
	char ulp[32], c;

	ASSERT_EQ(0, nl_stats(&self->nl, &stats0));
	ASSERT_EQ(0, set_ulp(self->client));
	start = tu_now_ms();
	EXPECT_EQ(-ETIMEDOUT, upgrade(self->client, 300));
	EXPECT_LE(250, tu_now_ms() - start);
	get_ulp(self->client, ulp, sizeof(ulp));
	EXPECT_STREQ("", ulp);
	EXPECT_EQ(1, send(self->client, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(1, recv(self->server, &c, 1, 0));
	ASSERT_EQ(0, nl_stats(&self->nl, &stats1));
	EXPECT_EQ(stats0.u64[KTLSD_A_STATS_TIMED_OUT] + 1, stats1.u64[KTLSD_A_STATS_TIMED_OUT]);
	EXPECT_EQ(0, stats1.u64[KTLSD_A_STATS_IN_FLIGHT]);
}

/* A timeout after ACCEPT shuts the socket down under the daemon. */
TEST_F(ktlsd_module, timeout_accepted)
{
	struct reply acc;
	pid_t pid;
	char c;

	ASSERT_EQ(0, set_ulp(self->client));
	pid = upgrade_in_child(self->client, 500);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, nl_accept_wait(&self->nl, &acc));
	EXPECT_EQ(ETIMEDOUT, child_status(pid));
	EXPECT_EQ(-ENOENT, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	EXPECT_EQ(0, recv(self->client, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(-1, send(self->client, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	close((int)acc.u64[KTLSD_A_SOCKFD]);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * A signal during the wait: -EINTR, not restarted even with SA_RESTART,
 * and the accepted socket is shut down. The child reports 0 when all of
 * that held.
 */
TEST_F(ktlsd_module, signal)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	struct reply acc, stats0, stats1;
	pid_t pid;

	ASSERT_EQ(0, nl_stats(&self->nl, &stats0));
	ASSERT_EQ(0, set_ulp(self->client));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;

		sigaction(SIGUSR1, &sa, NULL);
		if (upgrade(self->client, 0) != -EINTR)
			_exit(1);
		if (recv(self->client, &c, 1, MSG_DONTWAIT) != 0)
			_exit(2);
		if (send(self->client, "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(0, nl_accept_wait(&self->nl, &acc));
	/*
	 * The child queued the request after setting its handler; asleep or
	 * about to be, the pending signal ends its wait either way.
	 */
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(0, child_status(pid));
	EXPECT_EQ(-ENOENT, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	close((int)acc.u64[KTLSD_A_SOCKFD]);
	ASSERT_EQ(0, nl_stats(&self->nl, &stats1));
	EXPECT_EQ(stats0.u64[KTLSD_A_STATS_CANCELLED] + 1, stats1.u64[KTLSD_A_STATS_CANCELLED]);
	EXPECT_EQ(stats_errno(&stats0, EINTR) + 1, stats_errno(&stats1, EINTR));
}

/* Closing a socket with its request queued cancels the request. */
TEST_F(ktlsd_module, close_pending)
{
	struct reply stats0, stats1, acc;

	ASSERT_EQ(0, nl_stats(&self->nl, &stats0));
	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	close(self->client);
	self->client = -1;
	ASSERT_EQ(0, nl_stats(&self->nl, &stats1));
	EXPECT_EQ(stats0.u64[KTLSD_A_STATS_CANCELLED] + 1, stats1.u64[KTLSD_A_STATS_CANCELLED]);
	EXPECT_EQ(stats_errno(&stats0, ECANCELED) + 1, stats_errno(&stats1, ECANCELED));
	EXPECT_EQ(0, stats1.u64[KTLSD_A_STATS_IN_FLIGHT]);
	EXPECT_EQ(-ENOENT, nl_accept(&self->nl, &acc));
}

/*
 * The acceptor's netlink socket goes away after ACCEPT (a daemon that
 * died): the requester gets ECONNABORTED at once, not at its timeout,
 * and its socket is shut down, as the daemon may have begun a handshake.
 */
TEST_F(ktlsd_module, daemon_gone)
{
	struct reply acc, stats0, stats1;
	long long start;
	pid_t pid;
	char c;

	ASSERT_EQ(0, nl_stats(&self->nl, &stats0));
	ASSERT_EQ(0, set_ulp(self->client));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The acceptor's sockets are released only when no copy is left. */
		close(nl_socket_get_fd(self->nl.cmd));
		close(nl_socket_get_fd(self->nl.ready));
		_exit(-upgrade(self->client, 60000));
	}
	ASSERT_EQ(0, nl_accept_wait(&self->nl, &acc));
	/* Only the netlink sockets close; the accepted descriptor stays open. */
	start = tu_now_ms();
	acceptor_close(&self->nl);
	EXPECT_EQ(ECONNABORTED, child_status(pid));
	EXPECT_GT(5000, tu_now_ms() - start);
	EXPECT_EQ(0, recv(self->client, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(-1, send(self->client, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	close((int)acc.u64[KTLSD_A_SOCKFD]);
	ASSERT_EQ(0, acceptor_open(&self->nl, true));
	EXPECT_EQ(-ENOENT, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	ASSERT_EQ(0, nl_stats(&self->nl, &stats1));
	EXPECT_EQ(stats0.u64[KTLSD_A_STATS_FAILED] + 1, stats1.u64[KTLSD_A_STATS_FAILED]);
	EXPECT_EQ(stats_errno(&stats0, ECONNABORTED) + 1, stats_errno(&stats1, ECONNABORTED));
	EXPECT_EQ(0, stats1.u64[KTLSD_A_STATS_IN_FLIGHT]);
}

/* A queued request outlives a daemon that goes away: the next one takes it. */
TEST_F(ktlsd_module, daemon_gone_queued)
{
	struct sock_extended_err ee;
	struct reply acc;

	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	acceptor_close(&self->nl);
	ASSERT_EQ(0, acceptor_open(&self->nl, true));
	ASSERT_EQ(0, nl_accept(&self->nl, &acc));
	EXPECT_EQ(cookie_of(self->client), acc.u64[KTLSD_A_SOCK_COOKIE]);
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	ASSERT_EQ(0, read_completion(self->client, &ee, 5000));
	EXPECT_EQ(0, ee.ee_errno);
	close((int)acc.u64[KTLSD_A_SOCKFD]);
}

/*
 * ACCEPT by a daemon with no descriptor free is EMFILE, and the request
 * stays queued for its next ACCEPT instead of failing.
 */
TEST_F(ktlsd_module, accept_emfile)
{
	struct rlimit saved, none;
	struct sock_extended_err ee;
	struct reply acc;
	int ret;

	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &saved));
	/* Below every descriptor open here: no new one can be had. */
	none = saved;
	none.rlim_cur = 3;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &none));
	ret = nl_accept(&self->nl, &acc);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &saved));
	EXPECT_EQ(-EMFILE, ret);
	ASSERT_EQ(0, nl_accept(&self->nl, &acc));
	EXPECT_EQ(cookie_of(self->client), acc.u64[KTLSD_A_SOCK_COOKIE]);
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	ASSERT_EQ(0, read_completion(self->client, &ee, 5000));
	EXPECT_EQ(0, ee.ee_errno);
	close((int)acc.u64[KTLSD_A_SOCKFD]);
}

/* The non-blocking form completes on the error queue. */
TEST_F(ktlsd_module, nonblocking)
{
	struct sock_extended_err ee;
	struct reply acc;
	int c1, s1, fd;
	char ulp[32];

	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	ASSERT_EQ(0, nl_accept(&self->nl, &acc));
	fd = (int)acc.u64[KTLSD_A_SOCKFD];
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	close(fd);
	ASSERT_EQ(0, read_completion(self->client, &ee, 5000));
	EXPECT_EQ(0, ee.ee_errno);
	EXPECT_EQ(SO_EE_ORIGIN_LOCAL, ee.ee_origin);
	EXPECT_EQ(KTLSD_EE_CODE_UPGRADE, ee.ee_code);
	EXPECT_EQ((uint32_t)acc.u64[KTLSD_A_REQUEST_ID], ee.ee_info);
	EXPECT_EQ(0, so_error(self->client));
	get_ulp(self->client, ulp, sizeof(ulp));
	EXPECT_STREQ("", ulp);

	/* A failure: ee_errno and SO_ERROR. */
	ASSERT_EQ(0, tcp_pair(&c1, &s1));
	ASSERT_EQ(0, set_ulp(c1));
	ASSERT_EQ(0, set_nonblock(c1));
	ASSERT_EQ(-EINPROGRESS, upgrade(c1, 0));
	ASSERT_EQ(0, nl_accept(&self->nl, &acc));
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], ECONNREFUSED, NULL));
	close((int)acc.u64[KTLSD_A_SOCKFD]);
	ASSERT_EQ(0, read_completion(c1, &ee, 5000));
	EXPECT_EQ(ECONNREFUSED, ee.ee_errno);
	EXPECT_EQ(ECONNREFUSED, so_error(c1));
	close(c1);
	close(s1);
}

/* Counters and settings. */
TEST_F(ktlsd_module, stats_and_set)
{
	const struct attr_u32 set_timeout[] = { { KTLSD_A_TIMEOUT_MS, 12345 } };
	const struct attr_u32 set_bad[] = { { KTLSD_A_TIMEOUT_MS, 1 } };
	const struct attr_u32 set_pending[] = { { KTLSD_A_MAX_PENDING, 1 } };
	struct reply stats, acc;
	uint32_t old_timeout, old_pending;
	struct attr_u32 restore[2];
	int c1, s1;

	ASSERT_EQ(0, nl_stats(&self->nl, &stats));
	EXPECT_TRUE(stats.has[KTLSD_A_STATS_SUBMITTED]);
	EXPECT_TRUE(stats.has[KTLSD_A_STATS_OK]);
	EXPECT_TRUE(stats.has[KTLSD_A_STATS_FAILED]);
	EXPECT_TRUE(stats.has[KTLSD_A_STATS_TIMED_OUT]);
	EXPECT_TRUE(stats.has[KTLSD_A_STATS_CANCELLED]);
	EXPECT_EQ(0, stats.u64[KTLSD_A_STATS_IN_FLIGHT]);
	old_timeout = stats.u64[KTLSD_A_TIMEOUT_MS];
	old_pending = stats.u64[KTLSD_A_MAX_PENDING];
	EXPECT_EQ(30000, old_timeout);
	EXPECT_LE(MANY, old_pending);

	EXPECT_EQ(0, nl_call(&self->nl, KTLSD_CMD_SET, 0, 0, set_timeout, 1, NULL, 0,
			     NULL, 0, NULL));
	EXPECT_GT(0, nl_call(&self->nl, KTLSD_CMD_SET, 0, 0, set_bad, 1, NULL, 0,
			     NULL, 0, NULL));
	EXPECT_EQ(0, nl_call(&self->nl, KTLSD_CMD_SET, 0, 0, set_pending, 1, NULL, 0,
			     NULL, 0, NULL));
	ASSERT_EQ(0, nl_stats(&self->nl, &stats));
	EXPECT_EQ(12345, stats.u64[KTLSD_A_TIMEOUT_MS]);
	EXPECT_EQ(1, stats.u64[KTLSD_A_MAX_PENDING]);

	/* One pending is the cap: the second is refused with EAGAIN. */
	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	ASSERT_EQ(0, tcp_pair(&c1, &s1));
	ASSERT_EQ(0, set_ulp(c1));
	EXPECT_EQ(-EAGAIN, upgrade(c1, 0));
	/* The default timeout applied to the first. */
	ASSERT_EQ(0, nl_accept(&self->nl, &acc));
	EXPECT_GE(12345, acc.u64[KTLSD_A_TIMEOUT_MS]);
	EXPECT_LT(10000, acc.u64[KTLSD_A_TIMEOUT_MS]);
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	close((int)acc.u64[KTLSD_A_SOCKFD]);
	close(c1);
	close(s1);

	restore[0] = (struct attr_u32){ KTLSD_A_TIMEOUT_MS, old_timeout };
	restore[1] = (struct attr_u32){ KTLSD_A_MAX_PENDING, old_pending };
	EXPECT_EQ(0, nl_call(&self->nl, KTLSD_CMD_SET, 0, 0, restore, 2, NULL, 0,
			     NULL, 0, NULL));
	ASSERT_EQ(0, nl_stats(&self->nl, &stats));
	EXPECT_EQ(old_timeout, stats.u64[KTLSD_A_TIMEOUT_MS]);
	EXPECT_EQ(0, stats.u64[KTLSD_A_STATS_IN_FLIGHT]);
}

static struct reply dump_replies[256];

static const struct reply *dump_find(struct nl *nl, uint64_t id)
{
	int count = 0, i;

	if (nl_call(nl, KTLSD_CMD_REQUEST_GET, NLM_F_DUMP, 0, NULL, 0, NULL, 0,
		    dump_replies, 256, &count))
		return NULL;
	for (i = 0; i < count && i < 256; i++)
		if (dump_replies[i].u64[KTLSD_A_REQUEST_ID] == id)
			return &dump_replies[i];
	return NULL;
}

TEST_F(ktlsd_module, dump)
{
	const struct reply *r;
	struct reply acc;
	uint64_t id;

	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	ASSERT_EQ(0, nl_accept(&self->nl, &acc));
	id = acc.u64[KTLSD_A_REQUEST_ID];
	r = dump_find(&self->nl, id);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(KTLSD_REQ_ACCEPTED, r->u64[KTLSD_A_STATE]);
	EXPECT_STREQ("peer.example", r->str[KTLSD_A_PEER_NAME]);
	EXPECT_EQ(cookie_of(self->client), r->u64[KTLSD_A_SOCK_COOKIE]);
	EXPECT_TRUE(r->has[KTLSD_A_AGE_MS]);
	EXPECT_FALSE(r->has[KTLSD_A_SOCKFD]);
	EXPECT_EQ(0, nl_done(&self->nl, id, 0, "TLS_CHACHA20_POLY1305_SHA256"));
	close((int)acc.u64[KTLSD_A_SOCKFD]);
	r = dump_find(&self->nl, id);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(KTLSD_REQ_DONE, r->u64[KTLSD_A_STATE]);
	EXPECT_EQ(0, r->u64[KTLSD_A_STATUS]);
	EXPECT_TRUE(r->has[KTLSD_A_STATUS]);
	EXPECT_EQ(0x0304, r->u64[KTLSD_A_VERSION]);
	EXPECT_STREQ("TLS_CHACHA20_POLY1305_SHA256", r->str[KTLSD_A_CIPHER]);
}

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;

	if (fd < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!ret) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

/*
 * The child: its own namespace, acceptor and request; it must see its
 * own request and nothing of the parent's. Exit 0 when all held.
 */
static int netns_child(int go, int done)
{
	struct sock_extended_err ee;
	struct nl nl;
	struct reply acc;
	int c, s;
	char b;

	if (unshare(CLONE_NEWNET) || lo_up() || acceptor_open(&nl, true))
		return 1;
	if (tcp_pair(&c, &s) || set_ulp(c) || set_nonblock(c) ||
	    upgrade(c, 0) != -EINPROGRESS)
		return 2;
	if (read(go, &b, 1) != 1)
		return 3;
	if (nl_accept(&nl, &acc) || acc.u64[KTLSD_A_SOCK_COOKIE] != cookie_of(c))
		return 4;
	if (nl_accept(&nl, &acc) != -ENOENT)
		return 5;
	if (nl_done(&nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL) ||
	    read_completion(c, &ee, 5000) || ee.ee_errno)
		return 6;
	if (write(done, "d", 1) != 1)
		return 7;
	return 0;
}

TEST_F(ktlsd_module, two_netns)
{
	int go[2], done[2];
	struct reply acc;
	pid_t pid;
	char b;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(netns_child(go[0], done[1]));
	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(1, read(done[0], &b, 1));
	EXPECT_EQ(0, child_status(pid));
	ASSERT_EQ(0, nl_accept(&self->nl, &acc));
	EXPECT_EQ(cookie_of(self->client), acc.u64[KTLSD_A_SOCK_COOKIE]);
	EXPECT_EQ(-ENOENT, nl_accept(&self->nl, &acc));
	EXPECT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
	close((int)acc.u64[KTLSD_A_SOCKFD]);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

/* 1,000 non-blocking upgrades queued at once, then served by one acceptor. */
TEST_F_TIMEOUT(ktlsd_module, many, 600)
{
	struct rlimit rl;
	struct reply acc, stats;
	int *clients, *servers, i, ok = 0;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < 2 * MANY + 64) {
		rl.rlim_cur = rl.rlim_max < 2 * MANY + 64 ? rl.rlim_max : 2 * MANY + 64;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}
	clients = calloc(MANY, sizeof(int));
	servers = calloc(MANY, sizeof(int));
	ASSERT_NE(NULL, clients);
	ASSERT_NE(NULL, servers);
	for (i = 0; i < MANY; i++) {
		ASSERT_EQ(0, tcp_pair(&clients[i], &servers[i])) TH_LOG("pair %d", i);
		ASSERT_EQ(0, set_ulp(clients[i]));
		ASSERT_EQ(0, set_nonblock(clients[i]));
		ASSERT_EQ(-EINPROGRESS, upgrade(clients[i], MANY_TIMEOUT_MS));
	}
	ASSERT_EQ(0, nl_stats(&self->nl, &stats));
	EXPECT_EQ(MANY, stats.u64[KTLSD_A_STATS_IN_FLIGHT]);
	for (i = 0; i < MANY; i++) {
		ASSERT_EQ(0, nl_accept(&self->nl, &acc)) TH_LOG("accept %d", i);
		ASSERT_EQ(0, nl_done(&self->nl, acc.u64[KTLSD_A_REQUEST_ID], 0, NULL));
		close((int)acc.u64[KTLSD_A_SOCKFD]);
	}
	for (i = 0; i < MANY; i++) {
		struct sock_extended_err ee;

		if (!read_completion(clients[i], &ee, 5000) && !ee.ee_errno)
			ok++;
		close(clients[i]);
		close(servers[i]);
	}
	EXPECT_EQ(MANY, ok);
	ASSERT_EQ(0, nl_stats(&self->nl, &stats));
	EXPECT_EQ(0, stats.u64[KTLSD_A_STATS_IN_FLIGHT]);
	free(clients);
	free(servers);
}

/*
 * Last: the module cannot go while a request holds it, and goes once the
 * socket is closed. This unloads the module the fixture loaded.
 */
TEST_F(ktlsd_module, unload)
{
	long long deadline;
	int ret;

	ASSERT_EQ(0, set_ulp(self->client));
	ASSERT_EQ(0, set_nonblock(self->client));
	ASSERT_EQ(-EINPROGRESS, upgrade(self->client, 0));
	ret = tu_module_unload(MODULE_NAME, 0);
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) TH_LOG("delete_module: %d", ret);
	EXPECT_TRUE(module_loaded());
	close(self->client);
	self->client = -1;
	acceptor_close(&self->nl);
	deadline = tu_now_ms() + 10000;
	while ((ret = tu_module_unload(MODULE_NAME, 0)) == -EWOULDBLOCK && tu_now_ms() < deadline)
		usleep(50000);
	EXPECT_EQ(0, ret);
	EXPECT_FALSE(module_loaded());
}

TEST_HARNESS_MAIN
