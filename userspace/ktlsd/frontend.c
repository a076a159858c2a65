// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unix socket frontend: requesters connect, send an UPGRADE message
 * with their socket attached (SCM_RIGHTS), and read its RESULT; then the
 * next UPGRADE on the same connection, one at a time (job.c). Who they
 * are comes from the kernel (SO_PEERCRED, SO_PEERGROUPS), never from the
 * message, so policy can trust it.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"

/*
 * The requester's uid, gid and pid, which the kernel fixed when it
 * connected (SO_PEERCRED), so they hold for every request on the
 * connection. Its groups are fetched only when a rule needs them
 * (ktlsd_frontend_groups(), from job.c): a syscall most requests skip.
 */
static void frontend_requester(int fd, struct ktlsd_requester *who)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof(cred);

	memset(who, 0, sizeof(*who));
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	who->rq_uid = cred.uid;
	who->rq_gid = cred.gid;
	who->rq_pid = cred.pid;
}

void ktlsd_frontend_groups(int fd, struct ktlsd_requester *who)
{
	socklen_t len = sizeof(who->rq_groups);

	/*
	 * Supplementary groups (Linux 4.13), also fixed at connect. More than
	 * fit is ERANGE, and then none count: a group rule can only deny that
	 * requester (fails closed).
	 */
	who->rq_group_count = 0;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, who->rq_groups, &len))
		who->rq_group_count = len / sizeof(gid_t);
}

/*
 * One connection per wakeup: the listener is level-triggered, so a
 * backlog with more wakes epoll_wait again, and the accept that would
 * only have said EAGAIN is never made. Requesters keep their connection
 * for request after request (job.c), so accepts are rare anyway.
 */
static void frontend_accept(struct ktlsd_daemon *d, struct ktlsd_watch *w, uint32_t events)
{
	struct ktlsd_requester who;
	int fd;

	fd = accept4(d->d_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/*
		 * Out of descriptors the listener stays readable: stop
		 * watching it (or the loop spins) until a job ends.
		 */
		if (errno == EMFILE || errno == ENFILE) {
			ktlsd_log(LOG_WARNING, "accept: %s: requests wait in the backlog "
				  "until a request in flight ends", strerror(errno));
			epoll_ctl(d->d_epoll, EPOLL_CTL_DEL, d->d_listen_fd, NULL);
			d->d_listen_paused = 1;
		}
		return;		/* EAGAIN: the requester gave up meanwhile */
	}
	frontend_requester(fd, &who);
	ktlsd_log(LOG_DEBUG, "requester connected uid=%u pid=%d", (unsigned int)who.rq_uid,
		  (int)who.rq_pid);
	ktlsd_job_start(d, fd, &who);
}

/* A socket file left by a daemon that died is removed; a live one is not. */
static int frontend_clear_stale(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sun.sun_path, path, strlen(path));
	ret = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (!ret)
		return -EADDRINUSE;
	return unlink(path) ? -errno : 0;
}

int ktlsd_frontend_open(struct ktlsd_daemon *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = d->d_conf->kc_socket_path;
	char dir[sizeof(sun.sun_path)];
	int ret;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	/* /run/ktlsd: systemd's RuntimeDirectory makes it; by hand we do. */
	if (mkdir(dirname(dir), 0755) && errno != EEXIST)
		ktlsd_log(LOG_WARNING, "mkdir %s: %s", dir, strerror(errno));
	ret = frontend_clear_stale(path);
	if (ret) {
		ktlsd_log(LOG_ERR, "%s: %s", path, ret == -EADDRINUSE ?
			  "another ktlsd is listening there" : strerror(-ret));
		return ret;
	}
	memcpy(sun.sun_path, path, strlen(path));
	d->d_listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->d_listen_fd < 0)
		return -errno;
	if (bind(d->d_listen_fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, d->d_conf->kc_socket_mode) || listen(d->d_listen_fd, SOMAXCONN)) {
		ret = -errno;
		ktlsd_log(LOG_ERR, "%s: %s", path, strerror(-ret));
		close(d->d_listen_fd);
		d->d_listen_fd = -1;
		return ret;
	}
	snprintf(d->d_listen_path, sizeof(d->d_listen_path), "%s", path);
	d->d_listen_watch.w_handle = frontend_accept;
	ret = ktlsd_watch_fd(d, d->d_listen_fd, EPOLLIN, &d->d_listen_watch, EPOLL_CTL_ADD);
	if (ret)
		ktlsd_frontend_close(d);
	return ret;
}

/* A job ended and gave back its descriptors: accept again. */
void ktlsd_frontend_resume(struct ktlsd_daemon *d)
{
	if (!d->d_listen_paused || d->d_listen_fd < 0)
		return;
	if (!ktlsd_watch_fd(d, d->d_listen_fd, EPOLLIN, &d->d_listen_watch, EPOLL_CTL_ADD))
		d->d_listen_paused = 0;
}

void ktlsd_frontend_close(struct ktlsd_daemon *d)
{
	if (d->d_listen_fd < 0)
		return;
	close(d->d_listen_fd);
	d->d_listen_fd = -1;
	unlink(d->d_listen_path);
}
