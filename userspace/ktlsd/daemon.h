/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ktlsd's runtime: the event loop, the requests in flight, and the files
 * that implement them. Configuration and policy are in ktlsd.h.
 */
#ifndef KTLSD_DAEMON_H
#define KTLSD_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "ktlsd.h"
#include "ktls_int.h"

#define ktlsd_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct ktlsd_daemon;
struct ktlsd_netlink;
struct ktlsd_handshake;

/* Something in the epoll set; the loop calls w_handle with the events. */
struct ktlsd_watch {
	void (*w_handle)(struct ktlsd_daemon *d, struct ktlsd_watch *w, uint32_t events);
};

/* A deadline in the daemon's timer heap. */
struct ktlsd_timer {
	int64_t t_deadline;		/* CLOCK_MONOTONIC ms */
	size_t t_index;			/* position in the heap, 0: not queued */
	void (*t_expire)(struct ktlsd_daemon *d, struct ktlsd_timer *t);
};

struct ktlsd_heap {
	struct ktlsd_timer **h_items;	/* h_items[1..h_count], a binary min-heap */
	size_t h_count;
	size_t h_capacity;
};

/* How many requests one uid has in flight, for max_handshakes_per_uid. */
struct ktlsd_uid_count {
	uid_t uc_uid;
	unsigned int uc_count;
	struct ktlsd_uid_count *uc_next;
};

#define KTLSD_BATCH		32	/* events taken per epoll_wait */
#define KTLSD_ERRNO_SLOTS	256	/* errnos are small; a bigger one counts in slot 0 */

struct ktlsd_stats {
	uint64_t st_ok;
	uint64_t st_failed;
	uint64_t st_timed_out;
	uint64_t st_denied;
	uint64_t st_refused;		/* over a cap */
	uint64_t st_duration_us;	/* sum over successful handshakes */
	uint64_t st_reloads;
	uint64_t st_duration_max_us;
	uint64_t st_by_errno[KTLSD_ERRNO_SLOTS];	/* outcomes by errno */
};

struct ktlsd_daemon {
	int d_epoll;
	int d_stop;
	int d_failed;			/* the loop broke: exit with 1 */
	const char *d_conf_path;
	const char *d_socket_override;	/* -s: wins over every generation's file */
	struct ktlsd_conf *d_conf;	/* the newest generation */
	int d_foreground;
	/* the unix socket frontend */
	int d_listen_fd;
	struct ktlsd_watch d_listen_watch;
	char d_listen_path[108];
	int d_listen_paused;		/* out of descriptors: not in the epoll set */
	/* the ktlsd.ko frontend (netlink.c), NULL while off */
	struct ktlsd_netlink *d_nl;
	/* the kernel's "handshake" family (handshake_nl.c), NULL while off */
	struct ktlsd_handshake *d_hs;
	/* signals through a signalfd, so they are events like any other */
	int d_signal_fd;
	struct ktlsd_watch d_signal_watch;
	struct ktlsd_heap d_timers;
	unsigned int d_in_flight;	/* requests accepted and not yet answered */
	struct ktlsd_uid_count *d_uid_counts;
	struct ktlsd_stats d_stats;
	struct ktlsd_job *d_jobs;	/* every request in flight, for shutdown */
	/* the events of one epoll_wait, handled in turn (loop.c) */
	struct epoll_event d_batch[KTLSD_BATCH];
	int d_batch_count;
	int d_batch_next;		/* the first not yet handled */
};

/*
 * One request from one requester: the socket, the handshake on it, and
 * the way back to the requester, which is its frontend's: a unix
 * connection to answer on, or a request id of the module's to send DONE
 * for.
 */
enum ktlsd_frontend {
	KTLSD_FRONTEND_UNIX,
	KTLSD_FRONTEND_NETLINK,
	KTLSD_FRONTEND_HANDSHAKE,	/* the kernel's own, for in-kernel consumers */
};

enum ktlsd_job_state {
	KTLSD_JOB_READ_REQUEST,
	KTLSD_JOB_HANDSHAKE,
	KTLSD_JOB_WRITE_RESULT,
};

struct ktlsd_job {
	enum ktlsd_job_state j_state;
	enum ktlsd_frontend j_frontend;
	struct ktlsd_job *j_prev, *j_next;	/* d_jobs */
	uint64_t j_request_id;		/* netlink: the module's id for DONE */
	int j_client;			/* unix: the requester's connection, else -1 */
	struct ktlsd_watch j_client_watch;
	uint32_t j_client_events;	/* what it is registered for */
	int j_keep;			/* unix: a well-formed UPGRADE, nothing after it */
	uint32_t j_keep_ms;		/* unix: its RESULT offered the connection for
					 * another request this long; 0: close */
	int j_groups_read;		/* unix: j_who's groups fetched (SO_PEERGROUPS) */
	int j_sock;			/* the socket being upgraded, -1 before it came */
	struct ktlsd_watch j_sock_watch;
	uint32_t j_sock_events;		/* what it is registered for, 0: not yet */
	struct ktlsd_timer j_timer;
	struct ktlsd_requester j_who;
	int j_counted;			/* holds a slot against the caps */
	struct ktlsd_conf *j_conf;	/* the generation it started with */
	struct ktls_conn *j_conn;
	struct ktls_drive j_drive;
	int64_t j_started_us;
	uint8_t *j_msg;			/* request in, then result out */
	size_t j_msg_len, j_msg_off;
	uint16_t j_role;
	char j_peer_name[KTLSD_PEER_NAME_MAX + 1];
	char j_identity[KTLSD_IDENTITY_MAX + 1];
};

