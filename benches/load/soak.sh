#!/usr/bin/env bash
# Soak with reloads under load: the service as shipped serves a models
# directory while wrk drives /v1/score on loopback with one connection
# (about half of what the 2 cores can answer), and every INTERVAL seconds the
# models are reloaded, alternating a good set (version 1, then version 2,
# pinned through active.toml) and a corrupt one (a version-3 artifact with a
# broken checksum, which must be refused while the old set keeps serving).
# Every answer is checked: status 200, and both risks from the same version.
# Prints requests, failures, reloads done and refused, and RSS at the start
# and the end.
#
#   benches/load/soak.sh [--duration SECONDS] [--interval SECONDS]
#
# Defaults: 300 s, a reload every 10 s. Reports, never asserts.
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh

duration=300
interval=10
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --interval) interval="$2"; shift 2 ;;
    *) echo "usage: $0 [--duration SECONDS] [--interval SECONDS]" >&2; exit 2 ;;
  esac
done

ensure_wrk
target_dir="${CARGO_TARGET_DIR:-target}"
# Built apart: together, feature unification would rebuild polars.
cargo build --release --locked -p carescore-train >&2
bin=$(build_servers)

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Version 1: the default models; version 2: small models trained here.
models="$work/models"
mkdir -p "$models"
cp models/infection_180d-1.json models/readmission_30d-1.json "$models/"
"$target_dir/release/carescore-train" synth --rows 20000 --seed 3 --out "$work/cohort.csv" --quiet
for target in infection_180d readmission_30d; do
  "$target_dir/release/carescore-train" fit --data "$work/cohort.csv" --target "$target" --model gbdt \
    --gbdt-leaves 7 --version 2 --temporal-holdout 0 --out "$work/v2" >/dev/null 2>&1
  cp "$work/v2/$target-2.json" "$models/"
done
# A corrupt version 3: the default artifact with one digit changed, so its checksum fails.
sed '0,/"version": 1/s//"version": 3/' models/infection_180d-1.json >"$work/corrupt.json"
printf 'infection_180d = 1\nreadmission_30d = 1\n' >"$models/active.toml"

"$bin/carescore-ceiling" --write-bodies "$work"
port=$(free_port)
"$bin/carescore-serve" --bind "127.0.0.1:$port" --models-dir "$models" --log warn \
  >"$work/serve.log" 2>&1 &
pid=$!
wait_for_port "$port"

# Every answer: 200, and the same version for both targets.
post_lua "$work/record.json" >"$work/check.lua"
cat >>"$work/check.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; failed = 0; mixed = 0 end
function response(status, headers, body)
  if status ~= 200 then failed = failed + 1; return end
  local a = string.match(body, "infection_180d@(%d+)")
  local b = string.match(body, "readmission_30d@(%d+)")
  if a == nil or a ~= b then mixed = mixed + 1 else ok = ok + 1 end
end
function done(summary, latency, requests)
  local o, f, m = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); f = f + t:get("failed"); m = m + t:get("mixed") end
  io.write(string.format("checked ok=%d failed=%d mixed_versions=%d\n", o, f, m))
end
LUA

rss() { rss_mb "$pid"; }
wrk -t1 -c1 -d5s -s "$work/check.lua" "http://127.0.0.1:$port/v1/score" >/dev/null 2>&1
start_rss=$(rss)
wrk -t1 -c1 -d"${duration}s" --latency -s "$work/check.lua" "http://127.0.0.1:$port/v1/score" >"$work/wrk.txt" 2>&1 &
load=$!

reload() { curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/admin/reload"; }
good=0 refused=0 unexpected=0 round=0 cycle_rss=""
end=$(( $(date +%s) + duration - interval ))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep "$interval"
  round=$(( round + 1 ))
  if [ $(( round % 2 )) = 1 ]; then
    # Corrupt: the highest version of infection is broken, nothing pinned.
    cp "$work/corrupt.json" "$models/infection_180d-3.json"
    rm -f "$models/active.toml"
    code=$(reload)
    rm -f "$models/infection_180d-3.json"
    if [ "$code" = 422 ]; then refused=$(( refused + 1 )); else unexpected=$(( unexpected + 1 )); fi
  else
    # Good: alternate versions 2 and 1.
    version=$(( (round / 2) % 2 == 1 ? 2 : 1 ))
    printf 'infection_180d = %d\nreadmission_30d = %d\n' "$version" "$version" >"$models/active.toml"
    code=$(reload)
    if [ "$code" = 200 ]; then good=$(( good + 1 )); else unexpected=$(( unexpected + 1 )); fi
  fi
  # After the first good-corrupt-good-corrupt cycle both versions have been loaded once.
  [ "$round" = 4 ] && cycle_rss=$(rss)
done
wait "$load"
end_rss=$(rss)
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
errors=$(awk -F'[ ,]+' '/Socket errors/ {print $4 + $6 + $8 + $10}' "$work/wrk.txt")
echo "duration_s $duration requests ${requests:-0} socket_errors ${errors:-0}"
grep '^checked' "$work/wrk.txt"
echo "reloads_good $good corrupt_refused $refused unexpected_reload_answers $unexpected"
echo "rss_start_mb $start_rss rss_after_first_reload_cycle_mb ${cycle_rss:-?} rss_end_mb $end_rss"
