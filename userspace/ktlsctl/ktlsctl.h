/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ktlsctl: shows the kTLS sockets of this network namespace (sock_diag),
 * the kernel's, the daemon's and the module's counters, and, through the
 * module's generic netlink family, its handshake requests, their events
 * and its settings. Internal interfaces, grouped by file.
 */
#ifndef KTLSCTL_H
#define KTLSCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/ktlsd.h>

struct nl_msg;
struct nl_sock;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit statuses, as iproute2's tools use them. */
#define KTLSCTL_EXIT_OK		0
#define KTLSCTL_EXIT_FAILURE	1	/* netlink or system error */
#define KTLSCTL_EXIT_USAGE	2

/* Deepest nesting the JSON writer keeps track of; ktlsctl needs 4. */
#define JSON_DEPTH_MAX		8

struct json_writer {
	FILE	*jw_out;
	bool	jw_pretty;
	int	jw_depth;
	bool	jw_has_member[JSON_DEPTH_MAX];	/* a comma goes before the next one */
};

/* What the options chose; every command gets it. */
struct ktlsctl {
	bool		kc_json;
	bool		kc_pretty;
	const char	*kc_daemon_socket;	/* -s, else NULL: $KTLSD_SOCKET or the default */
};

/* json.c: key is NULL for the members of an array. */
void json_init(struct json_writer *jw, FILE *out, bool pretty);
void json_object_begin(struct json_writer *jw, const char *key);
void json_object_end(struct json_writer *jw);
void json_array_begin(struct json_writer *jw, const char *key);
void json_array_end(struct json_writer *jw);
void json_string(struct json_writer *jw, const char *key, const char *value);
void json_u64(struct json_writer *jw, const char *key, uint64_t value);
void json_bool(struct json_writer *jw, const char *key, bool value);
void json_null(struct json_writer *jw, const char *key);
/* Ends the document with a newline. */
void json_finish(struct json_writer *jw);

/* A command's entry point; arg is its one argument, NULL when it takes none. */
typedef int (*command_fn)(const struct ktlsctl *ctl, const char *arg);

/* genl.c: the module's family. */
struct module_conn {
	struct nl_sock	*mc_sock;
	int		mc_family;
	char		mc_extack[256];	/* the kernel's message with the last error */
};

/* Called for each reply message; a negative errno ends the exchange with it. */
typedef int (*module_parse_fn)(struct nl_msg *msg, void *arg);

/* 0, -ENOENT when the family is not registered (no ktlsd.ko), or an errno. */
int module_connect(struct module_conn *mc);
void module_disconnect(struct module_conn *mc);
/* A request of the family: a dump, or a do that the kernel acknowledges. */
struct nl_msg *module_message(const struct module_conn *mc, uint8_t cmd, bool dump);
/* Sends msg (and frees it), runs parse over the answer; 0 or the kernel's errno. */
int module_exchange(struct module_conn *mc, struct nl_msg *msg, module_parse_fn parse,
		    void *arg);
/* "Error: WHAT: the kernel's message (strerror)." */
void module_print_error(const struct module_conn *mc, const char *what, int err);
/* The message and exit status of a command that needs the module. */
int module_not_loaded(const char *object);
/* module_connect(), with the message on failure; an exit status. */
int module_open(struct module_conn *mc, const char *object);

/* request.c: request show and monitor. */
int request_show(const struct ktlsctl *ctl, const char *arg);
int monitor_run(const struct ktlsctl *ctl, const char *arg);

/* set.c */
int set_timeout(const struct ktlsctl *ctl, const char *arg);
int set_max_pending(const struct ktlsctl *ctl, const char *arg);

/* socket.c */
int socket_show(const struct ktlsctl *ctl, const char *arg);

/* stats.c */
int stats_show(const struct ktlsctl *ctl, const char *arg);
/* The errno's symbolic name, "EPERM"; "unknown" for a number glibc lacks. */
const char *errno_name(int err);

#endif /* KTLSCTL_H */
