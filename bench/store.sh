#!/usr/bin/env bash
# bench/store.sh - measure the content store against plain lz4 + sha256sum.
#
# Not part of the test suite: it never fails for a missed target, only for a
# broken run (a command that errors, a wrong byte, no disk space).
#
# Datasets
#   calc  ../shared/corpora/updates/openstax-calculus/v3 as ONE resource
#         (skipped with a reason when ../shared/corpora is absent)
#   mix   a generated SIZE_MB MiB mix: ~60% incompressible media (.mp4/.jpg
#         of 1-50 MB from /dev/urandom), ~40% text (several thousand small
#         HTML pages plus some large text files, lz4 -1 ratio ~2.3x)
#   big   one BIG_MB MiB incompressible .mp4, for the random range-read test
#
# For each dataset: publish throughput, store size, import throughput (each
# a median of RUNS runs on a fresh repository / node), each against its peer;
# for big, also random 64 KiB range reads (bench/range_read.c).
#
# Environment
#   CISTERN=path      use this cistern binary instead of building one
#   RANGE_READ=path   use this cistern-range-read instead of building one
#   BUILD_DIR=dir     build dir (default: <repo>/build-bench, Release)
#   SIZE_MB=n         size of the generated mix in MiB (default 1024)
#   BIG_MB=n          size of the range-read object in MiB (default 1024,
#                     or SIZE_MB when SIZE_MB is smaller)
#   RUNS=n            runs per timed measurement, median reported (default 3;
#                     at least 7 for datasets under 256 MB)
#   READS=n           range reads per run (default 2000)
#   DATASETS="..."    subset of "calc mix big" (default all)
#   DROP_CACHES=0     never drop the page cache (default: drop it once for a
#                     cold range-read run when /proc/sys/vm/drop_caches is
#                     writable)
#   KEEP=1            keep the work dir and every dataset in it (needs more
#                     space: datasets are no longer deleted one by one)
#   TMPDIR            where the work dir goes (needs ~6x SIZE_MB free)
set -euo pipefail
shopt -s inherit_errexit # set -e inside $(...) too

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/.." && pwd)
corpus="$repo_root/../shared/corpora/updates/openstax-calculus/v3"

SIZE_MB=${SIZE_MB:-1024}
if [[ -z ${BIG_MB:-} ]]; then
    BIG_MB=1024
    if ((SIZE_MB < BIG_MB)); then BIG_MB=$SIZE_MB; fi
fi
RUNS=${RUNS:-3}
READS=${READS:-2000}
DATASETS=${DATASETS:-calc mix big}
DROP_CACHES=${DROP_CACHES:-1}
BUILD_DIR=${BUILD_DIR:-$repo_root/build-bench}
export CISTERN_QUIET=1
export LC_ALL=C

die() {
    echo "store.sh: $*" >&2
    exit 2
}
log() { echo "  .. $*" >&2; }

# --- tools --------------------------------------------------------------------
need_tool() { # tool debian-package
    command -v "$1" >/dev/null 2>&1 || die "$1 not found: apt-get install $2"
}
need_tool lz4 lz4
need_tool sha256sum coreutils
need_tool sqlite3 sqlite3
need_tool perl perl-base
need_tool awk mawk
need_tool df coreutils

