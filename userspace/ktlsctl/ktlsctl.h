/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ktlsctl: shows the kTLS sockets of this network namespace (sock_diag),
 * the kernel's and the daemon's counters, and, once ktlsd.ko exists, the
 * module's pending handshakes. Internal interfaces, grouped by file.
 */
#ifndef KTLSCTL_H
#define KTLSCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

/* socket.c */
int socket_show(const struct ktlsctl *ctl);

/* stats.c */
int stats_show(const struct ktlsctl *ctl);

#endif /* KTLSCTL_H */
