//! Fitting a calibrated model for a target (built-in or from a spec) from
//! a screened table: the prepared rows ([`crate::prepare`]), the estimator
//! of a model family ([`crate::family`]), Platt or isotonic calibration on
//! its held-out predictions, and the artifact with its held-out metrics.

use std::collections::BTreeMap;

use carescore_core::artifact::{
    Calibration, DataFingerprint, Estimator, FeatureSpec, ModelArtifact, TrainerInfo, ARTIFACT_FORMAT,
};
use serde::Serialize;

use crate::evaluation::{by_subgroup, full_evaluation, Evaluation};
use crate::family::{ModelFamily, Tuning};
use crate::ingest::{Dataset, Screening};
use crate::metrics::Metrics;
use crate::model::calibrate;
use crate::prepare::labelled;
use crate::prepare::{prepare, Labelled};
pub use crate::prepare::{FitOptions, Prepared, TrainError};
use crate::rows::TableRow;
use crate::target::Target;

/// A fitted model with what was learnt on the way.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The artifact (checksum filled when serialised).
    pub artifact: ModelArtifact,
    /// Screening of the input rows.
    pub screening: Screening,
    /// Rows with a known label, and weighted events among them.
    pub labelled_rows: usize,
    /// What the model predicts.
    pub target: Target,
    /// The model family (`logistic`, `forest`, `gbdt`).
    pub family: &'static str,
    /// The settings the family tried, with their criterion.
    pub tuning: Vec<Tuning>,
    /// Out-of-fold metrics of the calibrated model.
    pub validation: Metrics,
    /// Cross-validation folds used.
    pub folds: usize,
    /// How the model was chosen, for the model card.
    pub description: String,
    /// Full evaluation on the held-out predictions (CI, net benefit, operating points).
    pub evaluation: Evaluation,
    /// Metrics by subgroup (organ, sex, phase) on the held-out predictions.
    pub subgroups: BTreeMap<String, Metrics>,
    /// The held-out rows behind `evaluation`, with their calibrated probabilities.
    pub heldout: Scored,
    /// Evaluation on the temporal hold-out (rows from `.1` on), if one was kept.
    pub temporal: Option<(ArtifactEvaluation, String)>,
    /// Wall time of the estimator itself (binning and boosting, or the
    /// regression fits), in seconds, excluding calibration and evaluation.
    pub estimator_seconds: f64,
}

/// Rows scored by a model: probabilities with their labels, censoring
/// weights and the records they came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scored {
    /// Index of each row's record in the dataset table.
    pub records: Vec<usize>,
    /// Calibrated probability.
    pub p: Vec<f64>,
    /// Label at the horizon.
    pub y: Vec<bool>,
    /// Censoring weight.
    pub w: Vec<f64>,
}

impl Scored {
    /// The rows `rows` of `data` with probabilities `p`.
    fn of(data: &Labelled, rows: &[usize], p: Vec<f64>) -> Scored {
        Scored {
            records: rows.iter().map(|&i| data.records[i]).collect(),
            p,
            y: rows.iter().map(|&i| data.y[i]).collect(),
            w: rows.iter().map(|&i| data.w[i]).collect(),
        }
    }
}

/// What `evaluate` measures on a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArtifactEvaluation {
    /// All rows with a known label.
    #[serde(flatten)]
    pub overall: Evaluation,
    /// By organ, sex and phase.
    pub subgroups: BTreeMap<String, Metrics>,
}

/// Full and subgroup evaluation of scored rows.
fn assess(dataset: &Dataset, scored: &Scored, options: FitOptions) -> ArtifactEvaluation {
    let (p, y, w) = (&scored.p, &scored.y, &scored.w);
    let records: Vec<&TableRow> = scored.records.iter().map(|&i| &dataset.records[i]).collect();
    ArtifactEvaluation {
        overall: full_evaluation(p, y, w, &options.target.operating_thresholds(), options.seed),
        subgroups: by_subgroup(&records, p, y, w),
    }
}

