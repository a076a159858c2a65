// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsd.ko: upgrade a connected TCP socket to kTLS with socket options.
 *
 * The application sets the TCP ULP "ktlsd", then KTLSD_OPT_UPGRADE. The
 * module queues a request in the socket's network namespace and tells the
 * daemons listening on the "ready" group (ktlsd_netlink.c). A daemon's
 * ACCEPT gets the socket as a file descriptor; it sets the ULP "tls",
 * which takes this module off the socket first (ktlsd_setsockopt), does
 * the handshake, installs the keys and reports DONE. The requester, asleep
 * in setsockopt() or told through the socket's error queue, gets the
 * status.
 *
 * Locks: lock_sock() covers the socket's ULP context and sk_prot; kn_lock
 * (a spinlock, never held across anything that sleeps) covers a
 * namespace's lists, counters, settings and each request's state. When
 * both are taken, lock_sock() comes first.
 */

#include <linux/errqueue.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <linux/sockptr.h>
#include <linux/string.h>
#include <net/inet_connection_sock.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "ktlsd_int.h"

/* The ULP context, in icsk_ulp_data while the ULP is "ktlsd". */
struct ktlsd_sock {
	struct ktlsd_req	*ks_req;	/* reference, or NULL */
	bool			ks_closing;	/* close began; sk_prot is the base */
};

/* sk_prot for our sockets: a copy of the base proto with three wrappers. */
struct ktlsd_proto {
	struct proto		*kp_base;	/* set once, release/acquire */
	struct proto		kp_prot;
};

enum {
	KTLSD_PROTO_INET,
	KTLSD_PROTO_INET6,
	KTLSD_PROTO_COUNT,
};

static struct ktlsd_proto ktlsd_protos[KTLSD_PROTO_COUNT];
static DEFINE_MUTEX(ktlsd_proto_lock);	/* serializes building ktlsd_protos */

static unsigned int ktlsd_net_id __read_mostly;
static struct workqueue_struct *ktlsd_wq;
static struct tcp_ulp_ops ktlsd_ulp_ops;

/**
 * ktlsd_net - the module's state in a network namespace
 * @net: the namespace
 *
 * Return: the namespace's struct ktlsd_net, which lives as long as @net.
 */
struct ktlsd_net *ktlsd_net(const struct net *net)
{
	return net_generic(net, ktlsd_net_id);
}

static struct ktlsd_proto *ktlsd_proto_of(const struct sock *sk)
{
	return &ktlsd_protos[sk->sk_family == AF_INET6 ? KTLSD_PROTO_INET6 :
						       KTLSD_PROTO_INET];
}

static struct proto *ktlsd_base(const struct sock *sk)
{
	/* Pairs with the release in ktlsd_proto_prepare(): kp_prot is built. */
	return smp_load_acquire(&ktlsd_proto_of(sk)->kp_base);
}

static bool ktlsd_is_ours(const struct proto *prot)
{
	return prot == &ktlsd_protos[KTLSD_PROTO_INET].kp_prot ||
	       prot == &ktlsd_protos[KTLSD_PROTO_INET6].kp_prot;
}

/*
 * What a call that found our wrapper should go to: the base proto while
 * the socket is ours, or whatever sk_prot became once we left it (a
 * caller may have read sk_prot just before we restored it).
 */
static const struct proto *ktlsd_fallback(const struct sock *sk)
{
	const struct proto *prot = READ_ONCE(sk->sk_prot);

	return ktlsd_is_ours(prot) ? ktlsd_base(sk) : prot;
}

/* The context, or NULL when the socket's ULP is not (or no longer) ours. */
static struct ktlsd_sock *ktlsd_sock_ctx(const struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);

	if (icsk->icsk_ulp_ops != &ktlsd_ulp_ops)
		return NULL;
	/* Written under lock_sock(); read under it or on a dead socket. */
	return rcu_dereference_protected(icsk->icsk_ulp_data, true);
}

static void ktlsd_sock_free(struct ktlsd_sock *ctx)
{
	if (ctx->ks_req)
		ktlsd_req_put(ctx->ks_req);
	kfree(ctx);
}

/*
 * Takes the module off the socket entirely, as if "ktlsd" had never been
 * set, so that the next TCP_ULP attaches normally. The caller holds the
 * socket lock and a reference to the request, which holds the module.
 */
