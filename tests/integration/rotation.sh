#!/bin/bash
# Key rotation: nodes follow successive root versions over the network and
# on USB bundles; metadata signed by a retired key is refused afterwards.
source "$(dirname "$0")/lib.sh"

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
hub_start "$T/repo"
cs node init "$T/a" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
cs node init "$T/u" --trust "$T/repo/root.json" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b1" >/dev/null
cs node import "$T/u" "$T/b1" >/dev/null
cs node sync "$T/a" >/dev/null
rootv() { cs node status "$1" --json | sed -n 's/.*"trust_root_version":\([0-9]*\).*/\1/p'; }
check "node starts on root version 1" [ "$(rootv "$T/a")" = 1 ]
cp "$T/repo/timestamp.json" "$T/ts-old-key.json"

check "rotate the timestamp key" cs hub rotate-key "$T/repo" timestamp
check "the retired key is kept aside" [ -f "$T/repo/keys/timestamp.key.retired-1" ]
check "sync follows root version 2" cs node sync "$T/a"
check "node now trusts root version 2" [ "$(rootv "$T/a")" = 2 ]
check "rotate the root key itself" cs hub rotate-key "$T/repo" root
check "rotate the targets key" cs hub rotate-key "$T/repo" targets
cs hub publish "$T/repo" "$SRCROOT/samples/v2" >/dev/null
check "sync across two more root versions and a new version" cs node sync "$T/a"
check "node at root version 4" [ "$(rootv "$T/a")" = 4 ]
check "and at catalogue version 2" [ "$(node_version "$T/a")" = 2 ]
check "files of v2" same_as_tree "$T/a" "$SRCROOT/samples/v2"

# A USB node on root 1 walks 2, 3, 4 from the bundle.
cs hub bundle "$T/repo" --since 1 -o "$T/b2" >/dev/null
check "bundle import across three root rotations" cs node import "$T/u" "$T/b2"
check "USB node at root version 4" [ "$(rootv "$T/u")" = 4 ]
check "USB node at version 2" [ "$(node_version "$T/u")" = 2 ]

# The retired timestamp key no longer counts.
hub_stop
cp -r "$T/repo" "$T/evil"
cp "$T/ts-old-key.json" "$T/evil/timestamp.json"
hub_start "$T/evil"
check_fails "timestamp signed by the retired key" "signature" cs node sync "$T/a" --hub "$HUB"
check_fails "unknown role" "unknown role" cs hub rotate-key "$T/repo" admin
hub_stop

# Fast-forward: whoever holds the timestamp key signs a timestamp with a
# huge version.  Correctly signed, the node takes it, and then refuses every
# honest timestamp (a rollback, as far as it can tell) with a clear message,
# until the hub rotates the timestamp key: the new root makes the node
# forget the versions it saw under the old key (TUF's recovery).
rm -rf "$T/ff"
cp -r "$T/repo" "$T/ff"
sqlite3 "$T/ff/hub.db" "UPDATE meta SET value = 999999999 WHERE key = 'timestamp_version'"
rm "$T/ff/timestamp.json"
cs hub bundle "$T/ff" --since 0 -o "$T/ff.b" >/dev/null # opening the hub re-signs the timestamp: version 10^9
check "a fast-forwarded timestamp (version 1000000000)" grep -q '"version": 1000000000' "$T/ff/timestamp.json"
hub_start "$T/ff"
check "the node takes the fast-forwarded timestamp (it is correctly signed)" cs node sync "$T/a" --hub "$HUB"
hub_stop
make_tree "$T/v3" 2 1 7
cs hub publish "$T/repo" "$T/v3" >/dev/null
hub_start "$T/repo"
check_fails "honest timestamps are refused after the fast-forward" "older than the 1000000000" \
    "$CISTERN" node sync "$T/a" --hub "$HUB"
check "still at version 2" [ "$(node_version "$T/a")" = 2 ]
# A USB bundle's timestamp is not checked for expiry, but its version may
# not go below the highest seen either: an honest bundle is refused too.
cs hub bundle "$T/repo" --since 2 -o "$T/b3" >/dev/null
check_fails "a bundle after the fast-forward" "older than the 1000000000" "$CISTERN" node import "$T/a" "$T/b3"
check "the bundle applied nothing" [ "$(node_version "$T/a")" = 2 ]
check "recovery: the hub rotates the timestamp key" cs hub rotate-key "$T/repo" timestamp
out=$(cs node sync "$T/a" --hub "$HUB" 2>&1) || bad "sync after the recovery failed: $out"
check "after the rotation the node syncs again: version 3 ($out)" [ "$(node_version "$T/a")" = 3 ]
check "on root version 5" [ "$(rootv "$T/a")" = 5 ]
check "the new version's files" same_as_tree "$T/a" "$T/v3"
check "and the next sync is ordinary" grep -q "already at version 3" <(cs node sync "$T/a" --hub "$HUB")
hub_stop
hub_start "$T/ff"
check_fails "the fast-forwarded timestamp, signed by the retired key, is refused now" "signature" \
    "$CISTERN" node sync "$T/a" --hub "$HUB"
hub_stop
check "still version 3" [ "$(node_version "$T/a")" = 3 ]
mv "$T/repo/keys/root.key" "$T/root.key.offline"
check_fails "rotation needs the root key" "root.key" cs hub rotate-key "$T/repo" snapshot
finish
