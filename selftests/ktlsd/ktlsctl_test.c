// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsctl_test.c - ktlsctl against sockets the kernel really has.
 *
 * Two loopback TCP pairs get the "tls" ULP and made-up keys: one TLS 1.3
 * AES-128-GCM pair over IPv4 and one TLS 1.2 ChaCha20-Poly1305 pair over
 * IPv6 (IPv4 when the guest has no ::1). ktlsctl, found in ../bin next to
 * this program or in $KTLS_BIN, must then list all four ends with their
 * addresses, inode, version, cipher and software TX and RX, in JSON and in
 * text, and count them in stats. python3 (from the shared host root)
 * parses the JSON, so that the check holds for any valid layout.
 *
 * With ktlsd.ko (build/module/<release>/ktlsd.ko, loaded and unloaded by
 * each test of the ktlsd_module fixture): stats shows the module's
 * counters and settings, set changes them and needs CAP_NET_ADMIN,
 * request show lists an idle module as nothing, and a request made while
 * two monitors run (text and JSON) is seen queued by request show, then
 * as a READY and a DONE event, and done in request show. The test stands
 * in for a daemon by joining the "ready" group (without a listener there
 * the module refuses a request at once) and never accepting, so the
 * request ends by the module's timeout.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/ktlsd.h>
#include <linux/netlink.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

#ifndef SOL_TLS
#define SOL_TLS			282
#endif

/* Enough for ktlsctl's output with a few dozen sockets. */
#define OUTPUT_MAX		(64 * 1024)
/* A daemon socket nobody listens on: stats must report "not running". */
#define NO_DAEMON_SOCKET	"/nonexistent/ktlsctl-test/ktlsd.sock"

/* The crypto_info struct of each cipher the pairs use. */
union crypto_info {
	struct tls_crypto_info				info;
	struct tls12_crypto_info_aes_gcm_128		aes_gcm_128;
	struct tls12_crypto_info_chacha20_poly1305	chacha20_poly1305;
};

/* Fills the key, IV and salt with bytes that differ per direction. */
static size_t make_crypto_info(union crypto_info *ci, unsigned short version,
			       unsigned short cipher, unsigned char seed)
{
	memset(ci, 0, sizeof(*ci));
	ci->info.version = version;
	ci->info.cipher_type = cipher;
	switch (cipher) {
	case TLS_CIPHER_AES_GCM_128:
		memset(ci->aes_gcm_128.key, seed, sizeof(ci->aes_gcm_128.key));
		memset(ci->aes_gcm_128.iv, seed + 1, sizeof(ci->aes_gcm_128.iv));
		memset(ci->aes_gcm_128.salt, seed + 2, sizeof(ci->aes_gcm_128.salt));
		return sizeof(ci->aes_gcm_128);
	case TLS_CIPHER_CHACHA20_POLY1305:
		memset(ci->chacha20_poly1305.key, seed, sizeof(ci->chacha20_poly1305.key));
		memset(ci->chacha20_poly1305.iv, seed + 1, sizeof(ci->chacha20_poly1305.iv));
		return sizeof(ci->chacha20_poly1305);
	default:
		return 0;
	}
}

static int install_ktls(int fd, unsigned short version, unsigned short cipher,
			unsigned char tx_seed, unsigned char rx_seed)
{
	union crypto_info ci;
	size_t len;
	int err = 0;

	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -errno;
	len = make_crypto_info(&ci, version, cipher, tx_seed);
	if (!len || setsockopt(fd, SOL_TLS, TLS_TX, &ci, len))
		err = len ? -errno : -EINVAL;
	len = make_crypto_info(&ci, version, cipher, rx_seed);
	if (!err && setsockopt(fd, SOL_TLS, TLS_RX, &ci, len))
		err = -errno;
	memset(&ci, 0, sizeof(ci));
	return err;
}

/* One end as ktlsctl should show it. */
struct endpoint {
	int		ep_fd;
	char		ep_address[INET6_ADDRSTRLEN];
	unsigned int	ep_port;
	unsigned int	ep_peer_port;
	unsigned long	ep_inode;
};

static int describe_endpoint(struct endpoint *ep)
{
	struct sockaddr_storage local, peer;
	socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
	const void *addr;
	struct stat st;

	if (getsockname(ep->ep_fd, (struct sockaddr *)&local, &local_len) ||
	    getpeername(ep->ep_fd, (struct sockaddr *)&peer, &peer_len) ||
	    fstat(ep->ep_fd, &st))
		return -errno;
	if (local.ss_family == AF_INET6) {
		addr = &((struct sockaddr_in6 *)&local)->sin6_addr;
		ep->ep_port = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
		ep->ep_peer_port = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
	} else {
		addr = &((struct sockaddr_in *)&local)->sin_addr;
		ep->ep_port = ntohs(((struct sockaddr_in *)&local)->sin_port);
		ep->ep_peer_port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
	}
	if (!inet_ntop(local.ss_family, addr, ep->ep_address, sizeof(ep->ep_address)))
		return -errno;
	ep->ep_inode = st.st_ino;
	return 0;
}

