#!/bin/bash
# The Debian package: built by CPack from this build, with its control
# fields, maintainer scripts, conffile and files in place when installed into
# a scratch root, the binary there working, and the systemd units valid and
# hardened.
source "$(dirname "$0")/lib.sh"
BUILD=$(cd "$(dirname "$CISTERN")/.." && pwd)
command -v cpack >/dev/null && command -v dpkg-deb >/dev/null ||
    { echo "package test: SKIPPED: needs cpack and dpkg-deb"; exit 77; }
(cd "$BUILD" && cpack -G DEB -B "$T/pkg" >/dev/null 2>"$T/cpack.err") || { cat "$T/cpack.err"; bad "cpack -G DEB"; finish; }
DEB=$(ls "$T"/pkg/cistern_*.deb)
check "a .deb is built" [ -s "$DEB" ]
dpkg-deb -I "$DEB" >"$T/info"
check "package name" grep -q "^ Package: cistern$" "$T/info"
check "depends on the libraries it links (shlibdeps)" grep -q "^ Depends: .*libmicrohttpd12.*libsqlite3-0" "$T/info"
check "depends on adduser (postinst makes the user)" grep -q "^ Depends: adduser" "$T/info"
check "recommends avahi-daemon (zeroconf)" grep -q "^ Recommends: avahi-daemon" "$T/info"
R="$T/root"
dpkg-deb -x "$DEB" "$R"
dpkg-deb -e "$DEB" "$T/control"
for f in usr/bin/cistern etc/cistern/node.conf lib/systemd/system/cistern-node.service \
    lib/systemd/system/cistern-hub.service usr/share/doc/cistern/README.md; do
    check "installs /$f" [ -s "$R/$f" ]
done
check "the installed binary runs" "$R/usr/bin/cistern" --version
check "/etc/cistern/node.conf is a conffile" grep -qx "/etc/cistern/node.conf" "$T/control/conffiles"
for s in postinst prerm postrm; do
    check "$s is a valid shell script" sh -n "$T/control/$s"
done
check "postinst makes the cistern system user" grep -q "adduser --system --group" "$T/control/postinst"
check "postinst restarts running services on upgrade" grep -q "systemctl restart" "$T/control/postinst"
check "a purge keeps the school's data" bash -c "! grep -q 'rm -rf /var/lib/cistern' '$T/control/postrm'"
cs hub init "$T/repo" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
check "the packaged config passes the node's own check" bash -c \
    "CISTERN_CONFIG='$R/etc/cistern/node.conf' '$CISTERN' node serve '$T/n' --check | grep -q 'listen on 0.0.0.0:80'"
# The units: valid for systemd (with the binary where the scratch root has it) and hardened.
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$T/units"
    for u in cistern-node cistern-hub; do
        sed "s|/usr/bin/cistern|$R/usr/bin/cistern|g" "$R/lib/systemd/system/$u.service" >"$T/units/$u.service"
        out=$(systemd-analyze verify "$T/units/$u.service" 2>&1 | grep -v "Failed to .* sysinit.target\|is not executable: No such file or directory: /bin/kill" || true)
        check "$u.service passes systemd-analyze verify ($out)" [ -z "$out" ]
    done
else
    echo "package test: systemd-analyze missing: unit files not verified"
fi
for key in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes User=cistern; do
    check "cistern-node.service: $key" grep -qx "$key" "$R/lib/systemd/system/cistern-node.service"
    check "cistern-hub.service: $key" grep -qx "$key" "$R/lib/systemd/system/cistern-hub.service"
done
check "the node may bind port 80 and nothing more" grep -qx "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" \
    "$R/lib/systemd/system/cistern-node.service"
check "logs go to the journal (no log files)" bash -c "! grep -q 'StandardOutput=file' '$R'/lib/systemd/system/*.service"
finish
