//! The model card: a markdown summary for clinical reviewers, under TRIPOD+AI
//! headings.

use std::fmt::Write;
use std::path::Path;

use carescore_core::artifact::Calibration;

use crate::spec::SpecOutcome;
use crate::training::Fitted;

fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"))
}

/// Renders the model card of a fitted model trained on `data`.
pub fn render(fitted: &Fitted, data: &Path) -> String {
    let a = &fitted.artifact;
    let v = &fitted.validation;
    let s = &fitted.screening;
    let mut out = String::new();
    let _ = writeln!(out, "# Model card: {}\n", a.model_version());
    let _ = writeln!(out, "## Intended use\n");
    match fitted.target.outcome() {
        SpecOutcome::TimeEvent { .. } if fitted.target.spec().is_none() => {
            let _ = writeln!(
                out,
                "Predicts the probability of `{}` within {} days of the index date for adult solid-organ transplant \
                 recipients followed by a case-management programme, to support triage into care tiers. Not a \
                 diagnosis; not for use outside the population it was trained on.\n",
                a.target, a.horizon_days
            );
        }
        SpecOutcome::TimeEvent { .. } => {
            let _ = writeln!(
                out,
                "Predicts the probability of `{}` within {} days, trained through a training spec on the data \
                 below. Its intended population and use are those of the data set; not for use outside it.\n",
                a.target, a.horizon_days
            );
        }
        SpecOutcome::Label(column) => {
            let _ = writeln!(
                out,
                "Predicts the probability that `{column}` is 1 (target `{}`), trained through a training spec on the \
                 data below. Its intended population and use are those of the data set; not for use outside it.\n",
                a.target
            );
        }
    }
    let _ = writeln!(out, "## Data\n");
    // The file name only: a full path would make the card depend on where it was built.
    let name = data
        .file_name()
        .map_or_else(|| data.display().to_string(), |n| n.to_string_lossy().into_owned());
    let _ = writeln!(out, "- Source: `{name}` (sha256 `{}`)", a.training_data.sha256);
    let _ = writeln!(
        out,
        "- Rows read: {}; excluded for breaking hard ranges: {}",
        s.rows_read, s.rows_excluded
    );
    for (column, count) in &s.excluded_by_column {
        let _ = writeln!(out, "  - `{column}`: {count}");
    }
    let _ = writeln!(out, "- Rows kept with plausibility warnings: {}", s.rows_with_warnings);
    for (rule, count) in &s.warnings_by_rule {
        let _ = writeln!(out, "  - `{rule}`: {count}");
    }
    let _ = writeln!(
        out,
        "- Rows with a known label at the horizon: {} ({} events)\n",
        a.training_data.rows, a.training_data.events
    );
    let _ = writeln!(out, "## Outcome and label rule\n");
    if let SpecOutcome::Label(column) = fitted.target.outcome() {
        let _ = writeln!(
            out,
            "The label is the value of `{column}` (1/true or 0/false); rows without one are not used. No censoring \
             applies: every row has weight 1.\n"
        );
    } else {
        let _ = writeln!(
        out,
        "Label 1 if the event occurred by day {h}; 0 if followed event-free through day {h}; rows censored before \
         day {h} are not negatives. Censoring is handled by inverse probability of censoring weights (Kaplan-Meier \
         of the censoring distribution) unless `--censoring drop` was chosen; the same weights enter fitting and every metric.\n",
            h = a.horizon_days
        );
    }
    let _ = writeln!(out, "## Model\n");
    let _ = writeln!(out, "{}\n", fitted.description);
    let calibration = match &a.calibration {
        Calibration::Identity => "none (the raw log-odds)".to_string(),
        Calibration::Platt { a, b } => format!("Platt scaling, a = {a:.4}, b = {b:.4}"),
        Calibration::Isotonic { steps } => format!("isotonic regression, {} steps", steps.len()),
    };
    let _ = writeln!(out, "Calibration map: {calibration}.\n");
    let _ = writeln!(out, "## Performance (held-out patients, weighted)\n");
    let _ = writeln!(
        out,
        "These rows also fitted the calibration map, so the slope and intercept are close to 1 and 0 here by \
         construction; `carescore-train evaluate` on an independent table gives the honest figures.\n"
    );
    let _ = writeln!(out, "| metric | value |\n|---|---|");
    let _ = writeln!(out, "| AUC | {} |", opt(v.auc));
    let _ = writeln!(out, "| Brier score | {:.4} |", v.brier);
    let _ = writeln!(out, "| calibration slope | {} |", opt(v.calibration_slope));
    let _ = writeln!(out, "| calibration intercept | {} |", opt(v.calibration_intercept));
    let _ = writeln!(out, "| ECE (10 bins) | {:.4} |", v.ece);
    let _ = writeln!(out, "| event rate | {:.4} |\n", v.event_rate);
    let e = &fitted.evaluation;
    if let Some((lo, hi)) = e.auc_ci95 {
        let _ = writeln!(out, "AUC 95% bootstrap interval: {lo:.3} to {hi:.3}.\n");
    }
    let _ = writeln!(
        out,
        "Net benefit at the 20% threshold: {:.4} (flagging everyone: {:.4}).\n",
        e.net_benefit_at_20pct, e.net_benefit_treat_all
    );
    let _ = writeln!(out, "| flag above | sensitivity | PPV | flag rate |\n|---|---|---|---|");
    for op in &e.operating_points {
        let _ = writeln!(
            out,
            "| {:.2} | {} | {} | {:.3} |",
            op.threshold,
            opt(op.sensitivity),
            opt(op.ppv),
            op.flag_rate
        );
    }
    let _ = writeln!(out, "\n### By subgroup\n");
    let _ = writeln!(
        out,
        "| subgroup | rows | event rate | AUC | calibration slope | ECE |\n|---|---|---|---|---|---|"
    );
    for (group, m) in &fitted.subgroups {
        let _ = writeln!(
            out,
            "| {group} | {} | {:.3} | {} | {} | {:.4} |",
            m.rows,
            m.event_rate,
            opt(m.auc),
            opt(m.calibration_slope),
            m.ece
        );
    }
    let _ = writeln!(out);
    if let Some((temporal, from)) = &fitted.temporal {
        let m = &temporal.overall.metrics;
        let _ = writeln!(out, "### Temporal hold-out\n");
        let _ = writeln!(
            out,
            "Rows with index date {from} or later ({} with a known label) were kept out of fitting and scored \
             with the final model:\n",
            m.rows
        );
        let _ = writeln!(out, "| metric | value |\n|---|---|");
        let _ = writeln!(out, "| AUC | {} |", opt(m.auc));
        let _ = writeln!(out, "| Brier score | {:.4} |", m.brier);
        let _ = writeln!(out, "| calibration slope | {} |", opt(m.calibration_slope));
        let _ = writeln!(out, "| calibration intercept | {} |", opt(m.calibration_intercept));
        let _ = writeln!(out, "| ECE (10 bins) | {:.4} |\n", m.ece);
    }
    let _ = writeln!(out, "## Limitations\n");
    let _ = writeln!(
        out,
        "- Trained on the data above only; if that is the synthetic cohort, the model describes a simulated world.\n\
         - The temporal hold-out splits by index date only: a patient may have snapshots on both sides.\n\
         - Plausibility thresholds and predictors need clinical sign-off before production use.\n\
         - Reproduce with seed {} and trainer {} {}.",
        a.trainer.seed, a.trainer.name, a.trainer.version
    );
    out
}
