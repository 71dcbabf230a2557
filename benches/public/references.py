"""Reference learners and the one metric implementation of the public benchmark.

Why it exists: to compare our `cv --model auto` with standard learners fairly
they must be fitted on exactly our folds, labels and censoring weights, and
every learner (ours included) must be scored by the same code. Our trainer
writes its out-of-fold predictions with `cv --predictions PRED.csv`; this
script reads them, refits the references on the same training rows of every
(repeat, fold), and scores all seven learners fold by fold.

Usage:
    references.py TASK.csv TASK.toml PRED.csv [--task NAME] [--seed 42]
                  [--ours CV.jsonl] [--ours-seconds S]

PRED.csv (from our trainer): header, then one line per (repeat, labelled row):
    repeat,fold,row,patient,label,weight,logistic,forest,gbdt,auto
`row` is the 0-based data row of TASK.csv; the training rows of (repeat r,
fold f) are the rows of repeat r with fold != f; `weight` is the inverse
probability of censoring weight (the same for every learner, in fitting and
in every metric). --ours: our cv's stdout (one JSON line per candidate), kept
in the output next to the recomputed figures as a cross-check.

Prints one JSON object on stdout (see README.md for the fields).

Reference learners (scikit-learn / LightGBM defaults unless said):
  lr_cv     median imputation + missing indicators and standard scaling for
            numerics and booleans, one-hot for categoricals (missing as its
            own category), LogisticRegressionCV (L2, default 10 Cs, lbfgs,
            max_iter 10,000) choosing C by weighted log loss over 5
            patient-grouped stratified inner folds of the training rows.
  hgb       HistGradientBoostingClassifier, defaults, native missing values,
            categoricals natively (categorical_features="from_dtype").
  lightgbm  LGBMClassifier, defaults (verbose=-1, random_state=seed,
            deterministic, 1 thread), pandas categoricals natively.
All three get `weight` as sample_weight.

Metrics, per test fold, weighted by `weight` (see metrics() below):
  auc        sklearn roc_auc_score with sample_weight (ties count one half)
  brier      weighted mean of (p - y)^2
  slope      b of the weighted, unpenalised logistic regression
             y ~ a + b * logit(p) (Newton; NaN if it does not converge,
             e.g. a fold perfectly separated)
  intercept  calibration-in-the-large: a of y ~ a + offset(logit(p)), the
             slope fixed at 1 (0 is ideal; > 0: risks under-estimated).
             NOTE our trainer's own `calibration_intercept` is the `a` of
             the slope fit above, reported here as `intercept_joint`.
  ece        10 equal-width bins of p on [0, 1]: sum over bins of
             |sum w*p - sum w*y| / sum w
p is clamped to [1e-12, 1 - 1e-12] before logit, as in the trainer.
Per learner: the mean over the folds (folds where a metric is undefined are
left out and counted). Paired: d_j = AUC_j(auto) - AUC_j(ref) over the J =
folds x repeats test folds, mean d and a 95% interval by the Nadeau-Bengio
corrected resampled t: var = s_d^2 * (1/J + n_test/n_train), t with J - 1
degrees of freedom (n_test/n_train: the mean over folds of labelled test
rows over labelled training rows).
"""

import argparse
import json
import math
import os
import sys
import time
import tomllib
import warnings

import numpy as np
import pandas as pd
from scipy import optimize, stats

import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

# Lets LogisticRegressionCV pass the sample weights on to its scorer, so that
# C is chosen by the weighted log loss (without routing the scorer ignores them).
sklearn.set_config(enable_metadata_routing=True)
warnings.filterwarnings("ignore", category=FutureWarning)

OURS = ["auto", "logistic", "forest", "gbdt"]
REFERENCES = ["lr_cv", "hgb", "lightgbm"]
LEARNERS = OURS + REFERENCES
PRED_COLUMNS = ["repeat", "fold", "row", "patient", "label", "weight"] + OURS
ECE_BINS = 10
EPS = 1e-12


