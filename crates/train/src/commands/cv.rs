//! `carescore-train cv`: one JSON line per candidate on stdout.

use std::time::Instant;

use anyhow::bail;

use crate::args::CvArgs;
use crate::commands::fit::parse_target;
use crate::cv::{cross_validate, Candidate};
use crate::ingest;
use crate::training::FitOptions;

/// Runs `cv`.
///
/// # Errors
/// Bad options or unusable data.
pub fn run(args: &CvArgs) -> anyhow::Result<()> {
    let target = parse_target(&args.target)?;
    if args.folds < 2 {
        bail!("--folds must be at least 2");
    }
    if args.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    let started = Instant::now();
    let ingested = ingest::load(&args.data)?;
    let options = FitOptions {
        target,
        seed: args.seed,
        version: 1,
        censoring: args.censoring.into(),
        folds: args.folds,
        gbdt_leaves: None,
        temporal_holdout: 0.0,
    };
    let results = cross_validate(
        &ingested,
        options,
        args.repeats,
        &[Candidate::Logistic, Candidate::Gbdt],
    )?;
    for result in &results {
        println!("{}", serde_json::to_string(result)?);
    }
    eprintln!(
        "cv: {} x {} folds in {:.1} s",
        args.repeats,
        args.folds,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
