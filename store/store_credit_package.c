/*
 * store_credit_package.c - a merchant's catalogue of credit packages.
 *
 * credit_packages  merchant_id 0x00 code   CreditPackageRecord
 *
 * A package says what a session sells (credits) and at what price (amount,
 * currency). A code is never reused and a package never changes but for its
 * state: a price change is a new code, so a session created with a package
 * keeps the price it was created at, whatever happens to the catalogue
 * later. The session copies amount, currency and credits when it is created
 * (store_credit_package_apply, in the session's transaction), and its paid
 * event grows the balance by the credits it recorded (store_payment.c), so
 * archiving a package never touches a session.
 *
 * A merchant has at most PW_CREDIT_PACKAGES_MAX packages and at most
 * PW_CREDIT_PACKAGES_ACTIVE_MAX active ones, counted on its MerchantRecord
 * (credit_packages, credit_packages_active), moved in the transaction that
 * creates or archives one; a listing that filters out archived ones walks
 * at most PW_CREDIT_PACKAGES_MAX records of the merchant's own key range.
 */
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PKG_ACTIVE PAYWIRE__STORE__V1__CREDIT_PACKAGE_STATE__CREDIT_PACKAGE_STATE_ACTIVE
#define PKG_ARCHIVED PAYWIRE__STORE__V1__CREDIT_PACKAGE_STATE__CREDIT_PACKAGE_STATE_ARCHIVED

bool
store_credit_package_code_ok(const char *code)
{
	size_t len = code != NULL ? strnlen(code, PW_CREDIT_PACKAGE_CODE_BYTES_MAX + 1) : 0;

	if (len == 0 || len > PW_CREDIT_PACKAGE_CODE_BYTES_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = code[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
			return false;
		}
	}
	return true;
}

const char *
store_credit_package_state_name(Paywire__Store__V1__CreditPackageState st)
{
	switch (st) {
	case PKG_ACTIVE: return "active";
	case PKG_ARCHIVED: return "archived";
	case PAYWIRE__STORE__V1__CREDIT_PACKAGE_STATE__CREDIT_PACKAGE_STATE_UNSPECIFIED:
	case _PAYWIRE__STORE__V1__CREDIT_PACKAGE_STATE_IS_INT_SIZE: break;
	}
	return "unspecified";
}

pw_status
store_credit_package_load(store_txn *t, const char *merchant_id, const char *code,
    Paywire__Store__V1__CreditPackageRecord **out)
{
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t keylen = 0;

	PW_ASSERT(t != NULL && merchant_id != NULL && out != NULL);
	*out = NULL;
	if (!store_credit_package_code_ok(code) || merchant_id[0] == '\0' ||
	    !store_key_join(key, sizeof(key), merchant_id, code, &keylen)) {
		return PW_NOT_FOUND; /* no such code can exist */
	}
	return store_rec_get(t, STORE_DB_CREDIT_PACKAGES, key, keylen,
	    &paywire__store__v1__credit_package_record__descriptor, (void **) out);
}

/* Writes merchant m with its package counters moved by d_all, d_active. */
static pw_status
store_pkg_counts_move(store_txn *t, Paywire__Store__V1__MerchantRecord *m, int d_all,
    int d_active)
{
	if ((d_active < 0 && m->credit_packages_active == 0) ||
	    (d_all > 0 && m->credit_packages >= PW_CREDIT_PACKAGES_MAX)) {
		pw_log(PW_LOG_ERROR, "store: credit package counters of %s out of step",
		    m->merchant_id);
		return store_txn_note(t, PW_INTERNAL);
	}
	m->credit_packages = (uint32_t) ((int) m->credit_packages + d_all);
	m->credit_packages_active = (uint32_t) ((int) m->credit_packages_active + d_active);
	return store_rec_put(t, STORE_DB_MERCHANTS, m->merchant_id, strlen(m->merchant_id),
	    &m->base, 0, NULL);
}

static pw_status
store_pkg_merchant(store_txn *t, const char *merchant_id, Paywire__Store__V1__MerchantRecord **m)
{
	return store_rec_get(t, STORE_DB_MERCHANTS, merchant_id, strlen(merchant_id),
	    &paywire__store__v1__merchant_record__descriptor, (void **) m);
}

