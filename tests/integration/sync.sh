#!/bin/bash
# Network sync against a real hub process: full sync, updates, a static web
# server (nginx) without the batch endpoint behind a link that cuts, every
# attack in TUF's list, a hub that is down, kill -9 during sync and during
# apply, and file deltas (visible in the counters, K versions deep).
# Nothing bad is ever applied; a rerun fetches only what is not yet stored.
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-30}
jf() { sed -n "s/.*\"$1\":\([0-9a-z]*\).*/\1/p" <<<"$2"; } # jf FIELD JSON: a number or boolean
store_objects() { sqlite3 "$1/store/index.db" 'SELECT count(*) FROM objects'; }

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
cp -a "$T/a" "$T/a1" # a node at version 1, for the static server below
check "v1 files" same_as_tree "$T/a" "$SRCROOT/samples/v1"
check "second sync: already current" grep -q "already at version 1" <<<"$(cs node sync "$T/a")"
cs hub publish "$T/repo" "$SRCROOT/samples/v2" >/dev/null
# Part files a cut sync left for objects version 2 does not need: removed
# by the update; a file in incoming/ that is not a part file stays.
z64=$(printf '0%.0s' $(seq 64))
mkdir -p "$T/a/incoming"
head -c 70000 /dev/urandom >"$T/a/incoming/$z64.part"
head -c 70000 /dev/urandom >"$T/a/incoming/$z64-${z64%0}1.zst.part"
echo "not ours" >"$T/a/incoming/notes.txt"
out=$(cs node sync "$T/a" --json)
check "update to version 2 ($out)" [ "$(node_version "$T/a")" = 2 ]
check "update removed part files of objects no version needs" \
    [ ! -e "$T/a/incoming/$z64.part" -a ! -e "$T/a/incoming/$z64-${z64%0}1.zst.part" ]
check "update left other files in incoming/ alone" [ -f "$T/a/incoming/notes.txt" ]
check "update fetched only the 3 new objects" [ "$(jf objects_fetched "$out")" = 3 ]
check "update: the 2 changed files travelled as deltas" [ "$(jf deltas_applied "$out")" = 2 ]
check "update: deltas saved bytes" [ "$(jf bytes_saved "$out")" -gt 0 ]
check "update: the catalogue came as the changes since version 1" [ "$(jf catalog_delta "$out")" = true ]
check "v2 files" same_as_tree "$T/a" "$SRCROOT/samples/v2"
check "status reports the sync" grep -q '"last_success":"' <<<"$(cs node status "$T/a" --json)"
check "--hub overrides node.conf" bash -c "'$CISTERN' node sync '$T/a' --hub '$HUB' | grep -q 'already at version 2'"

# A plain static web server (no /batch) serving the whole repository, deltas
# included: a fresh node falls back to GET per object; a node at version 1
# updates through a link that is cut every 1.5 s, its large objects
# (sync.large_object = 1k) by Range, its changed files as deltas.
if command -v nginx >/dev/null; then
    mkdir -p "$T/nginx"
    cp -r "$T/repo" "$T/www"
    rm -rf "$T/www/keys" "$T/www/hub.db"* "$T/www/lock"
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
    check "node sync prints the delta counters" grep -q "0 file deltas applied.*catalogue whole" <<<"$out"
    check "static server: files" same_as_tree "$T/s" "$SRCROOT/samples/v2"
    proxy_start "$NPORT" --rate 4000 --cut-every 1.5
    rm -rf "$T/s1"
    cp -a "$T/a1" "$T/s1"
    printf 'sync.retries = 40\nsync.backoff_ms = 20\nsync.large_object = 1k\n' >>"$T/s1/node.conf"
    out=$(timeout 120 "$CISTERN" node sync "$T/s1" --hub "$PX" --json 2>&1) || true
    proxy_stop
    cuts=$(proxy_stat cut)
    check "static server through cuts: version 2 ($out)" [ "$(node_version "$T/s1")" = 2 ]
    check "static server through cuts: files" same_as_tree "$T/s1" "$SRCROOT/samples/v2"
    check "static server through cuts: the link was cut ($cuts)" [ "${cuts:-0}" -ge 2 ]
    check "static server: no batch endpoint used" [ "$(jf used_batch "$out")" = false ]
    check "static server: changed files came as deltas" [ "$(jf deltas_applied "$out")" = 2 ]
    check "static server: the catalogue came as a delta" [ "$(jf catalog_delta "$out")" = true ]
    check "static server: store sound" cs node verify "$T/s1"
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

