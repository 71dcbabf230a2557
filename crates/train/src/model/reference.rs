//! The reference distributions an artifact publishes, which the service
//! compares live records and predictions with (drift) and which give a
//! spec model's `outside_training_range` warning: for every feature, its
//! values over every row of the training table that a model could be asked
//! about (labelled or not: the service scores patients whose outcome is not
//! known yet, so the labelled rows alone would differ from it, e.g. in time
//! since transplant), in bins of at least 10 rows; and the finished
//! model's probabilities over the same rows.

use carescore_core::artifact::{share_key, FeatureKind, ModelArtifact, TrainingBins, TrainingShares};

use crate::prepare::Cohort;
use crate::rows::TableRow;

/// The rows of `cohort`'s patients, each once.
fn rows<'a>(cohort: &Cohort<'a>) -> Vec<&'a TableRow> {
    let dataset = cohort.dataset();
    (0..dataset.records.len())
        .filter(|&i| cohort.copies(i) > 0)
        .map(|i| &dataset.records[i])
        .collect()
}

/// Sets `artifact`'s reference of the predicted probability: its own
/// probabilities over the rows of `cohort`'s patients (`recalibrate` calls
/// this alone, for the centre's rows).
pub fn publish_probability(artifact: &mut ModelArtifact, cohort: &Cohort<'_>) {
    let model = artifact.compile();
    let probabilities = rows(cohort).into_iter().map(|r| model.predict(r)).collect();
    artifact.probability_bins = TrainingBins::of(probabilities, 0);
}

/// Fills `artifact`'s reference distributions from the rows of `cohort`'s patients.
pub fn publish(artifact: &mut ModelArtifact, cohort: &Cohort<'_>) {
    let rows = rows(cohort);
    for feature in &mut artifact.features {
        let values = rows
            .iter()
            .map(|r| carescore_core::artifact::Row::value(*r, &feature.name));
        match feature.kind {
            FeatureKind::Numeric { .. } => {
                let present: Vec<f64> = values.filter_map(|v| v.and_then(|v| v.as_f64())).collect();
                let missing = (rows.len() - present.len()) as u64;
                feature.training_bins = TrainingBins::of(present, missing);
            }
            _ => {
                let kind = feature.kind.clone();
                feature.training_shares = TrainingShares::of(values.map(|v| share_key(&kind, v)));
            }
        }
    }
    publish_probability(artifact, cohort);
}
