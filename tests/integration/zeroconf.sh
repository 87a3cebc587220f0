#!/bin/bash
# Zeroconf: the node announces itself as "Cistern – <school>" (_http._tcp,
# its port) through Avahi, and withdraws when it stops; with zeroconf = 0 it
# says nothing.  Needs avahi-daemon (started here, with a system D-Bus, when
# run as root and none is running).
source "$(dirname "$0")/lib.sh"
command -v avahi-browse >/dev/null || { echo "zeroconf test: SKIPPED: no avahi-browse (avahi-utils)"; exit 77; }
started=
if ! timeout 5 avahi-browse -at >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v avahi-daemon >/dev/null && command -v dbus-daemon >/dev/null; then
        mkdir -p /run/dbus
        # A socket left by a system bus that died refuses connections and
        # keeps a new bus from starting: clear it first.
        if ! { [ -f /run/dbus/pid ] && kill -0 "$(cat /run/dbus/pid)" 2>/dev/null; }; then
            rm -f /run/dbus/pid /run/dbus/system_bus_socket
            dbus-daemon --system --fork
        fi
        avahi-daemon -D --no-chroot 2>/dev/null || true
        started=1
        for i in $(seq 1 50); do timeout 2 avahi-browse -at >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    timeout 5 avahi-browse -at >/dev/null 2>&1 ||
        { echo "zeroconf test: SKIPPED: avahi-daemon is not running and could not be started"; exit 77; }
fi
[ -n "$started" ] && trap 'avahi-daemon -k 2>/dev/null; cleanup' EXIT

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
SCHOOL="Test School $$"
echo "school.name = $SCHOOL" >>"$T/n/node.conf"
# avahi-browse -p escapes names: a space is \032, the en dash \226\128\147.
ESC="Cistern\\032\\226\\128\\147\\032${SCHOOL// /\\032}"
serve_start "$T/n"
found=
for i in $(seq 1 30); do
    found=$(timeout 5 avahi-browse -rtp _http._tcp 2>/dev/null | grep "^=" | grep -F "$ESC" | head -1 || true)
    [ -n "$found" ] && break
    sleep 0.3
done
check "announced as \"Cistern – $SCHOOL\"" [ -n "$found" ]
check "with the node's port ($PORT)" [ "$(cut -d';' -f9 <<<"$found")" = "$PORT" ]
check "and path=/" grep -q '"path=/"' <<<"$found"
check "the log says so" grep -q "zeroconf: announced" "$T/serve.err"
serve_stop
gone=
for i in $(seq 1 30); do
    timeout 5 avahi-browse -rtp _http._tcp 2>/dev/null | grep -qF "$ESC" || { gone=1; break; }
    sleep 0.3
done
check "withdrawn when the node stops" [ -n "$gone" ]
echo "zeroconf = 0" >>"$T/n/node.conf"
serve_start "$T/n"
sleep 1
check "zeroconf = 0: not announced" bash -c "! timeout 5 avahi-browse -rtp _http._tcp 2>/dev/null | grep -qF '$ESC'"
serve_stop
finish
