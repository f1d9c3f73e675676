# Client module tests: libpaywire against an in-test nng REP peer
# (client/testpeer.c, a real socket on ipc:// in a temp dir), the `paywire`
# CLI run as a process against the same kind of peer, and the installed
# library (exported symbols, pkg-config, find_package).
set(PW_CLIENT_TEST_LIBS paywire_client pw_proto pw_common nng::nng Threads::Threads)

pw_add_test(client_api_test SOURCES client_api_test.c ${PROJECT_SOURCE_DIR}/client/testpeer.c
  LIBS ${PW_CLIENT_TEST_LIBS} TIMEOUT 60)
target_include_directories(client_api_test PRIVATE ${PROJECT_SOURCE_DIR}/client)

pw_add_test(client_retry_test SOURCES client_retry_test.c ${PROJECT_SOURCE_DIR}/client/testpeer.c
  LIBS ${PW_CLIENT_TEST_LIBS} TIMEOUT 120)
target_include_directories(client_retry_test PRIVATE ${PROJECT_SOURCE_DIR}/client)

# Runs the built `paywire` binary (PW_BINARY_DIR/client/paywire).
pw_add_test(client_cli_test SOURCES client_cli_test.c ${PROJECT_SOURCE_DIR}/client/testpeer.c
  LIBS ${PW_CLIENT_TEST_LIBS} PkgConfig::JANSSON TIMEOUT 120)
target_include_directories(client_cli_test PRIVATE ${PROJECT_SOURCE_DIR}/client)
add_dependencies(client_cli_test paywire)