/* A connected loopback pair of the family; 0 or a negative errno. */
static int loopback_pair(int family, struct endpoint *client, struct endpoint *server)
{
	struct sockaddr_storage addr = { .ss_family = family };
	socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					     sizeof(struct sockaddr_in);
	int listener, err;

	if (family == AF_INET6)
		((struct sockaddr_in6 *)&addr)->sin6_addr = in6addr_loopback;
	else
		((struct sockaddr_in *)&addr)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	client->ep_fd = server->ep_fd = -1;
	listener = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0)
		return -errno;
	if (bind(listener, (struct sockaddr *)&addr, len) || listen(listener, 1) ||
	    getsockname(listener, (struct sockaddr *)&addr, &len))
		goto out_close_listener;
	client->ep_fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (client->ep_fd < 0)
		goto out_close_listener;
	if (connect(client->ep_fd, (struct sockaddr *)&addr, len))
		goto out_close_client;
	server->ep_fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (server->ep_fd < 0)
		goto out_close_client;
	close(listener);
	err = describe_endpoint(client);
	return err ? err : describe_endpoint(server);

out_close_client:
	err = -errno;
	close(client->ep_fd);
	client->ep_fd = -1;
	close(listener);
	return err;
out_close_listener:
	err = -errno;
	close(listener);
	return err;
}

/*
 * Runs argv, its standard output into out (NUL-terminated, cut at size)
 * unless out is NULL; standard error stays the test's. Returns the exit
 * status, or -1 when the program could not run or died of a signal.
 */
