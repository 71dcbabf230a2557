//! # carescore-train
//!
//! The offline side of CareScore, used by data scientists: it generates the
//! synthetic historical cohort that serves as ground truth ([`synth`]),
//! ingests and screens training tables with the service's own validation
//! into one typed [`ingest::Dataset`] ([`ingest`]), builds censoring-aware
//! labels with IPCW weights ([`labels`]), prepares the rows, signature and
//! patient-grouped folds of a fit ([`prepare`]), fits the model families
//! ([`family`]: logistic regression, random forest, gradient-boosted trees,
//! on the numerics of [`model`]) with calibration ([`training`]), evaluates them
//! ([`evaluation`], [`cv`]) and writes artifacts, model cards ([`model_card`])
//! and HTML reports ([`report`]). Other data sets train through TOML specs
//! ([`spec`]).
//!
//! The `carescore-train` binary is a thin command-line layer over this library.
#![forbid(unsafe_code)]

// The pipeline, in order (rustfmt keeps each group as written).
// 1. Data in: specs, the synthetic cohort, tables, targets, rows.
pub mod spec;
pub mod synth;
pub mod table;
pub mod target;

pub mod rows;

// 2. Ingestion into one typed dataset.
pub mod ingest;

// 3. Labels and the preparation of a fit.
pub mod labels;

pub mod prepare;

// 4. The numerics and the model families on them.
pub mod model;

pub mod family;

// 5. Fitting with calibration.
pub mod training;

// 6. Evaluation: metrics, the full evaluation, cross-validation.
pub mod metrics;

pub mod evaluation;

pub mod cv;

// 7. Out: model cards and reports.
pub mod model_card;
pub mod report;

// The command line and its helpers.
pub mod args;
pub mod atomic;
pub mod commands;
pub mod progress;
