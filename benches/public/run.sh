#!/usr/bin/env bash
# Reference benchmark on real public survival tables: our nested
# `cv --model auto` against scikit-learn (LogisticRegressionCV,
# HistGradientBoosting) and LightGBM, on the SAME patient-grouped repeated
# folds, fixed-horizon labels and censoring weights (ours, read from
# `cv --predictions`), every learner scored by one metric implementation
# (references.py). Prints a Markdown summary (summarise.py); keeps every file
# with --out.
#
#   benches/public/run.sh [--repeats 5] [--folds 5] [--seed 42]
#                         [--tasks gbsg2,whas500,veterans,aids,flchain,rossi,stanford,lung]
#                         [--out DIR] [--fake]
#
# --fake replaces our trainer by fake_predictions.py (no cargo; figures
# meaningless) to test the Python half. Reports, never asserts. Takes about
# 100 s for the references on all tables with 5 x 5 folds on 2 cores, plus
# our cv runs.
set -euo pipefail
cd "$(dirname "$0")/../.."

repeats=5
folds=5
seed=42
tasks="gbsg2,whas500,veterans,aids,flchain,rossi,stanford,lung"
out=""
fake=0
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --folds) folds="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --tasks) tasks="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --fake) fake=1; shift ;;
    *) echo "usage: $0 [--repeats N] [--folds K] [--seed S] [--tasks a,b,...] [--out DIR] [--fake]" >&2; exit 2 ;;
  esac
done

target_dir="${CARGO_TARGET_DIR:-target}"
train="$target_dir/release/carescore-train"
if [ "$fake" = 0 ]; then
  cargo build --release --locked -p carescore-train >&2
fi
venv=$(benches/public/setup.sh | tail -1)
py="$venv/bin/python"

# Work directory: --out keeps everything, otherwise a temporary one.
if [ -n "$out" ]; then
  mkdir -p "$out"
  work=$(cd "$out" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

now() { date +%s.%N; }

# 1. The tables and their specs (also checks them; one JSON line per task).
"$py" benches/public/tables.py "$work" --tasks "$tasks" > "$work/tables.jsonl"

: > "$work/results.jsonl"
for task in ${tasks//,/ }; do
  echo "public: $task" >&2
  # 2. Our nested cv, with every out-of-fold prediction.
  started=$(now)
  if [ "$fake" = 0 ]; then
    "$train" cv --data "$work/$task.csv" --spec "$work/$task.toml" --folds "$folds" --repeats "$repeats" \
      --seed "$seed" --model auto --format json --predictions "$work/$task.pred.csv" > "$work/$task.cv.jsonl"
  else
    "$py" benches/public/fake_predictions.py "$work/$task.csv" "$work/$task.toml" "$work/$task.pred.csv" \
      --folds "$folds" --repeats "$repeats" --seed "$seed" --cv-json "$work/$task.cv.jsonl"
  fi
  ours_seconds=$(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  # 3. The references on the same folds, and every learner's metrics.
  # One thread per library: deterministic, and the tables are small.
  OMP_NUM_THREADS=1 "$py" benches/public/references.py "$work/$task.csv" "$work/$task.toml" "$work/$task.pred.csv" \
    --task "$task" --seed "$seed" --ours "$work/$task.cv.jsonl" --ours-seconds "$ours_seconds" \
    >> "$work/results.jsonl"
done

# 4. The summary (also kept next to the results).
"$py" benches/public/summarise.py "$work/results.jsonl" | tee "$work/summary.md"
if [ "$fake" = 1 ]; then
  echo "(--fake: the CareScore rows are made up by fake_predictions.py; they say nothing about CareScore)"
fi
if [ -n "$out" ]; then
  echo "files kept in $work" >&2
fi
