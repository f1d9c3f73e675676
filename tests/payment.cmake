# Payment engine tests (store/store_payment.c, store_entitlement.c,
# store_token.c): one cmocka executable per tests/store_payment*_test.c. They
# link paywire_store (which brings the LMDB engine, libsodium and libjwt) and
# may include store_internal.h to read a table directly (credits ledger,
# entitlements).
# Each one compiles the shared set-up, tests/store_fixture.c.
if(TARGET paywire_store)
  foreach(t store_payment_test store_payment_order_test store_payment_crash_test)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
      pw_add_test(${t} SOURCES ${t}.c store_fixture.c LIBS paywire_store PkgConfig::PQ)
      pw_add_pg_variant(${t})
    endif()
  endforeach()
endif()
