//! Estimators stored in artifacts and their raw outputs.

use serde::{Deserialize, Serialize};

use super::encode::DesignKind;
use super::tree::Tree;

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
    /// Gradient-boosted trees over the raw design (missing values as NaN);
    /// raw output is the log-odds `base_score + sum of tree values`.
    BoostedTrees {
        /// Starting log-odds.
        base_score: f64,
        /// The trees, in boosting order.
        trees: Vec<Tree>,
        /// Learning rate the trees were fitted with (already in their values).
        learning_rate: f64,
    },
    /// A random forest over the raw design (missing values as NaN); raw output
    /// is the mean of the trees' values, each the event share of a leaf (a
    /// probability before calibration, not log-odds).
    RandomForest {
        /// The trees; their values are averaged.
        trees: Vec<Tree>,
    },
}

/// The sum of the trees' leaf values for a row, in tree order: what the
/// trainers score with. [`super::CompiledModel`] sums in exactly this order,
/// so training and serving agree bit for bit.
pub fn leaf_sum(trees: &[Tree], design: &[f64]) -> f64 {
    let mut sum = 0.0;
    for tree in trees {
        sum += tree.predict(design);
    }
    sum
}

/// `intercept + coefficients . design`: a logistic model's log-odds.
pub(crate) fn linear_raw(intercept: f64, coefficients: &[f64], design: &[f64]) -> f64 {
    intercept + coefficients.iter().zip(design).map(|(c, x)| c * x).sum::<f64>()
}

impl Estimator {
    /// Whether the estimator gives every row the same raw output: a logistic
    /// model with no non-zero coefficient, or trees none of which splits (a
    /// booster that kept no tree, a forest whose trees found no split).
    pub fn is_constant(&self) -> bool {
        match self {
            Estimator::Logistic { coefficients, .. } => coefficients.iter().all(|c| *c == 0.0),
            Estimator::BoostedTrees { trees, .. } | Estimator::RandomForest { trees } => trees
                .iter()
                .all(|tree| tree.feature.first().is_none_or(|f| *f == super::LEAF)),
        }
    }

    /// The design vector the estimator reads.
    pub fn design_kind(&self) -> DesignKind {
        match self {
            Estimator::Logistic { .. } => DesignKind::Linear,
            Estimator::BoostedTrees { .. } | Estimator::RandomForest { .. } => DesignKind::Raw,
        }
    }

    pub(crate) fn check(&self, width: usize, raw_width: usize) -> Result<(), String> {
        match self {
            Estimator::BoostedTrees {
                base_score,
                trees,
                learning_rate,
            } => {
                if !base_score.is_finite() || !learning_rate.is_finite() {
                    return Err("non-finite base score or learning rate".into());
                }
                trees
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, t)| t.check(raw_width).map_err(|e| format!("tree {i}: {e}")))
            }
            Estimator::RandomForest { trees } => {
                if trees.is_empty() {
                    return Err("a random forest needs at least one tree".into());
                }
                trees
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, t)| t.check(raw_width).map_err(|e| format!("tree {i}: {e}")))
            }
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
                if !intercept.is_finite() || !l2.is_finite() || coefficients.iter().any(|c| !c.is_finite()) {
                    return Err("non-finite coefficient".into());
                }
                Ok(())
            }
        }
    }
}
