//! Additive explanations on the estimator's raw scale (log-odds; the mean vote
//! for forests): `base_value + sum of contributions = raw output`, one
//! contribution per feature of the signature.
//!
//! Exact for logistic models (coefficient times standardised value, with the
//! missing indicator's share added to its feature). For boosted trees, path
//! attribution (Saabas): each split on a row's path credits the change in node
//! value to the split's feature. TreeSHAP would cost far more than the
//! latency budget (DESIGN.md section 5).

use super::encode::{self, DesignKind, FeatureSpec, Row};
use super::estimator::Estimator;
use super::tree::LEAF;
use super::ModelArtifact;

/// An additive explanation of one row's raw output.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The raw output with no feature information (intercept, or tree roots).
    pub base_value: f64,
    /// The raw output for the row.
    pub raw: f64,
    /// One contribution per feature, in signature order.
    pub contributions: Vec<f64>,
}

/// For each design column, the index of the feature it belongs to.
fn column_owners(features: &[FeatureSpec], kind: DesignKind) -> Vec<usize> {
    features
        .iter()
        .enumerate()
        .flat_map(|(i, f)| std::iter::repeat_n(i, f.width_in(kind)))
        .collect()
}

/// Adds each split's change in node value along the row's path to its
/// feature's contribution (Saabas); returns the sums of the root values and
/// of the leaf values (the latter in [`super::estimator::leaf_sum`]'s order).
fn attribute_paths(
    trees: &[super::tree::Tree],
    design: &[f64],
    owners: &[usize],
    contributions: &mut [f64],
) -> (f64, f64) {
    let (mut roots, mut leaves) = (0.0, 0.0);
    for tree in trees {
        roots += tree.value[0];
        let mut node = 0usize;
        while tree.feature[node] != LEAF {
            let column = tree.feature[node] as usize;
            let next = tree.child(node, design);
            contributions[owners[column]] += tree.value[next] - tree.value[node];
            node = next;
        }
        leaves += tree.value[node];
    }
    (roots, leaves)
}

impl ModelArtifact {
    /// Explains the raw output for one row.
    pub fn explain(&self, row: &dyn Row) -> Explanation {
        let mut contributions = vec![0.0; self.features.len()];
        let kind = self.estimator.design_kind();
        let design = encode::design_row(&self.features, kind, row);
        let owners = column_owners(&self.features, kind);
        match &self.estimator {
            Estimator::Logistic {
                intercept,
                coefficients,
                ..
            } => {
                // The same sum, in the same order, as scoring: explanations never move the score.
                let raw = self.estimator.raw(&design);
                for ((c, x), owner) in coefficients.iter().zip(&design).zip(&owners) {
                    contributions[*owner] += c * x;
                }
                Explanation {
                    base_value: *intercept,
                    raw,
                    contributions,
                }
            }
            Estimator::BoostedTrees { base_score, trees, .. } => {
                let (roots, leaves) = attribute_paths(trees, &design, &owners, &mut contributions);
                Explanation {
                    base_value: base_score + roots,
                    // One walk gives both; `leaf_sum`'s order, so equal to scoring bit for bit.
                    raw: base_score + leaves,
                    contributions,
                }
            }
            Estimator::RandomForest { trees } => {
                let n = trees.len().max(1) as f64;
                let (roots, leaves) = attribute_paths(trees, &design, &owners, &mut contributions);
                let (base_value, raw) = (roots / n, leaves / n);
                for c in &mut contributions {
                    *c /= n;
                }
                Explanation {
                    base_value,
                    raw,
                    contributions,
                }
            }
        }
    }
}
