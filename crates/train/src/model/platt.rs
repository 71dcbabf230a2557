//! Platt scaling: a weighted one-feature logistic regression of the label on
//! the model's raw output, fitted on out-of-fold predictions.

use super::regression::{fit, FitError};

/// Fits `sigmoid(a · raw + b)` and returns `(a, b)`.
///
/// # Errors
/// [`FitError`] if the labels have one class.
pub fn fit_platt(raw: &[f64], y: &[bool], w: &[f64]) -> Result<(f64, f64), FitError> {
    let model = fit(raw, 1, y, w, 0.0)?;
    Ok((model.coefficients[0], model.intercept))
}
