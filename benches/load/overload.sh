#!/usr/bin/env bash
# Overload: the service as shipped with a low in-flight limit, driven by wrk on
# loopback at 4x that many connections (offered load set by concurrency; the
# load generator shares the 2 cores). Prints, per phase, the connections,
# requests/s, p99 (all answers), answers 200 / 503 (with Retry-After) /
# other, and the service's RSS; then whether it answers normally again on
# its own right after the overload.
#
#   benches/load/overload.sh [--limit N] [--duration SECONDS]
#
# Defaults: limit 1, 10 s of overload. Reports, never asserts. The limit
# counts requests whose handling has started: scoring does not wait on
# anything, so with small bodies (read with the headers) each of the 2
# worker threads carries one request at a time and a limit of 2 or more is
# never reached; excess load waits in the connection queue instead (p99
# grows). A limit of 1 shows the shedding.
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh

limit=1
duration=10
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) limit="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    *) echo "usage: $0 [--limit N] [--duration SECONDS]" >&2; exit 2 ;;
  esac
done

ensure_wrk
bin=$(build_servers)

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/carescore-ceiling" --write-bodies "$work"
printf '[limits]\nmax_in_flight = %d\n' "$limit" >"$work/limits.toml"
port=$(free_port)
"$bin/carescore-serve" --bind "127.0.0.1:$port" --config "$work/limits.toml" --log warn \
  >"$work/serve.log" 2>&1 &
pid=$!
wait_for_port "$port"

# POSTs the sample record and counts answers by status in every wrk thread.
post_lua "$work/record.json" >"$work/count.lua"
cat >>"$work/count.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; shed = 0; retry = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 503 then
    shed = shed + 1
    if headers["Retry-After"] or headers["retry-after"] then retry = retry + 1 end
  else other = other + 1 end
end
function done(summary, latency, requests)
  local o, s, r, x = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); s = s + t:get("shed"); r = r + t:get("retry"); x = x + t:get("other")
  end
  io.write(string.format("counts %d %d %d %d\n", o, s, r, x))
end
LUA

rss() { rss_mb "$pid"; }
phase() { # name connections seconds
  local out rps p99 counts threads=2
  [ "$2" -lt 2 ] && threads=1
  out=$(wrk -t"$threads" -c"$2" -d"$3s" --latency -s "$work/count.lua" "http://127.0.0.1:$port/v1/score" 2>&1)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  counts=$(awk '/^counts/ {print $2, $3, $4, $5}' <<<"$out")
  echo "$1 $2 $rps $p99 $counts"
}

echo "phase connections rps p99 ok_200 shed_503 with_retry_after other rss_mb"
line=$(phase warm "$limit" 3)
warm_rss=$(rss)
echo "$line $warm_rss"
( sleep "$(( duration / 2 ))"; rss >"$work/during" ) &
line=$(phase overload "$(( 4 * limit ))" "$duration")
echo "$line $(cat "$work/during" 2>/dev/null || echo '?')"
# Straight after the overload, at the limit: it should answer everything again.
line=$(phase after "$limit" 5)
echo "$line $(rss)"
