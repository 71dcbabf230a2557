"""Writes the public survival tables of the reference benchmark as CareScore
training tasks: TASK.csv (one row per patient snapshot) and TASK.toml (the
training spec of README "Other data sets: training specs").

Why it exists: the benchmark compares our `cv --model auto` with
scikit-learn and LightGBM on real clinical tables, and every learner must see
the same rows, the same fixed-horizon labels and the same censoring weights.
The tables come only from the PyPI packages scikit-survival and lifelines
(they ship the data inside the wheel), so nothing else is downloaded.

Usage:
    tables.py OUTDIR [--tasks gbsg2,whas500,...]

Writes OUTDIR/TASK.csv and OUTDIR/TASK.toml for each task and prints one
JSON line per task on stdout: rows, patients, events (any time), and at the
horizon the labelled rows, events, event-free rows and rows censored before
it (the rule of crates/train/src/labels.rs: event by H -> 1, followed through
H -> 0, censored before H -> no label).

Every CSV has: patient_id (integer), time_days (days from the snapshot to
the event or to censoring), event (0/1), then the predictors: numerics as
numbers, booleans as 0/1, categoricals as text; a missing value is an empty
cell. Column names are snake_case (dots of the R names become `_`).
"""

import argparse
import json
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore", category=FutureWarning)

# Days per week for lifelines' rossi (follow-up in weeks). No other outcome
# time is in weeks, months or years: gbsg2, whas500, veterans, aids, flchain,
# lung and stanford are all in days already. (Some predictors keep their own
# units: veterans `months_from_diagnosis`, aids `priorzdv` in months, stanford
# `year` in years; they are predictors, not outcome times, and stay as given.)
DAYS_PER_WEEK = 7.0


def _sksurv(loader, **kwargs):
    """A scikit-survival table as (features DataFrame, time array, event array)."""
    from sksurv import datasets

    x, y = getattr(datasets, loader)(**kwargs)
    event_field, time_field = y.dtype.names  # e.g. ('cens', 'time'): event indicator first
    return x.copy(), y[time_field].astype(float), y[event_field].astype(int)


def _frame(time, event, features, patient_id=None):
    """Assembles the CSV layout: patient_id, time_days, event, predictors."""
    n = len(time)
    out = pd.DataFrame(
        {
            "patient_id": np.arange(1, n + 1) if patient_id is None else np.asarray(patient_id),
            "time_days": np.asarray(time, dtype=float),
            "event": np.asarray(event, dtype=int),
        }
    )
    features = features.reset_index(drop=True)
    for name in features.columns:
        out[name] = features[name]
    return out


def _text(series, mapping=None):
    """A categorical column as plain text (missing stays missing)."""
    s = series.astype(object)
    if mapping is not None:
        s = s.map(lambda v: mapping.get(str(v), v) if pd.notna(v) else v)
    return s.where(pd.notna(s), None)


def _flag(series):
    """A 0/1 (or '0'/'1', 'no'/'yes') column as 0/1 numbers."""
    return series.astype(str).map({"0": 0, "1": 1, "no": 0, "yes": 1, "0.0": 0, "1.0": 1}).astype(int)


# --------------------------------------------------------------------------
# The tables. Each builder returns (frame, [(feature, kind)], outcome words).
# --------------------------------------------------------------------------


def gbsg2():
    # German Breast Cancer Study Group 2: recurrence-free survival, days.
    x, t, e = _sksurv("load_gbsg2")
    f = pd.DataFrame(
        {
            "age": x["age"],
            "estrec": x["estrec"],
            "hormonal_therapy": _flag(x["horTh"]),
            "menostat": _text(x["menostat"]).str.lower(),
            "pnodes": x["pnodes"],
            "progrec": x["progrec"],
            "tgrade": _text(x["tgrade"]),
            "tsize": x["tsize"],
        }
    )
    kinds = [("age", "numeric"), ("estrec", "numeric"), ("hormonal_therapy", "boolean"),
             ("menostat", "categorical"), ("pnodes", "numeric"), ("progrec", "numeric"),
             ("tgrade", "categorical"), ("tsize", "numeric")]
    return _frame(t, e, f), kinds, "recurrence or death"


