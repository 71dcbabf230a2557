//! What validation reports: hard errors (the record is refused), plausibility
//! warnings (the record is scored, and the response says which inputs were
//! doubted) and record-level parse failures.
//!
//! Messages name the field and the rule, never the patient's value, so they are
//! safe to return to callers and to count in metrics.

use serde::Serialize;

use super::safety::SafetySignals;
use crate::field::Field;

/// Declares the hard rules with their stable ids (the wire names).
macro_rules! hard_rules {
    ($( $(#[$doc:meta])* $rule:ident => $id:literal; )+) => {
        /// A hard validation rule: a record that breaks one is refused (HTTP
        /// 422) or, in a training table, excluded and counted. Its id is what
        /// `errors[].rule` says on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $( $(#[$doc])* $rule, )+
        }

        impl Rule {
            /// Every hard rule, in declaration order.
            pub const ALL: &'static [Rule] = &[$(Rule::$rule),+];

            /// The rule's stable id.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$rule => $id),+ }
            }
        }
    };
}

hard_rules! {
    /// A required field is missing or `null`.
    Required => "required";
    /// A key is not a field of the record (typos must not pass silently).
    UnknownField => "unknown_field";
    /// A key appears twice in one JSON object.
    DuplicateField => "duplicate_field";
    /// A value has the wrong JSON type (e.g. a string for a number, `3.5` for a count).
    WrongType => "wrong_type";
    /// A number is NaN or infinite (possible from tables, not from JSON).
    NotFinite => "not_finite";
    /// A number lies outside the field's hard range (`docs/data-contract.md`).
    OutOfRange => "out_of_range";
    /// A categorical value is not one of the allowed names (exact, case-sensitive).
    NotAllowedValue => "not_allowed_value";
    /// `case_id` is empty, longer than 64 characters or has characters outside `[A-Za-z0-9._-]`.
    CaseIdFormat => "case_id_format";
    /// `icu_days` is greater than `index_length_of_stay_days`.
    IcuDaysExceedStay => "icu_days_exceed_stay";
    /// `days_since_transplant` is more than a year beyond `age_years`.
    TransplantBeforeBirth => "transplant_before_birth";
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

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
    /// The rule that fired (its id on the wire).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub rule: Rule,
}

impl FieldError {
    /// A problem of `field` with `rule`.
    pub(crate) fn new(field: &str, message: impl Into<String>, allowed: impl Into<String>, rule: Rule) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
            allowed: allowed.into(),
            rule,
        }
    }

    /// A problem of a record field, with the field's allowed values.
    pub(crate) fn of(field: Field, message: impl Into<String>, rule: Rule) -> FieldError {
        FieldError::new(field.name(), message, field.spec().kind.allowed(), rule)
    }

    /// [`Rule::Required`].
    pub(crate) fn required(field: Field, message: &str) -> FieldError {
        FieldError::of(field, message, Rule::Required)
    }

    /// [`Rule::UnknownField`]: `key` is the key as sent (already cut to length).
    pub(crate) fn unknown_field(key: String) -> FieldError {
        FieldError {
            field: key,
            message: "is not a field of the patient record".to_string(),
            allowed: "the fields of the patient record (see GET /openapi.json)".to_string(),
            rule: Rule::UnknownField,
        }
    }

    /// [`Rule::DuplicateField`].
    pub(crate) fn duplicate_field(field: Field) -> FieldError {
        FieldError::new(
            field.name(),
            "is given more than once",
            "each field at most once",
            Rule::DuplicateField,
        )
    }

    /// [`Rule::WrongType`]: the value is not `expected`.
    pub(crate) fn wrong_type(field: Field, expected: &str) -> FieldError {
        FieldError::of(field, format!("must be {expected}"), Rule::WrongType)
    }

    /// [`Rule::OutOfRange`].
    pub(crate) fn out_of_range(field: Field) -> FieldError {
        FieldError::of(field, "is outside the allowed range", Rule::OutOfRange)
    }
}

/// A value inside the hard range but implausible for the rest of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// The field whose value is doubted.
    pub field: &'static str,
    /// Why it is doubted, and what the caller should do.
    pub message: String,
    /// Stable identifier of the plausibility rule (docs/data-contract.md lists them).
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
