/*
 * store_record_compat_test.c - records on disk survive the store owning its
 * types.
 *
 * Until issue 6, store.proto (package paywire.v1) imported paywire.proto and
 * SessionRecord.session was a wire paywire.v1.Session (so were the Mode,
 * Provider and WebhookOutcome fields of the other records). The store's own
 * package, paywire.store.v1, copies those types with the same numbers.
 * Protobuf's binary encoding carries field numbers and values only, never a
 * type name, so every record written before decodes unchanged; this test
 * proves it with bytes, both ways:
 * - OLD -> NEW: bytes packed by the old layout (the hex below, produced by
 *   the generated code of commit d76df48 from the values of t_check_*)
 *   unpack through paywire.store.v1 with every field equal, and pack again
 *   to the same bytes;
 * - NEW -> OLD: a store Session packs to exactly the bytes of a wire Session
 *   of the same values, and those unpack through the wire type with every
 *   field equal (what an old reader does).
 * And, so the two cannot drift apart later, the store's copies have the
 * wire's schema: same field numbers, names, types and labels, same enum
 * value numbers and names.
 *
 * The server now maps store records to the wire (server/srv_map.c) where it
 * used to send the record's wire Session as it was: the last cases check
 * that the mapped Session packs to the old bytes too, that every enum maps
 * by number (named values and unnamed ones), and that a request maps to the
 * store's parameters field for field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paywire/store/v1/store.pb-c.h"
#include "paywire/v1/paywire.pb-c.h"
#include "srv_map.h"

/* The old layout's bytes (commit d76df48, proto/paywire/v1/store.proto
 * importing paywire.proto), as protobuf-c 1.4 packed them. */
static const char t_old_session_hex[] = /* paywire.v1.Session, every field set */
    "0a2563735f303139306131623263336434653566363037313832393361346235"
    "6336643765386612126d65725f30313930613162326333643461611802200828"
    "0530c0c4073a03455552422b687474703a2f2f3132372e302e302e313a383038"
    "302f636865636b6f75743f73657373696f6e3d63735f784a1768747470733a2f"
    "2f73686f702e6578616d706c652f6f6b521b68747470733a2f2f73686f702e65"
    "78616d706c652f63616e63656c5a0f616461406578616d706c652e636f6d620c"
    "416461204c6f76656c6163656a056375735f37720b0a056f7264657212023432"
    "720c0a04746965721204676f6c647a090801120370726f1807800180ecc3b5b9"
    "328801e0c0c7b5b9329001039801e807a201066964656d2d31";
static const char t_old_record_hex[] = /* paywire.v1.SessionRecord holding it */
    "0a99020a2563735f303139306131623263336434653566363037313832393361"
    "3462356336643765386612126d65725f30313930613162326333643461611802"
    "2008280530c0c4073a03455552422b687474703a2f2f3132372e302e302e313a"
    "383038302f636865636b6f75743f73657373696f6e3d63735f784a1768747470"
    "733a2f2f73686f702e6578616d706c652f6f6b521b68747470733a2f2f73686f"
    "702e6578616d706c652f63616e63656c5a0f616461406578616d706c652e636f"
    "6d620c416461204c6f76656c6163656a056375735f37720b0a056f7264657212"
    "023432720c0a04746965721204676f6c647a090801120370726f1807800180ec"
    "c3b5b9328801e0c0c7b5b9329001039801e807a201066964656d2d31120c0801"
    "120870695f334e61626312090804120530786162631a040102030420092a0565"
    "6e745f3132142f6163636573732f63735f783f746f6b656e3d7438f08ec8b5b9"
    "32420e7365636f6e64207061796d656e74480150f2abc6ba065a0870695f334e"
    "61626360016802";
static const char t_old_merchant_hex[] = /* paywire.v1.MerchantRecord, mode LIVE */
    "0a056d65725f31120453686f70180220052809";
