// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may run which handshake. The rules (ktlsd.conf(5)):
 *  - the client role without an identity is what any program gets from a
 *    TLS library, so [client] allows everyone unless it says otherwise;
 *  - an identity holds a private key: nobody may use it until the file
 *    names them, and only in the roles it lists;
 *  - a server without an identity has nothing to present, so no rule can
 *    allow it.
 * Every decision says why, for the log line of a denial.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "ktlsd.h"

#define POLICY_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int policy_say(char *why, size_t whylen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes the reason into @why and returns @ret. */
static int policy_say(char *why, size_t whylen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static const char *policy_role_name(enum ktlsd_role role)
{
	switch (role) {
	case KTLSD_ROLE_CLIENT:
		return "client";
	case KTLSD_ROLE_SERVER:
		return "server";
	default:
		return "unknown";
	}
}

static int policy_acl_has_gid(const struct ktlsd_acl *acl, gid_t gid)
{
	size_t i;

	for (i = 0; i < acl->ac_gid_count; i++)
		if (acl->ac_gids[i] == gid)
			return 1;
	return 0;
}

int ktlsd_acl_allows(const struct ktlsd_acl *acl, const struct ktlsd_requester *who)
{
	size_t i, groups = who->rq_group_count;

	if (acl->ac_any_user)
		return 1;
	for (i = 0; i < acl->ac_uid_count; i++)
		if (acl->ac_uids[i] == who->rq_uid)
			return 1;
	if (policy_acl_has_gid(acl, who->rq_gid))
		return 1;
	/* a count beyond the array would be the frontend's bug: read no further */
	if (groups > POLICY_ARRAY_SIZE(who->rq_groups))
		groups = POLICY_ARRAY_SIZE(who->rq_groups);
	for (i = 0; i < groups; i++)
		if (policy_acl_has_gid(acl, who->rq_groups[i]))
			return 1;
	return 0;
}

static int policy_without_identity(const struct ktlsd_conf *conf,
				   const struct ktlsd_requester *who, enum ktlsd_role role,
				   struct ktls_config **cfg, char *why, size_t whylen)
{
	if (role == KTLSD_ROLE_SERVER)
		return policy_say(why, whylen, -ENOKEY, "a server needs an identity");
	if (!ktlsd_acl_allows(&conf->kc_client_acl, who))
		return policy_say(why, whylen, -EACCES,
				  "uid %u not allowed the client role without an identity",
				  (unsigned int)who->rq_uid);
	*cfg = conf->kc_client_cfg;
	return policy_say(why, whylen, 0, "uid %u allowed the client role by [client]",
			  (unsigned int)who->rq_uid);
}

int ktlsd_policy_check(const struct ktlsd_conf *conf, const struct ktlsd_requester *who,
		       enum ktlsd_role role, const char *identity, struct ktls_config **cfg,
		       char *why, size_t whylen)
{
	const struct ktlsd_identity *id;
	const char *role_name = policy_role_name(role);

	*cfg = NULL;
	if (role != KTLSD_ROLE_CLIENT && role != KTLSD_ROLE_SERVER)
		return policy_say(why, whylen, -EINVAL, "unknown role %d", (int)role);
	if (!identity || !*identity)
		return policy_without_identity(conf, who, role, cfg, why, whylen);
	/* the name comes from the requester: print no more than a name can be */
	id = ktlsd_conf_find_identity(conf, identity);
	if (!id)
		return policy_say(why, whylen, -ENOKEY, "no identity %.*s", KTLSD_IDENTITY_MAX,
				  identity);
	if (!(id->id_roles & (1u << role)))
		return policy_say(why, whylen, -ENOKEY, "identity %s is not for the %s role",
				  id->id_name, role_name);
	if (!ktlsd_acl_allows(&id->id_acl, who))
		return policy_say(why, whylen, -EACCES, "uid %u not allowed to use identity %s",
				  (unsigned int)who->rq_uid, id->id_name);
	*cfg = role == KTLSD_ROLE_SERVER ? id->id_server_cfg : id->id_client_cfg;
	return policy_say(why, whylen, 0, "uid %u allowed identity %s as %s",
			  (unsigned int)who->rq_uid, id->id_name, role_name);
}
