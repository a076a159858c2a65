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
 *
 * A connection to the daemon serves request after request, one at a time:
 * the daemon judges every request on it by the credentials the kernel
 * recorded at connect (SO_PEERCRED), so an idle one goes back to a small
 * process-wide pool keyed by everything those credentials are: the socket
 * path, the pid, the effective uid and gid and the supplementary groups.
 * A fork, a setuid() or a setgroups() changes the key and the old
 * connections go unused. The daemon says in each RESULT how long it waits
 * for the next request (KTLSD_A_KEEP_MS); a pooled connection is used for
 * at most half of that, and only if it is still the socket it was (a
 * program that closed every descriptor may have a new file at its number).
 *
 * The daemon may still have closed it: it was restarted, or our half
 * came too late. Then the daemon never took the request, and the kernel
 * proves it: sendmsg() fails with EPIPE (closed before the request came),
 * or the first read fails with ECONNRESET before any byte of an answer
 * (closed with the request unread). Only those, and only on a pooled
 * connection, retry once on a new one. An end of stream without a whole
 * RESULT means the daemon read the request, so it had the socket: that is
 * ECONNABORTED and the socket is shut down, as it always was.
 */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ktls_int.h"

#define UPGRADE_DEFAULT_TIMEOUT_MS	10000
/* The daemon answers by its own deadline; past ours plus this, it is stuck. */
#define UPGRADE_DAEMON_GRACE_MS		2000
/* Idle connections kept, process-wide: enough for an event loop's share in flight. */
#define UPGRADE_POOL_MAX		32
/* A requester in more groups than this gets a new connection every time. */
#define UPGRADE_POOL_GROUPS		64

/* Whose connection it is: what the daemon read at connect, and where to. */
struct pool_key {
	char pk_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pid_t pk_pid;
	uid_t pk_euid;
	gid_t pk_egid;
	int pk_group_count;
	gid_t pk_groups[UPGRADE_POOL_GROUPS];
};

struct pool_conn {
	int pc_fd;
	dev_t pc_dev;			/* the socket's identity, for a reused number */
	ino_t pc_ino;
	int64_t pc_expires;		/* CLOCK_MONOTONIC ms: not used from then */
	struct pool_key pc_key;
};

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
	int up_pooled;			/* up_daemon came from the pool: may retry once */
	dev_t up_daemon_dev;		/* and was this socket (pooled only) */
	ino_t up_daemon_ino;
	uint32_t up_keep_ms;		/* the RESULT offered up_daemon for more */
	struct pool_key up_key;		/* pk_path[0] == 0: not to be pooled */
	int64_t up_deadline;		/* CLOCK_MONOTONIC ms */
	short up_events;
	/* in process */
	struct ktls_conn *up_conn;
	struct ktls_drive up_drive;
	/* through the daemon: the request going out (kept for a retry), the result coming in */
	struct ktlsd_msg_builder up_msg;
	struct ktlsd_msg_builder up_answer;
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

/* ---- the pool of idle connections to the daemon ---- */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static struct pool_conn pool[UPGRADE_POOL_MAX];
static size_t pool_count;
static pid_t pool_pid;			/* whose descriptors pool[] holds */

/* A fork while another thread holds the lock must not leave it held in the child. */
static void pool_prepare(void)
{
	pthread_mutex_lock(&pool_lock);
}

static void pool_unlock(void)
{
	pthread_mutex_unlock(&pool_lock);
}

static void pool_init(void)
{
	pthread_atfork(pool_prepare, pool_unlock, pool_unlock);
}

/*
 * The caller's key, or -1 when it cannot be pooled (too many groups, or a
 * path too long to connect to anyway). One syscall each; the kernel has
 * no cheaper way to say the credentials are still what they were.
 */
static int pool_key_get(struct pool_key *k, const char *path)
{
	int n;

	if (strlen(path) >= sizeof(k->pk_path))
		return -1;
	n = getgroups(UPGRADE_POOL_GROUPS, k->pk_groups);
	if (n < 0)
		return -1;
	memcpy(k->pk_path, path, strlen(path) + 1);
	k->pk_pid = getpid();
	k->pk_euid = geteuid();
	k->pk_egid = getegid();
	k->pk_group_count = n;
	return 0;
}

