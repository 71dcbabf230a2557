"""Trains the peer's LightGBM models on a CareScore synthetic cohort (CSV),
the way a data scientist would: drop rows censored before the horizon, label
the rest, LightGBM with early stopping. Usage: train.py COHORT.csv OUT_DIR"""

import csv
import sys
import time

import lightgbm as lgb
import numpy as np

from record import CATEGORICAL, FEATURES, TARGETS, cell


def main(path, out):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[cell(r[name], name) for name in FEATURES] for r in rows], dtype=np.float64)
    for target, (time_col, event_col, horizon) in TARGETS.items():
        times = np.array([float(r[time_col]) for r in rows])
        events = np.array([r[event_col] == "true" for r in rows])
        label = events & (times <= horizon)
        known = label | (times >= horizon)
        xs, ys = x[known], label[known].astype(np.float64)
        n = len(ys)
        rng = np.random.default_rng(42)
        order = rng.permutation(n)
        cut = int(n * 0.8)
        train, valid = order[:cut], order[cut:]
        params = {
            "objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 40,
            "lambda_l2": 1.0, "max_bin": 255, "num_threads": 1, "verbose": -1, "seed": 42,
        }
        started = time.time()
        booster = lgb.train(
            params,
            lgb.Dataset(xs[train], ys[train], categorical_feature=CATEGORICAL, free_raw_data=False),
            num_boost_round=1000,
            valid_sets=[lgb.Dataset(xs[valid], ys[valid], categorical_feature=CATEGORICAL)],
            callbacks=[lgb.early_stopping(50, verbose=False)],
        )
        booster.save_model(f"{out}/{target}.txt")
        print(f"{target}: {booster.num_trees()} trees in {time.time() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