static int run_capture(char *const argv[], char *out, size_t size)
{
	size_t used = 0;
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		if (out)
			dup2(pipefd[1], STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (out && used + 1 < size) {
		n = read(pipefd[0], out + used, size - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += n;
	}
	if (out)
		out[used] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * argv[1] is `ktlsctl -j socket show`'s output; each further argument
 * names one socket as "address,port,peer_port,inode,uid,version,cipher",
 * which must appear exactly once, established, with TX and RX in software.
 */
static const char socket_json_check[] =
	"import json, sys\n"
	"sockets = json.loads(sys.argv[1])\n"
	"assert isinstance(sockets, list), 'not a JSON array'\n"
	"for want in sys.argv[2:]:\n"
	"    addr, port, peer_port, inode, uid, version, cipher = want.split(',')\n"
	"    found = [s for s in sockets if s['local'] == {'address': addr, 'port': int(port)}]\n"
	"    assert len(found) == 1, 'socket %s listed %d times' % (want, len(found))\n"
	"    s = found[0]\n"
	"    got = (s['peer'], s['state'], s['uid'], s['inode'], s['version'], s['cipher'],\n"
	"           s['tx'], s['rx'], s['zc_ro_tx'], s['rx_no_pad'])\n"
	"    expected = ({'address': addr, 'port': int(peer_port)}, 'ESTAB', int(uid),\n"
	"                int(inode), version, cipher, 'sw', 'sw', False, False)\n"
	"    assert got == expected, 'socket %s: got %r' % (want, got)\n";

/* argv[1] is `ktlsctl -j stats`'s output; argv[2] the least TlsCurrTxSw. */
static const char stats_json_check[] =
	"import json, sys\n"
	"stats = json.loads(sys.argv[1])\n"
	"tls = stats['tls_stat']\n"
	"assert tls is not None, 'no tls_stat'\n"
	"for name in ('TlsCurrTxSw', 'TlsCurrRxSw', 'TlsTxSw', 'TlsRxSw'):\n"
	"    assert tls[name] >= int(sys.argv[2]), '%s is %d' % (name, tls[name])\n"
	"assert stats['daemon'] is None, 'a daemon answered'\n"
	"assert 'module' in stats, 'no module key'\n";

FIXTURE(ktls_sockets) {
	char		ktlsctl[PATH_MAX];
	/* TLS 1.3 AES-128-GCM over IPv4, TLS 1.2 ChaCha20-Poly1305 over IPv6 */
	struct endpoint	client13, server13, client12, server12;
	char		*output;
};

FIXTURE_SETUP(ktls_sockets)
{
	int err;

	self->client13.ep_fd = self->server13.ep_fd = -1;
	self->client12.ep_fd = self->server12.ep_fd = -1;
	self->output = malloc(OUTPUT_MAX);
	ASSERT_NE(NULL, self->output);
	err = tu_tool_path("ktlsctl", self->ktlsctl, sizeof(self->ktlsctl));
	ASSERT_EQ(0, err) TH_LOG("ktlsctl not found (make tools): %s", strerror(-err));

	err = loopback_pair(AF_INET, &self->client13, &self->server13);
	ASSERT_EQ(0, err) TH_LOG("IPv4 loopback pair: %s", strerror(-err));
	err = loopback_pair(AF_INET6, &self->client12, &self->server12);
	if (err) {
		TH_LOG("no IPv6 loopback (%s): the TLS 1.2 pair uses IPv4", strerror(-err));
		err = loopback_pair(AF_INET, &self->client12, &self->server12);
	}
	ASSERT_EQ(0, err) TH_LOG("second loopback pair: %s", strerror(-err));

	err = install_ktls(self->client13.ep_fd, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128,
			   0x11, 0x77);
	ASSERT_EQ(0, err) TH_LOG("client TLS 1.3 kTLS: %s", strerror(-err));
	err = install_ktls(self->server13.ep_fd, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128,
			   0x77, 0x11);
	ASSERT_EQ(0, err) TH_LOG("server TLS 1.3 kTLS: %s", strerror(-err));
	err = install_ktls(self->client12.ep_fd, TLS_1_2_VERSION,
			   TLS_CIPHER_CHACHA20_POLY1305, 0x22, 0x66);
	ASSERT_EQ(0, err) TH_LOG("client TLS 1.2 kTLS: %s", strerror(-err));
	err = install_ktls(self->server12.ep_fd, TLS_1_2_VERSION,
			   TLS_CIPHER_CHACHA20_POLY1305, 0x66, 0x22);
	ASSERT_EQ(0, err) TH_LOG("server TLS 1.2 kTLS: %s", strerror(-err));
}

FIXTURE_TEARDOWN(ktls_sockets)
{
	struct endpoint *ends[] = {
		&self->client13, &self->server13, &self->client12, &self->server12,
	};
	size_t i;

	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (ends[i]->ep_fd >= 0)
			close(ends[i]->ep_fd);
	free(self->output);
}

static void socket_spec(const struct endpoint *ep, const char *version, const char *cipher,
			char *spec, size_t size)
{
	snprintf(spec, size, "%s,%u,%u,%lu,%u,%s,%s", ep->ep_address, ep->ep_port,
		 ep->ep_peer_port, ep->ep_inode, getuid(), version, cipher);
}

TEST_F(ktls_sockets, json_lists_both_pairs)
{
	char specs[4][160];
	char *show[] = { self->ktlsctl, "-j", "socket", "show", NULL };
	char *check[] = { "/usr/bin/python3", "-c", (char *)socket_json_check, self->output,
			  specs[0], specs[1], specs[2], specs[3], NULL };

	socket_spec(&self->client13, "TLSv1.3", "aes-gcm-128", specs[0], sizeof(specs[0]));
	socket_spec(&self->server13, "TLSv1.3", "aes-gcm-128", specs[1], sizeof(specs[1]));
	socket_spec(&self->client12, "TLSv1.2", "chacha20-poly1305", specs[2], sizeof(specs[2]));
	socket_spec(&self->server12, "TLSv1.2", "chacha20-poly1305", specs[3], sizeof(specs[3]));

	ASSERT_EQ(0, run_capture(show, self->output, OUTPUT_MAX));
	EXPECT_EQ(0, run_capture(check, NULL, 0))
		TH_LOG("ktlsctl -j socket show printed: %s", self->output);
}

/* The one text line whose local endpoint is ep, with its details. */
static void expect_text_line(struct __test_metadata *_metadata, const char *output,
			     const struct endpoint *ep, const char *details)
{
	char local[INET6_ADDRSTRLEN + 16], peer[INET6_ADDRSTRLEN + 16], ino[32];
	const char *line, *end;
	bool seen = false;

	if (strchr(ep->ep_address, ':')) {
		snprintf(local, sizeof(local), "[%s]:%u ", ep->ep_address, ep->ep_port);
		snprintf(peer, sizeof(peer), "[%s]:%u ", ep->ep_address, ep->ep_peer_port);
	} else {
		snprintf(local, sizeof(local), "%s:%u ", ep->ep_address, ep->ep_port);
		snprintf(peer, sizeof(peer), "%s:%u ", ep->ep_address, ep->ep_peer_port);
	}
	snprintf(ino, sizeof(ino), " ino:%lu ", ep->ep_inode);
	for (line = output; *line; line = *end ? end + 1 : end) {
		char text[512];
		size_t len;

		end = strchrnul(line, '\n');
		len = (size_t)(end - line) < sizeof(text) - 1 ? (size_t)(end - line) :
								 sizeof(text) - 1;
		memcpy(text, line, len);
		text[len] = '\0';
		/* The inode names the socket; both ends share the loopback address. */
		if (!strstr(text, ino))
			continue;
		EXPECT_FALSE(seen) TH_LOG("%s listed twice", local);
		seen = true;
		/* "ESTAB  LOCAL  PEER  uid:..." */
		EXPECT_EQ(0, strncmp(text, "ESTAB ", 6)) TH_LOG("line: %s", text);
		EXPECT_NE(NULL, strstr(text, local)) TH_LOG("line: %s", text);
		EXPECT_NE(NULL, strstr(text, peer)) TH_LOG("line: %s", text);
		EXPECT_TRUE(strstr(text, local) < strstr(text, peer))
			TH_LOG("local after peer: %s", text);
		EXPECT_NE(NULL, strstr(text, details)) TH_LOG("line: %s; wanted %s", text, details);
	}
	EXPECT_TRUE(seen) TH_LOG("no line for %s in:\n%s", local, output);
}

TEST_F(ktls_sockets, text_lists_both_pairs)
{
	char *show[] = { self->ktlsctl, "socket", "show", NULL };

	ASSERT_EQ(0, run_capture(show, self->output, OUTPUT_MAX));
	EXPECT_EQ(0, strncmp(self->output, "State ", 6)) TH_LOG("no header: %s", self->output);
	expect_text_line(_metadata, self->output, &self->client13,
			 "ulp:tls version:TLSv1.3 cipher:aes-gcm-128 tx:sw rx:sw");
	expect_text_line(_metadata, self->output, &self->server13,
			 "ulp:tls version:TLSv1.3 cipher:aes-gcm-128 tx:sw rx:sw");
	expect_text_line(_metadata, self->output, &self->client12,
			 "ulp:tls version:TLSv1.2 cipher:chacha20-poly1305 tx:sw rx:sw");
	expect_text_line(_metadata, self->output, &self->server12,
			 "ulp:tls version:TLSv1.2 cipher:chacha20-poly1305 tx:sw rx:sw");
}

TEST_F(ktls_sockets, stats_count_the_sockets)
{
	char *stats_json[] = { self->ktlsctl, "-j", "-s", NO_DAEMON_SOCKET, "stats", NULL };
	char *stats_text[] = { self->ktlsctl, "-s", NO_DAEMON_SOCKET, "stats", NULL };
	/* four ends, each with a TX and an RX in software */
	char *check[] = { "/usr/bin/python3", "-c", (char *)stats_json_check, self->output,
			  "4", NULL };

	ASSERT_EQ(0, run_capture(stats_json, self->output, OUTPUT_MAX));
	EXPECT_EQ(0, run_capture(check, NULL, 0))
		TH_LOG("ktlsctl -j stats printed: %s", self->output);

	ASSERT_EQ(0, run_capture(stats_text, self->output, OUTPUT_MAX));
	EXPECT_NE(NULL, strstr(self->output, "kernel (/proc/net/tls_stat):\n"))
		TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, "    TlsCurrTxSw ")) TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, "daemon: not running")) TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, "module: ")) TH_LOG("%s", self->output);
}

