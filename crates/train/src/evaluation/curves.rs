//! The numbers behind the report's plots, all weighted for censoring: the ROC
//! curve, the calibration curve with a 95% band, the decision curve, and
//! feature importance as the mean absolute contribution of each feature.

use carescore_core::artifact::{ModelArtifact, Row};
use serde::Serialize;

use super::full::net_benefit;

/// Most points kept on a ROC curve (enough for a smooth line, small SVG).
const MAX_ROC_POINTS: usize = 400;

/// ROC curve points `(false positive rate, true positive rate)` from (0, 0)
/// to (1, 1), one per distinct score (thinned to at most 400), weighted.
pub fn roc_curve(p: &[f64], y: &[bool], w: &[f64]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| w[i] > 0.0).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let positives: f64 = order.iter().filter(|&&i| y[i]).map(|&i| w[i]).sum();
    let negatives: f64 = order.iter().filter(|&&i| !y[i]).map(|&i| w[i]).sum();
    if positives <= 0.0 || negatives <= 0.0 {
        return Vec::new();
    }
    let mut points = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        if y[i] {
            tp += w[i];
        } else {
            fp += w[i];
        }
        // One point per distinct score: ties move the curve diagonally.
        if order.get(k + 1).is_none_or(|&next| p[next] != p[i]) {
            points.push((fp / negatives, tp / positives));
        }
    }
    if points.len() > MAX_ROC_POINTS {
        let step = points.len().div_ceil(MAX_ROC_POINTS);
        let last = *points.last().expect("not empty");
        points = points.into_iter().step_by(step).collect();
        if points.last() != Some(&last) {
            points.push(last);
        }
    }
    points
}

/// One bin of the calibration curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// Weighted mean predicted probability.
    pub predicted: f64,
    /// Weighted observed event rate.
    pub observed: f64,
    /// Lower end of the 95% interval of the observed rate.
    pub lower: f64,
    /// Upper end of the 95% interval of the observed rate.
    pub upper: f64,
    /// Rows in the bin.
    pub rows: usize,
}

/// The calibration curve over `bins` groups of equal size by predicted
/// probability. The band is the Wilson 95% interval of each bin's observed
/// rate with the Kish effective sample size of its weights.
pub fn calibration_curve(p: &[f64], y: &[bool], w: &[f64], bins: usize) -> Vec<CalibrationBin> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| w[i] > 0.0).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let bins = bins.clamp(1, order.len().max(1));
    (0..bins)
        .filter_map(|b| {
            let rows = &order[b * order.len() / bins..(b + 1) * order.len() / bins];
            let total: f64 = rows.iter().map(|&i| w[i]).sum();
            if rows.is_empty() || total <= 0.0 {
                return None;
            }
            let squares: f64 = rows.iter().map(|&i| w[i] * w[i]).sum();
            let predicted = rows.iter().map(|&i| w[i] * p[i]).sum::<f64>() / total;
            let observed = rows.iter().filter(|&&i| y[i]).map(|&i| w[i]).sum::<f64>() / total;
            let (lower, upper) = wilson(observed, total * total / squares);
            Some(CalibrationBin {
                predicted,
                observed,
                lower,
                upper,
                rows: rows.len(),
            })
        })
        .collect()
}

