//! One module per subcommand of `carescore-train`. What several commands
//! need (the target, the table, the artifact, the families, writing results)
//! lives here, so no command imports another.

pub mod cv;
pub mod evaluate;
pub mod fit;
pub mod monitor;
pub mod predict;
pub mod programme;
pub mod recalibrate;
pub mod report;
pub mod synth;

use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use carescore_core::ModelArtifact;

use polars::prelude::{CsvWriter, DataFrame, ParquetWriter, PolarsError, SerWriter};

use crate::atomic::{parent_dir, write_atomically};
use crate::family::{family, family_names, ModelFamily, FAMILIES};

use crate::args::{CensoringChoice, Cli, Command};
use crate::ingest::{Dataset, Reading};
use crate::labels::CensoringRule;
use crate::prepare::options::{MAX_GBDT_LEAVES, MAX_TEMPORAL_HOLDOUT};
use crate::prepare::{FitOptions, OptionError};
use crate::spec::Spec;
use crate::table::TableFormat;
use crate::target::Target;

/// Standard output was closed by its reader (`carescore-train evaluate ... | head`).
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct ClosedOutput;

/// Writes one line of a command's results to standard output. A closed
/// output is [`ClosedOutput`], which the entry point ends quietly on, never
/// a panic.
///
/// # Errors
/// [`ClosedOutput`], or another write failure.
pub fn say(line: impl std::fmt::Display) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            anyhow::Error::new(ClosedOutput)
        } else {
            anyhow::Error::new(e).context("cannot write to standard output")
        }
    })
}

/// Whether `error` is standard output closed by its reader (and nothing else).
pub fn is_closed_output(error: &anyhow::Error) -> bool {
    error.downcast_ref::<ClosedOutput>().is_some()
}

/// The families `--model` names: one, or all for `auto`.
///
/// # Errors
/// An unknown name, listing the allowed ones.
pub fn parse_families(name: &str) -> anyhow::Result<Vec<&'static dyn ModelFamily>> {
    if name == crate::training::internal_validation::AUTO {
        return Ok(FAMILIES.to_vec());
    }
    let family = family(name)
        .with_context(|| format!("unknown model {name:?} (allowed: auto, {})", family_names().join(", ")))?;
    Ok(vec![family])
}

/// Reads and verifies an artifact file.
///
/// # Errors
/// An unreadable file or a refused artifact, naming the file.
pub fn load_artifact(path: &Path) -> anyhow::Result<ModelArtifact> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read the artifact", path.display()))?;
    ModelArtifact::from_json(&bytes).with_context(|| format!("{}", path.display()))
}

/// The file name of `path`, for display without the directory.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Writes the HTML report `html` to `path` atomically.
///
/// # Errors
/// A write failure, naming the file.
pub fn write_html(path: &Path, html: &str) -> anyhow::Result<()> {
    write_atomically(path, |w| w.write_all(html.as_bytes()))
        .with_context(|| format!("{}: cannot write the report", path.display()))
}

/// Checks that a file can be written to `path` (in a directory that
/// exists) before any work starts.
///
/// # Errors
/// A missing directory.
pub fn check_output_dir(path: &Path) -> anyhow::Result<()> {
    if !parent_dir(path).is_dir() {
        bail!("{}: directory does not exist", parent_dir(path).display());
    }
    Ok(())
}

/// Checks that an output table can be written to `path` (`.csv` or
/// `.parquet`, in a directory that exists) before any work starts.
///
/// # Errors
/// Another file type, or a missing directory.
pub fn check_table_path(path: &Path) -> anyhow::Result<()> {
    TableFormat::from_path(path)?;
    check_output_dir(path)
}

/// Writes `frame` to `path` (CSV or Parquet by its extension) atomically;
/// `what` names the content in an error.
///
/// # Errors
/// Another file type, or a write failure, naming the file.
pub fn write_table(path: &Path, frame: &mut DataFrame, what: &str) -> anyhow::Result<()> {
    let format = TableFormat::from_path(path)?;
    write_atomically(path, |w| -> Result<(), PolarsError> {
        match format {
            TableFormat::Csv => CsvWriter::new(w).finish(frame),
            TableFormat::Parquet => ParquetWriter::new(w).finish(frame).map(|_| ()),
        }
    })
    .with_context(|| format!("{}: cannot write the {what}", path.display()))
}

/// Parses a built-in target name with an error listing the allowed ones.
///
/// # Errors
/// An unknown name.
pub fn parse_target(name: &str) -> anyhow::Result<Target> {
    Target::from_name(name).with_context(|| {
        let allowed: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        format!(
            "unknown target {name:?} (allowed: {}; other data sets train with --spec FILE)",
            allowed.join(", ")
        )
    })
}

