#!/bin/bash
# A byte flipped in each region of a bundle (a full one, and a --since 1
# update carrying a rotated root and a delta catalogue), a truncated bundle,
# a bundle signed by other keys, and expired metadata are all refused with a
# clear message, and the node is left unchanged.
source "$(dirname "$0")/lib.sh"

u32() { od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
u64() { od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }
flip() { # flip FILE OFFSET OUT: copy FILE with the byte at OFFSET inverted
    cp "$1" "$3"
    local b
    b=$(od -An -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}

make_tree "$T/src" 4 96 7
cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$T/src" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/empty" --trust "$T/repo/root.json" >/dev/null
size=$(stat -c %s "$T/b")

# Offsets of interest in a bundle, read from its own table: every header
# field and the checksum, every field of every table entry, the first,
# middle and last byte of every section, and an object's header fields.
# Prints the offsets, then "sections N" and the section names on stderr.
regions() { # regions BUNDLE
    local b=$1 n p i nl o l
    local -a kinds=() secoff=() seclen=() offs=(0 4 8 16 24 28 32 40 71)
    n=$(u32 "$b" 24)
    p=72
    for i in $(seq 0 $((n - 1))); do
        kinds+=("$(od -An -t u1 -j $p -N 1 "$b" | tr -d ' ')")
        nl=$(u32 "$b" $((p + 4)))
        secoff+=("$(u64 "$b" $((p + 8)))")
        seclen+=("$(u64 "$b" $((p + 16)))")
        offs+=($p $((p + 9)) $((p + 17)) $((p + 30)) $((p + 56))) # kind, offset, length, hash, name
        p=$((p + 56 + nl))
    done
    for i in $(seq 0 $((n - 1))); do
        o=${secoff[$i]} l=${seclen[$i]}
        offs+=("$o" $((o + l / 2)) $((o + l - 1))) # first, middle, last byte of every section
        if [ "${kinds[$i]}" = 3 ]; then
            offs+=($((o + 8)) $((o + 20)) $((o + 48)) $((o + 57))) # object raw_len, id, nblocks, table
        fi
    done
    echo "${offs[@]}"
}
# Names of a bundle's sections, one a line.
section_names() { # section_names BUNDLE
    local b=$1 n p i nl
    n=$(u32 "$b" 24)
    p=72
    for i in $(seq 0 $((n - 1))); do
        nl=$(u32 "$b" $((p + 4)))
        dd if="$b" bs=1 skip=$((p + 56)) count="$nl" status=none
        echo
        p=$((p + 56 + nl))
    done
}

# flip_every_region BUNDLE NODE LABEL STATE [TREE]: a byte flipped in every
# region of BUNDLE, each imported into a fresh copy of NODE, is refused and
# leaves the copy in STATE (`version`, or `version:trust root`), reading back
# TREE if given; then at least 9 + 8 per section flips were tried.
trust_root() { cs node status "$1" --json | sed -n 's/.*"trust_root_version":\([0-9]*\).*/\1/p'; }
flip_every_region() {
    local b=$1 node=$2 label=$3 state=$4 tree=${5:-} bsize nsec off tried=0
    bsize=$(stat -c %s "$b")
    nsec=$(u32 "$b" 24)
    for off in $(regions "$b"); do
        [ "$off" -lt "$bsize" ] || continue
        rm -rf "$T/n"
        cp -a "$node" "$T/n"
        flip "$b" "$off" "$T/bad"
        check_fails "${label}byte $off flipped" "" cs node import "$T/n" "$T/bad"
        local now
        now=$(node_version "$T/n")
        [[ $state != *:* ]] || now+=":$(trust_root "$T/n")"
        check "${label}node unchanged ($state) after byte $off" [ "$now" = "$state" ]
        [ -z "$tree" ] || check "${label}the old version's bytes after byte $off" same_as_tree "$T/n" "$tree"
        tried=$((tried + 1))
    done
    check "${label}tried every region ($tried flips over $nsec sections)" [ "$tried" -ge $((9 + 8 * nsec)) ]
}
flip_every_region "$T/b" "$T/empty" "" 0

# The same for an update: a node at version 1, a --since 1 bundle of version
# 2 made after the root key was rotated, so it holds a rotated root
# (2.root.json), the timestamp, snapshot and targets, a delta catalogue and
# the new objects.  Every flip is refused and the node stays on version 1
# with the same bytes and the same pinned root.
cp -a "$T/src" "$T/src2"
echo "<p>Changed in version 2.</p>" >>"$T/src2/gen-1/index.html"
head -c 50000 /dev/urandom >"$T/src2/gen-2/img/photo.jpg"
make_tree "$T/more" 5 32 8
mv "$T/more/gen-5" "$T/src2/"
cs node init "$T/at1" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/at1" "$T/b" >/dev/null
cs hub rotate-key "$T/repo" root >/dev/null
cs hub publish "$T/repo" "$T/src2" >/dev/null
cs hub bundle "$T/repo" --since 1 -o "$T/u" >/dev/null
section_names "$T/u" >"$T/u.names"
delta=$(tr -d ' \n' <"$T/repo/2.targets.json" | grep -o '"deltas":{"1":{[^}]*}' | grep -o 'catalog/[0-9a-f]*\.cat' || true)
check "node at1 is at version 1 with root 1" [ "$(node_version "$T/at1"):$(trust_root "$T/at1")" = 1:1 ]
check "the update holds the rotated root" grep -qx 2.root.json "$T/u.names"
check "the update holds timestamp, snapshot and targets" \
    [ "$(grep -cxE 'timestamp.json|2.snapshot.json|2.targets.json' "$T/u.names")" = 3 ]
check "targets lists a delta from version 1" [ -n "$delta" ]
check "the update's catalogue is the delta from version 1 ($delta)" grep -qx "$delta" "$T/u.names"
check "the update holds objects" grep -qxE '[0-9a-f]{64}' "$T/u.names"
flip_every_region "$T/u" "$T/at1" "update: " 1:1 "$T/src"
cs node import "$T/at1" "$T/u" >/dev/null
check "the genuine update imports: version 2, root 2" [ "$(node_version "$T/at1"):$(trust_root "$T/at1")" = 2:2 ]
check "and reads back version 2" same_as_tree "$T/at1" "$T/src2"

for len in 0 10 71 $((72 + 30)) $((size / 2)) $((size - 1)); do
    head -c "$len" "$T/b" >"$T/short"
    check_fails "bundle truncated to $len bytes" "" cs node import "$T/empty" "$T/short"
done
check_fails "a bundle with junk appended" "" sh -c "cat '$T/b' /etc/hostname > '$T/long' && '$CISTERN' node import '$T/empty' '$T/long'"

# The same content signed by another repository's keys.
cs hub init "$T/other" >/dev/null
cs hub publish "$T/other" "$T/src" >/dev/null
cs hub bundle "$T/other" --since 0 -o "$T/other.b" >/dev/null
check_fails "bundle signed by unknown keys" "signature" cs node import "$T/empty" "$T/other.b"

# Expired: the root (365 days) and the bundle grace (365 days) both passed.
check_fails "expired metadata" "expired" env CISTERN_FAKE_NOW=$(($(date +%s) + 800 * 86400)) \
    "$CISTERN" node import "$T/empty" "$T/b"
check "node still at version 0" [ "$(node_version "$T/empty")" = 0 ]
check "and its store is sound" cs node verify "$T/empty"

# After all that, the genuine bundle imports and reads back.
cs node import "$T/empty" "$T/b" >/dev/null
check "genuine bundle imports" [ "$(node_version "$T/empty")" = 1 ]
check "files read back" same_as_tree "$T/empty" "$T/src"
finish
