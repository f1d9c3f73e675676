# Server tests (server/): one cmocka executable per tests/server_<topic>_test.c,
# linked with pw_server (what paywire-server links) and the shared harness
# (tests/server_harness.c: in-process server, child-process server, raw nng
# REQ + protobuf-c client). Tests that start the binary depend on it.
if(TARGET pw_server AND TARGET paywire-server)
  foreach(topic validate idempotency ingest lifecycle config)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/server_${topic}_test.c)
      pw_add_test(server_${topic}_test
        SOURCES server_${topic}_test.c server_harness.c
        LIBS pw_server
        TIMEOUT 300)
      add_dependencies(server_${topic}_test paywire-server)
    endif()
  endforeach()
endif()
