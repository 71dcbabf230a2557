//! Evaluation metrics shared by the synthetic-cohort summary and model evaluation.

use serde::Serialize;

use crate::model::regression;

/// Area under the ROC curve of `scores` for binary `labels` (the Mann-Whitney
/// statistic, ties counted as one half). `None` when either class is empty.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    weighted_auc(scores, labels, &vec![1.0; scores.len()])
}

/// Weighted ROC AUC: the weighted share of (positive, negative) pairs ranked
/// correctly, ties counted as one half. `None` when either class has no weight.
pub fn weighted_auc(scores: &[f64], labels: &[bool], weights: &[f64]) -> Option<f64> {
    assert!(
        scores.len() == labels.len() && labels.len() == weights.len(),
        "one label and weight per score"
    );
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut negatives_below, mut correct, mut positives, mut negatives) = (0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        let (mut tie_pos, mut tie_neg) = (0.0, 0.0);
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            let k = order[j];
            if labels[k] {
                tie_pos += weights[k];
            } else {
                tie_neg += weights[k];
            }
            j += 1;
        }
        correct += tie_pos * (negatives_below + 0.5 * tie_neg);
        negatives_below += tie_neg;
        positives += tie_pos;
        negatives += tie_neg;
        i = j;
    }
    (positives > 0.0 && negatives > 0.0).then(|| correct / (positives * negatives))
}

/// Number of equal-width probability bins of the expected calibration error.
pub const ECE_BINS: usize = 10;

/// Weighted performance of probabilities `p` against labels `y`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Rows with a known label.
    pub rows: usize,
    /// Weighted event rate.
    pub event_rate: f64,
    /// Weighted ROC AUC.
    pub auc: Option<f64>,
    /// Weighted Brier score.
    pub brier: f64,
    /// Slope of the logistic recalibration of the labels on logit(p) (1 is ideal).
    pub calibration_slope: Option<f64>,
    /// Intercept of that recalibration (0 is ideal).
    pub calibration_intercept: Option<f64>,
    /// Expected calibration error over 10 equal-width bins, weighted.
    pub ece: f64,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}

/// Computes [`Metrics`] over rows with a positive weight.
pub fn evaluate(p: &[f64], y: &[bool], w: &[f64]) -> Metrics {
    let keep: Vec<usize> = (0..p.len()).filter(|&i| w[i] > 0.0).collect();
    let p: Vec<f64> = keep.iter().map(|&i| p[i]).collect();
    let y: Vec<bool> = keep.iter().map(|&i| y[i]).collect();
    let w: Vec<f64> = keep.iter().map(|&i| w[i]).collect();
    let total: f64 = w.iter().sum();
    let mean = |f: &dyn Fn(usize) -> f64| {
        if total > 0.0 {
            (0..p.len()).map(|i| w[i] * f(i)).sum::<f64>() / total
        } else {
            0.0
        }
    };
    let yv = |i: usize| f64::from(u8::from(y[i]));
    let logits: Vec<f64> = p.iter().map(|x| logit(*x)).collect();
    let recalibration = regression::fit(&logits, 1, &y, &w, 0.0).ok();
    let mut bins = [(0.0, 0.0, 0.0); ECE_BINS];
    for i in 0..p.len() {
        let b = ((p[i] * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        bins[b].0 += w[i];
        bins[b].1 += w[i] * p[i];
        bins[b].2 += w[i] * yv(i);
    }
    let ece = if total > 0.0 {
        bins.iter().map(|(_, sp, sy)| (sp - sy).abs()).sum::<f64>() / total
    } else {
        0.0
    };
    Metrics {
        rows: p.len(),
        event_rate: mean(&yv),
        auc: weighted_auc(&p, &y, &w),
        brier: mean(&|i| (p[i] - yv(i)).powi(2)),
        calibration_slope: recalibration.as_ref().map(|f| f.coefficients[0]),
        calibration_intercept: recalibration.as_ref().map(|f| f.intercept),
        ece,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_inverse_and_tied_scores() {
        let labels = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.3, 0.4], &labels), Some(1.0));
        assert_eq!(roc_auc(&[0.4, 0.3, 0.2, 0.1], &labels), Some(0.0));
        assert_eq!(roc_auc(&[0.5; 4], &labels), Some(0.5));
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn weights_count_as_replication() {
        let scores = [0.1, 0.4, 0.35, 0.8];
        let labels = [false, true, false, true];
        let weighted = weighted_auc(&scores, &labels, &[2.0, 1.0, 1.0, 1.0]).unwrap();
        let replicated = roc_auc(&[0.1, 0.1, 0.4, 0.35, 0.8], &[false, false, true, false, true]).unwrap();
        assert!((weighted - replicated).abs() < 1e-12);
    }

    #[test]
    fn brier_and_ece_on_known_values() {
        let m = evaluate(&[0.2, 0.8], &[false, true], &[1.0, 1.0]);
        assert!((m.brier - 0.04).abs() < 1e-12);
        assert!((m.ece - 0.2).abs() < 1e-12);
        assert_eq!(m.auc, Some(1.0));
        assert_eq!(m.rows, 2);
    }

    #[test]
    fn a_perfectly_calibrated_model_has_slope_one_and_intercept_zero() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let p: Vec<f64> = (0..50_000).map(|_| rng.gen_range(0.02..0.6)).collect();
        let y: Vec<bool> = p.iter().map(|p| rng.gen::<f64>() < *p).collect();
        let m = evaluate(&p, &y, &vec![1.0; p.len()]);
        assert!((m.calibration_slope.unwrap() - 1.0).abs() < 0.05, "{m:?}");
        assert!(m.calibration_intercept.unwrap().abs() < 0.05, "{m:?}");
        assert!(m.ece < 0.02, "{m:?}");
    }

    #[test]
    fn matches_pairwise_count() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.2];
        let labels = [false, true, false, true, false, true];
        let (mut wins, mut pairs) = (0.0, 0.0);
        for i in 0..6 {
            for j in 0..6 {
                if labels[i] && !labels[j] {
                    pairs += 1.0;
                    wins += if scores[i] > scores[j] {
                        1.0
                    } else if scores[i] == scores[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        assert!((roc_auc(&scores, &labels).unwrap() - wins / pairs).abs() < 1e-12);
    }
}
