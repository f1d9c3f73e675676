/*
 * server_wire_test.c - the wire validator (server/srv_wire.c): messages packed
 * by protobuf-c pass; each refusal has a hand-built byte buffer and an exact
 * reason; and 10,000 random mutations never crash and never pass bytes that
 * protobuf-c cannot unpack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "srv_wire.h"
#include "paywire/v1/paywire.pb-c.h"
#include "paywire/store/v1/store.pb-c.h"

#define REQ (&paywire__v1__request__descriptor)
#define CSR (&paywire__v1__create_session_request__descriptor)

/* ---- a byte writer for hand-built messages ---- */

#define WBUF_CAP (64u * 1024u)

typedef struct wbuf {
	uint8_t b[WBUF_CAP]; /* bytes written */
	size_t n;            /* count */
} wbuf;

static wbuf *
wb_new(void)
{
	wbuf *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	return w;
}

static void
wb_byte(wbuf *w, uint8_t x)
{
	assert_true(w->n < WBUF_CAP);
	w->b[w->n++] = x;
}

static void
wb_raw(wbuf *w, const void *p, size_t len)
{
	assert_true(w->n + len <= WBUF_CAP);
	memcpy(w->b + w->n, p, len);
	w->n += len;
}

static void
wb_varint(wbuf *w, uint64_t v)
{
	while (v >= 0x80) {
		wb_byte(w, (uint8_t) (v | 0x80));
		v >>= 7;
	}
	wb_byte(w, (uint8_t) v);
}

static void
wb_key(wbuf *w, uint32_t field, unsigned wt)
{
	wb_varint(w, (uint64_t) field << 3 | wt);
}

static void
wb_uint(wbuf *w, uint32_t field, uint64_t v)
{
	wb_key(w, field, 0);
	wb_varint(w, v);
}

static void
wb_bytes(wbuf *w, uint32_t field, const void *p, size_t len)
{
	wb_key(w, field, 2);
	wb_varint(w, len);
	wb_raw(w, p, len);
}

static void
wb_str(wbuf *w, uint32_t field, const char *s)
{
	wb_bytes(w, field, s, strlen(s));
}

static void
wb_msg(wbuf *w, uint32_t field, const wbuf *inner)
{
	wb_bytes(w, field, inner->b, inner->n);
}

/* A map<string,string> entry. */
static void
wb_entry(wbuf *w, uint32_t field, const char *k, const char *v)
{
	wbuf *e = wb_new();
	wb_str(e, 1, k);
	wb_str(e, 2, v);
	wb_msg(w, field, e);
	free(e);
}

/* ---- assertions ---- */

static void
expect_ok(const ProtobufCMessageDescriptor *d, const uint8_t *b, size_t n)
{
	char why[SRV_WIRE_WHY_BYTES];
	pw_status rv = srv_wire_check(d, b, n, why, sizeof(why));
	if (rv != PW_OK) {
		fail_msg("refused valid %s: %s", d->name, why);
	}
	assert_string_equal("", why);
}

static void
expect_refused(const ProtobufCMessageDescriptor *d, const uint8_t *b, size_t n, const char *reason)
{
	char why[SRV_WIRE_WHY_BYTES];
	pw_status rv = srv_wire_check(d, b, n, why, sizeof(why));
	assert_int_equal(PW_INVALID_ARGUMENT, rv);
	if (strstr(why, reason) == NULL) {
		fail_msg("reason \"%s\" lacks \"%s\"", why, reason);
	}
}

static bool
unpacks(const ProtobufCMessageDescriptor *d, const uint8_t *b, size_t n)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, b);
	protobuf_c_message_free_unpacked(m, NULL);
	return m != NULL;
}

/* ---- valid messages, packed by protobuf-c ---- */

static size_t
pack_request(const Paywire__V1__Request *req, uint8_t **out)
{
	size_t n = paywire__v1__request__get_packed_size(req);
	*out = malloc(n + 1);
	assert_non_null(*out);
	assert_int_equal(n, paywire__v1__request__pack(req, *out));
	return n;
}

static const uint8_t webhook_body[] = "{\"id\":\"evt_1\",\0\"x\":\"\xff\xfe\"}";

