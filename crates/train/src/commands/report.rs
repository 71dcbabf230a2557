//! `carescore-train report`: evaluates an artifact on a table and writes the
//! HTML report (the same page `fit` writes next to each artifact).

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};

use crate::args::ReportArgs;
use crate::atomic::write_atomically;
use crate::commands::evaluate::load_artifact;
use crate::commands::{load_table, scoring_options, target_of_artifact};
use crate::progress::Stage;
use crate::report::{render, ReportInput};
use crate::training::evaluate_artifact;

/// The file name of `path`, for display without the directory.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Writes `html` to `path` atomically.
///
/// # Errors
/// A write failure, naming the file.
pub fn write_html(path: &Path, html: &str) -> anyhow::Result<()> {
    write_atomically(path, |w| w.write_all(html.as_bytes()))
        .with_context(|| format!("{}: cannot write the report", path.display()))
}

/// Runs `report`.
///
/// # Errors
/// An unreadable or refused artifact, unusable data, or a write failure.
pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    if args.out.extension().and_then(|e| e.to_str()) != Some("html") {
        bail!("{}: the report must be an `.html` file", args.out.display());
    }
    let artifact = load_artifact(&args.model)?;
    let target = target_of_artifact(&artifact, args.spec.as_deref())?;
    let ingested = load_table(&args.data, target)?;
    let options = scoring_options(&artifact, target, args.seed, args.censoring);
    let stage = Stage::start("scoring and drawing the report");
    let (scored, evaluation) = evaluate_artifact(&artifact, &ingested, options)?;
    let html = render(&ReportInput {
        artifact: &artifact,
        source: "every row with a known label at the horizon",
        data_name: &file_name(&args.data),
        description: None,
        scored: &scored,
        records: &ingested.records,
        evaluation: &evaluation,
        temporal: None,
        screening: &ingested.screening,
    })?;
    stage.finish();
    write_html(&args.out, &html)?;
    println!("{}", args.out.display());
    Ok(())
}
