#!/usr/bin/env bash
# bench/soak.sh - an hour of a school day, for leaks and slow failures that
# short tests miss.  The daemon serves pages, search and recommendations
# under load while students post events and teachers post feedback; the hub
# publishes an erratum every minute and the node syncs it in the background
# over a bad link (cistern-faultproxy: 2 mbit/s, 100 ms each way, cut every
# 30 s) and sends its outbox; every SOAK_KILL_EVERY seconds (on average) the
# daemon is killed with -9 and started again.  Every 10 s it samples the
# daemon's resident memory, open files and threads.
#
# The report: requests and their errors (5xx; refused while the daemon was
# down is counted apart), memory growth within each daemon run after a
# five-minute warm-up, and data checks at the end: `node verify`, SQLite
# integrity of catalog.db and people.db, the node on the hub's version after
# a final sync, and the hub holding every outbox record exactly once with
# every feedback the daemon accepted.  Exits 1 on any failure.
#
# Not part of the test suite.
#
# Environment
#   CISTERN=path FAULTPROXY=path  the binaries (default: build in <repo>/build-soak)
#   SOAK_MINUTES=60         how long
#   SOAK_KILL_EVERY=600     mean seconds between kill -9s of the daemon (0 = never)
#   SOAK_MAX_GROWTH=10      allowed RSS growth (%) after warm-up, within one run
#   KEEP=1                  keep the work dir
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
MIN=${SOAK_MINUTES:-60}
KILL_EVERY=${SOAK_KILL_EVERY:-600}
GROWTH=${SOAK_MAX_GROWTH:-10}
if [ -z "${CISTERN:-}" ] || [ -z "${FAULTPROXY:-}" ]; then
    cmake -S "$root" -B "$root/build-soak" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCISTERN_BUILD_TESTS=ON >/dev/null
    cmake --build "$root/build-soak" --target cistern cistern-faultproxy >/dev/null
    CISTERN=$root/build-soak/tools/cistern
    FAULTPROXY=$root/build-soak/tests/tools/cistern-faultproxy
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/cistern-soak.XXXXXX")
HPID= SPID= LPIDS= PXPID=
stop() {
    for p in $LPIDS $SPID $PXPID $HPID; do kill -TERM "$p" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] && echo "work dir kept: $W" || rm -rf "$W"
}
trap stop EXIT
c() { CISTERN_QUIET=1 "$CISTERN" "$@"; }
port() { for i in $(seq 1 100); do p=$(sed -n 's|.*127\.0\.0\.1:\([0-9]*\).*|\1|p' "$1" | head -1); [ -n "$p" ] && { echo "$p"; return; }; sleep 0.05; done; return 1; }

# A hub with the samples plus 200 generated resources; a node syncing from it.
cp -r "$root/samples/v1" "$W/src"
for i in $(seq 1 200); do
    mkdir -p "$W/src/soak-$i"
    printf '{"id":"soak-%d","title":{"zh":"练习 %d","en":"Practice %d"},"language":"zh","subject":"math","grades":[%d],"type":"html","entry":"index.html","edition":"soak","volume":"1","unit":%d}\n' \
        "$i" "$i" "$i" $((i % 9 + 1)) "$i" >"$W/src/soak-$i/resource.json"
    printf '<h1>Practice %d</h1>%s\n' "$i" "$(head -c 3000 /dev/urandom | base64 -w0)" >"$W/src/soak-$i/index.html"
done
c hub init "$W/repo" >/dev/null
c hub publish "$W/repo" "$W/src" >/dev/null
"$CISTERN" hub serve "$W/repo" --listen 127.0.0.1:0 >"$W/hub.out" 2>"$W/hub.err" &
HPID=$!
HUBPORT=$(port "$W/hub.out")
HUB="http://127.0.0.1:$HUBPORT"
"$FAULTPROXY" --listen 127.0.0.1:0 --target "127.0.0.1:$HUBPORT" --rate 2mbit --delay 100 --cut-every 30 \
    >"$W/proxy.out" 2>"$W/proxy.err" &
