//! `carescore-train evaluate`: out-of-sample metrics of an artifact on a table, as JSON.

use anyhow::Context;
use carescore_core::ModelArtifact;
use serde::Serialize;

use crate::args::EvaluateArgs;
use crate::commands::{load_table, scoring_options, target_of_artifact};
use crate::ingest::Screening;
use crate::training::evaluate_artifact;
use crate::training::ArtifactEvaluation;

/// What `evaluate` prints.
#[derive(Debug, Serialize)]
struct Evaluation<'a> {
    model: String,
    data: String,
    screening: &'a Screening,
    #[serde(flatten)]
    metrics: ArtifactEvaluation,
}

/// Reads and verifies an artifact file.
///
/// # Errors
/// An unreadable file or a refused artifact, naming the file.
pub fn load_artifact(path: &std::path::Path) -> anyhow::Result<ModelArtifact> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read the artifact", path.display()))?;
    ModelArtifact::from_json(&bytes).with_context(|| format!("{}", path.display()))
}

/// Runs `evaluate`.
///
/// # Errors
/// An unreadable or refused artifact, or unusable data.
pub fn run(args: &EvaluateArgs) -> anyhow::Result<()> {
    let artifact = load_artifact(&args.model)?;
    let target = target_of_artifact(&artifact, args.spec.as_deref())?;
    let ingested = load_table(&args.data, target)?;
    let options = scoring_options(&artifact, target, args.seed, args.censoring);
    let (_, metrics) = evaluate_artifact(&artifact, &ingested, options)?;
    let evaluation = Evaluation {
        model: artifact.model_version(),
        data: args.data.display().to_string(),
        screening: &ingested.screening,
        metrics,
    };
    println!("{}", serde_json::to_string_pretty(&evaluation)?);
    Ok(())
}
