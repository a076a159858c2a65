// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kTLS installer and the kTLS read path through the syscall seam, so
 * the order of setsockopt calls, the crypto_info handed to the kernel and
 * the handling of records read() cannot return are checked without a
 * kernel. The VM selftests check the same against real kernels.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"
#include "tap.h"

#define MAX_CALLS 16

static struct fake {
	/* setsockopt log */
	int levels[MAX_CALLS], names[MAX_CALLS];
	union ktls_crypto_info infos[MAX_CALLS];
	int ncalls;
	int fail_name;		/* optname to fail */
	int fail_level;
	int fail_errno;
	/* what recv() returns: the rest of the peer's bytes */
	struct ktls_buf stream;
	/* what recvmsg() returns: records as the kernel hands them */
	struct {
		uint8_t type;
		uint8_t data[64];
		size_t len;
	} records[8];
	int nrecords, next_record;
	/* what sendmsg() was given */
	struct ktls_buf sent;
	uint8_t sent_types[8];
	int nsent_types;
} fake;

static int fake_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (fake.ncalls < MAX_CALLS) {
		fake.levels[fake.ncalls] = level;
		fake.names[fake.ncalls] = name;
		if (level == SOL_TLS && (name == TLS_TX || name == TLS_RX))
			memcpy(&fake.infos[fake.ncalls], val, len);
		fake.ncalls++;
	}
	if (level == fake.fail_level && name == fake.fail_name) {
		errno = fake.fail_errno;
		return -1;
	}
	return 0;
}

static ssize_t fake_recv(int fd, void *buf, size_t len, int flags)
{
	if (len > fake.stream.off)
		len = fake.stream.off;
	memcpy(buf, fake.stream.base, len);
	ktls_buf_shift(&fake.stream, len);
	return (ssize_t)len;
}

static ssize_t fake_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct cmsghdr *cmsg;
	size_t len;

	if (fake.next_record == fake.nrecords)
		return 0;
	len = fake.records[fake.next_record].len;
	memcpy(msg->msg_iov[0].iov_base, fake.records[fake.next_record].data, len);
	cmsg = CMSG_FIRSTHDR(msg);
	cmsg->cmsg_level = SOL_TLS;
	cmsg->cmsg_type = TLS_GET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cmsg) = fake.records[fake.next_record].type;
	fake.next_record++;
	return (ssize_t)len;
}

static ssize_t fake_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct cmsghdr *cmsg;

	for (cmsg = CMSG_FIRSTHDR((struct msghdr *)msg); cmsg;
	     cmsg = CMSG_NXTHDR((struct msghdr *)msg, cmsg))
		if (cmsg->cmsg_level == SOL_TLS && fake.nsent_types < 8)
			fake.sent_types[fake.nsent_types++] = *CMSG_DATA(cmsg);
	ktls_buf_push(&fake.sent, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len);
	return (ssize_t)msg->msg_iov[0].iov_len;
}

static const struct ktls_syscalls fake_syscalls = {
	.setsockopt = fake_setsockopt,
	.recvmsg = fake_recvmsg,
	.sendmsg = fake_sendmsg,
	.recv = fake_recv,
};

static void fake_reset(void)
{
	ktls_buf_dispose(&fake.stream);
	ktls_buf_dispose(&fake.sent);
	memset(&fake, 0, sizeof(fake));
}

static void fake_record(uint8_t type, const void *data, size_t len)
{
	fake.records[fake.nrecords].type = type;
	memcpy(fake.records[fake.nrecords].data, data, len);
	fake.records[fake.nrecords].len = len;
	fake.nrecords++;
}

static char dir[] = "/tmp/ktls-install-XXXXXX";

struct pair {
	struct ktls_conn *c, *s;
};

