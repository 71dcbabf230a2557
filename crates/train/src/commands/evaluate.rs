//! `carescore-train evaluate`: out-of-sample metrics of an artifact on a table, as JSON.

use anyhow::Context;
use carescore_core::ModelArtifact;
use serde::Serialize;

use crate::args::EvaluateArgs;
use crate::commands::fit::parse_target;
use crate::ingest::{self, Screening};
use crate::metrics::Metrics;
use crate::training::evaluate_artifact;

/// What `evaluate` prints.
#[derive(Debug, Serialize)]
struct Evaluation<'a> {
    model: String,
    data: String,
    screening: &'a Screening,
    #[serde(flatten)]
    metrics: Metrics,
}

/// Runs `evaluate`.
///
/// # Errors
/// An unreadable or refused artifact, or unusable data.
pub fn run(args: &EvaluateArgs) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.model).with_context(|| format!("{}: cannot read the artifact", args.model.display()))?;
    let artifact = ModelArtifact::from_json(&bytes).with_context(|| format!("{}", args.model.display()))?;
    let target = parse_target(&artifact.target)?;
    let ingested = ingest::load(&args.data)?;
    let metrics = evaluate_artifact(&artifact, &ingested, target, args.censoring.into())?;
    let evaluation = Evaluation {
        model: artifact.model_version(),
        data: args.data.display().to_string(),
        screening: &ingested.screening,
        metrics,
    };
    println!("{}", serde_json::to_string_pretty(&evaluation)?);
    Ok(())
}
