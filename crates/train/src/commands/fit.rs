//! `carescore-train fit`: ingest, label, cross-validate, calibrate, and write
//! `<target>-<version>.json` (the artifact) and `.model-card.md`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use std::io::Write;

use crate::args::{FitArgs, ModelChoice};
use crate::atomic::write_atomically;
use crate::ingest;
use crate::model_card;
use crate::target::Target;
use crate::training::{fit_gbdt, fit_logistic, FitOptions};

/// The next version for `target` in `dir`: one above the highest `<target>-<N>.json`.
pub fn next_version(dir: &Path, target: &str) -> u32 {
    let prefix = format!("{target}-");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_prefix(&prefix)?.strip_suffix(".json")?.parse::<u32>().ok()
        })
        .max()
        .map_or(1, |v| v + 1)
}

/// Parses a target name with an error listing the allowed ones.
pub fn parse_target(name: &str) -> anyhow::Result<Target> {
    Target::from_name(name).with_context(|| {
        let allowed: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        format!("unknown target {name:?} (allowed: {})", allowed.join(", "))
    })
}

/// Runs `fit`.
///
/// # Errors
/// Bad options, unusable data, or a write failure, each with context.
pub fn run(args: &FitArgs) -> anyhow::Result<()> {
    let target = parse_target(&args.target)?;
    if args.folds < 2 {
        bail!("--folds must be at least 2");
    }
    if !(0.0..=0.5).contains(&args.temporal_holdout) {
        bail!("--temporal-holdout must be between 0 and 0.5 (the share of latest rows kept out of fitting)");
    }
    if args.version == Some(0) {
        bail!("--version must be a positive integer");
    }
    let started = Instant::now();
    let ingested = ingest::load(&args.data)?;
    let ingest_seconds = started.elapsed().as_secs_f64();
    let version = args.version.unwrap_or_else(|| next_version(&args.out, target.name()));
    let options = FitOptions {
        target,
        seed: args.seed,
        version,
        censoring: args.censoring.into(),
        folds: args.folds,
        gbdt_leaves: args.gbdt_leaves.map(usize::from),
        temporal_holdout: args.temporal_holdout,
    };
    let fitted = match args.model {
        ModelChoice::Logistic => fit_logistic(&ingested, options)?,
        ModelChoice::Gbdt => fit_gbdt(&ingested, options)?,
        ModelChoice::Auto => {
            let logistic = fit_logistic(&ingested, options)?;
            let boosted = fit_gbdt(&ingested, options)?;
            eprintln!(
                "held-out Brier: logistic {:.5}, boosted trees {:.5}",
                logistic.validation.brier, boosted.validation.brier
            );
            if boosted.validation.brier < logistic.validation.brier {
                boosted
            } else {
                logistic
            }
        }
    };

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output directory", args.out.display()))?;
    let stem = format!("{}-{}", target.name(), version);
    let artifact_path: PathBuf = args.out.join(format!("{stem}.json"));
    let card_path: PathBuf = args.out.join(format!("{stem}.model-card.md"));
    let json = fitted.artifact.to_json();
    write_atomically(&artifact_path, |w| w.write_all(json.as_bytes()))
        .with_context(|| format!("{}: cannot write the artifact", artifact_path.display()))?;
    let card = model_card::render(&fitted, &args.data);
    write_atomically(&card_path, |w| w.write_all(card.as_bytes()))
        .with_context(|| format!("{}: cannot write the model card", card_path.display()))?;

    let v = &fitted.validation;
    eprintln!(
        "{}: {} rows read, {} excluded, {} labelled; held-out AUC {}, calibration slope {}, ECE {:.4} ({:.1} s)",
        fitted.artifact.model_version(),
        fitted.screening.rows_read,
        fitted.screening.rows_excluded,
        fitted.labelled_rows,
        v.auc.map_or("n/a".into(), |a| format!("{a:.3}")),
        v.calibration_slope.map_or("n/a".into(), |a| format!("{a:.3}")),
        v.ece,
        started.elapsed().as_secs_f64()
    );
    eprintln!(
        "time: ingestion and screening {ingest_seconds:.1} s, estimator {:.1} s, total {:.1} s",
        fitted.estimator_seconds,
        started.elapsed().as_secs_f64()
    );
    println!("{}", artifact_path.display());
    Ok(())
}
