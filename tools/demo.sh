#!/bin/bash
# demo.sh - from nothing to a working node: install dependencies, build, make
# a demo hub repository from the project's sample content, serve it, sync a
# node from it over HTTP (and a second one from a USB bundle), and serve the
# node on http://127.0.0.1:8080/ (Ctrl-C stops it).  Everything lands in
# ./demo/.
#   PORT=9000 tools/demo.sh     another port for the node
#   HUB_PORT=9001 tools/demo.sh another port for the hub (default 8081; 0 =
#                               any free port)
#   DEMO_SERVE=0 tools/demo.sh  set up only, do not serve
#   CISTERN=path/to/cistern     use this binary: install and build nothing
#   DEMO_DIR=dir                put everything in dir instead of ./demo (it
#                               is emptied first)
set -euo pipefail
# CISTERN and DEMO_DIR may be relative to where we were started.
if [ -n "${CISTERN:-}" ]; then
    [ -f "$CISTERN" ] && [ -x "$CISTERN" ] || { echo "demo.sh: CISTERN=$CISTERN is not an executable" >&2; exit 1; }
    C=$(cd "$(dirname "$CISTERN")" && pwd)/$(basename "$CISTERN")
fi
if [ -n "${DEMO_DIR:-}" ]; then
    mkdir -p "$DEMO_DIR"
    DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ -z "${CISTERN:-}" ]; then
    bash tools/deps.sh
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCISTERN_BUILD_TESTS=OFF >/dev/null
    cmake --build build
    C=$ROOT/build/tools/cistern
fi
D=${DEMO_DIR:-$ROOT/demo}
rm -rf "$D"
mkdir -p "$D"
echo
echo "== hub: a repository with signing keys, and version 1 from samples/v1"
$C hub init "$D/hub"
$C hub publish "$D/hub" samples/v1
$C hub serve "$D/hub" --listen "127.0.0.1:${HUB_PORT:-8081}" >"$D/hub.log" 2>&1 &
HUB_PID=$!
trap 'kill $HUB_PID 2>/dev/null || true' EXIT
# Its first line says where it listens ("... on http://127.0.0.1:PORT/").
hub_port=
for _ in $(seq 1 100); do
    hub_port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$D/hub.log" | head -1)
    [ -n "$hub_port" ] && break
    kill -0 $HUB_PID 2>/dev/null || break
    sleep 0.05
done
[ -n "$hub_port" ] || { echo "demo.sh: the hub did not start:" >&2; cat "$D/hub.log" >&2; exit 1; }
echo "== hub: serving the repository on http://127.0.0.1:$hub_port/ (stopped when this script ends)"
echo
echo "== node: pin the hub's root of trust and sync version 1 over HTTP"
$C node init "$D/node" --trust "$D/hub/root.json" --hub "http://127.0.0.1:$hub_port"
$C node sync "$D/node"
echo
echo "== hub: version 2 (an erratum, a redrawn map, one resource added, one removed)"
$C hub publish "$D/hub" samples/v2
echo "== node: sync again: only the changes travel (binary deltas)"
$C node sync "$D/node"
$C node status "$D/node"
echo
echo "== the USB path: a bundle for schools with no link, imported into a second node"
$C hub bundle "$D/hub" --since 0 -o "$D/usb-full.bundle"
$C node init "$D/usb-node" --trust "$D/hub/root.json"
$C node import "$D/usb-node" "$D/usb-full.bundle"
echo
echo "== node: search in Chinese and English"
$C node search "$D/node" 勾股定理
$C node search "$D/node" 水 --lang en
$C node search "$D/node" photo --prefix --lang en
echo
echo "== node: a cached file, read back from the compressed store"
$C node cat "$D/node" science-g5-water-cycle index.html | head -n 12
echo "..."
echo
echo "== node: staff accounts for the web UI (demo passwords; choose real ones on a real box)"
printf 'demo-admin-1\n' | $C node user add "$D/node" admin --role admin
printf 'demo-teacher-1\n' | $C node user add "$D/node" teacher --role teacher
echo
echo "== the outbox: what the node owes the hub, as a signed file for USB, and what the hub sees"
$C node export-outbox "$D/node" -o "$D/school.outbox"
$C hub import-outbox "$D/hub" "$D/school.outbox"
$C hub reports "$D/hub" | head -n 8
echo
echo "Demo ready in $D.  Try: $C node search $D/node 分数"
echo "Sign in at the web UI as teacher / demo-teacher-1 or admin / demo-admin-1."
if [ "${DEMO_SERVE:-1}" != 0 ]; then
    echo
    echo "== node: serving the school LAN (here: localhost) — open http://127.0.0.1:${PORT:-8080}/  (Ctrl-C stops)"
    $C node serve "$D/node" --listen "127.0.0.1:${PORT:-8080}"
fi
