# Server tests (server/): one cmocka executable per tests/server_<topic>_test.c,
# linked with pw_server (what paywire-server links) and the shared harness
# (tests/server_harness.c: in-process server, child-process server, raw nng
# REQ + protobuf-c client). Tests that start the binary depend on it.
# idempotency and lifecycle slow the writer down (--test-writer-delay-ms,
# store_test_set_writer_delay_ms) and provider sends the test builds' fake
# provider through the server: they need a PW_TEST_HOOKS build.
if(TARGET pw_server AND TARGET paywire-server)
  set(PW_SERVER_TEST_TOPICS validate ingest config creds mlimits)
  if(PW_TEST_HOOKS)
    list(APPEND PW_SERVER_TEST_TOPICS idempotency lifecycle provider)
  else()
    message(STATUS "server: idempotency, lifecycle and provider tests need -DPW_TEST_HOOKS=ON")
  endif()
  foreach(topic ${PW_SERVER_TEST_TOPICS})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/server_${topic}_test.c)
      pw_add_test(server_${topic}_test
        SOURCES server_${topic}_test.c server_harness.c
        LIBS pw_server
        TIMEOUT 900)
      add_dependencies(server_${topic}_test paywire-server)
    endif()
  endforeach()
endif()

# The call table and the reply module alone (no server, no harness).
if(TARGET pw_server AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/server_calls_test.c)
  pw_add_test(server_calls_test SOURCES server_calls_test.c LIBS pw_server TIMEOUT 60)
endif()
# Rate limits per merchant and class (server/srv_limit.c), the clock given by
# the test.
if(TARGET pw_server AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/server_limit_test.c)
  pw_add_test(server_limit_test SOURCES server_limit_test.c LIBS pw_server TIMEOUT 120)
endif()
if(TARGET pw_server AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/server_metrics_test.c)
  pw_add_test(server_metrics_test SOURCES server_metrics_test.c LIBS pw_server TIMEOUT 120)
endif()
# Outbound notifications without a network: the schedule, the signature
# (the specification's example), the address and URL policy.
if(TARGET pw_server AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/server_notify_test.c)
  pw_add_test(server_notify_test SOURCES server_notify_test.c LIBS pw_server TIMEOUT 60)
endif()
