# Concurrency (issue 7): the storm and the mixed load (tests/race_storm.c,
# libcurl + threads + libpaywire, against real paywire-server and
# paywire-bridge processes) and the read-only checker of a data directory
# (tests/race_check.c, links the store). They are tools, not cmocka tests:
# tests/integration/race_test.sh (ctest paywire.it_race, the CI slice) and
# scripts/reliability/race.sh (CI slice, --full, and the ThreadSanitizer
# tree) run them.
find_package(CURL)
if(NOT CURL_FOUND OR NOT TARGET paywire_client OR NOT TARGET paywire_store)
  message(STATUS "race: libcurl (libcurl4-openssl-dev) missing: race_storm not built")
  return()
endif()
add_executable(race_storm race_storm.c)
target_link_libraries(race_storm PRIVATE paywire_client pw_proto pw_common CURL::libcurl
  PkgConfig::SODIUM PkgConfig::PROTOBUFC Threads::Threads)
pw_target_defaults(race_storm)

add_executable(race_check race_check.c)
target_link_libraries(race_check PRIVATE paywire_store)
target_include_directories(race_check PRIVATE ${PROJECT_SOURCE_DIR}/store)
pw_target_defaults(race_check)
