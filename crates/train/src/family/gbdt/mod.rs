//! Gradient-boosted trees ([`booster`]), tuned two ways by data size
//! ([`super::tunes_on_one_fold`]):
//!
//! - below 20,000 patients, by patient-grouped k-fold cross-validation: for
//!   each leaf count, every fold early-stops a booster fitted on the others;
//!   the number of trees is the mean of the folds' best rounds, the leaf
//!   count the one whose out-of-fold predictions (at that number of trees)
//!   have the lowest log-loss; the delivered booster is refitted on every
//!   row with that many trees, and the out-of-fold predictions calibrate it.
//!   No row is left out of the delivered model, which matters on a centre's
//!   few hundred patients.
//! - from there on, one patient-grouped validation fold early-stops,
//!   chooses the leaf count and calibrates; the booster keeps the other folds.

use std::time::Instant;

use carescore_core::artifact::{sigmoid, Estimator, Metric};

use super::{
    fold_splits, out_of_fold, tunes_on_one_fold, validation_split, weighted_log_loss, FamilyFit, ModelFamily, TreeData,
    Tuning,
};
use crate::cores::on_all_cores;
use crate::model::trees::MAX_BINS;
use crate::prepare::folds::CvSplit;
pub mod booster;

use self::booster::{Booster, GbdtParams};
use crate::prepare::{FitOptions, Prepared, TrainError};

/// Leaf counts tried.
const LEAVES_GRID: [usize; 3] = [7, 15, 31];

/// Leaves per tree of `cv`'s default setting.
const CV_LEAVES: usize = 15;

/// The gradient-boosted trees family.
#[derive(Debug, Clone, Copy)]
pub struct Gbdt;

/// Leaves need enough rows to be stable on small data sets.
fn min_rows_in_leaf(train_rows: usize) -> usize {
    (train_rows / 500).clamp(20, 200)
}

/// The booster settings for `max_leaves` leaves on `train_rows` rows.
fn params(max_leaves: usize, train_rows: usize) -> GbdtParams {
    GbdtParams {
        max_leaves,
        min_rows_in_leaf: min_rows_in_leaf(train_rows),
        ..GbdtParams::default()
    }
}

/// The tuned booster.
type Tuned = super::Tuned<Booster, GbdtParams>;

impl ModelFamily for Gbdt {
    fn name(&self) -> &'static str {
        "gbdt"
    }

    fn flexible(&self) -> bool {
        true
    }

    fn fit(&self, prepared: &Prepared, options: &FitOptions) -> Result<FamilyFit, TrainError> {
        let started = Instant::now();
        let trees = TreeData::new(prepared);
        let grid: Vec<usize> = options
            .gbdt_leaves
            .map_or_else(|| LEAVES_GRID.to_vec(), |leaves| vec![leaves]);
        let tuned = if tunes_on_one_fold(prepared) {
            on_validation_fold(prepared, options, &trees, &grid)?
        } else {
            by_cross_validation(prepared, options, &trees, &grid)?
        };
        let estimator_seconds = started.elapsed().as_secs_f64();
        let Tuned {
            model: booster,
            params,
            heldout,
            heldout_raw,
            criterion,
            tuning,
            tuned_by,
        } = tuned;
        let leaves_from = if grid.len() > 1 {
            format!("chosen from {grid:?}")
        } else {
            "set by --gbdt-leaves".to_string()
        };
        let description = format!(
            "Gradient-boosted trees: {} trees of up to {} leaves ({leaves_from}), learning rate {}, \
             at least {} rows per leaf, L2 {} on leaf values, histogram binning ({MAX_BINS} bins), missing values \
             routed by each split; {tuned_by} (the calibration map below).",
            booster.trees().len(),
            params.max_leaves,
            params.learning_rate,
            params.min_rows_in_leaf,
            params.l2,
        );
        Ok(FamilyFit {
            estimator: Estimator::BoostedTrees {
                base_score: booster.base_score,
                trees: booster.into_trees(),
                learning_rate: params.learning_rate,
            },
            heldout,
            heldout_raw,
            description,
            criterion,
            tuning,
            estimator_seconds,
        })
    }

    fn cross_validate(
        &self,
        prepared: &Prepared,
        _options: &FitOptions,
        splits: &[CvSplit<'_>],
    ) -> Result<Vec<Vec<f64>>, TrainError> {
        let trees = TreeData::new(prepared);
        Ok(splits
            .iter()
            .map(|split| {
                // Early stopping on another patient-grouped fold of the training part.
                let inner = (split.test + 1) % split.k;
                let train: Vec<u32> = (0..split.folds.len() as u32)
                    .filter(|&i| ![split.test, inner].contains(&split.folds[i as usize]))
                    .collect();
                let booster = booster::fit(
                    &trees.binned,
                    &prepared.data.y,
                    &prepared.data.w,
                    &train,
                    &split.rows_of(inner),
                    &params(CV_LEAVES, train.len()),
                );
                split
                    .rows_of(split.test)
                    .iter()
                    .map(|&i| sigmoid(booster.raw(trees.design.row(i as usize))))
                    .collect()
            })
            .collect())
    }
}

