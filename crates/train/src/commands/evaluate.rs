//! `carescore-train evaluate`: out-of-sample metrics of an artifact on a
//! table, as JSON (default) or as a few lines for people.

use serde::Serialize;

use crate::args::{EvaluateArgs, OutputFormat};
use crate::commands::{load_artifact, load_table, say, scoring_options, target_of_artifact};
use crate::evaluation::{evaluate_artifact, ArtifactEvaluation};
use crate::ingest::Reading;
use crate::ingest::Screening;
use crate::prepare::Cohort;

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
    let artifact = load_artifact(&args.model)?;
    let target = target_of_artifact(&artifact, args.spec.as_deref())?;
    let dataset = load_table(&args.data, target, Reading::WithOutcome)?;
    let options = scoring_options(&artifact, target, args.seed, args.censoring);
    let (_, metrics) = evaluate_artifact(&artifact, &Cohort::all(&dataset), options)?;
    let evaluation = Evaluation {
        model: artifact.model_version(),
        data: args.data.display().to_string(),
        screening: &dataset.screening,
        metrics,
    };
    match args.format {
        OutputFormat::Json => say(serde_json::to_string_pretty(&evaluation)?)?,
        OutputFormat::Text => {
            let m = &evaluation.metrics.overall.metrics;
            let optional = |x: Option<f64>| x.map_or_else(|| "n/a".to_string(), |x| format!("{x:.3}"));
            say(format_args!("model {} on {}", evaluation.model, evaluation.data))?;
            say(format_args!(
                "rows {} (excluded {}), event rate {:.3}",
                m.rows, evaluation.screening.rows_excluded, m.event_rate
            ))?;
            say(format_args!(
                "auc {}, brier {:.4}, calibration slope {}, intercept {}, ece {:.4}",
                optional(m.auc),
                m.brier,
                optional(m.calibration_slope),
                optional(m.calibration_intercept),
                m.ece
            ))?;
        }
    }
    Ok(())
}
