/*
 * srv_reply.c - reply builders, packing, sealing and redaction of replies.
 * See srv_reply.h.
 */
#include "srv_reply.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_MAGIC 0x00
#define SEAL_OVERHEAD (1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)

_Static_assert(crypto_secretbox_KEYBYTES == SRV_SEAL_KEY_BYTES, "secretbox key is 32 bytes");

/* ---- results ---- */

void
srv_result_init(srv_result *res)
{
	PW_ASSERT(res != NULL);
	memset(res, 0, sizeof(*res));
}

void
srv_result_touch(srv_result *res)
{
	res->dirty = true;
}

void
srv_result_fini(srv_result *res)
{
	PW_ASSERT(res != NULL);
	if (!res->dirty) {
		PW_DEBUG_ASSERT(sodium_is_zero((const unsigned char *) res, sizeof(*res)));
		return;
	}
	srv_notify_res_free(res->notify);
	res->notify = NULL;
	if (res->merchant != NULL) {
		paywire__store__v1__merchant_record__free_unpacked(res->merchant, NULL);
	}
	if (res->session != NULL) {
		paywire__store__v1__session_record__free_unpacked(res->session, NULL);
	}
	if (res->credit != NULL) {
		paywire__store__v1__credit_txn_record__free_unpacked(res->credit, NULL);
	}
	if (res->ledger != NULL) {
		paywire__store__v1__credit_ledger_record__free_unpacked(res->ledger, NULL);
	}
	store_credits_list_free(res->credits, res->n_credits);
	if (res->refund != NULL) {
		paywire__store__v1__refund_record__free_unpacked(res->refund, NULL);
	}
	if (res->key != NULL) {
		paywire__store__v1__api_key_record__free_unpacked(res->key, NULL);
	}
	if (res->rolled != NULL) {
		paywire__store__v1__api_key_record__free_unpacked(res->rolled, NULL);
	}
	store_apikey_list_free(res->keys, res->n_keys);
	store_session_list_free(res->sessions, res->n_sessions);
	free(res->session_bufs);
	if (res->invoice != NULL) {
		paywire__store__v1__invoice_record__free_unpacked(res->invoice, NULL);
	}
	store_invoice_list_free(res->invoices, res->n_invoices);
	store_entitlement_list_free(res->entitlements, res->n_entitlements);
	store_events_free(res->events, res->n_events);
	store_anomalies_free(res->anomalies, res->n_anomalies);
	store_quarantine_free(res->quarantine, res->n_quarantine);
	store_provider_creds_list_free(res->creds, res->n_creds);
	if (res->package != NULL) {
		paywire__store__v1__credit_package_record__free_unpacked(res->package, NULL);
	}
	store_credit_package_list_free(res->packages, res->n_packages);
	sodium_memzero(res, sizeof(*res)); /* api_key and redeem.access_key held raw keys;
	                                      dirty is false again */
}

/* ---- builders ---- */

void
srv_reply_msg_init(srv_reply_msg *m)
{
	PW_ASSERT(m != NULL);
#ifndef NDEBUG
	memset(&m->u, 0xa5, sizeof(m->u));
#endif
	paywire__v1__response__init(&m->resp);
}

void
srv_reply_create_merchant(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, create_merchant);
	PW_ASSERT(res->merchant != NULL && res->api_key[0] != '\0');
	srv_map_merchant(res->merchant, res->api_key, &m->u.create_merchant);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_MERCHANT;
	m->resp.create_merchant = &m->u.create_merchant;
}

void
srv_reply_create_session(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, create_session);
	PW_ASSERT(res->session != NULL && res->session->session != NULL);
	paywire__v1__create_session_response__init(&m->u.create_session.resp);
	m->u.create_session.resp.session =
	    srv_map_session(res->session->session, &m->u.create_session.session);
	m->u.create_session.resp.checkout_secret = res->checkout_secret;
	if (res->checkout_url[0] != '\0') {
		m->u.create_session.resp.session->url = res->checkout_url; /* with its secret */
	}
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_SESSION;
	m->resp.create_session = &m->u.create_session.resp;
}

void
srv_reply_cancel_session(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, cancel_session);
	PW_ASSERT(res->session != NULL && res->session->session != NULL);
	paywire__v1__cancel_session_response__init(&m->u.cancel_session.resp);
	m->u.cancel_session.resp.session =
	    srv_map_session(res->session->session, &m->u.cancel_session.session);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CANCEL_SESSION;
	m->resp.cancel_session = &m->u.cancel_session.resp;
}

