/*
 * server_calls_test.c - the call table (srv_calls.h) and the reply module
 * (srv_reply.h) on their own, without a server: every member of Request's
 * `call` oneof has exactly one well-formed row named after it; redaction
 * empties a revealed access key in place; sealed replies open only for their
 * key, scope and request_id. The calls themselves are tested end to end by
 * the other server tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "srv_calls.h"
#include "srv_reply.h"

static const ProtobufCMessageDescriptor *const REQ = &paywire__v1__request__descriptor;

/* ---- the table ---- */

static void
test_every_call_member_has_one_row_named_after_it(void **state)
{
	unsigned rows = 0;

	(void) state;
	for (unsigned i = 0; i < REQ->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &REQ->fields[i];
		const srv_call_ops *ops;

		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0) {
			/* request_id, api_key, deadline_ms: no row */
			assert_null(srv_calls_find((Paywire__V1__Request__CallCase) f->id));
			continue;
		}
		ops = srv_calls_find((Paywire__V1__Request__CallCase) f->id);
		assert_non_null(ops);
		assert_string_equal(f->name, ops->name);
		rows++;
	}
	assert_int_equal(45, rows); /* .. 3 credit, 3 key calls, verify_access_key, 4 queries, events,
	                               reissue_access_key, test_payment, entitlements, anomalies,
	                               3 quarantine, create_portal_session, refund_payment,
	                               2 provider credentials, 3 credit packages, set_plan_price,
	                               set/get_merchant_rate_limits, 8 notify calls */
}

static void
test_no_call_and_unknown_numbers_have_no_row(void **state)
{
	(void) state;
	assert_null(srv_calls_find((Paywire__V1__Request__CallCase) 0)); /* _NOT_SET */
	assert_null(srv_calls_find((Paywire__V1__Request__CallCase) -1));
	assert_null(srv_calls_find((Paywire__V1__Request__CallCase) 9));
	assert_null(srv_calls_find((Paywire__V1__Request__CallCase) 33));
	assert_null(srv_calls_find((Paywire__V1__Request__CallCase) 1000));
}

/* What each row declares, as DESIGN.md and docs/SERVER.md state it. */
static void
test_rows_declare_the_documented_auth_writes_and_stored_forms(void **state)
{
	static const struct {
		const char *name;     /* oneof member */
		srv_auth auth;        /* expected auth */
		bool mutates;         /* expected write */
		srv_scope scope;      /* expected scope */
		bool sealed;          /* stored sealed */
		bool redacted;        /* stored redacted */
	} want[] = {
		{ "create_merchant", SRV_AUTH_ADMIN, true, SRV_SCOPE_ADMIN, true, false },
		{ "create_session", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, true, false },
		{ "get_status", SRV_AUTH_NONE, false, SRV_SCOPE_NONE, false, false },
		{ "ingest_webhook", SRV_AUTH_NONE, true, SRV_SCOPE_PROVIDER, false, false },
		{ "revoke_api_key", SRV_AUTH_ADMIN, true, SRV_SCOPE_ADMIN, false, false },
		{ "verify_audit", SRV_AUTH_ADMIN, false, SRV_SCOPE_NONE, false, false },
		{ "redeem_access", SRV_AUTH_NONE, true, SRV_SCOPE_ACCESS, false, true },
		{ "cancel_session", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, false, false },
		{ "deduct_credits", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, false, false },
		{ "get_balance", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "create_api_key", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, true, false },
		{ "roll_api_key", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, true, false },
		{ "list_api_keys", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "verify_access_key", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "get_session", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "list_sessions", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "get_invoice", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "list_invoices", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "list_events", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "get_entitlements", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "list_anomalies", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "list_quarantined_events", SRV_AUTH_ADMIN, false, SRV_SCOPE_NONE, false, false },
		{ "get_quarantined_event", SRV_AUTH_ADMIN, false, SRV_SCOPE_NONE, false, false },
		{ "retry_quarantined_event", SRV_AUTH_ADMIN, true, SRV_SCOPE_ADMIN, false, false },
		{ "list_credit_transactions", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "reissue_access_key", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, true, false },
		{ "test_payment", SRV_AUTH_NONE, true, SRV_SCOPE_PROVIDER, false, false },
		{ "create_portal_session", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, true, false },
		{ "refund_payment", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, false, false },
		{ "set_plan_price", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, false, false },
		/* the request holds the secret, the reply its hint only: kept as sent */
		{ "set_provider_credentials", SRV_AUTH_ADMIN, true, SRV_SCOPE_ADMIN, false, false },
		{ "list_provider_credentials", SRV_AUTH_ADMIN, false, SRV_SCOPE_NONE, false, false },
		{ "set_merchant_rate_limits", SRV_AUTH_ADMIN, true, SRV_SCOPE_ADMIN, false, false },
		{ "get_merchant_rate_limits", SRV_AUTH_ADMIN, false, SRV_SCOPE_NONE, false, false },
		/* an endpoint's secret is in these replies: stored sealed */
		{ "create_endpoint", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, true, false },
		{ "rotate_endpoint_secret", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, true, false },
		{ "list_endpoints", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "update_endpoint", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, false, false },
		{ "delete_endpoint", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, false, false },
		{ "list_notify_messages", SRV_AUTH_MERCHANT, false, SRV_SCOPE_NONE, false, false },
		{ "retry_notify_message", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, false, false },
		{ "replay_notify", SRV_AUTH_MERCHANT, true, SRV_SCOPE_MERCHANT, false, false },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(REQ, want[i].name);
		const srv_call_ops *ops;

		assert_non_null(f);
		ops = srv_calls_find((Paywire__V1__Request__CallCase) f->id);
		assert_non_null(ops);
		assert_int_equal(want[i].auth, ops->auth);
		assert_int_equal(want[i].mutates, ops->mutates);
		assert_int_equal(want[i].scope, ops->scope);
		assert_int_equal(want[i].sealed, ops->sealed);
		assert_int_equal(want[i].redacted, ops->redact != NULL);
		/* a write has apply and no read; a read the reverse */
		assert_int_equal(ops->mutates, ops->apply != NULL);
		assert_int_equal(!ops->mutates, ops->read != NULL);
		assert_non_null(ops->reply);
		assert_non_null(ops->failed);
		assert_true(strstr(ops->failed, "failed") != NULL);
	}
}