def whas500():
    # Worcester Heart Attack Study: death after the index myocardial infarction, days (lenfol).
    x, t, e = _sksurv("load_whas500")
    f = pd.DataFrame({"age": x["age"], "bmi": x["bmi"], "diasbp": x["diasbp"], "hr": x["hr"],
                      "los": x["los"], "sysbp": x["sysbp"]})
    # The 0/1 columns sksurv gives as categories; `gender` 1 = female, renamed so.
    for name, new in [("afb", "afb"), ("av3", "av3"), ("chf", "chf"), ("cvd", "cvd"),
                      ("gender", "female"), ("miord", "miord"), ("mitype", "mitype"), ("sho", "sho")]:
        f[new] = _flag(x[name])
    kinds = [(c, "numeric") for c in ["age", "bmi", "diasbp", "hr", "los", "sysbp"]]
    kinds += [(c, "boolean") for c in ["afb", "av3", "chf", "cvd", "female", "miord", "mitype", "sho"]]
    return _frame(t, e, f), kinds, "death"


def veterans():
    # Veterans' Administration lung cancer trial: death, days.
    x, t, e = _sksurv("load_veterans_lung_cancer")
    f = pd.DataFrame(
        {
            "age": x["Age_in_years"],
            "celltype": _text(x["Celltype"]),
            "karnofsky": x["Karnofsky_score"],
            "months_from_diagnosis": x["Months_from_Diagnosis"],
            "prior_therapy": _flag(x["Prior_therapy"]),
            "test_treatment": x["Treatment"].astype(str).map({"standard": 0, "test": 1}).astype(int),
        }
    )
    kinds = [("age", "numeric"), ("celltype", "categorical"), ("karnofsky", "numeric"),
             ("months_from_diagnosis", "numeric"), ("prior_therapy", "boolean"),
             ("test_treatment", "boolean")]
    return _frame(t, e, f), kinds, "death"


def aids():
    # ACTG 320 trial. Endpoint: the AIDS-defining event or death (sksurv's
    # default `endpoint="aids"`: 96 events), not death alone (26 events, too
    # few to compare learners). Days.
    x, t, e = _sksurv("load_aids", endpoint="aids")
    f = pd.DataFrame(
        {
            "age": x["age"],
            "cd4": x["cd4"],
            "hemophilia": _flag(x["hemophil"]),
            "ivdrug": _text(x["ivdrug"], {"1": "never", "2": "current", "3": "previous"}),
            # Karnofsky 70/80/90/100: ordered, so a number.
            "karnofsky": x["karnof"].astype(str).astype(float),
            "priorzdv_months": x["priorzdv"],
            "raceth": _text(x["raceth"], {"1": "white", "2": "black", "3": "hispanic",
                                          "4": "asian_pacific", "5": "american_indian",
                                          "6": "other"}),
            "female": x["sex"].astype(str).map({"1": 0, "2": 1}).astype(int),
            "cd4_above_50": _flag(x["strat2"]),
            "indinavir": _flag(x["tx"]),
            "txgrp": _text(x["txgrp"], {"1": "zdv_3tc", "2": "zdv_3tc_idv", "3": "d4t_3tc",
                                        "4": "d4t_3tc_idv"}),
        }
    )
    kinds = [("age", "numeric"), ("cd4", "numeric"), ("hemophilia", "boolean"),
             ("ivdrug", "categorical"), ("karnofsky", "numeric"), ("priorzdv_months", "numeric"),
             ("raceth", "categorical"), ("female", "boolean"), ("cd4_above_50", "boolean"),
             ("indinavir", "boolean"), ("txgrp", "categorical")]
    return _frame(t, e, f), kinds, "AIDS-defining event or death"


def flchain():
    # Serum free light chain cohort (Olmsted County): death, days (futime).
    # `chapter` (the cause of death's ICD chapter) is left out: it is filled
    # exactly for the patients who died, so it would leak the outcome.
    x, t, e = _sksurv("load_flchain")
    f = pd.DataFrame(
        {
            "age": x["age"],
            "creatinine": x["creatinine"],
            # Decile group of the total free light chain (1-10): ordered, so a number.
            "flc_grp": x["flc.grp"].astype(str).astype(float),
            "kappa": x["kappa"],
            "lambda": x["lambda"],
            "mgus": _flag(x["mgus"]),
            "sample_yr": x["sample.yr"].astype(str).astype(float),
            "sex": _text(x["sex"]),
        }
    )
    kinds = [("age", "numeric"), ("creatinine", "numeric"), ("flc_grp", "numeric"),
             ("kappa", "numeric"), ("lambda", "numeric"), ("mgus", "boolean"),
             ("sample_yr", "numeric"), ("sex", "categorical")]
    return _frame(t, e, f), kinds, "death"


