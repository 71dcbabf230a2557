//! # carescore-train
//!
//! The offline side of CareScore, used by data scientists: it generates the
//! synthetic historical cohort that serves as ground truth ([`synth`]) and
//! writes training tables as CSV or Parquet ([`table`]), and builds
//! censoring-aware fixed-horizon labels with IPCW weights ([`labels`]). Later stages
//! (ingestion, censoring-aware labels, fitting, calibration, evaluation,
//! reports) build on these.
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
pub mod progress;
pub mod report;
pub mod rows;
pub mod spec;
pub mod synth;
pub mod table;
pub mod target;
pub mod training;
