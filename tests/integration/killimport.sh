#!/bin/bash
# kill -9 during import at random points: IMPORT_TRIALS (default 12) from an empty
# node importing version 1's full bundle and as many from a node at version 1
# importing a --since 1 bundle of version 2.  After every kill the node is on
# the old or the new version, both databases pass PRAGMA integrity_check,
# and every file of the version it is on reads back byte for byte; the rerun
# completes and reports at least as many objects already present as the
# store had committed for it when killed.  Then an import while `node serve`
# is serving: the old content is served until the import commits, the new
# after.  Then a full disk during import: clear error, node unchanged, retry
# resumes.
source "$(dirname "$0")/lib.sh"
TRIALS=${IMPORT_TRIALS:-12}
command -v sqlite3 >/dev/null || { echo "sqlite3 command missing (apt-get install sqlite3)"; exit 1; }
command -v curl >/dev/null || { echo "curl command missing (apt-get install curl)"; exit 1; }

integrity() { # integrity DATA: both databases sound
    [ "$(sqlite3 "$1/catalog.db" 'PRAGMA integrity_check')" = ok ] &&
        [ "$(sqlite3 "$1/store/index.db" 'PRAGMA integrity_check')" = ok ]
}
stored() { sqlite3 "$1/store/index.db" 'SELECT count(*) FROM objects'; }
present() { sed -n 's/.*, \([0-9][0-9]*\) already present.*/\1/p' <<<"$1"; }
sample_ok() { # sample_ok DATA [TREE]: a few files (changed and unchanged in v2) read back
    local i tree=${2:-$T/src}
    for i in 1 17 31 40; do
        cmp -s <(cs node cat "$1" "gen-$i" img/photo.jpg) "$tree/gen-$i/img/photo.jpg" || return 1
        cmp -s <(cs node cat "$1" "gen-$i" index.html) "$tree/gen-$i/index.html" || return 1
    done
}
# The server shows a commit within a second (SNAPSHOT_MS): wait up to 5 s.
served_version() { # served_version N: the server reports catalogue version N
    local i
    for i in $(seq 1 50); do
        grep -q "^{\"version\":$1," <<<"$(curl -sf "$URL/api/v1/status")" && return 0
        sleep 0.1
    done
    return 1
}
usleep() { sleep "$(printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)))"; }
rand_below() { local r=$((RANDOM * 32768 + RANDOM)); echo $((r % $1)); }

# Version 1: 40 resources; version 2: new photos in 16 of them, new text in
# 8, 6 resources added.
make_tree "$T/src" 40 640 11
cp -a "$T/src" "$T/src2"
for i in $(seq 1 16); do head -c $((640 * 1024)) /dev/urandom >"$T/src2/gen-$i/img/photo.jpg"; done
for i in $(seq 30 37); do echo "<p>Revised in version 2.</p>" >>"$T/src2/gen-$i/index.html"; done
make_tree "$T/add" 46 320 12
for i in $(seq 41 46); do mv "$T/add/gen-$i" "$T/src2/"; done
cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$T/src" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/empty" --trust "$T/repo/root.json" >/dev/null
cp -a "$T/empty" "$T/at1"
cs node import "$T/at1" "$T/b" >/dev/null
cs hub publish "$T/repo" "$T/src2" >/dev/null
cs hub bundle "$T/repo" --since 1 -o "$T/b2" >/dev/null
check "node at1 is at version 1" [ "$(node_version "$T/at1")" = 1 ]
v1_objects=$(stored "$T/at1")

# How long does each import take here?
cp -a "$T/empty" "$T/probe"
t0=$(date +%s%N)
cs node import "$T/probe" "$T/b" >/dev/null
dur0=$((($(date +%s%N) - t0) / 1000))
rm -rf "$T/probe"
cp -a "$T/at1" "$T/probe"
t0=$(date +%s%N)
cs node import "$T/probe" "$T/b2" >/dev/null
dur1=$((($(date +%s%N) - t0) / 1000))
rm -rf "$T/probe"
echo "full import of $(stat -c %s "$T/b") bytes takes ${dur0} us here; the --since 1 update of $(stat -c %s "$T/b2") bytes ${dur1} us"

