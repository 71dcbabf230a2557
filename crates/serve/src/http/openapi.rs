//! `GET /openapi.json`: the OpenAPI 3.1 description of every route, exactly
//! as the service accepts and answers on the wire.
//!
//! - Responses and most schemas are generated from the Rust types with
//!   utoipa, so they follow the serde names.
//! - The patient record's schema is built from the field contract
//!   ([`carescore_core::Field`]), the same table validation enforces: types,
//!   ranges, allowed names, the case id's pattern, which fields are
//!   required and which may be `null`, and no other keys.
//! - Each model trained through a spec has its own score and batch paths
//!   (`/v1/models/<target>/score`) with its input's schema built from the
//!   artifact ([`model_input_schema`]); the document is rebuilt whenever
//!   the live set is (start, reload).
//! - Security is published as configured: without API keys no route asks
//!   for one (and no 401, 403 or 429 is possible); with keys every route but
//!   the probes, `/metrics` and this document asks for a bearer key with its
//!   scope. This document is open either way: it describes the API, not
//!   patients.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use carescore_core::artifact::{FeatureKind, FeatureSpec, LabelRule};
use carescore_core::model_input::{band_names, InputWarningRule, CASE_ID};
use carescore_core::validation::CASE_ID_MAX_CHARS;
use carescore_core::ModelArtifact;
use carescore_core::{CmvSerostatus, Field, FieldKind, Induction, Organ, Presence, Sex, Tier};
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::batch::MAX_BATCH;
use crate::loading::SpecModels;
use crate::problem::ProblemSchema;
use crate::routes::Route;
use crate::state::AppState;

/// Declares the bearer API-key scheme the routes refer to.
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "API key from the service's settings file; each route names the scope it needs \
                         (score, underwrite, admin).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The security scheme's name.
const BEARER: &str = "bearer";

/// The service's API description, before the record schema and the
/// security are set ([`document`]).
#[derive(OpenApi)]
#[openapi(
    info(title = "CareScore", description = "Post-transplant complication and readmission risk, care tiers and \
        underwriting grades. Errors are RFC 9457 problem documents (`application/problem+json`). Compatibility \
        within /v1: optional answer fields and routes may be added; nothing is removed, renamed or made required."),
    paths(
        crate::http::score::score,
        crate::http::score::batch,
        crate::http::underwriting::grade,
        crate::http::models::models,
        crate::http::spec_models::model_info,
        crate::http::spec_models::score,
        crate::http::spec_models::batch,
        crate::http::admin::reload,
        crate::http::metrics::metrics,
        crate::http::health::healthz,
        crate::http::health::readyz,
        openapi_json,
    ),
    components(schemas(ProblemSchema)),
    modifiers(&BearerKeys)
)]
pub(crate) struct ApiDoc;

/// Responses that only a service with API keys can give.
const KEY_ONLY_STATUSES: [&str; 3] = ["401", "403", "429"];

/// The pattern of `case_id`.
pub(crate) fn case_id_pattern() -> String {
    format!("^[A-Za-z0-9._-]{{1,{CASE_ID_MAX_CHARS}}}$")
}

/// What JSON Schema cannot say about a field: its cross-field rule.
fn cross_field_rule(field: Field) -> Option<&'static str> {
    match field {
        Field::IcuDays => Some(
            "Also at most `index_length_of_stay_days` (checked by the service, not expressible in JSON Schema: \
             422, rule `icu_days_exceed_stay`).",
        ),
        Field::DaysSinceTransplant => Some(
            "Also at most (age_years + 1) x 365.25 (a transplant after birth; checked by the service, not \
             expressible in JSON Schema: 422, rule `transplant_before_birth`).",
        ),
        _ => None,
    }
}

