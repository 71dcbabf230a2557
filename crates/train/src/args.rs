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
