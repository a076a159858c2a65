// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktls_raw_test.c - the kernel's TLS ULP on its own, without ktlsd.
 *
 * A loopback TCP pair gets the "tls" ULP on both ends and fixed keys, one
 * set per direction as in TLS: the client's TLS_TX and the server's TLS_RX
 * share one, the server's TLS_TX and the client's TLS_RX the other. Every
 * test runs for TLS 1.2 and 1.3 with each cipher ktlsd negotiates.
 *
 * This is the ground the project's kernel-facing tests stand on: when it
 * fails, the kernel (or the VM bed) is at fault, not the engine. It checks
 * that records cross both ways intact, that /proc/net/tls_stat counts the
 * sockets as software kTLS, that the kernel reports back the keys it was
 * given, and that a non-data record keeps its content type from
 * TLS_SET_RECORD_TYPE to TLS_GET_RECORD_TYPE while a plain read() refuses it.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

#ifndef SOL_TLS
#define SOL_TLS			282
#endif

/* TLS content types, RFC 8446 section 5.1. */
#define CONTENT_TYPE_ALERT	21
#define CONTENT_TYPE_DATA	23

/* Longest a blocking call may wait before the test calls the kernel stuck. */
#define IO_TIMEOUT_SECONDS	10

/*
 * The kernel's tls12_crypto_info_* structs put the same fields at different
 * offsets; this table says where, so that one function fills any of them.
 */
struct cipher_layout {
	unsigned short	cl_type;
	const char	*cl_name;
	size_t		cl_info_size;
	size_t		cl_iv_offset;
	size_t		cl_iv_size;
	size_t		cl_key_offset;
	size_t		cl_key_size;
	size_t		cl_salt_offset;
	size_t		cl_salt_size;
	size_t		cl_rec_seq_offset;
	size_t		cl_rec_seq_size;
};

#define CIPHER_LAYOUT(type, name, info_struct, sizes)			\
	{								\
		.cl_type = type,					\
		.cl_name = name,					\
		.cl_info_size = sizeof(struct info_struct),		\
		.cl_iv_offset = offsetof(struct info_struct, iv),	\
		.cl_iv_size = sizes##_IV_SIZE,				\
		.cl_key_offset = offsetof(struct info_struct, key),	\
		.cl_key_size = sizes##_KEY_SIZE,			\
		.cl_salt_offset = offsetof(struct info_struct, salt),	\
		.cl_salt_size = sizes##_SALT_SIZE,			\
		.cl_rec_seq_offset = offsetof(struct info_struct, rec_seq), \
		.cl_rec_seq_size = sizes##_REC_SEQ_SIZE,		\
	}

static const struct cipher_layout cipher_layouts[] = {
	CIPHER_LAYOUT(TLS_CIPHER_AES_GCM_128, "aes-gcm-128",
		      tls12_crypto_info_aes_gcm_128, TLS_CIPHER_AES_GCM_128),
	CIPHER_LAYOUT(TLS_CIPHER_AES_GCM_256, "aes-gcm-256",
		      tls12_crypto_info_aes_gcm_256, TLS_CIPHER_AES_GCM_256),
	CIPHER_LAYOUT(TLS_CIPHER_CHACHA20_POLY1305, "chacha20-poly1305",
		      tls12_crypto_info_chacha20_poly1305,
		      TLS_CIPHER_CHACHA20_POLY1305),
};

/* Big enough for every struct in cipher_layouts. */
union crypto_info {
	struct tls_crypto_info				info;
	struct tls12_crypto_info_aes_gcm_128		aes_gcm_128;
	struct tls12_crypto_info_aes_gcm_256		aes_gcm_256;
	struct tls12_crypto_info_chacha20_poly1305	chacha20_poly1305;
};

/* Which way a key set protects: each has its own fixed bytes. */
enum direction {
	CLIENT_TO_SERVER = 0x11,
	SERVER_TO_CLIENT = 0x77,
};

static const struct cipher_layout *find_cipher(unsigned short type)
{
	size_t i;

	for (i = 0; i < sizeof(cipher_layouts) / sizeof(cipher_layouts[0]); i++)
		if (cipher_layouts[i].cl_type == type)
			return &cipher_layouts[i];
	return NULL;
}

