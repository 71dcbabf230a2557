//! `carescore-train programme`'s report: a cohort table scored with the
//! service's own code and summed into the programme view
//! ([`carescore_core::programme`], the same figures `POST /v1/programme`
//! gives), and, when the table has a target's outcome columns, the events
//! observed set against the events expected ([`Observed`]). The page is
//! [`page`].

pub mod page;

use std::collections::BTreeMap;

use carescore_core::policy::{urgent_among, Flag};
use carescore_core::programme::{Entry, ProgrammeView, Tally};
use carescore_core::scoring::{self, Models};
use carescore_core::{PatientRecord, Policy};
use serde::Serialize;

use crate::ingest::Outcome;
use crate::labels::{horizon_labels, CensoringRule, LabelError};

/// Events observed in a cohort with outcomes, against the expected events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    /// How rows censored before the horizon were handled.
    pub censoring: CensoringRule,
    /// Rows with a known label at the horizon.
    pub labelled: usize,
    /// Events among them.
    pub events_labelled: usize,
    /// The events the whole cohort had, estimated from the labelled rows:
    /// the cohort's size times the (weighted) event rate among them.
    pub estimated_events: f64,
    /// The expected events (the sum of the probabilities over the cohort).
    pub expected_events: f64,
    /// `estimated_events / expected_events`.
    pub observed_over_expected: f64,
    /// Whether `estimated_events` lies in the expected events' 95% interval.
    /// The interval is the count's if the probabilities are right; the
    /// estimate has its own error from censoring on top, so a narrow miss
    /// is not proof of miscalibration.
    pub within_interval: bool,
}

/// A valid row on the urgent pathway: named, so a safety signal is never lost in a sum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UrgentRow {
    /// The row's number in the table: 1 for the first data row (the line
    /// after a CSV's header).
    pub row: usize,
    /// The urgent flags it raised.
    pub flags: Vec<Flag>,
}

/// The programme report of one table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgrammeReport {
    /// The table's file name.
    pub data: String,
    /// Rows read.
    pub rows_read: usize,
    /// Rows refused by validation (left out of the view).
    pub rows_refused: usize,
    /// Valid rows whose `patient_id` an earlier row has: each row counts as
    /// a patient, so a table of several snapshots per patient overstates
    /// the cohort (0 without a `patient_id` column).
    pub rows_sharing_a_patient: usize,
    /// Model versions by target.
    pub model_versions: BTreeMap<&'static str, String>,
    /// The programme view of the valid rows.
    #[serde(flatten)]
    pub view: ProgrammeView,
    /// Valid rows on the urgent pathway (PHQ-9 item 9 above 0, a trough far
    /// out of range): pass them to the clinical team.
    pub urgent: Vec<UrgentRow>,
    /// Observed against expected events, for targets whose outcome columns the table has.
    pub observed: BTreeMap<&'static str, Observed>,
}

/// The tally of `records` (with their rows in the table) triaged with
/// `models` under `policy`, and the rows on the urgent pathway.
pub fn tally(models: &Models, policy: &Policy, records: &[(usize, &PatientRecord)]) -> (Tally, Vec<UrgentRow>) {
    let mut tally = Tally::default();
    let mut urgent = Vec::new();
    for (row, record) in records {
        let triage = scoring::triage(models, policy, record);
        tally.add(Entry::of(record, &triage));
        let flags = urgent_among(&triage.flags);
        if !flags.is_empty() {
            urgent.push(UrgentRow { row: row + 1, flags });
        }
    }
    (tally, urgent)
}

/// The observed figures of one target from its outcome columns; `None`
/// when no row has a known label at the horizon (nothing to estimate from).
///
/// # Errors
/// [`LabelError`] for a negative or missing follow-up time.
pub fn observed(
    outcome: &Outcome,
    horizon_days: u32,
    censoring: CensoringRule,
    view: &carescore_core::programme::TargetFigures,
    patients: usize,
) -> Result<Option<Observed>, LabelError> {
    let (labels, weights) = match outcome {
        Outcome::TimeEvent { times, events } => {
            let labels = horizon_labels(times, events, f64::from(horizon_days), censoring)?;
            (labels.labels, labels.weights)
        }
        Outcome::Label(labels) => (
            labels.clone(),
            labels.iter().map(|l| f64::from(u8::from(l.is_some()))).collect(),
        ),
    };
    let (mut weight, mut positive, mut labelled, mut events) = (0.0, 0.0, 0, 0);
    for (label, w) in labels.iter().zip(&weights) {
        if let Some(label) = label {
            labelled += 1;
            weight += w;
            if *label {
                events += 1;
                positive += w;
            }
        }
    }
    if labelled == 0 || weight <= 0.0 {
        return Ok(None);
    }
    let estimated = positive / weight * patients as f64;
    let interval = view.interval_95;
    Ok(Some(Observed {
        censoring,
        labelled,
        events_labelled: events,
        estimated_events: estimated,
        expected_events: view.expected_events,
        observed_over_expected: if view.expected_events > 0.0 {
            estimated / view.expected_events
        } else {
            0.0
        },
        within_interval: (interval.low as f64..=interval.high as f64).contains(&estimated),
    }))
}
