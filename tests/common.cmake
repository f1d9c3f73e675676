pw_add_test(common_util_test SOURCES common_util_test.c LIBS pw_common)

# The layering rules of docs/ARCHITECTURE.md the compiler cannot see: no LMDB
# name outside store/kv_lmdb.[ch], no wire header in store/store.h, no
# include cycle between modules, no switch over calls or routes.
add_test(NAME paywire.layering_check
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/layering_check.py ${PROJECT_SOURCE_DIR})
set_tests_properties(paywire.layering_check PROPERTIES TIMEOUT 120)
