//! # carescore-train
//!
//! The offline side of CareScore, used by data scientists: it generates the
//! synthetic historical cohort that serves as ground truth ([`synth`]),
//! ingests and screens training tables with the service's own validation
//! ([`ingest`]), builds censoring-aware labels with IPCW weights ([`labels`]),
//! fits the model families ([`family`]: logistic regression, random forest,
//! gradient-boosted trees) with calibration ([`training`]), evaluates them
//! ([`evaluation`], [`cv`]) and writes artifacts, model cards ([`model_card`])
//! and HTML reports ([`report`]). Other data sets train through TOML specs
//! ([`spec`]).
//!
//! The `carescore-train` binary is a thin command-line layer over this library.
#![forbid(unsafe_code)]

pub mod args;
pub mod atomic;
pub mod commands;
pub mod cv;
pub mod evaluation;
pub mod family;
pub mod ingest;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod model_card;
pub mod prepare;
pub mod progress;
pub mod report;
pub mod rows;
pub mod spec;
pub mod synth;
pub mod table;
pub mod target;
pub mod training;
