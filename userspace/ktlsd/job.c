// SPDX-License-Identifier: GPL-2.0-only
/*
 * The life of one request: read it, check it, run the handshake on the
 * socket it carried, install kTLS, answer, forget. Every step is driven by
 * an epoll event or a deadline; nothing here blocks.
 *
 *	READ_REQUEST --(valid, allowed)--> HANDSHAKE --(done or failed)--> WRITE_RESULT
 *	      \------------(refused: errno)------------------------------/
 *
 * That is the unix frontend's request. Its connection then goes back to
 * READ_REQUEST for the requester's next one (job_rearm()): one request at
 * a time, all with the credentials read at accept, which the kernel fixed
 * at connect. The library never carries a connection across a fork or a
 * change of credentials, and the kernel's credentials are what policy
 * trusts in any case. A connection waiting for a request, its first or a
 * later one, is closed after handshake_timeout without a word; the RESULT
 * says how long it waits (KTLSD_A_KEEP_MS), so the library can stop using
 * it well before. A request that races that close is never taken: its
 * sender sees EPIPE, or ECONNRESET (the kernel's "closed with data
 * unread"), and may retry elsewhere.
 *
 * The module's (netlink.c) arrives
 * decoded with its socket and starts at the checks; its answer is a DONE
 * sent at once, so it never waits in WRITE_RESULT. Everything between,
 * policy, caps, timeout, handshake, log line and counters, is shared:
 * only job_answer_info() asks which frontend a job came through.
 *
 * The socket is the requester's: we hold a duplicate of it, so closing ours
 * does not drop it from epoll (epoll keys on the open file, which the
 * requester keeps open). Every exit therefore deletes it from the epoll set
 * before closing. A handshake that failed after the peer heard from us is
 * shut down, so the requester can never use a half-upgraded socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"

/* ---- caps: in flight in all, and per uid ---- */

static struct ktlsd_uid_count *job_uid_count(struct ktlsd_daemon *d, uid_t uid, int create)
{
	struct ktlsd_uid_count *uc;

	for (uc = d->d_uid_counts; uc; uc = uc->uc_next)
		if (uc->uc_uid == uid)
			return uc;
	if (!create)
		return NULL;
	uc = calloc(1, sizeof(*uc));
	if (!uc)
		return NULL;
	uc->uc_uid = uid;
	uc->uc_next = d->d_uid_counts;
	d->d_uid_counts = uc;
	return uc;
}

static int job_count(struct ktlsd_daemon *d, struct ktlsd_job *j)
{
	const struct ktlsd_conf *conf = d->d_conf;
	struct ktlsd_uid_count *uc;

	if (d->d_in_flight >= conf->kc_max_handshakes)
		return -EAGAIN;
	uc = job_uid_count(d, j->j_who.rq_uid, 1);
	if (!uc)
		return -ENOMEM;
	if (uc->uc_count >= conf->kc_max_per_uid)
		return -EAGAIN;
	uc->uc_count++;
	d->d_in_flight++;
	j->j_counted = 1;
	return 0;
}

static void job_uncount(struct ktlsd_daemon *d, struct ktlsd_job *j)
{
	struct ktlsd_uid_count *uc, **pp;

	if (!j->j_counted)
		return;
	j->j_counted = 0;
	d->d_in_flight--;
	for (pp = &d->d_uid_counts; (uc = *pp); pp = &uc->uc_next) {
		if (uc->uc_uid != j->j_who.rq_uid)
			continue;
		if (!--uc->uc_count) {
			*pp = uc->uc_next;
			free(uc);
		}
		return;
	}
}

/* ---- teardown ---- */

static void job_forget_socket(struct ktlsd_daemon *d, struct ktlsd_job *j)
{
	if (j->j_sock < 0)
		return;
	if (j->j_sock_events)
		epoll_ctl(d->d_epoll, EPOLL_CTL_DEL, j->j_sock, NULL);
	ktlsd_watch_forget(d, &j->j_sock_watch);
	j->j_sock_events = 0;
	close(j->j_sock);
	j->j_sock = -1;
}

