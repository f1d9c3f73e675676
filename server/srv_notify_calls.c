/*
 * srv_notify_calls.c - the merchant calls on notification endpoints and
 * messages (srv_notify.h; rows in srv_calls.c; docs/NOTIFY.md). Every call
 * takes a merchant key and sees that merchant's endpoints and messages only.
 * An endpoint's secret is in the reply of create_endpoint and
 * rotate_endpoint_secret only (their stored replies are sealed, srv_calls.h).
 */
#include "srv_notify.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "prov_smtp.h"
#include "pw_limits.h"
#include "srv_calls.h"

struct srv_notify_res {
	Paywire__Store__V1__NotifyEndpointRecord *ep;
	Paywire__Store__V1__NotifyEndpointRecord **eps;
	size_t n_eps;
	char secret[PW_NOTIFY_SECRET_BYTES];
	Paywire__Store__V1__OutboxMessageRecord *msg;
	Paywire__Store__V1__OutboxMessageRecord **msgs;
	size_t n_msgs;
	bool more;
	bool dead;
	store_replay_result replay;
	/* the wire messages the reply points at */
	Paywire__V1__NotifyEndpoint w_ep[PW_NOTIFY_ENDPOINTS_MAX];
	Paywire__V1__NotifyEndpoint *w_epp[PW_NOTIFY_ENDPOINTS_MAX];
	Paywire__V1__NotifyMessage w_msg[PW_LIST_LIMIT_MAX];
	Paywire__V1__NotifyMessage *w_msgp[PW_LIST_LIMIT_MAX];
	Paywire__V1__EndpointSecretResponse sec_resp;
	Paywire__V1__EndpointResponse ep_resp;
	Paywire__V1__ListEndpointsResponse list_resp;
	Paywire__V1__ListNotifyMessagesResponse msgs_resp;
	Paywire__V1__NotifyMessageResponse msg_resp;
	Paywire__V1__ReplayNotifyResponse replay_resp;
};

void
srv_notify_res_free(struct srv_notify_res *r)
{
	if (r == NULL) {
		return;
	}
	store_endpoint_free(r->ep);
	store_endpoint_list_free(r->eps, r->n_eps);
	if (r->msg != NULL) {
		paywire__store__v1__outbox_message_record__free_unpacked(r->msg, NULL);
	}
	store_outbox_list_free(r->msgs, r->n_msgs);
	sodium_memzero(r->secret, sizeof(r->secret));
	pw_free(r);
}

static struct srv_notify_res *
res_get(srv_call *c)
{
	if (c->res.notify == NULL) {
		c->res.notify = pw_calloc(1, sizeof(*c->res.notify));
	}
	return c->res.notify;
}

