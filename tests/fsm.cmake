# The session state machine (store/store_fsm.c): pure, so its tests compile
# the .c directly and link only pw_common (assert, strlcpy) and pw_proto (enums).
foreach(t store_fsm_test store_fsm_order_test)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
    pw_add_test(${t} SOURCES ${t}.c ${PROJECT_SOURCE_DIR}/store/store_fsm.c
      LIBS pw_common pw_proto)
    target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/store)
  endif()
endforeach()
