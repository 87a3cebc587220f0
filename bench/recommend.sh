#!/usr/bin/env bash
# bench/recommend.sh - the recommender: quality on ASSISTments 2009 and cost
# at school-node scale.
#
# Not part of the test suite: a missed target prints MISS and the script
# still exits 0; it fails only when the run itself breaks.
#
# (a) assist2009, "next new skill" (../shared/corpora/learning/assist2009;
#     skipped with a reason when absent): converts the train and test files,
#     trains on the train students plus the test students' prefixes, and
#     prints HR@10 (and NDCG@10) of the blend and each baseline from ONE
#     `cistern recommend eval` run, with the corpus README's reference points
#     beside them.  Target: blend HR@10 >= 0.80.
# (b) synthetic scale (bench/rec_bench.c): ITEMS items (130,000) and EVENTS
#     events (1,000,000), generated deterministically; rebuild time (snapshot +
#     build, as the daemon does it), peak RSS (/usr/bin/time -v, the whole
#     process: catalogue, model, snapshot and new index together) and latency
#     p50/p99 over REQUESTS recommendations (10,000).  Targets: p99 <= 5 ms,
#     rebuild <= 30 s, peak RSS <= 200 MB.  RUNS runs (3), median reported.
#
# Environment
#   CISTERN=path, REC_BENCH=path  use these binaries instead of building them
#   BUILD_DIR=dir                 build dir (default <repo>/build-recbench, Release)
#   ITEMS, EVENTS, LEARNERS, REQUESTS, RUNS   sizes of part (b)
#   PARTS="assist scale"          subset to run
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/.." && pwd)
corpus="$repo_root/../shared/corpora/learning/assist2009"
BUILD_DIR=${BUILD_DIR:-$repo_root/build-recbench}
ITEMS=${ITEMS:-130000}
EVENTS=${EVENTS:-1000000}
LEARNERS=${LEARNERS:-20000}
REQUESTS=${REQUESTS:-10000}
RUNS=${RUNS:-3}
PARTS=${PARTS:-assist scale}

die() {
    echo "bench/recommend.sh: $*" >&2
    exit 1
}
log() { echo "  .. $*" >&2; }
need_tool() { command -v "$1" >/dev/null 2>&1 || die "$1 is required (apt-get install $2)"; }
verdict() { # verdict VALUE OP TARGET
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0);
        if (v == "nan" || v == "") ok = 0;
        print ok ? "PASS" : "MISS" }'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" | head -1; }

if [[ -z ${CISTERN:-} || -z ${REC_BENCH:-} ]]; then
    need_tool cmake cmake
    need_tool ninja ninja-build
    log "building cistern and cistern-rec-bench (Release) in $BUILD_DIR"
    mkdir -p "$BUILD_DIR"
    cmake -S "$repo_root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCISTERN_BUILD_TESTS=OFF \
        >"$BUILD_DIR/configure.log" 2>&1 || { cat "$BUILD_DIR/configure.log" >&2; die "cmake configure failed"; }
    cmake --build "$BUILD_DIR" --target cistern cistern-rec-bench -- -j2 >"$BUILD_DIR/build.log" 2>&1 ||
        { tail -40 "$BUILD_DIR/build.log" >&2; die "build failed"; }
    CISTERN=${CISTERN:-$BUILD_DIR/tools/cistern}
    REC_BENCH=${REC_BENCH:-$BUILD_DIR/bench/cistern-rec-bench}
fi
[[ -x $CISTERN && -x $REC_BENCH ]] || die "no cistern / cistern-rec-bench binaries"
W=$(mktemp -d "${TMPDIR:-/tmp}/cistern-recbench.XXXXXX")
trap 'rm -rf "$W"' EXIT

