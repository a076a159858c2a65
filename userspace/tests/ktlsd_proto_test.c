// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsd's unix socket frontend against what a careless or hostile local
 * process can send it: malformed and oversized messages, the wrong number
 * and kind of descriptors, sockets that cannot be upgraded, requests the
 * policy refuses, idle connections, a broken configuration on reload.
 * Each gets its own errno back, and the daemon still answers afterwards.
 * Then the library's reuse of its connection to the daemon: shared by
 * sequential requests, never across a fork or a change of credentials,
 * and a daemon gone between two requests costs the caller nothing.
 *
 * The host has no kTLS, so a request that passes every check ends at
 * -ENOPROTOOPT, which is itself what a kernel without kTLS must answer.
 * Handshakes through the daemon run in the VM (selftests/ktlsd).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ktls_int.h"
#include "tap.h"

#define CERTS "userspace/fuzz/certs"

static char dir[] = "/tmp/ktlsd-proto-XXXXXX";
static char sock_path[100], conf_path[128], log_path[128];
static pid_t daemon_pid = -1;

static int write_conf(const char *extra)
{
	FILE *f = fopen(conf_path, "w");

	if (!f)
		return -1;
	fprintf(f, "[daemon]\nsocket = %s\nhandshake_timeout = 700\nlog_level = debug\n\n"
		"[trust test]\nca_file = " CERTS "/ca.pem\nsystem = no\n\n"
		"[client]\ntrust = test\n\n"
		"[identity web]\ncert = " CERTS "/server.pem\nkey = " CERTS "/server.key\n"
		"allow_users = root\n\n"
		"[identity private]\ncert = " CERTS "/server.pem\nkey = " CERTS "/server.key\n"
		"allow_users = nobody\n%s", sock_path, extra);
	return fclose(f);
}

static int start_daemon(void)
{
	const char *bin = getenv("KTLS_BIN");
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/ktlsd", bin ? bin : "build/bin");
	daemon_pid = fork();
	if (daemon_pid < 0)
		return -1;
	if (!daemon_pid) {
		fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execl(path, "ktlsd", "-f", "-c", conf_path, (char *)NULL);
		_exit(127);
	}
	return 0;
}

