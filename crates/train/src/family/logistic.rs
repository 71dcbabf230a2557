//! L2-regularised logistic regression over the linear design (standardised
//! numerics, one-hot categories, missing-value indicators), its penalty chosen
//! by patient-grouped k-fold cross-validation; the out-of-fold scores of the
//! chosen penalty calibrate and evaluate it.

use std::time::Instant;

use carescore_core::artifact::{sigmoid, DesignKind, Estimator, Metric};

use super::{FamilyFit, ModelFamily, Tuning};
use crate::model::design::Design;
use crate::model::loss::log_loss;
use crate::model::regression;
use crate::prepare::fit_error;
use crate::prepare::folds::CvSplit;
use crate::prepare::{FitOptions, Prepared, TrainError};

/// Penalties tried by cross-validation.
const L2_GRID: [f64; 6] = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0];

/// Penalty of `cv`'s default setting.
const CV_L2: f64 = 1.0;

/// The logistic regression family.
#[derive(Debug, Clone, Copy)]
pub struct Logistic;

/// Fits penalty `l2` on every row outside `test_fold`; returns the raw scores of `test_rows`.
fn fold_raw(
    design: &Design,
    prepared: &Prepared,
    folds: &[usize],
    test_fold: usize,
    l2: f64,
    options: &FitOptions,
) -> Result<Vec<(usize, f64)>, TrainError> {
    let data = &prepared.data;
    let train_w: Vec<f64> = data
        .w
        .iter()
        .zip(folds)
        .map(|(w, f)| if *f == test_fold { 0.0 } else { *w })
        .collect();
    let fit = regression::fit(&design.values, design.cols, &data.y, &train_w, l2).map_err(fit_error(options))?;
    Ok((0..folds.len())
        .filter(|&i| folds[i] == test_fold)
        .map(|i| (i, regression::raw(&fit, design.row(i))))
        .collect())
}

impl ModelFamily for Logistic {
    fn name(&self) -> &'static str {
        "logistic"
    }

    fn fit(&self, prepared: &Prepared, options: &FitOptions) -> Result<FamilyFit, TrainError> {
        let data = &prepared.data;
        let design = Design::encode(&prepared.features, DesignKind::Linear, &prepared.records);
        let total_w: f64 = data.w.iter().sum();
        let started = Instant::now();
        let mut tuning = Vec::new();
        // (log-loss, penalty, out-of-fold raw scores); ties keep the smaller penalty.
        let mut best: Option<(f64, f64, Vec<f64>)> = None;
        for l2 in L2_GRID {
            let mut raw = vec![0.0; data.y.len()];
            for fold in 0..prepared.k {
                for (i, r) in fold_raw(&design, prepared, &prepared.folds, fold, l2, options)? {
                    raw[i] = r;
                }
            }
            let loss = (0..raw.len())
                .map(|i| data.w[i] * log_loss(sigmoid(raw[i]), data.y[i]))
                .sum::<f64>()
                / total_w;
            tuning.push(Tuning {
                setting: format!("l2 = {l2}"),
                criterion: loss,
            });
            if best.as_ref().is_none_or(|(best_loss, _, _)| loss < *best_loss) {
                best = Some((loss, l2, raw));
            }
        }
        let (cv_log_loss, l2, heldout_raw) = best.expect("the grid is not empty");
        let fit = regression::fit(&design.values, design.cols, &data.y, &data.w, l2).map_err(fit_error(options))?;
        let description = format!(
            "L2-regularised logistic regression over {} design columns ({} features, standardised numerics, \
             one-hot categories, missing-value indicators); penalty {l2} chosen by {}-fold patient-grouped, \
             outcome-stratified cross-validation over {L2_GRID:?}; calibrated on out-of-fold predictions (Platt or \
             isotonic, chosen by patient-split cross-fitting).",
            design.cols,
            prepared.features.len(),
            prepared.k
        );
        Ok(FamilyFit {
            estimator: Estimator::Logistic {
                intercept: fit.intercept,
                coefficients: fit.coefficients,
                l2,
            },
            heldout: (0..data.y.len()).collect(),
            heldout_raw,
            description,
            criterion: (Metric::CvLogLoss, cv_log_loss),
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
        let design = Design::encode(&prepared.features, DesignKind::Linear, &prepared.records);
        splits
            .iter()
            .map(|split| {
                let raw = fold_raw(&design, prepared, split.folds, split.test, CV_L2, options)?;
                Ok(raw.into_iter().map(|(_, r)| sigmoid(r)).collect())
            })
            .collect()
    }
}
