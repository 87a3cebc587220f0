#!/bin/bash
# What a node keeps: keep.* filters, a storage quota, and a teacher's
# request that goes first.  The rest is listed but not cached; a changed
# filter or a request is served at the next sync without a new version.
source "$(dirname "$0")/lib.sh"

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v2" >/dev/null
hub_start "$T/repo"
cached() { cs node search "$1" --json --limit 200 | grep -o '"id":"[^"]*","title":"[^"]*","score":[^,]*,"cached":true' | wc -l; }
is_cached() { curl -s -o /dev/null -w '%{http_code}' "$2" >/dev/null; cs node search "$1" --json --limit 200 | grep -q "\"id\":\"$3\",[^}]*\"cached\":true"; }

# Math only.
cs node init "$T/a" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
echo "keep.subjects = math" >>"$T/a/node.conf"
out=$(cs node sync "$T/a")
check "sync with a subject filter ($out)" [ "$(node_version "$T/a")" = 1 ]
check "the whole catalogue is listed" grep -q '"total":12' <<<"$(cs node search "$T/a" --json)"
check "only the 4 math resources are cached" [ "$(cached "$T/a")" = 4 ]
check "a math file reads" cs node cat "$T/a" math-g3-fractions-intro index.html
check_fails "a science file is listed, not cached" "not cached" cs node cat "$T/a" science-g5-water-cycle index.html

# A teacher asks for the water-cycle lesson: fetched at the next sync.
check "request a listed resource" cs node request "$T/a" science-g5-water-cycle
out=$(cs node sync "$T/a")
check "the request is served without a new version ($out)" cs node cat "$T/a" science-g5-water-cycle index.html
check "5 cached now" [ "$(cached "$T/a")" = 5 ]
check_fails "requesting a cached resource" "already cached" cs node request "$T/a" science-g5-water-cycle

# The filter widens: the rest arrives at the next sync.
sed -i 's/^keep.subjects = math/keep.subjects = math, science, chemistry/' "$T/a/node.conf"
cs node sync "$T/a" >/dev/null
check "a wider filter fills in what it now keeps" [ "$(cached "$T/a")" = 7 ]

# Grades and languages.
cs node init "$T/g" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
printf 'keep.grades = 1-3\nkeep.languages = zh\n' >>"$T/g/node.conf"
cs node sync "$T/g" >/dev/null
check "grades 1-3 in Chinese" [ "$(cached "$T/g")" = 4 ]

# A quota: the node keeps what fits, the rest stays listed.
cs node init "$T/q" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
echo "storage.quota = 40k" >>"$T/q/node.conf"
out=$(cs node sync "$T/q")
n=$(cached "$T/q")
stored=$(cs node status "$T/q" --json | sed -n 's/.*"stored_bytes":\([0-9]*\).*/\1/p')
check "a quota keeps some resources ($n cached)" [ "$n" -gt 0 ] && [ "$n" -lt 12 ]
check "the store stays within the quota ($stored bytes)" [ "$stored" -le 40960 ]

# Teacher requests first: with a quota that fits one resource only, the
# requested one is cached, although by id every other resource ranks before
# it.  Nodes list everything first (keep.subjects = none), then drop the
# filter and set the quota to what the requested resource takes.
last=science-g5-water-cycle-video # the last id of samples/v2
stored_bytes() { cs node status "$1" --json | sed -n 's/.*"stored_bytes":\([0-9]*\).*/\1/p'; }
for n in m r c; do
    cs node init "$T/$n" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
    echo "keep.subjects = none" >>"$T/$n/node.conf"
    cs node sync "$T/$n" >/dev/null
done
check "listed only" [ "$(cached "$T/m")" = 0 ]
cs node request "$T/m" "$last" >/dev/null
cs node sync "$T/m" >/dev/null
one=$(stored_bytes "$T/m")
check "the requested resource alone takes $one bytes" [ "$(cached "$T/m")" = 1 ] && [ "$one" -gt 0 ]
cs node request "$T/r" "$last" >/dev/null
for n in r c; do
    sed -i '/^keep.subjects/d' "$T/$n/node.conf"
    echo "storage.quota = $one" >>"$T/$n/node.conf"
    cs node sync "$T/$n" >/dev/null
done
check "the quota fits one resource: the requested one ($(cached "$T/r") cached)" is_cached "$T/r" "" "$last"
check "... and only that one" [ "$(cached "$T/r")" = 1 ]
not() { ! "$@"; }
check "without the request the same quota goes to resources earlier by id" not is_cached "$T/c" "" "$last"
check "... which it did fill ($(cached "$T/c") cached)" [ "$(cached "$T/c")" -ge 1 ]
hub_stop
finish
