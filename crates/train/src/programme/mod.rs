//! `carescore-train programme`'s report: a cohort table scored with the
//! service's own code and summed into the programme view
//! ([`carescore_core::programme`], the same figures `POST /v1/programme`
//! gives), and, when the table has a target's outcome columns, the events
//! observed set against the events expected ([`Observed`]). The page is
//! [`page`].

pub mod page;

use std::collections::BTreeMap;

use carescore_core::programme::{Entry, ProgrammeView, Tally};
use carescore_core::scoring::{self, Models, BUILT_IN_TARGETS};
use carescore_core::{PatientRecord, Policy};
use serde::Serialize;

use crate::ingest::Outcome;
use crate::labels::{horizon_labels, CensoringRule, LabelError};

/// Events observed in a cohort with outcomes, against the expected events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    /// How rows censored before the horizon were handled (`ipcw`, `drop`).
    pub censoring: &'static str,
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
    pub within_interval: bool,
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
    /// Model versions by target.
    pub model_versions: BTreeMap<&'static str, String>,
    /// The programme view of the valid rows.
    #[serde(flatten)]
    pub view: ProgrammeView,
    /// Observed against expected events, for targets whose outcome columns the table has.
    pub observed: BTreeMap<&'static str, Observed>,
}

/// The tally of `records` scored with `models` under `policy`.
pub fn tally(models: &Models, policy: &Policy, records: &[&PatientRecord]) -> Tally {
    let mut tally = Tally::default();
    for record in records {
        let score = scoring::score(models, policy, record, Vec::new());
        tally.add(Entry::from(&score));
    }
    tally
}

/// The observed figures of one target from its outcome columns.
///
/// # Errors
/// [`LabelError`] for a negative or missing follow-up time.
pub fn observed(
    outcome: &Outcome,
    horizon_days: u32,
    censoring: CensoringRule,
    view: &carescore_core::programme::TargetFigures,
    patients: usize,
) -> Result<Observed, LabelError> {
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
    let rate = if weight > 0.0 { positive / weight } else { 0.0 };
    let estimated = rate * patients as f64;
    let interval = view.interval_95;
    Ok(Observed {
        censoring: match censoring {
            CensoringRule::Ipcw => "ipcw",
            CensoringRule::Drop => "drop",
        },
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
    })
}

/// Model versions by built-in target.
pub fn model_versions(models: &Models) -> BTreeMap<&'static str, String> {
    models.iter().map(|(t, a)| (t, a.model_version())).into_iter().collect()
}

/// The targets in the order outcomes are passed.
pub const TARGETS: [carescore_core::scoring::BuiltInTarget; 2] = BUILT_IN_TARGETS;