void
srv_reply_create_api_key(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, create_api_key);
	PW_ASSERT(res->key != NULL && res->api_key[0] != '\0');
	paywire__v1__create_api_key_response__init(&m->u.create_api_key.resp);
	srv_map_api_key(res->key, res->now_ms, &m->u.create_api_key.key);
	m->u.create_api_key.resp.key = &m->u.create_api_key.key;
	m->u.create_api_key.resp.api_key = res->api_key;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_API_KEY;
	m->resp.create_api_key = &m->u.create_api_key.resp;
}

void
srv_reply_roll_api_key(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, roll_api_key);
	PW_ASSERT(res->key != NULL && res->rolled != NULL && res->api_key[0] != '\0');
	paywire__v1__roll_api_key_response__init(&m->u.roll_api_key.resp);
	srv_map_api_key(res->key, res->now_ms, &m->u.roll_api_key.key);
	srv_map_api_key(res->rolled, res->now_ms, &m->u.roll_api_key.rolled);
	m->u.roll_api_key.resp.key = &m->u.roll_api_key.key;
	m->u.roll_api_key.resp.rolled = &m->u.roll_api_key.rolled;
	m->u.roll_api_key.resp.api_key = res->api_key;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_ROLL_API_KEY;
	m->resp.roll_api_key = &m->u.roll_api_key.resp;
}

void
srv_reply_list_api_keys(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, list_api_keys);
	Paywire__V1__ListApiKeysResponse *r = &m->u.list_api_keys.resp;

	PW_ASSERT(res->n_keys <= PW_LIST_LIMIT_MAX);
	paywire__v1__list_api_keys_response__init(r);
	for (size_t i = 0; i < res->n_keys; i++) {
		srv_map_api_key(res->keys[i], res->now_ms, &m->u.list_api_keys.key[i]);
		m->u.list_api_keys.keyp[i] = &m->u.list_api_keys.key[i];
	}
	r->n_keys = res->n_keys;
	r->keys = res->n_keys > 0 ? m->u.list_api_keys.keyp : NULL;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_API_KEYS;
	m->resp.list_api_keys = r;
}

void
srv_reply_set_provider_credentials(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, set_provider_credentials);
	Paywire__V1__SetProviderCredentialsResponse *r = &m->u.set_provider_credentials.resp;

	PW_ASSERT(res->n_creds == 1 && res->creds[0] != NULL);
	paywire__v1__set_provider_credentials_response__init(r);
	srv_map_provider_creds(res->creds[0], &m->u.set_provider_credentials.info);
	r->credentials = &m->u.set_provider_credentials.info;
	r->deleted = res->creds_deleted;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_SET_PROVIDER_CREDENTIALS;
	m->resp.set_provider_credentials = r;
}

void
srv_reply_list_provider_credentials(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, list_provider_credentials);
	Paywire__V1__ListProviderCredentialsResponse *r = &m->u.list_provider_credentials.resp;

	PW_ASSERT(res->n_creds <= PW_PROVIDER_COUNT * 2);
	paywire__v1__list_provider_credentials_response__init(r);
	for (size_t i = 0; i < res->n_creds; i++) {
		srv_map_provider_creds(res->creds[i], &m->u.list_provider_credentials.info[i]);
		m->u.list_provider_credentials.infop[i] = &m->u.list_provider_credentials.info[i];
	}
	r->n_credentials = res->n_creds;
	r->credentials = res->n_creds > 0 ? m->u.list_provider_credentials.infop : NULL;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_PROVIDER_CREDENTIALS;
	m->resp.list_provider_credentials = r;
}

void
srv_reply_get_session(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, get_session);
	PW_ASSERT(res->session != NULL && res->session->session != NULL);
	paywire__v1__get_session_response__init(&m->u.get_session.resp);
	srv_map_session_detail(res->session, &m->u.get_session.detail, &m->u.get_session.session,
	    m->u.get_session.refs, m->u.get_session.refp);
	m->u.get_session.resp.session = &m->u.get_session.detail;
	m->u.get_session.resp.checkout_secret = res->checkout_secret;
	if (res->checkout_url[0] != '\0') {
		m->u.get_session.session.session.url = res->checkout_url; /* with its secret */
	}
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_SESSION;
	m->resp.get_session = &m->u.get_session.resp;
}

