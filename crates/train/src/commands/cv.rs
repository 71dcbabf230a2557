//! `carescore-train cv`: repeated stratified, patient-grouped k-fold
//! cross-validation of the model families; one JSON line per candidate on
//! stdout (or a table with `--format text`), and with `--predictions` every
//! row's out-of-fold probabilities.

use std::time::Instant;

use anyhow::bail;
use polars::prelude::{Column, DataFrame};

use crate::args::{CvArgs, OutputFormat};
use crate::commands::{
    censoring_of, check_options, check_table_path, load_table, parse_families, say, target_from_args, write_table,
};
use crate::evaluation::{cross_validate, OutOfFold};
use crate::ingest::Dataset;
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
    if let Some(path) = &args.predictions {
        check_table_path(path)?;
    }
    let started = Instant::now();
    let dataset = load_table(&args.data, target, Reading::WithOutcome)?;
    let stage = Stage::start(format!(
        "cross-validating {} family(ies), {} x {} folds",
        families.len(),
        args.repeats,
        args.folds
    ));
    let cohort = Cohort::all(&dataset);
    let cv = cross_validate(&cohort, options, args.repeats, &families, &|name| {
        eprintln!("cv: {name} done ({:.1} s)", started.elapsed().as_secs_f64())
    })?;
    stage.finish();
    let (mut results, mut out_of_fold) = (cv.results, cv.out_of_fold);
    if args.model == AUTO {
        // The whole auto pipeline (selection, tuning, calibration) nested in the same folds.
        let stage = Stage::start(format!(
            "cross-validating the auto pipeline, {} x {} folds",
            args.repeats, args.folds
        ));
        let (result, probabilities) =
            cross_validate_pipeline(&cohort, options, args.repeats, &families, &mut |done, total| {
                if done == total {
                    eprintln!("cv: {AUTO} done ({:.1} s)", started.elapsed().as_secs_f64());
                }
            })?;
        results.push(result);
        out_of_fold.candidates.push((AUTO, probabilities));
        stage.finish();
    }
    if let Some(path) = &args.predictions {
        write_table(
            path,
            &mut predictions_table(&dataset, &out_of_fold)?,
            "out-of-fold predictions",
        )?;
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

/// The out-of-fold probabilities as a table: a line per repeat and labelled
/// row, with its fold, data row, patient, label, censoring weight and each
/// candidate's probability.
fn predictions_table(dataset: &Dataset, oof: &OutOfFold) -> anyhow::Result<DataFrame> {
    let rows = oof.data.y.len();
    // Every row gets one probability per repeat, from the fit without its fold.
    for (name, per_repeat) in &oof.candidates {
        if per_repeat.len() != oof.folds.len() || per_repeat.iter().flatten().any(|p| !p.is_finite()) {
            bail!("the out-of-fold probabilities of {name} do not cover every cross-validated row");
        }
    }
    let height = rows * oof.folds.len();
    // A row's own value, once per repeat (the file lists every repeat in turn).
    fn each_repeat<T>(oof: &OutOfFold, value: impl Fn(usize) -> T) -> Vec<T> {
        oof.folds
            .iter()
            .flat_map(|_| (0..oof.data.y.len()).map(&value))
            .collect()
    }
    let mut columns = vec![
        Column::new(
            "repeat".into(),
            (0..oof.folds.len() as u32)
                .flat_map(|r| std::iter::repeat_n(r, rows))
                .collect::<Vec<u32>>(),
        ),
        Column::new(
            "fold".into(),
            oof.folds.iter().flatten().map(|&f| f as u32).collect::<Vec<u32>>(),
        ),
        Column::new(
            "row".into(),
            each_repeat(oof, |i| dataset.rows[oof.data.records[i]] as u64),
        ),
        Column::new("patient".into(), each_repeat(oof, |i| oof.data.groups[i])),
        Column::new("label".into(), each_repeat(oof, |i| u32::from(oof.data.y[i]))),
        Column::new("weight".into(), each_repeat(oof, |i| oof.data.w[i])),
    ];
    for (name, per_repeat) in &oof.candidates {
        columns.push(Column::new((*name).into(), per_repeat.concat()));
    }
    Ok(DataFrame::new(height, columns)?)
}
