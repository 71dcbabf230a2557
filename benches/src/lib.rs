//! # carescore-bench
//!
//! Criterion benchmarks for CareScore (`cargo bench -p carescore-bench`).
//! This library holds the fixed, realistic inputs the benchmarks share.
#![forbid(unsafe_code)]

/// A complete, plausible patient record as the CMS sends it.
pub const SAMPLE_RECORD: &str = carescore_core::EXAMPLE_RECORD_JSON;

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
