#!/bin/bash
# Recommendations from the daemon: cold start from curriculum metadata, who
# may ask for whose list, identical histories give identical lists, the
# model learning from events, a teacher's class view, and the endpoint under
# concurrent event writes.
source "$(dirname "$0")/lib.sh"

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b1" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/n" "$T/b1" >/dev/null
echo "recommend.rebuild_interval = 1" >>"$T/n/node.conf"
printf 'teacher-pass-1\n' >"$T/pw"
cs node user add "$T/n" "Li Laoshi" --role teacher --password-file "$T/pw" >/dev/null
cs node user add "$T/n" "Chen Laoshi" --role teacher --password-file "$T/pw" >/dev/null
serve_start "$T/n"
get() { # get JAR PATH -> status, body in $T/out
    local a=(-s -o "$T/out" -w '%{http_code}')
    [ "$1" != guest ] && a+=(-b "$T/$1.jar")
    curl "${a[@]}" "$URL$2"
}
post() { # post JAR PATH BODY -> status
    curl -s -o "$T/out" -w '%{http_code}' -b "$T/$1.jar" -c "$T/$1.jar" -H "X-CSRF-Token: $(cat "$T/$1.csrf")" \
        -H 'Content-Type: application/json' -X "${4:-POST}" --data-binary "$3" "$URL$2"
}
signin() { # signin JAR BODY [login|join]
    curl -s -o "$T/out" -c "$T/$1.jar" -H 'Content-Type: application/json' --data-binary "$2" "$URL/api/v1/${3:-login}"
    sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p' "$T/out" >"$T/$1.csrf"
}
ids() { grep -o '"id":"[^"]*"' "$T/out" | cut -d'"' -f4 | tr '\n' ' '; }

for i in $(seq 1 50); do [ "$(get guest /api/v1/recommendations)" = 200 ] && break; sleep 0.1; done
check "the index is ready soon after start" [ "$(get guest /api/v1/recommendations)" = 200 ]

# Cold start: a new learner in grade 3 maths gets the unit that comes first.
get guest "/api/v1/recommendations?grade=3&subject=math&limit=5" >/dev/null
first=$(ids | cut -d' ' -f1)
check "cold start: grade 3 maths starts with the introduction ($first)" [ "$first" = math-g3-fractions-intro ]
check "every item has a reason" [ "$(grep -o '"reason":"[^"]\+"' "$T/out" | wc -l)" = "$(grep -o '"id":' "$T/out" | wc -l)" ]
check "filters hold: only maths" bash -c "! grep -o '\"id\":\"[^\"]*\"' '$T/out' | grep -v math-"
get guest "/api/v1/recommendations?after=math-g3-fractions-intro&limit=3" >/dev/null
check "after the introduction, the quiz is next ($(ids))" grep -q "math-g3-fractions-quiz" <<<"$(ids)"
check "the open resource is not recommended again" bash -c "! grep -q '\"id\":\"math-g3-fractions-intro\"' '$T/out'"
check "a bad limit: 400" [ "$(get guest "/api/v1/recommendations?limit=0")" = 400 ]
check "a bad after: 400" [ "$(get guest "/api/v1/recommendations?after=../x")" = 400 ]

# A class with three consenting students.
signin t '{"name":"Li Laoshi","password":"teacher-pass-1"}'
signin t2 '{"name":"Chen Laoshi","password":"teacher-pass-1"}'
post t /api/v1/classes '{"name":"C"}' >/dev/null
C=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$T/out")
CODE=$(sed -n 's/.*"code":"\([A-Z0-9]*\)".*/\1/p' "$T/out")
for s in a b c; do
    signin "$s" "{\"class\":\"$CODE\",\"name\":\"Student $s\",\"password\":\"12345\"}" join
    sid=$(sed -n 's/.*"user":{"id":\([0-9]*\).*/\1/p' "$T/out")
    post t "/api/v1/students/$sid/consent" '{"consent":true}' PUT >/dev/null
done
get t "/api/v1/classes/$C/students" >/dev/null
LA=$(grep -o '"name":"Student a","learner":"[0-9a-f]*"' "$T/out" | cut -d'"' -f8)
check "learner ids known" [ ${#LA} = 32 ]

# a and b do the same things (b much later); c does something else.
for s in a b; do
    post "$s" /api/v1/events '{"resource":"science-g5-water-cycle","kind":"open"}' >/dev/null
    post "$s" /api/v1/events '{"resource":"science-g5-water-cycle","kind":"complete"}' >/dev/null
done
post c /api/v1/events '{"resource":"music-g2-do-re-mi","kind":"open"}' >/dev/null
sleep 2.5 # a rebuild (recommend.rebuild_interval = 1)
get a /api/v1/recommendations >/dev/null
la=$(ids)
get b /api/v1/recommendations >/dev/null
lb=$(ids)
check "identical histories, identical lists ($la)" [ -n "$la" -a "$la" = "$lb" ]
check "the lists follow the history: water cycle video or quiz next" grep -q "science-g5-water-cycle-video" <<<"$la"
check "what was done is not pushed again" bash -c "! grep -qE \"(^| )science-g5-water-cycle( |$)\" <<<\"$la\""

# Who may see whose list.
check "a student's own list by learner id: 200" [ "$(get a "/api/v1/recommendations?learner=$LA")" = 200 ]
check "another student's: 403" [ "$(get c "/api/v1/recommendations?learner=$LA")" = 403 ]
check "a guest asking for a learner: 401" [ "$(get guest "/api/v1/recommendations?learner=$LA")" = 401 ]
check "the class's teacher: 200" [ "$(get t "/api/v1/recommendations?learner=$LA")" = 200 ]
check "another teacher: 403" [ "$(get t2 "/api/v1/recommendations?learner=$LA")" = 403 ]
check "the class view for its teacher" [ "$(get t "/api/v1/classes/$C/recommendations")" = 200 ]
check "... lists each student with items" [ "$(grep -o '"items":\[{' "$T/out" | wc -l)" = 3 ]
check "the class view for another teacher: 403" [ "$(get t2 "/api/v1/classes/$C/recommendations")" = 403 ]
check "reading lists is audited" grep -q '"read recommendations"' <(cs node learner audit "$T/n")

# The endpoint under concurrent event writes: every answer 200.
(for i in $(seq 1 150); do
    post c /api/v1/events '{"resource":"chinese-g1-ancient-poems","kind":"open"}' >/dev/null
done) &
writer=$!
bad=0
for i in $(seq 1 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/a.jar" "$URL/api/v1/recommendations?limit=5")
    [ "$code" = 200 ] || bad=$((bad + 1))
done
wait "$writer"
check "150 requests during 150 event writes: all 200 ($bad not)" [ "$bad" = 0 ]
serve_stop
check "the daemon logged its model builds" grep -q "recommendations: model of" "$T/serve.err"
finish
