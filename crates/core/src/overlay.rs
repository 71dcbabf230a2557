//! A record with some fields replaced: what a model sees when the risk is
//! averaged over protected attributes (underwriting) or asked "what if this
//! input were at its target" (levers).

use crate::artifact::Row;
use crate::field::{Field, FieldValue};
use crate::record::PatientRecord;

/// `base` as it is, except the `overrides`.
pub(crate) struct Overlay<'a> {
    /// The record.
    pub(crate) base: &'a PatientRecord,
    /// Fields replaced, and their values.
    pub(crate) overrides: Vec<(Field, FieldValue<'a>)>,
}

impl Row for Overlay<'_> {
    fn value(&self, name: &str) -> Option<FieldValue<'_>> {
        self.resolved_value(Field::from_name(name), name)
    }

    fn resolved_value(&self, field: Option<Field>, name: &str) -> Option<FieldValue<'_>> {
        match self.overrides.iter().find(|(f, _)| Some(*f) == field) {
            Some((_, value)) => Some(*value),
            None => self.base.resolved_value(field, name),
        }
    }
}
