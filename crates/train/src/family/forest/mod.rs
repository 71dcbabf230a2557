//! Random forests of probability trees ([`bagging`]): grown on
//! the training folds, the smallest leaf size chosen on the patient-grouped
//! validation fold (weighted Brier score of the mean vote), which then
//! calibrates the chosen forest.

use std::time::Instant;

use carescore_core::artifact::{Estimator, Metric};

use super::{validation_split, FamilyFit, ModelFamily, TreeData, Tuning};
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

    fn fit(&self, prepared: &Prepared, options: &FitOptions) -> Result<FamilyFit, TrainError> {
        let data = &prepared.data;
        let (train, valid) = validation_split(prepared, options)?;
        let started = Instant::now();
        let trees = TreeData::new(prepared);
        let mut tuning = Vec::new();
        let mut best: Option<(f64, ForestParams, Vec<carescore_core::artifact::Tree>, Vec<f64>)> = None;
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
        let (score, p, grown, heldout_raw) = best.expect("the grid is not empty");
        let description = format!(
            "Random forest: {} probability trees of up to {} leaves, each grown on a bootstrap sample of the \
             training folds with {} of {} columns drawn per split, at least {} bootstrap rows per leaf (chosen on a \
             patient-grouped validation fold, 1 of {}, by weighted Brier score), missing values routed by each split; \
             the mean vote is calibrated on that fold (the calibration map below), \
             which also gives the metrics below.",
            p.trees,
            p.max_leaves,
            p.columns_per_split,
            trees.binned.cols(),
            p.min_rows_in_leaf,
            prepared.k
        );
        Ok(FamilyFit {
            estimator: Estimator::RandomForest { trees: grown },
            heldout: valid.iter().map(|r| *r as usize).collect(),
            heldout_raw,
            description,
            criterion: (Metric::ValidationBrierUncalibrated, score),
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
