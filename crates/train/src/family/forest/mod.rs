//! Random forests of probability trees ([`bagging`]), the smallest leaf
//! size chosen by the weighted Brier score of the mean vote, two ways by
//! data size ([`super::tunes_on_one_fold`]):
//!
//! - below 20,000 patients, by patient-grouped k-fold cross-validation: the
//!   out-of-fold votes choose the leaf size and calibrate the forest, which
//!   is then grown on every row;
//! - from there on, on one patient-grouped validation fold, which also
//!   calibrates; the forest is grown on the other folds.

use std::time::Instant;

use carescore_core::artifact::{Estimator, Metric, Tree};

use super::{fold_splits, out_of_fold, tunes_on_one_fold, validation_split, FamilyFit, ModelFamily, TreeData, Tuning};
use crate::prepare::folds::CvSplit;
pub mod bagging;

use self::bagging::ForestParams;
use crate::prepare::{FitOptions, Prepared, TrainError};

/// Smallest leaf sizes tried, as a share of the training rows (at least 5 rows).
const LEAF_SHARE_GRID: [f64; 3] = [0.0005, 0.002, 0.008];

/// Leaf share of `cv`'s default setting.
const CV_LEAF_SHARE: f64 = 0.002;

/// The random forest family.
#[derive(Debug, Clone, Copy)]
pub struct Forest;

fn params(cols: usize, train_rows: usize, leaf_share: f64) -> ForestParams {
    ForestParams {
        min_rows_in_leaf: ((train_rows as f64 * leaf_share) as usize).max(5),
        ..ForestParams::for_columns(cols)
    }
}

/// Weighted Brier score of `p` on `rows`.
fn brier(p: &[f64], rows: &[u32], prepared: &Prepared) -> f64 {
    let (mut sum, mut total) = (0.0, 0.0);
    for (p, &r) in p.iter().zip(rows) {
        let (y, w) = (
            f64::from(u8::from(prepared.data.y[r as usize])),
            prepared.data.w[r as usize],
        );
        sum += w * (p - y) * (p - y);
        total += w;
    }
    sum / total.max(f64::MIN_POSITIVE)
}

impl ModelFamily for Forest {
    fn name(&self) -> &'static str {
        "forest"
    }

    fn flexible(&self) -> bool {
        true
    }

    fn fit(&self, prepared: &Prepared, options: &FitOptions) -> Result<FamilyFit, TrainError> {
        let started = Instant::now();
        let trees = TreeData::new(prepared);
        let tuned = if tunes_on_one_fold(prepared) {
            on_validation_fold(prepared, options, &trees)?
        } else {
            by_cross_validation(prepared, options, &trees)?
        };
        let Tuned {
            model: forest,
            params: p,
            heldout,
            heldout_raw,
            criterion,
            tuning,
            tuned_by,
        } = tuned;
        let description = format!(
            "Random forest: {} probability trees of up to {} leaves, each grown on a bootstrap sample of {tuned_by}, \
             with {} of {} columns drawn per split, at least {} bootstrap rows per leaf (chosen from leaf shares \
             {LEAF_SHARE_GRID:?} of the rows by {chosen_by}), missing values routed by each split; {calibrated_by} \
             (the calibration map below).",
            p.trees,
            p.max_leaves,
            p.columns_per_split,
            trees.binned.cols(),
            p.min_rows_in_leaf,
            chosen_by = match criterion.0 {
                Metric::CvBrierUncalibrated => format!(
                    "the weighted Brier score of the out-of-fold mean votes of {}-fold patient-grouped \
                     cross-validation",
                    prepared.k
                ),
                _ => format!(
                    "the weighted Brier score of the mean vote on a patient-grouped validation fold (1 of {})",
                    prepared.k
                ),
            },
            calibrated_by = match criterion.0 {
                Metric::CvBrierUncalibrated => "those out-of-fold votes calibrate the forest",
                _ => "the mean vote is calibrated on that fold",
            },
        );
        Ok(FamilyFit {
            estimator: Estimator::RandomForest { trees: forest },
            heldout,
            heldout_raw,
            description,
            criterion,
            tuning,
            estimator_seconds: started.elapsed().as_secs_f64(),
        })
    }

    fn cross_validate(
        &self,
        prepared: &Prepared,
        options: &FitOptions,
        splits: &[CvSplit<'_>],
    ) -> Result<Vec<Vec<f64>>, TrainError> {
        let trees = TreeData::new(prepared);
        Ok(splits
            .iter()
            .map(|split| {
                let train: Vec<u32> = (0..split.folds.len() as u32)
                    .filter(|&i| split.folds[i as usize] != split.test)
                    .collect();
                let p = params(trees.binned.cols(), train.len(), CV_LEAF_SHARE);
                let grown = bagging::fit(
                    &trees.binned,
                    &prepared.data.y,
                    &prepared.data.w,
                    &train,
                    &p,
                    options.seed,
                );
                split
                    .rows_of(split.test)
                    .iter()
                    .map(|&i| bagging::mean_vote(&grown, trees.design.row(i as usize)))
                    .collect()
            })
            .collect())
    }
}