static int stop_daemon(int sig)
{
	int status;

	kill(daemon_pid, sig);
	if (waitpid(daemon_pid, &status, 0) != daemon_pid)
		return -1;
	daemon_pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int daemon_alive(void)
{
	return daemon_pid > 0 && waitpid(daemon_pid, NULL, WNOHANG) == 0;
}

static int connect_daemon(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Until the daemon accepts a connection (it closes the probe unanswered):
 * long enough for a daemon under valgrind on a loaded machine.
 */
static int wait_for_daemon(void);

/* The daemon's log so far, NUL-terminated in a static buffer. */
static const char *read_log(void)
{
	static char buf[1 << 20];
	FILE *f = fopen(log_path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

static int count_in_log(const char *what)
{
	const char *p = read_log();
	int n = 0;

	while ((p = strstr(p, what))) {
		n++;
		p += strlen(what);
	}
	return n;
}

static int wait_for_daemon(void)
{
	int i, fd;

	for (i = 0; i < 1500; i++) {
		fd = connect_daemon();
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(20000);
	}
	return -1;
}

/* Sends @len raw bytes with @nfds descriptors; returns the RESULT's status. */
static int raw_request(const void *msg, size_t len, const int *fds, int nfds,
		       struct ktls_upgrade_info *info)
{
	char control[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ktlsd_attrs attrs;
	struct cmsghdr *cmsg;
	uint8_t buf[KTLSD_MSG_MAX];
	struct pollfd pfd;
	size_t got = 0;
	uint16_t type;
	ssize_t n;
	int fd, ret = -1000;

	memset(info, 0, sizeof(*info));
	fd = connect_daemon();
	if (fd < 0)
		return -2000;
	if (nfds) {
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, (size_t)nfds * sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < sizeof(buf) && poll(&pfd, 1, 30000) == 1) {
		n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (!ktlsd_msg_parse(buf, got, &type, &attrs) && type == KTLSD_MSG_RESULT &&
	    !ktlsd_result_decode(&attrs, info))
		ret = info->status;
out:
	close(fd);
	return ret;
}

static size_t build_request(struct ktlsd_msg_builder *b, uint32_t role, const char *peer_name,
			    const char *identity)
{
	ktlsd_msg_init(b, KTLSD_MSG_UPGRADE);
	ktlsd_msg_put_u32(b, KTLSD_A_ROLE, role);
	ktlsd_msg_put_str(b, KTLSD_A_PEER_NAME, peer_name);
	ktlsd_msg_put_str(b, KTLSD_A_IDENTITY, identity);
	return (size_t)ktlsd_msg_finish(b);
}

/* A connected TCP pair on loopback: *@a is ours to upgrade. */
static int tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sin, &len))
		return -1;
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*a, (struct sockaddr *)&sin, sizeof(sin)))
		return -1;
	*b = accept(l, NULL, NULL);
	close(l);
	return *b < 0 ? -1 : 0;
}

static void test_malformed(void)
{
	struct ktlsd_msg_builder b;
	struct ktls_upgrade_info info;
	struct ktlsd_msg hdr = { .km_len = 8, .km_type = KTLSD_MSG_UPGRADE, .km_version = 1 };
	uint8_t raw[64];
	size_t len;
	int tcp[2], pipefd[2], fds[2];

	tcp_pair(&tcp[0], &tcp[1]);
	hdr.km_len = 100000;
	tap_ok(raw_request(&hdr, sizeof(hdr), tcp, 1, &info) == -EMSGSIZE,
	       "a header announcing 100000 bytes: EMSGSIZE");
	hdr.km_len = 8;
	hdr.km_version = 9;
	tap_ok(raw_request(&hdr, sizeof(hdr), tcp, 1, &info) == -EBADMSG,
	       "an unknown protocol version: EBADMSG");
	hdr.km_version = 1;
	tap_ok(raw_request(&hdr, sizeof(hdr), tcp, 1, &info) == -EINVAL,
	       "a request without a role: EINVAL");

	len = build_request(&b, KTLSD_ROLE_CLIENT, "x", NULL);
	/* the peer name's attribute header claims more than the message holds */
	memcpy(raw, b.mb_buf, len);
	raw[8 + 8] = 200;		/* its ka_len, after the role attribute */
	tap_ok(raw_request(raw, len, tcp, 1, &info) == -EBADMSG,
	       "an attribute longer than its message: EBADMSG");
	memcpy(raw, b.mb_buf, len);
	raw[8 + 8 + 4 + 1] = 'y';	/* "x\0" becomes "xy" */
	tap_ok(raw_request(raw, len, tcp, 1, &info) == -EINVAL,
	       "a string without its NUL: EINVAL");

	ktlsd_msg_init(&b, KTLSD_MSG_UPGRADE);
	ktlsd_msg_put_u32(&b, KTLSD_A_ROLE, KTLSD_ROLE_CLIENT);
	ktlsd_msg_put_u32(&b, KTLSD_A_ROLE, KTLSD_ROLE_SERVER);
	len = (size_t)ktlsd_msg_finish(&b);
	tap_ok(raw_request(b.mb_buf, len, tcp, 1, &info) == -EBADMSG,
	       "the same attribute twice: EBADMSG");

	ktlsd_msg_init(&b, KTLSD_MSG_UPGRADE);
	ktlsd_msg_put_u32(&b, KTLSD_A_ROLE, 7);
	len = (size_t)ktlsd_msg_finish(&b);
	tap_ok(raw_request(b.mb_buf, len, tcp, 1, &info) == -EINVAL, "role 7: EINVAL");

	{
		char name[400];

		memset(name, 'a', sizeof(name) - 1);
		name[sizeof(name) - 1] = 0;
		len = build_request(&b, KTLSD_ROLE_CLIENT, name, NULL);
		tap_ok(raw_request(b.mb_buf, len, tcp, 1, &info) == -EMSGSIZE &&
		       strstr(info.detail, "too long"),
		       "a 399-byte peer name: EMSGSIZE (%s)", info.detail);
	}

	ktlsd_msg_init(&b, 77);
	len = (size_t)ktlsd_msg_finish(&b);
	tap_ok(raw_request(b.mb_buf, len, NULL, 0, &info) == -EOPNOTSUPP,
	       "an unknown message type: EOPNOTSUPP");

	len = build_request(&b, KTLSD_ROLE_CLIENT, "localhost", NULL);
	tap_ok(raw_request(b.mb_buf, len, NULL, 0, &info) == -EBADF,
	       "a request without a descriptor: EBADF");
	fds[0] = tcp[0];
	fds[1] = tcp[1];
	tap_ok(raw_request(b.mb_buf, len, fds, 2, &info) == -EINVAL,
	       "a request with two descriptors: EINVAL");
	pipe(pipefd);
	tap_ok(raw_request(b.mb_buf, len, pipefd, 1, &info) == -ENOTSOCK,
	       "a pipe instead of a socket: ENOTSOCK");
	close(pipefd[0]);
	close(pipefd[1]);
	close(tcp[0]);
	close(tcp[1]);
}

static void test_sockets_and_policy(void)
{
	struct ktlsd_msg_builder b;
	struct ktls_upgrade_info info;
	size_t len;
	int udp, unconnected, tcp[2];

	len = build_request(&b, KTLSD_ROLE_CLIENT, "localhost", NULL);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	tap_ok(raw_request(b.mb_buf, len, &udp, 1, &info) == -ESOCKTNOSUPPORT,
	       "a UDP socket: ESOCKTNOSUPPORT");
	close(udp);
	unconnected = socket(AF_INET, SOCK_STREAM, 0);
	tap_ok(raw_request(b.mb_buf, len, &unconnected, 1, &info) == -ENOTCONN,
	       "an unconnected TCP socket: ENOTCONN");
	close(unconnected);

	tcp_pair(&tcp[0], &tcp[1]);
	len = build_request(&b, KTLSD_ROLE_SERVER, NULL, "private");
	tap_ok(raw_request(b.mb_buf, len, tcp, 1, &info) == -EACCES &&
	       strstr(info.detail, "private"),
	       "an identity root may not use: EACCES (%s)", info.detail);
	/* Its name reaches the log line escaped (checked there). */
	len = build_request(&b, KTLSD_ROLE_SERVER, NULL, "no\"such\\\x01\xc3\xa9");
	tap_ok(raw_request(b.mb_buf, len, tcp, 1, &info) == -ENOKEY,
	       "an identity that does not exist: ENOKEY (%s)", info.detail);
	len = build_request(&b, KTLSD_ROLE_SERVER, NULL, NULL);
	tap_ok(raw_request(b.mb_buf, len, tcp, 1, &info) == -ENOKEY,
	       "a server without an identity: ENOKEY (%s)", info.detail);
	len = build_request(&b, KTLSD_ROLE_SERVER, NULL, "web");
	tap_ok(raw_request(b.mb_buf, len, tcp, 1, &info) == -ENOPROTOOPT,
	       "an allowed request on a host without kTLS: ENOPROTOOPT (%s)", info.detail);
	close(tcp[0]);
	close(tcp[1]);
}

/* What a requester may ask of the connection: more checking of a client, never less. */
static void test_request_policy(void)
{
	struct ktls_config *cfg = ktls_config_new();
	struct ktls_upgrade_info info;
	struct ktlsd_msg_builder b;
	struct ktls_conn *conn = NULL;
	const char *why = "";
	size_t len;
	int tcp[2], ret;

	ktls_config_set_verify_client(cfg, KTLS_VERIFY_REQUIRED);
	ret = ktls_upgrade_conn_new(cfg, KTLS_ROLE_SERVER, NULL, NULL, KTLSD_VERIFY_NONE, &conn,
				    &why);
	tap_ok(!ret && conn->cn_verify == KTLS_VERIFY_REQUIRED,
	       "a server request for verify=none keeps the identity's required");
	ktls_conn_free(conn);
	ktls_config_set_verify_client(cfg, KTLS_VERIFY_NONE);
	ret = ktls_upgrade_conn_new(cfg, KTLS_ROLE_SERVER, NULL, NULL, KTLSD_VERIFY_OPTIONAL,
				    &conn, &why);
	tap_ok(!ret && conn->cn_verify == KTLS_VERIFY_OPTIONAL,
	       "a server request for verify=optional raises the identity's none");
	ktls_conn_free(conn);
	ktls_config_free(cfg);

	tcp_pair(&tcp[0], &tcp[1]);
	len = build_request(&b, KTLSD_ROLE_CLIENT, NULL, NULL);
	tap_ok(raw_request(b.mb_buf, len, tcp, 1, &info) == -EINVAL &&
	       strstr(info.detail, "peer name"),
	       "a verifying client without a peer name: EINVAL (%s)", info.detail);
	close(tcp[0]);
	close(tcp[1]);
}

/* The library's own checks and errors, through the daemon and in process. */
static void test_library(void)
{
	struct ktls_upgrade_opts opts = { .role = KTLS_ROLE_CLIENT, .peer_name = "localhost",
					  .socket_path = sock_path };
	struct ktls_upgrade_info info;
	struct ktls_config *cfg;
	char longname[300];
	int tcp[2];

	tcp_pair(&tcp[0], &tcp[1]);
	tap_ok(ktls_upgrade(tcp[0], &opts, &info) == -ENOPROTOOPT && info.status == -ENOPROTOOPT,
	       "ktls_upgrade through the daemon: ENOPROTOOPT on this host");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	opts.peer_name = longname;
	tap_ok(ktls_upgrade(tcp[0], &opts, &info) == -EMSGSIZE,
	       "ktls_upgrade with a 299-byte peer name: EMSGSIZE before asking");
	opts.peer_name = "localhost";
	opts.socket_path = "/nonexistent/ktlsd.sock";
	tap_ok(ktls_upgrade(tcp[0], &opts, &info) == -ECONNREFUSED &&
	       strstr(info.detail, "not running"),
	       "no daemon: ECONNREFUSED (%s)", info.detail);
	cfg = ktls_config_new();
	opts.config = cfg;
	tap_ok(ktls_upgrade(tcp[0], &opts, &info) == -ENOPROTOOPT,
	       "in process on this host: ENOPROTOOPT");
	opts.identity = "web";
	tap_ok(ktls_upgrade(tcp[0], &opts, &info) == -EINVAL,
	       "in process with a daemon identity: EINVAL");
	ktls_config_free(cfg);
	close(tcp[0]);
	close(tcp[1]);
}

static void test_idle_and_reload(void)
{
	struct ktlsd_msg_builder b;
	struct ktls_upgrade_info info;
	char logbuf[65536];
	struct pollfd pfd;
	size_t len;
	ssize_t n;
	int fd, tcp[2];
	FILE *f;

	fd = connect_daemon();
	pfd.fd = fd;
	pfd.events = POLLIN;
	tap_ok(fd >= 0 && poll(&pfd, 1, 30000) == 1 && recv(fd, logbuf, 1, 0) == 0,
	       "a requester that says nothing is dropped at the timeout");
	close(fd);

	/* A broken file: SIGHUP keeps the running configuration. */
	write_conf("[identity broken]\ncert = /nonexistent.pem\n");
	kill(daemon_pid, SIGHUP);
	usleep(300000);
	tcp_pair(&tcp[0], &tcp[1]);
	len = build_request(&b, KTLSD_ROLE_SERVER, NULL, "web");
	tap_ok(daemon_alive() && raw_request(b.mb_buf, len, tcp, 1, &info) == -ENOPROTOOPT,
	       "after a broken reload the old configuration still answers");
	f = fopen(log_path, "r");
	n = f ? (ssize_t)fread(logbuf, 1, sizeof(logbuf) - 1, f) : 0;
	if (f)
		fclose(f);
	logbuf[n > 0 ? n : 0] = 0;
	tap_ok(strstr(logbuf, "reload failed, keeping the running configuration") != NULL,
	       "the broken reload is logged with its reason");
	tap_ok(strstr(logbuf, "handshake failed uid=0") && strstr(logbuf, "errno=EACCES"),
	       "refusals are logged with requester and errno");
	tap_ok(strstr(logbuf, "identity=\"no\\x22such\\x5c\\x01\\xc3\\xa9\" ") != NULL,
	       "a quote, a backslash, a control byte and UTF-8 in a logged field are escaped");
	/* A good file takes effect (counted in the reloads). */
	write_conf("");
	kill(daemon_pid, SIGHUP);
	usleep(300000);
	close(tcp[0]);
	close(tcp[1]);
}

static uint64_t errno_count(const struct ktlsd_counters *c, int err)
{
	size_t i;

	for (i = 0; i < c->by_errno_count; i++)
		if (c->by_errno[i].err == err)
			return c->by_errno[i].count;
	return 0;
}

static void test_stats(void)
{
	struct ktlsd_counters c;
	int ret = ktlsd_get_counters(sock_path, &c);

	tap_ok(!ret && c.denied == 3 && c.reloads == 1 && c.in_flight == 0 && !c.ok,
	       "counters: denied %llu, reloads %llu, in flight %llu (%d)",
	       (unsigned long long)c.denied, (unsigned long long)c.reloads,
	       (unsigned long long)c.in_flight, ret);
	/* by errno, most frequent first: ENOPROTOOPT 4, EINVAL 5, ... each counted */
	tap_ok(c.by_errno_count >= 8 && c.by_errno[0].count >= c.by_errno[1].count &&
	       errno_count(&c, EACCES) == 1 && errno_count(&c, ENOKEY) == 2 &&
	       errno_count(&c, ENOTSOCK) == 1 && errno_count(&c, EMSGSIZE) == 2,
	       "failures counted by errno (%zu errnos, first %s x%llu)", c.by_errno_count,
	       c.by_errno_count ? strerrorname_np(c.by_errno[0].err) : "-",
	       c.by_errno_count ? (unsigned long long)c.by_errno[0].count : 0ULL);
	tap_ok(ktlsd_get_counters("/nonexistent/ktlsd.sock", &c) == -ECONNREFUSED,
	       "counters without a daemon: ECONNREFUSED");
}

/* One raw connection: two UPGRADEs in turn, then a malformed one ends it. */
static void test_raw_reuse(void)
{
	struct ktlsd_msg_builder b;
	struct ktls_upgrade_info info;
	struct ktlsd_attrs attrs;
	uint8_t buf[KTLSD_MSG_MAX];
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	struct pollfd pfd;
	uint32_t keep = 0;
	uint16_t type;
	int fd, tcp[2], i, answered = 0;
	ssize_t n;
	size_t len;

	tcp_pair(&tcp[0], &tcp[1]);
	fd = connect_daemon();
	pfd.fd = fd;
	pfd.events = POLLIN;
	len = build_request(&b, KTLSD_ROLE_SERVER, NULL, "nosuch");
	for (i = 0; i < 2; i++) {
		memset(control, 0, sizeof(control));
		iov.iov_base = b.mb_buf;
		iov.iov_len = len;
		mh.msg_control = control;
		mh.msg_controllen = sizeof(control);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &tcp[0], sizeof(int));
		if (fd < 0 || sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)len ||
		    poll(&pfd, 1, 30000) != 1)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 || ktlsd_msg_parse(buf, (size_t)n, &type, &attrs) ||
		    type != KTLSD_MSG_RESULT || ktlsd_result_decode(&attrs, &info) ||
		    info.status != -ENOKEY || ktlsd_attr_u32(&attrs, KTLSD_A_KEEP_MS, &keep))
			break;
		answered++;
	}
	tap_ok(answered == 2 && keep == 700,
	       "two UPGRADEs on one connection, each answered and offering it for %u ms", keep);
	/* A header announcing too much: answered, and the connection ends. */
	memcpy(buf, b.mb_buf, sizeof(struct ktlsd_msg));
	((struct ktlsd_msg *)buf)->km_len = 100000;
	tap_ok(fd >= 0 && send(fd, buf, sizeof(struct ktlsd_msg), MSG_NOSIGNAL) > 0 &&
	       poll(&pfd, 1, 30000) == 1 && recv(fd, buf, sizeof(buf), 0) > 0 &&
	       poll(&pfd, 1, 30000) == 1 && recv(fd, buf, sizeof(buf), 0) == 0,
	       "after a malformed request the daemon answers and closes the connection");
	if (fd >= 0)
		close(fd);
	close(tcp[0]);
	close(tcp[1]);
}

