//! Internal validation of the whole fitting pipeline: the figures a user
//! reads (artifact metrics, model card, report, CLI, `/v1/models`) estimate
//! how the pipeline's model does on patients it never saw.
//!
//! Model selection, tuning, early stopping and calibration all look at the
//! rows they hold out, so those rows' figures are optimistic (on a small
//! table, very much so). Instead:
//!
//! - with at least [`HOLDOUT_MIN_PATIENTS`] patients, one patient in
//!   [`HOLDOUT_FOLDS`] is set aside untouched ([`Method::PatientHoldout`]);
//!   the delivered model is fitted without them and scored on them, so the
//!   figure is the delivered model's own;
//! - with fewer, the pipeline runs nested in patient-grouped cross-validation
//!   ([`Method::NestedCrossValidation`]): refitted from scratch without each
//!   outer fold's patients and scored on them, the pooled predictions give
//!   the figure, and the delivered model is the pipeline fitted on everyone
//!   (Steyerberg, Clinical Prediction Models, 2nd ed., ch. 17; TRIPOD+AI 12e).
//!
//! Either way the intervals come from a bootstrap over patients, and the
//! numbers of patients and events stand beside them. Nested
//! cross-validation's are widened by the spread of its estimate over
//! refits of the pipeline on bootstrap resamples
//! ([`crate::evaluation::refit_spread`]): the patient bootstrap holds the
//! fitted models fixed and alone is about a fifth too narrow. The sample size is
//! checked first: too few rows or events are refused, fewer than Riley's
//! criteria ask for are warned about ([`crate::prepare::sample_size`]).

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use carescore_core::artifact::{Metric, ModelArtifact};
use serde::Serialize;

use super::selection::{select, Progress, Selection};
use crate::cores::on_all_cores;
use crate::evaluation::artifact::assess;
use crate::evaluation::cross_validation::{fold_sets, summarise};
use crate::evaluation::full::bootstrap_draws;
use crate::evaluation::metrics::evaluate;
use crate::evaluation::{ArtifactEvaluation, CvResult, Metrics, RefitSpread, Scored};
use crate::family::ModelFamily;
use crate::prepare::folds::grouped_folds;
use crate::prepare::labelled::Labelled;
use crate::prepare::options::check_interval_refits;
use crate::prepare::sample_size::{check_floor, of_rows, SampleSize, LARGE_DATA_PATIENTS};
use crate::prepare::{development_rows, Cohort, FitOptions, TrainError};

/// Patients from which the estimate is an untouched hold-out instead of
/// nested cross-validation (a fifth of them is precise enough, and nested
/// cross-validation would refit the pipeline five more times on data this large).
pub const HOLDOUT_MIN_PATIENTS: usize = LARGE_DATA_PATIENTS;
/// One patient in this many forms the untouched hold-out.
pub const HOLDOUT_FOLDS: usize = 5;

/// How the headline figures were estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// The pipeline refitted without each outer fold's patients and scored on them.
    NestedCrossValidation {
        /// Outer folds.
        outer_folds: usize,
    },
    /// An untouched share of the patients, never seen by the delivered model.
    PatientHoldout {
        /// Share of patients held out.
        share: f64,
    },
}

impl Method {
    /// The method in words, for the card, the report and the CLI.
    pub fn describe(&self) -> String {
        match self {
            Method::NestedCrossValidation { outer_folds } => format!(
                "{outer_folds}-fold nested cross-validation by patient: the whole pipeline (family choice, tuning, \
                 early stopping, calibration) refitted without each fold's patients and scored on them"
            ),
            Method::PatientHoldout { share } => format!(
                "an untouched hold-out of {:.0}% of the patients, never seen by the delivered model",
                share * 100.0
            ),
        }
    }
}

/// The estimate of the pipeline on unseen patients.
#[derive(Debug, Clone)]
pub struct InternalValidation {
    /// How it was estimated.
    pub method: Method,
    /// Every validated row with its out-of-sample probability.
    pub scored: Scored,
    /// Their full and subgroup evaluation.
    pub assessment: ArtifactEvaluation,
    /// The family each outer fit chose (nested cross-validation), in fold order.
    pub outer_choices: Vec<&'static str>,
    /// The nested estimate's spread over refits of the pipeline, which
    /// widened the intervals (nested cross-validation with refits).
    pub spread: Option<RefitSpread>,
}

/// The delivered model, the estimate of how it does, and the sample size.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The delivered model and how the families compared.
    pub selection: Selection,
    /// The estimate on unseen patients.
    pub validation: InternalValidation,
    /// The development data's size against Riley's criteria.
    pub sample_size: SampleSize,
}

