#!/bin/bash
# cppcheck.sh - static analysis of the project's C sources (platform/
# content/ sync/ node/ tools/) with a fixed check set: cppcheck's errors
# plus --enable=warning,performance,portability, C11, with the library
# configurations for POSIX/GNU libc, libcurl, SQLite and (tests/cppcheck/)
# jansson's macros.  Any finding fails.  A false positive is suppressed where
# it occurs, with the reason:
#     // cppcheck-suppress <id> ; <why it is wrong here>
# Exit status is the verdict; 77 (skip) when cppcheck is not installed.
# Installs nothing.  Env: JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
command -v cppcheck >/dev/null || {
    echo "cppcheck.sh: skipped: cppcheck is not installed (apt-get install cppcheck)" >&2
    exit 77
}
# The check set was made clean with 2.10 (Debian 12); another version may
# know other checks.
echo "$(cppcheck --version), checks: error,warning,performance,portability"
# Results are cached per file between runs.
mkdir -p build-cppcheck
cppcheck --std=c11 --enable=warning,performance,portability --inline-suppr \
    --suppress=missingIncludeSystem --error-exitcode=1 -q -j "$JOBS" \
    --library=posix,gnu,libcurl,sqlite3,tests/cppcheck/jansson.cfg \
    -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
    -Iplatform/include -Icontent/include -Isync/include -Inode/include -Itools \
    --cppcheck-build-dir=build-cppcheck \
    --template='{file}:{line}: {severity}: {message} [{id}]' \
    platform content sync node tools
echo "cppcheck: clean"
