//! Statistical and determinism tests of the synthetic cohort against docs/clinical-sources.md.

use std::sync::OnceLock;

use carescore_core::{validation::validate, Organ};

use super::*;

/// 100k rows with the default settings, generated once for all tests.
fn cohort() -> &'static [SynthRow] {
    static COHORT: OnceLock<Vec<SynthRow>> = OnceLock::new();
    COHORT.get_or_init(|| {
        let config = SynthConfig {
            rows: 100_000,
            seed: 20_261_127,
            dropout_rate: SynthConfig::DEFAULT_DROPOUT_RATE,
        };
        generate(&config, |_| {}).unwrap()
    })
}

fn summary() -> &'static CohortSummary {
    static SUMMARY: OnceLock<CohortSummary> = OnceLock::new();
    SUMMARY.get_or_init(|| CohortSummary::of(cohort()))
}

#[test]
fn exactly_the_requested_rows_with_several_snapshots_per_patient() {
    let s = summary();
    assert_eq!(s.rows, 100_000);
    let per_patient = s.rows as f64 / s.patients as f64;
    assert!((3.0..=9.0).contains(&per_patient), "{per_patient} rows per patient");
}

#[test]
fn first_year_infection_rates_match_domain() {
    let s = summary();
    for rate in &s.infection_first_year {
        assert!(rate.rows > 1_000, "{rate:?}");
        assert!((0.15..=0.30).contains(&rate.rate), "{rate:?}");
    }
    let lung = s
        .infection_first_year
        .iter()
        .find(|r| r.organ == Some(Organ::Lung))
        .unwrap();
    assert!(
        s.infection_first_year.iter().all(|r| r.rate <= lung.rate),
        "lung highest: {s}"
    );
}

#[test]
fn maintenance_infection_rate_is_a_few_percent() {
    let rate = summary().infection_maintenance.rate;
    assert!((0.01..=0.06).contains(&rate), "{rate}");
}

#[test]
fn readmission_after_transplant_discharge_is_near_domain_rates() {
    // docs/clinical-sources.md, section 1b: kidney 25%, liver 33%, heart 21%, lung 40% (+/- 7 points here).
    let targets = [
        (Organ::Kidney, 0.25),
        (Organ::Liver, 0.33),
        (Organ::Heart, 0.21),
        (Organ::Lung, 0.40),
    ];
    for (organ, target) in targets {
        let rate = summary()
            .readmission_after_transplant
            .iter()
            .find(|r| r.organ == Some(organ))
            .unwrap();
        assert!((rate.rate - target).abs() <= 0.07, "{organ}: {rate:?}");
    }
    assert!(summary().readmission_all.rate < 0.2, "later snapshots are much lower");
}

#[test]
fn oracle_auc_is_realistic() {
    let s = summary();
    let infection = s.oracle_auc_infection.unwrap();
    let readmission = s.oracle_auc_readmission.unwrap();
    assert!((0.70..=0.80).contains(&infection), "infection {infection}");
    assert!((0.65..=0.76).contains(&readmission), "readmission {readmission}");
}

#[test]
fn default_censoring_before_180_days_is_10_to_20_percent() {
    let share = summary().censored_before_180d;
    assert!((0.10..=0.20).contains(&share), "{share}");
}

#[test]
fn dropout_rate_controls_loss_to_follow_up() {
    let share = |dropout_rate: f64| {
        let rows = generate(
            &SynthConfig {
                rows: 20_000,
                seed: 5,
                dropout_rate,
            },
            |_| {},
        )
        .unwrap();
        CohortSummary::of(&rows).censored_before_180d
    };
    let (none, half) = (share(0.0), share(0.5));
    // Without dropout only administrative censoring remains (a few percent).
    assert!(none < 0.08, "{none}");
    // Dropout before 180 days in half the rows; events that come first hide a few.
    assert!((0.40..=0.60).contains(&half), "{half}");
}

#[test]
fn true_probabilities_are_probabilities() {
    for row in cohort() {
        assert!((0.0..=1.0).contains(&row.true_p_infection_180d));
        assert!((0.0..=1.0).contains(&row.true_p_readmission_30d));
    }
}

