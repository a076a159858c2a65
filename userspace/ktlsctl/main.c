// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsctl [OPTIONS] OBJECT { COMMAND | help }
 *
 * The command table below is the whole interface: dispatch walks it, and
 * every help text, the general one and each object's, is printed from it,
 * so a command cannot exist without its help line or the other way round.
 * Keywords match exactly, as in iproute2's newer tools: "sock" is not
 * "socket". A missing COMMAND means "show" where an object has one.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ktls.h"
#include "ktlsctl.h"

#define DEFAULT_COMMAND	"show"
/* Width of the "ktlsctl OBJECT COMMAND ARGS" column in help. */
#define HELP_COLUMN	28

struct ktlsctl_command {
	const char	*kcc_object;
	const char	*kcc_command;	/* NULL: the object is the command */
	const char	*kcc_arg;	/* the one argument after the command, for help; NULL: none */
	const char	*kcc_help;
	command_fn	kcc_run;
};

static const struct ktlsctl_command commands[] = {
	{ "socket", "show", NULL, "the kTLS sockets of this network namespace",
	  socket_show },
	{ "stats", "show", NULL, "kernel TLS, daemon and module counters", stats_show },
	{ "request", "show", NULL, "the module's pending and recent handshakes",
	  request_show },
	{ "monitor", NULL, NULL, "the module's handshake events as they happen", monitor_run },
	{ "set", "timeout", "MS", "the module's default handshake timeout", set_timeout },
	{ "set", "max-pending", "N", "the module's limit on requests in progress",
	  set_max_pending },
};

static const char options_help[] =
	"Options:\n"
	"  -j, --json            JSON output, one document\n"
	"  -p, --pretty          JSON output, indented (implies -j)\n"
	"  -s, --socket SOCKET   the daemon's unix socket (default: $KTLSD_SOCKET,\n"
	"                        else " KTLSD_DEFAULT_SOCKET ")\n"
	"  -h, --help            this help\n";

static void print_command_line(FILE *out, const struct ktlsctl_command *c)
{
	char line[128];

	snprintf(line, sizeof(line), "ktlsctl %s%s%s%s%s", c->kcc_object,
		 c->kcc_command ? " " : "", c->kcc_command ? c->kcc_command : "",
		 c->kcc_arg ? " " : "", c->kcc_arg ? c->kcc_arg : "");
	fprintf(out, "    %-*s %s\n", HELP_COLUMN, line, c->kcc_help);
}

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"Usage: ktlsctl [OPTIONS] OBJECT { COMMAND | help }\n"
		"       ktlsctl [OPTIONS] help\n"
		"where  OBJECT := { socket | stats | request | monitor | set }\n"
		"Commands (COMMAND defaults to show):\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		print_command_line(out, &commands[i]);
	fputs(options_help, out);
}

/* "Usage: ktlsctl [OPTIONS] socket { show | help }" and the object's lines. */
static void object_usage(FILE *out, const char *object)
{
	const struct ktlsctl_command *c;
	const char *word;
	bool any = false;
	size_t i;

	fprintf(out, "Usage: ktlsctl [OPTIONS] %s ", object);
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		c = &commands[i];
		word = c->kcc_command;
		if (strcmp(c->kcc_object, object) || !word)
			continue;
		fprintf(out, "%s%s | ", any ? "" : "{ ", word);
		any = true;
	}
	/* An object used alone, such as monitor, takes only help. */
	fputs(any ? "help }\n" : "[ help ]\n", out);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].kcc_object, object))
			print_command_line(out, &commands[i]);
}

static bool object_exists(const char *object)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].kcc_object, object))
			return true;
	return false;
}

/*
 * The entry for OBJECT and the word after it: for an object without
 * commands the word is an argument; no word means show.
 */
static const struct ktlsctl_command *find_command(const char *object, const char *word,
						  bool *word_is_command)
{
	size_t i;

	*word_is_command = false;
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct ktlsctl_command *c = &commands[i];

		if (strcmp(c->kcc_object, object))
			continue;
		if (!c->kcc_command)
			return c;
		if (!strcmp(c->kcc_command, word ? word : DEFAULT_COMMAND)) {
			*word_is_command = word != NULL;
			return c;
		}
	}
	return NULL;
}

static int run_object(const struct ktlsctl *ctl, int argc, char **argv)
{
	const char *object = argv[0], *word = argc > 1 ? argv[1] : NULL, *arg = NULL;
	const struct ktlsctl_command *c;
	bool word_is_command;
	int used;

	if (!object_exists(object)) {
		fprintf(stderr, "Error: unknown object \"%s\".\n", object);
		usage(stderr);
		return KTLSCTL_EXIT_USAGE;
	}
	if (word && !strcmp(word, "help") && argc == 2) {
		object_usage(stdout, object);
		return KTLSCTL_EXIT_OK;
	}
	c = find_command(object, word, &word_is_command);
	if (!c) {
		if (word)
			fprintf(stderr, "Error: unknown command \"%s\" for object \"%s\".\n",
				word, object);
		else
			fprintf(stderr, "Error: object \"%s\" needs a command.\n", object);
		object_usage(stderr, object);
		return KTLSCTL_EXIT_USAGE;
	}
	used = 1 + word_is_command;
	if (c->kcc_arg) {
		if (argc <= used) {
			fprintf(stderr, "Error: \"%s %s\" needs %s.\n", object, c->kcc_command,
				c->kcc_arg);
			object_usage(stderr, object);
			return KTLSCTL_EXIT_USAGE;
		}
		arg = argv[used++];
	}
	if (argc > used) {
		fprintf(stderr, "Error: unexpected argument \"%s\".\n", argv[used]);
		object_usage(stderr, object);
		return KTLSCTL_EXIT_USAGE;
	}
	return c->kcc_run(ctl, arg);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ktlsctl ctl = { 0 };
	int opt;

	/* "+": options end at OBJECT, as in ip(8). */
	while ((opt = getopt_long(argc, argv, "+jps:h", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			ctl.kc_json = true;
			break;
		case 'p':
			ctl.kc_json = true;
			ctl.kc_pretty = true;
			break;
		case 's':
			ctl.kc_daemon_socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return KTLSCTL_EXIT_OK;
		default:
			usage(stderr);
			return KTLSCTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fprintf(stderr, "Error: no object given.\n");
		usage(stderr);
		return KTLSCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[0], "help")) {
		if (argc > 1) {
			fprintf(stderr, "Error: unexpected argument \"%s\".\n", argv[1]);
			usage(stderr);
			return KTLSCTL_EXIT_USAGE;
		}
		usage(stdout);
		return KTLSCTL_EXIT_OK;
	}
	return run_object(&ctl, argc, argv);
}
