/*
 * crash_harness.c - pw-crash-harness: kills a real paywire-server again and
 * again while it takes payments, and checks after every kill that nothing
 * acknowledged was lost, nothing was doubled and nothing is half-written
 * (issue 7, "Crash durability"; docs/reliability/crash.md).
 *
 * Owns: the server child process (started, killed and reaped here, by PID),
 * one libpaywire client per phase, the intent/ack log file, and every
 * intent's packed request bytes (kept for exact re-sends).
 *
 * A cycle:
 *   1. workload: the server starts, either plain (the cycle kills it with
 *      SIGKILL right after a random number of acknowledgements) or with
 *      PAYWIRE_CRASHPOINT=<point>:<n> (it aborts itself there). `threads`
 *      client threads send a seeded mix of CreateSession and signed webhook
 *      deliveries (Stripe and Razorpay schemes; paid, failed, second
 *      payments, re-deliveries = duplicates, any order). Every intent is
 *      logged ("I ...") before it is sent and every acknowledgement ("A ...")
 *      after its OK reply. A call that gets no OK reply stays pending.
 *   2. recovery: the server restarts with no crash point on the same data
 *      directory (it must open with no repair). Every pending intent is
 *      re-sent with the same bytes (same request_id, same signature) and must
 *      now get OK.
 *   3. checks: every intent acknowledged in this cycle is re-sent and must be
 *      answered with its acknowledged result (same session id; same webhook
 *      outcome); every session that an acknowledged payment event named is
 *      paid, with an invoice number and an access link (GetStatus);
 *      VerifyAudit says the chain is valid; pw-crash-check (read-only LMDB)
 *      checks paid <=> one invoice, one entitlement, one access link, one
 *      "session.paid" audit record per session, gapless invoice numbers per
 *      merchant and the audit chain. Then the server is stopped (SIGTERM).
 *
 * The secrets come from the environment (the same variables the server
 * reads). Exit 0 when every check held, 1 on a violation, 2 on a harness
 * error. Prints one summary line. Single process; threads only in the
 * workload phase. Test builds only (tests/crash.cmake).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <paywire/client.h>

#include "paywire/v1/paywire.pb-c.h"

#define H_THREADS_MAX 16
#define H_POINTS_MAX 8
#define H_HANG_MS 120000          /* bounds that only a hang reaches */
#define H_WORK_TIMEOUT_MS 1500    /* a call to a server that was just killed */
#define H_CHECK_TIMEOUT_MS 120000 /* a call to a live server: only a hang */
#define H_STRIPE_FRESH_S 3000     /* re-send a Stripe delivery only while its t= is fresh */
#define H_EXIT_WAIT_MS 30000      /* a server that dropped its connections is ending: wait */

enum { EV_STRIPE_COMPLETED = 0, EV_STRIPE_FAILED, EV_STRIPE_SUCCEEDED, EV_RZP_CAPTURED, EV_COUNT };
static const char *const ev_names[EV_COUNT] = { "stripe.checkout.session.completed",
	"stripe.payment_intent.payment_failed", "stripe.payment_intent.succeeded",
	"razorpay.payment.captured" };

typedef struct h_sess {
	char sid[64];         /* session id (acknowledged) */
	int merchant;         /* index into h.merchants */
	int64_t amount_minor; /* what it sells */
	bool success_acked;   /* a payment event naming it was acknowledged */
	unsigned touched;     /* cycle of the last acknowledged event naming it */
} h_sess;

typedef struct h_op {
	uint64_t no;           /* intent number, from 1 */
	bool create;           /* CreateSession, else a webhook delivery */
	int ev;                /* webhook: EV_* */
	int sess;              /* webhook: index into h.sess */
	int merchant;          /* create: merchant index */
	int64_t amount_minor;  /* create: the amount */
	char rid[64];          /* request_id */
	uint8_t *frame;        /* packed Request: re-sent byte for byte */
	size_t frame_len;      /* bytes */
	int64_t signed_unix_s; /* Stripe t= */
	bool acked;            /* an OK reply was received */
	unsigned acked_cycle;  /* the cycle of that reply */
	int outcome;           /* webhook: the acknowledged outcome */
	char sid[64];          /* the acknowledged session id */
} h_op;

typedef struct h_merchant {
	char id[64];        /* merchant id */
	char api_key[128];  /* raw key */
} h_merchant;