/* Deterministic, non-repeating bytes: key, IV and salt of a direction. */
static void fill_pattern(unsigned char *dst, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = (unsigned char)(seed + i * 31);
}

static void make_crypto_info(union crypto_info *ci,
			     const struct cipher_layout *cl,
			     unsigned short version, enum direction dir)
{
	unsigned char *base = (unsigned char *)ci;

	memset(ci, 0, sizeof(*ci));
	ci->info.version = version;
	ci->info.cipher_type = cl->cl_type;
	fill_pattern(base + cl->cl_key_offset, cl->cl_key_size, dir);
	fill_pattern(base + cl->cl_iv_offset, cl->cl_iv_size, dir + 1);
	fill_pattern(base + cl->cl_salt_offset, cl->cl_salt_size, dir + 2);
	/* rec_seq stays zero: the first record after the handshake. */
}

static int set_io_timeout(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_SECONDS };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

/* A connected TCP pair over 127.0.0.1; returns 0 or a negative errno. */
static int tcp_loopback_pair(int *client, int *server)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t addr_len = sizeof(addr);
	int listener, err;

	*client = *server = -1;
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0)
		return -errno;
	if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(listener, 1) ||
	    getsockname(listener, (struct sockaddr *)&addr, &addr_len))
		goto out_close_listener;

	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0)
		goto out_close_listener;
	if (connect(*client, (struct sockaddr *)&addr, sizeof(addr)))
		goto out_close_client;
	*server = accept(listener, NULL, NULL);
	if (*server < 0)
		goto out_close_client;
	close(listener);

	err = set_io_timeout(*client);
	if (!err)
		err = set_io_timeout(*server);
	if (err) {
		close(*server);
		close(*client);
		*client = *server = -1;
	}
	return err;

out_close_client:
	err = -errno;
	close(*client);
	*client = -1;
	close(listener);
	return err;
out_close_listener:
	err = -errno;
	close(listener);
	return err;
}

/* Attaches the ULP and both directions' keys; returns 0 or a negative errno. */
static int install_ktls(int fd, const struct cipher_layout *cl,
			unsigned short version, enum direction tx_dir,
			enum direction rx_dir)
{
	union crypto_info ci;
	int err = 0;

	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -errno;

	make_crypto_info(&ci, cl, version, tx_dir);
	if (setsockopt(fd, SOL_TLS, TLS_TX, &ci, cl->cl_info_size))
		err = -errno;
	make_crypto_info(&ci, cl, version, rx_dir);
	if (!err && setsockopt(fd, SOL_TLS, TLS_RX, &ci, cl->cl_info_size))
		err = -errno;
	memset(&ci, 0, sizeof(ci));
	return err;
}

static ssize_t send_all(int fd, const unsigned char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		done += n;
	}
	return done;
}

static ssize_t recv_all(int fd, unsigned char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = recv(fd, buf + done, len - done, MSG_WAITALL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		done += n;
	}
	return done;
}

/* Sends one record of the given content type through a TLS_SET_RECORD_TYPE cmsg. */
static ssize_t send_record_type(int fd, unsigned char type,
				const void *buf, size_t len)
{
	char control[CMSG_SPACE(sizeof(type))] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	cmsg->cmsg_level = SOL_TLS;
	cmsg->cmsg_type = TLS_SET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(sizeof(type));
	memcpy(CMSG_DATA(cmsg), &type, sizeof(type));
	n = sendmsg(fd, &msg, 0);
	return n < 0 ? -errno : n;
}

/*
 * Receives one record's worth with TLS_GET_RECORD_TYPE; *type is 0 when the
 * kernel sent no record type.
 */
static ssize_t recv_record_type(int fd, unsigned char *type,
				void *buf, size_t len)
{
	char control[CMSG_SPACE(sizeof(*type))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	*type = 0;
	n = recvmsg(fd, &msg, 0);
	if (n < 0)
		return -errno;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_TLS &&
		    cmsg->cmsg_type == TLS_GET_RECORD_TYPE)
			memcpy(type, CMSG_DATA(cmsg), sizeof(*type));
	return n;
}

FIXTURE(tls_pair) {
	int				client;
	int				server;
	const struct cipher_layout	*cipher;
	struct tu_tls_stat			stat_before;
};

