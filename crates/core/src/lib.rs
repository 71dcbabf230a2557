//! # carescore-core
//!
//! The shared heart of CareScore: the patient record that the case-management
//! system (CMS) sends, its field contract, its validation and plausibility
//! screening, the clinical phase derived from time since transplant, the
//! model artifact and its scorer, the input and score of a model trained on
//! a centre's own columns ([`model_input`]), the comparison of live inputs
//! with the training data ([`drift`]), and the care and underwriting policy.
//!
//! Training (`carescore-train`) and serving (`carescore-serve`) both depend on
//! this crate, so a record is parsed, validated, scored and interpreted the
//! same way offline and online. It deliberately has no heavy dependencies
//! (serde, serde_json, sha2, toml, thiserror, and puruspe for one χ² quantile).
//!
//! ```
//! use carescore_core::{parse_record, Phase};
//!
//! let json = br#"{
//!   "case_id": "c-102", "organ": "kidney", "age_years": 54, "sex": "female",
//!   "days_since_transplant": 40, "bmi": 27.5, "diabetes": false,
//!   "cmv_serostatus": "D+/R-", "induction": "atg",
//!   "acute_rejection_episodes_12m": 0, "egfr_ml_min": 52,
//!   "prior_infections_12m": 0, "hospitalizations_12m": 1, "ed_visits_6m": 0,
//!   "index_length_of_stay_days": 0, "emergency_admission": false,
//!   "charlson_index": 3, "icu_days": 0, "lives_alone": false
//! }"#;
//! let screened = parse_record(json).expect("a valid record");
//! assert_eq!(screened.record.phase(), Phase::Acute);
//! assert!(screened.warnings.is_empty());
//! ```
#![forbid(unsafe_code)]

pub mod artifact;
mod case_hash;
pub mod drift;
pub mod embedded;
mod field;
pub mod levers;
pub mod model_input;
mod overlay;
mod phase;
pub mod policy;
pub mod programme;
mod record;
pub mod scoring;
pub mod validation;

pub use artifact::{ArtifactError, ModelArtifact};
pub use case_hash::{case_hash, MIN_SALT_CHARS};
pub use field::{Field, FieldKind, FieldSpec, FieldValue, Presence};
pub use phase::Phase;
pub use policy::{Policy, PolicyError};
pub use record::{CmvSerostatus, Induction, Organ, PatientRecord, Sex, Tier, EXAMPLE_RECORD_JSON};
pub use validation::{parse_record, parse_record_value, FieldError, RecordError, Screened, ValidationReport, Warning};
