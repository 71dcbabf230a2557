//! `report.html`: a self-contained page for a clinical reviewer with the
//! model's purpose, its metrics with intervals, the ROC, calibration and
//! decision curves, feature importance, operating points, subgroups, and the
//! participants' characteristics with missing values per predictor. Plots
//! are inline SVG (plotters); the page loads nothing from the network. The
//! numbers behind the curves come from [`crate::evaluation::curves`].

pub mod plots;

use std::fmt::Write;

use carescore_core::artifact::{ModelArtifact, Row};

use crate::characteristics::{characteristics, Characteristics};
use crate::evaluation::{curves, Evaluation, Interval};
use crate::evaluation::{ArtifactEvaluation, Scored};
use crate::ingest::Screening;
use crate::training::Temporal;
pub use plots::PlotError;

/// Rows explained for feature importance (evenly spaced when there are more).
const IMPORTANCE_ROWS: usize = 4000;

/// Features shown in the importance plot.
const IMPORTANCE_FEATURES: usize = 20;

/// Everything the report shows.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The model.
    pub artifact: &'a ModelArtifact,
    /// Where the scored rows come from, e.g. "the held-out validation fold".
    pub source: &'a str,
    /// The data file's name.
    pub data_name: &'a str,
    /// How the model was chosen, when the report is written by `fit`.
    pub description: Option<&'a str>,
    /// The scored rows (probabilities, labels, weights, records).
    pub scored: &'a Scored,
    /// Records of the ingested table `scored.records` points into.
    pub records: &'a [crate::rows::TableRow],
    /// Metrics of the scored rows.
    pub evaluation: &'a ArtifactEvaluation,
    /// The temporal hold-out scored by the model, if one was kept.
    pub temporal: Option<&'a Temporal>,
    /// Screening of the input table.
    pub screening: &'a Screening,
    /// How refits of the pipeline widened the intervals (a fit's nested estimate), in words.
    pub intervals_widened: Option<&'a str>,
}

/// Escapes text for HTML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `value` with `digits` decimals, without a minus sign on a rounded zero; `n/a` when absent.
pub(crate) fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(
        || "n/a".to_string(),
        |v| {
            let text = format!("{v:.digits$}");
            match text.strip_prefix('-') {
                Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
                _ => text,
            }
        },
    )
}