# --- kill -9 during sync and during apply ---
# After every kill: the node reports the old or the new version and reads
# back exactly that version's tree (every file, and no resource of the
# other), both databases pass integrity_check, and the rerun fetches
# exactly the objects the store does not durably hold.
make_tree "$T/big" 40 512 5
cs hub publish "$T/repo" "$T/big" >/dev/null
hub_start "$T/repo"
cp -a "$T/a" "$T/k0" # at version 2
echo "sync.max_rate = 16m" >>"$T/k0/node.conf"
c0=$(store_objects "$T/k0")
t0=$(date +%s%N)
cp -a "$T/k0" "$T/probe"
out=$(cs node sync "$T/probe" --hub "$HUB" --json)
dur_us=$((($(date +%s%N) - t0) / 1000))
p0=$(jf objects_present "$out") # objects of version 3 a version-2 node already holds
need=$(jf objects_needed "$out")
echo "a rate-limited sync of version 3 takes ${dur_us} us; $need objects, $p0 already held"
check "probe: version 3 needs new objects" [ "$((need - p0))" -gt 10 ]
matches_version() { # matches_version DATA: content read back is exactly its version's tree
    local v tree n
    v=$(node_version "$1")
    case "$v" in 2) tree=$SRCROOT/samples/v2 ;; 3) tree=$T/big ;; *) return 1 ;; esac
    n=$(cs node status "$1" --json | sed -n 's/.*"resources":\([0-9]*\).*/\1/p')
    [ "$n" = "$(find "$tree" -mindepth 1 -maxdepth 1 -type d | wc -l)" ] && same_as_tree "$1" "$tree"
}
after_kill() { # after_kill DATA WHAT: the checks above, then the rerun; sets STORED
    local dd=$1 what=$2 v s rerun
    v=$(node_version "$dd")
    check "$what: old or new version ('$v')" [ "$v" = 2 -o "$v" = 3 ]
    check "$what: databases sound" integrity "$dd"
    check "$what: content is exactly version $v's tree" matches_version "$dd"
    s=$(store_objects "$dd")
    rerun=$(cs node sync "$dd" --hub "$HUB" --json 2>&1) || bad "$what: rerun failed: $rerun"
    if [ "$v" = 3 ]; then
        check "$what: rerun after the commit fetches nothing ($rerun)" [ "$(jf objects_fetched "$rerun")" = 0 ]
    else
        check "$what: rerun finds every durable object ($s stored, $rerun)" \
            [ "$(jf objects_present "$rerun")" = $((s - c0 + p0)) ]
        check "$what: rerun fetches exactly the missing ones" \
            [ "$(jf objects_fetched "$rerun")" = $(($(jf objects_needed "$rerun") - $(jf objects_present "$rerun"))) ]
    fi
    check "$what: version 3 after the rerun" [ "$(node_version "$dd")" = 3 ]
    STORED=$s
}
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
    case "$(node_version "$T/k")" in 2) old=$((old + 1)) ;; 3) new=$((new + 1)) ;; esac
    after_kill "$T/k" "sync kill $trial"
    if [ "$STORED" -gt "$c0" ]; then resumed=$((resumed + 1)); fi
done
echo "sync kills: $TRIALS (old version: $old, new: $new; kills after verified objects were stored: $resumed)"
if [ "$TRIALS" -ge 10 ]; then # random: with fewer trials these may miss (the hooks below do not)
    check "some kills landed mid-sync" [ "$old" -gt 0 ]
    check "some kills left verified objects for the rerun" [ "$resumed" -gt 0 ]
fi
check "last node verifies" cs node verify "$T/k"

# Deterministic kill points (CISTERN_TEST_KILL_AT, a test hook in
# sync/apply.c): right after a request's objects were made durable, and
# inside the apply transaction.
killed_at() { # killed_at POINT CMD...: CMD killed itself (SIGKILL: status 137) at POINT
    local point=$1 rc=0
    shift
    env CISTERN_TEST_KILL_AT="$point" "$@" >/dev/null 2>&1 &
    wait $! || rc=$?
    [ "$rc" = 137 ]
}
rm -rf "$T/k" && cp -a "$T/k0" "$T/k"
check "kill after the first request: the sync died" killed_at after-request "$CISTERN" node sync "$T/k" --hub "$HUB"
s=$(store_objects "$T/k")
check "kill after the first request: its objects are durable ($s > $c0)" [ "$s" -gt "$c0" ]
after_kill "$T/k" "kill after the first request"
for point in commit-begin commit-mid after-commit; do
    rm -rf "$T/k" && cp -a "$T/k0" "$T/k"
    check "kill at $point: the sync died" killed_at "$point" "$CISTERN" node sync "$T/k" --hub "$HUB"
    want=2
    [ "$point" = after-commit ] && want=3
    check "kill at $point: version $want" [ "$(node_version "$T/k")" = "$want" ]
    check "kill at $point: every object was durable before the apply" [ "$(store_objects "$T/k")" = $((c0 + need - p0)) ]
    after_kill "$T/k" "kill at $point"