# Build in Release into our own dir.  The top-level CMakeLists.txt may not
# list bench/ yet, so configure a small wrapper project (kept in the build
# dir, outside the source tree) that adds the project and then bench/ with
# the project's own compile options.
build() {
    local wrap="$BUILD_DIR/wrapper"
    mkdir -p "$wrap"
    cat >"$wrap/CMakeLists.txt.new" <<EOF
cmake_minimum_required(VERSION 3.20)
project(cistern_bench LANGUAGES C)
add_subdirectory("$repo_root" cistern)
if(NOT TARGET cistern-range-read)
  set(CMAKE_C_STANDARD 11)
  set(CMAKE_C_STANDARD_REQUIRED ON)
  set(CMAKE_C_EXTENSIONS ON)
  get_directory_property(cistern_opts DIRECTORY "$repo_root" COMPILE_OPTIONS)
  add_compile_options(\${cistern_opts})
  add_subdirectory("$repo_root/bench" bench)
endif()
EOF
    if cmp -s "$wrap/CMakeLists.txt.new" "$wrap/CMakeLists.txt" 2>/dev/null; then
        rm "$wrap/CMakeLists.txt.new"
    else
        mv "$wrap/CMakeLists.txt.new" "$wrap/CMakeLists.txt"
    fi
    need_tool cmake cmake
    need_tool ninja ninja-build
    local targets=(cistern-range-read)
    if [[ -z ${CISTERN:-} ]]; then targets+=(cistern); fi
    log "building ${targets[*]} (Release) in $BUILD_DIR"
    cmake -S "$wrap" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCISTERN_BUILD_TESTS=OFF >"$BUILD_DIR/configure.log" 2>&1 ||
        { cat "$BUILD_DIR/configure.log" >&2; die "cmake configure failed"; }
    cmake --build "$BUILD_DIR" --target "${targets[@]}" >"$BUILD_DIR/build.log" 2>&1 ||
        { tail -40 "$BUILD_DIR/build.log" >&2; die "build failed"; }
    if [[ -z ${CISTERN:-} ]]; then
        CISTERN=$(find "$BUILD_DIR" -type f -name cistern -perm -u+x | head -1)
    fi
    if [[ -z ${RANGE_READ:-} ]]; then
        RANGE_READ=$(find "$BUILD_DIR" -type f -name cistern-range-read -perm -u+x | head -1)
    fi
}
if [[ -z ${CISTERN:-} || -z ${RANGE_READ:-} ]]; then
    build
fi
[[ -x $CISTERN ]] || die "cistern binary not found or not executable: ${CISTERN:-}"
[[ -x $RANGE_READ ]] || die "cistern-range-read not found or not executable: ${RANGE_READ:-}"

