// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsd.conf(5), parsed with libinih.
 *
 * Loading takes two passes. libinih calls conf_handler() once per key in
 * file order, and that pass only records what each section says, with the
 * line it said it on. conf_build() then makes the engine configs: only at
 * the end of the file is everything known that one engine config depends
 * on ([tls] may come last, a trust may be defined after the identity that
 * names it), so the order of sections never matters, and an error found
 * while building still names the line it comes from.
 *
 * libinih neither tells its handler the line number nor calls it for a
 * section header; conf_read_line(), the reader wrapped around fgets(),
 * fills both gaps.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <ini.h>

#include "ktlsd.h"

#define CONF_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Bounds that catch a typo (a timeout in seconds, a missing digit). */
#define CONF_TIMEOUT_MAX_MS	3600000u
#define CONF_HANDSHAKES_MAX	1000000u
/* libinih's default line buffer, which Debian's build keeps. */
#define CONF_LINE_MAX		200
/* Keys in conf_keys[]: each has a bit in ps_seen. */
#define CONF_KEYS_MAX		64

enum conf_section {
	CONF_NONE,		/* before the first header */
	CONF_DAEMON,
	CONF_TLS,
	CONF_TRUST,
	CONF_CLIENT,
	CONF_IDENTITY,
	CONF_HANDSHAKE,
	CONF_SECTION_COUNT,
};

/* A value as written, and where, for the errors found in the second pass. */
struct conf_value {
	char *cv_text;		/* NULL: not given */
	int cv_line;
};

struct conf_values {
	struct conf_value *cl_items;
	size_t cl_count;
};

/* [trust NAME] */
struct conf_trust {
	struct conf_value tr_name;	/* line: the header's */
	struct conf_values tr_files;
	struct conf_values tr_dirs;
	int tr_system;
	int tr_system_line;
};

struct conf_pair {
	struct conf_value pr_cert;
	struct conf_value pr_key;
};

/* What [identity NAME] says beyond what struct ktlsd_identity keeps. */
struct conf_identity {
	int ci_line;			/* the header's */
	struct conf_pair ci_pairs[KTLSD_MAX_CERTS_PER_IDENTITY];
	size_t ci_pair_count;
	struct conf_value ci_trust;
	struct conf_value ci_alpn;
	int ci_verify;			/* enum ktls_verify_policy */
	int ci_verify_client;
};

/* [tls]: applied to every engine config the file makes. */
struct conf_tls {
	uint16_t tl_min_version;	/* 0: not given */
	uint16_t tl_max_version;
	int tl_min_line;
	int tl_max_line;
	struct conf_value tl_ciphers;
	struct conf_value tl_groups;
};

struct conf_parser {
	const char *ps_path;
	FILE *ps_file;
	int ps_line;			/* of the line libinih is parsing */
	/* the section keys go to, from the last header the reader saw */
	enum conf_section ps_section;
	char ps_header[KTLSD_IDENTITY_MAX + 16];	/* "identity web", for messages */
	size_t ps_index;		/* of the trust or identity being read */
	uint64_t ps_seen;		/* keys of conf_keys[] given in this section */
	int ps_key_line[CONF_KEYS_MAX];	/* where each key was last given */
	int ps_section_line[CONF_SECTION_COUNT];  /* of each unnamed section */
	/* the first error; later ones are not looked for */
	int ps_err;
	int ps_err_line;
	char *ps_msg;
	size_t ps_msglen;
	/* what the file says */
	struct ktlsd_conf *ps_conf;
	struct conf_tls ps_tls;
	struct conf_value ps_client_trust;
	int ps_client_verify;
	int ps_client_acl_given;
	struct conf_trust *ps_trusts;
	size_t ps_trust_count;
	struct conf_identity *ps_identities;	/* parallel to kc_identities */
};

struct conf_key;
typedef int (*conf_setter)(struct conf_parser *ps, const struct conf_key *key,
			   const char *value);

struct conf_key {
	enum conf_section ck_section;
	const char *ck_name;
	conf_setter ck_set;
	int ck_repeatable;
	size_t ck_field;		/* conf_set_uint: an unsigned int in ktlsd_conf */
	unsigned int ck_min;
	unsigned int ck_max;
};

struct conf_word {
	const char *cw_name;
	int cw_value;
};

