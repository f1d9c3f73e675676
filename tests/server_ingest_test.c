/*
 * server_ingest_test.c - a payment end to end through the server: a signed
 * Stripe event pays a session (APPLIED), a retry of the same request_id gets
 * the same bytes, the same event again is DUPLICATE, get_status shows PAID
 * with the access link and invoice, and redeem_access reveals the access key
 * once - the copy kept for retries never holds the key.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_harness.h"
#include "test_wait.h"

#include <stdatomic.h>

enum { C_OK = 0, C_INVALID = 3, C_UNAUTH = 16 };

static th_env F; /* server, REQ socket, test merchant */

static int
group_setup(void **state)
{
	(void) state;
	th_env_start(&F, 16);
	return 0;
}

static int
group_teardown(void **state)
{
	(void) state;
	th_env_stop(&F);
	return 0;
}

static void
stripe_sign(char *out, size_t out_size, long t, const char *body)
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[32];
	char ts[32];
	char hex[65];

	(void) snprintf(ts, sizeof(ts), "%ld.", t);
	crypto_auth_hmacsha256_init(&st, (const uint8_t *) TH_STRIPE_SECRET, strlen(TH_STRIPE_SECRET));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	(void) snprintf(out, out_size, "t=%ld,v1=%s", t, hex);
}

/* A packed ingest_webhook Request for a Stripe event. */
static uint8_t *
ingest_frame(const char *rid, const char *body, size_t *len)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest iw = PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest__HeadersEntry h[2];
	Paywire__V1__IngestWebhookRequest__HeadersEntry *hp[2] = { &h[0], &h[1] };
	char sig[160];

	stripe_sign(sig, sizeof(sig), (long) time(NULL), body);
	for (int i = 0; i < 2; i++) {
		paywire__v1__ingest_webhook_request__headers_entry__init(&h[i]);
	}
	h[0].key = (char *) "content-type";
	h[0].value = (char *) "application/json";
	h[1].key = (char *) "stripe-signature";
	h[1].value = sig;
	iw.provider = PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE;
	iw.n_headers = 2;
	iw.headers = hp;
	iw.body.data = (uint8_t *) body;
	iw.body.len = strlen(body);
	req.request_id = (char *) rid;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK;
	req.ingest_webhook = &iw;
	return th_pack(&req.base, len);
}

static Paywire__V1__Response *
call_frame(const uint8_t *frame, size_t len, uint8_t **raw, size_t *raw_len)
{
	Paywire__V1__Response *r;

	assert_int_equal(0, th_call_raw(F.sock, frame, len, raw, raw_len));
	r = paywire__v1__response__unpack(NULL, *raw_len, *raw);
	assert_non_null(r);
	assert_non_null(r->status);
	return r;
}

static bool
file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t nlen = strlen(needle);
	static char buf[64 * 1024 * 1024];
	size_t len;
	bool found = false;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	(void) fclose(f);
	for (size_t i = 0; i + nlen <= len && !found; i++) {
		found = memcmp(buf + i, needle, nlen) == 0;
	}
	return found;
}

static Paywire__V1__Response *
redeem(const char *rid, const char *sid, const char *token)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__RedeemAccessRequest ra = PAYWIRE__V1__REDEEM_ACCESS_REQUEST__INIT;

	ra.session_id = (char *) sid;
	ra.token = (char *) token;
	req.request_id = (char *) rid;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_REDEEM_ACCESS;
	req.redeem_access = &ra;
	return th_call(F.sock, &req, NULL);
}

