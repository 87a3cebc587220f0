#!/bin/bash
# Least privilege: started as root, the daemon listens, then becomes
# serve.user before reading anything from outside; the data directory
# becomes that user's, private (files 0600, directories 0700); root's later
# commands on it work as that user, so every file keeps one owner.
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
    echo "privilege test: SKIPPED: needs root (it checks the drop from root to serve.user)"
    exit 77
fi
id nobody >/dev/null 2>&1 || { echo "privilege test: SKIPPED: no user \"nobody\""; exit 77; }
chmod 755 "$T" # the unprivileged daemon must reach its data directory

cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v1" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b1" >/dev/null
check "a hub's repository is readable by a static web server" [ "$(stat -c %a "$T/repo/root.json")" = 644 ]
check "... its keys are not" [ "$(stat -c %a "$T/repo/keys/root.key")" = 600 ]
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/n" "$T/b1" >/dev/null
check "node files are private (catalog.db 0600)" [ "$(stat -c %a "$T/n/catalog.db")" = 600 ]
check "node directories are private (0700)" [ "$(stat -c %a "$T/n")" = 700 ]
check "node key is private" [ "$(stat -c %a "$T/n/node.key")" = 600 ]
echo "serve.user = nobody" >>"$T/n/node.conf"
serve_start "$T/n"
uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$SPID/status")
nob=$(id -u nobody)
check "the daemon runs as nobody (uids: $uid)" [ "$uid" = "$nob $nob $nob $nob" ]
check "it cannot regain root: no capabilities" grep -q "^CapEff:[[:space:]]*0000000000000000" "/proc/$SPID/status"
check "it serves" [ "$(st "$URL/api/v1/status")" = 200 ]
check "it writes its own files (people.db made as nobody)" [ "$(stat -c %U "$T/n/people.db")" = nobody ]
check "everything in DATA is nobody's now" [ -z "$(find "$T/n" ! -user nobody)" ]
check "still private" [ -z "$(find "$T/n" -type f -perm /077)" ]
serve_stop
# Root's commands on that directory work as its owner: files keep one owner.
printf 'teacher-pass-1\n' >"$T/pw"
chmod 644 "$T/pw"
check "root adds a user to nobody's node" cs node user add "$T/n" "Li Laoshi" --role teacher --password-file "$T/pw"
cs node sync "$T/n" --hub "http://127.0.0.1:1" >/dev/null 2>&1 || true
check "nothing in DATA belongs to root afterwards" [ -z "$(find "$T/n" ! -user nobody)" ]
check "status still reads it" cs node status "$T/n"
# A daemon started without serve.user on nobody's data becomes its owner too.
sed -i '/^serve.user/d' "$T/n/node.conf"
serve_start "$T/n"
check "without serve.user: the data's owner ($(awk '/^Uid:/ { print $2 }' "/proc/$SPID/status"))" \
    [ "$(awk '/^Uid:/ { print $2 }' "/proc/$SPID/status")" = "$nob" ]
serve_stop
echo "serve.user = no-such-user-here" >>"$T/n/node.conf"
: >"$T/serve.out"
"$CISTERN" node serve "$T/n" --listen 127.0.0.1:0 >"$T/serve.out" 2>"$T/serve.err" && rc=0 || rc=$?
check "an unknown serve.user is refused, clearly ($rc)" grep -q 'no user "no-such-user-here"' "$T/serve.err"
finish
