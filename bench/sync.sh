#!/usr/bin/env bash
# bench/sync.sh - what a content update costs on the wire: cistern's hub-to-
# node sync against zstd --patch-from, rsync -z, the changed files sent whole
# and a full download, on the OpenStax Calculus errata updates (v1 -> v2 ->
# v3) and on a generated media-heavy update; then the calculus v1 -> v2
# update over a bad link (256 kbit/s, 300 ms each way, cut every 30 s).
#
# Not part of the test suite: a missed target prints MISS and the script
# still exits 0.  It exits non-zero only when a run breaks (a command fails,
# a server does not start, a node ends on the wrong version or bytes).
#
# Bytes are counted at the wire: every node sync goes through
# cistern-faultproxy (no faults for the normal runs) and "cistern" is the
# proxy's bytes_down, i.e. HTTP headers, signed metadata, the catalogue file
# and the objects/deltas.  The node's own count (response bodies) is printed
# beside it.  KB and MB are 10^3 and 10^6 bytes.
#
# Environment
#   CISTERN=path FAULTPROXY=path  use these binaries (both given: no build)
#   BUILD_DIR=dir                 build dir (default <repo>/build-syncbench)
#   CORPUS=dir                    default <repo>/../shared/corpora/updates/openstax-calculus
#   PARTS="calc media badlink"    what to run (default all three)
#   BADLINK_TIMEOUT=s             cap of the bad-link run (default 900)
#   NO_INSTALL=1                  never apt-get install rsync/zstd/lz4
#   KEEP=1                        keep the work dir
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$repo_root/build-syncbench}
CORPUS=${CORPUS:-$repo_root/../shared/corpora/updates/openstax-calculus}
PARTS=${PARTS:-calc media badlink}
BADLINK_TIMEOUT=${BADLINK_TIMEOUT:-900}
META_ALLOW=16000 # bytes of metadata allowed on top of zstd --patch-from
BAD_RATE=32000   # 256 kbit/s in bytes/s
export CISTERN_QUIET=1
export LC_ALL=C

