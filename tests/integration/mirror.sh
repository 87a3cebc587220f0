#!/bin/bash
# A mirror chain hub -> node A -> node B: A keeps a verified copy and serves
# it at /repo/; B, pinned to the hub's root, syncs from A alone (batch,
# plain GETs and Range resumes), follows updates, and refuses a doctored
# mirror.
source "$(dirname "$0")/lib.sh"

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
hub_start "$T/repo"
cs node init "$T/a" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
echo "mirror.enable = 1" >>"$T/a/node.conf"
check "A syncs from the hub" cs node sync "$T/a"
check "A kept the signed metadata" [ -f "$T/a/repo/timestamp.json" ] && [ -f "$T/a/repo/1.targets.json" ]
serve_start "$T/a"
A="$URL/repo"
cs node init "$T/b" --trust "$T/repo/root.json" --hub "$A" >/dev/null
printf 'sync.retries = 2\nsync.backoff_ms = 50\nsync.large_object = 8k\n' >>"$T/b/node.conf"
out=$(cs node sync "$T/b" 2>&1)
check "B syncs version 1 from A ($out)" [ "$(node_version "$T/b")" = 1 ]
check "B's files" same_as_tree "$T/b" "$SRCROOT/samples/v1"
check "A serves no keys" [ "$(st "$A/keys/root.key")" = 404 ]
check "A serves an object with Range" [ "$(st -r 10-20 "$A/objects/$(ls "$T/repo/objects" | head -1)/$(ls "$T/repo/objects/$(ls "$T/repo/objects" | head -1)" | head -1)")" = 206 ]

# v2 at the hub (with deltas); A follows the hub, B follows A.
cs hub publish "$T/repo" "$SRCROOT/samples/v2" >/dev/null
check "A syncs version 2" cs node sync "$T/a"
out=$(cs node sync "$T/b" 2>&1)
check "B syncs version 2 from A ($out)" [ "$(node_version "$T/b")" = 2 ]
check "B's v2 files" same_as_tree "$T/b" "$SRCROOT/samples/v2"

# A fresh node C starts from A directly (A kept the full catalogue).
cs node init "$T/c" --trust "$T/repo/root.json" --hub "$A" >/dev/null
check "a fresh node syncs everything from the mirror" cs node sync "$T/c"
check "C's files" same_as_tree "$T/c" "$SRCROOT/samples/v2"

# A doctored mirror: a byte of an object changed on A's disk is refused by D.
serve_stop
pack=$(ls "$T/a/store/"*.pack | tail -1)
sz=$(stat -c %s "$pack")
printf 'Z' | dd of="$pack" bs=1 seek=$((sz - 100)) conv=notrunc status=none
serve_start "$T/a"
cs node init "$T/d" --trust "$T/repo/root.json" --hub "$URL/repo" >/dev/null
printf 'sync.retries = 1\nsync.backoff_ms = 50\n' >>"$T/d/node.conf"
check_fails "a damaged mirror object is refused downstream" "" "$CISTERN" node sync "$T/d"
check "D applied nothing" [ "$(node_version "$T/d")" = 0 ]
# A batch naming one object 4096 times gets at most HUB_BATCH_MAX_ANSWER
# (64 MiB) of answer, from the hub and from a mirror alike.
big=$(ls -S "$T/repo/objects/"*/* | head -1)
id=$(basename "$big")
for i in $(seq 1 4096); do echo "$id"; done >"$T/amp"
len=$(curl -s -D - -o /dev/null --data-binary @"$T/amp" "$HUB/batch" | tr -d '\r' | sed -n 's/^content-length: //Ip')
check "the hub's answer to a repeated-id batch is capped ($len bytes)" [ "${len:-0}" -gt 0 -a "${len:-0}" -le $((64 << 20)) ]
len=$(curl -s -D - -o /dev/null --data-binary @"$T/amp" "$URL/repo/batch" | tr -d '\r' | sed -n 's/^content-length: //Ip')
check "a mirror's too ($len bytes)" [ "${len:-0}" -le $((64 << 20)) ]
serve_stop
hub_stop
finish
