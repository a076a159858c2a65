// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Handing the record layer to the kernel (kTLS), and reading from a kTLS
 * socket the records read() cannot return.
 *
 * Order of ktls_install(), chosen so that no byte is lost or sent twice:
 *  1. attach the "tls" ULP: without keys it passes data through, so a
 *     kernel without kTLS is found out before anything changes;
 *  2. decrypt in userspace what was already read past the handshake,
 *     reading from the socket only what completes a partial record, and
 *     send whatever that produced (a KeyUpdate answer) under our keys;
 *  3. TLS_TX with the current TX sequence number;
 *  4. TLS_RX at the record boundary reached in 2, then
 *     TLS_RX_EXPECT_NO_PAD (TLS 1.3, 6.0 and later) when wanted.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ktls_int.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef SOL_TLS
#define SOL_TLS 282
#endif

static const struct ktls_syscalls ktls_default_syscalls = {
	.setsockopt = setsockopt,
	.recvmsg = recvmsg,
	.sendmsg = sendmsg,
	.recv = recv,
};

static const struct ktls_syscalls *ktls_sys = &ktls_default_syscalls;

void ktls_set_syscalls(const struct ktls_syscalls *sys)
{
	ktls_sys = sys ? sys : &ktls_default_syscalls;
}

const char *ktls_install_name(int installed)
{
	switch (installed & (KTLS_INSTALLED_TX | KTLS_INSTALLED_RX)) {
	case KTLS_INSTALLED_TX | KTLS_INSTALLED_RX:
		return "tx+rx";
	case KTLS_INSTALLED_TX:
		return "tx";
	case KTLS_INSTALLED_RX:
		return "rx";
	default:
		return "off";
	}
}

static int install_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ret;

	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret ? 0 : -ETIMEDOUT;
}

