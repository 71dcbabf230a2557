#!/usr/bin/env bash
# HTTP load harness: drives the real carescore-serve (and the framework
# ceiling, carescore-ceiling) from a second process on loopback with wrk, and
# prints one line per scenario: `target scenario rps p50_ms p99_ms errors`.
#
#   benches/load/run.sh [--duration SECONDS] [--warmup SECONDS]
#
# Installs wrk (Debian package) if missing, builds release binaries, starts
# both servers on free loopback ports, runs the scenarios, stops the servers.
# Bounded in time: (warm-up + duration) x 4 scenarios x 2 targets plus the
# build. Timing is never asserted: this reports numbers, it does not test.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=10
warmup=3
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    *) echo "usage: $0 [--duration SECONDS] [--warmup SECONDS]" >&2; exit 2 ;;
  esac
done

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
target_dir="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked -p carescore-serve -p carescore-bench --bin carescore-serve --bin carescore-ceiling >&2

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$target_dir/release/carescore-ceiling" --write-bodies "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
serve_port=$(free_port)
ceiling_port=$(free_port)
"$target_dir/release/carescore-serve" --bind "127.0.0.1:$serve_port" --log warn >"$work/serve.log" 2>&1 &
pids+=($!)
"$target_dir/release/carescore-ceiling" --bind "127.0.0.1:$ceiling_port" >"$work/ceiling.log" 2>&1 &
pids+=($!)
for port in "$serve_port" "$ceiling_port"; do
  for _ in $(seq 50); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done

# A wrk script that POSTs one body file as JSON.
script() {
  cat >"$work/$1.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/$1.json", "r")
wrk.body = f:read("*a")
f:close()
LUA
  echo "$work/$1.lua"
}
record_lua=$(script record)
batch_lua=$(script batch100)

# Milliseconds from a wrk latency figure such as 812.00us, 1.23ms or 1.01s.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000
    printf "%.3f", n
  }'
}

run() { # name url lua connections
  local name=$1 url=$2 lua=$3 connections=$4 threads=2
  [ "$connections" -lt 2 ] && threads=1
  wrk -t"$threads" -c"$connections" -d"${warmup}s" -s "$lua" "$url" >/dev/null 2>&1 || true
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$lua" "$url" 2>&1)
  local rps p50 p99 non2xx socket
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  socket=$(awk -F'[ ,]+' '/Socket errors/ {print $4 + $6 + $8 + $10}' <<<"$out")
  echo "$name $rps $p50 $p99 $(( ${non2xx:-0} + ${socket:-0} ))"
}

echo "target scenario rps p50_ms p99_ms errors"
for target in carescore ceiling; do
  if [ "$target" = carescore ]; then port=$serve_port; else port=$ceiling_port; fi
  for c in 1 16 64; do
    run "$target score_c$c" "http://127.0.0.1:$port/v1/score" "$record_lua" "$c"
  done
  if [ "$target" = carescore ]; then
    run "$target batch100_c16" "http://127.0.0.1:$port/v1/score/batch" "$batch_lua" 16
  fi
done