static void ktlsd_sock_detach_locked(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct ktlsd_sock *ctx = ktlsd_sock_ctx(sk);

	if (!ctx || ctx->ks_closing)
		return;
	WRITE_ONCE(sk->sk_prot, ktlsd_base(sk));
	rcu_assign_pointer(icsk->icsk_ulp_data, NULL);
	icsk->icsk_ulp_ops = NULL;
	ktlsd_sock_free(ctx);
	/* The reference tcp_set_ulp() took for this socket. */
	module_put(THIS_MODULE);
}

/* ---- requests ---- */

static void ktlsd_info_release(struct ktlsd_info *info)
{
	if (info->ki_cred)
		put_cred(info->ki_cred);
	put_pid(info->ki_tgid);
}

/**
 * ktlsd_result_free - free the strings of a result
 * @result: the result; its strings are NULL afterwards
 */
void ktlsd_result_free(struct ktlsd_result *result)
{
	int i;

	for (i = 0; i < KTLSD_TEXT_COUNT; i++) {
		kfree(result->kr_text[i]);
		result->kr_text[i] = NULL;
	}
}

/**
 * ktlsd_req_put - drop a reference to a request
 * @req: the request
 *
 * The last reference frees the request and releases its socket, its
 * credentials and the module reference it held.
 */
void ktlsd_req_put(struct ktlsd_req *req)
{
	if (!refcount_dec_and_test(&req->kr_ref))
		return;
	ktlsd_info_release(&req->kr_info);
	sock_put(req->kr_sk);
	kfree(req);
	module_put(THIS_MODULE);
}

/**
 * ktlsd_record_put - drop a reference to a completed request's record
 * @rec: the record
 */
void ktlsd_record_put(struct ktlsd_record *rec)
{
	if (!refcount_dec_and_test(&rec->kc_ref))
		return;
	ktlsd_info_release(&rec->kc_info);
	ktlsd_result_free(&rec->kc_result);
	kfree(rec);
}

/* Takes the strings of @result, which may be NULL. */
static struct ktlsd_record *ktlsd_record_new(const struct ktlsd_req *req,
					     int status,
					     struct ktlsd_result *result)
{
	struct ktlsd_record *rec;

	rec = kzalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return NULL;
	refcount_set(&rec->kc_ref, 1);
	rec->kc_info = req->kr_info;
	get_cred(rec->kc_info.ki_cred);
	get_pid(rec->kc_info.ki_tgid);
	if (result) {
		rec->kc_result = *result;
		memset(result->kr_text, 0, sizeof(result->kr_text));
	}
	rec->kc_result.kr_status = -status;
	return rec;
}

static void ktlsd_count_errno_locked(struct ktlsd_stats *stats, u32 err)
{
	unsigned int i;

	for (i = 0; i < stats->ks_errno_used; i++) {
		if (stats->ks_by_errno[i].kec_errno == err) {
			stats->ks_by_errno[i].kec_count++;
			return;
		}
	}
	/* A full table keeps the first errnos; the totals still count all. */
	if (i == KTLSD_ERRNO_COUNTS_MAX)
		return;
	stats->ks_by_errno[i].kec_errno = err;
	stats->ks_by_errno[i].kec_count = 1;
	stats->ks_errno_used++;
}

static void ktlsd_count_end_locked(struct ktlsd_stats *stats, int status,
				   enum ktlsd_end how)
{
	if (!status) {
		stats->ks_ok++;
		return;
	}
	switch (how) {
	case KTLSD_END_TIMEOUT:
		stats->ks_timed_out++;
		break;
	case KTLSD_END_CANCEL:
		stats->ks_cancelled++;
		break;
	case KTLSD_END_DAEMON:
	case KTLSD_END_ABORT:
	default:
		stats->ks_failed++;
		break;
	}
	ktlsd_count_errno_locked(stats, -status);
}

/* Room for the network header ipv6_recv_error() may read. */
#define KTLSD_ERR_SKB_ROOM	sizeof(struct ipv6hdr)

/*
 * The non-blocking form's completion: a struct sock_extended_err on the
 * error queue (EPOLLERR), and SO_ERROR on failure.
 */
