//! The safety signals of a record, read whether or not the record is valid:
//! a record refused for a missing `bmi`, an out-of-range value or a key sent
//! twice must still tell the caller that PHQ-9 item 9 reports thoughts of
//! self-harm. The policy turns these into the urgent flags
//! ([`crate::policy::urgent_flags`]).

use serde_json::Value;

use crate::field::Field;
use crate::record::PatientRecord;

/// Highest PHQ-9 item score.
const PHQ9_ITEM_MAX: u32 = 3;

/// The inputs of the same-day findings, as far as they could be read. A
/// field sent more than once contributes every occurrence.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SafetySignals {
    /// The highest PHQ-9 item 9 (thoughts of self-harm) that reads as a whole number from 0 to 3.
    pub phq9_item9: Option<u32>,
    /// The lowest and highest tacrolimus trough (ng/mL) that read as a
    /// finite number of at least 0; values beyond the field's range are kept
    /// (an over-exposure far above it is still a same-day finding, whatever
    /// else is wrong).
    pub tacrolimus_trough_ng_ml: Option<(f64, f64)>,
}

impl SafetySignals {
    /// The signals of a typed record.
    pub fn of_record(record: &PatientRecord) -> SafetySignals {
        let mut signals = SafetySignals::default();
        if let Some(item) = record.phq9_item9 {
            signals.add_phq9_item9(f64::from(item));
        }
        if let Some(trough) = record.tacrolimus_trough_ng_ml {
            signals.add_trough(trough);
        }
        signals
    }

    /// The signals among a JSON object's entries (valid or not, duplicates included).
    pub(crate) fn of_entries(entries: &[(String, Value)]) -> SafetySignals {
        let mut signals = SafetySignals::default();
        for (key, value) in entries {
            let Some(x) = value.as_f64() else { continue };
            match Field::from_name(key) {
                Some(Field::Phq9Item9) => signals.add_phq9_item9(x),
                Some(Field::TacrolimusTroughNgMl) => signals.add_trough(x),
                _ => {}
            }
        }
        signals
    }

    fn add_phq9_item9(&mut self, x: f64) {
        // A whole number on the item's scale; anything else is not an answer to it.
        if x.fract() == 0.0 && (0.0..=f64::from(PHQ9_ITEM_MAX)).contains(&x) {
            let item = x as u32;
            self.phq9_item9 = Some(self.phq9_item9.map_or(item, |seen| seen.max(item)));
        }
    }

    fn add_trough(&mut self, x: f64) {
        if x.is_finite() && x >= 0.0 {
            self.tacrolimus_trough_ng_ml = Some(match self.tacrolimus_trough_ng_ml {
                None => (x, x),
                Some((low, high)) => (low.min(x), high.max(x)),
            });
        }
    }
}
