//! Preparing a fit: the options, the labelled rows of an
//! ingested table with their censoring weights, patient groups and index
//! dates, the temporal hold-out, the feature signature and the
//! patient-grouped folds. Every model family starts from a [`Prepared`].

use carescore_core::artifact::FeatureSpec;

use crate::ingest::{Dataset, Outcome};
use crate::labels::{horizon_labels, Censoring, LabelError};
use crate::model::design::signature;
use crate::model::folds::grouped_folds;
use crate::model::regression::FitError;
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

/// The error of a failed fit of `options.target`.
pub(crate) fn fit_error(options: &FitOptions) -> impl Fn(FitError) -> TrainError + '_ {
    move |source| TrainError::Fit {
        target: options.target_name(),
        source,
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

pub(crate) fn labelled(dataset: &Dataset, target: Target, censoring: Censoring) -> Result<Labelled, TrainError> {
    let Some(outcome) = &dataset.outcome else {
        return Err(TrainError::NoKnownLabels(
            "the table was read without its outcome columns".to_string(),
        ));
    };
    let (labels, weights) = match (outcome, target.outcome()) {
        (Outcome::TimeEvent { times, events }, SpecOutcome::TimeEvent { horizon_days, .. }) => {
            let labels = horizon_labels(times, events, f64::from(horizon_days), censoring)?;
            (labels.labels, labels.weights)
        }
        (Outcome::Label(labels), SpecOutcome::Label(_)) => (labels.clone(), vec![1.0; labels.len()]),
        // `ingest::load` reads the outcome the target names, so the two agree.
        (Outcome::TimeEvent { .. }, SpecOutcome::Label(_)) | (Outcome::Label(_), SpecOutcome::TimeEvent { .. }) => {
            return Err(TrainError::NoKnownLabels(
                "the table's outcome was read for another target".to_string(),
            ))
        }
    };
    let (groups_all, dates_all) = (&dataset.groups, &dataset.dates);
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
pub fn prepare(dataset: &Dataset, options: FitOptions) -> Result<Prepared, TrainError> {
    let all = labelled(dataset, options.target, options.censoring)?;
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
    let records: Vec<TableRow> = data.records.iter().map(|&i| dataset.records[i].clone()).collect();
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