static void
test_signed_payment_is_applied_replayed_and_deduplicated_then_redeemed_once(void **state)
{
	store_stats ws0;
	store_stats ws1;
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Fulfillment ful = PAYWIRE__V1__FULFILLMENT__INIT;
	Paywire__V1__Request gq = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;
	Paywire__V1__Response *r;
	Paywire__V1__Response *g;
	uint8_t *frame;
	uint8_t *a = NULL;
	uint8_t *b = NULL;
	size_t len;
	size_t alen;
	size_t blen;
	char rid[64];
	char sid[64];
	char body[1024];
	char token[2048];
	char secret[PW_CHECKOUT_SECRET_BYTES + 1];
	char access_key[256];
	char path[256];
	uint64_t txn;

	(void) state;
	th_session_req_init(&cs, 4900);
	ful.kind = PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	ful.plan = (char *) "pro";
	cs.fulfillment = &ful;
	cs.customer_email = (char *) "jane@example.com";
	th_request_id(rid, sizeof(rid));
	r = th_create_session(F.sock, F.key, rid, &cs);
	assert_int_equal(C_OK, r->status->code);
	(void) pw_strlcpy(sid, r->create_session->session->id, sizeof(sid));
	th_resp_free(r);

	(void) snprintf(body, sizeof(body),
	    "{\"id\":\"evt_srv_test_1\",\"object\":\"event\",\"type\":\"checkout.session.completed\","
	    "\"created\":%ld,\"livemode\":false,\"data\":{\"object\":{\"id\":\"cs_test_srv1\","
	    "\"object\":\"checkout.session\",\"amount_total\":4900,\"currency\":\"eur\","
	    "\"client_reference_id\":\"%s\",\"payment_intent\":\"pi_srv_test_1\","
	    "\"payment_status\":\"paid\",\"livemode\":false,\"metadata\":{}}}}",
	    (long) time(NULL), sid);
	th_request_id(rid, sizeof(rid));
	frame = ingest_frame(rid, body, &len);
	r = call_frame(frame, len, &a, &alen);
	if (r->status->code != C_OK) {
		fail_msg("ingest: %d %s", r->status->code, r->status->message);
	}
	assert_int_equal(PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED,
	    r->ingest_webhook->outcome);
	assert_string_equal(sid, r->ingest_webhook->session_id);
	assert_string_equal("evt_srv_test_1", r->ingest_webhook->event_id);
	assert_int_equal(PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID,
	    r->ingest_webhook->session_status);
	assert_true(r->ingest_webhook->invoice_number >= 1);
	th_resp_free(r);
	/* The same request_id again: the same bytes, nothing written, answered
	 * from a read before the writer (the writer takes no write). */
	txn = store_last_txnid(F.srv.st);
	store_stats_get(F.srv.st, &ws0);
	r = call_frame(frame, len, &b, &blen);
	th_resp_free(r);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(txn, store_last_txnid(F.srv.st));
	free(a);
	free(b);
	free(frame);
	/* The same event under a new request_id (a provider retry): DUPLICATE,
	 * answered without a write (no stored reply, no commit, no fsync). */
	th_request_id(rid, sizeof(rid));
	frame = ingest_frame(rid, body, &len);
	r = call_frame(frame, len, &a, &alen);
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_DUPLICATE,
	    r->ingest_webhook->outcome);
	th_resp_free(r);
	assert_int_equal(txn, store_last_txnid(F.srv.st));
	store_stats_get(F.srv.st, &ws1);
	assert_int_equal(ws0.writes, ws1.writes);
	/* and its own resend gets the same bytes, still without a write */
	r = call_frame(frame, len, &b, &blen);
	th_resp_free(r);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(txn, store_last_txnid(F.srv.st));
	store_stats_get(F.srv.st, &ws1);
	assert_int_equal(ws0.writes, ws1.writes);
	free(a);
	free(b);
	free(frame);

	gs.session_id = sid;
	gq.call_case = PAYWIRE__V1__REQUEST__CALL_GET_STATUS;
	gq.get_status = &gs;
	/* whoever knows only the session id gets the status, not the link */
	g = th_call(F.sock, &gq, NULL);
	assert_int_equal(C_OK, g->status->code);
	assert_int_equal(PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID, g->get_status->status);
	assert_string_equal("", g->get_status->access_link);
	th_resp_free(g);
	/* a wrong secret is refused */
	gs.checkout_secret = "cks_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	g = th_call(F.sock, &gq, NULL);
	assert_int_equal(C_UNAUTH, g->status->code);
	th_resp_free(g);
	/* the customer (the checkout secret) gets the link */
	store_checkout_secret(F.srv.st, sid, secret);
	gs.checkout_secret = secret;
	g = th_call(F.sock, &gq, NULL);
	assert_int_equal(C_OK, g->status->code);
	assert_int_equal(PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID, g->get_status->status);
	assert_int_equal(PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE, g->get_status->payment_provider);
	assert_true(g->get_status->paid_at_unix_ms > 0);
	assert_true(g->get_status->invoice_number >= 1);
	/* "/access/<session_id>?token=<JWT>" */
	assert_non_null(strstr(g->get_status->access_link, sid));
	assert_non_null(strstr(g->get_status->access_link, "token="));
	(void) pw_strlcpy(token, strstr(g->get_status->access_link, "token=") + 6, sizeof(token));
	assert_true(strlen(token) > 20);
	th_resp_free(g);

	/* Redeem: the key once; a retry of the same request_id gets the copy
	 * without it; the raw key is nowhere on disk. */
	th_request_id(rid, sizeof(rid));
	r = redeem(rid, sid, "eyJhbGciOiJIUzI1NiJ9.e30.AAAA");
	assert_int_equal(C_UNAUTH, r->status->code);
	th_resp_free(r);
	r = redeem(rid, sid, token);
	if (r->status->code != C_OK) {
		fail_msg("redeem: %d %s", r->status->code, r->status->message);
	}
	assert_true(strlen(r->redeem_access->access_key) > 12);
	assert_false(r->redeem_access->already_revealed);
	(void) pw_strlcpy(access_key, r->redeem_access->access_key, sizeof(access_key));
	th_resp_free(r);
	r = redeem(rid, sid, token);
	assert_int_equal(C_OK, r->status->code);
	assert_string_equal("", r->redeem_access->access_key);
	assert_true(r->redeem_access->already_revealed);
	th_resp_free(r);
	(void) snprintf(path, sizeof(path), "%s/data.mdb", F.srv.dir);
	assert_false(file_contains(path, access_key + 12));
	sodium_memzero(access_key, sizeof(access_key));
}

