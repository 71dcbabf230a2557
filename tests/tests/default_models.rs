//! The default artifacts in `models/` load, verify, read only patient-record
//! fields, and score the example record to a sensible probability.

use carescore_core::{parse_record, ModelArtifact, EXAMPLE_RECORD_JSON};

const DEFAULTS: [(&str, &[u8]); 2] = [
    ("infection_180d", include_bytes!("../../models/infection_180d-1.json")),
    ("readmission_30d", include_bytes!("../../models/readmission_30d-1.json")),
];

#[test]
fn default_models_verify_and_score() {
    let record = parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap().record;
    for (target, bytes) in DEFAULTS {
        let artifact = ModelArtifact::from_json(bytes).unwrap_or_else(|e| panic!("{target}: {e}"));
        assert_eq!(artifact.target, target);
        assert_eq!(artifact.model_version(), format!("{target}@1"));
        assert!(
            artifact.non_record_features().is_empty(),
            "{:?}",
            artifact.non_record_features()
        );
        assert!(artifact.metrics["auc"] > 0.65, "{target}: {:?}", artifact.metrics);
        let p = artifact.compile().predict(&record);
        assert!(p > 0.0 && p < 1.0, "{target}: {p}");
    }
}
