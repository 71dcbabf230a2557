//! Command-line arguments of `carescore-train` (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::prepare::options::check_interval_refits;

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
    /// Score a table with an artifact and print its metrics (JSON, or text with `--format text`).
    Evaluate(EvaluateArgs),
    /// Score every row of a table: probability, raw score and top factors per row.
    Predict(PredictArgs),
    /// Compare the model families by repeated patient-grouped k-fold cross-validation (JSON per candidate).
    Cv(CvArgs),
    /// Evaluate an artifact on a table and write an HTML report with plots.
    Report(ReportArgs),
    /// Adapt an artifact to local data by recalibration (kept, in the large,
    /// or logistic, by a closed test); write it as a new version.
    Recalibrate(RecalibrateArgs),
    /// Join the service's audit trail to recorded outcomes and report how the
    /// served models and the shadow challenger did, by month and by organ
    /// (JSON and an HTML page).
    Monitor(MonitorArgs),
    /// Score a cohort and write the programme view: patients per tier and
    /// flag, expected events with their interval, case-manager workload,
    /// events avoided under the policy's assumption, costs (JSON and an HTML page).
    Programme(ProgrammeArgs),
}

/// Arguments of `programme`.
#[derive(Debug, clap::Args)]
pub struct ProgrammeArgs {
    /// The cohort (`.csv` or `.parquet`): one row per patient, the patient
    /// record's columns; outcome columns, when present, are checked against
    /// the expected events.
    #[arg(long)]
    pub data: PathBuf,
    /// Policy file (TOML; default: the built-in policy).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Infection artifact (default: the embedded default model).
    #[arg(long)]
    pub infection_model: Option<PathBuf>,
    /// Readmission artifact (default: the embedded default model).
    #[arg(long)]
    pub readmission_model: Option<PathBuf>,
    /// Censoring handling of the outcome columns, when present.
    #[arg(long, value_enum, default_value_t = CensoringChoice::Ipcw)]
    pub censoring: CensoringChoice,
    /// The HTML page.
    #[arg(long, default_value = "programme.html")]
    pub out: PathBuf,
    /// The view as JSON, if wanted.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Output on stdout: summary lines, or the whole view as JSON.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// Arguments of `monitor`.
#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    /// The service's audit trail (`--audit-log`, JSON lines).
    #[arg(long)]
    pub audit: PathBuf,
    /// The outcomes (`.csv` or `.parquet`): columns case_id, target, event
    /// (1: the event on date; 0: followed until date), date (YYYY-MM-DD),
    /// and optionally organ.
    #[arg(long)]
    pub outcomes: PathBuf,
    /// Name of the environment variable holding the audit trail's salt (the
    /// service's --audit-salt); the salt itself never goes on a command line.
    #[arg(long)]
    pub salt_env: String,
    /// Censoring handling of the labels, as in training.
    #[arg(long, value_enum, default_value_t = CensoringChoice::Ipcw)]
    pub censoring: CensoringChoice,
    /// Directory for `monitor.json` and `monitor.html`.
    #[arg(long, default_value = "monitoring")]
    pub out: PathBuf,
    /// Output on stdout: a summary line per model set and target, or the whole report as JSON.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// Arguments of `recalibrate`.
#[derive(Debug, clap::Args)]
pub struct RecalibrateArgs {
    /// Model artifact to update (`<target>-<version>.json`).
    #[arg(long)]
    pub model: PathBuf,
    /// The training spec, for an artifact trained with `--spec`.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// The local table with outcomes (`.csv` or `.parquet`).
    #[arg(long)]
    pub data: PathBuf,
    /// Output directory; default: the model's own directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Version of the updated artifact; default one above the highest for the target in the output directory.
    #[arg(long)]
    pub version: Option<u32>,
    /// Seed of the cross-validation folds and the bootstrap.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Censoring handling; default: the spec's, else `ipcw`.
    #[arg(long, value_enum)]
    pub censoring: Option<CensoringChoice>,
    /// Output on stdout: the new artifact's path, or a JSON summary.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Model artifact (`<target>-<version>.json`).
    #[arg(long)]
    pub model: PathBuf,
    /// The training spec, for an artifact trained with `--spec`.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Table to evaluate on (`.csv` or `.parquet`).
    #[arg(long)]
    pub data: PathBuf,
    /// The report to write (`.html`).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the bootstrap resampling of the AUC interval.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Censoring handling; default: the spec's, else `ipcw`.
    #[arg(long, value_enum)]
    pub censoring: Option<CensoringChoice>,
    /// Output on stdout: the report's path, or a JSON summary.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// Arguments of `cv`.
#[derive(Debug, clap::Args)]
pub struct CvArgs {
    /// Training table (`.csv` or `.parquet`).
    #[arg(long)]
    pub data: PathBuf,
    /// Target: `infection_180d` or `readmission_30d` (or give `--spec`).
    #[arg(long, required_unless_present = "spec", conflicts_with = "spec")]
    pub target: Option<String>,
    /// Training spec (TOML) for another data set, in place of `--target`.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Folds per repeat (grouped by `patient_id`).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Repeats, each with other folds.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Seed of the first repeat's folds (repeat r uses seed + r).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Censoring handling; default: the spec's, else `ipcw`.
    #[arg(long, value_enum)]
    pub censoring: Option<CensoringChoice>,
    /// Family to compare: `logistic`, `forest`, `gbdt`, or `auto` (every
    /// family, plus the whole `fit --model auto` pipeline nested in the same
    /// folds as candidate `auto`).
    #[arg(long, default_value = "auto")]
    pub model: String,
    /// Output on stdout: one JSON line per candidate, or a table.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
    /// Also write every labelled row's out-of-fold probabilities (`.csv` or
    /// `.parquet`): a line per repeat and row with `repeat`, `fold`, `row`
    /// (the data row, from 0), `patient` (the group number folds keep
    /// together), `label`, `weight` (censoring weight) and a column per
    /// candidate (the families' default settings uncalibrated, `auto`
    /// calibrated), so other learners can be judged on the same folds.
    #[arg(long)]
    pub predictions: Option<PathBuf>,
}

/// Arguments of `predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Model artifact (`<target>-<version>.json`).
    #[arg(long)]
    pub model: PathBuf,
    /// The training spec, for an artifact trained with `--spec`.
    #[arg(long)]
    pub spec: Option<PathBuf>,
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

/// How a command reports its result on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Lines for people.
    Text,
    /// One JSON document, for scripts.
    Json,
}

/// How rows censored before the horizon are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CensoringChoice {
    /// Inverse probability of censoring weights.
    Ipcw,
    /// Drop rows censored before the horizon.
    Drop,
}

