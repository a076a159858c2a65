// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's own handshake service: the "handshake" generic netlink
 * family of net/handshake (Linux 6.5 and later), which in-kernel TLS
 * consumers (NFS, NVMe over TLS) use through tls_client_hello_*() and
 * tls_server_hello_*(). We serve it as tlshd does, so ktlsd can take
 * tlshd's place:
 *
 *	kernel: READY to the "tlshd" group	-> we ACCEPT (handler class tlshd)
 *	kernel: the socket as our descriptor,	-> a job, as for any frontend:
 *		hello type, timeout, auth mode,	   handshake, kTLS on the socket
 *		peer name, key serials
 *						-> DONE: status (an errno), sockfd
 *
 * The requests come from the kernel, not from a user, so no uid policy
 * applies: what the kernel asks for picks the engine config, [handshake]
 * in ktlsd.conf names the certificates (ktlsd_handshake_config()), unless
 * the consumer names its own by key serials: then the certificate chain
 * and the private key are read from those keys (KEYCTL_READ, DER or PEM,
 * as tlshd reads them) into a config made for the one request. PSK is not
 * offered by the engine and is refused with EOPNOTSUPP.
 *
 * As for ktlsd.ko, the channel of genl.c carries the requests: two
 * sockets, one joined to the group, in the epoll set and only drained,
 * and one for ACCEPT and DONE, each answered by the kernel before the
 * system call returns. DONE names the socket by our descriptor, so it is
 * sent before the job closes that (job.c).
 *
 * The family's constants are written out here from its spec
 * (Documentation/netlink/specs/handshake.yaml): the build host's headers
 * may predate it, and the numbers are ABI.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "daemon.h"
#include "genl.h"

#define HS_FAMILY_NAME		"handshake"
#define HS_FAMILY_VERSION	1
#define HS_MCGRP_TLSHD		"tlshd"
#define HS_KEY_MAX		65536	/* a key's payload: a chain or a private key */

enum { HS_HANDLER_CLASS_TLSHD = 1 };

enum {
	HS_MSG_TYPE_CLIENTHELLO = 1,
	HS_MSG_TYPE_SERVERHELLO = 2,
};

enum {
	HS_AUTH_UNAUTH = 1,
	HS_AUTH_PSK = 2,
	HS_AUTH_X509 = 3,
};

enum {
	HS_A_X509_CERT = 1,
	HS_A_X509_PRIVKEY = 2,
	HS_A_X509_MAX = HS_A_X509_PRIVKEY,
};

enum {
	HS_A_ACCEPT_SOCKFD = 1,
	HS_A_ACCEPT_HANDLER_CLASS = 2,
	HS_A_ACCEPT_MESSAGE_TYPE = 3,
	HS_A_ACCEPT_TIMEOUT = 4,
	HS_A_ACCEPT_AUTH_MODE = 5,
	HS_A_ACCEPT_PEER_IDENTITY = 6,
	HS_A_ACCEPT_CERTIFICATE = 7,
	HS_A_ACCEPT_PEERNAME = 8,
	HS_A_ACCEPT_MAX = HS_A_ACCEPT_PEERNAME,
};

enum {
	HS_A_DONE_STATUS = 1,
	HS_A_DONE_SOCKFD = 2,
	HS_A_DONE_REMOTE_AUTH = 3,
};

enum {
	HS_CMD_READY = 1,
	HS_CMD_ACCEPT = 2,
	HS_CMD_DONE = 3,
};

/* What one ACCEPT handed over. */
struct hs_accepted {
	int ha_got;			/* a reply came */
	int ha_sock;			/* -1 until known */
	uint32_t ha_msg_type;		/* HS_MSG_TYPE_* */
	uint32_t ha_auth_mode;		/* HS_AUTH_* */
	uint32_t ha_timeout_ms;		/* 0: none given */
	uint32_t ha_cert;		/* key serials, 0: none */
	uint32_t ha_privkey;
	char ha_peername[KTLSD_PEER_NAME_MAX + 1];
	int ha_peername_too_long;
};

struct ktlsd_handshake {
	struct ktlsd_genl_channel hs_ch;
};

