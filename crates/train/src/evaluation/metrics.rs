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
    auc_in_order(scores, labels, weights, score_order(scores).into_iter())
}

/// The rows in increasing order of score, ties in row order: the order the
/// AUC walks. Computed once, it serves every reweighting of the same scores
/// (the bootstrap's resamples).
pub fn score_order(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    order
}

/// [`weighted_auc`] walking the rows in `order` (increasing score).
fn auc_in_order(scores: &[f64], labels: &[bool], weights: &[f64], order: impl Iterator<Item = usize>) -> Option<f64> {
    let mut order = order.peekable();
    let (mut negatives_below, mut correct, mut positives, mut negatives) = (0.0, 0.0, 0.0, 0.0);
    while let Some(first) = order.next() {
        let score = scores[first];
        let (mut tie_pos, mut tie_neg) = (0.0, 0.0);
        let mut k = Some(first);
        while let Some(row) = k {
            if labels[row] {
                tie_pos += weights[row];
            } else {
                tie_neg += weights[row];
            }
            k = order.next_if(|&next| scores[next] == score);
        }
        correct += tie_pos * (negatives_below + 0.5 * tie_neg);
        negatives_below += tie_neg;
        positives += tie_pos;
        negatives += tie_neg;
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
    evaluate_in_order(p, y, w, &score_order(p))
}

/// [`evaluate`] with the rows' [`score_order`] given (the same figures, bit
/// for bit, without sorting again).
pub fn evaluate_in_order(p: &[f64], y: &[bool], w: &[f64], order: &[usize]) -> Metrics {
    let auc = auc_in_order(p, y, w, order.iter().copied().filter(|&i| w[i] > 0.0));
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
        auc,
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

    #[test]
    fn one_sort_serves_every_reweighting() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        // Coarse scores, so that ties span rows of both weights.
        let p: Vec<f64> = (0..2_000).map(|_| f64::from(rng.gen_range(1..40u8)) / 40.0).collect();
        let y: Vec<bool> = p.iter().map(|p| rng.gen::<f64>() < *p).collect();
        let order = score_order(&p);
        for _ in 0..5 {
            // A bootstrap-like reweighting: some rows drawn twice, some not at all.
            let w: Vec<f64> = (0..p.len()).map(|_| f64::from(rng.gen_range(0..3u8))).collect();
            let kept: Vec<usize> = (0..p.len()).filter(|&i| w[i] > 0.0).collect();
            let pick = |v: &[f64]| kept.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            let yk: Vec<bool> = kept.iter().map(|&i| y[i]).collect();
            // Bit for bit the figures of the rows with weight alone, sorted afresh.
            assert_eq!(
                evaluate_in_order(&p, &y, &w, &order),
                evaluate(&pick(&p), &yk, &pick(&w))
            );
        }
    }
}