/* Builds a request of the given call type with every field set, packs it. */
static size_t
full_request(Paywire__V1__Request__CallCase which, uint8_t **out)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateMerchantRequest cm = PAYWIRE__V1__CREATE_MERCHANT_REQUEST__INIT;
	Paywire__V1__CreateSessionRequest cs = PAYWIRE__V1__CREATE_SESSION_REQUEST__INIT;
	Paywire__V1__CreateSessionRequest__MetadataEntry md[3] = {
		PAYWIRE__V1__CREATE_SESSION_REQUEST__METADATA_ENTRY__INIT,
		PAYWIRE__V1__CREATE_SESSION_REQUEST__METADATA_ENTRY__INIT,
		PAYWIRE__V1__CREATE_SESSION_REQUEST__METADATA_ENTRY__INIT};
	Paywire__V1__CreateSessionRequest__MetadataEntry *mdp[3] = {&md[0], &md[1], &md[2]};
	Paywire__V1__Fulfillment ff = PAYWIRE__V1__FULFILLMENT__INIT;
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest iw = PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest__HeadersEntry hd[2] = {
		PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__HEADERS_ENTRY__INIT,
		PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__HEADERS_ENTRY__INIT};
	Paywire__V1__IngestWebhookRequest__HeadersEntry *hdp[2] = {&hd[0], &hd[1]};
	Paywire__V1__RevokeApiKeyRequest rk = PAYWIRE__V1__REVOKE_API_KEY_REQUEST__INIT;
	Paywire__V1__VerifyAuditRequest va = PAYWIRE__V1__VERIFY_AUDIT_REQUEST__INIT;
	Paywire__V1__RedeemAccessRequest ra = PAYWIRE__V1__REDEEM_ACCESS_REQUEST__INIT;
	Paywire__V1__CancelSessionRequest cx = PAYWIRE__V1__CANCEL_SESSION_REQUEST__INIT;
	Paywire__V1__DeductCreditsRequest dc = PAYWIRE__V1__DEDUCT_CREDITS_REQUEST__INIT;
	Paywire__V1__GetBalanceRequest gb = PAYWIRE__V1__GET_BALANCE_REQUEST__INIT;
	Paywire__V1__CreateApiKeyRequest ck = PAYWIRE__V1__CREATE_API_KEY_REQUEST__INIT;
	Paywire__V1__ListApiKeysRequest lk = PAYWIRE__V1__LIST_API_KEYS_REQUEST__INIT;
	Paywire__V1__RollApiKeyRequest rl = PAYWIRE__V1__ROLL_API_KEY_REQUEST__INIT;
	Paywire__V1__VerifyAccessKeyRequest vk = PAYWIRE__V1__VERIFY_ACCESS_KEY_REQUEST__INIT;
	Paywire__V1__GetSessionRequest gss = PAYWIRE__V1__GET_SESSION_REQUEST__INIT;
	Paywire__V1__ListSessionsRequest lss = PAYWIRE__V1__LIST_SESSIONS_REQUEST__INIT;
	Paywire__V1__GetInvoiceRequest gi = PAYWIRE__V1__GET_INVOICE_REQUEST__INIT;
	Paywire__V1__ListInvoicesRequest li = PAYWIRE__V1__LIST_INVOICES_REQUEST__INIT;
	Paywire__V1__ListEventsRequest le = PAYWIRE__V1__LIST_EVENTS_REQUEST__INIT;
	Paywire__V1__GetEntitlementsRequest ge = PAYWIRE__V1__GET_ENTITLEMENTS_REQUEST__INIT;
	Paywire__V1__ListAnomaliesRequest la = PAYWIRE__V1__LIST_ANOMALIES_REQUEST__INIT;
	Paywire__V1__ListQuarantinedEventsRequest lq =
	    PAYWIRE__V1__LIST_QUARANTINED_EVENTS_REQUEST__INIT;
	Paywire__V1__GetQuarantinedEventRequest gq = PAYWIRE__V1__GET_QUARANTINED_EVENT_REQUEST__INIT;
	Paywire__V1__RetryQuarantinedEventRequest rq =
	    PAYWIRE__V1__RETRY_QUARANTINED_EVENT_REQUEST__INIT;
	Paywire__V1__ListCreditTransactionsRequest lc =
	    PAYWIRE__V1__LIST_CREDIT_TRANSACTIONS_REQUEST__INIT;
	Paywire__V1__ReissueAccessKeyRequest rak = PAYWIRE__V1__REISSUE_ACCESS_KEY_REQUEST__INIT;
	Paywire__V1__TestPaymentRequest tp = PAYWIRE__V1__TEST_PAYMENT_REQUEST__INIT;
	Paywire__V1__CreatePortalSessionRequest cps = PAYWIRE__V1__CREATE_PORTAL_SESSION_REQUEST__INIT;
	Paywire__V1__RefundPaymentRequest rp = PAYWIRE__V1__REFUND_PAYMENT_REQUEST__INIT;
	Paywire__V1__SetPlanPriceRequest spp = PAYWIRE__V1__SET_PLAN_PRICE_REQUEST__INIT;
	Paywire__V1__SetProviderCredentialsRequest spc =
	    PAYWIRE__V1__SET_PROVIDER_CREDENTIALS_REQUEST__INIT;
	Paywire__V1__ListProviderCredentialsRequest lpc =
	    PAYWIRE__V1__LIST_PROVIDER_CREDENTIALS_REQUEST__INIT;
	Paywire__V1__CreditPackageCreateRequest pc = PAYWIRE__V1__CREDIT_PACKAGE_CREATE_REQUEST__INIT;
	Paywire__V1__CreditPackageArchiveRequest pa = PAYWIRE__V1__CREDIT_PACKAGE_ARCHIVE_REQUEST__INIT;
	Paywire__V1__CreditPackageListRequest pl = PAYWIRE__V1__CREDIT_PACKAGE_LIST_REQUEST__INIT;
	Paywire__V1__SetMerchantRateLimitsRequest smrl =
	    PAYWIRE__V1__SET_MERCHANT_RATE_LIMITS_REQUEST__INIT;
	Paywire__V1__GetMerchantRateLimitsRequest gmrl =
	    PAYWIRE__V1__GET_MERCHANT_RATE_LIMITS_REQUEST__INIT;
	Paywire__V1__MerchantRateLimits rls = PAYWIRE__V1__MERCHANT_RATE_LIMITS__INIT;
	Paywire__V1__MerchantRateLimit rl_reads = PAYWIRE__V1__MERCHANT_RATE_LIMIT__INIT;
	Paywire__V1__CreateEndpointRequest ce = PAYWIRE__V1__CREATE_ENDPOINT_REQUEST__INIT;
	Paywire__V1__ListEndpointsRequest lep = PAYWIRE__V1__LIST_ENDPOINTS_REQUEST__INIT;
	Paywire__V1__UpdateEndpointRequest ue = PAYWIRE__V1__UPDATE_ENDPOINT_REQUEST__INIT;
	Paywire__V1__DeleteEndpointRequest de = PAYWIRE__V1__DELETE_ENDPOINT_REQUEST__INIT;
	Paywire__V1__RotateEndpointSecretRequest re = PAYWIRE__V1__ROTATE_ENDPOINT_SECRET_REQUEST__INIT;
	Paywire__V1__ListNotifyMessagesRequest lm = PAYWIRE__V1__LIST_NOTIFY_MESSAGES_REQUEST__INIT;
	Paywire__V1__RetryNotifyMessageRequest rm = PAYWIRE__V1__RETRY_NOTIFY_MESSAGE_REQUEST__INIT;
	Paywire__V1__ReplayNotifyRequest rn = PAYWIRE__V1__REPLAY_NOTIFY_REQUEST__INIT;
	char *types[] = { (char *) "session.paid", (char *) "credits.changed" };

	req.request_id = "req_01HZX";
	req.api_key = "sk_test_abcdefghijklmnop";
	req.deadline_ms = 4000000000u; /* uint32 with the top bit set */
	req.call_case = which;
	switch (which) {
	case PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT:
		cm.name = "Acme GmbH \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* é € 😀 */
		cm.mode = PAYWIRE__V1__MODE__MODE_LIVE;
		req.create_merchant = &cm;
		break;
	case PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION:
		cs.amount_minor = 4900;
		cs.currency = "EUR";
		cs.mode = PAYWIRE__V1__MODE__MODE_TEST;
		cs.success_url = "https://shop.example/ok";
		cs.cancel_url = "https://shop.example/cancel";
		cs.customer_email = "ann@example.com";
		cs.customer_name = "Ann";
		cs.customer_ref = "cust_1";
		cs.idempotency_key = "idem-1";
		md[0].key = "order";
		md[0].value = "1234";
		md[1].key = "plan";
		md[1].value = "pro";
		md[2].key = "";
		md[2].value = "";
		cs.n_metadata = 3;
		cs.metadata = mdp;
		ff.kind = PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
		ff.plan = "pro";
		ff.credits = -7; /* int64 negative: 10-byte varint */
		cs.fulfillment = &ff;
		cs.credit_package = "pack-100";
		req.create_session = &cs;
		break;
	case PAYWIRE__V1__REQUEST__CALL_GET_STATUS:
		gs.session_id = "cs_0190f3c2a1b24f";
		req.get_status = &gs;
		break;
	case PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK:
		iw.provider = PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE;
		hd[0].key = "stripe-signature";
		hd[0].value = "t=1767225660,v1=eefa676d";
		hd[1].key = "content-type";
		hd[1].value = "application/json";
		iw.n_headers = 2;
		iw.headers = hdp;
		iw.body.data = (uint8_t *) webhook_body;
		iw.body.len = sizeof(webhook_body); /* NULs and invalid UTF-8: bytes may */
		req.ingest_webhook = &iw;
		break;
	case PAYWIRE__V1__REQUEST__CALL_REVOKE_API_KEY:
		rk.api_key = "sk_live_zzz";
		req.revoke_api_key = &rk;
		break;
	case PAYWIRE__V1__REQUEST__CALL_VERIFY_AUDIT:
		req.verify_audit = &va;
		break;
	case PAYWIRE__V1__REQUEST__CALL_REDEEM_ACCESS:
		ra.session_id = "cs_1";
		ra.token = "eyJhbGciOiJIUzI1NiJ9.e30.sig";
		req.redeem_access = &ra;
		break;
	case PAYWIRE__V1__REQUEST__CALL_CANCEL_SESSION:
		cx.session_id = "cs_0190f3c2a1b24f";
		req.cancel_session = &cx;
		break;
	case PAYWIRE__V1__REQUEST__CALL_DEDUCT_CREDITS:
		dc.customer = "cust_1";
		dc.credits = 3;
		dc.idempotency_key = "use-1";
		dc.description = "one export \xe2\x82\xac";
		req.deduct_credits = &dc;
		break;
	case PAYWIRE__V1__REQUEST__CALL_CREATE_API_KEY:
		ck.mode = PAYWIRE__V1__MODE__MODE_LIVE;
		req.create_api_key = &ck;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_API_KEYS:
		req.list_api_keys = &lk; /* empty: present, no fields */
		break;
	case PAYWIRE__V1__REQUEST__CALL_ROLL_API_KEY:
		rl.key_id = "key_0190f3c2a1b24f";
		rl.grace_s = 3600;
		rl.expire_now = 1;
		req.roll_api_key = &rl;
		break;
	case PAYWIRE__V1__REQUEST__CALL_VERIFY_ACCESS_KEY:
		vk.access_key = "ak_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
		req.verify_access_key = &vk;
		break;
	case PAYWIRE__V1__REQUEST__CALL_GET_SESSION:
		gss.session_id = "cs_0190f3c2a1b24f";
		req.get_session = &gss;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_SESSIONS:
		lss.status = PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID;
		lss.created_from_unix_ms = 1767225600000;
		lss.created_to_unix_ms = INT64_MAX;
		lss.limit = 50;
		lss.starting_after = "cs_0190f3c2a1b24f";
		req.list_sessions = &lss;
		break;
	case PAYWIRE__V1__REQUEST__CALL_GET_INVOICE:
		gi.number = UINT64_C(18446744073709551615);
		req.get_invoice = &gi;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_INVOICES:
		li.limit = 100;
		li.starting_after = 41;
		req.list_invoices = &li;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_EVENTS:
		le.after_seq = UINT64_C(1) << 40;
		le.limit = 100;
		req.list_events = &le;
		break;
	case PAYWIRE__V1__REQUEST__CALL_GET_ENTITLEMENTS:
		ge.customer_ref = "ann@example.com";
		ge.limit = 100;
		ge.starting_after = "ent_019b76daa800e09bdc09c4f2ac79f69457964ec527ee";
		req.get_entitlements = &ge;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_ANOMALIES:
		la.after_seq = UINT64_C(1) << 41;
		la.limit = 100;
		req.list_anomalies = &la;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_QUARANTINED_EVENTS:
		lq.after_id = 7;
		lq.limit = 100;
		req.list_quarantined_events = &lq;
		break;
	case PAYWIRE__V1__REQUEST__CALL_GET_QUARANTINED_EVENT:
		gq.id = UINT64_C(1) << 42;
		req.get_quarantined_event = &gq;
		break;
	case PAYWIRE__V1__REQUEST__CALL_RETRY_QUARANTINED_EVENT:
		rq.id = UINT64_C(1) << 43;
		req.retry_quarantined_event = &rq;
		break;
	case PAYWIRE__V1__REQUEST__CALL_GET_BALANCE:
		gb.customer = "cust_1";
		req.get_balance = &gb;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_CREDIT_TRANSACTIONS:
		lc.customer = "ann@example.com";
		lc.limit = 100;
		lc.starting_after = UINT64_C(18446744073709551615); /* 10-byte varint */
		req.list_credit_transactions = &lc;
		break;
	case PAYWIRE__V1__REQUEST__CALL_REISSUE_ACCESS_KEY:
		rak.session_id = "cs_0190f3c2a1b24f";
		req.reissue_access_key = &rak;
		break;
	case PAYWIRE__V1__REQUEST__CALL_SET_PLAN_PRICE:
		spp.plan = "pro";
		spp.mode = PAYWIRE__V1__MODE__MODE_TEST;
		spp.stripe_price_id = "price_1PwTest";
		req.set_plan_price = &spp;
		break;
	case PAYWIRE__V1__REQUEST__CALL_REFUND_PAYMENT:
		rp.session_id = "cs_0190f3c2a1b24f";
		rp.amount_minor = 500;
		rp.idempotency_key = "refund-1";
		rp.reason = "requested_by_customer";
		req.refund_payment = &rp;
		break;
	case PAYWIRE__V1__REQUEST__CALL_CREATE_PORTAL_SESSION:
		cps.session_id = "cs_0190f3c2a1b24f";
		cps.return_url = "https://shop.example/account";
		req.create_portal_session = &cps;
		break;
	case PAYWIRE__V1__REQUEST__CALL_TEST_PAYMENT:
		tp.session_id = "cs_0190f3c2a1b24f";
		tp.checkout_secret = "cks_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
		tp.fail = 1;
		req.test_payment = &tp;
		break;
	case PAYWIRE__V1__REQUEST__CALL_SET_PROVIDER_CREDENTIALS:
		spc.merchant_id = "m_0190f3c2a1b24f";
		spc.provider = PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY;
		spc.mode = PAYWIRE__V1__MODE__MODE_LIVE;
		spc.key_id = "rzp_live_1DP5mmOlF5G5ag";
		spc.secret = "thisIsARazorpaySecret42q";
		req.set_provider_credentials = &spc;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_PROVIDER_CREDENTIALS:
		lpc.merchant_id = "m_0190f3c2a1b24f";
		req.list_provider_credentials = &lpc;
		break;
	case PAYWIRE__V1__REQUEST__CALL_CREATE_CREDIT_PACKAGE:
		pc.code = "pack_100";
		pc.name = "100 credits \xe2\x82\xac";
		pc.credits = 100;
		pc.amount_minor = 990;
		pc.currency = "EUR";
		req.create_credit_package = &pc;
		break;
	case PAYWIRE__V1__REQUEST__CALL_ARCHIVE_CREDIT_PACKAGE:
		pa.code = "pack_100";
		req.archive_credit_package = &pa;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_CREDIT_PACKAGES:
		pl.starting_after = "pack_050";
		pl.limit = 100;
		pl.include_archived = 1;
		req.list_credit_packages = &pl;
		break;
	case PAYWIRE__V1__REQUEST__CALL_SET_MERCHANT_RATE_LIMITS:
		rl_reads.kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM;
		rl_reads.rate = 100;
		rl_reads.period_s = 60;
		rl_reads.burst = 4000000000u;
		rls.reads = &rl_reads;
		smrl.merchant_id = "m_0190f3c2a1b24f";
		smrl.limits = &rls;
		req.set_merchant_rate_limits = &smrl;
		break;
	case PAYWIRE__V1__REQUEST__CALL_GET_MERCHANT_RATE_LIMITS:
		gmrl.merchant_id = "m_0190f3c2a1b24f";
		req.get_merchant_rate_limits = &gmrl;
		break;
	case PAYWIRE__V1__REQUEST__CALL_CREATE_ENDPOINT:
		ce.kind = PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK;
		ce.url = "https://shop.example/hooks";
		ce.event_types = types;
		ce.n_event_types = 2;
		ce.description = "orders \xe2\x82\xac";
		req.create_endpoint = &ce;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_ENDPOINTS:
		req.list_endpoints = &lep;
		break;
	case PAYWIRE__V1__REQUEST__CALL_UPDATE_ENDPOINT:
		ue.endpoint_id = "ep_0190f3c2a1b24f";
		ue.enable = 2;
		ue.set_event_types = 1;
		ue.event_types = types;
		ue.n_event_types = 1;
		req.update_endpoint = &ue;
		break;
	case PAYWIRE__V1__REQUEST__CALL_DELETE_ENDPOINT:
		de.endpoint_id = "ep_0190f3c2a1b24f";
		req.delete_endpoint = &de;
		break;
	case PAYWIRE__V1__REQUEST__CALL_ROTATE_ENDPOINT_SECRET:
		re.endpoint_id = "ep_0190f3c2a1b24f";
		re.grace_ms = 86400000;
		req.rotate_endpoint_secret = &re;
		break;
	case PAYWIRE__V1__REQUEST__CALL_LIST_NOTIFY_MESSAGES:
		lm.dead = 1;
		lm.endpoint_id = "ep_0190f3c2a1b24f";
		lm.limit = 100;
		req.list_notify_messages = &lm;
		break;
	case PAYWIRE__V1__REQUEST__CALL_RETRY_NOTIFY_MESSAGE:
		rm.msg_id = "msg_0123456789abcdef0123456789abcdef";
		req.retry_notify_message = &rm;
		break;
	case PAYWIRE__V1__REQUEST__CALL_REPLAY_NOTIFY:
		rn.since_unix_ms = 1767225600000;
		rn.endpoint_id = "ep_0190f3c2a1b24f";
		req.replay_notify = &rn;
		break;
	case PAYWIRE__V1__REQUEST__CALL__NOT_SET:
	case _PAYWIRE__V1__REQUEST__CALL__CASE_IS_INT_SIZE: break;
	}
	return pack_request(&req, out);
}