static void ktlsd_report_errqueue(struct sock *sk, const struct ktlsd_req *req,
				  int status)
{
	struct sock_exterr_skb *serr;
	struct sk_buff *skb;

	if (status)
		WRITE_ONCE(sk->sk_err, -status);
	skb = alloc_skb(KTLSD_ERR_SKB_ROOM, GFP_KERNEL);
	if (!skb)
		goto out_report;
	memset(skb->data, 0, KTLSD_ERR_SKB_ROOM);
	skb_reset_network_header(skb);
	serr = SKB_EXT_ERR(skb);
	memset(serr, 0, sizeof(*serr));
	serr->ee.ee_errno = -status;
	serr->ee.ee_origin = SO_EE_ORIGIN_LOCAL;
	serr->ee.ee_code = KTLSD_EE_CODE_UPGRADE;
	serr->ee.ee_info = lower_32_bits(req->kr_info.ki_id);
	if (!sock_queue_err_skb(sk, skb))
		return;
	kfree_skb(skb);
out_report:
	sk_error_report(sk);
}

/*
 * What completion does to the socket: take the module off it unless the
 * daemon already did or the socket is closing; shut it down when it may
 * be half-upgraded (the daemon set "tls" and then failed, or it was
 * accepted and then cancelled or timed out: the daemon may still install
 * keys the requester will never use); report to a non-blocking requester.
 */
static void ktlsd_req_finish_sock(struct ktlsd_req *req,
				  enum ktlsd_req_state was, int status,
				  enum ktlsd_end how)
{
	struct sock *sk = req->kr_sk;
	struct ktlsd_sock *ctx;
	bool closing;

	lock_sock(sk);
	ctx = ktlsd_sock_ctx(sk);
	closing = ctx && ctx->ks_closing;
	if (closing) {
		release_sock(sk);
		return;
	}
	if (ctx && ctx->ks_req == req)
		ktlsd_sock_detach_locked(sk);
	if (status && (req->kr_switched ||
		       (was == KTLSD_REQ_ACCEPTED && how != KTLSD_END_DAEMON)) &&
	    !sock_flag(sk, SOCK_DEAD)) {
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SHUTDOWN_MASK);
		READ_ONCE(sk->sk_prot)->shutdown(sk, SHUTDOWN_MASK);
		sk->sk_state_change(sk);
	}
	release_sock(sk);
	if (req->kr_nonblock && !sock_flag(sk, SOCK_DEAD))
		ktlsd_report_errqueue(sk, req, status);
}

/**
 * ktlsd_req_complete - end a request, once
 * @req: the request; the caller holds a reference
 * @status: 0 or a negative errno, what the requester gets
 * @how: why it ends, for the counters and for what happens to the socket
 * @result: the daemon's report, or NULL; its strings are taken when the
 *	request is completed by this call
 *
 * Moves the request to DONE, records it in the namespace's ring of recent
 * results, takes the module off the socket (and shuts the socket down
 * when it may be half-upgraded), reports to a non-blocking requester,
 * wakes a blocking one and notifies the monitor group. Sleeps.
 *
 * Return: true when this call completed the request, false when it was
 * already completed (by the daemon, the timeout, a signal or a close).
 */
bool ktlsd_req_complete(struct ktlsd_req *req, int status, enum ktlsd_end how,
			struct ktlsd_result *result)
{
	struct ktlsd_net *kn = req->kr_kn;
	struct ktlsd_record *rec, *old = NULL;
	enum ktlsd_req_state was;

	rec = ktlsd_record_new(req, status, result);
	spin_lock(&kn->kn_lock);
	was = req->kr_state;
	if (was == KTLSD_REQ_DONE) {
		spin_unlock(&kn->kn_lock);
		if (rec)
			ktlsd_record_put(rec);
		return false;
	}
	list_del_init(&req->kr_list);
	kn->kn_pending--;
	WRITE_ONCE(req->kr_state, KTLSD_REQ_DONE);
	req->kr_status = status;
	ktlsd_count_end_locked(&kn->kn_stats, status, how);
	if (rec) {
		old = kn->kn_ring[kn->kn_ring_next];
		refcount_inc(&rec->kc_ref);
		kn->kn_ring[kn->kn_ring_next] = rec;
		kn->kn_ring_next = (kn->kn_ring_next + 1) % KTLSD_RING_SIZE;
	}
	spin_unlock(&kn->kn_lock);