/// The target of `fit` and `cv`: `--target NAME` or `--spec FILE` (clap ensures exactly one).
///
/// # Errors
/// An unknown target or an unreadable or invalid spec.
pub fn target_from_args(target: Option<&str>, spec: Option<&Path>) -> anyhow::Result<Target> {
    match (target, spec) {
        (_, Some(path)) => Ok(Target::from_spec(Spec::load(path)?)),
        (Some(name), None) => parse_target(name),
        (None, None) => bail!("give --target NAME or --spec FILE"),
    }
}

/// The target an artifact predicts: a built-in one, or the spec given with
/// `--spec`, which must name the artifact's target.
///
/// # Errors
/// A spec for another target, or a spec-trained artifact without its spec.
pub fn target_of_artifact(artifact: &ModelArtifact, spec: Option<&Path>) -> anyhow::Result<Target> {
    match spec {
        Some(path) => {
            let target = Target::from_spec(Spec::load(path)?);
            if target.name() != artifact.target {
                bail!(
                    "{}: the spec is for target `{}`, the artifact predicts `{}`",
                    path.display(),
                    target.name(),
                    artifact.target
                );
            }
            Ok(target)
        }
        None => Target::from_name(&artifact.target).with_context(|| {
            format!(
                "the artifact predicts `{}`, not a built-in target: pass the spec it was trained with (--spec FILE)",
                artifact.target
            )
        }),
    }
}

/// Reads and screens `data` for `target` (with its outcome columns, or
/// features only), showing a spinner.
///
/// # Errors
/// A missing, unreadable or unusable table, naming the problem.
pub fn load_table(data: &Path, target: Target, reading: Reading) -> anyhow::Result<Dataset> {
    let stage = crate::progress::Stage::start(format!("reading and screening {}", data.display()));
    let dataset = crate::ingest::load(data, target, reading)?;
    stage.finish();
    Ok(dataset)
}

/// Checks the options of a fit before any work starts, naming the flag at
/// fault ([`FitOptions::check`] holds the ranges).
///
/// # Errors
/// The first option out of range.
pub fn check_options(options: &FitOptions) -> anyhow::Result<()> {
    options.check().map_err(|error| {
        anyhow::anyhow!(match error {
            OptionError::Folds(_) => "--folds must be at least 2".to_string(),
            OptionError::TemporalHoldout(_) => format!(
                "--temporal-holdout must be between 0 and {MAX_TEMPORAL_HOLDOUT} (the share of latest rows kept out of fitting)"
            ),
            OptionError::Version => "--version must be a positive integer".to_string(),
            OptionError::GbdtLeaves(_) => format!("--gbdt-leaves must be between 2 and {MAX_GBDT_LEAVES}"),
            // Not a field of the options: `fit_and_validate` checks it, clap first.
            OptionError::IntervalRefits(n) => format!("--interval-refits must be 0 or 10 to 1000 (got {n})"),
        })
    })
}

/// The next version for `target` in `dir`: one above the highest `<target>-<N>.json`.
pub fn next_version(dir: &Path, target: &str) -> u32 {
    let prefix = format!("{target}-");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_prefix(&prefix)?.strip_suffix(".json")?.parse::<u32>().ok()
        })
        .max()
        .map_or(1, |v| v + 1)
}

/// Options for scoring an existing artifact (`evaluate`, `report`): only the
/// target, the bootstrap seed and the censoring matter; nothing is fitted.
pub fn scoring_options(
    artifact: &ModelArtifact,
    target: Target,
    seed: u64,
    censoring: Option<CensoringChoice>,
) -> FitOptions {
    FitOptions {
        target,
        seed,
        version: artifact.version,
        censoring: censoring_of(censoring, target),
        folds: 2,
        gbdt_leaves: None,
        temporal_holdout: 0.0,
    }
}

/// The censoring handling: `--censoring` if given, else the spec's, else IPCW.
pub fn censoring_of(choice: Option<CensoringChoice>, target: Target) -> CensoringRule {
    match (choice, target.spec()) {
        (Some(choice), _) => choice.into(),
        (None, Some(spec)) => spec.censoring(),
        (None, None) => CensoringRule::Ipcw,
    }
}

/// Runs the parsed command line.
///
/// # Errors
/// Whatever the subcommand reports, with context naming the input at fault.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Synth(args) => synth::run(&args),
        Command::Fit(args) => fit::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Cv(args) => cv::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Recalibrate(args) => recalibrate::run(&args),
        Command::Monitor(args) => monitor::run(&args),
        Command::Programme(args) => programme::run(&args),
    }
}
