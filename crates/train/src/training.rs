//! Fitting a calibrated model for a built-in target from an ingested table:
//! censoring-aware labels, a temporal hold-out, logistic regression (penalty
//! chosen by patient-grouped k-fold cross-validation) or boosted trees (early
//! stopping on a patient-grouped fold), Platt or isotonic calibration on
//! held-out predictions, and the artifact with its held-out metrics.

use std::collections::BTreeMap;

use carescore_core::artifact::{
    sigmoid, Calibration, DataFingerprint, DesignKind, Estimator, FeatureSpec, ModelArtifact, TrainerInfo,
    ARTIFACT_FORMAT,
};
use carescore_core::PatientRecord;
use serde::Serialize;

use crate::evaluation::{by_subgroup, full_evaluation, Evaluation};
use crate::ingest::{event_column, numeric_column, IngestError, Ingested, Screening};
use crate::labels::{horizon_labels, Censoring, LabelError};
use crate::metrics::{log_loss, Metrics};
use crate::model::calibrate;
use crate::model::design::{signature, Design};
use crate::model::folds::grouped_folds;
use crate::model::gbdt::{self, Binned, Booster, GbdtParams};
use crate::model::logistic::{self, FitError};
use crate::target::Target;

/// Penalties tried by cross-validation.
pub const L2_GRID: [f64; 6] = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0];

/// Options of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// What to predict.
    pub target: Target,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Version written into the artifact.
    pub version: u32,
    /// Censoring handling.
    pub censoring: Censoring,
    /// Cross-validation folds (at least 2).
    pub folds: usize,
    /// Leaves per boosted tree; `None` chooses from [`LEAVES_GRID`] on the validation fold.
    pub gbdt_leaves: Option<usize>,
    /// Share of labelled rows, the latest by `index_date`, kept out of fitting
    /// and evaluated at the end (0 disables; ignored without `index_date`).
    pub temporal_holdout: f64,
}

/// Why a fit failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The table is unusable.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The outcome columns are unusable.
    #[error(transparent)]
    Labels(#[from] LabelError),
    /// No row has a known label at the horizon.
    #[error("no row is followed up to the {0}-day horizon (every row is censored before it)")]
    NoKnownLabels(u32),
    /// The labels have one class only, overall or within a fold.
    #[error("cannot fit {target}: {source}")]
    Fit {
        /// Target name.
        target: &'static str,
        /// The underlying failure.
        source: FitError,
    },
    /// Too few patients for the requested folds.
    #[error("{patients} patient(s) cannot fill {folds} cross-validation folds")]
    TooFewPatients {
        /// Distinct patients.
        patients: usize,
        /// Folds requested.
        folds: usize,
    },
}

/// One penalty's cross-validated weighted log-loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PenaltyScore {
    /// The L2 penalty.
    pub l2: f64,
    /// Out-of-fold weighted log-loss.
    pub log_loss: f64,
}

/// A fitted model with what was learnt on the way.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The artifact (checksum filled when serialised).
    pub artifact: ModelArtifact,
    /// Screening of the input rows.
    pub screening: Screening,
    /// Rows with a known label, and weighted events among them.
    pub labelled_rows: usize,
    /// Cross-validation of the penalty grid.
    pub penalties: Vec<PenaltyScore>,
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
    /// Evaluation on the temporal hold-out (rows from `.1` on), if one was kept.
    pub temporal: Option<(ArtifactEvaluation, String)>,
    /// Wall time of the estimator itself (binning and boosting, or the
    /// regression fits), in seconds, excluding calibration and evaluation.
    pub estimator_seconds: f64,
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

/// Full and subgroup evaluation of held-out probabilities `p` for the labelled rows `rows` (indices into `data`).
fn assess(ingested: &Ingested, data: &Labelled, rows: &[usize], p: &[f64], options: FitOptions) -> ArtifactEvaluation {
    let y: Vec<bool> = rows.iter().map(|&i| data.y[i]).collect();
    let w: Vec<f64> = rows.iter().map(|&i| data.w[i]).collect();
    let records: Vec<&PatientRecord> = rows.iter().map(|&i| &ingested.records[data.records[i]]).collect();
    ArtifactEvaluation {
        overall: full_evaluation(p, &y, &w, &options.target.operating_thresholds(), options.seed),
        subgroups: by_subgroup(&records, p, &y, &w),
    }
}