static const Paywire__V1__Request__CallCase all_calls[] = {
	PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT, PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION,
	PAYWIRE__V1__REQUEST__CALL_GET_STATUS, PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK,
	PAYWIRE__V1__REQUEST__CALL_REVOKE_API_KEY, PAYWIRE__V1__REQUEST__CALL_VERIFY_AUDIT,
	PAYWIRE__V1__REQUEST__CALL_REDEEM_ACCESS, PAYWIRE__V1__REQUEST__CALL_CANCEL_SESSION,
	PAYWIRE__V1__REQUEST__CALL_DEDUCT_CREDITS, PAYWIRE__V1__REQUEST__CALL_GET_BALANCE,
	PAYWIRE__V1__REQUEST__CALL_LIST_CREDIT_TRANSACTIONS, PAYWIRE__V1__REQUEST__CALL_CREATE_API_KEY,
	PAYWIRE__V1__REQUEST__CALL_LIST_API_KEYS, PAYWIRE__V1__REQUEST__CALL_ROLL_API_KEY,
	PAYWIRE__V1__REQUEST__CALL_VERIFY_ACCESS_KEY, PAYWIRE__V1__REQUEST__CALL_GET_SESSION,
	PAYWIRE__V1__REQUEST__CALL_LIST_SESSIONS, PAYWIRE__V1__REQUEST__CALL_GET_INVOICE,
	PAYWIRE__V1__REQUEST__CALL_LIST_INVOICES, PAYWIRE__V1__REQUEST__CALL_LIST_EVENTS,
	PAYWIRE__V1__REQUEST__CALL_REISSUE_ACCESS_KEY, PAYWIRE__V1__REQUEST__CALL_TEST_PAYMENT,
	PAYWIRE__V1__REQUEST__CALL_GET_ENTITLEMENTS, PAYWIRE__V1__REQUEST__CALL_LIST_ANOMALIES,
	PAYWIRE__V1__REQUEST__CALL_LIST_QUARANTINED_EVENTS,
	PAYWIRE__V1__REQUEST__CALL_GET_QUARANTINED_EVENT,
	PAYWIRE__V1__REQUEST__CALL_RETRY_QUARANTINED_EVENT,
	PAYWIRE__V1__REQUEST__CALL_CREATE_PORTAL_SESSION,
	PAYWIRE__V1__REQUEST__CALL_REFUND_PAYMENT,
	PAYWIRE__V1__REQUEST__CALL_SET_PLAN_PRICE,
	PAYWIRE__V1__REQUEST__CALL_SET_PROVIDER_CREDENTIALS,
	PAYWIRE__V1__REQUEST__CALL_LIST_PROVIDER_CREDENTIALS,
	PAYWIRE__V1__REQUEST__CALL_CREATE_CREDIT_PACKAGE,
	PAYWIRE__V1__REQUEST__CALL_ARCHIVE_CREDIT_PACKAGE,
	PAYWIRE__V1__REQUEST__CALL_LIST_CREDIT_PACKAGES,
	PAYWIRE__V1__REQUEST__CALL_SET_MERCHANT_RATE_LIMITS,
	PAYWIRE__V1__REQUEST__CALL_GET_MERCHANT_RATE_LIMITS,
	PAYWIRE__V1__REQUEST__CALL_CREATE_ENDPOINT, PAYWIRE__V1__REQUEST__CALL_LIST_ENDPOINTS,
	PAYWIRE__V1__REQUEST__CALL_UPDATE_ENDPOINT, PAYWIRE__V1__REQUEST__CALL_DELETE_ENDPOINT,
	PAYWIRE__V1__REQUEST__CALL_ROTATE_ENDPOINT_SECRET,
	PAYWIRE__V1__REQUEST__CALL_LIST_NOTIFY_MESSAGES,
	PAYWIRE__V1__REQUEST__CALL_RETRY_NOTIFY_MESSAGE, PAYWIRE__V1__REQUEST__CALL_REPLAY_NOTIFY,
	PAYWIRE__V1__REQUEST__CALL__NOT_SET,
};
#define N_CALLS (sizeof(all_calls) / sizeof(all_calls[0]))

