// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ktls_upgrade(): a connected TCP socket in, a kTLS socket out.
 *
 * Three paths behind one call. Through the daemon: the socket travels to
 * ktlsd over its unix socket (SCM_RIGHTS) with the request, and the answer
 * comes back on the same connection; the daemon holds the identities and
 * decides by policy. Through ktlsd.ko: the module hands the socket to the
 * daemon and reports back on the socket itself (upgrade_module.c). In
 * process: the caller passes a ktls_config and the engine runs here, on
 * the same non-blocking driver the daemon uses. A step never blocks
 * (except a module request on a blocking socket, which sleeps in the
 * kernel), so the handle suits an event loop, and the blocking call is
 * that loop with poll().
 */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ktls_int.h"

#define UPGRADE_DEFAULT_TIMEOUT_MS	10000
/* The daemon answers by its own deadline; past ours plus this, it is stuck. */
#define UPGRADE_DAEMON_GRACE_MS		2000

enum upgrade_state {
	UPGRADE_SEND_REQUEST,
	UPGRADE_READ_RESULT,
	UPGRADE_HANDSHAKE,
	UPGRADE_MODULE_WAIT,		/* ktlsd.ko has the request */
	UPGRADE_DONE,
};

struct ktls_upgrade {
	enum upgrade_state up_state;
	int up_fd;			/* the caller's socket */
	int up_daemon;			/* unix socket to ktlsd, -1 in process */
	int64_t up_deadline;		/* CLOCK_MONOTONIC ms */
	short up_events;
	/* in process */
	struct ktls_conn *up_conn;
	struct ktls_drive up_drive;
	/* through the daemon: the request going out, then the result coming in */
	struct ktlsd_msg_builder up_msg;
	size_t up_msg_off;
	int up_fd_sent;
	struct ktls_upgrade_info up_info;
};

static int64_t upgrade_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int upgrade_finish(struct ktls_upgrade *up, int status, const char *detail)
{
	up->up_state = UPGRADE_DONE;
	if (up->up_conn)
		ktls_upgrade_info_fill(&up->up_info, up->up_conn, status);
	up->up_info.status = status;
	if (status && detail && !up->up_info.detail[0])
		snprintf(up->up_info.detail, sizeof(up->up_info.detail), "%s", detail);
	if (up->up_daemon >= 0) {
		close(up->up_daemon);
		up->up_daemon = -1;
	}
	return status;
}

static int upgrade_start_in_process(struct ktls_upgrade *up, const struct ktls_upgrade_opts *opts)
{
	const char *why;
	int ret;

	if (opts->identity)
		return upgrade_finish(up, -EINVAL, "identity names a daemon identity; "
				      "in process the config holds it");
	ret = ktls_upgrade_conn_new(opts->config, opts->role, opts->peer_name, opts->alpn,
				    (uint32_t)opts->verify, &up->up_conn, &why);
	if (ret)
		return upgrade_finish(up, ret, why);
	/* Last of the checks, as it attaches the ULP: a refusal leaves the socket as it came. */
	ret = ktls_socket_check(up->up_fd);
	if (ret)
		return upgrade_finish(up, ret, ktls_socket_check_reason(ret));
	ktls_drive_init(&up->up_drive, up->up_conn, up->up_fd);
	up->up_state = UPGRADE_HANDSHAKE;
	return 0;
}

static int upgrade_connect_daemon(struct ktls_upgrade *up, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (!path)
		path = getenv("KTLSD_SOCKET");
	if (!path || !*path)
		path = KTLSD_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path));
	up->up_daemon = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (up->up_daemon < 0)
		return -errno;
	if (!connect(up->up_daemon, (struct sockaddr *)&sun, sizeof(sun)))
		return 0;
	switch (errno) {
	case ENOENT:		/* no socket file: no daemon */
	case ECONNREFUSED:	/* a file nobody listens on */
		return -ECONNREFUSED;
	default:		/* EAGAIN: its backlog is full; EACCES: the file's mode */
		return -errno;
	}
}

