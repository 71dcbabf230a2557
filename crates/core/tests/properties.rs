//! Property tests (proptest) over the default models and policy: any record
//! that passes validation scores to finite probabilities in [0, 1] whose
//! explanations add up to the model output; the recommended tier never falls
//! when a risk rises; records survive a JSON round trip; and arbitrary bytes
//! or JSON never panic the parser and validator.

use carescore_core::policy::recommended_tier;
use carescore_core::scoring::{score, underwrite, Models};
use carescore_core::{parse_record, Field, FieldKind, ModelArtifact, PatientRecord, Policy, Presence};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let load = |bytes: &[u8]| ModelArtifact::from_json(bytes).expect("default model");
        Models::new(
            load(include_bytes!("../../../models/infection_180d-1.json")),
            load(include_bytes!("../../../models/readmission_30d-1.json")),
        )
        .expect("default models")
    })
}

/// A value anywhere in a field's contract (or absent, when it may be).
fn field_value(field: Field) -> BoxedStrategy<Option<Value>> {
    let spec = field.spec();
    let value: BoxedStrategy<Value> = match spec.kind {
        FieldKind::CaseId => "[A-Za-z0-9._-]{1,64}".prop_map(Value::from).boxed(),
        FieldKind::Number { min, max } => (min..=max).prop_map(|x| json!(x)).boxed(),
        FieldKind::Integer { min, max } => (min..=max).prop_map(|n| json!(n)).boxed(),
        FieldKind::Boolean => any::<bool>().prop_map(Value::from).boxed(),
        FieldKind::Category(names) => proptest::sample::select(names).prop_map(Value::from).boxed(),
    };
    match spec.presence {
        Presence::Required => value.prop_map(Some).boxed(),
        _ => proptest::option::weighted(0.8, value).boxed(),
    }
}

/// A record within every field's range, made consistent across fields (ICU
/// days within the stay, item 9 within the PHQ-9 total, the transplant after
/// birth), as JSON.
fn valid_record_json() -> impl Strategy<Value = String> {
    Field::ALL
        .iter()
        .map(|&f| field_value(f).prop_map(move |v| (f, v)))
        .collect::<Vec<_>>()
        .prop_map(|pairs| {
            let mut record = Map::new();
            for (field, value) in pairs {
                if let Some(value) = value {
                    record.insert(field.name().to_string(), value);
                }
            }
            let number = |r: &Map<String, Value>, name: &str| r.get(name).and_then(Value::as_f64);
            if let (Some(icu), Some(stay)) = (
                number(&record, "icu_days"),
                number(&record, "index_length_of_stay_days"),
            ) {
                record.insert("icu_days".into(), json!(icu.min(stay) as i64));
            }
            if let (Some(item9), Some(total)) = (number(&record, "phq9_item9"), number(&record, "phq9_score")) {
                record.insert("phq9_item9".into(), json!(item9.min(total) as i64));
            }
            if let (Some(days), Some(age)) = (number(&record, "days_since_transplant"), number(&record, "age_years")) {
                record.insert("days_since_transplant".into(), json!(days.min(age * 365.0) as i64));
            }
            Value::Object(record).to_string()
        })
}

/// JSON objects mixing real field names with other keys, values of any type.
fn json_object() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,8}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let key = prop_oneof![
        proptest::sample::select(Field::ALL).prop_map(|f| f.name().to_string()),
        ".{0,12}",
    ];
    proptest::collection::vec((key, value), 0..40)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<String, Value>>()).to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn valid_records_score_to_probabilities_whose_explanations_add_up(body in valid_record_json()) {
        let screened = parse_record(body.as_bytes());
        prop_assert!(screened.is_ok(), "{body}: {:?}", screened.err());
        let screened = screened.unwrap();
        let models = models();
        for model in [&models.infection, &models.readmission] {
            let p = model.predict(&screened.record);
            prop_assert!(p.is_finite() && (0.0..=1.0).contains(&p), "{p}");
            let e = model.explain(&screened.record);
            let total = e.base_value + e.contributions.iter().sum::<f64>();
            prop_assert!((total - e.raw).abs() < 1e-9, "{total} vs {}", e.raw);
            prop_assert_eq!(e.raw, model.raw_score(&screened.record));
            prop_assert_eq!(model.calibrate(e.raw), p);
        }
        let answer = score(models, &Policy::default(), &screened.record, screened.warnings.clone());
        for risk in answer.risks.values() {
            prop_assert!(risk.probability.is_finite() && (0.0..=1.0).contains(&risk.probability));
            prop_assert!(risk.top_factors.iter().all(|f| f.contribution.is_finite()));
        }
        let grade = underwrite(models, &Policy::default(), &screened.record, screened.warnings.clone());
        prop_assert_eq!(grade.case_id, screened.record.case_id);
    }

    #[test]
    fn records_survive_a_json_round_trip(body in valid_record_json()) {
        let record: PatientRecord = parse_record(body.as_bytes()).expect("valid").record;
        let again = parse_record(serde_json::to_string(&record).expect("serialisable").as_bytes())
            .expect("a serialised record is valid")
            .record;
        prop_assert_eq!(again, record);
    }

    #[test]
    fn a_higher_risk_never_lowers_the_tier(
        infection in 0.0f64..=1.0,
        readmission in 0.0f64..=1.0,
        more_infection in 0.0f64..=1.0,
        more_readmission in 0.0f64..=1.0,
    ) {
        let policy = Policy::default();
        let base = recommended_tier(infection, readmission, &policy);
        let higher = recommended_tier(
            (infection + more_infection).min(1.0),
            (readmission + more_readmission).min(1.0),
            &policy,
        );
        prop_assert!(higher >= base, "{base:?} -> {higher:?}");
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_record(&bytes);
    }

    #[test]
    fn arbitrary_json_objects_never_panic_the_parser(body in json_object()) {
        let _ = parse_record(body.as_bytes());
    }
}