static void
test_valid_requests_of_every_call_type_pass(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_CALLS; i++) {
		uint8_t *b = NULL;
		size_t n = full_request(all_calls[i], &b);
		Paywire__V1__Request *req;
		expect_ok(REQ, b, n);
		req = paywire__v1__request__unpack(NULL, n, b);
		assert_non_null(req);
		assert_int_equal(all_calls[i], req->call_case);
		assert_int_equal(4000000000u, req->deadline_ms);
		paywire__v1__request__free_unpacked(req, NULL);
		free(b);
	}
}

static void
test_webhook_body_keeps_its_nul_bytes(void **state)
{
	uint8_t *b = NULL;
	size_t n = full_request(PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK, &b);
	Paywire__V1__Request *req;
	(void) state;
	expect_ok(REQ, b, n);
	req = paywire__v1__request__unpack(NULL, n, b);
	assert_non_null(req);
	assert_int_equal(sizeof(webhook_body), req->ingest_webhook->body.len);
	assert_memory_equal(webhook_body, req->ingest_webhook->body.data, sizeof(webhook_body));
	assert_int_equal(2, req->ingest_webhook->n_headers);
	paywire__v1__request__free_unpacked(req, NULL);
	free(b);
}

static void
test_valid_response_and_store_record_pass(void **state)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__Status st = PAYWIRE__V1__STATUS__INIT;
	Paywire__V1__IngestWebhookResponse iw = PAYWIRE__V1__INGEST_WEBHOOK_RESPONSE__INIT;
	Paywire__Store__V1__SessionRecord rec = PAYWIRE__STORE__V1__SESSION_RECORD__INIT;
	Paywire__Store__V1__Session sess = PAYWIRE__STORE__V1__SESSION__INIT;
	Paywire__Store__V1__ProviderRef ref = PAYWIRE__STORE__V1__PROVIDER_REF__INIT;
	Paywire__Store__V1__ProviderRef *refs[2] = {&ref, &ref};
	uint8_t b[1024];
	size_t n;
	(void) state;
	st.code = -3;
	st.message = "bad";
	iw.outcome = PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_IGNORED;
	iw.anomaly = 1;
	iw.invoice_number = UINT64_MAX;
	resp.request_id = "r";
	resp.status = &st;
	resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK;
	resp.ingest_webhook = &iw;
	n = paywire__v1__response__pack(&resp, b);
	expect_ok(&paywire__v1__response__descriptor, b, n);

	sess.id = "cs_1";
	sess.amount_minor = 4900;
	ref.provider = PAYWIRE__STORE__V1__PROVIDER__PROVIDER_RAZORPAY;
	ref.ref = "pay_1";
	rec.session = &sess;
	rec.n_refs = 2; /* a repeated message (not a map) may repeat its values */
	rec.refs = refs;
	rec.dispute = 3;
	n = paywire__store__v1__session_record__pack(&rec, b);
	expect_ok(&paywire__store__v1__session_record__descriptor, b, n);
}

