# Shared by the load scripts (run.sh, overload.sh, soak.sh): sourced, not run.

# Installs wrk (Debian package) if it is missing.
ensure_wrk() {
  if ! command -v wrk >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk
  fi
}

# Builds carescore-serve and carescore-ceiling as shipped (profile
# `production`) and prints the directory holding them.
build_servers() {
  cargo build --profile production --locked -p carescore-serve -p carescore-bench \
    --bin carescore-serve --bin carescore-ceiling >&2
  echo "${CARGO_TARGET_DIR:-target}/production"
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (up to 10 s) until something listens on loopback port $1.
wait_for_port() {
  for _ in $(seq 100); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# The start of a wrk script that POSTs the JSON file $1.
post_lua() {
  cat <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$1", "r")
wrk.body = f:read("*a")
f:close()
LUA
}

# Resident memory of process $1 in MB.
rss_mb() {
  awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"
}
