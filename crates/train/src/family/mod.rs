//! Model families. Each family fits an estimator with its own tuning and
//! cross-validates with its default settings; the trainer then calibrates,
//! evaluates and writes every family's artifact the same way
//! ([`crate::training::fit`]). A family is one module (a folder when it
//! has an algorithm of its own: `gbdt/booster.rs`, `forest/bagging.rs`)
//! implementing [`ModelFamily`], plus its entry in [`FAMILIES`].

pub mod forest;
pub mod gbdt;
pub mod logistic;

use carescore_core::artifact::{DesignKind, Estimator, Metric};
use serde::Serialize;

use crate::model::design::Design;
use crate::model::loss::mean_log_loss;
use crate::model::regression::FitError;
use crate::model::trees::{Binned, MAX_BINS};
use crate::prepare::folds::CvSplit;
use crate::prepare::sample_size::LARGE_DATA_PATIENTS;
use crate::prepare::{fit_error, FitOptions, Prepared, TrainError};

pub use forest::Forest;
pub use gbdt::Gbdt;
pub use logistic::Logistic;

/// Every family, in the order `--model auto` and `cv` try them.
pub static FAMILIES: [&dyn ModelFamily; 3] = [&Logistic, &Forest, &Gbdt];

/// The family called `name`, if any.
pub fn family(name: &str) -> Option<&'static dyn ModelFamily> {
    FAMILIES.iter().copied().find(|f| f.name() == name)
}

/// The names of all families, for error messages and help.
pub fn family_names() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.name()).collect()
}

/// One setting a family tried while tuning, and its criterion (lower is better).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tuning {
    /// The setting, e.g. `l2 = 10`.
    pub setting: String,
    /// Its criterion on held-out rows.
    pub criterion: f64,
}

/// A fitted, not yet calibrated estimator, with held-out raw scores.
#[derive(Debug, Clone)]
pub struct FamilyFit {
    /// The estimator (its raw output is what the calibration maps).
    pub estimator: Estimator,
    /// Rows (indices into the prepared data) not used to fit the raw scores below.
    pub heldout: Vec<usize>,
    /// Raw scores of `heldout`: out-of-fold, or from the final estimator on a validation fold.
    pub heldout_raw: Vec<f64>,
    /// How the model was chosen, for the model card.
    pub description: String,
    /// The family's selection criterion, kept in the artifact's metrics.
    pub criterion: (Metric, f64),
    /// The settings tried.
    pub tuning: Vec<Tuning>,
    /// Wall time of the estimator itself, excluding calibration and evaluation.
    pub estimator_seconds: f64,
}

/// A model family the trainer can fit and cross-validate.
pub trait ModelFamily: Sync {
    /// Name on the command line (`--model`) and in `cv` output.
    fn name(&self) -> &'static str;

    /// Whether the family learns non-linear shapes and interactions on its
    /// own (the tree ensembles). Such families need several times the data
    /// of a logistic model to reach their potential (van der Ploeg, Austin
    /// and Steyerberg, BMC Med Res Methodol 2014;14:137), so model selection
    /// offers them only when the data meet Riley's minimum for the logistic
    /// model ([`crate::training::selection`]).
    fn flexible(&self) -> bool {
        false
    }

    /// Fits with the family's own tuning on the prepared rows; `prepared.folds`
    /// holds the patient-grouped folds to tune or early-stop on.
    ///
    /// # Errors
    /// [`TrainError`] when the data cannot support the fit (e.g. one class in a fold).
    fn fit(&self, prepared: &Prepared, options: &FitOptions) -> Result<FamilyFit, TrainError>;