static struct {
	/* configuration */
	const char *server_bin;   /* paywire-server */
	const char *check_bin;    /* pw-crash-check */
	const char *data_dir;     /* the data directory under test (the key file, and
	                             the LMDB data unless store_url) */
	const char *store_url;    /* --store: the PostgreSQL database under test */
	const char *log_path;     /* intent/ack log */
	const char *sync;         /* --sync of the server */
	const char *points[H_POINTS_MAX]; /* crash points, cycled through */
	size_t n_points;
	unsigned cycles;          /* kill cycles to run (at least) */
	uint64_t min_acks;        /* ...and go on until this many acknowledgements */
	unsigned ops;             /* intents per workload phase */
	unsigned threads;         /* client threads */
	unsigned cp_max;          /* crash point n drawn from 1..cp_max */
	uint64_t seed;
	bool eatmydata;           /* run the server under eatmydata */
	const char *admin_key, *stripe_secret, *rzp_secret;
	char url[64];             /* tcp://127.0.0.1:port */
	/* state */
	pthread_mutex_t mu;       /* guards everything below during a workload */
	FILE *log;
	uint64_t rng;             /* xorshift state */
	h_merchant merchants[2];
	h_sess *sess;
	size_t n_sess, cap_sess;
	h_op **opv;
	size_t n_ops, cap_ops;
	unsigned cycle;
	pid_t pid;                /* the server, 0 when none */
	pw_client *cl;            /* the workload client */
	unsigned issued;          /* intents issued this workload */
	unsigned kill_at;         /* random-kill cycles: SIGKILL at this many acks */
	unsigned acks_cycle;      /* acks in this workload */
	bool stop;                /* the server is gone: issue nothing more */
	bool random_kill;         /* this cycle kills at kill_at */
	bool killed;              /* the SIGKILL was sent */
	/* figures */
	uint64_t acks, resent, rechecked, errors_answered, sigkills, quiet_kills;
	uint64_t cp_kills[H_POINTS_MAX], cp_missed[H_POINTS_MAX];
	uint64_t violations;
} h = { .sync = "full", .cycles = 20, .ops = 200, .threads = 4, .cp_max = 40, .seed = 1 };

/* ---- helpers ---- */

static void h_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
h_violation(const char *fmt, ...)
{
	va_list ap;

	h.violations++;
	fprintf(stderr, "pw-crash-harness: cycle %u: VIOLATION: ", h.cycle);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (h.log != NULL) {
		fprintf(h.log, "V cycle %u\n", h.cycle);
		fflush(h.log);
	}
}

static void h_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
h_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pw-crash-harness: cycle %u: ", h.cycle);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (h.pid > 0) {
		kill(h.pid, SIGKILL);
		waitpid(h.pid, NULL, 0);
	}
	exit(2);
}

static uint64_t
h_rand(void)
{
	/* xorshift64*: seeded, reproducible draws (under h.mu in the workload) */
	h.rng ^= h.rng >> 12;
	h.rng ^= h.rng << 25;
	h.rng ^= h.rng >> 27;
	return h.rng * 2685821657736338717ull;
}

static unsigned
h_below(unsigned n)
{
	return (unsigned) (h_rand() % n);
}

static void
h_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int64_t
h_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint8_t *
h_pack(const Paywire__V1__Request *req, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(&req->base);
	buf = malloc(*len > 0 ? *len : 1);
	if (buf == NULL) {
		h_die("out of memory");
	}
	(void) protobuf_c_message_pack(&req->base, buf);
	return buf;
}

static void
h_hmac_hex(const char *key, const char *prefix, const char *body, char hex[65])
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[32];

	crypto_auth_hmacsha256_init(&st, (const uint8_t *) key, strlen(key));
	if (prefix != NULL) {
		crypto_auth_hmacsha256_update(&st, (const uint8_t *) prefix, strlen(prefix));
	}
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, 65, mac, sizeof(mac));
}

/* ---- the server process ---- */

