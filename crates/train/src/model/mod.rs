//! The numerics the model families and the calibration share: the design
//! matrix, the weighted L2 logistic regression solver (the logistic family,
//! Platt scaling and the calibration slope use it), the histogram tree
//! grower (boosting and forests use it), the log loss, and the calibration
//! of raw scores (Platt or isotonic), and the reference distributions an
//! artifact publishes. Each family's own algorithm and tuning
//! live in its folder of [`crate::family`]; the patient-grouped folds belong
//! to the preparation of a fit ([`crate::prepare::folds`]).

pub mod calibrate;
pub mod design;
pub mod loss;
pub mod platt;
pub mod reference;
pub mod regression;
pub mod trees;
