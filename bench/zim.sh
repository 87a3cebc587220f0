#!/usr/bin/env bash
# bench/zim.sh - a Kiwix archive served by kiwix-serve and, imported with
# `cistern hub add-zim`, by cistern: in one run, on the same archive, loaded
# with wrk from the same machine; plus import throughput.
#
# Not part of the test suite: it fails only for a broken run (a command that
# errors, a server that does not start, a page served with other bytes).
#
# Archive: ZIM=path, default the largest valid archive of
# ../shared/corpora/zim (nons-invalid.* left out).
#
# Metrics (each the median of RUNS runs; wrk -t2 on the same 2 cores):
#   article req/s   a fixed list of the archive's HTML pages (every article,
#                   in turn, by a wrk Lua script), C_PAGE connections:
#                   kiwix /NAME/PATH, cistern /r/ID/PATH
#   search req/s    words from the article titles, in turn, C_SEARCH
#                   connections: kiwix /search?content=NAME&pattern= (its
#                   Xapian full-text index when the archive has one, else its
#                   title index), cistern /api/v1/catalog?q= (resources, then
#                   article titles)
#   import          `hub add-zim` (verify, expand, publish) and `hub bundle`
#                   + `node import`: seconds, entries/s and archive MB/s
# Ratios are cistern / kiwix.
#
# Environment
#   CISTERN=path       use this binary instead of building one
#   BUILD_DIR=dir      build dir (default: <repo>/build-zimbench, Release)
#   ZIM=path           the archive (default: the largest valid one of the corpora)
#   RUNS=n             runs per measurement, median reported (default 3)
#   DURATION=s         seconds per wrk run (default 10)
#   C_PAGE, C_SEARCH   wrk connections (default 32, 32)
#   NO_INSTALL=1       never apt-get install kiwix-tools, zim-tools or wrk
#   KEEP=1             keep the work dir
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/.." && pwd)
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
C_PAGE=${C_PAGE:-32}
C_SEARCH=${C_SEARCH:-32}
BUILD_DIR=${BUILD_DIR:-$repo_root/build-zimbench}
export CISTERN_QUIET=1
export LC_ALL=C.UTF-8

die() {
    echo "zim.sh: $*" >&2
    exit 2
}
log() { echo "  .. $*" >&2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/cistern-zimbench.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ ${KEEP:-0} == 1 ]]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools (as bench/lan.sh: install a missing peer when root and possible) ---
need_tool() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: apt-get install $2"; }
have_peer() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    if [[ ${NO_INSTALL:-0} == 1 ]]; then
        echo "peer $1 missing and NO_INSTALL=1" >&2
        return 1
    fi
    local cand
    cand=$(apt-cache policy "$2" 2>/dev/null | sed -n 's/^ *Candidate: //p')
    [[ -n $cand && $cand != "(none)" ]] || { echo "peer $1: no installable package $2" >&2; return 1; }
    [[ $(id -u) == 0 ]] || { echo "peer $1: package $2 available but not root" >&2; return 1; }
    log "installing $2 $cand"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >"$W/apt-$2.log" 2>&1 ||
        { echo "peer $1: apt-get install $2 failed" >&2; return 1; }
    command -v "$1" >/dev/null 2>&1
}
need_tool curl curl
need_tool ss iproute2
have_peer wrk wrk || die "wrk is required"
use_kiwix=0
have_peer kiwix-serve kiwix-tools && use_kiwix=1
have_peer zimdump zim-tools || die "zimdump (zim-tools) is required to list the articles"

if [[ -z ${CISTERN:-} ]]; then
    need_tool cmake cmake
    need_tool ninja ninja-build
    log "building cistern (Release) in $BUILD_DIR"
    cmake -S "$repo_root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCISTERN_BUILD_TESTS=OFF \
        >"$W/configure.log" 2>&1 || { cat "$W/configure.log" >&2; die "cmake configure failed"; }
    cmake --build "$BUILD_DIR" --target cistern -- -j2 >"$W/build.log" 2>&1 ||
        { tail -40 "$W/build.log" >&2; die "build failed"; }
    CISTERN=$BUILD_DIR/tools/cistern
fi
[[ -x $CISTERN ]] || die "no cistern binary at $CISTERN"