/// The tuned forest: its trees.
type Tuned = super::Tuned<Vec<Tree>, ForestParams>;

/// One validation fold chooses the leaf size and calibrates; the forest is
/// grown on the other folds.
fn on_validation_fold(prepared: &Prepared, options: &FitOptions, trees: &TreeData) -> Result<Tuned, TrainError> {
    let data = &prepared.data;
    let (train, valid) = validation_split(prepared, options)?;
    let mut tuning = Vec::new();
    let mut best: Option<(f64, ForestParams, Vec<Tree>, Vec<f64>)> = None;
    for share in LEAF_SHARE_GRID {
        let p = params(trees.binned.cols(), train.len(), share);
        let grown = bagging::fit(&trees.binned, &data.y, &data.w, &train, &p, options.seed);
        let votes: Vec<f64> = valid
            .iter()
            .map(|&r| bagging::mean_vote(&grown, trees.design.row(r as usize)))
            .collect();
        let score = brier(&votes, &valid, prepared);
        tuning.push(Tuning {
            setting: format!("at least {} rows per leaf", p.min_rows_in_leaf),
            criterion: score,
        });
        if best.as_ref().is_none_or(|(s, ..)| score < *s) {
            best = Some((score, p, grown, votes));
        }
    }
    let (score, params, forest, heldout_raw) = best.expect("the grid is not empty");
    Ok(Tuned {
        model: forest,
        params,
        heldout: valid.iter().map(|r| *r as usize).collect(),
        heldout_raw,
        criterion: (Metric::ValidationBrierUncalibrated, score),
        tuning,
        tuned_by: "the training folds".to_string(),
    })
}

/// Patient-grouped k-fold cross-validation chooses the leaf size; the forest
/// is grown on every row.
fn by_cross_validation(prepared: &Prepared, options: &FitOptions, trees: &TreeData) -> Result<Tuned, TrainError> {
    let data = &prepared.data;
    let splits = fold_splits(prepared, options)?;
    let every_row: Vec<u32> = (0..data.y.len() as u32).collect();
    let mut tuning = Vec::new();
    // (out-of-fold Brier score, leaf share, out-of-fold votes); ties keep the smaller leaves.
    let mut best: Option<(f64, f64, Vec<f64>)> = None;
    for share in LEAF_SHARE_GRID {
        let forests: Vec<Vec<Tree>> = splits
            .iter()
            .map(|(train, _)| {
                let p = params(trees.binned.cols(), train.len(), share);
                bagging::fit(&trees.binned, &data.y, &data.w, train, &p, options.seed)
            })
            .collect();
        let votes = out_of_fold(&prepared.folds, |fold, row| {
            bagging::mean_vote(&forests[fold], trees.design.row(row))
        });
        let score = brier(&votes, &every_row, prepared);
        let p = params(trees.binned.cols(), data.y.len(), share);
        tuning.push(Tuning {
            setting: format!("at least {} rows per leaf", p.min_rows_in_leaf),
            criterion: score,
        });
        if best.as_ref().is_none_or(|(s, ..)| score < *s) {
            best = Some((score, share, votes));
        }
    }
    let (score, share, heldout_raw) = best.expect("the grid is not empty");
    let params = params(trees.binned.cols(), every_row.len(), share);
    let forest = bagging::fit(&trees.binned, &data.y, &data.w, &every_row, &params, options.seed);
    Ok(Tuned {
        model: forest,
        params,
        heldout: (0..data.y.len()).collect(),
        heldout_raw,
        criterion: (Metric::CvBrierUncalibrated, score),
        tuning,
        tuned_by: "every row".to_string(),
    })
}