void
srv_reply_list_sessions(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, list_sessions);
	Paywire__V1__ListSessionsResponse *r = &m->u.list_sessions.resp;

	PW_ASSERT(res->n_sessions <= PW_LIST_LIMIT_MAX);
	PW_ASSERT(res->n_sessions == 0 || res->session_bufs != NULL);
	paywire__v1__list_sessions_response__init(r);
	for (size_t i = 0; i < res->n_sessions; i++) {
		m->u.list_sessions.sessp[i] =
		    srv_map_session(res->sessions[i]->session, &res->session_bufs[i]);
	}
	r->n_sessions = res->n_sessions;
	r->sessions = res->n_sessions > 0 ? m->u.list_sessions.sessp : NULL;
	r->has_more = res->has_more;
	r->next_starting_after = res->next;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_SESSIONS;
	m->resp.list_sessions = r;
}

void
srv_reply_list_events(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, list_events);
	Paywire__V1__ListEventsResponse *r = &m->u.list_events.resp;

	PW_ASSERT(res->n_events <= PW_LIST_LIMIT_MAX);
	paywire__v1__list_events_response__init(r);
	for (size_t i = 0; i < res->n_events; i++) {
		srv_map_event(res->events[i], &m->u.list_events.ev[i]);
		m->u.list_events.evp[i] = &m->u.list_events.ev[i];
	}
	r->n_events = res->n_events;
	r->events = res->n_events > 0 ? m->u.list_events.evp : NULL;
	r->has_more = res->has_more;
	r->next_after_seq = res->next_after;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_EVENTS;
	m->resp.list_events = r;
}

void
srv_reply_list_anomalies(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, list_anomalies);
	Paywire__V1__ListAnomaliesResponse *r = &m->u.list_anomalies.resp;

	PW_ASSERT(res->n_anomalies <= PW_LIST_LIMIT_MAX);
	paywire__v1__list_anomalies_response__init(r);
	for (size_t i = 0; i < res->n_anomalies; i++) {
		srv_map_anomaly(res->anomalies[i], &m->u.list_anomalies.an[i]);
		m->u.list_anomalies.anp[i] = &m->u.list_anomalies.an[i];
	}
	r->n_anomalies = res->n_anomalies;
	r->anomalies = res->n_anomalies > 0 ? m->u.list_anomalies.anp : NULL;
	r->has_more = res->has_more;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_ANOMALIES;
	m->resp.list_anomalies = r;
}

void
srv_reply_list_quarantined_events(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, list_quarantined_events);
	Paywire__V1__ListQuarantinedEventsResponse *r = &m->u.list_quarantined_events.resp;

	PW_ASSERT(res->n_quarantine <= PW_LIST_LIMIT_MAX);
	paywire__v1__list_quarantined_events_response__init(r);
	for (size_t i = 0; i < res->n_quarantine; i++) {
		srv_map_quarantined(res->quarantine[i], &m->u.list_quarantined_events.q[i], NULL, 0);
		m->u.list_quarantined_events.qp[i] = &m->u.list_quarantined_events.q[i];
	}
	r->n_events = res->n_quarantine;
	r->events = res->n_quarantine > 0 ? m->u.list_quarantined_events.qp : NULL;
	r->has_more = res->has_more;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_QUARANTINED_EVENTS;
	m->resp.list_quarantined_events = r;
}

void
srv_reply_get_quarantined_event(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, get_quarantined_event);
	Paywire__V1__GetQuarantinedEventResponse *r = &m->u.get_quarantined_event.resp;

	PW_ASSERT(res->n_quarantine == 1);
	paywire__v1__get_quarantined_event_response__init(r);
	for (size_t i = 0; i < PW_WEBHOOK_HEADERS_MAX; i++) {
		m->u.get_quarantined_event.hp[i] = &m->u.get_quarantined_event.h[i];
	}
	srv_map_quarantined(res->quarantine[0], &m->u.get_quarantined_event.q,
	    m->u.get_quarantined_event.hp, PW_WEBHOOK_HEADERS_MAX);
	r->event = &m->u.get_quarantined_event.q;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_QUARANTINED_EVENT;
	m->resp.get_quarantined_event = r;
}

