#!/bin/bash
# Accounts, roles and learner data over HTTP against the real daemon: the role
# matrix (every endpoint x every role), CSRF, sign-in rate limits, session
# expiry, names encrypted at rest, consent, retention purge, export and
# delete, and injection strings kept as text.
source "$(dirname "$0")/lib.sh"

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b1" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/n" "$T/b1" >/dev/null
R=math-g3-fractions-intro
printf 'admin-pass-1\n' >"$T/pw.admin"
printf 'teacher-pass-1\n' >"$T/pw.t1"
printf 'teacher-pass-2\n' >"$T/pw.t2"
check "add an admin" cs node user add "$T/n" "Admin Wang" --role admin --password-file "$T/pw.admin"
check "add a teacher" cs node user add "$T/n" "Li Laoshi" --role teacher --password-file "$T/pw.t1"
check "add a second teacher" cs node user add "$T/n" "Chen Laoshi" --role teacher --password-file "$T/pw.t2"
check_fails "a taken name is refused" "taken" cs node user add "$T/n" "li laoshi" --role teacher --password-file "$T/pw.t2"
check_fails "a short password is refused" "8 to" cs node user add "$T/n" "Short" --role teacher --password-file <(echo abc)
check_fails "students are not made on the command line" "teacher or admin" \
    cs node user add "$T/n" "Kid" --role student --password-file "$T/pw.t1"
check "user list shows the teacher" grep -q "Li Laoshi" <<<"$(cs node user list "$T/n")"
serve_start "$T/n"

# JSON requests with a cookie jar and the session's CSRF token.
# req JAR METHOD PATH [BODY] -> status; the body goes to $T/out
req() {
    local jar=$1 m=$2 path=$3 body=${4:-}
    local args=(-s -o "$T/out" -w '%{http_code}' -X "$m" -H 'Content-Type: application/json')
    if [ "$jar" != guest ]; then
        args+=(-b "$T/$jar.jar" -c "$T/$jar.jar" -H "X-CSRF-Token: $(cat "$T/$jar.csrf")")
    fi
    [ -n "$body" ] && args+=(--data-binary "$body")
    curl "${args[@]}" "$URL$path"
}
jfield() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$T/out" | head -1; }
login() { # login JAR BODY
    : >"$T/$1.csrf"
    local s
    s=$(curl -s -o "$T/out" -w '%{http_code}' -c "$T/$1.jar" -H 'Content-Type: application/json' \
        --data-binary "$2" "$URL/api/v1/login")
    jfield csrf >"$T/$1.csrf"
    echo "$s"
}

check "admin signs in" [ "$(login admin '{"name":"Admin Wang","password":"admin-pass-1"}')" = 200 ]
check "the cookie is HttpOnly and SameSite=Strict" grep -q "HttpOnly" <(curl -s -D - -o /dev/null \
    -H 'Content-Type: application/json' --data-binary '{"name":"Li Laoshi","password":"teacher-pass-1"}' \
    "$URL/api/v1/login" | grep -i "set-cookie" | grep -i "samesite=strict")
check "teacher signs in" [ "$(login t1 '{"name":"li laoshi","password":"teacher-pass-1"}')" = 200 ]
check "second teacher signs in" [ "$(login t2 '{"name":"Chen Laoshi","password":"teacher-pass-2"}')" = 200 ]
check "wrong password: 401" [ "$(login x '{"name":"Li Laoshi","password":"wrong-password"}')" = 401 ]
check "unknown name: 401, same answer" [ "$(login x '{"name":"Nobody","password":"wrong-password"}')" = 401 ]