static const char t_old_event_hex[] = /* paywire.v1.WebhookEventRecord, RAZORPAY, IGNORED */
    "080212056576745f311a107061796d656e742e636170747572656420032a0463"
    "735f7832057374616c653806";

#define T_BYTES_MAX 1024

/* hex -> out; returns the byte count. */
static size_t
t_unhex(const char *hex, uint8_t *out, size_t out_size)
{
	size_t n = strlen(hex) / 2;

	assert_int_equal(0, strlen(hex) % 2);
	assert_true(n <= out_size);
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		assert_int_equal(1, sscanf(hex + 2 * i, "%2x", &v));
		out[i] = (uint8_t) v;
	}
	return n;
}

/* Packs m and checks the bytes are exactly want[0..want_len). */
static void
t_packs_to(const ProtobufCMessage *m, const uint8_t *want, size_t want_len)
{
	uint8_t got[T_BYTES_MAX];
	size_t n;

	assert_int_equal(want_len, protobuf_c_message_get_packed_size(m));
	n = protobuf_c_message_pack(m, got);
	assert_int_equal(want_len, n);
	assert_memory_equal(want, got, n);
}

/* Every field of the Session the hex holds. The wire and the store types
 * have the same member names and numbers, so one check serves both: s is a
 * Paywire__V1__Session or a Paywire__Store__V1__Session. */
#define T_CHECK_SESSION(s)                                                        \
	do {                                                                          \
		assert_string_equal("cs_0190a1b2c3d4e5f60718293a4b5c6d7e8f", (s)->id);    \
		assert_string_equal("mer_0190a1b2c3d4aa", (s)->merchant_id);              \
		assert_int_equal(2, (s)->mode);           /* LIVE */                      \
		assert_int_equal(8, (s)->status);         /* DISPUTED */                  \
		assert_int_equal(5, (s)->payment_status); /* PARTIALLY_REFUNDED */        \
		assert_int_equal(123456, (s)->amount_minor);                              \
		assert_string_equal("EUR", (s)->currency);                                \
		assert_string_equal("http://127.0.0.1:8080/checkout?session=cs_x", (s)->url); \
		assert_string_equal("https://shop.example/ok", (s)->success_url);         \
		assert_string_equal("https://shop.example/cancel", (s)->cancel_url);      \
		assert_string_equal("ada@example.com", (s)->customer_email);              \
		assert_string_equal("Ada Lovelace", (s)->customer_name);                  \
		assert_string_equal("cus_7", (s)->customer_ref);                          \
		assert_int_equal(2, (s)->n_metadata);                                     \
		assert_string_equal("order", (s)->metadata[0]->key);                      \
		assert_string_equal("42", (s)->metadata[0]->value);                       \
		assert_string_equal("tier", (s)->metadata[1]->key);                       \
		assert_string_equal("gold", (s)->metadata[1]->value);                     \
		assert_non_null((s)->fulfillment);                                        \
		assert_int_equal(1, (s)->fulfillment->kind); /* ACCESS_KEY */             \
		assert_string_equal("pro", (s)->fulfillment->plan);                       \
		assert_int_equal(7, (s)->fulfillment->credits);                           \
		assert_int_equal(INT64_C(1733400000000), (s)->created_at_unix_ms);        \
		assert_int_equal(INT64_C(1733400060000), (s)->paid_at_unix_ms);           \
		assert_int_equal(3, (s)->payment_provider); /* ONECOM */                  \
		assert_int_equal(1000, (s)->amount_refunded_minor);                       \
		assert_string_equal("idem-1", (s)->idempotency_key);                      \
	} while (0)

/* Sets every field of s (either type) to the values T_CHECK_SESSION wants;
 * entries/entp/f are the caller's storage of the matching type. */
