#!/usr/bin/env bash
# The README's test command: installs dependencies, builds everything, runs every test suite.
# Usage: tests/run-all.sh [ctest args...]   (e.g. -L unit)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${KPROXY_BUILD_DIR:-build}

packaging/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
# A bounded fuzz run of each decoder when clang is available (separate build tree).
if command -v clang++ >/dev/null && [ "${KPROXY_SKIP_FUZZ:-0}" != 1 ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR-fuzz" -G Ninja -DKPROXY_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR-fuzz" -j"$(nproc)" --target fuzzers
  export KPROXY_FUZZ_BUILD_DIR="$PWD/$BUILD_DIR-fuzz"
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure "$@"
