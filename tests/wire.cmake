# The wire validator (server/srv_wire.c): pure, so its test compiles the .c
# directly (pw_server may not link yet) with pw_common (UTF-8) and pw_proto.
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/server_wire_test.c)
  pw_add_test(server_wire_test SOURCES server_wire_test.c ${PROJECT_SOURCE_DIR}/server/srv_wire.c
    LIBS pw_common pw_proto TIMEOUT 120)
  target_include_directories(server_wire_test PRIVATE ${PROJECT_SOURCE_DIR}/server)
endif()
