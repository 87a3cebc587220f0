#!/bin/bash
# short.sh [SECONDS] - a short libFuzzer run of every fuzz target, for CI.
#
# Builds the clang libFuzzer binaries in build-fuzz/ (reused when present),
# then runs each fuzz_<name>_lf for SECONDS (default 20), two at a time
# (FUZZ_JOBS), seeded with tests/fuzz/corpus/<name>/ read-only: new inputs go
# to build-fuzz/corpus/<name>/ (kept between runs, so later runs start
# further), crashes to build-fuzz/artifacts/<name>/.  Exit 0 when no target
# crashed, leaked, hung (-timeout=10) or grew past -rss_limit_mb=1024;
# 1 naming those that did; 77 (skip) without clang or its libFuzzer.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
secs=${1:-20}
jobs=${FUZZ_JOBS:-2}
build=$root/build-fuzz
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac

if ! command -v clang >/dev/null; then
    echo "short.sh: skipped: clang is not installed (apt-get install clang)"
    exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' >"$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>"$probe/err"; then
    echo "short.sh: skipped: clang cannot build libFuzzer binaries:"
    sed 's/^/  /' "$probe/err" | head -5
    exit 77
fi

names=()
for f in tests/fuzz/fuzz_*.c; do
    n=${f#tests/fuzz/fuzz_}
    names+=("${n%.c}")
done
echo "== building ${#names[@]} libFuzzer targets in build-fuzz/"
mkdir -p "$build"
if ! cmake -S "$root" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCISTERN_FUZZ=ON -DCISTERN_WERROR=OFF -DCISTERN_BUILD_TESTS=ON >"$build/cmake.log" 2>&1; then
    tail -30 "$build/cmake.log"
    echo "short.sh: cmake failed (log: $build/cmake.log)"
    exit 1
fi
targets=()
for n in "${names[@]}"; do targets+=("fuzz_${n}_lf"); done
if ! cmake --build "$build" -j 2 --target "${targets[@]}" >"$build/build.log" 2>&1; then
    tail -30 "$build/build.log"
    echo "short.sh: the build failed (log: $build/build.log)"
    exit 1
fi

# run NAME: fuzz one target; its verdict goes to logs/NAME.rc.
run() {
    local n=$1 corpus=$build/corpus/$1 art=$build/artifacts/$1
    mkdir -p "$corpus" "$art"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$build/tests/fuzz_${n}_lf" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$art/" "$corpus" "$root/tests/fuzz/corpus/$n" \
        >"$build/logs/$n.log" 2>&1
    echo $? >"$build/logs/$n.rc"
}

# Fixtures and stores go to memory when it can hold them: fsync is free there.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
echo "== fuzzing each target for ${secs} s, $jobs at a time"
rm -rf "$build/logs"
mkdir -p "$build/logs"
start=$SECONDS
running=0
for n in "${names[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run "$n" &
    running=$((running + 1))
done
wait

failed=()
for n in "${names[@]}"; do
    rc=$(cat "$build/logs/$n.rc" 2>/dev/null || echo "?")
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$n.log" | tail -1)
    if [ "$rc" = 0 ]; then
        printf '  %-14s ok     %8s runs\n' "$n" "${runs:-?}"
    else
        printf '  %-14s FAILED (exit %s)\n' "$n" "$rc"
        failed+=("$n")
    fi
done
echo "== $((SECONDS - start)) s of fuzzing"
if [ ${#failed[@]} -gt 0 ]; then
    for n in "${failed[@]}"; do
        echo "---- $n: build-fuzz/logs/$n.log (last lines); inputs in build-fuzz/artifacts/$n/"
        grep -v '^#[0-9]' "$build/logs/$n.log" | tail -40
    done
    echo "short.sh: crashed: ${failed[*]}"
    exit 1
fi
echo "short.sh: no crashes"
exit 0