	if (old)
		ktlsd_record_put(old);
	/* Still pending: it will not run, so its reference is ours to drop. */
	if (cancel_delayed_work(&req->kr_timeout))
		ktlsd_req_put(req);
	ktlsd_req_finish_sock(req, was, status, how);
	/* Pairs with the acquire in ktlsd_req_wait(). */
	smp_store_release(&req->kr_finished, true);
	wake_up_all(&req->kr_wait);
	if (rec) {
		ktlsd_nl_notify_done(sock_net(req->kr_sk), rec);
		ktlsd_record_put(rec);
	}
	/* The reference of the queued or accepted list. */
	ktlsd_req_put(req);
	return true;
}

static void ktlsd_req_timeout(struct work_struct *work)
{
	struct ktlsd_req *req = container_of(to_delayed_work(work),
					     struct ktlsd_req, kr_timeout);

	ktlsd_req_complete(req, -ETIMEDOUT, KTLSD_END_TIMEOUT, NULL);
	ktlsd_req_put(req);
}

/**
 * ktlsd_req_accept_next - hand the oldest queued request to a daemon
 * @kn: the daemon's namespace
 * @portid: the daemon's netlink port, whose release aborts the request
 * @filep: set to the socket's file, with a reference for the caller
 *
 * A request whose socket is being closed is skipped: its close hook is
 * about to cancel it.
 *
 * Return: the request, now ACCEPTED, with a reference for the caller; or
 * NULL when none is queued.
 */
struct ktlsd_req *ktlsd_req_accept_next(struct ktlsd_net *kn, u32 portid,
					struct file **filep)
{
	struct ktlsd_req *req;

	spin_lock(&kn->kn_lock);
	list_for_each_entry(req, &kn->kn_queued, kr_list) {
		if (!ktlsd_file_get_live(req->kr_file))
			continue;
		list_move_tail(&req->kr_list, &kn->kn_accepted);
		WRITE_ONCE(req->kr_state, KTLSD_REQ_ACCEPTED);
		req->kr_daemon_portid = portid;
		refcount_inc(&req->kr_ref);
		spin_unlock(&kn->kn_lock);
		*filep = req->kr_file;
		return req;
	}
	spin_unlock(&kn->kn_lock);
	return NULL;
}

/* The first request on @list that @match()es @key, with a reference; under kn_lock. */
static struct ktlsd_req *ktlsd_req_get_locked(struct list_head *list,
					      bool (*match)(const struct ktlsd_req *req, u64 key),
					      u64 key)
{
	struct ktlsd_req *req;

	list_for_each_entry(req, list, kr_list) {
		if (match(req, key)) {
			refcount_inc(&req->kr_ref);
			return req;
		}
	}
	return NULL;
}

static bool ktlsd_req_is_port(const struct ktlsd_req *req, u64 portid)
{
	return req->kr_daemon_portid == portid;
}

static bool ktlsd_req_is_id(const struct ktlsd_req *req, u64 id)
{
	return req->kr_info.ki_id == id;
}

/* The first request @portid accepted and has not answered, with a reference. */
static struct ktlsd_req *ktlsd_req_find_accepted_by(struct ktlsd_net *kn,
						    u32 portid)
{
	struct ktlsd_req *req;

	spin_lock(&kn->kn_lock);
	req = ktlsd_req_get_locked(&kn->kn_accepted, ktlsd_req_is_port, portid);
	spin_unlock(&kn->kn_lock);
	return req;
}

/**
 * ktlsd_req_abort_port - end the requests a vanished daemon had accepted
 * @kn: the namespace of the released netlink socket
 * @portid: its port
 *
 * Each request @portid accepted ends with -ECONNABORTED, and its socket is
 * shut down: the daemon may have sent part of a handshake on it. Queued
 * requests stay queued for the next daemon (or their timeout). Sleeps.
 */
void ktlsd_req_abort_port(struct ktlsd_net *kn, u32 portid)
{
	struct ktlsd_req *req;

	/* Each completion takes the request off the list: this ends. */
	while ((req = ktlsd_req_find_accepted_by(kn, portid))) {
		ktlsd_req_complete(req, -ECONNABORTED, KTLSD_END_ABORT, NULL);
		ktlsd_req_put(req);
	}
}

/**
 * ktlsd_req_find_pending - look a queued or accepted request up by id
 * @kn: the namespace
 * @id: the request id
 *
 * Return: the request with a reference for the caller, or NULL.
 */
struct ktlsd_req *ktlsd_req_find_pending(struct ktlsd_net *kn, u64 id)
{
	struct ktlsd_req *req;

