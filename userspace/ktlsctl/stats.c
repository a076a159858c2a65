// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsctl stats: three sets of counters, each of which may be missing.
 *
 * The kernel's /proc/net/tls_stat exists once the tls module is loaded;
 * the daemon answers on its unix socket when it runs; the module's own
 * counters need ktlsd.ko, which does not exist yet. A missing set is a
 * state worth reporting ("not loaded", "not running"), not a failure:
 * only an error reading a set that is there makes the exit status 1.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ktls.h"
#include "ktlsctl.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define TLS_STAT_PATH		"/proc/net/tls_stat"
/* Room for every counter a kernel prints there; 6.12 has 18. */
#define TLS_STAT_MAX		64
#define TLS_STAT_NAME_MAX	64
/* Column of the values in text output, as the kernel aligns them. */
#define TEXT_NAME_WIDTH		32

struct tls_stat_counter {
	char		tc_name[TLS_STAT_NAME_MAX];
	uint64_t	tc_value;
};

struct tls_stat {
	struct tls_stat_counter	ts_counters[TLS_STAT_MAX];
	size_t			ts_count;
};

/* The daemon's counters under the spec's attribute names (KTLSD_A_STATS_*). */
static const struct {
	const char	*name;
	size_t		offset;
} daemon_counters[] = {
	{ "ok", offsetof(struct ktlsd_counters, ok) },
	{ "failed", offsetof(struct ktlsd_counters, failed) },
	{ "timed_out", offsetof(struct ktlsd_counters, timed_out) },
	{ "denied", offsetof(struct ktlsd_counters, denied) },
	{ "refused", offsetof(struct ktlsd_counters, refused) },
	{ "in_flight", offsetof(struct ktlsd_counters, in_flight) },
	{ "duration_us", offsetof(struct ktlsd_counters, duration_us) },
	{ "duration_max_us", offsetof(struct ktlsd_counters, duration_max_us) },
	{ "reloads", offsetof(struct ktlsd_counters, reloads) },
};

/* Every counter in the kernel's order and spelling; -ENOENT: no tls module. */
static int read_tls_stat(struct tls_stat *stat)
{
	unsigned long long value;
	char name[TLS_STAT_NAME_MAX];
	FILE *f;
	int err = 0;

	stat->ts_count = 0;
	f = fopen(TLS_STAT_PATH, "r");
	if (!f)
		return -errno;
	while (stat->ts_count < TLS_STAT_MAX &&
	       fscanf(f, "%63s %llu", name, &value) == 2) {
		struct tls_stat_counter *tc = &stat->ts_counters[stat->ts_count++];

		memcpy(tc->tc_name, name, sizeof(tc->tc_name));
		tc->tc_value = value;
	}
	if (ferror(f))
		err = -EIO;
	fclose(f);
	return err;
}

/* As libktls finds the daemon, so that the path printed is the one asked. */
static const char *daemon_socket_path(const struct ktlsctl *ctl)
{
	const char *path = ctl->kc_daemon_socket;

	if (!path || !*path)
		path = getenv("KTLSD_SOCKET");
	if (!path || !*path)
		path = KTLSD_DEFAULT_SOCKET;
	return path;
}

static uint64_t daemon_counter(const struct ktlsd_counters *c, size_t i)
{
	return *(const uint64_t *)((const char *)c + daemon_counters[i].offset);
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "unknown";
}

