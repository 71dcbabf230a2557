#!/usr/bin/env bash
# CareScore's explanations of the default models against the `shap`
# package's exact TreeSHAP on the same trees, for 1,000 varied records
# (check.py; run by .ci/run). Exits non-zero on any difference beyond 1e-9.
#
#   benches/shap/run.sh [PATH_TO_carescore-explain-dump]
#
# Env: SHAP_VENV (virtual environment for the PyPI packages, created if
# missing or not at the pinned versions; default ~/.cache/carescore/shap-venv).
set -euo pipefail
cd "$(dirname "$0")/../.."
dump="${1:-${CARGO_TARGET_DIR:-target}/debug/carescore-explain-dump}"
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