/// Labels, weights and patient groups of the labelled rows.
pub(crate) struct Labelled {
    pub(crate) records: Vec<usize>,
    pub(crate) y: Vec<bool>,
    pub(crate) w: Vec<f64>,
    pub(crate) groups: Vec<i64>,
    pub(crate) dates: Vec<Option<String>>,
}

fn labelled(ingested: &Ingested, target: Target, censoring: Censoring) -> Result<Labelled, TrainError> {
    let times = numeric_column(&ingested.frame, target.time_column(), &ingested.rows)?;
    let events = event_column(&ingested.frame, target.event_column(), &ingested.rows)?;
    let labels = horizon_labels(&times, &events, f64::from(target.horizon_days()), censoring)?;
    let groups_all = patient_groups(&ingested.frame, &ingested.rows);
    let dates_all = index_dates(&ingested.frame, &ingested.rows);
    let mut out = Labelled {
        records: Vec::new(),
        y: Vec::new(),
        w: Vec::new(),
        groups: Vec::new(),
        dates: Vec::new(),
    };
    for (i, label) in labels.labels.iter().enumerate() {
        if let Some(label) = label {
            out.records.push(i);
            out.y.push(*label);
            out.w.push(labels.weights[i]);
            out.groups.push(groups_all[i]);
            out.dates.push(dates_all.as_ref().and_then(|d| d[i].clone()));
        }
    }
    if out.records.is_empty() {
        return Err(TrainError::NoKnownLabels(target.horizon_days()));
    }
    Ok(out)
}

/// What fitting starts from.
pub(crate) struct Prepared {
    /// Labelled rows used for fitting.
    pub(crate) data: Labelled,
    /// Their records.
    pub(crate) records: Vec<PatientRecord>,
    /// The signature learnt from them.
    pub(crate) features: Vec<FeatureSpec>,
    /// The temporal hold-out and its first index date, if any.
    pub(crate) holdout: Option<(Labelled, String)>,
    /// Number of cross-validation folds (at least 2).
    pub(crate) k: usize,
    /// The fold of each row of `data`, grouped by patient, from `options.seed`.
    pub(crate) folds: Vec<usize>,
}

/// The patient of each of `rows`, as a group number for folds: numeric
/// `patient_id`s as they are, text (or partly missing) ids numbered by first appearance, and
/// every row its own group when the table has no `patient_id` column.
fn patient_groups(frame: &polars::prelude::DataFrame, rows: &[usize]) -> Vec<i64> {
    let Ok(column) = frame.column("patient_id") else {
        return (0..rows.len() as i64).collect();
    };
    if let Ok(ids) = numeric_column(frame, "patient_id", rows) {
        if ids.iter().all(|x| x.is_finite()) {
            return ids.iter().map(|x| *x as i64).collect();
        }
    }
    let Ok(text) = column.cast(&polars::prelude::DataType::String) else {
        return (0..rows.len() as i64).collect();
    };
    let Ok(values) = text.str() else {
        return (0..rows.len() as i64).collect();
    };
    let mut ids: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    rows.iter()
        .map(|&i| {
            // A missing id is a group of its own.
            let key = values.get(i).map_or_else(|| format!("\u{0}row-{i}"), str::to_string);
            let next = ids.len() as i64;
            *ids.entry(key).or_insert(next)
        })
        .collect()
}

/// The `index_date` of `rows` as ISO text (which sorts by date), if the column exists.
fn index_dates(frame: &polars::prelude::DataFrame, rows: &[usize]) -> Option<Vec<Option<String>>> {
    let column = frame.column("index_date").ok()?;
    let text = column.cast(&polars::prelude::DataType::String).ok()?;
    let values = text.str().ok()?;
    Some(rows.iter().map(|&i| values.get(i).map(str::to_string)).collect())
}

impl Labelled {
    /// The rows at `keep` positions.
    fn subset(&self, keep: &[usize]) -> Labelled {
        Labelled {
            records: keep.iter().map(|&i| self.records[i]).collect(),
            y: keep.iter().map(|&i| self.y[i]).collect(),
            w: keep.iter().map(|&i| self.w[i]).collect(),
            groups: keep.iter().map(|&i| self.groups[i]).collect(),
            dates: keep.iter().map(|&i| self.dates[i].clone()).collect(),
        }
    }

