#!/bin/bash
# A full disk, for real: the node's data on a small tmpfs.  Sync, import and
# the outbox each fail with a clear error, corrupt nothing, keep serving, and
# resume once there is room.
source "$(dirname "$0")/lib.sh"
D="$T/disk"
mkdir -p "$D"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=6m,mode=755 tmpfs "$D" 2>/dev/null; then
    echo "full-disk test: SKIPPED: needs root and permission to mount a size-limited tmpfs (mount -t tmpfs)"
    exit 77
fi
trap 'umount -l "$D" 2>/dev/null; cleanup' EXIT

make_tree "$T/src" 30 400 5 # 12 MB of incompressible media: twice the disk
cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$T/src" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/full.bundle" >/dev/null
hub_start "$T/repo"

# Network sync onto a disk too small.
cs node init "$D/n" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
echo "sync.retries = 1" >>"$D/n/node.conf"
echo "sync.backoff_ms = 10" >>"$D/n/node.conf"
check_fails "sync onto a full disk fails, saying so" "space" cs node sync "$D/n"
check "the node stays on its version (0)" [ "$(node_version "$D/n")" = 0 ]
check "nothing is corrupt" cs node verify "$D/n"
mount -o remount,size=64m "$D"
out=$(cs node sync "$D/n" 2>&1)
check "with room again, the same sync completes ($out)" [ "$(node_version "$D/n")" = 1 ]
check "every file reads back" same_as_tree "$D/n" "$T/src"
check "and verifies" cs node verify "$D/n"
rm -rf "$D/n"

# USB import onto a disk too small.
mount -o remount,size=6m "$D"
cs node init "$D/u" --trust "$T/repo/root.json" >/dev/null
check_fails "import onto a full disk fails, saying so" "space" cs node import "$D/u" "$T/full.bundle"
check "the node stays on its version (0)" [ "$(node_version "$D/u")" = 0 ]
check "nothing is corrupt" cs node verify "$D/u"
mount -o remount,size=64m "$D"
check "with room again, the import completes" cs node import "$D/u" "$T/full.bundle"
check "version 1" [ "$(node_version "$D/u")" = 1 ]
check "every file reads back" same_as_tree "$D/u" "$T/src"

# The outbox and learner data when the disk fills under a running daemon.
printf 'teacher-pass-1\n' >"$T/pw"
cs node user add "$D/u" "Li Laoshi" --role teacher --password-file "$T/pw" >/dev/null
serve_start "$D/u"
csrf=$(curl -s -c "$T/j" -H 'Content-Type: application/json' \
    --data-binary '{"name":"Li Laoshi","password":"teacher-pass-1"}' "$URL/api/v1/login" |
    sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p')
fb() { curl -s -o "$T/out" -w '%{http_code}' -b "$T/j" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    --data-binary "{\"resource\":\"gen-1\",\"rating\":3,\"comment\":\"$1\"}" "$URL/api/v1/feedback"; }
check "feedback before the disk fills" [ "$(fb one)" = 201 ]
dd if=/dev/zero of="$D/filler" bs=1M 2>/dev/null || true
sync
code=$(fb two)
check "feedback on a full disk: 507 with a clear message ($code)" [ "$code" = 507 ]
check "... saying the disk is full" grep -q "disk full" "$T/out"
check "the school is still served" [ "$(st "$URL/r/gen-1/index.html")" = 200 ]
check "search still answers" [ "$(st "$URL/api/v1/catalog?q=lesson")" = 200 ]
check_fails "export of the outbox: a clear error" "space" cs node export-outbox "$D/u" -o "$D/out.outbox"
rm -f "$D/filler"
check "with room again, feedback works" [ "$(fb three)" = 201 ]
serve_stop
check "people.db is intact" [ "$(sqlite3 "$D/u/people.db" "PRAGMA integrity_check")" = ok ]
check "the feedback before and after is kept, the one refused is not" \
    [ "$(sqlite3 "$D/u/people.db" "SELECT group_concat(comment) FROM feedback")" = "one,three" ]
check "the outbox holds them once each" [ "$(sqlite3 "$D/u/people.db" "SELECT count(*) FROM outbox WHERE kind = 'feedback'")" = 2 ]
check "the outbox exports now" cs node export-outbox "$D/u" -o "$T/out.outbox"
finish
