#!/bin/bash
# Self-test of cistern-faultproxy, the bad-link simulator the network tests
# use: run the real `cistern node serve` behind it and check each fault with
# curl.  Timing checks are loose lower bounds (and generous upper bounds), so
# a loaded machine does not make them flaky.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "curl missing (apt-get install curl)"; exit 1; }

# build/tools/cistern -> build/tests/tools/cistern-faultproxy
PROXY="$(cd "$(dirname "$CISTERN")/.." && pwd)/tests/tools/cistern-faultproxy"
if [ ! -x "$PROXY" ]; then
    echo "FAIL: proxy not built: $PROXY (is add_subdirectory(tools) in tests/CMakeLists.txt?)" >&2
    exit 1
fi

# Upstream: a node with the samples plus a 300 KB incompressible file.
mkdir -p "$T/src/big-doc"
cp -r "$SRCROOT"/samples/v2/. "$T/src/"
head -c 300000 /dev/urandom >"$T/src/big-doc/big.pdf"
printf '{"id":"big-doc","title":{"en":"Big document"},"language":"en","type":"document","entry":"big.pdf"}\n' \
    >"$T/src/big-doc/resource.json"
cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$T/src" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/n" "$T/b" >/dev/null
serve_start "$T/n"
trap 'proxy_stop; serve_stop; rm -rf "$T"' EXIT
BIG="$T/src/big-doc/big.pdf"