static bool
store_pkg_same(const Paywire__Store__V1__CreditPackageRecord *r,
    const store_credit_package_params *p)
{
	return r->credits == p->credits && r->amount_minor == p->amount_minor &&
	    strcmp(r->currency, p->currency) == 0 &&
	    strcmp(r->name, p->name != NULL ? p->name : "") == 0;
}

static pw_status
store_pkg_args_check(const char *merchant_id, const store_credit_package_params *p, char *reason,
    size_t reason_size)
{
	const char *why = NULL;

	if (merchant_id[0] == '\0' || strnlen(merchant_id, PW_SESSION_ID_BYTES_MAX) >=
	    PW_SESSION_ID_BYTES_MAX) {
		why = "merchant_id out of range";
	} else if (!store_credit_package_code_ok(p->code)) {
		why = "code must be 1..32 bytes of a-z, 0-9, _ and -";
	} else if (p->credits <= 0 || p->credits > PW_CREDITS_MAX) {
		why = "credits must be 1..1000000000";
	} else if (p->amount_minor <= 0 || p->amount_minor > PW_AMOUNT_MINOR_MAX) {
		why = "amount_minor out of range";
	} else if (p->currency == NULL || strlen(p->currency) != 3 ||
	    pw_currency_exponent(p->currency) < 0) {
		why = "currency must be an active ISO 4217 code in upper case";
	} else if (p->name != NULL &&
	    strnlen(p->name, PW_CREDIT_PACKAGE_NAME_BYTES_MAX + 1) > PW_CREDIT_PACKAGE_NAME_BYTES_MAX) {
		why = "name too long";
	}
	if (why != NULL) {
		snprintf(reason, reason_size, "%s", why);
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

pw_status
store_credit_package_create(store_txn *t, const char *merchant_id,
    const store_credit_package_params *p, Paywire__Store__V1__CreditPackageRecord **out,
    bool *created, char *reason, size_t reason_size)
{
	Paywire__Store__V1__CreditPackageRecord rec = PAYWIRE__STORE__V1__CREDIT_PACKAGE_RECORD__INIT;
	Paywire__Store__V1__CreditPackageRecord *old = NULL;
	Paywire__Store__V1__MerchantRecord *m = NULL;
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t keylen = 0;
	char detail[192];
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && p != NULL && out != NULL);
	PW_ASSERT(created != NULL && reason != NULL && reason_size > 0);
	*out = NULL;
	*created = false;
	reason[0] = '\0';
	st = store_pkg_args_check(merchant_id, p, reason, reason_size);
	if (st != PW_OK) {
		return st;
	}
	st = store_pkg_merchant(t, merchant_id, &m);
	if (st != PW_OK) {
		snprintf(reason, reason_size, "no merchant %s", merchant_id);
		return st;
	}
	st = store_credit_package_load(t, merchant_id, p->code, &old);
	if (st == PW_OK) {
		/* a code is never reused nor changed: the same create again answers it */
		if (old->state == PKG_ACTIVE && store_pkg_same(old, p)) {
			paywire__store__v1__merchant_record__free_unpacked(m, NULL);
			*out = old;
			return PW_OK;
		}
		snprintf(reason, reason_size, "credit package %s exists%s (%" PRId64 " credits for %"
		    PRId64 " %s): codes are never changed or reused; archive it and create another code",
		    p->code, old->state == PKG_ACTIVE ? " with other parameters" : " and is archived",
		    old->credits, old->amount_minor, old->currency);
		paywire__store__v1__credit_package_record__free_unpacked(old, NULL);
		st = PW_ALREADY_EXISTS;
	} else if (st == PW_NOT_FOUND) {
		st = PW_OK;
		if (m->credit_packages >= PW_CREDIT_PACKAGES_MAX) {
			snprintf(reason, reason_size, "merchant already has %d credit packages (archived "
			    "ones count): no more can be created", PW_CREDIT_PACKAGES_MAX);
			st = PW_RESOURCE_EXHAUSTED;
		} else if (m->credit_packages_active >= PW_CREDIT_PACKAGES_ACTIVE_MAX) {
			snprintf(reason, reason_size, "merchant already has %d active credit packages: "
			    "archive one first", PW_CREDIT_PACKAGES_ACTIVE_MAX);
			st = PW_FAILED_PRECONDITION;
		} else {
			st = store_pkg_counts_move(t, m, 1, 1);
		}
	}
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	if (st != PW_OK) {
		return st;
	}
	if (!store_key_join(key, sizeof(key), merchant_id, p->code, &keylen)) {
		return store_txn_note(t, PW_INTERNAL);
	}
	rec.merchant_id = (char *) merchant_id;
	rec.code = (char *) p->code;
	rec.name = (char *) (p->name != NULL ? p->name : "");
	rec.credits = p->credits;
	rec.amount_minor = p->amount_minor;
	rec.currency = (char *) p->currency;
	rec.state = PKG_ACTIVE;
	rec.created_at_unix_ms = t->now_ms;
	st = store_rec_put(t, STORE_DB_CREDIT_PACKAGES, key, keylen, &rec.base, KV_PUT_INSERT, NULL);
	st = st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st; /* read above: absent */
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "code=%s credits=%" PRId64 " amount_minor=%" PRId64
		    " currency=%s", p->code, p->credits, p->amount_minor, p->currency);
		st = store_audit_append(t, "credit_package.created", merchant_id, NULL, detail);
	}
	if (st == PW_OK) {
		st = store_msg_dup(&rec.base, (void **) out);
	}
	*created = st == PW_OK;
	return st;
}

