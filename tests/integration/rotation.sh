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
mv "$T/repo/keys/root.key" "$T/root.key.offline"
check_fails "rotation needs the root key" "root.key" cs hub rotate-key "$T/repo" snapshot
hub_stop
finish
