//! `monitor`'s HTML page: per model set and target, the figures on the
//! labelled predictions, the calibration curve, calibration by month (slope
//! and observed over expected, plotted and tabled), and the figures by
//! organ. Self-contained, like the training report: inline SVG, no network.

use std::fmt::Write;

use super::evaluation::{GroupFigures, ModelFigures, MonitorReport};
use crate::report::plots::{self, MonthCalibration, PlotError};
use crate::report::{escape, opt, STYLE};

fn groups_table(out: &mut String, title: &str, groups: &[GroupFigures]) {
    if groups.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<h4>{title}</h4><table><tr><th>{title}</th><th>predictions</th><th>event rate</th><th>expected</th>\
         <th>observed / expected</th><th>AUC</th><th>calibration slope</th><th>Brier</th></tr>"
    );
    for g in groups {
        let m = &g.figures.metrics;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td></tr>",
            escape(&g.group),
            m.rows,
            m.event_rate,
            g.figures.expected_rate,
            opt(g.figures.observed_over_expected, 2),
            opt(m.auc, 3),
            opt(m.calibration_slope, 2),
            m.brier
        );
    }
    out.push_str("</table>");
}

fn model_section(out: &mut String, model: &ModelFigures) -> Result<(), PlotError> {
    let m = &model.overall.metrics;
    let _ = write!(
        out,
        "<h2>{} — {} ({})</h2><div class=\"kpis\"><div class=\"kpi\">predictions<b>{}</b></div>\
         <div class=\"kpi\">AUC<b>{}</b></div><div class=\"kpi\">calibration slope<b>{}</b></div>\
         <div class=\"kpi\">intercept<b>{}</b></div><div class=\"kpi\">Brier<b>{:.4}</b></div>\
         <div class=\"kpi\">ECE<b>{:.4}</b></div><div class=\"kpi\">observed / expected<b>{}</b></div></div>",
        escape(&model.target),
        model.set.name(),
        escape(&model.model_versions.join(", ")),
        m.rows,
        opt(m.auc, 3),
        opt(m.calibration_slope, 2),
        opt(m.calibration_intercept, 2),
        m.brier,
        m.ece,
        opt(model.overall.observed_over_expected, 2),
    );
    out.push_str("<table><tr><th>threshold</th><th>flag rate</th><th>sensitivity</th><th>PPV</th></tr>");
    for op in &model.overall.operating_points {
        let _ = write!(
            out,
            "<tr><td>{:.2}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
            op.threshold,
            op.flag_rate,
            opt(op.sensitivity, 3),
            opt(op.ppv, 3)
        );
    }
    out.push_str("</table>");
    let months: Vec<MonthCalibration> = model
        .by_month
        .iter()
        .map(|g| MonthCalibration {
            month: g.group.clone(),
            slope: g.figures.metrics.calibration_slope,
            observed_over_expected: g.figures.observed_over_expected,
        })
        .collect();
    let _ = write!(
        out,
        "<div class=\"grid\"><div class=\"card\">{}</div><div class=\"card\">{}</div></div>",
        plots::calibration(&model.calibration)?,
        plots::calibration_over_time(&months)?
    );
    groups_table(out, "month", &model.by_month);
    groups_table(out, "organ", &model.by_organ);
    Ok(())
}

/// The page of `report`.
///
/// # Errors
/// [`PlotError`] if a plot cannot be drawn.
pub fn render(report: &MonitorReport) -> Result<String, PlotError> {
    let mut out = String::new();
    let j = &report.join;
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>CareScore outcome monitoring</title><style>{STYLE}</style></head><body>\
         <h1>Outcome monitoring</h1><p class=\"sub\">Logged predictions ({}) joined to recorded outcomes ({}) \
         through the salted case-id hash; labels at each target's horizon from the prediction's day, censoring \
         handled by {}.</p><table><tr><th>predictions</th><th>no outcome rows</th><th>after follow-up ended</th>\
         <th>censored before the horizon</th><th>labelled</th></tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td>{}</td></tr></table><p class=\"note\">A calibration slope below 1 means the predictions are too extreme \
         (too high for the high, too low for the low); observed / expected away from 1 means the risks are too \
         low or too high overall. Either, sustained over months, is the cue to recalibrate \
         (<code>carescore-train recalibrate</code>) or retrain.</p>",
        escape(&report.audit),
        escape(&report.outcomes),
        escape(&report.censoring),
        j.predictions,
        j.no_outcome,
        j.after_follow_up,
        j.censored,
        j.labelled
    );
    for model in &report.models {
        model_section(&mut out, model)?;
    }
    out.push_str("</body></html>\n");
    Ok(out)
}
