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

# The fuzz targets' committed corpora (seeds and every regression input,
# fuzz/corpus/<target>/) replayed in the normal build: gcc, this build's
# sanitizers, no libFuzzer (fuzz/fuzz_replay_main.c is their main). A target
# aborts on a failed check, so a regression fails its ctest entry.
set(PW_FUZZ_DIR ${PROJECT_SOURCE_DIR}/fuzz)
function(pw_fuzz_replay name)
  cmake_parse_arguments(R "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(replay_${name} ${PW_FUZZ_DIR}/fuzz_replay_main.c ${R_SOURCES})
  target_link_libraries(replay_${name} PRIVATE ${R_LIBS})
  pw_target_defaults(replay_${name})
  target_include_directories(replay_${name} PRIVATE ${PW_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/store
    ${PROJECT_SOURCE_DIR}/server ${PROJECT_SOURCE_DIR}/bridge)
  add_test(NAME paywire.fuzz_replay_${name} COMMAND replay_${name} ${PW_FUZZ_DIR}/corpus/${name})
  set_tests_properties(paywire.fuzz_replay_${name} PROPERTIES TIMEOUT ${PW_TEST_TIMEOUT_S}
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1")
endfunction()
if(TARGET pw_server AND TARGET pw_bridge)
  pw_fuzz_replay(fuzz_rpc SOURCES ${PW_FUZZ_DIR}/fuzz_rpc.c LIBS pw_server)
  pw_fuzz_replay(fuzz_wh_verify SOURCES ${PW_FUZZ_DIR}/fuzz_wh_verify.c
    ${PW_FUZZ_DIR}/fuzz_wh_input.c LIBS pw_webhook)
  pw_fuzz_replay(fuzz_wh_parse SOURCES ${PW_FUZZ_DIR}/fuzz_wh_parse.c ${PW_FUZZ_DIR}/fuzz_wh_input.c
    ${PROJECT_SOURCE_DIR}/store/store_fsm.c LIBS pw_webhook)
  pw_fuzz_replay(fuzz_bridge SOURCES ${PW_FUZZ_DIR}/fuzz_bridge.c LIBS pw_bridge)
  pw_fuzz_replay(fuzz_amount SOURCES ${PW_FUZZ_DIR}/fuzz_amount.c LIBS pw_bridge pw_webhook)
  pw_fuzz_replay(fuzz_fsm SOURCES ${PW_FUZZ_DIR}/fuzz_fsm.c ${PROJECT_SOURCE_DIR}/store/store_fsm.c
    LIBS pw_common pw_proto)
  target_compile_definitions(replay_fuzz_fsm PRIVATE MC_NO_MAIN)
endif()