static void
h_server_start(const char *crashpoint)
{
	char logp[4096];
	int64_t end;
	pid_t pid;

	snprintf(logp, sizeof(logp), "%s.server", h.log_path);
	pid = fork();
	if (pid < 0) {
		h_die("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (crashpoint != NULL) {
			setenv("PAYWIRE_CRASHPOINT", crashpoint, 1);
		} else {
			unsetenv("PAYWIRE_CRASHPOINT");
		}
		/* eatmydata preloads its library ahead of ASan's runtime */
		setenv("ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0", 1);
		fprintf(stderr, "--- cycle %u: server start (crashpoint %s)\n", h.cycle,
		    crashpoint != NULL ? crashpoint : "none");
		{
			/* --sync none is refused without its out-loud flag */
			const char *argv[20];
			int n = 0;

			if (h.eatmydata)
				argv[n++] = "eatmydata";
			argv[n++] = h.server_bin;
			argv[n++] = "--data";
			argv[n++] = h.data_dir;
			argv[n++] = "--listen";
			argv[n++] = h.url;
			argv[n++] = "--log-level";
			argv[n++] = "error";
			argv[n++] = "--sync";
			argv[n++] = h.sync;
			if (strcmp(h.sync, "full") != 0)
				argv[n++] = "--unsafe-no-fsync";
			argv[n++] = "--webhook-tolerance-s";
			argv[n++] = "3600";
			argv[n++] = "--contexts";
			argv[n++] = "64";
			if (h.store_url != NULL) {
				argv[n++] = "--store";
				argv[n++] = h.store_url;
			}
			argv[n] = NULL;
			execvp(argv[0], (char *const *) argv);
		}
		_exit(127);
	}
	h.pid = pid;
	/* Up when an unknown session answers NOT_FOUND; it must not exit first. */
	end = h_mono_ms() + H_HANG_MS;
	for (;;) {
		pw_client_opts o = { .timeout_ms = 1000, .retries = 0 };
		pw_client *c = NULL;
		pw_status_info si;
		pw_status st = PW_UNAVAILABLE;
		int wst;

		if (waitpid(pid, &wst, WNOHANG) == pid) {
			h.pid = 0;
			h_violation("the server exited while opening the data directory (status %d): "
			            "the environment does not open as it is; see %s",
			    wst, logp);
			h_die("cannot go on");
		}
		if (pw_client_open(&c, h.url, &o) == PW_OK) {
			st = pw_status_get(c, "cs_probe", &si, NULL);
			pw_client_close(c);
		}
		if (st == PW_NOT_FOUND) {
			return;
		}
		if (h_mono_ms() > end) {
			h_die("the server did not answer within %d s", H_HANG_MS / 1000);
		}
		h_sleep_ms(50);
	}
}

/* Waits for the server to end; returns its wait status. */
static int
h_server_reap(void)
{
	int wst = 0;

	if (h.pid > 0) {
		while (waitpid(h.pid, &wst, 0) < 0 && errno == EINTR) {
		}
		h.pid = 0;
	}
	return wst;
}

static void
h_server_stop(void)
{
	int wst;

	if (h.pid <= 0) {
		return;
	}
	kill(h.pid, SIGTERM);
	wst = h_server_reap();
	if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
		h_violation("the server did not stop cleanly on SIGTERM (wait status %d)", wst);
	}
}

/* ---- intents ---- */

static h_op *
h_op_new(void)
{
	h_op *op = calloc(1, sizeof(*op));

	if (op == NULL) {
		h_die("out of memory");
	}
	if (h.n_ops == h.cap_ops) {
		size_t cap = h.cap_ops == 0 ? 4096 : h.cap_ops * 2;
		h_op **p = realloc(h.opv, cap * sizeof(*p));
		if (p == NULL) {
			h_die("out of memory");
		}
		h.opv = p;
		h.cap_ops = cap;
	}
	h.opv[h.n_ops++] = op;
	op->no = h.n_ops;
	snprintf(op->rid, sizeof(op->rid), "crash-%" PRIu64 "-%" PRIu64, h.seed, op->no);
	return op;
}

static void
h_op_create(h_op *op)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateSessionRequest cs = PAYWIRE__V1__CREATE_SESSION_REQUEST__INIT;
	Paywire__V1__Fulfillment f = PAYWIRE__V1__FULFILLMENT__INIT;
	char ref[64];

	op->create = true;
	op->merchant = (int) h_below(2);
	op->amount_minor = 100 + (int64_t) h_below(99900);
	/* One customer per session: an entitlement is created only if the
	 * customer has none for the plan, and the check counts one per session. */
	snprintf(ref, sizeof(ref), "cust-%" PRIu64 "-%" PRIu64, h.seed, op->no);
	cs.amount_minor = op->amount_minor;
	cs.currency = "EUR";
	cs.mode = PAYWIRE__V1__MODE__MODE_TEST;
	cs.customer_email = "crash@example.com";
	cs.customer_ref = ref;
	f.kind = PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	f.plan = "pro";
	cs.fulfillment = &f;
	req.request_id = op->rid;
	req.api_key = h.merchants[op->merchant].api_key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION;
	req.create_session = &cs;
	op->frame = h_pack(&req, &op->frame_len);
}

/* The body of event ev for session s (ids derived from the session, so a
 * second delivery of the same event is a provider's re-delivery). */
