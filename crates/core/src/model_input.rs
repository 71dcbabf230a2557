//! The input and score of a model trained through a training spec, on its
//! own columns rather than the patient record's fields.
//!
//! The input is a flat JSON object of the model's features plus an optional
//! `case_id`, checked against the artifact alone (format 2 carries what is
//! needed), with the rules of the patient record: unknown and duplicate keys
//! refused; a feature required unless training saw it missing (then it may
//! be absent or `null`, and is handled as trained); numbers, booleans and
//! categories of the feature's kind; a number inside the spec's allowed
//! range and a category among the model's. Every problem is reported at
//! once, naming the field, the rule and what is allowed, never the value.
//! A number inside the spec's range but beyond what training held
//! ([`crate::artifact::TrainingBins`]) is accepted with a warning.
//!
//! The score is the artifact's calibrated probability with the same
//! explanation as the built-in models, the band named from the artifact's
//! operating thresholds ([`band_names`]) and the flags the spec declared.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::artifact::{
    CompiledModel, ExplanationMethod, FeatureKind, FeatureSpec, ModelArtifact, Outside, Row, MIN_BIN_ROWS,
};
use crate::field::{FieldKind, FieldValue};
use crate::scoring::{scale_of, Factor};
use crate::validation::{is_case_id, FieldError, Rule};

/// The key of the optional case identifier: the patient record's own
/// (`Field::CaseId`, a test holds them equal).
pub const CASE_ID: &str = "case_id";
/// Longest unknown key repeated in an error (a key is never a value, but a
/// caller's mistake should not fill the answer).
const KEY_MAX_CHARS: usize = 64;

/// One present input value.
#[derive(Debug, Clone, PartialEq)]
enum InputValue {
    Number(f64),
    Boolean(bool),
    Text(String),
}

/// A checked input of a spec model: one value (or none) per feature.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInput {
    /// The caller's case identifier, if sent.
    pub case_id: Option<String>,
    values: BTreeMap<String, InputValue>,
    /// Values accepted but doubted.
    pub warnings: Vec<InputWarning>,
}

/// Why a spec model's input value is accepted but doubted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InputWarningRule {
    /// Inside the spec's allowed range, but beyond the range that held all
    /// but the 9 most extreme training rows at that end: the model extrapolates.
    OutsideTrainingRange,
}

impl InputWarningRule {
    /// Every rule, for documentation and schemas.
    pub const ALL: [InputWarningRule; 1] = [InputWarningRule::OutsideTrainingRange];

    /// The rule's stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            InputWarningRule::OutsideTrainingRange => "outside_training_range",
        }
    }
}

/// A value of a spec model's input that is accepted but doubted; never the value itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InputWarning {
    /// The feature.
    pub field: String,
    /// Why it is doubted.
    pub message: String,
    /// Stable identifier of the rule.
    pub rule: InputWarningRule,
}

/// The warning for a number of `feature` outside what training held, if it is.
fn training_range_warning(feature: &FeatureSpec, x: f64) -> Option<InputWarning> {
    let bins = feature.training_bins.as_ref()?;
    let message = match bins.outside(x)? {
        Outside::Below => format!(
            "is below {}, the {MIN_BIN_ROWS}th smallest value in training: fewer than {MIN_BIN_ROWS} training rows \
             were this low, so the model extrapolates",
            bins.low
        ),
        Outside::Above => format!(
            "is above {}, the {MIN_BIN_ROWS}th largest value in training: fewer than {MIN_BIN_ROWS} training rows \
             were this high, so the model extrapolates",
            bins.high
        ),
    };
    Some(InputWarning {
        field: feature.name.clone(),
        message,
        rule: InputWarningRule::OutsideTrainingRange,
    })
}

impl Row for ModelInput {
    fn value(&self, name: &str) -> Option<FieldValue<'_>> {
        self.values.get(name).map(|v| match v {
            InputValue::Number(x) => FieldValue::Number(*x),
            InputValue::Boolean(b) => FieldValue::Boolean(*b),
            InputValue::Text(s) => FieldValue::Text(s),
        })
    }
}

/// Why a body is not a valid input of the model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not an object.
    #[error("the body must be a JSON object with the model's features")]
    NotObject,
    /// The object is not a valid input; every problem is listed.
    #[error("the input has {} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
}