pw_status
store_credit_package_archive(store_txn *t, const char *merchant_id, const char *code,
    Paywire__Store__V1__CreditPackageRecord **out)
{
	Paywire__Store__V1__CreditPackageRecord *r = NULL;
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t keylen = 0;
	char detail[96];
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && out != NULL);
	*out = NULL;
	st = store_credit_package_load(t, merchant_id, code, &r);
	if (st != PW_OK) {
		return st; /* PW_NOT_FOUND: none, or another merchant's */
	}
	if (r->state == PKG_ARCHIVED) {
		*out = r; /* already: nothing written */
		return PW_OK;
	}
	if (!store_key_join(key, sizeof(key), merchant_id, code, &keylen)) {
		paywire__store__v1__credit_package_record__free_unpacked(r, NULL);
		return store_txn_note(t, PW_INTERNAL);
	}
	r->state = PKG_ARCHIVED;
	r->archived_at_unix_ms = t->now_ms;
	st = store_rec_put(t, STORE_DB_CREDIT_PACKAGES, key, keylen, &r->base, 0, NULL);
	if (st == PW_OK) {
		Paywire__Store__V1__MerchantRecord *m = NULL;

		st = store_pkg_merchant(t, merchant_id, &m);
		st = st == PW_NOT_FOUND ? store_txn_note(t, PW_INTERNAL) : st; /* it had a package */
		if (st == PW_OK) {
			st = store_pkg_counts_move(t, m, 0, -1);
			paywire__store__v1__merchant_record__free_unpacked(m, NULL);
		}
	}
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "code=%s", code);
		st = store_audit_append(t, "credit_package.archived", merchant_id, NULL, detail);
	}
	if (st != PW_OK) {
		paywire__store__v1__credit_package_record__free_unpacked(r, NULL);
		return st;
	}
	*out = r;
	return PW_OK;
}

pw_status
store_credit_package_apply(store_txn *t, const char *merchant_id, const char *code,
    int64_t *amount_minor, const char **currency, Paywire__Store__V1__Fulfillment *f,
    Paywire__Store__V1__CreditPackageRecord **pkg, char *reason, size_t reason_size)
{
	Paywire__Store__V1__CreditPackageRecord *r = NULL;
	const char *why = NULL;
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && amount_minor != NULL && currency != NULL);
	PW_ASSERT(f != NULL && pkg != NULL && reason != NULL && reason_size > 0);
	*pkg = NULL;
	st = store_credit_package_load(t, merchant_id, code, &r);
	if (st == PW_NOT_FOUND) {
		snprintf(reason, reason_size, "no credit package %s for this merchant", code);
		return st;
	}
	if (st != PW_OK) {
		return st;
	}
	if (r->state != PKG_ACTIVE) {
		snprintf(reason, reason_size, "credit package %s is archived: no new session may sell it",
		    code);
		st = PW_FAILED_PRECONDITION;
	} else if (*amount_minor != 0 && *amount_minor != r->amount_minor) {
		why = "amount_minor";
	} else if (*currency != NULL && (*currency)[0] != '\0' &&
	    strcmp(*currency, r->currency) != 0) {
		why = "currency";
	} else if (f->kind != PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_NONE &&
	    (f->kind != PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS ||
	        f->credits != r->credits)) {
		why = "fulfillment";
	}
	if (why != NULL) {
		snprintf(reason, reason_size, "%s does not match credit package %s (%" PRId64
		    " credits for %" PRId64 " %s): leave it unset or give the package's",
		    why, code, r->credits, r->amount_minor, r->currency);
		st = PW_INVALID_ARGUMENT;
	}
	if (st != PW_OK) {
		paywire__store__v1__credit_package_record__free_unpacked(r, NULL);
		return st;
	}
	*amount_minor = r->amount_minor;
	*currency = r->currency;
	f->kind = PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS;
	f->credits = r->credits;
	f->plan = (char *) "";
	f->subscription = false;
	*pkg = r; /* *currency points into it */
	return PW_OK;
}

