#!/bin/bash
# kill -9 during import at random points (TRIALS, default 24): the node is
# always on the old or the new version, both databases pass
# PRAGMA integrity_check, and the rerun completes, reusing what was verified.
# Then a full disk during import: clear error, node unchanged, retry resumes.
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-24}
command -v sqlite3 >/dev/null || { echo "sqlite3 command missing (apt-get install sqlite3)"; exit 1; }

integrity() { # integrity DATA: both databases sound
    [ "$(sqlite3 "$1/catalog.db" 'PRAGMA integrity_check')" = ok ] &&
        [ "$(sqlite3 "$1/store/index.db" 'PRAGMA integrity_check')" = ok ]
}
sample_ok() { # a few files read back from the node
    for i in 1 17 40; do
        cmp -s <(cs node cat "$1" "gen-$i" img/photo.jpg) "$T/src/gen-$i/img/photo.jpg" || return 1
        cmp -s <(cs node cat "$1" "gen-$i" index.html) "$T/src/gen-$i/index.html" || return 1
    done
}

make_tree "$T/src" 48 640 11
cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$T/src" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/empty" --trust "$T/repo/root.json" >/dev/null

# How long does an import take here?
cp -a "$T/empty" "$T/probe"
t0=$(date +%s%N)
cs node import "$T/probe" "$T/b" >/dev/null
dur_us=$((($(date +%s%N) - t0) / 1000))
echo "full import of $(stat -c %s "$T/b") bytes takes ${dur_us} us here"

old=0 new=0 resumed=0
for trial in $(seq 1 "$TRIALS"); do
    rm -rf "$T/n"
    cp -a "$T/empty" "$T/n"
    delay=$((RANDOM * 32768 + RANDOM))
    delay=$((delay % (dur_us + dur_us / 5 + 1)))
    "$CISTERN" node import "$T/n" "$T/b" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%06d' $((delay / 1000000)) $((delay % 1000000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    v=$(node_version "$T/n")
    case "$v" in
    0) old=$((old + 1)) ;;
    1) new=$((new + 1)) ;;
    *) bad "trial $trial: version '$v' after kill" ;;
    esac
    check "trial $trial (kill at ${delay}us): databases sound" integrity "$T/n"
    [ "$v" = 1 ] && check "trial $trial: killed after commit, files complete" sample_ok "$T/n"
    out=$(cs node import "$T/n" "$T/b" 2>&1) || bad "trial $trial: rerun failed: $out"
    if grep -qE '[1-9][0-9]* already present' <<<"$out"; then resumed=$((resumed + 1)); fi
    check "trial $trial: at version 1 after rerun" [ "$(node_version "$T/n")" = 1 ]
    check "trial $trial: files after rerun" sample_ok "$T/n"
    check "trial $trial: store verifies" cs node verify "$T/n"
done
echo "kills: $TRIALS (left on old version: $old, on new: $new; reruns that reused verified objects: $resumed)"
check "some kills landed mid-import" [ "$old" -gt 0 ]
check "reruns reuse verified objects" [ "$resumed" -gt 0 ]
check "last trial's node matches the source" same_as_tree "$T/n" "$T/src"

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