# --- work dir and space guard -------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/cistern-bench.XXXXXX")
cleanup() {
    if [[ ${KEEP:-0} == 1 ]]; then echo "work dir kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
# Peak use per dataset: source + repository + peer's lz4 output + bundle +
# node store, each up to the raw size; datasets run one after the other and
# each is deleted before the next.
# Peak use is one dataset at a time: its source, one repository per publish
# run (kept until the dataset is done, see quiet_inodes), the bundle, one
# node store and the peer's lz4 output, each at most the raw size.
biggest=$((SIZE_MB > BIG_MB ? SIZE_MB : BIG_MB))
need_kb=$((biggest * 1024 * (RUNS + 5)))
free_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if ((free_kb < need_kb)); then
    die "need ~$((need_kb / 1024)) MiB free under ${TMPDIR:-/tmp}, have $((free_kb / 1024)) MiB (set TMPDIR or a smaller SIZE_MB)"
fi

# --- helpers -------------------------------------------------------------------
now_ns() { date +%s%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
# f2 EXPR: evaluate with awk, print with 2 decimals
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
calc3() { awk "BEGIN { printf \"%.3f\", $1 }"; }
calc6() { awk "BEGIN { printf \"%.6f\", $1 }"; } # for verdicts: no rounding up to a PASS
mb() { calc "$1 / 1e6"; } # bytes -> MB (10^6)
# bytes in the regular files under the given dirs (directories themselves
# are not counted: the hub's 256 fan-out dirs would add ~1 MB of "size")
dir_bytes() { find "$@" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
verdict() { # value op target
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "PASS" : "MISS" }'
}
summary=()
# metric NAME CISTERN PEER RATIO TARGET-TEXT VERDICT
metric() {
    local line="$1: cistern $2, peer $3, ratio $4 (target $5) $6"
    echo "$line"
    summary+=("$6  $1")
}
run_quiet() { # run a command, show its output only if it fails
    local out
    if ! out=$("$@" 2>&1); then
        echo "$out" >&2
        die "failed: $*"
    fi
}

# The machine may be shared, so cistern and its peer are timed in pairs, one
# right after the other (alternating which goes first), and each side's
# median is taken over the pairs: load that comes and goes hits both sides.
# Each run is preceded by its setup command (untimed).  Prints two columns:
# median ns of A and of B.  Usage: timed_pairs N SETUP_A RUN_A SETUP_B RUN_B
timed_pairs() {
    local n=$1 i t0 t1 ta tb
    for ((i = 0; i < n; i++)); do
        if ((i % 2 == 0)); then
            "$2"; t0=$(now_ns); "$3"; t1=$(now_ns); ta=$((t1 - t0))
            "$4"; t0=$(now_ns); "$5"; t1=$(now_ns); tb=$((t1 - t0))
        else
            "$4"; t0=$(now_ns); "$5"; t1=$(now_ns); tb=$((t1 - t0))
            "$2"; t0=$(now_ns); "$3"; t1=$(now_ns); ta=$((t1 - t0))
        fi
        echo "$ta $tb"
    done >"$work/pairs"
    echo "$(awk '{ print $1 }' "$work/pairs" | median) $(awk '{ print $2 }' "$work/pairs" | median)"
}

# ext4 without a journal (as on this project's build machines) will not reuse
# an inode freed in the last 60 seconds (fs/ext4/ialloc.c, recently_deleted),
# and skipping them costs a scan per new inode: after an `rm -rf` of a few
# thousand files, creating files is several times slower for a minute.
# Cistern's hub writes one file per object, its peer one file in all, so a
# deletion right before a timed publish measures ext4, not cistern.  Hence
# repositories are never deleted between runs, and before the first timed run
# of a dataset we wait until 61 s have passed since the last bulk deletion.
last_delete=0
quiet_inodes() {
    local wait=$((last_delete + 61 - $(date +%s)))
    if ((wait > 0)); then
        log "waiting ${wait}s for ext4 to let go of recently deleted inodes"
        sleep "$wait"
    fi
}

# --- datasets ------------------------------------------------------------------
resource_json() { # dir id type entry title
    printf '{"id": "%s", "title": {"en": "%s"}, "language": "en", "type": "%s", "entry": "%s"}\n' \
        "$2" "$5" "$3" "$4" >"$1/resource.json"
}

# The calculus corpus is a folder of files (CNXML modules, collections,
# media), not resources.  We wrap the whole v3 tree as ONE resource: a book
# is what a teacher publishes and a school downloads, and per-file work (what
# we measure) is the same however the files are grouped.  Copy, not symlink
# (the publisher refuses symlinks); hardlink when on the same filesystem.
make_calc() {
    local src=$1 res="$1/openstax-calculus-v3"
    mkdir -p "$src"
    cp -al "$corpus" "$res" 2>/dev/null || { rm -rf "$res"; cp -r "$corpus" "$res"; }
    resource_json "$res" openstax-calculus-v3 document README.md "OpenStax Calculus (v3)"
}

# Text generator: a fixed-seed vocabulary of pseudo-words and a small set of
# recurring phrases (so matches fall inside lz4's 64 KiB window, like real
# prose and markup do), written as HTML paragraphs into a pool; each text
# file is a slice of the pool at a random offset.  lz4 -1 ratio ~2.3x.
# Args: dest-dir total-text-bytes seed.  Writes resources under dest-dir.
gen_text() {
    perl - "$@" <<'PERL'
use strict; use warnings;
my ($dest, $total, $seed) = @ARGV; srand($seed);
my @syl = qw(ka ri to ne ma lu so ve di an el or um is at en po qui tra ber lin ch sh th st ar ing ed ion ment al ic);
my @w; for (1..4000) { my $n = 1 + int(rand(3)); my $s = ''; $s .= $syl[int(rand(@syl))] for 1..$n; push @w, $s; }
sub word { my $r = rand(); return $w[int(@w * $r * $r * $r)]; }
my @ph; for (1..1200) { my $n = 2 + int(rand(5)); push @ph, join(' ', map { word() } 1..$n); }
my $poolsz = $total < (24 << 20) ? $total + (1 << 20) : (24 << 20);
my $pool = '';
while (length($pool) < $poolsz) {
    my $p = "<p>";
    for (1 .. 2 + int(rand(6))) {
        my @s;
        for (1 .. 2 + int(rand(4))) {
            my $r = rand(); my $x = $ph[int(@ph * $r * $r)];
            $x .= ' ' . word() if rand() < 0.5; push @s, $x;
        }
        $s[0] = "<em>$s[0]</em>" if rand() < 0.2;
        push @s, "<a href=\"../chapter-" . int(rand(40)) . "/section-" . int(rand(12)) . ".html\">" . word() . "</a>" if rand() < 0.2;
        push @s, int(rand(10000)) if rand() < 0.2;
        $p .= ucfirst(join(' ', @s)) . ". ";
    }
    $pool .= "$p</p>\n";
}
sub slice { my $n = shift; $n = length($pool) if $n > length($pool); return substr($pool, int(rand(length($pool) - $n + 1)), $n); }
sub put { my ($path, $data) = @_; open(my $fh, '>', $path) or die "$path: $!"; print $fh $data; close($fh) or die "$path: $!"; }
sub rjson { my ($dir, $id, $type, $entry, $title) = @_;
    put("$dir/resource.json", "{\"id\": \"$id\", \"title\": {\"en\": \"$title\"}, \"language\": \"en\", \"type\": \"$type\", \"entry\": \"$entry\"}\n"); }
# 20% of the text as small HTML pages (1-30 KiB, ~40 per resource: several
# thousand pages for 1 GiB), 80% as large text files (1-8 MiB, one per resource).
my $small_total = int($total * 0.2); my $done = 0; my ($r, $i) = (0, 0);
while ($done < $small_total) {
    my $dir = sprintf("%s/course-%04d", $dest, $r); mkdir $dir or die "$dir: $!";
    for my $k (0 .. 39) {
        last if $done >= $small_total;
        my $n = 1024 + int(rand(29 * 1024));
        my $body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Section $r.$k</title><link rel=\"stylesheet\" href=\"style.css\"></head>\n<body>\n" . slice($n) . "</body></html>\n";
        put(sprintf("%s/page-%03d.html", $dir, $k), $body); $done += length($body);
    }
    rjson($dir, sprintf("course-%04d", $r), "html", "page-000.html", "Course $r"); $r++;
}
$r = 0;
while ($done < $total) {
    my $dir = sprintf("%s/book-%04d", $dest, $r); mkdir $dir or die "$dir: $!";
    my $n = (1 << 20) + int(rand(7 << 20)); $n = $total - $done if $n > $total - $done; $n = 1 if $n < 1;
    my $data = ''; $data .= slice($n - length($data)) while length($data) < $n;
    put("$dir/book.txt", $data); $done += $n;
    rjson($dir, sprintf("book-%04d", $r), "document", "book.txt", "Book $r"); $r++;
}
PERL
}

# Media: random bytes (incompressible), .mp4 of 5-50 MiB and .jpg of 1-5 MiB
# (about 70/30 by count), one per resource with a small HTML page beside it.
gen_media() { # dest-dir total-bytes seed
    local dest=$1 total=$2 done=0 i=0 n ext type dir
    RANDOM=$3
    while ((done < total)); do
        if ((RANDOM % 10 < 7)); then
            n=$(((5 + RANDOM % 46) << 20)) ext=mp4 type=video
        else
            n=$(((1 + RANDOM % 5) << 20)) ext=jpg type=image
        fi
        if ((n > total - done)); then n=$((total - done)); fi
        dir=$(printf '%s/media-%04d' "$dest" "$i")
        mkdir -p "$dir"
        head -c "$n" /dev/urandom >"$dir/media.$ext"
        printf '<!DOCTYPE html>\n<html><body><h1>Media %d</h1><p><a href="media.%s">open</a></p></body></html>\n' \
            "$i" "$ext" >"$dir/index.html"
        resource_json "$dir" "media-$(printf %04d "$i")" "$type" "media.$ext" "Media $i"
        done=$((done + n)) i=$((i + 1))
    done
}

make_mix() {
    local src=$1 total=$((SIZE_MB << 20))
    mkdir -p "$src"
    log "generating ${SIZE_MB} MiB mix (60% media, 40% text)"
    gen_media "$src" $((total * 6 / 10)) 4242
    gen_text "$src" $((total - total * 6 / 10)) 4242
}

make_big() {
    local res="$1/big-video"
    mkdir -p "$res"
    log "generating ${BIG_MB} MiB incompressible object"
    head -c $((BIG_MB << 20)) /dev/urandom >"$res/video.mp4"
    resource_json "$res" big-video video video.mp4 "One big video"
}

# --- one dataset ---------------------------------------------------------------
# Globals used by the setup/run functions of timed_pairs.
d_src='' d_dir='' d_list='' d_repo='' cur_repo=''
# A fresh repository for every run: repo-0, repo-1, ...  Old ones are NOT
# deleted here (see quiet_inodes).
repo_n() { local n=0; while [[ -e $d_dir/repo-$n ]]; do n=$((n + 1)); done; echo $n; }
# `sync` before each cistern run (untimed): cistern makes its output durable
# (syncfs, fsync), and must not also pay for writing back the source just
# generated or the peer's output from the run before.  The peer's own output
# is not fsynced: that is what `lz4 && sha256sum` does.
pub_setup() { cur_repo="$d_dir/repo-$(repo_n)" && run_quiet "$CISTERN" hub init "$cur_repo" && sync; }
pub_run() { run_quiet "$CISTERN" hub publish "$cur_repo" "$d_src"; }
peer_pub_setup() { rm -f "$d_dir/peer.lz4"; }
# lz4 -1 in batch mode (-m) writing all frames to one output file (-c: the
# concatenation of the per-file frames, so its size is the sum of per-file
# lz4 -1 sizes), then sha256sum over the same files, one after the other.
peer_pub_run() {
    xargs -0 lz4 -1 -q -m -c -- <"$d_list" >"$d_dir/peer.lz4"
    xargs -0 sha256sum -- <"$d_list" >/dev/null
}
imp_setup() {
    # a node store is a handful of files: deleting it costs nothing later
    rm -rf "$d_dir/node" && run_quiet "$CISTERN" node init "$d_dir/node" --trust "$d_repo/root.json" && sync
}
imp_run() { run_quiet "$CISTERN" node import "$d_dir/node" "$d_dir/bundle"; }
noop() { :; }
# What an import must do at least: decode every block and hash the result.
peer_imp_run() {
    lz4 -d -q -c "$d_dir/peer.lz4" >/dev/null
    xargs -0 sha256sum -- <"$d_list" >/dev/null
}

bench_dataset() { # name src-dir
    local name=$1 raw nfiles t tp ta tpa enc store hubobj res
    d_src=$2 d_dir="$work/run-$name" d_list="$work/run-$name/files"
    mkdir -p "$d_dir"
    (cd "$d_src" && find "$PWD" -type f -print0 | sort -z) >"$d_list"
    raw=$(cd "$d_src" && find . -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    nfiles=$(tr -cd '\0' <"$d_list" | wc -c)
    echo
    echo "== $name: $nfiles files, $(mb "$raw") MB raw, $(find "$d_src" -name resource.json | wc -l) resources"
    # warm the page cache: one untimed read of the source
    xargs -0 cat -- <"$d_list" >/dev/null

    # small datasets run in well under a second: take more runs
    local runs=$RUNS
    if ((raw < 256000000 && runs < 7)); then runs=7; fi
    quiet_inodes
    log "$name: publish and peer (lz4 -1 + sha256sum) x$runs"
    res=$(timed_pairs "$runs" pub_setup pub_run peer_pub_setup peer_pub_run)
    read -r t tp <<<"$res"
    d_repo="$d_dir/repo-$(($(repo_n) - 1))"
    local r_pub r_peer
    r_pub=$(calc "$raw / 1e6 / ($t / 1e9)")
    r_peer=$(calc "$raw / 1e6 / ($tp / 1e9)")
    metric "$name publish throughput" "$r_pub MB/s" "$r_peer MB/s (lz4 -1 + sha256sum)" \
        "$(calc3 "$r_pub / $r_peer")" ">= 0.80" "$(verdict "$(calc6 "$r_pub / $r_peer")" ">=" 0.8)"

    log "$name: bundle"
    run_quiet "$CISTERN" hub bundle "$d_repo" --since 0 -o "$d_dir/bundle"
    log "$name: import and peer (lz4 -d + sha256sum) x$runs"
    res=$(timed_pairs "$runs" imp_setup imp_run noop peer_imp_run)
    read -r ta tpa <<<"$res"
    local r_imp r_pimp
    r_imp=$(calc "$raw / 1e6 / ($ta / 1e9)")
    r_pimp=$(calc "$raw / 1e6 / ($tpa / 1e9)")
    metric "$name import throughput" "$r_imp MB/s" "$r_pimp MB/s (lz4 -d + sha256sum)" \
        "$(calc "$r_imp / $r_pimp")" ">= 100 MB/s" "$(verdict "$r_imp" ">=" 100)"

    enc=$(stat -c %s "$d_dir/peer.lz4")
    # reference with small independent blocks: lz4 -B4 is 64 KiB, half of
    # cistern's 128 KiB blocks (the lz4 CLI has no 128 KiB setting)
    local enc64
    enc64=$(xargs -0 lz4 -1 -q -m -c -B4 -- <"$d_list" | wc -c)
    store=$(dir_bytes "$d_dir/node/store")
    hubobj=$(dir_bytes "$d_repo/objects")
    metric "$name node store size" "$(mb "$store") MB" "$(mb "$enc") MB (sum of per-file lz4 -1)" \
        "$(calc3 "$store / $enc")" "<= 1.03" "$(verdict "$(calc6 "$store / $enc")" "<=" 1.03)"
    metric "$name hub objects size" "$(mb "$hubobj") MB" "$(mb "$enc") MB (sum of per-file lz4 -1)" \
        "$(calc3 "$hubobj / $enc")" "<= 1.03" "$(verdict "$(calc6 "$hubobj / $enc")" "<=" 1.03)"
    echo "   (raw $(mb "$raw") MB; lz4 -1 ratio $(calc "$raw / $enc")x; per-file lz4 -1 -B4 (64 KiB blocks," \
        "half of cistern's 128 KiB) $(mb "$enc64") MB, store/that $(calc3 "$store / $enc64"); bundle $(mb "$(stat -c %s "$d_dir/bundle")") MB;" \
        "medians of $runs: publish $(calc "$t / 1e9") s, peer $(calc "$tp / 1e9") s, import $(calc "$ta / 1e9") s, peer $(calc "$tpa / 1e9") s)"
}

# Range reads on the big object: a cold run (page cache dropped, when we may)
# and a warm run, each against pread(2) on the original file.
range_read() {
    local src=$1 node="$work/run-big/node" id out
    id=$(sqlite3 "$node/catalog.db" \
        "select hex(f.object) from files f join resources r on r.rid = f.resource where r.id = 'big-video' and f.path = 'video.mp4'")
    [[ ${#id} == 64 ]] || die "object id of video.mp4 not found in $node/catalog.db"
    local file="$src/big-video/video.mp4" mode
    for mode in cold warm; do
        local n=$READS
        if [[ $mode == cold ]]; then
            if [[ $DROP_CACHES != 1 ]] || ! { sync && echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
                echo "   (cold-cache range read skipped: cannot drop the page cache)"
                continue
            fi
            n=$((READS < 200 ? READS : 200)) # each cold read is a disk seek
        else
            cat "$node"/store/* "$file" >/dev/null # warm: both sides in the page cache
            "$RANGE_READ" -n 200 -s 7 "$node/store" "$id" >/dev/null || die "range read failed"
        fi
        out=$("$RANGE_READ" -n "$n" -f "$file" "$node/store" "$id") || die "range read failed"
        local sm sp sx fm
        sm=$(awk '$1 == "store" { for (i = 2; i <= NF; i++) if ($i ~ /^median_us=/) { sub(/.*=/, "", $i); print $i } }' <<<"$out")
        sp=$(awk '$1 == "store" { for (i = 2; i <= NF; i++) if ($i ~ /^p99_us=/) { sub(/.*=/, "", $i); print $i } }' <<<"$out")
        sx=$(awk '$1 == "store" { for (i = 2; i <= NF; i++) if ($i ~ /^max_us=/) { sub(/.*=/, "", $i); print $i } }' <<<"$out")
        fm=$(awk '$1 == "file" { for (i = 2; i <= NF; i++) if ($i ~ /^median_us=/) { sub(/.*=/, "", $i); print $i } }' <<<"$out")
        metric "big 64 KiB range read, $mode cache, median of $n" "$sm us (p99 $sp, max $sx)" \
            "$fm us (pread of the plain file)" "$(calc "$sm / $fm")" "<= 1000 us" \
            "$(verdict "$sm" "<=" 1000)"
    done
}

echo "cistern store benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r)"
echo "cistern: $CISTERN"
echo "peer: $(lz4 --version 2>&1 | sed -n 's/.*\(v[0-9.]*\).*/lz4 \1/p'), $(sha256sum --version | head -1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: compare ratios, not absolutes)"
echo "RUNS=$RUNS SIZE_MB=$SIZE_MB BIG_MB=$BIG_MB READS=$READS; MB = 10^6 bytes; throughput = raw bytes / wall time"

for ds in $DATASETS; do
    case $ds in
    calc)
        if [[ ! -d $corpus ]]; then
            echo
            echo "== calc: skipped: $corpus not found (../shared/corpora is absent)"
            continue
        fi
        make_calc "$work/src-calc"
        bench_dataset calc "$work/src-calc"
        ;;
    mix)
        make_mix "$work/src-mix"
        bench_dataset mix "$work/src-mix"
        ;;
    big)
        make_big "$work/src-big"
        bench_dataset big "$work/src-big"
        range_read "$work/src-big"
        ;;
    *) die "unknown dataset '$ds' (calc, mix, big)" ;;
    esac
    if [[ ${KEEP:-0} != 1 ]]; then
        rm -rf "$work/src-$ds" "$work/run-$ds"
        last_delete=$(date +%s)
    fi
done

echo
echo "== summary (load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
for s in "${summary[@]}"; do echo "  $s"; done
