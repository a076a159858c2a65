// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One handshake on a non-blocking TCP socket: the engine's bytes out, the
 * peer's records in. Shared by the in-process ktls_upgrade() and ktlsd,
 * which runs thousands of these from one epoll loop, so a step never
 * blocks and a parked handshake holds no buffer it does not need.
 *
 * Records are read exactly: five header bytes, then the body the header
 * announces. The engine consumes whole records and completes on the last
 * one of the handshake, so when a step returns 0 nothing the peer sent
 * after it has left the kernel, and kTLS RX takes over the socket at a
 * record boundary with nothing to hand back.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ktls_int.h"

/* RFC 5246 6.2.3: a TLS 1.2 record may carry 2048 bytes of expansion. */
#define DRIVE_MAX_RECORD_BODY	(KTLS_MAX_PLAINTEXT + 2048)

/* Is @fd a connected TCP socket kTLS can take? Nothing is changed. */
int ktls_socket_check_tcp(int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(int);
	int type, protocol;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len))
		return -errno;		/* ENOTSOCK, EBADF */
	len = sizeof(protocol);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len))
		return -errno;
	if (type != SOCK_STREAM || protocol != IPPROTO_TCP)
		return -ESOCKTNOSUPPORT;
	len = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &len))
		return -errno;		/* ENOTCONN */
	return 0;
}

/*
 * The checks, then "tls" attached with no keys yet, so that a kernel
 * without kTLS is found before the peer hears anything.
 */
int ktls_socket_check(int fd)
{
	int ret = ktls_socket_check_tcp(fd);

	return ret ? ret : ktls_attach_ulp(fd);
}

/* What ktls_socket_check()'s errno means, for a requester or a log. */
const char *ktls_socket_check_reason(int err)
{
	switch (err) {
	case -ENOPROTOOPT:
		return "this kernel has no kTLS (tls module)";
	case -EALREADY:
		return "the socket already has a ULP";
	case -ENOTCONN:
		return "the socket is not connected";
	case -ENOTSOCK:
	case -ESOCKTNOSUPPORT:
		return "the socket is not a TCP socket";
	default:
		return "the socket cannot be upgraded";
	}
}

void ktls_drive_init(struct ktls_drive *dv, struct ktls_conn *conn, int fd)
{
	memset(dv, 0, sizeof(*dv));
	dv->dv_conn = conn;
	dv->dv_fd = fd;
	ktls_buf_init(&dv->dv_out, NULL, 0);
}

static void drive_release_record(struct ktls_drive *dv)
{
	if (dv->dv_record)
		kc_cleanse(dv->dv_record, dv->dv_record_len);
	free(dv->dv_record);
	dv->dv_record = NULL;
	dv->dv_record_len = dv->dv_record_off = 0;
	dv->dv_header_len = 0;
}

void ktls_drive_dispose(struct ktls_drive *dv)
{
	drive_release_record(dv);
	ktls_buf_dispose(&dv->dv_out);
}

/* Feeds the engine; its alert, on failure, is in dv_out to go out next. */
static void drive_feed(struct ktls_drive *dv, const uint8_t *data, size_t len)
{
	size_t consumed;
	int ret;

	do {
		consumed = len;
		ret = ktls_handshake(dv->dv_conn, &dv->dv_out, data, &consumed);
		data += consumed;
		len -= consumed;
	} while (ret == KTLS_ERROR_IN_PROGRESS && len && consumed);
	if (ret && ret != KTLS_ERROR_IN_PROGRESS)
		dv->dv_error = ktls_error_to_errno(ret);
	else if (len)
		dv->dv_error = ktls_error_to_errno(ktls_fail(dv->dv_conn,
			KTLS_ALERT_UNEXPECTED_MESSAGE, "record after the handshake's last one"));
}