/// The JSON Schema of one field, from its contract; a category refers to
/// its enum's component schema.
fn field_schema(field: Field) -> Value {
    let spec = field.spec();
    let nullable = spec.presence != Presence::Required;
    let typed = |name: &str| {
        if nullable {
            json!([name, "null"])
        } else {
            json!(name)
        }
    };
    let mut schema = match spec.kind {
        FieldKind::CaseId => json!({
            "type": typed("string"),
            "minLength": 1,
            "maxLength": CASE_ID_MAX_CHARS,
            "pattern": case_id_pattern(),
        }),
        FieldKind::Number { min, max } => json!({"type": typed("number"), "minimum": min, "maximum": max}),
        FieldKind::Integer { min, max } => json!({"type": typed("integer"), "minimum": min, "maximum": max}),
        FieldKind::Boolean => json!({"type": typed("boolean")}),
        FieldKind::Category(names) => {
            // The component schema of the record enum with these names
            // (Organ, Sex, ...), so generated clients share one type.
            let component = ENUMS
                .iter()
                .find(|(_, wire, _)| *wire == names)
                .map(|(name, _, _)| json!({"$ref": format!("#/components/schemas/{name}")}))
                .unwrap_or_else(|| json!({"type": "string", "enum": names}));
            if nullable {
                json!({"anyOf": [component, {"type": "null"}]})
            } else {
                component
            }
        }
    };
    let unit = if spec.unit.is_empty() {
        String::new()
    } else {
        format!(" Unit: {}.", spec.unit)
    };
    let presence = match spec.presence {
        Presence::Required => "",
        Presence::Optional if spec.model_feature => " May be absent or null (the models handle a missing value).",
        Presence::Optional => " May be absent or null.",
        Presence::OptionalDefaultFalse => " May be absent or null, meaning false.",
    };
    let rule = cross_field_rule(field).map(|r| format!(" {r}")).unwrap_or_default();
    schema["description"] = format!("{}{unit}{presence}{rule}", spec.description).into();
    schema
}

/// The patient record's schema: every field of the contract, the required
/// ones listed, no other key allowed.
pub(crate) fn record_schema() -> Value {
    let properties: Map<String, Value> = Field::ALL
        .iter()
        .map(|f| (f.name().to_string(), field_schema(*f)))
        .collect();
    let required: Vec<&str> = Field::ALL
        .iter()
        .filter(|f| f.spec().presence == Presence::Required)
        .map(|f| f.name())
        .collect();
    let example: Value = serde_json::from_str(carescore_core::EXAMPLE_RECORD_JSON).unwrap_or_default();
    json!({
        "type": "object",
        "description": "One snapshot of a transplant recipient at an index date (a discharge or a follow-up \
            visit). Every problem is reported at once (422); values inside the range but implausible are \
            accepted with a warning. Field meanings and units: docs/data-contract.md.",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
        "examples": [example],
    })
}

/// The batch body's schema: `records`, 1 to 10,000 items. An item may be
/// any JSON value: each is validated on its own and a bad one gets its own
/// error in the answer, so the batch itself is not refused.
fn batch_schema(doc: &Value) -> Value {
    let mut records = doc["components"]["schemas"]["BatchRequest"]["properties"]["records"].clone();
    records["items"] = json!({
        "description": "A patient record (schema PatientRecord). An item that is not a valid record is \
            answered with its own problem in `results`, so any JSON value is accepted here.",
        "anyOf": [{"$ref": "#/components/schemas/PatientRecord"}, {}],
    });
    json!({
        "type": "object",
        "properties": {"records": records},
        "required": ["records"],
        "additionalProperties": false,
    })
}

/// The record's enums: schema name, wire names, Rust names.
const ENUMS: [(&str, &[&str], &[&str]); 5] = [
    (Organ::TYPE_NAME, Organ::NAMES, Organ::VARIANT_NAMES),
    (Sex::TYPE_NAME, Sex::NAMES, Sex::VARIANT_NAMES),
    (
        CmvSerostatus::TYPE_NAME,
        CmvSerostatus::NAMES,
        CmvSerostatus::VARIANT_NAMES,
    ),
    (Induction::TYPE_NAME, Induction::NAMES, Induction::VARIANT_NAMES),
    (Tier::TYPE_NAME, Tier::NAMES, Tier::VARIANT_NAMES),
];

/// Names each value of the record's enums for client generators
/// (`x-enum-varnames`), where the wire names make no identifiers.
fn name_enum_values(doc: &mut Value) {
    for (schema, names, variants) in ENUMS {
        let component = &mut doc["components"]["schemas"][schema];
        if component["enum"] == json!(names) {
            component["x-enum-varnames"] = json!(variants);
        }
    }
}

