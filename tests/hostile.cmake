# Hostile input (issue 7): the constant-time check and the bad-input
# catalogue as ctest entries. The load runs and valgrind are scripts
# (scripts/reliability/load.sh, valgrind.sh): they take minutes and valgrind
# needs a build without sanitizers.
add_test(NAME paywire.consttime
  COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/reliability/consttime.sh)
set_tests_properties(paywire.consttime PROPERTIES TIMEOUT 120)
if(TARGET paywire-server AND TARGET paywire-bridge)
  add_test(NAME paywire.bad_input
    COMMAND python3 -u ${CMAKE_CURRENT_SOURCE_DIR}/reliability/bad_input.py ${PROJECT_BINARY_DIR})
  set_tests_properties(paywire.bad_input PROPERTIES TIMEOUT 900
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
  # the same catalogue with the server on PostgreSQL ("wrote nothing" is the
  # engine's commits sequence there); the script starts its own cluster
  add_test(NAME paywire.bad_input.postgres
    COMMAND python3 -u ${CMAKE_CURRENT_SOURCE_DIR}/reliability/bad_input.py ${PROJECT_BINARY_DIR}
      --pg)
  set_tests_properties(paywire.bad_input.postgres PROPERTIES TIMEOUT 900
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
endif()