/* ---- which engine config a request runs with ---- */

/*
 * A key's payload, whole (KEYCTL_READ), in a buffer of its own; NULL with
 * the errno in *@err: ENOKEY, EKEYREVOKED, EKEYEXPIRED, EACCES (ktlsd may
 * not read it: neither possessed nor readable by its user), EOPNOTSUPP (a
 * type without a payload to read), EFBIG (over HS_KEY_MAX).
 */
static uint8_t *hs_key_read(uint32_t serial, size_t *len, int *err)
{
	uint8_t *buf;
	long size, n;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		size = syscall(SYS_keyctl, KEYCTL_READ, (long)serial, NULL, 0L);
		if (size < 0) {
			*err = -errno;
			return NULL;
		}
		if (!size || size > HS_KEY_MAX) {
			*err = size ? -EFBIG : -ENODATA;
			return NULL;
		}
		buf = malloc((size_t)size);
		if (!buf) {
			*err = -ENOMEM;
			return NULL;
		}
		n = syscall(SYS_keyctl, KEYCTL_READ, (long)serial, buf, size);
		if (n >= 0 && n <= size) {
			*len = (size_t)n;
			return buf;
		}
		*err = n < 0 ? -errno : -EAGAIN;	/* it grew meanwhile: again */
		explicit_bzero(buf, (size_t)size);
		free(buf);
		if (n < 0)
			return NULL;
	}
	return NULL;
}

/*
 * The consumer's own certificate: a copy of the config [handshake] would
 * have used (its identity's, else [client]'s: policy, trust, checks) with
 * the keys' chain and private key as its only identity.
 */
static int hs_keyring_config(const struct ktlsd_conf *conf, const struct ktlsd_request *rq,
			     struct ktls_config **cfg, char *why, size_t whylen)
{
	enum ktlsd_role role = (enum ktlsd_role)rq->rq_role;
	const struct ktlsd_identity *id = NULL;
	struct ktls_config *base = NULL, *copy;
	uint8_t *chain, *key;
	size_t chain_len, key_len;
	int ret;

	if (rq->rq_identity[0])
		id = ktlsd_conf_find_identity(conf, rq->rq_identity);
	if (id)
		base = role == KTLSD_ROLE_SERVER ? id->id_server_cfg : id->id_client_cfg;
	if (!base)
		base = conf->kc_client_cfg;
	chain = hs_key_read(rq->rq_cert_serial, &chain_len, &ret);
	if (!chain) {
		snprintf(why, whylen, "certificate key %u: %s", rq->rq_cert_serial,
			 strerror(-ret));
		return ret;
	}
	key = hs_key_read(rq->rq_key_serial, &key_len, &ret);
	if (!key) {
		free(chain);
		snprintf(why, whylen, "private key %u: %s", rq->rq_key_serial, strerror(-ret));
		return ret;
	}
	copy = ktls_config_dup(base);
	ret = copy ? ktls_config_add_identity_mem(copy, chain, chain_len, key, key_len) :
		     KTLS_ERROR_NO_MEMORY;
	explicit_bzero(key, key_len);
	free(key);
	free(chain);
	if (ret) {
		snprintf(why, whylen, "keys %u/%u: %s", rq->rq_cert_serial, rq->rq_key_serial,
			 copy ? ktls_config_error(copy) : "out of memory");
		ktls_config_free(copy);
		return ret == KTLS_ERROR_NO_MEMORY ? -ENOMEM : -EKEYREJECTED;
	}
	*cfg = copy;
	snprintf(why, whylen, "kernel request: certificate from keys %u/%u", rq->rq_cert_serial,
		 rq->rq_key_serial);
	return 0;
}

int ktlsd_handshake_config(const struct ktlsd_conf *conf, const struct ktlsd_request *rq,
			   struct ktls_config **cfg, int *owned, char *why, size_t whylen)
{
	const struct ktlsd_identity *id;
	enum ktlsd_role role = (enum ktlsd_role)rq->rq_role;
	int ret;

