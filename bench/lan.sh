#!/usr/bin/env bash
# bench/lan.sh - LAN serving: cistern against nginx and kiwix-serve, in one
# run, on the same content, loaded with wrk from the same machine.
#
# Not part of the test suite: it never fails for a missed target, only for a
# broken run (a command that errors, a server that does not start, a wrong
# byte).
#
# Content: cistern-gencat writes N (default 130,000) generated K-12 lessons
# (bilingual titles, ~2 KiB index.html each) plus one resource holding a
# BIG_MB (default 50) MiB file of random bytes.  The same files are served
#   nginx    from a plain directory (a hard-linked copy of the tree without
#            the resource.json files), own instance on loopback, as root,
#            worker_processes 2, sendfile on, access_log off, keep-alive;
#   kiwix    kiwix-serve from a ZIM built from that directory by zimwriterfs
#            (with its default Xapian full-text index), -n (no injected
#            toolbar, the cheaper setting for kiwix; the targets use it);
#            a second kiwix-serve in its default mode for one info line;
#   cistern  `cistern node serve` on a node that imported a bundle of the
#            published tree, with its default configuration.
#
# Metrics (each a median of RUNS runs; wrk -t2; the cores are shared with
# wrk, which is reported along with the numbers):
#   small page req/s   one lesson's index.html, C_PAGE connections; twice
#                      for cistern: as configured by default (a plain GET of
#                      a small file is answered from the response kept the
#                      first time, serve.file_cache) and with
#                      serve.file_cache = 0 (every request decodes it from
#                      the store); kiwix-serve also in its default mode
#                      (top bar injected), for information
#   big file MB/s      the BIG_MB file, C_BIG connections
#   search req/s, p99  the ~200 queries from cistern-gencat --queries, in
#                      turn, C_SEARCH connections (cistern /api/v1/catalog?q=,
#                      kiwix /search?content=NAME&pattern=); twice for
#                      cistern: as configured by default (the API keeps
#                      recent answers, so a cycle of 200 queries is mostly
#                      cache hits) and with serve.search_cache = 0
#   peak RSS           VmHWM of the `cistern node serve` process, sampled throughout
#   first response     launch of `cistern node serve` to the first 200 from
#                      /healthz and from /api/v1/catalog?q=数学 (5 ms polls)
# plus, for diagnosis, each query's latency on an idle cistern (slowest
# listed) and the server's own /metrics after the load.
#
# Environment
#   CISTERN=path, GENCAT=path   use these binaries instead of building them
#   BUILD_DIR=dir               build dir (default: <repo>/build-lanbench, Release)
#   N=n                         resources (default 130000)
#   BIG_MB=n                    size of the big file in MiB (default 50)
#   RUNS=n                      runs per measurement, median reported (default 3)
#   DURATION=s                  seconds per wrk run (default 10)
#   C_PAGE, C_BIG, C_SEARCH     wrk connections (default 32, 4, 32)
#   SEED=n                      cistern-gencat seed (default 1)
#   PEERS="nginx kiwix"         peers to run (default both)
#   NO_INSTALL=1                never apt-get install a missing peer
#   KEEP=1                      keep the work dir
#   TMPDIR                      where the work dir goes (needs ~4 GB for N=130000)
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/.." && pwd)
N=${N:-130000}
BIG_MB=${BIG_MB:-50}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
C_PAGE=${C_PAGE:-32}
C_BIG=${C_BIG:-4}
C_SEARCH=${C_SEARCH:-32}
SEED=${SEED:-1}
PEERS=${PEERS:-nginx kiwix}
BUILD_DIR=${BUILD_DIR:-$repo_root/build-lanbench}
export CISTERN_QUIET=1
export LC_ALL=C.UTF-8

