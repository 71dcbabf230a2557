//! `carescore-train recalibrate`: adapts an artifact to a centre's own
//! patients ([`crate::training::update`]) and writes the updated model as a
//! new version, `<target>-<version>.json`, with its model card.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::args::{OutputFormat, RecalibrateArgs};
use crate::atomic::write_atomically;
use crate::commands::{
    check_options, load_artifact, load_table, next_version, say, scoring_options, target_of_artifact,
};
use crate::ingest::Reading;
use crate::model_card;
use crate::prepare::{Cohort, FitOptions};
use crate::progress::Stage;
use crate::training::update::recalibrate;

/// Runs `recalibrate`.
///
/// # Errors
/// An unreadable or refused artifact, unusable data, or a write failure.
pub fn run(args: &RecalibrateArgs) -> anyhow::Result<()> {
    let artifact = load_artifact(&args.model)?;
    let target = target_of_artifact(&artifact, args.spec.as_deref())?;
    let out: PathBuf = match &args.out {
        Some(dir) => dir.clone(),
        None => args.model.parent().map(PathBuf::from).unwrap_or_default(),
    };
    let version = args.version.unwrap_or_else(|| next_version(&out, target.name()));
    let options = FitOptions {
        version,
        ..scoring_options(&artifact, target, args.seed, args.censoring)
    };
    check_options(&options)?;
    let dataset = load_table(&args.data, target, Reading::WithOutcome)?;
    let stage = Stage::start("recalibrating on the local data");
    let updated = recalibrate(&artifact, &Cohort::all(&dataset), options)?;
    stage.finish();

    std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create the output directory", out.display()))?;
    let stem = format!("{}-{version}", target.name());
    let artifact_path = out.join(format!("{stem}.json"));
    if artifact_path.exists() {
        anyhow::bail!(
            "{}: already exists (pick another --version, or leave it out for the next free one)",
            artifact_path.display()
        );
    }
    let json = updated.artifact.to_json();
    write_atomically(&artifact_path, |w| w.write_all(json.as_bytes()))
        .with_context(|| format!("{}: cannot write the artifact", artifact_path.display()))?;
    let saved =
        carescore_core::ModelArtifact::from_json(json.as_bytes()).context("the written artifact does not load")?;
    let card_path = out.join(format!("{stem}.model-card.md"));
    let card = model_card::render_update(&artifact, &saved, &updated, &args.data);
    write_atomically(&card_path, |w| w.write_all(card.as_bytes()))
        .with_context(|| format!("{}: cannot write the model card", card_path.display()))?;

    let (before, after) = (&updated.before.overall, &updated.after.overall);
    // Calibration in the large: observed minus mean predicted risk, weighted.
    let gap_before = before.metrics.event_rate - weighted_mean(&updated.before_p, &updated.scored.w);
    let gap_after = after.metrics.event_rate - weighted_mean(&updated.scored.p, &updated.scored.w);
    eprintln!(
        "{} → {}: {} ({} patients, {} events); observed minus predicted risk {:+.4} before, {:+.4} after \
         (cross-validated); calibration slope {} before, {} after",
        artifact.model_version(),
        saved.model_version(),
        updated.update.describe(),
        before.patients,
        before.events,
        gap_before,
        gap_after,
        before
            .metrics
            .calibration_slope
            .map_or("n/a".into(), |s| format!("{s:.3}")),
        after
            .metrics
            .calibration_slope
            .map_or("n/a".into(), |s| format!("{s:.3}")),
    );
    match args.format {
        OutputFormat::Text => say(artifact_path.display())?,
        OutputFormat::Json => say(serde_json::json!({
            "artifact": artifact_path,
            "model_card": card_path,
            "model_version": saved.model_version(),
            "updated_from": artifact.model_version(),
            "update": updated.update,
            "closed_test": updated.test,
            "observed_minus_predicted": {"before": gap_before, "after": gap_after},
            "before": before,
            "after": after,
        }))?,
    }
    Ok(())
}

/// The weighted mean of `p`.
fn weighted_mean(p: &[f64], w: &[f64]) -> f64 {
    let total: f64 = w.iter().sum();
    p.iter().zip(w).map(|(p, w)| p * w).sum::<f64>() / total.max(f64::MIN_POSITIVE)
}
