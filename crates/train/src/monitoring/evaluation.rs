//! The figures of each model set and target on its labelled predictions:
//! discrimination and calibration (AUC, Brier, calibration slope and
//! intercept, ECE), the operating points at the target's thresholds
//! (sensitivity, PPV, flag rate), the calibration curve, and the same
//! figures by month of prediction and by organ.

use std::collections::BTreeMap;

use serde::Serialize;

use super::join::{JoinSummary, Labelled};
use super::{month_of, ModelSet};
use crate::evaluation::curves::{calibration_curve, CalibrationBin};
use crate::evaluation::full::{operating_point, OperatingPoint};
use crate::evaluation::metrics::{evaluate, Metrics};

/// Bins of the calibration curve.
const CALIBRATION_BINS: usize = 10;

/// Figures of a set of labelled predictions.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// Discrimination and calibration (rows: labelled predictions).
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Weighted mean predicted probability (the expected event rate).
    pub expected_rate: f64,
    /// Observed over expected event rate (1 is calibrated in the large).
    pub observed_over_expected: Option<f64>,
    /// Operating points at the target's thresholds.
    pub operating_points: Vec<OperatingPoint>,
}

/// Figures of one group (a month, an organ).
#[derive(Debug, Clone, Serialize)]
pub struct GroupFigures {
    /// The group: `YYYY-MM`, or an organ.
    pub group: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// One model set's figures for one target.
#[derive(Debug, Clone, Serialize)]
pub struct ModelFigures {
    /// The set.
    pub set: ModelSet,
    /// The target.
    pub target: String,
    /// Model versions among its predictions.
    pub model_versions: Vec<String>,
    /// On every labelled prediction.
    pub overall: Figures,
    /// The calibration curve (deciles of predicted risk).
    pub calibration: Vec<CalibrationBin>,
    /// By month of prediction, ascending.
    pub by_month: Vec<GroupFigures>,
    /// By organ, where the outcomes give one.
    pub by_organ: Vec<GroupFigures>,
}

/// The whole report of `monitor`.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorReport {
    /// The audit trail read.
    pub audit: String,
    /// The outcomes read.
    pub outcomes: String,
    /// The censoring rule of the labels (`ipcw` or `drop`).
    pub censoring: String,
    /// Audit lines skipped (grades, spec models, lines without a case hash).
    pub skipped_lines: usize,
    /// What the join used.
    pub join: JoinSummary,
    /// Per model set and target.
    pub models: Vec<ModelFigures>,
}

fn figures(p: &[f64], y: &[bool], w: &[f64], thresholds: &[f64]) -> Figures {
    let metrics = evaluate(p, y, w);
    let total: f64 = w.iter().sum();
    let expected_rate = if total > 0.0 {
        p.iter().zip(w).map(|(p, w)| p * w).sum::<f64>() / total
    } else {
        0.0
    };
    Figures {
        observed_over_expected: (expected_rate > 0.0).then(|| metrics.event_rate / expected_rate),
        expected_rate,
        metrics,
        operating_points: thresholds.iter().map(|t| operating_point(p, y, w, *t)).collect(),
    }
}

/// The figures of the rows of `group` whose key `key` gives, per key, ascending.
fn by(group: &Labelled, thresholds: &[f64], key: impl Fn(usize) -> Option<String>) -> Vec<GroupFigures> {
    let mut rows: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in 0..group.p.len() {
        if let Some(k) = key(i) {
            rows.entry(k).or_default().push(i);
        }
    }
    rows.into_iter()
        .map(|(k, idx)| {
            let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<_>>();
            let y: Vec<bool> = idx.iter().map(|&i| group.y[i]).collect();
            GroupFigures {
                group: k,
                figures: figures(&pick(&group.p), &y, &pick(&group.w), thresholds),
            }
        })
        .collect()
}

/// The figures of one set's labelled predictions of one target.
pub fn evaluate_group(group: &Labelled) -> ModelFigures {
    let thresholds = group.target.operating_thresholds();
    ModelFigures {
        set: group.set,
        target: group.target.name().to_string(),
        model_versions: group.model_versions.clone(),
        overall: figures(&group.p, &group.y, &group.w, &thresholds),
        calibration: calibration_curve(&group.p, &group.y, &group.w, CALIBRATION_BINS),
        by_month: by(group, &thresholds, |i| Some(month_of(group.day[i]))),
        by_organ: by(group, &thresholds, |i| group.organ[i].clone()),
    }
}
