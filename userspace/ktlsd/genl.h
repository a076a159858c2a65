/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * genl.c: what the daemon's two generic netlink frontends share, the
 * ktlsd.ko family (netlink.c) and the kernel's "handshake" family
 * (handshake_nl.c). Both queue requests in the kernel, multicast READY
 * to a group and hand a request over on ACCEPT; a channel is the
 * mechanism around that, and each frontend keeps what its family says
 * (the reply's attributes, DONE, what a request may run with).
 */
#ifndef KTLSD_GENL_H
#define KTLSD_GENL_H

#include <stdint.h>

#include "daemon.h"

struct nl_cb;
struct nl_msg;
struct nl_sock;
struct nlmsghdr;

/* What sets one family apart: a const table in its frontend's file. */
struct ktlsd_genl_family {
	const char *gf_log;		/* log prefix: "netlink", "handshake" */
	const char *gf_name;		/* the family, as the controller knows it */
	const char *gf_group;		/* its READY group */
	uint8_t gf_version;
	const char *gf_named;		/* the family as a missing group's log names it */
	const char *gf_peer;		/* who answers: "the module", "the kernel" */
	const char *gf_wait_note;	/* what an EMFILE on ACCEPT leaves the requests to */
	int gf_log_resolve;		/* log a failed resolve other than "no family" */
	int gf_queue_empty;		/* ACCEPT's "none queued", a negative errno */
	/* One ACCEPT: 0 and a job started (or refused), or a negative errno. */
	int (*gf_accept_one)(struct ktlsd_daemon *d);
};

/*
 * Reads a request's reply into @reply. Called for each reply message the
 * request brings; it keeps the first it can read and ignores the rest.
 */
typedef void (*ktlsd_genl_parse_fn)(struct nlmsghdr *nlh, void *reply);

/* One request and its answer on gc_req. */
struct ktlsd_genl_transaction {
	int gt_done;
	int gt_errno;			/* the kernel's, negative; 0: acknowledged */
	ktlsd_genl_parse_fn gt_parse;	/* NULL: no reply is read */
	void *gt_reply;
};

/*
 * Two sockets: one joined to the READY group sits in the epoll set and is
 * only ever drained (a READY says no more than "look"), the other carries
 * ACCEPT and DONE, one request and its answer at a time.
 */
struct ktlsd_genl_channel {
	const struct ktlsd_genl_family *gc_def;
	struct nl_sock *gc_ready;	/* joined to gf_group, in the epoll set */
	struct nl_sock *gc_req;		/* ACCEPT and DONE */
	struct nl_cb *gc_cb;		/* gc_req's callbacks, on gc_tr */
	struct ktlsd_genl_transaction gc_tr;
	int gc_family;			/* the family's id */
	struct ktlsd_watch gc_watch;
	int gc_paused;			/* a cap or an error stopped the last pass */
	int gc_in_pass;
	int gc_last_err;		/* ACCEPT's last failure, logged once */
};

/*
 * Both sockets, the family and its group, @ch in the epoll set: 0,
 * -ENOENT when there is no such family, another negative errno when
 * netlink itself fails. On failure the caller undoes it with
 * ktlsd_genl_close(). No pass is made: the caller makes the first.
 */
int ktlsd_genl_bind(struct ktlsd_daemon *d, struct ktlsd_genl_channel *ch,
		    const struct ktlsd_genl_family *def);
/* Out of the epoll set, sockets freed; @ch itself is the caller's. */
void ktlsd_genl_close(struct ktlsd_daemon *d, struct ktlsd_genl_channel *ch);
/* Takes what the kernel has queued, up to the cap. */
void ktlsd_genl_accept_pass(struct ktlsd_daemon *d, struct ktlsd_genl_channel *ch);
/* A slot freed: accept again if a cap or an error stopped the last pass. */
void ktlsd_genl_resume(struct ktlsd_daemon *d, struct ktlsd_genl_channel *ch);
/* A request of @cmd to the family, NULL when out of memory. */
struct nl_msg *ktlsd_genl_message(struct ktlsd_genl_channel *ch, uint8_t cmd);
/*
 * Sends @msg (and frees it), its reply (if any) to @parse with @reply:
 * 0 once acknowledged, else a negative errno.
 */
int ktlsd_genl_transact(struct ktlsd_genl_channel *ch, struct nl_msg *msg,
			ktlsd_genl_parse_fn parse, void *reply);

#endif /* KTLSD_GENL_H */
