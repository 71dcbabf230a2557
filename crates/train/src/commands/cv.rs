//! `carescore-train cv`: repeated stratified, patient-grouped k-fold
//! cross-validation of the model families; one JSON line per candidate on
//! stdout (or a table with `--format text`).

use std::time::Instant;

use anyhow::bail;

use crate::args::{CvArgs, OutputFormat};
use crate::commands::{censoring_of, check_options, load_table, parse_families, say, target_from_args};
use crate::evaluation::cross_validate;
use crate::ingest::Reading;
use crate::prepare::{Cohort, FitOptions};
use crate::progress::Stage;
use crate::training::internal_validation::{cross_validate_pipeline, AUTO};

/// Runs `cv`.
///
/// # Errors
/// Bad options or unusable data.
pub fn run(args: &CvArgs) -> anyhow::Result<()> {
    let target = target_from_args(args.target.as_deref(), args.spec.as_deref())?;
    let families = parse_families(&args.model)?;
    if args.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    let options = FitOptions {
        target,
        seed: args.seed,
        version: 1,
        censoring: censoring_of(args.censoring, target),
        folds: args.folds,
        gbdt_leaves: None,
        temporal_holdout: 0.0,
    };
    check_options(&options)?;
    let started = Instant::now();
    let dataset = load_table(&args.data, target, Reading::WithOutcome)?;
    let stage = Stage::start(format!(
        "cross-validating {} family(ies), {} x {} folds",
        families.len(),
        args.repeats,
        args.folds
    ));
    let cohort = Cohort::all(&dataset);
    let mut results = cross_validate(&cohort, options, args.repeats, &families, &|name| {
        eprintln!("cv: {name} done ({:.1} s)", started.elapsed().as_secs_f64())
    })?;
    stage.finish();
    if args.model == AUTO {
        // The whole auto pipeline (selection, tuning, calibration) nested in the same folds.
        let stage = Stage::start(format!(
            "cross-validating the auto pipeline, {} x {} folds",
            args.repeats, args.folds
        ));
        results.push(cross_validate_pipeline(
            &cohort,
            options,
            args.repeats,
            &families,
            &mut |done, total| {
                if done == total {
                    eprintln!("cv: {AUTO} done ({:.1} s)", started.elapsed().as_secs_f64());
                }
            },
        )?);
        stage.finish();
    }
    match args.format {
        OutputFormat::Json => {
            for result in &results {
                say(serde_json::to_string(result)?)?;
            }
        }
        OutputFormat::Text => {
            say(format_args!(
                "{:<10} {:>6} {:>7} {:>7} {:>7} {:>7} {:>9} {:>7}",
                "candidate", "evals", "auc", "auc_sd", "brier", "slope", "intercept", "ece"
            ))?;
            for r in &results {
                say(format_args!(
                    "{:<10} {:>6} {:>7.4} {:>7.4} {:>7.4} {:>7.3} {:>9.3} {:>7.4}",
                    r.candidate,
                    r.evaluations,
                    r.auc,
                    r.auc_sd,
                    r.brier,
                    r.calibration_slope,
                    r.calibration_intercept,
                    r.ece
                ))?;
            }
        }
    }
    eprintln!(
        "cv: {} x {} folds in {:.1} s",
        args.repeats,
        args.folds,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
