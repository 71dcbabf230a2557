//! Fitting a calibrated model for a built-in target from an ingested table:
//! censoring-aware labels, a temporal hold-out, patient-grouped and
//! outcome-stratified folds, the estimator of a model family
//! ([`crate::family`]), Platt or isotonic calibration on its held-out
//! predictions, and the artifact with its held-out metrics.

use std::collections::BTreeMap;

use carescore_core::artifact::{
    Calibration, DataFingerprint, Estimator, FeatureSpec, ModelArtifact, TrainerInfo, ARTIFACT_FORMAT,
};
use serde::Serialize;

use crate::evaluation::{by_subgroup, full_evaluation, Evaluation};
use crate::family::{ModelFamily, Tuning};
use crate::ingest::{event_column, label_column, numeric_column, IngestError, Ingested, Screening};
use crate::labels::{horizon_labels, Censoring, LabelError};
use crate::metrics::Metrics;
use crate::model::calibrate;
use crate::model::design::signature;
use crate::model::folds::grouped_folds;
use crate::model::logistic::FitError;
use crate::rows::TableRow;
use crate::spec::SpecOutcome;
use crate::target::Target;

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
    /// Leaves per boosted tree; `None` chooses from 7, 15 and 31 leaves on the validation fold.
    pub gbdt_leaves: Option<usize>,
    /// Share of labelled rows, the latest by `index_date`, kept out of fitting
    /// and evaluated at the end (0 disables; ignored without `index_date`).
    pub temporal_holdout: f64,
}