PXPID=$!
PX="http://127.0.0.1:$(port "$W/proxy.out")"
c node init "$W/n" --trust "$W/repo/root.json" --hub "$PX" >/dev/null
c node sync "$W/n" >/dev/null
printf 'sync.interval = 20\nrecommend.rebuild_interval = 10\noutbox.min_count = 0\n' >>"$W/n/node.conf"
printf 'teacher-pass-1\n' | c node user add "$W/n" T --role teacher >/dev/null
SPORT=
start_daemon() { # the same port every time, so the clients carry on
    : >"$W/serve.out"
    "$CISTERN" node serve "$W/n" --listen "127.0.0.1:${SPORT:-0}" >"$W/serve.out" 2>>"$W/serve.err" &
    SPID=$!
    SPORT=$(port "$W/serve.out")
}
start_daemon
URL="http://127.0.0.1:$SPORT"
csrf=$(curl -s -c "$W/t.jar" -H 'Content-Type: application/json' --data-binary '{"name":"T","password":"teacher-pass-1"}' \
    "$URL/api/v1/login" | sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p')
curl -s -b "$W/t.jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' --data-binary '{"name":"soak"}' \
    "$URL/api/v1/classes" >"$W/class.json"
code=$(sed -n 's/.*"code":"\([A-Z0-9]*\)".*/\1/p' "$W/class.json")
cid=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$W/class.json")
for s in $(seq 1 20); do
    curl -s -c "$W/s$s.jar" -H 'Content-Type: application/json' \
        --data-binary "{\"class\":\"$code\",\"name\":\"Student $s\",\"password\":\"1234$s\"}" "$URL/api/v1/join" |
        sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p' >"$W/s$s.csrf"
done
for id in $(curl -s -b "$W/t.jar" "$URL/api/v1/classes/$cid/students" | grep -o '"id":[0-9]*' | cut -d: -f2); do
    curl -s -o /dev/null -X PUT -b "$W/t.jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
        --data-binary '{"consent":true}' "$URL/api/v1/students/$id/consent"
done

end=$(($(date +%s) + MIN * 60))
# Readers: pages, search, recommendations.  Writers: events and feedback.
( while [ "$(date +%s)" -lt "$end" ]; do
    for q in 分数 水 practice 练习 lesson; do curl -s -o /dev/null -w '%{http_code}\n' "$URL/api/v1/catalog?q=$q"; done
    curl -s -o /dev/null -w '%{http_code}\n' "$URL/r/soak-$((RANDOM % 200 + 1))/index.html"
    curl -s -o /dev/null -w '%{http_code}\n' "$URL/api/v1/recommendations?grade=$((RANDOM % 9 + 1))"
  done >"$W/codes.readers" ) &
LPIDS="$LPIDS $!"
( while [ "$(date +%s)" -lt "$end" ]; do
    s=$((RANDOM % 20 + 1))
    curl -s -o /dev/null -w '%{http_code}\n' -b "$W/s$s.jar" -H "X-CSRF-Token: $(cat "$W/s$s.csrf")" \
        -H 'Content-Type: application/json' \
        --data-binary "{\"resource\":\"soak-$((RANDOM % 200 + 1))\",\"kind\":\"$([ $((RANDOM % 3)) = 0 ] && echo complete || echo open)\"}" \
        "$URL/api/v1/events"
    [ $((RANDOM % 20)) = 0 ] && curl -s -o /dev/null -w 'fb %{http_code}\n' -b "$W/t.jar" -H "X-CSRF-Token: $csrf" \
        -H 'Content-Type: application/json' --data-binary '{"resource":"soak-1","rating":4}' "$URL/api/v1/feedback"
    sleep 0.05
  done >"$W/codes.writers" ) &
LPIDS="$LPIDS $!"

echo "soak: $MIN minutes against $URL, syncing through $PX (work dir $W)"
echo "minute  rss_kb  fds  threads  version"
v=1 next_pub=$(($(date +%s) + 60)) t0=$(date +%s) kills=0 worst=0
run_start=$(date +%s) warm_rss= rss=0
next_kill=$([ "$KILL_EVERY" -gt 0 ] && echo $(($(date +%s) + RANDOM % (2 * KILL_EVERY) + 1)) || echo $((end + 1)))
growth_of_run() { # after a run: its growth since warm-up, in percent
    if [ -n "$warm_rss" ] && [ $(($(date +%s) - run_start)) -ge 600 ]; then
        local g=$(((rss - warm_rss) * 100 / warm_rss))
        [ "$g" -gt "$worst" ] && worst=$g
    fi
    return 0
}
while [ "$(date +%s)" -lt "$end" ]; do
    sleep 10
    if ! kill -0 "$SPID" 2>/dev/null; then echo "soak: the daemon died on its own"; tail -20 "$W/serve.err"; exit 1; fi
    if [ "$(date +%s)" -ge "$next_pub" ]; then # the hub publishes an erratum
        v=$((v + 1))
        echo "<p>erratum $v</p>" >>"$W/src/soak-$((v % 200 + 1))/index.html"
        c hub publish "$W/repo" "$W/src" >/dev/null
        next_pub=$(($(date +%s) + 60))
    fi
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$SPID/status")
    fds=$(ls "/proc/$SPID/fd" | wc -l)
    thr=$(awk '/^Threads/ { print $2 }' "/proc/$SPID/status")
    ver=$(curl -s "$URL/api/v1/status" | sed -n 's/.*"version":\([0-9]*\).*/\1/p' | head -1)
    m=$((($(date +%s) - t0) / 60))
    echo "$m  $rss  $fds  $thr  ${ver:-?}"
    [ -z "$warm_rss" ] && [ $(($(date +%s) - run_start)) -ge 300 ] && warm_rss=$rss
    if [ "$(date +%s)" -ge "$next_kill" ]; then
        growth_of_run
        kill -9 "$SPID"
        wait "$SPID" 2>/dev/null || true
        kills=$((kills + 1))
        echo "$m  kill -9 #$kills; starting again"
        start_daemon
        run_start=$(date +%s) warm_rss=
        next_kill=$(($(date +%s) + RANDOM % (2 * KILL_EVERY) + 1))
    fi
done
growth_of_run
for p in $LPIDS; do wait "$p" 2>/dev/null || true; done
LPIDS=
kill -TERM "$SPID"
wait "$SPID" 2>/dev/null || true
SPID=
fail=0
reads=$(wc -l <"$W/codes.readers") writes=$(wc -l <"$W/codes.writers")
e5r=$(grep -c '5[0-9][0-9]$' "$W/codes.readers" || true) e5w=$(grep -c '5[0-9][0-9]$' "$W/codes.writers" || true)
down=$(cat "$W"/codes.* | grep -c '000$' || true)
fb_ok=$(grep -c '^fb 201$' "$W/codes.writers" || true)
fb_cut=$(grep -c '^fb 000$' "$W/codes.writers" || true) # killed mid-request: stored or not
echo
echo "== soak report ($MIN minutes, $kills kill -9s of the daemon)"
echo "requests: $reads reads, $writes writes; 5xx: $e5r reads, $e5w writes; $down refused while the daemon was down"
[ "$e5r" = 0 ] && [ "$e5w" = 0 ] || { echo "FAIL: server errors"; fail=1; }
echo "memory: worst growth after warm-up within a run of 10 minutes or more: $worst %"
[ "$worst" -le "$GROWTH" ] || { echo "FAIL: memory grew more than $GROWTH %"; fail=1; }
# Data checks: the store, the databases, the version, the outbox at the hub.
c node verify "$W/n" >/dev/null && echo "node verify: ok" || { echo "FAIL: node verify"; fail=1; }
for db in catalog people; do
    r=$(sqlite3 "$W/n/$db.db" "PRAGMA integrity_check")
    echo "$db.db integrity: $r"
    [ "$r" = ok ] || fail=1
done
c node sync "$W/n" --hub "$HUB" >/dev/null 2>&1 || c node sync "$W/n" --hub "$HUB" >/dev/null
nv=$(c node status "$W/n" --json | sed -n 's/.*"version":\([0-9]*\).*/\1/p' | head -1)
echo "versions: hub $v, node $nv after a final sync"
[ "$nv" = "$v" ] || { echo "FAIL: the node is not on the hub's version"; fail=1; }
once=$(sqlite3 "$W/repo/reports.db" "SELECT count(*) = max(seq) AND count(DISTINCT uuid) = count(*) FROM records")
hub_fb=$(sqlite3 "$W/repo/reports.db" "SELECT count(*) FROM records WHERE kind = 'feedback'")
pending=$(c node status "$W/n" --json | sed -n 's/.*"outbox":{"acked":[0-9]*,"pending":\([0-9]*\).*/\1/p')
echo "outbox: every record once at the hub: $([ "$once" = 1 ] && echo yes || echo NO); feedback accepted $fb_ok (+$fb_cut cut by a kill), at the hub $hub_fb, pending ${pending:-?}"
[ "$once" = 1 ] && [ "$hub_fb" -ge "$fb_ok" ] && [ "$hub_fb" -le $((fb_ok + fb_cut)) ] ||
    { echo "FAIL: outbox records lost or doubled"; fail=1; }
grep -E " (error|warn):" "$W/serve.err" | sed 's/^[^ ]* //' | sort | uniq -c | sort -rn | head -5
[ "$fail" = 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit $fail