/* A checkout.session.completed for sid paying `amount` EUR with payment
 * intent pi, ingested; returns the reply (caller frees). */
static Paywire__V1__Response *
pay(const char *evt, const char *sid, int amount, const char *pi)
{
	Paywire__V1__Response *r;
	uint8_t *frame;
	uint8_t *raw = NULL;
	size_t len;
	size_t raw_len;
	char rid[64];
	char body[1024];

	(void) snprintf(body, sizeof(body),
	    "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"checkout.session.completed\","
	    "\"created\":%ld,\"livemode\":false,\"data\":{\"object\":{\"id\":\"cs_%s\","
	    "\"object\":\"checkout.session\",\"amount_total\":%d,\"currency\":\"eur\","
	    "\"client_reference_id\":\"%s\",\"payment_intent\":\"%s\","
	    "\"payment_status\":\"paid\",\"livemode\":false,\"metadata\":{}}}}",
	    evt, (long) time(NULL), evt, amount, sid, pi);
	th_request_id(rid, sizeof(rid));
	frame = ingest_frame(rid, body, &len);
	r = call_frame(frame, len, &raw, &raw_len);
	free(raw);
	free(frame);
	return r;
}

static Paywire__V1__Response *
list_anomalies(const char *key, uint64_t after, uint32_t limit)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__ListAnomaliesRequest la = PAYWIRE__V1__LIST_ANOMALIES_REQUEST__INIT;

	la.after_seq = after;
	la.limit = limit;
	req.api_key = (char *) key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_LIST_ANOMALIES;
	req.list_anomalies = &la;
	return th_call(F.sock, &req, NULL);
}

static uint64_t
counted(int tally)
{
	return (uint64_t) atomic_load(&F.srv.env.counters.webhooks[tally - 1]);
}