static void
test_empty_message_passes_and_why_is_cleared(void **state)
{
	char why[8] = "junk";
	(void) state;
	assert_int_equal(PW_OK, srv_wire_check(REQ, NULL, 0, why, sizeof(why)));
	assert_string_equal("", why);
	assert_int_equal(PW_OK, srv_wire_check(REQ, NULL, 0, NULL, 0));
}

/* ---- unknown fields ---- */

static void
test_unknown_field_is_refused(void **state)
{
	wbuf *w = wb_new();
	(void) state;
	wb_str(w, 1, "req_1");
	wb_uint(w, 99, 1);
	expect_refused(REQ, w->b, w->n, "field 99 of paywire.v1.Request: unknown field");
	assert_true(unpacks(REQ, w->b, w->n)); /* protobuf-c would keep it in silence */
	free(w);
}

static void
test_unknown_field_inside_nested_message_is_refused(void **state)
{
	wbuf *w = wb_new();
	wbuf *cs = wb_new();
	(void) state;
	wb_uint(cs, 1, 4900);
	wb_str(cs, 2, "EUR");
	wb_str(cs, 99, "later-field");
	wb_msg(w, 11, cs);
	expect_refused(REQ, w->b, w->n, "field 99 of paywire.v1.CreateSessionRequest: unknown field");
	free(cs);
	free(w);
}

static void
test_unknown_field_inside_map_entry_is_refused(void **state)
{
	wbuf *w = wb_new();
	wbuf *iw = wb_new();
	wbuf *e = wb_new();
	(void) state;
	wb_str(e, 1, "stripe-signature");
	wb_str(e, 2, "t=1,v1=00");
	wb_uint(e, 3, 1);
	wb_uint(iw, 1, 1);
	wb_msg(iw, 2, e);
	wb_msg(w, 13, iw);
	expect_refused(REQ, w->b, w->n,
	    "field 3 of paywire.v1.IngestWebhookRequest.HeadersEntry: unknown field");
	free(e);
	free(iw);
	free(w);
}

static void
test_field_number_zero_is_refused(void **state)
{
	const uint8_t b[] = {0x02, 0x00}; /* field 0, wire type 2, length 0 */
	(void) state;
	expect_refused(REQ, b, sizeof(b), "field 0 of paywire.v1.Request: field number 0 is invalid");
}

/* ---- wire types ---- */

static void
test_wrong_wire_type_is_refused(void **state)
{
	const uint8_t str_as_varint[] = {0x08, 0x01};           /* request_id as varint */
	const uint8_t uint_as_len[] = {0x1a, 0x01, 0x05};       /* deadline_ms as bytes */
	const uint8_t int64_as_fixed[] = {0x09, 1, 2, 3, 4, 5, 6, 7, 8}; /* amount_minor 64-bit */
	const uint8_t msg_as_fixed32[] = {0x5d, 1, 2, 3, 4};    /* create_session as 32-bit */
	(void) state;
	expect_refused(REQ, str_as_varint, sizeof(str_as_varint),
	    "field 1 (request_id) of paywire.v1.Request: wire type 0 does not match its type string");
	assert_false(unpacks(REQ, str_as_varint, sizeof(str_as_varint)));
	expect_refused(REQ, uint_as_len, sizeof(uint_as_len),
	    "field 3 (deadline_ms) of paywire.v1.Request: wire type 2 does not match its type uint32");
	expect_refused(CSR, int64_as_fixed, sizeof(int64_as_fixed),
	    "field 1 (amount_minor) of paywire.v1.CreateSessionRequest: wire type 1 does not match its type int64");
	expect_refused(REQ, msg_as_fixed32, sizeof(msg_as_fixed32),
	    "field 11 (create_session) of paywire.v1.Request: wire type 5 does not match its type message");
}

static void
test_groups_and_wire_types_6_and_7_are_refused(void **state)
{
	const uint8_t start_group[] = {0x0b, 0x0c};
	const uint8_t end_group[] = {0x0c};
	const uint8_t wt6[] = {0x0e, 0x00};
	const uint8_t wt7[] = {0x0f, 0x00};
	(void) state;
	expect_refused(REQ, start_group, sizeof(start_group),
	    "field 1 of paywire.v1.Request: wire type 3 (group) is not supported");
	expect_refused(REQ, end_group, sizeof(end_group),
	    "field 1 of paywire.v1.Request: wire type 4 (group) is not supported");
	expect_refused(REQ, wt6, sizeof(wt6), "field 1 of paywire.v1.Request: invalid wire type 6");
	expect_refused(REQ, wt7, sizeof(wt7), "field 1 of paywire.v1.Request: invalid wire type 7");
}

/* ---- varints, keys and lengths ---- */

