//! The full evaluation of probabilities against censoring-weighted labels, as
//! TRIPOD+AI asks: the numbers of patients, rows and events, discrimination
//! and calibration with 95% intervals from a bootstrap that resamples
//! patients (a patient's rows are not independent, so resampling rows would
//! give intervals too narrow), and sensitivity / PPV / flag rate / net
//! benefit at the target's own operating thresholds.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use carescore_core::artifact::Metric;

use super::metrics::{evaluate, evaluate_in_order, score_order, Metrics};
use crate::cores::on_all_cores;

/// Bootstrap resamples of the intervals.
pub const BOOTSTRAP_RESAMPLES: usize = 200;

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
    /// Net benefit of flagging above the threshold (decision curve analysis).
    pub net_benefit: f64,
    /// Net benefit of flagging everyone at the same threshold (the "treat all" line).
    pub net_benefit_treat_all: f64,
}

/// A 95% interval, `[lower, upper]` on the wire.
pub type Interval = (f64, f64);

/// Everything measured on one set of rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Discrimination and calibration.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Distinct patients among the rows.
    pub patients: usize,
    /// Rows with the event (unweighted).
    pub events: usize,
    /// 95% interval of the AUC (patient bootstrap, percentile method).
    pub auc_ci95: Option<Interval>,
    /// 95% interval of the Brier score.
    pub brier_ci95: Option<Interval>,
    /// 95% interval of the calibration slope.
    pub calibration_slope_ci95: Option<Interval>,
    /// 95% interval of the calibration intercept.
    pub calibration_intercept_ci95: Option<Interval>,
    /// Operating points at the target's thresholds.
    pub operating_points: Vec<OperatingPoint>,
}

impl Evaluation {
    /// The figures an artifact publishes for this evaluation as its headline
    /// estimate: discrimination and calibration with their intervals, and
    /// the patients and events they are on (those that could be computed).
    pub fn headline(&self) -> Vec<(Metric, f64)> {
        let m = &self.metrics;
        let lower = |ci: Option<Interval>| ci.map(|c| c.0);
        let upper = |ci: Option<Interval>| ci.map(|c| c.1);
        [
            (Metric::Auc, m.auc),
            (Metric::AucCi95Lower, lower(self.auc_ci95)),
            (Metric::AucCi95Upper, upper(self.auc_ci95)),
            (Metric::Brier, Some(m.brier)),
            (Metric::BrierCi95Lower, lower(self.brier_ci95)),
            (Metric::BrierCi95Upper, upper(self.brier_ci95)),
            (Metric::CalibrationSlope, m.calibration_slope),
            (Metric::CalibrationSlopeCi95Lower, lower(self.calibration_slope_ci95)),
            (Metric::CalibrationSlopeCi95Upper, upper(self.calibration_slope_ci95)),
            (Metric::CalibrationIntercept, m.calibration_intercept),
            (Metric::Ece, Some(m.ece)),
            (Metric::EventRate, Some(m.event_rate)),
            (Metric::ValidationPatients, Some(self.patients as f64)),
            (Metric::ValidationEvents, Some(self.events as f64)),
        ]
        .into_iter()
        .filter_map(|(metric, value)| value.map(|v| (metric, v)))
        .collect()
    }
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

/// Sensitivity, PPV, flag rate and net benefit of flagging rows with `p > threshold`, weighted.
pub fn operating_point(p: &[f64], y: &[bool], w: &[f64], threshold: f64) -> OperatingPoint {
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
        net_benefit: net_benefit(p, y, w, threshold),
        net_benefit_treat_all: net_benefit(&vec![1.0; p.len()], y, w, threshold),
    }
}

/// The intervals of the patient bootstrap.
#[derive(Debug, Default)]
struct Intervals {
    auc: Option<Interval>,
    brier: Option<Interval>,
    slope: Option<Interval>,
    intercept: Option<Interval>,
}

