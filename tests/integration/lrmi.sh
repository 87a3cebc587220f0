#!/bin/bash
# LRMI export: the catalogue as schema.org LearningResource JSON-LD from the
# hub (`hub export-lrmi`) and from a node (/api/v1/catalog.jsonld), checked
# field by field with SQLite's JSON functions.
source "$(dirname "$0")/lib.sh"
j() { sqlite3 :memory: "SELECT $1 FROM (SELECT CAST(readfile('$2') AS TEXT) AS d)"; }

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
check "hub export-lrmi writes a file" cs hub export-lrmi "$T/repo" -o "$T/cat.jsonld" --base http://school:8080/
F="$T/cat.jsonld"
check "valid JSON" [ "$(j "json_valid(d)" "$F")" = 1 ]
check "schema.org context" [ "$(j "json_extract(d, '\$.\"@context\"')" "$F")" = https://schema.org/ ]
check "every resource, as a LearningResource" [ "$(j "(SELECT count(*) FROM json_each(d, '\$.\"@graph\"') WHERE json_extract(value, '\$.\"@type\"') = 'LearningResource')" "$F")" = 12 ]
q="(SELECT value FROM json_each(d, '\$.\"@graph\"') WHERE json_extract(value, '\$.identifier') = 'math-g3-fractions-quiz')"
check "names in Chinese and English" [ "$(j "(SELECT count(*) FROM json_each(json_extract($q, '\$.name')))" "$F")" = 2 ]
check "inLanguage" [ "$(j "json_extract($q, '\$.inLanguage')" "$F")" = zh ]
check "an absolute @id under --base" [ "$(j "json_extract($q, '\$.\"@id\"')" "$F")" = http://school:8080/r/math-g3-fractions-quiz/ ]
al="json_extract($q, '\$.educationalAlignment')"
check "the subject as educationalSubject" [ "$(j "(SELECT json_extract(value, '\$.targetName') FROM json_each($al) WHERE json_extract(value, '\$.alignmentType') = 'educationalSubject')" "$F")" = math ]
check "grade 3 as educationalLevel" [ "$(j "(SELECT json_extract(value, '\$.targetName') FROM json_each($al) WHERE json_extract(value, '\$.alignmentType') = 'educationalLevel')" "$F")" = "grade 3" ]
check "edition, volume and unit as a teaches alignment" [ -n "$(j "(SELECT json_extract(value, '\$.educationalFramework') FROM json_each($al) WHERE json_extract(value, '\$.alignmentType') = 'teaches')" "$F")" ]
check "the prerequisite as requires" [ "$(j "(SELECT json_extract(value, '\$.targetName') FROM json_each($al) WHERE json_extract(value, '\$.alignmentType') = 'requires')" "$F")" = math-g3-fractions-intro ]
check "files as hasPart with MIME types" [ "$(j "(SELECT count(*) FROM json_each(json_extract($q, '\$.hasPart')) WHERE json_extract(value, '\$.encodingFormat') LIKE 'text/html%')" "$F")" -ge 1 ]

# The node serves the same, a page at a time.
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/n" "$T/b" >/dev/null
serve_start "$T/n"
curl -s -D "$T/h" -o "$T/node.jsonld" "$URL/api/v1/catalog.jsonld"
check "JSON-LD content type" grep -qi "content-type: application/ld+json" "$T/h"
check "all 12 in one page" [ "$(j "json_array_length(d, '\$.\"@graph\"')" "$T/node.jsonld")" = 12 ]
check "the same resources as the hub's" [ "$(j "(SELECT group_concat(json_extract(value, '\$.identifier')) FROM json_each(d, '\$.\"@graph\"'))" "$T/node.jsonld")" = "$(j "(SELECT group_concat(json_extract(value, '\$.identifier')) FROM json_each(d, '\$.\"@graph\"'))" "$F")" ]
curl -s -D "$T/h" -o "$T/p1.jsonld" "$URL/api/v1/catalog.jsonld?limit=5"
check "paging: 5 of 12" [ "$(j "json_array_length(d, '\$.\"@graph\"')" "$T/p1.jsonld")" = 5 ]
check "a Link to the next page" grep -qi 'link: </api/v1/catalog.jsonld?offset=5&limit=5>; rel="next"' "$T/h"
check "the total" grep -qi "x-total-count: 12" "$T/h"
check "filters apply" [ "$(curl -s "$URL/api/v1/catalog.jsonld?subject=math" -o "$T/m.jsonld"; j "json_array_length(d, '\$.\"@graph\"')" "$T/m.jsonld")" = 3 ]
check "a bad limit: 400" [ "$(st "$URL/api/v1/catalog.jsonld?limit=0")" = 400 ]
serve_stop
finish
