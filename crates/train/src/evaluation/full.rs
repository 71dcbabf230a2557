//! The full evaluation of probabilities against censoring-weighted labels, as
//! TRIPOD+AI asks: discrimination with a bootstrap confidence interval,
//! calibration, net benefit at the 20% decision threshold, and sensitivity /
//! PPV / flag rate at the policy's operating thresholds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::metrics::{evaluate, weighted_auc, Metrics};

/// Bootstrap resamples for the AUC interval.
pub const BOOTSTRAP_RESAMPLES: usize = 200;
/// Decision threshold of the net-benefit figure (docs/policy.md: 20%).
pub const NET_BENEFIT_THRESHOLD: f64 = 0.20;

/// Performance at one decision threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatingPoint {
    /// Flag when the probability is above this.
    pub threshold: f64,
    /// Weighted share of events flagged.
    pub sensitivity: Option<f64>,
    /// Weighted share of flagged rows with the event.
    pub ppv: Option<f64>,
    /// Weighted share of rows flagged.
    pub flag_rate: f64,
}

/// Everything measured on one set of rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Discrimination and calibration.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// 95% bootstrap interval of the AUC (percentile method).
    pub auc_ci95: Option<(f64, f64)>,
    /// Net benefit at [`NET_BENEFIT_THRESHOLD`] (decision curve).
    pub net_benefit_at_20pct: f64,
    /// Net benefit of flagging everyone at the same threshold (the "treat all" line).
    pub net_benefit_treat_all: f64,
    /// Operating points at the policy thresholds.
    pub operating_points: Vec<OperatingPoint>,
}

/// Net benefit of flagging rows with `p > threshold`: TP/n - FP/n · t/(1-t), weighted.
pub fn net_benefit(p: &[f64], y: &[bool], w: &[f64], threshold: f64) -> f64 {
    let total: f64 = w.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let (mut tp, mut fp) = (0.0, 0.0);
    for i in 0..p.len() {
        if p[i] > threshold {
            if y[i] {
                tp += w[i];
            } else {
                fp += w[i];
            }
        }
    }
    tp / total - fp / total * threshold / (1.0 - threshold)
}

fn operating_point(p: &[f64], y: &[bool], w: &[f64], threshold: f64) -> OperatingPoint {
    let (mut tp, mut flagged, mut events, mut total) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..p.len() {
        total += w[i];
        if y[i] {
            events += w[i];
        }
        if p[i] > threshold {
            flagged += w[i];
            if y[i] {
                tp += w[i];
            }
        }
    }
    OperatingPoint {
        threshold,
        sensitivity: (events > 0.0).then(|| tp / events),
        ppv: (flagged > 0.0).then(|| tp / flagged),
        flag_rate: if total > 0.0 { flagged / total } else { 0.0 },
    }
}

fn bootstrap_auc(p: &[f64], y: &[bool], w: &[f64], seed: u64) -> Option<(f64, f64)> {
    let n = p.len();
    if n == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut aucs = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    let mut counts = vec![0.0; n];
    for _ in 0..BOOTSTRAP_RESAMPLES {
        counts.iter_mut().for_each(|c| *c = 0.0);
        for _ in 0..n {
            counts[rng.gen_range(0..n)] += 1.0;
        }
        let weights: Vec<f64> = w.iter().zip(&counts).map(|(w, c)| w * c).collect();
        if let Some(auc) = weighted_auc(p, y, &weights) {
            aucs.push(auc);
        }
    }
    if aucs.len() < BOOTSTRAP_RESAMPLES / 2 {
        return None;
    }
    aucs.sort_by(f64::total_cmp);
    let at = |q: f64| aucs[((aucs.len() - 1) as f64 * q).round() as usize];
    Some((at(0.025), at(0.975)))
}

/// Evaluates rows with positive weight.
pub fn full_evaluation(p: &[f64], y: &[bool], w: &[f64], thresholds: &[f64], seed: u64) -> Evaluation {
    Evaluation {
        metrics: evaluate(p, y, w),
        auc_ci95: bootstrap_auc(p, y, w, seed),
        net_benefit_at_20pct: net_benefit(p, y, w, NET_BENEFIT_THRESHOLD),
        net_benefit_treat_all: net_benefit(&vec![1.0; p.len()], y, w, NET_BENEFIT_THRESHOLD),
        operating_points: thresholds.iter().map(|t| operating_point(p, y, w, *t)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_benefit_by_hand() {
        // 4 rows, 2 flagged (1 event, 1 not): 1/4 - 1/4 * 0.25 = 0.1875.
        let nb = net_benefit(&[0.3, 0.5, 0.1, 0.05], &[true, false, true, false], &[1.0; 4], 0.2);
        assert!((nb - 0.1875).abs() < 1e-12);
    }

    #[test]
    fn operating_point_by_hand() {
        let op = operating_point(&[0.3, 0.5, 0.1, 0.05], &[true, false, true, false], &[1.0; 4], 0.2);
        assert_eq!(op.sensitivity, Some(0.5));
        assert_eq!(op.ppv, Some(0.5));
        assert_eq!(op.flag_rate, 0.5);
    }

    #[test]
    fn bootstrap_interval_brackets_the_auc_and_is_deterministic() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let p: Vec<f64> = (0..2000).map(|_| rng.gen::<f64>()).collect();
        let y: Vec<bool> = p.iter().map(|p| rng.gen::<f64>() < *p).collect();
        let w = vec![1.0; p.len()];
        let e = full_evaluation(&p, &y, &w, &[0.1, 0.2], 9);
        let (lo, hi) = e.auc_ci95.unwrap();
        let auc = e.metrics.auc.unwrap();
        assert!(lo < auc && auc < hi && hi - lo < 0.1, "{lo} {auc} {hi}");
        assert_eq!(e, full_evaluation(&p, &y, &w, &[0.1, 0.2], 9));
    }
}
