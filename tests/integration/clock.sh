#!/bin/bash
# Wrong clocks.  A box that boots in 1970 judges expiry by the newest time
# it has seen in signed metadata, syncs and imports safely, and says so; a
# box whose clock runs a year ahead refuses "expired" metadata with a
# message that names the clock, and syncs once the slack allows it.  Old
# metadata stays refused whatever the clock says.
source "$(dirname "$0")/lib.sh"
now=$(date +%s)

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
hub_start "$T/repo"
cs node init "$T/n" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
check "a first sync" cs node sync "$T/n"
check "the node learned the signed time" grep -q '"signed_time":"20' <(cs node status "$T/n" --json)
cp -r "$T/repo" "$T/repo-v1" # the metadata of version 1, for a replay later

# The box reboots in 1970.
cs hub publish "$T/repo" "$SRCROOT/samples/v2" >/dev/null
out=$(CISTERN_FAKE_NOW=0 cs node sync "$T/n" 2>&1)
check "with the clock at 1970 the sync still works ($out)" [ "$(node_version "$T/n")" = 2 ]
check "and says what it did" grep -q "clock says 1970.*judged from the signed time" <(cs node status "$T/n" --json)
cs hub bundle "$T/repo" --since 0 -o "$T/b2" >/dev/null
cs node init "$T/u" --trust "$T/repo/root.json" >/dev/null
check "a USB import on a 1970 box (no signed time yet: bundle expiry as configured)" \
    bash -c "CISTERN_FAKE_NOW=0 '$CISTERN' node import '$T/u' '$T/b2' >/dev/null 2>&1"
check "... lands version 2" [ "$(node_version "$T/u")" = 2 ]
out=$(CISTERN_FAKE_NOW=0 cs node import "$T/u" "$T/b2" 2>&1 || true)
check "a second import on the 1970 box says it judged by the signed time" grep -q "clock says 1970" <<<"$out"

# The clock runs a year ahead: the new metadata looks expired.
make_tree "$T/v3" 2 1 3
cs hub publish "$T/repo" "$T/v3" >/dev/null
ahead=$((now + 365 * 86400))
check_fails "a year ahead: refused as expired, naming the clock" "clock is wrong" \
    env CISTERN_FAKE_NOW=$ahead "$CISTERN" node sync "$T/n"
check "still on version 2" [ "$(node_version "$T/n")" = 2 ]
echo "trust.clock_slack_hours = 9000" >>"$T/n/node.conf"
check "with the slack raised for such a box, it syncs" env CISTERN_FAKE_NOW=$ahead "$CISTERN" node sync "$T/n"
check "version 3" [ "$(node_version "$T/n")" = 3 ]

# Whatever the clock, old metadata is not taken: a replay of version 1.
hub_stop
hub_start "$T/repo-v1"
check_fails "a replay of older metadata on a 1970 box: refused" "older" \
    env CISTERN_FAKE_NOW=0 "$CISTERN" node sync "$T/n" --hub "$HUB"
check "still version 3" [ "$(node_version "$T/n")" = 3 ]
hub_stop

# USB bundles travel for weeks: 40 days after the metadata was signed (past
# the timestamp's day and the snapshot's 30 days plus trust.clock_slack_hours,
# within bundle.grace_days = 365), `node import` takes a bundle while
# `node sync` of the same version is refused as expired.
hub_start "$T/repo"
cs hub bundle "$T/repo" --since 0 -o "$T/b3" >/dev/null
cs node init "$T/w" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
weeks=$((now + 40 * 86400))
check_fails "40 days on: the network sync is refused as expired" "expired" \
    env CISTERN_FAKE_NOW=$weeks "$CISTERN" node sync "$T/w"
check "nothing applied by the refused sync" [ "$(node_version "$T/w")" = 0 ]
out=$(CISTERN_FAKE_NOW=$weeks cs node import "$T/w" "$T/b3" 2>&1) || bad "import 40 days on failed: $out"
check "40 days on: the bundle imports (version 3)" [ "$(node_version "$T/w")" = 3 ]
check "... with the right files" same_as_tree "$T/w" "$T/v3"
cs node init "$T/w2" --trust "$T/repo/root.json" >/dev/null
echo "bundle.grace_days = 5" >>"$T/w2/node.conf"
check_fails "... but not past bundle.grace_days" "expired" env CISTERN_FAKE_NOW=$weeks "$CISTERN" node import "$T/w2" "$T/b3"
hub_stop
finish