/* A completed in-memory handshake; the server then sends @records records. */
static void pair_new(struct pair *p, const char *suite)
{
	struct ktls_config *ccfg = ktls_config_new(), *scfg = ktls_config_new();
	struct ktls_buf c2s, s2c;
	char cert[256], key[256];
	size_t n;
	int i, cret = KTLS_ERROR_IN_PROGRESS, sret = KTLS_ERROR_IN_PROGRESS;

	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	ktls_config_add_identity(scfg, cert, key);
	ktls_config_set_verify(ccfg, KTLS_VERIFY_NONE);
	ktls_config_set_ciphers(ccfg, suite);
	p->c = ktls_conn_new(ccfg, KTLS_ROLE_CLIENT);
	p->s = ktls_conn_new(scfg, KTLS_ROLE_SERVER);
	ktls_config_free(ccfg);
	ktls_config_free(scfg);
	ktls_buf_init(&c2s, NULL, 0);
	ktls_buf_init(&s2c, NULL, 0);
	for (i = 0; i < 10 && (cret || sret); i++) {
		n = s2c.off;
		cret = ktls_handshake(p->c, &c2s, s2c.base, &n);
		ktls_buf_shift(&s2c, n);
		n = c2s.off;
		sret = ktls_handshake(p->s, &s2c, c2s.base, &n);
		ktls_buf_shift(&c2s, n);
	}
	ktls_buf_dispose(&c2s);
	ktls_buf_dispose(&s2c);
}

static void pair_free(struct pair *p)
{
	ktls_conn_free(p->c);
	ktls_conn_free(p->s);
}

static void test_install_order(void)
{
	union ktls_crypto_info want_tx, want_rx;
	struct ktls_install_status st;
	struct ktls_buf wire, plain;
	size_t len, split;
	struct pair p;
	int ret;

	fake_reset();
	pair_new(&p, "TLS_AES_256_GCM_SHA384");
	ktls_buf_init(&wire, NULL, 0);
	ktls_buf_init(&plain, NULL, 0);
	/* Three records arrived with the handshake's end; we have 2.5 of them. */
	ktls_send(p.s, &wire, "one", 3);
	ktls_send(p.s, &wire, "two", 3);
	ktls_send(p.s, &wire, "three", 5);
	split = wire.off - 10;
	ktls_buf_push(&fake.stream, wire.base + split, wire.off - split);
	ktls_buf_push(&fake.stream, "NEXT", 4);	/* must stay in the socket */
	ret = ktls_install(p.c, 3, wire.base, split, &plain, NULL, &st);
	tap_ok(ret == 0 && st.installed == (KTLS_INSTALLED_TX | KTLS_INSTALLED_RX) &&
	       !strcmp(ktls_install_name(st.installed), "tx+rx"),
	       "install: both directions (%s)", st.detail);
	tap_ok(plain.off == 11 && !memcmp(plain.base, "onetwothree", 11) &&
	       fake.stream.off == 4,
	       "install: records read past the handshake decrypted, partial one completed, "
	       "no byte beyond it read");
	tap_ok(fake.ncalls == 4 && fake.levels[0] == SOL_TCP && fake.names[0] == TCP_ULP &&
	       fake.names[1] == TLS_TX && fake.names[2] == TLS_RX &&
	       fake.names[3] == TLS_RX_EXPECT_NO_PAD && st.rx_expect_no_pad,
	       "install: TCP_ULP, TLS_TX, TLS_RX, TLS_RX_EXPECT_NO_PAD in that order");
	ktls_export_crypto_info(p.s, KTLS_DIR_RX, &want_tx, &len);
	ktls_export_crypto_info(p.s, KTLS_DIR_TX, &want_rx, &len);
	tap_ok(!memcmp(&fake.infos[1], &want_tx, len) && !memcmp(&fake.infos[2], &want_rx, len) &&
	       fake.infos[2].aes_gcm_256.rec_seq[7] == 3 &&
	       fake.infos[2].info.cipher_type == TLS_CIPHER_AES_GCM_256,
	       "install: kernel gets the peer's keys with RX sequence 3");
	ktls_buf_dispose(&wire);
	ktls_buf_dispose(&plain);
	pair_free(&p);
}

