# Store tests (store/): one cmocka executable per tests/store_<topic>_test.c.
# They link paywire_store and may include store_internal.h, kv_lmdb.h and
# lmdb.h (a test may reach into LMDB to corrupt a record on purpose, or wrap
# the engine seam to force commit conflicts). Each one compiles the shared
# set-up, tests/store_fixture.c (temp data dir, open store, clock, setup
# merchant, small apply callbacks), and runs twice: paywire.store_<topic>_test
# on LMDB and paywire.store_<topic>_test.postgres on PostgreSQL (a test case
# that only makes sense on LMDB says why: FX_LMDB_ONLY). store_mapfull_test
# is LMDB's map (the engine's fixed size) alone: PostgreSQL has no map.
if(TARGET paywire_store)
  foreach(topic open merchant session reply writer mapfull audit crash kv conflict copy expiry credits apikey query subscription anomaly quarantine creds package refund ratelimit notify)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/store_${topic}_test.c)
      pw_add_test(store_${topic}_test SOURCES store_${topic}_test.c store_fixture.c
        LIBS paywire_store PkgConfig::LMDB PkgConfig::PQ)
      if(NOT topic STREQUAL "mapfull")
        pw_add_pg_variant(store_${topic}_test)
      endif()
    endif()
  endforeach()
endif()
# The batch cache of round-trip engines (store/kv_cache.c): engine-free.
if(TARGET paywire_store AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/store_kv_cache_test.c)
  pw_add_test(store_kv_cache_test SOURCES store_kv_cache_test.c LIBS paywire_store)
endif()
# Records written before store.proto had its own package (paywire.store.v1)
# decode through it unchanged, and back, byte for byte; the server's mapping
# (server/srv_map.c) sends them as the same wire bytes. Links pw_server for
# srv_map.
if(TARGET pw_server AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/store_record_compat_test.c)
  pw_add_test(store_record_compat_test SOURCES store_record_compat_test.c LIBS pw_server)
endif()
