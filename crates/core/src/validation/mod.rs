//! Validation of patient records: every problem of a record at once, as
//! `{field, message, allowed}` errors (the record is refused) and plausibility
//! warnings (the record is scored, and the caller is told which inputs were
//! doubted).
//!
//! - [`parse_record`] turns JSON bytes into a screened record. Well-formed
//!   records take a fast typed path; anything else is re-read leniently so
//!   that every missing, unknown, duplicate, mistyped or out-of-range field is
//!   reported, not only the first.
//! - [`validate`] checks a typed [`PatientRecord`] (e.g. built from a training
//!   table) with the same rules.
//!
//! The hard rules are [`Rule`], the plausibility rules
//! [`PLAUSIBILITY_RULES`].

mod issue;
mod plausibility;
mod rules;
mod safety;
mod values;

pub use issue::{FieldError, RecordError, Rule, ValidationReport, Warning};
pub use plausibility::{PlausibilityRule, PLAUSIBILITY_RULES};
pub(crate) use rules::is_case_id;
pub use rules::CASE_ID_MAX_CHARS;
pub use safety::SafetySignals;

use serde_json::Value;

use crate::record::PatientRecord;
use values::{Entries, Values};

/// A valid record and the plausibility warnings it raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Screened {
    /// The record, valid against every hard rule.
    pub record: PatientRecord,
    /// Doubted inputs (empty for a plausible record).
    pub warnings: Vec<Warning>,
}

fn report(values: &Values<'_>, mut errors: Vec<FieldError>) -> ValidationReport {
    rules::check(values, &mut errors);
    let mut warnings = Vec::new();
    plausibility::screen(values, &mut warnings);
    ValidationReport { errors, warnings }
}

/// Whether a plausibility rule doubts `field` of `record` (e.g. the
/// underwriting grade grants no renewal discount on doubted
/// `years_without_complications`).
pub fn doubts(record: &PatientRecord, field: crate::Field) -> bool {
    plausibility::doubted(&Values::from_record(record), field)
}

/// Checks a typed record against every hard rule and plausibility rule.
pub fn validate(record: &PatientRecord) -> ValidationReport {
    report(&Values::from_record(record), Vec::new())
}

fn screened(record: PatientRecord) -> Result<Screened, RecordError> {
    let ValidationReport { errors, warnings } = validate(&record);
    if errors.is_empty() {
        Ok(Screened { record, warnings })
    } else {
        let signals = SafetySignals::of_record(&record);
        Err(RecordError::Invalid { errors, signals })
    }
}

/// Parses and validates one record from JSON bytes.
///
/// # Errors
/// [`RecordError::NotJson`] for bytes that are not JSON, [`RecordError::NotObject`]
/// for JSON that is not an object, [`RecordError::Invalid`] with every field
/// problem for an object that does not make a valid record.
pub fn parse_record(json: &[u8]) -> Result<Screened, RecordError> {
    // Fast path: a well-formed record deserialises straight into the struct.
    // The body is checked as UTF-8 once (a vectorised scan) so the parser
    // need not check each string on its own (`from_slice` does).
    if let Ok(text) = std::str::from_utf8(json) {
        if let Ok(record) = serde_json::from_str::<PatientRecord>(text) {
            return screened(record);
        }
    }
    // Slow path: find out everything that is wrong. Keys are read in order with
    // duplicates kept, so a field sent twice is reported rather than overwritten.
    let entries: Entries = match serde_json::from_slice(json) {
        Ok(entries) => entries,
        Err(e) if e.is_data() => return Err(RecordError::NotObject),
        Err(e) => return Err(RecordError::NotJson(e.to_string())),
    };
    from_entries(&entries.0)
}

/// Validates one record given as an already parsed JSON value (e.g. an item of a batch).
///
/// # Errors
/// As [`parse_record`], except that JSON syntax errors cannot occur here.
pub fn parse_record_value(value: &Value) -> Result<Screened, RecordError> {
    let Value::Object(map) = value else {
        return Err(RecordError::NotObject);
    };
    let entries: Vec<(String, Value)> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    from_entries(&entries)
}

fn from_entries(entries: &[(String, Value)]) -> Result<Screened, RecordError> {
    let (values, type_errors) = values::from_entries(entries);
    let ValidationReport { errors, warnings } = report(&values, type_errors);
    let signals = SafetySignals::of_entries(entries);
    if !errors.is_empty() {
        return Err(RecordError::Invalid { errors, signals });
    }
    // Every field has the right type and range, so the typed conversion succeeds;
    // should it not, the failure is still reported as a field error, never a panic.
    let object: serde_json::Map<String, Value> = entries.iter().cloned().collect();
    serde_json::from_value::<PatientRecord>(Value::Object(object))
        .map(|record| Screened { record, warnings })
        .map_err(|_| RecordError::Invalid {
            errors: vec![FieldError {
                field: "record".to_string(),
                message: "could not be read as a patient record".to_string(),
                allowed: "the patient record (GET /openapi.json, schema PatientRecord)".to_string(),
                rule: Rule::WrongType,
            }],
            signals,
        })
}

#[cfg(test)]
mod tests;