/// One validation fold early-stops each leaf count, chooses among them and calibrates.
fn on_validation_fold(
    prepared: &Prepared,
    options: &FitOptions,
    trees: &TreeData,
    grid: &[usize],
) -> Result<Tuned, TrainError> {
    let data = &prepared.data;
    let (train, valid) = validation_split(prepared, options)?;
    let mut tuning = Vec::new();
    let mut best: Option<(f64, GbdtParams, Booster)> = None;
    // The leaf counts are independent fits: grown side by side, compared in grid order.
    let boosters = on_all_cores(grid, |&max_leaves| {
        let params = params(max_leaves, train.len());
        (
            params,
            booster::fit(&trees.binned, &data.y, &data.w, &train, &valid, &params),
        )
    });
    for (params, booster) in boosters {
        let max_leaves = params.max_leaves;
        let loss = booster
            .validation_loss
            .get(booster.best_rounds.saturating_sub(1))
            .copied()
            .unwrap_or(f64::INFINITY);
        tuning.push(Tuning {
            setting: format!("{max_leaves} leaves ({} trees)", booster.best_rounds),
            criterion: loss,
        });
        if best.as_ref().is_none_or(|(l, _, _)| loss < *l) {
            best = Some((loss, params, booster));
        }
    }
    let (loss, params, booster) = best.expect("the grid is not empty");
    let heldout_raw = valid
        .iter()
        .map(|&r| booster.raw(trees.design.row(r as usize)))
        .collect();
    Ok(Tuned {
        model: booster,
        params,
        heldout: valid.iter().map(|r| *r as usize).collect(),
        heldout_raw,
        criterion: (Metric::ValidationLogLoss, loss),
        tuning,
        tuned_by: format!(
            "early stopping after {} rounds without improvement on a patient-grouped validation fold (1 of {}), \
             which also {}calibrates",
            params.early_stopping_rounds,
            prepared.k,
            if grid.len() > 1 {
                "chose the leaf count and "
            } else {
                ""
            }
        ),
    })
}

/// Patient-grouped k-fold cross-validation counts the trees and chooses the
/// leaf count; the booster is refitted on every row.
fn by_cross_validation(
    prepared: &Prepared,
    options: &FitOptions,
    trees: &TreeData,
    grid: &[usize],
) -> Result<Tuned, TrainError> {
    let data = &prepared.data;
    let splits = fold_splits(prepared, options)?;
    let mut tuning = Vec::new();
    // (out-of-fold log-loss, leaves, trees, out-of-fold raw scores); ties keep the fewer leaves.
    let mut best: Option<(f64, usize, usize, Vec<f64>)> = None;
    for &max_leaves in grid {
        let boosters = on_all_cores(&splits, |(train, valid)| {
            booster::fit(
                &trees.binned,
                &data.y,
                &data.w,
                train,
                valid,
                &params(max_leaves, train.len()),
            )
        });
        let rounds = mean_rounds(&boosters);
        // A fold that stopped early (its best round far below the mean) has
        // fewer trees than `rounds`: boost it on to `rounds`, so that every
        // fold's out-of-fold scores are read at the delivered number of trees.
        // Boosting never looks at the validation rows, so the refit's first
        // trees are the ones it had.
        let boosters: Vec<Booster> = splits
            .iter()
            .zip(boosters)
            .map(|((train, _), fold)| {
                if fold.grown.len() >= rounds {
                    return fold;
                }
                let longer = GbdtParams {
                    max_trees: rounds,
                    ..params(max_leaves, train.len())
                };
                booster::fit(&trees.binned, &data.y, &data.w, train, &[], &longer)
            })
            .collect();
        let raw = out_of_fold(&prepared.folds, |fold, row| {
            boosters[fold].raw_after(rounds, trees.design.row(row))
        });
        let loss = weighted_log_loss(prepared, &raw);
        tuning.push(Tuning {
            setting: format!("{max_leaves} leaves ({rounds} trees)"),
            criterion: loss,
        });
        if best.as_ref().is_none_or(|(l, ..)| loss < *l) {
            best = Some((loss, max_leaves, rounds, raw));
        }
    }
    let (loss, max_leaves, rounds, heldout_raw) = best.expect("the grid is not empty");
    let every_row: Vec<u32> = (0..data.y.len() as u32).collect();
    let params = GbdtParams {
        max_trees: rounds,
        ..params(max_leaves, every_row.len())
    };
    let booster = booster::fit(&trees.binned, &data.y, &data.w, &every_row, &[], &params);
    Ok(Tuned {
        model: booster,
        params,
        heldout: (0..data.y.len()).collect(),
        heldout_raw,
        criterion: (Metric::CvLogLoss, loss),
        tuning,
        tuned_by: format!(
            "the number of trees is the mean, over {}-fold patient-grouped cross-validation, of the round each \
             fold's early stopping chose ({} rounds without improvement){}; refitted on every row, its \
             out-of-fold predictions calibrate",
            prepared.k,
            params.early_stopping_rounds,
            if grid.len() > 1 {
                ", the leaf count the one with the lowest out-of-fold log-loss at that number of trees"
            } else {
                ""
            }
        ),
    })
}

/// The folds' mean number of kept trees, rounded (at least one).
fn mean_rounds(boosters: &[Booster]) -> usize {
    let total: usize = boosters.iter().map(|b| b.best_rounds).sum();
    ((total as f64 / boosters.len().max(1) as f64).round() as usize).max(1)
}
