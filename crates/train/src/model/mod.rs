//! Model fitting: the design matrix, the weighted L2 logistic regression, the
//! choice of its penalty by patient-grouped cross-validation, and Platt
//! calibration on out-of-fold predictions.

pub mod design;
pub mod folds;
pub mod gbdt;
pub mod logistic;
pub mod platt;
