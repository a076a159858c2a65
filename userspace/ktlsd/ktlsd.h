/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ktlsd internals, grouped by the file that implements them.
 */
#ifndef KTLSD_H
#define KTLSD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/ktlsd.h>
#include "ktls.h"

#define KTLSD_DEFAULT_CONF		"/etc/ktlsd/ktlsd.conf"
#define KTLSD_MAX_CERTS_PER_IDENTITY	4	/* KTLS_MAX_IDENTITIES in the engine */

/* Who may use something: users and groups; an empty list with any_user 0 is nobody. */
struct ktlsd_acl {
	int ac_any_user;	/* "*" */
	uid_t *ac_uids;
	size_t ac_uid_count;
	gid_t *ac_gids;
	size_t ac_gid_count;
};

/*
 * A named certificate chain and key (or several, picked per connection by
 * the client's SNI and signature algorithms), with who may use it for what.
 */
struct ktlsd_identity {
	char id_name[KTLSD_IDENTITY_MAX + 1];
	unsigned int id_roles;			/* 1 << KTLSD_ROLE_* */
	struct ktlsd_acl id_acl;
	/* the engine configs this identity runs with, one per role it has */
	struct ktls_config *id_server_cfg;	/* NULL unless server role allowed */
	struct ktls_config *id_client_cfg;	/* NULL unless client role allowed */
};

/* [daemon] netlink: whether to serve ktlsd.ko's generic netlink family. */
enum ktlsd_netlink_mode {
	KTLSD_NETLINK_AUTO,	/* when the module is there */
	KTLSD_NETLINK_YES,	/* the daemon does not start without it */
	KTLSD_NETLINK_NO,
};

/*
 * One parsed configuration file. In-flight handshakes hold a reference to
 * the generation they started with, so a reload never pulls a config out
 * from under them.
 */
struct ktlsd_conf {
	int kc_refs;
	/* [daemon] */
	char kc_socket_path[108];	/* sun_path */
	mode_t kc_socket_mode;
	unsigned int kc_timeout_ms;	/* a request that names none */
	unsigned int kc_max_timeout_ms;	/* a request's own is capped here */
	unsigned int kc_max_handshakes;	/* in flight, all requesters */
	unsigned int kc_max_per_uid;	/* in flight, one uid */
	int kc_log_level;		/* LOG_ERR .. LOG_DEBUG */
	int kc_netlink;			/* enum ktlsd_netlink_mode */
	/* [client]: the client role without an identity */
	struct ktlsd_acl kc_client_acl;
	struct ktls_config *kc_client_cfg;	/* trust and [tls] policy, no certificate */
	/* [handshake]: the kernel's handshake family, for in-kernel consumers */
	int kc_hs_serve;
	char kc_hs_server_identity[KTLSD_IDENTITY_MAX + 1];	/* "": none */
	char kc_hs_client_identity[KTLSD_IDENTITY_MAX + 1];	/* "": no certificate */
	/* [identity NAME] */
	struct ktlsd_identity *kc_identities;
	size_t kc_identity_count;
};

/* conf.c */
/*
 * Parses @path (libinih) into a new configuration with one reference.
 * Returns 0, or a negative errno with a message naming the file, line and
 * key in @err; nothing is allocated then.
 */
int ktlsd_conf_load(const char *path, struct ktlsd_conf **out, char *err, size_t errlen);
struct ktlsd_conf *ktlsd_conf_get(struct ktlsd_conf *conf);
void ktlsd_conf_put(struct ktlsd_conf *conf);
const struct ktlsd_identity *ktlsd_conf_find_identity(const struct ktlsd_conf *conf,
							const char *name);

/* policy.c */
struct ktlsd_requester {
	uid_t rq_uid;
	gid_t rq_gid;
	pid_t rq_pid;
	gid_t rq_groups[128];		/* supplementary, from SO_PEERGROUPS */
	size_t rq_group_count;
};

/*
 * May @who run a handshake in @role with @identity (NULL or "": none)?
 * Returns 0 and the engine config to use in *@cfg (borrowed from @conf),
 * -ENOKEY for an identity that does not exist or lacks @role, -EACCES when
 * policy denies it; @why says which rule decided, for the log.
 */
int ktlsd_policy_check(const struct ktlsd_conf *conf, const struct ktlsd_requester *who,
		       enum ktlsd_role role, const char *identity, struct ktls_config **cfg,
		       char *why, size_t whylen);
int ktlsd_acl_allows(const struct ktlsd_acl *acl, const struct ktlsd_requester *who);

#endif /* KTLSD_H */
