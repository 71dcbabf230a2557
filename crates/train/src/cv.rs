//! Repeated k-fold cross-validation of the model families, folds grouped by
//! patient, for comparing candidates (`carescore-train cv`).
//!
//! Each family runs with its default settings (logistic: L2 penalty 1; boosted
//! trees: 15 leaves, early stopping on a patient-grouped fifth of the training
//! part) and is scored uncalibrated (the logistic function of its log-odds) on
//! the held-out fold, with the censoring weights of the labels.

use carescore_core::artifact::{sigmoid, DesignKind};
use serde::Serialize;

use crate::ingest::Ingested;
use crate::metrics::evaluate;
use crate::model::design::Design;
use crate::model::folds::grouped_folds;
use crate::model::gbdt::{self, Binned, GbdtParams};
use crate::model::logistic;
use crate::training::{prepare, FitOptions, Prepared, TrainError};

/// A model family compared by `cv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Candidate {
    /// L2 logistic regression, penalty 1.
    Logistic,
    /// Gradient-boosted trees, 15 leaves.
    Gbdt,
}

/// Cross-validated performance of one candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvResult {
    /// The candidate.
    pub candidate: Candidate,
    /// Folds x repeats evaluated.
    pub evaluations: usize,
    /// Mean held-out AUC.
    pub auc: f64,
    /// Standard deviation of the held-out AUCs.
    pub auc_sd: f64,
    /// Mean Brier score.
    pub brier: f64,
    /// Mean calibration slope.
    pub calibration_slope: f64,
    /// Mean calibration intercept.
    pub calibration_intercept: f64,
    /// Mean expected calibration error.
    pub ece: f64,
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Runs `repeats` x `options.folds` cross-validation of each candidate.
///
/// # Errors
/// [`TrainError`] for unusable data or a fold with one class.
pub fn cross_validate(
    ingested: &Ingested,
    options: FitOptions,
    repeats: usize,
    candidates: &[Candidate],
) -> Result<Vec<CvResult>, TrainError> {
    // Cross-validation uses every labelled row: no temporal hold-out.
    let Prepared {
        data,
        records,
        features,
        k,
        ..
    } = prepare(
        ingested,
        FitOptions {
            temporal_holdout: 0.0,
            ..options
        },
    )?;
    let linear = Design::encode(&features, DesignKind::Linear, &records);
    let raw = Design::encode(&features, DesignKind::Raw, &records);
    let binned = Binned::new(&raw.values, raw.cols, 255);
    let fit_error = |source| TrainError::Fit {
        target: options.target.name(),
        source,
    };
    let mut results = Vec::new();
    for &candidate in candidates {
        let mut per_fold = Vec::new();
        for repeat in 0..repeats.max(1) {
            let folds = grouped_folds(&data.groups, k, options.seed.wrapping_add(repeat as u64));
            for fold in 0..k {
                let test: Vec<usize> = (0..data.y.len()).filter(|&i| folds[i] == fold).collect();
                let probabilities: Vec<f64> = match candidate {
                    Candidate::Logistic => {
                        let w: Vec<f64> = data
                            .w
                            .iter()
                            .zip(&folds)
                            .map(|(w, f)| if *f == fold { 0.0 } else { *w })
                            .collect();
                        let fit = logistic::fit(&linear.values, linear.cols, &data.y, &w, 1.0).map_err(fit_error)?;
                        test.iter()
                            .map(|&i| sigmoid(logistic::raw(&fit, linear.row(i))))
                            .collect()
                    }
                    Candidate::Gbdt => {
                        // Early stopping on another patient-grouped fold of the training part.
                        let inner = (fold + 1) % k;
                        let train: Vec<u32> = (0..data.y.len() as u32)
                            .filter(|&i| ![fold, inner].contains(&folds[i as usize]))
                            .collect();
                        let valid: Vec<u32> = (0..data.y.len() as u32)
                            .filter(|&i| folds[i as usize] == inner)
                            .collect();
                        let params = GbdtParams {
                            max_leaves: 15,
                            ..GbdtParams::default()
                        };
                        let booster = gbdt::fit(&binned, &data.y, &data.w, &train, &valid, &params);
                        test.iter().map(|&i| sigmoid(booster.raw(raw.row(i)))).collect()
                    }
                };
                let y: Vec<bool> = test.iter().map(|&i| data.y[i]).collect();
                let w: Vec<f64> = test.iter().map(|&i| data.w[i]).collect();
                per_fold.push(evaluate(&probabilities, &y, &w));
            }
        }
        let aucs: Vec<f64> = per_fold.iter().filter_map(|m| m.auc).collect();
        let auc = mean(&aucs);
        let auc_sd = (aucs.iter().map(|a| (a - auc).powi(2)).sum::<f64>() / (aucs.len().max(2) - 1) as f64).sqrt();
        let pick = |f: &dyn Fn(&crate::metrics::Metrics) -> Option<f64>| {
            mean(&per_fold.iter().filter_map(f).collect::<Vec<_>>())
        };
        results.push(CvResult {
            candidate,
            evaluations: per_fold.len(),
            auc,
            auc_sd,
            brier: pick(&|m| Some(m.brier)),
            calibration_slope: pick(&|m| m.calibration_slope),
            calibration_intercept: pick(&|m| m.calibration_intercept),
            ece: pick(&|m| Some(m.ece)),
        });
    }
    Ok(results)
}