die() {
    echo "sync.sh: $*" >&2
    exit 2
}
log() { echo "  .. $*" >&2; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
want() { [[ " $PARTS " == *" $1 "* ]]; }

# --- tools ---------------------------------------------------------------------
need_pkgs=()
for t in rsync:rsync zstd:zstd lz4:lz4 tar:tar cmp:diffutils timeout:coreutils openssl:openssl; do
    command -v "${t%%:*}" >/dev/null || need_pkgs+=("${t#*:}")
done
if ((${#need_pkgs[@]})); then
    [[ ${NO_INSTALL:-0} == 1 ]] && die "missing tools; apt-get install ${need_pkgs[*]}"
    log "installing ${need_pkgs[*]}"
    apt-get install -y "${need_pkgs[@]}" >/dev/null 2>&1 ||
        { apt-get update >/dev/null 2>&1 && apt-get install -y "${need_pkgs[@]}" >/dev/null 2>&1; } ||
        die "could not install ${need_pkgs[*]}"
fi

if [[ -z ${CISTERN:-} || -z ${FAULTPROXY:-} ]]; then
    log "building cistern and cistern-faultproxy in $BUILD_DIR"
    cmake -S "$repo_root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCISTERN_BUILD_TESTS=ON \
        >"${TMPDIR:-/tmp}/cistern-syncbench-build.log" 2>&1 &&
        cmake --build "$BUILD_DIR" >>"${TMPDIR:-/tmp}/cistern-syncbench-build.log" 2>&1 ||
        die "build failed, see ${TMPDIR:-/tmp}/cistern-syncbench-build.log"
    CISTERN=${CISTERN:-$BUILD_DIR/tools/cistern}
    FAULTPROXY=${FAULTPROXY:-$BUILD_DIR/tests/tools/cistern-faultproxy}
fi
[[ -x $CISTERN ]] || die "no cistern binary at $CISTERN"
[[ -x $FAULTPROXY ]] || die "no cistern-faultproxy binary at $FAULTPROXY"

# --- work dir, servers, cleanup ------------------------------------------------
W=$(mktemp -d "${TMPDIR:-/tmp}/cistern-syncbench.XXXXXX")
PIDS=() # every server this script starts: hubs, proxies, rsync daemons
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [[ ${KEEP:-0} == 1 ]]; then echo "work dir kept: $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
stop_pid() { # stop_pid PID: SIGTERM, wait, forget
    local p=$1 q keep=()
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    for q in "${PIDS[@]}"; do [[ $q == "$p" ]] || keep+=("$q"); done
    PIDS=("${keep[@]}")
}
port_in_out() { # port_in_out FILE REGEX_WITH_GROUP: waits up to 5 s for a port in FILE
    local i p=
    for i in $(seq 1 100); do
        p=$(sed -n "$2" "$1" 2>/dev/null | head -1)
        [[ -n $p ]] && break
        sleep 0.05
    done
    echo "$p"
}

cs() { "$CISTERN" "$@"; }

hub_start() { # hub_start REPO NAME: sets HUBPORT
    "$CISTERN" hub serve "$1" --listen 127.0.0.1:0 >"$W/$2.hub.out" 2>"$W/$2.hub.err" &
    PIDS+=($!)
    HUBPID=$!
    HUBPORT=$(port_in_out "$W/$2.hub.out" 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p')
    [[ -n $HUBPORT ]] || die "hub did not start: $(cat "$W/$2.hub.err")"
}

proxy_start() { # proxy_start HUBPORT STATSFILE [options...]: sets PXPID, PXPORT
    local hp=$1 stats=$2
    shift 2
    rm -f "$stats"
    "$FAULTPROXY" --listen 127.0.0.1:0 --target "127.0.0.1:$hp" --stats "$stats" "$@" \
        >"$stats.out" 2>"$stats.err" &
    PXPID=$!
    PIDS+=("$PXPID")
    PXPORT=$(port_in_out "$stats.out" 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p')
    [[ -n $PXPORT ]] || die "proxy did not start: $(cat "$stats.err")"
}
stat_of() { sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" "$1"; } # stat_of STATSFILE KEY

# Bytes as text: 123.4 KB / 12.34 MB.
hb() { awk -v b="$1" 'BEGIN { if (b < 1e6) printf "%.1f KB", b / 1e3; else printf "%.2f MB", b / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "inf"; else printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r != "inf" && r + 0 <= t + 0) ? "PASS" : "MISS" }'; }
# "13.5 KB" (cistern's own decimal units) -> bytes
unhb() { awk -v n="$1" -v u="$2" 'BEGIN { m = (u == "KB") ? 1e3 : (u == "MB") ? 1e6 : (u == "GB") ? 1e9 : 1; printf "%.0f", n * m }'; }

node_version() { cs node status "$1" --json | sed -n 's/.*"version":\([0-9]*\).*/\1/p'; }

node_new() { # node_new DATA REPO HUBURL
    cs node init "$1" --trust "$2/root.json" --hub "$3" >/dev/null
}

# sync_wire DATA HUBPORT WANT_VERSION TIMEOUT_S [proxy options...]
# One `node sync` through a fresh proxy; sets WIRE_DOWN, WIRE_UP, CUTS,
# ACCEPTED, BODY (node's count), REQS, WALL_MS, SYNC_OUT, SYNC_RC (124: timeout).
sync_wire() {
    local data=$1 hp=$2 wantv=$3 tmo=$4 st="$W/px.$RANDOM.json" t0 m
    shift 4
    proxy_start "$hp" "$st" "$@"
    t0=$(now_ms)
    SYNC_RC=0
    SYNC_OUT=$(timeout "$tmo" "$CISTERN" node sync "$data" --hub "http://127.0.0.1:$PXPORT" 2>&1) || SYNC_RC=$?
    WALL_MS=$(($(now_ms) - t0))
    stop_pid "$PXPID"
    WIRE_DOWN=$(stat_of "$st" bytes_down)
    WIRE_UP=$(stat_of "$st" bytes_up)
    CUTS=$(stat_of "$st" cut)
    ACCEPTED=$(stat_of "$st" accepted)
    [[ -n $WIRE_DOWN ]] || die "no proxy stats in $st"
    [[ $SYNC_RC == 124 ]] && return 0
    [[ $SYNC_RC == 0 ]] || die "node sync failed ($SYNC_RC): $SYNC_OUT"
    local v
    v=$(node_version "$data")
    [[ $v == "$wantv" ]] || die "node at version $v after sync, expected $wantv: $SYNC_OUT"
    m=$(sed -n 's/.*, \([0-9.]*\) \([KMGT]*B\) received in \([0-9]*\) requests.*/\1 \2 \3/p' <<<"$SYNC_OUT")
    [[ -n $m ]] || die "cannot read the sync summary: $SYNC_OUT"
    read -r BODY_N BODY_U REQS <<<"$m"
    BODY=$(unhb "$BODY_N" "$BODY_U")
}

# Every changed or new file of NEW reads back from the node byte for byte; a
# resource gone from NEW is no longer served.  check_node DATA OLD NEW
check_node() {
    local data=$1 old=$2 new=$3 f id rest n=0
    while IFS= read -r f; do
        [[ $f == */resource.json ]] && continue
        id=${f%%/*}
        rest=${f#*/}
        cmp -s <(cs node cat "$data" "$id" "$rest") "$new/$f" || die "node $data: $f differs from the source"
        n=$((n + 1))
    done < <(changed_files "$old" "$new" | awk '$1 != "D" { print $2 }')
    for id in $(comm -23 <(ls "$old") <(ls "$new")); do
        if cs node cat "$data" "$id" "$(cd "$old/$id" && find . -type f ! -name resource.json -printf '%P\n' | head -1)" \
            >/dev/null 2>&1; then
            die "node $data still serves deleted resource $id"
        fi
    done
}

# --- the peers -------------------------------------------------------------------
files_of() { (cd "$1" && find . -type f ! -name '.*' -printf '%P\n' | sort); }
# changed_files OLD NEW: lines "C path" (changed), "N path" (new), "D path" (deleted)
changed_files() {
    local old=$1 new=$2 f
    comm -3 <(files_of "$old") <(files_of "$new") | while IFS= read -r f; do
        if [[ $f == $'\t'* ]]; then echo "N ${f#$'\t'}"; else echo "D $f"; fi
    done
    comm -12 <(files_of "$old") <(files_of "$new") | while IFS= read -r f; do
        cmp -s "$old/$f" "$new/$f" || echo "C $f"
    done
}
zsize() { zstd -19 -q -c -- "$1" | wc -c; }
# peers OLD NEW: sets NCHG NNEW NDEL PATCH (zstd --patch-from sum) WHOLE (zstd
# -19 of every changed/new file) FULL (tar | zstd -19 of NEW)
peers() {
    local old=$1 new=$2 k f s
    NCHG=0 NNEW=0 NDEL=0 PATCH=0 WHOLE=0
    while read -r k f; do
        case $k in
        C)
            NCHG=$((NCHG + 1))
            s=$(zstd -19 -q -c --patch-from="$old/$f" -- "$new/$f" 2>/dev/null | wc -c)
            PATCH=$((PATCH + s))
            WHOLE=$((WHOLE + $(zsize "$new/$f")))
            ;;
        N)
            NNEW=$((NNEW + 1))
            s=$(zsize "$new/$f")
            PATCH=$((PATCH + s))
            WHOLE=$((WHOLE + s))
            ;;
        D) NDEL=$((NDEL + 1)) ;;
        esac
    done < <(changed_files "$old" "$new")
    FULL=$(tar -C "$new" -cf - . | zstd -19 -T2 -q -c | wc -c)
}

# rsync_peer OLD NEW: an rsync daemon on loopback serves NEW; a copy of OLD
# pulls it with rsync -az --delete --stats.  Files that did not change keep
# NEW's mtime in the copy (as an earlier rsync -a would have left them), so
# rsync's quick check skips them; changed files get an older mtime so they
# are always compared.  Sets RSYNC (total bytes received) and RSYNC_ZALG.
rsync_peer() {
    local old=$1 new=$2 d="$W/rsync.$RANDOM" f port="" rpid
    mkdir -p "$d"
    cp -r "$old" "$d/dst"
    while IFS= read -r f; do
        if cmp -s "$old/$f" "$new/$f"; then touch -r "$new/$f" "$d/dst/$f"; else touch -d @946684800 "$d/dst/$f"; fi
    done < <(comm -12 <(files_of "$old") <(files_of "$new"))
    cat >"$d/rsyncd.conf" <<CONF
use chroot = no
uid = $(id -u)
gid = $(id -g)
max connections = 4
[mod]
    path = $new
    read only = yes
CONF
    for _ in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 40000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi # taken
        rsync --daemon --no-detach --address=127.0.0.1 --port="$port" --config="$d/rsyncd.conf" \
            --log-file="$d/rsyncd.log" >"$d/rsyncd.out" 2>&1 &
        rpid=$!
        PIDS+=("$rpid")
        local i up=0
        for i in $(seq 1 100); do
            kill -0 "$rpid" 2>/dev/null || break
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                up=1
                break
            fi
            sleep 0.05
        done
        ((up)) && break
        stop_pid "$rpid"
        port=
    done
    [[ -n $port ]] || die "rsync daemon did not start: $(cat "$d/rsyncd.log" "$d/rsyncd.out" 2>/dev/null)"
    rsync -az --delete --stats --debug=NSTR "rsync://127.0.0.1:$port/mod/" "$d/dst/" >"$d/out" 2>&1 ||
        die "rsync failed: $(cat "$d/out")"
    stop_pid "$rpid"
    diff -r "$new" "$d/dst" >/dev/null || die "rsync copy differs from $new"
    RSYNC=$(sed -n 's/^Total bytes received: \([0-9,]*\).*/\1/p' "$d/out" | tr -d ,)
    RSYNC_ZALG=$(sed -n 's/.*negotiated compress: \([a-z0-9]*\).*/\1/p' "$d/out" | head -1)
    [[ -n $RSYNC ]] || die "no byte count in rsync --stats: $(cat "$d/out")"
    rm -rf "$d"
}

# --- the report lines ---------------------------------------------------------------
# report_update LABEL OLD NEW: needs the last sync_wire's numbers
report_update() {
    local label=$1 old=$2 new=$3 r
    peers "$old" "$new"
    rsync_peer "$old" "$new"
    r=$(ratio "$WIRE_DOWN" $((PATCH + META_ALLOW)))
    printf '%s: cistern %s; zstd patch-from %s + 16 KB (ratio %s, target <= 1.25) %s; rsync -z %s (cistern is %sx); whole changed files %s (%sx); full %s (%sx)\n' \
        "$label" "$(hb "$WIRE_DOWN")" "$(hb "$PATCH")" "$r" "$(verdict "$r" 1.25)" \
        "$(hb "$RSYNC")" "$(ratio "$WIRE_DOWN" "$RSYNC")" "$(hb "$WHOLE")" "$(ratio "$WIRE_DOWN" "$WHOLE")" \
        "$(hb "$FULL")" "$(ratio "$WIRE_DOWN" "$FULL")"
    printf '  %s detail: %d changed, %d new, %d deleted files; node counted %s of bodies in %s requests; %s up; %.1f s; rsync compression: %s\n' \
        "$label" "$NCHG" "$NNEW" "$NDEL" "$(hb "$BODY")" "$REQS" "$(hb "$WIRE_UP")" \
        "$(awk -v m="$WALL_MS" 'BEGIN { print m / 1000 }')" "${RSYNC_ZALG:-zlib (not reported)}"
}

# report_first LABEL TREE: needs the last sync_wire's numbers
report_first() {
    local label=$1 tree=$2 f l4=0 z=0 n=0 r
    while IFS= read -r f; do
        l4=$((l4 + $(lz4 -1 -q -c -- "$tree/$f" | wc -c)))
        z=$((z + $(zsize "$tree/$f")))
        n=$((n + 1))
    done < <(files_of "$tree")
    r=$(ratio "$WIRE_DOWN" "$l4")
    printf '%s first full sync: cistern %s; content as lz4 -1 per file (the form of our objects) %s (ratio %s, target <= 1.02) %s; zstd -19 per file %s (cistern is %sx)\n' \
        "$label" "$(hb "$WIRE_DOWN")" "$(hb "$l4")" "$r" "$(verdict "$r" 1.02)" "$(hb "$z")" "$(ratio "$WIRE_DOWN" "$z")"
    printf '  %s detail: %d files (resource.json included); node counted %s of bodies in %s requests; %s up; %.1f s\n' \
        "$label" "$n" "$(hb "$BODY")" "$REQS" "$(hb "$WIRE_UP")" "$(awk -v m="$WALL_MS" 'BEGIN { print m / 1000 }')"
}

# --- the calculus corpus ------------------------------------------------------------
# Same layout as tests/integration/lib.sh's corpus_tree (every folder under
# modules/ a resource, every other top-level folder one, loose top-level
# files one more), except that files are copied, not hard-linked: this script
# touches mtimes for rsync and must never touch the shared corpus.
corpus_tree() { # corpus_tree SRC OUT
    local src=$1 out=$2 d id
    mkdir -p "$out"
    _corpus_res() { # _corpus_res ID TITLE FILES_FROM_DIR
        local id=$1 r="$out/$1" entry
        mkdir -p "$r"
        cp -r "$3/." "$r/"
        rm -f "$r/resource.json"
        entry=$(cd "$r" && find . -type f ! -name '.*' | sed 's|^\./||' | LC_ALL=C sort | head -1)
        printf '{"id": "%s", "title": {"en": "%s"}, "language": "en", "subject": "math", "type": "document", "entry": "%s", "license": "CC-BY-NC-SA-4.0", "publisher": "OpenStax"}\n' \
            "$id" "$2" "$entry" >"$r/resource.json"
    }
    for d in "$src"/modules/*/; do
        id=$(basename "$d")
        _corpus_res "calc-$id" "Calculus module $id" "$d"
    done
    for d in "$src"/*/; do
        id=$(basename "$d")
        [ "$id" = modules ] && continue
        _corpus_res "calc-$(tr 'A-Z_' 'a-z-' <<<"$id")" "Calculus $id" "$d"
    done
    mkdir -p "$W/.loose"
    find "$src" -maxdepth 1 -type f -exec cp {} "$W/.loose/" \;
    _corpus_res calc-meta "Calculus book files" "$W/.loose"
    rm -rf "$W/.loose"
}

CALC_V1V2= # fault-free wire bytes of calculus v1 -> v2, for the bad-link run
calc_part() {
    local C=$W/calc v
    mkdir -p "$C"
    for v in 1 2 3; do corpus_tree "$CORPUS/v$v" "$C/src$v"; done
    cs hub init "$C/repo" >/dev/null
    log "calc: publishing v1"
    cs hub publish "$C/repo" "$C/src1" >/dev/null
    hub_start "$C/repo" calc
    local hp=$HUBPORT
    node_new "$C/node" "$C/repo" "http://127.0.0.1:$hp"
    sync_wire "$C/node" "$hp" 1 600
    check_node "$C/node" "$W/empty" "$C/src1"
    report_first "calc v1" "$C/src1"
    cp -a "$C/node" "$C/node-v1" # the bad-link run starts from here

    log "calc: publishing v2"
    cs hub publish "$C/repo" "$C/src2" >/dev/null
    cp -a "$C/repo" "$C/repo-v2" # the bad-link run syncs to exactly v2
    sync_wire "$C/node" "$hp" 2 600
    check_node "$C/node" "$C/src1" "$C/src2"
    CALC_V1V2=$WIRE_DOWN
    report_update "calc v1->v2" "$C/src1" "$C/src2"
    calc_breakdown 1 2

    log "calc: publishing v3"
    cs hub publish "$C/repo" "$C/src3" >/dev/null
    sync_wire "$C/node" "$hp" 3 600
    check_node "$C/node" "$C/src2" "$C/src3"
    report_update "calc v2->v3" "$C/src2" "$C/src3"
    calc_breakdown 2 3
    stop_pid "$HUBPID"
}

# Where an update's bytes go, from the repository: the metadata files, the
# catalogue delta, and for every object the node needed the smallest
# usable delta (base held by the node) or else the encoded object.
# calc_breakdown FROM TO (uses $W/calc)
calc_breakdown() {
    local from=$1 to=$2 C=$W/calc meta cat
    meta=$(($(stat -c %s "$C/repo/timestamp.json") + $(stat -c %s "$C/repo/$to.snapshot.json") + $(stat -c %s "$C/repo/$to.targets.json")))
    cat=$(python3 - "$C/repo/$to.targets.json" "$from" 2>/dev/null <<'PY' || true
import json, sys
t = json.load(open(sys.argv[1]))["signed"]
c = t.get("catalog", {})
d = c.get("deltas", {}).get(sys.argv[2])
print((d or c["full"])["length"])
PY
)
    printf '  calc v%s->v%s bytes: signed metadata (timestamp+snapshot+targets) %s; catalogue file %s; the rest (objects/deltas + HTTP) %s\n' \
        "$from" "$to" "$(hb "$meta")" "$(hb "${cat:-0}")" "$(hb $((WIRE_DOWN - meta - ${cat:-0})))"
}

# --- the generated media-heavy tree ---------------------------------------------------
rnd() { # rnd SEED BYTES: deterministic incompressible bytes
    (openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" -in /dev/zero 2>/dev/null || true) | head -c "$2"
}
page() { # page SEED TITLE: an HTML page of 8-20 KB prose from a seeded vocabulary
    awk -v seed="$1" -v title="$2" 'BEGIN {
        srand(seed); cons = "bcdfghklmnprstvz"; vow = "aeiou"
        for (i = 0; i < 1500; i++) { w = ""; n = 2 + int(rand() * 3)
            for (j = 0; j < n; j++) w = w substr(cons, 1 + int(rand() * 16), 1) substr(vow, 1 + int(rand() * 5), 1)
            voc[i] = w }
        split("the fraction of|as shown in the figure|we can see that|in the next lesson|for example,|the area under the curve", ph, "|")
        printf "<!doctype html>\n<html lang=en><meta charset=utf-8><title>%s</title>\n<link rel=stylesheet href=style.css>\n<h1>%s</h1>\n", title, title
        np = 20 + int(rand() * 30)
        for (p = 1; p <= np; p++) { printf "<p>"
            nw = 40 + int(rand() * 60)
            for (k = 0; k < nw; k++) { if (rand() < 0.08) printf "%s ", ph[1 + int(rand() * 6)]; else printf "%s ", voc[int(rand() * rand() * 1500)] }
            printf "</p>\n" }
        printf "</html>\n" }'
}
media_res() { # media_res DIR ID SEED VIDEO_BYTES PHOTO_BYTES
    local r=$1/$2 k
    mkdir -p "$r"
    page "$3" "Lesson $2" >"$r/index.html"
    for k in 1 2 3 4; do page "$(($3 * 10 + k))" "Lesson $2 part $k" >"$r/lesson-$k.html"; done
    printf 'body{font-family:sans-serif;max-width:40em;margin:auto}\n' >"$r/style.css"
    [[ $4 -gt 0 ]] && rnd "video-$3" "$4" >"$r/video.mp4"
    rnd "photo-$3" "$5" >"$r/photo.jpg"
    printf '{"id": "%s", "title": {"en": "Media lesson %s"}, "language": "en", "type": "html", "entry": "index.html"}\n' \
        "$2" "$2" >"$r/resource.json"
}
media_part() {
    local M=$W/media i v
    mkdir -p "$M/src1"
    log "media: generating ~32 MB"
    for i in $(seq 1 10); do
        v=0
        ((i <= 6)) && v=$((3000000 + i * 150000))
        ((i == 1)) && v=9000000 # over sync.large_object (4 MiB): travels alone, resumable
        media_res "$M/src1" "$(printf 'med-%02d' "$i")" "$i" "$v" $((900000 + i * 30000))
    done
    # v2: 2 media files replaced, 1 video re-muxed (last 300 KB replaced by
    # 800 KB), 5 pages edited, 1 resource added, 1 deleted.
    cp -a "$M/src1" "$M/src2"
    rnd photo-new-2 "$(stat -c %s "$M/src1/med-02/photo.jpg")" >"$M/src2/med-02/photo.jpg"
    rnd video-new-4 "$(stat -c %s "$M/src1/med-04/video.mp4")" >"$M/src2/med-04/video.mp4"
    local vs
    vs=$(stat -c %s "$M/src1/med-01/video.mp4")
    { head -c $((vs - 300000)) "$M/src1/med-01/video.mp4"; rnd video-tail-1 800000; } >"$M/src2/med-01/video.mp4"
    for f in med-03/lesson-2.html med-05/index.html med-06/lesson-1.html med-07/lesson-4.html med-08/lesson-3.html; do
        sed -i -e '8s|^<p>|<p>Corrected in this edition: the worked example now uses the right sign. |' \
            -e '15a <p>A new paragraph added by the editor, with a short exercise and its answer.</p>' \
            -e '20d' "$M/src2/$f"
    done
    media_res "$M/src2" med-11 11 5000000 1000000 # a new large video
    rm -rf "$M/src2/med-10"
    du -sb "$M/src1" "$M/src2" | awk '{ printf "  .. media %s: %.1f MB\n", $2, $1 / 1e6 }' >&2

    cs hub init "$M/repo" >/dev/null
    cs hub publish "$M/repo" "$M/src1" >/dev/null
    hub_start "$M/repo" media
    local hp=$HUBPORT
    node_new "$M/node" "$M/repo" "http://127.0.0.1:$hp"
    sync_wire "$M/node" "$hp" 1 600
    check_node "$M/node" "$W/empty" "$M/src1"
    report_first "media v1" "$M/src1"
    cp -a "$M/node" "$M/node-v1" # the media bad-link run starts from here
    log "media: publishing v2"
    cs hub publish "$M/repo" "$M/src2" >/dev/null
    sync_wire "$M/node" "$hp" 2 600
    check_node "$M/node" "$M/src1" "$M/src2"
    report_update "media v1->v2" "$M/src1" "$M/src2"
    MEDIA_V1V2=$WIRE_DOWN
    stop_pid "$HUBPID"
}
MEDIA_V1V2=


# --- the bad link ------------------------------------------------------------------------
badlink_part() { # badlink_part LABEL NODE_V1 REPO_V2 SRC1 SRC2 FAULT_FREE_BYTES
    local label=$1 node=$2 repo=$3 src1=$4 src2=$5 ff=$6 est cap r1 r2 wall_s ideal_s
    hub_start "$repo" "bad-$label"
    # The brief asked for sync.retries = 200; node.c refuses more than 100.
    printf 'sync.retries = 100\nsync.backoff_ms = 500\n' >>"$node/node.conf"
    est=$(awk -v b="$ff" -v r="$BAD_RATE" 'BEGIN { printf "%.0f", b / r }')
    cap=$BADLINK_TIMEOUT
    if ((ff > 5000000)); then
        echo "  badlink: the fault-free $label update is $(hb "$ff"): about $est s at 32 KB/s before cuts; capped at $cap s"
    else
        log "badlink: ~$est s of transfer at 32 KB/s plus latency and cuts (cap $cap s)"
    fi
    sync_wire "$node" "$HUBPORT" 2 "$cap" --rate 256kbit --delay 300 --cut-every 30
    stop_pid "$HUBPID"
    wall_s=$(awk -v m="$WALL_MS" 'BEGIN { printf "%.1f", m / 1000 }')
    ideal_s=$(awk -v b="$ff" -v r="$BAD_RATE" 'BEGIN { printf "%.1f", b / r }')
    if [[ $SYNC_RC == 124 ]]; then
        printf '%s v1->v2 bad link (256 kbit/s, 300 ms each way, cut every 30 s): MISS by timeout after %s s (%s down so far, %s cuts; fault-free %s would take %s s)\n' \
            "$label" "$wall_s" "$(hb "$WIRE_DOWN")" "$CUTS" "$(hb "$ff")" "$ideal_s"
        return 0
    fi
    check_node "$node" "$src1" "$src2"
    r1=$(ratio "$WIRE_DOWN" "$ff")
    r2=$(awk -v w="$wall_s" -v i="$ideal_s" 'BEGIN { printf "%.2f", w / i }')
    printf '%s v1->v2 bad link (256 kbit/s, 300 ms each way, cut every 30 s): %s down vs %s fault-free (ratio %s, target <= 1.10) %s; wall %s s vs %s s = fault-free bytes / 32000 B/s (ratio %s, target <= 1.5) %s\n' \
        "$label" "$(hb "$WIRE_DOWN")" "$(hb "$ff")" "$r1" "$(verdict "$r1" 1.10)" "$wall_s" "$ideal_s" "$r2" "$(verdict "$r2" 1.5)"
    printf '  badlink detail: %s cuts, %s connections, node counted %s of bodies in %s requests%s; %s up\n' \
        "$CUTS" "$ACCEPTED" "$(hb "$BODY")" "$REQS" "$(grep -q 'with retries' <<<"$SYNC_OUT" && echo ' (with retries)')" "$(hb "$WIRE_UP")"
}

# --- run -----------------------------------------------------------------------------------
mkdir -p "$W/empty"
echo "sync.sh: $(basename "$CISTERN") at $CISTERN; zstd $(zstd -q -V | sed 's/.*v\([0-9.]*\).*/\1/'), $(rsync --version | head -1 | awk '{ print $1, $3 }'); bytes at the wire (proxy bytes_down)"
have_calc=1
if [[ ! -d $CORPUS/v1 || ! -d $CORPUS/v2 || ! -d $CORPUS/v3 ]]; then
    have_calc=0
    echo "calc: SKIP: $CORPUS not found (the shared corpora are not beside this checkout)"
fi
if want calc || want badlink; then
    ((have_calc)) && calc_part
fi
want media && media_part
if want badlink && ((have_calc)); then
    # the calc part above left node-v1, repo-v2 and the fault-free bytes
    badlink_part calc "$W/calc/node-v1" "$W/calc/repo-v2" "$W/calc/src1" "$W/calc/src2" "$CALC_V1V2"
fi
if want badlink && want media; then
    # the media update has new and changed objects over sync.large_object:
    # they travel alone, resumed by Range after each cut
    badlink_part media "$W/media/node-v1" "$W/media/repo" "$W/media/src1" "$W/media/src2" "$MEDIA_V1V2"
fi
exit 0