# --------------------------------------------------------------------------
# Labels and weights (the rule of crates/train/src/labels.rs), used to check
# PRED.csv and by fake_predictions.py.
# --------------------------------------------------------------------------


def horizon_labels_and_weights(times, events, horizon):
    """Fixed-horizon labels (1, 0 or -1 for 'censored before') and IPCW weights.

    Label 1: event by H; 0: followed through H (time >= H); else unknown.
    Weight of a known row: 1 / G(min(T, H)-), G the Kaplan-Meier estimate of
    the censoring distribution over all rows (censorings are its events; rows
    with an event at a censoring time stay in its risk set), 0 if unknown.
    """
    t = np.asarray(times, dtype=float)
    e = np.asarray(events).astype(bool)
    labels = np.where(e & (t <= horizon), 1, np.where(t >= horizon, 0, -1))
    # Kaplan-Meier of censoring: steps at the distinct censoring times.
    order = np.argsort(t, kind="stable")
    ts, cs = t[order], ~e[order]
    step_times, step_values = [], []
    at_risk, g, i = len(t), 1.0, 0
    while i < len(ts):
        j = i
        censored = 0
        while j < len(ts) and ts[j] == ts[i]:
            censored += int(cs[j])
            j += 1
        if censored:
            g *= 1.0 - censored / at_risk
            step_times.append(ts[i])
            step_values.append(g)
        at_risk -= j - i
        i = j
    step_times = np.asarray(step_times)
    step_values = np.asarray(step_values)

    def before(x):  # G(x-): survival of censoring just before x
        k = np.searchsorted(step_times, x, side="left")
        return 1.0 if k == 0 else step_values[k - 1]

    weights = np.array([0.0 if lab < 0 else 1.0 / before(min(tt, horizon)) for lab, tt in zip(labels, t)])
    return labels, weights


# --------------------------------------------------------------------------
# The one metric implementation, for every learner.
# --------------------------------------------------------------------------


