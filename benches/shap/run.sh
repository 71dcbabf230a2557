#!/usr/bin/env bash
# CareScore's explanations against the `shap` package's exact TreeSHAP on
# the same trees, for 1,000 varied records each (check.py; run by .ci/run):
# the default models (boosters of 7-leaf trees, explained from tables of
# ways), then a random forest (trees of more than 64 leaves, explained by the
# linear-time algorithm) and a booster of 31-leaf trees (leaf tables), both
# fitted by carescore-train on a small synthetic cohort. Exits non-zero on
# any difference beyond 1e-9.
#
#   benches/shap/run.sh [PATH_TO_carescore-explain-dump [PATH_TO_carescore-train]]
#
# Without carescore-train only the default models are checked.
# Env: SHAP_VENV (virtual environment for the PyPI packages, created if
# missing or not at the pinned versions; default ~/.cache/carescore/shap-venv).
set -euo pipefail
# Paths given are resolved before moving to the repository's root.
root="$(cd "$(dirname "$0")/../.." && pwd)"
dump="$(realpath "${1:-${CARGO_TARGET_DIR:-$root/target}/debug/carescore-explain-dump}")"
train="${2:+$(realpath "$2")}"
cd "$root"
venv="${SHAP_VENV:-$HOME/.cache/carescore/shap-venv}"
requirements=benches/shap/requirements.txt

if ! "$venv/bin/python" -c 'import shap, sys; sys.exit(shap.__version__ != "0.51.0")' 2>/dev/null; then
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install --quiet -r "$requirements"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$dump" 1000 7 > "$work/dump.jsonl"
"$venv/bin/python" benches/shap/check.py --models models --dump "$work/dump.jsonl" --tolerance 1e-9

# Runs a command quietly, showing its output only when it fails.
quietly() {
  "$@" > "$work/step.log" 2>&1 || { cat "$work/step.log" >&2; echo "failed: $*" >&2; return 1; }
}

if [[ -n "$train" ]]; then
  quietly "$train" synth --rows 4000 --seed 11 --out "$work/cohort.csv"
  quietly "$train" fit --data "$work/cohort.csv" --target infection_180d --model forest \
    --interval-refits 0 --out "$work/forest"
  quietly "$train" fit --data "$work/cohort.csv" --target infection_180d --model gbdt --gbdt-leaves 31 \
    --interval-refits 0 --out "$work/booster"
  "$dump" --model "$work/forest/infection_180d-1.json" --model "$work/booster/infection_180d-1.json" \
    1000 7 > "$work/fitted.jsonl"
  # The forest must have trees of more than 64 leaves (the linear-time algorithm's).
  "$venv/bin/python" benches/shap/check.py --dump "$work/fitted.jsonl" --tolerance 1e-9 --min-leaves 64 \
    --artifact "$work/forest/infection_180d-1.json" --artifact "$work/booster/infection_180d-1.json"
fi