/* Sequential ktls_upgrade() calls share one connection; a fork's child does not. */
static void test_reuse(void)
{
	struct ktls_upgrade_opts opts = { .role = KTLS_ROLE_SERVER, .identity = "nosuch",
					  .socket_path = sock_path };
	struct ktls_upgrade_info info;
	char line[64];
	int tcp[2], before, between, r1, r2, status;
	pid_t child;

	tcp_pair(&tcp[0], &tcp[1]);
	before = count_in_log("requester connected");
	r1 = ktls_upgrade(tcp[0], &opts, &info);
	between = count_in_log("requester connected");
	r2 = ktls_upgrade(tcp[0], &opts, &info);
	tap_ok(r1 == -ENOKEY && r2 == -ENOKEY && between - before <= 1 &&
	       count_in_log("requester connected") == between,
	       "two sequential upgrades share one daemon connection");
	before = count_in_log("requester connected");
	ktls_upgrade(tcp[0], &opts, &info);
	child = fork();
	if (!child)
		_exit(ktls_upgrade(tcp[0], &opts, &info) == -ENOKEY ? 0 : 1);
	waitpid(child, &status, 0);
	snprintf(line, sizeof(line), "uid=0 pid=%d ", (int)child);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status) &&
	       count_in_log("requester connected") - before == 1 && strstr(read_log(), line),
	       "a fork's child connects anew: the daemon sees its own pid");
	/* And the parent's connection is still good after the child closed its copy. */
	before = count_in_log("requester connected");
	tap_ok(ktls_upgrade(tcp[0], &opts, &info) == -ENOKEY &&
	       count_in_log("requester connected") == before,
	       "the parent keeps using its connection after the child's exit");
	close(tcp[0]);
	close(tcp[1]);
}