static int upgrade_start_daemon(struct ktls_upgrade *up, const struct ktls_upgrade_opts *opts)
{
	struct ktlsd_request rq = {
		.rq_role = opts->role == KTLS_ROLE_SERVER ? KTLSD_ROLE_SERVER : KTLSD_ROLE_CLIENT,
		.rq_verify = (uint32_t)opts->verify,
		/* explicit, so that the daemon and this side agree on the deadline */
		.rq_timeout_ms = (uint32_t)(opts->timeout_ms ? opts->timeout_ms :
					    UPGRADE_DEFAULT_TIMEOUT_MS),
	};
	int ret;

	if ((opts->peer_name && strlen(opts->peer_name) >= sizeof(rq.rq_peer_name)) ||
	    (opts->alpn && strlen(opts->alpn) >= sizeof(rq.rq_alpn)) ||
	    (opts->identity && strlen(opts->identity) >= sizeof(rq.rq_identity)))
		return upgrade_finish(up, -EMSGSIZE, "peer name, ALPN list or identity too long");
	snprintf(rq.rq_peer_name, sizeof(rq.rq_peer_name), "%s", opts->peer_name ? opts->peer_name : "");
	snprintf(rq.rq_alpn, sizeof(rq.rq_alpn), "%s", opts->alpn ? opts->alpn : "");
	snprintf(rq.rq_identity, sizeof(rq.rq_identity), "%s", opts->identity ? opts->identity : "");
	ktlsd_msg_init(&up->up_msg, KTLSD_MSG_UPGRADE);
	ktlsd_request_encode(&up->up_msg, &rq);
	ret = ktlsd_msg_finish(&up->up_msg);
	if (ret < 0)
		return upgrade_finish(up, ret, "request too large");
	ret = upgrade_connect_daemon(up, opts->socket_path);
	if (ret)
		return upgrade_finish(up, ret, ret == -ECONNREFUSED ?
				      "ktlsd is not running (no listener on its socket)" :
				      "cannot reach ktlsd");
	up->up_state = UPGRADE_SEND_REQUEST;
	return 0;
}

static int upgrade_start_module(struct ktls_upgrade *up, const struct ktls_upgrade_opts *opts)
{
	int timeout = opts->timeout_ms ? opts->timeout_ms : UPGRADE_DEFAULT_TIMEOUT_MS;
	const char *why;
	int ret;

	ret = ktls_module_submit(up->up_fd, opts, timeout, &why);
	if (ret == -EINPROGRESS) {
		up->up_state = UPGRADE_MODULE_WAIT;
		up->up_events = 0;	/* the completion raises POLLERR, always polled for */
		return 0;
	}
	/* No reason given: the daemon's verdict, whose details the module kept. */
	if (!why) {
		up->up_info.status = ret;
		ktls_module_result(up->up_fd, &up->up_info);
		why = "ktlsd.ko reported the failure";
	}
	return upgrade_finish(up, ret, why);
}

static int upgrade_module_wait(struct ktls_upgrade *up)
{
	int status, ret;

	ret = ktls_module_collect(up->up_fd, &status);
	if (!ret)
		return -EINPROGRESS;
	if (ret < 0)
		return upgrade_finish(up, ret, "reading ktlsd.ko's completion failed");
	up->up_info.status = status;
	ktls_module_result(up->up_fd, &up->up_info);
	return upgrade_finish(up, status, "ktlsd.ko reported the failure");
}

