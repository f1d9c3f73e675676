/*
 * paywire/provider.h - the one table of payment providers.
 *
 * PW_PROVIDER_MAP has one row per provider paywire accepts webhooks from:
 *   XX(NAME, value, name, label, secret_env)
 * - NAME: the C suffix (PW_PROVIDER_<NAME> in the server, PW_WEBHOOK_<NAME>
 *   in the client API).
 * - value: the number of paywire.v1.Provider (wire and disk); never changed.
 * - name: lower-case name: CLI argument, route path (/webhooks/<name>),
 *   metric label, log text.
 * - label: the name people read ("Stripe").
 * - secret_env: the environment variable (and config key) holding its
 *   webhook signing secrets.
 * Everything that lists providers (enums, name tables, routes, metric
 * labels, secret variables) is generated from this table; a provider's
 * verification and parsing live in one server file behind an ops struct
 * (server/srv_wh.h). docs/PROVIDERS.md gives the steps to add one.
 *
 * Test builds (PW_TEST_HOOKS) may append rows through
 * PW_PROVIDER_MAP_TEST (see docs/PROVIDERS.md), exactly as a new provider
 * would be added. Thread-safe, no allocation.
 */
#ifndef PAYWIRE_PROVIDER_H
#define PAYWIRE_PROVIDER_H

#define PW_PROVIDER_MAP_BASE(XX)                                                  \
	XX(STRIPE, 1, "stripe", "Stripe", "PAYWIRE_STRIPE_WEBHOOK_SECRET")            \
	XX(RAZORPAY, 2, "razorpay", "Razorpay", "PAYWIRE_RAZORPAY_WEBHOOK_SECRET")    \
	XX(ONECOM, 3, "onecom", "One.com", "PAYWIRE_ONECOM_WEBHOOK_SECRET")           \
	XX(WEB3, 4, "web3", "Web3 relay", "PAYWIRE_WEB3_WEBHOOK_SECRET")

#ifndef PW_PROVIDER_MAP_TEST
#define PW_PROVIDER_MAP_TEST(XX)
#endif

#define PW_PROVIDER_MAP(XX) PW_PROVIDER_MAP_BASE(XX) PW_PROVIDER_MAP_TEST(XX)

#endif