#define T_FILL_SESSION(s, entries, entp, f)                                       \
	do {                                                                          \
		(s)->id = "cs_0190a1b2c3d4e5f60718293a4b5c6d7e8f";                        \
		(s)->merchant_id = "mer_0190a1b2c3d4aa";                                  \
		(s)->mode = 2;                                                            \
		(s)->status = 8;                                                          \
		(s)->payment_status = 5;                                                  \
		(s)->amount_minor = 123456;                                               \
		(s)->currency = "EUR";                                                    \
		(s)->url = "http://127.0.0.1:8080/checkout?session=cs_x";                 \
		(s)->success_url = "https://shop.example/ok";                             \
		(s)->cancel_url = "https://shop.example/cancel";                          \
		(s)->customer_email = "ada@example.com";                                  \
		(s)->customer_name = "Ada Lovelace";                                      \
		(s)->customer_ref = "cus_7";                                              \
		(entries)[0].key = "order";                                               \
		(entries)[0].value = "42";                                                \
		(entries)[1].key = "tier";                                                \
		(entries)[1].value = "gold";                                              \
		(entp)[0] = &(entries)[0];                                                \
		(entp)[1] = &(entries)[1];                                                \
		(s)->n_metadata = 2;                                                      \
		(s)->metadata = (entp);                                                   \
		(f)->kind = 1;                                                            \
		(f)->plan = "pro";                                                        \
		(f)->credits = 7;                                                         \
		(s)->fulfillment = (f);                                                   \
		(s)->created_at_unix_ms = INT64_C(1733400000000);                         \
		(s)->paid_at_unix_ms = INT64_C(1733400060000);                            \
		(s)->payment_provider = 3;                                                \
		(s)->amount_refunded_minor = 1000;                                        \
		(s)->idempotency_key = "idem-1";                                          \
	} while (0)

/* ---- OLD -> NEW ---- */

static void
test_old_session_record_decodes_through_store_types(void **state)
{
	uint8_t b[T_BYTES_MAX];
	size_t n = t_unhex(t_old_record_hex, b, sizeof(b));
	Paywire__Store__V1__SessionRecord *rec;

	(void) state;
	rec = paywire__store__v1__session_record__unpack(NULL, n, b);
	assert_non_null(rec);
	assert_non_null(rec->session);
	T_CHECK_SESSION(rec->session);
	assert_int_equal(2, rec->n_refs);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE, rec->refs[0]->provider);
	assert_string_equal("pi_3Nabc", rec->refs[0]->ref);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_WEB3, rec->refs[1]->provider);
	assert_string_equal("0xabc", rec->refs[1]->ref);
	assert_int_equal(4, rec->request_hash.len);
	assert_memory_equal("\x01\x02\x03\x04", rec->request_hash.data, 4);
	assert_int_equal(9, rec->invoice_number);
	assert_string_equal("ent_1", rec->access_key_id);
	assert_string_equal("/access/cs_x?token=t", rec->access_link);
	assert_int_equal(INT64_C(1733400070000), rec->updated_at_unix_ms);
	assert_string_equal("second payment", rec->anomaly);
	assert_int_equal(1, rec->dispute);
	assert_int_equal(INT64_C(1733400050), rec->attempt_unix_s);
	assert_string_equal("pi_3Nabc", rec->paid_ref);
	assert_true(rec->entitlement_active);
	assert_int_equal(2, rec->anomalies);
	/* and a store that saves it again writes the very same bytes */
	t_packs_to(&rec->base, b, n);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
}

