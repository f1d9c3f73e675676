# Reliability (issue 7): the order-independence model checker of the pure
# state machine core. It compiles store_fsm.c directly, like the fsm tests,
# and is a plain program (no cmocka): the CTest entry runs the CI slice
# (every multiset of up to 4 events in every order, the scenarios with drops
# and duplicates up to 7 events, 10^5 random sequences); the full run is
# `scripts/reliability/model_check.sh --full`.
add_executable(model_check ${CMAKE_CURRENT_SOURCE_DIR}/reliability/model_check.c
  ${PROJECT_SOURCE_DIR}/store/store_fsm.c)
target_link_libraries(model_check PRIVATE pw_common pw_proto)
target_include_directories(model_check PRIVATE ${PROJECT_SOURCE_DIR}/store)
pw_target_defaults(model_check)
add_test(NAME paywire.model_check COMMAND model_check --seed 1 --random 100000)
set_tests_properties(paywire.model_check PROPERTIES TIMEOUT ${PW_TEST_TIMEOUT_S}
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1")