    /// Splits off the latest `share` of rows by index date: `(earlier, later, first later date)`.
    /// `None` when `share` is 0, dates are missing, or a side would be empty.
    fn split_temporal(&self, share: f64) -> Option<(Labelled, Labelled, String)> {
        if share <= 0.0 || self.dates.iter().any(Option::is_none) {
            return None;
        }
        let mut sorted: Vec<&String> = self.dates.iter().flatten().collect();
        sorted.sort();
        let cutoff = sorted.get(((1.0 - share) * sorted.len() as f64) as usize)?.to_string();
        let (later, earlier): (Vec<usize>, Vec<usize>) =
            (0..self.y.len()).partition(|&i| self.dates[i].as_deref() >= Some(cutoff.as_str()));
        if later.is_empty() || earlier.is_empty() {
            return None;
        }
        Some((self.subset(&earlier), self.subset(&later), cutoff))
    }
}

/// The labelled rows, their records and the feature signature learnt from
/// them, after checking that there are patients enough for the folds.
pub(crate) fn prepare(ingested: &Ingested, options: FitOptions) -> Result<Prepared, TrainError> {
    let all = labelled(ingested, options.target, options.censoring)?;
    let (data, holdout) = match all.split_temporal(options.temporal_holdout) {
        Some((earlier, later, from)) => (earlier, Some((later, from))),
        None => (all, None),
    };
    // Every fold needs patients of its own.
    let mut patients = data.groups.clone();
    patients.sort_unstable();
    patients.dedup();
    let k = options.folds.max(2);
    if patients.len() < k {
        return Err(TrainError::TooFewPatients {
            patients: patients.len(),
            folds: k,
        });
    }
    let records: Vec<PatientRecord> = data.records.iter().map(|&i| ingested.records[i].clone()).collect();
    let features = signature(&records);
    let folds = grouped_folds(&data.groups, k, options.seed);
    Ok(Prepared {
        data,
        records,
        features,
        holdout,
        k,
        folds,
    })
}

/// Out-of-fold raw scores of a logistic model with penalty `l2`.
fn out_of_fold(
    design: &Design,
    data: &Labelled,
    folds: &[usize],
    k: usize,
    l2: f64,
    target: Target,
) -> Result<Vec<f64>, TrainError> {
    let mut raw = vec![0.0; data.y.len()];
    for fold in 0..k {
        let train_w: Vec<f64> = data
            .w
            .iter()
            .zip(folds)
            .map(|(w, f)| if *f == fold { 0.0 } else { *w })
            .collect();
        let fit =
            logistic::fit(&design.values, design.cols, &data.y, &train_w, l2).map_err(|source| TrainError::Fit {
                target: target.name(),
                source,
            })?;
        for (i, f) in folds.iter().enumerate() {
            if *f == fold {
                raw[i] = logistic::raw(&fit, design.row(i));
            }
        }
    }
    Ok(raw)
}

