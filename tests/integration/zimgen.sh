#!/bin/bash
# Kiwix archives made by the test itself (libzim's writer, tests/tools/
# zimtool.cpp), so this runs everywhere: hub add-zim beside ordinary
# resources; metadata, pages, an image, redirects (same folder: the target's
# bytes; another folder: a forwarding page), "Topic" beside "Topic/Sub", MIME
# types over HTTP; article titles found by `node search` and the catalogue
# API; damaged archives refused with nothing changed; a newer edition synced
# as a delta far smaller than the archive.
source "$(dirname "$0")/lib.sh"

ZT=$(cd "$(dirname "$CISTERN")/.." && pwd)/tests/tools/cistern-zimtool
[ -x "$ZT" ] || { echo "skipped: $ZT not built"; exit 77; }
"$ZT" make "$T/e1.zim" 1 >/dev/null
"$ZT" make "$T/e2.zim" 2 >/dev/null
ID=cistern_test_archive

cs hub init "$T/repo" >/dev/null
mkdir -p "$T/src"
cp -r "$SRCROOT/samples/v1/." "$T/src/"
out=$(cs hub add-zim "$T/repo" "$T/e1.zim" --source "$T/src" --subject science --grades 5,6)
check "add-zim reports the entries" grep -q "10 entries (2 redirects, 1 as forwarding pages)" <<<"$out"
check "add-zim publishes version 1" grep -q "published version 1" <<<"$out"
RJ="$T/src/$ID/resource.json"
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$RJ" "$1"; }
check "resource.json: title" [ "$(jq_ 'd["title"]["en"]')" = "Cistern test archive" ]
check "resource.json: description" [ "$(jq_ 'd["description"]["en"]')" = "A tiny archive for tests" ]
check "resource.json: language eng -> en" [ "$(jq_ 'd["language"]')" = en ]
check "resource.json: entry is the main page" [ "$(jq_ 'd["entry"]')" = index.html ]
check "resource.json: type html" [ "$(jq_ 'd["type"]')" = html ]
check "resource.json: subject and grades" [ "$(jq_ 'd["subject"] + str(d["grades"])')" = "science[5, 6]" ]
check "resource.json: Date as edition" [ "$(jq_ 'd["edition"]')" = 2024-01-01 ]
check "resource.json: publisher, creator" [ "$(jq_ 'd["publisher"] + "/" + d["creator"]')" = "Cistern Developers/Cistern" ]
check "resource.json: tags as keywords (internal ones dropped)" [ "$(jq_ 'd["keywords"]')" = "['test', 'science']" ]
check "resource.json: illustration" [ "$(jq_ 'd["illustration"]')" = .cistern/illustration-48.png ]
check "resource.json: zim entries" [ "$(jq_ 'd["zim"]["entries"]')" = 10 ]

# Into a node; every entry reads back as libzim reads it.
cs node init "$T/node" --trust "$T/repo/root.json" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/v1.bundle" >/dev/null
cs node import "$T/node" "$T/v1.bundle" >/dev/null
n=0 same=0
while IFS=$'\t' read -r path kind mime title target; do
    [ "$path" = wiki/Sugar_factory.html ] && continue # a forwarding page, below
    n=$((n + 1))
    if cmp -s <(cs node cat "$T/node" "$ID" "$path") <("$ZT" cat "$T/e1.zim" "$path"); then
        same=$((same + 1))
    else
        echo "  differs: $path" >&2
    fi
done < <("$ZT" list "$T/e1.zim")
check "every entry byte for byte as libzim reads it ($same of $n)" [ "$n" -eq 9 ] && [ "$same" -eq "$n" ]
check "a page" cmp -s <(cs node cat "$T/node" "$ID" Photosynthesis.html) <("$ZT" cat "$T/e1.zim" Photosynthesis.html)
check "an image" cmp -s <(cs node cat "$T/node" "$ID" img/leaf.png) <("$ZT" cat "$T/e1.zim" img/leaf.png)
check "a redirect (same folder: the target's bytes)" \
    cmp -s <(cs node cat "$T/node" "$ID" Light_reaction.html) <("$ZT" cat "$T/e1.zim" Light_reaction.html)
check "a redirect to another folder forwards relatively" \
    grep -q 'url=../Photosynthesis.html' <(cs node cat "$T/node" "$ID" wiki/Sugar_factory.html)
check "\"Topic\" and \"Topic/Sub\" both kept" cmp -s <(cs node cat "$T/node" "$ID" Topic/Sub) <("$ZT" cat "$T/e1.zim" Topic/Sub)
check "the ordinary resources are still there" same_as_tree "$T/node" "$SRCROOT/samples/v1"

