#!/bin/bash
# The daemon's background sync: it keeps the node current from the hub on
# its own, honours sync.window, reports in /api/v1/status, serves the old
# version until the new one commits, and stops at once on SIGTERM.
source "$(dirname "$0")/lib.sh"

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
hub_start "$T/repo"
cs node init "$T/n" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
echo "sync.interval = 5" >>"$T/n/node.conf"
serve_start "$T/n"
wait_version() { # wait_version V SECONDS
    local i
    for i in $(seq 1 $(($2 * 5))); do
        grep -q "^{\"version\":$1," <<<"$(curl -s "$URL/api/v1/status")" && return 0
        sleep 0.2
    done
    return 1
}
check "the daemon syncs version 1 by itself" wait_version 1 20
check "content served after the background sync" [ "$(st "$URL/r/math-g3-fractions-intro/")" = 200 ]
s=$(curl -s "$URL/api/v1/status")
check "status: last sync" grep -q '"sync":{.*"last":"20' <<<"$s"
check "status: next sync planned" grep -q '"next":"20' <<<"$s"
cs hub publish "$T/repo" "$SRCROOT/samples/v2" >/dev/null
check "a new version arrives on the next round" wait_version 2 30
check "removed resource gone" [ "$(st "$URL/api/v1/resources/music-g2-do-re-mi")" = 404 ]
serve_stop

# Outside the window nothing is fetched, and status says why.
later=$(date -d '+3 hours' +%H:00)
later2=$(date -d '+4 hours' +%H:00)
echo "sync.window = $later-$later2" >>"$T/n/node.conf"
make_tree "$T/v3" 3 8 9
cs hub publish "$T/repo" "$T/v3" >/dev/null
serve_start "$T/n"
sleep 8
check "outside sync.window: still version 2" grep -q '"version":2,' <<<"$(curl -s "$URL/api/v1/status")"
check "status explains the window" grep -q 'outside sync.window' <<<"$(curl -s "$URL/api/v1/status")"
serve_stop
sed -i '/^sync.window/d' "$T/n/node.conf"

# SIGTERM in the middle of a slow background sync: quick, clean exit; the
# next run completes.
make_tree "$T/v4" 20 400 13
cs hub publish "$T/repo" "$T/v4" >/dev/null
echo "sync.max_rate = 200k" >>"$T/n/node.conf"
serve_start "$T/n"
for i in $(seq 1 50); do
    grep -q '"running":true' <<<"$(curl -s "$URL/api/v1/status")" && break
    sleep 0.2
done
check "a background sync is running" grep -q '"running":true' <<<"$(curl -s "$URL/api/v1/status")"
# total_bytes is known once the metadata is verified, a moment after start.
for i in $(seq 1 50); do
    grep -q '"total_bytes":[1-9]' <<<"$(curl -s "$URL/api/v1/status")" && break
    sleep 0.2
done
check "status shows progress bytes" grep -q '"total_bytes":[1-9]' <<<"$(curl -s "$URL/api/v1/status")"
# Stop once a few objects (400 KB each, at 200 KB/s) have been verified.
for i in $(seq 1 100); do
    grep -qE '"done_bytes":[0-9]{7,}' <<<"$(curl -s "$URL/api/v1/status")" && break
    sleep 0.2
done
t0=$(date +%s%N)
serve_stop
ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGTERM mid-sync exits promptly (${ms} ms)" [ "$ms" -lt 5000 ]
check "still on the old version" [ "$(node_version "$T/n")" = 2 ]
sed -i '/^sync.max_rate/d' "$T/n/node.conf"
out=$(cs node sync "$T/n" 2>&1)
check "the next sync completes and reuses what was verified ($out)" grep -qE '[1-9][0-9]* already here' <<<"$out"
check "version 4" [ "$(node_version "$T/n")" = 4 ]
hub_stop
finish
