#!/bin/bash
# The LAN server over loopback: every endpoint and status code, ranges,
# conditional requests, CSP sandbox for every type but passive media, the
# session cookie's scope, traversal in every spelling, bad requests, bodies
# nobody asked for, slow-drip clients and the header deadline, the
# per-client connection cap, keep-alive, OPDS, metrics (network sync and
# import), reload, --check of every daemon setting, draining on SIGTERM.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "curl missing (apt-get install curl)"; exit 1; }

# A node with the samples (v2) plus a resource with a 3 MB incompressible video.
mkdir -p "$T/src"
cp -r "$SRCROOT"/samples/v2/. "$T/src/"
mkdir -p "$T/src/big-video"
head -c 3000000 /dev/urandom >"$T/src/big-video/big.mp4"
printf '{"id":"big-video","title":{"en":"Big video"},"language":"en","type":"video","entry":"big.mp4"}\n' \
    >"$T/src/big-video/resource.json"
mkdir -p "$T/src/big-doc"
head -c 3000000 /dev/urandom >"$T/src/big-doc/big.pdf"
printf '{"id":"big-doc","title":{"en":"Big document"},"language":"en","type":"document","entry":"big.pdf"}\n' \
    >"$T/src/big-doc/resource.json"
# Types spelled oddly by a publisher (resource.files declares them), and
# renderable types that are not HTML: all but the passive media go out
# under the sandbox.
A="$T/src/active-types"
mkdir -p "$A"
printf '{"id":"active-types","title":{"en":"Odd types"},"language":"fr","type":"document","entry":"page.html"}\n' \
    >"$A/resource.json"
printf '<!doctype html><script>document.title="x"</script>\n' >"$A/page.html"
printf '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n' >"$A/pic.svg"
printf '<?xml version="1.0"?><xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>\n' >"$A/t.xsl"
printf '<?xml version="1.0"?><?xml-stylesheet href="t.xsl" type="text/xsl"?><a/>\n' >"$A/data.xml"
head -c 2000 /dev/urandom >"$A/photo.jpg"
printf 'plain words\n' >"$A/notes.txt"
printf 'cistern-files 1\npage.html\tTEXT/HTML\tpage.html\nupper.html\tText/Html; charset=UTF-8\tpage.html\npic.svg\timage/svg+xml\tpic.svg\nt.xsl\ttext/xsl\tt.xsl\ndata.xml\tText/XML\tdata.xml\nmixed\tmultipart/x-mixed-replace\tpage.html\nphoto.jpg\tIMAGE/JPEG\tphoto.jpg\nnotes.txt\ttext/plain; charset=utf-8\tnotes.txt\n' \
    >"$A/resource.files"
cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$T/src" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/n" "$T/b" >/dev/null
# A catalogue written before types were lower-cased on the way in: the
# server itself compares them without regard to case.
sqlite3 "$T/n/catalog.db" "UPDATE files SET mime = 'Text/HTML' WHERE path = 'index.html' AND
    resource = (SELECT rid FROM resources WHERE id = 'math-g3-fractions-quiz')"
printf 'admin-pass-1\n' >"$T/pw.admin"
cs node user add "$T/n" "Admin Wang" --role admin --password-file "$T/pw.admin" >/dev/null
printf 'serve.timeout = 2\nserve.max_connections_per_ip = 600\n' >>"$T/n/node.conf"
serve_start "$T/n"

# Health, UI, assets.
check "/healthz" [ "$(curl -s "$URL/healthz")" = ok ]
check "/ is HTML" grep -qi "text/html" <<<"$(hdr Content-Type "$URL/")"
page=$(curl -s "$URL/")
asset=$(grep -o '/ui/[a-z.]*?v=[0-9a-f]*' <<<"$page" | head -1)
check "UI assets carry a content version ($asset)" [ -n "$asset" ]
[ -n "$asset" ] && check "versioned asset is immutable" grep -q immutable <<<"$(hdr Cache-Control "$URL$asset")"
check "unknown UI asset 404" [ "$(st "$URL/ui/nope.js")" = 404 ]
check "unknown path 404" [ "$(st "$URL/nothing/here")" = 404 ]

