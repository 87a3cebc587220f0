#!/bin/bash
# Round trips: publish -> bundle -> import -> cat, byte for byte, for a full
# bundle and for updates (--since 1, --since 2), on the samples and on a
# generated tree; dedupe; older and mismatched bundles refused.
source "$(dirname "$0")/lib.sh"

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/v1.full" >/dev/null
cs node init "$T/a" --trust "$T/repo/root.json" >/dev/null
check "fresh node is at version 0" [ "$(node_version "$T/a")" = 0 ]
cs node import "$T/a" "$T/v1.full" >/dev/null
check "node at version 1 after full import" [ "$(node_version "$T/a")" = 1 ]
check "v1 files read back byte for byte" same_as_tree "$T/a" "$SRCROOT/samples/v1"
check "importing the same bundle again is a no-op" cs node import "$T/a" "$T/v1.full"

# v2: erratum, replaced image, one added, one removed.
cs hub publish "$T/repo" "$SRCROOT/samples/v2" >/dev/null
cs hub bundle "$T/repo" --since 1 -o "$T/v2.since1" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/v2.full" >/dev/null
check "update bundle is much smaller than the full one" \
    [ "$(stat -c %s "$T/v2.since1")" -lt "$(($(stat -c %s "$T/v2.full") / 3))" ]
cs node import "$T/a" "$T/v2.since1" >/dev/null
check "node at version 2 after --since 1" [ "$(node_version "$T/a")" = 2 ]
check "v2 files read back byte for byte" same_as_tree "$T/a" "$SRCROOT/samples/v2"
check_fails "removed resource is gone" "" cs node cat "$T/a" music-g2-do-re-mi index.html
check "no stale resources" [ "$(cs node search "$T/a" --json --limit 200 | grep -o '"id"' | wc -l)" = \
    "$(ls -d "$SRCROOT"/samples/v2/*/ | wc -l)" ]

# v3: a generated tree replaces everything (all deleted, new ones added).
make_tree "$T/v3" 6 8 3
cs hub publish "$T/repo" "$T/v3" >/dev/null
cs hub bundle "$T/repo" --since 2 -o "$T/v3.since2" >/dev/null
cs hub bundle "$T/repo" --since 1 -o "$T/v3.since1" >/dev/null
cs node import "$T/a" "$T/v3.since2" >/dev/null
check "node at version 3 after --since 2" [ "$(node_version "$T/a")" = 3 ]
check "v3 files read back" same_as_tree "$T/a" "$T/v3"
check_fails "samples deleted in v3" "" cs node cat "$T/a" math-g3-fractions-intro index.html

# A node at 1 takes --since 1 (two versions at once); a node at 1 refuses --since 2.
cs node init "$T/b" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/b" "$T/v1.full" >/dev/null
check_fails "bundle for version 2 refused by a node at 1" "--since 1" cs node import "$T/b" "$T/v3.since2"
check "refused bundle left the node at 1" [ "$(node_version "$T/b")" = 1 ]
cs node import "$T/b" "$T/v3.since1" >/dev/null
check "node b at version 3 via --since 1" [ "$(node_version "$T/b")" = 3 ]
check "node b files" same_as_tree "$T/b" "$T/v3"

# Older bundles are refused (rollback), and leave the node unchanged.
check_fails "older full bundle refused" "older" cs node import "$T/a" "$T/v2.full"
check "node a still at 3" [ "$(node_version "$T/a")" = 3 ]

# A fresh node takes version 2's full bundle and matches v2.
cs node init "$T/c" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/c" "$T/v2.full" >/dev/null
check "full v2 onto a fresh node" same_as_tree "$T/c" "$SRCROOT/samples/v2"

# Dedupe: style.css is identical in all 6 generated resources: one object.
# gc drops what version 3 no longer references (b still holds v1's objects);
# after it the store holds exactly one object per distinct file.
objs=$(cs node status "$T/b" --json | sed -n 's/.*"objects":\([0-9]*\).*/\1/p')
files=$(cs node status "$T/b" --json | sed -n 's/.*"files":\([0-9]*\).*/\1/p')
# Progress on a run with no terminal and without CISTERN_QUIET: a plain line
# on stderr when a phase starts and when it ends (cli_progress_cb), never a
# carriage return; the result still on stdout.
env -u CISTERN_QUIET "$CISTERN" node gc "$T/b" >"$T/gc.out" 2>"$T/gc.err" || bad "gc failed: $(cat "$T/gc.err")"
check "gc prints its result" grep -q '^removed [1-9][0-9]* unreferenced objects' "$T/gc.out"
check "gc prints progress: references checked from 0 to all ($objs objects)" \
    grep -qx "checking references: $objs of $objs (100%)" "$T/gc.err"
check "gc progress starts at 0" grep -qx "checking references: 0 of $objs (0%)" "$T/gc.err"
check "gc progress has no carriage returns off a terminal" bash -c "! grep -q \$'\r' '$T/gc.err'"
objs2=$(cs node status "$T/b" --json | sed -n 's/.*"objects":\([0-9]*\).*/\1/p')
check "gc dropped v1's objects ($objs -> $objs2)" [ "$objs2" -lt "$objs" ]
check "identical files stored once ($objs2 objects for $files files)" [ "$objs2" -eq $((files - 5)) ]
check "after gc files still read" same_as_tree "$T/b" "$T/v3"
check "a verifies clean" cs node verify "$T/a"

# publish and import print progress too (stderr, no terminal, not quiet).
make_tree "$T/p" 3 600 9
cs hub init "$T/prepo" >/dev/null
env -u CISTERN_QUIET "$CISTERN" hub publish "$T/prepo" "$T/p" >"$T/pub.out" 2>"$T/pub.err" ||
    bad "publish failed: $(cat "$T/pub.err")"
check "publish prints its result on stdout" grep -q '^published version 1:' "$T/pub.out"
check "publish prints progress on stderr: checking every resource" grep -qx 'checking: 3 of 3 (100%)' "$T/pub.err"
check "publish prints progress on stderr: storing to the end" grep -qE '^storing: [0-9.]+ MB of [0-9.]+ MB \(100%\)$' "$T/pub.err"
check "publish progress is not on stdout" bash -c "! grep -q '%)' '$T/pub.out'"
cs hub bundle "$T/prepo" --since 0 -o "$T/p.bundle" >/dev/null
cs node init "$T/pn" --trust "$T/prepo/root.json" >/dev/null
env -u CISTERN_QUIET "$CISTERN" node import "$T/pn" "$T/p.bundle" >"$T/imp.out" 2>"$T/imp.err" ||
    bad "import failed: $(cat "$T/imp.err")"
check "import prints its result on stdout" grep -q '^imported version 1 (was 0)' "$T/imp.out"
check "import prints progress on stderr: verifying to the end" grep -qE '^verifying: [0-9.]+ MB of [0-9.]+ MB \(100%\)$' "$T/imp.err"
check "import prints progress on stderr: applying" grep -qx 'applying…' "$T/imp.err"
check "progress off a terminal has no carriage returns" bash -c "! grep -q \$'\r' '$T/pub.err' '$T/imp.err'"

# Nothing changed: no new version.
out=$(cs hub publish "$T/repo" "$T/v3")
check "republishing the same tree makes no version" grep -q "nothing published" <<<"$out"
check "no 4.targets.json" [ ! -e "$T/repo/4.targets.json" ]
finish