static int conf_fail_at(struct conf_parser *ps, int line, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Records the first error as "FILE:LINE: message" and returns @err, so
 * callers can "return conf_fail_at(...)". Line 0 is the file as a whole.
 */
static int conf_fail_at(struct conf_parser *ps, int line, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (ps->ps_err)
		return err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ps->ps_err = err;
	ps->ps_err_line = line;
	if (!ps->ps_msglen)
		return err;
	if (line)
		snprintf(ps->ps_msg, ps->ps_msglen, "%s:%d: %s", ps->ps_path, line, msg);
	else
		snprintf(ps->ps_msg, ps->ps_msglen, "%s: %s", ps->ps_path, msg);
	return err;
}

#define conf_fail(ps, ...)	conf_fail_at(ps, (ps)->ps_line, -EINVAL, __VA_ARGS__)
#define conf_nomem(ps)		conf_fail_at(ps, (ps)->ps_line, -ENOMEM, "out of memory")

/* ---- values ---- */

static int conf_strdup(struct conf_parser *ps, struct conf_value *cv, const char *text)
{
	char *copy = strdup(text);

	if (!copy)
		return conf_nomem(ps);
	free(cv->cv_text);
	cv->cv_text = copy;
	cv->cv_line = ps->ps_line;
	return 0;
}

static int conf_append(struct conf_parser *ps, struct conf_values *cl, const char *text)
{
	struct conf_value *items;

	items = realloc(cl->cl_items, (cl->cl_count + 1) * sizeof(*items));
	if (!items)
		return conf_nomem(ps);
	cl->cl_items = items;
	items[cl->cl_count] = (struct conf_value){ 0 };
	if (conf_strdup(ps, &items[cl->cl_count], text))
		return ps->ps_err;
	cl->cl_count++;
	return 0;
}

static void conf_values_free(struct conf_values *cl)
{
	size_t i;

	for (i = 0; i < cl->cl_count; i++)
		free(cl->cl_items[i].cv_text);
	free(cl->cl_items);
}

/* Decimal (or octal, @base 8) without sign or blanks, in [@min, @max]. */
static int conf_number(const char *text, int base, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(text, &end, base);
	if (errno || *end || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

static int conf_word(struct conf_parser *ps, const struct conf_key *key, const char *value,
		     const struct conf_word *words, size_t count, int *out)
{
	char known[128] = "";
	size_t i;

	for (i = 0; i < count; i++) {
		if (!strcmp(value, words[i].cw_name)) {
			*out = words[i].cw_value;
			return 0;
		}
	}
	for (i = 0; i < count; i++)
		snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
			 i ? ", " : "", words[i].cw_name);
	return conf_fail(ps, "%s: '%s' is not one of %s", key->ck_name, value, known);
}

/* Drops the blanks around @text, in place. */
static char *conf_trim(char *text)
{
	char *end;

	text += strspn(text, " \t");
	end = text + strlen(text);
	while (end > text && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = 0;
	return text;
}

/*
 * Calls @each for every item of the comma separated @value, blanks around
 * items dropped. An empty item ("a,,b") is a mistake worth reporting.
 */
static int conf_each_item(struct conf_parser *ps, const struct conf_key *key, const char *value,
			  int (*each)(struct conf_parser *ps, const struct conf_key *key,
				      const char *item, void *arg),
			  void *arg)
{
	char copy[CONF_LINE_MAX], *item, *save = NULL;
	int ret;

	if (strlen(value) >= sizeof(copy))
		return conf_fail(ps, "%s: list too long", key->ck_name);
	strcpy(copy, value);
	if (strstr(copy, ",,") || copy[0] == ',' || (*copy && copy[strlen(copy) - 1] == ','))
		return conf_fail(ps, "%s: empty item in '%s'", key->ck_name, value);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		item = conf_trim(item);
		if (!*item)
			return conf_fail(ps, "%s: empty item in '%s'", key->ck_name, value);
		ret = each(ps, key, item, arg);
		if (ret)
			return ret;
	}
	return 0;
}

/* Appends @item to the list being normalised in @arg (a conf_value). */
static int conf_join_item(struct conf_parser *ps, const struct conf_key *key, const char *item,
			  void *arg)
{
	struct conf_value *cv = arg;
	size_t have = cv->cv_text ? strlen(cv->cv_text) : 0;
	char *text = realloc(cv->cv_text, have + strlen(item) + 2);

	if (!text)
		return conf_nomem(ps);
	if (!cv->cv_text)
		text[0] = 0;
	cv->cv_text = text;
	if (have)
		strcat(text, ",");
	strcat(text, item);
	return 0;
}

/*
 * Stores a comma list as the engine wants it, "a,b": ktls_config_set_*()
 * would take the blank of "a, b" as part of the name.
 */
static int conf_set_list(struct conf_parser *ps, const struct conf_key *key, const char *value,
			 struct conf_value *cv)
{
	struct conf_value joined = { 0 };
	int ret;

	ret = conf_each_item(ps, key, value, conf_join_item, &joined);
	if (!ret && !joined.cv_text)
		ret = conf_join_item(ps, key, "", &joined);	/* "": let the engine judge */
	if (ret) {
		free(joined.cv_text);
		return ret;
	}
	free(cv->cv_text);
	cv->cv_text = joined.cv_text;
	cv->cv_line = ps->ps_line;
	return 0;
}

/* ---- users and groups ---- */

/* A user or group number as written, or the one its name has now. */
static int conf_resolve_id(const char *name, int group, unsigned int *id)
{
	struct passwd pw, *pw_found = NULL;
	struct group gr, *gr_found = NULL;
	unsigned long number;
	size_t size = 1024;
	char *buf;
	int ret;

	if (!conf_number(name, 10, 0, (unsigned int)-2, &number)) {
		*id = number;
		return 0;
	}
	for (;;) {
		buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		ret = group ? getgrnam_r(name, &gr, buf, size, &gr_found) :
			      getpwnam_r(name, &pw, buf, size, &pw_found);
		if (ret != ERANGE || size >= (1u << 20))
			break;
		free(buf);
		size *= 2;
	}
	if (gr_found)
		*id = gr.gr_gid;
	else if (pw_found)
		*id = pw.pw_uid;
	free(buf);
	if (gr_found || pw_found)
		return 0;
	return ret ? -ret : -ENOENT;
}

static int conf_acl_add(struct conf_parser *ps, const struct conf_key *key, const char *item,
			void *arg)
{
	struct ktlsd_acl *acl = arg;
	int group = !strcmp(key->ck_name, "allow_groups");
	unsigned int id;
	void *ids;
	int ret;

	if (!strcmp(item, "*")) {
		acl->ac_any_user = 1;
		return 0;
	}
	ret = conf_resolve_id(item, group, &id);
	if (ret == -ENOMEM)
		return conf_nomem(ps);
	if (ret)
		return conf_fail(ps, "%s: unknown %s '%s'", key->ck_name,
				 group ? "group" : "user", item);
	if (group) {
		ids = realloc(acl->ac_gids, (acl->ac_gid_count + 1) * sizeof(gid_t));
		if (!ids)
			return conf_nomem(ps);
		acl->ac_gids = ids;
		acl->ac_gids[acl->ac_gid_count++] = id;
	} else {
		ids = realloc(acl->ac_uids, (acl->ac_uid_count + 1) * sizeof(uid_t));
		if (!ids)
			return conf_nomem(ps);
		acl->ac_uids = ids;
		acl->ac_uids[acl->ac_uid_count++] = id;
	}
	return 0;
}

static void conf_acl_free(struct ktlsd_acl *acl)
{
	free(acl->ac_uids);
	free(acl->ac_gids);
}

/* ---- setters: one per kind of value, named by conf_keys[] ---- */

static struct ktlsd_identity *conf_identity(struct conf_parser *ps)
{
	return &ps->ps_conf->kc_identities[ps->ps_index];
}

static struct conf_identity *conf_identity_draft(struct conf_parser *ps)
{
	return &ps->ps_identities[ps->ps_index];
}

static int conf_set_uint(struct conf_parser *ps, const struct conf_key *key, const char *value)
{
	unsigned int *field = (unsigned int *)((char *)ps->ps_conf + key->ck_field);
	unsigned long number;

	if (conf_number(value, 10, key->ck_min, key->ck_max, &number))
		return conf_fail(ps, "%s: '%s' is not a number from %u to %u", key->ck_name,
				 value, key->ck_min, key->ck_max);
	*field = number;
	return 0;
}

static int conf_set_socket(struct conf_parser *ps, const struct conf_key *key, const char *value)
{
	struct ktlsd_conf *conf = ps->ps_conf;

	if (value[0] != '/')
		return conf_fail(ps, "%s: '%s' is not an absolute path", key->ck_name, value);
	if (strlen(value) >= sizeof(conf->kc_socket_path))
		return conf_fail(ps, "%s: longer than %zu characters", key->ck_name,
				 sizeof(conf->kc_socket_path) - 1);
	strcpy(conf->kc_socket_path, value);
	return 0;
}

static int conf_set_socket_mode(struct conf_parser *ps, const struct conf_key *key,
				const char *value)
{
	unsigned long mode;

	if (conf_number(value, 8, 0, 0777, &mode))
		return conf_fail(ps, "%s: '%s' is not an octal mode up to 0777", key->ck_name,
				 value);
	ps->ps_conf->kc_socket_mode = mode;
	return 0;
}

static const struct conf_word conf_log_levels[] = {
	{ "err", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

static int conf_set_log_level(struct conf_parser *ps, const struct conf_key *key,
			      const char *value)
{
	return conf_word(ps, key, value, conf_log_levels, CONF_ARRAY_SIZE(conf_log_levels),
			 &ps->ps_conf->kc_log_level);
}

static const struct conf_word conf_netlink_modes[] = {
	{ "auto", KTLSD_NETLINK_AUTO },
	{ "yes", KTLSD_NETLINK_YES },
	{ "no", KTLSD_NETLINK_NO },
};

static int conf_set_netlink(struct conf_parser *ps, const struct conf_key *key,
			    const char *value)
{
	return conf_word(ps, key, value, conf_netlink_modes, CONF_ARRAY_SIZE(conf_netlink_modes),
			 &ps->ps_conf->kc_netlink);
}

static const struct conf_word conf_versions[] = {
	{ "1.2", KTLS_VERSION_TLS12 },
	{ "1.3", KTLS_VERSION_TLS13 },
};

static int conf_set_version(struct conf_parser *ps, const struct conf_key *key,
			    const char *value)
{
	struct conf_tls *tls = &ps->ps_tls;
	int version, ret;

	ret = conf_word(ps, key, value, conf_versions, CONF_ARRAY_SIZE(conf_versions),
			&version);
	if (ret)
		return ret;
	if (!strcmp(key->ck_name, "min_version")) {
		tls->tl_min_version = version;
		tls->tl_min_line = ps->ps_line;
	} else {
		tls->tl_max_version = version;
		tls->tl_max_line = ps->ps_line;
	}
	return 0;
}

static int conf_set_ciphers(struct conf_parser *ps, const struct conf_key *key,
			    const char *value)
{
	return conf_set_list(ps, key, value, &ps->ps_tls.tl_ciphers);
}

static int conf_set_groups(struct conf_parser *ps, const struct conf_key *key,
			   const char *value)
{
	return conf_set_list(ps, key, value, &ps->ps_tls.tl_groups);
}

static int conf_set_ca_file(struct conf_parser *ps, const struct conf_key *key,
			    const char *value)
{
	return conf_append(ps, &ps->ps_trusts[ps->ps_index].tr_files, value);
}

static int conf_set_ca_dir(struct conf_parser *ps, const struct conf_key *key,
			   const char *value)
{
	return conf_append(ps, &ps->ps_trusts[ps->ps_index].tr_dirs, value);
}

static const struct conf_word conf_booleans[] = {
	{ "yes", 1 },
	{ "no", 0 },
	{ "true", 1 },
	{ "false", 0 },
};

static int conf_set_system(struct conf_parser *ps, const struct conf_key *key,
			   const char *value)
{
	struct conf_trust *trust = &ps->ps_trusts[ps->ps_index];

	trust->tr_system_line = ps->ps_line;
	return conf_word(ps, key, value, conf_booleans, CONF_ARRAY_SIZE(conf_booleans),
			 &trust->tr_system);
}

static const struct conf_word conf_verify_policies[] = {
	{ "required", KTLS_VERIFY_REQUIRED },
	{ "optional", KTLS_VERIFY_OPTIONAL },
	{ "none", KTLS_VERIFY_NONE },
};

static int conf_verify_word(struct conf_parser *ps, const struct conf_key *key,
			    const char *value, int *out)
{
	return conf_word(ps, key, value, conf_verify_policies,
			 CONF_ARRAY_SIZE(conf_verify_policies), out);
}

/* allow_users and allow_groups append, so a long list may span lines. */
static int conf_set_client_acl(struct conf_parser *ps, const struct conf_key *key,
			       const char *value)
{
	ps->ps_client_acl_given = 1;
	return conf_each_item(ps, key, value, conf_acl_add, &ps->ps_conf->kc_client_acl);
}

static int conf_set_client_trust(struct conf_parser *ps, const struct conf_key *key,
				 const char *value)
{
	return conf_strdup(ps, &ps->ps_client_trust, value);
}

static int conf_set_client_verify(struct conf_parser *ps, const struct conf_key *key,
				  const char *value)
{
	return conf_verify_word(ps, key, value, &ps->ps_client_verify);
}

/* A cert opens a pair, the next key closes it: pairs cannot interleave. */
static int conf_set_cert(struct conf_parser *ps, const struct conf_key *key, const char *value)
{
	struct conf_identity *ci = conf_identity_draft(ps);
	struct conf_pair *last = ci->ci_pair_count ? &ci->ci_pairs[ci->ci_pair_count - 1] : NULL;

	if (last && !last->pr_key.cv_text)
		return conf_fail(ps, "cert: the cert on line %d has no key yet",
				 last->pr_cert.cv_line);
	if (ci->ci_pair_count == KTLSD_MAX_CERTS_PER_IDENTITY)
		return conf_fail(ps, "cert: more than %d cert and key pairs",
				 KTLSD_MAX_CERTS_PER_IDENTITY);
	if (conf_strdup(ps, &ci->ci_pairs[ci->ci_pair_count].pr_cert, value))
		return ps->ps_err;
	ci->ci_pair_count++;
	return 0;
}

static int conf_set_key(struct conf_parser *ps, const struct conf_key *key, const char *value)
{
	struct conf_identity *ci = conf_identity_draft(ps);
	struct conf_pair *last = ci->ci_pair_count ? &ci->ci_pairs[ci->ci_pair_count - 1] : NULL;

	if (!last || last->pr_key.cv_text)
		return conf_fail(ps, "key: no cert before it (write cert, then its key)");
	return conf_strdup(ps, &last->pr_key, value);
}

static const struct conf_word conf_roles[] = {
	{ "server", 1u << KTLSD_ROLE_SERVER },
	{ "client", 1u << KTLSD_ROLE_CLIENT },
};

static int conf_add_role(struct conf_parser *ps, const struct conf_key *key, const char *item,
			 void *arg)
{
	unsigned int *roles = arg;
	int role, ret;

	ret = conf_word(ps, key, item, conf_roles, CONF_ARRAY_SIZE(conf_roles), &role);
	if (!ret)
		*roles |= role;
	return ret;
}

static int conf_set_roles(struct conf_parser *ps, const struct conf_key *key, const char *value)
{
	unsigned int roles = 0;
	int ret;

	ret = conf_each_item(ps, key, value, conf_add_role, &roles);
	if (ret)
		return ret;
	if (!roles)
		return conf_fail(ps, "roles: empty (server, client or both)");
	conf_identity(ps)->id_roles = roles;
	return 0;
}

static int conf_set_identity_acl(struct conf_parser *ps, const struct conf_key *key,
				 const char *value)
{
	return conf_each_item(ps, key, value, conf_acl_add, &conf_identity(ps)->id_acl);
}

static int conf_set_identity_trust(struct conf_parser *ps, const struct conf_key *key,
				   const char *value)
{
	return conf_strdup(ps, &conf_identity_draft(ps)->ci_trust, value);
}

static int conf_set_verify(struct conf_parser *ps, const struct conf_key *key, const char *value)
{
	return conf_verify_word(ps, key, value, &conf_identity_draft(ps)->ci_verify);
}

static int conf_set_verify_client(struct conf_parser *ps, const struct conf_key *key,
				  const char *value)
{
	return conf_verify_word(ps, key, value, &conf_identity_draft(ps)->ci_verify_client);
}

static int conf_set_alpn(struct conf_parser *ps, const struct conf_key *key, const char *value)
{
	if (strlen(value) > KTLSD_ALPN_MAX)
		return conf_fail(ps, "alpn: longer than %d characters", KTLSD_ALPN_MAX);
	return conf_set_list(ps, key, value, &conf_identity_draft(ps)->ci_alpn);
}

static int conf_set_hs_serve(struct conf_parser *ps, const struct conf_key *key,
			     const char *value)
{
	return conf_word(ps, key, value, conf_booleans, CONF_ARRAY_SIZE(conf_booleans),
			 &ps->ps_conf->kc_hs_serve);
}

/* Checked against the identities once the whole file is read (conf_check_handshake()). */
static int conf_set_hs_identity(struct conf_parser *ps, const struct conf_key *key,
				const char *value)
{
	struct ktlsd_conf *conf = ps->ps_conf;

	if (strlen(value) > KTLSD_IDENTITY_MAX)
		return conf_fail(ps, "%s: longer than an identity name (%d)", key->ck_name,
				 KTLSD_IDENTITY_MAX);
	if (!strcmp(key->ck_name, "server_identity"))
		strcpy(conf->kc_hs_server_identity, value);
	else
		strcpy(conf->kc_hs_client_identity, value);
	return 0;
}

/* A key given at most once per section, one that may repeat, a number. */
#define CONF_ONCE(section, name, set) \
	{ .ck_section = section, .ck_name = name, .ck_set = set }
#define CONF_MANY(section, name, set) \
	{ .ck_section = section, .ck_name = name, .ck_set = set, .ck_repeatable = 1 }
#define CONF_UINT(section, name, field, min, max) \
	{ .ck_section = section, .ck_name = name, .ck_set = conf_set_uint, \
	  .ck_field = offsetof(struct ktlsd_conf, field), .ck_min = min, .ck_max = max }

/* Every key of every section; ktlsd.conf(5) documents each. */
static const struct conf_key conf_keys[] = {
	CONF_ONCE(CONF_DAEMON, "socket", conf_set_socket),
	CONF_ONCE(CONF_DAEMON, "socket_mode", conf_set_socket_mode),
	CONF_UINT(CONF_DAEMON, "handshake_timeout", kc_timeout_ms, 1, CONF_TIMEOUT_MAX_MS),
	CONF_UINT(CONF_DAEMON, "max_timeout", kc_max_timeout_ms, 1, CONF_TIMEOUT_MAX_MS),
	CONF_UINT(CONF_DAEMON, "max_handshakes", kc_max_handshakes, 1, CONF_HANDSHAKES_MAX),
	CONF_UINT(CONF_DAEMON, "max_handshakes_per_uid", kc_max_per_uid, 1,
		  CONF_HANDSHAKES_MAX),
	CONF_ONCE(CONF_DAEMON, "log_level", conf_set_log_level),
	CONF_ONCE(CONF_DAEMON, "netlink", conf_set_netlink),
	CONF_ONCE(CONF_TLS, "min_version", conf_set_version),
	CONF_ONCE(CONF_TLS, "max_version", conf_set_version),
	CONF_ONCE(CONF_TLS, "ciphers", conf_set_ciphers),
	CONF_ONCE(CONF_TLS, "groups", conf_set_groups),
	CONF_MANY(CONF_TRUST, "ca_file", conf_set_ca_file),
	CONF_MANY(CONF_TRUST, "ca_dir", conf_set_ca_dir),
	CONF_ONCE(CONF_TRUST, "system", conf_set_system),
	CONF_MANY(CONF_CLIENT, "allow_users", conf_set_client_acl),
	CONF_MANY(CONF_CLIENT, "allow_groups", conf_set_client_acl),
	CONF_ONCE(CONF_CLIENT, "trust", conf_set_client_trust),
	CONF_ONCE(CONF_CLIENT, "verify", conf_set_client_verify),
	CONF_MANY(CONF_IDENTITY, "cert", conf_set_cert),
	CONF_MANY(CONF_IDENTITY, "key", conf_set_key),
	CONF_ONCE(CONF_IDENTITY, "roles", conf_set_roles),
	CONF_MANY(CONF_IDENTITY, "allow_users", conf_set_identity_acl),
	CONF_MANY(CONF_IDENTITY, "allow_groups", conf_set_identity_acl),
	CONF_ONCE(CONF_IDENTITY, "trust", conf_set_identity_trust),
	CONF_ONCE(CONF_IDENTITY, "verify_client", conf_set_verify_client),
	CONF_ONCE(CONF_IDENTITY, "verify", conf_set_verify),
	CONF_ONCE(CONF_IDENTITY, "alpn", conf_set_alpn),
	CONF_ONCE(CONF_HANDSHAKE, "serve", conf_set_hs_serve),
	CONF_ONCE(CONF_HANDSHAKE, "server_identity", conf_set_hs_identity),
	CONF_ONCE(CONF_HANDSHAKE, "client_identity", conf_set_hs_identity),
};

_Static_assert(CONF_ARRAY_SIZE(conf_keys) <= CONF_KEYS_MAX, "ps_seen has a bit per key");

static const struct conf_key *conf_find_key(enum conf_section section, const char *name)
{
	size_t i;

	for (i = 0; i < CONF_ARRAY_SIZE(conf_keys); i++)
		if (conf_keys[i].ck_section == section && !strcmp(conf_keys[i].ck_name, name))
			return &conf_keys[i];
	return NULL;
}

/* The line a key was last given on, 0 if never (a default). */
static int conf_key_line(const struct conf_parser *ps, enum conf_section section,
			 const char *name)
{
	return ps->ps_key_line[conf_find_key(section, name) - conf_keys];
}

/* ---- sections ---- */

/* Identity and trust names travel in requests and logs: keep them plain. */
static int conf_valid_name(const char *name)
{
	size_t len = strlen(name);

	return len && len <= KTLSD_IDENTITY_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-") == len;
}

static int conf_enter_trust(struct conf_parser *ps, const char *name)
{
	struct conf_trust *trusts;
	size_t i;

	for (i = 0; i < ps->ps_trust_count; i++)
		if (!strcmp(ps->ps_trusts[i].tr_name.cv_text, name))
			return conf_fail(ps, "trust %s defined twice (first on line %d)", name,
					 ps->ps_trusts[i].tr_name.cv_line);
	trusts = realloc(ps->ps_trusts, (ps->ps_trust_count + 1) * sizeof(*trusts));
	if (!trusts)
		return conf_nomem(ps);
	ps->ps_trusts = trusts;
	memset(&trusts[ps->ps_trust_count], 0, sizeof(*trusts));
	if (conf_strdup(ps, &trusts[ps->ps_trust_count].tr_name, name))
		return ps->ps_err;
	ps->ps_index = ps->ps_trust_count++;
	return 0;
}

static int conf_enter_identity(struct conf_parser *ps, const char *name)
{
	struct ktlsd_conf *conf = ps->ps_conf;
	const struct ktlsd_identity *other = ktlsd_conf_find_identity(conf, name);
	struct ktlsd_identity *ids;
	struct conf_identity *drafts;
	size_t n = conf->kc_identity_count;

	if (other)
		return conf_fail(ps, "identity %s defined twice (first on line %d)", name,
				 ps->ps_identities[other - conf->kc_identities].ci_line);
	/* The two arrays grow apart; one grown further than the count is harmless. */
	drafts = realloc(ps->ps_identities, (n + 1) * sizeof(*drafts));
	if (!drafts)
		return conf_nomem(ps);
	ps->ps_identities = drafts;
	ids = realloc(conf->kc_identities, (n + 1) * sizeof(*ids));
	if (!ids)
		return conf_nomem(ps);
	conf->kc_identities = ids;
	memset(&ids[n], 0, sizeof(ids[n]));
	strcpy(ids[n].id_name, name);
	ids[n].id_roles = 1u << KTLSD_ROLE_SERVER;
	drafts[n] = (struct conf_identity){
		.ci_line = ps->ps_line,
		.ci_verify = KTLS_VERIFY_REQUIRED,
		.ci_verify_client = KTLS_VERIFY_NONE,
	};
	ps->ps_index = conf->kc_identity_count++;
	return 0;
}

static const struct conf_section_kind {
	const char *sk_word;
	enum conf_section sk_section;
	int (*sk_enter_named)(struct conf_parser *ps, const char *name); /* NULL: no name */
} conf_sections[] = {
	{ "daemon", CONF_DAEMON, NULL },
	{ "tls", CONF_TLS, NULL },
	{ "client", CONF_CLIENT, NULL },
	{ "trust", CONF_TRUST, conf_enter_trust },
	{ "identity", CONF_IDENTITY, conf_enter_identity },
	{ "handshake", CONF_HANDSHAKE, NULL },
};

static int conf_enter_kind(struct conf_parser *ps, const struct conf_section_kind *kind,
			   const char *name)
{
	if (kind->sk_enter_named) {
		if (!*name)
			return conf_fail(ps, "[%s] needs a name: [%s NAME]", kind->sk_word,
					 kind->sk_word);
		if (!conf_valid_name(name))
			return conf_fail(ps, "[%s %s]: a name is 1 to %d of A-Z a-z 0-9 . _ -",
					 kind->sk_word, name, KTLSD_IDENTITY_MAX);
		return kind->sk_enter_named(ps, name);
	}
	if (*name)
		return conf_fail(ps, "[%s] takes no name", kind->sk_word);
	if (ps->ps_section_line[kind->sk_section])
		return conf_fail(ps, "[%s] appears twice (first on line %d)", kind->sk_word,
				 ps->ps_section_line[kind->sk_section]);
	ps->ps_section_line[kind->sk_section] = ps->ps_line;
	return 0;
}

/*
 * Called by the reader for a header line, since libinih tells the handler
 * nothing when a section starts: a section without keys ([typo], or a
 * second [identity web]) is still checked. A header without its ']' is
 * left to libinih, which reports the line.
 */
static int conf_enter_section(struct conf_parser *ps, const char *line)
{
	size_t len = strcspn(line + 1, "]\n");
	char text[sizeof(ps->ps_header)], *word, *name;
	size_t i;

	ps->ps_section = CONF_NONE;
	ps->ps_seen = 0;
	ps->ps_header[0] = 0;
	if (line[1 + len] != ']')
		return 0;
	if (len >= sizeof(text))
		return conf_fail(ps, "section name longer than %zu characters", sizeof(text) - 1);
	memcpy(text, line + 1, len);
	text[len] = 0;
	word = conf_trim(text);
	snprintf(ps->ps_header, sizeof(ps->ps_header), "%s", word);
	name = word + strcspn(word, " \t");
	if (*name)
		*name++ = 0;
	name = conf_trim(name);
	for (i = 0; i < CONF_ARRAY_SIZE(conf_sections); i++) {
		if (!strcmp(word, conf_sections[i].sk_word)) {
			if (conf_enter_kind(ps, &conf_sections[i], name))
				return ps->ps_err;
			ps->ps_section = conf_sections[i].sk_section;
			return 0;
		}
	}
	return conf_fail(ps, "unknown section [%s]", word);
}

/* ---- the first pass: libinih ---- */

/*
 * fgets() for libinih, which also:
 *  - counts lines, which libinih does not pass to the handler;
 *  - drops leading blanks: libinih reads an indented line as the
 *    continuation of the previous value, so an indented "key = a.pem"
 *    under "cert = a.crt" would silently become a second cert;
 *  - enters each section (conf_enter_section()) from the header as
 *    written: libinih keeps 49 characters of a section name, fewer than
 *    "identity " and a 63 character name;
 *  - stops at a line longer than libinih's buffer, which it would cut
 *    into two lines, and after the first error.
 */
static char *conf_read_line(char *str, int num, void *stream)
{
	struct conf_parser *ps = stream;
	size_t len, skip = 0;
	int next;

	if (ps->ps_err || !fgets(str, num, ps->ps_file))
		return NULL;
	ps->ps_line++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n') {
		next = getc(ps->ps_file);
		if (next != EOF) {
			conf_fail(ps, "line longer than %d characters", num - 2);
			return NULL;
		}
	}
	if (ps->ps_line == 1 && !strncmp(str, "\xef\xbb\xbf", 3))
		skip = 3;	/* a UTF-8 byte order mark */
	skip += strspn(str + skip, " \t");
	memmove(str, str + skip, len - skip + 1);
	if (str[0] == '[' && conf_enter_section(ps, str))
		return NULL;
	return str;
}

/*
 * libinih's section argument is ignored: it may be cut short, and the
 * reader has entered the section already. Returns 0 (an error at this
 * line) or 1.
 */
static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parser *ps = user;
	const struct conf_key *key;
	uint64_t bit;

	if (ps->ps_section == CONF_NONE)
		return !conf_fail(ps, "%s: outside any section", name);
	key = conf_find_key(ps->ps_section, name);
	if (!key)
		return !conf_fail(ps, "unknown key '%s' in [%s]", name, ps->ps_header);
	bit = 1ull << (key - conf_keys);
	if ((ps->ps_seen & bit) && !key->ck_repeatable)
		return !conf_fail(ps, "%s: given twice in one section", name);
	ps->ps_seen |= bit;
	ps->ps_key_line[key - conf_keys] = ps->ps_line;
	return !key->ck_set(ps, key, value);
}

static int conf_parse(struct conf_parser *ps)
{
	int ret = ini_parse_stream(conf_read_line, ps, conf_handler, ps);

	/* libinih's own error (a line it cannot read) only if it came first */
	if (ret > 0 && (!ps->ps_err || ret < ps->ps_err_line)) {
		ps->ps_err = 0;
		return conf_fail_at(ps, ret, -EINVAL,
				    "syntax error (want [section], key = value or a comment)");
	}
	if (ret == -2)
		return conf_fail_at(ps, 0, -ENOMEM, "out of memory");
	return ps->ps_err;
}

/* ---- the second pass: engine configs ---- */

/* After the whole file: either version may be given without the other. */
static int conf_check_versions(struct conf_parser *ps)
{
	struct conf_tls *tls = &ps->ps_tls;

	if (!tls->tl_min_version && !tls->tl_max_version)
		return 0;	/* the engine's default range */
	/* As ktls-client(1): giving one leaves the other at its limit. */
	if (!tls->tl_min_version)
		tls->tl_min_version = KTLS_VERSION_TLS12;
	if (!tls->tl_max_version)
		tls->tl_max_version = KTLS_VERSION_TLS13;
	if (tls->tl_min_version > tls->tl_max_version)
		return conf_fail_at(ps, tls->tl_max_line, -EINVAL,
				    "max_version is below min_version");
	return 0;
}

static int conf_check_daemon(struct conf_parser *ps)
{
	const struct ktlsd_conf *conf = ps->ps_conf;
	int line;

	if (conf->kc_timeout_ms > conf->kc_max_timeout_ms) {
		line = conf_key_line(ps, CONF_DAEMON, "handshake_timeout");
		if (!line)
			line = conf_key_line(ps, CONF_DAEMON, "max_timeout");
		return conf_fail_at(ps, line, -EINVAL,
				    "handshake_timeout %u is above max_timeout %u",
				    conf->kc_timeout_ms, conf->kc_max_timeout_ms);
	}
	return conf_check_versions(ps);
}

/* Turns a failing ktls_config_*() call into this file's error. */
static int conf_engine_fail(struct conf_parser *ps, int line, const char *what,
			    struct ktls_config *cfg, int ret)
{
	if (ret == KTLS_ERROR_NO_MEMORY)
		return conf_fail_at(ps, line, -ENOMEM, "out of memory");
	return conf_fail_at(ps, line, -EINVAL, "%s: %s", what, ktls_config_error(cfg));
}

static int conf_apply_tls(struct conf_parser *ps, struct ktls_config *cfg)
{
	const struct conf_tls *tls = &ps->ps_tls;
	int ret;

	if (tls->tl_min_version) {
		ret = ktls_config_set_versions(cfg, tls->tl_min_version, tls->tl_max_version);
		if (ret)
			return conf_engine_fail(ps, tls->tl_min_line ?: tls->tl_max_line,
						"versions", cfg, ret);
	}
	if (tls->tl_ciphers.cv_text) {
		ret = ktls_config_set_ciphers(cfg, tls->tl_ciphers.cv_text);
		if (ret)
			return conf_engine_fail(ps, tls->tl_ciphers.cv_line, "ciphers", cfg, ret);
	}
	if (tls->tl_groups.cv_text) {
		ret = ktls_config_set_groups(cfg, tls->tl_groups.cv_text);
		if (ret)
			return conf_engine_fail(ps, tls->tl_groups.cv_line, "groups", cfg, ret);
	}
	return 0;
}

/* A new engine config with the [tls] policy; NULL once an error is recorded. */
static struct ktls_config *conf_engine_config(struct conf_parser *ps)
{
	struct ktls_config *cfg = ktls_config_new();

	if (!cfg) {
		conf_fail_at(ps, 0, -ENOMEM, "out of memory");
		return NULL;
	}
	if (conf_apply_tls(ps, cfg)) {
		ktls_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static int conf_load_trust(struct conf_parser *ps, const struct conf_trust *trust,
			   struct ktls_config *cfg)
{
	const char *name = trust->tr_name.cv_text;
	size_t i;
	int ret;

	for (i = 0; i < trust->tr_files.cl_count; i++) {
		ret = ktls_config_set_ca_file(cfg, trust->tr_files.cl_items[i].cv_text);
		if (ret)
			return conf_engine_fail(ps, trust->tr_files.cl_items[i].cv_line, name,
						cfg, ret);
	}
	for (i = 0; i < trust->tr_dirs.cl_count; i++) {
		ret = ktls_config_set_ca_dir(cfg, trust->tr_dirs.cl_items[i].cv_text);
		if (ret)
			return conf_engine_fail(ps, trust->tr_dirs.cl_items[i].cv_line, name,
						cfg, ret);
	}
	if (trust->tr_system) {
		ret = ktls_config_set_ca_system(cfg);
		if (ret)
			return conf_engine_fail(ps, trust->tr_system_line, name, cfg, ret);
	}
	return 0;
}

/* @ref: the "trust = NAME" that picks it; not given means "default". */
static int conf_apply_trust(struct conf_parser *ps, const struct conf_value *ref,
			    struct ktls_config *cfg)
{
	const char *name = ref->cv_text ?: "default";
	size_t i;
	int ret;

	for (i = 0; i < ps->ps_trust_count; i++)
		if (!strcmp(ps->ps_trusts[i].tr_name.cv_text, name))
			return conf_load_trust(ps, &ps->ps_trusts[i], cfg);
	if (strcmp(name, "default"))
		return conf_fail_at(ps, ref->cv_line, -EINVAL, "unknown trust '%s'", name);
	/* the implicit [trust default] */
	ret = ktls_config_set_ca_system(cfg);
	return ret ? conf_engine_fail(ps, ref->cv_line, "default", cfg, ret) : 0;
}

/*
 * Every [trust] is loaded once on its own, so a bad CA file is reported
 * now even if no section names that trust yet.
 */
static int conf_check_trusts(struct conf_parser *ps)
{
	const struct conf_trust *trust;
	struct ktls_config *cfg;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < ps->ps_trust_count; i++) {
		trust = &ps->ps_trusts[i];
		if (!trust->tr_files.cl_count && !trust->tr_dirs.cl_count && !trust->tr_system)
			return conf_fail_at(ps, trust->tr_name.cv_line, -EINVAL,
					    "trust %s: no ca_file, ca_dir or system = yes",
					    trust->tr_name.cv_text);
		cfg = ktls_config_new();
		if (!cfg)
			return conf_fail_at(ps, 0, -ENOMEM, "out of memory");
		ret = conf_load_trust(ps, trust, cfg);
		ktls_config_free(cfg);
	}
	return ret;
}

static int conf_build_client(struct conf_parser *ps)
{
	struct ktlsd_conf *conf = ps->ps_conf;
	int ret;

	if (!ps->ps_client_acl_given)
		conf->kc_client_acl.ac_any_user = 1;
	conf->kc_client_cfg = conf_engine_config(ps);
	if (!conf->kc_client_cfg)
		return ps->ps_err;
	ret = conf_apply_trust(ps, &ps->ps_client_trust, conf->kc_client_cfg);
	if (ret)
		return ret;
	ret = ktls_config_set_verify(conf->kc_client_cfg, ps->ps_client_verify);
	if (ret)
		return conf_engine_fail(ps, conf_key_line(ps, CONF_CLIENT, "verify"), "verify",
					conf->kc_client_cfg, ret);
	return 0;
}

static int conf_identity_pairs(struct conf_parser *ps, const struct conf_identity *ci,
			       const char *name, struct ktls_config *cfg)
{
	const struct conf_pair *pair;
	size_t i;
	int ret;

	for (i = 0; i < ci->ci_pair_count; i++) {
		pair = &ci->ci_pairs[i];
		ret = ktls_config_add_identity(cfg, pair->pr_cert.cv_text, pair->pr_key.cv_text);
		if (ret)
			return conf_engine_fail(ps, pair->pr_cert.cv_line, name, cfg, ret);
	}
	return 0;
}

/* The engine config of identity @index in @role (KTLSD_ROLE_*). */
static struct ktls_config *conf_identity_config(struct conf_parser *ps, size_t index, int role)
{
	const struct conf_identity *ci = &ps->ps_identities[index];
	const char *name = ps->ps_conf->kc_identities[index].id_name;
	struct ktls_config *cfg = conf_engine_config(ps);
	int ret;

	if (!cfg)
		return NULL;
	if (conf_identity_pairs(ps, ci, name, cfg))
		goto out_free_cfg;
	/*
	 * A server needs trust anchors only to check client certificates,
	 * and a store costs time and memory in every config that loads it.
	 */
	if ((role == KTLSD_ROLE_CLIENT || ci->ci_verify_client != KTLS_VERIFY_NONE) &&
	    conf_apply_trust(ps, &ci->ci_trust, cfg))
		goto out_free_cfg;
	if (role == KTLSD_ROLE_CLIENT)
		ret = ktls_config_set_verify(cfg, ci->ci_verify);
	else
		ret = ktls_config_set_verify_client(cfg, ci->ci_verify_client);
	if (ret) {
		conf_engine_fail(ps, ci->ci_line, name, cfg, ret);
		goto out_free_cfg;
	}
	if (ci->ci_alpn.cv_text) {
		ret = ktls_config_set_alpn(cfg, ci->ci_alpn.cv_text);
		if (ret) {
			conf_engine_fail(ps, ci->ci_alpn.cv_line, "alpn", cfg, ret);
			goto out_free_cfg;
		}
	}
	return cfg;
out_free_cfg:
	ktls_config_free(cfg);
	return NULL;
}

static int conf_build_identity(struct conf_parser *ps, size_t index)
{
	struct ktlsd_identity *id = &ps->ps_conf->kc_identities[index];
	const struct conf_identity *ci = &ps->ps_identities[index];

	if (!ci->ci_pair_count)
		return conf_fail_at(ps, ci->ci_line, -EINVAL, "identity %s has no cert",
				    id->id_name);
	/* conf_set_cert() lets only the last pair lack its key */
	if (!ci->ci_pairs[ci->ci_pair_count - 1].pr_key.cv_text)
		return conf_fail_at(ps, ci->ci_pairs[ci->ci_pair_count - 1].pr_cert.cv_line,
				    -EINVAL, "cert without a key");
	if (id->id_roles & (1u << KTLSD_ROLE_SERVER)) {
		id->id_server_cfg = conf_identity_config(ps, index, KTLSD_ROLE_SERVER);
		if (!id->id_server_cfg)
			return ps->ps_err;
	}
	if (id->id_roles & (1u << KTLSD_ROLE_CLIENT)) {
		id->id_client_cfg = conf_identity_config(ps, index, KTLSD_ROLE_CLIENT);
		if (!id->id_client_cfg)
			return ps->ps_err;
	}
	return 0;
}

/* [handshake]'s identities exist and have the role they are named for. */
static int conf_check_handshake(struct conf_parser *ps)
{
	static const struct {
		const char *hk_key;
		size_t hk_field;
		int hk_role;
	} keys[] = {
		{ "server_identity", offsetof(struct ktlsd_conf, kc_hs_server_identity),
		  KTLSD_ROLE_SERVER },
		{ "client_identity", offsetof(struct ktlsd_conf, kc_hs_client_identity),
		  KTLSD_ROLE_CLIENT },
	};
	const struct ktlsd_identity *id;
	const char *name;
	size_t i;

	for (i = 0; i < CONF_ARRAY_SIZE(keys); i++) {
		name = (const char *)ps->ps_conf + keys[i].hk_field;
		if (!name[0])
			continue;
		id = ktlsd_conf_find_identity(ps->ps_conf, name);
		if (!id || !(id->id_roles & (1u << keys[i].hk_role)))
			return conf_fail_at(ps, conf_key_line(ps, CONF_HANDSHAKE, keys[i].hk_key),
					    -EINVAL, "%s: identity %s %s", keys[i].hk_key, name,
					    id ? "lacks that role" : "does not exist");
	}
	return 0;
}

static int conf_build(struct conf_parser *ps)
{
	size_t i;
	int ret;

	ret = conf_check_daemon(ps);
	if (!ret)
		ret = conf_check_trusts(ps);
	if (!ret)
		ret = conf_build_client(ps);
	for (i = 0; !ret && i < ps->ps_conf->kc_identity_count; i++)
		ret = conf_build_identity(ps, i);
	if (!ret)
		ret = conf_check_handshake(ps);
	return ret;
}

/* ---- lifetime ---- */

static struct ktlsd_conf *conf_new(void)
{
	struct ktlsd_conf *conf = calloc(1, sizeof(*conf));

	if (!conf)
		return NULL;
	conf->kc_refs = 1;
	strcpy(conf->kc_socket_path, KTLSD_DEFAULT_SOCKET);
	conf->kc_socket_mode = 0666;
	conf->kc_timeout_ms = 10000;
	conf->kc_max_timeout_ms = 60000;
	conf->kc_max_handshakes = 4096;
	conf->kc_max_per_uid = 256;
	conf->kc_log_level = LOG_INFO;
	conf->kc_netlink = KTLSD_NETLINK_AUTO;
	conf->kc_hs_serve = 1;
	return conf;
}

static void conf_free(struct ktlsd_conf *conf)
{
	struct ktlsd_identity *id;
	size_t i;

	for (i = 0; i < conf->kc_identity_count; i++) {
		id = &conf->kc_identities[i];
		if (id->id_server_cfg)
			ktls_config_free(id->id_server_cfg);
		if (id->id_client_cfg)
			ktls_config_free(id->id_client_cfg);
		conf_acl_free(&id->id_acl);
	}
	free(conf->kc_identities);
	if (conf->kc_client_cfg)
		ktls_config_free(conf->kc_client_cfg);
	conf_acl_free(&conf->kc_client_acl);
	free(conf);
}

static void conf_parser_release(struct conf_parser *ps)
{
	struct conf_identity *ci;
	size_t i, j;

	for (i = 0; i < ps->ps_trust_count; i++) {
		free(ps->ps_trusts[i].tr_name.cv_text);
		conf_values_free(&ps->ps_trusts[i].tr_files);
		conf_values_free(&ps->ps_trusts[i].tr_dirs);
	}
	free(ps->ps_trusts);
	for (i = 0; i < ps->ps_conf->kc_identity_count; i++) {
		ci = &ps->ps_identities[i];
		for (j = 0; j < ci->ci_pair_count; j++) {
			free(ci->ci_pairs[j].pr_cert.cv_text);
			free(ci->ci_pairs[j].pr_key.cv_text);
		}
		free(ci->ci_trust.cv_text);
		free(ci->ci_alpn.cv_text);
	}
	free(ps->ps_identities);
	free(ps->ps_client_trust.cv_text);
	free(ps->ps_tls.tl_ciphers.cv_text);
	free(ps->ps_tls.tl_groups.cv_text);
}

int ktlsd_conf_load(const char *path, struct ktlsd_conf **out, char *err, size_t errlen)
{
	struct conf_parser ps = {
		.ps_path = path,
		.ps_msg = err,
		.ps_msglen = errlen,
		.ps_client_verify = KTLS_VERIFY_REQUIRED,
	};
	int ret;

	*out = NULL;
	if (errlen)
		err[0] = 0;
	ps.ps_conf = conf_new();
	if (!ps.ps_conf)
		return conf_fail_at(&ps, 0, -ENOMEM, "out of memory");
	ps.ps_file = fopen(path, "re");
	if (!ps.ps_file) {
		ret = -errno;
		conf_fail_at(&ps, 0, ret, "%s", strerror(-ret));
		goto out_free_conf;
	}
	ret = conf_parse(&ps);
	fclose(ps.ps_file);
	if (!ret)
		ret = conf_build(&ps);
	conf_parser_release(&ps);
	if (ret)
		goto out_free_conf;
	*out = ps.ps_conf;
	return 0;
out_free_conf:
	conf_free(ps.ps_conf);
	return ret;
}

struct ktlsd_conf *ktlsd_conf_get(struct ktlsd_conf *conf)
{
	conf->kc_refs++;
	return conf;
}

void ktlsd_conf_put(struct ktlsd_conf *conf)
{
	if (conf && !--conf->kc_refs)
		conf_free(conf);
}

const struct ktlsd_identity *ktlsd_conf_find_identity(const struct ktlsd_conf *conf,
							const char *name)
{
	size_t i;

	for (i = 0; i < conf->kc_identity_count; i++)
		if (!strcmp(conf->kc_identities[i].id_name, name))
			return &conf->kc_identities[i];
	return NULL;
}
