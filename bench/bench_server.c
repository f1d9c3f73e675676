/*
 * bench_server.c - the paywire-server child of paywire-bench: start on a free
 * port with fresh secrets, wait until it answers, stop with SIGTERM by pid.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "pw_common.h"

extern char **environ;

#define BENCH_START_ATTEMPTS 3        /* a free port can be taken before the child binds it */
#define BENCH_START_WAIT_MS 15000     /* the child must answer within this */
#define BENCH_STOP_WAIT_MS 20000      /* SIGTERM drains (the server's default is 10 s) */
#define BENCH_PROBE_TIMEOUT_MS 200u   /* one readiness probe */
#define BENCH_ENV_MAX 512             /* environment entries passed on to the child */
#define BENCH_ARGV_MAX 24

/* A session id that is well-formed but cannot exist: answered NOT_FOUND. */
static const char bench_probe_id[] = "cs_00000000000000000000000000000000000000000000";

void
bench_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick). */
static int
bench_port_free(unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd;
	int rv;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "bench: socket: %s\n", strerror(errno));
		return -1;
	}
	rv = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
	if (rv == 0) {
		rv = getsockname(fd, (struct sockaddr *) &sa, &len);
	}
	if (rv != 0) {
		fprintf(stderr, "bench: cannot find a free port: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	close(fd);
	return 0;
}

/* The child's environment: the parent's minus every PAYWIRE_* variable but
 * PAYWIRE_STORE (no stray webhook secret or config reaches the benchmarked
 * server; the store is the one --store named), plus the three secrets.
 * envp[] points into environ and into the three buffers given. */
static void
bench_env_build(char **envp, size_t envp_max, char *admin, char *token, char *stripe)
{
	size_t n = 0;

	for (char **e = environ; *e != NULL && n + 4 < envp_max; e++) {
		/* PAYWIRE_STORE is the engine under test (--store), set by main */
		if (strncmp(*e, "PAYWIRE_", 8) != 0 || strncmp(*e, "PAYWIRE_STORE=", 14) == 0) {
			envp[n++] = *e;
		}
	}
	envp[n++] = admin;
	envp[n++] = token;
	envp[n++] = stripe;
	envp[n] = NULL;
	PW_ASSERT(n < envp_max);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static _Noreturn void
bench_child_exec(const char *bin, char *const *argv, char *const *envp, int out_fd,
    int err_fd, int null_fd, pid_t parent)
{
	sigset_t none;

	/* The child must not outlive a bench that was killed. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) {
		_exit(126);
	}
	signal(SIGPIPE, SIG_DFL); /* ignored dispositions survive exec */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(err_fd, STDERR_FILENO) < 0) {
		_exit(126);
	}
	execve(bin, argv, envp);
	_exit(127);
}

int
bench_proc_spawn(const char *bin, char *const *argv, char *const *envp, int out_fd,
    int err_fd, pid_t *pid_out)
{
	pid_t parent = getpid();
	int null_fd;
	pid_t pid;

	PW_ASSERT(bin != NULL && argv != NULL && envp != NULL && pid_out != NULL);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		fprintf(stderr, "bench: cannot open /dev/null: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		bench_child_exec(bin, argv, envp, out_fd, err_fd, null_fd, parent);
	}
	close(null_fd);
	if (pid < 0) {
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		return -1;
	}
	*pid_out = pid;
	return 0;
}

int
bench_proc_stop(pid_t *pid, int wait_ms)
{
	int64_t deadline = pw_monotonic_ms() + wait_ms;
	int wstatus = 0;
	pid_t w = 0;

	PW_ASSERT(pid != NULL && *pid > 0);
	if (kill(*pid, SIGTERM) != 0) {
		fprintf(stderr, "bench: kill(%ld, SIGTERM): %s\n", (long) *pid, strerror(errno));
	}
	while (pw_monotonic_ms() < deadline) {
		w = waitpid(*pid, &wstatus, WNOHANG);
		if (w == *pid || (w < 0 && errno != EINTR)) {
			break;
		}
		bench_sleep_ms(10);
	}
	if (w != *pid) {
		fprintf(stderr, "bench: pid %ld did not stop within %d ms of SIGTERM: killed\n",
		    (long) *pid, wait_ms);
		kill(*pid, SIGKILL);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR) {
		}
		*pid = 0;
		return -1;
	}
	*pid = 0;
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

/* Forks and execs the server with argv; output goes to s->log_path. */
static int
bench_server_spawn(bench_server *s, const char *bin, char *const *argv)
{
	char admin[sizeof("PAYWIRE_ADMIN_KEY=") + BENCH_SECRET_HEX_BYTES];
	char token[sizeof("PAYWIRE_TOKEN_SECRET=") + BENCH_SECRET_HEX_BYTES];
	char stripe[sizeof("PAYWIRE_STRIPE_WEBHOOK_SECRET=") + sizeof(s->stripe_secret)];
	char *envp[BENCH_ENV_MAX];
	int log_fd;
	int rv = -1;

	snprintf(admin, sizeof(admin), "PAYWIRE_ADMIN_KEY=%s", s->admin_key);
	snprintf(token, sizeof(token), "PAYWIRE_TOKEN_SECRET=%s", s->token_secret);
	snprintf(stripe, sizeof(stripe), "PAYWIRE_STRIPE_WEBHOOK_SECRET=%s", s->stripe_secret);
	bench_env_build(envp, BENCH_ENV_MAX, admin, token, stripe);
	log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		fprintf(stderr, "bench: cannot open %s: %s\n", s->log_path, strerror(errno));
	} else {
		rv = bench_proc_spawn(bin, argv, envp, log_fd, log_fd, &s->pid);
		close(log_fd);
	}
	sodium_memzero(admin, sizeof(admin));
	sodium_memzero(token, sizeof(token));
	sodium_memzero(stripe, sizeof(stripe));
	return rv;
}