    /// For each split, fits the family's default settings without the test
    /// fold and returns uncalibrated probabilities for the test fold's rows.
    ///
    /// # Errors
    /// As [`ModelFamily::fit`].
    fn cross_validate(
        &self,
        prepared: &Prepared,
        options: &FitOptions,
        splits: &[CvSplit<'_>],
    ) -> Result<Vec<Vec<f64>>, TrainError>;
}

/// A tree family's tuned model and what the tuning found.
pub(crate) struct Tuned<M, P> {
    /// The delivered model (a booster, a forest's trees).
    pub(crate) model: M,
    /// Its settings.
    pub(crate) params: P,
    /// Rows whose raw scores calibrate (out-of-fold, or the validation fold).
    pub(crate) heldout: Vec<usize>,
    /// Their raw scores.
    pub(crate) heldout_raw: Vec<f64>,
    /// The chosen setting's criterion.
    pub(crate) criterion: (Metric, f64),
    /// Every setting tried.
    pub(crate) tuning: Vec<Tuning>,
    /// How the model was tuned and what calibrates, for the description.
    pub(crate) tuned_by: String,
}

/// What the tree families share: the raw design of the prepared rows, and
/// its histogram bins.
pub(crate) struct TreeData {
    /// The raw design (missing values as NaN).
    pub(crate) design: Design,
    /// Its histogram bins.
    pub(crate) binned: Binned,
}

impl TreeData {
    /// Encodes and bins the prepared rows.
    pub(crate) fn new(prepared: &Prepared) -> TreeData {
        let design = Design::encode(&prepared.features, DesignKind::Raw, &prepared.records);
        let binned = Binned::new(&design.values, design.cols, MAX_BINS);
        TreeData { design, binned }
    }
}

/// Whether a family tunes on one validation fold (fold 0) rather than on
/// every fold in turn: from [`LARGE_DATA_PATIENTS`] patients on, where one
/// fold of thousands of patients is precise enough and k-fold tuning would
/// cost k times as many fits.
pub(crate) fn tunes_on_one_fold(prepared: &Prepared) -> bool {
    prepared.data.patients() >= LARGE_DATA_PATIENTS
}

/// Training rows and held-out rows of one split (indices into the prepared rows).
pub(crate) type Split = (Vec<u32>, Vec<u32>);

/// Training rows (every fold but `fold`) and held-out rows (fold `fold`),
/// refusing a side with one class.
pub(crate) fn fold_split(prepared: &Prepared, options: &FitOptions, fold: usize) -> Result<Split, TrainError> {
    let y = &prepared.data.y;
    let (valid, train): (Vec<u32>, Vec<u32>) = (0..y.len() as u32).partition(|i| prepared.folds[*i as usize] == fold);
    let one_class = |rows: &[u32]| {
        let positives = rows.iter().filter(|r| y[**r as usize]).count();
        positives == 0 || positives == rows.len()
    };
    if one_class(&train) || one_class(&valid) {
        return Err(fit_error(options)(FitError::OneClass));
    }
    Ok((train, valid))
}

/// Training rows (folds 1..k) and validation rows (fold 0), refusing a side with one class.
pub(crate) fn validation_split(prepared: &Prepared, options: &FitOptions) -> Result<Split, TrainError> {
    fold_split(prepared, options, 0)
}

/// Every fold's training and held-out rows ([`fold_split`]).
pub(crate) fn fold_splits(prepared: &Prepared, options: &FitOptions) -> Result<Vec<Split>, TrainError> {
    (0..prepared.k)
        .map(|fold| fold_split(prepared, options, fold))
        .collect()
}

/// Out-of-fold values of every prepared row: `value(fold, row)` for each
/// row of each fold, in row order.
pub(crate) fn out_of_fold(folds: &[usize], value: impl Fn(usize, usize) -> f64) -> Vec<f64> {
    folds.iter().enumerate().map(|(row, &fold)| value(fold, row)).collect()
}

/// Weighted mean log-loss of raw scores `raw` (one per prepared row).
pub(crate) fn weighted_log_loss(prepared: &Prepared, raw: &[f64]) -> f64 {
    let (y, w) = (&prepared.data.y, &prepared.data.w);
    mean_log_loss(raw.iter().zip(y).zip(w).map(|((r, y), w)| (*r, *y, *w)))
}
