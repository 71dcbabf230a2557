"""Writes a stand-in PRED.csv (and cv stdout) for a task, without our trainer.

Why it exists: to test the Python half of the benchmark (references.py,
summarise.py, run.sh --fake) end to end while `carescore-train cv
--predictions` is not built. THE FIGURES IT LEADS TO MEAN NOTHING about
CareScore: the four "our" columns are made up here.

Usage:
    fake_predictions.py TASK.csv TASK.toml PRED.csv [--folds 5] [--repeats 5] [--seed 42] [--cv-json CV.jsonl]

What it imitates: labels and IPCW weights by the trainer's rule
(references.horizon_labels_and_weights); folds as crates/train/src/prepare/
folds.rs deals them (patients shuffled, those with an event first, dealt
round-robin; a different shuffle per repeat); only labelled rows are
written. The probability columns: `logistic` from a plain weighted
LogisticRegression fitted on each fold's training rows (median imputation,
scaling, one-hot), `forest` the same shrunk halfway to the training event
rate, `gbdt` the same with noise on the logit, `auto` = `logistic`.
"""

import argparse
import json
import os
import sys

import numpy as np
import pandas as pd

sys.dont_write_bytecode = True  # no __pycache__ in the repository from importing references.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from references import feature_frame, horizon_labels_and_weights, metrics  # noqa: E402

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402


def grouped_folds(groups, labels, k, rng):
    """Patient-grouped, outcome-stratified folds (as the trainer deals them)."""
    has_event = pd.Series(labels == 1).groupby(groups).any()
    patients = np.array(sorted(has_event.index))
    rng.shuffle(patients)
    patients = sorted(patients, key=lambda g: not has_event[g])  # stable: events first
    fold_of = {g: i % k for i, g in enumerate(patients)}
    return np.array([fold_of[g] for g in groups])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("spec")
    parser.add_argument("out")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cv-json", help="also write a stand-in of our cv's stdout here")
    args = parser.parse_args()

    import tomllib

    with open(args.spec, "rb") as handle:
        spec = tomllib.load(handle)
    data = pd.read_csv(args.data, keep_default_na=False, na_values=[""], low_memory=False)
    labels, weights = horizon_labels_and_weights(
        data[spec["time_column"]], data[spec["event_column"]], spec["horizon_days"])
    known = np.flatnonzero(labels >= 0)
    groups = data[spec.get("group_column", "patient_id")].to_numpy()[known]
    X, kinds = feature_frame(data, spec)
    X = X.iloc[known]
    numeric = [c for c in X.columns if kinds[c] != "categorical"]
    categorical = [c for c in X.columns if kinds[c] == "categorical"]
    for c in categorical:
        X[c] = X[c].astype(object).where(X[c].notna(), "(missing)")
    y, w = labels[known], weights[known]

    rng = np.random.default_rng(args.seed)
    parts = []
    for repeat in range(args.repeats):
        folds = grouped_folds(groups, y, args.folds, rng)
        p = np.zeros(len(known))
        forest = np.zeros(len(known))
        for f in range(args.folds):
            train, test = folds != f, folds == f
            prep = ColumnTransformer(
                [("num", Pipeline([("i", SimpleImputer(strategy="median")), ("s", StandardScaler())]), numeric),
                 ("cat", OneHotEncoder(handle_unknown="ignore"), categorical)], sparse_threshold=0)
            model = LogisticRegression(max_iter=5000)
            model.fit(prep.fit_transform(X[train]), y[train], sample_weight=w[train])
            p[test] = model.predict_proba(prep.transform(X[test]))[:, 1]
            rate = np.average(y[train], weights=w[train])
            forest[test] = 0.5 * p[test] + 0.5 * rate
        logit = np.log(p / (1 - p)) + rng.normal(0, 0.5, len(p))
        parts.append(pd.DataFrame({
            "repeat": repeat, "fold": folds, "row": known, "patient": groups, "label": y, "weight": w,
            "logistic": p, "forest": forest, "gbdt": 1 / (1 + np.exp(-logit)), "auto": p,
        }))
    pred = pd.concat(parts, ignore_index=True)
    pred.to_csv(args.out, index=False, float_format="%.10g")

    if args.cv_json:
        # Stand-in of our cv's stdout: per-fold means of the same metrics.
        with open(args.cv_json, "w") as handle:
            for name in ["logistic", "forest", "gbdt", "auto"]:
                figures = [metrics(t[name].to_numpy(), t["label"].to_numpy(), t["weight"].to_numpy())
                           for _, t in pred.groupby(["repeat", "fold"])]
                auc = np.array([m["auc"] for m in figures])
                brier = np.array([m["brier"] for m in figures])
                handle.write(json.dumps({
                    "candidate": name, "evaluations": len(figures),
                    "auc": float(np.nanmean(auc)), "auc_sd": float(np.nanstd(auc, ddof=1)),
                    "brier": float(brier.mean()), "brier_sd": float(brier.std(ddof=1)),
                    "calibration_slope": float(np.nanmean([m["slope"] for m in figures])),
                    "calibration_intercept": float(np.nanmean([m["intercept_joint"] for m in figures])),
                    "ece": float(np.mean([m["ece"] for m in figures])),
                }) + "\n")


if __name__ == "__main__":
    main()
