"""Trains LightGBM the way CareScore's booster is trained, on the same cohort,
and compares both on the same test rows. Usage:

    lightgbm_fit.py TRAIN.csv TEST.csv OUR_ARTIFACT.json OUR_PREDICTIONS.csv TARGET

Settings copied from our artifact and booster: as many boosting rounds as
ours ran (the trees its early stopping kept plus the 50 it grew past them
before stopping, at most 1,000), its learning rate, 15 leaves, at least max(20, min(200,
rows/500)) rows per leaf, L2 1.0 on leaf values, 255 bins, and the same 2
threads; trained on the rows whose label is known by the horizon (what IPCW
keeps, unweighted here), 4/5 for training and 1/5 monitored each round as our
early stopping does. Timed: binning (Dataset construction) + boosting, which
is what `estimator` covers in `carescore-train fit`'s timings. AUC of both
models on the test rows whose label is known and which CareScore accepted
(the rows with injected noise are refused by our validation)."""

import csv
import json
import math
import sys
import time

import lightgbm as lgb
import numpy as np

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/peer")
from record import CATEGORICAL, FEATURES, TARGETS, cell  # noqa: E402


def load(path, target):
    time_col, event_col, horizon = TARGETS[target]
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[cell(r[name], name) for name in FEATURES] for r in rows], dtype=np.float64)
    times = np.array([float(r[time_col]) for r in rows])
    events = np.array([r[event_col] == "true" for r in rows])
    label = events & (times <= horizon)
    known = label | (times >= horizon)
    return x, label.astype(np.float64), known


def auc(y, p):
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    # Average ranks over ties.
    _, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    positives = y == 1
    n1, n0 = positives.sum(), (~positives).sum()
    return (ranks[positives].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def main(train_path, test_path, artifact_path, predictions_path, target):
    artifact = json.load(open(artifact_path))
    estimator = artifact["estimator"]
    trees = len(estimator["trees"])
    x, y, known = load(train_path, target)
    x, y = x[known], y[known]
    n = len(y)
    order = np.random.default_rng(42).permutation(n)
    cut = n * 4 // 5
    train, valid = order[:cut], order[cut:]
    params = {
        "objective": "binary", "learning_rate": estimator["learning_rate"], "num_leaves": 15,
        "min_data_in_leaf": max(20, min(200, cut // 500)), "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l2": 1.0, "max_bin": 255, "num_threads": 2, "verbose": -1, "seed": 42,
        "deterministic": True,
    }
    started = time.perf_counter()
    train_set = lgb.Dataset(x[train], y[train], categorical_feature=CATEGORICAL, params=params)
    valid_set = lgb.Dataset(x[valid], y[valid], reference=train_set)
    rounds = min(trees + 50, 1000)
    booster = lgb.train(params, train_set, num_boost_round=rounds, valid_sets=[valid_set])
    seconds = time.perf_counter() - started

    tx, ty, tknown = load(test_path, target)
    with open(predictions_path, newline="") as f:
        ours = np.array([float(r["probability"]) if r["probability"] else math.nan for r in csv.DictReader(f)])
    rows = tknown & ~np.isnan(ours)
    # LightGBM's own model at our kept size, for the AUC.
    theirs = booster.predict(tx[rows], num_iteration=trees, num_threads=2)
    print(json.dumps({
        "target": target, "trees": trees, "rounds": rounds, "train_rows": int(cut), "lightgbm_seconds": round(seconds, 2),
        "test_rows": int(rows.sum()), "auc_carescore": round(float(auc(ty[rows], ours[rows])), 4),
        "auc_lightgbm": round(float(auc(ty[rows], theirs)), 4), "lightgbm_version": lgb.__version__,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:6])