void
srv_reply_retry_quarantined_event(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, retry_quarantined_event);
	Paywire__V1__RetryQuarantinedEventResponse *r = &m->u.retry_quarantined_event.resp;

	paywire__v1__retry_quarantined_event_response__init(r);
	r->retried = res->q_retried;
	res->q_reason[sizeof(res->q_reason) - 1] = '\0';
	r->reason = res->q_reason;
	if (res->q_retried) {
		PW_ASSERT(res->event != NULL);
		res->webhook.session_id[sizeof(res->webhook.session_id) - 1] = '\0';
		res->webhook.reason[sizeof(res->webhook.reason) - 1] = '\0';
		res->webhook.access_key_id[sizeof(res->webhook.access_key_id) - 1] = '\0';
		srv_map_webhook(&res->webhook, res->event, &m->u.retry_quarantined_event.result);
		r->result = &m->u.retry_quarantined_event.result;
	}
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_RETRY_QUARANTINED_EVENT;
	m->resp.retry_quarantined_event = r;
}

void
srv_reply_create_credit_package(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, create_credit_package);
	Paywire__V1__CreditPackageCreateResponse *r = &m->u.create_credit_package.resp;

	PW_ASSERT(res->package != NULL);
	paywire__v1__credit_package_create_response__init(r);
	srv_map_credit_package(res->package, &m->u.create_credit_package.pkg);
	r->package = &m->u.create_credit_package.pkg;
	r->created = res->package_created;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_CREDIT_PACKAGE;
	m->resp.create_credit_package = r;
}

void
srv_reply_archive_credit_package(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, archive_credit_package);
	Paywire__V1__CreditPackageArchiveResponse *r = &m->u.archive_credit_package.resp;

	PW_ASSERT(res->package != NULL);
	paywire__v1__credit_package_archive_response__init(r);
	srv_map_credit_package(res->package, &m->u.archive_credit_package.pkg);
	r->package = &m->u.archive_credit_package.pkg;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_ARCHIVE_CREDIT_PACKAGE;
	m->resp.archive_credit_package = r;
}

void
srv_reply_list_credit_packages(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, list_credit_packages);
	Paywire__V1__CreditPackageListResponse *r = &m->u.list_credit_packages.resp;

	PW_ASSERT(res->n_packages <= PW_LIST_LIMIT_MAX);
	paywire__v1__credit_package_list_response__init(r);
	for (size_t i = 0; i < res->n_packages; i++) {
		srv_map_credit_package(res->packages[i], &m->u.list_credit_packages.p[i]);
		m->u.list_credit_packages.pp[i] = &m->u.list_credit_packages.p[i];
	}
	r->n_packages = res->n_packages;
	r->packages = res->n_packages > 0 ? m->u.list_credit_packages.pp : NULL;
	r->has_more = res->has_more;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_CREDIT_PACKAGES;
	m->resp.list_credit_packages = r;
}

void
srv_reply_get_invoice(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, get_invoice);
	PW_ASSERT(res->invoice != NULL);
	paywire__v1__get_invoice_response__init(&m->u.get_invoice.resp);
	srv_map_invoice(res->invoice, &m->u.get_invoice.inv);
	m->u.get_invoice.resp.invoice = &m->u.get_invoice.inv;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_INVOICE;
	m->resp.get_invoice = &m->u.get_invoice.resp;
}

void
srv_reply_list_invoices(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, list_invoices);
	Paywire__V1__ListInvoicesResponse *r = &m->u.list_invoices.resp;

	PW_ASSERT(res->n_invoices <= PW_LIST_LIMIT_MAX);
	paywire__v1__list_invoices_response__init(r);
	for (size_t i = 0; i < res->n_invoices; i++) {
		srv_map_invoice(res->invoices[i], &m->u.list_invoices.inv[i]);
		m->u.list_invoices.invp[i] = &m->u.list_invoices.inv[i];
	}
	r->n_invoices = res->n_invoices;
	r->invoices = res->n_invoices > 0 ? m->u.list_invoices.invp : NULL;
	r->has_more = res->has_more;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_INVOICES;
	m->resp.list_invoices = r;
}

void
srv_reply_get_entitlements(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, get_entitlements);
	Paywire__V1__GetEntitlementsResponse *r = &m->u.get_entitlements.resp;

	PW_ASSERT(res->n_entitlements <= PW_LIST_LIMIT_MAX);
	paywire__v1__get_entitlements_response__init(r);
	for (size_t i = 0; i < res->n_entitlements; i++) {
		srv_map_entitlement(res->entitlements[i], &m->u.get_entitlements.ent[i]);
		m->u.get_entitlements.entp[i] = &m->u.get_entitlements.ent[i];
	}
	r->n_entitlements = res->n_entitlements;
	r->entitlements = res->n_entitlements > 0 ? m->u.get_entitlements.entp : NULL;
	r->has_more = res->has_more;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_ENTITLEMENTS;
	m->resp.get_entitlements = r;
}