/* A change of effective uid never reuses the old uid's connection, either way. */
static void test_reuse_setuid(void)
{
	struct ktls_upgrade_opts opts = { .role = KTLS_ROLE_SERVER, .identity = "private",
					  .socket_path = sock_path };
	struct ktls_upgrade_info info;
	int tcp[2], as_root, as_nobody, root_again;

	tcp_pair(&tcp[0], &tcp[1]);
	chmod(dir, 0755);	/* nobody must reach the socket */
	as_root = ktls_upgrade(tcp[0], &opts, &info);
	if (seteuid(65534)) {
		tap_ok(0, "seteuid(nobody): %s", strerror(errno));
		goto out;
	}
	as_nobody = ktls_upgrade(tcp[0], &opts, &info);
	seteuid(0);
	root_again = ktls_upgrade(tcp[0], &opts, &info);
	tap_ok(as_root == -EACCES && as_nobody == -ENOPROTOOPT && root_again == -EACCES,
	       "identity 'private': root EACCES, then as nobody allowed (%s), then root EACCES "
	       "again: no connection crosses the uid change", strerror(-as_nobody));
out:
	close(tcp[0]);
	close(tcp[1]);
}

/*
 * The daemon restarts between two requests, and then while a request
 * waits unread in a pooled connection: the library retries on a new
 * connection and the caller sees only the answer.
 */
