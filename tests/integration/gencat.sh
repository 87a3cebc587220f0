#!/bin/bash
# cistern-gencat (the synthetic K-12 catalogue behind bench/lan.sh): the tree
# it writes publishes cleanly, every resource reaches the catalogue, the same
# seed gives the same bytes, and Chinese and English searches find results.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "curl missing (apt-get install curl)"; exit 1; }
GENCAT=$(dirname "$CISTERN")/cistern-gencat
[ -x "$GENCAT" ] || { echo "skipped: $GENCAT not built"; exit 77; }
N=300

gencat() { "$GENCAT" "$@" 2>/dev/null; }

# Generation: N folders, each with resource.json and index.html.
check "generate $N" gencat "$T/src" $N --seed 7 --queries "$T/q.txt"
check "$N resource folders" [ "$(find "$T/src" -mindepth 1 -maxdepth 1 -type d | wc -l)" = $N ]
check "every folder has resource.json" [ "$(find "$T/src" -name resource.json | wc -l)" = $N ]
check "every folder has index.html" [ "$(find "$T/src" -name index.html | wc -l)" = $N ]
size=$(stat -c %s "$(find "$T/src" -name index.html | awk 'NR == 1')")
check "index.html is about 2 KiB ($size bytes)" [ "$size" -ge 1500 -a "$size" -le 4096 ]
gencat "$T/small" 3 --seed 7 --files-kb 20
size=$(stat -c %s "$(find "$T/small" -name index.html | awk 'NR == 1')")
check "--files-kb 20 gives about 20 KiB ($size bytes)" [ "$size" -ge 18000 -a "$size" -le 24000 ]
nq=$(wc -l <"$T/q.txt")
check "about 200 queries ($nq)" [ "$nq" -ge 150 -a "$nq" -le 250 ]
check "queries include 1-character Chinese" grep -qxP '\p{Han}' "$T/q.txt"
check "queries include 3-character Chinese" grep -qxP '\p{Han}{3}' "$T/q.txt"
check "queries include English words" grep -qxE '[a-z]{4,}' "$T/q.txt"
check "queries include English prefixes" grep -qxE '[a-z]{3,5}\*' "$T/q.txt"

# The content is what it claims: 13 subjects, Chinese and English titles.
subjects=$(cat "$T"/src/*/resource.json | sed -n 's/^ "subject": "\(.*\)",$/\1/p' | sort -u | wc -l)
check "at least 10 subjects in $N resources ($subjects)" [ "$subjects" -ge 10 ]
check "titles in Chinese" grep -q '"zh": "[^"]*课时' "$(find "$T/src" -name resource.json | awk 'NR == 1')"
check "titles in English" grep -q '"en": "[^"]*Lesson' "$(find "$T/src" -name resource.json | awk 'NR == 1')"
missing=0
# Ids only stand alone on a line inside "prerequisites" (indent-1 JSON).
for p in $(cat "$T"/src/*/resource.json | tr -d ' ,"' | grep -E '^[a-z]+-g[0-9]+-' || true); do
    [ -d "$T/src/$p" ] || missing=$((missing + 1))
done
check "every prerequisite exists ($missing missing)" [ "$missing" = 0 ]
check "some resources have prerequisites" grep -q '"prerequisites": \[$' "$T"/src/*/resource.json

# Determinism: the same seed gives the same bytes; another seed does not.
gencat "$T/src2" $N --seed 7 --queries "$T/q2.txt"
check "same seed, same tree" diff -r "$T/src" "$T/src2"
check "same seed, same queries" cmp "$T/q.txt" "$T/q2.txt"
gencat "$T/src3" $N --seed 8
check "another seed, another tree" bash -c "! diff -rq '$T/src' '$T/src3' >/dev/null"
rm -rf "$T/src2" "$T/src3" "$T/small"
check_refusal 1 "cistern-gencat: " "N must be a number" "not a number" "$GENCAT" "$T/x" lots
check_refusal 1 "cistern-gencat: " "unknown option" "unknown option" "$GENCAT" "$T/x" 3 --frobnicate

# Through the real pipeline: publish, bundle, import, serve.
cs hub init "$T/repo" >/dev/null
check "publish the generated tree" cs hub publish "$T/repo" "$T/src"
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
check "import" cs node import "$T/n" "$T/b"
serve_start "$T/n"
total() { curl -s -G "$@" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; }
got=$(total "$URL/api/v1/catalog")
check "catalogue holds all $N ($got)" [ "$got" = $N ]
math=$(grep -l '"subject": "math"' "$T"/src/*/resource.json | wc -l)
got=$(total "$URL/api/v1/catalog" --data-urlencode subject=math)
check "subject filter: $math math resources ($got)" [ "$got" = "$math" ]
got=$(total "$URL/api/v1/catalog" --data-urlencode q=数学)
check "search 数学 finds the $math math resources ($got)" [ "$got" = "$math" ]
got=$(total "$URL/api/v1/catalog" --data-urlencode q=lesson)
check "search lesson finds every resource ($got)" [ "$got" = $N ]
got=$(total "$URL/api/v1/catalog" --data-urlencode q=grammar)
want=$(grep -l '"en": ".*Grammar' "$T"/src/*/resource.json | wc -l)
check "search grammar finds $want ($got)" [ "$want" -gt 0 -a "$got" = "$want" ]
id=$(basename "$(find "$T/src" -mindepth 1 -maxdepth 1 -type d | sort | awk 'NR == 1')")
check "a generated page is served" cmp <(curl -s "$URL/r/$id/index.html") "$T/src/$id/index.html"
# Most generated queries find something even in a small catalogue.
hits=0
while IFS= read -r q; do
    p=0
    case $q in *\*) q=${q%\*} p=1 ;; esac
    n=$(total "$URL/api/v1/catalog" --data-urlencode "q=$q" --data-urlencode prefix=$p)
    [ "${n:-0}" -gt 0 ] && hits=$((hits + 1))
done <"$T/q.txt"
check "at least half of the $nq queries find something ($hits)" [ "$hits" -ge $((nq / 2)) ]
serve_stop
finish
