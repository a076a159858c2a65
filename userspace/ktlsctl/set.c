// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsctl set timeout MS, ktlsctl set max-pending N: the module's settings
 * for this network namespace, one KTLSD_CMD_SET each.
 *
 * The value is checked here first, so that a typo is a usage error (exit
 * 2) whether or not the module is loaded; the module has the last word on
 * the range and says why in its extended ack. The command needs
 * CAP_NET_ADMIN in the namespace's user namespace, which only the kernel
 * can judge, so it is not checked beforehand.
 */
#include <errno.h>
#include <limits.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdlib.h>
#include <string.h>

#include "ktlsctl.h"

struct setting {
	const char	*se_keyword;	/* as typed after "set" */
	const char	*se_unit;	/* for messages */
	int		se_attr;	/* u32 attribute of KTLSD_CMD_SET */
};

static const struct setting timeout_setting = {
	"timeout", "milliseconds", KTLSD_A_TIMEOUT_MS,
};

static const struct setting max_pending_setting = {
	"max-pending", "requests", KTLSD_A_MAX_PENDING,
};

/*
 * A positive decimal number that fits the u32 attribute: no sign, no
 * blanks, no hexadecimal, since strtoul would take all of those. Zero is
 * refused as well: no timeout at all, or no requests at all, is not a
 * setting anyone means to make.
 */
static int parse_value(const char *text, uint32_t *value)
{
	unsigned long long v;
	char *end;

	if (!text[0] || strspn(text, "0123456789") != strlen(text))
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -ERANGE;
	if (v == 0)
		return -EINVAL;
	*value = (uint32_t)v;
	return 0;
}

static int set_one(const struct setting *se, const char *text)
{
	struct module_conn mc;
	struct nl_msg *msg;
	uint32_t value;
	char what[64];
	int status, err;

	err = parse_value(text, &value);
	if (err) {
		fprintf(stderr, "Error: set %s: \"%s\" is not a number of %s from 1 to %u.\n",
			se->se_keyword, text, se->se_unit, UINT32_MAX);
		return KTLSCTL_EXIT_USAGE;
	}
	status = module_open(&mc, "set");
	if (status)
		return status;
	msg = module_message(&mc, KTLSD_CMD_SET, false);
	if (!msg) {
		err = -ENOMEM;
	} else if (nla_put_u32(msg, se->se_attr, value) < 0) {
		nlmsg_free(msg);
		err = -ENOMEM;
	} else {
		err = module_exchange(&mc, msg, NULL, NULL);
	}
	if (err == -EPERM) {
		fprintf(stderr, "Error: set %s needs CAP_NET_ADMIN: %s.\n", se->se_keyword,
			strerror(EPERM));
	} else if (err) {
		snprintf(what, sizeof(what), "set %s %u", se->se_keyword, value);
		module_print_error(&mc, what, err);
	}
	module_disconnect(&mc);
	return err ? KTLSCTL_EXIT_FAILURE : KTLSCTL_EXIT_OK;
}

int set_timeout(const struct ktlsctl *ctl, const char *arg)
{
	return set_one(&timeout_setting, arg);
}

int set_max_pending(const struct ktlsctl *ctl, const char *arg)
{
	return set_one(&max_pending_setting, arg);
}
