//! Estimators stored in artifacts and their raw outputs.

use serde::{Deserialize, Serialize};

/// A fitted estimator over the design vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Estimator {
    /// L2-regularised logistic regression; raw output is the log-odds.
    Logistic {
        /// Intercept.
        intercept: f64,
        /// One coefficient per design column.
        coefficients: Vec<f64>,
        /// L2 penalty the model was fitted with.
        l2: f64,
    },
}

impl Estimator {
    /// The raw output (log-odds) for a design vector.
    pub fn raw(&self, design: &[f64]) -> f64 {
        match self {
            Estimator::Logistic {
                intercept,
                coefficients,
                ..
            } => {
                intercept
                    + coefficients
                        .iter()
                        .zip(design)
                        .map(|(c, x)| c * x)
                        .sum::<f64>()
            }
        }
    }

    pub(crate) fn check(&self, width: usize) -> Result<(), String> {
        match self {
            Estimator::Logistic {
                intercept,
                coefficients,
                l2,
            } => {
                if coefficients.len() != width {
                    return Err(format!(
                        "{} coefficients for {width} design columns",
                        coefficients.len()
                    ));
                }
                if !intercept.is_finite()
                    || !l2.is_finite()
                    || coefficients.iter().any(|c| !c.is_finite())
                {
                    return Err("non-finite coefficient".into());
                }
                Ok(())
            }
        }
    }
}