/* loop.c */
void ktlsd_run(struct ktlsd_daemon *d);
int ktlsd_signals_open(struct ktlsd_daemon *d);
int64_t ktlsd_now_ms(void);
int64_t ktlsd_now_us(void);
int ktlsd_watch_fd(struct ktlsd_daemon *d, int fd, uint32_t events, struct ktlsd_watch *w,
		   int op);
/* @w is going away or off its fd: its events still in this batch are dropped. */
void ktlsd_watch_forget(struct ktlsd_daemon *d, struct ktlsd_watch *w);

/* timer.c */
int ktlsd_timer_add(struct ktlsd_heap *h, struct ktlsd_timer *t);
void ktlsd_timer_del(struct ktlsd_heap *h, struct ktlsd_timer *t);
/* Milliseconds to the next deadline for epoll_wait, -1 if none. */
int ktlsd_timer_next(const struct ktlsd_heap *h, int64_t now);
void ktlsd_timer_run(struct ktlsd_daemon *d, int64_t now);
void ktlsd_heap_free(struct ktlsd_heap *h);

/* frontend.c: the unix socket */
int ktlsd_frontend_open(struct ktlsd_daemon *d);
void ktlsd_frontend_resume(struct ktlsd_daemon *d);
void ktlsd_frontend_close(struct ktlsd_daemon *d);
/* The supplementary groups of the requester on @fd, as they were at connect. */
void ktlsd_frontend_groups(int fd, struct ktlsd_requester *who);

/*
 * netlink.c: the ktlsd.ko frontend. Open resolves the module's family as
 * the configuration's "netlink" key asks: 0 when bound, or off for want
 * of the module under "auto" or by "no"; a negative errno only under
 * "yes". Reopen is SIGHUP's: binds if not bound yet, never fails.
 */
int ktlsd_netlink_open(struct ktlsd_daemon *d);
void ktlsd_netlink_reopen(struct ktlsd_daemon *d);
/* A slot freed: accept again if a cap stopped us. */
void ktlsd_netlink_resume(struct ktlsd_daemon *d);
/* DONE for request @id; -ENOENT: the module dropped it (timed out, cancelled). */
int ktlsd_netlink_done(struct ktlsd_daemon *d, uint64_t id, const struct ktls_upgrade_info *info);
void ktlsd_netlink_close(struct ktlsd_daemon *d);

/* job.c */
void ktlsd_job_start(struct ktlsd_daemon *d, int client, const struct ktlsd_requester *who);
/*
 * A request the module handed over: @sock is ours to close; @rq as
 * ktlsd_request_decode() made it from ACCEPT's attributes (the unix
 * frontend's own), @invalid its return value.
 */
void ktlsd_job_start_netlink(struct ktlsd_daemon *d, int sock, uint64_t request_id,
			     const struct ktlsd_requester *who, const struct ktlsd_request *rq,
			     int invalid);
/* A request of the kernel's handshake family: @sock is ours to close. */
void ktlsd_job_start_handshake(struct ktlsd_daemon *d, int sock, const struct ktlsd_request *rq);
void ktlsd_job_abort_all(struct ktlsd_daemon *d, const char *why);

/*
 * handshake_nl.c: the kernel's "handshake" family (net/handshake, 6.5+),
 * served as tlshd does. Open logs and stays off where the kernel has no
 * such family or [handshake] serve = no; it never stops the daemon.
 */
void ktlsd_handshake_open(struct ktlsd_daemon *d);
void ktlsd_handshake_close(struct ktlsd_daemon *d);
/* A slot freed: accept again if a cap stopped us. */
void ktlsd_handshake_resume(struct ktlsd_daemon *d);
/* DONE for the socket we hold as @sock (before closing it). */
void ktlsd_handshake_done(struct ktlsd_daemon *d, int sock, const struct ktls_upgrade_info *info);
/*
 * The engine config for a kernel request, in place of ktlsd_policy_check().
 * *@owned: 1 when it was made for this request (its identity came from the
 * consumer's keys), and the caller drops it with ktls_config_put().
 */
int ktlsd_handshake_config(const struct ktlsd_conf *conf, const struct ktlsd_request *rq,
			   struct ktls_config **cfg, int *owned, char *why, size_t whylen);

/* log.c */
void ktlsd_log_open(int foreground, int level);
void ktlsd_log_set_level(int level);
void ktlsd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* KTLSD_DAEMON_H */
