#!/usr/bin/env bash
# HTTP load harness: drives the real carescore-serve (and the framework
# ceiling, carescore-ceiling) from a second process on loopback with wrk, and
# prints one line per scenario: `target scenario rps p50_ms p99_ms errors`,
# then the ratios of the run, the CPU time the service and the ceiling spent
# per request (their own process, apart from wrk), and the service's
# resident memory at the end.
#
#   benches/load/run.sh [--duration SECONDS] [--warmup SECONDS] [--peer] [--audit] [--drift-off] [--shadow]
#
# Installs wrk (Debian package) if missing, builds the binaries as shipped
# (profile `production`), starts the servers on free loopback ports, runs the
# scenarios, stops the servers.
# With --peer it also sets up (benches/peer/setup.sh) and runs the FastAPI +
# LightGBM peer, and prints our/peer ratios per scenario; and the same peer
# without top factors (PEER_FACTORS=none: no TreeSHAP, not the contract), the
# lower bound of its cost, as `peer_nofactors`. With --audit it also runs the
# service with its audit trail on (`carescore_audit`, --audit-log in the
# run's temporary directory), to measure what the trail costs.
# Bounded in time: (warm-up + duration) x 4 scenarios x 2 targets plus the
# build. Timing is never asserted: this reports numbers, it does not test.
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh

duration=10
warmup=3
peer=0
audit=0
drift_off=0
shadow=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --peer) peer=1; shift ;;
    --audit) audit=1; shift ;;
    --drift-off) drift_off=1; shift ;;
    --shadow) shadow=1; shift ;;
    *) echo "usage: $0 [--duration SECONDS] [--warmup SECONDS] [--peer] [--audit] [--drift-off] [--shadow]" >&2; exit 2 ;;
  esac
done

ensure_wrk
bin=$(build_servers)

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/carescore-ceiling" --write-bodies "$work"
serve_port=$(free_port)
ceiling_port=$(free_port)
"$bin/carescore-serve" --bind "127.0.0.1:$serve_port" --log warn >"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=($!)
"$bin/carescore-ceiling" --bind "127.0.0.1:$ceiling_port" >"$work/ceiling.log" 2>&1 &
pids+=($!)
ports=("$serve_port" "$ceiling_port")
targets=(carescore ceiling)
# Process of each single-process target, for its CPU time per request (the peer runs several).
declare -A cpu_pid=([carescore]=$serve_pid [ceiling]=$!)
if [ "$audit" = 1 ]; then
  audit_port=$(free_port)
  CARESCORE_AUDIT_SALT=load-harness-salt-0123456789 "$bin/carescore-serve" \
    --bind "127.0.0.1:$audit_port" --log warn --audit-log "$work/audit.jsonl" >"$work/serve-audit.log" 2>&1 &
  pids+=($!)
  ports+=("$audit_port")
  targets+=(carescore_audit)
fi
if [ "$drift_off" = 1 ]; then
  nodrift_port=$(free_port)
  printf '[monitoring]\ndrift_window_records = 0\n' >"$work/nodrift.toml"
  "$bin/carescore-serve" --bind "127.0.0.1:$nodrift_port" --log warn --config "$work/nodrift.toml" \
    >"$work/serve-nodrift.log" 2>&1 &
  cpu_pid[carescore_nodrift]=$!
  pids+=($!)
  ports+=("$nodrift_port")
  targets+=(carescore_nodrift)
fi
if [ "$shadow" = 1 ]; then
  shadow_port=$(free_port)
  "$bin/carescore-serve" --bind "127.0.0.1:$shadow_port" --log warn --shadow-dir models \
    >"$work/serve-shadow.log" 2>&1 &
  cpu_pid[carescore_shadow]=$!
  pids+=($!)
  ports+=("$shadow_port")
  targets+=(carescore_shadow)
fi
if [ "$peer" = 1 ]; then
  venv=$(benches/peer/setup.sh | tail -1)
  peer_port=$(free_port)
  # As its users run it in production: 2 workers, uvloop + httptools, no access log, one BLAS thread.
  peer_lite_port=$(free_port)
  for variant in "peer $peer_port top5" "peer_nofactors $peer_lite_port none"; do
    read -r name port factors <<<"$variant"
    PEER_FACTORS=$factors OMP_NUM_THREADS=1 "$venv/bin/uvicorn" app:app --app-dir benches/peer --host 127.0.0.1 \
      --port "$port" --workers 2 --loop uvloop --http httptools --no-access-log --log-level warning \
      >"$work/$name.log" 2>&1 &
    pids+=($!)
    ports+=("$port")
    targets+=("$name")
  done
