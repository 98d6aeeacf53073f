// The object that carries the test programs' shared precompiled header (cmake/tapstack.cmake,
// tapstack_test_pch): CMake builds a precompiled header only for a target with a source file.