def rossi():
    # Rossi et al. (1980) released prisoners: re-arrest, WEEKS -> days (x 7).
    # Not clinical, but a clean, uncensored-until-one-year survival table.
    from lifelines import datasets

    d = datasets.load_rossi()
    f = d[["fin", "age", "race", "wexp", "mar", "paro", "prio"]]
    kinds = [("fin", "boolean"), ("age", "numeric"), ("race", "boolean"), ("wexp", "boolean"),
             ("mar", "boolean"), ("paro", "boolean"), ("prio", "numeric")]
    return _frame(d["week"] * DAYS_PER_WEEK, d["arrest"], f), kinds, "re-arrest"


def stanford():
    # Stanford heart transplant programme (start/stop form, days from
    # acceptance; a transplanted patient has a pre- and a post-transplant
    # row). Each row becomes one snapshot taken at its `start`: the
    # predictors as they are then (transplant status at the snapshot, plus
    # `days_since_acceptance` = start) and the outcome is the PATIENT's death
    # counted from that start: time = the patient's last `stop` - start,
    # event = the patient's last `event`. A transplant is therefore not a
    # censoring of the pre-transplant snapshot (the patient is still followed;
    # treating it as censoring would be informative, as sicker patients are
    # transplanted sooner), and "death within H days of the snapshot" is the
    # question at both snapshots. patient_id keeps a patient's two snapshots
    # in one fold. `age` is age - 48 years and `year` years since 1 Nov 1967
    # (the lifelines/R coding), kept as given.
    from lifelines import datasets

    d = datasets.load_stanford_heart_transplants().sort_values(["id", "start"]).reset_index(drop=True)
    last = d.groupby("id").agg(last_stop=("stop", "max"), last_event=("event", "last"))
    d = d.join(last, on="id")
    assert (d["last_stop"] >= d["start"]).all()
    f = pd.DataFrame(
        {
            "age": d["age"],
            "year": d["year"],
            "surgery": d["surgery"].astype(int),
            "transplant": d["transplant"].astype(int),
            "days_since_acceptance": d["start"],
        }
    )
    kinds = [("age", "numeric"), ("year", "numeric"), ("surgery", "boolean"),
             ("transplant", "boolean"), ("days_since_acceptance", "numeric")]
    return _frame(d["last_stop"] - d["start"], d["last_event"], f, patient_id=d["id"]), kinds, "death"


def lung():
    # NCCTG advanced lung cancer: death, days. lifelines codes status 1 = dead,
    # sex 1 = male / 2 = female. `inst` (the enrolling institution, 18 codes,
    # some with 1-2 patients) is left out: a site code, not a patient predictor.
    from lifelines import datasets

    d = datasets.load_lung()
    f = pd.DataFrame(
        {
            "age": d["age"].astype(float),
            "sex": d["sex"].map({1: "male", 2: "female"}),
            "ph_ecog": d["ph.ecog"],
            "ph_karno": d["ph.karno"],
            "pat_karno": d["pat.karno"],
            "meal_cal": d["meal.cal"],
            "wt_loss": d["wt.loss"],
        }
    )
    kinds = [("age", "numeric"), ("sex", "categorical"), ("ph_ecog", "numeric"),
             ("ph_karno", "numeric"), ("pat_karno", "numeric"), ("meal_cal", "numeric"),
             ("wt_loss", "numeric")]
    return _frame(d["time"].astype(float), d["status"], f), kinds, "death"


# Task name -> (builder, horizon in days, target name, why this horizon).
# The horizon is chosen where both labels are common and few rows are
# censored before it (counts from these tables; tables.py prints them).
TASKS = {
    "gbsg2": (gbsg2, 730, "gbsg2_recurrence_730d",
              "2 years: 165 events vs 458 event-free, 9% censored before (3 years: 19% censored)"),
    "whas500": (whas500, 365, "whas500_death_365d",
                "1-year mortality after MI: 138 vs 362, nobody censored before (first censoring at day 368)"),
    "veterans": (veterans, 90, "veterans_death_90d",
                 "median survival is about 80 days: 73 vs 61, 3 censored before"),
    "aids": (aids, 180, "aids_aids_or_death_180d",
             "the trial stopped early (follow-up <= 364 days): 77 events, 19% censored before; "
             "later horizons lose a third or more of the rows to censoring"),
    "flchain": (flchain, 1826, "flchain_death_1826d",
                "5 years: 935 deaths vs 6744, 2% censored before (10 years: 13%)"),
    "rossi": (rossi, 364, "rossi_arrest_364d",
              "the end of follow-up (52 weeks): everyone is labelled, 114 arrests vs 318"),
    "stanford": (stanford, 180, "stanford_heart_death_180d",
                 "6 months from the snapshot: 88 deaths vs 74 event-free rows, 6% censored before"),
    "lung": (lung, 180, "lung_death_180d",
             "6 months: 63 vs 159, 3% censored before (1 year: 18% censored)"),
}