fi
for port in "${ports[@]}"; do
  wait_for_port "$port"
done

# A wrk script that POSTs one body file as JSON.
script() {
  post_lua "$work/$1.json" >"$work/$1.lua"
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

# CPU time (user + system, in clock ticks) process $1 has used so far.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat"
}

run() { # name url lua connections [pid]
  local name=$1 url=$2 lua=$3 connections=$4 pid=${5:-} threads=2
  [ "$connections" -lt 2 ] && threads=1
  wrk -t"$threads" -c"$connections" -d"${warmup}s" -s "$lua" "$url" >/dev/null 2>&1 || true
  local out before=0
  [ -n "$pid" ] && before=$(cpu_ticks "$pid")
  out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$lua" "$url" 2>&1)
  if [ -n "$pid" ]; then
    # The server's own CPU per request: what it costs apart from the load generator and the peer.
    awk -v n="$name" -v t="$(( $(cpu_ticks "$pid") - before ))" -v hz="$(getconf CLK_TCK)" \
      -v r="$(awk '/^ *[0-9]+ requests in/ {print $1}' <<<"$out")" \
      'BEGIN { if (r > 0) printf "%s %.1f\n", n, t / hz / r * 1e6 }' >>"$work/cpu.txt"
  fi
  local rps p50 p99 non2xx socket
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  socket=$(awk -F'[ ,]+' '/Socket errors/ {print $4 + $6 + $8 + $10}' <<<"$out")
  echo "$name $rps $p50 $p99 $(( ${non2xx:-0} + ${socket:-0} ))"
}

echo "target scenario rps p50_ms p99_ms errors"
for i in "${!targets[@]}"; do
  target=${targets[$i]}
  port=${ports[$i]}
  for c in 1 16 64; do
    run "$target score_c$c" "http://127.0.0.1:$port/v1/score" "$record_lua" "$c" "${cpu_pid[$target]:-}"
  done
  if [ "$target" != ceiling ]; then
    run "$target batch100_c16" "http://127.0.0.1:$port/v1/score/batch" "$batch_lua" 16 "${cpu_pid[$target]:-}"
  fi
done | tee "$work/results.txt"

# Ratios from the same run: ours over the peer's requests/s, the peer's p99 over ours, our share of the ceiling.
awk '
  { rps[$1" "$2] = $3; p99[$1" "$2] = $5 }
  END {
    print "scenario ours/peer_rps peer/ours_p99 ours/ceiling_rps ours/peer_nofactors_rps audit/ours_rps ours/nodrift_rps shadow/ours_rps shadow/ours_p99"
    split("score_c1 score_c16 score_c64 batch100_c16", s, " ")
    for (k = 1; k <= 4; k++) {
      n = s[k]; o = "carescore " n
      pr = ("peer " n in rps && rps["peer " n] > 0) ? sprintf("%.1f", rps[o] / rps["peer " n]) : "-"
      pp = ("peer " n in p99 && p99[o] > 0) ? sprintf("%.1f", p99["peer " n] / p99[o]) : "-"
      cr = ("ceiling " n in rps && rps["ceiling " n] > 0) ? sprintf("%.2f", rps[o] / rps["ceiling " n]) : "-"
      pl = ("peer_nofactors " n in rps && rps["peer_nofactors " n] > 0) ? sprintf("%.1f", rps[o] / rps["peer_nofactors " n]) : "-"
      au = ("carescore_audit " n in rps && rps[o] > 0) ? sprintf("%.2f", rps["carescore_audit " n] / rps[o]) : "-"
      nd = ("carescore_nodrift " n in rps && rps["carescore_nodrift " n] > 0) ? sprintf("%.3f", rps[o] / rps["carescore_nodrift " n]) : "-"
      sr = ("carescore_shadow " n in rps && rps[o] > 0) ? sprintf("%.3f", rps["carescore_shadow " n] / rps[o]) : "-"
      sp = ("carescore_shadow " n in p99 && p99[o] > 0) ? sprintf("%.3f", p99["carescore_shadow " n] / p99[o]) : "-"
      print n, pr, pp, cr, pl, au, nd, sr, sp
    }
  }' "$work/results.txt"

echo "target scenario server_cpu_us_per_request"
cat "$work/cpu.txt"

# The service's resident memory after all its scenarios (default models, warm).
echo "carescore_rss_mb $(rss_mb "$serve_pid")"
if [ "$audit" = 1 ]; then
  echo "audit_lines $(wc -l <"$work/audit.jsonl")"
fi
