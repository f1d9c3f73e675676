/*
 * pw_provider.h - the server's and the store's view of the provider table
 * (include/paywire/provider.h, PW_PROVIDER_MAP).
 *
 * OWNS
 * - pw_provider: the provider enum, generated from the table (same numbers as
 *   paywire.v1.Provider and paywire.store.v1.Provider; the server asserts it
 *   against the wire enum in server/srv_wh.c, the store against its own in
 *   store/store_payment.c), plus PW_PROVIDER_NONE for "no provider".
 * - A dense index 0..PW_PROVIDER_COUNT-1 in table order, for arrays with one
 *   slot per provider (provider values need not be dense).
 * - The name table (pw_provider_name / pw_provider_parse), the labels and
 *   the secret variable of each provider: the only ones in the server, the
 *   store and the client library.
 *
 * THREADS AND LIFETIMES
 * Pure functions over constant data: any thread, no allocation. Returned
 * strings have static storage.
 */
#ifndef PW_PROVIDER_H
#define PW_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include <paywire/provider.h>

/* Values of PW_PROVIDER_MAP_BASE rows are 1..PW_PROVIDER_VALUE_MAX; values of
 * test rows PW_PROVIDER_TEST_VALUE_MIN..PW_PROVIDER_TEST_VALUE_MAX. Every
 * value fits the one provider byte of the store's refs and events keys. */
#define PW_PROVIDER_VALUE_MAX 199
#define PW_PROVIDER_TEST_VALUE_MIN 200
#define PW_PROVIDER_TEST_VALUE_MAX 255

typedef enum pw_provider {
	PW_PROVIDER_NONE = 0, /* no provider: a session not paid yet */
#define PW_XX_ENUM(NAME, value, name, label, secret_env) PW_PROVIDER_##NAME = value,
	PW_PROVIDER_MAP(PW_XX_ENUM)
#undef PW_XX_ENUM
} pw_provider;

/* PW_PROVIDER_IX_<NAME>: the row's position in the table; PW_PROVIDER_COUNT
 * rows in all. */
enum {
#define PW_XX_IX(NAME, value, name, label, secret_env) PW_PROVIDER_IX_##NAME,
	PW_PROVIDER_MAP(PW_XX_IX)
#undef PW_XX_IX
	PW_PROVIDER_COUNT
};

/* True when p is a row of the table (PW_PROVIDER_NONE is not). */
bool pw_provider_known(pw_provider p);

/* The position of p in the table, 0..PW_PROVIDER_COUNT-1. p must be known
 * (asserted): an index is only taken of a provider already checked. */
size_t pw_provider_index(pw_provider p);

/* The provider at position ix (< PW_PROVIDER_COUNT, asserted): iterates the
 * table, `for (ix = 0; ix < PW_PROVIDER_COUNT; ix++)`. */
pw_provider pw_provider_at(size_t ix);

/* The lower-case name of p ("stripe"...), "none" for PW_PROVIDER_NONE and
 * "unknown" for a value that is not a row. */
const char *pw_provider_name(pw_provider p);

/* name (exact, lower case) -> *out. False for anything else, "none" and NULL
 * included (*out untouched). out != NULL (asserted). */
bool pw_provider_parse(const char *name, pw_provider *out);

/* The name people read ("Stripe", "One.com"), "unknown" for a value that is
 * not a row. */
const char *pw_provider_label(pw_provider p);

/* The environment variable (and config-file key) holding p's webhook
 * secrets, e.g. "PAYWIRE_STRIPE_WEBHOOK_SECRET"; NULL when p is not a row. */
const char *pw_provider_secret_env(pw_provider p);

#endif
