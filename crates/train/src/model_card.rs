//! The model card: a markdown summary for clinical reviewers, under TRIPOD+AI
//! headings.

use std::fmt::Write;
use std::path::Path;

use carescore_core::artifact::{Calibration, ModelArtifact};

use crate::characteristics::{characteristics, Characteristics};
use crate::evaluation::{Evaluation, Interval};
use crate::rows::TableRow;
use crate::spec::SpecOutcome;
use crate::training::internal_validation::{Method, Validated};
use crate::training::selection::SelectionMethod;
use crate::training::update::Updated;
use crate::training::Fitted;

fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"))
}

/// `lo to hi`, or n/a.
fn ci(interval: Option<Interval>, digits: usize) -> String {
    interval.map_or_else(
        || "n/a".to_string(),
        |(lo, hi)| format!("{lo:.digits$} to {hi:.digits$}"),
    )
}

/// The metric table of an evaluation, with intervals.
fn performance_table(out: &mut String, e: &Evaluation) {
    let m = &e.metrics;
    let _ = writeln!(out, "| metric | value | 95% interval |\n|---|---|---|");
    let _ = writeln!(out, "| AUC | {} | {} |", opt(m.auc), ci(e.auc_ci95, 3));
    let _ = writeln!(out, "| Brier score | {:.4} | {} |", m.brier, ci(e.brier_ci95, 4));
    let _ = writeln!(
        out,
        "| calibration slope | {} | {} |",
        opt(m.calibration_slope),
        ci(e.calibration_slope_ci95, 3)
    );
    let _ = writeln!(
        out,
        "| calibration intercept | {} | {} |",
        opt(m.calibration_intercept),
        ci(e.calibration_intercept_ci95, 3)
    );
    let _ = writeln!(out, "| ECE (10 bins) | {:.4} | |", m.ece);
    let _ = writeln!(out, "| event rate (weighted) | {:.4} | |\n", m.event_rate);
}

/// The delivered model's calibration map and why it was chosen, one sentence
/// (the card and the report both show it).
pub fn calibration_text(fitted: &Fitted) -> String {
    let map = match &fitted.artifact.calibration {
        Calibration::Identity => "none (the raw log-odds)".to_string(),
        Calibration::Platt { a, b } => format!("Platt scaling, a = {a:.4}, b = {b:.4}"),
        Calibration::Isotonic { steps } => format!("isotonic regression, {} steps", steps.len()),
    };
    format!("Calibration map: {map}; {}.", fitted.calibration_choice.describe())
}

/// The participants' characteristics as a markdown table.
fn characteristics_table(out: &mut String, c: &Characteristics) {
    let (header, lines) = c.lines();
    let _ = writeln!(out, "| predictor | {} |\n|---|---|---|---|", header.join(" | "));
    for (label, cells) in lines {
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    }
    let _ = writeln!(out);
}