/// Which fit of the pipeline a progress event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The fit without outer fold `fold` (of `folds`).
    Outer {
        /// The fold left out, from 1.
        fold: usize,
        /// Outer folds.
        folds: usize,
    },
    /// The refits of the pipeline on bootstrap resamples (all at once, side by side).
    Refits {
        /// How many.
        refits: usize,
    },
    /// The delivered model.
    Final,
}

/// The sample size of the development rows, refusing data too small for any model.
fn sample_size(cohort: &Cohort<'_>, options: FitOptions, dev: &Labelled) -> Result<SampleSize, TrainError> {
    let (rows, events) = dev.counted();
    check_floor(rows, events).map_err(|reason| TrainError::TooSmall {
        target: options.target_name(),
        reason,
    })?;
    Ok(of_rows(cohort, options.target, dev))
}

/// The outer fold of each patient of `dev`.
fn fold_of_patient(dev: &Labelled, folds: &[usize]) -> HashMap<i64, usize> {
    dev.groups.iter().copied().zip(folds.iter().copied()).collect()
}

/// The cohort without the patients of fold `test` (patients outside every
/// fold, with temporal hold-out rows only, stay in).
fn training_cohort<'a>(cohort: &Cohort<'a>, fold_of: &HashMap<i64, usize>, test: usize) -> Cohort<'a> {
    cohort.without(|patient| fold_of.get(&patient) == Some(&test))
}

/// Probabilities of `model` for the rows `rows` of `dev`.
fn predict(model: &ModelArtifact, cohort: &Cohort<'_>, dev: &Labelled, rows: &[usize]) -> Vec<f64> {
    let compiled = model.compile();
    rows.iter()
        .map(|&i| compiled.predict(&cohort.dataset().records[dev.records[i]]))
        .collect()
}

/// Fits the pipeline (model selection over `families`) without the rows of
/// fold `test`, and predicts those rows: the out-of-sample probabilities of
/// one outer fold, with the family the pipeline chose.
///
/// # Errors
/// As [`select`].
pub fn pipeline_fold(
    cohort: &Cohort<'_>,
    options: FitOptions,
    families: &[&dyn ModelFamily],
    dev: &Labelled,
    folds: &[usize],
    test: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Vec<usize>, Vec<f64>, &'static str), TrainError> {
    let fold_of = fold_of_patient(dev, folds);
    let train = training_cohort(cohort, &fold_of, test);
    let selection = select(&train, options, families, progress)?;
    let rows: Vec<usize> = (0..folds.len()).filter(|&i| folds[i] == test).collect();
    let p = predict(&selection.chosen.artifact, cohort, dev, &rows);
    Ok((rows, p, selection.chosen.family))
}