/* 1: the child answered NOT_FOUND on both URLs; 0: not yet; -1: it exited
 * (*code: its exit code, or -1 for a signal). */
static int
bench_server_probe(bench_server *s, pw_client *ipc, pw_client *tcp, int *code)
{
	pw_status_info info;
	int wstatus;
	pid_t w;

	w = waitpid(s->pid, &wstatus, WNOHANG);
	if (w == s->pid) {
		s->pid = 0;
		*code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
		return -1;
	}
	if (pw_status_get(ipc, bench_probe_id, &info, NULL) != PW_NOT_FOUND) {
		return 0;
	}
	return pw_status_get(tcp, bench_probe_id, &info, NULL) == PW_NOT_FOUND ? 1 : 0;
}

/* Waits (bounded) until the child answers. 1 ready, 0 timed out (child
 * still running), -1 exited with *code. */
static int
bench_server_wait_ready(bench_server *s, int *code)
{
	pw_client_opts opts = { .timeout_ms = BENCH_PROBE_TIMEOUT_MS, .retries = 0 };
	int64_t deadline = pw_monotonic_ms() + BENCH_START_WAIT_MS;
	pw_client *ipc = NULL;
	pw_client *tcp = NULL;
	int rv = 0;

	if (pw_client_open(&ipc, s->ipc_url, &opts) != PW_OK ||
	    pw_client_open(&tcp, s->tcp_url, &opts) != PW_OK) {
		fprintf(stderr, "bench: cannot open a client to %s / %s\n", s->ipc_url, s->tcp_url);
		pw_client_close(ipc);
		return 0;
	}
	while (rv == 0 && pw_monotonic_ms() < deadline && !bench_interrupted) {
		rv = bench_server_probe(s, ipc, tcp, code);
		if (rv == 0) {
			bench_sleep_ms(20);
		}
	}
	pw_client_close(ipc);
	pw_client_close(tcp);
	return rv;
}

static void
bench_server_kill(bench_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR) {
		}
		s->pid = 0;
	}
}

/* --limits: every class at 10^6 per second (PW_RATE_MAX) with a burst of
 * 10^6 (checked on every merchant call, never refusing), or off ("0"). */
static bool bench_limits_on;

void
bench_server_limits(bool on)
{
	bench_limits_on = on;
}

/* One try on a fresh port. 0 ready; 1 the child exited with code 1 (could
 * not start: maybe the port was taken), worth another try; -1 failed. */
static int
bench_server_try(bench_server *s, const char *bin, const char *sync, unsigned contexts,
    uint64_t map_size_bytes)
{
	char ctx_arg[16];
	char map_arg[32];
	char *lim = bench_limits_on ? (char *) "1000000:1000000" : (char *) "0";
	unsigned port;
	int code = 0;
	int rv;

	if (bench_port_free(&port) != 0) {
		return -1;
	}
	snprintf(s->tcp_url, sizeof(s->tcp_url), "tcp://127.0.0.1:%u", port);
	snprintf(ctx_arg, sizeof(ctx_arg), "%u", contexts);
	snprintf(map_arg, sizeof(map_arg), "%llu", (unsigned long long) map_size_bytes);
	char *const argv[BENCH_ARGV_MAX] = { (char *) bin, "--data", s->data_dir, "--listen",
		s->ipc_url, "--listen", s->tcp_url, "--sync", (char *) sync, "--contexts", ctx_arg,
		"--map-size", map_arg, "--log-level", "warn",
		/* the bench measures the server, not a tenant's rate limits
		 * (--limits on: the limiter's cost alone) */
		"--rate-reads", lim, "--rate-writes", lim, "--rate-provider", lim,
		/* meta and none are refused without it; harmless with full */
		strcmp(sync, "full") != 0 ? "--unsafe-no-fsync" : NULL, NULL };
	rv = bench_server_spawn(s, bin, argv);
	if (rv != 0) {
		return -1;
	}
	rv = bench_server_wait_ready(s, &code);
	if (rv == 1) {
		return 0;
	}
	if (rv == 0) {
		fprintf(stderr, "bench: the server (pid %ld) did not answer within %d ms%s\n",
		    (long) s->pid, BENCH_START_WAIT_MS, bench_interrupted ? " (interrupted)" : "");
		bench_server_kill(s);
		return -1;
	}
	fprintf(stderr, "bench: the server exited with %d while starting\n", code);
	return code == 1 ? 1 : -1;
}