/// Renders the model card of the delivered model of `validated`, trained on
/// `data`, whose ingested rows are `records`.
pub fn render(validated: &Validated, data: &Path, records: &[TableRow]) -> String {
    let fitted = &validated.selection.chosen;
    let a = &fitted.artifact;
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
        "- Rows with a known label at the horizon that fitted the model: {} ({} events) from {} patients\n",
        a.training_data.rows, a.training_data.events, fitted.patients
    );
    let _ = writeln!(out, "### Participants\n");
    let _ = writeln!(
        out,
        "The rows the performance figures below are on ({}), by outcome at the horizon (unweighted counts; rows \
         censored before the horizon have no label and are not counted). Medians with interquartile ranges; \
         \"missing\" is the rows without a value, which the model handles as it was trained to (a predictor \
         without a missing line has none).\n",
        validated.validation.method.describe()
    );
    characteristics_table(
        &mut out,
        &characteristics(&a.features, &validated.validation.scored, records),
    );
    let size = &validated.sample_size;
    let _ = writeln!(out, "### Sample size\n");
    let _ = writeln!(
        out,
        "Riley et al. (BMJ 2020) criteria for {} candidate parameters (logistic design columns) and an anticipated \
         Cox-Snell R² of {:.3} (15% of its maximum at this event rate): {} rows for expected shrinkage 0.9, {} for \
         optimism in R² at most 0.05, {} to estimate the overall risk within ±0.05; so at least {} rows ({} events). \
         The data have {} rows, {} events, {:.1} events per parameter.\n",
        size.parameters,
        size.anticipated_r2_cs,
        size.required_by_criterion[0],
        size.required_by_criterion[1],
        size.required_by_criterion[2],
        size.required_rows,
        size.required_events,
        size.rows,
        size.events,
        size.events_per_parameter
    );
    if let Some(warning) = size.warning() {
        let _ = writeln!(out, "**Warning:** {warning}.\n");
    }
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
    let _ = writeln!(out, "{}\n", calibration_text(fitted));
    let selection = &validated.selection;
    if selection.candidates.len() > 1 || !selection.not_offered.is_empty() || selection.held_back.is_some() {
        let _ = writeln!(out, "### Model selection\n");
        let compared: Vec<String> = selection
            .candidates
            .iter()
            .map(|c| match c.standard_error {
                Some(se) => format!("{} {:.5} (standard error {se:.5})", c.family, c.brier),
                None => format!("{} {:.5}", c.family, c.brier),
            })
            .collect();
        if selection.method == SelectionMethod::Single {
            let _ = writeln!(out, "`{}` was fitted, the only family offered.", fitted.family);
        } else {
            let _ = writeln!(
                out,
                "Families compared by {}: {}; `{}` was fitted.",
                selection.method.describe(),
                compared.join(", "),
                fitted.family
            );
        }
        for (family, kept) in &selection.not_offered {
            let _ = writeln!(out, "`{family}` learned nothing ({kept}) and was not offered.");
        }
        if let Some(held_back) = &selection.held_back {
            let _ = writeln!(out, "{}.", held_back.describe());
        }
        let _ = writeln!(out);
    }
    let v = &validated.validation;
    let e = &v.assessment.overall;
    let _ = writeln!(out, "## Performance on patients the model did not see (weighted)\n");
    let widened = v
        .spread
        .and_then(|s| s.describe())
        .map(|w| format!("; the overall intervals are widened, {w}; the subgroups' are the patient bootstrap's alone"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Estimated by {}. {} patients, {} rows with a known label, {} events; intervals are 95% percentile \
         bootstrap over patients{widened}.\n",
        v.method.describe(),
        e.patients,
        e.metrics.rows,
        e.events
    );
    if let Some(warning) = v.spread.and_then(|s| s.warning()) {
        let _ = writeln!(out, "**Warning:** {warning}.\n");
    }
    if let Method::NestedCrossValidation { .. } = v.method {
        let _ = writeln!(
            out,
            "The outer fits chose: {}. The delivered model is the same pipeline fitted on every patient.\n",
            v.outer_choices.join(", ")
        );
    }
    performance_table(&mut out, e);
    let _ = writeln!(
        out,
        "| flag above | sensitivity | PPV | flag rate | net benefit | flag everyone |\n|---|---|---|---|---|---|"
    );
    for op in &e.operating_points {
        let _ = writeln!(
            out,
            "| {:.2} | {} | {} | {:.3} | {:.4} | {:.4} |",
            op.threshold,
            opt(op.sensitivity),
            opt(op.ppv),
            op.flag_rate,
            op.net_benefit,
            op.net_benefit_treat_all
        );
    }
    let _ = writeln!(out, "\n### By subgroup\n");
    let _ = writeln!(
        out,
        "| subgroup | patients | rows | events | event rate | AUC (95% CI) | calibration slope (95% CI) | ECE |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for (group, g) in &v.assessment.subgroups {
        let m = &g.metrics;
        let _ = writeln!(
            out,
            "| {group} | {} | {} | {} | {:.3} | {} ({}) | {} ({}) | {:.4} |",
            g.patients,
            m.rows,
            g.events,
            m.event_rate,
            opt(m.auc),
            ci(g.auc_ci95, 2),
            opt(m.calibration_slope),
            ci(g.calibration_slope_ci95, 2),
            m.ece
        );
    }
    let _ = writeln!(out);
    if let Some(temporal) = &fitted.temporal {
        let e = &temporal.evaluation.overall;
        let _ = writeln!(out, "### Temporal hold-out\n");
        let _ = writeln!(
            out,
            "Rows with index date {} or later ({} with a known label, {} patients, {} events) were kept out of \
             fitting and scored with the delivered model:\n",
            temporal.from, e.metrics.rows, e.patients, e.events
        );
        performance_table(&mut out, e);
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

/// Renders the model card of `updated`, the recalibration of `original` on
/// the local table `data` (`saved` is the written artifact, with its checksum).
pub fn render_update(original: &ModelArtifact, saved: &ModelArtifact, updated: &Updated, data: &Path) -> String {
    let name = data
        .file_name()
        .map_or_else(|| data.display().to_string(), |n| n.to_string_lossy().into_owned());
    let (before, after) = (&updated.before.overall, &updated.after.overall);
    let mut out = String::new();
    let _ = writeln!(out, "# Model card: {}\n", saved.model_version());
    let _ = writeln!(
        out,
        "An update of `{}` (sha256 `{}`) to local data by recalibration (TRIPOD+AI 12g). The estimator, its \
         features and its explanations are those of the original model, whose own card describes its development \
         data (sha256 `{}`, {} rows, {} events); only the map from its output to a probability changed.\n",
        original.model_version(),
        original.sha256,
        original.training_data.sha256,
        original.training_data.rows,
        original.training_data.events
    );
    let _ = writeln!(out, "## What was updated, on which data\n");
    let _ = writeln!(
        out,
        "- Local data: `{name}`, {} patients, {} rows with a known label, {} events.",
        before.patients, before.metrics.rows, before.events
    );
    let _ = writeln!(out, "- Update: {}.", updated.update.describe());
    let t = &updated.test;
    let _ = writeln!(
        out,
        "- Closed testing procedure (Vergouwe et al., Stat Med 2017), likelihood ratios at the 5% level: logistic \
         recalibration against the original {:.2} (2 df, critical 5.99; below it the original is kept), then \
         against recalibration in the large {:.2} (1 df, critical 3.84; below it the update is in the large). \
         Recalibration in the large against the original, for information: {:.2}. The likelihoods are weighted by \
         the censoring weights, scaled to the number of patients, so the tests are approximate.\n",
        t.logistic_vs_kept, t.logistic_vs_in_the_large, t.in_the_large_vs_kept
    );
    let _ = writeln!(out, "## Performance on the local data\n");
    let _ = writeln!(out, "The original model, as it was:\n");
    performance_table(&mut out, before);
    let _ = writeln!(
        out,
        "The update procedure (the closed test and the fit) cross-validated by patient in {} folds, each fold \
         scored by an update fitted without it; these are the figures in the artifact:\n",
        crate::training::update::UPDATE_FOLDS
    );
    performance_table(&mut out, after);
    let _ = writeln!(out, "## Limitations\n");
    let _ = writeln!(
        out,
        "- Recalibration fixes the overall risk level and the spread of the predictions, not the ranking: the \
         updated model ranks patients as the original does (the cross-validated AUC above can differ slightly, \
         as each fold's update is fitted on its own).\n\
         - Subgroups of the local data may still be miscalibrated; check the subgroup figures of `carescore-train \
         evaluate` before use."
    );
    out
}