die() {
    echo "lan.sh: $*" >&2
    exit 2
}
log() { echo "  .. $*" >&2; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- work dir and cleanup -------------------------------------------------------
W=$(mktemp -d "${TMPDIR:-/tmp}/cistern-lan.XXXXXX")
PIDS=() # nginx, kiwix-serve, the memory sampler; cistern is in $W/cistern.pid
cleanup() {
    local p
    p=$(cat "$W/cistern.pid" 2>/dev/null || true)
    [[ -n $p ]] && PIDS+=("$p")
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "kept $W" >&2
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ----------------------------------------------------------------------
need_tool() { # tool debian-package
    command -v "$1" >/dev/null 2>&1 || die "$1 not found: apt-get install $2"
}
# Install a peer's package when its command is missing; 1 (with the reason
# printed) when that is not possible.
have_peer() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    if [[ ${NO_INSTALL:-0} == 1 ]]; then
        echo "peer $1 missing and NO_INSTALL=1: skipped" >&2
        return 1
    fi
    local cand
    cand=$(apt-cache policy "$2" 2>/dev/null | sed -n 's/^ *Candidate: //p')
    if [[ -z $cand || $cand == "(none)" ]]; then
        echo "peer $1: no installable package $2 in the apt sources: skipped" >&2
        return 1
    fi
    if [[ $(id -u) != 0 ]]; then
        echo "peer $1: package $2 $cand available but not root: skipped" >&2
        return 1
    fi
    log "installing $2 $cand"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" \
        >"$W/apt-$2.log" 2>&1; then
        echo "peer $1: apt-get install $2 failed: $(tail -1 "$W/apt-$2.log"): skipped" >&2
        return 1
    fi
    command -v "$1" >/dev/null 2>&1
}
need_tool curl curl
need_tool awk mawk
need_tool ss iproute2
command -v wrk >/dev/null 2>&1 || have_peer wrk wrk || die "wrk is required"
use_nginx=0 use_kiwix=0
if [[ " $PEERS " == *" nginx "* ]] && have_peer nginx nginx; then use_nginx=1; fi
if [[ " $PEERS " == *" kiwix "* ]] && have_peer kiwix-serve kiwix-tools &&
    have_peer zimwriterfs zim-tools; then use_kiwix=1; fi

build() {
    need_tool cmake cmake
    need_tool ninja ninja-build
    log "building cistern and cistern-gencat (Release) in $BUILD_DIR"
    mkdir -p "$BUILD_DIR"
    cmake -S "$repo_root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCISTERN_BUILD_TESTS=OFF >"$BUILD_DIR/configure.log" 2>&1 ||
        { cat "$BUILD_DIR/configure.log" >&2; die "cmake configure failed"; }
    cmake --build "$BUILD_DIR" --target cistern cistern-gencat >"$BUILD_DIR/build.log" 2>&1 ||
        { tail -40 "$BUILD_DIR/build.log" >&2; die "build failed"; }
    CISTERN=${CISTERN:-$BUILD_DIR/tools/cistern}
    GENCAT=${GENCAT:-$BUILD_DIR/tools/cistern-gencat}
}
if [[ -z ${CISTERN:-} || -z ${GENCAT:-} ]]; then build; fi
[[ -x $CISTERN && -x $GENCAT ]] || die "no cistern/cistern-gencat binaries"

# --- helpers --------------------------------------------------------------------
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'; }
verdict() { # verdict VALUE OP TARGET: PASS or MISS
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0);
        if (v == "nan" || v == "") ok = 0;
        print ok ? "PASS" : "MISS" }'
}
free_port() {
    local p used
    used=$(ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u)
    while :; do
        p=$((20000 + RANDOM % 40000))
        grep -qx "$p" <<<"$used" || { echo "$p"; return; }
    done
}
wait_http() { # wait_http URL SECONDS
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == 200 ]] && return 0
        sleep 0.05
    done
    return 1
}
# wrk_run URL CONNS [LUA] -> raw output in $WRK_OUT; fails on non-2xx
# responses unless ALLOW_NON2XX=1 (then counted in $W/non2xx.log).
wrk_run() {
    local url=$1 conns=$2 lua=${3:-}
    local args=(-t2 -c"$conns" -d"${DURATION}s" --timeout 10s --latency)
    [[ -n $lua ]] && args+=(-s "$lua")
    WRK_OUT=$(wrk "${args[@]}" "$url" 2>&1) || die "wrk failed on $url: $WRK_OUT"
    if grep -q "Non-2xx" <<<"$WRK_OUT"; then
        if [[ ${ALLOW_NON2XX:-0} == 1 ]]; then
            echo "$url: $(grep Non-2xx <<<"$WRK_OUT")" >>"$W/non2xx.log"
            return 0
        fi
        die "non-2xx responses from $url: $(grep Non-2xx <<<"$WRK_OUT")"
    fi
}
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' <<<"$WRK_OUT"; }
wrk_mbps() { # Transfer/sec in MB/s (10^6 bytes)
    awk '/^Transfer\/sec:/ {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v);
        m = (u == "GB") ? 1073741824 : (u == "MB") ? 1048576 : (u == "KB") ? 1024 : 1;
        printf "%.1f", v * m / 1e6}' <<<"$WRK_OUT"
}
wrk_p99_ms() {
    awk '/^ +99%/ {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        m = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1;
        printf "%.2f", v * m}' <<<"$WRK_OUT"
}
wrk_timeouts() { sed -n 's/.*Socket errors:.*timeout \([0-9]*\).*/\1/p' <<<"$WRK_OUT"; }

