//! Everything measured about predictions, in one place: the metrics
//! (discrimination, Brier score, calibration; [`metrics`]), the full
//! evaluation TRIPOD+AI asks for (bootstrap interval, net benefit, operating
//! points; [`full`]), the spread of the nested estimate over refits of the
//! pipeline ([`refit_spread`]), performance by subgroup ([`subgroups`]), the curves the
//! report draws ([`curves`]), an artifact scored and evaluated on a table
//! ([`artifact`]), and repeated cross-validation of the families
//! ([`cross_validation`]).

pub mod artifact;
pub mod cross_validation;
pub mod curves;
pub mod full;
pub mod metrics;
pub mod refit_spread;
pub mod subgroups;

pub use artifact::{evaluate_artifact, score_table, ArtifactEvaluation, Scored};
pub use cross_validation::{cross_validate, CrossValidation, CvResult, OutOfFold};
pub use full::{full_evaluation, Evaluation, Interval, OperatingPoint};
pub use metrics::Metrics;
pub use refit_spread::RefitSpread;
