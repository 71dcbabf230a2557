//! Calibration maps from an estimator's raw output to a probability.

use serde::{Deserialize, Serialize};

/// One step of an isotonic map: raw outputs at or above `raw` (up to the next
/// step) map to `probability`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsotonicStep {
    /// Lower edge of the step on the raw scale.
    pub raw: f64,
    /// Probability on this step.
    pub probability: f64,
}

/// How raw outputs become probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Calibration {
    /// The logistic function of the raw output (already calibrated log-odds).
    Identity,
    /// Platt scaling: `sigmoid(a * raw + b)`.
    Platt {
        /// Slope.
        a: f64,
        /// Intercept.
        b: f64,
    },
    /// A non-decreasing step function fitted by isotonic regression.
    Isotonic {
        /// Steps in increasing `raw` order.
        steps: Vec<IsotonicStep>,
    },
}

/// The logistic function, `1 / (1 + e^-x)`: log-odds to probability.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Calibration {
    /// The probability for a raw output.
    pub fn apply(&self, raw: f64) -> f64 {
        match self {
            Calibration::Identity => sigmoid(raw),
            Calibration::Platt { a, b } => sigmoid(a * raw + b),
            Calibration::Isotonic { steps } => {
                let i = steps.partition_point(|s| s.raw <= raw);
                steps[i.saturating_sub(1)].probability
            }
        }
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        match self {
            Calibration::Identity => Ok(()),
            Calibration::Platt { a, b } if a.is_finite() && b.is_finite() => Ok(()),
            Calibration::Platt { .. } => Err("non-finite Platt parameters".into()),
            Calibration::Isotonic { steps } => {
                let ordered = steps
                    .windows(2)
                    .all(|w| w[0].raw < w[1].raw && w[0].probability <= w[1].probability);
                let valid = steps
                    .iter()
                    .all(|s| s.raw.is_finite() && (0.0..=1.0).contains(&s.probability));
                if steps.is_empty() || !ordered || !valid {
                    Err("isotonic steps must be non-empty, increasing and within [0, 1]".into())
                } else {
                    Ok(())
                }
            }
        }
    }
}