int ktls_upgrade_start(int fd, const struct ktls_upgrade_opts *opts, struct ktls_upgrade **upp)
{
	struct ktls_upgrade *up;
	int timeout;

	*upp = NULL;
	if (!opts || fd < 0 || (opts->role != KTLS_ROLE_CLIENT && opts->role != KTLS_ROLE_SERVER) ||
	    opts->verify < KTLSD_VERIFY_DEFAULT || opts->verify > KTLSD_VERIFY_NONE ||
	    opts->timeout_ms < 0 || opts->via < KTLS_VIA_DEFAULT || opts->via > KTLS_VIA_MODULE ||
	    (opts->config && opts->via != KTLS_VIA_DEFAULT))
		return -EINVAL;
	up = calloc(1, sizeof(*up));
	if (!up)
		return -ENOMEM;
	up->up_fd = fd;
	up->up_daemon = -1;
	/* Both paths begin by writing: a poll before the first continue returns at once. */
	up->up_events = POLLOUT;
	timeout = opts->timeout_ms ? opts->timeout_ms : UPGRADE_DEFAULT_TIMEOUT_MS;
	up->up_deadline = upgrade_now_ms() + timeout;
	if (!opts->config)
		up->up_deadline += UPGRADE_DAEMON_GRACE_MS;
	*upp = up;
	if (opts->config)
		return upgrade_start_in_process(up, opts);
	if (opts->via == KTLS_VIA_MODULE)
		return upgrade_start_module(up, opts);
	return upgrade_start_daemon(up, opts);
}

static int upgrade_send_request(struct ktls_upgrade *up)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = {
		.iov_base = up->up_msg.mb_buf + up->up_msg_off,
		.iov_len = up->up_msg.mb_len - up->up_msg_off,
	};
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (!up->up_fd_sent) {
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &up->up_fd, sizeof(int));
	}
	n = sendmsg(up->up_daemon, &msg, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		up->up_events = POLLOUT;
		return -EINPROGRESS;
	}
	if (n < 0)
		return upgrade_finish(up, errno == EPIPE ? -ECONNABORTED : -errno,
				      "sending the request to ktlsd failed");
	up->up_fd_sent = 1;
	up->up_msg_off += (size_t)n;
	if (up->up_msg_off < up->up_msg.mb_len)
		return 0;
	up->up_state = UPGRADE_READ_RESULT;
	up->up_msg.mb_len = 0;
	return 0;
}

/*
 * Reads toward one whole message from the daemon into @msg. Returns 1 when
 * it is complete, -EINPROGRESS, -ECONNABORTED at the end of the stream,
 * -EBADMSG for a bad length, or -errno.
 */
