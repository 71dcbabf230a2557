//! Model updating: adapting an existing artifact to a centre's own patients
//! by recalibration (TRIPOD+AI item 12g), for centres with too few patients
//! to develop a model of their own.
//!
//! Three candidates on the local rows, each on the log-odds `lp` of the
//! artifact's probability: keep the model; recalibration in the large
//! (`logit p' = a + lp`, one parameter); logistic recalibration
//! (`logit p' = a + b · lp`, two). One is chosen by the closed testing
//! procedure of Vergouwe et al. (Stat Med 2017;36:4529-39): the most
//! extensive update, logistic recalibration, is tested against the kept
//! model (likelihood ratio, 2 degrees of freedom); if it is no better the
//! model is kept; otherwise it is tested against recalibration in the large
//! (1 degree of freedom), which is chosen unless the logistic update is
//! better than it too. Tests are at the 5% level. The likelihoods are
//! weighted by the censoring weights, scaled to sum to the number of
//! patients (a patient's snapshots are not independent), so the tests are
//! approximate.
//!
//! The update is folded into the artifact's calibration map, so the updated
//! model scores, explains and is served like any other version. Its figures
//! on the local data come from cross-validating the whole procedure
//! (choice and fit) by patient, so they are not apparent figures either.

use carescore_core::artifact::{sigmoid, Calibration, IsotonicStep, Metric, ModelArtifact};
use serde::Serialize;

use crate::evaluation::artifact::{assess, score_labelled};
use crate::evaluation::{ArtifactEvaluation, Scored};
use crate::model::regression;
use crate::prepare::folds::grouped_folds;
use crate::prepare::sample_size::check_floor;
use crate::prepare::{labelled, Cohort, FitOptions, TrainError};

/// χ² critical value at 5% with 1 degree of freedom.
const CHI2_1DF_5PCT: f64 = 3.841_458_820_694_124;
/// χ² critical value at 5% with 2 degrees of freedom.
const CHI2_2DF_5PCT: f64 = 5.991_464_547_107_979;
/// Folds of the cross-validation of the update procedure.
pub const UPDATE_FOLDS: usize = 5;

/// The update the closed test chose.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "update", rename_all = "snake_case")]
pub enum Update {
    /// The model is kept as it is.
    Kept,
    /// `logit p' = a + lp`.
    InTheLarge {
        /// The intercept shift.
        a: f64,
    },
    /// `logit p' = a + b · lp`.
    Logistic {
        /// Intercept.
        a: f64,
        /// Slope on the model's log-odds.
        b: f64,
    },
}

impl Update {
    /// Parameters the update re-estimated (0, 1 or 2).
    pub fn parameters(&self) -> usize {
        match self {
            Update::Kept => 0,
            Update::InTheLarge { .. } => 1,
            Update::Logistic { .. } => 2,
        }
    }

    /// `(a, b)` of `logit p' = a + b · lp`.
    fn coefficients(&self) -> (f64, f64) {
        match *self {
            Update::Kept => (0.0, 1.0),
            Update::InTheLarge { a } => (a, 1.0),
            Update::Logistic { a, b } => (a, b),
        }
    }

    /// The updated probability of a probability `p`.
    pub fn apply(&self, p: f64) -> f64 {
        let (a, b) = self.coefficients();
        sigmoid(a + b * logit(p))
    }

    /// The update in words, for the model card and the CLI.
    pub fn describe(&self) -> String {
        match self {
            Update::Kept => "none: the local data do not show the model miscalibrated (kept as it is)".to_string(),
            Update::InTheLarge { a } => format!("recalibration in the large: logit p' = {a:.4} + logit p"),
            Update::Logistic { a, b } => format!("logistic recalibration: logit p' = {a:.4} + {b:.4} · logit p"),
        }
    }
}