static int pool_key_equal(const struct pool_key *a, const struct pool_key *b)
{
	return a->pk_pid == b->pk_pid && a->pk_euid == b->pk_euid &&
	       a->pk_egid == b->pk_egid && a->pk_group_count == b->pk_group_count &&
	       !memcmp(a->pk_groups, b->pk_groups, (size_t)a->pk_group_count * sizeof(gid_t)) &&
	       !strcmp(a->pk_path, b->pk_path);
}

/* Is entry @i's number still its socket? Not after the program closed it. */
static int pool_still_ours(size_t i)
{
	struct stat st;

	return !fstat(pool[i].pc_fd, &st) && st.st_dev == pool[i].pc_dev &&
	       st.st_ino == pool[i].pc_ino;
}

/* Drops entry @i, closing it if it is still ours; the lock is held. */
static void pool_drop(size_t i, int close_it)
{
	if (close_it && pool_still_ours(i))
		close(pool[i].pc_fd);
	pool[i] = pool[--pool_count];
}

/*
 * A fork's child holds copies of its parent's connections: they are closed
 * here (the parent's stay open) and never used, whatever the key says.
 */
static void pool_check_owner(pid_t pid)
{
	if (pool_pid == pid)
		return;
	while (pool_count)
		pool_drop(pool_count - 1, 1);
	pool_pid = pid;
}

/*
 * An idle connection for @k, or -1; its socket's identity in *@dev and
 * *@ino. Expired ones met on the way are closed.
 */
static int pool_take(const struct pool_key *k, dev_t *dev, ino_t *ino)
{
	int64_t now = upgrade_now_ms();
	size_t i = 0;
	int fd = -1;

	pthread_once(&pool_once, pool_init);
	pthread_mutex_lock(&pool_lock);
	pool_check_owner(k->pk_pid);
	while (i < pool_count) {
		if (now >= pool[i].pc_expires) {
			pool_drop(i, 1);
			continue;
		}
		if (!pool_key_equal(&pool[i].pc_key, k)) {
			i++;
			continue;
		}
		/* Its number may now be another file: then it is not ours to close. */
		if (!pool_still_ours(i)) {
			pool_drop(i, 0);
			continue;
		}
		fd = pool[i].pc_fd;
		*dev = pool[i].pc_dev;
		*ino = pool[i].pc_ino;
		pool_drop(i, 0);
		break;
	}
	pthread_mutex_unlock(&pool_lock);
	return fd;
}

/*
 * Keeps @fd for the next request with key @k for half of @keep_ms, or
 * closes it. @known: its identity if known (it came from the pool), else NULL.
 */
static void pool_put(const struct pool_key *k, int fd, uint32_t keep_ms, const struct stat *known)
{
	struct pool_conn *pc;
	struct stat st;

	if (known)
		st = *known;
	if (!k->pk_path[0] || keep_ms < 2 || (!known && fstat(fd, &st))) {
		close(fd);
		return;
	}
	pthread_once(&pool_once, pool_init);
	pthread_mutex_lock(&pool_lock);
	pool_check_owner(k->pk_pid);
	if (pool_count == UPGRADE_POOL_MAX) {
		pthread_mutex_unlock(&pool_lock);
		close(fd);
		return;
	}
	pc = &pool[pool_count++];
	pc->pc_fd = fd;
	pc->pc_dev = st.st_dev;
	pc->pc_ino = st.st_ino;
	pc->pc_expires = upgrade_now_ms() + keep_ms / 2;
	pc->pc_key = *k;
	pthread_mutex_unlock(&pool_lock);
}

/* ---- one upgrade ---- */

static void upgrade_release_daemon(struct ktls_upgrade *up)
{
	if (up->up_daemon < 0)
		return;
	if (up->up_keep_ms) {
		struct stat st = { .st_dev = up->up_daemon_dev, .st_ino = up->up_daemon_ino };

		pool_put(&up->up_key, up->up_daemon, up->up_keep_ms, up->up_pooled ? &st : NULL);
	} else {
		close(up->up_daemon);
	}
	up->up_daemon = -1;
	up->up_keep_ms = 0;
}

