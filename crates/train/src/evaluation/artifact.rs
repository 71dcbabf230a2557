//! Scoring a table with an artifact and evaluating the result: the scored
//! rows ([`Scored`]) and their full and subgroup evaluation
//! ([`ArtifactEvaluation`]), used for a fit's held-out rows, its temporal
//! hold-out, and `evaluate` / `report` on new data.

use std::collections::BTreeMap;

use carescore_core::artifact::ModelArtifact;
use serde::Serialize;

use super::full::{full_evaluation, Evaluation};
use super::subgroups::by_subgroup;
use crate::ingest::Dataset;
use crate::prepare::{labelled, Cohort, FitOptions, Labelled, TrainError};
use crate::rows::TableRow;

/// Rows scored by a model: probabilities with their labels, censoring
/// weights and the records they came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scored {
    /// Index of each row's record in the dataset table.
    pub records: Vec<usize>,
    /// Calibrated probability.
    pub p: Vec<f64>,
    /// Label at the horizon.
    pub y: Vec<bool>,
    /// Censoring weight.
    pub w: Vec<f64>,
}

impl Scored {
    /// The rows `rows` of `data` with probabilities `p`.
    pub(crate) fn of(data: &Labelled, rows: &[usize], p: Vec<f64>) -> Scored {
        Scored {
            records: rows.iter().map(|&i| data.records[i]).collect(),
            p,
            y: rows.iter().map(|&i| data.y[i]).collect(),
            w: rows.iter().map(|&i| data.w[i]).collect(),
        }
    }
}

/// What `evaluate` measures on a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArtifactEvaluation {
    /// All rows with a known label.
    #[serde(flatten)]
    pub overall: Evaluation,
    /// By organ, sex and phase (a spec's categories), with counts and intervals.
    pub subgroups: BTreeMap<String, Evaluation>,
}

/// Full and subgroup evaluation of scored rows of `dataset`, with the
/// target's operating thresholds and the bootstrap seeded by `options.seed`.
pub(crate) fn assess(dataset: &Dataset, scored: &Scored, options: FitOptions) -> ArtifactEvaluation {
    let (p, y, w) = (&scored.p, &scored.y, &scored.w);
    let records: Vec<&TableRow> = scored.records.iter().map(|&i| &dataset.records[i]).collect();
    let groups: Vec<i64> = scored.records.iter().map(|&i| dataset.groups[i]).collect();
    let thresholds = options.target.operating_thresholds();
    ArtifactEvaluation {
        overall: full_evaluation(p, y, w, &groups, &thresholds, options.seed),
        subgroups: by_subgroup(&records, p, y, w, &groups, options.seed),
    }
}

/// The rows of `data` (rows of `dataset`) scored by `artifact`.
pub(crate) fn score_labelled(artifact: &ModelArtifact, dataset: &Dataset, data: &Labelled) -> Scored {
    let model = artifact.compile();
    let p: Vec<f64> = data
        .records
        .iter()
        .map(|&i| model.predict(&dataset.records[i]))
        .collect();
    let all: Vec<usize> = (0..data.y.len()).collect();
    Scored::of(data, &all, p)
}

/// Scores every row of `cohort` with a known label at the artifact's horizon.
///
/// # Errors
/// [`TrainError`] if a follow-up time is unusable or no label is known.
pub fn score_table(artifact: &ModelArtifact, cohort: &Cohort<'_>, options: FitOptions) -> Result<Scored, TrainError> {
    let data = labelled(cohort, options.target, options.censoring)?;
    Ok(score_labelled(artifact, cohort.dataset(), &data))
}

/// Out-of-sample evaluation of an artifact on `cohort`, with the scored rows.
///
/// # Errors
/// As [`score_table`].
pub fn evaluate_artifact(
    artifact: &ModelArtifact,
    cohort: &Cohort<'_>,
    options: FitOptions,
) -> Result<(Scored, ArtifactEvaluation), TrainError> {
    let scored = score_table(artifact, cohort, options)?;
    let evaluation = assess(cohort.dataset(), &scored, options);
    Ok((scored, evaluation))
}