/// Fits a calibrated logistic model for `options.target`.
///
/// # Errors
/// [`TrainError`] naming the problem (unusable columns, no known labels, one class, too few patients).
pub fn fit_logistic(ingested: &Ingested, options: FitOptions) -> Result<Fitted, TrainError> {
    let target = options.target;
    let Prepared {
        data,
        records,
        features,
        holdout,
        k,
        folds,
    } = prepare(ingested, options)?;
    let design = Design::encode(&features, DesignKind::Linear, &records);

    let total_w: f64 = data.w.iter().sum();
    let started = std::time::Instant::now();
    let mut penalties = Vec::new();
    // (log-loss, penalty, out-of-fold raw scores); ties keep the smaller penalty.
    let mut best: Option<(f64, f64, Vec<f64>)> = None;
    for l2 in L2_GRID {
        let raw = out_of_fold(&design, &data, &folds, k, l2, target)?;
        let loss = (0..raw.len())
            .map(|i| data.w[i] * log_loss(sigmoid(raw[i]), data.y[i]))
            .sum::<f64>()
            / total_w;
        penalties.push(PenaltyScore { l2, log_loss: loss });
        if best.as_ref().is_none_or(|(best_loss, _, _)| loss < *best_loss) {
            best = Some((loss, l2, raw));
        }
    }
    let (cv_log_loss, l2, oof_raw) = best.expect("the grid is not empty");
    let (calibration, _) =
        calibrate::choose(&oof_raw, &data.y, &data.w, &data.groups).map_err(|source| TrainError::Fit {
            target: target.name(),
            source,
        })?;
    let oof_p: Vec<f64> = oof_raw.iter().map(|r| calibration.apply(*r)).collect();

    let fit = logistic::fit(&design.values, design.cols, &data.y, &data.w, l2).map_err(|source| TrainError::Fit {
        target: target.name(),
        source,
    })?;
    let estimator_seconds = started.elapsed().as_secs_f64();
    let estimator = Estimator::Logistic {
        intercept: fit.intercept,
        coefficients: fit.coefficients,
        l2,
    };
    let description = format!(
        "L2-regularised logistic regression over {} design columns ({} features, standardised numerics, one-hot \
         categories, missing-value indicators); penalty {l2} chosen by {k}-fold patient-grouped cross-validation \
         over {L2_GRID:?}; calibrated on out-of-fold predictions (Platt or isotonic, chosen by patient-split cross-fitting).",
        design.cols,
        features.len()
    );
    let all: Vec<usize> = (0..data.y.len()).collect();
    let outcome = Outcome {
        features,
        estimator,
        calibration,
        assessment: assess(ingested, &data, &all, &oof_p, options),
        description,
        extra_metric: ("cv_log_loss", cv_log_loss),
        estimator_seconds,
        folds: k,
    };
    let mut fitted = finish(ingested, &data, holdout, options, outcome);
    fitted.penalties = penalties;
    Ok(fitted)
}

/// Scores the temporal hold-out with the finished artifact and records the result.
fn assess_temporal(fitted: &mut Fitted, ingested: &Ingested, holdout: Option<(Labelled, String)>, options: FitOptions) {
    let Some((later, from)) = holdout else { return };
    let p: Vec<f64> = later
        .records
        .iter()
        .map(|&i| fitted.artifact.predict(&ingested.records[i]))
        .collect();
    let all: Vec<usize> = (0..later.y.len()).collect();
    let evaluation = assess(ingested, &later, &all, &p, options);
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
    ingested: &Ingested,
    data: &Labelled,
    holdout: Option<(Labelled, String)>,
    options: FitOptions,
    outcome: Outcome,
) -> Fitted {
    let Outcome {
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
            sha256: ingested.sha256.clone(),
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
        screening: ingested.screening.clone(),
        labelled_rows: data.y.len(),
        penalties: Vec::new(),
        validation,
        folds,
        description,
        evaluation: assessment.overall,
        subgroups: assessment.subgroups,
        estimator_seconds,
        temporal: None,
    };
    assess_temporal(&mut fitted, ingested, holdout, options);
    fitted
}

/// Leaf counts tried for the boosted trees.
pub const LEAVES_GRID: [usize; 3] = [7, 15, 31];

