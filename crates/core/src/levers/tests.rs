use proptest::prelude::*;

use super::*;
use crate::record::{Organ, EXAMPLE_RECORD_JSON};

fn models() -> Models {
    crate::embedded::models().unwrap()
}

fn example() -> PatientRecord {
    crate::parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap().record
}

/// The example with every modifiable input on its default target.
fn on_target() -> PatientRecord {
    let mut record = example();
    record.tacrolimus_trough_ng_ml = Some(7.0);
    record.adherence_pct = Some(96.0);
    record.phq9_score = Some(4);
    record.gad7_score = Some(3);
    record.albumin_g_dl = Some(3.9);
    record.igg_g_l = Some(8.5);
    record
}

/// Every input enabled (the default policy disables `igg`).
fn all_enabled() -> Policy {
    let mut policy = Policy::default();
    policy.levers.disabled.clear();
    policy
}

fn answer(record: &PatientRecord) -> LeverAnswer {
    levers(&models(), &all_enabled(), record, Vec::new())
}

#[test]
fn a_record_on_target_has_no_levers() {
    let answer = answer(&on_target());
    assert_eq!(answer.levers, Vec::new());
    assert_eq!(answer.all_levers, None);
    assert_eq!(answer.not_recorded, Vec::new());
    assert_eq!(answer.caveat, CAVEAT);
}

#[test]
fn low_adherence_is_a_lever_that_lowers_the_risk() {
    let mut record = on_target();
    record.adherence_pct = Some(60.0);
    let answer = answer(&record);
    assert_eq!(answer.levers.len(), 1, "{answer:#?}");
    let lever = &answer.levers[0];
    assert_eq!(
        (lever.input, lever.field, lever.value, lever.target_value),
        (LeverInput::Adherence, "adherence_pct", 60.0, 95.0)
    );
    assert!(lever.changed.reductions[READMISSION] > 0.0, "{lever:#?}");
    assert!(lever.changed.total_reduction > 0.0);
    // The reduction is the recorded risk minus the changed one, as the model gives them.
    let mut changed = record;
    changed.adherence_pct = Some(95.0);
    let m = models();
    assert_eq!(lever.changed.risks[READMISSION], m.readmission.predict(&changed));
    assert_eq!(
        answer.risks[READMISSION] - m.readmission.predict(&changed),
        lever.changed.reductions[READMISSION]
    );
    // One lever: all together is the same change.
    assert_eq!(answer.all_levers.as_ref(), Some(&lever.changed));
}

#[test]
fn the_trough_moves_to_the_nearest_end_of_its_organ_and_phase_range() {
    let mut record = on_target();
    record.organ = Organ::Kidney;
    record.days_since_transplant = 30;
    record.tacrolimus_trough_ng_ml = Some(9.1);
    assert!(
        answer(&record).levers.is_empty(),
        "kidney month 1 (to day 30): 6-10 ng/mL"
    );
    record.days_since_transplant = 31;
    assert_eq!(
        answer(&record).levers[0].target_value,
        8.0,
        "kidney from day 31: 4-8 ng/mL"
    );
    record.organ = Organ::Heart;
    record.days_since_transplant = 90;
    record.tacrolimus_trough_ng_ml = Some(9.0);
    assert_eq!(
        answer(&record).levers[0].target_value,
        10.0,
        "heart to day 90: 10-15 ng/mL"
    );
    record.days_since_transplant = 91;
    assert!(answer(&record).levers.is_empty(), "heart from day 91: 5-10 ng/mL");
    record.organ = Organ::Kidney;
    record.days_since_transplant = 40;
    let later = answer(&record);
    assert_eq!(later.levers[0].target_value, 8.0, "kidney later: 4-8 ng/mL");
    assert_eq!(later.levers[0].target, "4-8 ng/mL (kidney, day 40 after transplant)");
    record.organ = Organ::Lung;
    record.tacrolimus_trough_ng_ml = Some(7.5);
    assert_eq!(answer(&record).levers[0].target_value, 10.0, "lung early: 10-15 ng/mL");
    record.days_since_transplant = 400;
    assert!(answer(&record).levers.is_empty(), "lung later: 5-10 ng/mL");
}

