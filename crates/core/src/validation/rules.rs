//! The hard rules' checks ([`Rule`] lists them with their ids): each value
//! against its field's range or allowed set, and the cross-field rules.

use super::issue::{FieldError, Rule};
use super::values::Values;
use crate::field::{Field, FieldKind, FieldValue};

/// Longest allowed `case_id`, in characters.
pub const CASE_ID_MAX_CHARS: usize = 64;

/// Slack, in years, allowed between age and time since transplant (ages are
/// often rounded down to whole years).
const AGE_ROUNDING_SLACK_YEARS: f64 = 1.0;

const DAYS_PER_YEAR: f64 = 365.25;

fn is_case_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Whether `id` is a valid case identifier: 1-64 characters from `A-Z a-z 0-9 . _ -`.
pub(crate) fn is_case_id(id: &str) -> bool {
    (1..=CASE_ID_MAX_CHARS).contains(&id.chars().count()) && id.chars().all(is_case_id_char)
}

/// Checks one present value against its field's hard range or allowed set.
fn check_value(field: Field, value: FieldValue<'_>) -> Option<FieldError> {
    let spec = field.spec();
    match (spec.kind, value) {
        (FieldKind::CaseId, FieldValue::Text(id)) => (!is_case_id(id)).then(|| {
            FieldError::of(
                field,
                "must be 1-64 characters from A-Z a-z 0-9 . _ -",
                Rule::CaseIdFormat,
            )
        }),
        (FieldKind::Category(names), FieldValue::Text(name)) => (!names.contains(&name))
            .then(|| FieldError::of(field, "is not one of the allowed values", Rule::NotAllowedValue)),
        (FieldKind::Number { min, max }, FieldValue::Number(x)) => {
            if !x.is_finite() {
                Some(FieldError::of(field, "must be a finite number", Rule::NotFinite))
            } else {
                (!(min..=max).contains(&x)).then(|| FieldError::out_of_range(field))
            }
        }
        (FieldKind::Integer { min, max }, FieldValue::Integer(n)) => {
            (!(min..=max).contains(&n)).then(|| FieldError::out_of_range(field))
        }
        (FieldKind::Boolean, FieldValue::Boolean(_)) => None,
        // A value of another shape than its field's kind cannot be built by this crate.
        _ => Some(FieldError::wrong_type(field, "of the field's declared type")),
    }
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
            errors.push(FieldError::new(
                Field::IcuDays.name(),
                "is greater than index_length_of_stay_days",
                "a whole number from 0 to index_length_of_stay_days",
                Rule::IcuDaysExceedStay,
            ));
        }
    }
    if let Some((days, age)) = pair(Field::DaysSinceTransplant, Field::AgeYears, errors) {
        if days / DAYS_PER_YEAR > age + AGE_ROUNDING_SLACK_YEARS {
            errors.push(FieldError::new(
                Field::DaysSinceTransplant.name(),
                "places the transplant before the patient's birth (see age_years)",
                "at most (age_years + 1) x 365.25 days",
                Rule::TransplantBeforeBirth,
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
