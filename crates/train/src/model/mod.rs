//! Model fitting: the design matrix, the weighted L2 logistic regression,
//! gradient-boosted trees, random forests, patient-grouped folds, the log
//! loss, and the calibration of raw scores (Platt or isotonic). The choice of
//! a family's settings (the logistic penalty, the boosted trees' leaves)
//! lives with the family in [`crate::family`].

pub mod calibrate;
pub mod design;
pub mod folds;
pub mod forest;
pub mod gbdt;
pub mod logistic;
pub mod loss;
pub mod platt;
pub mod trees;
