/*
 * srv_wh_web3.c - Web3 relay webhooks: Standard Webhooks signing
 * (srv_wh_standard.c) and the relay's on-chain transfer body.
 *
 *   body       {"event","session_id","blockchain_tx_id","network","amount",
 *              "currency"} and optionally "confirmations" and "log_index"
 *              (the seeds' relay sends neither)
 *   events     payment.confirmed, transfer.confirmed: SUCCEEDED once the
 *              network's confirmation minimum (srv_webhook_config) is
 *              reached, PENDING before; without a count, SUCCEEDED (the relay
 *              vouches for it, under its signature) unless the operator set
 *              a minimum for that network (PENDING: a count is needed);
 *              anything else is IGNORED
 *   payment    "<network>:<tx id>:<log_index>", a 0x tx id lower-cased; no
 *              log_index is a native transfer: index 0
 *   event id   the webhook-id header (signed)
 * docs/WEBHOOKS.md, "Web3 relay".
 */
#include "srv_wh.h"

#include <string.h>

/* Blockchain transaction ids: 0x + 64 hex for EVM chains, up to 88 base58
 * chars for Solana; "<network>:<tx>:<log_index>" must also fit payment_ref. */
#define WEB3_TX_BYTES_MAX 100

_Static_assert(SRV_WEBHOOK_NETWORK_BYTES <= sizeof(((pw_event *) 0)->network),
    "a network name fits pw_event.network");

/* "network" -> ev->network, lower case, 1..31 bytes of [a-z0-9_-]. */
static pw_status
web3_network(const srv_wh_req *r)
{
	const char *s;
	size_t len;
	pw_status rv;

	rv = srv_wh_json_str(r, r->root, "network", "network", SRV_WH_REQUIRED, &s);
	if (rv != PW_OK) {
		return rv;
	}
	len = strnlen(s, SRV_WEBHOOK_NETWORK_BYTES);
	if (len >= SRV_WEBHOOK_NETWORK_BYTES) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "network is longer than %d bytes",
		    SRV_WEBHOOK_NETWORK_BYTES - 1);
	}
	for (size_t i = 0; i < len; i++) {
		char ch = srv_wh_lower(s[i]);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
			return srv_wh_fail(r, PW_INVALID_ARGUMENT, "network must be [a-z0-9_-]");
		}
		r->ev->network[i] = ch;
	}
	r->ev->network[len] = '\0';
	return PW_OK;
}

/* "blockchain_tx_id" (alphanumeric, 0x-hex lowered so one transaction has one
 * spelling) and "log_index" -> payment_ref "<network>:<tx>:<log_index>". */
static pw_status
web3_payment_ref(const srv_wh_req *r)
{
	const char *tx;
	char low[WEB3_TX_BYTES_MAX + 1];
	int64_t log_index;
	bool present, hex;
	size_t len;
	int n;
	pw_status rv;

	rv = srv_wh_json_str(r, r->root, "blockchain_tx_id", "blockchain_tx_id", SRV_WH_REQUIRED, &tx);
	if (rv == PW_OK) {
		rv = srv_wh_json_int(r, r->root, "log_index", "log_index", SRV_WH_OPTIONAL, 0, INT32_MAX,
		    &log_index, &present);
	}
	if (rv != PW_OK) {
		return rv;
	}
	if (!present) {
		log_index = 0; /* a native transfer: one per transaction */
	}
	len = strnlen(tx, WEB3_TX_BYTES_MAX + 1);
	if (len > WEB3_TX_BYTES_MAX) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "blockchain_tx_id is longer than %d bytes",
		    WEB3_TX_BYTES_MAX);
	}
	hex = len > 2 && tx[0] == '0' && (tx[1] == 'x' || tx[1] == 'X');
	for (size_t i = 0; i < len; i++) {
		char ch = tx[i];
		bool alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z');
		if (!alnum) {
			return srv_wh_fail(r, PW_INVALID_ARGUMENT, "blockchain_tx_id must be alphanumeric");
		}
		hex = hex && (i < 2 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		                 (ch >= 'A' && ch <= 'F'));
		low[i] = ch;
	}
	for (size_t i = 0; hex && i < len; i++) {
		low[i] = srv_wh_lower(low[i]);
	}
	low[len] = '\0';
	n = snprintf(r->ev->payment_ref, sizeof(r->ev->payment_ref), "%s:%s:%lld", r->ev->network,
	    low, (long long) log_index);
	if (n < 0 || (size_t) n >= sizeof(r->ev->payment_ref)) {
		r->ev->payment_ref[0] = '\0';
		return srv_wh_fail(r, PW_INVALID_ARGUMENT,
		    "network:blockchain_tx_id:log_index is longer than %zu bytes",
		    sizeof(r->ev->payment_ref) - 1);
	}
	return PW_OK;
}

