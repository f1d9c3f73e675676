# Bridge tests: the pure pieces (exact amounts, create_session parsing, route
# matching, HTML escaping and pages, metrics text) need no server and no
# network; bridge_http_test starts the paywire-bridge binary on a free
# 127.0.0.1 port, pointed at an ipc:// path where no server listens.
if(NOT TARGET pw_bridge)
  return()  # the bridge (or libpaywire) is not buildable yet
endif()

pw_add_test(bridge_amount_test SOURCES bridge_amount_test.c LIBS pw_bridge)
pw_add_test(bridge_route_test SOURCES bridge_route_test.c LIBS pw_bridge)
pw_add_test(bridge_html_test SOURCES bridge_html_test.c LIBS pw_bridge)
pw_add_test(bridge_metrics_test SOURCES bridge_metrics_test.c LIBS pw_bridge)
pw_add_test(bridge_iplimit_test SOURCES bridge_iplimit_test.c LIBS pw_bridge)

pw_add_test(bridge_http_test SOURCES bridge_http_test.c LIBS pw_bridge)
target_compile_definitions(bridge_http_test PRIVATE PW_BRIDGE_BIN="$<TARGET_FILE:paywire-bridge>")
add_dependencies(bridge_http_test paywire-bridge)
