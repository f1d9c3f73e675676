# paywire.bench_smoke: every phase and workload of paywire-bench, briefly,
# checked for what it did (bench/bench_smoke.py); no time is asserted. With
# the gRPC peer when it was built, and pgbench on the test cluster.
if(TARGET paywire-bench AND TARGET paywire-server AND TARGET paywire-bridge)
  set(PW_BENCH_SMOKE_ARGS $<TARGET_FILE:paywire-bench> --server-bin $<TARGET_FILE:paywire-server>
    --bridge-bin $<TARGET_FILE:paywire-bridge>)
  if(TARGET paywire-grpc-peer)
    list(APPEND PW_BENCH_SMOKE_ARGS --grpc-peer $<TARGET_FILE:paywire-grpc-peer>)
  endif()
  add_test(NAME paywire.bench_smoke
    COMMAND python3 ${PROJECT_SOURCE_DIR}/bench/bench_smoke.py ${PW_BENCH_SMOKE_ARGS})
  set_tests_properties(paywire.bench_smoke PROPERTIES TIMEOUT 900 FIXTURES_REQUIRED pg
    ENVIRONMENT "PW_TEST_PG_HOST=${PW_TEST_PG_DIR};ASAN_OPTIONS=detect_leaks=1")
endif()
