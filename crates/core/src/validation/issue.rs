//! What validation reports: hard errors (the record is refused), plausibility
//! warnings (the record is scored, and the response says which inputs were
//! doubted) and record-level parse failures.
//!
//! Messages name the field and the rule, never the patient's value, so they are
//! safe to return to callers and to count in metrics.

use serde::Serialize;

use super::safety::SafetySignals;

/// A problem that makes a record invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field concerned (a record field, or the unknown key that was sent).
    pub field: String,
    /// What is wrong, without echoing the value.
    pub message: String,
    /// What would be accepted.
    pub allowed: String,
    /// Stable identifier of the rule that fired (documented in `rules.rs`).
    pub rule: &'static str,
}

/// A value inside the hard range but implausible for the rest of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// The field whose value is doubted.
    pub field: &'static str,
    /// Why it is doubted, and what the caller should do.
    pub message: String,
    /// Stable identifier of the plausibility rule (documented in `plausibility.rs`).
    pub rule: &'static str,
}

/// Why a JSON document could not be turned into a record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    /// The body is not JSON (or is nested beyond the parser's depth limit).
    #[error("the body is not valid JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not an object.
    #[error("the body must be a JSON object with the patient record's fields")]
    NotObject,
    /// The object does not make a valid record; every problem is listed,
    /// with the safety signals that could still be read from it.
    #[error("the record has {} invalid field(s)", .errors.len())]
    Invalid {
        /// Every field problem.
        errors: Vec<FieldError>,
        /// Safety signals read from the fields that could be read.
        signals: SafetySignals,
    },
}

/// Everything validation found in one record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    /// Hard errors: the record must not be scored or trained on.
    pub errors: Vec<FieldError>,
    /// Plausibility warnings: the record is usable but these inputs are doubted.
    pub warnings: Vec<Warning>,
}

impl ValidationReport {
    /// Whether the record passed (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}