# proxy_start [options...]: proxy to the node on a free port; sets PXPID, PURL.
PXPID=
proxy_start() {
    : >"$T/px.out" # here, not in the child: a stale line would name the previous proxy's port
    "$PROXY" --listen 127.0.0.1:0 --target "127.0.0.1:$PORT" "$@" >"$T/px.out" 2>>"$T/px.err" &
    PXPID=$!
    local i pport=
    for i in $(seq 1 100); do
        pport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/px.out")
        [ -n "$pport" ] && break
        sleep 0.05
    done
    [ -n "$pport" ] || { echo "proxy did not start: $(cat "$T/px.err")" >&2; return 1; }
    PURL="http://127.0.0.1:$pport"
}
# proxy_stop: SIGTERM; PXRC is its exit status.
proxy_stop() {
    PXRC=
    [ -n "$PXPID" ] || return 0
    kill -TERM "$PXPID" 2>/dev/null || true
    PXRC=0
    wait "$PXPID" 2>/dev/null || PXRC=$?
    PXPID=
}
# fetch_cmp FILE curl-args...: download to a file, then compare (no process
# substitution: bash may wait on one whose connection the test cut).
fetch_cmp() {
    local want=$1
    shift
    rm -f "$T/fetch.out"
    curl "$@" -o "$T/fetch.out" || true
    cmp -s "$T/fetch.out" "$want"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# timed VAR command...: runs command, sets VAR to the milliseconds it took and
# RC to its exit status.
timed() {
    local var=$1 t0
    shift
    t0=$(now_ms)
    RC=0
    "$@" || RC=$?
    printf -v "$var" '%s' $(($(now_ms) - t0))
}
u="/r/big-doc/big.pdf"
# The raw bytes of a whole HTTP/1.0 exchange over the proxy: raw URL_PATH
raw() {
    local port=${PURL##*:}
    timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port
        printf 'GET $1 HTTP/1.0\r\nHost: x\r\n\r\n' >&3
        cat <&3" || true
}

# Arguments: only loopback, explicit rate units, clear messages.
check_refusal 2 "cistern-faultproxy: " "non-loopback listen refused" "loopback" "$PROXY" --listen 10.1.2.3:0 --target 127.0.0.1:1
check_refusal 2 "cistern-faultproxy: " "non-loopback target refused" "loopback" "$PROXY" --listen 127.0.0.1:0 --target 192.0.2.1:80
check_refusal 2 "cistern-faultproxy: " "wildcard listen refused" "loopback" "$PROXY" --listen 0.0.0.0:0 --target 127.0.0.1:1
check_refusal 2 "cistern-faultproxy: " "non-loopback IPv6 refused" "loopback" "$PROXY" --listen [::1]:0 --target [2001:db8::1]:80
check_refusal 2 "cistern-faultproxy: " "host names refused" "numeric" "$PROXY" --listen example.com:0 --target 127.0.0.1:1
check_refusal 2 "cistern-faultproxy: " "ambiguous rate unit refused" "kbit" "$PROXY" --listen 127.0.0.1:0 --target 127.0.0.1:1 --rate 256k
check_refusal 2 "cistern-faultproxy: " "unknown option refused" "unknown option" "$PROXY" --listen 127.0.0.1:0 --target 127.0.0.1:1 --fast
check_refusal 2 "cistern-faultproxy: " "drop over 100% refused" "drop-percent" "$PROXY" --listen 127.0.0.1:0 --target 127.0.0.1:1 --drop-percent 101

# No faults: byte for byte, and the port printed is the real one.
proxy_start --stats "$T/stats.json"
check "listening line names a real port" [ "${PURL##*:}" -gt 0 ]
check "healthz through the proxy" [ "$(curl -s "$PURL/healthz")" = ok ]
check "300 KB byte for byte" fetch_cmp "$BIG" -s "$PURL$u"
check "raw HTTP/1.0 exchange ends with the server's close" grep -q "^HTTP/1.[01] 200" <<<"$(raw /healthz)"
for i in 1 2 3; do curl -s -o /dev/null "$PURL/healthz"; done
sleep 0.2
proxy_stop
check "exits 0 on SIGTERM" [ "$PXRC" = 0 ]
s=$(cat "$T/stats.json" 2>/dev/null || true)
check "stats: 6 connections accepted ($s)" grep -q '"accepted":6,' <<<"$s"
check "stats: none open after exit" grep -q '"active":0,' <<<"$s"
down=$(sed -n 's/.*"bytes_down":\([0-9]*\).*/\1/p' <<<"$s")
check "stats: bytes down counted ($down)" [ "${down:-0}" -gt 300000 ]
check "stats: bytes up counted" grep -q '"bytes_up":[1-9]' <<<"$s"
check "stats is one line" [ "$(wc -l <"$T/stats.json")" = 1 ]

# --rate 100000 bytes/s: 300 KB takes about 3 s.
proxy_start --rate 100000
timed ms curl -s -o "$T/rate.out" "$PURL$u"
check "rate: download complete" cmp -s "$T/rate.out" "$BIG"
check "rate: 300 KB at 100000 B/s took >= 2.5 s (${ms} ms)" [ "$ms" -ge 2500 ]
check "rate: and not absurdly long (${ms} ms)" [ "$ms" -lt 15000 ]
proxy_stop
proxy_start --rate 800kbit # the same 100000 bytes/s, in bits
timed ms curl -s -o "$T/rate.out" "$PURL$u"
check "rate in kbit: >= 2.5 s (${ms} ms)" [ "$ms" -ge 2500 ]
proxy_stop

# --delay 200 ms each way: a request takes at least one round trip, 0.4 s.
proxy_start --delay 200
timed ms curl -s -o "$T/delay.out" "$PURL/healthz"
check "delay: answer intact" [ "$(cat "$T/delay.out")" = ok ]
check "delay: request took >= 0.4 s (${ms} ms)" [ "$ms" -ge 400 ]
check "delay: and < 5 s (${ms} ms)" [ "$ms" -lt 5000 ]
check "delay: 300 KB intact" fetch_cmp "$BIG" -s "$PURL$u"
proxy_stop

# --cut-after-bytes 1000: the client gets exactly the first 1000 bytes.
proxy_start --cut-after-bytes 1000 --stats "$T/cut.json"
rc=0
curl -s -o "$T/cut.out" "$PURL$u" || rc=$?
got=$(stat -c %s "$T/cut.out" 2>/dev/null || echo 0)
check "cut-after-bytes: curl fails ($rc)" [ "$rc" != 0 ]
check "cut-after-bytes: fewer bytes ($got)" [ "$got" -lt 300000 ]
check "cut-after-bytes: exactly 1000 bytes on the wire" [ "$(raw "$u" | wc -c)" = 1000 ]
proxy_stop
check "cut-after-bytes: counted" grep -q '"truncated":2,' "$T/cut.json"

# --stall-after-bytes: the connection stays open and silent.
proxy_start --stall-after-bytes 1000 --stats "$T/stall.json"
timed ms curl -s --max-time 2 -o "$T/stall.out" "$PURL$u"
check "stall: curl times out (exit $RC)" [ "$RC" = 28 ]
check "stall: after about 2 s (${ms} ms)" [ "$ms" -ge 1900 ]
got=$(stat -c %s "$T/stall.out" 2>/dev/null || echo 0)
check "stall: got the first bytes only ($got)" [ "$got" -gt 0 -a "$got" -lt 1000 ]
check "stall: other connections still served" [ "$(curl -s --max-time 5 "$PURL/healthz")" = ok ]
proxy_stop
check "stall: counted" grep -q '"stalled":1,' "$T/stall.json"

# --garbage-after-bytes: the length survives, the bytes do not.
proxy_start --garbage-after-bytes 2000
rc=0
curl -s -o "$T/garbage.out" "$PURL$u" || rc=$?
check "garbage: transfer completes ($rc)" [ "$rc" = 0 ]
check "garbage: same length" [ "$(stat -c %s "$T/garbage.out")" = 300000 ]
check "garbage: bytes differ" bash -c "! cmp -s '$T/garbage.out' '$BIG'"
check "garbage: the start is intact" cmp -s <(head -c 1000 "$T/garbage.out") <(head -c 1000 "$BIG")
check "garbage: the end is not" bash -c "! cmp -s <(tail -c 1000 '$T/garbage.out') <(tail -c 1000 '$BIG')"
proxy_stop

# --cut-every 1: a slow download (would take 6 s) is reset within 1-2 s.
proxy_start --cut-every 1 --rate 50000 --stats "$T/every.json"
timed ms curl -s -o "$T/every.out" "$PURL$u"
check "cut-every: download fails (exit $RC)" [ "$RC" != 0 ]
check "cut-every: within 2.5 s (${ms} ms)" [ "$ms" -lt 2500 ]
check "cut-every: partial" [ "$(stat -c %s "$T/every.out" 2>/dev/null || echo 0)" -lt 300000 ]
sleep 0.2
check "cut-every: new connections accepted afterwards" [ "$(curl -s "$PURL/healthz")" = ok ]
proxy_stop
check "cut-every: counted" grep -q '"cut":[1-9]' "$T/every.json"

# --drop-percent: 100 refuses all; 50 refuses some but not all, repeatably.
proxy_start --drop-percent 100
check "drop 100%: refused" bash -c "! curl -s --max-time 5 '$PURL/healthz' >/dev/null"
proxy_stop
dropped() {
    local n=0 i
    proxy_start --drop-percent 50 --seed 7
    for i in $(seq 1 20); do
        [ "$(curl -s --max-time 5 "$PURL/healthz" || true)" = ok ] || n=$((n + 1))
    done
    proxy_stop
    echo "$n"
}
d1=$(dropped)
d2=$(dropped)
check "drop 50%: some refused, some served ($d1 of 20)" [ "$d1" -gt 0 -a "$d1" -lt 20 ]
check "drop 50%: same seed, same drops ($d1, $d2)" [ "$d1" = "$d2" ]

# An unreachable target: the client is reset, the failure counted.
: >"$T/px.out"
"$PROXY" --listen 127.0.0.1:0 --target 127.0.0.1:1 --stats "$T/fail.json" >"$T/px.out" 2>>"$T/px.err" &
PXPID=$!
sleep 0.3
pport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/px.out")
check "unreachable target: client fails" bash -c "! curl -s --max-time 5 'http://127.0.0.1:$pport/' >/dev/null"
proxy_stop
check "unreachable target: counted" grep -q '"failed":1,' "$T/fail.json"

check "the proxy reported nothing on stderr" [ ! -s "$T/px.err" ]
[ -s "$T/px.err" ] && head -20 "$T/px.err" >&2
finish