static int upgrade_finish(struct ktls_upgrade *up, int status, const char *detail)
{
	up->up_state = UPGRADE_DONE;
	if (up->up_conn)
		ktls_upgrade_info_fill(&up->up_info, up->up_conn, status);
	up->up_info.status = status;
	if (status && detail && !up->up_info.detail[0])
		snprintf(up->up_info.detail, sizeof(up->up_info.detail), "%s", detail);
	upgrade_release_daemon(up);
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

static const char *upgrade_daemon_path(const char *path)
{
	if (!path)
		path = getenv("KTLSD_SOCKET");
	if (!path || !*path)
		path = KTLSD_DEFAULT_SOCKET;
	return path;
}

static int upgrade_connect_daemon(struct ktls_upgrade *up, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

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

/* A new connection unless a pooled one is in hand; the request goes out next. */
static int upgrade_open_daemon(struct ktls_upgrade *up, const char *path)
{
	int ret = 0;

	if (up->up_daemon < 0)
		ret = upgrade_connect_daemon(up, path);
	if (ret)
		return upgrade_finish(up, ret, ret == -ECONNREFUSED ?
				      "ktlsd is not running (no listener on its socket)" :
				      "cannot reach ktlsd");
	up->up_state = UPGRADE_SEND_REQUEST;
	up->up_msg_off = 0;
	up->up_fd_sent = 0;
	up->up_answer.mb_len = 0;
	return 0;
}

/*
 * The pooled connection was closed by the daemon before it took the
 * request (see the top of the file): the same request on a new one.
 */
static int upgrade_retry(struct ktls_upgrade *up)
{
	close(up->up_daemon);
	up->up_daemon = -1;
	up->up_pooled = 0;
	return upgrade_open_daemon(up, up->up_key.pk_path);	/* pooled: it has a key */
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
	const char *path;
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
	path = upgrade_daemon_path(opts->socket_path);
	if (pool_key_get(&up->up_key, path))
		up->up_key.pk_path[0] = 0;
	else
		up->up_daemon = pool_take(&up->up_key, &up->up_daemon_dev, &up->up_daemon_ino);
	up->up_pooled = up->up_daemon >= 0;
	return upgrade_open_daemon(up, path);
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
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET) && up->up_pooled && !up->up_fd_sent)
		return upgrade_retry(up);
	if (n < 0)
		return upgrade_finish(up, errno == EPIPE ? -ECONNABORTED : -errno,
				      "sending the request to ktlsd failed");
	up->up_fd_sent = 1;
	up->up_msg_off += (size_t)n;
	if (up->up_msg_off < up->up_msg.mb_len)
		return 0;
	/* The daemon has yet to see it: a read now could only say EAGAIN. */
	up->up_state = UPGRADE_READ_RESULT;
	up->up_events = POLLIN;
	return -EINPROGRESS;
}

/*
 * Reads toward one whole message from the daemon into @msg. Returns 1 when
 * it is complete, 2 when bytes came after it (the daemon broke the one-at-
 * a-time rule: the connection is not to be used again), -EINPROGRESS,
 * -ECONNABORTED at the end of the stream, -EBADMSG for a bad length, or
 * -errno.
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
				n = msg->mb_len > (size_t)len;
				msg->mb_len = (size_t)len;	/* the daemon sends one */
				return 1 + (int)n;
			}
		}
		/* One answer per request: read what there is in one call. */
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
	uint32_t keep_ms;
	uint16_t type;
	int ret;

	ret = ktls_daemon_read_message(up->up_daemon, &up->up_answer);
	if (ret == -EINPROGRESS) {
		up->up_events = POLLIN;
		return ret;
	}
	/* Closed with our request unread: it never had the socket. */
	if (ret == -ECONNRESET && up->up_pooled && !up->up_answer.mb_len)
		return upgrade_retry(up);
	if (ret == -ECONNABORTED) {
		/* It may have died mid-handshake: the socket is in no state to use. */
		shutdown(up->up_fd, SHUT_RDWR);
		return upgrade_finish(up, ret,
				      "ktlsd closed the connection before answering (did it exit?)");
	}
	if (ret < 0 && ret != -EBADMSG)
		return upgrade_finish(up, ret, "reading ktlsd's answer failed");
	if (ret < 0 || ktlsd_msg_parse(up->up_answer.mb_buf, up->up_answer.mb_len, &type, &attrs) ||
	    type != KTLSD_MSG_RESULT || ktlsd_result_decode(&attrs, info))
		return upgrade_finish(up, -EBADMSG, "malformed answer from ktlsd");
	/* Offered for another request, and nothing came that should not have. */
	if (ret == 1 && !ktlsd_attr_u32(&attrs, KTLSD_A_KEEP_MS, &keep_ms))
		up->up_keep_ms = keep_ms;
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
	ret = upgrade_connect_daemon(&up, upgrade_daemon_path(socket_path));
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
	if (ret > 0)
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