# trial NAME FROM_NODE BUNDLE OLD NEW OLD_TREE NEW_TREE DURATION_US
old=0 new=0 resumed=0
trial() {
    local name=$1 from=$2 bundle=$3 vold=$4 vnew=$5 told=$6 tnew=$7 dur=$8
    rm -rf "$T/n"
    cp -a "$from" "$T/n"
    local before delay pid v after out
    before=$(stored "$T/n")
    # Odd trials anywhere in the import, even ones in its second half (after
    # the first 16 MiB flush of a full import: that is where a rerun has
    # verified objects to reuse).
    if [ $((t % 2)) = 1 ]; then delay=$(rand_below $((dur + 1))); else delay=$((dur / 2 + $(rand_below $((dur / 2 + 1))))); fi
    "$CISTERN" node import "$T/n" "$T/$bundle" >/dev/null 2>&1 &
    pid=$!
    usleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    v=$(node_version "$T/n")
    check "$name (kill at ${delay}us): databases sound" integrity "$T/n"
    after=$(stored "$T/n")
    if [ "$v" = "$vold" ]; then
        old=$((old + 1))
        if [ -n "$told" ]; then
            check "$name: still on version $vold, its files byte for byte" same_as_tree "$T/n" "$told"
        else
            check "$name: still empty" grep -q '"total":0,' <<<"$(cs node search "$T/n" --json)"
        fi
    elif [ "$v" = "$vnew" ]; then
        new=$((new + 1))
        check "$name: killed after commit, version $vnew's files byte for byte" same_as_tree "$T/n" "$tnew"
    else
        bad "$name: version '$v' after kill"
    fi
    out=$(cs node import "$T/n" "$T/$bundle" 2>&1) || bad "$name: rerun failed: $out"
    if [ "$v" = "$vold" ]; then
        local p
        p=$(present "$out")
        check "$name: rerun reports objects already present ($out)" [ -n "$p" ]
        # Everything the store committed for this import before the kill is
        # reused, not read again.
        check "$name: rerun reuses the $((after - before)) objects committed before the kill (reports ${p:-?})" \
            [ "${p:-0}" -ge $((after - before)) ]
        if [ "${p:-0}" -gt 0 ]; then resumed=$((resumed + 1)); fi
    fi
    check "$name: at version $vnew after rerun" [ "$(node_version "$T/n")" = "$vnew" ]
    # Every file once per kind of trial (the last); a sample otherwise.
    if [ "$last" = 1 ]; then
        check "$name: version $vnew's files byte for byte after rerun" same_as_tree "$T/n" "$tnew"
    else
        check "$name: version $vnew's files after rerun (sample)" sample_ok "$T/n" "$tnew"
    fi
    check "$name: store verifies" cs node verify "$T/n"
}
for t in $(seq 1 "$TRIALS"); do
    last=$([ "$t" = "$TRIALS" ] && echo 1 || echo 0)
    trial "empty->1 trial $t" "$T/empty" b 0 1 "" "$T/src" "$dur0"
done
for t in $(seq 1 "$TRIALS"); do
    last=$([ "$t" = "$TRIALS" ] && echo 1 || echo 0)
    trial "1->2 trial $t" "$T/at1" b2 1 2 "$T/src" "$T/src2" "$dur1"
done
echo "kills: $((2 * TRIALS)) (left on old version: $old, on new: $new; reruns that reused verified objects: $resumed)"
check "at least 20 kills" [ $((2 * TRIALS)) -ge 20 ]
check "some kills landed mid-import" [ "$old" -gt 0 ]
check "reruns reuse verified objects" [ "$resumed" -gt 0 ]
check "the version 1 store kept its objects through the update ($v1_objects)" [ "$(stored "$T/n")" -gt "$v1_objects" ]