# A class; a student joins with its code (an injection string as the name).
check "teacher makes a class" [ "$(req t1 POST /api/v1/classes '{"name":"三年级二班 <b>x</b>"}')" = 201 ]
C1=$(jfield id)
CODE=$(jfield code)
check "the class has a 6-character code" [ ${#CODE} = 6 ]
EVIL='<img src=x onerror=alert(1)>'
: >"$T/s1.csrf"
st1=$(curl -s -o "$T/out" -w '%{http_code}' -c "$T/s1.jar" -H 'Content-Type: application/json' \
    --data-binary "{\"class\":\"$CODE\",\"name\":\"$EVIL\",\"password\":\"cat-sun-boat\"}" "$URL/api/v1/join")
jfield csrf >"$T/s1.csrf"
check "a student joins by class code ($st1)" [ "$st1" = 201 ]
S1=$(sed -n 's/.*"user":{"id":\([0-9]*\).*/\1/p' "$T/out")
check "the name comes back as the same text" grep -qF '"name":"<img src=x onerror=alert(1)>"' "$T/out"
: >"$T/s2.csrf"
curl -s -o /dev/null -c "$T/s2.jar" -H 'Content-Type: application/json' \
    --data-binary "{\"class\":\"$CODE\",\"name\":\"Zhang Xiaoming\",\"password\":\"4321\"}" "$URL/api/v1/join"
check "the same name twice in a class: 409" [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "{\"class\":\"$CODE\",\"name\":\"zhang xiaoming\",\"password\":\"9999\"}" "$URL/api/v1/join")" = 409 ]
check "an unknown class code: 404" [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary '{"class":"ZZZZZZ","name":"Kid","password":"1234"}' "$URL/api/v1/join")" = 404 ]
check "a student signs in with class code, name and PIN" \
    [ "$(login s2 "{\"class\":\"$CODE\",\"name\":\"Zhang Xiaoming\",\"password\":\"4321\"}")" = 200 ]
S2=$(sed -n 's/.*"user":{"id":\([0-9]*\).*/\1/p' "$T/out")
check "a student's PIN does not work as a staff sign-in" \
    [ "$(login x '{"name":"Zhang Xiaoming","password":"4321"}')" = 401 ]
check "teacher makes a lesson" [ "$(req t1 POST /api/v1/classes/$C1/lessons "{\"title\":\"分数\",\"resources\":[\"$R\"]}")" = 201 ]

# The role matrix: METHOD PATH BODY, then the status for guest, student,
# the class's teacher, another teacher and the admin.
N=0
matrix() {
    local m=$1 path=$2 body=$3
    shift 3
    local who want got
    for who in guest s2 t1 t2 admin; do
        want=$1
        shift
        N=$((N + 1))
        # a fresh name per call where one is created
        got=$(req "$who" "$m" "$path" "${body//@N@/$N}")
        if [ "$got" = "$want" ]; then ok; else bad "$m $path as $who: $got, expected $want ($(head -c 200 "$T/out"))"; fi
    done
}
matrix GET /api/v1/session "" 200 200 200 200 200
matrix GET /api/v1/classes "" 401 200 200 200 200
matrix GET /api/v1/classes/$C1/students "" 401 403 200 403 200
matrix GET /api/v1/classes/$C1/lessons "" 401 200 200 403 200
matrix GET /api/v1/classes/$C1/report "" 401 403 200 403 200
matrix GET /api/v1/classes/99999/report "" 401 403 404 404 404
matrix GET /api/v1/users "" 401 403 403 403 200
matrix GET /api/v1/settings "" 401 403 403 403 200
matrix POST /api/v1/classes '{"name":"class @N@"}' 401 403 201 201 201
matrix POST /api/v1/classes/$C1/lessons "{\"title\":\"l @N@\",\"resources\":[\"$R\"]}" 401 403 201 403 201
matrix PUT /api/v1/students/$S2/consent '{"consent":true}' 401 403 200 403 200
matrix POST /api/v1/requests "{\"resource\":\"$R\"}" 401 403 200 200 200
matrix POST /api/v1/feedback "{\"resource\":\"$R\",\"rating\":4,\"comment\":\"<script>x</script> @N@\"}" 401 403 201 201 201
matrix POST /api/v1/events "{\"resource\":\"$R\",\"kind\":\"open\"}" 202 202 202 202 202
matrix POST /api/v1/local '{"title":"my lesson @N@","files":[{"path":"index.html","data":"PGgxPmhpPC9oMT4="}]}' \
    401 403 201 201 201
matrix POST /api/v1/users '{"name":"teacher @N@","password":"long-enough-1","role":"teacher"}' 401 403 403 403 201
matrix PUT /api/v1/settings '{"sync.interval":"7200"}' 401 403 403 403 200
matrix DELETE /api/v1/lessons/99999 "" 401 403 404 404 404
matrix DELETE /api/v1/users/99999 "" 401 403 403 403 404
matrix DELETE /api/v1/students/99999 "" 401 403 404 404 404
matrix POST /api/v1/nothing-here '{}' 404 404 404 404 404
check "the whole matrix ran ($N cases)" [ "$N" -ge 100 ]

# A local resource: stored, catalogued as local, served, searchable.
curl -s "$URL/api/v1/catalog?q=%E6%B2%B3%E6%B5%81" >/dev/null # a cached answer, a prepared search
check "teacher uploads a local resource" [ "$(req t1 POST /api/v1/local \
    '{"title":"河流观察","subject":"science","grades":[4],"files":[{"path":"index.html","data":"PGgxPuays+a1gTwvaDE+"},{"path":"a/b.txt","data":"aGk="}],"entry":"index.html"}')" = 201 ]
LID=$(jfield id)
check "its id is local-…" grep -q '^local-[0-9a-f]\{16\}$' <<<"$LID"
check "its entry is served" grep -q "<h1>" <(curl -s "$URL/r/$LID/")
check "a sub-folder file is served" [ "$(curl -s "$URL/r/$LID/a/b.txt")" = hi ]
check "it is in the catalogue at once, marked local" grep -q '"local":true' <(curl -s "$URL/api/v1/catalog?q=%E6%B2%B3%E6%B5%81")
check "other searches still answer" [ "$(st "$URL/api/v1/catalog?q=toad")" = 200 ]
check "a path escaping the resource: 400" [ "$(req t1 POST /api/v1/local '{"title":"x","files":[{"path":"../x","data":"aGk="}]}')" = 400 ]
check "bad base64: 400" [ "$(req t1 POST /api/v1/local '{"title":"x","files":[{"path":"x.txt","data":"!!!"}]}')" = 400 ]
check "an entry not among the files: 400" [ "$(req t1 POST /api/v1/local '{"title":"x","entry":"y.html","files":[{"path":"x.txt","data":"aGk="}]}')" = 400 ]

# CSRF: a signed-in state change needs the session's token and a same-host Origin.
nocsrf=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/t1.jar" -H 'Content-Type: application/json' \
    --data-binary '{"name":"c"}' "$URL/api/v1/classes")
check "no X-CSRF-Token: 403 ($nocsrf)" [ "$nocsrf" = 403 ]
check "a wrong X-CSRF-Token: 403" [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/t1.jar" -H 'X-CSRF-Token: 00' \
    -H 'Content-Type: application/json' --data-binary '{"name":"c"}' "$URL/api/v1/classes")" = 403 ]
check "a foreign Origin: 403" [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/t1.jar" \
    -H "X-CSRF-Token: $(cat "$T/t1.csrf")" -H 'Origin: http://evil.example' -H 'Content-Type: application/json' \
    --data-binary '{"name":"c"}' "$URL/api/v1/classes")" = 403 ]
check "sandboxed content (Origin: null): 403" [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/t1.jar" \
    -H "X-CSRF-Token: $(cat "$T/t1.csrf")" -H 'Origin: null' -H 'Content-Type: application/json' \
    --data-binary '{"name":"c"}' "$URL/api/v1/classes")" = 403 ]
check "the right token and this host's Origin: 201" [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/t1.jar" \
    -H "X-CSRF-Token: $(cat "$T/t1.csrf")" -H "Origin: $URL" -H 'Content-Type: application/json' \
    --data-binary '{"name":"c"}' "$URL/api/v1/classes")" = 201 ]
check "a login from a foreign Origin: 403" [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example' \
    -H 'Content-Type: application/json' --data-binary '{"name":"Li Laoshi","password":"teacher-pass-1"}' \
    "$URL/api/v1/login")" = 403 ]
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
check "a body over 64 KiB: 413" [ "$(req t1 POST /api/v1/classes "{\"name\":\"$big\"}")" = 413 ]
check "a body that is not JSON: 400" [ "$(req t1 POST /api/v1/classes 'not json')" = 400 ]

check "a setting back to its default (empty)" [ "$(req admin PUT /api/v1/settings '{"sync.interval":""}')" = 200 ]
check "... is gone from node.conf" bash -c "! grep -q '^sync.interval' '$T/n/node.conf'"
check "a malformed setting: 400" [ "$(req admin PUT /api/v1/settings '{"sync.interval":"soon"}')" = 400 ]
check "... leaves node.conf as it was" bash -c "! grep -q 'soon' '$T/n/node.conf'"

# Consent: without it nothing is recorded; with it, events count in the report.
check "a student without consent: not recorded" [ "$(req s1 POST /api/v1/events "{\"resource\":\"$R\",\"kind\":\"open\"}")" = 202 ]
check "... says so" grep -q '"recorded":false' "$T/out"
check "a consenting student: recorded" [ "$(req s2 POST /api/v1/events "{\"resource\":\"$R\",\"kind\":\"complete\"}")" = 202 ]
check "... says so" grep -q '"recorded":true' "$T/out"
check "an event for an unknown resource: 404" [ "$(req s2 POST /api/v1/events '{"resource":"nope","kind":"open"}')" = 404 ]
check "an event value out of range: 400" [ "$(req s2 POST /api/v1/events "{\"resource\":\"$R\",\"kind\":\"score\",\"value\":7}")" = 400 ]
req t1 GET /api/v1/classes/$C1/report >/dev/null
check "the report counts, never names" grep -q "\"id\":\"$R\",\"opened\":1,\"completed\":1" <(tr -d ' ' <"$T/out")
check "the report has no learner ids or names" bash -c "! grep -q -e learner -e Xiaoming '$T/out'"
req t1 GET /api/v1/classes/$C1/students >/dev/null
LEARNER=$(grep -o '"learner":"[0-9a-f]*","consent":true' "$T/out" | sed 's/"learner":"\([0-9a-f]*\)".*/\1/')
check "the student list shows the consenting student's learner id" [ ${#LEARNER} = 32 ]

# Status polled all day (a dashboard) leaks nothing: people.db is opened per
# status and closed again (a regression: it was left open).
fd0=$(ls "/proc/$SPID/fd" | wc -l)
for i in $(seq 1 40); do curl -s -o /dev/null "$URL/api/v1/status"; done
fd1=$(ls "/proc/$SPID/fd" | wc -l)
check "40 status requests leave no files open ($fd0, then $fd1)" [ $((fd1 - fd0)) -le 3 ]

# Rate limits: 5 failures for a name, then 429 even with the right password.
for i in 1 2 3 4 5; do login x '{"name":"Chen Laoshi","password":"wrong-wrong"}' >/dev/null; done
check "sign-in attempts are rate limited: 429" [ "$(login x '{"name":"Chen Laoshi","password":"teacher-pass-2"}')" = 429 ]

# Encryption at rest: names appear nowhere in the database files.
serve_stop
check "people.db exists" [ -s "$T/n/people.db" ]
for name in Xiaoming "Li Laoshi" "Admin Wang" "onerror"; do
    check "\"$name\" is not findable in the database files" bash -c "! cat '$T/n/'people.db* | grep -a -q '$name'"
done
check "secret.key is 0600" [ "$(stat -c %a "$T/n/secret.key")" = 600 ]
check "node.key is 0600" [ "$(stat -c %a "$T/n/node.key")" = 600 ]
check "people.db is 0600" [ "$(stat -c %a "$T/n/people.db")" = 600 ]

# Export, audit, delete.
check "export a learner's data" grep -q "Zhang Xiaoming" <(cs node learner export "$T/n" "$LEARNER")
check "the export has the event" grep -q '"kind": "complete"' <(cs node learner export "$T/n" "$LEARNER")
check "reads of learner data are audited" grep -q '"action": "read names"' <(cs node learner audit "$T/n")
check "exports are audited" grep -q "\"subject\": \"learner:$LEARNER\"" <(cs node learner audit "$T/n")

# Retention: 400 days later the events are gone.
later=$(($(date +%s) + 400 * 86400))
out=$(CISTERN_FAKE_NOW=$later cs node learner purge "$T/n")
check "purge after the retention period removes the events ($out)" grep -q "^[1-9][0-9]* learner events" <<<"$out"
check "the export has no events left" grep -q '"events": \[\]' <(cs node learner export "$T/n" "$LEARNER")
check "delete a learner" cs node learner delete "$T/n" "$LEARNER"
check_fails "a deleted learner is gone" "no such user" cs node learner export "$T/n" "$LEARNER"

# Session expiry: session.idle seconds without use end a session.
echo "session.idle = 2" >>"$T/n/node.conf"
serve_start "$T/n"
check "sign in again" [ "$(login t1 '{"name":"Li Laoshi","password":"teacher-pass-1"}')" = 200 ]
check "the session works" [ "$(req t1 GET /api/v1/classes)" = 200 ]
sleep 3.2
check "after session.idle it has ended: 401" [ "$(req t1 GET /api/v1/classes)" = 401 ]
req t1 GET /api/v1/session >/dev/null
check "and the session endpoint says guest" grep -q '"role":"guest"' "$T/out"
serve_stop
finish
