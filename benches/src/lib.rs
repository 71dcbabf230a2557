//! # carescore-bench
//!
//! Criterion benchmarks for CareScore (`cargo bench -p carescore-bench`).
//! This library holds the fixed, realistic inputs the benchmarks share.
#![forbid(unsafe_code)]

/// Each of `bodies` parsed, scored by both models with explanations and the
/// policy, and its answer serialised, as `/v1/score` and each batch item
/// do; the bytes written (so nothing is optimised away).
///
/// # Panics
/// If a body is not a valid record (the inputs are the benchmarks' own).
pub fn score_all(
    models: &carescore_core::scoring::Models,
    policy: &carescore_core::Policy,
    bodies: &[String],
) -> usize {
    let mut out = Vec::with_capacity(bodies.len() * 1500);
    for body in bodies {
        let screened = carescore_core::parse_record(body.as_bytes()).expect("valid record");
        let answer = carescore_core::scoring::score(models, policy, &screened.record, screened.warnings);
        serde_json::to_writer(&mut out, &answer).expect("serialisable");
    }
    out.len()
}

/// A complete, plausible patient record as the CMS sends it.
pub const SAMPLE_RECORD: &str = carescore_core::EXAMPLE_RECORD_JSON;

/// The sample record with three problems (unknown field, out of range, wrong
/// type), which takes the lenient report-everything path.
pub fn invalid_record() -> String {
    SAMPLE_RECORD
        .replace("\"bmi\": 27.5", "\"bmi\": 99.0, \"egfr\": 1")
        .replace("\"diabetes\": false", "\"diabetes\": \"no\"")
}

/// `n` distinct valid records around the sample one, the same for the same
/// `seed`: numbers scaled by 0.5-1.5 (integers rounded), categories and
/// yes/no values drawn at random, kept only when they pass validation. A
/// benchmark that scores one record again and again lets the processor learn
/// every branch of every tree walk, which real traffic never allows.
///
/// # Panics
/// If the sample record is not a JSON object (a test guards this).
pub fn varied_records(n: usize, seed: u64) -> Vec<String> {
    use carescore_core::{Field, FieldKind};
    let sample: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(SAMPLE_RECORD).expect("the sample record is an object");
    let mut state = seed;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut records = Vec::with_capacity(n);
    while records.len() < n {
        let mut record = sample.clone();
        for (name, value) in record.iter_mut() {
            let Some(field) = Field::from_name(name) else { continue };
            *value = match field.spec().kind {
                FieldKind::Number { .. } => serde_json::json!(value.as_f64().unwrap_or(0.0) * (0.5 + uniform())),
                FieldKind::Integer { .. } => {
                    serde_json::json!((value.as_f64().unwrap_or(0.0) * (0.5 + uniform()) + uniform()).round() as i64)
                }
                FieldKind::Category(names) => serde_json::json!(names[(uniform() * names.len() as f64) as usize]),
                FieldKind::Boolean => serde_json::json!(uniform() < 0.5),
                _ => continue,
            };
        }
        let text = serde_json::Value::Object(record).to_string();
        if carescore_core::parse_record(text.as_bytes()).is_ok() {
            records.push(text);
        }
    }
    records
}

/// The default models (embedded from `models/`).
///
/// # Panics
/// If the committed default artifacts do not load (a test guards this).
pub fn default_models() -> carescore_core::scoring::Models {
    let load = |bytes: &[u8]| carescore_core::ModelArtifact::from_json(bytes).expect("default model");
    carescore_core::scoring::Models::new(
        load(include_bytes!("../../models/infection_180d-1.json")),
        load(include_bytes!("../../models/readmission_30d-1.json")),
    )
    .expect("default models")
}

