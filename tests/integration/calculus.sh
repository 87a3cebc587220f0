#!/bin/bash
# The OpenStax Calculus corpus, v1 -> v2 -> v3 (real errata updates):
# publish each version, carry it with bundles, read every file back.
# Skips (exit 77) when ../shared/corpora is absent.
source "$(dirname "$0")/lib.sh"
C="$SRCROOT/../shared/corpora/updates/openstax-calculus"
if [ ! -d "$C/v1" ]; then
    echo "SKIP: $C not found (the shared corpora are not beside this checkout)"
    exit 77
fi
cs hub init "$T/repo" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
prev=0
for v in 1 2 3; do
    corpus_tree "$C/v$v" "$T/src$v"
    cs hub publish "$T/repo" "$T/src$v" >/dev/null
    cs hub bundle "$T/repo" --since $prev -o "$T/b$v" >/dev/null
    cs node import "$T/n" "$T/b$v" >/dev/null
    check "calculus v$v: node at version $v" [ "$(node_version "$T/n")" = $v ]
    check "calculus v$v: every file byte for byte" same_as_tree "$T/n" "$T/src$v"
    echo "calculus v$v: bundle --since $prev is $(stat -c %s "$T/b$v") bytes"
    prev=$v
done
check "errata bundles are small (v2: $(stat -c %s "$T/b2"), full: $(stat -c %s "$T/b1"))" \
    [ "$(stat -c %s "$T/b2")" -lt "$(($(stat -c %s "$T/b1") / 2))" ]
cs hub bundle "$T/repo" --since 0 -o "$T/full3" >/dev/null
cs node init "$T/fresh" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/fresh" "$T/full3" >/dev/null
check "calculus v3 full bundle onto a fresh node" same_as_tree "$T/fresh" "$T/src3"
check "store verifies" cs node verify "$T/n"
finish
