//! The fitting pipeline on a subset of a dataset's patients (a [`Cohort`])
//! is the pipeline on a table holding only those patients: the same rows,
//! labels, censoring weights, folds and so the same model, so it can be
//! nested inside a cross-validation or a bootstrap.

use carescore_core::ModelArtifact;
use carescore_train::labels::CensoringRule;
use carescore_train::synth::{generate, SynthConfig, SynthRow};
use carescore_train::table::write_cohort;
use carescore_train::{family, fit, load, select, Cohort, FitOptions, Reading, Target};

fn options(target: Target) -> FitOptions {
    FitOptions {
        target,
        seed: 7,
        version: 1,
        censoring: CensoringRule::Ipcw,
        folds: 3,
        gbdt_leaves: Some(7),
        temporal_holdout: 0.2,
    }
}

/// The artifact's JSON without the training table's fingerprint (the file
/// differs, the rows do not).
fn without_fingerprint(mut artifact: ModelArtifact) -> String {
    artifact.training_data.sha256.clear();
    artifact.to_json()
}

/// A synthetic cohort of `rows` rows with a fifth of follow-up lost to dropout.
fn cohort_rows(rows: usize, seed: u64) -> Vec<SynthRow> {
    let config = SynthConfig {
        rows,
        seed,
        dropout_rate: 0.2,
    };
    generate(&config, |_| {}).unwrap()
}

#[test]
fn a_cohort_of_some_patients_fits_as_a_table_of_only_them() {
    let dir = tempfile::tempdir().unwrap();
    let rows = cohort_rows(3_000, 5);
    let whole = dir.path().join("whole.csv");
    let odd = dir.path().join("odd.csv");
    write_cohort(&rows, &whole).unwrap();
    let odd_rows: Vec<_> = rows.iter().filter(|r| r.patient_id % 2 == 1).cloned().collect();
    assert!(
        odd_rows.len() > 1_000 && odd_rows.len() < rows.len(),
        "{}",
        odd_rows.len()
    );
    write_cohort(&odd_rows, &odd).unwrap();

    let target = Target::Infection180d;
    let dataset = load(&whole, target, Reading::WithOutcome).unwrap();
    let only_odd = load(&odd, target, Reading::WithOutcome).unwrap();
    let cohort = Cohort::patients(&dataset, |patient| u32::from(patient % 2 == 1));
    for name in ["logistic", "gbdt"] {
        let family = family(name).unwrap();
        let from_cohort = fit(&cohort, options(target), family).unwrap();
        let from_table = fit(&Cohort::all(&only_odd), options(target), family).unwrap();
        assert_eq!(from_cohort.labelled_rows, from_table.labelled_rows, "{name}");
        assert_eq!(
            without_fingerprint(from_cohort.artifact.clone()),
            without_fingerprint(from_table.artifact),
            "{name}: the cohort's fit is the small table's fit"
        );
        let everyone = fit(&Cohort::all(&dataset), options(target), family).unwrap();
        assert!(everyone.labelled_rows > from_cohort.labelled_rows, "{name}");
        // The held-out rows name records of the whole dataset, all of odd patients.
        assert!(from_cohort.heldout.records.iter().all(|&i| dataset.groups[i] % 2 == 1));
    }

    // Model selection runs on the cohort the same way.
    let families = [family("logistic").unwrap(), family("gbdt").unwrap()];
    let chosen = select(&cohort, options(target), &families, &mut |_| {}).unwrap();
    let again = select(&Cohort::all(&only_odd), options(target), &families, &mut |_| {}).unwrap();
    assert_eq!(chosen.candidates, again.candidates);
    assert_eq!(chosen.chosen.family, again.chosen.family);
}

#[test]
fn a_patient_drawn_twice_counts_twice() {
    let dir = tempfile::tempdir().unwrap();
    let rows = cohort_rows(1_500, 8);
    let whole = dir.path().join("whole.csv");
    write_cohort(&rows, &whole).unwrap();
    let dataset = load(&whole, Target::Infection180d, Reading::WithOutcome).unwrap();
    let options = FitOptions {
        temporal_holdout: 0.0,
        ..options(Target::Infection180d)
    };
    let once = fit(&Cohort::all(&dataset), options, family("logistic").unwrap()).unwrap();
    let twice = fit(&Cohort::patients(&dataset, |_| 2), options, family("logistic").unwrap()).unwrap();
    // The same rows, each with twice the weight: as many rows, twice the events' weight.
    assert_eq!(once.labelled_rows, twice.labelled_rows);
    let weight = |f: &carescore_train::Fitted| f.heldout.w.iter().sum::<f64>();
    assert!((weight(&twice) - 2.0 * weight(&once)).abs() < 1e-6 * weight(&once));
    assert_ne!(
        once.artifact.to_json(),
        twice.artifact.to_json(),
        "the penalty weighs less against twice the data"
    );
}
