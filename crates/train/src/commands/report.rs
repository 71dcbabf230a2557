//! `carescore-train report`: evaluates an artifact on a table and writes the
//! HTML report (the same page `fit` writes next to each artifact).

use anyhow::bail;

use crate::args::{OutputFormat, ReportArgs};
use crate::commands::{file_name, load_artifact, load_table, say, scoring_options, target_of_artifact, write_html};
use crate::evaluation::evaluate_artifact;
use crate::ingest::Reading;
use crate::prepare::Cohort;
use crate::progress::Stage;
use crate::report::{render, ReportInput};

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
    let dataset = load_table(&args.data, target, Reading::WithOutcome)?;
    let options = scoring_options(&artifact, target, args.seed, args.censoring);
    let stage = Stage::start("scoring and drawing the report");
    let (scored, evaluation) = evaluate_artifact(&artifact, &Cohort::all(&dataset), options)?;
    let html = render(&ReportInput {
        artifact: &artifact,
        source: "every row with a known label at the horizon",
        data_name: &file_name(&args.data),
        description: None,
        scored: &scored,
        records: &dataset.records,
        evaluation: &evaluation,
        temporal: None,
        screening: &dataset.screening,
        intervals_widened: None,
    })?;
    stage.finish();
    write_html(&args.out, &html)?;
    match args.format {
        OutputFormat::Text => say(args.out.display())?,
        OutputFormat::Json => say(serde_json::json!({
            "report": args.out,
            "model_version": artifact.model_version(),
            "data": args.data,
        }))?,
    }
    Ok(())
}
