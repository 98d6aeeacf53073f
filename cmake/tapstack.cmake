# Helpers shared by every module.

# tapstack_module(<name> SOURCES ... DEPS ...): a static library `tapstack_<name>` built from
# src/<name>/, with `src/` on its include path so headers are included as "core/status.h".
function(tapstack_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(tapstack_${name} STATIC ${ARG_SOURCES})
  target_include_directories(tapstack_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(tapstack_${name} PUBLIC ${ARG_DEPS})
endfunction()

# The test programs' shared precompiled header. GoogleTest and nlohmann/json dominate test compile
# times; every suite reuses this one header (REUSE_FROM) instead of building its own, which at -O0
# is a 125 MB file: 30 copies filled a CI machine's disk. Created by the first suite so that it
# sees the same flags as the suites.
function(tapstack_test_pch)
  if(TARGET tapstack_test_pch)
    return()
  endif()
  add_library(tapstack_test_pch OBJECT ${PROJECT_SOURCE_DIR}/tests/test_pch.cc)
  target_link_libraries(tapstack_test_pch PRIVATE nlohmann_json::nlohmann_json GTest::gtest)
  tapstack_test_flags(tapstack_test_pch)
  target_precompile_headers(tapstack_test_pch PRIVATE <gtest/gtest.h> <nlohmann/json.hpp> <string>
                            <vector> <map> <memory> <functional>)
endfunction()

# The compile flags every test program and the shared header must agree on (a precompiled header is
# only used by a compile with the same macros and optimisation level).
function(tapstack_test_flags target)
  target_compile_definitions(${target} PRIVATE
    TAPSTACK_VECTORS_DIR="${PROJECT_SOURCE_DIR}/tests/vectors"
    TAPSTACK_BINARY_DIR="${PROJECT_BINARY_DIR}")
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  if(TAPSTACK_TESTS_UNOPTIMISED)
    # The test programs' own code unoptimised (the libraries they test keep the build's flags):
    # test files are over half of the compile time, and their speed does not matter.
    target_compile_options(${target} PRIVATE -O0)
  endif()
endfunction()

# tapstack_test_suite(<name> SOURCES ... DEPS ...): one GoogleTest program per module under
# tests/<name>/, registered test by test with CTest. Tests find vectors in TAPSTACK_VECTORS_DIR.
function(tapstack_test_suite name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  tapstack_test_pch()
  add_executable(${name}_tests ${ARG_SOURCES})
  target_link_libraries(${name}_tests PRIVATE ${ARG_DEPS} nlohmann_json::nlohmann_json GTest::gtest
                        GTest::gtest_main GTest::gmock)
  tapstack_test_flags(${name}_tests)
  target_precompile_headers(${name}_tests REUSE_FROM tapstack_test_pch)
  # One label per suite (`ctest -L sim`): "unit" unless LABELS names another. gtest_discover_tests
  # passes PROPERTIES on as a flat list, so a second label would become a property name.
  set(label unit)
  if(ARG_LABELS)
    list(GET ARG_LABELS 0 label)
  endif()
  gtest_discover_tests(${name}_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${label})
endfunction()

# tapstack_fuzz_target(<name> SOURCE <file.cc> DEPS ...): a fuzz target defining
# LLVMFuzzerTestOneInput, with its seed corpus in fuzz/corpus/<name>/.
#  * Every build: `fuzz_<name>_replay` runs each corpus file through the target once (CTest test
#    `fuzz_<name>_corpus`, label unit), so the seeds are regression tests, under ASan in CI too.
#  * With -DTAPSTACK_FUZZ=ON (clang): `fuzz_<name>` is a libFuzzer program with ASan+UBSan;
#    .ci/run runs each for a bounded time.
function(tapstack_fuzz_target name)
  cmake_parse_arguments(ARG "" "SOURCE" "DEPS" ${ARGN})
  set(corpus ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
  add_executable(fuzz_${name}_replay ${ARG_SOURCE} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
  target_link_libraries(fuzz_${name}_replay PRIVATE ${ARG_DEPS})
  add_test(NAME fuzz_${name}_corpus COMMAND fuzz_${name}_replay ${corpus})
  set_tests_properties(fuzz_${name}_corpus PROPERTIES LABELS "unit;fuzz")
  if(TAPSTACK_FUZZ)
    add_executable(fuzz_${name} ${ARG_SOURCE})
    target_link_libraries(fuzz_${name} PRIVATE ${ARG_DEPS})
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  endif()
endfunction()

# tapstack_use_jemalloc(<target>): links jemalloc as the program's allocator, except in sanitizer
# and fuzzing builds.
function(tapstack_use_jemalloc target)
  if(TARGET PkgConfig::JEMALLOC)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  endif()
endfunction()