/// A model trained through a spec, as the service serves it at
/// `/v1/models/{target}/score`: the default infection model's estimator under
/// the target `graft_loss`, with what a spec adds (a declared flag, an
/// allowed range on every numeric feature, the record field's), and the
/// inputs of `records` (their values of its features, `case_id` kept).
///
/// # Panics
/// If the committed default artifact does not load.
pub fn spec_model_and_inputs(records: &[String]) -> (carescore_core::ModelArtifact, Vec<String>) {
    use carescore_core::artifact::{AllowedRange, DeclaredFlag, FeatureKind};
    let bytes = include_bytes!("../../models/infection_180d-1.json");
    let mut artifact = carescore_core::ModelArtifact::from_json(bytes).expect("default model");
    artifact.target = "graft_loss".into();
    artifact.flags = vec![DeclaredFlag {
        name: "early_review".into(),
        above: 0.2,
    }];
    for feature in &mut artifact.features {
        if let FeatureKind::Numeric { .. } = feature.kind {
            let range = match carescore_core::Field::from_name(&feature.name).map(|f| f.spec().kind) {
                Some(carescore_core::FieldKind::Number { min, max }) => Some((min, max)),
                Some(carescore_core::FieldKind::Integer { min, max }) => Some((min as f64, max as f64)),
                _ => None,
            };
            feature.allowed_range = range.map(|(min, max)| AllowedRange {
                min: Some(min),
                max: Some(max),
            });
        }
    }
    let artifact = carescore_core::ModelArtifact::from_json(artifact.to_json().as_bytes()).expect("a valid spec model");
    let names: Vec<&str> = artifact.features.iter().map(|f| f.name.as_str()).collect();
    let inputs = records
        .iter()
        .map(|body| {
            let record: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).expect("a record");
            let input: serde_json::Map<String, serde_json::Value> = record
                .into_iter()
                .filter(|(key, _)| key == "case_id" || names.contains(&key.as_str()))
                .collect();
            serde_json::Value::Object(input).to_string()
        })
        .collect();
    (artifact, inputs)
}

/// A JSON answer of the size of a real `/v1/score` answer for the sample record.
pub fn score_sized_answer() -> Vec<u8> {
    let record = carescore_core::parse_record(SAMPLE_RECORD.as_bytes()).expect("valid sample");
    let answer = carescore_core::scoring::score(
        &default_models(),
        &carescore_core::Policy::default(),
        &record.record,
        record.warnings,
    );
    let mut bytes = serde_json::to_vec(&answer).unwrap_or_default();
    // Room for the request id the service adds.
    bytes.truncate(bytes.len().saturating_sub(1));
    bytes.extend_from_slice(br#","request_id":"cs-0000000000000000-0"}"#);
    bytes
}

/// Writes the load harness's request bodies into `dir`: `record.json` (the
/// sample record) and `batch100.json` (`{"records": [...]}` with 100 copies).
///
/// # Errors
/// A write failure.
pub fn write_bodies(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("record.json"), SAMPLE_RECORD)?;
    let batch = format!("{{\"records\": [{}]}}", vec![SAMPLE_RECORD; 100].join(","));
    std::fs::write(dir.join("batch100.json"), batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varied_records_are_valid_distinct_and_reproducible() {
        let records = varied_records(50, 3);
        assert_eq!(records, varied_records(50, 3), "same seed, same records");
        assert_ne!(records, varied_records(50, 4));
        let distinct: std::collections::HashSet<&String> = records.iter().collect();
        assert_eq!(distinct.len(), 50);
        for record in &records {
            assert!(carescore_core::parse_record(record.as_bytes()).is_ok(), "{record}");
        }
    }

    #[test]
    fn the_ceiling_answer_is_json_of_a_real_answer_size() {
        let answer = score_sized_answer();
        let json: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        assert!(json["risks"]["infection_180d"]["probability"].is_number());
        let dir = std::env::temp_dir().join(format!("carescore-bodies-{}", std::process::id()));
        write_bodies(&dir).unwrap();
        let batch: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("batch100.json")).unwrap()).unwrap();
        assert_eq!(batch["records"].as_array().unwrap().len(), 100);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn sample_is_valid_and_invalid_sample_has_three_errors() {
        assert!(carescore_core::parse_record(SAMPLE_RECORD.as_bytes()).is_ok());
        match carescore_core::parse_record(invalid_record().as_bytes()) {
            Err(carescore_core::RecordError::Invalid { errors, .. }) => assert_eq!(errors.len(), 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_spec_input_is_valid_and_scores_as_the_infection_model() {
        let records = varied_records(40, 5);
        let (artifact, inputs) = spec_model_and_inputs(&records);
        let spec = artifact.compile();
        let models = default_models();
        for (record, input) in records.iter().zip(&inputs) {
            let checked = carescore_core::model_input::parse_model_input(&artifact, input.as_bytes())
                .unwrap_or_else(|e| panic!("{input}: {e:?}"));
            let record = carescore_core::parse_record(record.as_bytes()).unwrap().record;
            assert_eq!(spec.predict(&checked), models.infection.predict(&record));
        }
    }
}