static void
h_body(int ev, const h_sess *s, char *body, size_t size)
{
	const char *tail = s->sid + 3; /* after "cs_" */
	long t0 = 1767225600;

	switch (ev) {
	case EV_STRIPE_COMPLETED:
		snprintf(body, size,
		    "{\"id\":\"evt_cs_%s\",\"object\":\"event\",\"created\":%ld,\"livemode\":false,"
		    "\"type\":\"checkout.session.completed\",\"data\":{\"object\":{\"id\":\"cs_test_%s\","
		    "\"object\":\"checkout.session\",\"amount_total\":%" PRId64 ",\"currency\":\"eur\","
		    "\"client_reference_id\":\"%s\",\"metadata\":{\"session_id\":\"%s\"},"
		    "\"payment_intent\":\"pi_%s\",\"payment_status\":\"paid\",\"status\":\"complete\","
		    "\"livemode\":false}}}",
		    tail, t0 + 20, tail, s->amount_minor, s->sid, s->sid, tail);
		break;
	case EV_STRIPE_FAILED:
	case EV_STRIPE_SUCCEEDED:
		snprintf(body, size,
		    "{\"id\":\"evt_pi_%s_%c\",\"object\":\"event\",\"created\":%ld,\"livemode\":false,"
		    "\"type\":\"payment_intent.%s\",\"data\":{\"object\":{\"id\":\"pi_%s\","
		    "\"object\":\"payment_intent\",\"amount\":%" PRId64 ",\"amount_received\":%" PRId64
		    ",\"currency\":\"eur\",\"metadata\":{\"session_id\":\"%s\"},\"latest_charge\":"
		    "\"ch_%s\",\"livemode\":false}}}",
		    tail, ev == EV_STRIPE_FAILED ? 'f' : 's', ev == EV_STRIPE_FAILED ? t0 + 10 : t0 + 30,
		    ev == EV_STRIPE_FAILED ? "payment_failed" : "succeeded", tail, s->amount_minor,
		    ev == EV_STRIPE_FAILED ? (int64_t) 0 : s->amount_minor, s->sid, tail);
		break;
	case EV_RZP_CAPTURED:
		snprintf(body, size,
		    "{\"entity\":\"event\",\"event\":\"payment.captured\",\"contains\":[\"payment\"],"
		    "\"payload\":{\"payment\":{\"entity\":{\"id\":\"pay_%.30s\",\"entity\":\"payment\","
		    "\"amount\":%" PRId64 ",\"currency\":\"EUR\",\"status\":\"captured\",\"order_id\":"
		    "\"order_%.30s\",\"notes\":{\"session_id\":\"%s\"},\"created_at\":%ld}}},"
		    "\"created_at\":%ld}",
		    tail, s->amount_minor, tail, s->sid, t0 + 40, t0 + 41);
		break;
	default:
		h_die("bad event %d", ev);
	}
}

static void
h_op_webhook(h_op *op)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest iw = PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest__HeadersEntry hd[2];
	Paywire__V1__IngestWebhookRequest__HeadersEntry *hp[2] = { &hd[0], &hd[1] };
	unsigned r = h_below(100);
	char body[2048], sig[200], hex[65], prefix[32];

	op->sess = (int) h_below((unsigned) h.n_sess);
	op->ev = r < 35 ? EV_STRIPE_COMPLETED : r < 55 ? EV_STRIPE_FAILED :
	         r < 80 ? EV_STRIPE_SUCCEEDED : EV_RZP_CAPTURED;
	h_body(op->ev, &h.sess[op->sess], body, sizeof(body));
	for (int i = 0; i < 2; i++) {
		paywire__v1__ingest_webhook_request__headers_entry__init(&hd[i]);
	}
	hd[0].key = "content-type";
	hd[0].value = "application/json";
	if (op->ev == EV_RZP_CAPTURED) {
		h_hmac_hex(h.rzp_secret, NULL, body, hex);
		hd[1].key = "x-razorpay-signature";
		hd[1].value = hex;
		iw.provider = PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY;
	} else {
		op->signed_unix_s = (int64_t) time(NULL);
		snprintf(prefix, sizeof(prefix), "%" PRId64 ".", op->signed_unix_s);
		h_hmac_hex(h.stripe_secret, prefix, body, hex);
		snprintf(sig, sizeof(sig), "t=%" PRId64 ",v1=%s", op->signed_unix_s, hex);
		hd[1].key = "stripe-signature";
		hd[1].value = sig;
		iw.provider = PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE;
	}
	iw.n_headers = 2;
	iw.headers = hp;
	iw.body.data = (uint8_t *) body;
	iw.body.len = strlen(body);
	req.request_id = op->rid;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK;
	req.ingest_webhook = &iw;
	op->frame = h_pack(&req, &op->frame_len);
}

/* Under h.mu: the next intent, logged before it is sent. */
static h_op *
h_op_next(void)
{
	h_op *op = h_op_new();

	if (h.n_sess == 0 || h_below(100) < 30) {
		h_op_create(op);
		fprintf(h.log, "I %" PRIu64 " c%u create %s merchant=%d amount=%" PRId64 "\n", op->no,
		    h.cycle, op->rid, op->merchant, op->amount_minor);
	} else {
		h_op_webhook(op);
		fprintf(h.log, "I %" PRIu64 " c%u webhook %s %s session=%s\n", op->no, h.cycle,
		    op->rid, ev_names[op->ev], h.sess[op->sess].sid);
	}
	fflush(h.log);
	return op;
}

