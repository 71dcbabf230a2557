//! `carescore-train evaluate`: out-of-sample metrics of an artifact on a table, as JSON.

use anyhow::Context;
use carescore_core::ModelArtifact;
use serde::Serialize;

use crate::args::EvaluateArgs;
use crate::commands::fit::parse_target;
use crate::ingest::{self, Screening};
use crate::training::evaluate_artifact;
use crate::training::{ArtifactEvaluation, FitOptions};

/// What `evaluate` prints.
#[derive(Debug, Serialize)]
struct Evaluation<'a> {
    model: String,
    data: String,
    screening: &'a Screening,
    #[serde(flatten)]
    metrics: ArtifactEvaluation,
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
    let options = FitOptions {
        target,
        seed: args.seed,
        version: artifact.version,
        censoring: args.censoring.into(),
        folds: 2,
        gbdt_leaves: None,
        temporal_holdout: 0.0,
    };
    let metrics = evaluate_artifact(&artifact, &ingested, options)?;
    let evaluation = Evaluation {
        model: artifact.model_version(),
        data: args.data.display().to_string(),
        screening: &ingested.screening,
        metrics,
    };
    println!("{}", serde_json::to_string_pretty(&evaluation)?);
    Ok(())
}
