#!/bin/bash
# Sync over a bad link made by our loopback proxy: connections cut every
# second, truncated mid-response, stalled, corrupted; a hub answering 500.
# The sync completes where the link allows it, never applies bad bytes, and
# a cut never costs verified bytes again.
source "$(dirname "$0")/lib.sh"
[ -x "$FAULTPROXY" ] || { echo "missing $FAULTPROXY (build tests/tools)"; exit 1; }

make_tree "$T/src" 12 150 21
mkdir -p "$T/src/big"
head -c 1500000 /dev/urandom >"$T/src/big/film.mp4"
printf '{"id":"big","title":{"en":"A film"},"language":"en","type":"video","entry":"film.mp4"}\n' >"$T/src/big/resource.json"
size=$(du -sb "$T/src" | cut -f1)
cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$T/src" >/dev/null
hub_start "$T/repo"
HPORT=${HUB##*:}
node() { # node DIR: a fresh node with patient sync settings
    cs node init "$1" --trust "$T/repo/root.json" >/dev/null
    printf 'sync.retries = 60\nsync.backoff_ms = 20\nsync.stall_timeout = 2\nsync.large_object = 64k\n' >>"$1/node.conf"
}

jf() { sed -n "s/.*\"$1\":\([0-9a-z]*\).*/\1/p" <<<"$2"; } # jf FIELD JSON

# Keep-alive: a fault-free sync of many requests (a batch, a dozen large
# objects by themselves, the metadata) uses one connection, plus one for
# the outbox upload that follows it.
proxy_start "$HPORT"
node "$T/f"
out=$(cs node sync "$T/f" --hub "$PX" --json 2>&1) || bad "fault-free sync through the proxy failed: $out"
proxy_stop
acc=$(proxy_stat accepted)
check "fault-free: version 1 in $(jf requests "$out") requests" [ "$(jf requests "$out")" -ge 12 ]
check "keep-alive: $acc connections for them" [ "${acc:-99}" -le 2 ]

# Cut every 0.7 s at 500 KB/s: many cuts during a ~4 s transfer.  While it
# runs, `node status` is sampled: the bytes done never go back across the
# cuts and retries, and rate and ETA are reported.
proxy_start "$HPORT" --rate 500000 --cut-every 0.7
node "$T/a"
cs node sync "$T/a" --hub "$PX" >"$T/a.out" 2>&1 &
spid=$!
: >"$T/progress"
while kill -0 "$spid" 2>/dev/null; do
    cs node status "$T/a" --json 2>/dev/null | grep -o '"sync":{.*' >>"$T/progress" || true
    sleep 0.1
done
wait "$spid" || bad "sync through cuts failed: $(cat "$T/a.out")"
out=$(cat "$T/a.out")
proxy_stop
check "sync through cuts completes ($out)" [ "$(node_version "$T/a")" = 1 ]
dones=$(sed -n 's/.*"done_bytes":\([0-9]*\).*/\1/p' "$T/progress")
echo "progress samples: $(wc -l <<<"$dones"), done_bytes from $(head -1 <<<"$dones") to $(tail -1 <<<"$dones")"
check "progress was sampled while downloading" [ "$(grep -c '"state":"\(downloading\|retrying\)"' "$T/progress")" -ge 3 ]
check "done_bytes never decreases across cuts" awk 'NR > 1 && $1 < prev { exit 1 } { prev = $1 }' <<<"$dones"
downloading=$(grep '"state":"downloading"' "$T/progress" || true)
check "ETA reported while downloading" grep -q '"eta_s":' <<<"$downloading"
check "a rate reported while downloading" grep -q '"rate_bytes_per_s":[1-9]' <<<"$downloading"
check "files intact" same_as_tree "$T/a" "$T/src"
down=$(proxy_stat bytes_down)
cuts=$(proxy_stat cut)
echo "cuts: $cuts, bytes through the proxy: $down for $size bytes of content"
check "the link was cut several times ($cuts)" [ "${cuts:-0}" -ge 3 ]
check "cuts did not cost verified bytes again (down $down <= 1.6 x $size)" [ "$down" -le $((size * 16 / 10)) ]

# Cuts more often than a batch answer can carry its largest object: the
# 1.5 MB film stays under sync.large_object (4 MiB by default), so it comes
# in a batch, but at 200 KB/s with a cut every 1.5 s no connection carries
# it whole.  What a cut batch answer held of it is kept and resumed with
# Range, so the sync completes and the film's bytes come down about once.
proxy_start "$HPORT" --rate 200000 --cut-every 1.5
cs node init "$T/g" --trust "$T/repo/root.json" >/dev/null
printf 'sync.retries = 60\nsync.backoff_ms = 20\nsync.stall_timeout = 2\n' >>"$T/g/node.conf"
out=$(timeout 300 "$CISTERN" node sync "$T/g" --hub "$PX" 2>&1) || bad "sync with the film in a cut batch failed: $out"
proxy_stop
down=$(proxy_stat bytes_down)
cuts=$(proxy_stat cut)
echo "batch cut mid-object: $cuts cuts, $down bytes down for $size bytes of content"
check "an object longer than the time between cuts still arrives" [ "$(node_version "$T/g")" = 1 ]
check "files intact after cut batches" same_as_tree "$T/g" "$T/src"
check "the link was cut mid-transfer ($cuts)" [ "${cuts:-0}" -ge 3 ]
check "cut batch answers did not cost their bytes again (down $down <= 1.3 x $size)" [ "$down" -le $((size * 13 / 10)) ]
check "no part file left behind" [ -z "$(ls -A "$T/g/incoming" 2>/dev/null)" ]

# Every response truncated after 40 KB: resumable pieces still get through.
proxy_start "$HPORT" --cut-after-bytes 40000
node "$T/b"
out=$(cs node sync "$T/b" --hub "$PX" 2>&1) || bad "sync through truncations failed: $out"
proxy_stop
check "sync through truncated responses completes" [ "$(node_version "$T/b")" = 1 ]
check "files intact after truncations" same_as_tree "$T/b" "$T/src"

# Stalls: after 400 KB a connection goes silent; stall detection moves on.
proxy_start "$HPORT" --stall-after-bytes 400000
node "$T/c"
t0=$(date +%s)
out=$(timeout 120 "$CISTERN" node sync "$T/c" --hub "$PX" 2>&1) || true
proxy_stop
check "sync through stalls completes ($(($(date +%s) - t0)) s)" [ "$(node_version "$T/c")" = 1 ]

# Garbage on the wire: refused every time, nothing applied, clear message.
proxy_start "$HPORT" --garbage-after-bytes 2000
node "$T/d"
printf 'sync.retries = 2\n' >>"$T/d/node.conf"
check_fails "corrupted transfer refused" "" "$CISTERN" node sync "$T/d" --hub "$PX"
proxy_stop
check "nothing applied from garbage" [ "$(node_version "$T/d")" = 0 ]
check "the failure is in status" grep -q '"last_error":"' <<<"$(cs node status "$T/d" --json)"
check "store sound after garbage" cs node verify "$T/d"
out=$(cs node sync "$T/d" --hub "$HUB" 2>&1) || bad "clean sync after garbage failed: $out"
check "a clean link then completes" [ "$(node_version "$T/d")" = 1 ]

# A hub answering 500.
if command -v nginx >/dev/null; then
    NPORT=$((20000 + RANDOM % 20000))
    mkdir -p "$T/ngx"
    cat >"$T/ngx/nginx.conf" <<NGX
daemon off;
user root;
pid $T/ngx/nginx.pid;
error_log $T/ngx/error.log;
events { worker_connections 16; }
http { access_log off; client_body_temp_path $T/ngx;
       server { listen 127.0.0.1:$NPORT; location / { return 500; } } }
NGX
    nginx -c "$T/ngx/nginx.conf" -p "$T/ngx" &
    NGPID=$!
    sleep 0.4
    node "$T/e"
    printf 'sync.retries = 2\n' >>"$T/e/node.conf"
    check_fails "hub answering 500" "HTTP 500" "$CISTERN" node sync "$T/e" --hub "http://127.0.0.1:$NPORT"
    check "status shows the 500" grep -q 'HTTP 500' <<<"$(cs node status "$T/e" --json)"
    kill "$NGPID" 2>/dev/null || true
    wait "$NGPID" 2>/dev/null || true
fi
hub_stop
finish
