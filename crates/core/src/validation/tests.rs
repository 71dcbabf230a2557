//! One test per validation rule, with the exact error or warning it produces.

use serde_json::{json, Value};

use super::*;
use crate::{Field, Phase};

/// A complete, plausible record.
fn base() -> Value {
    serde_json::from_str(crate::EXAMPLE_RECORD_JSON).unwrap()
}

/// The base record with `changes` applied; a `None` value removes the key.
fn with(changes: &[(&str, Option<Value>)]) -> Value {
    let mut record = base();
    let map = record.as_object_mut().unwrap();
    for (key, value) in changes {
        match value {
            Some(v) => map.insert((*key).to_string(), v.clone()),
            None => map.remove(*key),
        };
    }
    record
}

fn set(key: &str, value: Value) -> Value {
    with(&[(key, Some(value))])
}

fn errors(record: &Value) -> Vec<FieldError> {
    match parse_record(record.to_string().as_bytes()) {
        Err(RecordError::Invalid { errors, .. }) => errors,
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn warnings(record: &Value) -> Vec<Warning> {
    parse_record(record.to_string().as_bytes())
        .expect("a valid record")
        .warnings
}

fn err(field: &str, message: &str, allowed: &str, rule: &'static str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
        allowed: allowed.into(),
        rule: *Rule::ALL.iter().find(|r| r.id() == rule).expect("a hard rule id"),
    }
}

/// Asserts that `record` raises exactly the warning of rule `id`.
fn assert_single_warning(record: &Value, id: &str) {
    let rule = PLAUSIBILITY_RULES.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        warnings(record),
        vec![Warning {
            field: rule.field.name(),
            message: rule.message.to_string(),
            rule: rule.id
        }]
    );
}

#[test]
fn base_record_is_valid_and_plausible() {
    let screened = parse_record(base().to_string().as_bytes()).unwrap();
    assert!(screened.warnings.is_empty());
    assert_eq!(screened.record.case_id, "c-102");
    assert_eq!(
        screened.record.cmv_serostatus,
        crate::CmvSerostatus::DonorPosRecipientNeg
    );
    assert_eq!(screened.record.phase(), Phase::Acute);
}

#[test]
fn optional_fields_may_be_absent_or_null() {
    let optional: Vec<&str> = Field::ALL
        .iter()
        .filter(|f| f.spec().presence != crate::Presence::Required)
        .map(|f| f.name())
        .collect();
    let removed: Vec<(&str, Option<Value>)> = optional.iter().map(|k| (*k, None)).collect();
    let record = parse_record(with(&removed).to_string().as_bytes()).unwrap().record;
    assert_eq!(record.tacrolimus_trough_ng_ml, None);
    assert!(!record.enrolled_in_program, "absent enrolment defaults to false");
    let nulled: Vec<(&str, Option<Value>)> = optional.iter().map(|k| (*k, Some(Value::Null))).collect();
    let record = parse_record(with(&nulled).to_string().as_bytes()).unwrap().record;
    assert_eq!(record.current_tier, None);
    assert!(!record.enrolled_in_program);
}

// ---- hard rules ----

#[test]
fn rule_required_missing() {
    assert_eq!(
        errors(&with(&[("egfr_ml_min", None)])),
        [err("egfr_ml_min", "is required", "a number from 0 to 200", "required")]
    );
}

#[test]
fn rule_required_null() {
    assert_eq!(
        errors(&set("organ", Value::Null)),
        [err(
            "organ",
            "must not be null",
            "one of: kidney, liver, heart, lung",
            "required"
        )]
    );
}

#[test]
fn rule_unknown_field() {
    assert_eq!(
        errors(&set("egfr", json!(50))),
        [err(
            "egfr",
            "is not a field of the patient record",
            "the fields of the patient record (see GET /openapi.json)",
            "unknown_field"
        )]
    );
}

#[test]
fn rule_unknown_field_long_key_is_cut() {
    let key = "x".repeat(500);
    let errs = errors(&set(&key, json!(1)));
    assert_eq!(errs[0].field.len(), 64);
}

#[test]
fn rule_duplicate_field() {
    let body = base().to_string().replacen('{', "{\"bmi\": 30.0, ", 1);
    match parse_record(body.as_bytes()) {
        Err(RecordError::Invalid { errors: errs, .. }) => assert_eq!(
            errs,
            [err(
                "bmi",
                "is given more than once",
                "each field at most once",
                "duplicate_field"
            )]
        ),
        other => panic!("expected a duplicate error, got {other:?}"),
    }
}

