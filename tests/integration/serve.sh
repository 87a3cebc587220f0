#!/bin/bash
# The LAN server over loopback: every endpoint and status code, ranges,
# conditional requests, CSP sandbox, traversal in every spelling, bad
# requests, slow clients, OPDS, metrics, reload, --check, draining on SIGTERM.
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
cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$T/src" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/n" "$T/b" >/dev/null
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
check "catalog lists all 14" grep -q '"total":14' <<<"$(curl -s "$URL/api/v1/catalog")"
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
check "paging: total stays 14" grep -q '"total":14' <<<"$p2"
check "paging: last page has 4" [ "$(grep -o '"url":"/r/' <<<"$p2" | wc -l)" = 4 ]
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
etag=$(hdr ETag "$u")
check "ETag present" [ -n "$etag" ]
check "If-None-Match 304" [ "$(st -H "If-None-Match: $etag" "$u")" = 304 ]
check "If-None-Match other 200" [ "$(st -H 'If-None-Match: "x"' "$u")" = 200 ]
check "If-Range mismatch gives 200" [ "$(st -r 0-0 -H 'If-Range: "x"' "$u")" = 200 ]
check "If-Range match gives 206" [ "$(st -r 0-0 -H "If-Range: $etag" "$u")" = 206 ]
v=$(curl -s "$URL/api/v1/resources/science-g5-water-cycle-video" | grep -o 'water-cycle.mp4?v=[0-9a-f]*' | head -1)
check "versioned content URL is immutable" grep -q immutable <<<"$(hdr Cache-Control "$URL/r/science-g5-water-cycle-video/$v")"
check "plain content URL revalidates" [ "$(hdr Cache-Control "$u")" = no-cache ]
check "/r/id redirects to /r/id/" [ "$(hdr Location "$URL/r/math-g3-fractions-intro")" = /r/math-g3-fractions-intro/ ]
check "/r/id/ opens the entry" cmp -s <(curl -s "$URL/r/math-g3-fractions-intro/") "$T/src/math-g3-fractions-intro/index.html"
check "HTML under a CSP sandbox" grep -q "^sandbox" <<<"$(hdr Content-Security-Policy "$URL/r/math-g3-fractions-intro/")"
check "the sandbox has no allow-same-origin" bash -c "! grep -q same-origin <<<'$(hdr Content-Security-Policy "$URL/r/math-g3-fractions-intro/")'"
check "media not sandboxed (players work)" [ -z "$(hdr Content-Security-Policy "$u")" ]
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
    "/r/math-g3-fractions-intro/img/%2e/fraction-pie.png"; do
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
check "others served while a client drips" [ "$(curl -s "$URL/healthz")" = ok ]
sleep 3.5                                          # serve.timeout = 2
dropped=$(timeout 2 cat <&7 | wc -c || true)
exec 7<&-
check "slow client dropped after the timeout" [ "$dropped" -lt 200 ]
check "garbage request line gets 400" grep -q "400" <<<"$(printf 'FOO BAR\r\n\r\n' | timeout 3 bash -c "exec 8<>/dev/tcp/127.0.0.1/$PORT; cat >&8; cat <&8" | head -1)"

# OPDS.
check "OPDS root is a navigation feed" grep -q "kind=navigation" <<<"$(hdr Content-Type "$URL/opds")"
all=$(curl -s "$URL/opds/all")
check "OPDS all: 14 entries" [ "$(grep -o '<entry>' <<<"$all" | wc -l)" = 14 ]
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
m=$(curl -s "$URL/metrics")
check "metrics: requests" grep -q 'cistern_http_requests_total{route="content",code="2xx"} [1-9]' <<<"$m"
check "metrics: 4xx counted" grep -q 'cistern_http_requests_total{route="content",code="4xx"} [1-9]' <<<"$m"
check "metrics: latency histogram" grep -q 'cistern_http_request_duration_seconds_bucket{route="api",le="+Inf"}' <<<"$m"
check "metrics: catalogue version" grep -q '^cistern_catalog_version 1$' <<<"$m"
check "metrics: bytes" grep -q 'cistern_http_response_bytes_total{route="content"} [1-9]' <<<"$m"

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
check "--check accepts a good config" cs node serve "$T/n" --check
echo "serve.listen = nowhere" >>"$T/n/node.conf"
check_fails "--check refuses a bad listen address" "serve.listen\|listen address" cs node serve "$T/n" --check
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
finish