static int ktls_daemon_read_message(int fd, struct ktlsd_msg_builder *msg)
{
	ssize_t n;
	int len;

	for (;;) {
		if (msg->mb_len >= sizeof(struct ktlsd_msg)) {
			len = ktlsd_msg_length(msg->mb_buf, msg->mb_len);
			if (len < 0)
				return -EBADMSG;
			if (msg->mb_len >= (size_t)len) {
				msg->mb_len = (size_t)len;	/* the daemon sends one */
				return 1;
			}
		}
		/* One message per connection: read what there is in one call. */
		n = recv(fd, msg->mb_buf + msg->mb_len, sizeof(msg->mb_buf) - msg->mb_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -EINPROGRESS : -errno;
		if (!n)
			return -ECONNABORTED;
		msg->mb_len += (size_t)n;
	}
}

static int upgrade_read_result(struct ktls_upgrade *up)
{
	struct ktls_upgrade_info *info = &up->up_info;
	struct ktlsd_attrs attrs;
	uint16_t type;
	int ret;

	ret = ktls_daemon_read_message(up->up_daemon, &up->up_msg);
	if (ret == -EINPROGRESS) {
		up->up_events = POLLIN;
		return ret;
	}
	if (ret == -ECONNABORTED) {
		/* It may have died mid-handshake: the socket is in no state to use. */
		shutdown(up->up_fd, SHUT_RDWR);
		return upgrade_finish(up, ret,
				      "ktlsd closed the connection before answering (did it exit?)");
	}
	if (ret < 0 && ret != -EBADMSG)
		return upgrade_finish(up, ret, "reading ktlsd's answer failed");
	if (ret < 0 || ktlsd_msg_parse(up->up_msg.mb_buf, up->up_msg.mb_len, &type, &attrs) ||
	    type != KTLSD_MSG_RESULT || ktlsd_result_decode(&attrs, info))
		return upgrade_finish(up, -EBADMSG, "malformed answer from ktlsd");
	return upgrade_finish(up, info->status, NULL);
}

static int upgrade_handshake(struct ktls_upgrade *up)
{
	struct ktls_install_opts iopts = { .ulp_attached = 1 };
	struct ktls_install_status st;
	int ret;

	ret = ktls_drive_step(&up->up_drive, &up->up_events);
	if (ret == -EINPROGRESS)
		return ret;
	if (!ret) {
		ret = ktls_install(up->up_conn, up->up_fd, NULL, 0, NULL, &iopts, &st);
		if (ret)
			snprintf(up->up_info.detail, sizeof(up->up_info.detail), "%s", st.detail);
	}
	ktls_drive_dispose(&up->up_drive);
	/* The peer took part: a failed upgrade must not leave a usable socket. */
	if (ret)
		shutdown(up->up_fd, SHUT_RDWR);
	return upgrade_finish(up, ret, NULL);
}

int ktls_upgrade_continue(struct ktls_upgrade *up)
{
	int ret;

	for (;;) {
		if (up->up_state == UPGRADE_DONE)
			return up->up_info.status;
		if (upgrade_now_ms() >= up->up_deadline) {
			if (up->up_state == UPGRADE_HANDSHAKE)
				ktls_drive_dispose(&up->up_drive);
			shutdown(up->up_fd, SHUT_RDWR);
			return upgrade_finish(up, -ETIMEDOUT, "the upgrade timed out");
		}
		switch (up->up_state) {
		case UPGRADE_SEND_REQUEST:
			ret = upgrade_send_request(up);
			break;
		case UPGRADE_READ_RESULT:
			ret = upgrade_read_result(up);
			break;
		case UPGRADE_HANDSHAKE:
			ret = upgrade_handshake(up);
			break;
		case UPGRADE_MODULE_WAIT:
			ret = upgrade_module_wait(up);
			break;
		default:
			return upgrade_finish(up, -EINVAL, "upgrade in a bad state");
		}
		if (ret == -EINPROGRESS)
			return ret;
	}
}

int ktls_upgrade_poll_fd(const struct ktls_upgrade *up, short *events)
{
	if (up->up_state == UPGRADE_MODULE_WAIT)
		*events = 0;
	else
		*events = up->up_events ? up->up_events : POLLIN;
	return up->up_daemon >= 0 ? up->up_daemon : up->up_fd;
}

int ktls_upgrade_timeout(const struct ktls_upgrade *up)
{
	int64_t left = up->up_deadline - upgrade_now_ms();

	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

const struct ktls_upgrade_info *ktls_upgrade_get_info(const struct ktls_upgrade *up)
{
	return &up->up_info;
}

void ktls_upgrade_free(struct ktls_upgrade *up)
{
	if (!up)
		return;
	/* Abandoned halfway, the socket must not stay usable (the daemon does the same). */
	if (up->up_state == UPGRADE_HANDSHAKE || up->up_state == UPGRADE_MODULE_WAIT) {
		if (up->up_state == UPGRADE_HANDSHAKE)
			ktls_drive_dispose(&up->up_drive);
		shutdown(up->up_fd, SHUT_RDWR);
	}
	if (up->up_daemon >= 0)
		close(up->up_daemon);
	ktls_conn_free(up->up_conn);
	kc_cleanse(up, sizeof(*up));
	free(up);
}

int ktls_upgrade(int fd, const struct ktls_upgrade_opts *opts, struct ktls_upgrade_info *info)
{
	struct ktls_upgrade *up;
	struct pollfd pfd;
	int ret;

	ret = ktls_upgrade_start(fd, opts, &up);
	if (!up) {
		if (info) {
			memset(info, 0, sizeof(*info));
			info->status = ret;
		}
		return ret;
	}
	ret = ret ? ret : ktls_upgrade_continue(up);
	while (ret == -EINPROGRESS) {
		pfd.fd = ktls_upgrade_poll_fd(up, &pfd.events);
		if (poll(&pfd, 1, ktls_upgrade_timeout(up)) < 0 && errno != EINTR) {
			ret = upgrade_finish(up, -errno, "poll failed");
			break;
		}
		ret = ktls_upgrade_continue(up);
	}
	if (info)
		*info = up->up_info;
	ktls_upgrade_free(up);
	return ret;
}

static void counters_by_errno(const struct ktlsd_attrs *attrs, struct ktlsd_counters *c)
{
	const uint8_t *p = attrs->at_value[KTLSD_A_STATS_BY_ERRNO];
	size_t n = attrs->at_len[KTLSD_A_STATS_BY_ERRNO] / sizeof(struct ktlsd_errno_count);
	struct ktlsd_errno_count ec;
	size_t i;

	for (i = 0; p && i < n && i < KTLSD_ERRNO_COUNTS_MAX; i++) {
		memcpy(&ec, p + i * sizeof(ec), sizeof(ec));
		c->by_errno[i].err = (int)ec.kec_errno;
		c->by_errno[i].count = ec.kec_count;
	}
	c->by_errno_count = i;
}

int ktlsd_get_counters(const char *socket_path, struct ktlsd_counters *c)
{
	static const struct {
		int type;
		size_t offset;
	} fields[] = {
		{ KTLSD_A_STATS_OK, offsetof(struct ktlsd_counters, ok) },
		{ KTLSD_A_STATS_FAILED, offsetof(struct ktlsd_counters, failed) },
		{ KTLSD_A_STATS_TIMED_OUT, offsetof(struct ktlsd_counters, timed_out) },
		{ KTLSD_A_STATS_DENIED, offsetof(struct ktlsd_counters, denied) },
		{ KTLSD_A_STATS_REFUSED, offsetof(struct ktlsd_counters, refused) },
		{ KTLSD_A_STATS_IN_FLIGHT, offsetof(struct ktlsd_counters, in_flight) },
		{ KTLSD_A_STATS_DURATION_US, offsetof(struct ktlsd_counters, duration_us) },
		{ KTLSD_A_STATS_RELOADS, offsetof(struct ktlsd_counters, reloads) },
		{ KTLSD_A_STATS_DURATION_MAX_US, offsetof(struct ktlsd_counters, duration_max_us) },
	};
	struct ktls_upgrade up = { .up_daemon = -1 };
	struct ktlsd_attrs attrs;
	struct pollfd pfd;
	uint16_t type;
	size_t i;
	int ret, len;

	memset(c, 0, sizeof(*c));
	ktlsd_msg_init(&up.up_msg, KTLSD_MSG_STATS_GET);
	len = ktlsd_msg_finish(&up.up_msg);
	ret = upgrade_connect_daemon(&up, socket_path);
	if (!ret && send(up.up_daemon, up.up_msg.mb_buf, (size_t)len, MSG_NOSIGNAL) != len)
		ret = -errno;
	up.up_msg.mb_len = 0;
	pfd.fd = up.up_daemon;
	pfd.events = POLLIN;
	while (!ret) {
		if (poll(&pfd, 1, 5000) != 1) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = ktls_daemon_read_message(up.up_daemon, &up.up_msg);
		if (ret == -EINPROGRESS)
			ret = 0;
		else
			break;
	}
	if (ret == 1)
		ret = ktlsd_msg_parse(up.up_msg.mb_buf, up.up_msg.mb_len, &type, &attrs) ||
		      type != KTLSD_MSG_STATS ? -EBADMSG : 0;
	for (i = 0; !ret && i < KTLS_ARRAY_SIZE(fields); i++)
		ktlsd_attr_u64(&attrs, fields[i].type, (uint64_t *)((char *)c + fields[i].offset));
	if (!ret)
		counters_by_errno(&attrs, c);
	if (up.up_daemon >= 0)
		close(up.up_daemon);
	return ret;
}

