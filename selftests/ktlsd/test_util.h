/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_util.h - what the ktlsd selftests share.
 *
 * Each selftest program is built from its own file and test_util.c
 * (selftests/selftests.mk). These are the helpers that several programs
 * had written again each: the clock, finding our tools and modules beside
 * the test binary, child processes with their output in a log, openssl(1)
 * certificates, starting ktlsd, loopback ports, /proc/net/tls_stat and
 * loading and unloading a module. Nothing here uses the kselftest
 * harness, so it builds on its own; the two macros at the end do, and
 * expand only in the test programs, after kselftest_harness.h.
 *
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef KTLSD_SELFTEST_UTIL_H
#define KTLSD_SELFTEST_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* ---- time and file descriptors */

/* CLOCK_MONOTONIC in milliseconds. */
long long tu_now_ms(void);

/* Milliseconds to @deadline (tu_now_ms() based), clamped for poll(). */
int tu_ms_left(long long deadline);

int tu_set_nonblocking(int fd);

/* 0 once @fd has one of @events, -ETIMEDOUT at @deadline. */
int tu_wait_fd(int fd, short events, long long deadline);

/* ---- files */

/* @path into @buf, NUL-terminated and cut at @size - 1: its length, or -errno. */
int tu_read_text(const char *path, char *buf, size_t size);

/* Does the file @path hold @text? */
int tu_file_has(const char *path, const char *text);

/* ---- our own programs and modules */

/*
 * @rel relative to the directory of this program, as "<dir>/<rel>", if
 * access(2) grants @mode on it: the build tree keeps the selftests in
 * build/selftests, the tools in build/bin and the modules in build/module.
 */
int tu_beside_self(const char *rel, char *path, size_t size, int mode);

/* One of our programs: $KTLS_BIN/@tool, else ../bin/@tool beside this one. */
int tu_tool_path(const char *tool, char *path, size_t size);

/*
 * Loads module @name, unless it is in already: from $@env when that is set, else from
 * ../@subdir/<release>/@name.ko beside this program, else from
 * build/@subdir/<release>/@name.ko (run from the source tree). 0 when this
 * call loaded it, 1 when it was in already, -ENOENT with no file to load,
 * another negative errno when the kernel refused it; @why says why.
 */
int tu_module_load(const char *name, const char *env, const char *subdir, char *why,
		   size_t why_size);

/*
 * Unloads module @name, trying again for up to @wait_ms while it is busy:
 * sockets and requests can hold it a moment after they closed.
 */
int tu_module_unload(const char *name, int wait_ms);

/* ---- child processes */

struct tu_proc {
	pid_t	pid;		/* -1 when not running (or reaped) */
	int	in;		/* our end of its stdin, -1 when closed */
	int	out;		/* our end of its stdout, -1 when it goes to the log */
	int	status;		/* its wait status once reaped, else -1 */
	char	log[128];	/* its stderr, and its stdout without a pipe */
};

#define TU_PROC_PIPE_OUT	0x1	/* its stdout on a pipe, not in the log */
#define TU_PROC_NONBLOCK	0x2	/* our ends of its pipes are O_NONBLOCK */

void tu_proc_init(struct tu_proc *p);

/*
 * Runs @argv (looked up in PATH) with its stdin on a pipe, its output in
 * @dir/@name.log. The child gets SIGKILL when this process ends, so no
 * helper outlives its test.
 */
int tu_proc_start(struct tu_proc *p, const char *dir, const char *name, char *const argv[],
		  unsigned int flags);

void tu_proc_close_stdin(struct tu_proc *p);

/* 1 while it runs; reaps it (keeping the status) once it has exited. */
int tu_proc_running(struct tu_proc *p);

/*
 * Its exit status (128 + signal when killed) within @timeout_ms, else it
 * is killed: -ETIMEDOUT. -ECHILD when it never ran.
 */
int tu_proc_wait(struct tu_proc *p, int timeout_ms);

/*
 * Closes its stdin and ends it with @sig: SIGKILL at once; another signal
 * gets 2 s before SIGKILL. Closes our end of its stdout.
 */
void tu_proc_stop(struct tu_proc *p, int sig);

/* Does its log hold @text? */
int tu_proc_log_has(const struct tu_proc *p, const char *text);

/* A command that must succeed: 0, -EIO when it exits non-zero, -ETIMEDOUT. */
int tu_run(const char *dir, char *const argv[], int timeout_ms);

/*
 * ktlsd -f -c @conf as @p, its log in @dir; 0 once the log shows @ready
 * (the frontend the test needs is serving), -ESRCH if it exits first,
 * -ETIMEDOUT after @timeout_ms.
 */
int tu_start_ktlsd(struct tu_proc *p, const char *dir, const char *conf, const char *ready,
		   int timeout_ms);

/* ---- certificates, with openssl(1) */

/* A self-signed P-256 CA named @cn: @key and @cert. */
int tu_make_ca(const char *dir, const char *cn, const char *key, const char *cert);

/*
 * A P-256 key and a certificate for CN=@host with serial @serial, signed by
 * @ca/@ca_key, for serverAuth and clientAuth, with subjectAltName @san
 * ("DNS:localhost,IP:127.0.0.1"). Its CSR and extensions go to @dir.
 */
int tu_make_cert(const char *dir, const char *ca, const char *ca_key, const char *host,
		 const char *san, int serial, const char *key, const char *cert);

/* ---- loopback */

/* A TCP listener on 127.0.0.1, an ephemeral port: its fd, the port in *@port. */
int tu_loopback_listener(int *port, int backlog);

/* A port free on 127.0.0.1 now (bound, then let go), for peers that cannot say theirs. */
int tu_free_port(void);

/* ---- /proc/net/tls_stat */

struct tu_tls_stat {
	long	tx_sw;		/* TlsTxSw: sockets that had TX in software, ever */
	long	rx_sw;		/* TlsRxSw */
	long	curr_tx_sw;	/* TlsCurrTxSw: such sockets open now */
	long	curr_rx_sw;	/* TlsCurrRxSw */
	long	decrypt_error;	/* TlsDecryptError */
};

/* Before the tls module is loaded there is no file: all counters are 0. */
int tu_read_tls_stat(struct tu_tls_stat *st);

/* ---- for the test programs (kselftest_harness.h first) */

/* KTLS_TEST_FIXTURE=<fixture> runs that fixture alone: the others skip in setup. */
#define SKIP_UNLESS_FIXTURE(name)						\
	do {									\
		const char *only = getenv("KTLS_TEST_FIXTURE");			\
		if (only && *only && strcmp(only, name))			\
			SKIP(longjmp(_metadata->env, 1), "KTLS_TEST_FIXTURE=%s", only); \
	} while (0)

/* A log file into the test's output, line by line, for a failing test. */
#define TU_LOG_DUMP(path)							\
	do {									\
		char __tu_buf[8192], *__tu_line, *__tu_save = NULL;		\
										\
		if (!(path)[0] || tu_read_text(path, __tu_buf, sizeof(__tu_buf)) <= 0) \
			break;							\
		TH_LOG("---- %s:", path);					\
		for (__tu_line = strtok_r(__tu_buf, "\n", &__tu_save); __tu_line; \
		     __tu_line = strtok_r(NULL, "\n", &__tu_save))		\
			TH_LOG("  | %s", __tu_line);				\
	} while (0)

#endif /* KTLSD_SELFTEST_UTIL_H */
