#!/bin/bash
# The outbox, end to end: noisy weekly aggregates, feedback and a resource
# put forward travel to the hub in signed batches, by network or on USB,
# and the hub holds each record exactly once, through 100 trials of a cut
# link or a kill -9 during the upload.  Forged, unsigned, oversized and
# replayed uploads add nothing; no raw learner event or name leaves the node.
source "$(dirname "$0")/lib.sh"
TRIALS=${OUTBOX_TRIALS:-100}

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
hub_start "$T/repo"
HUBPORT=${HUB##*:}
cs node init "$T/n" --trust "$T/repo/root.json" --hub "$HUB" >/dev/null
cs node sync "$T/n" >/dev/null
cat >>"$T/n/node.conf" <<CONF
outbox.epsilon = 100
outbox.min_count = 0
outbox.batch_records = 3
sync.retries = 0
sync.backoff_ms = 10
sync.stall_timeout = 5
CONF
R=math-g3-fractions-intro
printf 'teacher-pass-1\n' >"$T/pw"
cs node user add "$T/n" "Li Laoshi" --role teacher --password-file "$T/pw" >/dev/null

# Ten consenting students used R eight days ago (a finished week).
past=$(($(date +%s) - 8 * 86400))
CISTERN_FAKE_NOW=$past serve_start "$T/n"
api() { # api JAR METHOD PATH BODY -> status
    curl -s -o "$T/out" -w '%{http_code}' -b "$T/$1.jar" -c "$T/$1.jar" -H "X-CSRF-Token: $(cat "$T/$1.csrf" 2>/dev/null)" \
        -H 'Content-Type: application/json' -X "$2" ${4:+--data-binary "$4"} "$URL$3"
}
signin() { # signin JAR BODY [join]
    curl -s -o "$T/out" -c "$T/$1.jar" -H 'Content-Type: application/json' --data-binary "$2" "$URL/api/v1/${3:-login}"
    sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p' "$T/out" >"$T/$1.csrf"
}
signin t '{"name":"Li Laoshi","password":"teacher-pass-1"}'
api t POST /api/v1/classes '{"name":"Class 1"}' >/dev/null
C=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$T/out")
CODE=$(sed -n 's/.*"code":"\([A-Z0-9]*\)".*/\1/p' "$T/out")
for i in $(seq 1 10); do
    signin "s$i" "{\"class\":\"$CODE\",\"name\":\"Pupil Number$i\",\"password\":\"12$i$i\"}" join
    sid=$(sed -n 's/.*"user":{"id":\([0-9]*\).*/\1/p' "$T/out")
    api t PUT "/api/v1/students/$sid/consent" '{"consent":true}' >/dev/null
    api "s$i" POST /api/v1/events "{\"resource\":\"$R\",\"kind\":\"open\"}" >/dev/null
    api "s$i" POST /api/v1/events "{\"resource\":\"$R\",\"kind\":\"complete\"}" >/dev/null
done
check "events were recorded" grep -q '"recorded":true' "$T/out"
api t GET "/api/v1/classes/$C/students" "" >/dev/null
LEARNERS=$(grep -o '"learner":"[0-9a-f]*"' "$T/out" | cut -d'"' -f4)
check "ten learner ids" [ "$(wc -w <<<"$LEARNERS")" = 10 ]
serve_stop
serve_start "$T/n"
signin t '{"name":"Li Laoshi","password":"teacher-pass-1"}'
check "a resource put forward for review" [ "$(api t POST /api/v1/local \
    '{"title":"Our river","subject":"science","files":[{"path":"index.html","data":"PGgxPk91ciByaXZlcjwvaDE+"}],"forward":true}')" = 201 ]
fb=0
feedback() {
    api t POST /api/v1/feedback "{\"resource\":\"$R\",\"rating\":$((fb % 5 + 1)),\"comment\":\"note $fb\"}" >/dev/null &&
        fb=$((fb + 1))
}
feedback

# USB first: a signed file, taken in by the hub.
check "export the outbox to a file" cs node export-outbox "$T/n" -o "$T/usb.outbox"
check "the file is signed" grep -q "^sig [0-9a-f]*$" "$T/usb.outbox"
out=$(cs hub import-outbox "$T/repo" "$T/usb.outbox")
check "the hub imports it ($out)" grep -q " new;" <<<"$out"
out=$(cs hub import-outbox "$T/repo" "$T/usb.outbox")
check "importing it again adds nothing ($out)" grep -q ", 0 new;" <<<"$out"
check "the resource put forward waits for review" bash -c "ls '$T/repo/contrib/'*/contrib-*/index.html"
check "... with its metadata" bash -c "grep -q 'Our river' '$T/repo/contrib/'*/contrib-*/resource.json"
check "the usage aggregate needs no names" bash -c "! grep -a -q -e Pupil -e '\"kind\":\"open\"' '$T/usb.outbox'"

# Bad uploads: 401, 413, and nothing stored.
before=$(sqlite3 "$T/repo/reports.db" "SELECT count(*) FROM records")
sed '3s/"rating":/"rating":1/' "$T/usb.outbox" >"$T/forged" || true
sed -i '3s/note 0/note X/' "$T/forged"
check "a forged batch: 401" [ "$(st --data-binary @"$T/forged" "$HUB/outbox")" = 401 ]
tail -n +3 "$T/usb.outbox" >"$T/unsigned"
check "an unsigned batch: 401" [ "$(st --data-binary @"$T/unsigned" "$HUB/outbox")" = 401 ]
head -c $((9 << 20)) /dev/zero >"$T/huge"
check "an oversized batch: 413" [ "$(st --data-binary @"$T/huge" "$HUB/outbox")" = 413 ]
check "a GET of /outbox: 405" [ "$(st "$HUB/outbox")" = 405 ]
check "a replayed batch adds nothing" grep -q '"added":0' <(curl -s --data-binary @"$T/usb.outbox" "$HUB/outbox")
check "nothing stored by them" [ "$(sqlite3 "$T/repo/reports.db" "SELECT count(*) FROM records")" = "$before" ]
check "the hub's private files are not served" [ "$(st "$HUB/reports.db")" = 404 ]

# 100 trials: a feedback record, then a sync whose upload is cut (the link
# drops after a random number of bytes from the hub) or killed at a random
# moment; the hub must end with each record exactly once.
RANDOM=7
for i in $(seq 1 "$TRIALS"); do
    feedback
    if [ $((i % 2)) = 1 ]; then
        proxy_start "$HUBPORT" --cut-after-bytes $((RANDOM % 1500 + 1)) --seed "$i"
        cs node sync "$T/n" --hub "$PX" >/dev/null 2>&1 || true
        proxy_stop
    else
        proxy_start "$HUBPORT" --rate 20000 --seed "$i"
        cs node sync "$T/n" --hub "$PX" >/dev/null 2>&1 &
        pid=$!
        sleep "0.$((RANDOM % 30))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        proxy_stop
    fi
done
# The final upload, captured byte for byte on the way out.
proxy_start "$HUBPORT" --capture-up "$T/up.bytes"
out=$(cs node sync "$T/n" --hub "$PX" 2>&1)
proxy_stop
check "a clean sync sends the rest ($out)" grep -q '"pending":0' <(cs node status "$T/n" --json)
seq_max=$(sqlite3 "$T/repo/reports.db" "SELECT max(seq) FROM records")
check "the node's acknowledgement is the hub's last record ($seq_max)" \
    grep -q "\"acked\":$seq_max" <(cs node status "$T/n" --json)
check "every record once: as many records as sequence numbers" \
    [ "$(sqlite3 "$T/repo/reports.db" "SELECT count(*) = max(seq) AND count(DISTINCT uuid) = count(*) FROM records")" = 1 ]
check "every feedback record once ($fb posted)" \
    [ "$(sqlite3 "$T/repo/reports.db" "SELECT count(*) FROM records WHERE kind = 'feedback'")" = "$fb" ]
check "the comments arrived intact" \
    [ "$(sqlite3 "$T/repo/reports.db" "SELECT count(DISTINCT json_extract(body, '$.comment')) FROM records WHERE kind = 'feedback'")" = "$fb" ]
check "the upload was captured" [ -s "$T/up.bytes" ]
for l in $LEARNERS; do
    grep -a -q "$l" "$T/up.bytes" && bad "learner id $l left the node"
done
ok
check "no names left the node" bash -c "! grep -a -q -e Pupil -e 'Li Laoshi' '$T/up.bytes'"
check "no raw events left the node" bash -c "! grep -a -q -e '\"kind\":\"open\"' -e '\"kind\":\"complete\"' '$T/up.bytes'"

dups=$(sed -n 's/.*: \([0-9]*\) records, \([0-9]*\) new.*/\1 \2/p' "$T/hub.err" | awk '$2 < $1 { n++ } END { print n + 0 }')
want=$((TRIALS / 20 > 1 ? TRIALS / 20 : 1)) # about 1 in 20 trials cuts the answer after the hub stored
check "the faults bit: $dups batches carried records again after a lost acknowledgement (want $want)" [ "$dups" -ge "$want" ]

# What the hub reports.
rep=$(cs hub reports "$T/repo" --json)
check "the node's health is reported" grep -q '"pending":' <<<"$rep"
check "the node's version is reported" [ "$(sqlite3 "$T/repo/reports.db" "SELECT json_extract(health, '$.version') FROM nodes")" = 1 ]
learners=$(sqlite3 "$T/repo/reports.db" "SELECT sum(json_extract(body, '$.learners')) FROM records WHERE kind = 'usage'")
check "usage: about ten learners used $R (noisy: $learners)" [ "${learners:-0}" -ge 8 -a "${learners:-0}" -le 12 ]
check "the usage is one week's aggregate" [ "$(sqlite3 "$T/repo/reports.db" "SELECT count(*) FROM records WHERE kind = 'usage'")" = 1 ]
check "the text report lists the contribution" grep -q "contrib-" <(cs hub reports "$T/repo")
check "the text report lists the feedback" grep -q "note 1" <(cs hub reports "$T/repo")
serve_stop
finish
