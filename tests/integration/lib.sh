# lib.sh - shared helpers for integration tests that run the real `cistern`
# binary.  Usage: source lib.sh CISTERN_BINARY SOURCE_ROOT
set -euo pipefail

CISTERN=${1:?usage: test.sh CISTERN_BINARY SOURCE_ROOT}
SRCROOT=${2:?usage: test.sh CISTERN_BINARY SOURCE_ROOT}
export CISTERN_QUIET=1
T=$(mktemp -d "${TMPDIR:-/tmp}/cistern-test.XXXXXX")
SPID= HPID= PXPID=
# However a test ends, the servers it started stop and its files go.
cleanup() {
    local p
    for p in $SPID $HPID $PXPID; do
        kill -TERM "$p" 2>/dev/null || true
    done
    rm -rf "$T"
}
trap cleanup EXIT
CHECKS=0
FAILS=0

cs() { "$CISTERN" "$@"; }

ok() { CHECKS=$((CHECKS + 1)); }
bad() {
    CHECKS=$((CHECKS + 1))
    FAILS=$((FAILS + 1))
    echo "FAIL: $*" >&2
}
check() { # check "description" command...
    local what=$1
    shift
    if "$@" >/dev/null; then ok; else bad "$what"; fi
}
# A clear refusal: exit status 1 (CLI_FAIL; a crash is 128+N, a usage error
# 2), a short output (at most 3 lines) whose first line starts with
# "cistern: " (cli_fail/cli_failf in tools/cli.c), containing the expected
# message part (case-insensitive; "" accepts any message), and no sanitizer
# report.
check_fails() { # check_fails "description" "expected message part" command...
    check_refusal 1 "cistern: " "$@"
}
# A usage error: the same, with exit status 2 (CLI_USAGE).
check_usage() { # check_usage "description" "expected message part" command...
    check_refusal 2 "cistern: " "$@"
}
# The same for any program: its exit status and the start of its first line.
check_refusal() { # check_refusal STATUS PREFIX "description" "expected message part" command...
    local status=$1 prefix=$2 what=$3 want=$4
    shift 4
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    if grep -q "Sanitizer" <<<"$out"; then
        bad "$what: sanitizer report: $out"
    elif [ "$rc" -eq 0 ]; then
        bad "$what: succeeded but should have failed"
    elif [ "$rc" -ne "$status" ]; then
        bad "$what: exit status $rc, not $status: \"$out\""
    elif [[ $(head -n 1 <<<"$out") != "$prefix"* ]]; then
        bad "$what: output does not start with \"$prefix\": \"$out\""
    elif [ -n "$want" ] && ! grep -qi -- "$want" <<<"$out"; then
        bad "$what: message \"$out\" lacks \"$want\""
    elif [ "$(wc -l <<<"$out")" -gt 3 ]; then
        bad "$what: error is not a short message: $out"
    else
        ok
    fi
}
# A server that ThreadSanitizer stopped (tests/tsan.sh sets exitcode=66) or
# that logged a sanitizer report (ThreadSanitizer; AddressSanitizer or
# LeakSanitizer in the ASan build, where a leak shows when the server exits)
# fails the test, with its log.
TSAN_SEEN=
tsan_check() { # tsan_check WHAT EXIT_STATUS ERRFILE
    if [ "$2" -eq 66 ] || grep -qE "WARNING: ThreadSanitizer|ERROR: (AddressSanitizer|LeakSanitizer)" "$3" 2>/dev/null; then
        bad "$1: sanitizer report (exit $2):"
        cat "$3" >&2 || true
        TSAN_SEEN="$TSAN_SEEN $3"
    fi
}
finish() {
    local f
    for f in "$T"/*.err; do
        if [ -f "$f" ] && [[ " $TSAN_SEEN " != *" $f "* ]]; then
            tsan_check "$(basename "$f")" 0 "$f"
        fi
    done
    echo "$((CHECKS - FAILS)) passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}

node_version() { cs node status "$1" --json | sed -n 's/.*"version":\([0-9]*\).*/\1/p'; }

# Every file of every resource folder in a source tree reads back from the
# node byte for byte; resources absent from the tree are not served.
same_as_tree() { # same_as_tree DATA SOURCE_DIR
    local data=$1 src=$2 id f n=0 bad_files=0
    for d in "$src"/*/; do
        id=$(basename "$d")
        while IFS= read -r -d '' f; do
            f=${f#"$d"}
            [ "$f" = resource.json ] && continue
            n=$((n + 1))
            if ! cmp -s <(cs node cat "$data" "$id" "$f") "$d$f"; then
                echo "  differs: $id/$f" >&2
                bad_files=$((bad_files + 1))
            fi
        done < <(find "$d" -type f ! -name '.*' -print0)
    done
    [ "$n" -gt 0 ] && [ "$bad_files" -eq 0 ]
}

# A generated source tree: N resources of text, a shared (duplicate) file,
# and incompressible media.  make_tree DIR N MEDIA_KB SEED
make_tree() {
    local dir=$1 n=$2 media_kb=$3 seed=$4 i
    mkdir -p "$dir"
    for i in $(seq 1 "$n"); do
        local id="gen-$i" r="$dir/gen-$i"
        mkdir -p "$r/img"
        cat >"$r/resource.json" <<JSON
{"id": "$id", "title": {"zh": "生成的课程 $i 数学", "en": "Generated lesson $i"},
 "language": "zh", "subject": "math", "grades": [$((i % 9 + 1))], "type": "html",
 "entry": "index.html", "license": "CC0-1.0", "edition": "gen", "volume": "1", "unit": "$i"}
JSON
        {
            echo "<!doctype html><meta charset=utf-8><title>Lesson $i</title><h1>第 $i 课</h1>"
            for k in $(seq 1 40); do echo "<p>Paragraph $k of lesson $i (seed $seed): 数学 分数 几何 the quick brown fox.</p>"; done
        } >"$r/index.html"
        printf 'body{font-family:sans-serif}\n' >"$r/style.css" # identical in every resource
        if [ "$media_kb" -gt 0 ]; then
            head -c $((media_kb * 1024)) /dev/urandom >"$r/img/photo.jpg"
        fi
    done
}

# Turn a plain folder of content (such as the OpenStax corpus) into a source
# tree: every folder under modules/ becomes a resource, every other top-level
# folder one resource, loose top-level files one more.  corpus_tree SRC OUT
corpus_tree() {
    local src=$1 out=$2 d id
    mkdir -p "$out"
    _corpus_res() { # _corpus_res ID TITLE FILES_FROM_DIR
        local id=$1 r="$out/$1" entry
        mkdir -p "$r"
        cp -al "$3/." "$r/" 2>/dev/null || cp -r "$3/." "$r/"
        rm -f "$r/resource.json"
        entry=$(cd "$r" && find . -type f ! -name '.*' | sed 's|^\./||' | LC_ALL=C sort | head -1)
        printf '{"id": "%s", "title": {"en": "%s"}, "language": "en", "subject": "math", "type": "document", "entry": "%s", "license": "CC-BY-NC-SA-4.0", "publisher": "OpenStax"}\n' \
            "$id" "$2" "$entry" >"$r/resource.json"
    }
    for d in "$src"/modules/*/; do
        id=$(basename "$d")
        _corpus_res "calc-$id" "Calculus module $id" "$d"
    done
    for d in "$src"/*/; do
        id=$(basename "$d")
        [ "$id" = modules ] && continue
        _corpus_res "calc-$(tr 'A-Z_' 'a-z-' <<<"$id")" "Calculus $id" "$d"
    done
    mkdir -p "$T/.loose"
    find "$src" -maxdepth 1 -type f -exec cp {} "$T/.loose/" \;
    _corpus_res calc-meta "Calculus book files" "$T/.loose"
    rm -rf "$T/.loose"
}

# The port a server we started printed on its first line ("...127.0.0.1:PORT"),
# waited for up to 5 s.  wait_port OUTFILE ERRFILE WHAT
# Callers empty OUTFILE before starting the server: the shell truncates a
# redirection in the child, after `&` returns, so a stale line from a
# previous server could otherwise be read as this one's port.
wait_port() {
    local i p=
    for i in $(seq 1 100); do
        p=$(sed -n 's|.*127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$1" | head -1)
        [ -n "$p" ] && break
        sleep 0.05
    done
    [ -n "$p" ] || { echo "$3 did not start: $(cat "$2")" >&2; return 1; }
    echo "$p"
}

# Start `cistern node serve DATA` on a random loopback port; sets PORT, SPID, URL.
serve_start() { # serve_start DATA
    : >"$T/serve.out"
    "$CISTERN" node serve "$1" --listen 127.0.0.1:0 >"$T/serve.out" 2>"$T/serve.err" &
    SPID=$!
    PORT=$(wait_port "$T/serve.out" "$T/serve.err" server)
    URL="http://127.0.0.1:$PORT"
}
serve_stop() {
    local rc=0
    kill -TERM "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || rc=$?
    tsan_check "node serve" "$rc" "$T/serve.err"
}
# HTTP status of a request: st [curl options...] URL
st() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
hdr() { # hdr NAME [curl options] URL: value of a response header
    local name=$1
    shift
    curl -s -D - -o /dev/null "$@" | tr -d '\r' | sed -n "s/^$name: //Ip" | head -1
}

# Start `cistern hub serve REPO` on a random loopback port; sets HPID, HUB.
hub_start() { # hub_start REPO [hub serve options...]
    : >"$T/hub.out"
    "$CISTERN" hub serve "$1" --listen 127.0.0.1:0 "${@:2}" >"$T/hub.out" 2>"$T/hub.err" &
    HPID=$!
    HUB="http://127.0.0.1:$(wait_port "$T/hub.out" "$T/hub.err" hub)"
}
hub_stop() {
    local rc=0
    kill -TERM "$HPID" 2>/dev/null || true
    wait "$HPID" 2>/dev/null || rc=$?
    tsan_check "hub serve" "$rc" "$T/hub.err"
}

# The fault proxy next to the build: build/tools/cistern -> build/tests/tools/.
FAULTPROXY=$(cd "$(dirname "$CISTERN")/.." && pwd)/tests/tools/cistern-faultproxy
# Start the proxy in front of TARGET_URL with fault options; sets PX, PXPID.
proxy_start() { # proxy_start TARGET_PORT [options...]
    local target=$1
    shift
    : >"$T/proxy.out"
    "$FAULTPROXY" --listen 127.0.0.1:0 --target "127.0.0.1:$target" --stats "$T/proxy.stats" "$@" \
        >"$T/proxy.out" 2>"$T/proxy.err" &
    PXPID=$!
    PX="http://127.0.0.1:$(wait_port "$T/proxy.out" "$T/proxy.err" proxy)"
}
proxy_stop() {
    kill -TERM "$PXPID" 2>/dev/null || true
    wait "$PXPID" 2>/dev/null || true
}
proxy_stat() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$T/proxy.stats"; }
