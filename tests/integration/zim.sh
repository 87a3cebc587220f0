#!/bin/bash
# Every archive of ../shared/corpora/zim: the valid ones imported with the
# entry counts and metadata libzim reports, every entry read back from a node
# byte for byte as libzim reads it (a page, an image and a redirect named),
# article titles found by `node search` and /api/v1/catalog; the invalid ones
# (nons-invalid.*) refused with a clear message and nothing changed; the
# other edition of the same book (same Name) added as an update far smaller
# than the archive.  Skips (exit 77) when ../shared/corpora is absent.
source "$(dirname "$0")/lib.sh"

Z="$SRCROOT/../shared/corpora/zim"
if [ ! -d "$Z" ]; then
    echo "skipped: $Z is absent (the shared corpora are not beside this checkout)"
    exit 77
fi
ZT=$(cd "$(dirname "$CISTERN")/.." && pwd)/tests/tools/cistern-zimtool
[ -x "$ZT" ] || { echo "skipped: $ZT not built"; exit 77; }

cs hub init "$T/repo" >/dev/null
mkdir -p "$T/src"
idof() { basename "$1" .zim | tr -c 'A-Za-z0-9._\n-' '-' | sed 's/^/zim-/'; }

# Expected metadata, from libzim: Title, Language (mapped as add-zim maps
# it), Date, Publisher; and the entry count.
expect() { # expect FILE KEY
    sed -n "s/^meta\t$2\t//p" <(info_of "$1") | python3 -c 'import sys; print(" ".join(sys.stdin.read().split()))'
}
info_of() { "$ZT" info "$1"; }
rj() { # rj ID PYTHON_EXPR
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$T/src/$1/resource.json" "$2"
}

