/*
 * paywire/provider.h - the one table of payment providers.
 *
 * PW_PROVIDER_MAP has one row per provider paywire accepts webhooks from:
 *   XX(NAME, value, name, label, secret_env)
 * - NAME: the C suffix (PW_PROVIDER_<NAME> in the server, PW_WEBHOOK_<NAME>
 *   in the client API, srv_wh_ops_<NAME> for its server ops).
 * - value: the number of paywire.v1.Provider (wire) and of
 *   paywire.store.v1.Provider (disk), 1..199; never changed. The store keys
 *   provider refs and events by one provider byte.
 * - name: lower-case name: CLI argument, route path (/webhooks/<name>),
 *   metric label, log text, reply scope ("webhook:<name>").
 * - label: the name people read ("Stripe").
 * - secret_env: the environment variable (and config key) holding its
 *   webhook signing secrets.
 * Everything that lists providers (enums, name tables, routes, metric
 * labels, secret variables, the server's ops registry) is generated from this
 * table; a provider's verification and parsing live in one server file,
 * server/srv_wh_<name>.c, behind an ops struct (server/srv_wh.h).
 * docs/PROVIDERS.md gives the steps to add one.
 *
 * Rows of PW_PROVIDER_MAP_BASE travel on the wire: each value is a value of
 * paywire.v1.Provider, and the server and the client assert it at compile
 * time. PW_PROVIDER_MAP_TEST holds rows that exist only in test builds
 * (PW_TEST_HOOKS, which the build defines for every paywire target and a user
 * of libpaywire never does): values 200..255, which the wire enum never uses.
 * Its one row, FAKE, is a provider added through the steps of
 * docs/PROVIDERS.md alone (server/srv_wh_fake.c), to prove them.
 *
 * Rows are never renumbered or reordered; new rows go at the end of their
 * part. Thread-safe, no allocation.
 */
#ifndef PAYWIRE_PROVIDER_H
#define PAYWIRE_PROVIDER_H

#define PW_PROVIDER_MAP_BASE(XX)                                                  \
	XX(STRIPE, 1, "stripe", "Stripe", "PAYWIRE_STRIPE_WEBHOOK_SECRET")            \
	XX(RAZORPAY, 2, "razorpay", "Razorpay", "PAYWIRE_RAZORPAY_WEBHOOK_SECRET")    \
	XX(ONECOM, 3, "onecom", "One.com", "PAYWIRE_ONECOM_WEBHOOK_SECRET")           \
	XX(WEB3, 4, "web3", "Web3 relay", "PAYWIRE_WEB3_WEBHOOK_SECRET")

#ifdef PW_TEST_HOOKS
#define PW_PROVIDER_MAP_TEST(XX)                                                  \
	XX(FAKE, 250, "fake", "Fake (test builds)", "PAYWIRE_FAKE_WEBHOOK_SECRET")
#else
#define PW_PROVIDER_MAP_TEST(XX)
#endif

#define PW_PROVIDER_MAP(XX) PW_PROVIDER_MAP_BASE(XX) PW_PROVIDER_MAP_TEST(XX)

#endif
