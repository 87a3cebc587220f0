#!/bin/bash
# `cistern recommend eval / audit / convert-assist` end to end: a generated
# log whose answers are known, --json output, bad input, and (when
# ../shared/corpora is beside the checkout) ASSISTments 2009 next-new with the
# blend at HR@10 >= 0.80.  Exits 77 after the generated checks when the
# corpus is absent.
source "$(dirname "$0")/lib.sh"

# A strict sequence everyone follows: training learners go all the way,
# evaluated learners stop anywhere.  The next step is always the answer.
{
    echo "learner,item,ts"
    for l in 1 2 3; do for j in $(seq 0 9); do echo "t$l,step-$j,$((1000 + j))"; done; done
} >"$T/train.csv"
{
    echo "learner,item,ts,score"
    for l in $(seq 1 12); do
        n=$((2 + l % 8))
        for j in $(seq 0 $((n - 1))); do echo "e$l,step-$j,$((2000 + j)),"; done
    done
} >"$T/seq.csv"
out=$(cs recommend eval --train "$T/train.csv" --interactions "$T/seq.csv" --protocol next-new --k 1 --json)
check "--json is one line" [ "$(wc -l <<<"$out")" = 1 ]
check "--json is an object" grep -q '^{.*}$' <<<"$out"
for m in blend popular transitions itemknn ease; do
    check "--json has $m with hr, ndcg, recall, coverage" \
        grep -q "\"$m\":{\"hr\":[0-9.]*,\"ndcg\":[0-9.]*,\"recall\":[0-9.]*,\"coverage\":[0-9.]*" <<<"$out"
done
check "strict sequence: transitions HR@1 = 1" grep -q '"transitions":{"hr":1.000000,"ndcg":1.000000' <<<"$out"
check "strict sequence: 12 learners evaluated" grep -q '"transitions":{[^}]*"cases":12}' <<<"$out"
out=$(cs recommend eval --train "$T/train.csv" --interactions "$T/seq.csv" --protocol leave-last-out --k 3)
check "text output has a row per method" [ "$(grep -cE '^(blend|popular|transitions|itemknn|ease) ' <<<"$out")" = 5 ]
# Deterministic: the same run twice prints the same bytes.
a=$(cs recommend eval --interactions "$T/seq.csv" --protocol next-new --json)
b=$(cs recommend eval --interactions "$T/seq.csv" --protocol next-new --json)
check "same input, same output" [ "$a" = "$b" ]

# Bad input: one line naming the problem, non-zero exit.
printf 'learner,item,ts\na,b,1\na,c,soon\n' >"$T/badts.csv"
check_fails "bad ts" "badts.csv:3: ts is not an integer" cs recommend eval --interactions "$T/badts.csv" --protocol next-new
printf 'user,item,when\n' >"$T/badhdr.csv"
check_fails "bad header" "badhdr.csv:1: header" cs recommend eval --interactions "$T/badhdr.csv" --protocol next-new
{ echo "learner,item,ts"; printf 'a,%05000d,1\n' 1; } >"$T/long.csv"
check_fails "long line" "long.csv:2: line longer" cs recommend eval --interactions "$T/long.csv" --protocol next-new
check_fails "missing file" "nope.csv" cs recommend eval --interactions "$T/nope.csv" --protocol next-new
check_usage "no protocol" "--protocol" cs recommend eval --interactions "$T/seq.csv"
check_usage "bad protocol" "next-new or leave-last-out" cs recommend eval --interactions "$T/seq.csv" --protocol random
check_usage "bad k" "--k" cs recommend eval --interactions "$T/seq.csv" --protocol next-new --k 0
printf 'learner,item,ts\na,b,1\n' >"$T/one.csv"
check_fails "nothing to hold out" "no learner has more than 1" cs recommend eval --interactions "$T/one.csv" --protocol next-new
rc=0
cs recommend eval --interactions "$T/seq.csv" --protocol nope >/dev/null 2>&1 || rc=$?
check "usage errors exit 2 ($rc)" [ "$rc" = 2 ]
check "eval --help" cs recommend eval --help
check "audit --help" cs recommend audit --help
check "convert-assist --help" cs recommend convert-assist --help

# Audit: without groups it says so and exits 2; with them, per-group rows.
rc=0
msg=$(cs recommend audit --interactions "$T/seq.csv" 2>&1) || rc=$?
check "audit without --groups exits 2 ($rc)" [ "$rc" = 2 ]
check "audit without --groups says why" grep -q "no group labels" <<<"$msg"
{
    echo "learner,group"
    for l in $(seq 1 12); do echo "e$l,$([ $((l % 2)) = 0 ] && echo even || echo odd)"; done
} >"$T/groups.csv"
out=$(cs recommend audit --train "$T/train.csv" --interactions "$T/seq.csv" --groups "$T/groups.csv" --json)
check "audit: group even" grep -q '"even":{"learners":6,"hr":[0-9.]*,"ndcg":[0-9.]*,"calibration_kl":[0-9.]*' <<<"$out"
check "audit: group odd" grep -q '"odd":{"learners":6,"hr":[0-9.]*,"ndcg":[0-9.]*,"calibration_kl":[0-9.]*' <<<"$out"
check "audit: exposure by popularity tier" grep -q '"exposure":{"head":[0-9.]*,"tail":[0-9.]*}' <<<"$out"
check "audit text" cs recommend audit --train "$T/train.csv" --interactions "$T/seq.csv" --groups "$T/groups.csv"

# The ASSISTments converter on a small file.
printf '3\n1,2,2\n0,1,1\n\n2\n5,1\n1,1\n' >"$T/tiny.txt"
check "convert-assist" cs recommend convert-assist "$T/tiny.txt" --prefix x- -o "$T/tiny.csv"
check "converted rows" [ "$(cat "$T/tiny.csv")" = "$(printf 'learner,item,ts,score\nx-1,skill-1,0,0\nx-1,skill-2,1,1\nx-1,skill-2,2,1\nx-2,skill-5,0,1\nx-2,skill-1,1,1')" ]
printf '3\n1,2\n0,1,1\n' >"$T/bad.txt"
check_fails "convert-assist: wrong count" "bad.txt:2: expected 3" cs recommend convert-assist "$T/bad.txt" -o "$T/bad.csv"
check "no output left behind" [ ! -e "$T/bad.csv" ]

C="$SRCROOT/../shared/corpora/learning/assist2009"
if [ ! -f "$C/assist2009_updated_train.csv" ]; then
    finish || exit 1
    echo "SKIP (assist2009 part): $C not found (the shared corpora are not beside this checkout)"
    exit 77
fi
cs recommend convert-assist "$C/assist2009_updated_train.csv" --prefix train- -o "$T/atrain.csv" 2>/dev/null
cs recommend convert-assist "$C/assist2009_updated_test.csv" --prefix test- -o "$T/atest.csv" 2>/dev/null
out=$(cs recommend eval --train "$T/atrain.csv" --interactions "$T/atest.csv" --protocol next-new --k 10 --json)
echo "assist2009 next-new HR@10: $(sed 's/,"ndcg[^}]*}/}/g' <<<"$out")"
hr=$(sed -n 's/.*"blend":{"hr":\([0-9.]*\).*/\1/p' <<<"$out")
check "assist2009 next-new: blend HR@10 $hr >= 0.80" awk -v h="$hr" 'BEGIN { exit !(h >= 0.80) }'
finish