valid=()
for f in "$Z"/*.zim; do
    case "$(basename "$f")" in nons-invalid.*) continue ;; esac
    valid+=("$f")
    id=$(idof "$f")
    out=$(cs hub add-zim "$T/repo" "$f" --source "$T/src" --id "$id" --no-publish) || {
        bad "$(basename "$f"): add-zim failed"
        continue
    }
    n=$(info_of "$f" | sed -n 's/^entries\t//p')
    r=$(info_of "$f" | sed -n 's/^redirects\t//p')
    check "$(basename "$f"): $n entries, $r redirects" grep -q " $n entries ($r redirects" <<<"$out"
    check "$(basename "$f"): zim.entries" [ "$(rj "$id" 'd["zim"]["entries"]')" = "$n" ]
    check "$(basename "$f"): title" [ "$(rj "$id" 'list(d["title"].values())[0]')" = "$(expect "$f" Title)" ]
    lang=$(expect "$f" Language | tr -cd 'A-Za-z0-9-' | sed 's/^eng$/en/; s/^bel$/be/')
    check "$(basename "$f"): language $lang" [ "$(rj "$id" 'd["language"]')" = "$lang" ]
    d=$(expect "$f" Date)
    [ -z "$d" ] || check "$(basename "$f"): Date as edition" [ "$(rj "$id" 'd["edition"]')" = "$d" ]
    p=$(expect "$f" Publisher)
    [ -z "$p" ] || check "$(basename "$f"): publisher" [ "$(rj "$id" 'd["publisher"]')" = "$p" ]
    main=$(info_of "$f" | sed -n 's/^main\t//p')
    check "$(basename "$f"): entry is the main page" [ "$(rj "$id" 'd["entry"]')" = "$main" ]
done
check "the valid archives were found" [ "${#valid[@]}" -ge 4 ]
out=$(cs hub publish "$T/repo" "$T/src")
check "all published in one version" grep -q "published version 1: ${#valid[@]} resources" <<<"$out"

# The invalid ones: a clear one-line reason, nothing written or published.
snap() { (cd "$T/src" && find . -printf '%p %s\n' | LC_ALL=C sort | md5sum); }
before=$(snap)
ninvalid=0
for f in "$Z"/nons-invalid.*.zim; do
    ninvalid=$((ninvalid + 1))
    check_fails "$(basename "$f") refused" "not a valid ZIM archive" \
        cs hub add-zim "$T/repo" "$f" --source "$T/src" --id zim-invalid
done
check "the invalid archives were found" [ "$ninvalid" -ge 5 ]
check "source tree unchanged by refusals" [ "$(snap)" = "$before" ]
check "repository still at version 1" [ ! -e "$T/repo/2.snapshot.json" ]

# A node: everything byte for byte as libzim reads it.
cs node init "$T/node" --trust "$T/repo/root.json" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/v1.bundle" >/dev/null
cs node import "$T/node" "$T/v1.bundle" >/dev/null
for f in "${valid[@]}"; do
    id=$(idof "$f")
    n=0 same=0
    while IFS=$'\t' read -r path kind mime title target; do
        n=$((n + 1))
        # A redirect to an HTML page in another folder is a forwarding page.
        if [ "$kind" = redirect ] && [[ "$mime" == text/html* ]] && [ "$(dirname "$path")" != "$(dirname "$target")" ]; then
            grep -q 'http-equiv="refresh"' <(cs node cat "$T/node" "$id" "$path") && same=$((same + 1))
            continue
        fi
        if cmp -s <(cs node cat "$T/node" "$id" "$path") <("$ZT" cat "$f" "$path"); then
            same=$((same + 1))
        else
            echo "  differs: $id/$path" >&2
        fi
    done < <("$ZT" list "$f")
    check "$(basename "$f"): all $n entries read back as libzim reads them" [ "$n" -gt 0 ] && [ "$same" -eq "$n" ]
done
W=zim-nons-wikibooks_be_all_nopic_2017-02
WZ="$Z/nons-wikibooks_be_all_nopic_2017-02.zim"
check "a page byte for byte" cmp -s <(cs node cat "$T/node" "$W" "Кава.html") <("$ZT" cat "$WZ" "Кава.html")
check "an image byte for byte" cmp -s <(cs node cat "$T/node" "$W" s/wikibooks.png) <("$ZT" cat "$WZ" s/wikibooks.png)
check "a redirect byte for byte" cmp -s <(cs node cat "$T/node" "$W" "Вугорская_кухня.html") <("$ZT" cat "$WZ" "Вугорская_кухня.html")
check "an old-namespace page" cmp -s <(cs node cat "$T/node" zim-withns-small A/main.html) <("$ZT" cat "$Z/withns-small.zim" A/main.html)
check "an old-namespace redirect (-/favicon)" cmp -s <(cs node cat "$T/node" zim-withns-small -/favicon) <("$ZT" cat "$Z/withns-small.zim" -/favicon)

# Article titles: node search and the API, with the page's path.
s=$(cs node search "$T/node" "Кава" --json)
check "node search finds an article title" grep -q "\"id\":\"$W\".*\"entry\":{\"path\":\"Кава.html\",\"title\":\"Кава\"}" <<<"$s"
serve_start "$T/node"
api=$(curl -s "$URL/api/v1/catalog?q=%D0%AD%D1%81%D0%BF%D1%8D%D1%80%D0%B0%D0%BD%D1%82%D0%B0") # Эспэранта
check "the API finds the article with its path" grep -q '"entry":{"path":"Эспэранта.html","title":"Эспэранта","url":"/r/'"$W"'/' <<<"$api"
url=$(sed -n 's/.*"path":"Эспэранта.html","title":"Эспэранта","url":"\([^"]*\)".*/\1/p' <<<"$api" | head -1)
check "the page opens at that URL" cmp -s <(curl -s "$URL$url") <("$ZT" cat "$WZ" "Эспэранта.html")
check "the page's stylesheet resolves relative to it" [ "$(st "$URL/r/$W/s/style.css")" = 200 ]
serve_stop

# The other edition of the same book (same Name): an update under the same id.
out=$(cs hub add-zim "$T/repo" "$Z/noTitleListingV0-wikibooks_be_all_nopic_2017-02.zim" --source "$T/src" --id "$W")
check "the other edition replaces the folder" grep -q "^replaced" <<<"$out"
if grep -q "published version 2" <<<"$out"; then
    cs hub bundle "$T/repo" --since 1 -o "$T/v2.bundle" >/dev/null
    check "the update is far smaller than the archive" \
        [ "$(stat -c %s "$T/v2.bundle")" -lt $(($(stat -c %s "$WZ") / 4)) ]
    cs node import "$T/node" "$T/v2.bundle" >/dev/null
    check "node at version 2" [ "$(node_version "$T/node")" = 2 ]
else
    check "the same content publishes nothing" grep -q "nothing published" <<<"$out"
fi

finish