	*cfg = NULL;
	*owned = 0;
	if (rq->rq_cert_serial) {
		ret = hs_keyring_config(conf, rq, cfg, why, whylen);
		*owned = !ret;
		return ret;
	}
	if (!rq->rq_identity[0]) {
		if (role != KTLSD_ROLE_CLIENT) {
			snprintf(why, whylen, "no [handshake] server_identity for a server hello");
			return -ENOKEY;
		}
		*cfg = conf->kc_client_cfg;
		snprintf(why, whylen, "kernel request: client without a certificate");
		return 0;
	}
	/* conf.c checked the names and roles; a reload may have changed them since */
	id = ktlsd_conf_find_identity(conf, rq->rq_identity);
	if (id)
		*cfg = role == KTLSD_ROLE_SERVER ? id->id_server_cfg : id->id_client_cfg;
	if (!*cfg) {
		snprintf(why, whylen, "no identity %s for the %s role", rq->rq_identity,
			 role == KTLSD_ROLE_SERVER ? "server" : "client");
		return -ENOKEY;
	}
	snprintf(why, whylen, "kernel request: identity %s", id->id_name);
	return 0;
}

/*
 * The request as a job takes it. The certificate comes from the keys the
 * consumer named, else from [handshake]. An x509 client with neither goes
 * without a certificate, as a server that asks for none expects.
 */
static int hs_request(const struct ktlsd_conf *conf, const struct hs_accepted *ha,
		      struct ktlsd_request *rq, const char **why)
{
	const char *identity = "";

	memset(rq, 0, sizeof(*rq));
	switch (ha->ha_msg_type) {
	case HS_MSG_TYPE_CLIENTHELLO:
		rq->rq_role = KTLSD_ROLE_CLIENT;
		if (ha->ha_auth_mode == HS_AUTH_X509)
			identity = conf->kc_hs_client_identity;
		break;
	case HS_MSG_TYPE_SERVERHELLO:
		rq->rq_role = KTLSD_ROLE_SERVER;
		identity = conf->kc_hs_server_identity;
		break;
	default:
		*why = "unknown handshake message type";
		return -EINVAL;
	}
	switch (ha->ha_auth_mode) {
	case HS_AUTH_UNAUTH:
	case HS_AUTH_X509:
		break;
	case HS_AUTH_PSK:
		*why = "PSK authentication is not supported";
		return -EOPNOTSUPP;
	default:
		*why = "unknown authentication mode";
		return -EINVAL;
	}
	if (ha->ha_peername_too_long) {
		*why = "peer name too long";
		return -EMSGSIZE;
	}
	if (ha->ha_auth_mode == HS_AUTH_X509 && (ha->ha_cert || ha->ha_privkey)) {
		if (!ha->ha_cert || !ha->ha_privkey) {
			*why = "a certificate key without a private key, or the reverse";
			return -EINVAL;
		}
		rq->rq_cert_serial = ha->ha_cert;
		rq->rq_key_serial = ha->ha_privkey;
	}
	rq->rq_verify = KTLSD_VERIFY_DEFAULT;
	rq->rq_timeout_ms = ha->ha_timeout_ms;
	snprintf(rq->rq_peer_name, sizeof(rq->rq_peer_name), "%s", ha->ha_peername);
	snprintf(rq->rq_identity, sizeof(rq->rq_identity), "%s", identity);
	return 0;
}

/* ---- one request, one answer ---- */