static pw_status
id_check(srv_call *c, const char *what, const char *id, const char *prefix)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n >= STORE_NOTIFY_ID_BYTES || strncmp(id, prefix, strlen(prefix)) != 0 ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n) {
		srv_call_why(c, "%s must be an id %s… of at most %d characters", what, prefix,
		    STORE_NOTIFY_ID_BYTES - 1);
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

static pw_status
types_check(srv_call *c, char **types, size_t n)
{
	char why[SRV_WHY_BYTES];
	pw_status st = store_notify_types_check((const char *const *) types, n, why, sizeof(why));

	if (st != PW_OK) {
		srv_call_why(c, "%s", why);
	}
	return st;
}

/* ---- create_endpoint ---- */

pw_status
srv_notify_create_validate(srv_call *c)
{
	const Paywire__V1__CreateEndpointRequest *r = c->req->create_endpoint;
	prov_notify_policy pol = { .allow_http = c->env->notify_allow_http,
		.allow_private = c->env->notify_allow_private };
	char why[SRV_WHY_BYTES];
	size_t ul = r->url != NULL ? strlen(r->url) : 0;
	size_t dl = r->description != NULL ? strlen(r->description) : 0;
	pw_status st;

	if (r->kind != PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_UNSPECIFIED &&
	    r->kind != PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK &&
	    r->kind != PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL &&
	    r->kind != PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM) {
		srv_call_why(c, "create_endpoint.kind must be WEBHOOK, EMAIL or TELEGRAM");
		return PW_INVALID_ARGUMENT;
	}
	if (r->kind == PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL &&
	    !c->env->notify_email) {
		srv_call_why(c, "create_endpoint.kind EMAIL: this server sends no mail (its operator "
		    "sets --smtp-url and --smtp-from)");
		return PW_FAILED_PRECONDITION;
	}
	if (r->kind == PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM &&
	    !c->env->notify_telegram) {
		srv_call_why(c, "create_endpoint.kind TELEGRAM: this server has no Telegram bot (its "
		    "operator sets PAYWIRE_TELEGRAM_BOT_TOKEN)");
		return PW_FAILED_PRECONDITION;
	}
	if (ul == 0 || ul > PW_NOTIFY_URL_BYTES_MAX || !pw_utf8_valid(r->url, ul)) {
		srv_call_why(c, "create_endpoint.url must be 1..%d bytes", PW_NOTIFY_URL_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (dl > PW_NOTIFY_DESCRIPTION_BYTES_MAX || (dl > 0 && !pw_utf8_valid(r->description, dl))) {
		srv_call_why(c, "create_endpoint.description must be at most %d bytes of UTF-8",
		    PW_NOTIFY_DESCRIPTION_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	st = types_check(c, r->event_types, r->n_event_types);
	if (st != PW_OK) {
		return st;
	}
	if (r->kind == PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL) {
		if (!prov_smtp_addr_ok(r->url)) {
			srv_call_why(c, "create_endpoint.url: an EMAIL endpoint's url is a plain address "
			    "local@domain (no display name, quotes or comments)");
			return PW_INVALID_ARGUMENT;
		}
		return PW_OK;
	}
	if (r->kind == PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM) {
		st = store_notify_target_check(PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM,
		    r->url, why, sizeof(why));
		if (st != PW_OK) {
			srv_call_why(c, "create_endpoint.url: %s", why);
		}
		return st;
	}
	/* the address policy, resolving the host now (it is checked again at
	 * every delivery, against the address connected to) */
	st = prov_notify_check_url(&pol, r->url, why, sizeof(why));
	if (st != PW_OK) {
		srv_call_why(c, "create_endpoint.url: %s", why);
	}
	return st;
}

pw_status
srv_notify_create_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__CreateEndpointRequest *r = c->req->create_endpoint;
	struct srv_notify_res *res = res_get(c);
	store_endpoint_in in = {
		.kind = r->kind == PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_UNSPECIFIED
		    ? PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK
		    : (Paywire__Store__V1__NotifyEndpointKind) r->kind, /* the same numbers */
		.url = r->url, .types = (const char *const *) r->event_types,
		.n_types = r->n_event_types, .description = r->description };
	char why[SRV_WHY_BYTES];
	pw_status st;

	if (res == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_endpoint_create(t, c->merchant_id, &in, &res->ep, res->secret, why, sizeof(why));
	if (st != PW_OK && why[0] != '\0') {
		srv_call_why(c, "%s", why);
	}
	return st;
}

/* ---- list_endpoints ---- */

pw_status
srv_notify_list_endpoints_read(srv_call *c)
{
	struct srv_notify_res *res = res_get(c);

	if (res == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	return store_endpoint_list(c->env->st, c->merchant_id, &res->eps, &res->n_eps);
}

/* ---- update_endpoint, delete_endpoint, rotate_endpoint_secret ---- */

pw_status
srv_notify_update_validate(srv_call *c)
{
	const Paywire__V1__UpdateEndpointRequest *r = c->req->update_endpoint;
	size_t dl = r->description != NULL ? strlen(r->description) : 0;
	pw_status st = id_check(c, "update_endpoint.endpoint_id", r->endpoint_id, "ep_");

	if (st != PW_OK) {
		return st;
	}
	if (r->enable < 0 || r->enable > 2) {
		srv_call_why(c, "update_endpoint.enable must be 0 (keep), 1 (enable) or 2 (disable)");
		return PW_INVALID_ARGUMENT;
	}
	if (r->set_description && (dl > PW_NOTIFY_DESCRIPTION_BYTES_MAX ||
	                              (dl > 0 && !pw_utf8_valid(r->description, dl)))) {
		srv_call_why(c, "update_endpoint.description must be at most %d bytes of UTF-8",
		    PW_NOTIFY_DESCRIPTION_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (!r->set_event_types && r->n_event_types > 0) {
		srv_call_why(c, "update_endpoint.event_types given without set_event_types");
		return PW_INVALID_ARGUMENT;
	}
	return r->set_event_types ? types_check(c, r->event_types, r->n_event_types) : PW_OK;
}

pw_status
srv_notify_update_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__UpdateEndpointRequest *r = c->req->update_endpoint;
	struct srv_notify_res *res = res_get(c);
	store_endpoint_update_in in = { .endpoint_id = r->endpoint_id, .enable = r->enable,
		.set_types = r->set_event_types, .types = (const char *const *) r->event_types,
		.n_types = r->n_event_types, .set_description = r->set_description,
		.description = r->description };
	char why[SRV_WHY_BYTES];
	pw_status st;

	if (res == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_endpoint_update(t, c->merchant_id, &in, &res->ep, why, sizeof(why));
	if (st != PW_OK && why[0] != '\0') {
		srv_call_why(c, "%s", why);
	}
	return st;
}

pw_status
srv_notify_delete_validate(srv_call *c)
{
	return id_check(c, "delete_endpoint.endpoint_id", c->req->delete_endpoint->endpoint_id, "ep_");
}

pw_status
srv_notify_delete_apply(store_txn *t, srv_call *c)
{
	struct srv_notify_res *res = res_get(c);
	pw_status st;

	if (res == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_endpoint_delete(t, c->merchant_id, c->req->delete_endpoint->endpoint_id, &res->ep);
	if (st == PW_NOT_FOUND) {
		srv_call_why(c, "no endpoint %s", c->req->delete_endpoint->endpoint_id);
	}
	return st;
}

pw_status
srv_notify_rotate_validate(srv_call *c)
{
	const Paywire__V1__RotateEndpointSecretRequest *r = c->req->rotate_endpoint_secret;
	pw_status st = id_check(c, "rotate_endpoint_secret.endpoint_id", r->endpoint_id, "ep_");

	if (st == PW_OK && (r->grace_ms < 0 || r->grace_ms > PW_NOTIFY_GRACE_MS_MAX)) {
		srv_call_why(c, "rotate_endpoint_secret.grace_ms must be 0 (the default, %lld) .. %lld",
		    (long long) PW_NOTIFY_GRACE_MS_DEFAULT, (long long) PW_NOTIFY_GRACE_MS_MAX);
		st = PW_INVALID_ARGUMENT;
	}
	return st;
}

pw_status
srv_notify_rotate_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__RotateEndpointSecretRequest *r = c->req->rotate_endpoint_secret;
	struct srv_notify_res *res = res_get(c);
	pw_status st;

	if (res == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_endpoint_rotate(t, c->merchant_id, r->endpoint_id, r->grace_ms, &res->ep,
	    res->secret);
	if (st == PW_NOT_FOUND) {
		srv_call_why(c, "no endpoint %s", r->endpoint_id);
	}
	return st;
}

/* ---- list_notify_messages, retry_notify_message, replay_notify ---- */

pw_status
srv_notify_list_messages_validate(srv_call *c)
{
	const Paywire__V1__ListNotifyMessagesRequest *r = c->req->list_notify_messages;

	if (r->limit > PW_LIST_LIMIT_MAX) {
		srv_call_why(c, "list_notify_messages.limit must be 0 (100) .. %d", PW_LIST_LIMIT_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (r->endpoint_id != NULL && r->endpoint_id[0] != '\0') {
		return id_check(c, "list_notify_messages.endpoint_id", r->endpoint_id, "ep_");
	}
	return PW_OK;
}

pw_status
srv_notify_list_messages_read(srv_call *c)
{
	const Paywire__V1__ListNotifyMessagesRequest *r = c->req->list_notify_messages;
	struct srv_notify_res *res = res_get(c);

	if (res == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	res->dead = r->dead;
	return store_outbox_list(c->env->st, c->merchant_id, r->dead, r->endpoint_id,
	    r->limit != 0 ? r->limit : PW_LIST_LIMIT_MAX, &res->msgs, &res->n_msgs, &res->more);
}

pw_status
srv_notify_retry_validate(srv_call *c)
{
	return id_check(c, "retry_notify_message.msg_id", c->req->retry_notify_message->msg_id,
	    "msg_");
}

pw_status
srv_notify_retry_apply(store_txn *t, srv_call *c)
{
	struct srv_notify_res *res = res_get(c);
	char why[SRV_WHY_BYTES];
	pw_status st;

	if (res == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_outbox_retry(t, c->merchant_id, c->req->retry_notify_message->msg_id, &res->msg,
	    why, sizeof(why));
	if (st != PW_OK && why[0] != '\0') {
		srv_call_why(c, "%s", why);
	}
	return st;
}

pw_status
srv_notify_replay_validate(srv_call *c)
{
	const Paywire__V1__ReplayNotifyRequest *r = c->req->replay_notify;

	if (r->since_unix_ms <= 0) {
		srv_call_why(c, "replay_notify.since_unix_ms must be a time (ms since 1970)");
		return PW_INVALID_ARGUMENT;
	}
	if (r->endpoint_id != NULL && r->endpoint_id[0] != '\0') {
		return id_check(c, "replay_notify.endpoint_id", r->endpoint_id, "ep_");
	}
	return PW_OK;
}

pw_status
srv_notify_replay_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__ReplayNotifyRequest *r = c->req->replay_notify;
	struct srv_notify_res *res = res_get(c);
	char why[SRV_WHY_BYTES];
	pw_status st;

	if (res == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_notify_replay(t, c->merchant_id, r->since_unix_ms, r->endpoint_id, &res->replay,
	    why, sizeof(why));
	if (st != PW_OK && why[0] != '\0') {
		srv_call_why(c, "%s", why);
	}
	return st;
}

/* ---- replies ---- */

static void
map_endpoint(const Paywire__Store__V1__NotifyEndpointRecord *r, Paywire__V1__NotifyEndpoint *w)
{
	paywire__v1__notify_endpoint__init(w);
	w->endpoint_id = r->endpoint_id;
	w->kind = (Paywire__V1__NotifyEndpointKind) r->kind;
	w->url = r->url;
	w->event_types = r->event_types;
	w->n_event_types = r->n_event_types;
	w->description = r->description;
	w->enabled = r->state == PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_ACTIVE;
	w->disabled_reason = r->disabled_reason;
	w->disabled_at_unix_ms = r->disabled_at_unix_ms;
	w->failing_since_unix_ms = r->failing_since_unix_ms;
	w->created_at_unix_ms = r->created_at_unix_ms;
	w->prev_secret_expires_at_unix_ms = r->prev_expires_at_unix_ms;
}

static void
map_message(const Paywire__Store__V1__OutboxMessageRecord *r, bool dead,
    Paywire__V1__NotifyMessage *w)
{
	paywire__v1__notify_message__init(w);
	w->msg_id = r->msg_id;
	w->endpoint_id = r->endpoint_id;
	w->event_type = r->event_type;
	w->attempts = r->attempts;
	w->next_attempt_at_unix_ms = dead ? 0 : r->next_attempt_at_unix_ms;
	w->created_at_unix_ms = r->created_at_unix_ms;
	w->last_status = r->last_status;
	w->last_error = r->last_error;
	w->dead = dead;
	w->payload = r->payload;
	w->dead_at_unix_ms = r->dead_at_unix_ms;
}

static Paywire__V1__EndpointSecretResponse *
reply_secret(srv_result *res)
{
	struct srv_notify_res *r = res->notify;

	PW_ASSERT(r != NULL && r->ep != NULL);
	map_endpoint(r->ep, &r->w_ep[0]);
	paywire__v1__endpoint_secret_response__init(&r->sec_resp);
	r->sec_resp.endpoint = &r->w_ep[0];
	r->sec_resp.secret = r->secret;
	return &r->sec_resp;
}

void
srv_reply_notify_create(srv_reply_msg *m, srv_result *res)
{
	m->resp.create_endpoint = reply_secret(res);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_ENDPOINT;
}

void
srv_reply_notify_rotate(srv_reply_msg *m, srv_result *res)
{
	m->resp.rotate_endpoint_secret = reply_secret(res);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_ROTATE_ENDPOINT_SECRET;
}

static Paywire__V1__EndpointResponse *
reply_endpoint(srv_result *res)
{
	struct srv_notify_res *r = res->notify;

	PW_ASSERT(r != NULL && r->ep != NULL);
	map_endpoint(r->ep, &r->w_ep[0]);
	paywire__v1__endpoint_response__init(&r->ep_resp);
	r->ep_resp.endpoint = &r->w_ep[0];
	return &r->ep_resp;
}

void
srv_reply_notify_update(srv_reply_msg *m, srv_result *res)
{
	m->resp.update_endpoint = reply_endpoint(res);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_UPDATE_ENDPOINT;
}

void
srv_reply_notify_delete(srv_reply_msg *m, srv_result *res)
{
	m->resp.delete_endpoint = reply_endpoint(res);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_DELETE_ENDPOINT;
}

void
srv_reply_notify_endpoints(srv_reply_msg *m, srv_result *res)
{
	struct srv_notify_res *r = res->notify;

	PW_ASSERT(r != NULL && r->n_eps <= PW_NOTIFY_ENDPOINTS_MAX);
	paywire__v1__list_endpoints_response__init(&r->list_resp);
	for (size_t i = 0; i < r->n_eps; i++) {
		map_endpoint(r->eps[i], &r->w_ep[i]);
		r->w_epp[i] = &r->w_ep[i];
	}
	r->list_resp.endpoints = r->w_epp;
	r->list_resp.n_endpoints = r->n_eps;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_ENDPOINTS;
	m->resp.list_endpoints = &r->list_resp;
}

void
srv_reply_notify_messages(srv_reply_msg *m, srv_result *res)
{
	struct srv_notify_res *r = res->notify;

	PW_ASSERT(r != NULL && r->n_msgs <= PW_LIST_LIMIT_MAX);
	paywire__v1__list_notify_messages_response__init(&r->msgs_resp);
	for (size_t i = 0; i < r->n_msgs; i++) {
		map_message(r->msgs[i], r->dead, &r->w_msg[i]);
		r->w_msgp[i] = &r->w_msg[i];
	}
	r->msgs_resp.messages = r->w_msgp;
	r->msgs_resp.n_messages = r->n_msgs;
	r->msgs_resp.has_more = r->more;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_NOTIFY_MESSAGES;
	m->resp.list_notify_messages = &r->msgs_resp;
}

void
srv_reply_notify_message(srv_reply_msg *m, srv_result *res)
{
	struct srv_notify_res *r = res->notify;

	PW_ASSERT(r != NULL && r->msg != NULL);
	map_message(r->msg, false, &r->w_msg[0]);
	paywire__v1__notify_message_response__init(&r->msg_resp);
	r->msg_resp.message = &r->w_msg[0];
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_RETRY_NOTIFY_MESSAGE;
	m->resp.retry_notify_message = &r->msg_resp;
}

void
srv_reply_notify_replay(srv_reply_msg *m, srv_result *res)
{
	struct srv_notify_res *r = res->notify;

	PW_ASSERT(r != NULL);
	paywire__v1__replay_notify_response__init(&r->replay_resp);
	r->replay_resp.enqueued = r->replay.enqueued;
	r->replay_resp.examined = r->replay.examined;
	r->replay_resp.has_more = r->replay.has_more;
	r->replay_resp.next_since_unix_ms = r->replay.next_since_ms;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REPLAY_NOTIFY;
	m->resp.replay_notify = &r->replay_resp;
}
