//! Preparing a fit: the options ([`options`]), the patients it uses
//! ([`cohort`]), their labelled rows with censoring weights, patient groups
//! and index dates, and the temporal hold-out ([`labelled`]), the feature
//! signature, and the patient-grouped folds ([`folds`]). Every model family
//! starts from a [`Prepared`], and so does the contract it fits under
//! ([`FitOptions`], [`TrainError`]).

pub mod cohort;
pub mod folds;
pub mod labelled;
pub mod options;
pub mod sample_size;

use carescore_core::artifact::FeatureSpec;

pub use cohort::Cohort;
use folds::grouped_folds;
pub(crate) use labelled::labelled;
pub use labelled::Labelled;
pub use options::{FitOptions, OptionError};

use crate::labels::LabelError;
use crate::model::design::signature;
use crate::model::regression::FitError;
use crate::rows::TableRow;

/// Why a fit failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// An option is out of its range.
    #[error(transparent)]
    Options(#[from] OptionError),
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
    /// Too few rows or events to fit and validate any model.
    #[error("cannot fit {target}: {reason}")]
    TooSmall {
        /// Target name.
        target: String,
        /// What is missing, with the counts.
        reason: String,
    },
    /// No candidate family learned anything from the data.
    #[error("cannot fit {target}: {reason}")]
    NothingLearned {
        /// Target name.
        target: String,
        /// Which families were tried and what they kept.
        reason: String,
    },
    /// Model selection was given no family to fit.
    #[error("no model family to fit")]
    NoFamilies,
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

/// The development rows of `cohort`: labelled, the temporal hold-out of
/// `options` left out. Model selection and the internal validation count
/// and split these.
///
/// # Errors
/// As [`labelled`]: unusable outcomes or no known label.
pub(crate) fn development_rows(cohort: &Cohort<'_>, options: FitOptions) -> Result<Labelled, TrainError> {
    let all = labelled(cohort, options.target, options.censoring)?;
    Ok(match all.split_temporal(options.temporal_holdout) {
        Some((earlier, _, _)) => earlier,
        None => all,
    })
}

/// The labelled rows of `cohort`, their records and the feature signature
/// learnt from them, after checking the options and that there are patients
/// enough for the folds.
///
/// # Errors
/// [`TrainError`] for an option out of range, unusable outcomes, no known
/// label, or fewer patients than folds.
pub fn prepare(cohort: &Cohort<'_>, options: FitOptions) -> Result<Prepared, TrainError> {
    options.check()?;
    let all = labelled(cohort, options.target, options.censoring)?;
    let (data, holdout) = match all.split_temporal(options.temporal_holdout) {
        Some((earlier, later, from)) => (earlier, Some((later, from))),
        None => (all, None),
    };
    // Every fold needs patients of its own.
    let patients = data.patients();
    let k = options.folds;
    if patients < k {
        return Err(TrainError::TooFewPatients { patients, folds: k });
    }
    let records: Vec<TableRow> = data
        .records
        .iter()
        .map(|&i| cohort.dataset().records[i].clone())
        .collect();
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
