#!/bin/sh
# Browser test of the node's web UI against the real server.
#
#   tests/browser/run.sh path/to/cistern [REPO_ROOT]
#
# Installs what is missing (chromium, nodejs, npm from Debian; playwright-core
# from npm into tests/browser/node_modules), makes a node from samples/v1
# and the long audio and video that fixtures.mjs generates,
# adds an admin and a teacher (`cistern node user add`), starts `cistern node
# serve` on a free loopback port, runs ui.test.mjs with node's test runner and
# stops the server.  Exits 77 (skip) with the reason
# when chromium cannot be installed.
set -eu

die() { echo "browser test: $*" >&2; exit 1; }
skip() { echo "browser test: SKIPPED: $*" >&2; exit 77; }

[ $# -ge 1 ] || die "usage: $0 path/to/cistern [REPO_ROOT]"
CISTERN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "${2:-$HERE/../..}" && pwd)
[ -x "$CISTERN" ] || die "$CISTERN is not an executable"
[ -d "$ROOT/samples/v1" ] || die "$ROOT/samples/v1 not found (second argument: the repository root)"

# --- what the test needs ----------------------------------------------------
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi; }
apt_install() {
    echo "browser test: installing $*" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 ||
        { as_root apt-get update >/dev/null 2>&1 &&
          as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; }
}
if [ ! -x "$CHROMIUM" ]; then
    command -v apt-get >/dev/null 2>&1 || skip "$CHROMIUM is missing and there is no apt-get to install chromium"
    apt_install chromium || true
    [ -x "$CHROMIUM" ] || skip "no chromium at $CHROMIUM and apt-get install chromium did not provide one (not root, no network or no package?); install it or set CHROMIUM=/path/to/chromium"
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm || die "nodejs and npm are needed and could not be installed"
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 18 ] || die "node $(node --version) is too old; the test needs node 18 or newer"
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
    (cd "$HERE" && npm install --no-audit --no-fund --loglevel=error) || die "npm install of playwright-core failed"
fi

# --- a node holding samples/v1 and the fixtures -------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cistern-browser.XXXXXX")
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        i=0; while kill -0 "$PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export CISTERN_QUIET=1
# samples/v1 plus two long media files made here (fixtures.mjs): seeking
# near their end needs a Range request that starts past byte 0.
cp -R "$ROOT/samples/v1" "$WORK/src" || die "copying samples/v1 failed"
node "$HERE/fixtures.mjs" "$WORK/src" "$ROOT/samples/v1/science-g5-water-cycle-video/water-cycle.mp4" >&2 ||
    die "making the long media fixtures failed"
"$CISTERN" hub init "$WORK/hub" >/dev/null || die "hub init failed"
"$CISTERN" hub publish "$WORK/hub" "$WORK/src" >/dev/null || die "hub publish failed"
"$CISTERN" hub bundle "$WORK/hub" --since 0 -o "$WORK/full.bundle" >/dev/null || die "hub bundle failed"
"$CISTERN" node init "$WORK/node" --trust "$WORK/hub/root.json" >/dev/null || die "node init failed"
"$CISTERN" node import "$WORK/node" "$WORK/full.bundle" >/dev/null || die "node import failed"

# --- staff accounts for the accounts tests (ui.test.mjs skips those without) --
if "$CISTERN" node user --help >/dev/null 2>&1; then
    export CISTERN_ADMIN_NAME=admin-wang CISTERN_TEACHER_NAME='李老师'
    CISTERN_ADMIN_PASSWORD="admin pw $(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    CISTERN_TEACHER_PASSWORD="teacher pw $(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    export CISTERN_ADMIN_PASSWORD CISTERN_TEACHER_PASSWORD
    printf '%s\n' "$CISTERN_ADMIN_PASSWORD" >"$WORK/admin.pw"
    printf '%s\n' "$CISTERN_TEACHER_PASSWORD" >"$WORK/teacher.pw"
    "$CISTERN" node user add "$WORK/node" "$CISTERN_ADMIN_NAME" --role admin --password-file "$WORK/admin.pw" >/dev/null ||
        die "node user add (admin) failed"
    "$CISTERN" node user add "$WORK/node" "$CISTERN_TEACHER_NAME" --role teacher --password-file "$WORK/teacher.pw" >/dev/null ||
        die "node user add (teacher) failed"
else
    echo "browser test: this cistern has no 'node user': the accounts tests are skipped" >&2
fi

# --- the server, on a free loopback port --------------------------------------
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
URL=
for attempt in 1 2 3; do
    PORT=$(free_port)
    "$CISTERN" node serve "$WORK/node" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
    PID=$!
    i=0
    while [ $i -lt 100 ]; do
        if ! kill -0 "$PID" 2>/dev/null; then break; fi
        if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' \
            "http://127.0.0.1:$PORT/api/v1/status" 2>/dev/null; then URL="http://127.0.0.1:$PORT"; break; fi
        sleep 0.1; i=$((i + 1))
    done
    [ -n "$URL" ] && break
    kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=
done
if [ -z "$URL" ]; then
    cat "$WORK/serve.log" >&2 || true
    die "cistern node serve did not come up"
fi
echo "browser test: node serving at $URL" >&2

# --- the test -----------------------------------------------------------------
set +e
(cd "$HERE" && CISTERN_URL="$URL" CHROMIUM="$CHROMIUM" node --test --test-reporter=spec ui.test.mjs)
rc=$?
set -e
# Stop the server now, so that what a sanitizer build reports at exit
# (leaks, errors found while serving) is in its log.
kill -TERM "$PID" 2>/dev/null || true
i=0; while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if ! kill -0 "$PID" 2>/dev/null; then
    set +e; wait "$PID"; src=$?; set -e
    PID=
    [ $src -eq 0 ] || { echo "browser test: the server exited with status $src after SIGTERM" >&2; [ $rc -ne 0 ] || rc=1; }
fi
if grep -q -E 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$WORK/serve.log"; then
    echo "browser test: the sanitizer reported errors in the server" >&2
    [ $rc -ne 0 ] || rc=1
fi
if [ $rc -ne 0 ]; then
    echo "browser test: FAILED (server log follows)" >&2
    tail -n 50 "$WORK/serve.log" >&2 || true
fi
exit $rc
