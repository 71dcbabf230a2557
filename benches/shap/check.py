#!/usr/bin/env python3
"""Exact TreeSHAP checked by an outside implementation: the `shap` package.

Reads model artifacts (by default the default models, models/<target>-1.json;
or those --artifact names: a forest, a booster of more leaves), hands their trees
to `shap.TreeExplainer` in its custom tree format (children_left/right/
default, features, thresholds, values, node_sample_weight = the artifact's
covers) with feature_perturbation="tree_path_dependent", and compares its
SHAP values with CareScore's explanations of the same rows, read from
`carescore-explain-dump` (JSON lines: target, model checksum, raw design row, base value,
raw output, contributions per feature). shap gives one value per design
column; a feature's value is the sum over its columns (a category's one-hot
columns), as CareScore reports it.

    python benches/shap/check.py --models models --dump dump.jsonl [--tolerance 1e-9]
    python benches/shap/check.py --artifact forest.json --artifact booster.json --dump dump.jsonl

The dump's rows name their model by its checksum (model_sha256).

Exit status 1 when any value, base value or raw output differs by more than
the tolerance.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import shap

LEAF = 2**32 - 1


def shap_tree(tree, scale):
    """One artifact tree in shap's custom format (a leaf has children -1)."""
    leaf = np.array([f == LEAF for f in tree["feature"]])
    left = np.where(leaf, -1, np.array(tree["left"], dtype=np.int64))
    right = np.where(leaf, -1, np.array(tree["right"], dtype=np.int64))
    default = np.where(np.array(tree["missing_left"]), left, right)
    return {
        "children_left": left.astype(np.int32),
        "children_right": right.astype(np.int32),
        "children_default": default.astype(np.int32),
        "features": np.where(leaf, -2, np.array(tree["feature"], dtype=np.int64)).astype(np.int32),
        "thresholds": np.array(tree["threshold"], dtype=np.float64),
        "values": (np.array(tree["value"], dtype=np.float64) * scale).reshape(-1, 1),
        "node_sample_weight": np.array(tree["cover"], dtype=np.float64),
    }


def raw_width(feature):
    """Design columns of a feature in the trees' raw design (as carescore-core encodes it)."""
    kind = feature["kind"]
    width = len(kind["categories"]) if kind["type"] == "categorical" else 1
    return width


def explainer_of(artifact):
    estimator = artifact["estimator"]
    if estimator["type"] == "boosted_trees":
        trees, scale, offset = estimator["trees"], 1.0, estimator["base_score"]
    elif estimator["type"] == "random_forest":
        trees, scale, offset = estimator["trees"], 1.0 / len(estimator["trees"]), 0.0
    else:
        raise SystemExit(f"{artifact['target']}: not a tree model ({estimator['type']})")
    model = {"trees": [shap_tree(t, scale) for t in trees], "base_offset": offset, "internal_dtype": np.float64,
             "input_dtype": np.float64}
    return shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="models", help="directory of the default artifacts")
    parser.add_argument("--artifact", action="append", default=[],
                        help="an artifact the dump explains (repeatable; replaces --models)")
    parser.add_argument("--dump", required=True, help="carescore-explain-dump output")
    parser.add_argument("--tolerance", type=float, default=1e-9)
    parser.add_argument("--min-leaves", type=int, default=0,
                        help="fail unless some tree of the --artifact models has more leaves than this")
    args = parser.parse_args()

    paths = args.artifact or sorted(Path(args.models).glob("*-1.json"))
    artifacts = {}
    for path in paths:
        artifact = json.loads(Path(path).read_text())
        artifacts[artifact["sha256"]] = (str(path), artifact)
    rows = {}
    for line in open(args.dump):
        row = json.loads(line)
        rows.setdefault(row["model_sha256"], []).append(row)
    if not rows:
        raise SystemExit("the dump holds no rows")
    unknown = set(rows) - set(artifacts)
    if unknown:
        raise SystemExit(f"the dump explains models not given: {sorted(unknown)}")
    unexplained = [artifacts[sha][0] for sha in set(artifacts) - set(rows)]
    if unexplained:
        raise SystemExit(f"the dump has no rows for: {sorted(unexplained)}")
    largest = max(sum(1 for f in t["feature"] if f == LEAF)
                  for _, a in artifacts.values() for t in a["estimator"].get("trees", []))
    if largest <= args.min_leaves:
        raise SystemExit(f"no tree has more than {args.min_leaves} leaves (largest: {largest})")
    failures = 0
    print(f"shap {shap.__version__}, tolerance {args.tolerance:g}")
    for sha256, items in sorted(rows.items(), key=lambda kv: artifacts[kv[0]][0]):
        path, artifact = artifacts[sha256]
        target = f"{path} ({artifact['estimator']['type']})"
        explainer = explainer_of(artifact)
        owners = [i for i, f in enumerate(artifact["features"]) for _ in range(raw_width(f))]
        x = np.array([[np.nan if v is None else v for v in r["design"]] for r in items], dtype=np.float64)
        if x.shape[1] != len(owners):
            raise SystemExit(f"{target}: design width {x.shape[1]}, the features say {len(owners)}")
        values = explainer.shap_values(x)
        per_feature = np.zeros((len(items), len(artifact["features"])))
        for column, owner in enumerate(owners):
            per_feature[:, owner] += values[:, column]
        ours = np.array([r["contributions"] for r in items])
        expected = float(np.ravel(explainer.expected_value)[0])
        raw = np.array([r["raw"] for r in items])
        base = np.array([r["base_value"] for r in items])
        value_gap = np.abs(per_feature - ours).max()
        base_gap = np.abs(base - expected).max()
        # shap's local accuracy: its base value plus its values is the model's raw output.
        raw_gap = np.abs(expected + values.sum(axis=1) - raw).max()
        bad = int((np.abs(per_feature - ours) > args.tolerance).any(axis=1).sum())
        bad += int((np.abs(base - expected) > args.tolerance).sum() + (np.abs(expected + values.sum(axis=1) - raw) > args.tolerance).sum())
        failures += bad
        leaves = max(sum(1 for f in t["feature"] if f == LEAF) for t in artifact["estimator"]["trees"])
        print(f"{target}: {len(items)} rows, {len(artifact['estimator']['trees'])} trees of up to {leaves} leaves; max |difference|: "
              f"values {value_gap:.2e}, base value {base_gap:.2e}, base + values vs raw output {raw_gap:.2e}; "
              f"mismatches beyond the tolerance: {bad}")
    if failures:
        print(f"FAILED: {failures} mismatches", file=sys.stderr)
        sys.exit(1)
    print("every value matches")


if __name__ == "__main__":
    main()