static void
test_second_payment_is_an_anomaly_listed_and_counted_apart_from_ignored(void **state)
{
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *r;
	uint64_t anomalies0 = counted(SRV_WH_ANOMALY);
	uint64_t ignored0 = counted(SRV_WH_IGNORED);
	uint64_t applied0 = counted(SRV_WH_APPLIED);
	char rid[64];
	char sid[64];
	char other_key[128];
	char other_mid[64];

	(void) state;
	th_session_req_init(&cs, 4900);
	th_request_id(rid, sizeof(rid));
	r = th_create_session(F.sock, F.key, rid, &cs);
	assert_int_equal(C_OK, r->status->code);
	(void) pw_strlcpy(sid, r->create_session->session->id, sizeof(sid));
	th_resp_free(r);

	r = pay("evt_anom_1", sid, 4900, "pi_anom_first");
	assert_int_equal(C_OK, r->status->code);
	assert_false(r->ingest_webhook->anomaly);
	th_resp_free(r);
	r = pay("evt_anom_2", sid, 4900, "pi_anom_second");
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_IGNORED,
	    r->ingest_webhook->outcome);
	assert_true(r->ingest_webhook->anomaly);
	th_resp_free(r);
	/* counted when answered: one applied, one anomaly, no ignored */
	TW_WAIT_UNTIL(counted(SRV_WH_ANOMALY) == anomalies0 + 1);
	assert_int_equal(applied0 + 1, counted(SRV_WH_APPLIED));
	assert_int_equal(ignored0, counted(SRV_WH_IGNORED));

	r = list_anomalies(F.key, 0, 0);
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(PAYWIRE__V1__RESPONSE__RESULT_LIST_ANOMALIES, r->result_case);
	assert_int_equal(1, r->list_anomalies->n_anomalies);
	assert_false(r->list_anomalies->has_more);
	assert_string_equal(sid, r->list_anomalies->anomalies[0]->session_id);
	assert_int_equal(PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE,
	    r->list_anomalies->anomalies[0]->provider);
	assert_string_equal("evt_anom_2", r->list_anomalies->anomalies[0]->event_id);
	assert_string_equal("pi_anom_second", r->list_anomalies->anomalies[0]->payment_ref);
	assert_string_equal("refund payment pi_anom_second at stripe: the session was already paid "
	                    "by pi_anom_first", r->list_anomalies->anomalies[0]->action);
	th_resp_free(r);
	/* another merchant sees none; a bad limit and no key are refused */
	th_merchant_create(F.sock, PAYWIRE__V1__MODE__MODE_TEST, other_key, other_mid);
	r = list_anomalies(other_key, 0, 10);
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(0, r->list_anomalies->n_anomalies);
	th_resp_free(r);
	r = list_anomalies(F.key, 0, 101);
	assert_int_equal(C_INVALID, r->status->code);
	assert_non_null(strstr(r->status->message, "list_anomalies.limit"));
	th_resp_free(r);
	r = list_anomalies("", 0, 10);
	assert_int_equal(C_UNAUTH, r->status->code);
	th_resp_free(r);
}

static Paywire__V1__Response *
ingest_body(const char *body)
{
	Paywire__V1__Response *r;
	uint8_t *frame;
	uint8_t *raw = NULL;
	size_t len;
	size_t raw_len;
	char rid[64];

	th_request_id(rid, sizeof(rid));
	frame = ingest_frame(rid, body, &len);
	r = call_frame(frame, len, &raw, &raw_len);
	free(raw);
	free(frame);
	return r;
}

static Paywire__V1__Response *
quarantine_call(const char *key, Paywire__V1__Request__CallCase cc, uint64_t id)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__ListQuarantinedEventsRequest l = PAYWIRE__V1__LIST_QUARANTINED_EVENTS_REQUEST__INIT;
	Paywire__V1__GetQuarantinedEventRequest g = PAYWIRE__V1__GET_QUARANTINED_EVENT_REQUEST__INIT;
	Paywire__V1__RetryQuarantinedEventRequest rq = PAYWIRE__V1__RETRY_QUARANTINED_EVENT_REQUEST__INIT;
	char rid[64];

	th_request_id(rid, sizeof(rid));
	req.request_id = rid;
	req.api_key = (char *) key;
	req.call_case = cc;
	l.after_id = id;
	g.id = id;
	rq.id = id;
	req.list_quarantined_events = &l; /* one member of the oneof is read: cc's */
	if (cc == PAYWIRE__V1__REQUEST__CALL_GET_QUARANTINED_EVENT) {
		req.get_quarantined_event = &g;
	} else if (cc == PAYWIRE__V1__REQUEST__CALL_RETRY_QUARANTINED_EVENT) {
		req.retry_quarantined_event = &rq;
	}
	return th_call(F.sock, &req, NULL);
}

/* What a paywire that learned the event's shape would parse: a kept entry
 * written straight into the store (the same bytes a delivery would keep). */
typedef struct t_keep {
	const char *body;
	const char *sig;
	uint64_t id;
} t_keep;

