#!/bin/bash
# Publishing an invalid source tree is refused with the file and the reason,
# and nothing is published: after every refusal the repository's objects,
# catalogue files, metadata and hub.db are byte for byte what they were.
source "$(dirname "$0")/lib.sh"

# Every file of the repository with its SHA-256 (keys included: a refused
# publish must not touch them either).  The lock file is empty and flock'd.
repo_sums() { (cd "$T/repo" && find . -type f ! -name lock -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
unchanged() { # unchanged WHAT: the repository is as the listing in $T/before
    repo_sums >"$T/after"
    if cmp -s "$T/before" "$T/after"; then ok; else
        bad "$1: the repository changed:"
        diff "$T/before" "$T/after" >&2 || true
    fi
}

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
repo_sums >"$T/before"
for f in ./objects/ ./catalog/ ./1.targets.json ./1.snapshot.json ./timestamp.json ./root.json ./hub.db; do
    check "the listing covers $f" grep -qF "  $f" "$T/before"
done
declare -A want=(
    [missing-json]="resource.json: missing"
    [bad-json]="resource.json"
    [bad-field]="grades"
    [bad-entry]="entry"
    [bad-id]="id"
    [bad-id-traversal]="id"
)
n=0
for d in "$SRCROOT"/samples/bad/*/; do
    d=${d%/}
    name=$(basename "$d")
    # Each bad tree holds ok-sample/ and the one broken resource folder.
    broken=$(find "$d" -mindepth 1 -maxdepth 1 -type d ! -name ok-sample | head -1)
    check "samples/bad/$name has a broken resource folder" [ -n "$broken" ]
    check_fails "publish of samples/bad/$name refused" "${want[$name]:-resource}" cs hub publish "$T/repo" "$d"
    check_fails "the refusal names $broken/resource.json" "$broken/resource.json" cs hub publish "$T/repo" "$d"
    unchanged "after samples/bad/$name"
    check "no version 2 for $name" [ ! -e "$T/repo/2.targets.json" ]
    n=$((n + 1))
done
check "every bad sample tried ($n)" [ "$n" -ge 6 ]

# A folder of resources where the second one is broken: the first (valid)
# one's objects must not land in the repository either.
mkdir -p "$T/half"
cp -r "$SRCROOT/samples/v1/math-g3-fractions-intro" "$T/half/a-good"
sed -i 's/"id": *"math-g3-fractions-intro"/"id": "a-good"/' "$T/half/a-good/resource.json"
echo "a new file, so this resource has an object v1 lacks" >"$T/half/a-good/new.txt"
mkdir -p "$T/half/b-bad"
cp "$SRCROOT/samples/v1/math-g3-fractions-intro/resource.json" "$T/half/b-bad/resource.json"
sed -i 's/"id": *"math-g3-fractions-intro"/"id": "b-bad", "grades": "three"/' "$T/half/b-bad/resource.json"
check_fails "a tree with one bad resource of two refused, naming it" "$T/half/b-bad/resource.json" \
    cs hub publish "$T/repo" "$T/half"
unchanged "after the half-good tree"

check_fails "source folder that does not exist" "$T/nope: No such file" cs hub publish "$T/repo" "$T/nope"
unchanged "after a missing source folder"
mkdir -p "$T/link/r1"
cp -r "$SRCROOT/samples/v1/math-g3-fractions-intro/." "$T/link/r1/"
sed -i 's/"id": *"math-g3-fractions-intro"/"id": "r1"/' "$T/link/r1/resource.json"
ln -s /etc/passwd "$T/link/r1/passwd"
check_fails "symbolic links refused, naming the link" "$T/link/r1/passwd: .*symbolic" cs hub publish "$T/repo" "$T/link"
unchanged "after a symbolic link"
check_fails "publish into a folder that is no repository" "not a repository" cs hub publish "$T/nope" "$SRCROOT/samples/v1"
check_fails "hub init over an existing repository" "already" cs hub init "$T/repo"
unchanged "after hub init over it"
check_usage "unknown command" "unknown" cs hub frobnicate
check_fails "node import without a node" "not a node" cs node import "$T/nonode" "$T/x"
check "every command has --help" bash -c "for c in 'hub init' 'hub publish' 'hub bundle' 'node init' 'node import' 'node status' 'node cat' 'node verify' 'node gc' 'node search'; do '$CISTERN' \$c --help | grep -q usage || exit 1; done"
finish
