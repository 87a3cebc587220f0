#!/bin/bash
# tsan.sh - the tests that run threads, under ThreadSanitizer: the daemon and
# hub integration tests (MHD worker threads, the background sync and
# recommendation threads) and the unit test of the two-thread item-kNN
# build.  Builds build-tsan/ (CISTERN_TSAN, -O1).  A report fails the test
# that caused it: TSan exits the process with 66, and tests/integration/lib.sh
# fails a test whose server exited so or logged a report.
# Exit status is the verdict; 77 (skip) when the toolchain cannot do TSan.
# Installs nothing (tools/deps.sh does).  Env: JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${TSAN_BUILD_DIR:-build-tsan}
JOBS=${JOBS:-$(nproc)}

skip() {
    echo "tsan.sh: skipped: $*" >&2
    exit 77
}
for tool in cmake ninja ctest gcc; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (tools/deps.sh)"
done

# gcc must link -fsanitize=thread (libtsan), and the binary must run: gcc 12's
# runtime refuses some kernels' address-space layouts ("unexpected memory
# mapping"); without ASLR (setarch -R) it runs there too.
probe=$(mktemp -d "${TMPDIR:-/tmp}/cistern-tsan.XXXXXX")
trap 'rm -rf "$probe"' EXIT
echo 'int main(void) { return 0; }' >"$probe/p.c"
gcc -fsanitize=thread "$probe/p.c" -o "$probe/p" 2>"$probe/err" ||
    skip "gcc cannot link -fsanitize=thread: $(head -3 "$probe/err")"
RUN=()
if ! "$probe/p" 2>"$probe/err"; then
    if setarch "$(uname -m)" -R "$probe/p" 2>/dev/null; then
        RUN=(setarch "$(uname -m)" -R)
        echo "tsan.sh: running without ASLR (setarch -R): $(head -1 "$probe/err")"
    else
        skip "a ThreadSanitizer binary does not run here: $(head -3 "$probe/err")"
    fi
fi

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DCISTERN_TSAN=ON -DCISTERN_SANITIZE=OFF -DCISTERN_FUZZ=OFF >/dev/null
# Only what the selected tests run.
cmake --build "$BUILD" -j "$JOBS" --target cistern cistern-faultproxy test_recommend

TESTS='^(integ\.(serve|load|daemon|sync|people|recserve|mirror|outbox)|unit\.test_recommend)$'
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=66:suppressions=$SRC/tests/tsan.supp"
cd "$BUILD"
"${RUN[@]}" ctest --no-tests=error --output-on-failure -j "$JOBS" -R "$TESTS"
