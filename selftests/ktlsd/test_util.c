// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_util.c - what the ktlsd selftests share; see test_util.h.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

/* How long a stopped process gets between a polite signal and SIGKILL. */
#define TU_STOP_GRACE_MS	2000
#define TU_POLL_US		20000

/* ------------------------------------------------------------ time and fds */

long long tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tu_ms_left(long long deadline)
{
	long long left = deadline - tu_now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

int tu_set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK))
		return -errno;
	return 0;
}

int tu_wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ret;

	do {
		ret = poll(&pfd, 1, tu_ms_left(deadline));
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret ? 0 : -ETIMEDOUT;
}

/* ------------------------------------------------------------ files */

int tu_read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = 0;
	return (int)n;
}

int tu_file_has(const char *path, const char *text)
{
	static char buf[65536];

	return tu_read_text(path, buf, sizeof(buf)) > 0 && strstr(buf, text);
}

/* ------------------------------------------------------------ our programs */

int tu_beside_self(const char *rel, char *path, size_t size, int mode)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	if ((size_t)snprintf(path, size, "%s/%s", self, rel) >= size)
		return -ENAMETOOLONG;
	return access(path, mode) ? -errno : 0;
}

int tu_tool_path(const char *tool, char *path, size_t size)
{
	const char *env = getenv("KTLS_BIN");
	char rel[128];

	if (env && *env) {
		if ((size_t)snprintf(path, size, "%s/%s", env, tool) >= size)
			return -ENAMETOOLONG;
		return access(path, X_OK) ? -errno : 0;
	}
	if ((size_t)snprintf(rel, sizeof(rel), "../bin/%s", tool) >= sizeof(rel))
		return -ENAMETOOLONG;
	return tu_beside_self(rel, path, size, X_OK);
}

int tu_module_load(const char *name, const char *env, const char *subdir, char *why,
		   size_t why_size)
{
	const char *given = env ? getenv(env) : NULL;
	char path[PATH_MAX], rel[256];
	struct utsname un;
	int fd, ret;

	if (why_size)
		why[0] = 0;
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (!access(path, F_OK))
		return 1;
	if (uname(&un)) {
		ret = -errno;
		snprintf(why, why_size, "uname: %s", strerror(errno));
		return ret;
	}
	snprintf(rel, sizeof(rel), "%s/%s/%s.ko", subdir, un.release, name);
	if (given && *given)
		snprintf(path, sizeof(path), "%s", given);
	else if (tu_beside_self(rel, path, sizeof(path), R_OK) &&
		 (size_t)snprintf(path, sizeof(path), "build/%s", rel) >= sizeof(path)) {
		snprintf(why, why_size, "build/%.300s: name too long", rel);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, why_size, "%.300s: %s (make %s)", path, strerror(errno),
			 strcmp(subdir, "module") ? "selftests-kmod" : "module");
		return -ENOENT;
	}
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	if (ret == -EEXIST)
		return 1;
	if (ret)
		snprintf(why, why_size, "finit_module %.300s: %s", path, strerror(-ret));
	return ret;
}

int tu_module_unload(const char *name, int wait_ms)
{
	long long deadline = tu_now_ms() + wait_ms;

	for (;;) {
		if (!syscall(SYS_delete_module, name, O_NONBLOCK))
			return 0;
		if ((errno != EWOULDBLOCK && errno != EBUSY) || tu_now_ms() >= deadline)
			return -errno;
		usleep(50000);
	}
}

/* ------------------------------------------------------------ processes */

void tu_proc_init(struct tu_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->in = p->out = -1;
	p->status = -1;
}

int tu_proc_start(struct tu_proc *p, const char *dir, const char *name, char *const argv[],
		  unsigned int flags)
{
	int in[2], out[2] = { -1, -1 }, pipe_out = flags & TU_PROC_PIPE_OUT, log, ret;

	snprintf(p->log, sizeof(p->log), "%s/%s.log", dir, name);
	log = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log < 0)
		return -errno;
	if (pipe2(in, O_CLOEXEC)) {
		ret = -errno;
		goto out_close_log;
	}
	if (pipe_out && pipe2(out, O_CLOEXEC)) {
		ret = -errno;
		goto out_close_in;
	}
	p->pid = fork();
	if (p->pid < 0) {
		ret = -errno;
		goto out_close_out;
	}
	if (!p->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) < 0 || dup2(pipe_out ? out[1] : log, 1) < 0 ||
		    dup2(log, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(log);
	p->in = in[1];
	if (pipe_out) {
		close(out[1]);
		p->out = out[0];
	}
	if (!(flags & TU_PROC_NONBLOCK))
		return 0;
	ret = tu_set_nonblocking(p->in);
	if (!ret && p->out >= 0)
		ret = tu_set_nonblocking(p->out);
	return ret;

out_close_out:
	if (pipe_out) {
		close(out[0]);
		close(out[1]);
	}
out_close_in:
	close(in[0]);
	close(in[1]);
out_close_log:
	close(log);
	return ret;
}

void tu_proc_close_stdin(struct tu_proc *p)
{
	if (p->in >= 0)
		close(p->in);
	p->in = -1;
}

int tu_proc_running(struct tu_proc *p)
{
	int status;

	if (p->pid <= 0)
		return 0;
	if (waitpid(p->pid, &status, WNOHANG) != p->pid)
		return 1;
	/* Reaped here: tu_proc_wait() still gets its status. */
	p->pid = -1;
	p->status = status;
	return 0;
}

