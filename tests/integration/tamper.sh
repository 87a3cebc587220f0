#!/bin/bash
# A byte flipped in each region of a bundle, a truncated bundle, a bundle
# signed by other keys, and expired metadata are all refused with a clear
# message, and the node is left unchanged.
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

# Offsets of interest, read from the bundle's own table.
offs=(0 4 8 16 24 28 32 40 71) # header fields and checksum
n=$(u32 "$T/b" 24)
p=72
declare -a kinds=() secoff=() seclen=()
for i in $(seq 0 $((n - 1))); do
    kinds+=("$(od -An -t u1 -j $p -N 1 "$T/b" | tr -d ' ')")
    nl=$(u32 "$T/b" $((p + 4)))
    secoff+=("$(u64 "$T/b" $((p + 8)))")
    seclen+=("$(u64 "$T/b" $((p + 16)))")
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
trials=0
for off in "${offs[@]}"; do
    [ "$off" -lt "$size" ] || continue
    rm -rf "$T/n"
    cp -a "$T/empty" "$T/n"
    flip "$T/b" "$off" "$T/bad"
    check_fails "byte $off flipped" "" cs node import "$T/n" "$T/bad"
    check "node unchanged after byte $off" [ "$(node_version "$T/n")" = 0 ]
    trials=$((trials + 1))
done
check "tried every region ($trials flips over $n sections)" [ "$trials" -ge $((9 + 8 * n)) ]

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