/// The likelihood ratio statistics of the closed test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClosedTest {
    /// Logistic recalibration against the kept model (2 df).
    pub logistic_vs_kept: f64,
    /// Recalibration in the large against the kept model (1 df).
    pub in_the_large_vs_kept: f64,
    /// Logistic recalibration against recalibration in the large (1 df).
    pub logistic_vs_in_the_large: f64,
}

/// An updated artifact with the evidence for it.
#[derive(Debug, Clone)]
pub struct Updated {
    /// The new artifact (a new version; calibration map updated, metrics from the local data).
    pub artifact: ModelArtifact,
    /// The update chosen on all local rows.
    pub update: Update,
    /// Its test statistics.
    pub test: ClosedTest,
    /// The original model on the local rows.
    pub before: ArtifactEvaluation,
    /// The original model's probabilities of those rows (in the order of `scored`).
    pub before_p: Vec<f64>,
    /// The update procedure cross-validated by patient on the local rows.
    pub after: ArtifactEvaluation,
    /// The local rows with their cross-validated updated probabilities.
    pub scored: Scored,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}

/// Weighted log-likelihood of probabilities `p`.
fn log_likelihood(p: &[f64], y: &[bool], w: &[f64]) -> f64 {
    p.iter()
        .zip(y)
        .zip(w)
        .map(|((p, y), w)| {
            let p = p.clamp(1e-12, 1.0 - 1e-12);
            w * if *y { p.ln() } else { (1.0 - p).ln() }
        })
        .sum()
}

/// The intercept `a` maximising the likelihood of `sigmoid(a + lp)`. The
/// score (observed minus expected events) falls monotonically in `a`, so
/// bisection finds its root whatever the shift (Newton's method from 0
/// overshoots and diverges once the shift is a couple of logits).
fn intercept_with_offset(lp: &[f64], y: &[bool], w: &[f64]) -> f64 {
    let score = |a: f64| -> f64 {
        (0..lp.len())
            .map(|i| w[i] * (f64::from(u8::from(y[i])) - sigmoid(a + lp[i])))
            .sum()
    };
    let (mut low, mut high) = (-30.0, 30.0);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if score(mid) > 0.0 {
            low = mid;
        } else {
            high = mid;
        }
        if high - low < 1e-12 {
            break;
        }
    }
    0.5 * (low + high)
}

/// Chooses and fits the update on probabilities `p` of labelled rows.
fn choose(p: &[f64], y: &[bool], w: &[f64], patients: usize, target: &str) -> Result<(Update, ClosedTest), TrainError> {
    // Weights scaled to the number of patients, so likelihood ratios count patients.
    let total: f64 = w.iter().sum();
    let w: Vec<f64> = w.iter().map(|w| w * patients as f64 / total).collect();
    let lp: Vec<f64> = p.iter().map(|p| logit(*p)).collect();
    let fit_error = |source| TrainError::Fit {
        target: target.to_string(),
        source,
    };
    let logistic = regression::fit(&lp, 1, y, &w, 0.0).map_err(fit_error)?;
    let (a2, b2) = (logistic.intercept, logistic.coefficients[0]);
    let a1 = intercept_with_offset(&lp, y, &w);
    let ll = |a: f64, b: f64| {
        let q: Vec<f64> = lp.iter().map(|l| sigmoid(a + b * l)).collect();
        log_likelihood(&q, y, &w)
    };
    let (kept, in_the_large, full) = (ll(0.0, 1.0), ll(a1, 1.0), ll(a2, b2));
    let test = ClosedTest {
        logistic_vs_kept: 2.0 * (full - kept),
        in_the_large_vs_kept: 2.0 * (in_the_large - kept),
        logistic_vs_in_the_large: 2.0 * (full - in_the_large),
    };
    let update = if test.logistic_vs_kept < CHI2_2DF_5PCT {
        Update::Kept
    } else if test.logistic_vs_in_the_large < CHI2_1DF_5PCT {
        Update::InTheLarge { a: a1 }
    } else {
        Update::Logistic { a: a2, b: b2 }
    };
    Ok((update, test))
}

