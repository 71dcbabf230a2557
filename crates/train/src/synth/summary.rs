//! What a generated cohort looks like: observed base rates, censoring shares
//! and the oracle AUC of the true-probability columns, as printed by
//! `carescore-train synth` and checked by the tests against
//! docs/clinical-sources.md.

use carescore_core::{Organ, Phase};
use serde::Serialize;

use super::{SynthRow, INFECTION_HORIZON_DAYS, READMISSION_HORIZON_DAYS};
use crate::evaluation::metrics::roc_auc;
use crate::labels::horizon_label;

/// An observed event rate among rows with a known label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OrganRate {
    /// The organ (`None` for all organs).
    pub organ: Option<Organ>,
    /// Rows with a known label.
    pub rows: usize,
    /// Share of those with the event.
    pub rate: f64,
}

/// Summary statistics of a cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortSummary {
    /// Rows.
    pub rows: usize,
    /// Distinct patients.
    pub patients: usize,
    /// Serious infection within 180 days, snapshots in the first year, per organ.
    pub infection_first_year: Vec<OrganRate>,
    /// Serious infection within 180 days, maintenance-phase snapshots.
    pub infection_maintenance: OrganRate,
    /// Readmission within 30 days after the transplant discharge, per organ.
    pub readmission_after_transplant: Vec<OrganRate>,
    /// Readmission within 30 days, all snapshots.
    pub readmission_all: OrganRate,
    /// Share of rows censored before 180 days (infection outcome).
    pub censored_before_180d: f64,
    /// Share of rows censored before 30 days (readmission outcome).
    pub censored_before_30d: f64,
    /// AUC of `true_p_infection_180d` against the observed 180-day label.
    pub oracle_auc_infection: Option<f64>,
    /// AUC of `true_p_readmission_30d` against the observed 30-day label.
    pub oracle_auc_readmission: Option<f64>,
    /// Mean true 180-day infection probability.
    pub mean_true_p_infection: f64,
    /// Mean true 30-day readmission probability.
    pub mean_true_p_readmission: f64,
    /// Share of rows with injected noise.
    pub noise_share: f64,
}

fn rate(rows: &[&SynthRow], organ: Option<Organ>, label: impl Fn(&SynthRow) -> Option<bool>) -> OrganRate {
    let labels: Vec<bool> = rows
        .iter()
        .filter(|r| organ.is_none_or(|o| r.record.organ == o))
        .filter_map(|r| label(r))
        .collect();
    let events = labels.iter().filter(|l| **l).count();
    OrganRate {
        organ,
        rows: labels.len(),
        rate: if labels.is_empty() {
            0.0
        } else {
            events as f64 / labels.len() as f64
        },
    }
}

fn infection_label(r: &SynthRow) -> Option<bool> {
    horizon_label(
        f64::from(r.infection_time_days),
        r.infection_event,
        INFECTION_HORIZON_DAYS,
    )
}

fn readmission_label(r: &SynthRow) -> Option<bool> {
    horizon_label(
        f64::from(r.readmission_time_days),
        r.readmission_event,
        READMISSION_HORIZON_DAYS,
    )
}

fn oracle_auc(
    rows: &[SynthRow],
    p: impl Fn(&SynthRow) -> f64,
    label: impl Fn(&SynthRow) -> Option<bool>,
) -> Option<f64> {
    let (scores, labels): (Vec<f64>, Vec<bool>) = rows.iter().filter_map(|r| label(r).map(|l| (p(r), l))).unzip();
    roc_auc(&scores, &labels)
}

fn share(rows: &[SynthRow], pred: impl Fn(&SynthRow) -> bool) -> f64 {
    rows.iter().filter(|r| pred(r)).count() as f64 / rows.len().max(1) as f64
}

impl CohortSummary {
    /// Summarises `rows`.
    pub fn of(rows: &[SynthRow]) -> CohortSummary {
        let first_year: Vec<&SynthRow> = rows
            .iter()
            .filter(|r| r.record.days_since_transplant <= Phase::CONSOLIDATION_LAST_DAY)
            .collect();
        let maintenance: Vec<&SynthRow> = rows.iter().filter(|r| r.record.phase() == Phase::Maintenance).collect();
        // The first contact of each patient is the transplant discharge ("-00").
        let transplant_discharges: Vec<&SynthRow> = rows.iter().filter(|r| r.record.case_id.ends_with("-00")).collect();
        let all: Vec<&SynthRow> = rows.iter().collect();
        let mut patients: Vec<u32> = rows.iter().map(|r| r.patient_id).collect();
        patients.dedup();
        CohortSummary {
            rows: rows.len(),
            patients: patients.len(),
            infection_first_year: Organ::ALL
                .iter()
                .map(|o| rate(&first_year, Some(*o), infection_label))
                .collect(),
            infection_maintenance: rate(&maintenance, None, infection_label),
            readmission_after_transplant: Organ::ALL
                .iter()
                .map(|o| rate(&transplant_discharges, Some(*o), readmission_label))
                .collect(),
            readmission_all: rate(&all, None, readmission_label),
            censored_before_180d: share(rows, |r| infection_label(r).is_none()),
            censored_before_30d: share(rows, |r| readmission_label(r).is_none()),
            oracle_auc_infection: oracle_auc(rows, |r| r.true_p_infection_180d, infection_label),
            oracle_auc_readmission: oracle_auc(rows, |r| r.true_p_readmission_30d, readmission_label),
            mean_true_p_infection: rows.iter().map(|r| r.true_p_infection_180d).sum::<f64>() / rows.len().max(1) as f64,
            mean_true_p_readmission: rows.iter().map(|r| r.true_p_readmission_30d).sum::<f64>()
                / rows.len().max(1) as f64,
            noise_share: share(rows, |r| r.injected_noise),
        }
    }
}

impl std::fmt::Display for CohortSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        let by_organ = |rates: &[OrganRate]| {
            rates
                .iter()
                .map(|r| format!("{} {}", r.organ.map_or("all", |o| o.as_str()), pct(r.rate)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let auc = |a: Option<f64>| a.map_or("n/a".to_string(), |a| format!("{a:.3}"));
        writeln!(
            f,
            "rows {} from {} patients; injected noise {}",
            self.rows,
            self.patients,
            pct(self.noise_share)
        )?;
        writeln!(
            f,
            "infection within 180 d, first-year snapshots: {}",
            by_organ(&self.infection_first_year)
        )?;
        writeln!(
            f,
            "infection within 180 d, maintenance snapshots: {}",
            pct(self.infection_maintenance.rate)
        )?;
        writeln!(
            f,
            "readmission within 30 d after the transplant discharge: {}; all snapshots {}",
            by_organ(&self.readmission_after_transplant),
            pct(self.readmission_all.rate)
        )?;
        writeln!(
            f,
            "censored before 180 d {}, before 30 d {}",
            pct(self.censored_before_180d),
            pct(self.censored_before_30d)
        )?;
        write!(
            f,
            "oracle AUC (true probabilities vs observed labels): infection {}, readmission {}",
            auc(self.oracle_auc_infection),
            auc(self.oracle_auc_readmission)
        )
    }
}
