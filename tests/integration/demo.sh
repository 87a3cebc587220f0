#!/bin/bash
# The README's demo, end to end: `DEMO_SERVE=0 tools/demo.sh` with this
# build's binary, a temporary directory and a free hub port.  It must leave
# the node synced to version 2 of the samples with files readable, the USB
# node imported, and never touch the source tree's build/ or demo/.  Then
# samples/check.py checks the sample trees themselves.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "demo test: SKIPPED: curl missing (apt-get install curl)"; exit 77; }

# What the demo must not touch: the source tree's demo/ and build/ (whose
# configuration a `cmake -S . -B build` would rewrite).
untouched() {
    local f
    for f in "$SRCROOT/demo" "$SRCROOT/build/CMakeCache.txt" "$SRCROOT/build/build.ninja" \
        "$SRCROOT/build/tools/cistern"; do
        if [ -e "$f" ]; then stat -c '%n %s %Y' "$f"; else echo "$f absent"; fi
    done
    if [ -d "$SRCROOT/demo" ]; then find "$SRCROOT/demo" -maxdepth 1 | LC_ALL=C sort; fi
}
untouched >"$T/before"

out=$(env -u CISTERN_QUIET DEMO_SERVE=0 CISTERN="$CISTERN" DEMO_DIR="$T/demo" HUB_PORT=0 \
    bash "$SRCROOT/tools/demo.sh" 2>"$T/demo.err") || {
    bad "tools/demo.sh failed: $(tail -n 20 "$T/demo.err")"
    echo "$out" | tail -n 20 >&2
    finish
    exit 1
}
echo "$out" >"$T/demo.out"
untouched >"$T/after"
check "the demo left the source tree's demo/ and build/ alone" cmp -s "$T/before" "$T/after"
check "the demo installed and built nothing" \
    bash -c "! grep -qE '^installing: |^ninja: |^\[[0-9]+/[0-9]+\] |^-- Configuring' '$T/demo.out' '$T/demo.err'"

check "the hub published version 1" grep -q '^published version 1:' "$T/demo.out"
check "the hub published version 2" grep -q '^published version 2:' "$T/demo.out"
check "the demo's node is at version 2" [ "$(node_version "$T/demo/node")" = 2 ]
check "node status in the output says version 2" grep -qE '^ +version: +2$' "$T/demo.out"
check "the USB node imported version 2 from empty" grep -q '^imported version 2 (was 0)' "$T/demo.out"
check "the USB node is at version 2" [ "$(node_version "$T/demo/usb-node")" = 2 ]
want=$(head -n 12 "$SRCROOT/samples/v2/science-g5-water-cycle/index.html")
check "the file read back is the sample's first 12 lines" grep -qF -- "$want" "$T/demo.out"
check "the search in Chinese finds the Pythagoras lessons" grep -q '^math-g8-pythagorean-theorem ' "$T/demo.out"
check "the demo's node files are version 2, byte for byte" same_as_tree "$T/demo/node" "$SRCROOT/samples/v2"
check "the USB node's files are version 2, byte for byte" same_as_tree "$T/demo/usb-node" "$SRCROOT/samples/v2"
check "the hub read the node's outbox file" grep -qE '^node [0-9a-f]+: [0-9]+ records in the file' "$T/demo.out"
check "the hub's report lists the node at version 2" grep -qE '^  [0-9a-f]+ +version 2 ' "$T/demo.out"
hub_port=$(sed -n 's|.*serving the repository on http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$T/demo.out")
check "the demo's hub ran on a port of its own choosing ($hub_port)" [ -n "$hub_port" ]
check "the demo stopped its hub" bash -c "! curl -s -m 2 -o /dev/null http://127.0.0.1:${hub_port:-1}/"

if command -v python3 >/dev/null; then
    check "samples/check.py: the sample trees are sound" python3 "$SRCROOT/samples/check.py"
else
    echo "samples/check.py skipped: no python3"
fi
finish