static void hs_accept_parse(struct nlmsghdr *nlh, void *reply)
{
	struct nlattr *tb[HS_A_ACCEPT_MAX + 1], *x509[HS_A_X509_MAX + 1];
	struct hs_accepted *ha = reply;

	if (ha->ha_got || genlmsg_parse(nlh, 0, tb, HS_A_ACCEPT_MAX, NULL))
		return;
	ha->ha_got = 1;
	if (tb[HS_A_ACCEPT_SOCKFD])
		ha->ha_sock = (int)nla_get_u32(tb[HS_A_ACCEPT_SOCKFD]);
	if (tb[HS_A_ACCEPT_MESSAGE_TYPE])
		ha->ha_msg_type = nla_get_u32(tb[HS_A_ACCEPT_MESSAGE_TYPE]);
	if (tb[HS_A_ACCEPT_AUTH_MODE])
		ha->ha_auth_mode = nla_get_u32(tb[HS_A_ACCEPT_AUTH_MODE]);
	if (tb[HS_A_ACCEPT_TIMEOUT])
		ha->ha_timeout_ms = nla_get_u32(tb[HS_A_ACCEPT_TIMEOUT]);
	if (tb[HS_A_ACCEPT_CERTIFICATE] &&
	    !nla_parse_nested(x509, HS_A_X509_MAX, tb[HS_A_ACCEPT_CERTIFICATE], NULL)) {
		if (x509[HS_A_X509_CERT])
			ha->ha_cert = nla_get_u32(x509[HS_A_X509_CERT]);
		if (x509[HS_A_X509_PRIVKEY])
			ha->ha_privkey = nla_get_u32(x509[HS_A_X509_PRIVKEY]);
	}
	if (tb[HS_A_ACCEPT_PEERNAME] &&
	    nla_strlcpy(ha->ha_peername, tb[HS_A_ACCEPT_PEERNAME], sizeof(ha->ha_peername)) >=
	    sizeof(ha->ha_peername))
		ha->ha_peername_too_long = 1;
}

/*
 * DONE for the socket we hold as @sock. The status is a positive errno on
 * the wire; no remote-auth goes with it, as no peer identity is kept in a
 * keyring for the consumer.
 */
void ktlsd_handshake_done(struct ktlsd_daemon *d, int sock, const struct ktls_upgrade_info *info)
{
	struct ktlsd_handshake *hs = d->d_hs;
	struct nl_msg *msg;
	int ret;

	if (!hs || sock < 0)
		return;
	msg = ktlsd_genl_message(&hs->hs_ch, HS_CMD_DONE);
	if (!msg) {
		ktlsd_log(LOG_ERR, "handshake: DONE: %s", strerror(ENOMEM));
		return;
	}
	if (nla_put_u32(msg, HS_A_DONE_STATUS, (uint32_t)-info->status) ||
	    nla_put_u32(msg, HS_A_DONE_SOCKFD, (uint32_t)sock)) {
		nlmsg_free(msg);
		ktlsd_log(LOG_ERR, "handshake: DONE: %s", strerror(EMSGSIZE));
		return;
	}
	ret = ktlsd_genl_transact(&hs->hs_ch, msg, NULL, NULL);
	/* EBUSY: the consumer cancelled the request (its own timeout) meanwhile */
	if (ret)
		ktlsd_log(ret == -EBUSY ? LOG_INFO : LOG_WARNING, "handshake: DONE: %s%s",
			  strerror(-ret), ret == -EBUSY ? ": the kernel dropped the request" : "");
}

/* A request refused before it became a job (nothing to run it with). */
static void hs_refuse(struct ktlsd_daemon *d, const struct hs_accepted *ha, int status,
		      const char *why)
{
	struct ktls_upgrade_info info = { .status = status };
	int slot = -status;

	ktlsd_handshake_done(d, ha->ha_sock, &info);
	d->d_stats.st_failed++;
	d->d_stats.st_by_errno[slot > 0 && slot < KTLSD_ERRNO_SLOTS ? slot : 0]++;
	ktlsd_log(LOG_NOTICE, "handshake failed via=handshake role=%s errno=%s reason=\"%s\"",
		  ha->ha_msg_type == HS_MSG_TYPE_SERVERHELLO ? "server" : "client",
		  strerrorname_np(-status), why);
}

/* ---- accepting ---- */