static void print_json(const struct ktlsctl *ctl, int stat_err, const struct tls_stat *stat,
		       int daemon_err, const struct ktlsd_counters *counters)
{
	struct json_writer jw;
	size_t i;

	json_init(&jw, stdout, ctl->kc_pretty);
	json_object_begin(&jw, NULL);
	if (stat_err) {
		json_null(&jw, "tls_stat");
	} else {
		json_object_begin(&jw, "tls_stat");
		for (i = 0; i < stat->ts_count; i++)
			json_u64(&jw, stat->ts_counters[i].tc_name, stat->ts_counters[i].tc_value);
		json_object_end(&jw);
	}
	if (daemon_err) {
		json_null(&jw, "daemon");
	} else {
		json_object_begin(&jw, "daemon");
		for (i = 0; i < ARRAY_SIZE(daemon_counters); i++)
			json_u64(&jw, daemon_counters[i].name, daemon_counter(counters, i));
		json_array_begin(&jw, "by_errno");
		for (i = 0; i < counters->by_errno_count; i++) {
			json_object_begin(&jw, NULL);
			json_u64(&jw, "errno", (uint64_t)counters->by_errno[i].err);
			json_string(&jw, "name", errno_name(counters->by_errno[i].err));
			json_u64(&jw, "count", counters->by_errno[i].count);
			json_object_end(&jw);
		}
		json_array_end(&jw);
		json_object_end(&jw);
	}
	/* ktlsd.ko's counters: always absent until the module exists. */
	json_null(&jw, "module");
	json_object_end(&jw);
	json_finish(&jw);
}

static void print_text(const struct ktlsctl *ctl, int stat_err, const struct tls_stat *stat,
		       int daemon_err, const struct ktlsd_counters *counters)
{
	const char *path = daemon_socket_path(ctl);
	size_t i;

	switch (stat_err) {
	case 0:
		printf("kernel (%s):\n", TLS_STAT_PATH);
		for (i = 0; i < stat->ts_count; i++)
			printf("    %-*s %llu\n", TEXT_NAME_WIDTH, stat->ts_counters[i].tc_name,
			       (unsigned long long)stat->ts_counters[i].tc_value);
		break;
	case -ENOENT:
		printf("kernel: no %s (the tls module is not loaded)\n", TLS_STAT_PATH);
		break;
	default:
		printf("kernel: %s unreadable\n", TLS_STAT_PATH);
		break;
	}

	switch (daemon_err) {
	case 0:
		printf("daemon (%s):\n", path);
		for (i = 0; i < ARRAY_SIZE(daemon_counters); i++)
			printf("    %-*s %llu\n", TEXT_NAME_WIDTH, daemon_counters[i].name,
			       (unsigned long long)daemon_counter(counters, i));
		for (i = 0; i < counters->by_errno_count; i++)
			printf("    by_errno %-*s %llu\n", TEXT_NAME_WIDTH - 9,
			       errno_name(counters->by_errno[i].err),
			       (unsigned long long)counters->by_errno[i].count);
		break;
	case -ECONNREFUSED:
		printf("daemon: not running (nothing listens on %s)\n", path);
		break;
	default:
		printf("daemon: no answer on %s\n", path);
		break;
	}

	printf("module: its counters need ktlsd.ko (not loaded)\n");
}

int stats_show(const struct ktlsctl *ctl)
{
	const char *path = daemon_socket_path(ctl);
	struct ktlsd_counters counters;
	struct tls_stat stat;
	int stat_err, daemon_err, status = KTLSCTL_EXIT_OK;

	stat_err = read_tls_stat(&stat);
	if (stat_err && stat_err != -ENOENT) {
		fprintf(stderr, "Error: %s: %s.\n", TLS_STAT_PATH, strerror(-stat_err));
		status = KTLSCTL_EXIT_FAILURE;
	}
	/* libktls maps "no socket file" and "nobody listens" both to ECONNREFUSED. */
	daemon_err = ktlsd_get_counters(path, &counters);
	if (daemon_err && daemon_err != -ECONNREFUSED) {
		fprintf(stderr, "Error: daemon socket %s: %s.\n", path, strerror(-daemon_err));
		status = KTLSCTL_EXIT_FAILURE;
	}

	if (ctl->kc_json)
		print_json(ctl, stat_err, &stat, daemon_err, &counters);
	else
		print_text(ctl, stat_err, &stat, daemon_err, &counters);
	return status;
}