/* ---- replies ---- */

/* A receipt for cs_test_1 revealing key (NULL: none). */
static void
redeem_with_key(srv_result *res, const char *key)
{
	srv_result_touch(res); /* as srv_calls_apply does before the row fills it */
	assert_true(pw_strlcpy(res->redeem.session_id, "cs_test_1", sizeof(res->redeem.session_id)));
	if (key != NULL) {
		assert_true(pw_strlcpy(res->redeem.access_key, key, sizeof(res->redeem.access_key)));
	}
}

static void
test_redaction_empties_a_revealed_key_in_place_and_marks_it_revealed(void **state)
{
	srv_result res;
	srv_reply_msg m;
	uint8_t *sent = NULL;
	uint8_t *kept = NULL;
	size_t sent_len = 0;
	size_t kept_len = 0;
	Paywire__V1__Response *back;

	(void) state;
	srv_result_init(&res);
	redeem_with_key(&res, "ak_test_0123456789abcdef");
	srv_reply_msg_init(&m);
	srv_reply_redeem_access(&m, &res);
	assert_true(srv_reply_pack(&m.resp, "r1", PW_OK, "", &sent, &sent_len));
	assert_true(srv_reply_redact_redeem_access(&res));
	/* the key's buffer, wiped whole */
	assert_true(sodium_is_zero((const unsigned char *) res.redeem.access_key,
	    sizeof(res.redeem.access_key)));
	assert_string_equal("", res.redeem.access_key);
	assert_true(res.redeem.already_revealed);
	/* the message built before points at the wiped key; the kept copy is
	 * built again from the redacted result, as apply does */
	assert_string_equal("", m.resp.redeem_access->access_key);
	srv_reply_msg_init(&m);
	srv_reply_redeem_access(&m, &res);
	assert_true(srv_reply_pack(&m.resp, "r1", PW_OK, "", &kept, &kept_len));
	back = paywire__v1__response__unpack(NULL, kept_len, kept);
	assert_non_null(back);
	assert_string_equal("r1", back->request_id);
	assert_string_equal("", back->redeem_access->access_key);
	assert_true(back->redeem_access->already_revealed);
	assert_string_equal("cs_test_1", back->redeem_access->session_id);
	paywire__v1__response__free_unpacked(back, NULL);
	back = paywire__v1__response__unpack(NULL, sent_len, sent);
	assert_non_null(back);
	assert_string_equal("ak_test_0123456789abcdef", back->redeem_access->access_key);
	assert_false(back->redeem_access->already_revealed);
	paywire__v1__response__free_unpacked(back, NULL);
	/* Nothing secret any more: a second redaction changes nothing. */
	assert_false(srv_reply_redact_redeem_access(&res));
	srv_reply_free(&sent, &sent_len);
	srv_reply_free(&kept, &kept_len);
	assert_null(sent);
	assert_int_equal(0, sent_len);
	srv_result_fini(&res);
	assert_true(sodium_is_zero((const unsigned char *) &res, sizeof(res)));
	assert_false(res.dirty);
	srv_result_fini(&res); /* the call's reset finishes it again: nothing to do */
	assert_true(sodium_is_zero((const unsigned char *) &res, sizeof(res)));
}