/// Fits a calibrated model of `family` for `options.target`: the family fits
/// its estimator, its held-out raw scores choose and fit the calibration map
/// (Platt or isotonic) and give the validation metrics, and the temporal
/// hold-out, if any, is scored with the finished artifact.
///
/// # Errors
/// [`TrainError`] naming the problem (no known labels, unusable follow-up times, one class, too few patients).
pub fn fit(dataset: &Dataset, options: FitOptions, family: &dyn ModelFamily) -> Result<Fitted, TrainError> {
    let prepared = prepare(dataset, options)?;
    let fitted = family.fit(&prepared, &options)?;
    // The held-out rows' labels and weights; their probabilities once calibrated.
    let mut heldout = Scored::of(&prepared.data, &fitted.heldout, Vec::new());
    let groups: Vec<i64> = fitted.heldout.iter().map(|&i| prepared.data.groups[i]).collect();
    let (calibration, _) = calibrate::choose(&fitted.heldout_raw, &heldout.y, &heldout.w, &groups)
        .map_err(crate::prepare::fit_error(&options))?;
    heldout.p = fitted.heldout_raw.iter().map(|r| calibration.apply(*r)).collect();
    let Prepared {
        data,
        features,
        holdout,
        k,
        ..
    } = prepared;
    let outcome = Outcome {
        assessment: assess(dataset, &heldout, options),
        heldout,
        family: family.name(),
        features,
        estimator: fitted.estimator,
        calibration,
        description: fitted.description,
        extra_metric: fitted.criterion,
        estimator_seconds: fitted.estimator_seconds,
        folds: k,
        tuning: fitted.tuning,
    };
    Ok(finish(dataset, &data, holdout, options, outcome))
}

/// Each candidate's weighted Brier score on the rows that every candidate
/// held out (its calibrated held-out predictions), so families that hold out
/// different rows are compared on the same ones.
pub fn common_heldout_brier(candidates: &[&Scored]) -> Vec<f64> {
    let mut common: Option<std::collections::BTreeSet<usize>> = None;
    for c in candidates {
        let rows: std::collections::BTreeSet<usize> = c.records.iter().copied().collect();
        common = Some(match common {
            None => rows,
            Some(before) => before.intersection(&rows).copied().collect(),
        });
    }
    let common = common.unwrap_or_default();
    candidates
        .iter()
        .map(|h| {
            let (mut sum, mut total) = (0.0, 0.0);
            for i in 0..h.p.len() {
                if common.contains(&h.records[i]) {
                    let y = f64::from(u8::from(h.y[i]));
                    sum += h.w[i] * (h.p[i] - y).powi(2);
                    total += h.w[i];
                }
            }
            if total > 0.0 {
                sum / total
            } else {
                f64::INFINITY
            }
        })
        .collect()
}

/// Scores the temporal hold-out with the finished artifact and records the result.
fn assess_temporal(fitted: &mut Fitted, dataset: &Dataset, holdout: Option<(Labelled, String)>, options: FitOptions) {
    let Some((later, from)) = holdout else { return };
    let model = fitted.artifact.compile();
    let p: Vec<f64> = later
        .records
        .iter()
        .map(|&i| model.predict(&dataset.records[i]))
        .collect();
    let all: Vec<usize> = (0..later.y.len()).collect();
    let evaluation = assess(dataset, &Scored::of(&later, &all, p), options);
    let m = &evaluation.overall.metrics;
    for (name, value) in [
        ("temporal_auc", m.auc),
        ("temporal_brier", Some(m.brier)),
        ("temporal_calibration_slope", m.calibration_slope),
        ("temporal_ece", Some(m.ece)),
    ] {
        if let Some(v) = value {
            fitted.artifact.metrics.insert(name.to_string(), v);
        }
    }
    fitted.temporal = Some((evaluation, from));
}

