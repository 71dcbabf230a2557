#!/usr/bin/env python3
"""Does the headline interval of a small-cohort fit cover what the model delivers?

`fit` reports, for a cohort below 20,000 patients, the AUC of the whole
pipeline by nested patient-grouped cross-validation with a 95% interval from
a bootstrap over patients. This script checks that claim against the truth
the synthetic world gives: for each of `--cohorts` seeds it generates a
cohort of about `--patients` patients, fits `--model auto` (no temporal
hold-out, so every patient is in the nested validation), and scores the
delivered artifact on one fresh cohort of `--fresh-rows` rows. It counts how
often the headline interval holds the fresh AUC, and prints one JSON line
per cohort and a summary line.

    benches/coverage/coverage.py --train target/release/carescore-train [--target infection_180d]

Standard library only; reports, never asserts.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# `synth` writes about 6.2 rows per patient (20,000 rows hold 3,226 patients).
ROWS_PER_PATIENT = 6.2


def run(command):
    """Runs a command and returns its stdout; stops the script with its stderr on failure."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{done.stderr}")
    return done.stdout


def patients_in(csv_path):
    """Distinct patient_id values of a synthetic CSV."""
    with open(csv_path) as f:
        header = f.readline().rstrip("\n").split(",")
        column = header.index("patient_id")
        return len({line.split(",")[column] for line in f})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="the carescore-train binary (a release build)")
    parser.add_argument("--target", default="infection_180d")
    parser.add_argument("--cohorts", type=int, default=20)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--fresh-rows", type=int, default=100_000)
    parser.add_argument("--first-seed", type=int, default=101)
    parser.add_argument("--fresh-seed", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the cohorts and models (their folder is printed)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="carescore-coverage-"))
    try:
        measure(args, work)
    finally:
        if args.keep:
            print(f"files kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def measure(args, work):
    """Fits and scores every cohort in `work`, printing a line each and the summary."""
    fresh = work / "fresh.csv"
    run([args.train, "synth", "--rows", str(args.fresh_rows), "--seed", str(args.fresh_seed), "--out", fresh, "--quiet"])
    rows = round(args.patients * ROWS_PER_PATIENT)
    covered = 0
    widths = []
    for k in range(args.cohorts):
        seed = args.first_seed + k
        data = work / f"cohort-{seed}.csv"
        out = work / f"models-{seed}"
        run([args.train, "synth", "--rows", str(rows), "--seed", str(seed), "--out", data, "--quiet"])
        started = time.monotonic()
        summary = json.loads(run([
            args.train, "fit", "--data", data, "--target", args.target, "--out", out,
            "--model", "auto", "--temporal-holdout", "0", "--seed", str(seed), "--format", "json",
        ]))
        seconds = time.monotonic() - started
        metrics = summary["metrics"]
        if "auc_ci95_lower" not in metrics:
            sys.exit(f"cohort {seed}: the artifact has no AUC interval (metrics: {sorted(metrics)})")
        evaluation = json.loads(run([args.train, "evaluate", "--model", summary["artifact"], "--data", fresh]))
        lower, upper = metrics["auc_ci95_lower"], metrics["auc_ci95_upper"]
        truth = evaluation["auc"]
        hit = lower <= truth <= upper
        covered += hit
        widths.append(upper - lower)
        print(json.dumps({
            "seed": seed,
            "patients": patients_in(data),
            "validation_events": metrics["validation_events"],
            "family": summary["family"],
            "headline_auc": round(metrics["auc"], 4),
            "ci95": [round(lower, 4), round(upper, 4)],
            "fresh_auc": round(truth, 4),
            "fresh_calibration_slope": evaluation.get("calibration_slope"),
            "covered": hit,
            "fit_seconds": round(seconds, 1),
        }), flush=True)
    print(json.dumps({
        "target": args.target,
        "cohorts": args.cohorts,
        "covered": covered,
        "mean_interval_width": round(sum(widths) / len(widths), 4),
        "fresh_rows": args.fresh_rows,
    }))


if __name__ == "__main__":
    main()
