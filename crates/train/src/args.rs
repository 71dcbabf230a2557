//! Command-line arguments of `carescore-train` (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// CareScore offline tool: synthetic cohorts and model training.
#[derive(Debug, Parser)]
#[command(name = "carescore-train", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a synthetic historical cohort of transplant recipients (CSV or Parquet).
    Synth(SynthArgs),
    /// Fit, cross-validate and calibrate a model; write its artifact and model card.
    Fit(FitArgs),
    /// Score a table with an artifact and print its metrics as JSON.
    Evaluate(EvaluateArgs),
    /// Score every row of a table: probability, log-odds and top factors per row.
    Predict(PredictArgs),
    /// Compare the model families by repeated patient-grouped k-fold cross-validation (JSON per candidate).
    Cv(CvArgs),
}

/// Arguments of `cv`.
#[derive(Debug, clap::Args)]
pub struct CvArgs {
    /// Training table (`.csv` or `.parquet`).
    #[arg(long)]
    pub data: PathBuf,
    /// Target: `infection_180d` or `readmission_30d`.
    #[arg(long)]
    pub target: String,
    /// Folds per repeat (grouped by `patient_id`).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Repeats, each with other folds.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Seed of the first repeat's folds (repeat r uses seed + r).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Censoring handling.
    #[arg(long, value_enum, default_value_t = CensoringChoice::Ipcw)]
    pub censoring: CensoringChoice,
}

/// Arguments of `predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Model artifact (`<target>-<version>.json`).
    #[arg(long)]
    pub model: PathBuf,
    /// Table to score (`.csv` or `.parquet`).
    #[arg(long)]
    pub data: PathBuf,
    /// Output table (`.csv` or `.parquet`).
    #[arg(long)]
    pub out: PathBuf,
    /// Top factors listed per row.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
}

/// Model families `fit` can train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelChoice {
    /// Fit every family and keep the one with the lowest held-out Brier score.
    Auto,
    /// L2-regularised logistic regression (IPCW-weighted).
    Logistic,
    /// Gradient-boosted trees (histogram binning, early stopping).
    Gbdt,
}

/// How rows censored before the horizon are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CensoringChoice {
    /// Inverse probability of censoring weights.
    Ipcw,
    /// Drop rows censored before the horizon.
    Drop,
}

impl From<CensoringChoice> for crate::labels::Censoring {
    fn from(choice: CensoringChoice) -> Self {
        match choice {
            CensoringChoice::Ipcw => crate::labels::Censoring::Ipcw,
            CensoringChoice::Drop => crate::labels::Censoring::Drop,
        }
    }
}

/// Arguments of `fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// Training table (`.csv` or `.parquet`).
    #[arg(long)]
    pub data: PathBuf,
    /// Target: `infection_180d` or `readmission_30d`.
    #[arg(long)]
    pub target: String,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Model family.
    #[arg(long, value_enum, default_value_t = ModelChoice::Auto)]
    pub model: ModelChoice,
    /// Seed of every random step (fold assignment).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Artifact version; default one above the highest for the target in `--out`.
    #[arg(long)]
    pub version: Option<u32>,
    /// Censoring handling.
    #[arg(long, value_enum, default_value_t = CensoringChoice::Ipcw)]
    pub censoring: CensoringChoice,
    /// Cross-validation folds (grouped by `patient_id`).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Share of rows, the latest by `index_date`, kept out of fitting and
    /// reported as a temporal hold-out (0-0.5; 0 disables).
    #[arg(long, default_value_t = 0.2)]
    pub temporal_holdout: f64,
    /// Leaves per boosted tree (2-255); default: chosen from 7, 15 and 31 on the validation fold.
    #[arg(long, value_parser = clap::value_parser!(u16).range(2..=255))]
    pub gbdt_leaves: Option<u16>,
}

/// Arguments of `evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Model artifact (`<target>-<version>.json`).
    #[arg(long)]
    pub model: PathBuf,
    /// Table to evaluate on (`.csv` or `.parquet`).
    #[arg(long)]
    pub data: PathBuf,
    /// Seed of the bootstrap resampling of the AUC interval.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Censoring handling.
    #[arg(long, value_enum, default_value_t = CensoringChoice::Ipcw)]
    pub censoring: CensoringChoice,
}

/// Arguments of `synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Number of rows (patient snapshots) to generate; at least 1.
    #[arg(long)]
    pub rows: usize,
    /// Seed of the random stream: the same seed gives a byte-identical file.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output file; `.csv` or `.parquet` picks the format.
    #[arg(long)]
    pub out: PathBuf,
    /// Target share of rows lost to follow-up before 180 days (0-0.9).
    #[arg(long, default_value_t = crate::synth::SynthConfig::DEFAULT_DROPOUT_RATE)]
    pub dropout_rate: f64,
    /// Do not print the cohort summary.
    #[arg(long)]
    pub quiet: bool,
}