/* Sends what the engine produced. 0 when all is out, -EINPROGRESS, -errno. */
static int drive_flush(struct ktls_drive *dv)
{
	ssize_t n;

	while (dv->dv_out.off) {
		n = send(dv->dv_fd, dv->dv_out.base, dv->dv_out.off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -EINPROGRESS;
		if (n < 0)
			return -errno;
		ktls_buf_shift(&dv->dv_out, (size_t)n);
	}
	/* A parked handshake keeps no send buffer. */
	ktls_buf_dispose(&dv->dv_out);
	ktls_buf_init(&dv->dv_out, NULL, 0);
	return 0;
}

/* Reads toward one whole record. 0 when one was fed, -EINPROGRESS, -errno. */
static int drive_read_record(struct ktls_drive *dv)
{
	uint8_t *dst;
	size_t want, body;
	ssize_t n;

	if (dv->dv_header_len < sizeof(dv->dv_header)) {
		dst = dv->dv_header + dv->dv_header_len;
		want = sizeof(dv->dv_header) - dv->dv_header_len;
	} else {
		dst = dv->dv_record + dv->dv_record_off;
		want = dv->dv_record_len - dv->dv_record_off;
	}
	n = recv(dv->dv_fd, dst, want, MSG_DONTWAIT);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EINPROGRESS;
	if (n < 0)
		return -errno;
	if (!n) {
		ktls_fail(dv->dv_conn, 0, "peer closed the connection during the handshake");
		return -ECONNRESET;
	}
	if (dv->dv_header_len < sizeof(dv->dv_header)) {
		dv->dv_header_len += (size_t)n;
		if (dv->dv_header_len < sizeof(dv->dv_header))
			return 0;
		body = (size_t)dv->dv_header[3] << 8 | dv->dv_header[4];
		if (body > DRIVE_MAX_RECORD_BODY) {
			/* The engine names the problem and seals the alert. */
			drive_feed(dv, dv->dv_header, sizeof(dv->dv_header));
			if (!dv->dv_error)
				dv->dv_error = -EMSGSIZE;
			return 0;
		}
		dv->dv_record_len = sizeof(dv->dv_header) + body;
		dv->dv_record = malloc(dv->dv_record_len);
		if (!dv->dv_record)
			return -ENOMEM;
		memcpy(dv->dv_record, dv->dv_header, sizeof(dv->dv_header));
		dv->dv_record_off = sizeof(dv->dv_header);
	} else {
		dv->dv_record_off += (size_t)n;
	}
	if (dv->dv_record_off == dv->dv_record_len) {
		drive_feed(dv, dv->dv_record, dv->dv_record_len);
		drive_release_record(dv);
	}
	return 0;
}

/*
 * Advances the handshake as far as the socket allows. Returns 0 when it is
 * complete and our last flight has left, -EINPROGRESS with the poll events
 * to wait for in *@events, or a negative errno (the engine's alert has
 * been sent if the socket took it; ktls_get_error() has the detail).
 */
int ktls_drive_step(struct ktls_drive *dv, short *events)
{
	int ret;

	for (;;) {
		ret = drive_flush(dv);
		if (ret == -EINPROGRESS) {
			*events = POLLOUT;
			return ret;
		}
		if (dv->dv_error)
			return dv->dv_error;
		if (ret)
			return dv->dv_error = ret;
		if (ktls_handshake_is_complete(dv->dv_conn))
			return 0;
		if (!dv->dv_started) {
			dv->dv_started = 1;
			drive_feed(dv, NULL, 0);	/* a client's ClientHello */
			continue;
		}
		ret = drive_read_record(dv);
		if (ret == -EINPROGRESS) {
			*events = POLLIN;
			return ret;
		}
		if (ret)
			return dv->dv_error = ret;
	}
}

/*
 * The connection for an upgrade request, the same in process and in the
 * daemon: @verify (enum ktlsd_verify) may ask a server for more client
 * checking than @cfg says, never for less, since the requester of a server
 * identity is not its owner; and a client that checks the server's
 * certificate needs a name to check it against. Returns 0 with *@connp,
 * or -EINVAL / -ENOMEM with the reason in *@why.
 */
int ktls_upgrade_conn_new(struct ktls_config *cfg, enum ktls_role role, const char *peer_name,
			  const char *alpn, uint32_t verify, struct ktls_conn **connp,
			  const char **why)
{
	static const enum ktls_verify_policy policies[] = {
		[KTLSD_VERIFY_REQUIRED] = KTLS_VERIFY_REQUIRED,
		[KTLSD_VERIFY_OPTIONAL] = KTLS_VERIFY_OPTIONAL,
		[KTLSD_VERIFY_NONE] = KTLS_VERIFY_NONE,
	};
	struct ktls_conn *conn;
	enum ktls_verify_policy want;

	*connp = NULL;
	if (verify > KTLSD_VERIFY_NONE) {
		*why = "unknown verify policy";
		return -EINVAL;
	}
	conn = ktls_conn_new(cfg, role);
	if (!conn) {
		*why = "out of memory";
		return -ENOMEM;
	}
	if (verify) {
		want = policies[verify];
		/* REQUIRED < OPTIONAL < NONE: a smaller value checks more. */
		if (role == KTLS_ROLE_SERVER && want > conn->cn_verify)
			want = conn->cn_verify;
		conn->cn_verify = want;
	}
	if (role == KTLS_ROLE_CLIENT && peer_name && *peer_name &&
	    ktls_conn_set_server_name(conn, peer_name)) {
		*why = "bad peer name";
		goto out_free;
	}
	if (role == KTLS_ROLE_CLIENT && (!peer_name || !*peer_name) &&
	    conn->cn_verify != KTLS_VERIFY_NONE) {
		*why = "a client needs a peer name to check the server's certificate against";
		goto out_free;
	}
	if (alpn && *alpn && ktls_conn_set_alpn(conn, alpn)) {
		*why = "bad ALPN list";
		goto out_free;
	}
	*connp = conn;
	return 0;

out_free:
	ktls_conn_free(conn);
	return -EINVAL;
}

static void info_copy(char *out, size_t size, const char *s)
{
	snprintf(out, size, "%s", s ? s : "");
}

/* The outcome of @conn (NULL before there was one) as the caller reads it. */
void ktls_upgrade_info_fill(struct ktls_upgrade_info *info, const struct ktls_conn *conn,
			    int status)
{
	const char *detail;

	info->status = status;
	if (!conn)
		return;
	info->error = ktls_get_error(conn);
	if (ktls_handshake_is_complete(conn)) {
		info->version = ktls_get_version(conn);
		info_copy(info->cipher, sizeof(info->cipher), ktls_get_cipher_name(conn));
		info_copy(info->group, sizeof(info->group), ktls_get_group_name(conn));
		info_copy(info->alpn, sizeof(info->alpn), ktls_get_alpn(conn));
	}
	if (conn->cn_role == KTLS_ROLE_SERVER)
		info_copy(info->server_name, sizeof(info->server_name),
			  ktls_get_server_name(conn));
	info_copy(info->peer_subject, sizeof(info->peer_subject), ktls_get_peer_subject(conn));
	detail = ktls_get_error_detail(conn);
	if (status && detail && *detail && !info->detail[0])
		info_copy(info->detail, sizeof(info->detail), detail);
}