	spin_lock(&kn->kn_lock);
	req = ktlsd_req_get_locked(&kn->kn_accepted, ktlsd_req_is_id, id);
	if (!req)
		req = ktlsd_req_get_locked(&kn->kn_queued, ktlsd_req_is_id, id);
	spin_unlock(&kn->kn_lock);
	return req;
}

static int ktlsd_upgrade_check(const struct ktlsd_upgrade *ku)
{
	switch (ku->ku_role) {
	case KTLSD_ROLE_CLIENT:
	case KTLSD_ROLE_SERVER:
		break;
	default:
		return -EINVAL;
	}
	if (ku->ku_verify > KTLSD_VERIFY_NONE || ku->ku_flags ||
	    ku->ku_timeout_ms > KTLSD_TIMEOUT_MAX_MS)
		return -EINVAL;
	if (strnlen(ku->ku_peer_name, sizeof(ku->ku_peer_name)) ==
		    sizeof(ku->ku_peer_name) ||
	    strnlen(ku->ku_alpn, sizeof(ku->ku_alpn)) == sizeof(ku->ku_alpn) ||
	    strnlen(ku->ku_identity, sizeof(ku->ku_identity)) ==
		    sizeof(ku->ku_identity))
		return -EINVAL;
	return 0;
}

static int ktlsd_copy_addr(struct socket *sock, union ktlsd_addr *addr,
			   bool peer)
{
	struct sockaddr_storage ss;
	int len;

	memset(&ss, 0, sizeof(ss));
	len = peer ? kernel_getpeername(sock, (struct sockaddr *)&ss) :
		     kernel_getsockname(sock, (struct sockaddr *)&ss);
	if (len < 0)
		return 0;
	len = min_t(int, len, sizeof(*addr));
	memcpy(addr, &ss, len);
	return len;
}

/* A request for @sk as the calling task asks it; not yet queued. */
static struct ktlsd_req *ktlsd_req_new(struct sock *sk,
				       const struct ktlsd_upgrade *ku)
{
	struct socket *sock = sk->sk_socket;
	struct ktlsd_info *info;
	struct ktlsd_req *req;
	u32 cookie[2];

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return NULL;
	refcount_set(&req->kr_ref, 1);
	INIT_LIST_HEAD(&req->kr_list);
	INIT_DELAYED_WORK(&req->kr_timeout, ktlsd_req_timeout);
	init_waitqueue_head(&req->kr_wait);
	/* We run from our own sk_prot, so tcp_set_ulp()'s reference holds. */
	__module_get(THIS_MODULE);
	sock_hold(sk);
	req->kr_sk = sk;
	req->kr_kn = ktlsd_net(sock_net(sk));
	req->kr_file = sock->file;
	req->kr_nonblock = !!(sock->file->f_flags & O_NONBLOCK);

	info = &req->kr_info;
	info->ki_role = ku->ku_role;
	info->ki_verify = ku->ku_verify;
	info->ki_timeout_ms = ku->ku_timeout_ms;
	strscpy(info->ki_peer_name, ku->ku_peer_name, sizeof(info->ki_peer_name));
	strscpy(info->ki_alpn, ku->ku_alpn, sizeof(info->ki_alpn));
	strscpy(info->ki_identity, ku->ku_identity, sizeof(info->ki_identity));
	info->ki_cred = get_current_cred();
	info->ki_tgid = get_pid(task_tgid(current));
	sock_diag_save_cookie(sk, cookie);
	info->ki_cookie = (u64)cookie[1] << 32 | cookie[0];
	info->ki_local_len = ktlsd_copy_addr(sock, &info->ki_local, false);
	info->ki_peer_len = ktlsd_copy_addr(sock, &info->ki_peer, true);
	return req;
}

/*
 * Queues @req and tells the daemons. Refused at once with -ESRCH when no
 * daemon listens in the namespace, -EAGAIN over the pending cap; such a
 * refusal is counted by errno only, as it was never submitted.
 */
