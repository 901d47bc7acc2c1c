#!/usr/bin/env bash
# Builds the dataset readers' tests (data_tests) with AddressSanitizer + UBSan in a build directory
# of their own and runs them, so CI runs the parsers, fed the malformed fixtures, under the
# sanitizers. Only the readers and their tests are built (no engine, no benchmarks, no MPI); Debug
# (-O0) because compiling dominates and the fixtures are tiny. Reuses BUILD_DIR between runs.
#   usage: tests/sanitize_data_tests.sh SOURCE_DIR BUILD_DIR [JOBS]
set -euo pipefail
src=$1
build=$2
jobs=${3:-2}
mkdir -p "$build"
cmake -S "$src" -B "$build" -DSTAGESIM_SANITIZE=ON -DSTAGESIM_BENCH=OFF -DSTAGESIM_MPI=OFF \
  -DSTAGESIM_NATIVE=OFF -DCMAKE_BUILD_TYPE=Debug >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j"$jobs" --target data_tests >"$build/build.log" 2>&1 ||
  { tail -n 50 "$build/build.log"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
exec "$build/tests/data_tests" --gtest_brief=1