FIXTURE_VARIANT(tls_pair) {
	unsigned short	tls_version;
	unsigned short	cipher_type;
};

FIXTURE_VARIANT_ADD(tls_pair, tls12_aes_gcm_128) {
	.tls_version = TLS_1_2_VERSION,
	.cipher_type = TLS_CIPHER_AES_GCM_128,
};

FIXTURE_VARIANT_ADD(tls_pair, tls12_aes_gcm_256) {
	.tls_version = TLS_1_2_VERSION,
	.cipher_type = TLS_CIPHER_AES_GCM_256,
};

FIXTURE_VARIANT_ADD(tls_pair, tls12_chacha20_poly1305) {
	.tls_version = TLS_1_2_VERSION,
	.cipher_type = TLS_CIPHER_CHACHA20_POLY1305,
};

FIXTURE_VARIANT_ADD(tls_pair, tls13_aes_gcm_128) {
	.tls_version = TLS_1_3_VERSION,
	.cipher_type = TLS_CIPHER_AES_GCM_128,
};

FIXTURE_VARIANT_ADD(tls_pair, tls13_aes_gcm_256) {
	.tls_version = TLS_1_3_VERSION,
	.cipher_type = TLS_CIPHER_AES_GCM_256,
};

FIXTURE_VARIANT_ADD(tls_pair, tls13_chacha20_poly1305) {
	.tls_version = TLS_1_3_VERSION,
	.cipher_type = TLS_CIPHER_CHACHA20_POLY1305,
};

FIXTURE_SETUP(tls_pair)
{
	int err;

	self->client = self->server = -1;
	self->cipher = find_cipher(variant->cipher_type);
	ASSERT_NE(NULL, self->cipher);
	ASSERT_EQ(0, tu_read_tls_stat(&self->stat_before));

	err = tcp_loopback_pair(&self->client, &self->server);
	ASSERT_EQ(0, err) TH_LOG("loopback TCP pair: %s", strerror(-err));

	err = install_ktls(self->client, self->cipher, variant->tls_version,
			   CLIENT_TO_SERVER, SERVER_TO_CLIENT);
	ASSERT_EQ(0, err) TH_LOG("client kTLS (%s): %s", self->cipher->cl_name,
				 strerror(-err));
	err = install_ktls(self->server, self->cipher, variant->tls_version,
			   SERVER_TO_CLIENT, CLIENT_TO_SERVER);
	ASSERT_EQ(0, err) TH_LOG("server kTLS (%s): %s", self->cipher->cl_name,
				 strerror(-err));
}

FIXTURE_TEARDOWN(tls_pair)
{
	if (self->client >= 0)
		close(self->client);
	if (self->server >= 0)
		close(self->server);
}

/*
 * Sizes that straddle the 16 KiB record limit: a single byte, partial
 * records, one full record, one byte more than a record, several records.
 * Their sum stays below the loopback socket buffers, so a send never waits
 * for the (same-thread) reader.
 */
static const size_t transfer_sizes[] = { 1, 100, 4096, 16384, 16385, 40000 };

static void check_one_way(struct __test_metadata *_metadata,
			  int from, int to, unsigned int seed)
{
	unsigned char *sent, *received;
	unsigned char probe;
	ssize_t n;
	size_t i;

	sent = malloc(40000);
	received = malloc(40000);
	ASSERT_NE(NULL, sent);
	ASSERT_NE(NULL, received);

	for (i = 0; i < sizeof(transfer_sizes) / sizeof(transfer_sizes[0]); i++) {
		size_t len = transfer_sizes[i];

		fill_pattern(sent, len, seed + i);
		memset(received, 0, len);
		n = send_all(from, sent, len);
		ASSERT_EQ((ssize_t)len, n) TH_LOG("send %zu: %s", len, strerror((int)-n));
		n = recv_all(to, received, len);
		ASSERT_EQ((ssize_t)len, n) TH_LOG("recv %zu: %s", len, strerror((int)-n));
		ASSERT_EQ(0, memcmp(sent, received, len))
			TH_LOG("%zu bytes arrived altered", len);
	}

	/* Nothing more than was sent may arrive. */
	n = recv(to, &probe, 1, MSG_DONTWAIT);
	ASSERT_EQ(-1, n);
	ASSERT_EQ(EAGAIN, errno);

	free(sent);
	free(received);
}