# Peak memory of the cistern processes: a background sampler records VmHWM
# and VmRSS of the process in $W/cistern.pid every 50 ms.
rss_sampler() {
    local pid hwm
    while :; do
        pid=$(cat "$W/cistern.pid" 2>/dev/null || true)
        if [[ -n $pid ]] && hwm=$(awk '/^VmHWM:/ {h=$2} /^VmRSS:/ {r=$2} END {if (h) print h, r}' \
            "/proc/$pid/status" 2>/dev/null) && [[ -n $hwm ]]; then
            echo "$pid $hwm" >>"$W/rss.log"
        fi
        sleep 0.05
    done
}

# --- content --------------------------------------------------------------------
echo "lan.sh: $N resources, ${BIG_MB} MiB file, $RUNS runs x ${DURATION}s, wrk -t2, $(nproc) cores" \
    "($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | awk 'NR == 1')), $(free -m | awk '/^Mem:/ {print $2}') MB RAM"
echo "note: wrk runs on the same cores as the server it loads; every server pays that equally"
echo "note: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
t=$(now_ms)
"$GENCAT" "$W/src" "$N" --seed "$SEED" --queries "$W/queries.txt" 2>"$W/gencat.log" ||
    { cat "$W/gencat.log" >&2; die "cistern-gencat failed"; }
log "generated $N resources in $((($(now_ms) - t) / 1000)) s"
mkdir -p "$W/src/bench-big"
head -c $((BIG_MB * 1048576)) /dev/urandom >"$W/src/bench-big/big.bin"
printf '{"id": "bench-big", "title": {"en": "Benchmark file", "zh": "测试文件"}, "language": "en", "type": "video", "entry": "big.bin", "license": "CC0-1.0"}\n' \
    >"$W/src/bench-big/resource.json"
# The page everyone serves: the first math lesson (a typical ~2 KiB page).
# (awk, not head: head would leave sort a SIGPIPE, fatal under pipefail)
page_id=$(find "$W/src" -mindepth 1 -maxdepth 1 -name 'math-*' -printf '%f\n' | sort | awk 'NR == 1')
[[ -n $page_id ]] || die "no math resource generated"
page="$page_id/index.html"

# The plain directory (nginx, zimwriterfs): the same files, hard-linked.
cp -al "$W/src" "$W/html"
find "$W/html" -name resource.json -delete
printf '<!doctype html><meta charset="utf-8"><title>Cistern LAN bench</title><h1>Cistern LAN bench</h1>\n' \
    >"$W/html/index.html"
base64 -d >"$W/html/illustration.png" <<'PNG'
iVBORw0KGgoAAAANSUhEUgAAADAAAAAwCAIAAADYYG7QAAAAOklEQVR42u3OQQ0AAAgEoMtjRFMZ0RbOBxsBSPW8EiEhISEhISEhISEhISEhISEhISEhISEhISGhOwvKv/Smhbp6tgAAAABJRU5ErkJggg==
PNG

# Cistern: publish, bundle, import.
t=$(now_ms)
"$CISTERN" hub init "$W/repo" >/dev/null
/usr/bin/env time -f "%e s, %M KB max RSS" -o "$W/publish.time" "$CISTERN" hub publish "$W/repo" "$W/src" \
    >"$W/publish.log" 2>&1 || { tail -5 "$W/publish.log" >&2; die "publish failed"; }
"$CISTERN" hub bundle "$W/repo" --since 0 -o "$W/bundle" >/dev/null
"$CISTERN" node init "$W/node" --trust "$W/repo/root.json" >/dev/null
/usr/bin/env time -f "%e s, %M KB max RSS" -o "$W/import.time" "$CISTERN" node import "$W/node" "$W/bundle" \
    >"$W/import.log" 2>&1 || { tail -5 "$W/import.log" >&2; die "import failed"; }