/// What a model family hands over once fitted.
struct Outcome {
    heldout: Scored,
    family: &'static str,
    tuning: Vec<Tuning>,
    features: Vec<FeatureSpec>,
    estimator: Estimator,
    calibration: Calibration,
    /// Evaluation on the family's held-out predictions.
    assessment: ArtifactEvaluation,
    description: String,
    /// The family's own selection criterion, kept in the artifact's metrics.
    extra_metric: (&'static str, f64),
    estimator_seconds: f64,
    folds: usize,
}

/// Assembles the artifact and the fit record, then scores the temporal hold-out.
fn finish(
    dataset: &Dataset,
    data: &Labelled,
    holdout: Option<(Labelled, String)>,
    options: FitOptions,
    outcome: Outcome,
) -> Fitted {
    let Outcome {
        heldout: heldout_rows,
        family,
        tuning,
        features,
        estimator,
        calibration,
        assessment,
        description,
        extra_metric,
        estimator_seconds,
        folds,
    } = outcome;
    let validation = assessment.overall.metrics.clone();
    let target = options.target;
    let mut metrics = BTreeMap::new();
    metrics.insert(extra_metric.0.to_string(), extra_metric.1);
    metrics.insert("brier".to_string(), validation.brier);
    metrics.insert("ece".to_string(), validation.ece);
    metrics.insert("event_rate".to_string(), validation.event_rate);
    for (name, value) in [
        ("auc", validation.auc),
        ("calibration_slope", validation.calibration_slope),
        ("calibration_intercept", validation.calibration_intercept),
    ] {
        if let Some(v) = value {
            metrics.insert(name.to_string(), v);
        }
    }
    let events = data.y.iter().filter(|y| **y).count() as u64;
    let artifact = ModelArtifact {
        format: ARTIFACT_FORMAT.to_string(),
        target: target.name().to_string(),
        horizon_days: target.horizon_days(),
        version: options.version,
        features,
        estimator,
        calibration,
        metrics,
        training_data: DataFingerprint {
            rows: data.y.len() as u64,
            events,
            sha256: dataset.sha256.clone(),
        },
        trainer: TrainerInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            seed: options.seed,
            source_date_epoch: std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse().ok()),
        },
        sha256: String::new(),
    };
    let mut fitted = Fitted {
        artifact,
        screening: dataset.screening.clone(),
        labelled_rows: data.y.len(),
        target,
        family,
        tuning,
        heldout: heldout_rows,
        validation,
        folds,
        description,
        evaluation: assessment.overall,
        subgroups: assessment.subgroups,
        estimator_seconds,
        temporal: None,
    };
    assess_temporal(&mut fitted, dataset, holdout, options);
    fitted
}

/// Scores every row of a screened table with a known label at the artifact's horizon.
///
/// # Errors
/// [`TrainError`] if a follow-up time is unusable or no label is known.
pub fn score_table(artifact: &ModelArtifact, dataset: &Dataset, options: FitOptions) -> Result<Scored, TrainError> {
    let data = labelled(dataset, options.target, options.censoring)?;
    let model = artifact.compile();
    let p: Vec<f64> = data
        .records
        .iter()
        .map(|&i| model.predict(&dataset.records[i]))
        .collect();
    let all: Vec<usize> = (0..data.y.len()).collect();
    Ok(Scored::of(&data, &all, p))
}

/// Out-of-sample evaluation of an artifact on a screened table, with the scored rows.
///
/// # Errors
/// As [`score_table`].
pub fn evaluate_artifact(
    artifact: &ModelArtifact,
    dataset: &Dataset,
    options: FitOptions,
) -> Result<(Scored, ArtifactEvaluation), TrainError> {
    let scored = score_table(artifact, dataset, options)?;
    let evaluation = assess(dataset, &scored, options);
    Ok((scored, evaluation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_compared_on_the_rows_all_held_out() {
        // Out-of-fold on rows 0-3; a validation fold of rows 2-3 only.
        let everywhere = Scored {
            records: vec![0, 1, 2, 3],
            p: vec![0.9, 0.9, 0.2, 0.8],
            y: vec![false, false, false, true],
            w: vec![1.0, 1.0, 1.0, 3.0],
        };
        let fold = Scored {
            records: vec![3, 2],
            p: vec![0.5, 0.5],
            y: vec![true, false],
            w: vec![3.0, 1.0],
        };
        let briers = common_heldout_brier(&[&everywhere, &fold]);
        // Rows 2 and 3 only: (1 * 0.04 + 3 * 0.04) / 4 and (3 * 0.25 + 1 * 0.25) / 4.
        assert!((briers[0] - 0.04).abs() < 1e-12, "{briers:?}");
        assert!((briers[1] - 0.25).abs() < 1e-12, "{briers:?}");
    }
}