static void test_install_failures(void)
{
	struct ktls_install_status st;
	struct ktls_buf plain;
	struct pair p;
	int ret;

	fake_reset();
	fake.fail_level = SOL_TCP;
	fake.fail_name = TCP_ULP;
	fake.fail_errno = ENOENT;
	pair_new(&p, "TLS_AES_128_GCM_SHA256");
	ktls_buf_init(&plain, NULL, 0);
	ret = ktls_install(p.c, 3, NULL, 0, &plain, NULL, &st);
	tap_ok(ret == -ENOENT && st.installed == 0 && fake.ncalls == 1 &&
	       strstr(st.detail, "no tls module") && ktls_send(p.c, &plain, "x", 1) == 0,
	       "no tls module: -ENOENT before anything, userspace records still usable (%s)",
	       st.detail);
	pair_free(&p);

	fake_reset();
	fake.fail_level = SOL_TLS;
	fake.fail_name = TLS_RX;
	fake.fail_errno = EINVAL;
	pair_new(&p, "TLS_CHACHA20_POLY1305_SHA256");
	ret = ktls_install(p.c, 3, NULL, 0, &plain, NULL, &st);
	tap_ok(ret == -EINVAL && st.installed == KTLS_INSTALLED_TX && st.rx_errno == EINVAL &&
	       !strcmp(ktls_install_name(st.installed), "tx") && strstr(st.detail, "rx:"),
	       "RX refused by the kernel: TX stays in the kernel, error names RX (%s)",
	       st.detail);
	ktls_buf_dispose(&plain);
	pair_free(&p);

	fake_reset();
	fake.fail_level = SOL_TLS;
	fake.fail_name = TLS_RX_EXPECT_NO_PAD;
	fake.fail_errno = ENOPROTOOPT;
	pair_new(&p, "TLS_AES_128_GCM_SHA256");
	ktls_buf_init(&plain, NULL, 0);
	ret = ktls_install(p.c, 3, NULL, 0, &plain, NULL, &st);
	tap_ok(ret == 0 && !st.rx_expect_no_pad && st.installed == 3,
	       "kernel without TLS_RX_EXPECT_NO_PAD: installed anyway, hint off");
	ktls_buf_dispose(&plain);
	pair_free(&p);
}

