//! Hard validation rules: a record that breaks one is refused (HTTP 422) or,
//! in a training table, excluded and counted.
//!
//! | rule | fires when |
//! |---|---|
//! | `required` | a required field is missing or `null` |
//! | `unknown_field` | a key is not a field of the record (typos must not pass silently) |
//! | `duplicate_field` | a key appears twice in one JSON object |
//! | `wrong_type` | a value has the wrong JSON type (e.g. a string for a number, `3.5` for a count) |
//! | `not_finite` | a number is NaN or infinite (possible from tables, not from JSON) |
//! | `out_of_range` | a number lies outside the field's hard range (`docs/data-contract.md`) |
//! | `not_allowed_value` | a categorical value is not one of the allowed names (exact, case-sensitive) |
//! | `case_id_format` | `case_id` is empty, longer than 64 characters or has characters outside `[A-Za-z0-9._-]` |
//! | `icu_days_exceed_stay` | `icu_days` is greater than `index_length_of_stay_days` |
//! | `transplant_before_birth` | `days_since_transplant` is more than a year beyond `age_years` |

use super::issue::FieldError;
use super::values::Values;
use crate::field::{Field, FieldKind, FieldValue};

/// Longest allowed `case_id`, in characters.
pub const CASE_ID_MAX_CHARS: usize = 64;

/// Slack, in years, allowed between age and time since transplant (ages are
/// often rounded down to whole years).
const AGE_ROUNDING_SLACK_YEARS: f64 = 1.0;

const DAYS_PER_YEAR: f64 = 365.25;

fn error(field: &str, message: impl Into<String>, allowed: impl Into<String>, rule: &'static str) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
        allowed: allowed.into(),
        rule,
    }
}

fn allowed(field: Field) -> String {
    field.spec().kind.allowed()
}

pub(crate) fn required(field: Field, message: &str) -> FieldError {
    error(field.name(), message, allowed(field), "required")
}

pub(crate) fn unknown_field(key: String) -> FieldError {
    FieldError {
        field: key,
        message: "is not a field of the patient record".to_string(),
        allowed: "the fields of the patient record (see GET /openapi.json)".to_string(),
        rule: "unknown_field",
    }
}

pub(crate) fn duplicate_field(field: Field) -> FieldError {
    error(
        field.name(),
        "is given more than once",
        "each field at most once",
        "duplicate_field",
    )
}

pub(crate) fn wrong_type(field: Field, expected: &str) -> FieldError {
    error(
        field.name(),
        format!("must be {expected}"),
        allowed(field),
        "wrong_type",
    )
}

fn is_case_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Checks one present value against its field's hard range or allowed set.
fn check_value(field: Field, value: FieldValue<'_>) -> Option<FieldError> {
    let spec = field.spec();
    match (spec.kind, value) {
        (FieldKind::CaseId, FieldValue::Text(id)) => {
            let len = id.chars().count();
            let ok = (1..=CASE_ID_MAX_CHARS).contains(&len) && id.chars().all(is_case_id_char);
            (!ok).then(|| {
                error(
                    spec.name,
                    "must be 1-64 characters from A-Z a-z 0-9 . _ -",
                    allowed(field),
                    "case_id_format",
                )
            })
        }
        (FieldKind::Category(names), FieldValue::Text(name)) => (!names.contains(&name)).then(|| {
            error(
                spec.name,
                "is not one of the allowed values",
                allowed(field),
                "not_allowed_value",
            )
        }),
        (FieldKind::Number { min, max }, FieldValue::Number(x)) => {
            if !x.is_finite() {
                Some(error(
                    spec.name,
                    "must be a finite number",
                    allowed(field),
                    "not_finite",
                ))
            } else {
                (!(min..=max).contains(&x)).then(|| out_of_range(field))
            }
        }
        (FieldKind::Integer { min, max }, FieldValue::Integer(n)) => {
            (!(min..=max).contains(&n)).then(|| out_of_range(field))
        }
        (FieldKind::Boolean, FieldValue::Boolean(_)) => None,
        // A value of another shape than its field's kind cannot be built by this crate.
        _ => Some(wrong_type(field, "of the field's declared type")),
    }
}

fn out_of_range(field: Field) -> FieldError {
    error(
        field.name(),
        "is outside the allowed range",
        allowed(field),
        "out_of_range",
    )
}

/// Cross-field rules: each needs two fields that are present and individually valid.
fn check_cross_fields(values: &Values<'_>, errors: &mut Vec<FieldError>) {
    let valid = |field: Field, errors: &[FieldError]| !errors.iter().any(|e| e.field == field.name());
    let pair = |a: Field, b: Field, errors: &[FieldError]| match (values.num(a), values.num(b)) {
        (Some(x), Some(y)) if valid(a, errors) && valid(b, errors) => Some((x, y)),
        _ => None,
    };

    if let Some((icu, stay)) = pair(Field::IcuDays, Field::IndexLengthOfStayDays, errors) {
        if icu > stay {
            errors.push(error(
                Field::IcuDays.name(),
                "is greater than index_length_of_stay_days",
                "a whole number from 0 to index_length_of_stay_days",
                "icu_days_exceed_stay",
            ));
        }
    }
    if let Some((days, age)) = pair(Field::DaysSinceTransplant, Field::AgeYears, errors) {
        if days / DAYS_PER_YEAR > age + AGE_ROUNDING_SLACK_YEARS {
            errors.push(error(
                Field::DaysSinceTransplant.name(),
                "places the transplant before the patient's birth (see age_years)",
                "at most (age_years + 1) x 365.25 days",
                "transplant_before_birth",
            ));
        }
    }
}

/// Applies every hard rule to the present values, appending to `errors`.
pub(crate) fn check(values: &Values<'_>, errors: &mut Vec<FieldError>) {
    for (field, value) in values.present() {
        if let Some(e) = check_value(field, value) {
            errors.push(e);
        }
    }
    check_cross_fields(values, errors);
}
