//! The input rules of a spec model, its bands and flags, and that its score
//! is the model's own.

use super::*;
use crate::artifact::{
    AllowedRange, Calibration, CensoringRule, DeclaredFlag, Estimator, LabelRule, TrainerInfo, ARTIFACT_FORMAT,
};

/// A logistic spec model: age (numeric, 18-110, never missing), ward
/// (categorical), lactate (numeric, sometimes missing), diabetic (boolean).
fn artifact() -> ModelArtifact {
    let feature = |name: &str, kind, missing_indicator, allowed_range| FeatureSpec {
        name: name.into(),
        kind,
        missing_indicator,
        allowed_range,
        training_bins: None,
        training_shares: None,
    };
    let artifact = ModelArtifact {
        format: ARTIFACT_FORMAT.to_string(),
        target: "icu_readmission_30d".into(),
        horizon_days: 30,
        label_rule: LabelRule::TimeToEvent {
            time_column: "followup_days".into(),
            event_column: "readmitted".into(),
            censoring: CensoringRule::Ipcw,
        },
        operating_thresholds: vec![0.1, 0.2],
        flags: vec![DeclaredFlag {
            name: "early_review".into(),
            above: 0.25,
        }],
        version: 2,
        features: vec![
            feature(
                "age",
                FeatureKind::Numeric {
                    center: 60.0,
                    scale: 15.0,
                },
                false,
                Some(AllowedRange {
                    min: Some(18.0),
                    max: Some(110.0),
                }),
            ),
            feature(
                "ward",
                FeatureKind::Categorical {
                    categories: vec!["icu".into(), "medical".into()],
                },
                false,
                None,
            ),
            feature(
                "lactate",
                FeatureKind::Numeric {
                    center: 2.0,
                    scale: 1.0,
                },
                true,
                None,
            ),
            feature("diabetic", FeatureKind::Boolean, false, None),
        ],
        // Design: age, ward=icu, ward=medical, lactate, lactate missing, diabetic.
        estimator: Estimator::Logistic {
            intercept: -2.0,
            coefficients: vec![0.5, 0.8, -0.2, 0.3, 0.4, 0.6],
            l2: 1.0,
        },
        calibration: Calibration::Platt { a: 1.0, b: 0.0 },
        probability_bins: None,
        metrics: BTreeMap::new(),
        training_data: crate::artifact::DataFingerprint {
            rows: 100,
            events: 20,
            sha256: "0".repeat(64),
        },
        trainer: TrainerInfo {
            name: "carescore-train".into(),
            version: "0".into(),
            seed: 1,
            source_date_epoch: None,
        },
        sha256: String::new(),
    };
    ModelArtifact::from_json(artifact.to_json().as_bytes()).expect("a valid artifact")
}

