//! # carescore-train
//!
//! The offline side of CareScore, used by data scientists. The modules, in
//! the order data flows through them:
//!
//! 1. **Data in**: training specs ([`spec`]), the synthetic cohort that
//!    serves as ground truth ([`synth`]), CSV/Parquet tables ([`table`]),
//!    prediction targets ([`target`]) and the rows a table holds ([`rows`]).
//! 2. **Ingestion** ([`ingest`]): a table read and screened with the
//!    service's own validation into one typed [`Dataset`]; nothing after it
//!    reads the table.
//! 3. **Labels** ([`labels`]): censoring-aware labels at the horizon with
//!    IPCW weights.
//! 4. **Preparation** ([`prepare`]): the options of a fit, the [`Cohort`]
//!    of patients it uses, the labelled rows, the temporal hold-out, the
//!    feature signature and the patient-grouped folds.
//! 5. **Model families** ([`family`]: logistic regression, random forest,
//!    gradient-boosted trees) on shared numerics ([`model`]).
//! 6. **Training** ([`training`]): a family fitted, tuned and calibrated on a
//!    cohort ([`fit`]), and the choice among families ([`select`]).
//! 7. **Evaluation** ([`evaluation`]): metrics, the full evaluation, curves,
//!    an artifact scored on a table, cross-validation.
//! 8. **Out**: participants' characteristics ([`characteristics`]), model
//!    cards ([`model_card`]) and HTML reports ([`report`]);
//!    the artifact itself is `carescore_core::ModelArtifact`.
//! 9. **In service** ([`monitoring`]): the service's logged predictions
//!    joined to the outcomes recorded later, evaluated over time.
//! 10. **Planning** ([`programme`]): a cohort scored into the programme
//!     view (tiers, expected events, workload, events avoided), checked
//!     against the cohort's outcomes when it has them.
//!
//! The `carescore-train` binary is a thin command-line layer over this
//! library ([`args`], [`commands`]).
#![forbid(unsafe_code)]

// 1. Data in.
pub mod rows;
pub mod spec;
pub mod synth;
pub mod table;
pub mod target;

// 2. Ingestion into one typed dataset.
pub mod ingest;

// 3. Labels.
pub mod labels;

// 4. Preparation of a fit.
pub mod prepare;

// 5. The numerics and the model families on them.
pub mod family;
pub mod model;

// 6. Fitting with calibration, and model selection.
pub mod training;

// 7. Evaluation.
pub mod evaluation;

// 8. Out: participants' characteristics, model cards and reports.
pub mod characteristics;
pub mod model_card;
pub mod report;

// 9. Outcome monitoring of served models.
pub mod monitoring;
// 10. Planning.
pub mod programme;

// The command line and its helpers.
pub mod args;
mod atomic;
pub mod commands;
mod progress;

// Independent work shared out over the cores.
mod cores;

// The pipeline's entry points, in order.
pub use evaluation::{cross_validate, evaluate_artifact, ArtifactEvaluation, Evaluation, Metrics, Scored};
pub use family::{family, ModelFamily, FAMILIES};
pub use ingest::{load, Dataset, Reading};
pub use prepare::{prepare, Cohort, FitOptions, Prepared, TrainError};
pub use target::Target;
pub use training::selection::{select, Selection};
pub use training::{fit, Fitted};
