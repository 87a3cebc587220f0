#!/bin/bash
# run.sh - the whole test suite: install dependencies, build, run every test
# (unit, fuzz-corpus replay, integration) in a normal build and again under
# AddressSanitizer + UndefinedBehaviorSanitizer.  Exit status is the verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
JOBS=$(nproc)
status=0
run_suite() { # run_suite BUILD_DIR [cmake options...]
    local dir=$1
    shift
    cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
    cmake --build "$dir" -j "$JOBS"
    (cd "$dir" && ctest --output-on-failure -j "$JOBS") || status=1
}
echo "== normal build"
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    TRIALS=${ASAN_TRIALS:-20} run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DCISTERN_SANITIZE=ON
exit $status