/*
 * The module part. Each test loads ktlsd.ko and unloads it afterwards, so
 * that counters, settings and the list of recent requests start fresh; a
 * module someone else loaded is used as it is and left loaded.
 */

#define MODULE_NAME		"ktlsd"
/* How long a test waits for something ktlsctl or the module should do soon. */
#define WAIT_MS			10000
/*
 * The test's request ends by this timeout: long enough for two request
 * shows under emulation on a busy host (one took 6 s).
 */
#define REQUEST_TIMEOUT_MS	20000
#define TEST_PEER_NAME		"ktlsctl.test"
/* libnl's local port is the pid in these bits. */
#define NETLINK_PORT_PID_MASK	0x3fffff
/* NETLINK_GENERIC, as /proc/net/netlink names the protocol. */
#define PROC_NETLINK_GENERIC	16

/*
 * The tls module goes in before ktlsd.ko, in case ktlsd.ko uses it:
 * asking for the "tls" ULP on any TCP socket loads it.
 */
static void tls_preload(void)
{
	int sk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (sk >= 0) {
		setsockopt(sk, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls"));
		close(sk);
	}
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* The capability is gone from every set, the bounding set too, so exec cannot regain it. */
static int drop_net_admin(void)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(CAP_NET_ADMIN), mask = CAP_TO_MASK(CAP_NET_ADMIN);

	if (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) ||
	    syscall(SYS_capget, &header, data))
		return -errno;
	data[i].effective &= ~mask;
	data[i].permitted &= ~mask;
	data[i].inheritable &= ~mask;
	return syscall(SYS_capset, &header, data) ? -errno : 0;
}

/* A file in memory for a child's output: no pipe to fill up. */
static int output_file(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC);
}

/* The whole of an output_file, NUL-terminated and cut at size. */
static void read_output_file(int fd, char *out, size_t size)
{
	ssize_t n = pread(fd, out, size - 1, 0);

	out[n > 0 ? n : 0] = '\0';
}

/*
 * Starts argv with its standard output (and standard error, when err_fd
 * is not -1) into the given files, without CAP_NET_ADMIN when asked.
 * Returns the pid or -1.
 */
static pid_t spawn(char *const argv[], int out_fd, int err_fd, bool without_net_admin)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (without_net_admin && drop_net_admin())
		_exit(126);
	if (dup2(out_fd, STDOUT_FILENO) < 0 || (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0))
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

/* Runs argv to its end: the exit status, or -1 when it did not exit by itself. */
static int run_outputs(char *const argv[], char *out, size_t out_size, char *err,
		       size_t err_size, bool without_net_admin)
{
	int out_fd = output_file("stdout"), err_fd = output_file("stderr"), status = -1;
	pid_t pid;

	if (out_fd < 0 || err_fd < 0)
		goto out_close;
	pid = spawn(argv, out_fd, err_fd, without_net_admin);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		status = -1;
		goto out_close;
	}
	status = WEXITSTATUS(status);
	read_output_file(out_fd, out, out_size);
	read_output_file(err_fd, err, err_size);

out_close:
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);
	return status;
}

/* The nlattrs of a buffer; the callback gets each one's type and payload. */
#define for_each_nlattr(attr, buf, len)						\
	for (attr = (struct nlattr *)(buf);					\
	     (char *)(attr) + NLA_HDRLEN <= (char *)(buf) + (len) &&		\
	     attr->nla_len >= NLA_HDRLEN &&					\
	     (char *)(attr) + attr->nla_len <= (char *)(buf) + (len);		\
	     attr = (struct nlattr *)((char *)(attr) + NLA_ALIGN(attr->nla_len)))