static pw_status
t_keep_apply(store_txn *t, void *arg)
{
	t_keep *k = arg;
	Paywire__Store__V1__QuarantinedEventRecord q = PAYWIRE__STORE__V1__QUARANTINED_EVENT_RECORD__INIT;
	Paywire__Store__V1__QuarantineHeader h = PAYWIRE__STORE__V1__QUARANTINE_HEADER__INIT;
	Paywire__Store__V1__QuarantineHeader *hp[1] = { &h };

	h.name = (char *) "stripe-signature";
	h.value = (char *) k->sig;
	q.provider = PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE;
	q.body.data = (uint8_t *) k->body;
	q.body.len = strlen(k->body);
	q.n_headers = 1;
	q.headers = hp;
	q.reason = (char *) "an older paywire did not know this shape";
	return store_quarantine_put(t, &q, &k->id);
}

static void
test_verified_unparseable_event_is_quarantined_listed_shown_and_retried(void **state)
{
	static const char bad[] = "{\"id\":\"evt_q_1\",\"object\":\"event\","
	                          "\"type\":\"checkout.session.completed\",\"data\":{}}";
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *r;
	uint64_t q0 = counted(SRV_WH_QUARANTINED);
	uint64_t id;
	t_keep k;
	char rid[64];
	char sid[64];
	char body[1024];
	char sig[160];

	(void) state;
	r = ingest_body(bad);
	if (r->status->code != C_OK) {
		fail_msg("ingest: %d %s", r->status->code, r->status->message);
	}
	assert_int_equal(PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_QUARANTINED,
	    r->ingest_webhook->outcome);
	assert_non_null(strstr(r->ingest_webhook->reason, "quarantined as "));
	th_resp_free(r);
	TW_WAIT_UNTIL(counted(SRV_WH_QUARANTINED) == q0 + 1);
	/* a bad signature is still refused, never kept */
	{
		Paywire__V1__Response *u;
		Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
		Paywire__V1__IngestWebhookRequest iw = PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__INIT;
		Paywire__V1__IngestWebhookRequest__HeadersEntry h =
		    PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__HEADERS_ENTRY__INIT;
		Paywire__V1__IngestWebhookRequest__HeadersEntry *hp[1] = { &h };

		h.key = (char *) "stripe-signature";
		h.value = (char *) "t=1,v1=00";
		iw.provider = PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE;
		iw.n_headers = 1;
		iw.headers = hp;
		iw.body.data = (uint8_t *) bad;
		iw.body.len = strlen(bad);
		th_request_id(rid, sizeof(rid));
		req.request_id = rid;
		req.call_case = PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK;
		req.ingest_webhook = &iw;
		u = th_call(F.sock, &req, NULL);
		assert_int_equal(C_UNAUTH, u->status->code);
		th_resp_free(u);
	}

	/* listed (admin only), with its reason */
	r = quarantine_call(F.key, PAYWIRE__V1__REQUEST__CALL_LIST_QUARANTINED_EVENTS, 0);
	assert_int_not_equal(C_OK, r->status->code); /* a merchant key is not the admin key */
	th_resp_free(r);
	r = quarantine_call(TH_ADMIN_KEY, PAYWIRE__V1__REQUEST__CALL_LIST_QUARANTINED_EVENTS, 0);
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(1, r->list_quarantined_events->n_events);
	id = r->list_quarantined_events->events[0]->id;
	assert_int_equal(PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE,
	    r->list_quarantined_events->events[0]->provider);
	assert_int_equal(strlen(bad), r->list_quarantined_events->events[0]->body_bytes);
	assert_int_equal(0, r->list_quarantined_events->events[0]->body.len);
	assert_true(strlen(r->list_quarantined_events->events[0]->reason) > 0);
	th_resp_free(r);

	/* shown byte for byte with its signature header */
	r = quarantine_call(TH_ADMIN_KEY, PAYWIRE__V1__REQUEST__CALL_GET_QUARANTINED_EVENT, id);
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(strlen(bad), r->get_quarantined_event->event->body.len);
	assert_memory_equal(bad, r->get_quarantined_event->event->body.data, strlen(bad));
	assert_int_equal(2, r->get_quarantined_event->event->n_headers);
	assert_string_equal("stripe-signature", r->get_quarantined_event->event->headers[1]->name);
	th_resp_free(r);
	r = quarantine_call(TH_ADMIN_KEY, PAYWIRE__V1__REQUEST__CALL_GET_QUARANTINED_EVENT, id + 99);
	assert_int_equal(5, r->status->code); /* NOT_FOUND */
	th_resp_free(r);

	/* retried: still not understood, kept with the reason and one attempt */
	r = quarantine_call(TH_ADMIN_KEY, PAYWIRE__V1__REQUEST__CALL_RETRY_QUARANTINED_EVENT, id);
	assert_int_equal(C_OK, r->status->code);
	assert_false(r->retry_quarantined_event->retried);
	assert_true(strlen(r->retry_quarantined_event->reason) > 0);
	th_resp_free(r);
	r = quarantine_call(TH_ADMIN_KEY, PAYWIRE__V1__REQUEST__CALL_GET_QUARANTINED_EVENT, id);
	assert_int_equal(1, r->get_quarantined_event->event->attempts);
	th_resp_free(r);

	/* an entry paywire now understands: retried, applied, removed */
	th_session_req_init(&cs, 4900);
	th_request_id(rid, sizeof(rid));
	r = th_create_session(F.sock, F.key, rid, &cs);
	assert_int_equal(C_OK, r->status->code);
	(void) pw_strlcpy(sid, r->create_session->session->id, sizeof(sid));
	th_resp_free(r);
	(void) snprintf(body, sizeof(body),
	    "{\"id\":\"evt_q_2\",\"object\":\"event\",\"type\":\"checkout.session.completed\","
	    "\"created\":%ld,\"livemode\":false,\"data\":{\"object\":{\"id\":\"cs_q2\","
	    "\"object\":\"checkout.session\",\"amount_total\":4900,\"currency\":\"eur\","
	    "\"client_reference_id\":\"%s\",\"payment_intent\":\"pi_q2\","
	    "\"payment_status\":\"paid\",\"livemode\":false,\"metadata\":{}}}}",
	    (long) time(NULL), sid);
	stripe_sign(sig, sizeof(sig), (long) time(NULL), body);
	k = (t_keep){ .body = body, .sig = sig };
	assert_int_equal(PW_OK, store_apply_sync(F.srv.st, t_keep_apply, &k));
	r = quarantine_call(TH_ADMIN_KEY, PAYWIRE__V1__REQUEST__CALL_RETRY_QUARANTINED_EVENT, k.id);
	if (r->status->code != C_OK) {
		fail_msg("retry: %d %s", r->status->code, r->status->message);
	}
	assert_true(r->retry_quarantined_event->retried);
	assert_non_null(r->retry_quarantined_event->result);
	assert_int_equal(PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED,
	    r->retry_quarantined_event->result->outcome);
	assert_string_equal(sid, r->retry_quarantined_event->result->session_id);
	th_resp_free(r);
	r = quarantine_call(TH_ADMIN_KEY, PAYWIRE__V1__REQUEST__CALL_GET_QUARANTINED_EVENT, k.id);
	assert_int_equal(5, r->status->code); /* removed */
	th_resp_free(r);
	r = quarantine_call(TH_ADMIN_KEY, PAYWIRE__V1__REQUEST__CALL_RETRY_QUARANTINED_EVENT, k.id);
	assert_int_equal(5, r->status->code);
	th_resp_free(r);
	/* the first is still there */
	r = quarantine_call(TH_ADMIN_KEY, PAYWIRE__V1__REQUEST__CALL_LIST_QUARANTINED_EVENTS, 0);
	assert_int_equal(1, r->list_quarantined_events->n_events);
	assert_int_equal(id, r->list_quarantined_events->events[0]->id);
	th_resp_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_payment_is_applied_replayed_and_deduplicated_then_redeemed_once),
		cmocka_unit_test(test_second_payment_is_an_anomaly_listed_and_counted_apart_from_ignored),
		cmocka_unit_test(test_verified_unparseable_event_is_quarantined_listed_shown_and_retried),
	};

	int rv = cmocka_run_group_tests(tests, group_setup, group_teardown);
	/* nng frees closed sockets, dialers and pipes on its own reaper thread:
	 * wait for it, or LeakSanitizer may catch them in flight at exit. */
	nng_fini();
	return rv;
}
