// SPDX-License-Identifier: GPL-2.0-only
/*
 * Logging: syslog (the journal picks it up), or stderr in the foreground.
 * Lines never carry key material; peer-chosen strings are escaped by the
 * caller before they get here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"

static int log_to_stderr;
static int log_level = LOG_INFO;

void ktlsd_log_open(int foreground, int level)
{
	log_to_stderr = foreground;
	log_level = level;
	if (!foreground)
		openlog("ktlsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void ktlsd_log_set_level(int level)
{
	log_level = level;
}

void ktlsd_log(int level, const char *fmt, ...)
{
	va_list ap;
	char line[2048];
	int n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	if (log_to_stderr) {
		/* One write per line: lines of concurrent writers never interleave. */
		n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
		if (n < 0)
			n = 0;
		if ((size_t)n > sizeof(line) - 2)
			n = sizeof(line) - 2;
		line[n++] = '\n';
		if (write(STDERR_FILENO, line, (size_t)n) < 0)
			n = 0;	/* nowhere left to say it */
	} else {
		vsyslog(level, fmt, ap);
	}
	va_end(ap);
}