TEST_F(tls_pair, data_both_ways)
{
	check_one_way(_metadata, self->client, self->server, 1);
	check_one_way(_metadata, self->server, self->client, 101);
	/* And once more, with both record sequences past zero. */
	check_one_way(_metadata, self->client, self->server, 201);
}

TEST_F(tls_pair, tls_stat_counts_sockets)
{
	struct tu_tls_stat after;
	unsigned char byte = 0x5a;

	/* A record each way, so that the counters follow real use. */
	ASSERT_EQ(1, send_all(self->client, &byte, 1));
	ASSERT_EQ(1, recv_all(self->server, &byte, 1));
	ASSERT_EQ(1, send_all(self->server, &byte, 1));
	ASSERT_EQ(1, recv_all(self->client, &byte, 1));

	ASSERT_EQ(0, tu_read_tls_stat(&after));
	/* Two sockets, each with TX and RX in software. */
	EXPECT_LE(self->stat_before.tx_sw + 2, after.tx_sw);
	EXPECT_LE(self->stat_before.rx_sw + 2, after.rx_sw);
	EXPECT_LE(2, after.curr_tx_sw);
	EXPECT_LE(2, after.curr_rx_sw);
}

/* The kernel wants the exact size of the cipher's struct, no more. */
static int get_crypto_info(int fd, int optname, const struct cipher_layout *cl,
			   union crypto_info *ci)
{
	socklen_t len = cl->cl_info_size;

	memset(ci, 0, sizeof(*ci));
	if (getsockopt(fd, SOL_TLS, optname, ci, &len))
		return -errno;
	return len == cl->cl_info_size ? 0 : -EMSGSIZE;
}

TEST_F(tls_pair, getsockopt_returns_keys)
{
	union crypto_info expected, seen;
	int err;

	make_crypto_info(&expected, self->cipher, variant->tls_version,
			 CLIENT_TO_SERVER);
	err = get_crypto_info(self->client, TLS_TX, self->cipher, &seen);
	ASSERT_EQ(0, err) TH_LOG("getsockopt TLS_TX: %s", strerror(-err));
	EXPECT_EQ(0, memcmp(&expected, &seen, self->cipher->cl_info_size));

	err = get_crypto_info(self->server, TLS_RX, self->cipher, &seen);
	ASSERT_EQ(0, err) TH_LOG("getsockopt TLS_RX: %s", strerror(-err));
	EXPECT_EQ(0, memcmp(&expected, &seen, self->cipher->cl_info_size));
	memset(&expected, 0, sizeof(expected));
	memset(&seen, 0, sizeof(seen));
}

TEST_F(tls_pair, alert_keeps_record_type)
{
	/* A warning-level close_notify, as a peer sends when it is done. */
	static const unsigned char alert[] = { 1, 0 };
	static const char after[] = "data after the alert";
	unsigned char buf[64], type;
	ssize_t n;

	ASSERT_EQ((ssize_t)sizeof(alert),
		  send_record_type(self->client, CONTENT_TYPE_ALERT, alert,
				   sizeof(alert)));
	ASSERT_EQ((ssize_t)sizeof(after),
		  send_all(self->client, (const unsigned char *)after,
			   sizeof(after)));

	/* Without room for the cmsg, the kernel must not hand it out as data. */
	n = read(self->server, buf, sizeof(buf));
	ASSERT_EQ(-1, n);
	ASSERT_EQ(EIO, errno);

	/* The alert is still there, whole, and typed. */
	n = recv_record_type(self->server, &type, buf, sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(alert), n) TH_LOG("recvmsg: %s", strerror((int)-n));
	EXPECT_EQ(CONTENT_TYPE_ALERT, type);
	EXPECT_EQ(0, memcmp(alert, buf, sizeof(alert)));

	/* The data record after it is not merged into the alert's read. */
	n = recv_record_type(self->server, &type, buf, sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(after), n) TH_LOG("recvmsg: %s", strerror((int)-n));
	EXPECT_EQ(CONTENT_TYPE_DATA, type);
	EXPECT_EQ(0, memcmp(after, buf, sizeof(after)));
}

TEST_HARNESS_MAIN