static void test_reuse_restart(void)
{
	struct ktls_upgrade_opts opts = { .role = KTLS_ROLE_SERVER, .identity = "nosuch",
					  .socket_path = sock_path, .timeout_ms = 30000 };
	struct ktls_upgrade_info info;
	struct ktls_upgrade *up;
	struct pollfd pfd;
	int tcp[2], ret;

	tcp_pair(&tcp[0], &tcp[1]);
	ktls_upgrade(tcp[0], &opts, &info);	/* a connection in the pool */
	tap_ok(stop_daemon(SIGTERM) == 0, "the daemon survived it all and stops cleanly on SIGTERM");
	if (start_daemon() || wait_for_daemon()) {
		tap_ok(0, "ktlsd restarted");
		goto out;
	}
	ret = ktls_upgrade(tcp[0], &opts, &info);
	tap_ok(ret == -ENOKEY, "a restart between two requests: the second still answered (%s)",
	       info.detail);

	ktls_upgrade(tcp[0], &opts, &info);
	kill(daemon_pid, SIGSTOP);
	ret = ktls_upgrade_start(tcp[0], &opts, &up);
	if (!ret)
		ret = ktls_upgrade_continue(up);	/* sent into the stopped daemon's connection */
	stop_daemon(SIGKILL);			/* closes it with the request unread */
	if (start_daemon() || wait_for_daemon()) {
		tap_ok(0, "ktlsd restarted");
		ktls_upgrade_free(up);
		goto out;
	}
	while (ret == -EINPROGRESS) {
		pfd.fd = ktls_upgrade_poll_fd(up, &pfd.events);
		poll(&pfd, 1, ktls_upgrade_timeout(up));
		ret = ktls_upgrade_continue(up);
	}
	tap_ok(ret == -ENOKEY, "a daemon killed with the request unread: retried on a new "
	       "connection (%s)", ktls_upgrade_get_info(up)->detail);
	ktls_upgrade_free(up);
out:
	close(tcp[0]);
	close(tcp[1]);
}

int main(void)
{

	tap_plan(12 + 6 + 3 + 5 + 4 + 3 + 2 + 3 + 1 + 3 + 1 + 1);
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/ktlsd.sock", dir);
	snprintf(conf_path, sizeof(conf_path), "%s/ktlsd.conf", dir);
	snprintf(log_path, sizeof(log_path), "%s/ktlsd.log", dir);
	if (write_conf("") || start_daemon() || wait_for_daemon()) {
		tap_diag("ktlsd did not start; see %s", log_path);
		if (daemon_pid > 0)
			kill(daemon_pid, SIGKILL);
		return tap_done();
	}
	test_malformed();
	test_sockets_and_policy();
	test_request_policy();
	test_library();
	test_idle_and_reload();
	test_stats();
	test_raw_reuse();
	test_reuse();
	test_reuse_setuid();
	test_reuse_restart();
	tap_ok(daemon_pid > 0 && stop_daemon(SIGTERM) == 0,
	       "the restarted daemon stops cleanly on SIGTERM");
	unlink(sock_path);
	unlink(conf_path);
	unlink(log_path);
	rmdir(dir);
	return tap_done();
}
