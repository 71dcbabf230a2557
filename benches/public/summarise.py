"""Prints the public benchmark's results as Markdown.

Why it exists: references.py writes one JSON object per task (every figure,
for the record); people read this summary: per task a table of the seven
learners and the paired differences, then the acceptance lines across tasks.

Usage:
    summarise.py RESULTS.jsonl     (the JSON lines references.py printed, one per task)

Acceptance lines (reported, never asserted; the wanted values are ours):
  - mean over tasks of AUC(auto) - AUC(best reference of that task), the best
    of LR-CV / HGB / LightGBM by mean AUC: >= -0.01 wanted;
  - the mean AUC over tasks of auto next to that of every single reference;
  - auto's calibration slope on every task with at least 100 events: 0.7-1.4 wanted.
"""

import json
import sys

ROWS = [("auto", "auto"), ("logistic", "logistic"), ("forest", "forest"), ("gbdt", "gbdt"),
        ("lr_cv", "LR-CV"), ("hgb", "HGB"), ("lightgbm", "LightGBM")]
REFERENCES = [("lr_cv", "LR-CV"), ("hgb", "HGB"), ("lightgbm", "LightGBM")]
MIN_EVENTS_FOR_SLOPE = 100
AUC_MARGIN = -0.01
SLOPE_RANGE = (0.7, 1.4)


def num(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}f}"


def signed(x, digits=3):
    return "n/a" if x is None else f"{x:+.{digits}f}"


def task_section(r):
    out = []
    out.append(f"### {r['task']}: `{r['target']}`")
    out.append("")
    out.append(f"{r['patients']} patients, {r['rows']} rows, {r['labelled']} labelled at {r['horizon_days']} days, "
               f"{r['events']} events (weighted event rate {r['weighted_event_rate']:.3f}); "
               f"{r['repeats']} x {r['folds']} patient-grouped folds.")
    out.append("")
    out.append("| learner | AUC (sd) | Brier | slope | intercept (CITL) | ECE |")
    out.append("|---|---|---|---|---|---|")
    for key, label in ROWS:
        m = r["learners"][key]
        undefined = "".join(f" ({m[k]} folds undefined)" for k in m if k.startswith("slope_undef"))
        out.append(f"| {label} | {num(m['auc'])} ({num(m.get('auc_sd'))}) | {num(m['brier'], 4)} | "
                   f"{num(m['slope'], 2)}{undefined} | {num(m['intercept'], 2)} | {num(m['ece'], 3)} |")
    out.append("")
    out.append("| reference | AUC(auto) - AUC(ref) [95% CI] | Brier(auto) - Brier(ref) [95% CI] |")
    out.append("|---|---|---|")
    for key, label in REFERENCES:
        a = r["paired"][key]["auc_auto_minus_ref"]
        b = r["paired"][key]["brier_auto_minus_ref"]
        out.append(f"| {label} | {signed(a['mean'])} [{signed(a['ci95_lower'])}, {signed(a['ci95_upper'])}] | "
                   f"{signed(b['mean'], 4)} [{signed(b['ci95_lower'], 4)}, {signed(b['ci95_upper'], 4)}] |")
    out.append("")
    notes = []
    ours = {c.get("candidate"): c for c in r.get("carescore_cv", [])}
    if "auto" in ours:
        # Our cv's own figures for auto next to the ones recomputed here from its predictions.
        own, here = ours["auto"], r["learners"]["auto"]
        notes.append(f"our cv's own figures for auto: AUC {num(own.get('auc'))} (recomputed {num(here['auc'])}), "
                     f"Brier {num(own.get('brier'), 4)} (recomputed {num(here['brier'], 4)})")
    if r.get("carescore_cv_seconds") is not None:
        notes.append(f"our cv took {r['carescore_cv_seconds']:.0f} s")
    seconds = r.get("reference_seconds", {})
    if seconds:
        notes.append("references fitted in " + ", ".join(f"{label} {seconds.get(k, 0):.0f} s" for k, label in REFERENCES))
    checks = r.get("checks", {})
    if checks.get("label_mismatches"):
        notes.append(f"**WARNING** {checks['label_mismatches']} labels of PRED.csv differ from the horizon rule")
    if checks.get("weight_max_abs_diff", 0) > 1e-6:
        notes.append(f"**WARNING** PRED.csv weights differ from the IPCW recomputed here by up to {checks['weight_max_abs_diff']:.3g}")
    for problem in checks.get("fold_problems", []):
        notes.append(f"**WARNING** {problem}")
    out += [f"- {n}" for n in notes]
    out.append("")
    return out


def acceptance(results):
    out = ["### Acceptance", ""]
    gaps = []
    out.append("| task | AUC auto | best reference | its AUC | auto - best |")
    out.append("|---|---|---|---|---|")
    for r in results:
        auto = r["learners"]["auto"]["auc"]
        best_key, best_label = max(REFERENCES, key=lambda kl: r["learners"][kl[0]]["auc"] or -1)
        best = r["learners"][best_key]["auc"]
        if auto is not None and best is not None:
            gaps.append(auto - best)
        out.append(f"| {r['task']} | {num(auto)} | {best_label} | {num(best)} | "
                   f"{signed(None if auto is None or best is None else auto - best)} |")
    out.append("")
    if gaps:
        mean_gap = sum(gaps) / len(gaps)
        verdict = "met" if mean_gap >= AUC_MARGIN else "NOT met"
        out.append(f"- Mean over {len(gaps)} tasks of AUC(auto) - AUC(best reference per task): "
                   f"**{mean_gap:+.4f}** (>= {AUC_MARGIN} wanted: {verdict}).")

    def mean_auc(key):
        values = [r["learners"][key]["auc"] for r in results if r["learners"][key]["auc"] is not None]
        return sum(values) / len(values) if values else None

    auto_mean = mean_auc("auto")
    parts = [f"auto {num(auto_mean, 4)}"]
    for key, label in REFERENCES:
        m = mean_auc(key)
        parts.append(f"{label} {num(m, 4)} (auto {signed(None if m is None or auto_mean is None else auto_mean - m, 4)})")
    out.append("- Mean AUC over tasks: " + "; ".join(parts) + ".")

    slopes = []
    for r in results:
        if r["events"] >= MIN_EVENTS_FOR_SLOPE:
            s = r["learners"]["auto"]["slope"]
            ok = s is not None and SLOPE_RANGE[0] <= s <= SLOPE_RANGE[1]
            slopes.append(f"{r['task']} {num(s, 2)} ({r['events']} events){'' if ok else ' **outside**'}")
    if slopes:
        out.append(f"- Calibration slope of auto on tasks with >= {MIN_EVENTS_FOR_SLOPE} events "
                   f"({SLOPE_RANGE[0]}-{SLOPE_RANGE[1]} wanted): " + "; ".join(slopes) + ".")
    else:
        out.append(f"- No task with >= {MIN_EVENTS_FOR_SLOPE} events: calibration slope not judged.")
    out.append("")
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarise.py RESULTS.jsonl")
    with open(sys.argv[1]) as handle:
        results = [json.loads(line) for line in handle if line.strip()]
    if not results:
        sys.exit(f"{sys.argv[1]}: no results")
    lines = ["## Public survival tables: CareScore `cv --model auto` against references", ""]
    lines += ["Every figure: mean over the test folds, weighted by the IPCW weights, one metric "
              "implementation for all learners (benches/public/README.md).", ""]
    for r in results:
        lines += task_section(r)
    lines += acceptance(results)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
