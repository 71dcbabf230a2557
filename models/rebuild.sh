#!/usr/bin/env bash
# Rebuilds the default model artifacts in models/ from the synthetic cohort
# (200,000 rows, seed 42). Deterministic: the same trainer gives the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --locked -p carescore-train
train="${CARGO_TARGET_DIR:-target}/release/carescore-train"
"$train" synth --rows 200000 --seed 42 --out "$work/synth-200000-seed42.csv" --quiet
for target in infection_180d readmission_30d; do
  "$train" fit --data "$work/synth-200000-seed42.csv" --target "$target" --out models --seed 42 --version 1 --model auto
done
