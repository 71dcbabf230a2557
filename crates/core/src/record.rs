//! The patient record: one snapshot of a transplant recipient at an index date
//! (a discharge or a follow-up visit), exactly as `docs/data-contract.md` defines it.
//!
//! The typed struct is strict (unknown fields are rejected by serde); the lenient,
//! report-everything parser lives in [`crate::validation`].

use serde::{Deserialize, Serialize};

use crate::phase::Phase;

/// Declares a closed set of string values (a categorical field) with its wire names.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:tt ),+ $(,)? }
    ) => {
        // `$text` is a `tt`, not a `literal`: a `literal` fragment reaches a
        // derive macro wrapped in an invisible group, which serde looks
        // through but utoipa does not, so the OpenAPI enums showed the Rust
        // variant names instead of the wire names.
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The wire names of every value, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            /// The type's name (its schema's name in the OpenAPI document).
            pub const TYPE_NAME: &'static str = stringify!($name);
            /// The Rust names of every value, in declaration order (the
            /// OpenAPI document's `x-enum-varnames`, for client generators:
            /// `D+/R-` and `D+/R+` give no distinct identifiers of their own).
            pub const VARIANT_NAMES: &'static [&'static str] = &[$(stringify!($variant)),+];

            /// The value's wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Looks a value up by its wire name (exact match).
            pub fn from_name(name: &str) -> Option<$name> {
                match name { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// The transplanted organ.
    Organ {
        /// Kidney transplant.
        Kidney => "kidney",
        /// Liver transplant.
        Liver => "liver",
        /// Heart transplant.
        Heart => "heart",
        /// Lung transplant (single or double).
        Lung => "lung",
    }
}

string_enum! {
    /// Recorded sex (a protected attribute for pricing; see the policy).
    Sex {
        /// Female.
        Female => "female",
        /// Male.
        Male => "male",
    }
}

string_enum! {
    /// Cytomegalovirus serostatus of donor (D) and recipient (R).
    CmvSerostatus {
        /// Seropositive donor, seronegative recipient: the highest-risk mismatch.
        DonorPosRecipientNeg => "D+/R-",
        /// Both seropositive.
        DonorPosRecipientPos => "D+/R+",
        /// Seronegative donor, seropositive recipient.
        DonorNegRecipientPos => "D-/R+",
        /// Both seronegative: the lowest risk.
        DonorNegRecipientNeg => "D-/R-",
    }
}

string_enum! {
    /// Induction immunosuppression given at transplant.
    Induction {
        /// No induction agent.
        None => "none",
        /// Basiliximab (IL-2 receptor antagonist, non-depleting).
        Basiliximab => "basiliximab",
        /// Anti-thymocyte globulin (lymphocyte-depleting).
        Atg => "atg",
    }
}

string_enum! {
    /// Case-management tier, from least to most intensive.
    Tier {
        /// Self-service app, no scheduled human contact.
        SelfService => "self_service",
        /// Remote nurse phone follow-up.
        Remote => "remote",
        /// Senior case manager 1:1.
        Intensive => "intensive",
    }
}

/// A complete, plausible record as the CMS sends it: for documentation,
/// examples, tests and benchmarks.
pub const EXAMPLE_RECORD_JSON: &str = r#"{
  "case_id": "c-102", "organ": "kidney", "age_years": 54.0, "sex": "female",
  "days_since_transplant": 40, "bmi": 27.5, "diabetes": false,
  "cmv_serostatus": "D+/R-", "induction": "atg", "acute_rejection_episodes_12m": 0,
  "egfr_ml_min": 52.0, "tacrolimus_trough_ng_ml": 9.1, "lymphocyte_count_10e9_l": 1.2,
  "igg_g_l": 8.5, "albumin_g_dl": 3.9, "prior_infections_12m": 0,
  "hospitalizations_12m": 1, "ed_visits_6m": 0, "index_length_of_stay_days": 6,
  "emergency_admission": false, "charlson_index": 3, "icu_days": 1,
  "adherence_pct": 96.0, "phq9_score": 4, "phq9_item9": 0, "gad7_score": 3,
  "lives_alone": false, "distance_to_center_km": 42.0, "current_tier": "remote",
  "enrolled_in_program": true, "years_without_complications": 0
}"#;