#[test]
fn rule_wrong_type_number() {
    assert_eq!(
        errors(&set("bmi", json!("27"))),
        [err("bmi", "must be a number", "a number from 12 to 70", "wrong_type")]
    );
}

#[test]
fn rule_wrong_type_whole_number() {
    assert_eq!(
        errors(&set("icu_days", json!(1.5))),
        [err(
            "icu_days",
            "must be a whole number",
            "a whole number from 0 to 365",
            "wrong_type"
        )]
    );
}

#[test]
fn rule_wrong_type_boolean() {
    assert_eq!(
        errors(&set("diabetes", json!("yes"))),
        [err("diabetes", "must be true or false", "true or false", "wrong_type")]
    );
}

#[test]
fn rule_wrong_type_string() {
    assert_eq!(
        errors(&set("sex", json!(1))),
        [err("sex", "must be a string", "one of: female, male", "wrong_type")]
    );
}

#[test]
fn rule_not_finite() {
    let mut record = parse_record(base().to_string().as_bytes()).unwrap().record;
    record.bmi = f64::NAN;
    assert_eq!(
        validate(&record).errors,
        [err(
            "bmi",
            "must be a finite number",
            "a number from 12 to 70",
            "not_finite"
        )]
    );
}

#[test]
fn rule_out_of_range_number() {
    assert_eq!(
        errors(&set("age_years", json!(111))),
        [err(
            "age_years",
            "is outside the allowed range",
            "a number from 0 to 110",
            "out_of_range"
        )]
    );
}

#[test]
fn rule_out_of_range_integer_negative_and_huge() {
    assert_eq!(
        errors(&set("ed_visits_6m", json!(-1))),
        [err(
            "ed_visits_6m",
            "is outside the allowed range",
            "a whole number from 0 to 50",
            "out_of_range"
        )]
    );
    assert_eq!(
        errors(&set("charlson_index", json!(u64::MAX))),
        [err(
            "charlson_index",
            "is outside the allowed range",
            "a whole number from 0 to 37",
            "out_of_range"
        )]
    );
}

#[test]
fn every_range_bound_is_inclusive_and_enforced() {
    for field in Field::ALL {
        let (low, high, step) = match field.spec().kind {
            crate::FieldKind::Number { min, max } => (json!(min), json!(max), (json!(min - 0.01), json!(max + 0.01))),
            crate::FieldKind::Integer { min, max } => (json!(min), json!(max), (json!(min - 1), json!(max + 1))),
            _ => continue,
        };
        for ok in [low, high] {
            let record = set(field.name(), ok);
            let report = parse_record(record.to_string().as_bytes());
            // A bound may break a cross-field rule (e.g. icu_days 365 > stay); never a range rule.
            if let Err(RecordError::Invalid { errors: errs, .. }) = report {
                assert!(
                    errs.iter().all(|e| e.rule.id() != "out_of_range"),
                    "{}: {errs:?}",
                    field.name()
                );
            }
        }
        for bad in [step.0, step.1] {
            let errs = errors(&set(field.name(), bad));
            assert!(
                errs.iter()
                    .any(|e| e.field == field.name() && e.rule.id() == "out_of_range"),
                "{}",
                field.name()
            );
        }
    }
}

#[test]
fn rule_not_allowed_value() {
    assert_eq!(
        errors(&set("cmv_serostatus", json!("D+R-"))),
        [err(
            "cmv_serostatus",
            "is not one of the allowed values",
            "one of: D+/R-, D+/R+, D-/R+, D-/R-",
            "not_allowed_value"
        )]
    );
    // Names are exact and case-sensitive.
    assert_eq!(errors(&set("organ", json!("Kidney")))[0].rule.id(), "not_allowed_value");
}

#[test]
fn rule_case_id_format() {
    for bad in ["", "has space", "ü", &"a".repeat(65)] {
        assert_eq!(
            errors(&set("case_id", json!(bad))),
            [err(
                "case_id",
                "must be 1-64 characters from A-Z a-z 0-9 . _ -",
                "1-64 characters from A-Z a-z 0-9 . _ -",
                "case_id_format"
            )],
            "{bad:?}"
        );
    }
    assert!(parse_record(set("case_id", json!("A.b_c-9".repeat(9))).to_string().as_bytes()).is_ok());
}

