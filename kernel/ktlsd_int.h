/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ktlsd.ko internals: the request, the per-socket ULP context and the
 * per-network-namespace state shared by ktlsd_main.c (ULP, socket option,
 * request lifecycle) and ktlsd_netlink.c (the generic netlink family).
 *
 * Lifetimes, in short:
 *  - A request (struct ktlsd_req) is reference counted. The namespace's
 *    queued or accepted list, the ULP context, a blocking requester and
 *    a pending timeout each hold one. It pins its socket (sock_hold) and
 *    the module until it is freed.
 *  - Completion happens exactly once, decided under kn_lock: the first
 *    caller of ktlsd_req_complete() that sees the request not DONE wins.
 *  - A completed request leaves a struct ktlsd_record in the namespace's
 *    ring of recent results; records pin neither socket nor module.
 */
#ifndef _KTLSD_INT_H
#define _KTLSD_INT_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/notifier.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include <linux/ktlsd.h>

/* Default and bounds of the settings (KTLSD_CMD_SET, ku_timeout_ms). */
#define KTLSD_TIMEOUT_DEFAULT_MS	30000
#define KTLSD_TIMEOUT_MIN_MS		100
#define KTLSD_TIMEOUT_MAX_MS		600000
#define KTLSD_MAX_PENDING_DEFAULT	4096
#define KTLSD_MAX_PENDING_MAX		65536

/* Completed requests kept per namespace for KTLSD_CMD_REQUEST_GET. */
#define KTLSD_RING_SIZE			64

/* Supplementary groups carried in dumps and notifications (ACCEPT: all). */
#define KTLSD_GROUPS_BRIEF_MAX		64

/* The multicast groups, in the order of ktlsd_nl_mcgrps[]. */
enum ktlsd_mcgrp {
	KTLSD_NLGRP_READY,
	KTLSD_NLGRP_MONITOR,
};

/* Why a request ended; selects the counter it lands in. */
enum ktlsd_end {
	KTLSD_END_DAEMON,	/* KTLSD_CMD_DONE: ok or failed */
	KTLSD_END_TIMEOUT,	/* the module's timer */
	KTLSD_END_CANCEL,	/* signal, close, namespace exit */
	KTLSD_END_ABORT,	/* the accepting daemon's socket went away */
};

/* The result strings of KTLSD_CMD_DONE, in the order of ktlsd_result_text. */
enum ktlsd_text {
	KTLSD_TEXT_CIPHER,
	KTLSD_TEXT_GROUP,
	KTLSD_TEXT_NEGOTIATED_ALPN,
	KTLSD_TEXT_SERVER_NAME,
	KTLSD_TEXT_PEER_SUBJECT,
	KTLSD_TEXT_DETAIL,
	KTLSD_TEXT_COUNT,
};

/* The netlink attribute of each enum ktlsd_text, in ktlsd_netlink.c. */
extern const u16 ktlsd_text_attr[KTLSD_TEXT_COUNT];

union ktlsd_addr {
	struct sockaddr_in	ka_in;
	struct sockaddr_in6	ka_in6;
};

/* What the requester asked for and who it is; copied into the record. */
struct ktlsd_info {
	u64			ki_id;
	u32			ki_role;
	u32			ki_verify;
	u32			ki_timeout_ms;
	char			ki_peer_name[KTLSD_PEER_NAME_MAX + 1];
	char			ki_alpn[KTLSD_ALPN_MAX + 1];
	char			ki_identity[KTLSD_IDENTITY_MAX + 1];
	const struct cred	*ki_cred;	/* reference */
	struct pid		*ki_tgid;	/* reference */
	u64			ki_cookie;
	union ktlsd_addr	ki_local;
	union ktlsd_addr	ki_peer;
	int			ki_local_len;
	int			ki_peer_len;
	unsigned long		ki_start;	/* jiffies */
};

/* The outcome; strings are kmalloc'ed, NULL when the daemon sent none. */
struct ktlsd_result {
	u32			kr_status;	/* 0 or a positive errno */
	u32			kr_error;
	u32			kr_version;
	char			*kr_text[KTLSD_TEXT_COUNT];
};

struct ktlsd_net;