int tu_proc_wait(struct tu_proc *p, int timeout_ms)
{
	long long deadline = tu_now_ms() + timeout_ms;

	while (tu_proc_running(p)) {
		if (tu_now_ms() >= deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &p->status, 0);
			p->pid = -1;
			return -ETIMEDOUT;
		}
		usleep(TU_POLL_US);
	}
	if (p->status < 0)
		return -ECHILD;
	return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 128 + WTERMSIG(p->status);
}

void tu_proc_stop(struct tu_proc *p, int sig)
{
	tu_proc_close_stdin(p);
	if (p->pid > 0) {
		kill(p->pid, sig);
		if (sig == SIGKILL) {
			waitpid(p->pid, &p->status, 0);
			p->pid = -1;
		} else {
			/* Killed and reaped there when it does not go in time. */
			tu_proc_wait(p, TU_STOP_GRACE_MS);
		}
	}
	if (p->out >= 0)
		close(p->out);
	p->out = -1;
}

int tu_proc_log_has(const struct tu_proc *p, const char *text)
{
	return p->log[0] && tu_file_has(p->log, text);
}

int tu_run(const char *dir, char *const argv[], int timeout_ms)
{
	struct tu_proc p;
	int ret;

	tu_proc_init(&p);
	ret = tu_proc_start(&p, dir, "run", argv, 0);
	tu_proc_close_stdin(&p);
	if (!ret)
		ret = tu_proc_wait(&p, timeout_ms);
	return ret > 0 ? -EIO : ret;
}

int tu_start_ktlsd(struct tu_proc *p, const char *dir, const char *conf, const char *ready,
		   int timeout_ms)
{
	char path[PATH_MAX];
	char *argv[] = { path, "-f", "-c", (char *)conf, NULL };
	long long deadline = tu_now_ms() + timeout_ms;
	int ret;

	ret = tu_tool_path("ktlsd", path, sizeof(path));
	if (!ret)
		ret = tu_proc_start(p, dir, "ktlsd", argv, 0);
	while (!ret && !tu_proc_log_has(p, ready)) {
		if (!tu_proc_running(p))
			return -ESRCH;
		if (tu_now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(TU_POLL_US);
	}
	return ret;
}

/* ------------------------------------------------------------ certificates */

#define TU_CERT_DAYS	"2"

int tu_make_ca(const char *dir, const char *cn, const char *key, const char *cert)
{
	char subj[128];
	char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
			 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", (char *)key,
			 "-out", (char *)cert, "-days", TU_CERT_DAYS, "-subj", subj,
			 "-addext", "basicConstraints=critical,CA:TRUE",
			 "-addext", "keyUsage=critical,keyCertSign", NULL };

	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	return tu_run(dir, argv, 20000);
}

int tu_make_cert(const char *dir, const char *ca, const char *ca_key, const char *host,
		 const char *san, int serial, const char *key, const char *cert)
{
	char csr[PATH_MAX], ext[PATH_MAX], subj[128], serial_arg[16];
	char *csr_argv[] = { "openssl", "req", "-newkey", "ec", "-pkeyopt",
			     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", (char *)key,
			     "-out", csr, "-subj", subj, NULL };
	char *sign_argv[] = { "openssl", "x509", "-req", "-in", csr, "-CA", (char *)ca,
			      "-CAkey", (char *)ca_key, "-set_serial", serial_arg,
			      "-days", TU_CERT_DAYS, "-out", (char *)cert, "-extfile", ext, NULL };
	FILE *f;
	int ret;

	snprintf(csr, sizeof(csr), "%s/%s.csr", dir, host);
	snprintf(ext, sizeof(ext), "%s/%s.ext", dir, host);
	snprintf(subj, sizeof(subj), "/CN=%s", host);
	snprintf(serial_arg, sizeof(serial_arg), "%d", serial);
	f = fopen(ext, "we");
	if (!f)
		return -errno;
	fprintf(f, "subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
		"keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n",
		san);
	if (fclose(f))
		return -errno;
	ret = tu_run(dir, csr_argv, 20000);
	return ret ? ret : tu_run(dir, sign_argv, 20000);
}

/* ------------------------------------------------------------ loopback */

int tu_loopback_listener(int *port, int backlog)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&addr, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	*port = ntohs(addr.sin_port);
	return fd;
}

int tu_free_port(void)
{
	int port, fd;

	fd = tu_loopback_listener(&port, 1);
	if (fd < 0)
		return fd;
	close(fd);
	return port;
}

/* ------------------------------------------------------------ tls_stat */

static const struct {
	const char	*name;
	size_t		offset;
} tu_tls_stat_fields[] = {
	{ "TlsTxSw",		offsetof(struct tu_tls_stat, tx_sw) },
	{ "TlsRxSw",		offsetof(struct tu_tls_stat, rx_sw) },
	{ "TlsCurrTxSw",	offsetof(struct tu_tls_stat, curr_tx_sw) },
	{ "TlsCurrRxSw",	offsetof(struct tu_tls_stat, curr_rx_sw) },
	{ "TlsDecryptError",	offsetof(struct tu_tls_stat, decrypt_error) },
};

int tu_read_tls_stat(struct tu_tls_stat *st)
{
	char name[64];
	long value;
	size_t i;
	FILE *f;

	memset(st, 0, sizeof(*st));
	f = fopen("/proc/net/tls_stat", "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fscanf(f, "%63s %ld", name, &value) == 2)
		for (i = 0; i < sizeof(tu_tls_stat_fields) / sizeof(tu_tls_stat_fields[0]); i++)
			if (!strcmp(name, tu_tls_stat_fields[i].name))
				*(long *)((char *)st + tu_tls_stat_fields[i].offset) = value;
	fclose(f);
	return 0;
}