static void
test_old_merchant_and_event_records_decode_through_store_types(void **state)
{
	uint8_t b[T_BYTES_MAX];
	size_t n = t_unhex(t_old_merchant_hex, b, sizeof(b));
	Paywire__Store__V1__MerchantRecord *m;
	Paywire__Store__V1__WebhookEventRecord *ev;

	(void) state;
	m = paywire__store__v1__merchant_record__unpack(NULL, n, b);
	assert_non_null(m);
	assert_string_equal("mer_1", m->merchant_id);
	assert_string_equal("Shop", m->name);
	assert_int_equal(PAYWIRE__STORE__V1__MODE__MODE_LIVE, m->mode);
	assert_int_equal(5, m->created_at_unix_ms);
	assert_int_equal(9, m->last_invoice_number);
	t_packs_to(&m->base, b, n);
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);

	n = t_unhex(t_old_event_hex, b, sizeof(b));
	ev = paywire__store__v1__webhook_event_record__unpack(NULL, n, b);
	assert_non_null(ev);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_RAZORPAY, ev->provider);
	assert_string_equal("evt_1", ev->event_id);
	assert_string_equal("payment.captured", ev->event_type);
	assert_int_equal(PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_IGNORED, ev->outcome);
	assert_string_equal("cs_x", ev->session_id);
	assert_string_equal("stale", ev->reason);
	assert_int_equal(6, ev->received_at_unix_ms);
	t_packs_to(&ev->base, b, n);
	paywire__store__v1__webhook_event_record__free_unpacked(ev, NULL);
}

/* ---- NEW -> OLD ---- */

/* A Session of either package (P: its C type prefix) and what it points at. */
#define T_SESSION_OF(P)                                                           \
	struct {                                                                      \
		P##Session s;                   /* the session */                          \
		P##Session__MetadataEntry e[2]; /* its metadata */                         \
		P##Session__MetadataEntry *ep[2]; /* -> e */                               \
		P##Fulfillment f;               /* its fulfillment */                      \
	}

/* Initialises x with the functions of prefix p, then T_FILL_SESSION. */
#define T_SESSION_MAKE(x, p)                                                      \
	do {                                                                          \
		p##session__init(&(x).s);                                                 \
		p##session__metadata_entry__init(&(x).e[0]);                              \
		p##session__metadata_entry__init(&(x).e[1]);                              \
		p##fulfillment__init(&(x).f);                                             \
		T_FILL_SESSION(&(x).s, (x).e, (x).ep, &(x).f);                            \
	} while (0)

static void
test_store_session_packs_to_the_wire_session_bytes_and_back(void **state)
{
	T_SESSION_OF(Paywire__Store__V1__) st;
	T_SESSION_OF(Paywire__V1__) wi;
	Paywire__V1__Session *old;
	uint8_t b[T_BYTES_MAX];
	size_t n = t_unhex(t_old_session_hex, b, sizeof(b));

	(void) state;
	/* the wire type still packs as it did (the hex was packed by it) */
	T_SESSION_MAKE(wi, paywire__v1__);
	T_CHECK_SESSION(&wi.s);
	t_packs_to(&wi.s.base, b, n);
	/* the store type packs the same values to the same bytes... */
	T_SESSION_MAKE(st, paywire__store__v1__);
	T_CHECK_SESSION(&st.s);
	t_packs_to(&st.s.base, b, n);
	/* ...which an old reader (the wire type) decodes field for field */
	old = paywire__v1__session__unpack(NULL, n, b);
	assert_non_null(old);
	T_CHECK_SESSION(old);
	paywire__v1__session__free_unpacked(old, NULL);
}

/* ---- the schemas stay twins ---- */

static void
t_same_enum(const ProtobufCEnumDescriptor *wire, const ProtobufCEnumDescriptor *st)
{
	print_message("%s ~ %s\n", wire->name, st->name);
	assert_string_equal(wire->short_name, st->short_name);
	assert_int_equal(wire->n_values, st->n_values);
	for (unsigned v = 0; v < wire->n_values; v++) {
		const ProtobufCEnumValue *b = protobuf_c_enum_descriptor_get_value(st,
		    wire->values[v].value);
		assert_non_null(b);
		assert_string_equal(wire->values[v].name, b->name);
	}
}

