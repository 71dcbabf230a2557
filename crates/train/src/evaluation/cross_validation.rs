//! Repeated k-fold cross-validation of the model families, folds grouped by
//! patient and stratified by outcome, for comparing candidates
//! (`carescore-train cv`).
//!
//! Each family runs with its default settings ([`ModelFamily::cross_validate`])
//! and is scored uncalibrated on the held-out fold, with the censoring weights
//! of the labels. The out-of-fold probabilities are kept ([`OutOfFold`]), so
//! other learners can be judged on the same folds, labels and weights
//! (`cv --predictions`).

use serde::Serialize;

use super::metrics::{evaluate, Metrics};
use crate::family::ModelFamily;
use crate::prepare::folds::{grouped_folds, CvSplit};
use crate::prepare::{prepare, Cohort, FitOptions, Labelled, TrainError};

/// Cross-validated performance of one candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvResult {
    /// The candidate family.
    pub candidate: &'static str,
    /// Folds x repeats evaluated.
    pub evaluations: usize,
    /// Mean held-out AUC.
    pub auc: f64,
    /// Standard deviation of the held-out AUCs.
    pub auc_sd: f64,
    /// Mean Brier score.
    pub brier: f64,
    /// Standard deviation of the Brier scores over the folds.
    pub brier_sd: f64,
    /// Mean calibration slope.
    pub calibration_slope: f64,
    /// Mean calibration intercept.
    pub calibration_intercept: f64,
    /// Mean expected calibration error.
    pub ece: f64,
}

/// The out-of-fold probabilities of a cross-validation: every labelled row,
/// its fold in each repeat, and each candidate's probability for it in each
/// repeat (from the fit without its fold).
#[derive(Debug, Clone)]
pub struct OutOfFold {
    /// The labelled rows, with labels, censoring weights and patients.
    pub data: Labelled,
    /// Per repeat, the fold of every row of `data`.
    pub folds: Vec<Vec<usize>>,
    /// Per candidate, its name and, per repeat, the probability of every row of `data`.
    pub candidates: Vec<(&'static str, Vec<Vec<f64>>)>,
}

/// A cross-validation's summaries and its out-of-fold probabilities.
#[derive(Debug, Clone)]
pub struct CrossValidation {
    /// One summary per candidate, in the order of the families.
    pub results: Vec<CvResult>,
    /// The probabilities behind them.
    pub out_of_fold: OutOfFold,
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Runs `repeats` x `options.folds` cross-validation of each family on the
/// development rows (the latest `options.temporal_holdout` left out; `cv`
/// passes 0); `progress` is called after each family with its name.
///
/// # Errors
/// [`TrainError`] for unusable data or a fold with one class.
pub fn cross_validate(
    cohort: &Cohort<'_>,
    options: FitOptions,
    repeats: usize,
    families: &[&dyn ModelFamily],
    progress: &dyn Fn(&str),
) -> Result<CrossValidation, TrainError> {
    let prepared = prepare(cohort, options)?;
    let data = &prepared.data;
    let k = prepared.k;
    let fold_sets = fold_sets(data, k, repeats, options.seed);
    let splits: Vec<CvSplit<'_>> = fold_sets
        .iter()
        .flat_map(|folds| (0..k).map(move |test| CvSplit { folds, k, test }))
        .collect();
    let mut results = Vec::new();
    let mut candidates = Vec::new();
    for family in families {
        let probabilities = family.cross_validate(&prepared, &options, &splits)?;
        let mut per_repeat = vec![vec![f64::NAN; data.y.len()]; fold_sets.len()];
        let per_fold: Vec<_> = splits
            .iter()
            .zip(&probabilities)
            .enumerate()
            .map(|(s, (split, p))| {
                let test = split.rows_of(split.test);
                for (&i, &q) in test.iter().zip(p) {
                    per_repeat[s / k][i as usize] = q;
                }
                let y: Vec<bool> = test.iter().map(|&i| data.y[i as usize]).collect();
                let w: Vec<f64> = test.iter().map(|&i| data.w[i as usize]).collect();
                evaluate(p, &y, &w)
            })
            .collect();
        results.push(summarise(family.name(), &per_fold));
        candidates.push((family.name(), per_repeat));
        progress(family.name());
    }
    Ok(CrossValidation {
        results,
        out_of_fold: OutOfFold {
            data: prepared.data,
            folds: fold_sets,
            candidates,
        },
    })
}

/// The fold of every row of `data` in each of `repeats` repeats (at least
/// one), patient-grouped and outcome-stratified; repeat r is seeded `seed + r`.
pub fn fold_sets(data: &Labelled, k: usize, repeats: usize, seed: u64) -> Vec<Vec<usize>> {
    (0..repeats.max(1))
        .map(|repeat| grouped_folds(&data.groups, &data.y, k, seed.wrapping_add(repeat as u64)))
        .collect()
}

/// A candidate's cross-validated result from its per-fold metrics.
pub fn summarise(candidate: &'static str, per_fold: &[Metrics]) -> CvResult {
    let aucs: Vec<f64> = per_fold.iter().filter_map(|m| m.auc).collect();
    let auc = mean(&aucs);
    let auc_sd = (aucs.iter().map(|a| (a - auc).powi(2)).sum::<f64>() / (aucs.len().max(2) - 1) as f64).sqrt();
    let pick = |f: &dyn Fn(&Metrics) -> Option<f64>| mean(&per_fold.iter().filter_map(f).collect::<Vec<_>>());
    let briers: Vec<f64> = per_fold.iter().map(|m| m.brier).collect();
    let brier = mean(&briers);
    let brier_sd = (briers.iter().map(|b| (b - brier).powi(2)).sum::<f64>() / (briers.len().max(2) - 1) as f64).sqrt();
    CvResult {
        candidate,
        evaluations: per_fold.len(),
        auc,
        auc_sd,
        brier,
        brier_sd,
        calibration_slope: pick(&|m| m.calibration_slope),
        calibration_intercept: pick(&|m| m.calibration_intercept),
        ece: pick(&|m| Some(m.ece)),
    }
}