log "cistern: publish $(cat "$W/publish.time"); import $(cat "$W/import.time")"
rm -f "$W/bundle"

# Kiwix: a ZIM of the plain directory.
zim_name=cistern_bench
if ((use_kiwix)); then
    t=$(now_ms)
    if zimwriterfs -w index.html -I illustration.png -l zho -t "Cistern LAN bench" \
        -d "Generated K-12 lessons" -c Cistern -p Cistern -n "$zim_name" \
        "$W/html" "$W/$zim_name.zim" >"$W/zimwriterfs.log" 2>&1; then
        log "zimwriterfs: $((($(now_ms) - t) / 1000)) s, $(du -m "$W/$zim_name.zim" | cut -f1) MB ZIM"
    else
        echo "peer kiwix: zimwriterfs failed: $(tail -1 "$W/zimwriterfs.log"): skipped" >&2
        use_kiwix=0
    fi
fi

# --- servers --------------------------------------------------------------------
cistern_start() { # cistern_start PORT: sets CPID; writes $W/cistern.pid
    "$CISTERN" node serve "$W/node" --listen "127.0.0.1:$1" >"$W/serve.out" 2>>"$W/serve.err" &
    CPID=$!
    echo "$CPID" >"$W/cistern.pid"
}
cistern_stop() {
    kill -TERM "$CPID" 2>/dev/null || true
    wait "$CPID" 2>/dev/null || true
    : >"$W/cistern.pid"
}
rss_sampler &
PIDS+=($!)

CPORT=$(free_port)
cistern_start "$CPORT"
CURL="http://127.0.0.1:$CPORT"
wait_http "$CURL/healthz" 20 || die "cistern did not start: $(tail -3 "$W/serve.err")"

if ((use_nginx)); then
    NPORT=$(free_port)
    mkdir -p "$W/nginx/logs" "$W/nginx/tmp"
    cat >"$W/nginx/nginx.conf" <<EOF
user root;
worker_processes 2;
daemon off;
pid $W/nginx/nginx.pid;
error_log $W/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    types { text/html html; image/png png; application/octet-stream bin; }
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path $W/nginx/tmp/body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NPORT;
        root $W/html;
    }
}
EOF
    nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/logs/error.log" >"$W/nginx/out" 2>&1 &
    PIDS+=($!)
    NURL="http://127.0.0.1:$NPORT"
    wait_http "$NURL/$page" 10 || die "nginx did not start: $(tail -3 "$W/nginx/logs/error.log" "$W/nginx/out")"
fi
if ((use_kiwix)); then
    KPORT=$(free_port)
    kiwix-serve -n -i 127.0.0.1 -p "$KPORT" "$W/$zim_name.zim" >"$W/kiwix.log" 2>&1 &
    PIDS+=($!)
    KURL="http://127.0.0.1:$KPORT"
    # kiwix-serve as a school would run it: its default mode injects the
    # top bar into every page (shown for information, no target).
    KTPORT=$(free_port)
    kiwix-serve -i 127.0.0.1 -p "$KTPORT" "$W/$zim_name.zim" >"$W/kiwix-bar.log" 2>&1 &
    PIDS+=($!)
    KTURL="http://127.0.0.1:$KTPORT"
    if ! wait_http "$KURL/$zim_name/$page" 30; then
        echo "peer kiwix: kiwix-serve did not serve $KURL/$zim_name/$page: skipped" >&2
        use_kiwix=0
    fi
fi

# The same bytes from everyone (kiwix: the page's text; zimwriterfs may
# rewrite HTML, so compare only the big file byte for byte).
curl -s "$CURL/r/$page" | cmp -s - "$W/src/$page" || die "cistern serves another $page"
curl -s "$CURL/r/bench-big/big.bin" | cmp -s - "$W/src/bench-big/big.bin" || die "cistern serves another big.bin"
if ((use_nginx)); then
    curl -s "$NURL/$page" | cmp -s - "$W/src/$page" || die "nginx serves another $page"
fi
kiwix_big=0
if ((use_kiwix)); then
    ksize=$(curl -s -o /dev/null -w '%{size_download}' "$KURL/$zim_name/$page")
    log "page: $(stat -c %s "$W/src/$page") bytes from the tree, $ksize from kiwix-serve"
    if curl -s "$KURL/$zim_name/bench-big/big.bin" | cmp -s - "$W/src/bench-big/big.bin"; then
        kiwix_big=1
    else
        log "kiwix-serve does not return big.bin byte for byte: left out of the big-file line"
    fi