void
srv_reply_verify_access_key(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, verify_access_key);
	srv_map_access_check(&res->access, &m->u.verify_access_key);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_VERIFY_ACCESS_KEY;
	m->resp.verify_access_key = &m->u.verify_access_key;
}

void
srv_reply_deduct_credits(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, deduct_credits);
	PW_ASSERT(res->credit != NULL);
	paywire__v1__deduct_credits_response__init(&m->u.deduct_credits.resp);
	srv_map_credit_txn(res->credit, &m->u.deduct_credits.txn);
	m->u.deduct_credits.resp.transaction = &m->u.deduct_credits.txn;
	m->u.deduct_credits.resp.balance = res->credit->balance_after;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_DEDUCT_CREDITS;
	m->resp.deduct_credits = &m->u.deduct_credits.resp;
}

void
srv_reply_get_balance(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, get_balance);
	PW_ASSERT(res->ledger != NULL);
	srv_map_balance(res->ledger, &m->u.get_balance);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_BALANCE;
	m->resp.get_balance = &m->u.get_balance;
}

void
srv_reply_list_credit_transactions(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, list_credit_transactions);
	Paywire__V1__ListCreditTransactionsResponse *r = &m->u.list_credit_transactions.resp;

	PW_ASSERT(res->n_credits <= PW_LIST_LIMIT_MAX);
	paywire__v1__list_credit_transactions_response__init(r);
	for (size_t i = 0; i < res->n_credits; i++) {
		srv_map_credit_txn(res->credits[i], &m->u.list_credit_transactions.txn[i]);
		m->u.list_credit_transactions.txnp[i] = &m->u.list_credit_transactions.txn[i];
	}
	r->n_transactions = res->n_credits;
	r->transactions = res->n_credits > 0 ? m->u.list_credit_transactions.txnp : NULL;
	r->has_more = res->has_more;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_CREDIT_TRANSACTIONS;
	m->resp.list_credit_transactions = r;
}

void
srv_reply_get_status(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, get_status);
	PW_ASSERT(res->session != NULL && res->session->session != NULL);
	srv_map_get_status(res->session, res->customer, res->merchant_name, &m->u.get_status);
	if (res->customer) {
		m->u.get_status.provider_key_id = res->provider_key_id;
	}
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_STATUS;
	m->resp.get_status = &m->u.get_status;
}

void
srv_reply_ingest_webhook(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, ingest_webhook);
	PW_ASSERT(res->event != NULL);
	/* The store fills fixed buffers: terminate them whatever it wrote. */
	res->webhook.session_id[sizeof(res->webhook.session_id) - 1] = '\0';
	res->webhook.reason[sizeof(res->webhook.reason) - 1] = '\0';
	res->webhook.access_key_id[sizeof(res->webhook.access_key_id) - 1] = '\0';
	srv_map_webhook(&res->webhook, res->event, &m->u.ingest_webhook);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK;
	m->resp.ingest_webhook = &m->u.ingest_webhook;
}

void
srv_reply_revoke_api_key(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, revoke_api_key);
	PW_ASSERT(m != NULL && res != NULL);
	paywire__v1__revoke_api_key_response__init(&m->u.revoke_api_key);
	m->u.revoke_api_key.merchant_id = res->merchant_id;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REVOKE_API_KEY;
	m->resp.revoke_api_key = &m->u.revoke_api_key;
}

void
srv_reply_verify_audit(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, verify_audit);
	PW_ASSERT(m != NULL && res != NULL);
	srv_map_audit(&res->audit, &m->u.verify_audit);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_VERIFY_AUDIT;
	m->resp.verify_audit = &m->u.verify_audit;
}

/* The raw access key in the receipt is wiped by redaction or by
 * srv_result_fini. */
void
srv_reply_redeem_access(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, redeem_access);
	PW_ASSERT(res->redeem.session_id[0] != '\0'); /* a receipt was filled */
	srv_map_receipt(&res->redeem, &m->u.redeem_access);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REDEEM_ACCESS;
	m->resp.redeem_access = &m->u.redeem_access;
}

/* Wiping the key in place leaves "" (all NULs): it packs exactly as an empty
 * access_key. */
bool
srv_reply_redact_redeem_access(srv_result *res)
{
	store_access_receipt *r = &res->redeem;

	PW_ASSERT(r->session_id[0] != '\0');
	if (r->access_key[0] == '\0') {
		return false; /* nothing secret: keep the reply as sent */
	}
	sodium_memzero(r->access_key, sizeof(r->access_key));
	r->already_revealed = true;
	return true;
}

