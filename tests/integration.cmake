# Integration tests: real paywire-server / paywire-bridge processes on
# loopback, driven by the CLI, curl, protoc + nngcat and the signer.
set(PW_IT_DIR ${CMAKE_CURRENT_SOURCE_DIR}/integration)
# Every integration test runs its processes at log level debug and, at exit,
# scans every line the server and the bridge wrote for every secret it used
# (lib.sh scan_logs: the fixture secrets, the values the script registered,
# anything shaped like a key, token or secret): a leak fails the test that
# caused it (issue 13). it_log_scan adds JSON lines and the scanner's own test.
set(PW_IT_LOG_ENV "PW_LOG_SCAN=1;PW_LOG=debug")
if(PW_SANITIZE)
  set(PW_EXAMPLE_CFLAGS "-fsanitize=address,undefined")
endif()
function(pw_add_it name)
  cmake_parse_arguments(T "SIGNER;BROWSER" "TIMEOUT" "" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 900)
  endif()
  add_test(NAME paywire.it_${name} COMMAND bash ${PW_IT_DIR}/${name}_test.sh)
  set_tests_properties(paywire.it_${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "${PW_IT_LOG_ENV};PW_BIN_DIR=${PROJECT_BINARY_DIR};PW_SOURCE_DIR=${PROJECT_SOURCE_DIR};PW_FIXTURES_DIR=${PW_FIXTURES_DIR};PW_SIGNER_DIR=${PW_SIGNER_DIR};PW_BROWSER_DIR=${PW_BROWSER_DIR};PW_OUT_DIR=${PROJECT_BINARY_DIR}/test-output/${name};PW_EXAMPLE_CFLAGS=${PW_EXAMPLE_CFLAGS};ASAN_OPTIONS=detect_leaks=0")
  if(T_SIGNER)
    set_tests_properties(paywire.it_${name} PROPERTIES FIXTURES_REQUIRED signer)
  endif()
  if(T_BROWSER)
    set_tests_properties(paywire.it_${name} PROPERTIES FIXTURES_REQUIRED browser LABELS browser)
  endif()
endfunction()

# notify_test.sh's 1,000-change load: one process making the changes through
# libpaywire (tests/notify_load.c), instead of two CLI starts per change.
if(TARGET paywire_client)
  add_executable(notify_load notify_load.c)
  target_link_libraries(notify_load PRIVATE paywire_client)
  pw_target_defaults(notify_load)
endif()

file(GLOB PW_IT_SCRIPTS CONFIGURE_DEPENDS ${PW_IT_DIR}/*_test.sh)
foreach(s ${PW_IT_SCRIPTS})
  get_filename_component(n ${s} NAME_WE)
  string(REGEX REPLACE "_test$" "" n ${n})
  if(n MATCHES "^(webhooks|subscriptions|log_scan|notify)$")
    pw_add_it(${n} SIGNER)
  elseif(n MATCHES "^browser")
    pw_add_it(${n} BROWSER)
  else()
    pw_add_it(${n})
  endif()
endforeach()
# The concurrency slice again on the PostgreSQL engine (issue 8: the issue 7
# harness on both engines); the script starts its own cluster.
if(TEST paywire.it_race)
  add_test(NAME paywire.it_race.postgres COMMAND bash ${PW_IT_DIR}/race_test.sh)
  set_tests_properties(paywire.it_race.postgres PROPERTIES TIMEOUT 900
    ENVIRONMENT "${PW_IT_LOG_ENV};RACE_PG=1;PW_BIN_DIR=${PROJECT_BINARY_DIR};PW_SOURCE_DIR=${PROJECT_SOURCE_DIR};PW_FIXTURES_DIR=${PW_FIXTURES_DIR};PW_SIGNER_DIR=${PW_SIGNER_DIR};ASAN_OPTIONS=detect_leaks=0")
endif()
# systemd_units_test.sh exits 77 where systemd-analyze is not installed,
# systemd_notify_test.sh for a build without libsystemd.
foreach(t systemd_units systemd_notify)
  if(TEST paywire.it_${t})
    set_tests_properties(paywire.it_${t} PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endforeach()
# Outbound notifications with the server on PostgreSQL (the outbox written by
# the audit append, the due index, a kill -9 and a restart on that engine).
if(TEST paywire.it_notify)
  add_test(NAME paywire.it_notify.postgres COMMAND bash ${PW_IT_DIR}/notify_test.sh)
  set_tests_properties(paywire.it_notify.postgres PROPERTIES TIMEOUT 900 FIXTURES_REQUIRED signer
    ENVIRONMENT "${PW_IT_LOG_ENV};NOTIFY_PG=1;PW_BIN_DIR=${PROJECT_BINARY_DIR};PW_SOURCE_DIR=${PROJECT_SOURCE_DIR};PW_SIGNER_DIR=${PW_SIGNER_DIR};ASAN_OPTIONS=detect_leaks=0")
endif()