static void test_read(void)
{
	static const uint8_t ticket[] = {
		KTLS_HS_NEW_SESSION_TICKET, 0, 0, 15, 0, 0, 0x1c, 0x20, 1, 2, 3, 4, 0, 0, 2,
		0xaa, 0xbb, 0, 0
	};
	static const uint8_t key_update[] = { KTLS_HS_KEY_UPDATE, 0, 0, 1, 1 };
	static const uint8_t close_notify[] = { 1, 0 };
	static const uint8_t fatal[] = { 2, KTLS_ALERT_BAD_CERTIFICATE };
	struct ktls_install_status st;
	struct ktls_buf plain;
	char buf[256];
	struct pair p;
	ssize_t n;

	fake_reset();
	pair_new(&p, "TLS_AES_128_GCM_SHA256");
	ktls_buf_init(&plain, NULL, 0);
	ktls_install(p.c, 3, NULL, 0, &plain, NULL, &st);
	fake_record(KTLS_CT_HANDSHAKE, ticket, sizeof(ticket));
	fake_record(KTLS_CT_APPLICATION_DATA, "data", 4);
	fake_record(KTLS_CT_ALERT, close_notify, sizeof(close_notify));
	n = ktls_read(p.c, 3, buf, sizeof(buf));
	{
		const uint8_t *tk;
		size_t tk_len;
		uint32_t lifetime;

		tap_ok(!ktls_get_ticket(p.c, &lifetime, &tk, &tk_len) && lifetime == 0x1c20 &&
		       tk_len == 2 && tk[0] == 0xaa, "read: the ticket is kept");
	}
	tap_ok(n == 4 && !memcmp(buf, "data", 4) && ktls_get_ticket_count(p.c) == 1,
	       "read: NewSessionTicket consumed, then data");
	tap_ok(ktls_read(p.c, 3, buf, sizeof(buf)) == 0 && ktls_read(p.c, 3, buf, 16) == 0,
	       "read: close_notify is the end of the stream");
	ktls_close_notify_fd(p.c, 3);
	tap_ok(fake.nsent_types == 1 && fake.sent_types[0] == KTLS_CT_ALERT &&
	       fake.sent.off == 2 && fake.sent.base[1] == 0,
	       "close_notify sent through kTLS as an alert record");
	pair_free(&p);

	/* A kernel without TLS 1.3 rekey refuses a second TLS_RX. */
	fake_reset();
	pair_new(&p, "TLS_AES_128_GCM_SHA256");
	ktls_install(p.c, 3, NULL, 0, &plain, NULL, &st);
	fake.fail_level = SOL_TLS;
	fake.fail_name = TLS_RX;
	fake.fail_errno = EBUSY;
	fake_record(KTLS_CT_HANDSHAKE, key_update, sizeof(key_update));
	fake_record(KTLS_CT_APPLICATION_DATA, "garbage", 7);
	n = ktls_read(p.c, 3, buf, sizeof(buf));
	tap_ok(n == -EKEYEXPIRED && strstr(ktls_get_error_detail(p.c), "KeyUpdate") &&
	       ktls_read(p.c, 3, buf, sizeof(buf)) < 0 && fake.next_record == 1,
	       "read: KeyUpdate on a kernel without rekey is a clear error, nothing after it "
	       "read (%s)", ktls_get_error_detail(p.c));
	pair_free(&p);

	/* A kernel with rekey: new RX key, and the requested answer goes out. */
	fake_reset();
	pair_new(&p, "TLS_AES_128_GCM_SHA256");
	ktls_install(p.c, 3, NULL, 0, &plain, NULL, &st);
	fake_record(KTLS_CT_HANDSHAKE, key_update, sizeof(key_update));
	fake_record(KTLS_CT_APPLICATION_DATA, "after", 5);
	n = ktls_read(p.c, 3, buf, sizeof(buf));
	tap_ok(n == 5 && fake.ncalls == 6 && fake.names[4] == TLS_RX && fake.names[5] == TLS_TX &&
	       fake.nsent_types == 1 && fake.sent_types[0] == KTLS_CT_HANDSHAKE &&
	       fake.sent.off == 5 && fake.sent.base[4] == 0 &&
	       memcmp(&fake.infos[4], &fake.infos[2], sizeof(fake.infos[2])),
	       "read: KeyUpdate on a rekey kernel installs new RX and TX keys and answers");
	pair_free(&p);

	fake_reset();
	pair_new(&p, "TLS_AES_128_GCM_SHA256");
	ktls_install(p.c, 3, NULL, 0, &plain, NULL, &st);
	fake_record(KTLS_CT_ALERT, fatal, sizeof(fatal));
	n = ktls_read(p.c, 3, buf, sizeof(buf));
	tap_ok(n == -EACCES && strstr(ktls_get_error_detail(p.c), "bad_certificate"),
	       "read: a fatal alert is an error naming it (%s)", ktls_get_error_detail(p.c));
	ktls_buf_dispose(&plain);
	pair_free(&p);
	fake_reset();
}

int main(void)
{
	char cmd[512];

	tap_plan(14);
	if (!mkdtemp(dir))
		return 1;
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout %s/key.pem -out %s/cert.pem -subj /CN=localhost -days 1 2>/dev/null",
		 dir, dir);
	if (system(cmd))
		return 1;
	ktls_set_syscalls(&fake_syscalls);
	test_install_order();
	test_install_failures();
	test_read();
	ktls_set_syscalls(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return tap_done();
}
