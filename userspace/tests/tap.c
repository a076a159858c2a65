// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static int tap_planned = -1;
static int tap_run;
static int tap_failed;

void tap_plan(int count)
{
	tap_planned = count;
	printf("1..%d\n", count);
}

int tap_ok(int ok, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - ", ok ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return ok;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void tap_hexdump(const char *label, const unsigned char *p, size_t len)
{
	size_t i;

	printf("# %s:", label);
	for (i = 0; i < len; i++)
		printf("%s%02x", i % 32 ? "" : "\n#   ", p[i]);
	putchar('\n');
}

int tap_mem_eq(const void *got, const void *want, size_t len, const char *what)
{
	int ok = memcmp(got, want, len) == 0;

	if (!ok) {
		tap_hexdump("got", got, len);
		tap_hexdump("want", want, len);
	}
	return tap_ok(ok, "%s", what);
}

static int tap_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

unsigned char *tap_unhex(const char *hex, size_t *len)
{
	unsigned char *out = malloc(strlen(hex) / 2 + 1);
	size_t n = 0;
	int hi = -1;

	if (!out)
		abort();
	for (; *hex; hex++) {
		int v = tap_hexval((unsigned char)*hex);

		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	*len = n;
	return out;
}

int tap_done(void)
{
	if (tap_planned >= 0 && tap_run != tap_planned) {
		tap_diag("planned %d tests, ran %d", tap_planned, tap_run);
		return 1;
	}
	return tap_failed ? 1 : 0;
}
