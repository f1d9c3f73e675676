# The wire validator (server/srv_wire.c): pure, so its test compiles the .c
# directly (pw_server may not link yet) with pw_common (UTF-8) and pw_proto.
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/server_wire_test.c)
  pw_add_test(server_wire_test SOURCES server_wire_test.c ${PROJECT_SOURCE_DIR}/server/srv_wire.c
    LIBS pw_common pw_proto)
  target_include_directories(server_wire_test PRIVATE ${PROJECT_SOURCE_DIR}/server)
endif()
# The wire contract, recorded: fixed requests to the built paywire-server,
# replies compared field by field with tests/golden/wire_replies.txt
# (PW_GOLDEN_REGEN=1 rewrites it; see the test's top comment).
if(TARGET pw_server AND TARGET paywire-server AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/wire_golden_test.c)
  pw_add_test(wire_golden_test SOURCES wire_golden_test.c server_harness.c
    LIBS pw_server)
  add_dependencies(wire_golden_test paywire-server)
endif()
