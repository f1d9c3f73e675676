# provider/: paywire's outbound calls to payment providers (issue 10).
# provider_http_test runs prov_http against a scripted HTTP server of its own
# on loopback (retries, deadlines, the pool, the URL policy).
pw_add_test(provider_http_test SOURCES provider_http_test.c LIBS pw_provider)