static int ktlsd_req_submit(struct ktlsd_req *req)
{
	struct net *net = sock_net(req->kr_sk);
	struct ktlsd_net *kn = req->kr_kn;
	struct ktlsd_info *info = &req->kr_info;
	unsigned long timeout;
	int err = 0;

	if (!ktlsd_nl_has_daemon(net))
		err = -ESRCH;
	spin_lock(&kn->kn_lock);
	if (!err && kn->kn_pending >= kn->kn_max_pending)
		err = -EAGAIN;
	if (err) {
		ktlsd_count_errno_locked(&kn->kn_stats, -err);
		spin_unlock(&kn->kn_lock);
		return err;
	}
	info->ki_id = ++kn->kn_next_id;
	if (!info->ki_timeout_ms)
		info->ki_timeout_ms = kn->kn_timeout_ms;
	timeout = msecs_to_jiffies(info->ki_timeout_ms);
	info->ki_start = jiffies;
	req->kr_deadline = info->ki_start + timeout;
	req->kr_state = KTLSD_REQ_QUEUED;
	/* One reference for the list, one for the timeout. */
	refcount_add(2, &req->kr_ref);
	list_add_tail(&req->kr_list, &kn->kn_queued);
	kn->kn_pending++;
	kn->kn_stats.ks_submitted++;
	/* Queued under the lock, so a completion always finds it to cancel. */
	queue_delayed_work(ktlsd_wq, &req->kr_timeout, timeout);
	spin_unlock(&kn->kn_lock);

	ktlsd_nl_notify_ready(net, req);
	return 0;
}

static bool ktlsd_req_finished(const struct ktlsd_req *req)
{
	/* Pairs with the release in ktlsd_req_complete(). */
	return smp_load_acquire(&req->kr_finished);
}

/*
 * A blocking requester sleeps here, without the socket lock. A signal
 * cancels the request and returns -EINTR, never -ERESTARTSYS: a restarted
 * setsockopt() would find the module gone from the socket.
 */
static int ktlsd_req_wait(struct ktlsd_req *req)
{
	if (wait_event_interruptible(req->kr_wait, ktlsd_req_finished(req))) {
		if (ktlsd_req_complete(req, -EINTR, KTLSD_END_CANCEL, NULL))
			return -EINTR;
		/* Completed by someone else first: that outcome stands. */
		wait_event(req->kr_wait, ktlsd_req_finished(req));
	}
	return READ_ONCE(req->kr_status);
}

static int ktlsd_upgrade(struct sock *sk, sockptr_t optval,
			 unsigned int optlen)
{
	struct ktlsd_upgrade *ku;
	struct ktlsd_sock *ctx;
	struct ktlsd_req *req;
	int err;

	if (optlen != sizeof(*ku))
		return -EINVAL;
	if (!sk->sk_socket || !sk->sk_socket->file)
		return -EOPNOTSUPP;
	ku = kmalloc(sizeof(*ku), GFP_KERNEL);
	if (!ku)
		return -ENOMEM;
	err = -EFAULT;
	if (copy_from_sockptr(ku, optval, sizeof(*ku)))
		goto out_free_ku;
	err = ktlsd_upgrade_check(ku);
	if (err)
		goto out_free_ku;
	err = -ENOMEM;
	req = ktlsd_req_new(sk, ku);
	if (!req)
		goto out_free_ku;
	kfree(ku);

	lock_sock(sk);
	ctx = ktlsd_sock_ctx(sk);
	err = -ENOPROTOOPT;
	if (!ctx || ctx->ks_closing)
		goto out_unlock;
	err = -EALREADY;
	if (ctx->ks_req)
		goto out_unlock;
	err = -ENOTCONN;
	if (sk->sk_state != TCP_ESTABLISHED)
		goto out_unlock;
	err = ktlsd_req_submit(req);
	if (err)
		goto out_unlock;
	refcount_inc(&req->kr_ref);
	ctx->ks_req = req;
	release_sock(sk);

	err = req->kr_nonblock ? -EINPROGRESS : ktlsd_req_wait(req);
	ktlsd_req_put(req);
	return err;

out_unlock:
	release_sock(sk);
	ktlsd_req_put(req);
	return err;
out_free_ku:
	kfree(ku);
	return err;
}

/* The daemon sets the next ULP: leave the socket first, if it is accepted. */
static void ktlsd_ulp_switch(struct sock *sk)
{
	struct ktlsd_sock *ctx;

	lock_sock(sk);
	ctx = ktlsd_sock_ctx(sk);
	if (ctx && !ctx->ks_closing && ctx->ks_req &&
	    READ_ONCE(ctx->ks_req->kr_state) == KTLSD_REQ_ACCEPTED) {
		ctx->ks_req->kr_switched = true;
		ktlsd_sock_detach_locked(sk);
	}
	release_sock(sk);
}

/* ---- the wrapped proto ---- */