/* A result that holds a key and owned records is wiped and freed whole by
 * its first fini (the leak check would see a record it forgot), and a
 * second fini, as a call's reset does after the call packed its reply,
 * finds nothing to do. */
static void
test_result_fini_wipes_a_touched_result_once(void **state)
{
	srv_result res;

	(void) state;
	srv_result_init(&res);
	assert_false(res.dirty);
	srv_result_touch(&res);
	assert_true(res.dirty);
	assert_true(pw_strlcpy(res.api_key, "pw_test_secret_key", sizeof(res.api_key)));
	res.session = calloc(1, sizeof(*res.session)); /* freed by fini, as an unpacked record */
	assert_non_null(res.session);
	paywire__store__v1__session_record__init(res.session);
	srv_result_fini(&res);
	assert_true(sodium_is_zero((const unsigned char *) &res, sizeof(res)));
	srv_result_fini(&res);
	assert_true(sodium_is_zero((const unsigned char *) &res, sizeof(res)));
}

static void
test_redaction_keeps_a_reply_without_a_key_as_sent(void **state)
{
	srv_result res;

	(void) state;
	srv_result_init(&res);
	redeem_with_key(&res, NULL);
	assert_false(srv_reply_redact_redeem_access(&res));
	assert_false(res.redeem.already_revealed);
	srv_result_fini(&res);
}

static void
test_sealed_reply_opens_only_for_its_key_scope_and_request_id(void **state)
{
	uint8_t key[SRV_SEAL_KEY_BYTES];
	uint8_t other[SRV_SEAL_KEY_BYTES];
	uint8_t *packed = NULL;
	uint8_t *sealed = NULL;
	uint8_t *opened = NULL;
	size_t packed_len = 0;
	size_t sealed_len = 0;
	size_t opened_len = 0;
	char why[128];

	(void) state;
	randombytes_buf(key, sizeof(key));
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	assert_true(srv_reply_error_pack("r1", PW_OK, "", &packed, &packed_len));
	assert_false(srv_reply_is_sealed(packed, packed_len));
	assert_true(srv_reply_seal(key, "admin", "r1", packed, packed_len, &sealed, &sealed_len));
	assert_true(srv_reply_is_sealed(sealed, sealed_len));
	assert_true(sealed_len > packed_len);
	assert_int_equal(PW_OK, srv_reply_unseal(key, "admin", "r1", sealed, sealed_len, &opened,
	                            &opened_len, why, sizeof(why)));
	assert_int_equal(packed_len, opened_len);
	assert_memory_equal(packed, opened, packed_len);
	srv_reply_free(&opened, &opened_len);
	assert_int_equal(PW_INTERNAL, srv_reply_unseal(other, "admin", "r1", sealed, sealed_len,
	                                  &opened, &opened_len, why, sizeof(why)));
	assert_non_null(strstr(why, "sealed with another admin key"));
	assert_null(opened);
	assert_int_equal(PW_INTERNAL, srv_reply_unseal(key, "access", "r1", sealed, sealed_len,
	                                  &opened, &opened_len, why, sizeof(why)));
	assert_int_equal(PW_INTERNAL, srv_reply_unseal(key, "admin", "r2", sealed, sealed_len,
	                                  &opened, &opened_len, why, sizeof(why)));
	assert_int_equal(PW_INTERNAL,
	    srv_reply_unseal(key, "admin", "r1", sealed, 10, &opened, &opened_len, why, sizeof(why)));
	assert_non_null(strstr(why, "cannot be opened"));
	assert_null(opened);
	srv_reply_free(&packed, &packed_len);
	srv_reply_free(&sealed, &sealed_len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_call_member_has_one_row_named_after_it),
		cmocka_unit_test(test_no_call_and_unknown_numbers_have_no_row),
		cmocka_unit_test(test_rows_declare_the_documented_auth_writes_and_stored_forms),
		cmocka_unit_test(test_redaction_empties_a_revealed_key_in_place_and_marks_it_revealed),
		cmocka_unit_test(test_redaction_keeps_a_reply_without_a_key_as_sent),
		cmocka_unit_test(test_result_fini_wipes_a_touched_result_once),
		cmocka_unit_test(test_sealed_reply_opens_only_for_its_key_scope_and_request_id),
	};

	if (sodium_init() < 0) {
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