/* ---- replies ---- */

typedef struct h_reply {
	int code;         /* Status.code (0 OK) */
	int outcome;      /* webhook */
	char sid[64];     /* created session / webhook session */
	char msg[256];    /* Status.message */
} h_reply;

/* Sends op's bytes; PW_OK with r filled when the server answered. */
static pw_status
h_send(pw_client *c, const h_op *op, h_reply *r)
{
	Paywire__V1__Response *resp;
	void *raw = NULL;
	size_t raw_len = 0;
	pw_status st;

	memset(r, 0, sizeof(*r));
	st = pw_client_call_raw(c, op->frame, op->frame_len, &raw, &raw_len, NULL);
	if (st != PW_OK) {
		return st;
	}
	resp = paywire__v1__response__unpack(NULL, raw_len, raw);
	pw_free_reply(raw);
	if (resp == NULL || resp->status == NULL) {
		h_die("a reply does not unpack");
	}
	r->code = resp->status->code;
	snprintf(r->msg, sizeof(r->msg), "%s", resp->status->message);
	if (resp->result_case == PAYWIRE__V1__RESPONSE__RESULT_CREATE_SESSION &&
	    resp->create_session->session != NULL) {
		snprintf(r->sid, sizeof(r->sid), "%s", resp->create_session->session->id);
	} else if (resp->result_case == PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK) {
		r->outcome = (int) resp->ingest_webhook->outcome;
		snprintf(r->sid, sizeof(r->sid), "%s", resp->ingest_webhook->session_id);
	}
	paywire__v1__response__free_unpacked(resp, NULL);
	return PW_OK;
}

/* Under h.mu: records an OK reply as op's acknowledgement. */
static void
h_ack(h_op *op, const h_reply *r)
{
	op->acked = true;
	op->acked_cycle = h.cycle;
	op->outcome = r->outcome;
	snprintf(op->sid, sizeof(op->sid), "%s", r->sid);
	h.acks++;
	if (op->create) {
		h_sess *s;
		if (h.n_sess == h.cap_sess) {
			size_t cap = h.cap_sess == 0 ? 1024 : h.cap_sess * 2;
			h_sess *p = realloc(h.sess, cap * sizeof(*p));
			if (p == NULL) {
				h_die("out of memory");
			}
			h.sess = p;
			h.cap_sess = cap;
		}
		s = &h.sess[h.n_sess++];
		memset(s, 0, sizeof(*s));
		snprintf(s->sid, sizeof(s->sid), "%s", r->sid);
		s->merchant = op->merchant;
		s->amount_minor = op->amount_minor;
		fprintf(h.log, "A %" PRIu64 " c%u ok session=%s\n", op->no, h.cycle, r->sid);
	} else {
		h_sess *s = &h.sess[op->sess];
		if (op->ev != EV_STRIPE_FAILED) {
			s->success_acked = true;
		}
		s->touched = h.cycle;
		fprintf(h.log, "A %" PRIu64 " c%u ok outcome=%d session=%s\n", op->no, h.cycle,
		    r->outcome, r->sid);
	}
	fflush(h.log);
}

/* ---- workload ---- */

static void *
h_worker(void *arg)
{
	(void) arg;
	for (;;) {
		h_op *op;
		h_reply r;
		pw_status st;

		pthread_mutex_lock(&h.mu);
		if (h.stop || h.issued >= h.ops) {
			pthread_mutex_unlock(&h.mu);
			return NULL;
		}
		h.issued++;
		op = h_op_next();
		pthread_mutex_unlock(&h.mu);
		st = h_send(h.cl, op, &r);
		pthread_mutex_lock(&h.mu);
		if (st == PW_OK && r.code == 0) {
			h_ack(op, &r);
			h.acks_cycle++;
			if (h.random_kill && !h.killed && h.acks_cycle >= h.kill_at) {
				kill(h.pid, SIGKILL); /* right after an acknowledgement */
				h.killed = true;
			}
		} else if (st == PW_OK) {
			/* Answered but not OK (e.g. UNAVAILABLE while the writer
			 * stops): not acknowledged, re-sent in the recovery. */
			h.errors_answered++;
			fprintf(h.log, "E %" PRIu64 " c%u code=%d %s\n", op->no, h.cycle, r.code, r.msg);
			fflush(h.log);
		} else {
			h.stop = true; /* no answer: the server is gone */
		}
		pthread_mutex_unlock(&h.mu);
	}
}

/* True if the server ended within wait_ms (its wait status in *wst). The
 * workload may see the connection drop before the kernel has reaped an
 * aborting server. */
