#!/bin/bash
# Publishing an invalid source tree is refused with the file and the reason,
# and nothing is published.
source "$(dirname "$0")/lib.sh"

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
before=$(sha256sum "$T/repo/timestamp.json")
declare -A want=(
    [missing-json]="resource.json: missing"
    [bad-json]="resource.json"
    [bad-field]="grades"
    [bad-entry]="entry"
    [bad-id]="id"
    [bad-id-traversal]="id"
)
for d in "$SRCROOT"/samples/bad/*/; do
    name=$(basename "$d")
    check_fails "publish of samples/bad/$name refused" "${want[$name]:-resource}" cs hub publish "$T/repo" "$d"
    check "nothing published for $name" [ "$(sha256sum "$T/repo/timestamp.json")" = "$before" ]
    check "no version 2 for $name" [ ! -e "$T/repo/2.targets.json" ]
done
check_fails "source folder that does not exist" "No such file" cs hub publish "$T/repo" "$T/nope"
mkdir -p "$T/link/r1"
cp -r "$SRCROOT/samples/v1/math-g3-fractions-intro/." "$T/link/r1/"
sed -i 's/"id": *"math-g3-fractions-intro"/"id": "r1"/' "$T/link/r1/resource.json"
ln -s /etc/passwd "$T/link/r1/passwd"
check_fails "symbolic links refused" "symbolic" cs hub publish "$T/repo" "$T/link"
check_fails "publish into a folder that is no repository" "not a repository" cs hub publish "$T/nope" "$SRCROOT/samples/v1"
check_fails "hub init over an existing repository" "already" cs hub init "$T/repo"
check_fails "unknown command" "unknown" cs hub frobnicate
check_fails "node import without a node" "not a node" cs node import "$T/nonode" "$T/x"
check "every command has --help" bash -c "for c in 'hub init' 'hub publish' 'hub bundle' 'node init' 'node import' 'node status' 'node cat' 'node verify' 'node gc' 'node search'; do '$CISTERN' \$c --help | grep -q usage || exit 1; done"
finish
