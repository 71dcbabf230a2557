//! The reference distributions a fitted artifact publishes for drift: over
//! every screened row of its patients (labelled or not), in bins of at
//! least 10 rows, with the finished model's probabilities; and they load.

use carescore_core::artifact::{FeatureKind, MIN_BIN_ROWS};
use carescore_core::ModelArtifact;
use carescore_train::{family, fit, Cohort};

mod common;

#[test]
fn references_cover_every_screened_row_of_the_cohort_in_bins_of_ten() {
    let (_dir, dataset) = common::synthetic_dataset(1_500, 31);
    let options = common::infection_options(4);
    let logistic = family("logistic").unwrap();
    // Half the patients: the references count their rows only.
    let cohort = Cohort::all(&dataset).without(|patient| patient % 2 == 0);
    let rows = (0..dataset.records.len()).filter(|&i| cohort.copies(i) > 0).count() as u64;
    let fitted = fit(&cohort, options, logistic).unwrap();
    assert!(
        rows > fitted.labelled_rows as u64,
        "the cohort's {rows} rows include rows without a label ({} labelled)",
        fitted.labelled_rows
    );
    let artifact = ModelArtifact::from_json(fitted.artifact.to_json().as_bytes()).expect("the artifact loads");
    for feature in &artifact.features {
        match feature.kind {
            FeatureKind::Numeric { .. } => {
                let bins = feature.training_bins.as_ref().expect("numeric bins");
                assert_eq!(bins.counts.iter().sum::<u64>() + bins.missing, rows, "{}", feature.name);
                assert!(bins.counts.iter().all(|c| *c >= MIN_BIN_ROWS), "{}", feature.name);
                assert!(feature.training_shares.is_none());
            }
            _ => {
                let shares = feature.training_shares.as_ref().expect("shares");
                assert_eq!(shares.rows(), rows, "{}", feature.name);
                assert!(shares.counts.values().all(|c| *c >= MIN_BIN_ROWS), "{}", feature.name);
                assert!(feature.training_bins.is_none());
            }
        }
    }
    let probability = artifact.probability_bins.as_ref().expect("probability bins");
    assert_eq!(probability.counts.iter().sum::<u64>(), rows);
    assert!(probability.counts.len() >= 5, "{probability:?}");
    assert!(probability.low > 0.0 && probability.high < 1.0);
}