/* ---- packing ---- */

static bool
srv_reply_pack_status(Paywire__V1__Response *resp, const char *request_id, pw_status st,
    const char *msg, int64_t retry_after_ms, uint8_t **out, size_t *out_len);

bool
srv_reply_pack(Paywire__V1__Response *resp, const char *request_id, pw_status st,
    const char *msg, uint8_t **out, size_t *out_len)
{
	return srv_reply_pack_status(resp, request_id, st, msg, 0, out, out_len);
}

bool
srv_reply_error_pack_retry(const char *request_id, pw_status st, const char *msg,
    int64_t retry_after_ms, uint8_t **out, size_t *out_len)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;

	return srv_reply_pack_status(&resp, request_id, st, msg, retry_after_ms, out, out_len);
}

static bool
srv_reply_pack_status(Paywire__V1__Response *resp, const char *request_id, pw_status st,
    const char *msg, int64_t retry_after_ms, uint8_t **out, size_t *out_len)
{
	Paywire__V1__Status status = PAYWIRE__V1__STATUS__INIT;
	size_t n;
	size_t w;
	uint8_t *buf;

	PW_ASSERT(resp != NULL && out != NULL && out_len != NULL);
	resp->request_id = (char *) (request_id != NULL ? request_id : "");
	status.code = pw_status_wire(st);
	status.message = (char *) (msg != NULL ? msg : "");
	status.retry_after_ms = retry_after_ms;
	resp->status = &status;
	n = paywire__v1__response__get_packed_size(resp);
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		resp->status = NULL;
		return false;
	}
	w = paywire__v1__response__pack(resp, buf);
	resp->status = NULL; /* points at our stack */
	PW_ASSERT(w == n);
	*out = buf;
	*out_len = n;
	return true;
}

bool
srv_reply_error_pack(const char *request_id, pw_status st, const char *msg, uint8_t **out,
    size_t *out_len)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;

	return srv_reply_pack(&resp, request_id, st, msg, out, out_len);
}

void
srv_reply_free(uint8_t **p, size_t *len)
{
	PW_ASSERT(p != NULL && len != NULL);
	if (*p != NULL) {
		sodium_memzero(*p, *len);
		free(*p);
	}
	*p = NULL;
	*len = 0;
}

/* ---- sealing ---- */

bool
srv_reply_is_sealed(const uint8_t *buf, size_t len)
{
	return len > 0 && buf[0] == SEAL_MAGIC;
}

/* The key of one stored reply: BLAKE2b-256(key, scope 0x00 request_id). */
static void
seal_key(const uint8_t key[SRV_SEAL_KEY_BYTES], const char *scope, const char *request_id,
    uint8_t out[crypto_secretbox_KEYBYTES])
{
	crypto_generichash_state s;

	(void) crypto_generichash_init(&s, key, SRV_SEAL_KEY_BYTES, crypto_secretbox_KEYBYTES);
	(void) crypto_generichash_update(&s, (const uint8_t *) scope, strlen(scope) + 1);
	(void) crypto_generichash_update(&s, (const uint8_t *) request_id, strlen(request_id));
	(void) crypto_generichash_final(&s, out, crypto_secretbox_KEYBYTES);
}

bool
srv_reply_seal(const uint8_t key[SRV_SEAL_KEY_BYTES], const char *scope,
    const char *request_id, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	uint8_t k[crypto_secretbox_KEYBYTES];
	uint8_t *buf;
	size_t n = SEAL_OVERHEAD + in_len;

	PW_ASSERT(key != NULL && scope != NULL && request_id != NULL && in != NULL);
	PW_ASSERT(!srv_reply_is_sealed(in, in_len)); /* a packed Response */
	buf = malloc(n);
	if (buf == NULL) {
		return false;
	}
	buf[0] = SEAL_MAGIC;
	pw_random(buf + 1, crypto_secretbox_NONCEBYTES);
	seal_key(key, scope, request_id, k);
	(void) crypto_secretbox_easy(buf + 1 + crypto_secretbox_NONCEBYTES, in, in_len, buf + 1, k);
	sodium_memzero(k, sizeof(k));
	*out = buf;
	*out_len = n;
	return true;
}

