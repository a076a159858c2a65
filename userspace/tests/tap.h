/* SPDX-License-Identifier: GPL-2.0-only */
/* Minimal TAP producer for the C unit tests (run by prove). */
#ifndef KTLS_TAP_H
#define KTLS_TAP_H

#include <stddef.h>

void tap_plan(int count);
/* Reports one test; returns @ok so callers can chain. */
int tap_ok(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ok if the @len bytes match; on mismatch prints both as hex. */
int tap_mem_eq(const void *got, const void *want, size_t len, const char *what);
/* Decodes a hex string (whitespace ignored) into a malloc'ed buffer. */
unsigned char *tap_unhex(const char *hex, size_t *len);
/* Exit status for main: 0 when every planned test ran and passed. */
int tap_done(void);

#endif