/// Wilson 95% interval of a proportion `rate` observed on `n` (effective) rows.
fn wilson(rate: f64, n: f64) -> (f64, f64) {
    const Z: f64 = 1.959_963_984_540_054;
    let z2 = Z * Z;
    let centre = (rate + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z / (1.0 + z2 / n) * (rate * (1.0 - rate) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// One threshold of the decision curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DecisionPoint {
    /// Risk threshold above which a patient is flagged.
    pub threshold: f64,
    /// Net benefit of flagging by the model.
    pub model: f64,
    /// Net benefit of flagging everyone.
    pub treat_all: f64,
}

/// The decision curve at thresholds 1%, 2%, ..., `max_percent`%.
pub fn decision_curve(p: &[f64], y: &[bool], w: &[f64], max_percent: u32) -> Vec<DecisionPoint> {
    let everyone = vec![1.0; p.len()];
    (1..=max_percent)
        .map(|percent| {
            let threshold = f64::from(percent) / 100.0;
            DecisionPoint {
                threshold,
                model: net_benefit(p, y, w, threshold),
                treat_all: net_benefit(&everyone, y, w, threshold),
            }
        })
        .collect()
}

/// Mean absolute contribution of each feature to the raw output over `rows`,
/// largest first (the scale of the estimator's raw output).
pub fn importance(artifact: &ModelArtifact, rows: &[&dyn Row]) -> Vec<(String, f64)> {
    let mut sums = vec![0.0; artifact.features.len()];
    let model = artifact.compile();
    for row in rows {
        for (sum, c) in sums.iter_mut().zip(model.explain(*row).contributions) {
            *sum += c.abs();
        }
    }
    let n = rows.len().max(1) as f64;
    let mut out: Vec<(String, f64)> = artifact
        .features
        .iter()
        .zip(sums)
        .map(|(f, s)| (f.name.clone(), s / n))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_of_a_perfect_and_a_tied_score() {
        let y = [false, false, true, true];
        let w = [1.0; 4];
        assert_eq!(
            roc_curve(&[0.1, 0.2, 0.8, 0.9], &y, &w),
            [(0.0, 0.0), (0.0, 0.5), (0.0, 1.0), (0.5, 1.0), (1.0, 1.0)]
        );
        assert_eq!(roc_curve(&[0.5; 4], &y, &w), [(0.0, 0.0), (1.0, 1.0)]);
        assert!(roc_curve(&[0.5; 2], &[true, true], &[1.0; 2]).is_empty());
        // Weights count as replication: the negative with weight 3 is three quarters of the false positives.
        let weighted = roc_curve(&[0.9, 0.8, 0.1], &[false, true, false], &[3.0, 1.0, 1.0]);
        assert_eq!(weighted, [(0.0, 0.0), (0.75, 0.0), (0.75, 1.0), (1.0, 1.0)]);
    }

    #[test]
    fn long_roc_curves_are_thinned_but_keep_their_ends() {
        let n = 5000;
        let p: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        let y: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let curve = roc_curve(&p, &y, &vec![1.0; n]);
        assert!(curve.len() <= MAX_ROC_POINTS + 1, "{}", curve.len());
        assert_eq!(curve[0], (0.0, 0.0));
        assert_eq!(*curve.last().unwrap(), (1.0, 1.0));
    }

    #[test]
    fn calibration_bins_have_equal_rows_and_bands_around_the_rate() {
        // Predicted 0.1 and 0.5 in two halves; observed 1 in 10 and 5 in 10.
        let p: Vec<f64> = (0..20).map(|i| if i < 10 { 0.1 } else { 0.5 }).collect();
        let y: Vec<bool> = (0..20).map(|i| i == 0 || (10..15).contains(&i)).collect();
        let bins = calibration_curve(&p, &y, &[1.0; 20], 2);
        assert_eq!(bins.len(), 2);
        assert!((bins[0].predicted - 0.1).abs() < 1e-12 && (bins[0].observed - 0.1).abs() < 1e-12);
        assert!((bins[1].observed - 0.5).abs() < 1e-12);
        assert_eq!(bins[0].rows, 10);
        // Wilson interval for 5/10: 0.237 to 0.763.
        assert!(
            (bins[1].lower - 0.2366).abs() < 1e-3 && (bins[1].upper - 0.7634).abs() < 1e-3,
            "{bins:?}"
        );
        assert!(bins[0].lower < 0.1 && bins[0].upper > 0.1);
    }

    #[test]
    fn decision_curve_matches_net_benefit() {
        let p = [0.05, 0.3, 0.6, 0.9];
        let y = [false, false, true, true];
        let curve = decision_curve(&p, &y, &[1.0; 4], 50);
        assert_eq!(curve.len(), 50);
        let at_20 = curve[19];
        assert!((at_20.threshold - 0.2).abs() < 1e-12);
        // Flagged: 0.3 (FP), 0.6, 0.9 (TP): 2/4 - 1/4 * 0.25 = 0.4375.
        assert!((at_20.model - 0.4375).abs() < 1e-12);
        // Everyone: 2/4 - 2/4 * 0.25 = 0.375.
        assert!((at_20.treat_all - 0.375).abs() < 1e-12);
    }
}