/* The id of group in the CTRL_ATTR_MCAST_GROUPS nest; -ENOENT without it. */
static int find_group(const struct nlattr *groups, const char *group)
{
	const struct nlattr *entry, *attr;
	const char *name;
	int id;

	for_each_nlattr(entry, (const char *)groups + NLA_HDRLEN, groups->nla_len - NLA_HDRLEN) {
		name = NULL;
		id = -1;
		for_each_nlattr(attr, (const char *)entry + NLA_HDRLEN,
				entry->nla_len - NLA_HDRLEN) {
			if ((attr->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_NAME)
				name = (const char *)attr + NLA_HDRLEN;
			else if ((attr->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_ID)
				memcpy(&id, (const char *)attr + NLA_HDRLEN, sizeof(id));
		}
		if (name && id >= 0 && !strcmp(name, group))
			return id;
	}
	return -ENOENT;
}

/*
 * A generic netlink socket in the family's group, as a daemon has one in
 * "ready": the module queues requests only while someone listens there.
 * Raw netlink, so that the test needs no libnl. Returns the fd or -errno.
 */
static int join_family_group(const char *family, const char *group)
{
	struct {
		struct nlmsghdr		nlh;
		struct genlmsghdr	genl;
		char			attrs[64];
	} req = {
		.nlh.nlmsg_type = GENL_ID_CTRL,
		.nlh.nlmsg_flags = NLM_F_REQUEST,
		.genl.cmd = CTRL_CMD_GETFAMILY,
		.genl.version = 1,
	};
	struct nlattr *attr = (struct nlattr *)req.attrs;
	size_t name_len = strlen(family) + 1;
	char reply[8192];
	struct nlmsghdr *nlh = (struct nlmsghdr *)reply;
	int fd, id = -ENOENT, err;
	ssize_t n;

	attr->nla_type = CTRL_ATTR_FAMILY_NAME;
	attr->nla_len = NLA_HDRLEN + name_len;
	memcpy(req.attrs + NLA_HDRLEN, family, name_len);
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(attr->nla_len));

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0)
		goto out_errno;
	n = recv(fd, reply, sizeof(reply), 0);
	if (n < 0)
		goto out_errno;
	if (!NLMSG_OK(nlh, n) || nlh->nlmsg_type == NLMSG_ERROR) {
		err = nlh->nlmsg_type == NLMSG_ERROR ?
		      ((struct nlmsgerr *)NLMSG_DATA(nlh))->error : -EBADMSG;
		goto out_close;
	}
	for_each_nlattr(attr, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
			nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN))
		if ((attr->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GROUPS)
			id = find_group(attr, group);
	if (id < 0) {
		err = id;
		goto out_close;
	}
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &id, sizeof(id)))
		goto out_errno;
	return fd;

out_errno:
	err = -errno;
out_close:
	close(fd);
	return err;
}

/*
 * Waits until process pid has a generic netlink socket in some multicast
 * group: ktlsctl monitor has joined "monitor" then. /proc/net/netlink
 * shows only the first 32 groups, so after WAIT_MS the test goes on
 * anyway and lets the events decide.
 */
static bool wait_for_group_member(pid_t pid)
{
	struct timespec start;
	unsigned int portid, groups;
	char line[256];
	int protocol;
	FILE *f;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (elapsed_ms(&start) < WAIT_MS) {
		f = fopen("/proc/net/netlink", "r");
		if (!f)
			return false;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%*s %d %u %x", &protocol, &portid, &groups) != 3)
				continue;
			if (protocol == PROC_NETLINK_GENERIC && groups &&
			    (portid & NETLINK_PORT_PID_MASK) == (unsigned int)pid) {
				fclose(f);
				return true;
			}
		}
		fclose(f);
		usleep(50 * 1000);
	}
	return false;
}

/*
 * argv[1] is `ktlsctl -j stats`; argv[2..] are "name=value" the module
 * part must hold ("name" alone: present, any value).
 */
static const char module_stats_check[] =
	"import json, sys\n"
	"stats = json.loads(sys.argv[1])\n"
	"m = stats['module']\n"
	"assert isinstance(m, dict), 'module is %r' % (m,)\n"
	"for name in ('submitted', 'ok', 'failed', 'timed_out', 'cancelled', 'in_flight',\n"
	"             'timeout_ms', 'max_pending'):\n"
	"    assert isinstance(m.get(name), int), 'module %s is %r' % (name, m.get(name))\n"
	"assert isinstance(m['by_errno'], list), 'by_errno is %r' % (m['by_errno'],)\n"
	"for want in sys.argv[2:]:\n"
	"    name, _, value = want.partition('=')\n"
	"    if value:\n"
	"        assert m[name] == int(value), '%s is %r, wanted %s' % (name, m[name], value)\n"
	"print(m['timeout_ms'], m['max_pending'])\n";

/*
 * argv[1] is `ktlsctl -j request show`; argv[2] the state the one request
 * must be in, argv[3] its local port, argv[4] its peer port, argv[5] the
 * uid, argv[6] the pid, argv[7] the status when done, argv[8] its timeout
 * (a pending request reports the time it has left).
 */