if [[ -z ${ZIM:-} ]]; then
    corp="$repo_root/../shared/corpora/zim"
    [[ -d $corp ]] || die "no ZIM= given and $corp is absent"
    ZIM=$(ls -S "$corp"/*.zim | grep -v '/nons-invalid\.' | head -1)
fi
[[ -f $ZIM ]] || die "no archive at $ZIM"

# --- helpers (as bench/lan.sh) ---------------------------------------------------
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
free_port() {
    local p used
    used=$(ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u)
    while :; do
        p=$((20000 + RANDOM % 40000))
        grep -qx "$p" <<<"$used" || { echo "$p"; return; }
    done
}
wait_http() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == 200 ]] && return 0
        sleep 0.05
    done
    return 1
}
urlpath() { # URL-escape a path, keeping '/'
    python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/"))' "$1"
}
now_s() { date +%s.%N; }
wrk_run() { # URL CONNS LUA -> $WRK_OUT
    WRK_OUT=$(wrk -t2 -c"$2" -d"${DURATION}s" --timeout 10s -s "$3" "$1" 2>&1) || die "wrk failed on $1: $WRK_OUT"
    if grep -q "Non-2xx" <<<"$WRK_OUT" && [[ ${ALLOW_NON2XX:-0} != 1 ]]; then
        die "non-2xx responses from $1: $(grep Non-2xx <<<"$WRK_OUT")"
    fi
}
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' <<<"$WRK_OUT"; }
cat >"$W/list.lua" <<'LUA'
-- Each thread walks the request list from its own offset, in turn.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
local n = 0
function setup(thread) thread:set("tid", n); n = n + 1 end
function init(args) i = (tid or 0) * 101 end
function request()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
LUA

zim_bytes=$(stat -c %s "$ZIM")
# kiwix-serve names the book after the file, less a trailing _YYYY-MM: a
# fixed name keeps its URLs predictable.
name=zimbench
cp "$ZIM" "$W/$name.zim"
echo "archive: $ZIM ($zim_bytes bytes); load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- import throughput ----------------------------------------------------------
ID=bench-zim
add_t="" imp_t=""
for ((k = 1; k <= RUNS; k++)); do
    rm -rf "$W/repo" "$W/src" "$W/node" "$W/v1.bundle"
    "$CISTERN" hub init "$W/repo" >/dev/null
    t0=$(now_s)
    "$CISTERN" hub add-zim "$W/repo" "$W/$name.zim" --source "$W/src" --id "$ID" >"$W/add.out"
    t1=$(now_s)
    "$CISTERN" node init "$W/node" --trust "$W/repo/root.json" >/dev/null
    t2=$(now_s)
    "$CISTERN" hub bundle "$W/repo" --since 0 -o "$W/v1.bundle" >/dev/null
    "$CISTERN" node import "$W/node" "$W/v1.bundle" >/dev/null
    t3=$(now_s)
    add_t+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')"
    imp_t+=" $(awk -v a="$t2" -v b="$t3" 'BEGIN {printf "%.3f", b - a}')"
done
entries=$(sed -n 's/.*: \([0-9]*\) entries.*/\1/p' "$W/add.out" | head -1)
A=$(median <<<"$add_t")
I=$(median <<<"$imp_t")
log "add-zim runs:$add_t; bundle + import runs:$imp_t"

# --- the same archive, served twice ----------------------------------------------
CPORT=$(free_port)
"$CISTERN" node serve "$W/node" --listen "127.0.0.1:$CPORT" >"$W/serve.out" 2>"$W/serve.err" &
PIDS+=($!)
CURL="http://127.0.0.1:$CPORT"
wait_http "$CURL/healthz" 20 || die "cistern did not start: $(tail -3 "$W/serve.err")"
if ((use_kiwix)); then
    KPORT=$(free_port)
    kiwix-serve -n -i 127.0.0.1 -p "$KPORT" "$W/$name.zim" >"$W/kiwix.log" 2>&1 &
    PIDS+=($!)
    KURL="http://127.0.0.1:$KPORT"
fi

# Articles: every HTML item of the archive (no redirects: kiwix answers those
# with a 302), as zimdump lists them.
M="$W/src/$ID/resource.files"
: >"$W/paths.cistern"
: >"$W/paths.kiwix"
zimdump list --details "$W/$name.zim" | awk '
    /^path: / {p = substr($0, 7); t = ""; m = ""}
    /^\* type: / {t = $3}
    /^\* mime-type: / {m = $3; if (t == "item" && m ~ /^text\/html/) print p}' >"$W/articles.txt"
while IFS= read -r path; do
    e=$(urlpath "$path")
    echo "/r/$ID/$e" >>"$W/paths.cistern"
    echo "/$name/$e" >>"$W/paths.kiwix"
done <"$W/articles.txt"
narticles=$(wc -l <"$W/paths.cistern")
((narticles > 0)) || die "no HTML page in the archive"
first=$(head -1 "$W/paths.cistern")
if ((use_kiwix)); then
    wait_http "$KURL$(head -1 "$W/paths.kiwix")" 30 || { echo "kiwix-serve did not start: skipped" >&2; use_kiwix=0; }
fi
# Same bytes: cistern exactly as the archive holds them (checked by the tests);
# kiwix may rewrite, so sizes are shown.
csize=$(curl -s -o /dev/null -w '%{size_download}' "$CURL$first")
[[ $csize -gt 0 ]] || die "cistern does not serve $first"
((use_kiwix)) && log "first article: cistern $csize bytes, kiwix $(curl -s -o /dev/null -w '%{size_download}' "$KURL$(head -1 "$W/paths.kiwix")") bytes"

# Search words: the first word of each article title (3+ characters), 60 at most.
: >"$W/q.cistern"
: >"$W/q.kiwix"
tail -n +2 "$W/src/$ID/blobs/"*/"$(sed -n 's|^\.cistern/titles\.tsv\t[^\t]*\tblobs/../||p' "$M")" |
    cut -f2 | awk '{print $1}' | awk 'length($0) >= 3' | sort -u | head -60 >"$W/words.txt"
nq=$(wc -l <"$W/words.txt")
((nq > 0)) || die "no title words for search"
while IFS= read -r q; do
    e=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$q")
    echo "/api/v1/catalog?q=$e" >>"$W/q.cistern"
    echo "/search?content=$name&pattern=$e" >>"$W/q.kiwix"
done <"$W/words.txt"
chits=0
while IFS= read -r p; do
    [[ $(curl -s "$CURL$p") == *'"entry":'* ]] && chits=$((chits + 1))
done <"$W/q.cistern"
log "cistern: $chits of $nq title words find an article"
if ((use_kiwix)); then
    khits=0
    while IFS= read -r p; do
        curl -s "$KURL$p" | grep -q 'No result' || khits=$((khits + 1))
    done <"$W/q.kiwix"
    log "kiwix: $khits of $nq find something"
fi

declare -A R
measure() { # KEY URL CONNS PATHS
    local vals="" k
    export PATHS=$4
    for ((k = 1; k <= RUNS; k++)); do
        wrk_run "$2" "$3" "$W/list.lua"
        vals+=" $(wrk_rps)"
    done
    R[$1]=$(median <<<"$vals")
    log "$1: ${R[$1]} req/s [runs:$vals]"
}
measure article.cistern "$CURL/" "$C_PAGE" "$W/paths.cistern"
((use_kiwix)) && measure article.kiwix "$KURL/" "$C_PAGE" "$W/paths.kiwix"
measure search.cistern "$CURL/" "$C_SEARCH" "$W/q.cistern"
((use_kiwix)) && ALLOW_NON2XX=1 measure search.kiwix "$KURL/" "$C_SEARCH" "$W/q.kiwix"

# --- report ----------------------------------------------------------------------
mb=$(awk -v b="$zim_bytes" 'BEGIN {printf "%.3f", b / 1e6}')
echo
echo "ZIM: $(basename "$ZIM"), $entries entries, $narticles articles, $mb MB; $nq search words; median of $RUNS runs, wrk -t2, ${DURATION}s"
line() { # LABEL KEY
    local c=${R[$2.cistern]} k=${R[$2.kiwix]:-}
    if [[ -n $k ]]; then
        echo "$1: cistern $c req/s, kiwix $k req/s (ratio $(ratio "$c" "$k"))"
    else
        echo "$1: cistern $c req/s, kiwix n/a"
    fi
}
line "article requests ($C_PAGE connections)" article
line "search requests ($C_SEARCH connections)" search
echo "import: hub add-zim ${A}s ($(awk -v n="$entries" -v t="$A" 'BEGIN {printf "%.0f", n / t}') entries/s, $(awk -v m="$mb" -v t="$A" 'BEGIN {printf "%.2f", m / t}') MB/s of archive); bundle + node import ${I}s ($(awk -v n="$entries" -v t="$I" 'BEGIN {printf "%.0f", n / t}') entries/s)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