/* Sends @len bytes as they are (already records), all of them. */
static int install_send_raw(int fd, const uint8_t *data, size_t len, int timeout_ms)
{
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int ret;

	while (len) {
		iov.iov_base = (void *)data;
		iov.iov_len = len;
		n = ktls_sys->sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			ret = install_wait(fd, POLLOUT, timeout_ms);
			if (ret)
				return ret;
			continue;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One record of @type through the kernel's TX (TLS_SET_RECORD_TYPE). */
static int install_send_kernel_record(int fd, uint8_t type, const void *data, size_t len)
{
	char control[CMSG_SPACE(sizeof(uint8_t))] = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	cmsg->cmsg_level = SOL_TLS;
	cmsg->cmsg_type = TLS_SET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(sizeof(uint8_t));
	*CMSG_DATA(cmsg) = type;
	do {
		n = ktls_sys->sendmsg(fd, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int install_direction(struct ktls_conn *conn, int fd, enum ktls_direction dir)
{
	union ktls_crypto_info info;
	size_t len;
	int ret;

	ret = ktls_export_crypto_info(conn, dir, &info, &len);
	if (ret)
		return -EINVAL;
	ret = ktls_sys->setsockopt(fd, SOL_TLS, dir == KTLS_DIR_TX ? TLS_TX : TLS_RX, &info,
				   (socklen_t)len);
	/*
	 * ENOENT is the kernel failing to instantiate the AEAD. A fresh boot
	 * has been seen to fail once this way while crypto modules load, so
	 * one retry; a cipher the kernel lacks fails both.
	 */
	if (ret && errno == ENOENT)
		ret = ktls_sys->setsockopt(fd, SOL_TLS, dir == KTLS_DIR_TX ? TLS_TX : TLS_RX,
					   &info, (socklen_t)len);
	if (ret)
		ret = -errno;
	kc_cleanse(&info, sizeof(info));
	return ret;
}

/*
 * Decrypts the records already read past the handshake. A partial record
 * at the end is completed from the socket, reading no byte beyond it.
 */
static int install_drain_pending(struct ktls_conn *conn, int fd, const void *pending,
				 size_t pending_len, struct ktls_buf *plaintext, int timeout_ms)
{
	struct ktls_buf in, out;
	uint8_t chunk[4096];
	size_t n, need;
	ssize_t got;
	int ret;

	ktls_buf_init(&in, NULL, 0);
	ktls_buf_init(&out, NULL, 0);
	ret = ktls_buf_push(&in, pending, pending_len);
	while (!ret && in.off) {
		n = in.off;
		ret = ktls_receive(conn, plaintext, &out, in.base, &n);
		ktls_buf_shift(&in, n);
		if (ret == KTLS_ERROR_CLOSED) {
			ret = 0;
			break;
		}
		if (ret) {
			ret = ktls_error_to_errno(ret);
			break;
		}
		if (!in.off)
			break;
		need = in.off < KTLS_RECORD_HEADER_LEN ? KTLS_RECORD_HEADER_LEN - in.off :
			KTLS_RECORD_HEADER_LEN + ((size_t)in.base[3] << 8 | in.base[4]) - in.off;
		if (need > sizeof(chunk))
			need = sizeof(chunk);
		ret = install_wait(fd, POLLIN, timeout_ms);
		if (ret)
			break;
		got = ktls_sys->recv(fd, chunk, need, MSG_DONTWAIT);
		if (got == 0)
			ret = -ECONNRESET;
		else if (got < 0)
			ret = errno == EAGAIN || errno == EINTR ? 0 : -errno;
		else
			ret = ktls_buf_push(&in, chunk, (size_t)got);
	}
	/* A KeyUpdate answer or an alert, under our userspace keys. */
	if (out.off) {
		int sent = install_send_raw(fd, out.base, out.off, timeout_ms);

		if (!ret)
			ret = sent;
	}
	kc_cleanse(chunk, sizeof(chunk));
	ktls_buf_dispose(&in);
	ktls_buf_dispose(&out);
	return ret;
}

/* What an errno of TLS_TX/TLS_RX means for the negotiated cipher. */
static const char *install_cipher_hint(const struct ktls_conn *conn, int err)
{
	switch (err) {
	case -ENOENT:
	case -EINVAL:
	case -ENOPROTOOPT:
		return conn->cn_suite->kernel_cipher_type == TLS_CIPHER_CHACHA20_POLY1305 ?
			" (this kernel cannot do ChaCha20-Poly1305 kTLS)" :
			" (this kernel cannot do this cipher in kTLS)";
	default:
		return "";
	}
}

int ktls_attach_ulp(int fd)
{
	if (!ktls_sys->setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")))
		return 0;
	switch (errno) {
	case ENOENT:		/* no tls.ko, and it could not be loaded */
		return -ENOPROTOOPT;
	case EEXIST:		/* this socket has a ULP already */
		return -EALREADY;
	default:
		return -errno;
	}
}

int ktls_install(struct ktls_conn *conn, int fd, const void *pending, size_t pending_len,
		 struct ktls_buf *plaintext, const struct ktls_install_opts *opts,
		 struct ktls_install_status *status)
{
	static const struct ktls_install_opts defaults;
	int timeout_ms, one = 1, ret, first = 0;

	if (!opts)
		opts = &defaults;
	timeout_ms = opts->timeout_ms ? opts->timeout_ms : 5000;
	memset(status, 0, sizeof(*status));
	if (!ktls_handshake_is_complete(conn) || conn->cn_kernel_tx || conn->cn_kernel_rx)
		return -EINVAL;

	if (!opts->ulp_attached && ktls_sys->setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls"))) {
		ret = -errno;
		status->tx_errno = status->rx_errno = -ret;
		snprintf(status->detail, sizeof(status->detail),
			 "setsockopt(TCP_ULP, \"tls\"): %s%s", strerror(-ret),
			 ret == -ENOENT ? " (no tls module in this kernel)" : "");
		return ret;
	}
	status->ulp_attached = 1;
	ret = install_drain_pending(conn, fd, pending, pending_len, plaintext, timeout_ms);
	status->pending_consumed = 1;
	if (ret) {
		status->pending_errno = -ret;
		snprintf(status->detail, sizeof(status->detail),
			 "records before kTLS: %s", strerror(-ret));
		return ret;
	}

	ret = install_direction(conn, fd, KTLS_DIR_TX);
	if (ret) {
		status->tx_errno = -ret;
		first = ret;
		snprintf(status->detail, sizeof(status->detail), "tx: setsockopt(TLS_TX): %s%s",
			 strerror(-ret), install_cipher_hint(conn, ret));
	} else {
		status->installed |= KTLS_INSTALLED_TX;
		conn->cn_kernel_tx = 1;
		if (opts->tx_zerocopy_ro &&
		    !ktls_sys->setsockopt(fd, SOL_TLS, TLS_TX_ZEROCOPY_RO, &one, sizeof(one)))
			status->tx_zerocopy_ro = 1;
	}

	ret = install_direction(conn, fd, KTLS_DIR_RX);
	if (ret) {
		status->rx_errno = -ret;
		if (!first) {
			first = ret;
			snprintf(status->detail, sizeof(status->detail),
				 "rx: setsockopt(TLS_RX): %s%s", strerror(-ret),
				 install_cipher_hint(conn, ret));
		}
	} else {
		status->installed |= KTLS_INSTALLED_RX;
		conn->cn_kernel_rx = 1;
		/* Only a hint: kernels before 6.0 say ENOPROTOOPT and work without it. */
		if (conn->cn_version == KTLS_VERSION_TLS13 && !opts->no_rx_expect_no_pad &&
		    !ktls_sys->setsockopt(fd, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &one, sizeof(one)))
			status->rx_expect_no_pad = 1;
	}
	return first;
}

/* Our fatal alert, through whichever record layer owns TX. */
static void install_send_alert(struct ktls_conn *conn, int fd, int err)
{
	uint8_t alert[2] = { 2, (uint8_t)err };
	struct ktls_buf out;

	if (!KTLS_ERROR_IS_SELF_ALERT(err))
		alert[1] = KTLS_ALERT_INTERNAL_ERROR;
	if (KTLS_ERROR_IS_PEER_ALERT(err))
		return;
	if (conn->cn_kernel_tx) {
		install_send_kernel_record(fd, KTLS_CT_ALERT, alert, sizeof(alert));
		return;
	}
	ktls_buf_init(&out, NULL, 0);
	if (!ktls_record_write(&conn->cn_tx, &out, KTLS_CT_ALERT, alert, sizeof(alert)))
		install_send_raw(fd, out.base, out.off, 1000);
	ktls_buf_dispose(&out);
}

static ssize_t install_read_fail(struct ktls_conn *conn, int fd, int err)
{
	struct ktls_buf unused;

	install_send_alert(conn, fd, err);
	ktls_buf_init(&unused, NULL, 0);
	ktls_conn_fail(conn, &unused, err);
	ktls_buf_dispose(&unused);
	return ktls_error_to_errno(err);
}

/* Follows a KeyUpdate with the kernel (TLS 1.3 rekey, Linux 6.14 and later). */
static ssize_t install_follow_key_update(struct ktls_conn *conn, int fd)
{
	static const uint8_t answer[5] = { KTLS_HS_KEY_UPDATE, 0, 0, 1, 0 };
	int ret;

	ret = install_direction(conn, fd, KTLS_DIR_RX);
	if (ret) {
		install_read_fail(conn, fd, ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR,
			"peer sent KeyUpdate and this kernel cannot rekey kTLS RX (%s)",
			strerror(-ret)));
		return -EKEYEXPIRED;
	}
	if (!conn->cn_key_update_owed)
		return 0;
	conn->cn_key_update_owed = 0;
	ret = install_send_kernel_record(fd, KTLS_CT_HANDSHAKE, answer, sizeof(answer));
	if (!ret)
		ret = ktls_update_traffic_secret(conn->cn_suite->hash, conn->cn_tx.secret);
	if (!ret)
		ret = ktls_protection_set(&conn->cn_tx, conn->cn_suite, conn->cn_tx.secret, 1);
	if (!ret)
		ret = install_direction(conn, fd, KTLS_DIR_TX);
	if (ret) {
		install_read_fail(conn, fd, ktls_fail(conn, KTLS_ALERT_INTERNAL_ERROR,
						      "cannot rekey kTLS TX"));
		return -EKEYEXPIRED;
	}
	return 0;
}

/*
 * Post-handshake messages on a socket upgraded by the daemon, which kept
 * the keys: tickets are of no use here, a KeyUpdate cannot be followed.
 */
static ssize_t install_read_handshake_stateless(int fd, const uint8_t *msg, size_t len)
{
	static const uint8_t unexpected[2] = { 2, KTLS_ALERT_UNEXPECTED_MESSAGE };
	size_t off = 0, body;

	while (off < len) {
		if (len - off < 4)
			return -EBADMSG;
		body = (size_t)msg[off + 1] << 16 | (size_t)msg[off + 2] << 8 | msg[off + 3];
		if (body > len - off - 4)
			return -EBADMSG;
		switch (msg[off]) {
		case KTLS_HS_NEW_SESSION_TICKET:
			break;
		case KTLS_HS_KEY_UPDATE:
			return -EKEYEXPIRED;
		default:
			install_send_kernel_record(fd, KTLS_CT_ALERT, unexpected, sizeof(unexpected));
			return -EPROTO;
		}
		off += 4 + body;
	}
	return 0;
}

static ssize_t install_read_stateless(int fd, void *buf, size_t len)
{
	char control[CMSG_SPACE(sizeof(uint8_t))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	const uint8_t *p = buf;
	uint8_t type;
	ssize_t n;

	for (;;) {
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		n = ktls_sys->recvmsg(fd, &msg, 0);
		if (n < 0)
			return -errno;
		if (!n)
			return -ECONNRESET;
		type = KTLS_CT_APPLICATION_DATA;
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
			if (cmsg->cmsg_level == SOL_TLS && cmsg->cmsg_type == TLS_GET_RECORD_TYPE)
				type = *CMSG_DATA(cmsg);
		switch (type) {
		case KTLS_CT_APPLICATION_DATA:
			return n;
		case KTLS_CT_ALERT:
			if (n == 2 && p[1] == KTLS_ALERT_CLOSE_NOTIFY)
				return 0;
			return n == 2 ? ktls_error_to_errno(KTLS_ERROR_PEER_ALERT(p[1])) : -EPROTO;
		case KTLS_CT_HANDSHAKE:
			n = install_read_handshake_stateless(fd, p, (size_t)n);
			kc_cleanse(buf, len);
			if (n)
				return n;
			continue;
		default:
			return -EPROTO;
		}
	}
}

ssize_t ktls_read(struct ktls_conn *conn, int fd, void *buf, size_t len)
{
	char control[CMSG_SPACE(sizeof(uint8_t))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	struct ktls_buf unused;
	uint8_t type;
	ssize_t n;
	int ret;

	if (len < 2)
		return -EINVAL;
	if (!conn)
		return install_read_stateless(fd, buf, len);
	for (;;) {
		if (conn->cn_state == KTLS_STATE_CLOSED)
			return 0;
		if (!conn->cn_kernel_rx || conn->cn_state != KTLS_STATE_POST_HANDSHAKE)
			return ktls_error_to_errno(conn->cn_error ? conn->cn_error : KTLS_ERROR_STATE);
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		n = ktls_sys->recvmsg(fd, &msg, 0);
		if (n < 0)
			return -errno;
		/* TCP ended without close_notify: the stream may have been cut. */
		if (!n) {
			ktls_fail(conn, 0, "peer closed the connection without close_notify");
			return -ECONNRESET;
		}
		type = KTLS_CT_APPLICATION_DATA;
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
			if (cmsg->cmsg_level == SOL_TLS && cmsg->cmsg_type == TLS_GET_RECORD_TYPE)
				type = *CMSG_DATA(cmsg);
		switch (type) {
		case KTLS_CT_APPLICATION_DATA:
			if (conn->cn_hs_in.off)
				return install_read_fail(conn, fd, ktls_fail(conn,
					KTLS_ALERT_UNEXPECTED_MESSAGE,
					"record interleaved with a handshake message"));
			return n;
		case KTLS_CT_ALERT:
			ret = ktls_conn_alert(conn, buf, (size_t)n);
			if (ret == KTLS_ERROR_CLOSED) {
				conn->cn_state = KTLS_STATE_CLOSED;
				return 0;
			}
			return install_read_fail(conn, fd, ret);
		case KTLS_CT_HANDSHAKE:
			ktls_buf_init(&unused, NULL, 0);
			ret = ktls_conn_handshake_fragment(conn, &unused, buf, (size_t)n);
			ktls_buf_dispose(&unused);
			kc_cleanse(buf, (size_t)n);
			if (ret)
				return install_read_fail(conn, fd, ret);
			if (conn->cn_rx_key_changed) {
				conn->cn_rx_key_changed = 0;
				n = install_follow_key_update(conn, fd);
				if (n)
					return n;
			}
			continue;
		default:
			return install_read_fail(conn, fd, ktls_fail(conn,
				KTLS_ALERT_UNEXPECTED_MESSAGE, "record of type %u after the handshake",
				type));
		}
	}
}

int ktls_close_notify_fd(struct ktls_conn *conn, int fd)
{
	static const uint8_t close_notify[2] = { 1, KTLS_ALERT_CLOSE_NOTIFY };
	struct ktls_buf out;
	int ret;

	if (!conn)
		return install_send_kernel_record(fd, KTLS_CT_ALERT, close_notify,
						  sizeof(close_notify));
	if (conn->cn_sent_close_notify)
		return 0;
	if (conn->cn_kernel_tx) {
		ret = install_send_kernel_record(fd, KTLS_CT_ALERT, close_notify,
						 sizeof(close_notify));
		if (!ret)
			conn->cn_sent_close_notify = 1;
		return ret;
	}
	ktls_buf_init(&out, NULL, 0);
	ret = ktls_send_close_notify(conn, &out);
	ret = ret ? ktls_error_to_errno(ret) : install_send_raw(fd, out.base, out.off, 5000);
	ktls_buf_dispose(&out);
	return ret;
}
