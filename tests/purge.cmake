pw_add_test(store_purge_auto_test SOURCES store_purge_auto_test.c store_fixture.c
  LIBS paywire_store PkgConfig::PQ)
pw_add_pg_variant(store_purge_auto_test)
