# provider/: paywire's outbound calls to payment providers (issue 10).
# provider_http_test runs prov_http against a scripted HTTP server of its own
# on loopback (retries, deadlines, the pool, the URL policy).
pw_add_test(provider_http_test SOURCES provider_http_test.c LIBS pw_provider)
# The notification channels (issue 11): prov_smtp against the tests' SMTP
# sink and prov_telegram against the tests' Bot API stand-in, both node
# servers on loopback without npm packages (tests/notify/), started by the
# test itself; and the notification text.
if(PW_NODE)
  pw_add_test(provider_notify_test SOURCES provider_notify_test.c LIBS pw_provider)
  set_tests_properties(paywire.provider_notify_test PROPERTIES LABELS "providers;notify")
endif()
