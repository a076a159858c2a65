// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsctl stats: three sets of counters, each of which may be missing.
 *
 * The kernel's /proc/net/tls_stat exists once the tls module is loaded;
 * the daemon answers on its unix socket when it runs; the module's
 * counters and settings (KTLSD_CMD_STATS_GET) need ktlsd.ko. A missing set
 * is a state worth reporting ("not loaded", "not running"), not a failure:
 * only an error reading a set that is there makes the exit status 1.
 */
#include <errno.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ktls.h"
#include "ktlsctl.h"

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

/* The module's counters, then its settings, under the spec's attribute names. */
static const struct {
	int		mf_attr;
	const char	*mf_name;
	bool		mf_u64;		/* else u32 */
} module_fields[] = {
	{ KTLSD_A_STATS_SUBMITTED, "submitted", true },
	{ KTLSD_A_STATS_OK, "ok", true },
	{ KTLSD_A_STATS_FAILED, "failed", true },
	{ KTLSD_A_STATS_TIMED_OUT, "timed_out", true },
	{ KTLSD_A_STATS_CANCELLED, "cancelled", true },
	{ KTLSD_A_STATS_IN_FLIGHT, "in_flight", true },
	{ KTLSD_A_TIMEOUT_MS, "timeout_ms", false },
	{ KTLSD_A_MAX_PENDING, "max_pending", false },
};

/* What STATS_GET answered; a field the module did not send is not printed. */
struct module_stats {
	uint64_t			ms_values[ARRAY_SIZE(module_fields)];
	bool				ms_present[ARRAY_SIZE(module_fields)];
	struct ktlsd_errno_count	ms_by_errno[KTLSD_ERRNO_COUNTS_MAX];
	size_t				ms_by_errno_count;
};

/* The three sets; an _err is 0 when the set was read. */
struct stats_sets {
	int			ss_stat_err;
	struct tls_stat		ss_stat;
	int			ss_daemon_err;
	struct ktlsd_counters	ss_counters;
	int			ss_module_err;	/* -ENOENT: no ktlsd.ko */
	struct module_stats	ss_module;
};

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

const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "unknown";
}

static int module_stats_parse(struct nl_msg *msg, void *arg)
{
	struct module_stats *ms = arg;
	struct nlattr *tb[KTLSD_A_MAX + 1];
	struct nlattr *attr;
	size_t i, len;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KTLSD_A_MAX, NULL) < 0)
		return -EBADMSG;
	for (i = 0; i < ARRAY_SIZE(module_fields); i++) {
		attr = tb[module_fields[i].mf_attr];
		len = module_fields[i].mf_u64 ? sizeof(uint64_t) : sizeof(uint32_t);
		if (!attr)
			continue;
		if ((size_t)nla_len(attr) < len)
			return -EBADMSG;
		ms->ms_values[i] = module_fields[i].mf_u64 ? nla_get_u64(attr) : nla_get_u32(attr);
		ms->ms_present[i] = true;
	}
	attr = tb[KTLSD_A_STATS_BY_ERRNO];
	if (attr) {
		len = nla_len(attr);
		if (len % sizeof(struct ktlsd_errno_count) ||
		    len > sizeof(ms->ms_by_errno))
			return -EBADMSG;
		memcpy(ms->ms_by_errno, nla_data(attr), len);
		ms->ms_by_errno_count = len / sizeof(struct ktlsd_errno_count);
	}
	return 0;
}

/* -ENOENT when the module is not loaded. */
static int read_module_stats(struct module_stats *ms)
{
	struct module_conn mc;
	struct nl_msg *msg;
	int err;

	memset(ms, 0, sizeof(*ms));
	err = module_connect(&mc);
	if (err) {
		if (err != -ENOENT)
			fprintf(stderr, "Error: generic netlink: %s.\n", strerror(-err));
		return err;
	}
	msg = module_message(&mc, KTLSD_CMD_STATS_GET, false);
	if (!msg) {
		err = -ENOMEM;
		goto out_disconnect;
	}
	err = module_exchange(&mc, msg, module_stats_parse, ms);

out_disconnect:
	if (err)
		module_print_error(&mc, "module counters", err);
	module_disconnect(&mc);
	return err;
}

static void json_by_errno(struct json_writer *jw, const struct ktlsd_errno_count *counts,
			  size_t n)
{
	size_t i;

	json_array_begin(jw, "by_errno");
	for (i = 0; i < n; i++) {
		json_object_begin(jw, NULL);
		json_u64(jw, "errno", counts[i].kec_errno);
		json_string(jw, "name", errno_name((int)counts[i].kec_errno));
		json_u64(jw, "count", counts[i].kec_count);
		json_object_end(jw);
	}
	json_array_end(jw);
}