/// One snapshot of a transplant recipient, as the CMS sends it for scoring.
///
/// Field names, units and hard ranges are the contract of `docs/data-contract.md`;
/// [`crate::Field`] holds the same contract as data. Deserialising this struct
/// directly stops at the first problem; use [`crate::parse_record`] to get every
/// problem of a record at once plus the plausibility warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PatientRecord {
    /// Caller's case identifier, 1-64 characters `[A-Za-z0-9._-]`.
    pub case_id: String,
    /// Transplanted organ.
    pub organ: Organ,
    /// Age in years (0-110).
    pub age_years: f64,
    /// Recorded sex.
    pub sex: Sex,
    /// Days since the transplant (0-36500).
    #[serde(deserialize_with = "count")]
    pub days_since_transplant: u32,
    /// Body-mass index in kg/m² (12-70).
    pub bmi: f64,
    /// Pre-existing or post-transplant diabetes.
    pub diabetes: bool,
    /// CMV donor/recipient serostatus.
    pub cmv_serostatus: CmvSerostatus,
    /// Induction agent.
    pub induction: Induction,
    /// Treated acute rejection episodes in the last 12 months (0-20).
    #[serde(deserialize_with = "count")]
    pub acute_rejection_episodes_12m: u32,
    /// Estimated GFR in mL/min/1.73m² (0-200).
    pub egfr_ml_min: f64,
    /// Tacrolimus trough level in ng/mL (0-60), if measured.
    #[serde(default)]
    pub tacrolimus_trough_ng_ml: Option<f64>,
    /// Absolute lymphocyte count in 10⁹/L (0-50), if measured.
    #[serde(default)]
    pub lymphocyte_count_10e9_l: Option<f64>,
    /// Serum IgG in g/L (0-40), if measured.
    #[serde(default)]
    pub igg_g_l: Option<f64>,
    /// Serum albumin in g/dL (0.5-6.5), if measured.
    #[serde(default)]
    pub albumin_g_dl: Option<f64>,
    /// Infections in the last 12 months (0-50).
    #[serde(deserialize_with = "count")]
    pub prior_infections_12m: u32,
    /// Hospital admissions in the last 12 months (0-50).
    #[serde(deserialize_with = "count")]
    pub hospitalizations_12m: u32,
    /// Emergency-department visits in the last 6 months (0-50).
    #[serde(deserialize_with = "count")]
    pub ed_visits_6m: u32,
    /// Length of the index hospital stay in days (0-365; 0 for a clinic visit).
    #[serde(deserialize_with = "count")]
    pub index_length_of_stay_days: u32,
    /// Whether the index admission was an emergency.
    pub emergency_admission: bool,
    /// Charlson comorbidity index (0-37).
    #[serde(deserialize_with = "count")]
    pub charlson_index: u32,
    /// Days in intensive care during the index stay (0-365, at most the stay).
    #[serde(deserialize_with = "count")]
    pub icu_days: u32,
    /// Medication adherence in percent (0-100), if known.
    #[serde(default)]
    pub adherence_pct: Option<f64>,
    /// PHQ-9 depression score (0-27), if screened.
    #[serde(default, deserialize_with = "optional_count")]
    pub phq9_score: Option<u32>,
    /// PHQ-9 item 9, thoughts of self-harm (0-3), if screened.
    #[serde(default, deserialize_with = "optional_count")]
    pub phq9_item9: Option<u32>,
    /// GAD-7 anxiety score (0-21), if screened.
    #[serde(default, deserialize_with = "optional_count")]
    pub gad7_score: Option<u32>,
    /// Whether the patient lives alone.
    pub lives_alone: bool,
    /// Distance from home to the transplant centre in km (0-5000), if known.
    #[serde(default)]
    pub distance_to_center_km: Option<f64>,
    /// Tier the patient is in now, if enrolled in case management.
    #[serde(default)]
    pub current_tier: Option<Tier>,
    /// Whether the patient is enrolled in the health-management programme (default false).
    #[serde(default, deserialize_with = "null_as_false")]
    pub enrolled_in_program: bool,
    /// Years without complications (0-100), read by underwriting only.
    #[serde(default, deserialize_with = "optional_count")]
    pub years_without_complications: Option<u32>,
}

/// Reads a count: a whole number written as an integer, or as an integral
/// number such as `40.0` or `4e1` (an integer to JSON Schema).
fn count<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    struct Count;
    impl serde::de::Visitor<'_> for Count {
        type Value = u32;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number from 0 to 4294967295")
        }
        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<u32, E> {
            u32::try_from(n).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(n), &self))
        }
        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<u32, E> {
            u32::try_from(n).map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(n), &self))
        }
        fn visit_f64<E: serde::de::Error>(self, x: f64) -> Result<u32, E> {
            if x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&x) {
                // Integral and within u32: the conversion is exact.
                Ok(x as u32)
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Float(x), &self))
            }
        }
    }
    deserializer.deserialize_any(Count)
}

/// Reads an optional count ([`count`]); absent or `null` is `None`.
fn optional_count<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Count(#[serde(deserialize_with = "count")] u32);
    Ok(Option::<Count>::deserialize(deserializer)?.map(|Count(n)| n))
}

/// Reads an optional boolean whose absence or `null` means `false`.
fn null_as_false<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(false))
}

impl PatientRecord {
    /// The clinical phase of this snapshot.
    pub fn phase(&self) -> Phase {
        Phase::from_days_since_transplant(self.days_since_transplant)
    }
}