static int ktlsd_setsockopt(struct sock *sk, int level, int optname,
			    sockptr_t optval, unsigned int optlen)
{
	if (level == KTLSD_SOL) {
		if (optname == KTLSD_OPT_UPGRADE)
			return ktlsd_upgrade(sk, optval, optlen);
		return -ENOPROTOOPT;
	}
	if (level == SOL_TCP && optname == TCP_ULP)
		ktlsd_ulp_switch(sk);
	return ktlsd_fallback(sk)->setsockopt(sk, level, optname, optval,
					      optlen);
}

static int ktlsd_getsockopt(struct sock *sk, int level, int optname,
			    char __user *optval, int __user *optlen)
{
	/* Nothing to read back: the request's outcome is the setsockopt's. */
	if (level == KTLSD_SOL)
		return -ENOPROTOOPT;
	return ktlsd_fallback(sk)->getsockopt(sk, level, optname, optval,
					      optlen);
}

/*
 * The last file reference is gone. A request still pending is cancelled;
 * the base proto is restored now, and the context is freed when the ULP
 * framework releases the socket (ktlsd_ulp_release()).
 */
static void ktlsd_close(struct sock *sk, long timeout)
{
	struct ktlsd_req *req = NULL;
	struct ktlsd_sock *ctx;

	lock_sock(sk);
	ctx = ktlsd_sock_ctx(sk);
	if (ctx && !ctx->ks_closing) {
		ctx->ks_closing = true;
		WRITE_ONCE(sk->sk_prot, ktlsd_base(sk));
		req = ctx->ks_req;
		if (req)
			refcount_inc(&req->kr_ref);
	}
	release_sock(sk);
	if (req) {
		ktlsd_req_complete(req, -ECANCELED, KTLSD_END_CANCEL, NULL);
		ktlsd_req_put(req);
	}
	ktlsd_fallback(sk)->close(sk, timeout);
}

/* Builds our copy of the socket's proto the first time a family is seen. */
static int ktlsd_proto_prepare(struct sock *sk)
{
	struct ktlsd_proto *kp = ktlsd_proto_of(sk);
	struct proto *prot = READ_ONCE(sk->sk_prot);
	/* Pairs with the release below: a set kp_base means kp_prot is built. */
	struct proto *base = smp_load_acquire(&kp->kp_base);
	int err;

	if (base)
		return base == prot ? 0 : -EBUSY;
	mutex_lock(&ktlsd_proto_lock);
	if (!kp->kp_base) {
		kp->kp_prot = *prot;
		kp->kp_prot.setsockopt = ktlsd_setsockopt;
		kp->kp_prot.getsockopt = ktlsd_getsockopt;
		kp->kp_prot.close = ktlsd_close;
		/* Publishes kp_prot to the lockless readers of kp_base. */
		smp_store_release(&kp->kp_base, prot);
	}
	err = kp->kp_base == prot ? 0 : -EBUSY;
	mutex_unlock(&ktlsd_proto_lock);
	return err;
}

/* ---- the ULP ---- */

static int ktlsd_ulp_init(struct sock *sk)
{
	struct ktlsd_sock *ctx;
	int err;

	if ((sk->sk_family != AF_INET && sk->sk_family != AF_INET6) ||
	    sk->sk_type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP)
		return -EOPNOTSUPP;
	if (sk->sk_state != TCP_ESTABLISHED)
		return -ENOTCONN;
	/* Someone else's proto (a sockmap's): we could not restore it. */
	if (READ_ONCE(sk->sk_prot)->close != tcp_close)
		return -EBUSY;
	err = ktlsd_proto_prepare(sk);
	if (err)
		return err;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	rcu_assign_pointer(inet_csk(sk)->icsk_ulp_data, ctx);
	WRITE_ONCE(sk->sk_prot, &ktlsd_proto_of(sk)->kp_prot);
	return 0;
}

/* The socket is being destroyed; the framework drops its module reference next. */
static void ktlsd_ulp_release(struct sock *sk)
{
	struct ktlsd_sock *ctx = ktlsd_sock_ctx(sk);

	if (ktlsd_is_ours(READ_ONCE(sk->sk_prot)))
		WRITE_ONCE(sk->sk_prot, ktlsd_base(sk));
	if (!ctx)
		return;
	rcu_assign_pointer(inet_csk(sk)->icsk_ulp_data, NULL);
	ktlsd_sock_free(ctx);
}

