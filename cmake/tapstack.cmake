# Helpers shared by every module.

# tapstack_module(<name> SOURCES ... DEPS ...): a static library `tapstack_<name>` built from
# src/<name>/, with `src/` on its include path so headers are included as "core/status.h".
function(tapstack_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(tapstack_${name} STATIC ${ARG_SOURCES})
  target_include_directories(tapstack_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(tapstack_${name} PUBLIC ${ARG_DEPS})
endfunction()

# tapstack_test_suite(<name> SOURCES ... DEPS ...): one GoogleTest program per module under
# tests/<name>/, registered test by test with CTest. Tests find vectors in TAPSTACK_VECTORS_DIR.
function(tapstack_test_suite name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name}_tests ${ARG_SOURCES})
  target_link_libraries(${name}_tests PRIVATE ${ARG_DEPS} nlohmann_json::nlohmann_json GTest::gtest
                        GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name}_tests PRIVATE
    TAPSTACK_VECTORS_DIR="${PROJECT_SOURCE_DIR}/tests/vectors"
    TAPSTACK_BINARY_DIR="${PROJECT_BINARY_DIR}")
  target_include_directories(${name}_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  set(labels unit ${ARG_LABELS})
  gtest_discover_tests(${name}_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${labels}")
endfunction()
