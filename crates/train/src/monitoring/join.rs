//! Joining logged predictions to recorded outcomes: each outcome's case id
//! is hashed with the centre's salt, as the service hashed it, and each
//! prediction matched to its case is labelled at its target's horizon from
//! the prediction's day, with the same censoring rule as training
//! ([`crate::labels`]): an event within the horizon is a positive; follow-up
//! through the horizon without one a negative; follow-up that ends before
//! it an unknown label (weight 0), and with IPCW the known labels are
//! weighted by the inverse chance of staying followed that long.

use std::collections::BTreeMap;

use serde::Serialize;

use super::audit::Prediction;
use super::outcomes::Outcomes;
use super::{ModelSet, MonitorError};
use crate::labels::{horizon_labels, CensoringRule};
use crate::target::Target;

/// One model set's labelled predictions for one target.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// The set.
    pub set: ModelSet,
    /// The target.
    pub target: Target,
    /// Model versions among the predictions.
    pub model_versions: Vec<String>,
    /// Per labelled prediction: the probability, the label, the weight, the day, the organ.
    pub p: Vec<f64>,
    /// Labels.
    pub y: Vec<bool>,
    /// Weights (IPCW, or 1).
    pub w: Vec<f64>,
    /// Days of the predictions.
    pub day: Vec<i64>,
    /// Organs, where the outcomes give one.
    pub organ: Vec<Option<String>>,
}

/// How many predictions the join used, and why the others were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JoinSummary {
    /// Predictions of built-in targets in the audit trail.
    pub predictions: usize,
    /// Without outcome rows for their case and target.
    pub no_outcome: usize,
    /// Made after their case's follow-up for the target ended.
    pub after_follow_up: usize,
    /// Followed less than the horizon without the event (unknown label).
    pub censored: usize,
    /// With a label.
    pub labelled: usize,
}

/// A matched prediction with its follow-up: days to the event or the end, whether it was the event, the case id.
type Followed<'a> = (&'a Prediction, f64, bool, &'a str);

/// Labels the `predictions` from `outcomes`, hashing case ids with `salt`.
///
/// # Errors
/// [`MonitorError::Labels`] if labels cannot be built (not expected for valid inputs).
pub fn join(
    predictions: &[Prediction],
    outcomes: &Outcomes,
    salt: &str,
    censoring: CensoringRule,
) -> Result<(Vec<Labelled>, JoinSummary), MonitorError> {
    let case_of: BTreeMap<String, &str> = outcomes
        .follow_up
        .keys()
        .map(|(case, _)| (carescore_core::case_hash(salt, case), case.as_str()))
        .collect();
    let mut summary = JoinSummary {
        predictions: predictions.len(),
        ..JoinSummary::default()
    };
    let mut groups: BTreeMap<(ModelSet, &'static str), Vec<Followed<'_>>> = BTreeMap::new();
    for prediction in predictions {
        let target = prediction.target.name();
        let Some(case) = case_of.get(&prediction.case_hash) else {
            summary.no_outcome += 1;
            continue;
        };
        let Some(follow_up) = outcomes.follow_up.get(&(case.to_string(), target)) else {
            summary.no_outcome += 1;
            continue;
        };
        let Some((time, event)) = follow_up.from_day(prediction.day) else {
            summary.after_follow_up += 1;
            continue;
        };
        groups
            .entry((prediction.set, target))
            .or_default()
            .push((prediction, time, event, case));
    }
    let mut labelled = Vec::new();
    for ((set, target_name), rows) in groups {
        let target = Target::from_name(target_name).unwrap_or(Target::Infection180d);
        let times: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let events: Vec<bool> = rows.iter().map(|r| r.2).collect();
        let labels = horizon_labels(&times, &events, f64::from(target.horizon_days()), censoring).map_err(|e| {
            MonitorError::Labels {
                target: target_name.to_string(),
                message: e.to_string(),
            }
        })?;
        let mut group = Labelled {
            set,
            target,
            model_versions: Vec::new(),
            p: Vec::new(),
            y: Vec::new(),
            w: Vec::new(),
            day: Vec::new(),
            organ: Vec::new(),
        };
        for (i, (prediction, _, _, case)) in rows.iter().enumerate() {
            let Some(label) = labels.labels[i] else {
                summary.censored += 1;
                continue;
            };
            summary.labelled += 1;
            group.p.push(prediction.probability);
            group.y.push(label);
            group.w.push(labels.weights[i]);
            group.day.push(prediction.day);
            group.organ.push(outcomes.organ.get(*case).cloned());
            if !group.model_versions.contains(&prediction.model_version) {
                group.model_versions.push(prediction.model_version.clone());
            }
        }
        group.model_versions.sort();
        labelled.push(group);
    }
    Ok((labelled, summary))
}