static const char request_json_check[] =
	"import json, sys\n"
	"reqs = json.loads(sys.argv[1])\n"
	"assert isinstance(reqs, list) and len(reqs) == 1, 'requests: %r' % (reqs,)\n"
	"r = reqs[0]\n"
	"state, port, peer_port, uid, pid, status, timeout = sys.argv[2:9]\n"
	"want = {'state': state, 'role': 'client', 'peer_name': '" TEST_PEER_NAME "',\n"
	"        'uid': int(uid), 'pid': int(pid),\n"
	"        'local_addr': {'address': '127.0.0.1', 'port': int(port)},\n"
	"        'peer_addr': {'address': '127.0.0.1', 'port': int(peer_port)}}\n"
	"for k, v in want.items():\n"
	"    assert r.get(k) == v, '%s is %r, wanted %r in %r' % (k, r.get(k), v, r)\n"
	"assert isinstance(r['request_id'], int) and isinstance(r['sock_cookie'], int), r\n"
	"if state == 'done':\n"
	"    assert r.get('status') == int(status), 'status: %r' % (r,)\n"
	"    assert r['timeout_ms'] == int(timeout), 'timeout: %r' % (r,)\n"
	"else:\n"
	"    assert 'status' not in r, 'a status before the end: %r' % (r,)\n"
	"    assert 0 < r['timeout_ms'] <= int(timeout), 'time left: %r' % (r,)\n";

/* argv[1] is `ktlsctl -j monitor`'s output; argv[2] the local port of the request. */
static const char monitor_json_check[] =
	"import errno, json, sys\n"
	"events = [json.loads(line) for line in sys.argv[1].splitlines()]\n"
	"mine = [e for e in events if e['local_addr'] and\n"
	"        e['local_addr']['port'] == int(sys.argv[2])]\n"
	"kinds = [e['event'] for e in mine]\n"
	"assert kinds == ['ready', 'done'], 'events: %r' % (events,)\n"
	"ready, done = mine\n"
	"assert ready['request_id'] == done['request_id'], (ready, done)\n"
	"assert ready['peer_name'] == '" TEST_PEER_NAME "' and ready['role'] == 'client', ready\n"
	"assert done['status'] == errno.ETIMEDOUT and done['status_name'] == 'ETIMEDOUT', done\n";

FIXTURE(ktlsd_module) {
	char		ktlsctl[PATH_MAX];
	char		why[400];
	bool		loaded_here;
	char		*output;
	char		*errors;
};

FIXTURE_SETUP(ktlsd_module)
{
	int err;

	self->output = malloc(OUTPUT_MAX);
	self->errors = malloc(OUTPUT_MAX);
	ASSERT_NE(NULL, self->output);
	ASSERT_NE(NULL, self->errors);
	err = tu_tool_path("ktlsctl", self->ktlsctl, sizeof(self->ktlsctl));
	ASSERT_EQ(0, err) TH_LOG("ktlsctl not found (make tools): %s", strerror(-err));
	/* Not a skip: the module is part of the product (make module builds it). */
	tls_preload();
	err = tu_module_load(MODULE_NAME, "KTLSD_MODULE", "module", self->why, sizeof(self->why));
	ASSERT_LE(0, err) TH_LOG("loading " MODULE_NAME ": %s", self->why);
	self->loaded_here = err == 0;
}

FIXTURE_TEARDOWN(ktlsd_module)
{
	int err;

	if (self->loaded_here) {
		err = tu_module_unload(MODULE_NAME, WAIT_MS);
		EXPECT_EQ(0, err) TH_LOG("unloading " MODULE_NAME ": %s", strerror(-err));
	}
	free(self->output);
	free(self->errors);
}

/* Runs ktlsctl ARGS...; the exit status, output in self->output and self->errors. */
#define KTLSCTL(...)								\
	({									\
		char *_argv[] = { self->ktlsctl, __VA_ARGS__, NULL };		\
		run_outputs(_argv, self->output, OUTPUT_MAX, self->errors,	\
			    OUTPUT_MAX, false);					\
	})

/* Checks `ktlsctl -j stats` with a python program; its output lands in out. */
static int check_json(char *program, char *json, char *const extra[], char *out,
		      size_t out_size)
{
	char *argv[16] = { "/usr/bin/python3", "-c", program, json };
	char errors[4096];
	size_t i;
	int status;

	for (i = 0; extra[i] && i + 5 < ARRAY_SIZE(argv); i++)
		argv[4 + i] = extra[i];
	status = run_outputs(argv, out, out_size, errors, sizeof(errors), false);
	if (status)
		fprintf(stderr, "# %s", errors);
	return status;
}

TEST_F(ktlsd_module, stats_show_module_counters)
{
	char *extra[] = { "submitted=0", "in_flight=0", NULL };
	char values[64];

	ASSERT_EQ(0, KTLSCTL("-j", "-s", NO_DAEMON_SOCKET, "stats")) TH_LOG("%s", self->errors);
	EXPECT_EQ(0, check_json((char *)module_stats_check, self->output, extra, values,
				sizeof(values)))
		TH_LOG("ktlsctl -j stats printed: %s", self->output);

	ASSERT_EQ(0, KTLSCTL("-s", NO_DAEMON_SOCKET, "stats")) TH_LOG("%s", self->errors);
	EXPECT_NE(NULL, strstr(self->output, "\nmodule (ktlsd.ko):\n")) TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, "\n    submitted ")) TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, "\n    timeout_ms ")) TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, "\n    max_pending ")) TH_LOG("%s", self->output);
	EXPECT_EQ(NULL, strstr(self->output, "need ktlsd.ko")) TH_LOG("%s", self->output);
}