#[test]
fn clean_rows_pass_validation_without_warnings() {
    for row in cohort().iter().filter(|r| !r.injected_noise) {
        let report = validate(&row.record);
        assert!(
            report.errors.is_empty() && report.warnings.is_empty(),
            "{}: {report:?}",
            row.record.case_id
        );
    }
}

#[test]
fn noisy_rows_are_all_caught_and_some_are_excluded() {
    let noisy: Vec<_> = cohort().iter().filter(|r| r.injected_noise).collect();
    let share = noisy.len() as f64 / cohort().len() as f64;
    assert!((0.01..=0.02).contains(&share), "{share}");
    let mut with_errors = 0;
    for row in &noisy {
        let report = validate(&row.record);
        assert!(
            !report.errors.is_empty() || !report.warnings.is_empty(),
            "{}",
            row.record.case_id
        );
        with_errors += usize::from(!report.errors.is_empty());
    }
    let error_share = with_errors as f64 / noisy.len() as f64;
    assert!((0.15..=0.45).contains(&error_share), "{error_share}");
}

#[test]
fn event_times_are_at_least_one_day() {
    for row in cohort() {
        assert!(!row.infection_event || row.infection_time_days >= 1);
        assert!(!row.readmission_event || row.readmission_time_days >= 1);
    }
}

#[test]
fn same_seed_same_rows_other_seed_other_rows() {
    let config = SynthConfig {
        rows: 2_000,
        seed: 9,
        dropout_rate: 0.1,
    };
    let a = generate(&config, |_| {}).unwrap();
    let b = generate(&config, |_| {}).unwrap();
    let c = generate(&SynthConfig { seed: 10, ..config }, |_| {}).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn invalid_configurations_are_refused() {
    let ok = SynthConfig {
        rows: 1,
        seed: 1,
        dropout_rate: 0.1,
    };
    assert_eq!(
        generate(&SynthConfig { rows: 0, ..ok }, |_| {}).unwrap_err(),
        SynthError::NoRows
    );
    for bad in [-0.1, 0.91, f64::NAN] {
        assert_eq!(
            check(&SynthConfig {
                dropout_rate: bad,
                ..ok
            }),
            Err(SynthError::DropoutRate)
        );
    }
    assert_eq!(generate(&ok, |_| {}).unwrap().len(), 1);
}

#[test]
fn ipcw_weighted_rates_recover_the_true_risk_where_naive_labels_are_biased() {
    use crate::labels::{horizon_labels, CensoringRule};
    // About 30% of rows censored before the horizon makes the biases visible.
    let rows = generate(
        &SynthConfig {
            rows: 100_000,
            seed: 77,
            dropout_rate: 0.3,
        },
        |_| {},
    )
    .unwrap();
    let censored = CohortSummary::of(&rows).censored_before_180d;
    assert!((0.25..=0.35).contains(&censored), "{censored}");
    let times: Vec<f64> = rows.iter().map(|r| f64::from(r.infection_time_days)).collect();
    let events: Vec<bool> = rows.iter().map(|r| r.infection_event).collect();
    let truth = rows.iter().map(|r| r.true_p_infection_180d).sum::<f64>() / rows.len() as f64;
    let ipcw = horizon_labels(&times, &events, 180.0, CensoringRule::Ipcw)
        .unwrap()
        .weighted_rate();
    let dropped = horizon_labels(&times, &events, 180.0, CensoringRule::Drop)
        .unwrap()
        .weighted_rate();
    // The naive alternative: every row without an observed event by day 180 counted as a negative.
    let as_negatives =
        events.iter().zip(&times).filter(|(e, t)| **e && **t <= 180.0).count() as f64 / rows.len() as f64;
    println!(
        "infection 180 d, {censored:.3} censored: truth {truth:.4}, IPCW {ipcw:.4}, drop {dropped:.4}, \
         censored as negative {as_negatives:.4}"
    );
    assert!((ipcw - truth).abs() < 0.01, "IPCW {ipcw:.4} vs truth {truth:.4}");
    assert!(
        dropped - truth > 0.01,
        "dropping {dropped:.4} should overstate truth {truth:.4}"
    );
    assert!(
        truth - as_negatives > 0.01,
        "censored-as-negative {as_negatives:.4} should understate truth {truth:.4}"
    );
}
