// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop, its clock, and the signals it turns into events.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

int64_t ktlsd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ktlsd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int ktlsd_watch_fd(struct ktlsd_daemon *d, int fd, uint32_t events, struct ktlsd_watch *w, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(d->d_epoll, op, fd, &ev) ? -errno : 0;
}

/*
 * SIGHUP: a new generation of the configuration for requests that arrive
 * from now on; those in flight finish with the one they started with. A
 * file that does not load changes nothing.
 */
static void daemon_reload(struct ktlsd_daemon *d)
{
	struct ktlsd_conf *conf;
	char err[512];
	int ret;

	ret = ktlsd_conf_load(d->d_conf_path, &conf, err, sizeof(err));
	if (ret) {
		ktlsd_log(LOG_ERR, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	if (d->d_socket_override)
		snprintf(conf->kc_socket_path, sizeof(conf->kc_socket_path), "%s",
			 d->d_socket_override);
	if (strcmp(conf->kc_socket_path, d->d_conf->kc_socket_path))
		ktlsd_log(LOG_WARNING, "reload: a new socket path takes a restart; still on %s",
			  d->d_listen_path);
	ktlsd_conf_put(d->d_conf);
	d->d_conf = conf;
	ktlsd_log_set_level(conf->kc_log_level);
	d->d_stats.st_reloads++;
	ktlsd_log(LOG_INFO, "reloaded %s (%zu identities, %u in flight keep their old one)",
		  d->d_conf_path, conf->kc_identity_count, d->d_in_flight);
	/* The module may have been loaded since: bind now if so. */
	ktlsd_netlink_reopen(d);
}

static void daemon_signal(struct ktlsd_daemon *d, struct ktlsd_watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(d->d_signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			daemon_reload(d);
			break;
		case SIGTERM:
		case SIGINT:
			ktlsd_log(LOG_INFO, "signal %u: stopping", si.ssi_signo);
			d->d_stop = 1;
			break;
		default:
			break;
		}
	}
}

int ktlsd_signals_open(struct ktlsd_daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	d->d_signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->d_signal_fd < 0)
		return -errno;
	d->d_signal_watch.w_handle = daemon_signal;
	return ktlsd_watch_fd(d, d->d_signal_fd, EPOLLIN, &d->d_signal_watch, EPOLL_CTL_ADD);
}

/*
 * The event loop. One thread, one epoll set; every handshake is an engine
 * instance that only ever runs when its socket is ready, so thousands can
 * be in flight at once, each costing its state and no thread or process.
 * In the set: the listening unix socket, each requester's connection,
 * each socket being upgraded, the module's "ready" netlink socket when
 * ktlsd.ko is there, and a signalfd; deadlines live in a heap that sets
 * epoll_wait's timeout.
 *
 * Events are taken in batches, one epoll_wait for all that are ready (under
 * emulation a syscall is dear). A job has two fds in the set (the
 * requester's connection and its socket), and the handler of one may free
 * the job: whoever stops watching something calls ktlsd_watch_forget(),
 * which blanks that watch's events later in the batch, so none reaches
 * freed memory. (The netlink frontends free their watch only at exit or
 * when opening failed, never with an event of theirs in a batch.)
 */
void ktlsd_watch_forget(struct ktlsd_daemon *d, struct ktlsd_watch *w)
{
	int i;

	for (i = d->d_batch_next; i < d->d_batch_count; i++)
		if (d->d_batch[i].data.ptr == w)
			d->d_batch[i].data.ptr = NULL;
}

void ktlsd_run(struct ktlsd_daemon *d)
{
	struct ktlsd_watch *w;
	uint32_t events;
	int n, timeout;

	while (!d->d_stop) {
		timeout = ktlsd_timer_next(&d->d_timers, ktlsd_now_ms());
		n = epoll_wait(d->d_epoll, d->d_batch, KTLSD_BATCH, timeout);
		if (n < 0 && errno != EINTR) {
			ktlsd_log(LOG_ERR, "epoll_wait: %s", strerror(errno));
			d->d_failed = 1;
			break;
		}
		d->d_batch_count = n > 0 ? n : 0;
		for (d->d_batch_next = 0; d->d_batch_next < d->d_batch_count && !d->d_stop;) {
			w = d->d_batch[d->d_batch_next].data.ptr;
			events = d->d_batch[d->d_batch_next].events;
			d->d_batch_next++;
			if (w)
				w->w_handle(d, w, events);
		}
		d->d_batch_count = 0;
		ktlsd_timer_run(d, ktlsd_now_ms());
	}
}