static bool
h_server_ended(int64_t wait_ms, int *wst)
{
	int64_t end = h_mono_ms() + wait_ms;

	for (;;) {
		if (waitpid(h.pid, wst, WNOHANG) == h.pid) {
			h.pid = 0;
			return true;
		}
		if (h_mono_ms() >= end) {
			return false;
		}
		h_sleep_ms(10);
	}
}

/* Returns the crash point index this cycle uses, or -1 for a random kill. */
static int
h_workload(void)
{
	pthread_t th[H_THREADS_MAX];
	pw_client_opts o = { .timeout_ms = H_WORK_TIMEOUT_MS, .retries = 0 };
	int point = (int) (h.cycle % (h.n_points + 1)) - 1;
	char cp[128];
	int wst;

	h.issued = 0;
	h.acks_cycle = 0;
	h.stop = false;
	h.killed = false;
	h.random_kill = point < 0;
	h.kill_at = 1 + h_below(h.ops);
	if (point >= 0) {
		snprintf(cp, sizeof(cp), "%s:%u", h.points[point], 1 + h_below(h.cp_max));
		fprintf(h.log, "K c%u crashpoint %s\n", h.cycle, cp);
	} else {
		fprintf(h.log, "K c%u sigkill after %u acks\n", h.cycle, h.kill_at);
	}
	fflush(h.log);
	h_server_start(point >= 0 ? cp : NULL);
	if (pw_client_open(&h.cl, h.url, &o) != PW_OK) {
		h_die("client open");
	}
	for (unsigned i = 0; i < h.threads; i++) {
		pthread_create(&th[i], NULL, h_worker, NULL);
	}
	for (unsigned i = 0; i < h.threads; i++) {
		pthread_join(th[i], NULL);
	}
	pw_client_close(h.cl);
	h.cl = NULL;
	wst = 0;
	if (h.killed || h_server_ended(h.stop ? H_EXIT_WAIT_MS : 0, &wst)) {
		/* killed, or it ended by itself: a crash point, or a bug */
		wst = h.killed ? h_server_reap() : wst;
	} else {
		/* Crash point not reached (or the kill never came): kill now. */
		kill(h.pid, SIGKILL);
		(void) h_server_reap();
		h.quiet_kills++;
		if (point >= 0) {
			h.cp_missed[point]++;
		}
		return point;
	}
	if (point >= 0 && WIFSIGNALED(wst) && WTERMSIG(wst) == SIGABRT) {
		h.cp_kills[point]++;
	} else if (point < 0 && h.killed && WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL) {
		h.sigkills++;
	} else {
		h_violation("the server ended with wait status %d (crash point %s, killed %d)", wst,
		    point >= 0 ? cp : "none", h.killed ? 1 : 0);
	}
	return point;
}

/* ---- recovery and checks ---- */

static void
h_recover(pw_client *c)
{
	for (size_t i = 0; i < h.n_ops; i++) {
		h_op *op = h.opv[i];
		h_reply r;
		pw_status st;

		if (op->acked) {
			continue;
		}
		st = h_send(c, op, &r);
		h.resent++;
		if (st != PW_OK || r.code != 0) {
			h_violation("re-sent intent %" PRIu64 " (%s) not OK: transport %d, code %d %s",
			    op->no, op->rid, (int) st, r.code, r.msg);
			continue;
		}
		h_ack(op, &r);
		fprintf(h.log, "R %" PRIu64 " c%u re-sent\n", op->no, h.cycle);
	}
}

/* An acknowledged intent re-sent with the same bytes gets its acknowledged
 * result back (the stored reply). */
static void
h_recheck(pw_client *c, h_op *op)
{
	h_reply r;
	pw_status st;

	if (!op->create && op->ev != EV_RZP_CAPTURED &&
	    (int64_t) time(NULL) - op->signed_unix_s > H_STRIPE_FRESH_S) {
		return; /* its signature is older than the tolerance */
	}
	st = h_send(c, op, &r);
	h.rechecked++;
	if (st != PW_OK || r.code != 0) {
		h_violation("acknowledged intent %" PRIu64 " (%s) re-sent: transport %d, code %d %s",
		    op->no, op->rid, (int) st, r.code, r.msg);
	} else if (strcmp(r.sid, op->sid) != 0 || r.outcome != op->outcome) {
		h_violation("acknowledged intent %" PRIu64 " (%s): acknowledged session %s outcome %d, "
		            "now session %s outcome %d",
		    op->no, op->rid, op->sid, op->outcome, r.sid, r.outcome);
	}
}

