//! The programme page: the assumption first, then the tier mix, expected
//! events with their intervals (and observed events when the cohort has
//! outcomes), workload, flags, tier changes and costs. Self-contained like
//! the training report: inline SVG, no network.

use std::fmt::Write;

use carescore_core::policy::Flag;

use super::ProgrammeReport;
use crate::report::plots::{self, Bar, PlotError};
use crate::report::{escape, STYLE};

fn tier_name(tier: carescore_core::Tier) -> &'static str {
    match tier {
        carescore_core::Tier::SelfService => "self-service",
        carescore_core::Tier::Remote => "remote",
        carescore_core::Tier::Intensive => "intensive",
    }
}

/// The rows on the urgent pathway, named first among the tables.
fn urgent_rows(report: &ProgrammeReport) -> String {
    if report.urgent.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<h2>Urgent pathway</h2><p class=\"note\">{} valid rows raise an urgent flag: pass them to the clinical \
         team today.</p><table><tr><th>row</th><th>flags</th></tr>",
        report.urgent.len()
    );
    for u in &report.urgent {
        let flags: Vec<&str> = u.flags.iter().map(|f| f.as_str()).collect();
        let _ = write!(out, "<tr><td>{}</td><td>{}</td></tr>", u.row, flags.join(", "));
    }
    out.push_str("</table>");
    out
}

