//! Additive explanations on the estimator's raw scale (log-odds; the mean vote
//! for forests): `base_value + sum of contributions = raw output`, one
//! contribution per feature of the signature. Computed by
//! [`super::CompiledModel::explain`].
//!
//! Exact for logistic models (coefficient times standardised value, with the
//! missing indicator's share added to its feature). For boosted trees, path
//! attribution (Saabas): each split on a row's path credits the change in node
//! value to the split's feature. TreeSHAP would cost far more than the
//! latency budget (BENCHMARKS.md).

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