def _logit(p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _expit(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def calibration_fit(p, y, w):
    """(a, b) of the weighted, unpenalised logistic fit y ~ a + b*logit(p), or (nan, nan).

    Newton-Raphson with step halving on the log-likelihood; a fit that does
    not converge in 100 steps, or runs off (|b| > 1000, a separated fold),
    is undefined.
    """
    x = _logit(p)
    X = np.column_stack([np.ones_like(x), x])
    w = w / w.sum() * len(w)  # scale does not change the estimate; keeps numbers moderate

    def loglik(beta):
        eta = X @ beta
        return float(np.sum(w * (y * eta - np.logaddexp(0, eta))))

    beta = np.array([0.0, 1.0])
    current = loglik(beta)
    for _ in range(100):
        mu = _expit(X @ beta)
        grad = X.T @ (w * (y - mu))
        hess = (X * (w * mu * (1 - mu))[:, None]).T @ X
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return math.nan, math.nan
        scale = 1.0
        while scale > 1e-8:
            candidate = beta + scale * step
            value = loglik(candidate)
            if value >= current - 1e-12:
                break
            scale /= 2
        beta, previous, current = candidate, current, value
        if abs(beta[1]) > 1000:
            return math.nan, math.nan
        if np.max(np.abs(scale * step)) < 1e-10 or abs(current - previous) < 1e-12:
            return float(beta[0]), float(beta[1])
    return math.nan, math.nan


def calibration_in_the_large(p, y, w):
    """a of y ~ a + offset(logit(p)): solves sum w*(y - expit(a + logit p)) = 0 (nan if no root)."""
    x = _logit(p)

    def score(a):
        return float(np.sum(w * (y - _expit(a + x))))

    lo, hi = -30.0, 30.0
    if score(lo) * score(hi) > 0:  # all labels equal: no finite root
        return math.nan
    return float(optimize.brentq(score, lo, hi, xtol=1e-12))


def metrics(p, y, w):
    """All figures of one learner on one test fold (weighted)."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    total = w.sum()
    both = 0 < (w * y).sum() < total
    auc = float(roc_auc_score(y, p, sample_weight=w)) if both else math.nan
    a_joint, slope = calibration_fit(p, y, w) if both else (math.nan, math.nan)
    bins = np.minimum((p * ECE_BINS).astype(int), ECE_BINS - 1)
    ece = sum(abs(np.sum(w[bins == b] * p[bins == b]) - np.sum(w[bins == b] * y[bins == b]))
              for b in range(ECE_BINS)) / total
    return {
        "auc": auc,
        "brier": float(np.sum(w * (p - y) ** 2) / total),
        "slope": slope,
        "intercept": calibration_in_the_large(p, y, w) if both else math.nan,
        "intercept_joint": a_joint,
        "ece": float(ece),
    }


def nadeau_bengio(differences, ratio):
    """Mean of the per-fold differences with the corrected resampled t 95% interval."""
    d = np.asarray([x for x in differences if not math.isnan(x)])
    J = len(d)
    mean = float(d.mean())
    if J < 2:
        return {"mean": mean, "ci95_lower": math.nan, "ci95_upper": math.nan, "folds": J}
    variance = float(d.var(ddof=1)) * (1.0 / J + ratio)
    half = float(stats.t.ppf(0.975, J - 1)) * math.sqrt(variance)
    return {"mean": mean, "ci95_lower": mean - half, "ci95_upper": mean + half,
            "sd": float(d.std(ddof=1)), "folds": J}


# --------------------------------------------------------------------------
# Reference learners.
# --------------------------------------------------------------------------


def feature_frame(data, spec):
    """The spec's features: numerics and booleans as floats (NaN missing),
    categoricals as pandas categories with the table's whole vocabulary (so
    train and test share one dtype; no label information is used)."""
    out = pd.DataFrame(index=data.index)
    kinds = {}
    for f in spec["features"]:
        name, kind = f["name"], f["kind"]
        kinds[name] = kind
        column = data[name]
        if kind == "categorical":
            values = column.where(column.notna(), None)
            categories = sorted(values.dropna().astype(str).unique())
            out[name] = pd.Categorical(values.map(lambda v: None if v is None else str(v)),
                                       categories=categories)
        elif kind == "boolean":
            text = column.astype(str).str.lower()
            out[name] = text.map({"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "1.0": 1.0, "0.0": 0.0})
        else:
            out[name] = pd.to_numeric(column, errors="raise").astype(float)
    return out, kinds


def fit_lr_cv(X, y, w, groups, kinds, seed):
    numeric = [c for c in X.columns if kinds[c] != "categorical"]
    categorical = [c for c in X.columns if kinds[c] == "categorical"]
    transformers = []
    if numeric:
        transformers.append(("num", Pipeline([
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]), numeric))
    if categorical:
        transformers.append(("cat", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]), categorical))
    prep = ColumnTransformer(transformers, sparse_threshold=0)
    # Categoricals to object arrays for the imputer / encoder.
    Xo = X.copy()
    for c in categorical:
        Xo[c] = Xo[c].astype(object).where(Xo[c].notna(), np.nan)
    design = prep.fit_transform(Xo)
    # Inner folds grouped by patient (no patient on both sides), stratified by label.
    inner = list(StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed).split(design, y, groups))
    scorer = get_scorer("neg_log_loss").set_score_request(sample_weight=True)
    model = LogisticRegressionCV(Cs=10, l1_ratios=(0,), cv=inner, scoring=scorer, max_iter=10_000,
                                 use_legacy_attributes=False)
    model.fit(design, y, sample_weight=w)

    def predict(X_test):
        Xt = X_test.copy()
        for c in categorical:
            Xt[c] = Xt[c].astype(object).where(Xt[c].notna(), np.nan)
        return model.predict_proba(prep.transform(Xt))[:, 1]

    return predict


def fit_hgb(X, y, w, seed):
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    model.fit(X, y, sample_weight=w)
    return lambda X_test: model.predict_proba(X_test)[:, 1]


def fit_lightgbm(X, y, w, seed):
    import lightgbm as lgb

    model = lgb.LGBMClassifier(verbose=-1, random_state=seed, deterministic=True, n_jobs=1)
    model.fit(X, y, sample_weight=w)
    return lambda X_test: model.predict_proba(X_test)[:, 1]


# --------------------------------------------------------------------------


def read_inputs(data_path, spec_path, pred_path):
    with open(spec_path, "rb") as handle:
        spec = tomllib.load(handle)
    # Only an empty cell is missing (as in our reader): "NA" or "None" would be text.
    data = pd.read_csv(data_path, keep_default_na=False, na_values=[""], low_memory=False)
    pred = pd.read_csv(pred_path)
    missing = [c for c in PRED_COLUMNS if c not in pred.columns]
    if missing:
        sys.exit(f"{pred_path}: missing column(s) {missing}")
    for c in ["repeat", "fold", "row", "patient", "label"]:
        pred[c] = pred[c].astype(int)
    if pred["row"].min() < 0 or pred["row"].max() >= len(data):
        sys.exit(f"{pred_path}: `row` outside 0..{len(data) - 1}")
    for c in OURS:
        if pred[c].isna().any() or not pred[c].between(0, 1).all():
            sys.exit(f"{pred_path}: `{c}` has missing values or values outside [0, 1]")
    return spec, data, pred


def checks(spec, data, pred):
    """Consistency of PRED.csv with TASK.csv / TASK.toml: what every learner relies on."""
    out = {}
    group = spec.get("group_column", "patient_id")
    labels, weights = horizon_labels_and_weights(
        data[spec["time_column"]], data[spec["event_column"]], spec["horizon_days"])
    rows = pred["row"].to_numpy()
    out["label_mismatches"] = int(np.sum(labels[rows] != pred["label"].to_numpy()))
    out["weight_max_abs_diff"] = float(np.max(np.abs(weights[rows] - pred["weight"].to_numpy())))
    known = set(np.flatnonzero(labels >= 0))
    problems = []
    for r, part in pred.groupby("repeat"):
        if part["row"].duplicated().any():
            problems.append(f"repeat {r}: a row appears twice")
        if set(part["row"]) != known:
            problems.append(f"repeat {r}: {len(part)} rows, {len(known)} labelled rows in the table")
        # A patient in two folds of one repeat would leak.
        folds_per_patient = data[group].iloc[part["row"]].groupby(part["fold"].to_numpy()).unique()
        seen = {}
        for fold, patients in folds_per_patient.items():
            for p in patients:
                if p in seen and seen[p] != fold:
                    problems.append(f"repeat {r}: patient {p} in folds {seen[p]} and {fold}")
                    break
                seen[p] = fold
    out["fold_problems"] = problems[:10]
    for message in ([f"{out['label_mismatches']} labels differ from the horizon rule"]
                    if out["label_mismatches"] else []) + \
                   ([f"weights differ by up to {out['weight_max_abs_diff']:.3g}"]
                    if out["weight_max_abs_diff"] > 1e-6 else []) + problems:
        print(f"references.py: warning: {message}", file=sys.stderr)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("spec")
    parser.add_argument("pred")
    parser.add_argument("--task", help="task name in the output (default: the CSV's stem)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--ours", help="our cv's stdout (JSON lines), kept as a cross-check")
    parser.add_argument("--ours-seconds", type=float, help="wall time of our cv run, kept in the output")
    args = parser.parse_args()
    task = args.task or os.path.splitext(os.path.basename(args.data))[0]
    started = time.perf_counter()

    spec, data, pred = read_inputs(args.data, args.spec, args.pred)
    consistency = checks(spec, data, pred)
    X_all, kinds = feature_frame(data, spec)
    group = spec.get("group_column", "patient_id")

    # Out-of-fold predictions of the references, aligned with PRED's lines.
    for name in REFERENCES:
        pred[name] = np.nan
    seconds = {name: 0.0 for name in REFERENCES}
    ratios = []
    for (r, f), test in pred.groupby(["repeat", "fold"]):
        train = pred[(pred["repeat"] == r) & (pred["fold"] != f)]
        ratios.append(len(test) / len(train))
        X_train = X_all.iloc[train["row"].to_numpy()]
        X_test = X_all.iloc[test["row"].to_numpy()]
        y = train["label"].to_numpy()
        w = train["weight"].to_numpy()
        fitters = {
            "lr_cv": lambda: fit_lr_cv(X_train, y, w, train["patient"].to_numpy(), kinds, args.seed),
            "hgb": lambda: fit_hgb(X_train, y, w, args.seed),
            "lightgbm": lambda: fit_lightgbm(X_train, y, w, args.seed),
        }
        for name, fit in fitters.items():
            t0 = time.perf_counter()
            pred.loc[test.index, name] = fit()(X_test)
            seconds[name] += time.perf_counter() - t0

    # Every learner, every test fold, one metric implementation.
    per_fold = []
    for (r, f), test in pred.groupby(["repeat", "fold"]):
        y, w = test["label"].to_numpy(), test["weight"].to_numpy()
        per_fold.append({"repeat": int(r), "fold": int(f),
                         **{name: metrics(test[name].to_numpy(), y, w) for name in LEARNERS}})

    learners = {}
    for name in LEARNERS:
        summary = {}
        for m in ["auc", "brier", "slope", "intercept", "intercept_joint", "ece"]:
            values = np.array([fold[name][m] for fold in per_fold])
            defined = values[~np.isnan(values)]
            summary[m] = float(defined.mean()) if len(defined) else None
            if m == "auc":
                summary["auc_sd"] = float(defined.std(ddof=1)) if len(defined) > 1 else None
            if len(defined) < len(values):
                summary[f"{m}_undefined_folds"] = int(len(values) - len(defined))
        learners[name] = summary

    ratio = float(np.mean(ratios))
    paired = {}
    for ref in REFERENCES:
        paired[ref] = {
            "auc_auto_minus_ref": nadeau_bengio([fold["auto"]["auc"] - fold[ref]["auc"] for fold in per_fold], ratio),
            "brier_auto_minus_ref": nadeau_bengio([fold["auto"]["brier"] - fold[ref]["brier"] for fold in per_fold], ratio),
        }

    one_repeat = pred[pred["repeat"] == pred["repeat"].min()]
    result = {
        "task": task,
        "target": spec["target"],
        "horizon_days": spec["horizon_days"],
        "patients": int(data[group].nunique()),
        "rows": len(data),
        "labelled": len(one_repeat),
        "events": int(one_repeat["label"].sum()),
        "weighted_event_rate": float(np.average(one_repeat["label"], weights=one_repeat["weight"])),
        "repeats": int(pred["repeat"].nunique()),
        "folds": int(pred["fold"].nunique()),
        "test_over_train": ratio,
        "learners": learners,
        "paired": paired,
        "checks": consistency,
        "reference_seconds": {k: round(v, 2) for k, v in seconds.items()},
        "seconds": round(time.perf_counter() - started, 2),
        "versions": {"sklearn": sklearn.__version__, "lightgbm": __import__("lightgbm").__version__},
    }
    if args.ours:
        with open(args.ours) as handle:
            result["carescore_cv"] = [json.loads(line) for line in handle if line.strip().startswith("{")]
    if args.ours_seconds is not None:
        result["carescore_cv_seconds"] = round(args.ours_seconds, 2)
    # NaN is not JSON: undefined figures are null.
    print(json.dumps(_nulls(result), allow_nan=False))


def _nulls(x):
    if isinstance(x, dict):
        return {k: _nulls(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_nulls(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


if __name__ == "__main__":
    main()
