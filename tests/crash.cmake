# Crash durability (issue 7, docs/reliability/crash.md): pw-crash-harness
# drives and kills a real paywire-server, pw-crash-check checks a data
# directory read-only. Built in test builds only (crash points need
# PW_TEST_HOOKS); run by scripts/reliability/crash.sh, and its CI-sized
# slice is the ctest paywire.reliability_crash_slice.
if(PW_TEST_HOOKS AND TARGET paywire_client AND TARGET pw_proto)
  add_executable(pw-crash-check reliability/crash_check.c)
  target_link_libraries(pw-crash-check PRIVATE pw_proto PkgConfig::LMDB PkgConfig::PQ
    PkgConfig::SODIUM)
  pw_target_defaults(pw-crash-check)

  add_executable(pw-crash-harness reliability/crash_harness.c)
  target_link_libraries(pw-crash-harness PRIVATE paywire_client pw_proto PkgConfig::SODIUM
    Threads::Threads)
  pw_target_defaults(pw-crash-harness)

  add_test(NAME paywire.reliability_crash_slice
    COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/reliability/crash.sh --ci
      --build ${PROJECT_BINARY_DIR})
  set_tests_properties(paywire.reliability_crash_slice PROPERTIES TIMEOUT 900
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
  # the same slice on the PostgreSQL engine (its own private cluster)
  add_test(NAME paywire.reliability_crash_slice.postgres
    COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/reliability/crash.sh --ci --pg
      --build ${PROJECT_BINARY_DIR})
  set_tests_properties(paywire.reliability_crash_slice.postgres PROPERTIES TIMEOUT 900
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
endif()

# Failing the N-th allocation along create_session and a webhook ingest.
if(PW_TEST_HOOKS AND TARGET pw_server)
  pw_add_test(reliability_alloc_walk_test
    SOURCES reliability/alloc_walk_test.c server_harness.c
    LIBS pw_server
    TIMEOUT 900)
  target_include_directories(reliability_alloc_walk_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  add_dependencies(reliability_alloc_walk_test paywire-server)
endif()