impl FitOptions {
    /// The target's name.
    pub fn target_name(&self) -> String {
        self.target.name().to_string()
    }
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
    /// No row has a known label.
    #[error("{0}")]
    NoKnownLabels(String),
    /// The labels have one class only, overall or within a fold.
    #[error("cannot fit {target}: {source}")]
    Fit {
        /// Target name.
        target: String,
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
    /// Index of each row's record in the ingested table.
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
fn assess(ingested: &Ingested, scored: &Scored, options: FitOptions) -> ArtifactEvaluation {
    let (p, y, w) = (&scored.p, &scored.y, &scored.w);
    let records: Vec<&TableRow> = scored.records.iter().map(|&i| &ingested.records[i]).collect();
    ArtifactEvaluation {
        overall: full_evaluation(p, y, w, &options.target.operating_thresholds(), options.seed),
        subgroups: by_subgroup(&records, p, y, w),
    }
}

/// Labels, weights and patient groups of the labelled rows.
pub struct Labelled {
    /// Index of each row's record in the ingested table.
    pub records: Vec<usize>,
    /// Label at the horizon.
    pub y: Vec<bool>,
    /// Censoring weight (IPCW, or 1).
    pub w: Vec<f64>,
    /// Patient group, for folds.
    pub groups: Vec<i64>,
    /// Index date as ISO text, when the table has one.
    pub dates: Vec<Option<String>>,
}

fn labelled(ingested: &Ingested, target: Target, censoring: Censoring) -> Result<Labelled, TrainError> {
    let (labels, weights) = match target.outcome() {
        SpecOutcome::TimeEvent {
            time,
            event,
            horizon_days,
        } => {
            let times = numeric_column(&ingested.frame, time, &ingested.rows)?;
            let events = event_column(&ingested.frame, event, &ingested.rows)?;
            let labels = horizon_labels(&times, &events, f64::from(horizon_days), censoring)?;
            (labels.labels, labels.weights)
        }
        SpecOutcome::Label(column) => {
            let labels = label_column(&ingested.frame, column, &ingested.rows)?;
            let weights = vec![1.0; labels.len()];
            (labels, weights)
        }
    };
    let groups_all = patient_groups(&ingested.frame, target.group_column(), &ingested.rows);
    let dates_all = index_dates(&ingested.frame, target.date_column(), &ingested.rows);
    let mut out = Labelled {
        records: Vec::new(),
        y: Vec::new(),
        w: Vec::new(),
        groups: Vec::new(),
        dates: Vec::new(),
    };
    for (i, label) in labels.iter().enumerate() {
        if let Some(label) = label {
            out.records.push(i);
            out.y.push(*label);
            out.w.push(weights[i]);
            out.groups.push(groups_all[i]);
            out.dates.push(dates_all.as_ref().and_then(|d| d[i].clone()));
        }
    }
    if out.records.is_empty() {
        return Err(TrainError::NoKnownLabels(match target.outcome() {
            SpecOutcome::TimeEvent { horizon_days, .. } => {
                format!("no row is followed up to the {horizon_days}-day horizon (every row is censored before it)")
            }
            SpecOutcome::Label(column) => format!("no row has a value in the label column `{column}`"),
        }));
    }
    Ok(out)
}

/// What fitting starts from.
pub struct Prepared {
    /// Labelled rows used for fitting.
    pub data: Labelled,
    /// Their rows.
    pub records: Vec<TableRow>,
    /// The signature learnt from them.
    pub features: Vec<FeatureSpec>,
    /// The temporal hold-out and its first index date, if any.
    pub holdout: Option<(Labelled, String)>,
    /// Number of cross-validation folds (at least 2).
    pub k: usize,
    /// The fold of each row of `data`, grouped by patient and stratified by outcome, from `options.seed`.
    pub folds: Vec<usize>,
}

/// The patient of each of `rows`, as a group number for folds: numeric
/// ids in `name` as they are, text (or partly missing) ids numbered by first appearance, and
/// every row its own group when the table has no such column.
fn patient_groups(frame: &polars::prelude::DataFrame, name: &str, rows: &[usize]) -> Vec<i64> {
    let Ok(column) = frame.column(name) else {
        return (0..rows.len() as i64).collect();
    };
    if let Ok(ids) = numeric_column(frame, name, rows) {
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

/// The dates in column `name` of `rows` as ISO text (which sorts by date), if the column exists.
fn index_dates(frame: &polars::prelude::DataFrame, name: &str, rows: &[usize]) -> Option<Vec<Option<String>>> {
    let column = frame.column(name).ok()?;
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
pub fn prepare(ingested: &Ingested, options: FitOptions) -> Result<Prepared, TrainError> {
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
    let records: Vec<TableRow> = data.records.iter().map(|&i| ingested.records[i].clone()).collect();
    let features = signature(options.target, &records);
    let folds = grouped_folds(&data.groups, &data.y, k, options.seed);
    Ok(Prepared {
        data,
        records,
        features,
        holdout,
        k,
        folds,
    })
}

/// Fits a calibrated model of `family` for `options.target`: the family fits
/// its estimator, its held-out raw scores choose and fit the calibration map
/// (Platt or isotonic) and give the validation metrics, and the temporal
/// hold-out, if any, is scored with the finished artifact.
///
/// # Errors
/// [`TrainError`] naming the problem (unusable columns, no known labels, one class, too few patients).
pub fn fit(ingested: &Ingested, options: FitOptions, family: &dyn ModelFamily) -> Result<Fitted, TrainError> {
    let prepared = prepare(ingested, options)?;
    let fitted = family.fit(&prepared, &options)?;
    // The held-out rows' labels and weights; their probabilities once calibrated.
    let mut heldout = Scored::of(&prepared.data, &fitted.heldout, Vec::new());
    let groups: Vec<i64> = fitted.heldout.iter().map(|&i| prepared.data.groups[i]).collect();
    let (calibration, _) = calibrate::choose(&fitted.heldout_raw, &heldout.y, &heldout.w, &groups)
        .map_err(crate::family::fit_error(&options))?;
    heldout.p = fitted.heldout_raw.iter().map(|r| calibration.apply(*r)).collect();
    let Prepared {
        data,
        features,
        holdout,
        k,
        ..
    } = prepared;
    let outcome = Outcome {
        assessment: assess(ingested, &heldout, options),
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
    Ok(finish(ingested, &data, holdout, options, outcome))
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
fn assess_temporal(fitted: &mut Fitted, ingested: &Ingested, holdout: Option<(Labelled, String)>, options: FitOptions) {
    let Some((later, from)) = holdout else { return };
    let model = fitted.artifact.compile();
    let p: Vec<f64> = later
        .records
        .iter()
        .map(|&i| model.predict(&ingested.records[i]))
        .collect();
    let all: Vec<usize> = (0..later.y.len()).collect();
    let evaluation = assess(ingested, &Scored::of(&later, &all, p), options);
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
    ingested: &Ingested,
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
    assess_temporal(&mut fitted, ingested, holdout, options);
    fitted
}

/// Scores every row of an ingested table with a known label at the artifact's horizon.
///
/// # Errors
/// [`TrainError`] if the target's outcome columns are unusable or no label is known.
pub fn score_table(artifact: &ModelArtifact, ingested: &Ingested, options: FitOptions) -> Result<Scored, TrainError> {
    let data = labelled(ingested, options.target, options.censoring)?;
    let model = artifact.compile();
    let p: Vec<f64> = data
        .records
        .iter()
        .map(|&i| model.predict(&ingested.records[i]))
        .collect();
    let all: Vec<usize> = (0..data.y.len()).collect();
    Ok(Scored::of(&data, &all, p))
}

/// Out-of-sample evaluation of an artifact on an ingested table, with the scored rows.
///
/// # Errors
/// As [`score_table`].
pub fn evaluate_artifact(
    artifact: &ModelArtifact,
    ingested: &Ingested,
    options: FitOptions,
) -> Result<(Scored, ArtifactEvaluation), TrainError> {
    let scored = score_table(artifact, ingested, options)?;
    let evaluation = assess(ingested, &scored, options);
    Ok((scored, evaluation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{Column, DataFrame};

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

    #[test]
    fn patient_groups_follow_numeric_and_text_ids() {
        let numeric = DataFrame::new(3, vec![Column::new("patient_id".into(), vec![7i64, 7, 9])]).unwrap();
        assert_eq!(patient_groups(&numeric, "patient_id", &[0, 1, 2]), [7, 7, 9]);
        let text = DataFrame::new(3, vec![Column::new("patient_id".into(), vec!["b", "a", "b"])]).unwrap();
        assert_eq!(patient_groups(&text, "patient_id", &[0, 1, 2]), [0, 1, 0]);
        let none = DataFrame::new(3, vec![Column::new("other".into(), vec![1i64, 2, 3])]).unwrap();
        assert_eq!(patient_groups(&none, "patient_id", &[0, 2]), [0, 1]);
    }
}
