pw_add_test(common_util_test SOURCES common_util_test.c LIBS pw_common)