/* ---- reads ---- */

pw_status
store_credit_package_get(store *s, const char *merchant_id, const char *code,
    Paywire__Store__V1__CreditPackageRecord **out)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL);
	*out = NULL;
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_credit_package_load(&t, merchant_id, code, out);
	}
	store_read_end(&t);
	return st;
}

typedef struct store_pkg_list {
	const uint8_t *prefix; /* merchant_id 0x00 */
	size_t prefix_len;
	const char *after;     /* skip codes <= this ("" none) */
	bool include_archived;
	size_t limit;
	size_t examined;
	Paywire__Store__V1__CreditPackageRecord **res; /* limit entries */
	size_t n;
	bool has_more;
} store_pkg_list;

static pw_status
store_pkg_list_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_pkg_list *w = arg;
	Paywire__Store__V1__CreditPackageRecord *r = NULL;
	size_t codelen;
	pw_status st;

	if (key.len <= w->prefix_len || memcmp(key.data, w->prefix, w->prefix_len) != 0 ||
	    w->examined >= PW_CREDIT_PACKAGES_MAX) {
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	w->examined++;
	codelen = key.len - w->prefix_len;
	if (strlen(w->after) == codelen &&
	    memcmp((const uint8_t *) key.data + w->prefix_len, w->after, codelen) == 0) {
		return PW_OK; /* the cursor itself */
	}
	st = store_msg_unpack(&paywire__store__v1__credit_package_record__descriptor, val.data,
	    val.len, (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	if (!w->include_archived && r->state != PKG_ACTIVE) {
		paywire__store__v1__credit_package_record__free_unpacked(r, NULL);
		return PW_OK;
	}
	if (w->n == w->limit) {
		w->has_more = true;
		paywire__store__v1__credit_package_record__free_unpacked(r, NULL);
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	w->res[w->n++] = r;
	return PW_OK;
}

pw_status
store_credit_packages_list(store *s, const char *merchant_id, const char *starting_after,
    size_t limit, bool include_archived, Paywire__Store__V1__CreditPackageRecord ***out,
    size_t *n_out, bool *has_more)
{
	uint8_t prefix[STORE_KEY_BYTES_MAX];
	uint8_t from[STORE_KEY_BYTES_MAX];
	size_t plen = 0;
	size_t flen = 0;
	store_pkg_list w;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL && n_out != NULL);
	PW_ASSERT(has_more != NULL);
	*out = NULL;
	*n_out = 0;
	*has_more = false;
	starting_after = starting_after != NULL ? starting_after : "";
	if (merchant_id[0] == '\0' || limit == 0 || limit > PW_LIST_LIMIT_MAX ||
	    (starting_after[0] != '\0' && !store_credit_package_code_ok(starting_after)) ||
	    !store_key_join(prefix, sizeof(prefix), merchant_id, "", &plen) ||
	    !store_key_join(from, sizeof(from), merchant_id, starting_after, &flen)) {
		return PW_INVALID_ARGUMENT;
	}
	memset(&w, 0, sizeof(w));
	w.prefix = prefix;
	w.prefix_len = plen;
	w.after = starting_after;
	w.include_archived = include_archived;
	w.limit = limit;
	w.res = pw_malloc(limit * sizeof(*w.res));
	if (w.res == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, STORE_DB_CREDIT_PACKAGES, (kv_val){ .data = from, .len = flen },
		    store_pkg_list_visit, &w);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		store_credit_package_list_free(w.res, w.n);
		return st;
	}
	*out = w.res;
	*n_out = w.n;
	*has_more = w.has_more;
	return PW_OK;
}

void
store_credit_package_list_free(Paywire__Store__V1__CreditPackageRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		paywire__store__v1__credit_package_record__free_unpacked(list[i], NULL);
	}
	pw_free(list);
}
