//! The patient record's field contract as data: name, kind, hard range, unit,
//! presence and meaning of every field (`docs/data-contract.md`).
//!
//! Validation, the data dictionary and the training-table writer all read this
//! one table, so a range or a unit is stated exactly once.

use crate::record::{CmvSerostatus, Induction, Organ, PatientRecord, Sex, Tier};

/// What values a field takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldKind {
    /// The case identifier: 1-64 characters from `[A-Za-z0-9._-]`.
    CaseId,
    /// A finite real number within `[min, max]`.
    Number {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// A whole number within `[min, max]`.
    Integer {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// `true` or `false`.
    Boolean,
    /// One of a closed set of names.
    Category(&'static [&'static str]),
}

impl FieldKind {
    /// The allowed values, as the `allowed` text of a field error.
    pub fn allowed(&self) -> String {
        match self {
            FieldKind::CaseId => "1-64 characters from A-Z a-z 0-9 . _ -".to_string(),
            FieldKind::Number { min, max } => format!("a number from {min} to {max}"),
            FieldKind::Integer { min, max } => format!("a whole number from {min} to {max}"),
            FieldKind::Boolean => "true or false".to_string(),
            FieldKind::Category(names) => format!("one of: {}", names.join(", ")),
        }
    }
}

/// Whether a field must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Must be present and not null.
    Required,
    /// May be absent or null (the model treats it as missing).
    Optional,
    /// May be absent or null, meaning `false`.
    OptionalDefaultFalse,
}

/// The contract of one field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSpec {
    /// Field name, as in JSON and in training tables.
    pub name: &'static str,
    /// Values allowed (hard range: outside it a record is rejected).
    pub kind: FieldKind,
    /// Whether the field is required.
    pub presence: Presence,
    /// Unit, or an empty string for unitless fields.
    pub unit: &'static str,
    /// What the field means.
    pub description: &'static str,
    /// Whether models may use the field as a feature (the others are read by the
    /// policy only: `docs/data-contract.md`).
    pub model_feature: bool,
}

/// A field's value, borrowed from a record or a parsed JSON document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// A real number.
    Number(f64),
    /// A whole number.
    Integer(i64),
    /// A boolean.
    Boolean(bool),
    /// A string (case id or category name).
    Text(&'a str),
}

impl FieldValue<'_> {
    /// The value as a real number, if it is numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            FieldValue::Number(x) => Some(x),
            FieldValue::Integer(n) => Some(n as f64),
            FieldValue::Boolean(_) | FieldValue::Text(_) => None,
        }
    }
}

macro_rules! fields {
    ( $( $variant:ident : $name:literal, $kind:expr, $presence:ident, $unit:literal, $feature:literal, $desc:literal; )+ ) => {
        /// A field of the patient record.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $( #[doc = $desc] $variant, )+
        }

        impl Field {
            /// Every field, in contract order.
            pub const ALL: &'static [Field] = &[$(Field::$variant),+];

            /// The field's contract.
            pub fn spec(self) -> &'static FieldSpec {
                &SPECS[self as usize]
            }

            /// The field's name.
            pub fn name(self) -> &'static str {
                self.spec().name
            }

            /// Looks a field up by name.
            pub fn from_name(name: &str) -> Option<Field> {
                match name { $($name => Some(Field::$variant),)+ _ => None }
            }
        }

        const SPECS: &[FieldSpec] = &[
            $( FieldSpec {
                name: $name,
                kind: $kind,
                presence: Presence::$presence,
                unit: $unit,
                description: $desc,
                model_feature: $feature,
            }, )+
        ];
    };
}

const fn num(min: f64, max: f64) -> FieldKind {
    FieldKind::Number { min, max }
}

const fn int(min: i64, max: i64) -> FieldKind {
    FieldKind::Integer { min, max }
}

