//! A uniform view of a record's field values, built either from a typed
//! [`PatientRecord`] or leniently from a JSON object (collecting every type
//! problem instead of stopping at the first), so that the range, cross-field and
//! plausibility rules are written once for both.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::issue::FieldError;
use crate::field::{Field, FieldKind, FieldValue, Presence};
use crate::record::PatientRecord;

const FIELD_COUNT: usize = Field::ALL.len();

/// Longest unknown key echoed back in an error (longer keys are cut).
const MAX_ECHOED_KEY_CHARS: usize = 64;

/// The value of every field (absent fields are `None`).
#[derive(Debug, Clone)]
pub(crate) struct Values<'a> {
    values: [Option<FieldValue<'a>>; FIELD_COUNT],
}

impl<'a> Values<'a> {
    /// The values of a typed record.
    pub(crate) fn from_record(record: &'a PatientRecord) -> Self {
        let mut values = [None; FIELD_COUNT];
        for field in Field::ALL {
            values[*field as usize] = record.value(*field);
        }
        Values { values }
    }

    /// The value of `field`, if present.
    pub(crate) fn get(&self, field: Field) -> Option<FieldValue<'a>> {
        self.values[field as usize]
    }

    /// The value of a numeric `field`, if present.
    pub(crate) fn num(&self, field: Field) -> Option<f64> {
        self.get(field).and_then(|v| v.as_f64())
    }

    /// Iterates over the present values.
    pub(crate) fn present(&self) -> impl Iterator<Item = (Field, FieldValue<'a>)> + '_ {
        Field::ALL
            .iter()
            .filter_map(|f| self.values[*f as usize].map(|v| (*f, v)))
    }
}

/// The entries of a JSON object in document order, duplicates kept, so that a
/// key sent twice is reported instead of silently taking the last value.
#[derive(Debug)]
pub(crate) struct Entries(pub(crate) Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(FIELD_COUNT));
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// Reads a field's JSON value leniently, reporting a type problem as a [`FieldError`].
fn read<'a>(field: Field, value: &'a Value) -> Result<Option<FieldValue<'a>>, FieldError> {
    let spec = field.spec();
    if value.is_null() {
        return match spec.presence {
            Presence::Required => Err(FieldError::required(field, "must not be null")),
            Presence::Optional | Presence::OptionalDefaultFalse => Ok(None),
        };
    }
    let wrong_type = |expected: &str| FieldError::wrong_type(field, expected);
    let read = match spec.kind {
        FieldKind::CaseId | FieldKind::Category(_) => value
            .as_str()
            .map(FieldValue::Text)
            .ok_or_else(|| wrong_type("a string")),
        FieldKind::Number { .. } => value
            .as_f64()
            .map(FieldValue::Number)
            .ok_or_else(|| wrong_type("a number")),
        FieldKind::Integer { min, max } => match value {
            Value::Number(n) if n.is_i64() => Ok(FieldValue::Integer(n.as_i64().unwrap_or(0))),
            // Larger than i64: certainly out of range, reported as such.
            Value::Number(n) if n.is_u64() => Ok(FieldValue::Integer(max.saturating_add(1))),
            // `40.0` and `4e1` are integers to JSON Schema (a number whose
            // fractional part is zero), so they are accepted as counts too.
            Value::Number(n) => match n.as_f64() {
                Some(x) if x.fract() == 0.0 => Ok(FieldValue::Integer(whole(x, min, max))),
                _ => Err(wrong_type("a whole number")),
            },
            _ => Err(wrong_type("a whole number")),
        },
        FieldKind::Boolean => value
            .as_bool()
            .map(FieldValue::Boolean)
            .ok_or_else(|| wrong_type("true or false")),
    };
    read.map(Some)
}

/// The integer of an integral float; beyond what `i64` holds it is certainly
/// out of range, so it becomes one past the field's maximum (or minimum).
fn whole(x: f64, min: i64, max: i64) -> i64 {
    if x.abs() < 9.0e15 {
        // Exact: every integral f64 below 2^53 is an i64.
        x as i64
    } else if x > 0.0 {
        max.saturating_add(1)
    } else {
        min.saturating_sub(1)
    }
}

/// Builds the values of a JSON object's entries, collecting every unknown,
/// duplicate, missing or wrongly typed field.
pub(crate) fn from_entries(entries: &[(String, Value)]) -> (Values<'_>, Vec<FieldError>) {
    let mut values = [None; FIELD_COUNT];
    let mut seen = [false; FIELD_COUNT];
    let mut errors = Vec::new();
    for (key, value) in entries {
        let Some(field) = Field::from_name(key) else {
            let shown: String = key.chars().take(MAX_ECHOED_KEY_CHARS).collect();
            errors.push(FieldError::unknown_field(shown));
            continue;
        };
        if std::mem::replace(&mut seen[field as usize], true) {
            errors.push(FieldError::duplicate_field(field));
            continue;
        }
        match read(field, value) {
            Ok(v) => values[field as usize] = v,
            Err(e) => errors.push(e),
        }
    }
    for field in Field::ALL {
        if !seen[*field as usize] && field.spec().presence == Presence::Required {
            errors.push(FieldError::required(*field, "is required"));
        }
    }
    (Values { values }, errors)
}