static struct tcp_ulp_ops ktlsd_ulp_ops __read_mostly = {
	.name		= KTLSD_ULP_NAME,
	.owner		= THIS_MODULE,
	.init		= ktlsd_ulp_init,
	.release	= ktlsd_ulp_release,
};

/* ---- network namespaces ---- */

static int __net_init ktlsd_net_init(struct net *net)
{
	struct ktlsd_net *kn = ktlsd_net(net);

	spin_lock_init(&kn->kn_lock);
	INIT_LIST_HEAD(&kn->kn_queued);
	INIT_LIST_HEAD(&kn->kn_accepted);
	kn->kn_timeout_ms = KTLSD_TIMEOUT_DEFAULT_MS;
	kn->kn_max_pending = KTLSD_MAX_PENDING_DEFAULT;
	return 0;
}

static struct ktlsd_req *ktlsd_net_first_pending(struct ktlsd_net *kn)
{
	struct ktlsd_req *req;

	spin_lock(&kn->kn_lock);
	req = list_first_entry_or_null(&kn->kn_accepted, struct ktlsd_req,
				       kr_list);
	if (!req)
		req = list_first_entry_or_null(&kn->kn_queued,
					       struct ktlsd_req, kr_list);
	if (req)
		refcount_inc(&req->kr_ref);
	spin_unlock(&kn->kn_lock);
	return req;
}

/*
 * A request pins its socket, and a user socket pins its namespace, so a
 * namespace normally exits with nothing pending: closing the sockets
 * cancelled their requests. Whatever is left ends with -ENETDOWN.
 */
static void __net_exit ktlsd_net_exit(struct net *net)
{
	struct ktlsd_net *kn = ktlsd_net(net);
	struct ktlsd_req *req;
	unsigned int i;

	while ((req = ktlsd_net_first_pending(kn))) {
		ktlsd_req_complete(req, -ENETDOWN, KTLSD_END_CANCEL, NULL);
		ktlsd_req_put(req);
	}
	for (i = 0; i < KTLSD_RING_SIZE; i++) {
		if (kn->kn_ring[i])
			ktlsd_record_put(kn->kn_ring[i]);
		kn->kn_ring[i] = NULL;
	}
}

static struct pernet_operations ktlsd_net_ops = {
	.init	= ktlsd_net_init,
	.exit	= ktlsd_net_exit,
	.id	= &ktlsd_net_id,
	.size	= sizeof(struct ktlsd_net),
};

static int __init ktlsd_init(void)
{
	int err;

	ktlsd_wq = alloc_workqueue("ktlsd", 0, 0);
	if (!ktlsd_wq)
		return -ENOMEM;
	err = register_pernet_subsys(&ktlsd_net_ops);
	if (err)
		goto out_destroy_wq;
	err = genl_register_family(&ktlsd_genl_family);
	if (err)
		goto out_unregister_pernet;
	err = netlink_register_notifier(&ktlsd_nl_release_notifier);
	if (err)
		goto out_unregister_family;
	err = tcp_register_ulp(&ktlsd_ulp_ops);
	if (err)
		goto out_unregister_notifier;
	return 0;

out_unregister_notifier:
	netlink_unregister_notifier(&ktlsd_nl_release_notifier);
out_unregister_family:
	genl_unregister_family(&ktlsd_genl_family);
out_unregister_pernet:
	unregister_pernet_subsys(&ktlsd_net_ops);
out_destroy_wq:
	destroy_workqueue(ktlsd_wq);
	return err;
}

/*
 * Every socket with the ULP and every request holds a module reference,
 * so nothing is pending here; the workqueue is drained last because a
 * timeout that dropped the last reference may still be returning.
 */
static void __exit ktlsd_exit(void)
{
	tcp_unregister_ulp(&ktlsd_ulp_ops);
	netlink_unregister_notifier(&ktlsd_nl_release_notifier);
	genl_unregister_family(&ktlsd_genl_family);
	unregister_pernet_subsys(&ktlsd_net_ops);
	destroy_workqueue(ktlsd_wq);
}

module_init(ktlsd_init);
module_exit(ktlsd_exit);

MODULE_DESCRIPTION("TLS upgrade of TCP sockets by socket option, handshake in ktlsd");
MODULE_LICENSE("GPL");
MODULE_ALIAS_TCP_ULP(KTLSD_ULP_NAME);
MODULE_ALIAS_GENL_FAMILY(KTLSD_FAMILY_NAME);
