#!/usr/bin/env bash
# Training speed and quality against LightGBM, on this machine, in one run:
# our booster and LightGBM (Python package, from the peer's environment) on
# the same synthetic cohort with the same trees / leaves / learning rate /
# threads, timed the same way (binning + boosting), and the AUC of each on
# the same test rows. Prints one JSON line per target plus our whole `fit`
# time (ingestion, screening, calibration, evaluation, report included).
#
#   benches/train/compare.sh [--rows N] [--target infection_180d|readmission_30d|both]
#
# Defaults: 1,000,000 training rows (seed 42), 200,000 test rows (seed 8),
# both targets. Takes a few minutes per target; reports, never asserts.
set -euo pipefail
cd "$(dirname "$0")/../.."

rows=1000000
targets="infection_180d readmission_30d"
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --target) [ "$2" = both ] || targets="$2"; shift 2 ;;
    *) echo "usage: $0 [--rows N] [--target infection_180d|readmission_30d|both]" >&2; exit 2 ;;
  esac
done

target_dir="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked -p carescore-train >&2
venv=$(benches/peer/setup.sh | tail -1)
train="$target_dir/release/carescore-train"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$train" synth --rows "$rows" --seed 42 --out "$work/train.csv" --quiet
"$train" synth --rows 200000 --seed 8 --out "$work/test.csv" --quiet
for target in $targets; do
  mkdir -p "$work/$target"
  # Same booster settings as the default models (15 leaves), all rows for training (no temporal hold-out).
  summary=$("$train" fit --data "$work/train.csv" --target "$target" --model gbdt --gbdt-leaves 15 \
    --temporal-holdout 0 --out "$work/$target" --format json 2>/dev/null)
  artifact=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["artifact"])' "$summary")
  "$train" predict --model "$artifact" --data "$work/test.csv" --out "$work/$target/test-predictions.csv" 2>/dev/null
  lightgbm=$("$venv/bin/python" benches/train/lightgbm_fit.py "$work/train.csv" "$work/test.csv" "$artifact" \
    "$work/$target/test-predictions.csv" "$target")
  python3 - "$summary" "$lightgbm" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
s = ours["seconds"]
theirs.update({
    "carescore_estimator_seconds": round(s["estimator"], 2),
    "carescore_fit_total_seconds": round(s["total"], 2),
    "time_ratio_carescore_over_lightgbm": round(s["estimator"] / theirs["lightgbm_seconds"], 2),
    "auc_gap_lightgbm_minus_carescore": round(theirs["auc_lightgbm"] - theirs["auc_carescore"], 4),
})
print(json.dumps(theirs))
PY
done