/* A confirmed transfer: network, payment_ref, confirmations (*counted: the
 * body has a count) and amount. */
static pw_status
web3_transfer(const srv_wh_req *r, bool *counted)
{
	pw_status rv;

	rv = web3_network(r);
	if (rv == PW_OK) {
		rv = web3_payment_ref(r);
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_int(r, r->root, "confirmations", "confirmations", SRV_WH_OPTIONAL, 0,
		    INT32_MAX, &r->ev->confirmations, counted);
	}
	return rv == PW_OK ? srv_wh_decimal_amount(r) : rv;
}

static pw_status
web3_parse(const srv_wh_req *r)
{
	static const srv_wh_field session = { "session_id", "session_id", SRV_WH_REQUIRED,
		SRV_WH_EV(session_ref) };
	const char *event = r->ev->event_type;
	bool counted = false;
	bool by_operator = false;
	bool has_min;
	int64_t min = 0;
	pw_status rv;

	rv = srv_wh_std_envelope(r);
	if (rv == PW_OK) {
		rv = srv_wh_json_fields(r, r->root, &session, 1);
	}
	if (rv != PW_OK) {
		return rv;
	}
	if (strcmp(event, "payment.confirmed") != 0 && strcmp(event, "transfer.confirmed") != 0) {
		r->ev->kind = PW_EV_IGNORED;
		srv_wh_detail(r->ev, "web3 event not handled by paywire");
		return PW_OK;
	}
	rv = web3_transfer(r, &counted);
	if (rv != PW_OK) {
		return rv;
	}
	has_min = srv_webhook_min_confirmations(r->cfg, r->ev->network, &min, &by_operator);
	if (!counted && has_min && by_operator) {
		r->ev->kind = PW_EV_PAYMENT_PENDING;
		srv_wh_detail(r->ev, "no confirmation count, and the operator wants %lld on %s",
		    (long long) min, r->ev->network);
	} else if (!counted) {
		r->ev->kind = PW_EV_PAYMENT_SUCCEEDED;
		srv_wh_detail(r->ev, "confirmed by the relay (no count sent, no operator minimum "
		                     "for %s)", r->ev->network);
	} else if (!has_min) {
		r->ev->kind = PW_EV_PAYMENT_PENDING;
		srv_wh_detail(r->ev, "no confirmation minimum configured for network %s", r->ev->network);
	} else if (r->ev->confirmations < min) {
		r->ev->kind = PW_EV_PAYMENT_PENDING;
		srv_wh_detail(r->ev, "%lld/%lld confirmations on %s", (long long) r->ev->confirmations,
		    (long long) min, r->ev->network);
	} else {
		r->ev->kind = PW_EV_PAYMENT_SUCCEEDED;
	}
	return PW_OK;
}

const srv_wh_ops srv_wh_ops_WEB3 = { .provider = PW_PROVIDER_WEB3,
	.secret_decode = srv_wh_std_secret_decode, .verify = srv_wh_std_verify, .parse = web3_parse };
