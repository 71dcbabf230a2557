//! The headline figures are those of the whole pipeline on patients it did
//! not see: rebuilt here by hand (each outer fold's patients left out, the
//! pipeline fitted on the rest, their rows scored), they must equal what
//! `fit_and_validate` writes into the artifact. Refits of the pipeline on
//! bootstrap resamples widen its intervals to their spread.

use carescore_core::artifact::Metric;
use carescore_train::evaluation::metrics::evaluate;
use carescore_train::labels::CensoringRule;
use carescore_train::prepare::folds::grouped_folds;
use carescore_train::synth::{generate, SynthConfig};
use carescore_train::table::write_cohort;
use carescore_train::training::internal_validation::{fit_and_validate, Method};
use carescore_train::{family, load, select, Cohort, FitOptions, Reading, Target};

mod common;

#[test]
fn the_headline_is_the_nested_pipeline_on_unseen_patients() {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        rows: 1_200,
        seed: 21,
        dropout_rate: 0.1,
    };
    let rows = generate(&config, |_| {}).unwrap();
    let path = dir.path().join("cohort.csv");
    write_cohort(&rows, &path).unwrap();
    let dataset = load(&path, Target::Readmission30d, Reading::WithOutcome).unwrap();
    let options = FitOptions {
        target: Target::Readmission30d,
        seed: 3,
        version: 1,
        censoring: CensoringRule::Ipcw,
        folds: 3,
        gbdt_leaves: Some(7),
        temporal_holdout: 0.0,
    };
    let families = [family("logistic").unwrap(), family("gbdt").unwrap()];
    let cohort = Cohort::all(&dataset);
    let validated = fit_and_validate(&cohort, options, &families, 0, &mut |_, _| {}).unwrap();
    assert_eq!(
        validated.validation.method,
        Method::NestedCrossValidation { outer_folds: 3 }
    );

    // By hand: the labelled rows, their outer folds, the pipeline without each fold.
    let labelled =
        carescore_train::evaluation::score_table(&validated.selection.chosen.artifact, &cohort, options).unwrap();
    let groups: Vec<i64> = labelled.records.iter().map(|&i| dataset.groups[i]).collect();
    let folds = grouped_folds(&groups, &labelled.y, 3, options.seed);
    let mut p = vec![0.0; labelled.y.len()];
    for test in 0..3 {
        let left_out: std::collections::HashSet<i64> = (0..groups.len())
            .filter(|&i| folds[i] == test)
            .map(|i| groups[i])
            .collect();
        let train = cohort.without(|patient| left_out.contains(&patient));
        let model = select(&train, options, &families, &mut |_| {})
            .unwrap()
            .chosen
            .artifact
            .compile();
        for i in (0..p.len()).filter(|&i| folds[i] == test) {
            p[i] = model.predict(&dataset.records[labelled.records[i]]);
        }
    }
    let by_hand = evaluate(&p, &labelled.y, &labelled.w);
    let metrics = &validated.selection.chosen.artifact.metrics;
    let headline = |m: Metric| metrics[m.name()];
    assert!(
        (headline(Metric::Auc) - by_hand.auc.unwrap()).abs() < 1e-12,
        "{metrics:?} vs {by_hand:?}"
    );
    assert!((headline(Metric::Brier) - by_hand.brier).abs() < 1e-12);
    assert!((headline(Metric::CalibrationSlope) - by_hand.calibration_slope.unwrap()).abs() < 1e-9);
    assert_eq!(headline(Metric::NestedCvFolds), 3.0);
    let mut patients = groups;
    patients.sort_unstable();
    patients.dedup();
    assert_eq!(headline(Metric::ValidationPatients), patients.len() as f64);
    assert_eq!(
        headline(Metric::ValidationEvents),
        labelled.y.iter().filter(|y| **y).count() as f64
    );
    let (lo, hi) = (headline(Metric::AucCi95Lower), headline(Metric::AucCi95Upper));
    assert!(lo < headline(Metric::Auc) && headline(Metric::Auc) < hi);
    // The delivered model is the pipeline on everyone.
    let everyone = select(&cohort, options, &families, &mut |_| {}).unwrap();
    assert_eq!(
        everyone.chosen.artifact.estimator,
        validated.selection.chosen.artifact.estimator
    );
}

#[test]
fn refits_of_the_pipeline_widen_the_nested_interval_to_their_spread() {
    let (_dir, dataset) = common::synthetic_dataset(1_500, 8);
    let options = common::infection_options(5);
    let families = [family("logistic").unwrap()];
    let cohort = Cohort::all(&dataset);
    let fit = |refits| fit_and_validate(&cohort, options, &families, refits, &mut |_, _| {}).unwrap();
    let (alone, refitted) = (fit(0), fit(12));
    let figure = |v: &carescore_train::training::internal_validation::Validated, m: Metric| {
        v.selection.chosen.artifact.metrics.get(m.name()).copied()
    };
    // The estimate and the delivered model are the same; only the intervals change.
    assert_eq!(figure(&alone, Metric::Auc), figure(&refitted, Metric::Auc));
    assert_eq!(
        alone.selection.chosen.artifact.estimator,
        refitted.selection.chosen.artifact.estimator
    );
    assert_eq!(figure(&alone, Metric::IntervalRefits), None);
    assert_eq!(figure(&refitted, Metric::IntervalRefits), Some(12.0));
    let spread = refitted.validation.spread.expect("a spread from 12 refits");
    let sd = spread.auc.expect("the refits' AUC spread");
    assert!(sd > 0.0 && spread.refits == 12, "{spread:?}");
    let auc = figure(&refitted, Metric::Auc).unwrap();
    let (lower, upper) = (
        figure(&refitted, Metric::AucCi95Lower).unwrap(),
        figure(&refitted, Metric::AucCi95Upper).unwrap(),
    );
    assert!(
        lower <= auc - 1.959 * sd && upper >= auc + 1.959 * sd,
        "{lower} {auc} {upper} sd {sd}"
    );
    // Never narrower than the patient bootstrap alone.
    assert!(lower <= figure(&alone, Metric::AucCi95Lower).unwrap());
    assert!(upper >= figure(&alone, Metric::AucCi95Upper).unwrap());
    // The same seed, the same refits: the artifact is byte-identical.
    assert_eq!(
        fit(12).selection.chosen.artifact.to_json(),
        refitted.selection.chosen.artifact.to_json()
    );
}