static void
h_session_check(pw_client *c, const h_sess *s)
{
	pw_status_info si;
	pw_error err;
	pw_status st;

	pw_session_detail *d;

	st = pw_status_get(c, s->sid, &si, &err);
	if (st != PW_OK) {
		h_violation("acknowledged session %s: GetStatus %s (%s)", s->sid, pw_status_name(st),
		    err.message);
		return;
	}
	if (!s->success_acked) {
		return;
	}
	/* the access link is the merchant's (GetSession) and the customer's to
	 * see, never the session id's alone */
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		h_violation("out of memory");
		return;
	}
	st = pw_session_get(c, h.merchants[s->merchant].api_key, s->sid, d, &err);
	if (st != PW_OK || si.status != PW_SESSION_PAID || si.invoice_number == 0 ||
	    d->access_link[0] == '\0' || si.access_link[0] != '\0') {
		h_violation("session %s: an acknowledged payment, but status %s invoice %" PRIu64
		            " link %s (GetSession %s), link by id alone %s",
		    s->sid, pw_session_status_name(si.status), si.invoice_number,
		    d->access_link[0] != '\0' ? "set" : "none", pw_status_name(st),
		    si.access_link[0] != '\0' ? "SHOWN" : "hidden");
	}
	free(d);
}

static void
h_checks(bool all)
{
	pw_client_opts o = { .timeout_ms = H_CHECK_TIMEOUT_MS, .retries = 0 };
	pw_audit_report ar;
	pw_error err;
	pw_client *c = NULL;
	char cmd[8192];
	int rv;

	if (pw_client_open(&c, h.url, &o) != PW_OK) {
		h_die("client open");
	}
	h_recover(c);
	for (size_t i = 0; i < h.n_ops; i++) {
		if (h.opv[i]->acked && (all || h.opv[i]->acked_cycle == h.cycle)) {
			h_recheck(c, h.opv[i]);
		}
	}
	for (size_t i = 0; i < h.n_sess; i++) {
		if (all || h.sess[i].touched == h.cycle) {
			h_session_check(c, &h.sess[i]);
		}
	}
	rv = (int) pw_audit_verify(c, h.admin_key, &ar, &err);
	if (rv != PW_OK || !ar.ok) {
		h_violation("VerifyAudit: %s ok=%d first_bad_seq=%" PRIu64 " %s %s",
		    pw_status_name((pw_status) rv), ar.ok ? 1 : 0, ar.first_bad_seq, ar.detail,
		    err.message);
	}
	pw_client_close(c);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' >>'%s.check' 2>&1", h.check_bin,
	    h.store_url != NULL ? h.store_url : h.data_dir, h.log_path);
	rv = system(cmd);
	if (rv != 0) {
		h_violation("pw-crash-check failed (status %d); see %s.check", rv, h.log_path);
	}
}

/* ---- set-up ---- */

static void
h_setup(void)
{
	pw_client_opts o = { .timeout_ms = H_CHECK_TIMEOUT_MS, .retries = 0 };
	pw_client *c = NULL;
	pw_merchant m;
	pw_error err;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *) &a, &alen) != 0) {
		h_die("no free port");
	}
	close(fd);
	snprintf(h.url, sizeof(h.url), "tcp://127.0.0.1:%u", (unsigned) ntohs(a.sin_port));
	h_server_start(NULL);
	if (pw_client_open(&c, h.url, &o) != PW_OK) {
		h_die("client open");
	}
	for (int i = 0; i < 2; i++) {
		if (pw_merchant_create(c, h.admin_key, i == 0 ? "crash shop a" : "crash shop b",
		        PW_MODE_TEST, &m, &err) != PW_OK) {
			h_die("merchant create: %s", err.message);
		}
		snprintf(h.merchants[i].id, sizeof(h.merchants[i].id), "%s", m.merchant_id);
		snprintf(h.merchants[i].api_key, sizeof(h.merchants[i].api_key), "%s", m.api_key);
	}
	pw_client_close(c);
	h_server_stop();
}

static void
h_usage(void)
{
	fprintf(stderr,
	    "usage: pw-crash-harness --server BIN --check BIN --data DIR --log FILE\n"
	    "         [--cycles N] [--min-acks N] [--ops N] [--threads N] [--seed N] [--sync full|none]\n"
	    "         [--points a,b,c] [--cp-max N] [--eatmydata] [--store POSTGRES_URL]\n");
	exit(2);
}