impl From<CensoringChoice> for crate::labels::CensoringRule {
    fn from(choice: CensoringChoice) -> Self {
        match choice {
            CensoringChoice::Ipcw => crate::labels::CensoringRule::Ipcw,
            CensoringChoice::Drop => crate::labels::CensoringRule::Drop,
        }
    }
}

/// Arguments of `fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// Training table (`.csv` or `.parquet`).
    #[arg(long)]
    pub data: PathBuf,
    /// Target: `infection_180d` or `readmission_30d` (or give `--spec`).
    #[arg(long, required_unless_present = "spec", conflicts_with = "spec")]
    pub target: Option<String>,
    /// Training spec (TOML) for another data set, in place of `--target`.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Model family: `logistic`, `forest`, `gbdt`, or `auto` (fit each and keep
    /// the lowest held-out Brier score).
    #[arg(long, default_value = "auto")]
    pub model: String,
    /// Output on stdout: the artifact path (`text`) or a JSON summary.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Seed of every random step (fold assignment).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Artifact version; default one above the highest for the target in `--out`.
    #[arg(long)]
    pub version: Option<u32>,
    /// Censoring handling; default: the spec's, else `ipcw`.
    #[arg(long, value_enum)]
    pub censoring: Option<CensoringChoice>,
    /// Cross-validation folds (grouped by `patient_id`).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Share of rows, the latest by `index_date`, kept out of fitting and
    /// reported as a temporal hold-out (0-0.5; 0 disables).
    #[arg(long, default_value_t = 0.2)]
    pub temporal_holdout: f64,
    /// Leaves per boosted tree (2-255); default: chosen from 7, 15 and 31 by the tuning (k-fold, or the validation fold from 20,000 patients).
    #[arg(long, value_parser = clap::value_parser!(u16).range(2..=255))]
    pub gbdt_leaves: Option<u16>,
    /// Below 20,000 patients: refits of the whole pipeline on bootstrap
    /// resamples of the patients, whose spread widens the intervals of the
    /// nested estimate (0 keeps the patient bootstrap's alone, which is
    /// about a fifth too narrow; 10-1000). Each refit runs the nested
    /// cross-validation's `--folds` pipeline fits again.
    #[arg(long, default_value_t = DEFAULT_INTERVAL_REFITS, value_parser = interval_refits)]
    pub interval_refits: usize,
}

/// Default of `fit --interval-refits`.
pub const DEFAULT_INTERVAL_REFITS: usize = 20;

/// Parses `--interval-refits`: 0, or 10 to 1000 (fewer give no usable spread).
fn interval_refits(text: &str) -> Result<usize, String> {
    let refits: usize = text.parse().map_err(|_| format!("`{text}` is not a whole number"))?;
    check_interval_refits(refits).map_err(|e| e.to_string())
}

/// Arguments of `evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Model artifact (`<target>-<version>.json`).
    #[arg(long)]
    pub model: PathBuf,
    /// The training spec, for an artifact trained with `--spec`.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Table to evaluate on (`.csv` or `.parquet`).
    #[arg(long)]
    pub data: PathBuf,
    /// Seed of the bootstrap resampling of the AUC interval.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Censoring handling; default: the spec's, else `ipcw`.
    #[arg(long, value_enum)]
    pub censoring: Option<CensoringChoice>,
    /// Output on stdout: the evaluation as JSON, or a few lines of text.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
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
