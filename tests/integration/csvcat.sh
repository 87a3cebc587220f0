#!/bin/bash
# Spreadsheet catalogues: catalog.csv beside folders of files publishes like
# resource.json files do (and mixes with them); errors name the row and the
# column.
source "$(dirname "$0")/lib.sh"

S="$T/src"
mkdir -p "$S/frac" "$S/water" "$S/poem/media" "$S/with-json"
echo '<h1>分数</h1>' >"$S/frac/index.html"
echo '<h1>Water</h1>' >"$S/water/index.html"
head -c 2000 /dev/urandom >"$S/poem/media/reading.mp3"
echo '<h1>静夜思</h1>' >"$S/poem/index.html"
cp -r "$SRCROOT/samples/v1/math-g3-fractions-intro/." "$S/with-json/"
sed -i 's/"id": *"math-g3-fractions-intro"/"id": "with-json"/' "$S/with-json/resource.json"
printf '\xEF\xBB\xBF' >"$S/catalog.csv" # a spreadsheet's byte-order mark
cat >>"$S/catalog.csv" <<'CSV'
id,title.zh,title.en,language,subject,grades,type,entry,keywords,prerequisites,unit,description.en,license
frac,认识分数,Meet fractions,zh,math,3;4,html,index.html,分数;fraction,,1,"Halves, thirds and quarters — with ""pictures""",CC-BY-4.0
water,水循环,The water cycle,zh,science,5-6,html,index.html,水,frac,2,"Two lines:
evaporation and rain",CC0-1.0
poem,静夜思,Quiet night thoughts,zh,chinese,1,audio,media/reading.mp3,,,,,
CSV
cs hub init "$T/repo" >/dev/null
out=$(cs hub publish "$T/repo" "$S" 2>&1)
check "a spreadsheet catalogue publishes ($out)" [ -f "$T/repo/timestamp.json" ]
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/n" "$T/b" >/dev/null
check "4 resources (3 rows and one resource.json)" grep -q '"total":4' <(cs node search "$T/n" --json)
check "titles in both languages are searchable" grep -q '"id":"frac"' <(cs node search "$T/n" fractions --json)
check "... in Chinese" grep -q '"id":"water"' <(cs node search "$T/n" 水循环 --json)
check "files read back" [ "$(cs node cat "$T/n" poem media/reading.mp3 | cmp - "$S/poem/media/reading.mp3" && echo same)" = same ]
serve_start "$T/n"
r=$(curl -s "$URL/api/v1/resources/water")
check "grades 5-6 became [5,6]" grep -q '"grades":\[5,6\]' <<<"$r"
check "a quoted cell kept its newline" grep -q 'Two lines:\\nevaporation' <<<"$r"
check "prerequisites became a list" grep -q '"prerequisites":\[{"id":"frac"' <<<"$r"
r=$(curl -s "$URL/api/v1/resources/frac")
check "keywords became a list" grep -q '"keywords":\["分数","fraction"\]' <<<"$r"
check "unit is a number" grep -q '"unit":1' <<<"$r"
check "doubled quotes are one quote" grep -q 'with \\"pictures\\"' <<<"$r"
check "unknown columns are kept (license)" grep -q '"license":"CC-BY-4.0"' <<<"$r"
serve_stop

# Errors name the row and the column; nothing is published.
badrow() { # badrow "what" "expected message" CSV-LINE
    local b="$T/bad"
    rm -rf "$b"
    cp -r "$S" "$b"
    case "$3" in extra,*) mkdir -p "$b/extra" && echo x >"$b/extra/index.html" ;; esac
    printf '%s\n' "$3" >>"$b/catalog.csv"
    check_fails "$1" "$2" cs hub publish "$T/repo" "$b"
}
# (the water row's description spans two lines but is one spreadsheet row: the next row is 5)
badrow "grades that are not grades" "row 5, column F (grades)" 'extra,额外,Extra,zh,math,three,html,index.html,,,,,'
badrow "an unknown type" "row 5, column G (type)" 'extra,额外,Extra,zh,math,3,movie,index.html,,,,,'
badrow "an entry that is not a file" "catalog.csv row 5" 'extra,额外,Extra,zh,math,3,html,missing.html,,,,,'
badrow "the same id twice" "row 5, column A (id)" 'frac,额外,Extra,zh,math,3,html,index.html,,,,,'
badrow "a row without its folder" "no folder \"ghost\"" 'ghost,额外,Extra,zh,math,3,html,index.html,,,,,'
badrow "a quote in an unquoted cell" "row 5, column B" 'extra,额"外,Extra,zh,math,3,html,index.html,,,,,'
badrow "a quoted cell never closed" "never closed" 'extra,"额外,Extra,zh,math,3,html,index.html,,,,,'
badrow "more cells than columns" "row 5, column N" 'extra,额外,Extra,zh,math,3,html,index.html,,,,,,,'
badrow "a missing title" "row 5, column B (title.zh)" 'extra,,,zh,math,3,html,index.html,,,,,'
cp "$SRCROOT/samples/v1/math-g3-fractions-intro/resource.json" "$S/frac/resource.json"
check_fails "a folder described twice" "described twice" cs hub publish "$T/repo" "$S"
rm "$S/frac/resource.json"
printf 'title.zh,language\nx,zh\n' >"$T/nohead.csv"
mkdir -p "$T/s2" && cp "$T/nohead.csv" "$T/s2/catalog.csv"
check_fails "no id column" "row 1: no \"id\" column" cs hub publish "$T/repo" "$T/s2"
check "the repository is still at version 1" grep -q '"version":1' <(cs node status "$T/n" --json)
finish
