//! Fitting a calibrated model for a target (built-in or from a spec) on a
//! cohort: the prepared rows ([`crate::prepare`]), the estimator of a model
//! family with its tuning and early stopping ([`crate::family`]), Platt or
//! isotonic calibration on its held-out predictions, and the artifact
//! ([`fit`]); the choice among families ([`selection`]); and the internal
//! validation of that whole pipeline on patients it did not see, whose
//! figures are the ones every user reads ([`internal_validation`]). The
//! pipeline runs on any [`Cohort`] of a dataset's patients, which is how the
//! internal validation nests it.

pub mod internal_validation;
pub mod selection;
pub mod update;

use std::collections::BTreeMap;

use carescore_core::artifact::{
    Calibration, DataFingerprint, Estimator, FeatureSpec, Metric, ModelArtifact, TrainerInfo, ARTIFACT_FORMAT,
};

use crate::evaluation::artifact::{assess, score_labelled};
use crate::evaluation::{ArtifactEvaluation, Scored};
use crate::family::{ModelFamily, Tuning};
use crate::ingest::{Dataset, Screening};
use crate::model::calibrate::{self, CalibrationChoice};
use crate::prepare::{fit_error, prepare, Cohort, FitOptions, Labelled, Prepared, TrainError};
use crate::target::Target;

/// A fitted model with what was learnt on the way.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The artifact (checksum filled when serialised).
    pub artifact: ModelArtifact,
    /// Screening of the input rows.
    pub screening: Screening,
    /// Labelled rows that fitted the model.
    pub labelled_rows: usize,
    /// Distinct patients among them.
    pub patients: usize,
    /// What the model predicts.
    pub target: Target,
    /// The model family (`logistic`, `forest`, `gbdt`).
    pub family: &'static str,
    /// The settings the family tried, with their criterion.
    pub tuning: Vec<Tuning>,
    /// Cross-validation folds used.
    pub folds: usize,
    /// How the model was chosen, for the model card.
    pub description: String,
    /// How the calibration method was chosen.
    pub calibration_choice: CalibrationChoice,
    /// The rows the family held out while tuning (out-of-fold, or the
    /// validation fold), with their calibrated probabilities: what model
    /// selection compares families on. They chose the settings and fitted the
    /// calibration, so their figures are optimistic and never reported.
    pub heldout: Scored,
    /// The temporal hold-out (the latest rows, kept out of fitting) and its first index date.
    pub temporal_rows: Option<(Labelled, String)>,
    /// Its evaluation once [`Fitted::assess_temporal`] ran.
    pub temporal: Option<Temporal>,
    /// Wall time of the estimator itself (binning and boosting, or the
    /// regression fits), in seconds, excluding calibration and evaluation.
    pub estimator_seconds: f64,
}

/// The temporal hold-out scored by the finished model.
#[derive(Debug, Clone)]
pub struct Temporal {
    /// The rows with their probabilities.
    pub scored: Scored,
    /// Their evaluation.
    pub evaluation: ArtifactEvaluation,
    /// The first index date of the hold-out.
    pub from: String,
}

impl Fitted {
    /// Scores the temporal hold-out with the finished artifact and records
    /// the result in [`Fitted::temporal`] and the artifact's metrics.
    pub fn assess_temporal(&mut self, dataset: &Dataset, options: FitOptions) {
        let Some((later, from)) = &self.temporal_rows else {
            return;
        };
        let scored = score_labelled(&self.artifact, dataset, later);
        let evaluation = assess(dataset, &scored, options);
        let m = &evaluation.overall.metrics;
        for (metric, value) in [
            (Metric::TemporalAuc, m.auc),
            (Metric::TemporalBrier, Some(m.brier)),
            (Metric::TemporalCalibrationSlope, m.calibration_slope),
            (Metric::TemporalEce, Some(m.ece)),
        ] {
            if let Some(v) = value {
                self.artifact.metrics.insert(metric.name().to_string(), v);
            }
        }
        self.temporal = Some(Temporal {
            scored,
            evaluation,
            from: from.clone(),
        });
    }
}

/// Fits a calibrated model of `family` for `options.target` on `cohort`:
/// the family fits its estimator, and its held-out raw scores choose and
/// fit the calibration map (Platt or isotonic). The temporal hold-out, if
/// any, is set aside for [`Fitted::assess_temporal`].
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
    let (calibration, calibration_choice) =
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
        heldout,
        family: family.name(),
        features,
        estimator: fitted.estimator,
        calibration,
        calibration_choice,
        description: fitted.description,
        criterion: fitted.criterion,
        estimator_seconds: fitted.estimator_seconds,
        folds: k,
        tuning: fitted.tuning,
    };
    let mut fitted = finish(dataset, &data, holdout, options, outcome);
    crate::model::reference::publish(&mut fitted.artifact, cohort);
    Ok(fitted)
}

/// What a model family hands over once fitted and calibrated.
struct Outcome {
    heldout: Scored,
    family: &'static str,
    tuning: Vec<Tuning>,
    features: Vec<FeatureSpec>,
    estimator: Estimator,
    calibration: Calibration,
    calibration_choice: CalibrationChoice,
    description: String,
    /// The family's own selection criterion, kept in the artifact's metrics.
    criterion: (Metric, f64),
    estimator_seconds: f64,
    folds: usize,
}

/// Assembles the artifact and the fit record.
fn finish(
    dataset: &Dataset,
    data: &Labelled,
    holdout: Option<(Labelled, String)>,
    options: FitOptions,
    outcome: Outcome,
) -> Fitted {
    let Outcome {
        heldout,
        family,
        tuning,
        features,
        estimator,
        calibration,
        calibration_choice,
        description,
        criterion,
        estimator_seconds,
        folds,
    } = outcome;
    let target = options.target;
    let mut metrics = BTreeMap::new();
    metrics.insert(criterion.0.name().to_string(), criterion.1);
    let events = data.y.iter().filter(|y| **y).count() as u64;
    let artifact = ModelArtifact {
        format: ARTIFACT_FORMAT.to_string(),
        target: target.name().to_string(),
        horizon_days: target.horizon_days(),
        label_rule: target.label_rule(options.censoring),
        operating_thresholds: target.operating_thresholds(),
        flags: target.declared_flags(),
        version: options.version,
        features,
        estimator,
        calibration,
        probability_bins: None,
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
    Fitted {
        artifact,
        screening: dataset.screening.clone(),
        labelled_rows: data.y.len(),
        patients: data.patients(),
        target,
        family,
        tuning,
        heldout,
        folds,
        description,
        calibration_choice,
        temporal_rows: holdout,
        temporal: None,
        estimator_seconds,
    }
}