static void
t_same_message(const ProtobufCMessageDescriptor *wire, const ProtobufCMessageDescriptor *st)
{
	print_message("%s ~ %s\n", wire->name, st->name);
	assert_int_equal(wire->n_fields, st->n_fields);
	for (unsigned i = 0; i < wire->n_fields; i++) {
		const ProtobufCFieldDescriptor *a = &wire->fields[i];
		const ProtobufCFieldDescriptor *b = protobuf_c_message_descriptor_get_field(st, a->id);
		assert_non_null(b);
		assert_string_equal(a->name, b->name);
		assert_int_equal(a->type, b->type);
		assert_int_equal(a->label, b->label);
		if (a->type == PROTOBUF_C_TYPE_ENUM) {
			t_same_enum(a->descriptor, b->descriptor);
		}
	}
}

/* The enums both packages have: XX(name, Type) as protobuf-c spells them. */
#define T_ENUMS(XX)                                                               \
	XX(mode, Mode) XX(session_status, SessionStatus) XX(payment_status, PaymentStatus) \
	XX(provider, Provider) XX(fulfillment_kind, FulfillmentKind)                  \
	XX(webhook_outcome, WebhookOutcome)
#define T_XX_SAME_ENUM(name, Type)                                                \
	t_same_enum(&paywire__v1__##name##__descriptor, &paywire__store__v1__##name##__descriptor);

static void
test_store_types_have_the_wire_schema(void **state)
{
	(void) state;
	t_same_message(&paywire__v1__session__descriptor, &paywire__store__v1__session__descriptor);
	t_same_message(&paywire__v1__session__metadata_entry__descriptor,
	    &paywire__store__v1__session__metadata_entry__descriptor);
	t_same_message(&paywire__v1__fulfillment__descriptor,
	    &paywire__store__v1__fulfillment__descriptor);
	/* every shared enum, also those no shared message holds */
	T_ENUMS(T_XX_SAME_ENUM)
}

/* ---- the server's mapping keeps the bytes ---- */

static void
test_mapped_session_has_the_old_reply_bytes(void **state)
{
	uint8_t b[T_BYTES_MAX];
	size_t n = t_unhex(t_old_record_hex, b, sizeof(b));
	uint8_t want[T_BYTES_MAX];
	size_t want_len = t_unhex(t_old_session_hex, want, sizeof(want));
	Paywire__Store__V1__SessionRecord *rec;
	Paywire__V1__GetStatusResponse g;
	srv_map_session_buf *buf = malloc(sizeof(*buf));
	Paywire__V1__Session *w;

	(void) state;
	assert_non_null(buf);
	rec = paywire__store__v1__session_record__unpack(NULL, n, b);
	assert_non_null(rec);
	assert_true(srv_map_session_fits(rec->session));
	w = srv_map_session(rec->session, buf);
	T_CHECK_SESSION(w);
	t_packs_to(&w->base, want, want_len); /* what the old server replied */
	srv_map_get_status(rec, false, "", &g);
	assert_string_equal("", g.access_link); /* without the checkout secret: status only */
	srv_map_get_status(rec, true, "Acme", &g);
	assert_string_equal("Acme", g.merchant_name);
	assert_string_equal(rec->session->id, g.session_id);
	assert_int_equal(8, g.status);
	assert_int_equal(5, g.payment_status);
	assert_int_equal(3, g.payment_provider);
	assert_int_equal(2, g.mode);
	assert_int_equal(1000, g.amount_refunded_minor);
	assert_string_equal("/access/cs_x?token=t", g.access_link);
	assert_int_equal(9, g.invoice_number);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	free(buf);
}

/* Every value the wire enum names maps to the same number and back; so does
 * a number no .proto names (250: a test provider). */
#define T_XX_MAPS_BY_NUMBER(name, Type)                                           \
	do {                                                                          \
		const ProtobufCEnumDescriptor *w = &paywire__v1__##name##__descriptor;     \
		assert_int_equal(w->n_values, paywire__store__v1__##name##__descriptor.n_values); \
		for (unsigned i = 0; i < w->n_values; i++) {                              \
			int v = w->values[i].value;                                           \
			assert_int_equal(v, (int) srv_map_##name##_to_store((Paywire__V1__##Type) v)); \
			assert_int_equal(v, (int) srv_map_##name##_to_wire((Paywire__Store__V1__##Type) v)); \
		}                                                                         \
		assert_int_equal(250, (int) srv_map_##name##_to_wire((Paywire__Store__V1__##Type) 250)); \
		assert_int_equal(250, (int) srv_map_##name##_to_store((Paywire__V1__##Type) 250)); \
	} while (0);

static void
test_enums_map_by_number(void **state)
{
	(void) state;
	T_ENUMS(T_XX_MAPS_BY_NUMBER)
}

/* The string fields a CreateSessionRequest shares with its Session. */
#define T_REQUEST_STRINGS(XX)                                                     \
	XX(currency) XX(success_url) XX(cancel_url) XX(customer_email) XX(customer_name) \
	XX(customer_ref) XX(idempotency_key)
#define T_XX_SET(f) r.f = s->f;
#define T_XX_EQUAL(f) assert_string_equal(s->f, p.f);

static void
test_request_maps_to_store_params(void **state)
{
	Paywire__V1__CreateSessionRequest r = PAYWIRE__V1__CREATE_SESSION_REQUEST__INIT;
	Paywire__V1__CreateSessionRequest__MetadataEntry e[2];
	Paywire__V1__CreateSessionRequest__MetadataEntry *ep[2] = { &e[0], &e[1] };
	srv_map_params_buf *buf = malloc(sizeof(*buf));
	uint8_t b[T_BYTES_MAX];
	size_t n = t_unhex(t_old_session_hex, b, sizeof(b));
	Paywire__V1__Session *s = paywire__v1__session__unpack(NULL, n, b);
	store_session_params p;

	(void) state;
	assert_non_null(buf);
	assert_non_null(s);
	/* the request that created the session of the hex */
	T_REQUEST_STRINGS(T_XX_SET)
	r.amount_minor = s->amount_minor;
	r.mode = s->mode;
	for (size_t i = 0; i < 2; i++) {
		paywire__v1__create_session_request__metadata_entry__init(&e[i]);
		e[i].key = s->metadata[i]->key;
		e[i].value = s->metadata[i]->value;
	}
	r.n_metadata = 2;
	r.metadata = ep;
	r.fulfillment = s->fulfillment;
	srv_map_session_params(&r, &p, buf);
	T_REQUEST_STRINGS(T_XX_EQUAL)
	assert_int_equal(s->amount_minor, p.amount_minor);
	assert_int_equal(PAYWIRE__STORE__V1__MODE__MODE_LIVE, p.mode);
	assert_int_equal(2, p.n_metadata);
	assert_string_equal("order", p.metadata[0]->key);
	assert_string_equal("42", p.metadata[0]->value);
	assert_string_equal("tier", p.metadata[1]->key);
	assert_string_equal("gold", p.metadata[1]->value);
	assert_non_null(p.fulfillment);
	assert_int_equal(PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY,
	    p.fulfillment->kind);
	assert_string_equal("pro", p.fulfillment->plan);
	assert_int_equal(7, p.fulfillment->credits);
	/* no fulfillment, no metadata: none in the params either */
	r.fulfillment = NULL;
	r.n_metadata = 0;
	r.metadata = NULL;
	srv_map_session_params(&r, &p, buf);
	assert_null(p.fulfillment);
	assert_int_equal(0, p.n_metadata);
	assert_null(p.metadata);
	paywire__v1__session__free_unpacked(s, NULL);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_session_record_decodes_through_store_types),
		cmocka_unit_test(test_old_merchant_and_event_records_decode_through_store_types),
		cmocka_unit_test(test_store_session_packs_to_the_wire_session_bytes_and_back),
		cmocka_unit_test(test_store_types_have_the_wire_schema),
		cmocka_unit_test(test_mapped_session_has_the_old_reply_bytes),
		cmocka_unit_test(test_enums_map_by_number),
		cmocka_unit_test(test_request_maps_to_store_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