/// The pages' stylesheet, inline (a page loads nothing from the network).
pub(crate) const STYLE: &str =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;\
max-width:1120px;color:#1d2430;line-height:1.45;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}\
h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d8dde6;padding-bottom:.3rem}.sub{color:#5a6473}\
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}th,td{border:1px solid #d8dde6;padding:.3rem .6rem;\
text-align:right}th{background:#f2f5f9}td:first-child,th:first-child{text-align:left}.grid{display:grid;\
grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1rem}.card{border:1px solid #d8dde6;border-radius:6px;\
padding:.4rem;background:#fff}.kpis{display:flex;flex-wrap:wrap;gap:.8rem}.kpi{border:1px solid #d8dde6;\
border-radius:6px;padding:.5rem .9rem;min-width:130px}.kpi b{display:block;font-size:1.3rem}.note{font-size:.88rem;\
color:#5a6473}";

/// ` (95% CI lo to hi)` for an interval, nothing without one.
fn interval(ci: Option<Interval>, digits: usize) -> String {
    ci.map_or(String::new(), |(lo, hi)| {
        format!(" (95% CI {lo:.digits$} to {hi:.digits$})")
    })
}

fn metrics_table(out: &mut String, e: &Evaluation) {
    let m = &e.metrics;
    let _ = writeln!(out, "<table><tr><th>metric</th><th>value</th></tr>");
    for (name, value) in [
        ("patients", e.patients.to_string()),
        ("rows with a known label (events)", format!("{} ({})", m.rows, e.events)),
        ("event rate (weighted)", format!("{:.4}", m.event_rate)),
        ("ROC AUC", format!("{}{}", opt(m.auc, 3), interval(e.auc_ci95, 3))),
        ("Brier score", format!("{:.4}{}", m.brier, interval(e.brier_ci95, 4))),
        (
            "calibration slope",
            format!(
                "{}{}",
                opt(m.calibration_slope, 3),
                interval(e.calibration_slope_ci95, 3)
            ),
        ),
        (
            "calibration intercept",
            format!(
                "{}{}",
                opt(m.calibration_intercept, 3),
                interval(e.calibration_intercept_ci95, 3)
            ),
        ),
        ("expected calibration error (10 bins)", format!("{:.4}", m.ece)),
    ] {
        let _ = writeln!(out, "<tr><td>{name}</td><td>{value}</td></tr>");
    }
    let _ = writeln!(out, "</table>");
}

/// The participants' characteristics and missing values of the scored rows.
fn participants(out: &mut String, c: &Characteristics) {
    let (header, lines) = c.lines();
    let _ = writeln!(
        out,
        "<h2>Participants and missing values</h2><p class=\"note\">The scored rows by outcome at the horizon \
         (unweighted counts; rows censored before the horizon have no label and are not counted). Medians with \
         interquartile ranges; \"missing\" is the rows without a value (a predictor without a missing line has none).</p><table><tr><th>predictor</th>"
    );
    for h in &header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    let _ = writeln!(out, "</tr>");
    for (label, cells) in lines {
        let _ = write!(out, "<tr><td>{}</td>", escape(&label));
        for cell in &cells {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</table>");
}

/// Renders the report.
///
/// # Errors
/// [`PlotError`] if a plot cannot be drawn.
pub fn render(input: &ReportInput<'_>) -> Result<String, PlotError> {
    let a = input.artifact;
    let s = input.scored;
    let e = input.evaluation;
    let m = &e.overall.metrics;
    let step = s.p.len().div_ceil(IMPORTANCE_ROWS).max(1);
    let rows: Vec<&dyn Row> = s
        .records
        .iter()
        .step_by(step)
        .map(|&i| &input.records[i] as &dyn Row)
        .collect();
    let mut importance = curves::importance(a, &rows);
    importance.truncate(IMPORTANCE_FEATURES);
    let scale = carescore_core::scoring::scale_of(&a.estimator);
    let roc = plots::roc(&curves::roc_curve(&s.p, &s.y, &s.w), m.auc)?;
    let calibration = plots::calibration(&curves::calibration_curve(&s.p, &s.y, &s.w, 10))?;
    let thresholds: Vec<f64> = e.overall.operating_points.iter().map(|op| op.threshold).collect();
    let decision = plots::decision(&curves::decision_curve(&s.p, &s.y, &s.w, 50), &thresholds)?;
    let importance_svg = plots::importance(&importance, scale)?;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>CareScore model report: {}</title><style>{STYLE}</style></head><body>",
        escape(&a.model_version())
    );
    let _ = writeln!(out, "<h1>Model report: {}</h1>", escape(&a.model_version()));
    let _ = writeln!(
        out,
        "<p class=\"sub\">Probability of <code>{}</code> within {} days of the index date. Scored rows: {} \
         (<code>{}</code>).</p>",
        escape(&a.target),
        a.horizon_days,
        escape(input.source),
        escape(input.data_name)
    );
    let _ = writeln!(out, "<div class=\"kpis\">");
    let short = |ci: Option<Interval>, digits: usize| {
        ci.map_or(String::new(), |(lo, hi)| format!("95% CI {lo:.digits$}-{hi:.digits$}"))
    };
    for (label, value, note) in [
        ("AUC", opt(m.auc, 3), short(e.overall.auc_ci95, 3)),
        ("Brier", opt(Some(m.brier), 4), short(e.overall.brier_ci95, 4)),
        (
            "Calibration slope",
            opt(m.calibration_slope, 3),
            format!("ideal 1; {}", short(e.overall.calibration_slope_ci95, 2)),
        ),
        ("ECE", format!("{:.4}", m.ece), "10 bins".to_string()),
        (
            "Patients",
            e.overall.patients.to_string(),
            format!("{} rows, {} events", m.rows, e.overall.events),
        ),
        (
            "Event rate",
            format!("{:.1}%", 100.0 * m.event_rate),
            "weighted".to_string(),
        ),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"kpi\">{label}<b>{value}</b><span class=\"note\">{note}</span></div>"
        );
    }
    let _ = writeln!(out, "</div>");
    if let Some(description) = input.description {
        let _ = writeln!(out, "<h2>Model</h2><p>{}</p>", escape(description));
    }
    let _ = writeln!(out, "<h2>Discrimination, calibration and clinical utility</h2>");
    let _ = writeln!(
        out,
        "<p class=\"note\">All figures weight rows by the inverse probability of remaining uncensored to the \
         horizon (rows censored before it carry no weight).</p><div class=\"grid\">"
    );
    for svg in [&roc, &calibration, &decision] {
        let _ = writeln!(out, "<div class=\"card\">{svg}</div>");
    }
    let _ = writeln!(out, "<div>");
    metrics_table(&mut out, &e.overall);
    let widened = input
        .intervals_widened
        .map(|w| format!("; {}", escape(w)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<p class=\"note\">Intervals: 95% percentile bootstrap over patients ({} resamples){widened}.</p>",
        crate::evaluation::full::BOOTSTRAP_RESAMPLES
    );
    let _ = writeln!(out, "</div></div>");

    let _ = writeln!(
        out,
        "<h2>Operating points</h2><p class=\"note\">At the target's own thresholds (the policy's risk bands, \
         or the spec's <code>operating_thresholds</code>).</p><table><tr><th>flag above</th><th>sensitivity</th>\
         <th>PPV</th><th>flag rate</th><th>net benefit</th><th>net benefit, flag everyone</th></tr>"
    );
    for op in &e.overall.operating_points {
        let _ = writeln!(
            out,
            "<tr><td>{:.0}%</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            op.threshold * 100.0,
            opt(op.sensitivity, 3),
            opt(op.ppv, 3),
            op.flag_rate,
            op.net_benefit,
            op.net_benefit_treat_all
        );
    }
    let _ = writeln!(out, "</table>");

    let _ = writeln!(
        out,
        "<h2>Feature importance</h2><p class=\"note\">Mean absolute contribution to the raw output \
        ({scale}) over {} scored rows: exact for logistic models, exact TreeSHAP (path-dependent) for trees. \
        Importance is association within this model, not causation.</p><div class=\"card\">{importance_svg}</div>",
        rows.len()
    );

    let _ = writeln!(
        out,
        "<h2>Subgroups</h2><table><tr><th>subgroup</th><th>patients</th><th>rows</th><th>events</th>\
         <th>event rate</th><th>AUC (95% CI)</th><th>calibration slope (95% CI)</th><th>ECE</th></tr>"
    );
    for (group, g) in &e.subgroups {
        let m = &g.metrics;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}{}</td><td>{}{}</td><td>{:.4}</td></tr>",
            escape(group),
            g.patients,
            m.rows,
            g.events,
            m.event_rate,
            opt(m.auc, 3),
            interval(g.auc_ci95, 2),
            opt(m.calibration_slope, 2),
            interval(g.calibration_slope_ci95, 2),
            m.ece
        );
    }
    let _ = writeln!(out, "</table>");
    if let Some(temporal) = input.temporal {
        let t = &temporal.scored;
        let temporal_calibration = plots::calibration(&curves::calibration_curve(&t.p, &t.y, &t.w, 10))?;
        let _ = writeln!(
            out,
            "<h2>Temporal hold-out</h2><p>Rows with index date {} or later were kept out of fitting and scored \
             with the delivered model.</p><div class=\"grid\"><div class=\"card\">{temporal_calibration}</div><div>",
            escape(&temporal.from)
        );
        metrics_table(&mut out, &temporal.evaluation.overall);
        let _ = writeln!(out, "</div></div>");
    }
    participants(&mut out, &characteristics(&a.features, s, input.records));
    let sc = input.screening;
    let _ = writeln!(
        out,
        "<h2>Data screening</h2><p>{} rows read; {} excluded for breaking hard ranges; {} kept with \
         plausibility warnings.</p>",
        sc.rows_read, sc.rows_excluded, sc.rows_with_warnings
    );
    if !sc.excluded_by_column.is_empty() || !sc.warnings_by_rule.is_empty() {
        let _ = writeln!(out, "<table><tr><th>column or rule</th><th>rows</th></tr>");
        for (name, count) in sc.excluded_by_column.iter().chain(&sc.warnings_by_rule) {
            let _ = writeln!(out, "<tr><td>{}</td><td>{count}</td></tr>", escape(name));
        }
        let _ = writeln!(out, "</table>");
    }
    let _ = writeln!(
        out,
        "<h2>Provenance</h2><p class=\"note\">Trained by {} {} with seed {} on {} rows ({} events), data sha256 \
         <code>{}</code>; artifact sha256 <code>{}</code>.</p></body></html>",
        escape(&a.trainer.name),
        escape(&a.trainer.version),
        a.trainer.seed,
        a.training_data.rows,
        a.training_data.events,
        escape(&a.training_data.sha256),
        escape(&a.sha256)
    );
    Ok(out)
}