#[test]
fn rule_icu_days_exceed_stay() {
    assert_eq!(
        errors(&with(&[
            ("icu_days", Some(json!(7))),
            ("index_length_of_stay_days", Some(json!(6)))
        ])),
        [err(
            "icu_days",
            "is greater than index_length_of_stay_days",
            "a whole number from 0 to index_length_of_stay_days",
            "icu_days_exceed_stay"
        )]
    );
}

#[test]
fn rule_transplant_before_birth() {
    let record = with(&[
        ("age_years", Some(json!(10))),
        ("days_since_transplant", Some(json!(5000))),
    ]);
    assert_eq!(
        errors(&record),
        [err(
            "days_since_transplant",
            "places the transplant before the patient's birth (see age_years)",
            "at most (age_years + 1) x 365.25 days",
            "transplant_before_birth"
        )]
    );
    // Within the one-year rounding slack: accepted.
    let ok = with(&[
        ("age_years", Some(json!(10))),
        ("days_since_transplant", Some(json!(4000))),
    ]);
    assert!(parse_record(ok.to_string().as_bytes()).is_ok());
}

#[test]
fn warn_phq9_item9_exceeds_total() {
    // A warning, never a refusal: the self-harm signal is kept and acted on.
    let record = with(&[("phq9_score", Some(json!(0))), ("phq9_item9", Some(json!(1)))]);
    assert_single_warning(&record, "phq9_item9_exceeds_total");
    let screened = parse_record(record.to_string().as_bytes()).unwrap();
    let flags = crate::policy::flags(
        &screened.record,
        0.01,
        crate::Tier::SelfService,
        &crate::Policy::default(),
    );
    assert!(flags.contains(&crate::policy::Flag::MentalHealthUrgent), "{flags:?}");
}

#[test]
fn integral_numbers_are_accepted_where_an_integer_is_expected() {
    // JSON Schema: an integer is a number whose fractional part is zero.
    for (value, days) in [(json!(40.0), 40), (json!(4e1), 40), (json!(-0.0), 0)] {
        let record = set("days_since_transplant", value.clone());
        let screened = parse_record(record.to_string().as_bytes()).unwrap_or_else(|e| panic!("{value}: {e:?}"));
        assert_eq!(screened.record.days_since_transplant, days, "{value}");
    }
    // The typed record reads them itself (the fast path), counts and optional counts alike.
    let typed = with(&[("icu_days", Some(json!(1.0))), ("phq9_score", Some(json!(4.0)))]);
    let record: PatientRecord = serde_json::from_value(typed).unwrap();
    assert_eq!((record.icu_days, record.phq9_score), (1, Some(4)));
    assert!(serde_json::from_value::<PatientRecord>(set("icu_days", json!(1.5))).is_err());
    assert_eq!(
        errors(&set("days_since_transplant", json!(40.5)))[0].rule.id(),
        "wrong_type"
    );
    assert_eq!(
        errors(&set("days_since_transplant", json!(1e300)))[0].rule.id(),
        "out_of_range"
    );
    assert_eq!(
        errors(&set("days_since_transplant", json!(-1e300)))[0].rule.id(),
        "out_of_range"
    );
    assert_eq!(
        errors(&set("icu_days", json!(2.0e1)))[0].rule.id(),
        "icu_days_exceed_stay"
    );
}

#[test]
fn cross_field_rules_skip_fields_that_are_already_invalid() {
    // icu_days out of range: reported once, as a range error, not also as exceeding the stay.
    let errs = errors(&set("icu_days", json!(400)));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].rule.id(), "out_of_range");
}

#[test]
fn all_problems_are_reported_at_once() {
    let record = with(&[
        ("organ", Some(json!("pancreas"))),
        ("bmi", Some(json!(5))),
        ("sex", None),
        ("diabetes", Some(json!("no"))),
        ("egfr", Some(json!(40))),
        ("icu_days", Some(json!(9))),
        ("phq9_item9", Some(json!(4))),
    ]);
    let mut got: Vec<(String, &str)> = errors(&record).into_iter().map(|e| (e.field, e.rule.id())).collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("bmi".to_string(), "out_of_range"),
            ("diabetes".to_string(), "wrong_type"),
            ("egfr".to_string(), "unknown_field"),
            ("icu_days".to_string(), "icu_days_exceed_stay"),
            ("organ".to_string(), "not_allowed_value"),
            ("phq9_item9".to_string(), "out_of_range"),
            ("sex".to_string(), "required"),
        ]
    );
}

#[test]
fn errors_never_echo_the_values() {
    let record = with(&[("bmi", Some(json!(987.654))), ("organ", Some(json!("secret-organ")))]);
    let text = serde_json::to_string(&errors(&record)).unwrap();
    assert!(!text.contains("987") && !text.contains("secret"), "{text}");
}