int
bench_server_prepare(bench_server *s, const char *root)
{
	uint8_t rnd[32];
	int n1;
	int n2;
	int n3;

	PW_ASSERT(s != NULL && root != NULL);
	memset(s, 0, sizeof(*s));
	n1 = snprintf(s->data_dir, sizeof(s->data_dir), "%s/data", root);
	n2 = snprintf(s->log_path, sizeof(s->log_path), "%s/server.log", root);
	n3 = snprintf(s->ipc_url, sizeof(s->ipc_url), "ipc://%s/paywire.sock", s->data_dir);
	if (n1 < 0 || n2 < 0 || n3 < 0 || (size_t) n3 >= sizeof(s->ipc_url)) {
		fprintf(stderr, "bench: temporary directory path too long: %s\n", root);
		return -1;
	}
	pw_random(rnd, sizeof(rnd));
	pw_hex(s->admin_key, sizeof(s->admin_key), rnd, sizeof(rnd));
	pw_random(rnd, sizeof(rnd));
	pw_hex(s->token_secret, sizeof(s->token_secret), rnd, sizeof(rnd)); /* 64 bytes >= 32 */
	pw_random(rnd, sizeof(rnd));
	memcpy(s->stripe_secret, "whsec_", 6);
	pw_hex(s->stripe_secret + 6, sizeof(s->stripe_secret) - 6, rnd, sizeof(rnd));
	sodium_memzero(rnd, sizeof(rnd));
	return 0;
}

int
bench_server_launch(bench_server *s, const char *bin, const char *sync, unsigned contexts,
    uint64_t map_size_bytes)
{
	int rv = -1;

	PW_ASSERT(s != NULL && bin != NULL && sync != NULL && s->data_dir[0] != '\0');
	for (int i = 0; i < BENCH_START_ATTEMPTS && !bench_interrupted; i++) {
		rv = bench_server_try(s, bin, sync, contexts, map_size_bytes);
		if (rv != 1) {
			break;
		}
	}
	if (rv != 0) {
		bench_server_log_dump(s);
		sodium_memzero(s->admin_key, sizeof(s->admin_key));
		sodium_memzero(s->token_secret, sizeof(s->token_secret));
		sodium_memzero(s->stripe_secret, sizeof(s->stripe_secret));
		return -1;
	}
	return 0;
}

int
bench_server_start(bench_server *s, const char *bin, const char *root, const char *sync,
    unsigned contexts, uint64_t map_size_bytes)
{
	if (bench_server_prepare(s, root) != 0) {
		return -1;
	}
	return bench_server_launch(s, bin, sync, contexts, map_size_bytes);
}

int
bench_server_stop(bench_server *s)
{
	PW_ASSERT(s != NULL);
	sodium_memzero(s->admin_key, sizeof(s->admin_key));
	sodium_memzero(s->token_secret, sizeof(s->token_secret));
	sodium_memzero(s->stripe_secret, sizeof(s->stripe_secret));
	if (s->pid <= 0) {
		return 0;
	}
	return bench_proc_stop(&s->pid, BENCH_STOP_WAIT_MS);
}

void
bench_server_log_dump(const bench_server *s)
{
	char buf[4096];
	FILE *f;
	long size;
	size_t got;

	f = fopen(s->log_path, "r");
	if (f == NULL) {
		return;
	}
	/* The tail is where the reason is. */
	if (fseek(f, 0, SEEK_END) == 0) {
		size = ftell(f);
		if (size > (long) sizeof(buf) - 1) {
			(void) fseek(f, size - (long) sizeof(buf) + 1, SEEK_SET);
		} else {
			(void) fseek(f, 0, SEEK_SET);
		}
	}
	got = fread(buf, 1, sizeof(buf) - 1, f);
	buf[got] = '\0';
	fclose(f);
	fprintf(stderr, "bench: --- end of %s ---\n%s%s", s->log_path, buf,
	    got > 0 && buf[got - 1] != '\n' ? "\n" : "");
}
