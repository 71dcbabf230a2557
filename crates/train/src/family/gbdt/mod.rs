//! Gradient-boosted trees ([`booster`]): one patient-grouped fold
//! is held out for early stopping, for choosing the number of leaves and for
//! calibration.

use std::time::Instant;

use carescore_core::artifact::{sigmoid, Estimator, Metric};

use super::{validation_split, FamilyFit, ModelFamily, TreeData, Tuning};
use crate::model::trees::MAX_BINS;
use crate::prepare::folds::CvSplit;
pub mod booster;

use self::booster::GbdtParams;
use crate::prepare::{FitOptions, Prepared, TrainError};

/// Leaf counts tried on the validation fold.
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

impl ModelFamily for Gbdt {
    fn name(&self) -> &'static str {
        "gbdt"
    }

    fn fit(&self, prepared: &Prepared, options: &FitOptions) -> Result<FamilyFit, TrainError> {
        let data = &prepared.data;
        let (train, valid) = validation_split(prepared, options)?;
        let started = Instant::now();
        let trees = TreeData::new(prepared);
        let grid: Vec<usize> = options
            .gbdt_leaves
            .map_or_else(|| LEAVES_GRID.to_vec(), |leaves| vec![leaves]);
        let mut tuning = Vec::new();
        let mut best: Option<(f64, GbdtParams, booster::Booster)> = None;
        for max_leaves in grid {
            let params = GbdtParams {
                max_leaves,
                min_rows_in_leaf: min_rows_in_leaf(train.len()),
                ..GbdtParams::default()
            };
            let booster = booster::fit(&trees.binned, &data.y, &data.w, &train, &valid, &params);
            let loss = booster
                .validation_loss
                .get(booster.trees.len().saturating_sub(1))
                .copied()
                .unwrap_or(f64::INFINITY);
            tuning.push(Tuning {
                setting: format!("{max_leaves} leaves ({} trees)", booster.trees.len()),
                criterion: loss,
            });
            if best.as_ref().is_none_or(|(l, _, _)| loss < *l) {
                best = Some((loss, params, booster));
            }
        }
        let (loss, params, booster) = best.expect("the grid is not empty");
        let estimator_seconds = started.elapsed().as_secs_f64();
        let heldout_raw: Vec<f64> = valid
            .iter()
            .map(|&r| booster.raw(trees.design.row(r as usize)))
            .collect();
        let description = format!(
            "Gradient-boosted trees: {} trees of up to {} leaves (chosen from {LEAVES_GRID:?}), learning rate {}, \
             at least {} rows per leaf, L2 {} on leaf values, histogram binning ({MAX_BINS} bins), missing values routed \
             by each split; early stopping after {} rounds without improvement on a patient-grouped validation fold \
             (1 of {}), which also calibrates (the calibration map below) and gives \
             the metrics below.",
            booster.trees.len(),
            params.max_leaves,
            params.learning_rate,
            params.min_rows_in_leaf,
            params.l2,
            params.early_stopping_rounds,
            prepared.k
        );
        Ok(FamilyFit {
            estimator: Estimator::BoostedTrees {
                base_score: booster.base_score,
                trees: booster.trees,
                learning_rate: params.learning_rate,
            },
            heldout: valid.iter().map(|r| *r as usize).collect(),
            heldout_raw,
            description,
            criterion: (Metric::ValidationLogLoss, loss),
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
                let params = GbdtParams {
                    max_leaves: CV_LEAVES,
                    min_rows_in_leaf: min_rows_in_leaf(train.len()),
                    ..GbdtParams::default()
                };
                let booster = booster::fit(
                    &trees.binned,
                    &prepared.data.y,
                    &prepared.data.w,
                    &train,
                    &split.rows_of(inner),
                    &params,
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
