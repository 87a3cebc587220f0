#!/usr/bin/env bash
# bench/soak.sh - a long run of a node doing everything at once, for leaks
# and slow failures that short tests miss: the daemon serves pages, search
# and recommendations under load while students post events, teachers post
# feedback, the hub publishes a new version every minute and the node syncs
# it in the background and sends its outbox.  Every 10 s it samples the
# daemon's resident memory, open files and threads; at the end it prints
# their growth and the error counts, and exits 1 if the daemon died, any
# request got a 5xx, or memory grew by more than SOAK_MAX_GROWTH percent
# after the first five minutes (warm-up: caches fill).
#
# Not part of the test suite (it takes SOAK_MINUTES, default 30).
#
# Environment
#   CISTERN=path            the binary (default: build it in <repo>/build-soak)
#   SOAK_MINUTES=30         how long
#   SOAK_MAX_GROWTH=10      allowed RSS growth (%) after warm-up
#   KEEP=1                  keep the work dir
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
MIN=${SOAK_MINUTES:-30}
GROWTH=${SOAK_MAX_GROWTH:-10}
if [ -z "${CISTERN:-}" ]; then
    cmake -S "$root" -B "$root/build-soak" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCISTERN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$root/build-soak" >/dev/null
    CISTERN=$root/build-soak/tools/cistern
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/cistern-soak.XXXXXX")
HPID= SPID= LPIDS=
stop() {
    for p in $LPIDS $SPID $HPID; do kill -TERM "$p" 2>/dev/null || true; done
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
HUB="http://127.0.0.1:$(port "$W/hub.out")"
c node init "$W/n" --trust "$W/repo/root.json" --hub "$HUB" >/dev/null
c node sync "$W/n" >/dev/null
printf 'sync.interval = 20\nrecommend.rebuild_interval = 10\noutbox.min_count = 0\n' >>"$W/n/node.conf"
printf 'teacher-pass-1\n' | c node user add "$W/n" T --role teacher >/dev/null
"$CISTERN" node serve "$W/n" --listen 127.0.0.1:0 >"$W/serve.out" 2>"$W/serve.err" &
SPID=$!
URL="http://127.0.0.1:$(port "$W/serve.out")"
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
    [ $((RANDOM % 20)) = 0 ] && curl -s -o /dev/null -w '%{http_code}\n' -b "$W/t.jar" -H "X-CSRF-Token: $csrf" \
        -H 'Content-Type: application/json' --data-binary '{"resource":"soak-1","rating":4}' "$URL/api/v1/feedback"
    sleep 0.05
  done >"$W/codes.writers" ) &
LPIDS="$LPIDS $!"

echo "soak: $MIN minutes against $URL (work dir $W)"
echo "minute  rss_kb  fds  threads  version"
first_rss= warm_rss= v=1 next_pub=$(($(date +%s) + 60)) t0=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
    sleep 10
    kill -0 "$SPID" 2>/dev/null || { echo "soak: the daemon died"; tail -20 "$W/serve.err"; exit 1; }
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
    echo "$m  $rss  $fds  $thr  $ver"
    [ -z "$first_rss" ] && first_rss=$rss
    [ -z "$warm_rss" ] && [ "$m" -ge 5 ] && warm_rss=$rss
done
for p in $LPIDS; do wait "$p" 2>/dev/null || true; done
LPIDS=
reads=$(wc -l <"$W/codes.readers") writes=$(wc -l <"$W/codes.writers")
e5r=$(grep -c '^5' "$W/codes.readers" || true) e5w=$(grep -c '^5' "$W/codes.writers" || true)
echo "requests: $reads reads ($e5r 5xx), $writes writes ($e5w 5xx); hub at version $v, node at $ver"
echo "memory: first $first_rss kB, after warm-up ${warm_rss:-n/a} kB, last $rss kB"
fail=0
[ "$e5r" = 0 ] && [ "$e5w" = 0 ] || { echo "FAIL: server errors"; fail=1; }
if [ -n "$warm_rss" ] && [ $((rss * 100)) -gt $((warm_rss * (100 + GROWTH))) ]; then
    echo "FAIL: memory grew more than $GROWTH% after warm-up"
    fail=1
fi
[ "$ver" -ge $((v - 1)) ] || { echo "FAIL: the node fell behind the hub (node $ver, hub $v)"; fail=1; }
grep -E " (error|warn):" "$W/serve.err" | sort | uniq -c | sort -rn | head -5
exit $fail