/// The entries of a JSON object in order, duplicates kept (so they can be refused).
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Entries, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// What a feature accepts, in words (the `allowed` of its errors).
fn allowed(feature: &FeatureSpec) -> String {
    let kind = match &feature.kind {
        FeatureKind::Numeric { .. } => match feature.allowed_range {
            Some(range) => match (range.min, range.max) {
                (Some(min), Some(max)) => format!("a number from {min} to {max}"),
                (Some(min), None) => format!("a number of at least {min}"),
                (None, Some(max)) => format!("a number of at most {max}"),
                (None, None) => "a number".to_string(),
            },
            None => "a number".to_string(),
        },
        FeatureKind::Boolean => "true or false".to_string(),
        FeatureKind::Categorical { categories } => format!("one of: {}", categories.join(", ")),
    };
    if feature.missing_indicator {
        format!("{kind}, or null / absent")
    } else {
        kind
    }
}

/// Checks one present value of `feature`.
fn check(feature: &FeatureSpec, value: &serde_json::Value) -> Result<InputValue, FieldError> {
    let error = |message: &str, rule| FieldError::new(&feature.name, message, allowed(feature), rule);
    match &feature.kind {
        FeatureKind::Numeric { .. } => {
            let Some(x) = value.as_f64().filter(|_| value.is_number()) else {
                return Err(error("must be a number", Rule::WrongType));
            };
            let range = feature.allowed_range.unwrap_or_default();
            let below = range.min.is_some_and(|min| x < min);
            let above = range.max.is_some_and(|max| x > max);
            if below || above {
                return Err(error("is outside the range the model was trained on", Rule::OutOfRange));
            }
            Ok(InputValue::Number(x))
        }
        FeatureKind::Boolean => value
            .as_bool()
            .map(InputValue::Boolean)
            .ok_or_else(|| error("must be true or false", Rule::WrongType)),
        FeatureKind::Categorical { categories } => {
            let Some(name) = value.as_str() else {
                return Err(error("must be a string, one of the categories", Rule::WrongType));
            };
            if !categories.iter().any(|c| c == name) {
                return Err(error("is not one of the allowed values", Rule::NotAllowedValue));
            }
            Ok(InputValue::Text(name.to_string()))
        }
    }
}

/// Checks a case identifier, as the patient record's.
fn check_case_id(value: &serde_json::Value) -> Result<String, FieldError> {
    let allowed = FieldKind::CaseId.allowed();
    match value.as_str() {
        Some(id) if is_case_id(id) => Ok(id.to_string()),
        Some(_) => Err(FieldError::new(
            CASE_ID,
            format!("must be {allowed}"),
            allowed,
            Rule::CaseIdFormat,
        )),
        None => Err(FieldError::new(CASE_ID, "must be a string", allowed, Rule::WrongType)),
    }
}

/// Parses and checks a JSON body as an input of `artifact`'s model.
///
/// # Errors
/// [`InputError`]: not JSON, not an object, or every problem of the object.
pub fn parse_model_input(artifact: &ModelArtifact, body: &[u8]) -> Result<ModelInput, InputError> {
    // One pass: the values are read as JSON values, so the only data error
    // left is a document that is not an object.
    let Entries(entries) = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => InputError::NotObject,
        _ => InputError::NotJson(e.to_string()),
    })?;
    let mut errors = Vec::new();
    let mut case_id = None;
    let mut given: BTreeMap<&str, &serde_json::Value> = BTreeMap::new();
    for (key, value) in &entries {
        let known = key == CASE_ID || artifact.features.iter().any(|f| &f.name == key);
        if !known {
            let shown: String = key.chars().take(KEY_MAX_CHARS).collect();
            let names: Vec<&str> = artifact.features.iter().map(|f| f.name.as_str()).collect();
            errors.push(FieldError::new(
                &shown,
                format!("is not a feature of model {}", artifact.model_version()),
                format!("`{CASE_ID}` and the model's features: {}", names.join(", ")),
                Rule::UnknownField,
            ));
        } else if given.insert(key, value).is_some() {
            errors.push(FieldError::new(
                key,
                "is given more than once",
                "each field at most once",
                Rule::DuplicateField,
            ));
        }
    }
    if let Some(value) = given.get(CASE_ID).filter(|v| !v.is_null()) {
        match check_case_id(value) {
            Ok(id) => case_id = Some(id),
            Err(e) => errors.push(e),
        }
    }
    let mut values = BTreeMap::new();
    let mut warnings = Vec::new();
    for feature in &artifact.features {
        match given.get(feature.name.as_str()).filter(|v| !v.is_null()) {
            Some(value) => match check(feature, value) {
                Ok(v) => {
                    if let InputValue::Number(x) = v {
                        warnings.extend(training_range_warning(feature, x));
                    }
                    values.insert(feature.name.clone(), v);
                }
                Err(e) => errors.push(e),
            },
            // Training saw this feature missing: the model handles it as trained.
            None if feature.missing_indicator => {}
            None => errors.push(FieldError::new(
                &feature.name,
                "is required: training never saw it missing",
                allowed(feature),
                Rule::Required,
            )),
        }
    }
    if errors.is_empty() {
        Ok(ModelInput {
            case_id,
            values,
            warnings,
        })
    } else {
        Err(InputError::Invalid(errors))
    }
}