static void
test_truncated_and_oversized_varints_are_refused(void **state)
{
	const uint8_t truncated[] = {0x18, 0x80, 0x80};
	const uint8_t eleven[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	const uint8_t over64[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
	const uint8_t max64[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	(void) state;
	expect_refused(REQ, truncated, sizeof(truncated),
	    "field 3 (deadline_ms) of paywire.v1.Request: truncated varint at byte 1");
	assert_false(unpacks(REQ, truncated, sizeof(truncated)));
	expect_refused(CSR, eleven, sizeof(eleven),
	    "field 1 (amount_minor) of paywire.v1.CreateSessionRequest: varint longer than 10 bytes");
	assert_false(unpacks(CSR, eleven, sizeof(eleven)));
	expect_refused(CSR, over64, sizeof(over64),
	    "field 1 (amount_minor) of paywire.v1.CreateSessionRequest: varint overflows 64 bits");
	expect_ok(CSR, max64, sizeof(max64)); /* -1 as int64: ten bytes, top bit 1 */
}

static void
test_truncated_or_overlong_field_key_is_refused(void **state)
{
	const uint8_t truncated[] = {0x0a, 0x00, 0x80};
	const uint8_t six[] = {0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00};
	const uint8_t five[] = {0x88, 0x80, 0x80, 0x80, 0x00, 0x00}; /* field 1, non-minimal */
	(void) state;
	expect_refused(REQ, truncated, sizeof(truncated),
	    "paywire.v1.Request: truncated field key at byte 2");
	expect_refused(REQ, six, sizeof(six), "paywire.v1.Request: field key longer than 5 bytes at byte 0");
	assert_false(unpacks(REQ, six, sizeof(six)));
	expect_refused(REQ, five, sizeof(five), "wire type 0 does not match its type string");
}

static void
test_lengths_past_the_end_are_refused(void **state)
{
	const uint8_t past[] = {0x0a, 0x0a, 'a', 'b', 'c'};
	const uint8_t one_past[] = {0x0a, 0x02, 'a'};
	const uint8_t exact[] = {0x0a, 0x01, 'a'};
	const uint8_t trunc_prefix[] = {0x0a, 0x80};
	const uint8_t long_prefix[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	const uint8_t five_prefix[] = {0x0a, 0x83, 0x80, 0x80, 0x80, 0x00, 'a', 'b', 'c'};
	const uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'};
	(void) state;
	expect_refused(REQ, past, sizeof(past),
	    "field 1 (request_id) of paywire.v1.Request: length 10 runs past the end of the message (3 bytes left)");
	assert_false(unpacks(REQ, past, sizeof(past)));
	expect_refused(REQ, one_past, sizeof(one_past),
	    "field 1 (request_id) of paywire.v1.Request: length 2 runs past the end of the message (1 bytes left)");
	assert_false(unpacks(REQ, one_past, sizeof(one_past)));
	expect_ok(REQ, exact, sizeof(exact));
	expect_refused(REQ, trunc_prefix, sizeof(trunc_prefix),
	    "field 1 (request_id) of paywire.v1.Request: truncated length prefix at byte 1");
	expect_refused(REQ, long_prefix, sizeof(long_prefix),
	    "field 1 (request_id) of paywire.v1.Request: length prefix longer than 5 bytes");
	assert_false(unpacks(REQ, long_prefix, sizeof(long_prefix)));
	expect_ok(REQ, five_prefix, sizeof(five_prefix));
	assert_true(unpacks(REQ, five_prefix, sizeof(five_prefix)));
	expect_refused(REQ, huge, sizeof(huge), "length 4294967295 runs past the end");
}

static void
test_length_past_the_end_of_a_nested_message_is_refused(void **state)
{
	/* create_session (5 bytes) holds currency claiming 10 bytes: the outer
	 * buffer has them, the nested message does not. */
	const uint8_t b[] = {0x5a, 0x05, 0x12, 0x0a, 'E', 'U', 'R', 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
	(void) state;
	expect_refused(REQ, b, sizeof(b),
	    "field 2 (currency) of paywire.v1.CreateSessionRequest: length 10 runs past the end of the message (3 bytes left)");
	assert_false(unpacks(REQ, b, sizeof(b)));
}

/* ---- strings ---- */

static void
test_string_with_nul_byte_is_refused(void **state)
{
	wbuf *w = wb_new();
	Paywire__V1__CreateSessionRequest *cs;
	(void) state;
	wb_bytes(w, 7, "Ann\0e", 5);
	expect_refused(CSR, w->b, w->n,
	    "string field customer_name contains a NUL byte (field 7 of paywire.v1.CreateSessionRequest)");
	/* what protobuf-c alone would do: keep "Ann", drop the rest */
	cs = paywire__v1__create_session_request__unpack(NULL, w->n, w->b);
	assert_non_null(cs);
	assert_string_equal("Ann", cs->customer_name);
	paywire__v1__create_session_request__free_unpacked(cs, NULL);
	free(w);
}

static void
test_string_with_invalid_utf8_is_refused(void **state)
{
	static const char *const bad[] = {"\xff", "abc\xc3", "\xc0\xaf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\x80"};
	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wbuf *w = wb_new();
		wb_str(w, 7, bad[i]);
		expect_refused(CSR, w->b, w->n,
		    "string field customer_name is not valid UTF-8 (field 7 of paywire.v1.CreateSessionRequest)");
		free(w);
	}
}

static void
test_string_in_map_value_is_checked(void **state)
{
	wbuf *w = wb_new();
	wbuf *e = wb_new();
	(void) state;
	wb_str(e, 1, "k");
	wb_bytes(e, 2, "v\0", 2);
	wb_msg(w, 10, e);
	expect_refused(CSR, w->b, w->n,
	    "string field value contains a NUL byte (field 2 of paywire.v1.CreateSessionRequest.MetadataEntry)");
	free(e);
	free(w);
}

/* ---- presence ---- */

static void
test_singular_field_twice_is_refused(void **state)
{
	wbuf *w = wb_new();
	wbuf *g = wb_new();
	Paywire__V1__Request *req;
	(void) state;
	wb_str(w, 1, "req_1");
	wb_str(w, 1, "req_2");
	expect_refused(REQ, w->b, w->n,
	    "field 1 (request_id) of paywire.v1.Request: singular field appears more than once");
	req = paywire__v1__request__unpack(NULL, w->n, w->b);
	assert_non_null(req); /* protobuf-c alone keeps the last, in silence */
	assert_string_equal("req_2", req->request_id);
	paywire__v1__request__free_unpacked(req, NULL);
	w->n = 0;
	wb_str(g, 1, "cs_1");
	wb_msg(w, 12, g);
	wb_msg(w, 12, g);
	expect_refused(REQ, w->b, w->n,
	    "field 12 (get_status) of paywire.v1.Request: singular field appears more than once");
	free(g);
	free(w);
}

static void
test_two_members_of_one_oneof_are_refused(void **state)
{
	wbuf *w = wb_new();
	wbuf *cs = wb_new();
	wbuf *gs = wb_new();
	(void) state;
	wb_uint(cs, 1, 4900);
	wb_str(gs, 1, "cs_1");
	wb_msg(w, 11, cs);
	wb_msg(w, 12, gs);
	expect_refused(REQ, w->b, w->n,
	    "field 12 (get_status) of paywire.v1.Request: another member of its oneof (create_session) is already set");
	assert_true(unpacks(REQ, w->b, w->n)); /* protobuf-c keeps the last */
	free(gs);
	free(cs);
	free(w);
}

static void
test_repeated_entries_over_the_limit_are_refused(void **state)
{
	wbuf *w = wb_new();
	char key[16];
	(void) state;
	for (int i = 0; i < PW_WIRE_REPEATED_MAX; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		wb_entry(w, 10, key, "v");
	}
	expect_ok(CSR, w->b, w->n);
	wb_entry(w, 10, "one-more", "v");
	expect_refused(CSR, w->b, w->n,
	    "paywire.v1.CreateSessionRequest: more than 128 repeated/map entries (at field 10, metadata)");
	free(w);
}

static void
test_duplicate_map_key_is_refused(void **state)
{
	wbuf *w = wb_new();
	wbuf *iw = wb_new();
	wbuf *empty = wb_new();
	(void) state;
	wb_uint(iw, 1, 1);
	wb_entry(iw, 2, "stripe-signature", "t=1,v1=aa");
	wb_entry(iw, 2, "content-type", "application/json");
	wb_bytes(iw, 3, "{}", 2);
	wb_entry(iw, 2, "stripe-signature", "t=1,v1=bb");
	wb_msg(w, 13, iw);
	expect_refused(REQ, w->b, w->n,
	    "map field headers of paywire.v1.IngestWebhookRequest: duplicate key");
	assert_true(unpacks(REQ, w->b, w->n)); /* protobuf-c: two entries, pick one */
	/* two entries without a key both mean "" */
	w->n = 0;
	wb_msg(w, 10, empty);
	wb_entry(w, 10, "a", "1");
	wb_msg(w, 10, empty);
	expect_refused(CSR, w->b, w->n,
	    "map field metadata of paywire.v1.CreateSessionRequest: duplicate key");
	free(empty);
	free(iw);
	free(w);
}

/* ---- ranges ---- */

static void
test_values_out_of_range_of_their_type_are_refused(void **state)
{
	wbuf *w = wb_new();
	wbuf *st = wb_new();
	(void) state;
	wb_uint(w, 3, UINT64_C(4294967296)); /* deadline_ms: protobuf-c would read 0 */
	expect_refused(REQ, w->b, w->n,
	    "field 3 (deadline_ms) of paywire.v1.Request: value out of range for uint32");
	w->n = 0;
	wb_uint(w, 3, 7); /* mode */
	expect_refused(CSR, w->b, w->n,
	    "field 3 (mode) of paywire.v1.CreateSessionRequest: 7 is not a value of paywire.v1.Mode");
	w->n = 0;
	wb_uint(w, 3, UINT64_MAX); /* mode -1 */
	expect_refused(CSR, w->b, w->n, "-1 is not a value of paywire.v1.Mode");
	w->n = 0;
	wb_uint(st, 1, UINT64_C(2147483648)); /* Status.code = 2^31 */
	expect_refused(&paywire__v1__status__descriptor, st->b, st->n,
	    "field 1 (code) of paywire.v1.Status: value out of range for a 32-bit int32");
	st->n = 0;
	wb_uint(st, 1, (uint64_t) (int64_t) INT32_MIN); /* INT32_MIN as a 10-byte varint */
	expect_ok(&paywire__v1__status__descriptor, st->b, st->n);
	wb_uint(w, 9, 2); /* anomaly (bool) = 2 */
	expect_refused(&paywire__v1__ingest_webhook_response__descriptor, w->b, w->n,
	    "field 9 (anomaly) of paywire.v1.IngestWebhookResponse: bool value 2 is not 0 or 1");
	free(st);
	free(w);
}

static void
test_reason_is_truncated_to_why_size_and_why_may_be_null(void **state)
{
	const uint8_t b[] = {0x02, 0x00};
	char small[8];
	(void) state;
	assert_int_equal(PW_INVALID_ARGUMENT, srv_wire_check(REQ, b, sizeof(b), small, sizeof(small)));
	assert_string_equal("field 0", small);
	assert_int_equal(PW_INVALID_ARGUMENT, srv_wire_check(REQ, b, sizeof(b), NULL, 0));
}

/* ---- a hand-made descriptor: packed scalars, fixed32, recursion, required ---- */

typedef struct test_node test_node;
struct test_node {
	ProtobufCMessage base;     /* protobuf-c header */
	test_node *child;          /* 1: self-recursive */
	size_t n_vals;             /* 2: repeated int32 (packable) */
	int32_t *vals;
	size_t n_fx;               /* 3: repeated fixed32 (packable) */
	uint32_t *fx;
	size_t n_flags;            /* 4: repeated bool (packable) */
	protobuf_c_boolean *flags;
	char *name;                /* 5: string */
};

static const ProtobufCMessageDescriptor test_node_descriptor;

static const ProtobufCFieldDescriptor test_node_fields[5] = {
	{"child", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0, offsetof(test_node, child),
	    &test_node_descriptor, NULL, 0, 0, NULL, NULL},
	{"vals", 2, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_INT32, offsetof(test_node, n_vals),
	    offsetof(test_node, vals), NULL, NULL, 0, 0, NULL, NULL},
	{"fx", 3, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_FIXED32, offsetof(test_node, n_fx),
	    offsetof(test_node, fx), NULL, NULL, 0, 0, NULL, NULL},
	{"flags", 4, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_BOOL, offsetof(test_node, n_flags),
	    offsetof(test_node, flags), NULL, NULL, 0, 0, NULL, NULL},
	{"name", 5, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, 0, offsetof(test_node, name),
	    NULL, &protobuf_c_empty_string, 0, 0, NULL, NULL},
};
static const unsigned test_node_by_name[5] = {0, 3, 2, 4, 1};
static const ProtobufCIntRange test_node_ranges[2] = {{1, 0}, {0, 5}};
static const ProtobufCMessageDescriptor test_node_descriptor = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Node", "Node", "TestNode", "test",
	sizeof(test_node), 5, test_node_fields, test_node_by_name, 1, test_node_ranges, NULL, NULL,
	NULL, NULL};

typedef struct test_req {
	ProtobufCMessage base; /* protobuf-c header */
	int32_t id;            /* 1: required int32 */
} test_req;

static const ProtobufCFieldDescriptor test_req_fields[1] = {
	{"id", 1, PROTOBUF_C_LABEL_REQUIRED, PROTOBUF_C_TYPE_INT32, 0, offsetof(test_req, id), NULL,
	    NULL, 0, 0, NULL, NULL},
};
static const unsigned test_req_by_name[1] = {0};
static const ProtobufCIntRange test_req_ranges[2] = {{1, 0}, {0, 1}};
static const ProtobufCMessageDescriptor test_req_descriptor = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Req", "Req", "TestReq", "test", sizeof(test_req),
	1, test_req_fields, test_req_by_name, 1, test_req_ranges, NULL, NULL, NULL, NULL};

/* depth levels of Node, each the child of the previous, the innermost named. */
static void
nested_nodes(wbuf *out, int depth)
{
	wbuf *inner = wb_new();
	wb_str(inner, 5, "leaf");
	for (int i = 1; i < depth; i++) {
		wbuf *outer = wb_new();
		wb_msg(outer, 1, inner);
		free(inner);
		inner = outer;
	}
	out->n = 0;
	wb_raw(out, inner->b, inner->n);
	free(inner);
}

static void
test_nesting_deeper_than_16_is_refused(void **state)
{
	wbuf *w = wb_new();
	(void) state;
	nested_nodes(w, PW_WIRE_DEPTH_MAX);
	expect_ok(&test_node_descriptor, w->b, w->n);
	assert_true(unpacks(&test_node_descriptor, w->b, w->n));
	nested_nodes(w, PW_WIRE_DEPTH_MAX + 1);
	expect_refused(&test_node_descriptor, w->b, w->n,
	    "field 1 (child) of test.Node: nesting deeper than 16 messages");
	free(w);
}

static void
test_packed_repeated_scalars_are_accepted(void **state)
{
	wbuf *w = wb_new();
	wbuf *run = wb_new();
	const uint8_t fx[8] = {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
	const uint8_t flags[3] = {1, 0, 1};
	test_node *n;
	(void) state;
	wb_varint(run, 1);
	wb_varint(run, (uint64_t) (int64_t) -1);
	wb_varint(run, 300);
	wb_bytes(w, 2, run->b, run->n);      /* packed int32 */
	wb_uint(w, 2, 7);                    /* and one unpacked */
	wb_bytes(w, 3, fx, sizeof(fx));      /* packed fixed32 */
	wb_key(w, 3, 5);                     /* and one unpacked */
	wb_raw(w, fx, 4);
	wb_bytes(w, 4, flags, sizeof(flags)); /* packed bool */
	wb_bytes(w, 2, "", 0);               /* an empty packed run */
	expect_ok(&test_node_descriptor, w->b, w->n);
	n = (test_node *) protobuf_c_message_unpack(&test_node_descriptor, NULL, w->n, w->b);
	assert_non_null(n);
	assert_int_equal(4, n->n_vals);
	assert_int_equal(-1, n->vals[1]);
	assert_int_equal(3, n->n_fx);
	assert_int_equal(3, n->n_flags);
	protobuf_c_message_free_unpacked(&n->base, NULL);
	free(run);
	free(w);
}

static void
test_malformed_packed_runs_are_refused(void **state)
{
	wbuf *w = wb_new();
	const uint8_t six[6] = {0};
	const uint8_t bool2[2] = {1, 2};
	const uint8_t trunc[2] = {0x01, 0x80};
	const uint8_t big[6] = {0x80, 0x80, 0x80, 0x80, 0x10}; /* 2^32 as int32 */
	(void) state;
	wb_bytes(w, 3, six, sizeof(six));
	expect_refused(&test_node_descriptor, w->b, w->n,
	    "field 3 (fx) of test.Node: packed length 6 is not a multiple of 4");
	assert_false(unpacks(&test_node_descriptor, w->b, w->n));
	w->n = 0;
	wb_bytes(w, 4, bool2, sizeof(bool2));
	expect_refused(&test_node_descriptor, w->b, w->n,
	    "field 4 (flags) of test.Node: bool value 2 is not 0 or 1");
	/* (protobuf-c 1.4.1 itself reads the 2 as true) */
	w->n = 0;
	wb_bytes(w, 2, trunc, sizeof(trunc));
	expect_refused(&test_node_descriptor, w->b, w->n, "field 2 (vals) of test.Node: truncated varint");
	assert_false(unpacks(&test_node_descriptor, w->b, w->n));
	w->n = 0;
	wb_bytes(w, 2, big, 5);
	expect_refused(&test_node_descriptor, w->b, w->n,
	    "field 2 (vals) of test.Node: value out of range for a 32-bit int32");
	w->n = 0;
	wb_key(w, 3, 5);
	wb_raw(w, six, 2);
	expect_refused(&test_node_descriptor, w->b, w->n,
	    "field 3 (fx) of test.Node: truncated 4-byte value");
	free(w);
}

static void
test_packed_elements_count_toward_the_repeated_limit(void **state)
{
	wbuf *w = wb_new();
	wbuf *run = wb_new();
	(void) state;
	for (int i = 0; i < PW_WIRE_REPEATED_MAX; i++) {
		wb_varint(run, (uint64_t) i);
	}
	wb_bytes(w, 2, run->b, run->n);
	expect_ok(&test_node_descriptor, w->b, w->n);
	wb_uint(w, 2, 1);
	expect_refused(&test_node_descriptor, w->b, w->n,
	    "test.Node: more than 128 repeated/map entries (at field 2, vals)");
	free(run);
	free(w);
}

static void
test_missing_required_field_is_refused(void **state)
{
	const uint8_t with_id[] = {0x08, 0x05};
	(void) state;
	expect_ok(&test_req_descriptor, with_id, sizeof(with_id));
	assert_true(unpacks(&test_req_descriptor, with_id, sizeof(with_id)));
	expect_refused(&test_req_descriptor, NULL, 0,
	    "field 1 (id) of test.Req: required field is missing");
	assert_false(unpacks(&test_req_descriptor, NULL, 0));
}

/* ---- fuzz ---- */

static uint64_t fuzz_rng = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t
rnd(void)
{
	/* xorshift64*: deterministic, so a failure replays */
	fuzz_rng ^= fuzz_rng >> 12;
	fuzz_rng ^= fuzz_rng << 25;
	fuzz_rng ^= fuzz_rng >> 27;
	return fuzz_rng * UINT64_C(2685821657736338717);
}

static size_t
mutate(uint8_t *b, size_t n, size_t cap)
{
	int rounds = 1 + (int) (rnd() % 3);
	for (int r = 0; r < rounds; r++) {
		size_t at = n > 0 ? (size_t) (rnd() % n) : 0;
		switch (rnd() % 7) {
		case 0: if (n > 0) { b[at] ^= (uint8_t) (1u << (rnd() % 8)); } break;
		case 1: if (n > 0) { b[at] = (uint8_t) rnd(); } break;
		case 2: /* insert a byte */
			if (n < cap) {
				memmove(b + at + 1, b + at, n - at);
				b[at] = (uint8_t) rnd();
				n++;
			}
			break;
		case 3: /* delete a byte */
			if (n > 0) {
				memmove(b + at, b + at + 1, n - at - 1);
				n--;
			}
			break;
		case 4: n = at; break; /* truncate */
		case 5: /* duplicate a slice at the end */
			if (n > 0) {
				size_t len = 1 + (size_t) (rnd() % (n - at));
				if (n + len <= cap) {
					memmove(b + n, b + at, len);
					n += len;
				}
			}
			break;
		default: /* a special byte: continuation, NUL, 0xff, a key */
			if (n > 0) {
				static const uint8_t special[] = {0x80, 0x00, 0xff, 0x0a, 0x12, 0x5a, 0x6a, 0x7f};
				b[at] = special[rnd() % sizeof(special)];
			}
			break;
		}
	}
	return n;
}

static void
test_random_mutations_never_crash_and_never_pass_what_protobuf_c_rejects(void **state)
{
	enum { ITERATIONS = 10000 };
	uint8_t *seeds[N_CALLS];
	size_t seed_len[N_CALLS];
	uint8_t *b = malloc(8192);
	long ok = 0;
	long refused = 0;
	(void) state;
	assert_non_null(b);
	for (size_t i = 0; i < N_CALLS; i++) {
		seed_len[i] = full_request(all_calls[i], &seeds[i]);
	}
	for (int it = 0; it < ITERATIONS; it++) {
		size_t which = (size_t) (rnd() % N_CALLS);
		size_t n = seed_len[which];
		char why[SRV_WIRE_WHY_BYTES];
		pw_status rv;
		assert_true(n <= 4096);
		memcpy(b, seeds[which], n);
		n = mutate(b, n, 8192);
		rv = srv_wire_check(REQ, b, n, why, sizeof(why));
		if (rv == PW_OK) {
			ok++;
			if (!unpacks(REQ, b, n)) {
				fail_msg("iteration %d: srv_wire_check accepted bytes protobuf-c rejects", it);
			}
		} else {
			assert_int_equal(PW_INVALID_ARGUMENT, rv);
			assert_true(why[0] != '\0');
			refused++;
		}
	}
	for (size_t i = 0; i < N_CALLS; i++) {
		free(seeds[i]);
	}
	free(b);
	print_message("fuzz: %ld accepted, %ld refused\n", ok, refused);
	assert_int_equal(ITERATIONS, ok + refused);
	assert_true(ok > 100);      /* the mutations leave many messages valid... */
	assert_true(refused > 1000); /* ...and break many */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_requests_of_every_call_type_pass),
		cmocka_unit_test(test_webhook_body_keeps_its_nul_bytes),
		cmocka_unit_test(test_valid_response_and_store_record_pass),
		cmocka_unit_test(test_empty_message_passes_and_why_is_cleared),
		cmocka_unit_test(test_unknown_field_is_refused),
		cmocka_unit_test(test_unknown_field_inside_nested_message_is_refused),
		cmocka_unit_test(test_unknown_field_inside_map_entry_is_refused),
		cmocka_unit_test(test_field_number_zero_is_refused),
		cmocka_unit_test(test_wrong_wire_type_is_refused),
		cmocka_unit_test(test_groups_and_wire_types_6_and_7_are_refused),
		cmocka_unit_test(test_truncated_and_oversized_varints_are_refused),
		cmocka_unit_test(test_truncated_or_overlong_field_key_is_refused),
		cmocka_unit_test(test_lengths_past_the_end_are_refused),
		cmocka_unit_test(test_length_past_the_end_of_a_nested_message_is_refused),
		cmocka_unit_test(test_string_with_nul_byte_is_refused),
		cmocka_unit_test(test_string_with_invalid_utf8_is_refused),
		cmocka_unit_test(test_string_in_map_value_is_checked),
		cmocka_unit_test(test_singular_field_twice_is_refused),
		cmocka_unit_test(test_two_members_of_one_oneof_are_refused),
		cmocka_unit_test(test_repeated_entries_over_the_limit_are_refused),
		cmocka_unit_test(test_duplicate_map_key_is_refused),
		cmocka_unit_test(test_values_out_of_range_of_their_type_are_refused),
		cmocka_unit_test(test_reason_is_truncated_to_why_size_and_why_may_be_null),
		cmocka_unit_test(test_nesting_deeper_than_16_is_refused),
		cmocka_unit_test(test_packed_repeated_scalars_are_accepted),
		cmocka_unit_test(test_malformed_packed_runs_are_refused),
		cmocka_unit_test(test_packed_elements_count_toward_the_repeated_limit),
		cmocka_unit_test(test_missing_required_field_is_refused),
		cmocka_unit_test(test_random_mutations_never_crash_and_never_pass_what_protobuf_c_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
