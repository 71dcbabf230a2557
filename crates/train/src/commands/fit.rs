//! `carescore-train fit`: ingest, label, fit each requested model family,
//! calibrate, keep the best, and write `<target>-<version>.json` (the
//! artifact), `.model-card.md` and `.report.html`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use std::io::Write;

use crate::args::{FitArgs, OutputFormat};
use crate::atomic::write_atomically;
use crate::commands::{
    censoring_of, check_options, file_name, load_table, next_version, parse_families, say, target_from_args, write_html,
};
use crate::ingest::Reading;
use crate::model_card;
use crate::prepare::{Cohort, FitOptions};
use crate::progress::Stage;
use crate::report::{render, ReportInput};
use crate::training::internal_validation::{fit_and_validate, Pass};
use crate::training::selection::Progress;

/// Runs `fit`.
///
/// # Errors
/// Bad options, unusable data, or a write failure, each with context.
pub fn run(args: &FitArgs) -> anyhow::Result<()> {
    let target = target_from_args(args.target.as_deref(), args.spec.as_deref())?;
    let families = parse_families(&args.model)?;
    let version = args.version.unwrap_or_else(|| next_version(&args.out, target.name()));
    let options = FitOptions {
        target,
        seed: args.seed,
        version,
        censoring: censoring_of(args.censoring, target),
        folds: args.folds,
        gbdt_leaves: args.gbdt_leaves.map(usize::from),
        temporal_holdout: args.temporal_holdout,
    };
    check_options(&options)?;
    let started = Instant::now();
    let dataset = load_table(&args.data, target, Reading::WithOutcome)?;
    let ingest_seconds = started.elapsed().as_secs_f64();
    let mut stage: Option<Stage> = None;
    let validated = fit_and_validate(
        &Cohort::all(&dataset),
        options,
        &families,
        args.interval_refits,
        &mut |pass, event| match event {
            Progress::Fitting(family) => {
                let which = match pass {
                    Pass::Outer { fold, folds } => format!("validation fit {fold} of {folds}"),
                    Pass::Refits { refits } => format!("{refits} refits on bootstrap resamples, for the intervals"),
                    Pass::Final => "delivered model".to_string(),
                };
                stage = Some(Stage::start(format!("fitting {family} ({}, {which})", target.name())));
            }
            Progress::Fitted(_) => stage.take().into_iter().for_each(Stage::finish),
        },
    )?;
    if let Some(warning) = validated.sample_size.warning() {
        eprintln!("warning: {warning}");
    }
    if let Some(warning) = validated.validation.spread.and_then(|s| s.warning()) {
        eprintln!("warning: {warning}");
    }
    let selection = &validated.selection;
    for (family, kept) in &selection.not_offered {
        eprintln!("{family} learned nothing ({kept}) and is not offered");
    }
    if let Some(held_back) = &selection.held_back {
        eprintln!("{}", held_back.describe());
    }
    if let Some(warning) = selection.chosen.calibration_choice.warning() {
        eprintln!("warning: {warning}");
    }
    if selection.candidates.len() > 1 {
        let scores: Vec<String> = selection
            .candidates
            .iter()
            .map(|c| match c.standard_error {
                Some(se) => format!("{} {:.5} ± {se:.5}", c.family, c.brier),
                None => format!("{} {:.5}", c.family, c.brier),
            })
            .collect();
        eprintln!(
            "model selection ({}): {}; chose {}",
            selection.method.describe(),
            scores.join(", "),
            selection.chosen.family
        );
    }
    let fitted = &selection.chosen;
    let validation = &validated.validation;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output directory", args.out.display()))?;
    let stem = format!("{}-{}", target.name(), version);
    let artifact_path: PathBuf = args.out.join(format!("{stem}.json"));
    let card_path: PathBuf = args.out.join(format!("{stem}.model-card.md"));
    let json = fitted.artifact.to_json();
    write_atomically(&artifact_path, |w| w.write_all(json.as_bytes()))
        .with_context(|| format!("{}: cannot write the artifact", artifact_path.display()))?;
    let saved =
        carescore_core::ModelArtifact::from_json(json.as_bytes()).context("the written artifact does not load")?;
    let report_path: PathBuf = args.out.join(format!("{stem}.report.html"));
    let source = format!("patients the model did not see, by {}", validation.method.describe());
    let widened = validation
        .spread
        .and_then(|s| s.describe())
        .map(|w| format!("the overall intervals are widened, {w}; the subgroups' are the patient bootstrap's alone"));
    let html = render(&ReportInput {
        artifact: &saved,
        source: &source,
        data_name: &file_name(&args.data),
        description: Some(&format!(
            "{} {}",
            fitted.description,
            model_card::calibration_text(fitted)
        )),
        scored: &validation.scored,
        records: &dataset.records,
        evaluation: &validation.assessment,
        temporal: fitted.temporal.as_ref(),
        screening: &fitted.screening,
        intervals_widened: widened.as_deref(),
    })?;
    write_html(&report_path, &html)?;
    let card = model_card::render(&validated, &args.data, &dataset.records);
    write_atomically(&card_path, |w| w.write_all(card.as_bytes()))
        .with_context(|| format!("{}: cannot write the model card", card_path.display()))?;

    let e = &validation.assessment.overall;
    let v = &e.metrics;
    let with_ci = |value: Option<f64>, ci: Option<(f64, f64)>| {
        let value = value.map_or("n/a".into(), |a| format!("{a:.3}"));
        ci.map_or(value.clone(), |(lo, hi)| format!("{value} (95% CI {lo:.3}-{hi:.3})"))
    };
    eprintln!(
        "{}: {} rows read, {} excluded, {} labelled ({} patients) fitted a {} model",
        fitted.artifact.model_version(),
        fitted.screening.rows_read,
        fitted.screening.rows_excluded,
        fitted.labelled_rows,
        fitted.patients,
        fitted.family,
    );
    eprintln!(
        "on patients it did not see ({}; {} patients, {} events): AUC {}, calibration slope {}, Brier {:.4}, ECE {:.4}",
        validation.method.describe(),
        e.patients,
        e.events,
        with_ci(v.auc, e.auc_ci95),
        with_ci(v.calibration_slope, e.calibration_slope_ci95),
        v.brier,
        v.ece,
    );
    eprintln!(
        "time: ingestion and screening {ingest_seconds:.1} s, estimator {:.1} s, total {:.1} s",
        fitted.estimator_seconds,
        started.elapsed().as_secs_f64()
    );
    match args.format {
        OutputFormat::Text => say(artifact_path.display())?,
        OutputFormat::Json => {
            let summary = serde_json::json!({
                "artifact": artifact_path,
                "model_card": card_path,
                "report": report_path,
                "model_version": fitted.artifact.model_version(),
                "family": fitted.family,
                "rows_read": fitted.screening.rows_read,
                "rows_excluded": fitted.screening.rows_excluded,
                "labelled_rows": fitted.labelled_rows,
                "patients": fitted.patients,
                "validation": validation.method,
                "sample_size": validated.sample_size,
                "not_offered": selection.not_offered,
                "held_back": selection.held_back,
                "selection": {"method": selection.method, "candidates": selection.candidates},
                "metrics": fitted.artifact.metrics,
                "tuning": fitted.tuning,
                "seconds": {
                    "ingestion": ingest_seconds,
                    "estimator": fitted.estimator_seconds,
                    "total": started.elapsed().as_secs_f64(),
                },
            });
            say(summary)?;
        }
    }
    Ok(())
}
