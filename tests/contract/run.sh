#!/usr/bin/env bash
# Contract checks of the real binary by outside tools (run by .ci/run):
#  1. schemathesis --checks all against /openapi.json, without API keys and
#     with keys configured (0 failures; settings in schemathesis.toml);
#  2. a Python client generated from /openapi.json by openapi-python-client
#     makes a score, batch, grade, levers and programme call (client_calls.py);
#  3. a model trained through a spec (notebooks-data/kidney_centre.*) is
#     copied into the models directory and reloaded: a client generated
#     before the reload has no call for it, one generated after scores
#     through it (spec_client_calls.py), and schemathesis checks its routes.
#
# Usage: tests/contract/run.sh [PATH_TO_carescore-serve [PATH_TO_carescore-train]]
# Env: CONTRACT_VENV (virtual environment for the PyPI tools, created if
# missing; default ~/.cache/carescore/contract-venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:-${CARGO_TARGET_DIR:-$here/../../target}/debug/carescore-serve}"
train="${2:-$(dirname "$binary")/carescore-train}"
venv="${CONTRACT_VENV:-$HOME/.cache/carescore/contract-venv}"
SCHEMATHESIS="schemathesis==4.32.5"
CLIENT_GENERATOR="openapi-python-client==0.29.1"

# Reused when it runs and has the pinned versions; made anew otherwise.
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "${SCHEMATHESIS#*==}" ||
  ! "$venv/bin/pip" show openapi-python-client 2>/dev/null | grep -q "^Version: ${CLIENT_GENERATOR#*==}$"; then
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install --quiet "$SCHEMATHESIS" "$CLIENT_GENERATOR"
fi
"$venv/bin/schemathesis" --version

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME [ARGS...]: starts the binary on a free loopback port; sets $url.
start_server() {
  local name="$1"
  shift
  local port
  port="$(free_port)"
  "$binary" --bind "127.0.0.1:$port" "$@" >"$work/$name.log" 2>&1 &
  server=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if curl -fsS "$url/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  cat "$work/$name.log"
  echo "the service did not become ready" >&2
  exit 1
}

stop_server() {
  kill "$server" && wait "$server" 2>/dev/null || true
  server=""
}

# One worker: hypothesis's lambda printing is not thread-safe on Python 3.11
# (an "AST constructor recursion depth mismatch" error with several workers).
schemathesis_run() {
  (cd "$here" && "$venv/bin/schemathesis" run "$url/openapi.json" --checks all --workers 1 "$@")
}

# generate_client: writes a client generated from the served document to $work/client.
generate_client() {
  curl -fsS "$url/openapi.json" >"$work/openapi.json"
  printf 'project_name_override: carescore-client\npackage_name_override: carescore_client\npost_hooks: []\n' \
    >"$work/generator.yaml"
  rm -rf "$work/client"
  mkdir -p "$work/client"
  "$venv/bin/openapi-python-client" generate --path "$work/openapi.json" --meta none \
    --config "$work/generator.yaml" --output-path "$work/client/carescore_client" --overwrite
}

generated_client_calls() {
  local key="${1:-}"
  generate_client
  "$venv/bin/python" "$here/client_calls.py" "$work/client" "$url" $key
}

echo "--> without API keys"
start_server open
schemathesis_run
generated_client_calls
stop_server

echo "--> with API keys"
key="contract-$(date +%s)-$RANDOM$RANDOM"
sha="$(printf %s "$key" | sha256sum | cut -d' ' -f1)"
printf '[[keys]]\nname = "contract"\nsha256 = "%s"\nscopes = ["score", "underwrite", "admin"]\n' "$sha" >"$work/keys.toml"
start_server keys --config "$work/keys.toml"
schemathesis_run --header "Authorization: Bearer $key"
generated_client_calls "$key"
stop_server

echo "--> a spec model added on reload"
examples="$here/../../notebooks-data"
"$train" fit --data "$examples/kidney_centre.csv" --spec "$examples/kidney_centre.toml" --out "$work/trained" \
  --model logistic --interval-refits 0 >/dev/null
mkdir -p "$work/models"
input='{"case_id": "kc-1", "recipient_age": 43.2, "donor_type": "living", "cold_ischaemia_hours": 1.4, "hla_mismatches": 0, "delayed_graft_function": false, "creatinine_day7_umol_l": 92}'
start_server spec --models-dir "$work/models"
generate_client
"$venv/bin/python" "$here/spec_client_calls.py" "$work/client" "$url" rejection_365d "$input" --absent
cp "$work/trained/rejection_365d-1.json" "$work/models/"
curl -fsS -X POST "$url/v1/admin/reload" >/dev/null
generate_client
"$venv/bin/python" "$here/spec_client_calls.py" "$work/client" "$url" rejection_365d "$input"
schemathesis_run --include-path-regex '^/v1/models/'
stop_server
echo "contract checks passed"