if [[ " $PARTS " == *" assist "* ]]; then
    echo "== (a) assist2009, next-new, HR@10 (one run of cistern recommend eval)"
    if [[ ! -f $corpus/assist2009_updated_train.csv ]]; then
        echo "   skipped: $corpus not found (the shared corpora are not beside this checkout)"
    else
        CISTERN_QUIET=1 "$CISTERN" recommend convert-assist "$corpus/assist2009_updated_train.csv" --prefix train- -o "$W/train.csv"
        CISTERN_QUIET=1 "$CISTERN" recommend convert-assist "$corpus/assist2009_updated_test.csv" --prefix test- -o "$W/test.csv"
        echo "   \$ cistern recommend eval --train train.csv --interactions test.csv --protocol next-new --k 10 --json"
        json=$(CISTERN_QUIET=1 "$CISTERN" recommend eval --train "$W/train.csv" --interactions "$W/test.csv" \
            --protocol next-new --k 10 --json)
        printf '   %-12s %8s %8s %9s %10s\n' method HR@10 NDCG@10 coverage "README ref"
        for m in blend popular transitions itemknn ease; do
            hr=$(sed -n "s/.*\"$m\":{\"hr\":\([0-9.]*\).*/\1/p" <<<"$json")
            nd=$(sed -n "s/.*\"$m\":{[^}]*\"ndcg\":\([0-9.]*\).*/\1/p" <<<"$json")
            cov=$(sed -n "s/.*\"$m\":{[^}]*\"coverage\":\([0-9.]*\).*/\1/p" <<<"$json")
            case $m in popular) ref=0.32 ;; transitions) ref="0.69 (Markov)" ;; itemknn) ref=0.59 ;; ease) ref=0.83 ;; *) ref="-" ;; esac
            printf '   %-12s %8.4f %8.4f %9.4f %10s\n' "$m" "${hr:-nan}" "${nd:-nan}" "${cov:-nan}" "$ref"
        done
        hr=$(sed -n 's/.*"blend":{"hr":\([0-9.]*\).*/\1/p' <<<"$json")
        echo "   target blend HR@10 >= 0.80: $hr $(verdict "$hr" ">=" 0.80)"
        echo "   (one model on all train students + test prefixes; $(sed -n 's/.*"blend":{[^}]*"cases":\([0-9]*\).*/\1/p' <<<"$json") test students with >= 2 skills evaluated)"
    fi
fi

if [[ " $PARTS " == *" scale "* ]]; then
    need_tool /usr/bin/time time
    echo "== (b) synthetic scale: $ITEMS items, $EVENTS events, $LEARNERS learners, $REQUESTS requests, $RUNS runs"
    rb="" p50="" p99="" rss="" ing=""
    for r in $(seq 1 "$RUNS"); do
        /usr/bin/time -v "$REC_BENCH" -i "$ITEMS" -e "$EVENTS" -l "$LEARNERS" -r "$REQUESTS" >"$W/run$r.out" 2>"$W/run$r.time" ||
            { cat "$W/run$r.time" >&2; die "cistern-rec-bench failed"; }
        snap=$(field snapshot_s <"$W/run$r.out")
        build=$(field rebuild_s <"$W/run$r.out")
        rb="$rb $(awk -v a="$snap" -v b="$build" 'BEGIN { printf "%.3f", a + b }')"
        ing="$ing $(field ingest_s <"$W/run$r.out")"
        p50="$p50 $(field p50_us <"$W/run$r.out")"
        p99="$p99 $(field p99_us <"$W/run$r.out")"
        rss="$rss $(awk '/Maximum resident set size/ { printf "%.1f", $NF / 1024 }' "$W/run$r.time")"
        log "run $r: rebuild $(tr -s ' ' <<<"$rb" | awk '{print $NF}') s, p99 $(field p99_us <"$W/run$r.out") us"
    done
    sed -n '1,2p' "$W/run1.out" | sed 's/^/   /'
    grep '^example' "$W/run1.out" | sed 's/^/   /'
    m_rb=$(median <<<"$rb") m_p50=$(median <<<"$p50") m_p99=$(median <<<"$p99") m_rss=$(median <<<"$rss")
    printf '   ingest (1 event at a time)   %8s s\n' "$(median <<<"$ing")"
    printf '   rebuild (snapshot + build)   %8s s    target <= 30 s     %s\n' "$m_rb" "$(verdict "$m_rb" "<=" 30)"
    printf '   peak RSS (whole process)     %8s MB   target <= 200 MB   %s\n' "$m_rss" "$(verdict "$m_rss" "<=" 200)"
    printf '   latency p50                  %8s us\n' "$m_p50"
    printf '   latency p99                  %8s us   target <= 5000 us  %s\n' "$m_p99" "$(verdict "$m_p99" "<=" 5000)"
    echo "   (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
fi