#[test]
fn not_json_and_not_object_are_distinguished() {
    assert!(matches!(parse_record(b"{not json"), Err(RecordError::NotJson(_))));
    assert!(matches!(parse_record(b""), Err(RecordError::NotJson(_))));
    assert!(matches!(parse_record(b"[1, 2]"), Err(RecordError::NotObject)));
    assert!(matches!(parse_record(b"\"text\""), Err(RecordError::NotObject)));
    // Nested beyond serde_json's depth limit (128) inside an object: not JSON we accept.
    let deep = format!("{{\"case_id\": {}", "[".repeat(10_000));
    assert!(matches!(parse_record(deep.as_bytes()), Err(RecordError::NotJson(_))));
}

#[test]
fn a_body_that_is_not_utf8_is_not_json_and_says_where() {
    // A valid record with one byte of a case id that is not UTF-8.
    let mut body = serde_json::to_vec(&base()).unwrap();
    let at = body.windows(9).position(|w| w == b"\"case_id\"").expect("the case id") + 10;
    body[at + 1] = 0xff;
    match parse_record(&body) {
        Err(RecordError::NotJson(detail)) => assert!(detail.contains("column"), "{detail}"),
        other => panic!("expected NotJson, got {other:?}"),
    }
}

#[test]
fn parse_record_value_matches_parse_record() {
    let record = set("bmi", json!(90));
    assert_eq!(parse_record_value(&record), parse_record(record.to_string().as_bytes()));
    assert_eq!(parse_record_value(&json!(3)), Err(RecordError::NotObject));
    let ok = base();
    assert_eq!(parse_record_value(&ok), parse_record(ok.to_string().as_bytes()));
}

#[test]
fn unknown_fields_are_rejected_by_the_typed_struct_too() {
    let err = serde_json::from_value::<PatientRecord>(set("egfr", json!(1))).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
}

#[test]
fn json_round_trip_is_lossless() {
    let record = parse_record(base().to_string().as_bytes()).unwrap().record;
    let text = serde_json::to_string(&record).unwrap();
    let again = parse_record(text.as_bytes()).unwrap().record;
    assert_eq!(record, again);
    assert_eq!(serde_json::to_value(&again).unwrap(), base());
}

// ---- plausibility rules ----

#[test]
fn plausibility_rule_ids_are_unique() {
    let mut ids: Vec<&str> = PLAUSIBILITY_RULES.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), PLAUSIBILITY_RULES.len());
}

#[test]
fn warn_age_outside_adult_range() {
    assert_single_warning(&set("age_years", json!(17)), "age_outside_adult_range");
    assert_single_warning(&set("age_years", json!(86)), "age_outside_adult_range");
}

#[test]
fn warn_bmi_extreme() {
    assert_single_warning(&set("bmi", json!(14.9)), "bmi_extreme");
    assert_single_warning(&set("bmi", json!(51)), "bmi_extreme");
}

#[test]
fn warn_egfr_above_150() {
    assert_single_warning(&set("egfr_ml_min", json!(151)), "egfr_above_150");
}

#[test]
fn warn_egfr_high_for_age() {
    let record = with(&[("age_years", Some(json!(85))), ("egfr_ml_min", Some(json!(120)))]);
    assert_single_warning(&record, "egfr_high_for_age");
    let young = with(&[("age_years", Some(json!(30))), ("egfr_ml_min", Some(json!(120)))]);
    assert!(warnings(&young).is_empty());
}

#[test]
fn warn_egfr_below_5() {
    assert_single_warning(&set("egfr_ml_min", json!(4)), "egfr_below_5");
}

#[test]
fn warn_tacrolimus_above_25() {
    assert_single_warning(&set("tacrolimus_trough_ng_ml", json!(25.5)), "tacrolimus_above_25");
    assert!(warnings(&set("tacrolimus_trough_ng_ml", json!(25))).is_empty());
}

#[test]
fn warn_lymphocytes_above_10() {
    assert_single_warning(&set("lymphocyte_count_10e9_l", json!(12)), "lymphocytes_above_10");
}

#[test]
fn warn_igg_extreme() {
    assert_single_warning(&set("igg_g_l", json!(1)), "igg_extreme");
    assert_single_warning(&set("igg_g_l", json!(30)), "igg_extreme");
}

#[test]
fn warn_albumin_extreme() {
    assert_single_warning(&set("albumin_g_dl", json!(1.2)), "albumin_extreme");
    assert_single_warning(&set("albumin_g_dl", json!(6)), "albumin_extreme");
}