# Keys of the spec that this file writes: every one is documented in README
# "Other data sets: training specs" and accepted by crates/train/src/spec.rs.
SPEC_KEYS = {"target", "time_column", "event_column", "horizon_days", "censoring", "group_column", "features"}
FEATURE_KEYS = {"name", "kind"}
KINDS = {"numeric", "categorical", "boolean"}


def toml_text(task, target, horizon, reason, outcome, kinds):
    """The training spec (hand-written TOML: plain names, no escaping needed)."""
    lines = [
        f"# {task}: {outcome} within {horizon} days (written by benches/public/tables.py).",
        f"# Horizon: {reason}.",
        f'target = "{target}"',
        'time_column = "time_days"',
        'event_column = "event"',
        f"horizon_days = {horizon}",
        'censoring = "ipcw"',
        'group_column = "patient_id"',
    ]
    for name, kind in kinds:
        assert kind in KINDS and name.replace("_", "").isalnum() and name.islower(), (name, kind)
        lines += ["", "[[features]]", f'name = "{name}"', f'kind = "{kind}"']
    return "\n".join(lines) + "\n"


def horizon_counts(time, event, horizon):
    """Labelled rows, events, event-free rows and censored-before rows at the horizon."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(bool)
    positive = e & (t <= horizon)
    negative = ~positive & (t >= horizon)
    return int(positive.sum()), int(negative.sum()), int((~positive & ~negative).sum())


def check_for_our_reader(frame, kinds, task):
    """Fails if a column would be read with the wrong type by our CSV reader.

    Polars (our reader) infers a column's type from the first 100 rows: a
    numeric column that is empty there would become text and be refused.
    Other checks: ids integer, time >= 0, event 0/1 everywhere, booleans 0/1.
    """
    head = frame.head(100)
    for name, kind in kinds:
        column = frame[name]
        if kind in ("numeric", "boolean") and head[name].isna().all():
            sys.exit(f"{task}: `{name}` is empty in the first 100 rows (would be read as text)")
        if kind == "boolean" and not column.dropna().isin([0, 1]).all():
            sys.exit(f"{task}: boolean `{name}` has values other than 0/1")
        if kind == "categorical":
            values = column.dropna().astype(str)
            # Text categories only (not numbers) so the reader's type is the same from row 1 to the end.
            if values.str.fullmatch(r"-?[0-9.]+").any():
                sys.exit(f"{task}: categorical `{name}` has numeric-looking values")
    if not (frame["time_days"] >= 0).all() or frame["time_days"].isna().any():
        sys.exit(f"{task}: a follow-up time is missing or negative")
    if not frame["event"].isin([0, 1]).all():
        sys.exit(f"{task}: event is not 0/1 in every row")
    if frame["patient_id"].isna().any() or not np.issubdtype(frame["patient_id"].dtype, np.integer):
        sys.exit(f"{task}: patient_id is not an integer in every row")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma list of " + ",".join(TASKS))
    args = parser.parse_args()
    tasks = [t for t in args.tasks.split(",") if t]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        sys.exit(f"unknown task(s) {unknown}; known: {','.join(TASKS)}")
    args.outdir.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        build, horizon, target, reason = TASKS[task]
        frame, kinds, outcome = build()
        check_for_our_reader(frame, kinds, task)
        frame.to_csv(args.outdir / f"{task}.csv", index=False, na_rep="")
        spec = toml_text(task, target, horizon, reason, outcome, kinds)
        # Read the spec back: only documented keys, and the columns it names exist.
        parsed = tomllib.loads(spec)
        assert set(parsed) <= SPEC_KEYS, set(parsed) - SPEC_KEYS
        assert all(set(f) <= FEATURE_KEYS for f in parsed["features"])
        assert all(f["name"] in frame.columns for f in parsed["features"])
        (args.outdir / f"{task}.toml").write_text(spec)
        pos, neg, censored = horizon_counts(frame["time_days"], frame["event"], horizon)
        print(json.dumps({
            "task": task,
            "target": target,
            "outcome": outcome,
            "horizon_days": horizon,
            "rows": len(frame),
            "patients": int(frame["patient_id"].nunique()),
            "events_any_time": int(frame["event"].sum()),
            "labelled": pos + neg,
            "events_by_horizon": pos,
            "event_free_through_horizon": neg,
            "censored_before_horizon": censored,
            "features": len(kinds),
            "missing_cells": int(frame[[k for k, _ in kinds]].isna().sum().sum()),
        }))


if __name__ == "__main__":
    main()