/* One ACCEPT: 0 and a job started (or refused), -EAGAIN: none queued. */
static int hs_accept_one(struct ktlsd_daemon *d)
{
	struct ktlsd_handshake *hs = d->d_hs;
	struct hs_accepted ha = { .ha_sock = -1 };
	struct ktlsd_request rq;
	struct nl_msg *msg;
	const char *why;
	int ret;

	msg = ktlsd_genl_message(&hs->hs_ch, HS_CMD_ACCEPT);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, HS_A_ACCEPT_HANDLER_CLASS, HS_HANDLER_CLASS_TLSHD)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = ktlsd_genl_transact(&hs->hs_ch, msg, hs_accept_parse, &ha);
	if (!ret && (!ha.ha_got || ha.ha_sock < 0)) {
		/* a descriptor we cannot name leaks until exit; nothing else can be done */
		ktlsd_log(LOG_ERR, "handshake: ACCEPT's reply lacks the socket");
		ret = -EPROTO;
	}
	if (ret)
		return ret;
	fcntl(ha.ha_sock, F_SETFD, FD_CLOEXEC);
	ret = hs_request(d->d_conf, &ha, &rq, &why);
	if (ret) {
		hs_refuse(d, &ha, ret, why);
		close(ha.ha_sock);
		return 0;
	}
	ktlsd_log(LOG_DEBUG, "handshake: accepted fd %d: %s hello, auth %u, peer \"%.64s\", "
		  "key serials %u/%u, timeout %u ms", ha.ha_sock,
		  rq.rq_role == KTLSD_ROLE_SERVER ? "server" : "client", ha.ha_auth_mode,
		  ha.ha_peername, ha.ha_cert, ha.ha_privkey, ha.ha_timeout_ms);
	ktlsd_job_start_handshake(d, ha.ha_sock, &rq);
	return 0;
}

static const struct ktlsd_genl_family hs_family = {
	.gf_log = "handshake",
	.gf_name = HS_FAMILY_NAME,
	.gf_group = HS_MCGRP_TLSHD,
	.gf_version = HS_FAMILY_VERSION,
	.gf_named = "the family",
	.gf_peer = "the kernel",
	.gf_wait_note = "kernel requests wait",
	.gf_log_resolve = 0,	/* ktlsd_handshake_open() says why it is off */
	.gf_queue_empty = -EAGAIN,
	.gf_accept_one = hs_accept_one,
};

void ktlsd_handshake_resume(struct ktlsd_daemon *d)
{
	if (d->d_hs)
		ktlsd_genl_resume(d, &d->d_hs->hs_ch);
}

/* ---- binding ---- */

void ktlsd_handshake_close(struct ktlsd_daemon *d)
{
	struct ktlsd_handshake *hs = d->d_hs;

	if (!hs)
		return;
	ktlsd_genl_close(d, &hs->hs_ch);
	free(hs);
	d->d_hs = NULL;
}

/* 0, -ENOENT when the kernel has no such family, another negative errno on failure. */
static int hs_bind(struct ktlsd_daemon *d)
{
	struct ktlsd_handshake *hs;
	int ret;

	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	d->d_hs = hs;
	ret = ktlsd_genl_bind(d, &hs->hs_ch, &hs_family);
	if (ret)
		ktlsd_handshake_close(d);
	return ret;
}

void ktlsd_handshake_open(struct ktlsd_daemon *d)
{
	const struct ktlsd_conf *conf = d->d_conf;
	int ret;

	if (d->d_hs)
		return;
	if (!conf->kc_hs_serve) {
		ktlsd_log(LOG_INFO, "handshake: off ([handshake] serve = no)");
		return;
	}
	ret = hs_bind(d);
	if (ret == -ENOENT) {
		ktlsd_log(LOG_INFO, "handshake: no \"%s\" family in this kernel (net/handshake, "
			  "6.5 and later): in-kernel TLS consumers are not served", HS_FAMILY_NAME);
		return;
	}
	if (ret) {
		ktlsd_log(LOG_WARNING, "handshake: not serving in-kernel TLS consumers: %s",
			  strerror(-ret));
		return;
	}
	ktlsd_log(LOG_INFO, "handshake: serving in-kernel TLS consumers (family \"%s\" id %d, "
		  "server identity \"%s\", client identity \"%s\")", HS_FAMILY_NAME,
		  d->d_hs->hs_ch.gc_family, conf->kc_hs_server_identity, conf->kc_hs_client_identity);
	/* Requests queued before we joined have no READY to come. */
	ktlsd_genl_accept_pass(d, &d->d_hs->hs_ch);
}