# API.
ids() { grep -o '"id":"[^"]*"' | sed 's/"id":"//; s/"$//' | sort | tr '\n' ' '; }
check "catalog lists all 15" grep -q '"total":15' <<<"$(curl -s "$URL/api/v1/catalog")"
got=$(curl -s "$URL/api/v1/catalog?q=%E6%B0%B4" | ids) # 水
check "search 水 ($got)" [ "$got" = "chemistry-g9-composition-of-water science-g5-water-cycle science-g5-water-cycle-video " ]
got=$(curl -s -G --data-urlencode q=勾股 "$URL/api/v1/catalog" | ids)
check "search 勾股 ($got)" [ "$got" = "math-g8-pythagorean-quiz math-g8-pythagorean-theorem " ]
got=$(curl -s -G --data-urlencode q=勾股定 "$URL/api/v1/catalog" | ids)
check "search 勾股定 (3 characters: $got)" [ "$got" = "math-g8-pythagorean-quiz math-g8-pythagorean-theorem " ]
got=$(curl -s -G --data-urlencode q=photosynthesis "$URL/api/v1/catalog" | ids)
check "search photosynthesis ($got)" [ "$got" = "biology-g7-photosynthesis " ]
got=$(curl -s "$URL/api/v1/catalog?q=photo&prefix=1" | ids)
check "prefix search photo ($got)" [ "$got" = "biology-g7-photosynthesis " ]
got=$(curl -s "$URL/api/v1/catalog?subject=math&grade=8" | ids)
check "filters subject+grade ($got)" [ "$got" = "math-g8-pythagorean-quiz math-g8-pythagorean-theorem " ]
check "filter by type" grep -q '"total":1,' <<<"$(curl -s "$URL/api/v1/catalog?type=image")"
check "filter by language" grep -q '"total":1,' <<<"$(curl -s "$URL/api/v1/catalog?language=en&type=html")"
p2=$(curl -s "$URL/api/v1/catalog?limit=5&offset=10")
check "paging: total stays 15" grep -q '"total":15' <<<"$p2"
check "paging: last page has 5" [ "$(grep -o '"url":"/r/' <<<"$p2" | wc -l)" = 5 ]
check "limit=0 is 400" [ "$(st "$URL/api/v1/catalog?limit=0")" = 400 ]
check "limit=abc is 400" [ "$(st "$URL/api/v1/catalog?limit=abc")" = 400 ]
check "grade=99 is 400" [ "$(st "$URL/api/v1/catalog?grade=99")" = 400 ]
check "error body is JSON with error and message" grep -q '"error":"bad_request","message"' \
    <<<"$(curl -s "$URL/api/v1/catalog?limit=0")"
long=$(head -c 300 /dev/zero | tr '\0' a)
check "query over 256 bytes is 400" [ "$(st "$URL/api/v1/catalog?q=$long")" = 400 ]
check "suggest 勾股" grep -q math-g8-pythagorean-theorem <<<"$(curl -s -G --data-urlencode q=勾股 "$URL/api/v1/suggest")"
check "suggest phot" grep -q biology-g7-photosynthesis <<<"$(curl -s "$URL/api/v1/suggest?q=phot")"
r=$(curl -s "$URL/api/v1/resources/math-g3-fractions-quiz")
check "resource detail has files" grep -q '"path":"index.html"' <<<"$r"
check "resource detail has prerequisites with titles" grep -q '"prerequisites":\[{"id":"math-g3-fractions-intro","title":{' <<<"$r"
check "resource detail says cached" grep -q '"cached":true' <<<"$r"
check "unknown fields kept" grep -q '"x-local-note":"kept"' <<<"$(curl -s "$URL/api/v1/resources/english-g4-weather-words")"
check "unknown resource 404" [ "$(st "$URL/api/v1/resources/nope")" = 404 ]
check "malformed resource id 400" [ "$(st "$URL/api/v1/resources/a%20b")" = 400 ]
check "facets" grep -q '{"value":"math","count":4}' <<<"$(curl -s "$URL/api/v1/facets")"
check "status version" grep -q '"version":1' <<<"$(curl -s "$URL/api/v1/status")"
check "status has storage and sync" grep -q '"quota_bytes":0.*"sync":{' <<<"$(curl -s "$URL/api/v1/status")"
check "unknown API 404" [ "$(st "$URL/api/v1/nope")" = 404 ]
check "other API version 404" [ "$(st "$URL/api/v2/catalog")" = 404 ]
check "POST is 405" [ "$(st -X POST -d x "$URL/api/v1/catalog")" = 405 ]
check "405 says Allow" grep -q "GET, HEAD" <<<"$(hdr Allow -X DELETE "$URL/")"

# Content: full, HEAD, ranges.
f="$T/src/science-g5-water-cycle-video/water-cycle.mp4"
u="$URL/r/science-g5-water-cycle-video/water-cycle.mp4"
size=$(stat -c %s "$f")
check "GET content byte for byte" cmp -s <(curl -s "$u") "$f"
check "Content-Type video/mp4" [ "$(hdr Content-Type "$u")" = video/mp4 ]
check "Accept-Ranges" [ "$(hdr Accept-Ranges "$u")" = bytes ]
check "HEAD: length, no body" [ "$(hdr Content-Length -I "$u")" = "$size" ]
check "HEAD: empty body" [ "$(curl -s -I "$u" -o /dev/null -w '%{size_download}')" = 0 ]
rng() { # rng RANGE FROM LEN: body of a range request equals the file's bytes
    cmp -s <(curl -s -r "$1" "$u") <(tail -c +$(($2 + 1)) "$f" | head -c "$3")
}
check "first byte" rng 0-0 0 1
check "first byte is 206" [ "$(st -r 0-0 "$u")" = 206 ]
check "Content-Range" [ "$(hdr Content-Range -r 0-0 "$u")" = "bytes 0-0/$size" ]
check "last byte" rng $((size - 1))-$((size - 1)) $((size - 1)) 1
check "suffix range" rng -100 $((size - 100)) 100
check "open range" rng 1000- 1000 $((size - 1000))
check "range past the end is clipped" rng 10-99999999 10 $((size - 10))
check "range starting at the end is 416" [ "$(st -r "$size-" "$u")" = 416 ]
check "416 says the size" [ "$(hdr Content-Range -r "$size-" "$u")" = "bytes */$size" ]
check "reversed range 416" [ "$(st -r 5-2 "$u")" = 416 ]
check "multi-range 416" [ "$(st -r 0-1,3-4 "$u")" = 416 ]
check "garbage range 416" [ "$(st -H 'Range: bytes=abc' "$u")" = 416 ]
check "unknown range unit ignored" [ "$(st -H 'Range: items=0-1' "$u")" = 200 ]
big="$URL/r/big-video/big.mp4"
check "3 MB streamed byte for byte" cmp -s <(curl -s "$big") "$T/src/big-video/big.mp4"
cmp_big() { cmp -s <(curl -s -r "$1-$2" "$big") <(tail -c +$(($1 + 1)) "$T/src/big-video/big.mp4" | head -c $(($2 - $1 + 1))); }
check "range across a block boundary" cmp_big 65530 65545
check "range deep in a big file" cmp_big 2000000 2100000
# The same edge cases on the streaming path (files over 256 KiB).
bf="$T/src/big-video/big.mp4"
bsize=$(stat -c %s "$bf")
brng() { cmp -s <(curl -s -r "$1" "$big") <(tail -c +$(($2 + 1)) "$bf" | head -c "$3"); }
check "big: first byte" brng 0-0 0 1
check "big: first byte is 206 with its Content-Range" [ "$(hdr Content-Range -r 0-0 "$big")" = "bytes 0-0/$bsize" ]
check "big: last byte" brng $((bsize - 1))-$((bsize - 1)) $((bsize - 1)) 1
check "big: suffix" brng -70000 $((bsize - 70000)) 70000
check "big: suffix longer than the file is the whole file" brng -9999999 0 "$bsize"
check "big: open range" brng 2999000- 2999000 $((bsize - 2999000))
check "big: range past the end is clipped" brng 2999990-9999999 2999990 10
check "big: range beyond the end is 416" [ "$(st -r "$((bsize + 5))-" "$big")" = 416 ]
check "big: 416 says bytes */size" [ "$(hdr Content-Range -r "$bsize-$((bsize + 9))" "$big")" = "bytes */$bsize" ]
check "big: HEAD has the length" [ "$(hdr Content-Length -I "$big")" = "$bsize" ]
check "big: HEAD has no body" [ "$(curl -s -I "$big" -o /dev/null -w '%{size_download}')" = 0 ]
check "big: HEAD of a range has the range's length" [ "$(hdr Content-Length -I -r 100-199 "$big")" = 100 ]
betag=$(hdr ETag "$big")
check "big: ETag" [ -n "$betag" ]
check "big: If-None-Match 304" [ "$(st -H "If-None-Match: $betag" "$big")" = 304 ]
check "big: 304 has no body" [ "$(curl -s -H "If-None-Match: $betag" "$big" | wc -c)" = 0 ]
check "big: If-Range match gives the range" cmp -s <(curl -s -r 65536-65536 -H "If-Range: $betag" "$big") \
    <(tail -c +65537 "$bf" | head -c 1)
check "big: If-Range mismatch gives all of it" cmp -s <(curl -s -r 0-0 -H 'If-Range: "x"' "$big") "$bf"
etag=$(hdr ETag "$u")
check "ETag present" [ -n "$etag" ]
check "If-None-Match 304" [ "$(st -H "If-None-Match: $etag" "$u")" = 304 ]
check "If-None-Match other 200" [ "$(st -H 'If-None-Match: "x"' "$u")" = 200 ]
check "If-Range mismatch gives 200" [ "$(st -r 0-0 -H 'If-Range: "x"' "$u")" = 200 ]
check "If-Range match gives 206" [ "$(st -r 0-0 -H "If-Range: $etag" "$u")" = 206 ]
v=$(curl -s "$URL/api/v1/resources/science-g5-water-cycle-video" | grep -o 'water-cycle.mp4?v=[0-9a-f]*' | head -1)
check "versioned content URL is immutable" grep -q immutable <<<"$(hdr Cache-Control "$URL/r/science-g5-water-cycle-video/$v")"
check "plain content URL revalidates" [ "$(hdr Cache-Control "$u")" = no-cache ]

# The file cache: a plain GET of a small file is answered again from the
# response kept the first time; everything else still takes the long way.
fc() { curl -s "$URL/metrics" | sed -n "s/^cistern_file_cache_requests_total{result=\"$1\"} //p"; }
fp="$URL/r/math-g3-fractions-intro/index.html"
fsrc="$T/src/math-g3-fractions-intro/index.html"
fheads() { curl -s -D - -o "$T/fc.body" "$@" | tr -d '\r' | grep -v '^Date:'; }
fheads "$fp" >/dev/null
hits0=$(fc hit)
fh1=$(fheads "$fp")
cp "$T/fc.body" "$T/fc.1"
fh2=$(fheads "$fp")
check "file cache: answered from the cache ($hits0 hits before, $(fc hit) after)" [ "$(fc hit)" -ge $((hits0 + 2)) ]
check "file cache: the same bytes each time" cmp -s "$T/fc.1" "$fsrc"
check "file cache: the same bytes from the kept answer" cmp -s "$T/fc.body" "$fsrc"
check "file cache: the same headers each time" [ "$fh1" = "$fh2" ]
check "file cache: the kept answer is still sandboxed" grep -qi '^content-security-policy: sandbox' <<<"$fh2"
check "file cache: and says nosniff" grep -qi '^x-content-type-options: nosniff' <<<"$fh2"
fcb() { curl -s "$URL/metrics" | sed -n 's/^cistern_file_cache_bytes //p'; }
check "file cache: metrics count its bytes" [ "$(fcb)" -gt 0 ]
fsize=$(stat -c %s "$fsrc")
check "file cache: HEAD after it: the length" [ "$(hdr Content-Length -I "$fp")" = "$fsize" ]
check "file cache: HEAD after it: no body" [ "$(curl -s -I "$fp" -o /dev/null -w '%{size_download}')" = 0 ]
check "file cache: a range after it is 206 with its bytes" cmp -s <(curl -s -r 5-14 "$fp") <(tail -c +6 "$fsrc" | head -c 10)
fetag=$(hdr ETag "$fp")
check "file cache: If-None-Match after it: 304" [ "$(st -H "If-None-Match: $fetag" "$fp")" = 304 ]
check "file cache: the entry file by /r/id/, twice" bash -c "cmp -s <(curl -s '$URL/r/math-g3-fractions-intro/') '$fsrc' &&
    cmp -s <(curl -s '$URL/r/math-g3-fractions-intro/') '$fsrc'"
fv="$fp?v=${fetag:1:16}"
for round in 1 2; do
    check "file cache: versioned URL immutable (round $round)" grep -q immutable <<<"$(hdr Cache-Control "$fv")"
    check "file cache: plain URL no-cache (round $round)" [ "$(hdr Cache-Control "$fp")" = no-cache ]
    check "file cache: a ?v= of another object is not immutable (round $round)" \
        [ "$(hdr Cache-Control "$fp?v=0123456789abcdef")" = no-cache ]
done
check "/r/id redirects to /r/id/" [ "$(hdr Location "$URL/r/math-g3-fractions-intro")" = /r/math-g3-fractions-intro/ ]
check "/r/id/ opens the entry" cmp -s <(curl -s "$URL/r/math-g3-fractions-intro/") "$T/src/math-g3-fractions-intro/index.html"
check "HTML under a CSP sandbox" grep -q "^sandbox" <<<"$(hdr Content-Security-Policy "$URL/r/math-g3-fractions-intro/")"
check "the sandbox has no allow-same-origin" bash -c "! grep -q same-origin <<<'$(hdr Content-Security-Policy "$URL/r/math-g3-fractions-intro/")'"
check "media not sandboxed (players work)" [ -z "$(hdr Content-Security-Policy "$u")" ]
# Sandboxed unless passive: compared without regard to case, parameters aside.
sandboxed() { hdr Content-Security-Policy "$URL/r/$1" | grep -q "^sandbox"; }
for p in active-types/page.html active-types/upper.html active-types/pic.svg active-types/t.xsl \
    active-types/data.xml active-types/mixed math-g3-fractions-quiz/index.html; do
    check "$p goes out under the sandbox" sandboxed "$p"
    check "$p says nosniff" [ "$(hdr X-Content-Type-Options "$URL/r/$p")" = nosniff ]
done
check "a type declared TEXT/HTML is stored lower-case" [ "$(hdr Content-Type "$URL/r/active-types/page.html")" = text/html ]
check "its parameters keep their case" [ "$(hdr Content-Type "$URL/r/active-types/upper.html")" = "text/html; charset=UTF-8" ]
check "a catalogue's Text/HTML is sandboxed on HEAD too" bash -c "curl -s -I '$URL/r/math-g3-fractions-quiz/index.html' | grep -qi '^content-security-policy: sandbox'"
for p in active-types/photo.jpg active-types/notes.txt big-doc/big.pdf big-video/big.mp4 \
    math-g3-fractions-intro/img/fraction-pie.png; do
    check "$p is passive: no sandbox (viewers and players work)" bash -c "! curl -s -I '$URL/r/$p' | grep -qi '^content-security-policy'"
    check "$p says nosniff" [ "$(hdr X-Content-Type-Options "$URL/r/$p")" = nosniff ]
done
check "IMAGE/JPEG is served as image/jpeg" [ "$(hdr Content-Type "$URL/r/active-types/photo.jpg")" = image/jpeg ]

# The session cookie is scoped to the API: publisher content never gets it.
sc=$(curl -s -D - -o /dev/null -c "$T/admin.jar" -H 'Content-Type: application/json' \
    --data-binary '{"name":"Admin Wang","password":"admin-pass-1"}' "$URL/api/v1/login" | tr -d '\r' |
    grep -i '^set-cookie: cs_session=[0-9a-f]')
check "the session cookie says Path=/api/ ($sc)" grep -q "; Path=/api/;" <<<"$sc"
check "the session cookie is HttpOnly and SameSite=Strict" grep -q "HttpOnly; SameSite=Strict" <<<"$sc"
check "the cookie signs API requests in" grep -q '"role":"admin"' <<<"$(curl -s -b "$T/admin.jar" "$URL/api/v1/session")"
check "the cookie goes with API requests" grep -qi "^> cookie: cs_session=" \
    <(curl -sv -b "$T/admin.jar" -o /dev/null "$URL/api/v1/session" 2>&1)
check "the cookie stays home for /r/ (seen by curl)" bash -c "! curl -sv -b '$T/admin.jar' -o /dev/null \
    '$URL/r/active-types/page.html' 2>&1 | grep -qi '^> cookie:'"
check "nor for the UI" bash -c "! curl -sv -b '$T/admin.jar' -o /dev/null '$URL/' 2>&1 | grep -qi '^> cookie:'"
check "relative link in a package" [ "$(st "$URL/r/math-g3-fractions-intro/img/fraction-pie.png")" = 200 ]
check "image type" [ "$(hdr Content-Type "$URL/r/math-g3-fractions-intro/img/fraction-pie.png")" = image/png ]
check "unknown file 404" [ "$(st "$URL/r/math-g3-fractions-intro/nope.html")" = 404 ]
check "unknown resource 404" [ "$(st "$URL/r/nope/index.html")" = 404 ]

# Traversal in every spelling: never 200, never a file from outside the store.
for p in "/r/math-g3-fractions-intro/../../../etc/passwd" "/r/math-g3-fractions-intro/%2e%2e/%2e%2e/etc/passwd" \
    "/r/math-g3-fractions-intro/..%2f..%2fetc%2fpasswd" "/r/math-g3-fractions-intro//etc/passwd" \
    "/r/math-g3-fractions-intro/%2fetc%2fpasswd" "/r/math-g3-fractions-intro/..%5c..%5cetc%5cpasswd" \
    "/r/math-g3-fractions-intro/img/..%2f..%2f..%2fresource.json" "/r/..%2f..%2fetc/passwd" "/r/../etc/passwd" \
    "/r/math-g3-fractions-intro/%00index.html" "/r/%2e%2e/index.html" "/r/math-g3-fractions-intro/./index.html" \
    "/r/math-g3-fractions-intro/img/%2e/fraction-pie.png" \
    "/r/math-g3-fractions-intro/%252e%252e%252f%252e%252e%252fetc%252fpasswd" \
    "/r/math-g3-fractions-intro/%252e%252e/%252e%252e/%252e%252e/etc/passwd" \
    '/r/math-g3-fractions-intro/..\..\..\etc\passwd' '/r/math-g3-fractions-intro/img\..\index.html' \
    "/r/math-g3-fractions-intro/%2e./%2e./%2e./etc/passwd" "/r/math-g3-fractions-intro/.%2e/.%2e/.%2e/etc/passwd" \
    "/r/math-g3-fractions-intro//etc/passwd" "/r/math-g3-fractions-intro//../../etc/passwd" \
    "/r/math-g3-fractions-intro/index.html%00" "/r/math-g3-fractions-intro/index.html%00.png" \
    "/r/math-g3-fractions-intro/%00/../../../etc/passwd" "/r/math-g3-fractions-intro%00/index.html"; do
    code=$(st --path-as-is "$URL$p")
    body=$(curl -s --path-as-is "$URL$p")
    check "traversal $p refused ($code)" [ "${code:0:1}" = 4 ]
    check "traversal $p leaks nothing" bash -c "! grep -q 'root:' <<<'$body'"
done

# A resource listed but not cached: damage an object, repair drops it.
check "node verify clean" cs node verify "$T/n"
serve_stop
# Flip a byte in the middle of the video's object, found through the indexes.
obj=$(sqlite3 "$T/n/catalog.db" "SELECT hex(object) FROM files f JOIN resources r ON r.rid = f.resource WHERE r.id = 'big-video'")
read -r pk off < <(sqlite3 -separator ' ' "$T/n/store/index.db" "SELECT pack, off FROM objects WHERE id = x'$obj'")
pack=$(printf '%s/store/pack-%06d.pack' "$T/n" "$pk")
b=$(od -An -t u1 -j $((off + 1500000)) -N 1 "$pack" | tr -d ' ')
printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$pack" bs=1 seek=$((off + 1500000)) conv=notrunc status=none
check "damage is found" bash -c "! '$CISTERN' node verify '$T/n' >/dev/null 2>&1"
cs node verify "$T/n" --repair >/dev/null 2>&1 || true
check "repair leaves a clean store" cs node verify "$T/n"
serve_start "$T/n"
check "not cached: 404" [ "$(st "$URL/r/big-video/big.mp4")" = 404 ]
check "not cached: says so" grep -q "not cached" <<<"$(curl -s "$URL/r/big-video/big.mp4")"
check "not cached: API says cached false" grep -q '"cached":false' <<<"$(curl -s "$URL/api/v1/resources/big-video")"
u="$URL/r/science-g5-water-cycle-video/water-cycle.mp4"
check "other content still served" [ "$(st "$u")" = 200 ]

# Abuse: huge headers, slow clients; the server goes on serving others.
hbig=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(st -H "X-Big: $hbig" "$URL/healthz")
check "huge header refused with 4xx ($code)" [ "${code:0:1}" = 4 ]
long_url="$URL/r/$(head -c 5000 /dev/zero | tr '\0' a)/x"
code=$(st "$long_url")
check "huge URL refused with 4xx ($code)" [ "${code:0:1}" = 4 ]
exec 7<>/dev/tcp/127.0.0.1/$PORT
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&7 # never finishes its headers
check "others served while a client stalls" [ "$(curl -s "$URL/healthz")" = ok ]
rc=0
timeout 8 cat <&7 >"$T/stalled.out" || rc=$? # serve.timeout = 2: the server must close it well before 8 s
exec 7<&-
check "a stalled client's connection is closed by the server (timeout exit $rc, 124 = still open)" [ "$rc" = 0 ]
check "and it got no answer" [ ! -s "$T/stalled.out" ]
check "garbage request line gets 400" grep -q "400" <<<"$(printf 'FOO BAR\r\n\r\n' | timeout 3 bash -c "exec 8<>/dev/tcp/127.0.0.1/$PORT; cat >&8; cat <&8" | head -1)"

# Raw requests: raw.py PORT MODE prints what it saw.
#   drip:  one header byte a second, never finishing; prints "closed after N s" or "open"
#   body PATH: headers announcing 20 MB, 1 KiB of it, then waits; prints the status line or "nothing"
cat >"$T/raw.py" <<'PY'
import select, socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
if mode == "drip":
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Drip: " + b"a" * 200
    t0 = time.time()
    for b in req:
        try:
            s.send(bytes([b]))
        except OSError:
            print("closed after %d s" % (time.time() - t0)); sys.exit(0)
        r, _, _ = select.select([s], [], [], 1.0)
        if r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                print("closed after %d s" % (time.time() - t0)); sys.exit(0)
        if time.time() - t0 > 20:
            break
    print("open")
else:
    s.sendall(b"%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20000000\r\n\r\n"
              % (sys.argv[4].encode() if len(sys.argv) > 4 else b"POST", sys.argv[3].encode()) + b"x" * 1024)
    s.settimeout(5)
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    print(data.split(b"\r\n")[0].decode() if data else "nothing")
PY

# Bodies nobody takes are refused at once, before they are read.
head -c 20000000 /dev/zero >"$T/20mb"
check "20 MB POSTed to /r/: 405" [ "$(st -X POST --data-binary @"$T/20mb" "$URL/r/math-g3-fractions-intro/index.html")" = 405 ]
check "20 MB PUT to /healthz: 405" [ "$(st -X PUT --data-binary @"$T/20mb" "$URL/healthz")" = 405 ]
check "20 MB POSTed to the API: 413" [ "$(st --data-binary @"$T/20mb" "$URL/api/v1/login")" = 413 ]
check "answered before the body: POST /r/ (405)" grep -q "^HTTP/1.1 405" <<<"$(python3 "$T/raw.py" "$PORT" body /r/math-g3-fractions-intro/index.html)"
check "answered before the body: POST /api/v1/login (413)" grep -q "^HTTP/1.1 413" <<<"$(python3 "$T/raw.py" "$PORT" body /api/v1/login)"
check "answered before the body: GET with a body (413)" grep -q "^HTTP/1.1 413" <<<"$(python3 "$T/raw.py" "$PORT" body /healthz GET)"
check "answered before the body: POST /repo/batch (413)" grep -q "^HTTP/1.1 413" <<<"$(python3 "$T/raw.py" "$PORT" body /repo/batch)"
check "still serving after the bodies" [ "$(curl -s "$URL/healthz")" = ok ]

# Keep-alive: two requests, one connection.
kv=$(curl -sv "$URL/healthz" "$URL/api/v1/status" -o /dev/null -o /dev/null 2>&1)
check "keep-alive: the second request reuses the connection" grep -q "Re-using existing connection" <<<"$kv"
check "keep-alive: one connect" [ "$(grep -c "^\* Connected to" <<<"$kv")" = 1 ]

# OPDS.
check "OPDS root is a navigation feed" grep -q "kind=navigation" <<<"$(hdr Content-Type "$URL/opds")"
all=$(curl -s "$URL/opds/all")
check "OPDS all: 15 entries" [ "$(grep -o '<entry>' <<<"$all" | wc -l)" = 15 ]
check "OPDS acquisition links" grep -q 'rel="http://opds-spec.org/acquisition/open-access" href="/r/' <<<"$all"
check "OPDS search 水" [ "$(curl -s "$URL/opds/search?q=%E6%B0%B4" | grep -o '<entry>' | wc -l)" = 3 ]
check "OPDS subject math" [ "$(curl -s "$URL/opds/subject/math" | grep -o '<entry>' | wc -l)" = 4 ]
check "OPDS opensearch" grep -q 'template="/opds/search?q={searchTerms}"' <<<"$(curl -s "$URL/opds/search.xml")"
if command -v xmllint >/dev/null; then
    for f2 in /opds /opds/all /opds/subjects /opds/subject/math "/opds/search?q=water" /opds/search.xml; do
        check "OPDS $f2 is well-formed XML" bash -c "curl -s '$URL$f2' | xmllint --noout -"
    done
fi

# Metrics.
curl -s -o /dev/null "$URL/"
curl -s -o /dev/null "$URL/nothing/here"
m=$(curl -s "$URL/metrics")
check "metrics: requests" grep -q 'cistern_http_requests_total{route="content",code="2xx"} [1-9]' <<<"$m"
check "metrics: 4xx counted" grep -q 'cistern_http_requests_total{route="content",code="4xx"} [1-9]' <<<"$m"
check "metrics: latency histogram" grep -q 'cistern_http_request_duration_seconds_bucket{route="api",le="+Inf"}' <<<"$m"
check "metrics: catalogue version" grep -q '^cistern_catalog_version 1$' <<<"$m"
check "metrics: bytes" grep -q 'cistern_http_response_bytes_total{route="content"} [1-9]' <<<"$m"
for r in ui api opds health other; do
    check "metrics: bytes counted for route $r" grep -q "cistern_http_response_bytes_total{route=\"$r\"} [1-9]" <<<"$m"
done
# Sync state: USB imports and network syncs (the daemon's or `node sync`'s).
mval() { curl -s "$URL/metrics" | sed -n "s/^$1 \([0-9]*\)$/\1/p"; }
imp_t=$(mval cistern_sync_last_success_timestamp_seconds)
check "metrics: last success is the import ($imp_t)" [ "${imp_t:-0}" -gt 0 ]
check "metrics: no network sync attempted yet" [ "$(mval cistern_sync_last_attempt_timestamp_seconds)" = 0 ]
check "metrics: no error" [ "$(mval cistern_sync_error)" = 0 ]
check "metrics: sync running gauge" [ "$(mval cistern_sync_running)" = 0 ]
check "metrics: no next sync without a hub" [ "$(mval cistern_sync_next_timestamp_seconds)" = 0 ]
printf 'sync.retries = 0\nsync.backoff_ms = 10\n' >>"$T/n/node.conf"
cs node sync "$T/n" --hub http://127.0.0.1:1/ >/dev/null 2>&1 || true
check "metrics: a failed network sync is an error" [ "$(mval cistern_sync_error)" = 1 ]
att_t=$(mval cistern_sync_last_attempt_timestamp_seconds)
check "metrics: and its attempt is recorded ($att_t)" [ "${att_t:-0}" -ge "$imp_t" ]
hub_start "$T/repo"
echo "hub.url = $HUB" >>"$T/n/node.conf" # the daemon's own sync thread picks it up
for i in $(seq 1 100); do
    [ "$(mval cistern_sync_error)" = 0 ] && break
    sleep 0.2
done
check "metrics: the daemon's network sync clears the error" [ "$(mval cistern_sync_error)" = 0 ]
check "metrics: its success is the last success" [ "$(mval cistern_sync_last_success_timestamp_seconds)" -ge "$att_t" ]
check "metrics: the next sync is scheduled" [ "$(mval cistern_sync_next_timestamp_seconds)" -gt "$(date +%s)" ]
hub_stop
sed -i '/^hub.url/d' "$T/n/node.conf"

# Reload: a bad config is refused and the server keeps going; a good one applies.
cp "$T/n/node.conf" "$T/conf.good"
echo "serve.threads = many" >>"$T/n/node.conf"
kill -HUP "$SPID"
sleep 0.5
check "bad config on SIGHUP is reported" grep -q "SIGHUP: .*serve.threads" "$T/serve.err"
check "still serving after a bad reload" [ "$(curl -s "$URL/healthz")" = ok ]
cp "$T/conf.good" "$T/n/node.conf"
kill -HUP "$SPID"
sleep 0.5
check "good config reloaded" grep -q "configuration reloaded" "$T/serve.err"
# A reloaded setting takes effect: log.level = debug logs what info did not.
poke() { printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n' "$hbig" |
    timeout 3 bash -c "exec 8<>/dev/tcp/127.0.0.1/$PORT; cat >&8; cat <&8" >/dev/null 2>&1 || true; }
poke
sleep 0.3
check "no debug lines at log.level info" bash -c "! grep -q ' debug: ' '$T/serve.err'"
echo "log.level = debug" >>"$T/n/node.conf"
kill -HUP "$SPID"
sleep 0.5
poke
sleep 0.3
check "debug lines after SIGHUP to log.level = debug" grep -q ' debug: http: ' "$T/serve.err"
cp "$T/conf.good" "$T/n/node.conf"
kill -HUP "$SPID"
check "--check accepts a good config" cs node serve "$T/n" --check
printf 'sync.window = 18:00-07:00\nkeep.grades = 1-6, 8\nhub.url = https://hub.example.org/repo\n' >>"$T/n/node.conf"
check "--check accepts good sync settings" cs node serve "$T/n" --check
cp "$T/conf.good" "$T/n/node.conf"
bad_conf() { # bad_conf "LINE" "expected message part"
    cp "$T/conf.good" "$T/n/node.conf"
    echo "$1" >>"$T/n/node.conf"
    check_fails "--check refuses $1" "$2" cs node serve "$T/n" --check
}
bad_conf "serve.listen = nowhere" "serve.listen\|listen address"
bad_conf "sync.window = 18:00-7" "sync.window"
bad_conf "sync.window = evenings" "sync.window"
bad_conf "hub.url = hub.example.org" "hub.url"
bad_conf "hub.url = ftp://hub.example.org/" "hub.url"
bad_conf "sync.interval = soon" "sync.interval"
bad_conf "sync.interval = 0" "sync.interval"
bad_conf "sync.max_rate = fast" "sync.max_rate"
bad_conf "sync.retries = 1000" "sync.retries"
bad_conf "keep.grades = first" "keep.grades"
bad_conf "storage.quota = lots" "storage.quota"
bad_conf "serve.header_timeout = 0" "serve.header_timeout"
bad_conf "serve.search_cache = maybe" "serve.search_cache"
bad_conf "serve.file_cache = lots" "serve.file_cache"
for good in "serve.file_cache = 0" "serve.file_cache = 64M"; do
    cp "$T/conf.good" "$T/n/node.conf"
    echo "$good" >>"$T/n/node.conf"
    check "--check accepts $good" cs node serve "$T/n" --check
done
bad_conf "serve.file_cache = 2G" "serve.file_cache"
bad_conf "recommend.rebuild_interval = 0" "recommend.rebuild_interval"
bad_conf "outbox.epsilon = 0" "outbox.epsilon"
bad_conf "outbox.max_resources = 0" "outbox.max_resources"
bad_conf "outbox.min_count = many" "outbox.min_count"
bad_conf "outbox.batch_records = 0" "outbox.batch_records"
cp "$T/conf.good" "$T/n/node.conf"

# SIGTERM drains: a download in progress completes, then the server exits 0.
curl -s --limit-rate 1M "$URL/r/big-doc/big.pdf" -o "$T/slow.out" &
cpid=$!
sleep 0.3
kill -TERM "$SPID"
wait "$cpid" || true
check "download in flight completed during drain" [ "$(stat -c %s "$T/slow.out")" = 3000000 ]
rc=0
wait "$SPID" || rc=$?
check "server exited 0 after draining" [ "$rc" = 0 ]
check "no longer listening" bash -c "! curl -s -m 2 '$URL/healthz' >/dev/null"

# Slow drip: one header byte a second keeps MHD's inactivity timeout
# (serve.timeout = 30) happy forever; the header deadline cuts it.
drip_cut() { # drip_cut LABEL URL DEADLINE: a client dripping at URL is cut within 3 x DEADLINE
    local label=$1 url=$2 deadline=$3 dpid drip secs
    python3 "$T/raw.py" "${url##*:}" drip >"$T/drip.out" &
    dpid=$!
    sleep 1
    check "${label}others served while a client drips" [ "$(curl -s "$url/healthz")" = ok ]
    wait "$dpid" || true
    drip=$(cat "$T/drip.out")
    secs=$(sed -n 's/^closed after \([0-9]*\) s$/\1/p' <<<"$drip")
    check "${label}a dripping client is cut by $deadline ($drip)" [ -n "$secs" ]
    check "${label}within 3 x the deadline ($secs s)" [ "${secs:-99}" -lt 9 ]
}
printf 'serve.timeout = 30\nserve.header_timeout = 3\n' >>"$T/n/node.conf"
serve_start "$T/n"
drip_cut "" "$URL" "serve.header_timeout = 3"
check "metrics count it" grep -q '^cistern_http_header_timeouts_total [1-9]' <<<"$(curl -s "$URL/metrics")"
serve_stop
# The hub server has the same deadline (hub serve --header-timeout).
hub_start "$T/repo" --header-timeout 3
drip_cut "hub: " "$HUB" "--header-timeout 3"
check "hub: keep-alive still serves a second request" \
    [ "$(curl -s "$HUB/healthz" "$HUB/healthz")" = "ok
ok" ]
hub_stop
check_usage "hub serve --header-timeout 0 is refused" "header-timeout" "$CISTERN" hub serve "$T/repo" --header-timeout 0

# Without the file cache (serve.file_cache = 0) small files take the long
# way every time; nothing is kept, nothing leaks (the ASan build's leak
# check runs when the server exits).
cp "$T/conf.good" "$T/n/node.conf"
echo "serve.file_cache = 0" >>"$T/n/node.conf"
serve_start "$T/n"
for i in 1 2 3; do
    check "file cache off: the page, time $i" cmp -s <(curl -s "$URL/r/math-g3-fractions-intro/index.html") \
        "$T/src/math-g3-fractions-intro/index.html"
done
check "file cache off: nothing answered from it" [ "$(fc hit)" = 0 ]
check "file cache off: it holds nothing" [ "$(fcb)" = 0 ]
serve_stop

# Connections per client: the cap's extra connection is refused, another
# address is still served.
cp "$T/conf.good" "$T/n/node.conf"
printf 'serve.max_connections_per_ip = 3\nserve.header_timeout = 60\nserve.timeout = 60\n' >>"$T/n/node.conf"
serve_start "$T/n"
exec 4<>/dev/tcp/127.0.0.1/$PORT 5<>/dev/tcp/127.0.0.1/$PORT 6<>/dev/tcp/127.0.0.1/$PORT
sleep 0.3
code=$(st -m 5 "$URL/healthz" || true)
check "over the per-client cap: refused ($code)" [ "$code" = 000 ]
check "another address is served" [ "$(curl -s -m 5 --interface 127.0.0.2 "$URL/healthz")" = ok ]
exec 4<&- 5<&- 6<&-
for i in $(seq 1 25); do
    [ "$(curl -s -m 5 "$URL/healthz")" = ok ] && break
    sleep 0.2
done
check "served again once its connections close" [ "$(curl -s -m 5 "$URL/healthz")" = ok ]
serve_stop
finish