/// Every operation object of the document.
fn operations(doc: &mut Value) -> impl Iterator<Item = &mut Map<String, Value>> {
    doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|path| path.values_mut())
        .filter_map(Value::as_object_mut)
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
fn model_score_schema(artifact: &ModelArtifact, request_id: bool) -> Value {
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
fn model_batch_schema(score: &str) -> Value {
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

/// A reference to component `name`.
fn reference(name: &str) -> String {
    format!("#/components/schemas/{name}")
}

/// The operation `template` (a spec model's route with `{target}`) made
/// concrete for `artifact`: no path parameter, its own operation id, the
/// model's request and answer schemas.
fn concrete(template: &Value, artifact: &ModelArtifact, id: &str, request: Value, answer: &str) -> Value {
    let mut operation = template.clone();
    if let Some(operation) = operation.as_object_mut() {
        operation.remove("parameters");
    }
    // `<target>_score` and `<target>_score_batch`: the two endings keep every
    // model's ids apart, and no fixed route's id ends in either.
    operation["operationId"] = json!(format!("{}_{id}", artifact.target));
    operation["summary"] = json!(format!(
        "{} ({})",
        template["summary"].as_str().unwrap_or_default(),
        artifact.model_version()
    ));
    operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": request}}});
    operation["responses"]["200"]["content"]["application/json"]["schema"] = json!({"$ref": answer});
    operation
}

/// Adds each spec model's score and batch routes, concrete, with its own
/// schemas (`<target>_input`, `<target>_score`, ...), in place of the
/// templates: a generated client gets one typed call per model.
fn add_spec_models(doc: &mut Value, spec: &SpecModels) {
    let score = Route::SpecScore.name();
    let batch = Route::SpecScoreBatch.name();
    let templates = doc["paths"]
        .as_object_mut()
        .map(|paths| (paths.remove(score), paths.remove(batch)));
    let Some((Some(score_item), Some(batch_item))) = templates else {
        return;
    };
    // The templates' generic answer schemas: each model has its own.
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        use crate::http::spec_models::{SpecBatchItem, SpecBatchResponse, SpecScoreResponse};
        use carescore_core::model_input::{InputWarning, ModelScore};
        use utoipa::ToSchema;
        for generic in [
            SpecScoreResponse::name(),
            ModelScore::name(),
            InputWarning::name(),
            InputWarningRule::name(),
            SpecBatchResponse::name(),
            SpecBatchItem::name(),
        ] {
            schemas.remove(generic.as_ref());
        }
    }
    for (target, model) in spec {
        let artifact = model.artifact();
        let names = |suffix: &str| format!("{target}_{suffix}");
        let schemas = &mut doc["components"]["schemas"];
        schemas[names("input")] = model_input_schema(artifact);
        schemas[names("score")] = model_score_schema(artifact, false);
        schemas[names("score_response")] = model_score_schema(artifact, true);
        schemas[names("batch_response")] = model_batch_schema(&reference(&names("score")));
        let input = json!({"$ref": reference(&names("input"))});
        let batch_request = json!({
            "type": "object",
            "properties": {"records": {
                "type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                "description": "1 to 10,000 inputs. An item that is not a valid input is answered with its own \
                    problem in `results`, so any JSON value is accepted here.",
                "items": {"anyOf": [input.clone(), {}]},
            }},
            "required": ["records"],
            "additionalProperties": false,
        });
        let paths = &mut doc["paths"];
        paths[Route::SpecScore.for_target(target)] = json!({"post": concrete(
            &score_item["post"], artifact, "score", input, &reference(&names("score_response")))});
        paths[Route::SpecScoreBatch.for_target(target)] = json!({"post": concrete(
            &batch_item["post"], artifact, "score_batch", batch_request, &reference(&names("batch_response")))});
    }
}

/// The document for a service with (`keys`) or without API keys, serving
/// the spec models `spec` besides the built-in targets.
pub(crate) fn document(keys: bool, spec: &SpecModels) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    name_enum_values(&mut doc);
    doc["components"]["schemas"]["PatientRecord"] = record_schema();
    let batch = batch_schema(&doc);
    doc["components"]["schemas"]["BatchRequest"] = batch;
    add_spec_models(&mut doc, spec);
    if !keys {
        for operation in operations(&mut doc) {
            operation.remove("security");
            if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
                KEY_ONLY_STATUSES.iter().for_each(|status| {
                    responses.remove(*status);
                });
            }
        }
        if let Some(components) = doc["components"].as_object_mut() {
            components.remove("securitySchemes");
        }
    }
    doc
}

/// This document (open: it describes the API, not patients): the live
/// set's, so a reload that adds or changes a model changes it.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", body = Object), crate::http::answers::GuardProblems))]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> Response {
    let document = state.live.load().openapi.clone();
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        document,
    )
        .into_response()
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(Route::OpenApi.path(), get(openapi_json))
}
