// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsd: performs TLS handshakes for other processes' sockets and hands
 * them back with kTLS installed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ktlsd [OPTIONS]\n"
		"  -c, --config FILE   configuration file (default %s)\n"
		"  -s, --socket PATH   unix socket to listen on (overrides the file)\n"
		"  -f, --foreground    log to stderr instead of syslog\n"
		"  -t, --test          check the configuration and exit\n"
		"  -h, --help          this text\n", KTLSD_DEFAULT_CONF);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "test", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ktlsd_daemon d = {
		.d_conf_path = KTLSD_DEFAULT_CONF,
		.d_listen_fd = -1,
		.d_signal_fd = -1,
		.d_epoll = -1,
	};
	const char *socket_path = NULL;
	int opt, test = 0, ret;
	char err[512];

	while ((opt = getopt_long(argc, argv, "c:s:fth", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.d_conf_path = optarg;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'f':
			d.d_foreground = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	ret = ktlsd_conf_load(d.d_conf_path, &d.d_conf, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ktlsd: %s\n", err);
		return 1;
	}
	if (test) {
		printf("ktlsd: %s: configuration ok (%zu identities)\n", d.d_conf_path,
		       d.d_conf->kc_identity_count);
		ktlsd_conf_put(d.d_conf);
		return 0;
	}
	if (socket_path) {
		if (strlen(socket_path) >= sizeof(d.d_conf->kc_socket_path)) {
			fprintf(stderr, "ktlsd: socket path too long\n");
			ktlsd_conf_put(d.d_conf);
			return 2;
		}
		snprintf(d.d_conf->kc_socket_path, sizeof(d.d_conf->kc_socket_path), "%s",
			 socket_path);
		d.d_socket_override = socket_path;
	}
	ktlsd_log_open(d.d_foreground, d.d_conf->kc_log_level);
	d.d_epoll = epoll_create1(EPOLL_CLOEXEC);
	ret = d.d_epoll < 0 ? -errno : ktlsd_signals_open(&d);
	if (!ret)
		ret = ktlsd_frontend_open(&d);
	if (!ret)
		ret = ktlsd_netlink_open(&d);
	if (!ret)
		ktlsd_handshake_open(&d);
	if (ret) {
		ktlsd_log(LOG_ERR, "cannot start: %s", strerror(-ret));
		ret = 1;
		goto out;
	}
	ktlsd_log(LOG_INFO, "listening on %s (%zu identities)", d.d_listen_path,
		  d.d_conf->kc_identity_count);
	ktlsd_run(&d);
	ktlsd_job_abort_all(&d, "ktlsd is stopping");
	ret = d.d_failed;
out:
	ktlsd_handshake_close(&d);
	ktlsd_netlink_close(&d);
	ktlsd_frontend_close(&d);
	ktlsd_heap_free(&d.d_timers);
	if (d.d_signal_fd >= 0)
		close(d.d_signal_fd);
	if (d.d_epoll >= 0)
		close(d.d_epoll);
	ktlsd_conf_put(d.d_conf);
	return ret;
}
