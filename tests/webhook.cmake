# Webhook signature verification and parsing (server/srv_webhook.c and the
# provider files server/srv_wh*.c): the tests link pw_webhook alone, not the
# whole server.
foreach(t server_webhook_verify_test server_webhook_parse_test)
  pw_add_test(${t} SOURCES ${t}.c LIBS pw_webhook)
endforeach()

# The verify test also signs fresh payloads with the providers' own libraries
# (node + the signer's npm ci, done by the "signer" fixture). Without node the
# fixture does not exist and the test fails with a clear message, never skips.
if(TEST paywire.signer_setup)
  set_tests_properties(paywire.server_webhook_verify_test PROPERTIES FIXTURES_REQUIRED signer)
endif()