/// The band names for `thresholds` thresholds, lowest first: one threshold
/// gives `low`, `high`; two give `low`, `medium`, `high`; more give `low`,
/// `medium_1` ... `medium_{n-1}`, `high`; none give no band.
pub fn band_names(thresholds: usize) -> Vec<String> {
    match thresholds {
        0 => Vec::new(),
        1 => vec!["low".into(), "high".into()],
        2 => vec!["low".into(), "medium".into(), "high".into()],
        n => std::iter::once("low".to_string())
            .chain((1..n).map(|i| format!("medium_{i}")))
            .chain(std::iter::once("high".to_string()))
            .collect(),
    }
}

/// The band of probability `p`: above a threshold is the band above it.
pub fn band_of(p: f64, thresholds: &[f64]) -> Option<String> {
    let above = thresholds.iter().filter(|t| p > **t).count();
    band_names(thresholds.len()).into_iter().nth(above)
}

/// A spec model's score of one input: the answer of
/// `POST /v1/models/{target}/score` (the service adds the request's id).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelScore {
    /// The input's case id, when it carried one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub case_id: Option<String>,
    /// The model's target.
    pub target: String,
    /// Calibrated probability of the target's outcome.
    pub probability: f64,
    /// The band of the probability among the model's operating thresholds
    /// ([`band_names`]); absent without thresholds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub band: Option<String>,
    /// `<target>@<version>`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub model_version: Arc<str>,
    /// The artifact's checksum.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub model_sha256: Arc<str>,
    /// Raw output with no feature information.
    pub base_value: f64,
    /// Scale of `base_value` and contributions: `log_odds` or `vote_share`.
    pub scale: &'static str,
    /// How the contributions were computed: `tree_shap` (exact path-dependent
    /// TreeSHAP, as the `shap` package's `TreeExplainer` gives) or `linear`
    /// (coefficient times standardised value).
    pub explanation: ExplanationMethod,
    /// Every feature with the input's value and its contribution, in the
    /// model's feature order: base value + contributions = the raw output.
    pub contributions: Vec<Factor>,
    /// The declared flags the probability raises, in declaration order.
    pub flags: Vec<String>,
    /// The input's values accepted but doubted.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub warnings: Vec<InputWarning>,
    /// The raw output the probability calibrates.
    #[serde(skip)]
    pub raw: f64,
}

/// Scores a checked input with the model (the same code as every other score).
pub fn score_model_input(model: &CompiledModel, input: &ModelInput) -> ModelScore {
    let explanation = model.explain(input);
    let probability = model.calibrate(explanation.raw);
    let artifact = model.artifact();
    let contributions = explanation
        .contributions
        .iter()
        .enumerate()
        .map(|(i, contribution)| Factor::of(model, i, input, *contribution))
        .collect();
    let (model_version, model_sha256) = model.identity();
    ModelScore {
        case_id: input.case_id.clone(),
        target: artifact.target.clone(),
        probability,
        band: band_of(probability, &artifact.operating_thresholds),
        model_version,
        model_sha256,
        base_value: explanation.base_value,
        scale: scale_of(&artifact.estimator),
        explanation: ExplanationMethod::of(&artifact.estimator),
        contributions,
        flags: artifact
            .flags
            .iter()
            .filter(|f| probability > f.above)
            .map(|f| f.name.clone())
            .collect(),
        warnings: input.warnings.clone(),
        raw: explanation.raw,
    }
}

#[cfg(test)]
mod tests;