/// The 2.5% and 97.5% percentiles of `values`, when at least half the
/// resamples gave one (a resample with one class has no AUC).
fn percentile_interval(mut values: Vec<f64>) -> Option<Interval> {
    if values.len() < BOOTSTRAP_RESAMPLES / 2 {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Some((at(0.025), at(0.975)))
}

/// How many times each of `n` patients is drawn by one bootstrap resample
/// (`n` draws with replacement from `rng`).
pub(crate) fn bootstrap_draws(rng: &mut ChaCha8Rng, n: usize) -> Vec<u32> {
    let mut draws = vec![0u32; n];
    for _ in 0..n {
        draws[rng.gen_range(0..n)] += 1;
    }
    draws
}

/// Resamples patients (`groups`) with replacement; each drawn patient brings
/// all its rows, weighted by the times it was drawn.
fn patient_bootstrap(p: &[f64], y: &[bool], w: &[f64], groups: &[i64], seed: u64) -> Intervals {
    let mut index: BTreeMap<i64, usize> = BTreeMap::new();
    for g in groups {
        let next = index.len();
        index.entry(*g).or_insert(next);
    }
    let patients = index.len();
    if patients == 0 {
        return Intervals::default();
    }
    let patient_of: Vec<usize> = groups.iter().map(|g| index[g]).collect();
    // The resamples are drawn in turn from one generator (so the intervals
    // do not depend on the number of cores) and evaluated in parallel, the
    // rows sorted by probability once for all of them.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Counts as u32: half the memory of all resamples held at once.
    let draws: Vec<Vec<u32>> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| bootstrap_draws(&mut rng, patients))
        .collect();
    let order = score_order(p);
    let resampled = on_all_cores(&draws, |draws| {
        let weights: Vec<f64> = w
            .iter()
            .zip(&patient_of)
            .map(|(w, &k)| w * f64::from(draws[k]))
            .collect();
        evaluate_in_order(p, y, &weights, &order)
    });
    let (mut aucs, mut briers, mut slopes, mut intercepts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for m in resampled {
        aucs.extend(m.auc);
        briers.push(m.brier);
        slopes.extend(m.calibration_slope);
        intercepts.extend(m.calibration_intercept);
    }
    Intervals {
        auc: percentile_interval(aucs),
        brier: percentile_interval(briers),
        slope: percentile_interval(slopes),
        intercept: percentile_interval(intercepts),
    }
}

/// Evaluates rows with positive weight; `groups` gives each row's patient
/// (for the counts and the bootstrap), `thresholds` the operating points.
pub fn full_evaluation(p: &[f64], y: &[bool], w: &[f64], groups: &[i64], thresholds: &[f64], seed: u64) -> Evaluation {
    let intervals = patient_bootstrap(p, y, w, groups, seed);
    let counted: Vec<usize> = (0..p.len()).filter(|&i| w[i] > 0.0).collect();
    let mut patients: Vec<i64> = counted.iter().map(|&i| groups[i]).collect();
    patients.sort_unstable();
    patients.dedup();
    Evaluation {
        metrics: evaluate(p, y, w),
        patients: patients.len(),
        events: counted.iter().filter(|&&i| y[i]).count(),
        auc_ci95: intervals.auc,
        brier_ci95: intervals.brier,
        calibration_slope_ci95: intervals.slope,
        calibration_intercept_ci95: intervals.intercept,
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
        assert!((op.net_benefit - 0.1875).abs() < 1e-12);
        // Flagging everyone: 2/4 - 2/4 * 0.25.
        assert!((op.net_benefit_treat_all - 0.375).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_interval_brackets_the_auc_and_is_deterministic() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let p: Vec<f64> = (0..2000).map(|_| rng.gen::<f64>()).collect();
        let y: Vec<bool> = p.iter().map(|p| rng.gen::<f64>() < *p).collect();
        let w = vec![1.0; p.len()];
        let groups: Vec<i64> = (0..2000).collect();
        let e = full_evaluation(&p, &y, &w, &groups, &[0.1, 0.2], 9);
        let (lo, hi) = e.auc_ci95.unwrap();
        let auc = e.metrics.auc.unwrap();
        assert!(lo < auc && auc < hi && hi - lo < 0.1, "{lo} {auc} {hi}");
        let (lo, hi) = e.calibration_slope_ci95.unwrap();
        let slope = e.metrics.calibration_slope.unwrap();
        assert!(lo < slope && slope < hi, "{lo} {slope} {hi}");
        assert_eq!((e.patients, e.events), (2000, y.iter().filter(|y| **y).count()));
        assert_eq!(e, full_evaluation(&p, &y, &w, &groups, &[0.1, 0.2], 9));
    }

    #[test]
    fn the_bootstrap_resamples_patients_not_rows() {
        // 200 patients with 10 identical rows each: 2,000 rows but 200
        // independent units. Resampling rows would treat them as 2,000 and
        // give an interval about sqrt(10) times too narrow.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (mut p, mut y, mut groups) = (Vec::new(), Vec::new(), Vec::new());
        for patient in 0..200 {
            let risk = rng.gen::<f64>();
            let event = rng.gen::<f64>() < risk;
            for _ in 0..10 {
                p.push(risk);
                y.push(event);
                groups.push(patient);
            }
        }
        let w = vec![1.0; p.len()];
        let width = |groups: &[i64]| {
            let (lo, hi) = full_evaluation(&p, &y, &w, groups, &[], 3).auc_ci95.unwrap();
            hi - lo
        };
        let by_patient = width(&groups);
        let by_row = width(&(0..2000).collect::<Vec<i64>>());
        assert!(by_patient > 2.0 * by_row, "patients {by_patient}, rows {by_row}");
        assert_eq!(full_evaluation(&p, &y, &w, &groups, &[], 3).patients, 200);
    }
}
