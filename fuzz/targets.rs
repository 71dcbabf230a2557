// What each fuzz target does with its input, shared by the libFuzzer
// binaries (fuzz/fuzz_targets/*.rs) and the regression test that replays the
// committed corpus and crashes on stable (crates/core/tests/fuzz_regressions.rs),
// through `include!`. Every function must return, never panic, for any input.

/// The default models, loaded once.
fn default_models() -> &'static carescore_core::scoring::Models {
    static MODELS: std::sync::OnceLock<carescore_core::scoring::Models> = std::sync::OnceLock::new();
    MODELS.get_or_init(|| {
        let load = |bytes: &[u8]| carescore_core::ModelArtifact::from_json(bytes).expect("default model");
        carescore_core::scoring::Models::new(
            load(include_bytes!("../models/infection_180d-1.json")),
            load(include_bytes!("../models/readmission_30d-1.json")),
        )
        .expect("default models")
    })
}

/// A record body: parsed and validated; when valid, scored and graded.
pub fn fuzz_record(data: &[u8]) {
    if let Ok(screened) = carescore_core::parse_record(data) {
        let policy = carescore_core::Policy::default();
        let answer = carescore_core::scoring::score(default_models(), &policy, &screened.record, screened.warnings.clone());
        assert!(answer.risks.values().all(|r| (0.0..=1.0).contains(&r.probability)));
        let _ = carescore_core::scoring::underwrite(default_models(), &policy, &screened.record, screened.warnings.clone());
    }
}

/// A batch body as the service reads it: `{"records": [...]}` with each
/// record kept raw, then each record parsed and validated on its own.
pub fn fuzz_batch(data: &[u8]) {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Batch<'a> {
        #[serde(borrow)]
        records: Vec<&'a serde_json::value::RawValue>,
    }
    if let Ok(batch) = serde_json::from_slice::<Batch<'_>>(data) {
        for raw in batch.records.iter().take(10_000) {
            let _ = carescore_core::parse_record(raw.get().as_bytes());
        }
    }
}

/// An artifact: refused or loaded; when loaded, compiled and used. A body
/// that parses as an artifact is also sealed with its own checksum and
/// loaded again, so the checks after the checksum see hostile structures
/// (out-of-range nodes, cycles, shared children, huge or empty arrays).
pub fn fuzz_artifact(data: &[u8]) {
    let record = carescore_core::parse_record(carescore_core::EXAMPLE_RECORD_JSON.as_bytes())
        .expect("the example record is valid")
        .record;
    let use_it = |artifact: carescore_core::ModelArtifact| {
        let model = artifact.compile();
        let p = model.predict(&record);
        let e = model.explain(&record);
        assert!(p.is_nan() || (0.0..=1.0).contains(&p) || !e.raw.is_finite());
    };
    if let Ok(artifact) = carescore_core::ModelArtifact::from_json(data) {
        use_it(artifact);
    }
    if let Ok(parsed) = serde_json::from_slice::<carescore_core::ModelArtifact>(data) {
        if let Ok(artifact) = carescore_core::ModelArtifact::from_json(parsed.to_json().as_bytes()) {
            use_it(artifact);
        }
    }
}