fi

# --- search request lists ---------------------------------------------------------
urlenc() { # stdin line -> percent-encoded
    local LC_ALL=C s c i out=""
    s=$1
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [a-zA-Z0-9.~_-]) out+=$c ;;
        *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}
: >"$W/paths.cistern"
: >"$W/paths.kiwix"
nq=0
while IFS= read -r q; do
    [[ -n $q ]] || continue
    nq=$((nq + 1))
    if [[ $q == *'*' ]]; then
        e=$(urlenc "${q%\*}")
        echo "/api/v1/catalog?q=$e&prefix=1" >>"$W/paths.cistern"
        echo "/search?content=$zim_name&pattern=$(urlenc "$q")" >>"$W/paths.kiwix"
    else
        e=$(urlenc "$q")
        echo "/api/v1/catalog?q=$e" >>"$W/paths.cistern"
        echo "/search?content=$zim_name&pattern=$e" >>"$W/paths.kiwix"
    fi
done <"$W/queries.txt"
cat >"$W/search.lua" <<'LUA'
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
# Does every server answer every query?  (Also the hit counts, for the record.)
hits=0
while IFS= read -r p; do
    r=$(curl -s "$CURL$p")
    [[ $r == *'"total":'* ]] || die "cistern: no result object for $p: ${r:0:200}"
    [[ $r == *'"total":0,'* ]] || hits=$((hits + 1))
done <"$W/paths.cistern"
log "cistern: $hits of $nq queries find something"
if ((use_kiwix)); then
    khits=0
    while IFS= read -r p; do
        r=$(curl -s "$KURL$p")
        grep -q 'No result' <<<"$r" || khits=$((khits + 1))
    done < <(head -40 "$W/paths.kiwix")
    log "kiwix: $khits of the first 40 queries find something"
fi

# --- measurements ---------------------------------------------------------------
declare -A R
measure() { # measure KEY URL CONNS KIND [LUA]: KIND rps|mbps|search
    local key=$1 url=$2 conns=$3 kind=$4 lua=${5:-} k vals="" p99s="" tos=""
    for ((k = 1; k <= RUNS; k++)); do
        wrk_run "$url" "$conns" "$lua"
        case $kind in
        rps) vals+=" $(wrk_rps)" ;;
        mbps) vals+=" $(wrk_mbps)" ;;
        search)
            vals+=" $(wrk_rps)"
            p99s+=" $(wrk_p99_ms)"
            tos+=" $(wrk_timeouts)"
            ;;
        esac
        echo "$key run $k: $(grep -E '^(Requests|Transfer)/sec|^ +99%|Socket errors' <<<"$WRK_OUT" | tr -s ' \n' ' ')" \
            >>"$W/wrk.log"
    done
    R[$key]=$(median <<<"$vals")
    if [[ $kind == search ]]; then
        R[$key.p99]=$(median <<<"$p99s")
        R[$key.timeouts]=$(tr ' ' '\n' <<<"$tos" | awk '{s += $1} END {print s + 0}')
    fi
    log "$key: ${R[$key]}${R[$key.p99]:+ (p99 ${R[$key.p99]} ms)} [runs:$vals]"
}

log "small page: /$page"
measure page.cistern "$CURL/r/$page" "$C_PAGE" rps
((use_nginx)) && measure page.nginx "$NURL/$page" "$C_PAGE" rps
((use_kiwix)) && measure page.kiwix "$KURL/$zim_name/$page" "$C_PAGE" rps
((use_kiwix)) && wait_http "$KTURL/$zim_name/$page" 30 && measure page.kiwixbar "$KTURL/$zim_name/$page" "$C_PAGE" rps

log "big file: ${BIG_MB} MiB"
measure big.cistern "$CURL/r/bench-big/big.bin" "$C_BIG" mbps
((use_nginx)) && measure big.nginx "$NURL/bench-big/big.bin" "$C_BIG" mbps
((use_kiwix && kiwix_big)) && measure big.kiwix "$KURL/$zim_name/bench-big/big.bin" "$C_BIG" mbps

log "search: $nq queries, $C_SEARCH connections"
export PATHS="$W/paths.cistern"
measure search.cistern "$CURL/" "$C_SEARCH" search "$W/search.lua"
curl -s "$CURL/metrics" >"$W/metrics.after-load.txt" || true
if ((use_kiwix)); then
    export PATHS="$W/paths.kiwix"
    ALLOW_NON2XX=1 measure search.kiwix "$KURL/" "$C_SEARCH" search "$W/search.lua"