static void
h_args(int argc, char **argv)
{
	static char points[512];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--eatmydata") == 0) {
			h.eatmydata = true;
			continue;
		}
		if (v == NULL) {
			h_usage();
		}
		i++;
		if (strcmp(a, "--server") == 0) {
			h.server_bin = v;
		} else if (strcmp(a, "--check") == 0) {
			h.check_bin = v;
		} else if (strcmp(a, "--data") == 0) {
			h.data_dir = v;
		} else if (strcmp(a, "--store") == 0) {
			h.store_url = v;
		} else if (strcmp(a, "--log") == 0) {
			h.log_path = v;
		} else if (strcmp(a, "--sync") == 0) {
			h.sync = v;
		} else if (strcmp(a, "--cycles") == 0) {
			h.cycles = (unsigned) strtoul(v, NULL, 10);
		} else if (strcmp(a, "--min-acks") == 0) {
			h.min_acks = strtoull(v, NULL, 10);
		} else if (strcmp(a, "--ops") == 0) {
			h.ops = (unsigned) strtoul(v, NULL, 10);
		} else if (strcmp(a, "--threads") == 0) {
			h.threads = (unsigned) strtoul(v, NULL, 10);
		} else if (strcmp(a, "--cp-max") == 0) {
			h.cp_max = (unsigned) strtoul(v, NULL, 10);
		} else if (strcmp(a, "--seed") == 0) {
			h.seed = strtoull(v, NULL, 10);
		} else if (strcmp(a, "--points") == 0) {
			snprintf(points, sizeof(points), "%s", v);
			for (char *save = NULL, *p = strtok_r(points, ",", &save);
			     p != NULL && h.n_points < H_POINTS_MAX; p = strtok_r(NULL, ",", &save)) {
				h.points[h.n_points++] = p;
			}
		} else {
			h_usage();
		}
	}
	if (h.server_bin == NULL || h.check_bin == NULL || h.data_dir == NULL ||
	    h.log_path == NULL || h.threads == 0 || h.threads > H_THREADS_MAX || h.ops == 0 ||
	    h.cp_max == 0) {
		h_usage();
	}
}

int
main(int argc, char **argv)
{
	unsigned long long cp_min = 0;

	h_args(argc, argv);
	if (sodium_init() < 0) {
		return 2;
	}
	h.admin_key = getenv("PAYWIRE_ADMIN_KEY");
	h.stripe_secret = getenv("PAYWIRE_STRIPE_WEBHOOK_SECRET");
	h.rzp_secret = getenv("PAYWIRE_RAZORPAY_WEBHOOK_SECRET");
	if (h.admin_key == NULL || h.stripe_secret == NULL || h.rzp_secret == NULL) {
		fprintf(stderr, "pw-crash-harness: PAYWIRE_ADMIN_KEY, PAYWIRE_STRIPE_WEBHOOK_SECRET and "
		                "PAYWIRE_RAZORPAY_WEBHOOK_SECRET must be set\n");
		return 2;
	}
	h.rng = h.seed * 0x9E3779B97F4A7C15ull + 1;
	pthread_mutex_init(&h.mu, NULL);
	h.log = fopen(h.log_path, "a");
	if (h.log == NULL) {
		fprintf(stderr, "pw-crash-harness: %s: %s\n", h.log_path, strerror(errno));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fprintf(h.log, "S seed=%" PRIu64 " cycles=%u ops=%u threads=%u sync=%s eatmydata=%d\n",
	    h.seed, h.cycles, h.ops, h.threads, h.sync, h.eatmydata ? 1 : 0);
	h_setup();
	for (h.cycle = 1; h.cycle <= h.cycles || h.acks < h.min_acks; h.cycle++) {
		bool last = h.cycle >= h.cycles && h.acks >= h.min_acks;

		(void) h_workload();
		h_server_start(NULL);
		h_checks(last || (h.cycle >= h.cycles && h.acks >= h.min_acks));
		h_server_stop();
		if (h.violations > 0) {
			break; /* the data dir and the log are kept for a look */
		}
	}
	for (size_t i = 0; i < h.n_points; i++) {
		if (i == 0 || h.cp_kills[i] < cp_min) {
			cp_min = h.cp_kills[i];
		}
	}
	printf("crash: seed=%" PRIu64 " cycles=%u intents=%zu acks=%" PRIu64 " sessions=%zu "
	       "sigkills=%" PRIu64,
	    h.seed, h.cycle - (h.violations > 0 ? 0u : 1u), h.n_ops, h.acks, h.n_sess, h.sigkills);
	for (size_t i = 0; i < h.n_points; i++) {
		printf(" %s=%" PRIu64, h.points[i], h.cp_kills[i]);
	}
	printf(" cp_not_reached=%" PRIu64 " resent=%" PRIu64 " rechecked=%" PRIu64
	       " answered_errors=%" PRIu64 " violations=%" PRIu64 " -> %s\n",
	    h.quiet_kills, h.resent, h.rechecked, h.errors_answered, h.violations,
	    h.violations == 0 ? "PASS" : "FAIL");
	fflush(stdout); /* before any exit-time sanitizer report */
	fprintf(h.log, "Z violations=%" PRIu64 "\n", h.violations);
	fclose(h.log);
	for (size_t i = 0; i < h.n_ops; i++) {
		free(h.opv[i]->frame);
		free(h.opv[i]);
	}
	free(h.opv);
	free(h.sess);
	(void) cp_min;
	return h.violations == 0 ? 0 : 1;
}