#[test]
fn levers_are_ranked_and_combined() {
    let mut record = on_target();
    record.adherence_pct = Some(55.0);
    record.phq9_score = Some(18);
    record.gad7_score = Some(15);
    record.albumin_g_dl = Some(2.6);
    record.igg_g_l = Some(3.0);
    record.tacrolimus_trough_ng_ml = Some(16.0);
    let answer = answer(&record);
    assert_eq!(answer.levers.len(), 6, "{answer:#?}");
    let default = levers(&models(), &Policy::default(), &record, Vec::new());
    assert!(
        default.levers.iter().all(|l| l.input != LeverInput::Igg),
        "igg is off by default"
    );
    assert_eq!(default.levers.len(), 5);
    for pair in answer.levers.windows(2) {
        assert!(pair[0].changed.total_reduction >= pair[1].changed.total_reduction);
    }
    let all = answer.all_levers.unwrap();
    let m = models();
    let mut changed = record;
    changed.adherence_pct = Some(95.0);
    changed.phq9_score = Some(4);
    changed.gad7_score = Some(4);
    changed.albumin_g_dl = Some(3.5);
    changed.igg_g_l = Some(4.0);
    changed.tacrolimus_trough_ng_ml = Some(8.0);
    assert_eq!(all.risks[INFECTION], m.infection.predict(&changed));
    assert_eq!(all.risks[READMISSION], m.readmission.predict(&changed));
}

#[test]
fn missing_inputs_are_named_and_disabled_inputs_never_offered() {
    let mut record = on_target();
    record.adherence_pct = None;
    record.phq9_score = None;
    record.phq9_item9 = None;
    record.gad7_score = Some(12);
    let answer_ = answer(&record);
    assert_eq!(
        answer_.not_recorded,
        vec![LeverInput::Adherence, LeverInput::Depression]
    );
    assert_eq!(
        answer_.levers.iter().map(|l| l.input).collect::<Vec<_>>(),
        vec![LeverInput::Anxiety]
    );
    let mut policy = all_enabled();
    policy.levers.disabled = vec![LeverInput::Anxiety, LeverInput::Adherence];
    let disabled = levers(&models(), &policy, &record, Vec::new());
    assert!(disabled.levers.is_empty());
    assert_eq!(disabled.not_recorded, vec![LeverInput::Depression]);
}

#[test]
fn a_safety_signal_is_never_lost() {
    let mut record = on_target();
    record.phq9_score = Some(12);
    record.phq9_item9 = Some(2);
    let answer = answer(&record);
    assert_eq!(answer.safety_flags, vec![Flag::MentalHealthUrgent]);
}

/// The fields a lever may change: nothing else, whatever the record.
const MODIFIABLE: [&str; 6] = [
    "adherence_pct",
    "tacrolimus_trough_ng_ml",
    "phq9_score",
    "gad7_score",
    "albumin_g_dl",
    "igg_g_l",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn only_modifiable_inputs_are_ever_levers(
        organ in 0usize..4,
        days in 0u32..4000,
        adherence in proptest::option::of(30.0f64..100.0),
        trough in proptest::option::of(0.5f64..30.0),
        phq9 in proptest::option::of(0u32..=27),
        gad7 in proptest::option::of(0u32..=21),
        albumin in proptest::option::of(1.5f64..5.5),
        igg in proptest::option::of(1.0f64..20.0),
        age in 18.0f64..90.0,
        rejections in 0u32..4,
        tier in proptest::option::of(0usize..3),
        enrolled in any::<bool>(),
    ) {
        let mut record = example();
        record.organ = Organ::ALL[organ];
        record.days_since_transplant = days;
        record.adherence_pct = adherence;
        record.tacrolimus_trough_ng_ml = trough;
        record.phq9_score = phq9;
        record.phq9_item9 = phq9.map(|_| 0);
        record.gad7_score = gad7;
        record.albumin_g_dl = albumin;
        record.igg_g_l = igg;
        record.age_years = age;
        record.acute_rejection_episodes_12m = rejections;
        record.current_tier = tier.map(|t| crate::Tier::ALL[t]);
        record.enrolled_in_program = enrolled;
        let answer = answer(&record);
        for lever in &answer.levers {
            prop_assert!(MODIFIABLE.contains(&lever.field), "{} is not modifiable", lever.field);
            prop_assert_eq!(lever.input.field().name(), lever.field);
            prop_assert!(lever.value != lever.target_value);
        }
        let mut inputs: Vec<LeverInput> = answer.levers.iter().map(|l| l.input).chain(answer.not_recorded.iter().copied()).collect();
        inputs.sort();
        inputs.dedup();
        prop_assert_eq!(inputs.len(), answer.levers.len() + answer.not_recorded.len());
    }
}

#[test]
fn input_names_are_their_wire_names() {
    for input in LeverInput::ALL {
        assert_eq!(serde_json::to_value(input).unwrap(), serde_json::json!(input.as_str()));
    }
}
