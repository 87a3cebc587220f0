#!/bin/bash
# 500 concurrent connections for 10 s against pages, content, search and
# ranges: zero socket errors and zero error responses.  An error count, never
# a timing assertion.
source "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || { echo "wrk missing (apt-get install wrk)"; exit 1; }
ulimit -n 8192 2>/dev/null || true
cs hub init "$T/repo" >/dev/null
cs hub publish "$T/repo" "$SRCROOT/samples/v2" >/dev/null
cs hub bundle "$T/repo" --since 0 -o "$T/b" >/dev/null
cs node init "$T/n" --trust "$T/repo/root.json" >/dev/null
cs node import "$T/n" "$T/b" >/dev/null
echo "serve.max_connections_per_ip = 1000" >>"$T/n/node.conf"
serve_start "$T/n"
cat >"$T/mix.lua" <<'LUA'
local paths = {"/r/math-g3-fractions-intro/", "/r/math-g3-fractions-intro/img/fraction-pie.png",
  "/api/v1/catalog?q=%E6%B0%B4", "/api/v1/catalog?q=fraction", "/api/v1/suggest?q=phot",
  "/r/science-g5-water-cycle-video/water-cycle.mp4", "/api/v1/resources/math-g3-fractions-quiz", "/"}
local i = 0
request = function()
  i = i + 1
  local p = paths[(i % #paths) + 1]
  if i % 5 == 0 then
    return wrk.format("GET", "/r/science-g5-water-cycle-video/water-cycle.mp4", {Range = "bytes=100-9999"})
  end
  return wrk.format("GET", p)
end
LUA
out=$(wrk -t2 -c500 -d10s --timeout 10s -s "$T/mix.lua" "$URL" 2>&1)
echo "$out" | sed 's/^/  wrk: /'
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
check "requests were made ($reqs)" [ "${reqs:-0}" -gt 1000 ]
check "no socket errors" bash -c "! grep -q 'Socket errors' <<<'$out'"
check "no error responses" bash -c "! grep -q 'Non-2xx or 3xx' <<<'$out'"
check "server still healthy" [ "$(curl -s "$URL/healthz")" = ok ]
m=$(curl -s "$URL/metrics")
no5xx() { ! grep -qE 'code="5xx"} [1-9]' <<<"$m"; }
check "no 5xx recorded" no5xx
serve_stop
finish
