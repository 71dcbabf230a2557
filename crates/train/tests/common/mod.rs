//! What several integration tests of the trainer set up the same way: a
//! synthetic cohort written to a table and loaded, and the fit options.

use carescore_train::labels::CensoringRule;
use carescore_train::synth::{generate, SynthConfig};
use carescore_train::table::write_cohort;
use carescore_train::{load, Dataset, FitOptions, Reading, Target};

/// A synthetic cohort of `rows` rows from `seed` (dropout 0.1), written as
/// CSV in a temporary directory (kept alive by the returned guard) and
/// loaded for the infection target with its outcome.
pub(crate) fn synthetic_dataset(rows: usize, seed: u64) -> (tempfile::TempDir, Dataset) {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        rows,
        seed,
        dropout_rate: 0.1,
    };
    let path = dir.path().join("cohort.csv");
    write_cohort(&generate(&config, |_| {}).unwrap(), &path).unwrap();
    let dataset = load(&path, Target::Infection180d, Reading::WithOutcome).unwrap();
    (dir, dataset)
}

/// Infection options with `seed`: IPCW labels, 3 folds, no hold-out.
pub(crate) fn infection_options(seed: u64) -> FitOptions {
    FitOptions {
        target: Target::Infection180d,
        seed,
        version: 1,
        censoring: CensoringRule::Ipcw,
        folds: 3,
        gbdt_leaves: None,
        temporal_holdout: 0.0,
    }
}