/// Fits the delivered model on `cohort` by model selection over `families`,
/// and estimates how the whole pipeline does on unseen patients; with
/// nested cross-validation, `interval_refits` bootstrap refits of the
/// pipeline widen the intervals ([`crate::evaluation::refit_spread`]; 0
/// keeps the patient bootstrap's alone).
///
/// # Errors
/// [`TrainError::TooSmall`] below the sample-size floor; otherwise as [`select`].
pub fn fit_and_validate(
    cohort: &Cohort<'_>,
    options: FitOptions,
    families: &[&dyn ModelFamily],
    interval_refits: usize,
    progress: &mut dyn FnMut(Pass, Progress),
) -> Result<Validated, TrainError> {
    options.check()?;
    check_interval_refits(interval_refits)?;
    let dev = development_rows(cohort, options)?;
    let sample_size = sample_size(cohort, options, &dev)?;
    let patients = sample_size.patients;
    let (method, k) = if patients >= HOLDOUT_MIN_PATIENTS {
        let share = 1.0 / HOLDOUT_FOLDS as f64;
        (Method::PatientHoldout { share }, HOLDOUT_FOLDS)
    } else {
        if patients < options.folds {
            return Err(TrainError::TooFewPatients {
                patients,
                folds: options.folds,
            });
        }
        let outer_folds = options.folds;
        (Method::NestedCrossValidation { outer_folds }, outer_folds)
    };
    let folds = grouped_folds(&dev.groups, &dev.y, k, options.seed);
    let mut p = vec![0.0; dev.y.len()];
    let mut validated = vec![false; dev.y.len()];
    let mut outer_choices = Vec::new();
    let selection = match method {
        Method::PatientHoldout { .. } => {
            // The delivered model never sees fold 0; fold 0 is the estimate.
            let fold_of = fold_of_patient(&dev, &folds);
            let train = training_cohort(cohort, &fold_of, 0);
            let selection = select(&train, options, families, &mut |event| progress(Pass::Final, event))?;
            let rows: Vec<usize> = (0..folds.len()).filter(|&i| folds[i] == 0).collect();
            for (i, q) in rows
                .iter()
                .zip(predict(&selection.chosen.artifact, cohort, &dev, &rows))
            {
                p[*i] = q;
                validated[*i] = true;
            }
            selection
        }
        Method::NestedCrossValidation { .. } => {
            let mut report = |pass, event| progress(pass, event);
            let nested = nested_estimate(cohort, options, families, &dev, &folds, &mut report)?;
            (p, validated, outer_choices) = (nested.p, nested.validated, nested.choices);
            select(cohort, options, families, &mut |event| progress(Pass::Final, event))?
        }
    };
    let validated: Vec<usize> = (0..p.len()).filter(|&i| validated[i]).collect();
    let scored = Scored::of(&dev, &validated, validated.iter().map(|&i| p[i]).collect());
    let mut assessment = assess(cohort.dataset(), &scored, options);
    let spread = match method {
        // A hold-out scores the delivered model itself: its patient bootstrap is the whole error.
        Method::PatientHoldout { .. } => None,
        Method::NestedCrossValidation { .. } if interval_refits == 0 => None,
        Method::NestedCrossValidation { .. } => {
            let pass = Pass::Refits {
                refits: interval_refits,
            };
            progress(pass, Progress::Fitting(PIPELINE));
            let spread = refit_spread(cohort, options, families, &dev, interval_refits);
            progress(pass, Progress::Fitted(PIPELINE));
            spread.widen(&mut assessment.overall);
            Some(spread)
        }
    };
    let mut selection = selection;
    record_headline(
        &mut selection.chosen.artifact,
        method,
        &assessment,
        selection.chosen.patients,
        spread,
    );
    selection.chosen.assess_temporal(cohort.dataset(), options);
    Ok(Validated {
        selection,
        validation: InternalValidation {
            method,
            scored,
            assessment,
            outer_choices,
            spread,
        },
        sample_size,
    })
}

/// The pooled out-of-fold predictions of a nested cross-validation.
struct Nested {
    /// Each development row's out-of-sample probability.
    p: Vec<f64>,
    /// Whether the row was in a fold (patients outside every fold are not).
    validated: Vec<bool>,
    /// The family each outer fit chose, in fold order.
    choices: Vec<&'static str>,
}

/// Runs the pipeline nested in the outer `folds` of `dev`: fitted without
/// each fold's patients and scored on them.
fn nested_estimate(
    cohort: &Cohort<'_>,
    options: FitOptions,
    families: &[&dyn ModelFamily],
    dev: &Labelled,
    folds: &[usize],
    progress: &mut dyn FnMut(Pass, Progress),
) -> Result<Nested, TrainError> {
    let mut nested = Nested {
        p: vec![0.0; dev.y.len()],
        validated: vec![false; dev.y.len()],
        choices: Vec::new(),
    };
    for test in 0..options.folds {
        let pass = Pass::Outer {
            fold: test + 1,
            folds: options.folds,
        };
        let (rows, p, family) = pipeline_fold(cohort, options, families, dev, folds, test, &mut |event| {
            progress(pass, event)
        })?;
        for (i, q) in rows.into_iter().zip(p) {
            nested.p[i] = q;
            nested.validated[i] = true;
        }
        nested.choices.push(family);
    }
    Ok(nested)
}

/// The nested estimate's figures on one bootstrap resample of the patients
/// of `dev` (drawn by `seed`): the same procedure, outer folds included,
/// on the resample; `None` when the pipeline cannot run on it (e.g. a fold
/// without an event).
fn refit(
    cohort: &Cohort<'_>,
    options: FitOptions,
    families: &[&dyn ModelFamily],
    patients: &[i64],
    seed: u64,
) -> Option<Metrics> {
    let draws = bootstrap_draws(&mut ChaCha8Rng::seed_from_u64(seed), patients.len());
    // Patients outside the development rows (a temporal hold-out's) keep their copies.
    let resample = cohort.resampled(|patient| patients.binary_search(&patient).map_or(1, |k| draws[k]));
    let options = FitOptions { seed, ..options };
    let dev = development_rows(&resample, options).ok()?;
    let folds = grouped_folds(&dev.groups, &dev.y, options.folds, seed);
    let nested = nested_estimate(&resample, options, families, &dev, &folds, &mut |_, _| {}).ok()?;
    let rows: Vec<usize> = (0..dev.y.len()).filter(|&i| nested.validated[i]).collect();
    let pick = |values: &[f64]| rows.iter().map(|&i| values[i]).collect::<Vec<f64>>();
    let y: Vec<bool> = rows.iter().map(|&i| dev.y[i]).collect();
    Some(evaluate(&pick(&nested.p), &y, &pick(&dev.w)))
}