pw_status
srv_reply_unseal(const uint8_t key[SRV_SEAL_KEY_BYTES], const char *scope,
    const char *request_id, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
    char *why, size_t why_size)
{
	uint8_t k[crypto_secretbox_KEYBYTES];
	uint8_t *buf;
	size_t n;
	int rv;

	PW_ASSERT(key != NULL && scope != NULL && request_id != NULL && in != NULL);
	PW_ASSERT(srv_reply_is_sealed(in, in_len));
	if (in_len < SEAL_OVERHEAD) {
		(void) snprintf(why, why_size, "the stored reply for this request_id cannot be opened");
		return PW_INTERNAL;
	}
	n = in_len - SEAL_OVERHEAD;
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		(void) snprintf(why, why_size, "out of memory");
		return PW_UNAVAILABLE;
	}
	seal_key(key, scope, request_id, k);
	rv = crypto_secretbox_open_easy(buf, in + 1 + crypto_secretbox_NONCEBYTES,
	    in_len - 1 - crypto_secretbox_NONCEBYTES, in + 1, k);
	sodium_memzero(k, sizeof(k));
	if (rv != 0) {
		free(buf);
		/* The admin key changed since the reply was stored. */
		(void) snprintf(why, why_size,
		    "the stored reply for this request_id was sealed with another admin key");
		return PW_INTERNAL;
	}
	*out = buf;
	*out_len = n;
	return PW_OK;
}

void
srv_reply_reissue_access_key(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, reissue_access_key);
	Paywire__V1__ReissueAccessKeyResponse *r = &m->u.reissue_access_key;

	PW_ASSERT(res->session != NULL && res->session->session != NULL);
	paywire__v1__reissue_access_key_response__init(r);
	r->session_id = res->session->session->id;
	r->access_link = res->session->access_link;
	r->access_key_prefix = res->key_prefix;
	r->entitlement_id = res->session->access_key_id;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REISSUE_ACCESS_KEY;
	m->resp.reissue_access_key = r;
}

void
srv_reply_create_portal_session(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, create_portal_session);
	Paywire__V1__CreatePortalSessionResponse *r = &m->u.create_portal_session;

	paywire__v1__create_portal_session_response__init(r);
	r->url = res->portal_url;
	r->customer = res->portal_customer;
	r->session_id = res->portal_session_id;
	r->mode = res->portal_mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE
	    ? PAYWIRE__V1__MODE__MODE_LIVE : PAYWIRE__V1__MODE__MODE_TEST;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_PORTAL_SESSION;
	m->resp.create_portal_session = r;
}

void
srv_reply_refund_payment(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, refund_payment);
	Paywire__V1__Refund *to = &m->u.refund_payment.refund;
	const Paywire__Store__V1__RefundRecord *r = res->refund;

	PW_ASSERT(r != NULL);
	paywire__v1__refund_payment_response__init(&m->u.refund_payment.resp);
	paywire__v1__refund__init(to);
	to->id = r->id;
	to->session_id = r->session_id;
	to->amount_minor = r->amount_minor;
	to->currency = r->currency;
	to->state = srv_map_refund_state_to_wire(r->state);
	to->provider = srv_map_provider_to_wire(r->provider);
	to->payment_ref = r->payment_ref;
	to->provider_refund_id = r->provider_refund_id;
	to->reason = r->reason;
	to->failure_reason = r->failure_reason;
	to->created_at_unix_ms = r->created_at_unix_ms;
	to->idempotency_key = r->idempotency_key;
	to->mode = srv_map_mode_to_wire(r->mode);
	m->u.refund_payment.resp.refund = to;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REFUND_PAYMENT;
	m->resp.refund_payment = &m->u.refund_payment.resp;
}

void
srv_reply_test_payment(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, test_payment);
	PW_ASSERT(res->event != NULL);
	res->webhook.session_id[sizeof(res->webhook.session_id) - 1] = '\0';
	res->webhook.reason[sizeof(res->webhook.reason) - 1] = '\0';
	res->webhook.access_key_id[sizeof(res->webhook.access_key_id) - 1] = '\0';
	paywire__v1__test_payment_response__init(&m->u.test_payment.resp);
	srv_map_webhook(&res->webhook, res->event, &m->u.test_payment.outcome);
	m->u.test_payment.resp.outcome = &m->u.test_payment.outcome;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_TEST_PAYMENT;
	m->resp.test_payment = &m->u.test_payment.resp;
}

/* ---- a merchant's own rate limits ---- */

/* The wire's view of one class: the stored record (NULL: default) with what
 * is applied (interval_us, burst). */
