# Webhook signature verification and parsing (server/srv_webhook_*.c).
# pw_server may not link while other server files are mid-edit, so the tests
# compile the two webhook sources directly and link only what they use.
set(PW_WEBHOOK_SRCS
  ${PROJECT_SOURCE_DIR}/server/srv_webhook_verify.c
  ${PROJECT_SOURCE_DIR}/server/srv_webhook_parse.c)

foreach(t server_webhook_verify_test server_webhook_parse_test)
  pw_add_test(${t} SOURCES ${t}.c ${PW_WEBHOOK_SRCS}
    LIBS pw_common PkgConfig::JANSSON PkgConfig::SODIUM)
  target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/server)
endforeach()

# The verify test also signs fresh payloads with the providers' own libraries
# (node + the signer's npm ci, done by the "signer" fixture). Without node the
# fixture does not exist and the test fails with a clear message, never skips.
if(TEST paywire.signer_setup)
  set_tests_properties(paywire.server_webhook_verify_test PROPERTIES FIXTURES_REQUIRED signer)
endif()
