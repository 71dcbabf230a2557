#!/usr/bin/env bash
# Creates the peer's virtual environment from PyPI and trains its LightGBM
# models on the same synthetic cohort as CareScore's defaults (200,000 rows,
# seed 42). Usage: benches/peer/setup.sh  (idempotent; PEER_VENV overrides
# the environment's location, default benches/peer/.venv).
set -euo pipefail
cd "$(dirname "$0")"
venv="${PEER_VENV:-$PWD/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r requirements.txt
fi
if [ ! -f models/infection_180d.txt ] || [ ! -f models/readmission_30d.txt ]; then
  mkdir -p models
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  target_dir="${CARGO_TARGET_DIR:-../../target}"
  (cd ../.. && cargo build --release --locked -p carescore-train >&2)
  "$target_dir/release/carescore-train" synth --rows 200000 --seed 42 --out "$work/cohort.csv" --quiet
  OMP_NUM_THREADS=1 "$venv/bin/python" train.py "$work/cohort.csv" models
fi
echo "$venv"