/// Fits calibrated gradient-boosted trees for `options.target`: one
/// patient-grouped fold (of `options.folds`) is held out for early stopping,
/// for choosing the number of leaves and for calibration.
///
/// # Errors
/// As [`fit_logistic`].
pub fn fit_gbdt(ingested: &Ingested, options: FitOptions) -> Result<Fitted, TrainError> {
    let target = options.target;
    let Prepared {
        data,
        records,
        features,
        holdout,
        k,
        folds,
    } = prepare(ingested, options)?;
    let design = Design::encode(&features, DesignKind::Raw, &records);
    let train: Vec<u32> = (0..data.y.len() as u32).filter(|i| folds[*i as usize] != 0).collect();
    let valid: Vec<u32> = (0..data.y.len() as u32).filter(|i| folds[*i as usize] == 0).collect();
    let one_class = |rows: &[u32]| {
        let positives = rows.iter().filter(|r| data.y[**r as usize]).count();
        positives == 0 || positives == rows.len()
    };
    if one_class(&train) || one_class(&valid) {
        return Err(TrainError::Fit {
            target: target.name(),
            source: FitError::OneClass,
        });
    }
    let started = std::time::Instant::now();
    let binned = Binned::new(&design.values, design.cols, 255);
    // Leaves need enough rows to be stable on small data sets.
    let min_rows_in_leaf = (train.len() / 500).clamp(20, 200);
    let mut best: Option<(f64, GbdtParams, Booster)> = None;
    let grid: Vec<usize> = options
        .gbdt_leaves
        .map_or_else(|| LEAVES_GRID.to_vec(), |leaves| vec![leaves]);
    for max_leaves in grid {
        let params = GbdtParams {
            max_leaves,
            min_rows_in_leaf,
            ..GbdtParams::default()
        };
        let booster = gbdt::fit(&binned, &data.y, &data.w, &train, &valid, &params);
        let loss = booster
            .validation_loss
            .get(booster.trees.len().saturating_sub(1))
            .copied()
            .unwrap_or(f64::INFINITY);
        if best.as_ref().is_none_or(|(l, _, _)| loss < *l) {
            best = Some((loss, params, booster));
        }
    }
    let (loss, params, booster) = best.expect("the grid is not empty");
    let estimator_seconds = started.elapsed().as_secs_f64();
    let valid_raw: Vec<f64> = valid.iter().map(|&r| booster.raw(design.row(r as usize))).collect();
    let valid_y: Vec<bool> = valid.iter().map(|&r| data.y[r as usize]).collect();
    let valid_w: Vec<f64> = valid.iter().map(|&r| data.w[r as usize]).collect();
    let valid_groups: Vec<i64> = valid.iter().map(|&r| data.groups[r as usize]).collect();
    let (calibration, _) =
        calibrate::choose(&valid_raw, &valid_y, &valid_w, &valid_groups).map_err(|source| TrainError::Fit {
            target: target.name(),
            source,
        })?;
    let valid_p: Vec<f64> = valid_raw.iter().map(|r| calibration.apply(*r)).collect();
    let description = format!(
        "Gradient-boosted trees: {} trees of up to {} leaves (chosen from {LEAVES_GRID:?}), learning rate {}, at \
         least {} rows per leaf, L2 {} on leaf values, histogram binning (255 bins), missing values routed by each \
         split; early stopping after {} rounds without improvement on a patient-grouped validation fold (1 of {k}), \
         which also calibrates (Platt or isotonic, chosen by patient-split cross-fitting) and gives the metrics below.",
        booster.trees.len(),
        params.max_leaves,
        params.learning_rate,
        params.min_rows_in_leaf,
        params.l2,
        params.early_stopping_rounds
    );
    let estimator = Estimator::BoostedTrees {
        base_score: booster.base_score,
        trees: booster.trees,
        learning_rate: params.learning_rate,
    };
    let valid_rows: Vec<usize> = valid.iter().map(|r| *r as usize).collect();
    let outcome = Outcome {
        features,
        estimator,
        calibration,
        assessment: assess(ingested, &data, &valid_rows, &valid_p, options),
        description,
        extra_metric: ("validation_log_loss", loss),
        estimator_seconds,
        folds: k,
    };
    Ok(finish(ingested, &data, holdout, options, outcome))
}

/// Out-of-sample evaluation of an artifact on an ingested table.
///
/// # Errors
/// [`TrainError`] if the target's outcome columns are unusable or no label is known.
pub fn evaluate_artifact(
    artifact: &ModelArtifact,
    ingested: &Ingested,
    options: FitOptions,
) -> Result<ArtifactEvaluation, TrainError> {
    let data = labelled(ingested, options.target, options.censoring)?;
    let p: Vec<f64> = data
        .records
        .iter()
        .map(|&i| artifact.predict(&ingested.records[i]))
        .collect();
    let all: Vec<usize> = (0..data.y.len()).collect();
    Ok(assess(ingested, &data, &all, &p, options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{Column, DataFrame};

    #[test]
    fn patient_groups_follow_numeric_and_text_ids() {
        let numeric = DataFrame::new(3, vec![Column::new("patient_id".into(), vec![7i64, 7, 9])]).unwrap();
        assert_eq!(patient_groups(&numeric, &[0, 1, 2]), [7, 7, 9]);
        let text = DataFrame::new(3, vec![Column::new("patient_id".into(), vec!["b", "a", "b"])]).unwrap();
        assert_eq!(patient_groups(&text, &[0, 1, 2]), [0, 1, 0]);
        let none = DataFrame::new(3, vec![Column::new("other".into(), vec![1i64, 2, 3])]).unwrap();
        assert_eq!(patient_groups(&none, &[0, 2]), [0, 1]);
    }
}
