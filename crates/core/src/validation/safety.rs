//! The safety signals of a record, read whether or not the record is valid:
//! a record refused for a missing `bmi` must still tell the caller that
//! PHQ-9 item 9 reports thoughts of self-harm. The policy turns these into
//! the urgent flags ([`crate::policy::urgent_flags`]).

use super::values::Values;
use crate::field::{Field, FieldValue};
use crate::record::PatientRecord;

/// The inputs of the same-day findings, as far as they could be read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SafetySignals {
    /// PHQ-9 item 9 (thoughts of self-harm), when it reads as a whole number from 0 to 3.
    pub phq9_item9: Option<u32>,
    /// Tacrolimus trough (ng/mL), when it reads as a finite number of at
    /// least 0; a value beyond the field's range is kept (an over-exposure
    /// far above it is still a same-day finding, whatever else is wrong).
    pub tacrolimus_trough_ng_ml: Option<f64>,
}

impl SafetySignals {
    /// The signals of a typed record.
    pub fn of_record(record: &PatientRecord) -> SafetySignals {
        SafetySignals {
            phq9_item9: record.phq9_item9,
            tacrolimus_trough_ng_ml: record.tacrolimus_trough_ng_ml,
        }
    }

    /// The signals among leniently read values (valid or not).
    pub(crate) fn of_values(values: &Values<'_>) -> SafetySignals {
        let phq9_item9 = match values.get(Field::Phq9Item9) {
            Some(FieldValue::Integer(n)) => u32::try_from(n).ok().filter(|n| *n <= 3),
            _ => None,
        };
        let tacrolimus_trough_ng_ml = values
            .num(Field::TacrolimusTroughNgMl)
            .filter(|x| x.is_finite() && *x >= 0.0);
        SafetySignals {
            phq9_item9,
            tacrolimus_trough_ng_ml,
        }
    }
}