struct ktlsd_req {
	refcount_t		kr_ref;
	struct list_head	kr_list;	/* kn_queued or kn_accepted, under kn_lock */
	struct ktlsd_net	*kr_kn;
	struct sock		*kr_sk;		/* sock_hold'ed */
	/*
	 * No reference: the socket's close hook, which runs before the file
	 * is freed, completes a QUEUED request under kn_lock. ACCEPT takes a
	 * reference only while it sees the request QUEUED under that lock.
	 */
	struct file		*kr_file;
	struct ktlsd_info	kr_info;
	enum ktlsd_req_state	kr_state;	/* under kn_lock */
	int			kr_status;	/* under kn_lock; 0 or -errno */
	bool			kr_nonblock;
	bool			kr_switched;	/* the daemon set the next ULP; under lock_sock */
	bool			kr_finished;	/* completion side effects done */
	/*
	 * The netlink port that accepted the request, under kn_lock; set with
	 * the ACCEPTED state. Its namespace is the request's: ACCEPT only
	 * takes requests of the caller's namespace.
	 */
	u32			kr_daemon_portid;
	unsigned long		kr_deadline;	/* jiffies */
	struct delayed_work	kr_timeout;
	wait_queue_head_t	kr_wait;
};

/* A completed request, as KTLSD_CMD_REQUEST_GET reports it. */
struct ktlsd_record {
	refcount_t		kc_ref;
	struct ktlsd_info	kc_info;
	struct ktlsd_result	kc_result;
};

/* Everything counted per namespace; KTLSD_CMD_STATS_GET reports it. */
struct ktlsd_stats {
	u64			ks_submitted;
	u64			ks_ok;
	u64			ks_failed;
	u64			ks_timed_out;
	u64			ks_cancelled;
	unsigned int		ks_errno_used;
	struct ktlsd_errno_count ks_by_errno[KTLSD_ERRNO_COUNTS_MAX];
};

struct ktlsd_net {
	spinlock_t		kn_lock;	/* protects the fields below */
	struct list_head	kn_queued;	/* oldest first */
	struct list_head	kn_accepted;
	unsigned int		kn_pending;	/* queued + accepted */
	u64			kn_next_id;
	u32			kn_timeout_ms;
	u32			kn_max_pending;
	struct ktlsd_stats	kn_stats;
	struct ktlsd_record	*kn_ring[KTLSD_RING_SIZE];
	unsigned int		kn_ring_next;	/* the slot written next */
};

/* ktlsd_main.c */
struct ktlsd_net *ktlsd_net(const struct net *net);
struct ktlsd_req *ktlsd_req_accept_next(struct ktlsd_net *kn, u32 portid,
					struct file **filep);
struct ktlsd_req *ktlsd_req_find_pending(struct ktlsd_net *kn, u64 id);
void ktlsd_req_abort_port(struct ktlsd_net *kn, u32 portid);
bool ktlsd_req_complete(struct ktlsd_req *req, int status, enum ktlsd_end how,
			struct ktlsd_result *result);
void ktlsd_req_put(struct ktlsd_req *req);
void ktlsd_record_put(struct ktlsd_record *rec);
void ktlsd_result_free(struct ktlsd_result *result);

/* ktlsd_netlink.c */
extern struct genl_family ktlsd_genl_family;
extern struct notifier_block ktlsd_nl_release_notifier;
void ktlsd_nl_notify_ready(struct net *net, struct ktlsd_req *req);
void ktlsd_nl_notify_done(struct net *net, struct ktlsd_record *rec);
bool ktlsd_nl_has_daemon(struct net *net);

/*
 * Kernel version differences, kept here. A struct file's count is an
 * atomic_long_t on every kernel this module builds for (6.1 to 6.12);
 * the helper takes a reference only while the file is still live.
 */
static inline bool ktlsd_file_get_live(struct file *file)
{
	return atomic_long_inc_not_zero(&file->f_count);
}

/* Joining a group needs CAP_NET_ADMIN where the core can say so. */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define KTLSD_MCGRP_ADMIN	.flags = GENL_MCAST_CAP_NET_ADMIN
#else
#define KTLSD_MCGRP_ADMIN
#endif

#endif /* _KTLSD_INT_H */