static void print_json(const struct ktlsctl *ctl, const struct stats_sets *sets)
{
	const struct ktlsd_counters *counters = &sets->ss_counters;
	const struct module_stats *ms = &sets->ss_module;
	struct json_writer jw;
	size_t i;

	json_init(&jw, stdout, ctl->kc_pretty);
	json_object_begin(&jw, NULL);
	if (sets->ss_stat_err) {
		json_null(&jw, "tls_stat");
	} else {
		json_object_begin(&jw, "tls_stat");
		for (i = 0; i < sets->ss_stat.ts_count; i++)
			json_u64(&jw, sets->ss_stat.ts_counters[i].tc_name,
				 sets->ss_stat.ts_counters[i].tc_value);
		json_object_end(&jw);
	}
	if (sets->ss_daemon_err) {
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
	if (sets->ss_module_err) {
		json_null(&jw, "module");
	} else {
		json_object_begin(&jw, "module");
		for (i = 0; i < ARRAY_SIZE(module_fields); i++)
			if (ms->ms_present[i])
				json_u64(&jw, module_fields[i].mf_name, ms->ms_values[i]);
		json_by_errno(&jw, ms->ms_by_errno, ms->ms_by_errno_count);
		json_object_end(&jw);
	}
	json_object_end(&jw);
	json_finish(&jw);
}

static void print_text_kernel(const struct stats_sets *sets)
{
	size_t i;

	switch (sets->ss_stat_err) {
	case 0:
		printf("kernel (%s):\n", TLS_STAT_PATH);
		for (i = 0; i < sets->ss_stat.ts_count; i++)
			printf("    %-*s %llu\n", TEXT_NAME_WIDTH,
			       sets->ss_stat.ts_counters[i].tc_name,
			       (unsigned long long)sets->ss_stat.ts_counters[i].tc_value);
		break;
	case -ENOENT:
		printf("kernel: no %s (the tls module is not loaded)\n", TLS_STAT_PATH);
		break;
	default:
		printf("kernel: %s unreadable\n", TLS_STAT_PATH);
		break;
	}
}

static void print_text_daemon(const struct ktlsctl *ctl, const struct stats_sets *sets)
{
	const struct ktlsd_counters *counters = &sets->ss_counters;
	const char *path = daemon_socket_path(ctl);
	size_t i;

	switch (sets->ss_daemon_err) {
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
}

static void print_text_module(const struct stats_sets *sets)
{
	const struct module_stats *ms = &sets->ss_module;
	size_t i;

	switch (sets->ss_module_err) {
	case 0:
		printf("module (ktlsd.ko):\n");
		for (i = 0; i < ARRAY_SIZE(module_fields); i++)
			if (ms->ms_present[i])
				printf("    %-*s %llu\n", TEXT_NAME_WIDTH, module_fields[i].mf_name,
				       (unsigned long long)ms->ms_values[i]);
		for (i = 0; i < ms->ms_by_errno_count; i++)
			printf("    by_errno %-*s %llu\n", TEXT_NAME_WIDTH - 9,
			       errno_name((int)ms->ms_by_errno[i].kec_errno),
			       (unsigned long long)ms->ms_by_errno[i].kec_count);
		break;
	case -ENOENT:
		printf("module: its counters need ktlsd.ko (not loaded)\n");
		break;
	default:
		printf("module: no answer from ktlsd.ko\n");
		break;
	}
}

int stats_show(const struct ktlsctl *ctl, const char *arg)
{
	const char *path = daemon_socket_path(ctl);
	int status = KTLSCTL_EXIT_OK;
	struct stats_sets *sets;

	/* The three sets hold a few KiB of arrays: not for the stack. */
	sets = calloc(1, sizeof(*sets));
	if (!sets) {
		fprintf(stderr, "Error: out of memory.\n");
		return KTLSCTL_EXIT_FAILURE;
	}
	sets->ss_stat_err = read_tls_stat(&sets->ss_stat);
	if (sets->ss_stat_err && sets->ss_stat_err != -ENOENT) {
		fprintf(stderr, "Error: %s: %s.\n", TLS_STAT_PATH, strerror(-sets->ss_stat_err));
		status = KTLSCTL_EXIT_FAILURE;
	}
	/* libktls maps "no socket file" and "nobody listens" both to ECONNREFUSED. */
	sets->ss_daemon_err = ktlsd_get_counters(path, &sets->ss_counters);
	if (sets->ss_daemon_err && sets->ss_daemon_err != -ECONNREFUSED) {
		fprintf(stderr, "Error: daemon socket %s: %s.\n", path,
			strerror(-sets->ss_daemon_err));
		status = KTLSCTL_EXIT_FAILURE;
	}
	/* read_module_stats() has printed its error already. */
	sets->ss_module_err = read_module_stats(&sets->ss_module);
	if (sets->ss_module_err && sets->ss_module_err != -ENOENT)
		status = KTLSCTL_EXIT_FAILURE;

	if (ctl->kc_json) {
		print_json(ctl, sets);
	} else {
		print_text_kernel(sets);
		print_text_daemon(ctl, sets);
		print_text_module(sets);
	}
	free(sets);
	return status;
}