/// The page of `report`.
///
/// # Errors
/// [`PlotError`] if a plot cannot be drawn.
pub fn render(report: &ProgrammeReport) -> Result<String, PlotError> {
    let view = &report.view;
    let mut out = String::new();
    let versions: Vec<String> = report.model_versions.values().cloned().collect();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>CareScore programme view</title><style>{STYLE}</style></head><body>\
         <h1>Programme view</h1><p class=\"sub\">{} — {} patients scored of {} rows ({} refused by validation); \
         models {}; policy {}.</p>",
        escape(&report.data),
        view.patients,
        report.rows_read,
        report.rows_refused,
        escape(&versions.join(", ")),
        escape(&view.policy_version),
    );
    if report.rows_sharing_a_patient > 0 {
        let _ = write!(
            out,
            "<p class=\"note\"><b>Several rows per patient.</b> {} rows share their <code>patient_id</code> with an \
             earlier row; every row counts as a patient here. For a view of patients, keep each patient's latest row.</p>",
            report.rows_sharing_a_patient
        );
    }
    let _ = write!(
        out,
        "<p class=\"note\"><b>Assumption.</b> {}</p>",
        escape(&view.assumption)
    );
    let _ = write!(
        out,
        "<div class=\"kpis\"><div class=\"kpi\">patients<b>{}</b></div><div class=\"kpi\">case managers (FTE)<b>{:.1}</b></div>\
         <div class=\"kpi\">case managers (whole)<b>{}</b></div><div class=\"kpi\">tier upgrades needed<b>{}</b></div>",
        view.patients, view.workload.case_managers, view.workload.case_managers_whole, view.tier_changes.upgrades
    );
    for (name, t) in &view.targets {
        let _ = write!(
            out,
            "<div class=\"kpi\">{name}: expected events<b>{:.1}</b>95% interval {}-{}</div>\
             <div class=\"kpi\">{name}: events avoided (assumed)<b>{:.1}</b></div>",
            t.expected_events, t.interval_95.low, t.interval_95.high, t.events_avoided
        );
    }
    out.push_str("</div>");

    let tier_mix: Vec<Bar> = view
        .tiers
        .iter()
        .map(|t| Bar {
            label: tier_name(t.tier).to_string(),
            value: t.patients as f64,
            interval: None,
            marker: None,
        })
        .collect();
    let events: Vec<Bar> = view
        .targets
        .iter()
        .map(|(name, t)| Bar {
            label: (*name).to_string(),
            value: t.expected_events,
            interval: Some((t.interval_95.low as f64, t.interval_95.high as f64)),
            marker: report.observed.get(name).map(|o| o.estimated_events),
        })
        .collect();
    let workload: Vec<Bar> = view
        .tiers
        .iter()
        .filter(|t| t.caseload.is_some())
        .map(|t| Bar {
            label: format!("{} (1:{})", tier_name(t.tier), t.caseload.unwrap_or_default()),
            value: t.case_managers,
            interval: None,
            marker: None,
        })
        .collect();
    let _ = write!(
        out,
        "<div class=\"grid\"><div class=\"card\">{}</div><div class=\"card\">{}</div><div class=\"card\">{}</div></div>\
         <p class=\"note\">Expected events: bars are the sums of the predicted probabilities, whiskers where the \
         number of events falls with 95% probability if the probabilities are right{}.</p>{}",
        plots::bars("Patients per recommended tier", "patients", &tier_mix)?,
        plots::bars("Expected events", "events within each target's horizon", &events)?,
        plots::bars("Case managers needed", "full-time equivalents", &workload)?,
        if report.observed.is_empty() {
            ""
        } else {
            "; red dots the events the cohort had, estimated from its outcome columns (the estimate has its own error \
             from censoring, so a dot just outside its whisker is not proof that the risks are wrong)"
        },
        urgent_rows(report)
    );

    out.push_str(
        "<h2>Tiers</h2><table><tr><th>tier</th><th>patients</th><th>share</th><th>patients per case manager</th>\
         <th>case managers</th><th>assumed relative risk reduction</th>",
    );
    for name in view.targets.keys() {
        let _ = write!(out, "<th>{name}: expected</th><th>{name}: avoided</th>");
    }
    if view.costs.is_some() {
        out.push_str("<th>cost</th>");
    }
    out.push_str("</tr>");
    for t in &view.tiers {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.1}%</td><td>{}</td><td>{:.2}</td><td>{}%</td>",
            tier_name(t.tier),
            t.patients,
            100.0 * t.share,
            t.caseload.map_or_else(|| "none".to_string(), |c| c.to_string()),
            t.case_managers,
            // One decimal at most, as the assumption's text writes it.
            (t.relative_risk_reduction * 1000.0).round() / 10.0
        );
        for name in view.targets.keys() {
            let _ = write!(
                out,
                "<td>{:.1}</td><td>{:.1}</td>",
                t.expected_events[name], t.events_avoided[name]
            );
        }
        if let Some(cost) = t.cost {
            let _ = write!(out, "<td>{cost:.0}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");

    if !report.observed.is_empty() {
        out.push_str(
            "<h2>Observed against expected</h2><table><tr><th>target</th><th>labelled rows</th><th>events among them</th>\
             <th>estimated events in the cohort</th><th>expected</th><th>95% interval</th><th>observed / expected</th>\
             <th>censoring</th></tr>",
        );
        for (name, o) in &report.observed {
            let interval = view.targets[name].interval_95;
            let _ = write!(
                out,
                "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{}-{}{}</td><td>{:.3}</td><td>{}</td></tr>",
                o.labelled,
                o.events_labelled,
                o.estimated_events,
                o.expected_events,
                interval.low,
                interval.high,
                if o.within_interval { "" } else { " (outside)" },
                o.observed_over_expected,
                o.censoring.as_str()
            );
        }
        out.push_str("</table>");
    }

    out.push_str("<h2>Flags and tier changes</h2><table><tr><th>flag</th><th>patients</th></tr>");
    for flag in Flag::ALL {
        let _ = write!(out, "<tr><td>{}</td><td>{}</td></tr>", flag.as_str(), view.flags[&flag]);
    }
    let c = view.tier_changes;
    let _ = write!(
        out,
        "</table><table><tr><th>upgrades needed</th><th>downgrades</th><th>unchanged</th><th>no current tier</th></tr>\
         <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        c.upgrades, c.downgrades, c.unchanged, c.no_current_tier
    );

    if let Some(costs) = &view.costs {
        let _ = write!(
            out,
            "<h2>Costs ({})</h2><table><tr><th>programme cost</th><th>value of events avoided (assumed)</th>\
             <th>net cost</th><th>cost per event avoided</th></tr><tr><td>{:.0}</td><td>{:.0}</td><td>{:.0}</td><td>{}</td></tr></table>",
            escape(&costs.currency),
            costs.programme_cost,
            costs.events_avoided_value,
            costs.net_cost,
            costs
                .cost_per_event_avoided
                .map_or_else(|| "none avoided".to_string(), |c| format!("{c:.0}"))
        );
    } else {
        out.push_str("<p class=\"note\">No costs: the policy gives none (<code>[programme.costs]</code>).</p>");
    }
    out.push_str("</body></html>\n");
    Ok(out)
}