#[test]
fn warn_stay_over_60_days() {
    assert_single_warning(&set("index_length_of_stay_days", json!(61)), "stay_over_60_days");
}

#[test]
fn warn_icu_over_30_days() {
    let record = with(&[
        ("index_length_of_stay_days", Some(json!(40))),
        ("icu_days", Some(json!(31))),
    ]);
    assert_single_warning(&record, "icu_over_30_days");
}

#[test]
fn warn_ed_visits_over_10() {
    assert_single_warning(&set("ed_visits_6m", json!(11)), "ed_visits_over_10");
}

#[test]
fn warn_hospitalizations_over_10() {
    assert_single_warning(&set("hospitalizations_12m", json!(11)), "hospitalizations_over_10");
}

#[test]
fn warn_infections_over_10() {
    assert_single_warning(&set("prior_infections_12m", json!(11)), "infections_over_10");
}

#[test]
fn warn_rejections_over_4() {
    assert_single_warning(&set("acute_rejection_episodes_12m", json!(5)), "rejections_over_4");
}

#[test]
fn warn_charlson_over_15() {
    assert_single_warning(&set("charlson_index", json!(16)), "charlson_over_15");
}

#[test]
fn warn_distance_over_2000_km() {
    assert_single_warning(&set("distance_to_center_km", json!(2500)), "distance_over_2000_km");
}

#[test]
fn warn_complication_free_beyond_follow_up() {
    // 40 days since transplant, 3 years without complications.
    assert_single_warning(
        &set("years_without_complications", json!(3)),
        "complication_free_beyond_follow_up",
    );
}

#[test]
fn complication_free_years_may_equal_whole_years_since_transplant() {
    let record = with(&[
        ("days_since_transplant", Some(json!(730))),
        ("years_without_complications", Some(json!(2))),
    ]);
    assert!(warnings(&record).is_empty(), "two years of 365 days");
    let record = with(&[
        ("days_since_transplant", Some(json!(729))),
        ("years_without_complications", Some(json!(2))),
    ]);
    assert_single_warning(&record, "complication_free_beyond_follow_up");
}

#[test]
fn warn_complication_free_despite_recent_event() {
    for event in ["acute_rejection_episodes_12m", "prior_infections_12m"] {
        let record = with(&[
            ("days_since_transplant", Some(json!(3000))),
            ("years_without_complications", Some(json!(5))),
            (event, Some(json!(1))),
        ]);
        assert_single_warning(&record, "complication_free_despite_recent_event");
    }
    let record = with(&[
        ("days_since_transplant", Some(json!(3000))),
        ("years_without_complications", Some(json!(0))),
        ("acute_rejection_episodes_12m", Some(json!(1))),
    ]);
    assert!(warnings(&record).is_empty(), "no complication-free year claimed");
}

#[test]
fn warn_days_since_transplant_over_20000() {
    let record = with(&[
        ("age_years", Some(json!(80))),
        ("days_since_transplant", Some(json!(20_001))),
    ]);
    assert_single_warning(&record, "days_since_transplant_over_20000");
}

#[test]
fn every_plausibility_rule_has_a_test() {
    let source = include_str!("tests.rs");
    for rule in PLAUSIBILITY_RULES {
        assert!(
            source.contains(&format!("fn warn_{}()", rule.id)),
            "no test for {}",
            rule.id
        );
    }
}

#[test]
fn warnings_and_errors_are_reported_together_in_validate() {
    let mut record = parse_record(base().to_string().as_bytes()).unwrap().record;
    record.tacrolimus_trough_ng_ml = Some(30.0);
    record.icu_days = 10;
    let report = validate(&record);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.warnings.len(), 1);
    assert!(!report.is_valid());
}

#[test]
fn the_data_contract_document_lists_every_field_and_rule() {
    let doc = include_str!("../../../../docs/data-contract.md");
    for field in Field::ALL {
        let spec = field.spec();
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", spec.name)))
            .unwrap_or_else(|| panic!("{} is not in docs/data-contract.md", spec.name));
        assert!(row.contains(&spec.kind.allowed()), "{}: {row}", spec.name);
    }
    for rule in PLAUSIBILITY_RULES {
        assert!(doc.contains(&format!("| `{}` |", rule.id)), "{}", rule.id);
    }
    for rule in Rule::ALL {
        assert!(doc.contains(&format!("| `{}` |", rule.id())), "{rule}");
    }
}
