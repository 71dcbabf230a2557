#!/usr/bin/env python3
"""Synthetic acceptance: the default pipeline against the oracle.

Generates a training cohort and a fresh test cohort with `carescore-train
synth`, fits each built-in target with the defaults (`fit`, `--model auto`),
scores the fresh cohort (`evaluate` for the product's figures, `predict` for
each row's probability) and compares, on exactly the rows `evaluate` scored
with a known label at the horizon and with its censoring weights, the
model's AUC with the AUC of the true
probabilities the generator wrote (`true_p_<target>`): the oracle, the best
AUC any model of these inputs can reach.

Plain Python, no packages. Usage:

    python3 benches/synthetic/acceptance.py --train target/release/carescore-train

Prints a Markdown table; exit status 0 whatever the figures (a benchmark,
not a test).
"""

import argparse
import bisect
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

TARGETS = {
    # target: (horizon in days, time column, event column)
    "infection_180d": (180, "infection_time_days", "infection_event"),
    "readmission_30d": (30, "readmission_time_days", "readmission_event"),
}


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def auc(scores, labels, weights):
    """Weighted AUC: the weighted share of (event, non-event) pairs ranked
    correctly, ties counted half (the trainer's definition)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    negatives_below = correct = positives = negatives = 0.0
    i = 0
    while i < len(order):
        tie_pos = tie_neg = 0.0
        j = i
        while j < len(order) and scores[order[j]] == scores[order[i]]:
            if labels[order[j]]:
                tie_pos += weights[order[j]]
            else:
                tie_neg += weights[order[j]]
            j += 1
        correct += tie_pos * (negatives_below + 0.5 * tie_neg)
        negatives_below += tie_neg
        positives += tie_pos
        negatives += tie_neg
        i = j
    return correct / (positives * negatives)


def censoring_weights(times, events, horizon):
    """Inverse probability of censoring weights, 1 / G(min(T, H)-), with G
    the Kaplan-Meier estimate of the censoring times (censorings are its
    events): the weights `evaluate` gives each row with a known label."""
    order = sorted(range(len(times)), key=lambda i: times[i])
    at_risk, g = float(len(times)), 1.0
    steps = []  # (censoring time, G just after it)
    i = 0
    while i < len(order):
        t = times[order[i]]
        j, censored = i, 0
        while j < len(order) and times[order[j]] == t:
            censored += not events[order[j]]
            j += 1
        if censored:
            g *= 1.0 - censored / at_risk
            steps.append((t, g))
        at_risk -= j - i
        i = j
    step_times = [t for t, _ in steps]

    def before(t):
        k = bisect.bisect_left(step_times, t)
        return 1.0 if k == 0 else steps[k - 1][1]

    return [1.0 / before(min(t, horizon)) for t in times]


def label(row, horizon, time_column, event_column):
    """The horizon label of the default censoring rule: unknown when
    follow-up ended before the horizon without the event."""
    time, event = float(row[time_column]), row[event_column] == "true"
    if event and time <= horizon:
        return True
    if time >= horizon:
        return False
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="the carescore-train binary (a release build)")
    parser.add_argument("--train-rows", type=int, default=200_000)
    parser.add_argument("--train-seed", type=int, default=7)
    parser.add_argument("--test-rows", type=int, default=100_000)
    parser.add_argument("--test-seed", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="carescore-acceptance-") as work:
        work = Path(work)
        train, test = work / "train.csv", work / "test.csv"
        run(args.train, "synth", "--rows", str(args.train_rows), "--seed", str(args.train_seed), "--out", str(train), "--quiet")
        run(args.train, "synth", "--rows", str(args.test_rows), "--seed", str(args.test_seed), "--out", str(test), "--quiet")
        with open(test, newline="") as f:
            truth = {row["case_id"]: row for row in csv.DictReader(f)}
        print(f"train: synth --rows {args.train_rows} --seed {args.train_seed}; "
              f"fresh: synth --rows {args.test_rows} --seed {args.test_seed}\n")
        print("| target | chosen model | rows | events | AUC | oracle AUC | AUC - oracle | calibration slope | calibration intercept | ECE |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for target, (horizon, time_column, event_column) in TARGETS.items():
            out = work / target
            run(args.train, "fit", "--data", str(train), "--target", target, "--out", str(out))
            artifact = next(out.glob(f"{target}-*.json"))
            family = json.loads(artifact.read_text())["estimator"]["type"]
            evaluation = json.loads(run(args.train, "evaluate", "--model", str(artifact), "--data", str(test)))
            predictions = work / f"{target}.csv"
            run(args.train, "predict", "--model", str(artifact), "--data", str(test), "--out", str(predictions))
            model, oracle, labels, times, events = [], [], [], [], []
            with open(predictions, newline="") as f:
                for row in csv.DictReader(f):
                    if row["errors"]:
                        continue
                    source = truth[row["case_id"]]
                    times.append(float(source[time_column]))
                    events.append(source[event_column] == "true")
                    labels.append(label(source, horizon, time_column, event_column))
                    model.append(float(row["probability"]))
                    oracle.append(float(source[f"true_p_{target}"]))
            weights = censoring_weights(times, events, horizon)
            known = [i for i, l in enumerate(labels) if l is not None]
            model, oracle = [model[i] for i in known], [oracle[i] for i in known]
            weights, labels = [weights[i] for i in known], [labels[i] for i in known]
            ours, best = auc(model, labels, weights), auc(oracle, labels, weights)
            print(f"| {target} | {family} | {len(labels)} | {sum(labels)} | {ours:.4f} | {best:.4f} | {ours - best:+.4f} "
                  f"| {evaluation['calibration_slope']:.3f} | {evaluation['calibration_intercept']:+.3f} | {evaluation['ece']:.4f} |")
            if abs(ours - evaluation["auc"]) > 1e-6:
                print(f"note: evaluate reports AUC {evaluation['auc']:.4f} for {target} (it weights or selects rows differently)",
                      file=sys.stderr)


if __name__ == "__main__":
    main()
