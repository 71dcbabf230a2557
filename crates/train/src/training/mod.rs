//! Fitting a calibrated model for a target (built-in or from a spec) on a
//! cohort: the prepared rows ([`crate::prepare`]), the estimator of a model
//! family with its tuning and early stopping ([`crate::family`]), Platt or
//! isotonic calibration on its held-out predictions, and the artifact with
//! its held-out metrics ([`fit`]); and the choice among families
//! ([`selection`]). The whole pipeline runs on any [`Cohort`] of a
//! dataset's patients, so it can be nested in a cross-validation or a
//! bootstrap.

pub mod selection;

use std::collections::BTreeMap;

use carescore_core::artifact::{
    Calibration, DataFingerprint, Estimator, FeatureSpec, ModelArtifact, TrainerInfo, ARTIFACT_FORMAT,
};

use crate::evaluation::artifact::{assess, score_labelled};
use crate::evaluation::{ArtifactEvaluation, Evaluation, Metrics, Scored};
use crate::family::{ModelFamily, Tuning};
use crate::ingest::{Dataset, Screening};
use crate::model::calibrate;
use crate::prepare::{fit_error, prepare, Cohort, FitOptions, Labelled, Prepared, TrainError};
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

/// Fits a calibrated model of `family` for `options.target` on `cohort`:
/// the family fits its estimator, its held-out raw scores choose and fit the
/// calibration map (Platt or isotonic) and give the validation metrics, and
/// the temporal hold-out, if any, is scored with the finished artifact.
///
/// # Errors
/// [`TrainError`] naming the problem (an option out of range, no known
/// labels, unusable follow-up times, one class, too few patients).
pub fn fit(cohort: &Cohort<'_>, options: FitOptions, family: &dyn ModelFamily) -> Result<Fitted, TrainError> {
    let dataset = cohort.dataset();
    let prepared = prepare(cohort, options)?;
    let fitted = family.fit(&prepared, &options)?;
    // The held-out rows' labels and weights; their probabilities once calibrated.
    let mut heldout = Scored::of(&prepared.data, &fitted.heldout, Vec::new());
    let groups: Vec<i64> = fitted.heldout.iter().map(|&i| prepared.data.groups[i]).collect();
    let (calibration, _) =
        calibrate::choose(&fitted.heldout_raw, &heldout.y, &heldout.w, &groups).map_err(fit_error(&options))?;
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

/// Scores the temporal hold-out with the finished artifact and records the result.
fn assess_temporal(fitted: &mut Fitted, dataset: &Dataset, holdout: Option<(Labelled, String)>, options: FitOptions) {
    let Some((later, from)) = holdout else { return };
    let evaluation = assess(dataset, &score_labelled(&fitted.artifact, dataset, &later), options);
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