# Search: article titles inside the archive, with their page.
s=$(cs node search "$T/node" "water cycle" --json)
check "node search finds an article by title" grep -q '"entry":{"path":"Water_cycle.html","title":"Water cycle"}' <<<"$s"
s=$(cs node search "$T/node" "光合作用" --json)
check "node search finds a Chinese title" grep -q '"path":"光合作用.html"' <<<"$s"
check "a redirect's title finds its page" grep -q '"path":"Light_reaction.html"' <<<"$(cs node search "$T/node" "light reaction" --json)"
serve_start "$T/node"
api=$(curl -s "$URL/api/v1/catalog?q=photosynthesis")
check "API finds the article with its path" grep -q '"entry":{"path":"Photosynthesis.html","title":"Photosynthesis","url":"/r/'"$ID"'/Photosynthesis.html"}' <<<"$api"
check "API: the URL of a Chinese page is escaped" grep -q '"url":"/r/'"$ID"'/%E5%85%89%E5%90%88%E4%BD%9C%E7%94%A8.html"' <<<"$(curl -s "$URL/api/v1/catalog?q=%E5%85%89%E5%90%88")"
check "the page is served at its URL" [ "$(st "$URL/r/$ID/Photosynthesis.html")" = 200 ]
check "a page without extension is served as HTML" grep -qi '^text/html' <<<"$(hdr Content-Type "$URL/r/$ID/Topic")"
check "the image keeps its MIME type" grep -qi '^image/png' <<<"$(hdr Content-Type "$URL/r/$ID/img/leaf.png")"
check "the resource opens at the main page" [ "$(st -L "$URL/r/$ID/")" = 200 ]
serve_stop

# Damaged archives: refused, repository and source tree unchanged.
v_before=$(ls "$T/repo"/*.snapshot.json | wc -l)
snap() { (cd "$T/src" && find . -type f -printf '%p %s\n' | LC_ALL=C sort | md5sum); }
src_before=$(snap)
head -c 30000 "$T/e1.zim" >"$T/cut.zim"
check_fails "a truncated archive is refused" "not a valid ZIM archive" cs hub add-zim "$T/repo" "$T/cut.zim" --source "$T/src"
cp "$T/e1.zim" "$T/flip.zim"
printf '\x55' | dd of="$T/flip.zim" bs=1 seek=40000 conv=notrunc 2>/dev/null
check_fails "a corrupted archive is refused" "not a valid ZIM archive" cs hub add-zim "$T/repo" "$T/flip.zim" --source "$T/src"
printf 'not a zim' >"$T/text.zim"
check_fails "a text file is refused" "not a valid ZIM archive" cs hub add-zim "$T/repo" "$T/text.zim" --source "$T/src"
check_fails "a missing file is refused" "No such file" cs hub add-zim "$T/repo" "$T/none.zim" --source "$T/src"
check_usage "--source is required" "--source" cs hub add-zim "$T/repo" "$T/e1.zim"
check_fails "an id of a hand-made resource is not overwritten" "not made from a ZIM" \
    cs hub add-zim "$T/repo" "$T/e1.zim" --source "$T/src" --id math-g3-fractions-intro
check "no version was made" [ "$(ls "$T/repo"/*.snapshot.json | wc -l)" = "$v_before" ]
check "the source tree is unchanged" [ "$(snap)" = "$src_before" ]
check "adding the same edition again publishes nothing" grep -q "nothing published" \
    <<<"$(cs hub add-zim "$T/repo" "$T/e1.zim" --source "$T/src" --subject science --grades 5,6)"

# A newer edition: the same id, a new version, the change travels as a delta.
out=$(cs hub add-zim "$T/repo" "$T/e2.zim" --source "$T/src" --subject science --grades 5,6)
check "the newer edition replaces the folder" grep -q "^replaced $T/src/$ID" <<<"$out"
check "and is published as a change with deltas" grep -q "published version 2: .*(0 added, 1 changed, 0 removed).*1 with deltas" <<<"$out"
hub_start "$T/repo"
cs node init "$T/net" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
mkdir -p "$T/bak"
cs hub bundle "$T/repo" --since 0 -o "$T/full.bundle" >/dev/null
# The network node starts at version 1 (from the bundle of version 1), then syncs.
cs node import "$T/net" "$T/v1.bundle" >/dev/null
out=$(cs node sync "$T/net")
hub_stop
bytes=$(sed -n 's/.* \([0-9.]*\) \([KMG]*B\) received.*/\1 \2/p' <<<"$out" |
    awk '{m=1; if($2=="KB")m=1000; if($2=="MB")m=1000000; printf "%d", $1*m}')
zsize=$(stat -c %s "$T/e2.zim")
check "the update is far smaller than the archive ($bytes bytes received, archive $zsize)" \
    [ -n "$bytes" ] && [ "$bytes" -lt $((zsize / 5)) ]
check "node at version 2" [ "$(node_version "$T/net")" = 2 ]
check "the changed page reads back" cmp -s <(cs node cat "$T/net" "$ID" Water_cycle.html) <("$ZT" cat "$T/e2.zim" Water_cycle.html)
check "the new page reads back" cmp -s <(cs node cat "$T/net" "$ID" Rain.html) <("$ZT" cat "$T/e2.zim" Rain.html)
check "the new page's title is found" grep -q '"path":"Rain.html"' <<<"$(cs node search "$T/net" rain --json)"

finish