fn errors(body: &str) -> Vec<(String, &'static str)> {
    match parse_model_input(&artifact(), body.as_bytes()) {
        Err(InputError::Invalid(errors)) => errors.into_iter().map(|e| (e.field, e.rule.id())).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[test]
fn a_valid_input_is_read_with_missing_values_where_training_saw_them() {
    let input = parse_model_input(
        &artifact(),
        br#"{"case_id": "c-1", "age": 70, "ward": "icu", "lactate": null, "diabetic": true}"#,
    )
    .unwrap();
    assert_eq!(input.case_id.as_deref(), Some("c-1"));
    assert_eq!(input.value("age"), Some(FieldValue::Number(70.0)));
    assert_eq!(input.value("ward"), Some(FieldValue::Text("icu")));
    assert_eq!(input.value("lactate"), None);
    assert_eq!(input.value("diabetic"), Some(FieldValue::Boolean(true)));
    // Absent is the same as null for a feature training saw missing; no case id is fine.
    let absent = parse_model_input(&artifact(), br#"{"age": 70, "ward": "icu", "diabetic": true}"#).unwrap();
    assert_eq!(absent.value("lactate"), None);
    assert_eq!(absent.case_id, None);
}

#[test]
fn every_problem_is_named_at_once_without_the_values() {
    let body = r#"{"case_id": "bad id!", "age": 130, "ward": "Surgical", "diabetic": "yes", "lactat": 2.5,
                  "lactate": "high"}"#;
    assert_eq!(
        errors(body),
        [
            ("lactat".to_string(), "unknown_field"),
            ("case_id".to_string(), "case_id_format"),
            ("age".to_string(), "out_of_range"),
            ("ward".to_string(), "not_allowed_value"),
            ("lactate".to_string(), "wrong_type"),
            ("diabetic".to_string(), "wrong_type"),
        ]
    );
    let Err(InputError::Invalid(all)) = parse_model_input(&artifact(), body.as_bytes()) else {
        panic!("invalid");
    };
    let text = format!("{all:?}");
    assert!(
        !text.contains("130") && !text.contains("Surgical") && !text.contains("bad id!"),
        "{text}"
    );
    let age = all.iter().find(|e| e.field == "age").unwrap();
    assert_eq!(age.allowed, "a number from 18 to 110");
    let ward = all.iter().find(|e| e.field == "ward").unwrap();
    assert_eq!(ward.allowed, "one of: icu, medical");
    let unknown = all.iter().find(|e| e.field == "lactat").unwrap();
    assert!(unknown.allowed.contains("age, ward, lactate, diabetic"), "{unknown:?}");
}

#[test]
fn required_duplicate_and_shape_problems_are_refused() {
    // Training never saw age, ward or diabetic missing: each is required, null or absent.
    assert_eq!(
        errors(r#"{"age": null}"#),
        [
            ("age".to_string(), "required"),
            ("ward".to_string(), "required"),
            ("diabetic".to_string(), "required"),
        ]
    );
    assert_eq!(
        errors(r#"{"age": 50, "age": 60, "ward": "icu", "diabetic": false}"#),
        [("age".to_string(), "duplicate_field")]
    );
    assert_eq!(parse_model_input(&artifact(), b"[1, 2]"), Err(InputError::NotObject));
    assert!(matches!(
        parse_model_input(&artifact(), b"{\"age\": "),
        Err(InputError::NotJson(_))
    ));
}

#[test]
fn bands_are_named_from_the_thresholds() {
    assert!(band_names(0).is_empty());
    assert_eq!(band_names(1), ["low", "high"]);
    assert_eq!(band_names(2), ["low", "medium", "high"]);
    assert_eq!(band_names(4), ["low", "medium_1", "medium_2", "medium_3", "high"]);
    let thresholds = [0.1, 0.2];
    assert_eq!(
        band_of(0.1, &thresholds).as_deref(),
        Some("low"),
        "above a threshold, not at it"
    );
    assert_eq!(band_of(0.15, &thresholds).as_deref(), Some("medium"));
    assert_eq!(band_of(0.9, &thresholds).as_deref(), Some("high"));
    assert_eq!(band_of(0.5, &[]), None);
}

#[test]
fn the_score_is_the_models_own_with_its_explanation_band_and_flags() {
    let artifact = artifact();
    let model = artifact.compile();
    let input = parse_model_input(&artifact, br#"{"age": 85, "ward": "icu", "diabetic": true}"#).unwrap();
    let score = score_model_input(&model, &input);
    assert_eq!(
        score.probability,
        model.predict(&input),
        "the same probability as predict, bit for bit"
    );
    // By hand: age (85 - 60) / 15, ward=icu, lactate missing, diabetic.
    let raw = -2.0 + 0.5 * (25.0 / 15.0) + 0.8 + 0.4 + 0.6;
    assert!((score.probability - crate::artifact::sigmoid(raw)).abs() < 1e-12);
    let sum: f64 = score.contributions.iter().map(|c| c.contribution).sum();
    assert!((score.base_value + sum - score.raw).abs() < 1e-12);
    assert_eq!(score.contributions.len(), 4, "one contribution per feature");
    assert_eq!(score.contributions[2].value, serde_json::Value::Null, "lactate missing");
    assert_eq!(
        (score.target.as_str(), score.scale),
        ("icu_readmission_30d", "log_odds")
    );
    assert!(score.probability > 0.25);
    assert_eq!(score.band.as_deref(), Some("high"));
    assert_eq!(score.flags, ["early_review"]);
    // A low-risk input raises no flag.
    let low = parse_model_input(
        &artifact,
        br#"{"age": 20, "ward": "medical", "lactate": 1.0, "diabetic": false}"#,
    )
    .unwrap();
    let score = score_model_input(&model, &low);
    assert_eq!(score.band.as_deref(), Some("low"));
    assert!(score.flags.is_empty());
}

#[test]
fn a_number_beyond_what_training_held_is_scored_with_a_warning() {
    let mut artifact = artifact();
    // Training held lactate 0.1 to 10.0 (100 rows): the 10th smallest is 1.0, the 10th largest 9.1.
    artifact.features[2].training_bins =
        crate::artifact::TrainingBins::of((1..=100).map(|i| f64::from(i) / 10.0).collect(), 5);
    let sealed = ModelArtifact::from_json(artifact.to_json().as_bytes()).unwrap();
    let warned = |lactate: &str| {
        let body = format!(r#"{{"age": 70, "ward": "icu", "lactate": {lactate}, "diabetic": false}}"#);
        parse_model_input(&sealed, body.as_bytes()).unwrap().warnings
    };
    assert!(warned("1.0").is_empty() && warned("9.1").is_empty() && warned("4.25").is_empty());
    let below = warned("0.55");
    assert_eq!(below.len(), 1, "{below:?}");
    assert_eq!(below[0].field, "lactate");
    assert_eq!(below[0].rule, InputWarningRule::OutsideTrainingRange);
    assert!(
        below[0].message.contains("below 1,") || below[0].message.contains("below 1 "),
        "{}",
        below[0].message
    );
    assert!(
        !below[0].message.contains("0.55"),
        "never the value: {}",
        below[0].message
    );
    assert_eq!(warned("12.5")[0].rule, InputWarningRule::OutsideTrainingRange);
    assert!(warned("12.5")[0].message.contains("above 9.1"));
    // The warning travels to the score, which is the model's as without it.
    let model = sealed.compile();
    let input = parse_model_input(
        &sealed,
        br#"{"age": 70, "ward": "icu", "lactate": 12.5, "diabetic": false}"#,
    )
    .unwrap();
    let scored = score_model_input(&model, &input);
    assert_eq!(scored.warnings, input.warnings);
    assert_eq!(scored.probability, model.predict(&input));
}

#[test]
fn an_artifact_with_a_feature_called_case_id_is_refused() {
    let mut artifact = artifact();
    artifact.features[1].name = CASE_ID.into();
    let error = ModelArtifact::from_json(artifact.to_json().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(error.contains("may not be called `case_id`"), "{error}");
}

#[test]
fn the_case_id_key_is_the_records() {
    assert_eq!(CASE_ID, crate::Field::CaseId.name());
}