fields! {
    CaseId: "case_id", FieldKind::CaseId, Required, "", false,
        "Caller's identifier of this case; never used as a feature and logged only hashed.";
    Organ: "organ", FieldKind::Category(Organ::NAMES), Required, "", true,
        "Transplanted organ.";
    AgeYears: "age_years", num(0.0, 110.0), Required, "years", true,
        "Age at the index date.";
    Sex: "sex", FieldKind::Category(Sex::NAMES), Required, "", true,
        "Recorded sex (protected attribute: neutralised in underwriting prices).";
    DaysSinceTransplant: "days_since_transplant", int(0, 36_500), Required, "days", true,
        "Days from transplant to the index date.";
    Bmi: "bmi", num(12.0, 70.0), Required, "kg/m2", true,
        "Body-mass index.";
    Diabetes: "diabetes", FieldKind::Boolean, Required, "", true,
        "Pre-existing or post-transplant diabetes mellitus.";
    CmvSerostatus: "cmv_serostatus", FieldKind::Category(CmvSerostatus::NAMES), Required, "", true,
        "Cytomegalovirus serostatus of donor (D) and recipient (R).";
    Induction: "induction", FieldKind::Category(Induction::NAMES), Required, "", true,
        "Induction immunosuppression at transplant.";
    AcuteRejectionEpisodes12m: "acute_rejection_episodes_12m", int(0, 20), Required, "count", true,
        "Treated acute rejection episodes in the 12 months before the index date.";
    EgfrMlMin: "egfr_ml_min", num(0.0, 200.0), Required, "mL/min/1.73m2", true,
        "Estimated glomerular filtration rate at the index date.";
    TacrolimusTroughNgMl: "tacrolimus_trough_ng_ml", num(0.0, 60.0), Optional, "ng/mL", true,
        "Latest tacrolimus trough level (absent if not on tacrolimus or not measured).";
    LymphocyteCount10e9L: "lymphocyte_count_10e9_l", num(0.0, 50.0), Optional, "10^9/L", true,
        "Latest absolute lymphocyte count.";
    IggGL: "igg_g_l", num(0.0, 40.0), Optional, "g/L", true,
        "Latest serum immunoglobulin G.";
    AlbuminGDl: "albumin_g_dl", num(0.5, 6.5), Optional, "g/dL", true,
        "Latest serum albumin.";
    PriorInfections12m: "prior_infections_12m", int(0, 50), Required, "count", true,
        "Infections treated in the 12 months before the index date.";
    Hospitalizations12m: "hospitalizations_12m", int(0, 50), Required, "count", true,
        "Hospital admissions in the 12 months before the index date.";
    EdVisits6m: "ed_visits_6m", int(0, 50), Required, "count", true,
        "Emergency-department visits in the 6 months before the index date.";
    IndexLengthOfStayDays: "index_length_of_stay_days", int(0, 365), Required, "days", true,
        "Length of the hospital stay that ended at the index date (0 for a clinic visit).";
    EmergencyAdmission: "emergency_admission", FieldKind::Boolean, Required, "", true,
        "Whether the index stay began as an emergency admission.";
    CharlsonIndex: "charlson_index", int(0, 37), Required, "points", true,
        "Charlson comorbidity index.";
    IcuDays: "icu_days", int(0, 365), Required, "days", true,
        "Days in intensive care during the index stay (at most its length).";
    AdherencePct: "adherence_pct", num(0.0, 100.0), Optional, "%", true,
        "Immunosuppressant adherence (share of doses taken, pharmacy or self-report).";
    Phq9Score: "phq9_score", int(0, 27), Optional, "points", true,
        "PHQ-9 depression questionnaire total.";
    Phq9Item9: "phq9_item9", int(0, 3), Optional, "points", true,
        "PHQ-9 question 9 (thoughts of self-harm); any value above 0 starts the safety pathway.";
    Gad7Score: "gad7_score", int(0, 21), Optional, "points", true,
        "GAD-7 anxiety questionnaire total.";
    LivesAlone: "lives_alone", FieldKind::Boolean, Required, "", true,
        "Whether the patient lives alone.";
    DistanceToCenterKm: "distance_to_center_km", num(0.0, 5000.0), Optional, "km", true,
        "Distance from home to the transplant centre.";
    CurrentTier: "current_tier", FieldKind::Category(Tier::NAMES), Optional, "", false,
        "Case-management tier the patient is in now (policy input, not a feature).";
    EnrolledInProgram: "enrolled_in_program", FieldKind::Boolean, OptionalDefaultFalse, "", false,
        "Enrolled in the health-management programme (policy input, not a feature).";
    YearsWithoutComplications: "years_without_complications", int(0, 100), Optional, "years", false,
        "Years without complications (underwriting only, not a feature).";
}