static void
rl_to_wire(const Paywire__Store__V1__MerchantRateLimitRecord *r, int64_t def_interval_us,
    uint32_t def_burst, Paywire__V1__MerchantRateLimit *to)
{
	paywire__v1__merchant_rate_limit__init(to);
	if (r == NULL || r->kind == STORE_RATE_LIMIT_DEFAULT) {
		to->kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_DEFAULT;
		to->interval_us = def_interval_us;
		to->burst = def_interval_us > 0 ? def_burst : 0;
	} else if (r->kind == STORE_RATE_LIMIT_UNLIMITED) {
		to->kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED;
	} else {
		to->kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM;
		to->rate = r->rate;
		to->period_s = r->period_s;
		to->burst = r->burst;
		to->interval_us = srv_rate_interval_us(r->rate, r->period_s);
	}
}

/* A server default as the wire shows it: CUSTOM with a rate per second,
 * minute or hour when the interval divides one evenly, else interval_us
 * alone; UNLIMITED for 0. */
static void
rl_default_to_wire(int64_t interval_us, uint32_t burst, Paywire__V1__MerchantRateLimit *to)
{
	static const int64_t periods[] = { 1, 60, 3600 };

	paywire__v1__merchant_rate_limit__init(to);
	if (interval_us <= 0) {
		to->kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED;
		return;
	}
	to->kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM;
	to->interval_us = interval_us;
	to->burst = burst;
	for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
		if ((periods[i] * 1000000) % interval_us == 0) {
			to->rate = (uint32_t) (periods[i] * 1000000 / interval_us);
			to->period_s = (uint32_t) periods[i];
			return;
		}
	}
}

static void
rl_fill(srv_reply_msg *m, srv_result *res, char **merchant_id,
    Paywire__V1__MerchantRateLimits **limits, Paywire__V1__MerchantRateLimits **defaults)
{
	Paywire__Store__V1__MerchantRateLimitRecord *own[3];

	PW_ASSERT(res->merchant != NULL);
	own[0] = res->merchant->rate_reads;
	own[1] = res->merchant->rate_writes;
	own[2] = res->merchant->rate_provider;
	paywire__v1__merchant_rate_limits__init(&m->u.merchant_rate_limits.limits);
	paywire__v1__merchant_rate_limits__init(&m->u.merchant_rate_limits.defaults);
	for (int i = 0; i < 3; i++) {
		rl_to_wire(own[i], res->rl_def_interval_us[i], res->rl_def_burst[i],
		    &m->u.merchant_rate_limits.l[i]);
		rl_default_to_wire(res->rl_def_interval_us[i], res->rl_def_burst[i],
		    &m->u.merchant_rate_limits.d[i]);
	}
	m->u.merchant_rate_limits.limits.reads = &m->u.merchant_rate_limits.l[0];
	m->u.merchant_rate_limits.limits.writes = &m->u.merchant_rate_limits.l[1];
	m->u.merchant_rate_limits.limits.provider = &m->u.merchant_rate_limits.l[2];
	m->u.merchant_rate_limits.defaults.reads = &m->u.merchant_rate_limits.d[0];
	m->u.merchant_rate_limits.defaults.writes = &m->u.merchant_rate_limits.d[1];
	m->u.merchant_rate_limits.defaults.provider = &m->u.merchant_rate_limits.d[2];
	*merchant_id = res->merchant->merchant_id;
	*limits = &m->u.merchant_rate_limits.limits;
	*defaults = &m->u.merchant_rate_limits.defaults;
}

void
srv_reply_set_merchant_rate_limits(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, merchant_rate_limits);
	Paywire__V1__SetMerchantRateLimitsResponse *r = &m->u.merchant_rate_limits.set;

	paywire__v1__set_merchant_rate_limits_response__init(r);
	rl_fill(m, res, &r->merchant_id, &r->limits, &r->server_defaults);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_SET_MERCHANT_RATE_LIMITS;
	m->resp.set_merchant_rate_limits = r;
}

void
srv_reply_get_merchant_rate_limits(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, merchant_rate_limits);
	Paywire__V1__GetMerchantRateLimitsResponse *r = &m->u.merchant_rate_limits.get;

	paywire__v1__get_merchant_rate_limits_response__init(r);
	rl_fill(m, res, &r->merchant_id, &r->limits, &r->server_defaults);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_MERCHANT_RATE_LIMITS;
	m->resp.get_merchant_rate_limits = r;
}