done
# The same apply path for a USB bundle.
cs hub bundle "$T/repo" --since 2 -o "$T/v3.b" >/dev/null
rm -rf "$T/k" && cp -a "$T/k0" "$T/k"
check "bundle import killed mid-apply" killed_at commit-mid "$CISTERN" node import "$T/k" "$T/v3.b"
check "bundle import killed mid-apply: version 2" [ "$(node_version "$T/k")" = 2 ]
check "bundle import killed mid-apply: databases sound" integrity "$T/k"
check "bundle import killed mid-apply: content is version 2's" matches_version "$T/k"
out=$(cs node import "$T/k" "$T/v3.b" 2>&1) || bad "import rerun failed: $out"
check "bundle import rerun: version 3, content exact" matches_version "$T/k"
hub_stop

# --- deltas K versions deep (hub publish --delta-depth 2) ---
# A large file (over sync.large_object) changes by a few bytes per version:
# a node 2 versions behind gets it as a small delta in a batch, a node 3
# behind gets the whole object (by Range) and the whole catalogue.
mkdir -p "$T/dsrc/film"
head -c 600000 /dev/urandom >"$T/dsrc/film/film.bin"
printf '{"id":"film","title":{"en":"A film"},"language":"en","type":"video","entry":"film.bin"}\n' >"$T/dsrc/film/resource.json"
cs hub init "$T/drepo" >/dev/null
hub_start "$T/drepo"
cs node init "$T/d1" --trust "$T/drepo/root.json" --hub "$HUB" >/dev/null
echo "sync.large_object = 256k" >>"$T/d1/node.conf"
for v in 1 2 3 4; do
    if [ "$v" -gt 1 ]; then
        printf 'edit %d' "$v" | dd of="$T/dsrc/film/film.bin" bs=1 seek=$((v * 1000)) conv=notrunc status=none
    fi
    cs hub publish "$T/drepo" "$T/dsrc" --delta-depth 2 >/dev/null
    if [ "$v" = 1 ]; then cs node sync "$T/d1" >/dev/null; fi
    if [ "$v" = 2 ]; then
        cp -a "$T/d1" "$T/d2"
        cs node sync "$T/d2" >/dev/null
    fi
done
check "delta depth: nodes at versions 1 and 2" [ "$(node_version "$T/d1")$(node_version "$T/d2")" = 12 ]
out=$(cs node sync "$T/d2" --json)
check "2 behind with K = 2: version 4 ($out)" [ "$(node_version "$T/d2")" = 4 ]
check "2 behind: the large file travelled as a delta" [ "$(jf deltas_applied "$out")" = 1 ]
check "2 behind: a small one ($(jf delta_bytes "$out") bytes)" [ "$(jf delta_bytes "$out")" -lt 20000 ]
check "2 behind: little on the wire ($(jf bytes_received "$out") bytes)" [ "$(jf bytes_received "$out")" -lt 60000 ]
check "2 behind: catalogue as a delta" [ "$(jf catalog_delta "$out")" = true ]
check "2 behind: the bytes are right" same_as_tree "$T/d2" "$T/dsrc"
out=$(cs node sync "$T/d1" --json)
check "3 behind with K = 2: version 4 ($out)" [ "$(node_version "$T/d1")" = 4 ]
check "3 behind: no delta" [ "$(jf deltas_applied "$out")" = 0 ]
check "3 behind: the whole object" [ "$(jf whole_bytes "$out")" -gt 500000 ]
check "3 behind: whole catalogue" [ "$(jf catalog_delta "$out")" = false ]
check "3 behind: the bytes are right" same_as_tree "$T/d1" "$T/dsrc"
check_fails "a delta depth out of range" "delta-depth" "$CISTERN" hub publish "$T/drepo" "$T/dsrc" --delta-depth 99
hub_stop
finish