fi

# The same search load with the API's answer cache off (serve.search_cache =
# 0): a cycle of ~200 queries is otherwise answered mostly from that cache,
# so this is the line that measures search itself.
cistern_stop
cp "$W/node/node.conf" "$W/node.conf.saved" 2>/dev/null || : >"$W/node.conf.saved"
printf 'serve.search_cache = 0\nserve.file_cache = 0\n' >>"$W/node/node.conf"
cistern_start "$CPORT"
wait_http "$CURL/healthz" 20 || die "cistern did not restart without its caches: $(tail -3 "$W/serve.err")"
export PATHS="$W/paths.cistern"
measure search_nc.cistern "$CURL/" "$C_SEARCH" search "$W/search.lua"
[[ -n ${R[search.kiwix]:-} ]] && R[search_nc.kiwix]=${R[search.kiwix]}
# The small page without the file cache (serve.file_cache = 0): every
# request looks the file up and decodes it from the store.
measure page_nc.cistern "$CURL/r/$page" "$C_PAGE" rps
for peer in nginx kiwix; do
    [[ -n ${R[page.$peer]:-} ]] && R[page_nc.$peer]=${R[page.$peer]}
done

# Each query alone on an idle server, cache off (second of two passes): which are slow.
: >"$W/query-times.txt"
for pass in 1 2; do
    while IFS=$'\t' read -r q p; do
        t=$(curl -s -o /dev/null -w '%{time_total}' "$CURL$p")
        [[ $pass == 2 ]] && printf '%s\t%s\n' "$t" "$q" >>"$W/query-times.txt"
    done < <(grep -v '^$' "$W/queries.txt" | paste - "$W/paths.cistern")
done
sort -gr "$W/query-times.txt" -o "$W/query-times.txt"

# First response after start (the default configuration again).
cistern_stop
cp "$W/node.conf.saved" "$W/node/node.conf"
hz="" cat_ms=""
for ((k = 1; k <= RUNS; k++)); do
    t0=$(date +%s%N)
    cistern_start "$CPORT"
    th="" tc=""
    for ((i = 0; i < 2000; i++)); do
        if [[ -z $th ]] && [[ $(curl -s -o /dev/null -w '%{http_code}' "$CURL/healthz") == 200 ]]; then
            th=$((($(date +%s%N) - t0) / 1000000))
        fi
        if [[ -n $th ]] && [[ $(curl -s -o /dev/null -w '%{http_code}' "$CURL/api/v1/catalog?q=%E6%95%B0%E5%AD%A6") == 200 ]]; then
            tc=$((($(date +%s%N) - t0) / 1000000))
            break
        fi
        sleep 0.005
    done
    [[ -n $tc ]] || die "cistern did not answer within 10 s of a restart: $(tail -3 "$W/serve.err")"
    hz+=" $th"
    cat_ms+=" $tc"
    cistern_stop
done
R[first.healthz]=$(median <<<"$hz")
R[first.catalog]=$(median <<<"$cat_ms")
sleep 0.2
peak_kb=$(awk '{if ($2 > m) m = $2} END {print m + 0}' "$W/rss.log")
R[rss]=$(awk -v k="$peak_kb" 'BEGIN {printf "%.1f", k / 1024}')

# --- report ---------------------------------------------------------------------
na="n/a"
line_vs() { # line_vs LABEL UNIT KEY: cistern vs nginx (target) and kiwix (target)
    local label=$1 unit=$2 key=$3 tn=$4 tk=$5 out v r status="PASS"
    v=${R[$key.cistern]}
    out="$label: cistern $v$unit"
    if [[ -n $tn ]]; then
        if [[ -n ${R[$key.nginx]:-} ]]; then
            r=$(ratio "$v" "${R[$key.nginx]}")
            out+=", nginx ${R[$key.nginx]}$unit (ratio $r, target ≥$tn)"
            [[ $(verdict "$r" ">=" "$tn") == PASS ]] || status=MISS
        else
            out+=", nginx $na"
        fi
    fi
    if [[ -n $tk ]]; then
        if [[ -n ${R[$key.kiwix]:-} ]]; then
            r=$(ratio "$v" "${R[$key.kiwix]}")
            out+=", kiwix ${R[$key.kiwix]}$unit (ratio $r, target ≥$tk)"
            [[ $(verdict "$r" ">=" "$tk") == PASS ]] || status=MISS
        else
            out+=", kiwix $na"
        fi
    fi
    echo "$out $status"
}
echo
echo "== cistern LAN serving, $N resources, medians of $RUNS runs =="
line_vs "small page req/s, file cache on" "" page 0.5 5
line_vs "small page req/s, file cache off" "" page_nc 0.5 5
[[ -n ${R[page.kiwixbar]:-} ]] &&
    echo "  (kiwix-serve in its default mode, top bar injected: ${R[page.kiwixbar]} req/s; cistern with its file cache $(ratio "${R[page.cistern]}" "${R[page.kiwixbar]}")× that, no target)"
