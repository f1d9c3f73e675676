# Client module tests: libpaywire against an in-test nng REP peer
# (client/testpeer.c, a real socket on ipc:// in a temp dir), the `paywire`
# CLI run as a process against the same kind of peer, and the installed
# library (exported symbols, pkg-config, find_package). Each cmocka test also
# compiles tests/client_fixture.c (decoding what the peer received).
set(PW_CLIENT_TEST_LIBS paywire_client pw_proto pw_common nng::nng Threads::Threads)

pw_add_test(client_api_test SOURCES client_api_test.c ${PROJECT_SOURCE_DIR}/client/testpeer.c
  client_fixture.c
  LIBS ${PW_CLIENT_TEST_LIBS})
target_include_directories(client_api_test PRIVATE ${PROJECT_SOURCE_DIR}/client)

# The transport test reads the client's test counters (client/client_hooks.h),
# which libpaywire.so does not export: it links the static library.
pw_add_test(client_retry_test SOURCES client_retry_test.c ${PROJECT_SOURCE_DIR}/client/testpeer.c
  client_fixture.c
  LIBS paywire_client_static pw_proto pw_common nng::nng Threads::Threads
  ENV "PW_TEST_SKIP=test_dropped_connection_is_retried_with_the_same_bytes,test_a_peer_that_is_not_rep_is_unavailable_at_once")
target_include_directories(client_retry_test PRIVATE ${PROJECT_SOURCE_DIR}/client)
# The cases where nng closes a pipe under a request or refuses one (a dropped
# connection; a peer that is not REP) alone, with nng 1.5.2's own leak on
# those paths suppressed (tests/lsan-nng.supp says why and what still checks us).
add_test(NAME paywire.client_retry_drop_test COMMAND client_retry_test)
set_tests_properties(paywire.client_retry_drop_test PROPERTIES TIMEOUT 600
  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout;PW_TEST_ONLY=test_dropped_connection_is_retried_with_the_same_bytes,test_a_peer_that_is_not_rep_is_unavailable_at_once;ASAN_OPTIONS=detect_leaks=1;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan-nng.supp")

# Runs the built `paywire` binary (PW_BINARY_DIR/client/paywire).
pw_add_test(client_cli_test SOURCES client_cli_test.c ${PROJECT_SOURCE_DIR}/client/testpeer.c
  client_fixture.c
  LIBS ${PW_CLIENT_TEST_LIBS} PkgConfig::JANSSON)
target_include_directories(client_cli_test PRIVATE ${PROJECT_SOURCE_DIR}/client)
add_dependencies(client_cli_test paywire)

# The installed library: exported symbols == public API, SONAME, headers,
# pkg-config (shared and static), find_package(paywire), installed CLI.
# Needs paywire_client, paywire_client_static and paywire built.
if(PW_SANITIZE)
  set(PW_CLIENT_CHECK_CFLAGS "-fsanitize=address,undefined")
endif()
add_test(NAME paywire.client_install_test
  COMMAND bash ${PROJECT_SOURCE_DIR}/client/install-check/check.sh
    ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} "${PW_CLIENT_CHECK_CFLAGS}")
set_tests_properties(paywire.client_install_test PROPERTIES TIMEOUT 600)
