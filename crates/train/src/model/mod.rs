//! Model fitting: the design matrix, the weighted L2 logistic regression, the
//! choice of its penalty by patient-grouped cross-validation, gradient-boosted
//! trees, and the calibration of raw scores (Platt or isotonic).

pub mod calibrate;
pub mod design;
pub mod folds;
pub mod forest;
pub mod gbdt;
pub mod logistic;
pub mod platt;