/* A job gave back a descriptor and its slot: frontends a cap paused go on. */
static void job_released(struct ktlsd_daemon *d)
{
	ktlsd_frontend_resume(d);
	ktlsd_netlink_resume(d);
	ktlsd_handshake_resume(d);
}

static void job_free(struct ktlsd_daemon *d, struct ktlsd_job *j)
{
	ktlsd_timer_del(&d->d_timers, &j->j_timer);
	if (j->j_state == KTLSD_JOB_HANDSHAKE)
		ktls_drive_dispose(&j->j_drive);
	job_forget_socket(d, j);
	if (j->j_client >= 0) {
		epoll_ctl(d->d_epoll, EPOLL_CTL_DEL, j->j_client, NULL);
		close(j->j_client);
	}
	ktlsd_watch_forget(d, &j->j_client_watch);
	job_uncount(d, j);
	ktls_conn_free(j->j_conn);
	if (j->j_conf)
		ktlsd_conf_put(j->j_conf);
	free(j->j_msg);
	if (j->j_prev)
		j->j_prev->j_next = j->j_next;
	else
		d->d_jobs = j->j_next;
	if (j->j_next)
		j->j_next->j_prev = j->j_prev;
	free(j);
	/* Last: it may start jobs, and this one is gone from the list now. */
	job_released(d);
}

static int job_watch_client(struct ktlsd_daemon *d, struct ktlsd_job *j, uint32_t events)
{
	int ret;

	if (events == j->j_client_events)
		return 0;
	ret = ktlsd_watch_fd(d, j->j_client, events, &j->j_client_watch,
			     j->j_client_events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD);
	if (!ret)
		j->j_client_events = events;
	return ret;
}

/*
 * Answered, and the RESULT offered the connection for another request:
 * back to waiting for it, with nothing of the last one kept (its socket
 * and slot went at the answer). Its deadline is the one the RESULT named.
 */
static void job_rearm(struct ktlsd_daemon *d, struct ktlsd_job *j)
{
	ktls_conn_free(j->j_conn);
	j->j_conn = NULL;
	if (j->j_conf)
		ktlsd_conf_put(j->j_conf);
	j->j_conf = NULL;
	free(j->j_msg);
	j->j_msg = NULL;
	j->j_msg_len = 0;
	j->j_msg_off = 0;
	j->j_state = KTLSD_JOB_READ_REQUEST;
	j->j_keep = 0;
	j->j_role = 0;
	j->j_peer_name[0] = 0;
	j->j_identity[0] = 0;
	j->j_started_us = 0;
	ktlsd_timer_del(&d->d_timers, &j->j_timer);
	j->j_timer.t_deadline = ktlsd_now_ms() + j->j_keep_ms;
	j->j_keep_ms = 0;
	if (ktlsd_timer_add(&d->d_timers, &j->j_timer) ||
	    job_watch_client(d, j, EPOLLIN | EPOLLRDHUP)) {
		job_free(d, j);
		return;
	}
	job_released(d);
}

/* ---- the log line ---- */

/*
 * Peer-chosen text (SNI, certificate subjects) must not forge log lines
 * or fields: it goes inside quotes, so only the quote, the backslash and
 * what is not printable ASCII are escaped.
 */
static void job_escape(char *out, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t used = 0;
	unsigned char c;

	/* By hand, not a snprintf() per byte: this runs for every field of every line. */
	for (; s && *s && used + 5 < size; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			out[used++] = (char)c;
			continue;
		}
		out[used++] = '\\';
		out[used++] = 'x';
		out[used++] = hex[c >> 4];
		out[used++] = hex[c & 15];
	}
	out[used] = 0;
}