/// The spread of the nested estimate over `refits` bootstrap resamples of
/// the patients of `dev`, refitted side by side on the cores
/// ([`crate::evaluation::refit_spread`]).
fn refit_spread(
    cohort: &Cohort<'_>,
    options: FitOptions,
    families: &[&dyn ModelFamily],
    dev: &Labelled,
    refits: usize,
) -> RefitSpread {
    let patients = dev.patient_ids();
    // One seed per resample, drawn in turn, so the result does not depend on the cores.
    let mut seeds = ChaCha8Rng::seed_from_u64(options.seed ^ REFIT_SEED);
    let seeds: Vec<u64> = (0..refits).map(|_| seeds.gen()).collect();
    let estimates: Vec<Metrics> = on_all_cores(&seeds, |seed| refit(cohort, options, families, &patients, *seed))
        .into_iter()
        .flatten()
        .collect();
    RefitSpread::of(refits, &estimates)
}

/// What the refits' progress events name in place of a family: the whole pipeline.
const PIPELINE: &str = "the pipeline";

/// Mixed into the fit's seed for the resamples' seeds (so they are not the folds').
const REFIT_SEED: u64 = 0x005e_ed0f_2ef1_7500;

/// Writes the internal validation's figures into the artifact's metrics.
fn record_headline(
    artifact: &mut ModelArtifact,
    method: Method,
    assessment: &ArtifactEvaluation,
    training_patients: usize,
    spread: Option<RefitSpread>,
) {
    let method_figure = match method {
        Method::NestedCrossValidation { outer_folds } => (Metric::NestedCvFolds, outer_folds as f64),
        Method::PatientHoldout { share } => (Metric::HoldoutShare, share),
    };
    let figures = assessment
        .overall
        .headline()
        .into_iter()
        .chain([method_figure, (Metric::TrainingPatients, training_patients as f64)])
        .chain(
            spread
                .filter(|s| s.auc.is_some())
                .map(|s| (Metric::IntervalRefits, s.refits as f64)),
        );
    for (metric, value) in figures {
        artifact.metrics.insert(metric.name().to_string(), value);
    }
}

/// The candidate name of the whole pipeline in `cv`.
pub const AUTO: &str = "auto";

/// Repeated cross-validation of the whole pipeline (model selection over
/// `families`, as `fit --model auto` runs it) on the same patient-grouped
/// folds [`crate::evaluation::cross_validate`] gives the single families:
/// its figure is what `fit --model auto` delivers. Returns the summary and,
/// per repeat, the out-of-fold probability of every development row (in the
/// order of [`crate::evaluation::OutOfFold::data`]). `progress` is told each
/// split as it finishes.
///
/// # Errors
/// As [`select`].
pub fn cross_validate_pipeline(
    cohort: &Cohort<'_>,
    options: FitOptions,
    repeats: usize,
    families: &[&dyn ModelFamily],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(CvResult, Vec<Vec<f64>>), TrainError> {
    let options = FitOptions {
        temporal_holdout: 0.0,
        ..options
    };
    options.check()?;
    let dev = development_rows(cohort, options)?;
    let sets = fold_sets(&dev, options.folds, repeats, options.seed);
    let total = sets.len() * options.folds;
    let mut per_fold = Vec::with_capacity(total);
    let mut per_repeat = vec![vec![f64::NAN; dev.y.len()]; sets.len()];
    for (repeat, folds) in sets.iter().enumerate() {
        for test in 0..options.folds {
            let (rows, p, _) = pipeline_fold(cohort, options, families, &dev, folds, test, &mut |_| {})?;
            let y: Vec<bool> = rows.iter().map(|&i| dev.y[i]).collect();
            let w: Vec<f64> = rows.iter().map(|&i| dev.w[i]).collect();
            per_fold.push(evaluate(&p, &y, &w));
            for (&i, &q) in rows.iter().zip(&p) {
                per_repeat[repeat][i] = q;
            }
            progress(per_fold.len(), total);
        }
    }
    Ok((summarise(AUTO, &per_fold), per_repeat))
}