TEST_F(ktlsd_module, set_then_stats)
{
	char *no_extra[] = { NULL };
	char *changed[] = { "timeout_ms=4321", "max_pending=17", NULL };
	char values[64], timeout[16], max_pending[16];

	/* The current values, restored at the end for a module loaded before the test. */
	ASSERT_EQ(0, KTLSCTL("-j", "-s", NO_DAEMON_SOCKET, "stats"));
	ASSERT_EQ(0, check_json((char *)module_stats_check, self->output, no_extra, values,
				sizeof(values)));
	ASSERT_EQ(2, sscanf(values, "%15s %15s", timeout, max_pending));

	EXPECT_EQ(0, KTLSCTL("set", "timeout", "4321")) TH_LOG("%s", self->errors);
	EXPECT_EQ(0, KTLSCTL("set", "max-pending", "17")) TH_LOG("%s", self->errors);
	ASSERT_EQ(0, KTLSCTL("-j", "-s", NO_DAEMON_SOCKET, "stats"));
	EXPECT_EQ(0, check_json((char *)module_stats_check, self->output, changed, values,
				sizeof(values)))
		TH_LOG("ktlsctl -j stats printed: %s", self->output);
	ASSERT_EQ(0, KTLSCTL("-s", NO_DAEMON_SOCKET, "stats"));
	EXPECT_NE(NULL, strstr(self->output, " 4321\n")) TH_LOG("%s", self->output);

	/* Bad values: usage errors before the module is asked. */
	EXPECT_EQ(2, KTLSCTL("set", "timeout", "-5"));
	EXPECT_NE(NULL, strstr(self->errors, "Error: set timeout: \"-5\" is not a number"))
		TH_LOG("%s", self->errors);
	EXPECT_EQ(2, KTLSCTL("set", "max-pending", "0"));
	EXPECT_EQ(2, KTLSCTL("set", "max-pending"));
	EXPECT_EQ(2, KTLSCTL("set", "timeout", "1", "2"));
	/* Out of the module's range: the module refuses, ktlsctl says why. */
	EXPECT_EQ(1, KTLSCTL("set", "timeout", "4000000000"));
	EXPECT_EQ(0, strncmp(self->errors, "Error: set timeout 4000000000: ", 31))
		TH_LOG("%s", self->errors);

	EXPECT_EQ(0, KTLSCTL("set", "timeout", timeout)) TH_LOG("%s", self->errors);
	EXPECT_EQ(0, KTLSCTL("set", "max-pending", max_pending)) TH_LOG("%s", self->errors);
}

TEST_F(ktlsd_module, set_needs_cap_net_admin)
{
	char *set[] = { self->ktlsctl, "set", "timeout", "4321", NULL };
	char *extra[] = { "timeout_ms", NULL };
	char values[64];

	EXPECT_EQ(1, run_outputs(set, self->output, OUTPUT_MAX, self->errors, OUTPUT_MAX, true));
	EXPECT_NE(NULL, strstr(self->errors, "Error: set timeout needs CAP_NET_ADMIN: "
				"Operation not permitted"))
		TH_LOG("%s", self->errors);
	/* Unchanged, and reading needs no capability. */
	ASSERT_EQ(0, KTLSCTL("-j", "-s", NO_DAEMON_SOCKET, "stats"));
	ASSERT_EQ(0, check_json((char *)module_stats_check, self->output, extra, values,
				sizeof(values)));
	EXPECT_NE(0, strncmp(values, "4321 ", 5)) TH_LOG("timeout set without CAP_NET_ADMIN");
}

TEST_F(ktlsd_module, request_show_idle)
{
	ASSERT_EQ(0, KTLSCTL("request", "show")) TH_LOG("%s", self->errors);
	if (self->loaded_here)
		EXPECT_STREQ("", self->output);
	ASSERT_EQ(0, KTLSCTL("-j", "request", "show")) TH_LOG("%s", self->errors);
	if (self->loaded_here)
		EXPECT_STREQ("[]\n", self->output);
	ASSERT_EQ(0, KTLSCTL("-p", "request")) TH_LOG("%s", self->errors);
	EXPECT_EQ('[', self->output[0]);
}

/* A monitor running in the background, its output in a memory file. */
struct monitor_run {
	pid_t	mr_pid;
	int	mr_out;
};

static int monitor_start(struct monitor_run *mr, char *const argv[])
{
	mr->mr_out = output_file("monitor");
	if (mr->mr_out < 0)
		return -errno;
	mr->mr_pid = spawn(argv, mr->mr_out, -1, false);
	return mr->mr_pid < 0 ? -errno : 0;
}

/* SIGINT; the monitor's exit status, -1 when it did not exit by itself. */
static int monitor_stop(struct monitor_run *mr, char *out, size_t size)
{
	int status;

	kill(mr->mr_pid, SIGINT);
	if (waitpid(mr->mr_pid, &status, 0) != mr->mr_pid)
		status = -1;
	read_output_file(mr->mr_out, out, size);
	close(mr->mr_out);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The request: ULP "ktlsd", then the upgrade option, without blocking. */
static int start_upgrade(int fd)
{
	struct ktlsd_upgrade up = {
		.ku_role = KTLSD_ROLE_CLIENT,
		.ku_timeout_ms = REQUEST_TIMEOUT_MS,
		.ku_peer_name = TEST_PEER_NAME,
	};

	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, KTLSD_ULP_NAME, sizeof(KTLSD_ULP_NAME)) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		return -errno;
	if (!setsockopt(fd, KTLSD_SOL, KTLSD_OPT_UPGRADE, &up, sizeof(up)))
		return 0;
	return -errno;
}