static void job_peer_address(const struct ktlsd_job *j, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	snprintf(out, size, "-");
	if (j->j_sock < 0 || getpeername(j->j_sock, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(out, size, "%s:%u", host, port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(out, size, "[%s]:%u", host, port);
	}
}

static void job_count_errno(struct ktlsd_daemon *d, int status)
{
	int slot = -status;

	d->d_stats.st_by_errno[slot > 0 && slot < KTLSD_ERRNO_SLOTS ? slot : 0]++;
}

/* The outcome's line, and its errno counted: every answer goes through here. */
static void job_log(struct ktlsd_daemon *d, const struct ktlsd_job *j,
		    const struct ktls_upgrade_info *info)
{
	char peer[INET6_ADDRSTRLEN + 10], name[4 * KTLSD_PEER_NAME_MAX + 1];
	char why[4 * sizeof(info->detail)], subject[4 * sizeof(info->peer_subject)];
	char identity[4 * KTLSD_IDENTITY_MAX + 1], alpn[4 * sizeof(info->alpn)];
	const char *errname = info->status ? strerrorname_np(-info->status) : NULL;
	double ms = j->j_started_us ? (double)(ktlsd_now_us() - j->j_started_us) / 1000 : 0;

	job_peer_address(j, peer, sizeof(peer));
	job_escape(name, sizeof(name), info->server_name[0] ? info->server_name : j->j_peer_name);
	job_escape(why, sizeof(why), info->detail);
	job_escape(subject, sizeof(subject), info->peer_subject);
	job_escape(identity, sizeof(identity), j->j_identity);
	job_escape(alpn, sizeof(alpn), info->alpn);
	if (info->status)
		job_count_errno(d, info->status);
	ktlsd_log(info->status ? LOG_NOTICE : LOG_INFO,
		  "handshake %s uid=%u pid=%d%s role=%s peer=%s name=\"%s\" identity=\"%s\" "
		  "version=%s cipher=%s alpn=\"%s\" peer_subject=\"%s\" ms=%.1f%s%s%s%s%s",
		  info->status ? "failed" : "ok", (unsigned int)j->j_who.rq_uid,
		  (int)j->j_who.rq_pid, j->j_frontend == KTLSD_FRONTEND_NETLINK ? " via=netlink" :
		  j->j_frontend == KTLSD_FRONTEND_HANDSHAKE ? " via=handshake" : "",
		  j->j_role == KTLSD_ROLE_SERVER ? "server" : "client",
		  peer, name, identity,
		  info->version == KTLS_VERSION_TLS13 ? "TLSv1.3" :
		  info->version == KTLS_VERSION_TLS12 ? "TLSv1.2" : "-",
		  info->cipher[0] ? info->cipher : "-", alpn,
		  subject, ms, errname ? " errno=" : "", errname ? errname : "",
		  why[0] ? " reason=\"" : "", why, why[0] ? "\"" : "");
}

/* ---- the answer ---- */

static void job_write_result(struct ktlsd_daemon *d, struct ktlsd_job *j)
{
	ssize_t n;

	while (j->j_msg_off < j->j_msg_len) {
		n = send(j->j_client, j->j_msg + j->j_msg_off, j->j_msg_len - j->j_msg_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		/* Stopping, there is no later: one try only. */
		if (n < 0 && errno == EAGAIN && !d->d_stop &&
		    !job_watch_client(d, j, EPOLLOUT))
			return;
		if (n < 0) {
			job_free(d, j);		/* the requester left; nothing more to tell */
			return;
		}
		j->j_msg_off += (size_t)n;
	}
	if (j->j_keep_ms && !d->d_stop)
		job_rearm(d, j);
	else
		job_free(d, j);
}

static void job_send(struct ktlsd_daemon *d, struct ktlsd_job *j, struct ktlsd_msg_builder *b)
{
	int len = ktlsd_msg_finish(b);
	uint8_t *msg;

	job_forget_socket(d, j);
	job_uncount(d, j);
	msg = len > 0 ? realloc(j->j_msg, (size_t)len) : NULL;
	if (!msg) {
		job_free(d, j);
		return;
	}
	memcpy(msg, b->mb_buf, (size_t)len);
	j->j_msg = msg;
	j->j_msg_len = (size_t)len;
	j->j_msg_off = 0;
	j->j_state = KTLSD_JOB_WRITE_RESULT;
	job_write_result(d, j);
}

/*
 * The module's request: DONE, then the socket is the requester's alone.
 * A request the module dropped meanwhile (it timed out there, or the
 * requester was interrupted or closed the socket) has nobody to tell.
 */
static void job_answer_netlink(struct ktlsd_daemon *d, struct ktlsd_job *j,
			       const struct ktls_upgrade_info *info)
{
	int ret;

	job_forget_socket(d, j);
	job_uncount(d, j);
	ret = ktlsd_netlink_done(d, j->j_request_id, info);
	if (ret == -ENOENT)
		ktlsd_log(LOG_INFO, "request %llu uid=%u pid=%d: gone from the module before DONE",
			  (unsigned long long)j->j_request_id, (unsigned int)j->j_who.rq_uid,
			  (int)j->j_who.rq_pid);
	else if (ret)
		ktlsd_log(LOG_WARNING, "request %llu: DONE: %s", (unsigned long long)j->j_request_id,
			  strerror(-ret));
	job_free(d, j);
}

/* Every answer to an upgrade, by the frontend the request came through. */
static void job_answer_info(struct ktlsd_daemon *d, struct ktlsd_job *j,
			    const struct ktls_upgrade_info *info)
{
	struct ktlsd_msg_builder b;

	switch (j->j_frontend) {
	case KTLSD_FRONTEND_NETLINK:
		job_answer_netlink(d, j, info);
		return;
	case KTLSD_FRONTEND_HANDSHAKE:
		/* DONE names the socket by our descriptor: sent before it closes */
		ktlsd_handshake_done(d, j->j_sock, info);
		job_free(d, j);
		return;
	case KTLSD_FRONTEND_UNIX:
	default:
		ktlsd_msg_init(&b, KTLSD_MSG_RESULT);
		ktlsd_result_encode(&b, info);
		/* Stopping, or after a request that broke the protocol: close. */
		j->j_keep_ms = j->j_keep && !d->d_stop ? d->d_conf->kc_timeout_ms : 0;
		if (j->j_keep_ms)
			ktlsd_msg_put_u32(&b, KTLSD_A_KEEP_MS, j->j_keep_ms);
		job_send(d, j, &b);
		return;
	}
}

/* A refusal before any handshake: the socket is untouched. */
static void job_refuse(struct ktlsd_daemon *d, struct ktlsd_job *j, int status, const char *why)
{
	struct ktls_upgrade_info info = { .status = status };

	snprintf(info.detail, sizeof(info.detail), "%s", why);
	job_log(d, j, &info);
	job_answer_info(d, j, &info);
}

/* The non-zero errno counters, most frequent first, as many as fit. */
static void job_put_errno_counts(struct ktlsd_msg_builder *b, const struct ktlsd_stats *st)
{
	struct ktlsd_errno_count out[KTLSD_ERRNO_COUNTS_MAX], tmp;
	size_t n = 0, i, k;

	for (i = 0; i < KTLSD_ERRNO_SLOTS; i++) {
		if (!st->st_by_errno[i])
			continue;
		tmp = (struct ktlsd_errno_count){ .kec_errno = (uint32_t)i,
						  .kec_count = st->st_by_errno[i] };
		/* insertion into a short sorted array; a full one drops the rarest */
		for (k = n; k > 0 && out[k - 1].kec_count < tmp.kec_count; k--)
			if (k < KTLSD_ERRNO_COUNTS_MAX)
				out[k] = out[k - 1];
		if (k < KTLSD_ERRNO_COUNTS_MAX)
			out[k] = tmp;
		if (n < KTLSD_ERRNO_COUNTS_MAX)
			n++;
	}
	if (n)
		ktlsd_msg_put(b, KTLSD_A_STATS_BY_ERRNO, out, n * sizeof(out[0]));
}

static void job_answer_stats(struct ktlsd_daemon *d, struct ktlsd_job *j)
{
	const struct ktlsd_stats *st = &d->d_stats;
	struct ktlsd_msg_builder b;

	ktlsd_msg_init(&b, KTLSD_MSG_STATS);
	ktlsd_msg_put_u64(&b, KTLSD_A_STATS_OK, st->st_ok);
	ktlsd_msg_put_u64(&b, KTLSD_A_STATS_FAILED, st->st_failed);
	ktlsd_msg_put_u64(&b, KTLSD_A_STATS_TIMED_OUT, st->st_timed_out);
	ktlsd_msg_put_u64(&b, KTLSD_A_STATS_DENIED, st->st_denied);
	ktlsd_msg_put_u64(&b, KTLSD_A_STATS_REFUSED, st->st_refused);
	ktlsd_msg_put_u64(&b, KTLSD_A_STATS_IN_FLIGHT, d->d_in_flight);
	ktlsd_msg_put_u64(&b, KTLSD_A_STATS_DURATION_US, st->st_duration_us);
	ktlsd_msg_put_u64(&b, KTLSD_A_STATS_RELOADS, st->st_reloads);
	ktlsd_msg_put_u64(&b, KTLSD_A_STATS_DURATION_MAX_US, st->st_duration_max_us);
	job_put_errno_counts(&b, st);
	job_send(d, j, &b);
}

/* ---- the handshake ---- */

/*
 * The end of a handshake, whatever ended it: the engine (@status from the
 * driver, 0 to install kTLS now), the deadline, or a stop (@why says so).
 */
static void job_finish(struct ktlsd_daemon *d, struct ktlsd_job *j, int status, const char *why)
{
	struct ktls_upgrade_info info = { 0 };
	struct ktls_install_opts iopts = { .ulp_attached = 1 };
	struct ktls_install_status st;

	if (why)
		snprintf(info.detail, sizeof(info.detail), "%s", why);
	ktls_drive_dispose(&j->j_drive);
	j->j_state = KTLSD_JOB_WRITE_RESULT;
	if (!status) {
		status = ktls_install(j->j_conn, j->j_sock, NULL, 0, NULL, &iopts, &st);
		if (status)
			snprintf(info.detail, sizeof(info.detail), "%s", st.detail);
	}
	if (status) {
		shutdown(j->j_sock, SHUT_RDWR);
		if (status == -ETIMEDOUT)
			d->d_stats.st_timed_out++;
		else
			d->d_stats.st_failed++;
	} else {
		uint64_t us = (uint64_t)(ktlsd_now_us() - j->j_started_us);

		d->d_stats.st_ok++;
		d->d_stats.st_duration_us += us;
		if (us > d->d_stats.st_duration_max_us)
			d->d_stats.st_duration_max_us = us;
	}
	ktls_upgrade_info_fill(&info, j->j_conn, status);
	job_log(d, j, &info);
	job_answer_info(d, j, &info);
}

static void job_step(struct ktlsd_daemon *d, struct ktlsd_job *j)
{
	short want = 0;
	uint32_t events;
	int ret;

	ret = ktls_drive_step(&j->j_drive, &want);
	if (ret != -EINPROGRESS) {
		job_finish(d, j, ret, NULL);
		return;
	}
	events = (want & POLLOUT ? EPOLLOUT : EPOLLIN) | EPOLLRDHUP;
	if (events == j->j_sock_events)
		return;
	ret = ktlsd_watch_fd(d, j->j_sock, events, &j->j_sock_watch,
			     j->j_sock_events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD);
	if (ret) {
		job_finish(d, j, ret, NULL);
		return;
	}
	j->j_sock_events = events;
}

static void job_sock_event(struct ktlsd_daemon *d, struct ktlsd_watch *w, uint32_t events)
{
	struct ktlsd_job *j = ktlsd_container_of(w, struct ktlsd_job, j_sock_watch);

	if (j->j_state == KTLSD_JOB_HANDSHAKE)
		job_step(d, j);
}

/*
 * The engine config for a request either frontend decoded (@ret: how that
 * went), its connection, and the first step. The module's timeout is
 * what remains of the requester's, so it is capped the same way.
 */
static void job_begin_request(struct ktlsd_daemon *d, struct ktlsd_job *j,
			      const struct ktlsd_request *rq, int ret)
{
	struct ktls_config *cfg;
	unsigned int timeout;
	const char *reason;
	int cfg_owned = 0;
	char why[256];

	if (ret) {
		j->j_keep = 0;
		job_refuse(d, j, ret == -EMSGSIZE ? -EMSGSIZE : -EINVAL,
			   ret == -EMSGSIZE ? "a field of the request is too long" :
					      "malformed request");
		return;
	}
	j->j_role = (uint16_t)rq->rq_role;
	snprintf(j->j_peer_name, sizeof(j->j_peer_name), "%s", rq->rq_peer_name);
	snprintf(j->j_identity, sizeof(j->j_identity), "%s", rq->rq_identity);
	if (j->j_sock < 0) {
		job_refuse(d, j, -EBADF, "no socket came with the request");
		return;
	}
	if (job_count(d, j)) {
		d->d_stats.st_refused++;
		job_refuse(d, j, -EAGAIN, "too many handshakes in flight; try again");
		return;
	}
	if (j->j_frontend == KTLSD_FRONTEND_HANDSHAKE)	/* the kernel asks: no uid policy */
		ret = ktlsd_handshake_config(d->d_conf, rq, &cfg, &cfg_owned, why, sizeof(why));
	else
		ret = ktlsd_policy_check(d->d_conf, &j->j_who, (enum ktlsd_role)rq->rq_role,
					 rq->rq_identity, &cfg, why, sizeof(why));
	/*
	 * Groups can only allow (every rule is a list of who may): they are
	 * fetched and asked about only when the answer without them is no.
	 */
	if (ret == -EACCES && j->j_frontend == KTLSD_FRONTEND_UNIX && !j->j_groups_read) {
		ktlsd_frontend_groups(j->j_client, &j->j_who);
		j->j_groups_read = 1;
		ret = ktlsd_policy_check(d->d_conf, &j->j_who, (enum ktlsd_role)rq->rq_role,
					 rq->rq_identity, &cfg, why, sizeof(why));
	}
	if (ret) {
		d->d_stats.st_denied++;
		job_refuse(d, j, ret, why);
		return;
	}
	if (rq->rq_cert_serial)
		snprintf(j->j_identity, sizeof(j->j_identity), "keys:%u/%u", rq->rq_cert_serial,
			 rq->rq_key_serial);
	ret = ktls_upgrade_conn_new(cfg, rq->rq_role == KTLSD_ROLE_SERVER ? KTLS_ROLE_SERVER :
				    KTLS_ROLE_CLIENT, rq->rq_peer_name, rq->rq_alpn,
				    rq->rq_verify, &j->j_conn, &reason);
	if (cfg_owned)
		ktls_config_put(cfg);	/* the connection holds its own reference */
	if (ret) {
		job_refuse(d, j, ret, reason);
		return;
	}
	/* Last of the checks, as it attaches the ULP: a refusal leaves the socket as it came. */
	ret = ktls_socket_check(j->j_sock);
	if (ret) {
		job_refuse(d, j, ret, ktls_socket_check_reason(ret));
		return;
	}
	j->j_conf = ktlsd_conf_get(d->d_conf);
	timeout = rq->rq_timeout_ms ? rq->rq_timeout_ms : d->d_conf->kc_timeout_ms;
	if (timeout > d->d_conf->kc_max_timeout_ms)
		timeout = d->d_conf->kc_max_timeout_ms;
	ktlsd_timer_del(&d->d_timers, &j->j_timer);
	j->j_timer.t_deadline = ktlsd_now_ms() + timeout;
	ktlsd_timer_add(&d->d_timers, &j->j_timer);
	/*
	 * From here the requester's connection only matters if it goes away.
	 * It stays watched for EPOLLIN too, which costs two epoll_ctl less per
	 * handshake: a requester must not send before its answer, so anything
	 * readable now is its end of stream or a broken rule, and either ends
	 * the handshake.
	 */
	j->j_state = KTLSD_JOB_HANDSHAKE;
	j->j_started_us = ktlsd_now_us();
	j->j_sock_watch.w_handle = job_sock_event;
	ktls_drive_init(&j->j_drive, j->j_conn, j->j_sock);
	job_step(d, j);
}

/* The unix frontend's request, once whole. */
static void job_begin(struct ktlsd_daemon *d, struct ktlsd_job *j, const struct ktlsd_attrs *attrs)
{
	struct ktlsd_request rq;
	int ret;

	ret = ktlsd_request_decode(attrs, &rq);
	/* Decoded into @rq: a parked handshake keeps no request buffer. */
	free(j->j_msg);
	j->j_msg = NULL;
	j->j_msg_len = 0;
	job_begin_request(d, j, &rq, ret);
}

/* ---- the request ---- */

/* Keeps the first descriptor that came; any other is closed at once. */
static int job_take_fds(struct ktlsd_job *j, struct msghdr *msg)
{
	struct cmsghdr *cmsg;
	int fd, extra = 0;
	size_t i, count;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < count; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
			if (j->j_sock < 0) {
				j->j_sock = fd;
				continue;
			}
			close(fd);
			extra = 1;
		}
	}
	return extra || (msg->msg_flags & MSG_CTRUNC) ? -EINVAL : 0;
}

/*
 * A requester sends one message and waits: read whatever has come, up to
 * the largest message, in one call (under emulation a syscall is dear).
 * Bytes past it break the one-at-a-time rule: answered, then closed.
 */
static void job_read_request(struct ktlsd_daemon *d, struct ktlsd_job *j)
{
	char control[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ktlsd_attrs attrs;
	uint16_t type;
	ssize_t n;
	int len;

	if (!j->j_msg && !(j->j_msg = malloc(KTLSD_MSG_MAX))) {
		job_free(d, j);
		return;
	}
	iov.iov_base = j->j_msg + j->j_msg_len;
	iov.iov_len = KTLSD_MSG_MAX - j->j_msg_len;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	n = recvmsg(j->j_client, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		job_free(d, j);		/* the requester left before asking */
		return;
	}
	if (job_take_fds(j, &msg)) {
		job_refuse(d, j, -EINVAL, "more than one descriptor with the request");
		return;
	}
	j->j_msg_len += (size_t)n;
	if (j->j_msg_len < sizeof(struct ktlsd_msg))
		return;
	len = ktlsd_msg_length(j->j_msg, j->j_msg_len);
	if (len < 0) {
		job_refuse(d, j, len, "malformed request header");
		return;
	}
	if (j->j_msg_len < (size_t)len)
		return;		/* the rest is coming */
	/* Bytes past the one message are not ours to read: ignored. */
	if (ktlsd_msg_parse(j->j_msg, (size_t)len, &type, &attrs)) {
		job_refuse(d, j, -EBADMSG, "malformed request");
		return;
	}
	j->j_keep = type == KTLSD_MSG_UPGRADE && j->j_msg_len == (size_t)len;
	switch (type) {
	case KTLSD_MSG_UPGRADE:
		job_begin(d, j, &attrs);
		return;
	case KTLSD_MSG_STATS_GET:
		job_answer_stats(d, j);
		return;
	default:
		job_refuse(d, j, -EOPNOTSUPP, "unknown request type");
		return;
	}
}

static void job_client_event(struct ktlsd_daemon *d, struct ktlsd_watch *w, uint32_t events)
{
	struct ktlsd_job *j = ktlsd_container_of(w, struct ktlsd_job, j_client_watch);

	switch (j->j_state) {
	case KTLSD_JOB_READ_REQUEST:
		job_read_request(d, j);
		return;
	case KTLSD_JOB_HANDSHAKE:
		/* The requester gave up or died: nobody will use the socket. */
		ktlsd_log(LOG_NOTICE, "handshake abandoned uid=%u pid=%d: %s",
			  (unsigned int)j->j_who.rq_uid, (int)j->j_who.rq_pid,
			  events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR) ? "the requester went away" :
			  "the requester sent more before its answer");
		d->d_stats.st_failed++;
		job_count_errno(d, -ECANCELED);
		shutdown(j->j_sock, SHUT_RDWR);
		job_free(d, j);
		return;
	case KTLSD_JOB_WRITE_RESULT:
		if (events & (EPOLLHUP | EPOLLERR))
			job_free(d, j);
		else
			job_write_result(d, j);
		return;
	default:
		job_free(d, j);
		return;
	}
}

static void job_expire(struct ktlsd_daemon *d, struct ktlsd_timer *t)
{
	struct ktlsd_job *j = ktlsd_container_of(t, struct ktlsd_job, j_timer);

	switch (j->j_state) {
	case KTLSD_JOB_HANDSHAKE:
		job_finish(d, j, -ETIMEDOUT, "handshake timed out");
		return;
	case KTLSD_JOB_READ_REQUEST:	/* connected and said nothing (more) */
	case KTLSD_JOB_WRITE_RESULT:	/* does not read its answer */
	default:
		job_free(d, j);
		return;
	}
}

static struct ktlsd_job *job_new(struct ktlsd_daemon *d, enum ktlsd_frontend frontend,
				 const struct ktlsd_requester *who)
{
	struct ktlsd_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->j_frontend = frontend;
	j->j_client = -1;
	j->j_sock = -1;
	j->j_who = *who;
	j->j_next = d->d_jobs;
	if (d->d_jobs)
		d->d_jobs->j_prev = j;
	d->d_jobs = j;
	j->j_timer.t_expire = job_expire;
	return j;
}

void ktlsd_job_start(struct ktlsd_daemon *d, int client, const struct ktlsd_requester *who)
{
	struct ktlsd_job *j = job_new(d, KTLSD_FRONTEND_UNIX, who);

	if (!j) {
		close(client);
		return;
	}
	j->j_client = client;
	j->j_client_watch.w_handle = job_client_event;
	j->j_timer.t_deadline = ktlsd_now_ms() + d->d_conf->kc_timeout_ms;
	if (ktlsd_timer_add(&d->d_timers, &j->j_timer) ||
	    job_watch_client(d, j, EPOLLIN | EPOLLRDHUP)) {
		job_free(d, j);
		return;
	}
	/* The request is usually there already. */
	job_read_request(d, j);
}

void ktlsd_job_start_netlink(struct ktlsd_daemon *d, int sock, uint64_t request_id,
			     const struct ktlsd_requester *who, const struct ktlsd_request *rq,
			     int invalid)
{
	struct ktlsd_job *j = job_new(d, KTLSD_FRONTEND_NETLINK, who);
	struct ktls_upgrade_info info = { .status = -ENOMEM };

	if (!j) {
		/* Cannot even be tracked: the module hears the failure at once. */
		ktlsd_netlink_done(d, request_id, &info);
		close(sock);
		return;
	}
	j->j_sock = sock;
	j->j_request_id = request_id;
	job_begin_request(d, j, rq, invalid);
}

void ktlsd_job_start_handshake(struct ktlsd_daemon *d, int sock, const struct ktlsd_request *rq)
{
	static const struct ktlsd_requester kernel;	/* uid 0, pid 0 */
	struct ktlsd_job *j = job_new(d, KTLSD_FRONTEND_HANDSHAKE, &kernel);
	struct ktls_upgrade_info info = { .status = -ENOMEM };

	if (!j) {
		ktlsd_handshake_done(d, sock, &info);
		close(sock);
		return;
	}
	j->j_sock = sock;
	job_begin_request(d, j, rq, 0);
}

/* Stopping: every requester learns it, no socket is left mid-handshake. */
void ktlsd_job_abort_all(struct ktlsd_daemon *d, const char *why)
{
	/* Each answer gets one try and its job is freed, even if it would block. */
	d->d_stop = 1;
	while (d->d_jobs) {
		struct ktlsd_job *j = d->d_jobs;

		if (j->j_state == KTLSD_JOB_HANDSHAKE)
			job_finish(d, j, -ECONNABORTED, why);
		else
			job_free(d, j);
	}
}