if [[ -n ${R[big.kiwix]:-} ]]; then
    line_vs "${BIG_MB} MB file MB/s" "" big 0.8 ""
    echo "  (kiwix ${R[big.kiwix]} MB/s, no target)"
else
    line_vs "${BIG_MB} MB file MB/s" "" big 0.8 ""
fi
s_line=$(line_vs "search req/s, answer cache on" "" search "" 20)
p99=${R[search.cistern.p99]}
s_status=$([[ $s_line == *PASS && $(verdict "$p99" "<=" 20) == PASS ]] && echo PASS || echo MISS)
echo "${s_line% *}; cistern p99 $p99 ms at $C_SEARCH connections (target ≤20)${R[search.kiwix.p99]:+, kiwix p99 ${R[search.kiwix.p99]} ms}${R[search.kiwix.timeouts]:+, kiwix timeouts ${R[search.kiwix.timeouts]}} $s_status"
s_line=$(line_vs "search req/s, answer cache off" "" search_nc "" 20)
p99=${R[search_nc.cistern.p99]}
s_status=$([[ $s_line == *PASS && $(verdict "$p99" "<=" 20) == PASS ]] && echo PASS || echo MISS)
echo "${s_line% *}; cistern p99 $p99 ms at $C_SEARCH connections (target ≤20) $s_status"
echo "peak resident memory: cistern ${R[rss]} MB (VmHWM over the whole run, target ≤64) $(verdict "${R[rss]}" "<=" 64)"
echo "first response after start: /healthz ${R[first.healthz]} ms, /api/v1/catalog?q=数学 ${R[first.catalog]} ms (target ≤200) $(verdict "${R[first.catalog]}" "<=" 200)"
echo
echo "slowest queries on an idle cistern, answer cache off (one client; curl time_total; '*' = prefix=1):"
head -8 "$W/query-times.txt" | awk -F'\t' '{printf "  %7.1f ms  %s\n", $1 * 1000, $2}'
awk -F'\t' '{a[NR] = $1} END {printf "  all %d queries: median %.1f ms, 90th %.1f ms, max %.1f ms\n", NR,
    a[int(NR / 2) + 1] * 1000, a[int(NR / 10) + 1] * 1000, a[1] * 1000}' "$W/query-times.txt"
if [[ -s $W/non2xx.log ]]; then
    echo "non-2xx answers (counted, not fatal, for kiwix):"
    sed 's/^/  /' "$W/non2xx.log"
fi
echo "setup: publish $(cat "$W/publish.time"); import $(cat "$W/import.time"); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
if grep -q '^cistern_http_request_duration_seconds_bucket{route="api"' "$W/metrics.after-load.txt" 2>/dev/null; then
    echo "cistern /metrics after the search load: API request durations (cumulative share):"
    awk -F'[ {}=",]+' '/^cistern_http_request_duration_seconds_bucket\{route="api"/ {le[++n] = $5; c[n] = $6}
        /^cistern_http_request_duration_seconds_(sum|count)\{route="api"/ {v[$1] = $NF}
        END {t = c[n]; line = "  ";
             for (i = 1; i <= n; i++) if (t > 0) line = line sprintf("<=%ss %.1f%%  ", le[i], 100 * c[i] / t);
             print line;
             if (v["cistern_http_request_duration_seconds_count"] > 0)
                 printf "  %d API requests, mean %.2f ms\n", v["cistern_http_request_duration_seconds_count"],
                     1000 * v["cistern_http_request_duration_seconds_sum"] / v["cistern_http_request_duration_seconds_count"]}' \
        "$W/metrics.after-load.txt"
fi
