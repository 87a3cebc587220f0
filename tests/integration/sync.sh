#!/bin/bash
# Network sync against a real hub process: full sync, updates, a static web
# server (nginx) without the batch endpoint, every attack in TUF's list, a
# hub that is down, and kill -9 during sync.  Nothing bad is ever applied.
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-30}

integrity() {
    [ "$(sqlite3 "$1/catalog.db" 'PRAGMA integrity_check')" = ok ] &&
        [ "$(sqlite3 "$1/store/index.db" 'PRAGMA integrity_check')" = ok ]
}
fresh_node() { # fresh_node DIR URL
    cs node init "$1" --trust "$T/repo/root.json" --hub "$2" >/dev/null
    printf 'sync.retries = 1\nsync.backoff_ms = 50\nsync.stall_timeout = 3\n' >>"$1/node.conf"
}

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
cp "$T/repo/timestamp.json" "$T/ts-v1.json"
hub_start "$T/repo"

# Full sync, then nothing to do, then an update.
fresh_node "$T/a" "$HUB"
out=$(cs node sync "$T/a")
check "first sync brings version 1 ($out)" [ "$(node_version "$T/a")" = 1 ]
check "first sync used one batch request" grep -q "in 6 requests" <<<"$out"
check "v1 files" same_as_tree "$T/a" "$SRCROOT/samples/v1"
check "second sync: already current" grep -q "already at version 1" <<<"$(cs node sync "$T/a")"
cs hub publish "$T/repo" "$SRCROOT/samples/v2" >/dev/null
out=$(cs node sync "$T/a")
check "update to version 2 ($out)" [ "$(node_version "$T/a")" = 2 ]
check "update fetched only the 3 new objects" grep -q "3 objects fetched" <<<"$out"
check "v2 files" same_as_tree "$T/a" "$SRCROOT/samples/v2"
check "status reports the sync" grep -q '"last_success":"' <<<"$(cs node status "$T/a" --json)"
check "--hub overrides node.conf" bash -c "'$CISTERN' node sync '$T/a' --hub '$HUB' | grep -q 'already at version 2'"

# A plain static web server (no /batch): the node falls back to GET per object.
if command -v nginx >/dev/null; then
    mkdir -p "$T/www" "$T/nginx"
    for f in root.json 1.root.json timestamp.json 1.snapshot.json 1.targets.json 2.snapshot.json 2.targets.json; do
        cp "$T/repo/$f" "$T/www/"
    done
    cp -r "$T/repo/catalog" "$T/repo/objects" "$T/www/"
    NPORT=$((20000 + RANDOM % 20000))
    cat >"$T/nginx/nginx.conf" <<NGX
daemon off;
user root;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $T/nginx; proxy_temp_path $T/nginx; fastcgi_temp_path $T/nginx;
    uwsgi_temp_path $T/nginx; scgi_temp_path $T/nginx;
    server { listen 127.0.0.1:$NPORT; root $T/www; }
}
NGX
    nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" &
    NGPID=$!
    sleep 0.5
    fresh_node "$T/s" "http://127.0.0.1:$NPORT"
    out=$(cs node sync "$T/s" 2>&1) || true
    check "sync from a static server ($out)" [ "$(node_version "$T/s")" = 2 ]
    check "static server: files" same_as_tree "$T/s" "$SRCROOT/samples/v2"
    kill "$NGPID" 2>/dev/null || true
    wait "$NGPID" 2>/dev/null || true
else
    echo "nginx not installed: static-server fallback not exercised (apt-get install nginx-light)"
    bad "nginx missing"
fi

# --- attacks: an evil hub serving a doctored copy of the repository ---
evil_serve() { # evil_serve: serve $T/evil on a new hub process
    hub_stop
    hub_start "$T/evil"
}
reset_evil() {
    rm -rf "$T/evil"
    cp -r "$T/repo" "$T/evil"
}
attack() { # attack "name" "expected message" [env...]: node b (at version 1) refuses, stays at 1
    local name=$1 want=$2
    shift 2
    rm -rf "$T/b"
    cp -a "$T/b1" "$T/b"
    check_fails "attack: $name" "$want" env "$@" "$CISTERN" node sync "$T/b" --hub "$HUB"
    check "attack: $name: node still at version 1" [ "$(node_version "$T/b")" = 1 ]
    check "attack: $name: databases sound" integrity "$T/b"
}
# A node at version 1 to attack.
hub_stop
cs node init "$T/b1" --trust "$T/repo/root.json" >/dev/null
printf 'sync.retries = 1\nsync.backoff_ms = 50\nsync.stall_timeout = 3\n' >>"$T/b1/node.conf"
cs hub bundle "$T/repo" --since 0 -o "$T/v2.b" >/dev/null
reset_evil
rm "$T/evil/2.snapshot.json" "$T/evil/2.targets.json"
cp "$T/ts-v1.json" "$T/evil/timestamp.json"
evil_serve
cs node sync "$T/b1" --hub "$HUB" >/dev/null
check "victim node at version 1" [ "$(node_version "$T/b1")" = 1 ]

# Arbitrary content: an object replaced by other bytes of the same length.
reset_evil
obj=$(find "$T/evil/objects" -type f -newer "$T/ts-v1.json" | head -1)
size=$(stat -c %s "$obj")
head -c "$size" /dev/urandom >"$obj"
evil_serve
attack "arbitrary object content" "failed verification"

