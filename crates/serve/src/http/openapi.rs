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
//!   the probes, `/metrics`, `/v1/monitoring` and this document asks for a bearer key with its
//!   scope. This document is open either way: it describes the API, not
//!   patients.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use carescore_core::model_input::InputWarningRule;
use carescore_core::validation::CASE_ID_MAX_CHARS;
use carescore_core::ModelArtifact;
use carescore_core::{CmvSerostatus, Field, FieldKind, Induction, Organ, Presence, Sex, Tier};
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::batch::MAX_BATCH;
use crate::http::model_schema;
use crate::loading::SpecModels;
use crate::problem::ProblemSchema;
use crate::routes::Route;
use crate::state::{AppState, Live};

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
        crate::http::levers::levers,
        crate::http::programme::programme,
        crate::http::models::models,
        crate::http::spec_models::model_info,
        crate::http::spec_models::score,
        crate::http::spec_models::batch,
        crate::http::admin::reload,
        crate::http::metrics::metrics,
        crate::http::monitoring::monitoring,
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
            "pattern": model_schema::case_id_pattern(),
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
    let records = doc["components"]["schemas"]["BatchRequest"]["properties"]["records"].clone();
    let item = json!({
        "description": "A patient record (schema PatientRecord). An item that is not a valid record is \
            answered with its own problem in `results`, so any JSON value is accepted here.",
        "anyOf": [{"$ref": reference("PatientRecord")}, {}],
    });
    batch_body(records, item)
}

/// A batch route's body: `records` (an array schema), whose items are `item`.
fn batch_body(mut records: Value, item: Value) -> Value {
    records["items"] = item;
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
        schemas[names("input")] = model_schema::model_input_schema(artifact);
        schemas[names("score")] = model_schema::model_score_schema(artifact, false);
        schemas[names("score_response")] = model_schema::model_score_schema(artifact, true);
        schemas[names("batch_response")] = model_schema::model_batch_schema(&reference(&names("score")));
        let input = json!({"$ref": reference(&names("input"))});
        let batch_request = batch_body(
            json!({
                "type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                "description": "1 to 10,000 inputs. An item that is not a valid input is answered with its own \
                    problem in `results`, so any JSON value is accepted here.",
            }),
            json!({"anyOf": [input.clone(), {}]}),
        );
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

/// The document of the last live set asked for, serialised once: rebuilt
/// when the live set changes (a reload), held weakly so an old set is freed.
static SERVED: std::sync::Mutex<Option<(std::sync::Weak<Live>, Bytes)>> = std::sync::Mutex::new(None);

/// The serialised document of `live` (its security, its spec models).
fn served(live: &Arc<Live>) -> Bytes {
    // A poisoned lock only means a panic elsewhere mid-update: rebuild.
    let mut cache = SERVED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Compared through an upgrade: a freed set's address may be reused by a new one.
    if let Some((set, bytes)) = cache.as_ref() {
        if set.upgrade().is_some_and(|set| Arc::ptr_eq(&set, live)) {
            return bytes.clone();
        }
    }
    let document = document(live.keys.enabled(), &live.spec_models);
    // A JSON value with string keys always serialises.
    let bytes = Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
    *cache = Some((Arc::downgrade(live), bytes.clone()));
    bytes
}

/// This document (open: it describes the API, not patients): the live
/// set's, so a reload that adds or changes a model changes it.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", body = Object), crate::http::answers::GuardProblems))]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> Response {
    let document = served(&state.live.load_full());
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