impl PatientRecord {
    /// The value of `field` in this record, or `None` when an optional field is absent.
    pub fn value(&self, field: Field) -> Option<FieldValue<'_>> {
        use FieldValue::{Boolean, Integer, Number, Text};
        let int = |n: u32| Some(Integer(i64::from(n)));
        let opt_int = |n: Option<u32>| n.map(|n| Integer(i64::from(n)));
        match field {
            Field::CaseId => Some(Text(&self.case_id)),
            Field::Organ => Some(Text(self.organ.as_str())),
            Field::AgeYears => Some(Number(self.age_years)),
            Field::Sex => Some(Text(self.sex.as_str())),
            Field::DaysSinceTransplant => int(self.days_since_transplant),
            Field::Bmi => Some(Number(self.bmi)),
            Field::Diabetes => Some(Boolean(self.diabetes)),
            Field::CmvSerostatus => Some(Text(self.cmv_serostatus.as_str())),
            Field::Induction => Some(Text(self.induction.as_str())),
            Field::AcuteRejectionEpisodes12m => int(self.acute_rejection_episodes_12m),
            Field::EgfrMlMin => Some(Number(self.egfr_ml_min)),
            Field::TacrolimusTroughNgMl => self.tacrolimus_trough_ng_ml.map(Number),
            Field::LymphocyteCount10e9L => self.lymphocyte_count_10e9_l.map(Number),
            Field::IggGL => self.igg_g_l.map(Number),
            Field::AlbuminGDl => self.albumin_g_dl.map(Number),
            Field::PriorInfections12m => int(self.prior_infections_12m),
            Field::Hospitalizations12m => int(self.hospitalizations_12m),
            Field::EdVisits6m => int(self.ed_visits_6m),
            Field::IndexLengthOfStayDays => int(self.index_length_of_stay_days),
            Field::EmergencyAdmission => Some(Boolean(self.emergency_admission)),
            Field::CharlsonIndex => int(self.charlson_index),
            Field::IcuDays => int(self.icu_days),
            Field::AdherencePct => self.adherence_pct.map(Number),
            Field::Phq9Score => opt_int(self.phq9_score),
            Field::Phq9Item9 => opt_int(self.phq9_item9),
            Field::Gad7Score => opt_int(self.gad7_score),
            Field::LivesAlone => Some(Boolean(self.lives_alone)),
            Field::DistanceToCenterKm => self.distance_to_center_km.map(Number),
            Field::CurrentTier => self.current_tier.map(|t| Text(t.as_str())),
            Field::EnrolledInProgram => Some(Boolean(self.enrolled_in_program)),
            Field::YearsWithoutComplications => opt_int(self.years_without_complications),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_spec_at_its_own_index() {
        assert_eq!(Field::ALL.len(), SPECS.len());
        for (i, field) in Field::ALL.iter().enumerate() {
            assert_eq!(*field as usize, i);
            assert_eq!(Field::from_name(field.name()), Some(*field));
        }
    }

    #[test]
    fn policy_only_fields_are_not_features() {
        let not_features: Vec<_> = Field::ALL
            .iter()
            .filter(|f| !f.spec().model_feature)
            .map(|f| f.name())
            .collect();
        assert_eq!(
            not_features,
            [
                "case_id",
                "current_tier",
                "enrolled_in_program",
                "years_without_complications"
            ]
        );
    }

    #[test]
    fn allowed_texts_state_the_range() {
        assert_eq!(Field::AgeYears.spec().kind.allowed(), "a number from 0 to 110");
        assert_eq!(Field::IcuDays.spec().kind.allowed(), "a whole number from 0 to 365");
        assert_eq!(Field::Organ.spec().kind.allowed(), "one of: kidney, liver, heart, lung");
    }
}
