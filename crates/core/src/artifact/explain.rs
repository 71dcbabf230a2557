//! Additive explanations on the estimator's raw scale (log-odds; the mean vote
//! for forests): `base_value + sum of contributions = raw output`, one
//! contribution per feature of the signature. Computed by
//! [`super::CompiledModel::explain`].
//!
//! Exact for logistic models (coefficient times standardised value, with the
//! missing indicator's share added to its feature). For boosted trees and
//! forests, exact path-dependent TreeSHAP ([`super::tree_shap`]; the values
//! the `shap` package's `TreeExplainer` gives for these trees with their
//! covers, and the quantity LightGBM's `pred_contrib` computes for its own
//! trees): the players are the trees' design columns, and a feature's
//! contribution is the sum of its columns' values (a category's one-hot
//! columns), as `shap` users add up one-hot encodings.
//! The base value is the trees' expected output over their training covers.

use serde::Serialize;

use super::estimator::Estimator;

/// How an answer's contributions were computed (the `explanation` member of
/// every risk and model score). The list may grow within `/v1`: read an
/// unknown method as "an additive explanation on `scale`".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExplanationMethod {
    /// Exact path-dependent TreeSHAP (boosted trees, forests).
    TreeShap,
    /// Coefficient times standardised value (logistic regression).
    Linear,
}

impl ExplanationMethod {
    /// The method that explains `estimator`'s answers.
    pub fn of(estimator: &Estimator) -> ExplanationMethod {
        match estimator {
            Estimator::Logistic { .. } => ExplanationMethod::Linear,
            Estimator::BoostedTrees { .. } | Estimator::RandomForest { .. } => ExplanationMethod::TreeShap,
        }
    }
}

/// An additive explanation of one row's raw output.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The raw output with no feature information (the intercept, or the
    /// trees' expected output over their training covers).
    pub base_value: f64,
    /// The raw output for the row.
    pub raw: f64,
    /// One contribution per feature, in signature order.
    pub contributions: Vec<f64>,
}