/// The artifact's calibration map followed by `update`, as one map.
///
/// # Errors
/// A message when the update reverses the model's ranking (slope at or below 0).
pub fn compose(calibration: &Calibration, update: Update) -> Result<Calibration, String> {
    let (a, b) = update.coefficients();
    if b <= 0.0 {
        return Err(format!(
            "the local data reverse the model's ranking (recalibration slope {b:.3}): the model should not be used \
             for these patients"
        ));
    }
    Ok(match calibration {
        _ if update == Update::Kept => calibration.clone(),
        // sigmoid(a + b · raw) and sigmoid(a + b · (s · raw + t)) are Platt maps.
        Calibration::Identity => Calibration::Platt { a: b, b: a },
        Calibration::Platt { a: s, b: t } => Calibration::Platt { a: b * s, b: a + b * t },
        // A monotone map of each step's probability keeps the steps monotone.
        Calibration::Isotonic { steps } => Calibration::Isotonic {
            steps: steps
                .iter()
                .map(|s| IsotonicStep {
                    raw: s.raw,
                    probability: update.apply(s.probability),
                })
                .collect(),
        },
    })
}

/// Recalibrates `artifact` to the labelled rows of `cohort`, as version
/// `options.version`.
///
/// # Errors
/// [`TrainError`] for unusable outcomes, data below the sample-size floor,
/// or an update that reverses the model's ranking.
pub fn recalibrate(artifact: &ModelArtifact, cohort: &Cohort<'_>, options: FitOptions) -> Result<Updated, TrainError> {
    let dataset = cohort.dataset();
    let data = labelled(cohort, options.target, options.censoring)?;
    let events = data.y.iter().filter(|y| **y).count();
    let too_small = |reason| TrainError::TooSmall {
        target: options.target_name(),
        reason,
    };
    check_floor(data.y.len(), events).map_err(too_small)?;
    let original = score_labelled(artifact, dataset, &data);
    let before = assess(dataset, &original, options);
    let p = original.p;
    let all: Vec<usize> = (0..data.y.len()).collect();
    let patients_of = |rows: &[usize]| {
        let mut groups: Vec<i64> = rows.iter().map(|&i| data.groups[i]).collect();
        groups.sort_unstable();
        groups.dedup();
        groups.len()
    };
    let (update, test) = choose(&p, &data.y, &data.w, patients_of(&all), &options.target_name())?;
    let calibration = compose(&artifact.calibration, update).map_err(too_small)?;

    // The whole procedure (choice and fit) cross-validated by patient.
    let folds = grouped_folds(&data.groups, &data.y, UPDATE_FOLDS, options.seed);
    let mut cross_validated = vec![0.0; p.len()];
    for test_fold in 0..UPDATE_FOLDS {
        let (train, held): (Vec<usize>, Vec<usize>) = all.iter().partition(|&&i| folds[i] != test_fold);
        let pick = |v: &[f64], rows: &[usize]| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let y_train: Vec<bool> = train.iter().map(|&i| data.y[i]).collect();
        let (fold_update, _) = choose(
            &pick(&p, &train),
            &y_train,
            &pick(&data.w, &train),
            patients_of(&train),
            &options.target_name(),
        )?;
        for i in held {
            cross_validated[i] = fold_update.apply(p[i]);
        }
    }
    let scored = Scored::of(&data, &all, cross_validated);
    let after = assess(dataset, &scored, options);

    let mut updated = artifact.clone();
    updated.version = options.version;
    updated.calibration = calibration;
    // Served to this centre's patients: the updated model's probabilities
    // over all their rows, labelled or not, are the reference.
    crate::model::reference::publish_probability(&mut updated, cohort);
    updated.sha256 = String::new();
    updated.metrics = local_metrics(&after, update);
    Ok(Updated {
        artifact: updated,
        update,
        test,
        before,
        before_p: p,
        after,
        scored,
    })
}