# Endless data: an object with bytes appended; a huge timestamp.
reset_evil
obj=$(find "$T/evil/objects" -type f -newer "$T/ts-v1.json" | head -1)
head -c 100000 /dev/urandom >>"$obj"
evil_serve
attack "endless object data" "length the signed catalogue\|more than"
reset_evil
head -c 3000000 /dev/zero >"$T/evil/timestamp.json"
evil_serve
attack "endless timestamp" "more than\|limit"

# Rollback: the hub offers version 1 to a node at version 2.
reset_evil
cp "$T/ts-v1.json" "$T/evil/timestamp.json"
evil_serve
rm -rf "$T/r"
cp -a "$T/a" "$T/r"
check_fails "attack: rollback to version 1" "older" "$CISTERN" node sync "$T/r" --hub "$HUB"
check "attack: rollback: node still at 2" [ "$(node_version "$T/r")" = 2 ]

# Indefinite freeze: the same metadata, seen three days later (timestamp expires in one).
reset_evil
evil_serve
attack "freeze (expired timestamp)" "expired" CISTERN_FAKE_NOW=$(($(date +%s) + 3 * 86400))

# Mix-and-match: version 2's snapshot naming version 1's targets bytes.
reset_evil
cp "$T/evil/1.targets.json" "$T/evil/2.targets.json"
evil_serve
attack "mix-and-match targets" "does not match\|is [0-9]* bytes"

# Tampered catalogue file.
reset_evil
cat=$(ls -t "$T/evil/catalog/"*.cat | head -1)
printf 'X' | dd of="$cat" bs=1 seek=50 conv=notrunc status=none
for c in "$T/evil/catalog/"*.cat; do printf 'X' | dd of="$c" bs=1 seek=50 conv=notrunc status=none; done
evil_serve
attack "tampered catalogue" "does not match\|hash"

# Wrong keys: metadata signed by another repository's keys.
cs hub init "$T/other" >/dev/null
cs hub publish "$T/other" "$SRCROOT/samples/v2" >/dev/null
cs hub publish "$T/other" "$SRCROOT/samples/v1" >/dev/null
reset_evil
cp "$T/other/timestamp.json" "$T/other/2.snapshot.json" "$T/other/2.targets.json" "$T/evil/"
evil_serve
attack "metadata signed by unknown keys" "signature"
# A forged signature (one hex digit changed) on an otherwise genuine timestamp.
reset_evil
sed -i '0,/"sig": "3/s/"sig": "3/"sig": "2/' "$T/evil/timestamp.json"
evil_serve
attack "forged timestamp signature" "signature"
# Wrong role: targets signed with the timestamp key (the hub's own keys, misused).
reset_evil
sed -i 's/"_type": "timestamp"/"_type": "targets"/' "$T/evil/timestamp.json"
evil_serve
attack "metadata of the wrong role" "expected timestamp\|signature"
# A new root signed only by a key the pinned root does not know.
reset_evil
cp "$T/other/root.json" "$T/evil/2.root.json"
evil_serve
attack "root rotation by an unknown key" "root version"

# A hub that is down: clear error after retries, node unchanged.
hub_stop
attack "hub unreachable" "connect\|refused"

# --- kill -9 during sync: old or new version, never a mix; reruns resume ---
make_tree "$T/big" 40 512 5
cs hub publish "$T/repo" "$T/big" >/dev/null
hub_start "$T/repo"
cp -a "$T/a" "$T/k0" # at version 2
echo "sync.max_rate = 16m" >>"$T/k0/node.conf"
t0=$(date +%s%N)
cp -a "$T/k0" "$T/probe"
cs node sync "$T/probe" --hub "$HUB" >/dev/null
dur_us=$((($(date +%s%N) - t0) / 1000))
echo "a rate-limited sync of version 3 takes ${dur_us} us"
old=0 new=0 resumed=0
for trial in $(seq 1 "$TRIALS"); do
    rm -rf "$T/k"
    cp -a "$T/k0" "$T/k"
    delay=$(((RANDOM * 32768 + RANDOM) % (dur_us + 1)))
    "$CISTERN" node sync "$T/k" --hub "$HUB" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%06d' $((delay / 1000000)) $((delay % 1000000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    v=$(node_version "$T/k")
    case "$v" in 2) old=$((old + 1)) ;; 3) new=$((new + 1)) ;; *) bad "trial $trial: version '$v'" ;; esac
    check "sync trial $trial: databases sound" integrity "$T/k"
    out=$(cs node sync "$T/k" --hub "$HUB" 2>&1) || bad "trial $trial: rerun failed: $out"
    if grep -qE '[1-9][0-9]* already here' <<<"$out"; then resumed=$((resumed + 1)); fi
    check "sync trial $trial: version 3 after rerun" [ "$(node_version "$T/k")" = 3 ]
done
echo "sync kills: $TRIALS (old version: $old, new: $new; reruns that reused verified objects: $resumed)"
check "some kills landed mid-sync" [ "$old" -gt 0 ]
check "reruns reuse what was verified" [ "$resumed" -gt 0 ]
check "last node matches the tree" same_as_tree "$T/k" "$T/big"
check "last node verifies" cs node verify "$T/k"
hub_stop
finish
