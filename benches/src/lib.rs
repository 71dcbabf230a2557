//! # carescore-bench
//!
//! Criterion benchmarks for CareScore (`cargo bench -p carescore-bench`).
//! This library holds the fixed, realistic inputs the benchmarks share.
#![forbid(unsafe_code)]

/// A complete, plausible patient record as the CMS sends it.
pub const SAMPLE_RECORD: &str = r#"{
  "case_id": "c-102", "organ": "kidney", "age_years": 54.0, "sex": "female",
  "days_since_transplant": 40, "bmi": 27.5, "diabetes": false,
  "cmv_serostatus": "D+/R-", "induction": "atg", "acute_rejection_episodes_12m": 0,
  "egfr_ml_min": 52.0, "tacrolimus_trough_ng_ml": 9.1, "lymphocyte_count_10e9_l": 1.2,
  "igg_g_l": 8.5, "albumin_g_dl": 3.9, "prior_infections_12m": 0,
  "hospitalizations_12m": 1, "ed_visits_6m": 0, "index_length_of_stay_days": 6,
  "emergency_admission": false, "charlson_index": 3, "icu_days": 1,
  "adherence_pct": 96.0, "phq9_score": 4, "phq9_item9": 0, "gad7_score": 3,
  "lives_alone": false, "distance_to_center_km": 42.0, "current_tier": "remote",
  "enrolled_in_program": true, "years_without_complications": 0
}"#;

/// The sample record with three problems (unknown field, out of range, wrong
/// type), which takes the lenient report-everything path.
pub fn invalid_record() -> String {
    SAMPLE_RECORD
        .replace("\"bmi\": 27.5", "\"bmi\": 99.0, \"egfr\": 1")
        .replace("\"diabetes\": false", "\"diabetes\": \"no\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_valid_and_invalid_sample_has_three_errors() {
        assert!(carescore_core::parse_record(SAMPLE_RECORD.as_bytes()).is_ok());
        match carescore_core::parse_record(invalid_record().as_bytes()) {
            Err(carescore_core::RecordError::Invalid(errors)) => assert_eq!(errors.len(), 3),
            other => panic!("{other:?}"),
        }
    }
}
