//! The JSON Schemas of a model trained through a spec, built from its
//! artifact alone: its input (features with their kinds, the spec's ranges
//! and categories, `null` where training saw a feature missing, an optional
//! `case_id`, no other key), its score and its batch answer. The OpenAPI
//! document publishes them under each model's paths; `GET /v1/models/{target}`
//! answers the input's.

use carescore_core::artifact::{FeatureKind, FeatureSpec, LabelRule};
use carescore_core::model_input::{band_names, InputWarningRule, CASE_ID};
use carescore_core::validation::CASE_ID_MAX_CHARS;
use carescore_core::ModelArtifact;
use serde_json::{json, Map, Value};

/// The pattern of `case_id`.
pub(crate) fn case_id_pattern() -> String {
    format!("^[A-Za-z0-9._-]{{1,{CASE_ID_MAX_CHARS}}}$")
}

/// The JSON Schema of one feature of a spec model's input: its kind, the
/// spec's allowed range or the model's categories, `null` allowed where
/// training saw the feature missing.
fn feature_schema(feature: &FeatureSpec) -> Value {
    let nullable = feature.missing_indicator;
    let typed = |name: &str| if nullable { json!([name, "null"]) } else { json!(name) };
    let mut schema = match &feature.kind {
        FeatureKind::Numeric { .. } => {
            let mut schema = json!({"type": typed("number")});
            let range = feature.allowed_range.unwrap_or_default();
            if let Some(min) = range.min {
                schema["minimum"] = json!(min);
            }
            if let Some(max) = range.max {
                schema["maximum"] = json!(max);
            }
            schema
        }
        FeatureKind::Boolean => json!({"type": typed("boolean")}),
        FeatureKind::Categorical { categories } => {
            let mut names: Vec<Value> = categories.iter().map(|c| json!(c)).collect();
            if nullable {
                names.push(Value::Null);
            }
            json!({"type": typed("string"), "enum": names})
        }
    };
    schema["description"] = json!(if nullable {
        "May be absent or null: training saw it missing, and the model handles it as trained."
    } else {
        "Required: training never saw it missing."
    });
    schema
}

/// The JSON Schema of an input of the spec model `artifact`: its features
/// and an optional `case_id`, the required ones listed, no other key.
pub(crate) fn model_input_schema(artifact: &ModelArtifact) -> Value {
    let mut properties: Map<String, Value> = artifact
        .features
        .iter()
        .map(|f| (f.name.clone(), feature_schema(f)))
        .collect();
    properties.insert(
        CASE_ID.to_string(),
        json!({
            "type": ["string", "null"],
            "minLength": 1,
            "maxLength": CASE_ID_MAX_CHARS,
            "pattern": case_id_pattern(),
            "description": "Your identifier of the case (optional); only its salted hash reaches the audit trail.",
        }),
    );
    let required: Vec<&str> = artifact
        .features
        .iter()
        .filter(|f| !f.missing_indicator)
        .map(|f| f.name.as_str())
        .collect();
    json!({
        "type": "object",
        "description": format!(
            "An input of model {}: its features, checked as the artifact says; every problem is reported at once (422).",
            artifact.model_version()
        ),
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The JSON Schema of a spec model's score (with the request's id when
/// `request_id`: the answer of one input).
pub(crate) fn model_score_schema(artifact: &ModelArtifact, request_id: bool) -> Value {
    let outcome = match &artifact.label_rule {
        LabelRule::TimeToEvent { event_column, .. } => format!(
            "Calibrated probability of `{event_column}` within {} days.",
            artifact.horizon_days
        ),
        LabelRule::LabelColumn { column } => format!("Calibrated probability that `{column}` is true."),
    };
    let bands = band_names(artifact.operating_thresholds.len());
    let flags: Vec<&str> = artifact.flags.iter().map(|f| f.name.as_str()).collect();
    let mut properties = json!({
        "case_id": {"type": "string", "description": "The input's case id, when it carried one."},
        "target": {"type": "string", "const": artifact.target},
        "probability": {"type": "number", "minimum": 0, "maximum": 1, "description": outcome},
        "model_version": {"type": "string"},
        "model_sha256": {"type": "string"},
        "base_value": {"type": "number", "description": "Raw output with no feature information."},
        "scale": {"type": "string", "enum": ["log_odds", "vote_share"]},
        "explanation": {"$ref": "#/components/schemas/ExplanationMethod"},
        "contributions": {"type": "array", "items": {"$ref": "#/components/schemas/Factor"},
            "description": "Every feature with the input's value and its contribution, in the model's feature \
                order: base_value + contributions = the raw output."},
        "flags": if flags.is_empty() {
            json!({"type": "array", "maxItems": 0, "description": "The model declares no flags."})
        } else {
            json!({"type": "array", "items": {"type": "string", "enum": flags},
                "description": "The declared flags the probability raises."})
        },
    });
    properties["warnings"] = json!({
        "type": "array",
        "description": "Values accepted but doubted (never the value itself).",
        "items": {
            "type": "object",
            "properties": {
                "field": {"type": "string"},
                "message": {"type": "string"},
                "rule": {"type": "string", "enum": InputWarningRule::ALL.map(InputWarningRule::as_str)},
            },
            "required": ["field", "message", "rule"],
        },
    });
    let mut required = vec![
        "target",
        "probability",
        "model_version",
        "model_sha256",
        "base_value",
        "scale",
        "explanation",
        "contributions",
        "flags",
        "warnings",
    ];
    if !bands.is_empty() {
        properties["band"] = json!({"type": "string", "enum": bands,
            "description": "The probability's band among the model's operating thresholds."});
        required.push("band");
    }
    if request_id {
        properties["request_id"] = json!({"type": "string"});
        required.push("request_id");
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// The JSON Schema of a spec model's batch answer.
pub(crate) fn model_batch_schema(score: &str) -> Value {
    json!({
        "type": "object",
        "properties": {
            "results": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer", "minimum": 0},
                    "ok": {"$ref": score},
                    "error": {"$ref": "#/components/schemas/Problem"},
                },
                "required": ["index"],
            }},
            "scored": {"type": "integer", "minimum": 0},
            "failed": {"type": "integer", "minimum": 0},
            "request_id": {"type": "string"},
        },
        "required": ["results", "scored", "failed", "request_id"],
    })
}
