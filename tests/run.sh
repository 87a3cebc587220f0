#!/bin/bash
# run.sh - the whole test suite: install dependencies, check the code
# (cppcheck, clang-tidy), build, run every test (unit, fuzz-corpus replay,
# integration) in a normal build and again under AddressSanitizer +
# UndefinedBehaviorSanitizer, the threaded tests under ThreadSanitizer, and a
# short libFuzzer run of every fuzz target.  Exit status is the verdict.
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
step() { # step NAME COMMAND...: 77 is a skip (with its printed reason), not a pass
    local rc=0
    echo "== $1"
    shift
    "$@" || rc=$?
    if [ "$rc" = 77 ]; then
        echo "   (skipped)"
    elif [ "$rc" != 0 ]; then
        echo "   FAILED ($rc)"
        status=1
    fi
}
step "cppcheck" bash tests/cppcheck.sh
step "clang-tidy" bash tests/clang-tidy.sh
echo "== normal build"
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    TRIALS=${ASAN_TRIALS:-25} IMPORT_TRIALS=${ASAN_IMPORT_TRIALS:-10} OUTBOX_TRIALS=${ASAN_OUTBOX_TRIALS:-40} run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DCISTERN_SANITIZE=ON
step "ThreadSanitizer: the server, hub and sync tests" bash tests/tsan.sh
if [ -x tests/fuzz/short.sh ]; then
    step "libFuzzer: every target for a short run" bash tests/fuzz/short.sh "${FUZZ_SECONDS:-8}"
fi
exit $status
