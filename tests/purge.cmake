pw_add_test(store_purge_auto_test SOURCES store_purge_auto_test.c store_fixture.c
  LIBS paywire_store)
