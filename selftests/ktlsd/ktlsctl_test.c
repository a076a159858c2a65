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
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

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

/* $KTLS_BIN/TOOL, else ../bin/TOOL beside this program. */
static int tool_path(const char *tool, char *path, size_t size)
{
	const char *dir = getenv("KTLS_BIN");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (dir && *dir) {
		if ((size_t)snprintf(path, size, "%s/%s", dir, tool) >= size)
			return -ENAMETOOLONG;
		return access(path, X_OK) ? -errno : 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(path, size, "%s/../bin/%s", self, tool) >= size)
		return -ENAMETOOLONG;
	return access(path, X_OK) ? -errno : 0;
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
	"assert stats['module'] is None, 'module counters without a module'\n";

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
	err = tool_path("ktlsctl", self->ktlsctl, sizeof(self->ktlsctl));
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

TEST_HARNESS_MAIN