/* The request's outcome from SO_ERROR once EPOLLERR says it completed. */
static int wait_upgrade(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = 0 };
	socklen_t len = sizeof(int);
	int err;

	if (poll(&pfd, 1, REQUEST_TIMEOUT_MS + WAIT_MS) != 1 || !(pfd.revents & POLLERR))
		return -ETIME;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

TEST_F_TIMEOUT(ktlsd_module, monitor_and_request_show, 180)
{
	char *monitor_json[] = { self->ktlsctl, "-j", "monitor", NULL };
	char *monitor_text[] = { self->ktlsctl, "monitor", NULL };
	struct monitor_run json_run, text_run;
	struct endpoint client, server;
	char port[16], peer_port[16], uid[16], pid[16], status[16], timeout[16], line[64];
	char *queued[] = { "queued", port, peer_port, uid, pid, "0", timeout, NULL };
	char *done[] = { "done", port, peer_port, uid, pid, status, timeout, NULL };
	char *monitor_extra[] = { port, NULL };
	char *counted[] = { "submitted=1", "timed_out=1", "in_flight=0", NULL };
	int ready_fd, err;

	ASSERT_TRUE(self->loaded_here) TH_LOG("needs a fresh module: one was loaded already");
	ready_fd = join_family_group(KTLSD_FAMILY_NAME, KTLSD_MCGRP_READY);
	ASSERT_LE(0, ready_fd) TH_LOG("joining \"ready\": %s", strerror(-ready_fd));
	ASSERT_EQ(0, monitor_start(&json_run, monitor_json));
	ASSERT_EQ(0, monitor_start(&text_run, monitor_text));
	if (!wait_for_group_member(json_run.mr_pid) || !wait_for_group_member(text_run.mr_pid))
		TH_LOG("no monitor seen in a group; going on");

	ASSERT_EQ(0, loopback_pair(AF_INET, &client, &server));
	snprintf(port, sizeof(port), "%u", client.ep_port);
	snprintf(peer_port, sizeof(peer_port), "%u", client.ep_peer_port);
	snprintf(uid, sizeof(uid), "%u", getuid());
	snprintf(pid, sizeof(pid), "%d", getpid());
	snprintf(status, sizeof(status), "%d", ETIMEDOUT);
	snprintf(timeout, sizeof(timeout), "%d", REQUEST_TIMEOUT_MS);
	err = start_upgrade(client.ep_fd);
	ASSERT_EQ(-EINPROGRESS, err) TH_LOG("upgrade: %s", strerror(-err));

	/* Queued: nobody accepts it. */
	ASSERT_EQ(0, KTLSCTL("-j", "request", "show")) TH_LOG("%s", self->errors);
	EXPECT_EQ(0, check_json((char *)request_json_check, self->output, queued, line,
				sizeof(line)))
		TH_LOG("ktlsctl -j request show printed: %s", self->output);
	ASSERT_EQ(0, KTLSCTL("request", "show")) TH_LOG("%s", self->errors);
	EXPECT_EQ(0, strncmp(self->output, "ID ", 3)) TH_LOG("no header: %s", self->output);
	snprintf(line, sizeof(line), " 127.0.0.1:%u ", client.ep_port);
	EXPECT_NE(NULL, strstr(self->output, line)) TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, " queued ")) TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, " peer_name:" TEST_PEER_NAME))
		TH_LOG("%s", self->output);

	/* The module's timeout ends it. */
	err = wait_upgrade(client.ep_fd);
	EXPECT_EQ(-ETIMEDOUT, err) TH_LOG("upgrade ended with %s", strerror(-err));
	ASSERT_EQ(0, KTLSCTL("-j", "request", "show")) TH_LOG("%s", self->errors);
	EXPECT_EQ(0, check_json((char *)request_json_check, self->output, done, line,
				sizeof(line)))
		TH_LOG("ktlsctl -j request show printed: %s", self->output);
	ASSERT_EQ(0, KTLSCTL("request", "show")) TH_LOG("%s", self->errors);
	EXPECT_NE(NULL, strstr(self->output, " status:ETIMEDOUT")) TH_LOG("%s", self->output);

	/* Both monitors saw it, and SIGINT ends them cleanly. */
	EXPECT_EQ(0, monitor_stop(&json_run, self->output, OUTPUT_MAX));
	EXPECT_EQ(0, check_json((char *)monitor_json_check, self->output, monitor_extra, line,
				sizeof(line)))
		TH_LOG("ktlsctl -j monitor printed: %s", self->output);
	EXPECT_EQ(0, monitor_stop(&text_run, self->output, OUTPUT_MAX));
	EXPECT_EQ(0, strncmp(self->output, "ready ", 6)) TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, "\ndone  ")) TH_LOG("%s", self->output);
	EXPECT_NE(NULL, strstr(self->output, " status:ETIMEDOUT\n")) TH_LOG("%s", self->output);

	/* And stats counted it. */
	ASSERT_EQ(0, KTLSCTL("-j", "-s", NO_DAEMON_SOCKET, "stats"));
	EXPECT_EQ(0, check_json((char *)module_stats_check, self->output, counted, line,
				sizeof(line)))
		TH_LOG("ktlsctl -j stats printed: %s", self->output);
	close(client.ep_fd);
	close(server.ep_fd);
	close(ready_fd);
}

TEST_HARNESS_MAIN