/// The updated artifact's figures: the cross-validated procedure on the local rows.
fn local_metrics(after: &ArtifactEvaluation, update: Update) -> std::collections::BTreeMap<String, f64> {
    let (a, b) = update.coefficients();
    after
        .overall
        .headline()
        .into_iter()
        .chain([
            (Metric::NestedCvFolds, UPDATE_FOLDS as f64),
            (Metric::UpdateParameters, update.parameters() as f64),
            (Metric::UpdateIntercept, a),
            (Metric::UpdateSlope, b),
        ])
        .map(|(metric, value)| (metric.name().to_string(), value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn rows(shift: f64, slope: f64) -> (Vec<f64>, Vec<bool>, Vec<f64>) {
        rows_between(0.02, 0.6, shift, slope)
    }

    fn rows_between(low: f64, high: f64, shift: f64, slope: f64) -> (Vec<f64>, Vec<bool>, Vec<f64>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let p: Vec<f64> = (0..5_000).map(|_| rng.gen_range(low..high)).collect();
        let y = p
            .iter()
            .map(|p| rng.gen::<f64>() < sigmoid(shift + slope * logit(*p)))
            .collect();
        (p, y, vec![1.0; 5_000])
    }

    #[test]
    fn the_closed_test_picks_the_update_the_data_need() {
        let (p, y, w) = rows(0.0, 1.0);
        assert_eq!(choose(&p, &y, &w, 5_000, "t").unwrap().0, Update::Kept);
        // Shifts of a fraction of a logit and of several logits alike.
        for shift in [0.8, 3.0, -2.5] {
            let (p, y, w) = rows(shift, 1.0);
            let Update::InTheLarge { a } = choose(&p, &y, &w, 5_000, "t").unwrap().0 else {
                panic!("in the large expected for {shift}")
            };
            assert!((a - shift).abs() < 0.15, "{shift}: {a}");
        }
        // A model predicting 0.1-5% where half the patients have the event: a
        // shift of 4 logits (Newton's method from 0 diverges here).
        let (p, y, w) = rows_between(0.001, 0.05, 4.0, 1.0);
        let Update::InTheLarge { a } = choose(&p, &y, &w, 5_000, "t").unwrap().0 else {
            panic!("in the large expected for a shift of 4")
        };
        assert!((a - 4.0).abs() < 0.2, "{a}");
        let (p, y, w) = rows(0.3, 0.5);
        let Update::Logistic { a, b } = choose(&p, &y, &w, 5_000, "t").unwrap().0 else {
            panic!("logistic expected")
        };
        assert!((b - 0.5).abs() < 0.1 && (a - 0.3).abs() < 0.15, "{a} {b}");
    }

    #[test]
    fn the_composed_map_is_the_update_after_the_map() {
        let update = Update::Logistic { a: 0.4, b: 0.7 };
        let maps = [
            Calibration::Identity,
            Calibration::Platt { a: 1.3, b: -0.2 },
            Calibration::Isotonic {
                steps: vec![
                    IsotonicStep {
                        raw: -1.0,
                        probability: 0.1,
                    },
                    IsotonicStep {
                        raw: 0.5,
                        probability: 0.4,
                    },
                ],
            },
        ];
        for map in maps {
            let composed = compose(&map, update).unwrap();
            for raw in [-2.0, -0.3, 0.0, 0.7, 2.5] {
                let expected = update.apply(map.apply(raw));
                assert!((composed.apply(raw) - expected).abs() < 1e-9, "{map:?} at {raw}");
            }
        }
        assert!(compose(&Calibration::Identity, Update::Logistic { a: 0.0, b: -0.1 }).is_err());
        assert_eq!(compose(&Calibration::Identity, Update::Kept), Ok(Calibration::Identity));
    }
}