# Import while serving: stop the import (SIGSTOP) once it has written part of
# the new objects, check what the server serves, let it go on, check again.
rm -rf "$T/n"
cp -a "$T/at1" "$T/n"
serve_start "$T/n"
u="$URL/r/gen-1/img/photo.jpg"
check "served before the import: version 1's photo" cmp -s <(curl -sf "$u") "$T/src/gen-1/img/photo.jpg"
pack=$(ls "$T/n/store/"pack-*.pack | tail -1)
size0=$(stat -c %s "$pack")
caught=0
for attempt in 1 2 3 4 5; do
    "$CISTERN" node import "$T/n" "$T/b2" >/dev/null 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && [ "$(stat -c %s "$(ls "$T/n/store/"pack-*.pack | tail -1)")" -le "$size0" ]; do
        sleep 0.002
    done
    if kill -STOP "$pid" 2>/dev/null && [ "$(node_version "$T/n")" = 1 ]; then
        caught=1
        break
    fi
    kill -CONT "$pid" 2>/dev/null || true
    wait "$pid" || true
    # Finished before we could stop it: start over from version 1.
    serve_stop
    rm -rf "$T/n"
    cp -a "$T/at1" "$T/n"
    serve_start "$T/n"
    u="$URL/r/gen-1/img/photo.jpg"
done
check "an import was caught half way (attempts: $attempt)" [ "$caught" = 1 ]
if [ "$caught" = 1 ]; then
    echo "import stopped with $(($(stat -c %s "$(ls "$T/n/store/"pack-*.pack | tail -1)") - size0)) new bytes in the pack"
    check "during the import: version 1's photo is served" cmp -s <(curl -sf "$u") "$T/src/gen-1/img/photo.jpg"
    check "during the import: version 1's page is served" \
        cmp -s <(curl -sf "$URL/r/gen-30/index.html") "$T/src/gen-30/index.html"
    check "during the import: a resource of version 2 is not there yet" \
        [ "$(st "$URL/r/gen-44/index.html")" = 404 ]
    check "during the import: status says version 1" served_version 1
    # Keep asking for a page version 2 changes meanwhile, so the file cache
    # keeps version 1's answer fresh up to the moment the server moves on:
    # once a request has seen version 2, none may get version 1's page.
    pg="$URL/r/gen-30/index.html"
    (while :; do curl -sf "$pg" -o /dev/null; done) &
    hammer=$!
    kill -CONT "$pid"
    check "the import completes" wait "$pid"
    check "after the import: the server moves to version 2" served_version 2
    check "after the import: at once, version 2's page" cmp -s <(curl -sf "$pg") "$T/src2/gen-30/index.html"
    kill "$hammer"
    wait "$hammer" 2>/dev/null || true
    check "after the import: version 2's photo is served" cmp -s <(curl -sf "$u") "$T/src2/gen-1/img/photo.jpg"
    check "the file cache answered some of those" \
        [ "$(curl -s "$URL/metrics" | sed -n 's/^cistern_file_cache_requests_total{result="hit"} //p')" -gt 0 ]
    check "after the import: version 2's page is served" \
        cmp -s <(curl -sf "$URL/r/gen-30/index.html") "$T/src2/gen-30/index.html"
    check "after the import: version 2's new resource is served" \
        cmp -s <(curl -sf "$URL/r/gen-44/index.html") "$T/src2/gen-44/index.html"
fi
serve_stop

# Full disk: writes fail with ENOSPC after a budget of bytes.
for budget in 0 100000 5000000 20000000; do
    rm -rf "$T/n"
    cp -a "$T/empty" "$T/n"
    check_fails "import with the disk full after $budget bytes" "no space" \
        env CISTERN_FAIL_WRITES_AFTER=$budget "$CISTERN" node import "$T/n" "$T/b"
    check "full disk ($budget): node unchanged" [ "$(node_version "$T/n")" = 0 ]
    check "full disk ($budget): databases sound" integrity "$T/n"
    out=$(cs node import "$T/n" "$T/b" 2>&1) || bad "retry after freeing space failed: $out"
    check "full disk ($budget): retry completes" [ "$(node_version "$T/n")" = 1 ]
    if [ "$budget" -ge 5000000 ]; then
        check "full disk ($budget): retry resumed ($out)" grep -qE '[1-9][0-9]* already present' <<<"$out"
    fi
    check "full disk ($budget): files" sample_ok "$T/n"
done
finish
