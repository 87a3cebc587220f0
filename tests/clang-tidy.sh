#!/bin/bash
# clang-tidy.sh - clang-tidy's bugprone-* checks over platform/ content/
# sync/ node/ tools/, less the ones that only argue with the house style:
#   easily-swappable-parameters       (int f(int a, int b) everywhere)
#   implicit-widening-of-multiplication-result, misplaced-widening-cast
#                                     (sizes are size_t/uint64_t on purpose)
#   suspicious-string-compare         (`if (strcmp(a, b))` is the idiom here)
#   branch-clone                      (else-if chains that answer alike)
#   not-null-terminated-result        (4-byte binary magics are not strings)
# Any finding fails; a false positive is silenced where it occurs with
# NOLINT(<check>): <why>.
# Exit status is the verdict; 77 (skip) when clang-tidy is not installed.
# Installs nothing.  Env: JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
command -v clang-tidy >/dev/null || {
    echo "clang-tidy.sh: skipped: clang-tidy is not installed (apt-get install clang-tidy)" >&2
    exit 77
}
command -v cmake >/dev/null || {
    echo "clang-tidy.sh: skipped: cmake is not installed (tools/deps.sh)" >&2
    exit 77
}
echo "$(clang-tidy --version | sed -n 's/.*LLVM version /clang-tidy /p')"
# The compilation database only: nothing is built.
cmake -S . -B build-tidy -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
CHECKS='-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-implicit-widening-of-multiplication-result'
CHECKS+=',-bugprone-misplaced-widening-cast,-bugprone-suspicious-string-compare,-bugprone-branch-clone'
CHECKS+=',-bugprone-not-null-terminated-result'
# gcc's warning options that clang does not know are not findings; the
# "N warnings generated" chatter on stderr (style warnings not enabled) goes.
find platform content sync node tools -name '*.c' -print0 | sort -z |
    xargs -0 -n 1 -P "$JOBS" clang-tidy -p build-tidy --quiet --checks="$CHECKS" \
        --warnings-as-errors='*' --extra-arg=-Wno-unknown-warning-option \
        2> >(grep -v '^[0-9]* warnings\? generated\.$' >&2)
echo "clang-tidy: clean"
