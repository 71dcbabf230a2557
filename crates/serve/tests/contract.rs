//! The published contract equals the wire: the OpenAPI document the service
//! serves is held against what the service really accepts and answers.
//!
//! - Every enum value is a serde wire name and parses back.
//! - The real answers of every route (and every problem kind) validate
//!   against the schemas published for that route and status, with a JSON
//!   Schema validator (the `jsonschema` crate, draft 2020-12 as OpenAPI 3.1).
//! - Records generated from the published record schema (with the two
//!   cross-field rules JSON Schema cannot express repaired) all score.
//! - The routes of the document, of the routers and of the route table are
//!   the same; security is published as configured and enforced as published.
//! - `docs/openapi.json` is the document of the embedded models (snapshot;
//!   `CARESCORE_UPDATE_SNAPSHOTS=1` rewrites it).

use std::collections::BTreeSet;
use std::path::Path;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use carescore_core::{CmvSerostatus, Induction, Organ, Sex, Tier, EXAMPLE_RECORD_JSON};
use carescore_serve::{app, openapi_document, AppState, ModelSource, Problem, ProblemKind, Route, Sources};
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::{json, Value};
use tower::ServiceExt;

/// One answer as the tests read it.
struct Answer {
    status: StatusCode,
    content_type: String,
    allow: Option<String>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    key: Option<&str>,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = app.clone().oneshot(request.body(body.into()).unwrap()).await.unwrap();
    let status = response.status();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let content_type = header("content-type").unwrap_or_default();
    let allow = header("allow");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        allow,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn post(app: &Router, path: &str, key: Option<&str>, body: &str) -> Answer {
    call(app, Method::POST, path, key, Some("application/json"), body.to_string()).await
}

async fn get(app: &Router, path: &str, key: Option<&str>) -> Answer {
    call(app, Method::GET, path, key, None, Body::empty()).await
}

/// Whether `instance` is valid against `schema`, a schema inside `doc`
/// (its `$ref`s resolve against the document); the errors if not.
fn schema_errors(doc: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    let mut root = doc.clone();
    root["$defs"] = json!({"target": schema});
    root["$ref"] = json!("#/$defs/target");
    let validator = jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("not a schema: {e}"));
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "schema {name} is not published");
    schema
}

/// Checks that `answer` is published for `method path` with its status and
/// media type, and that its body validates against the published schema.
fn assert_published(doc: &Value, method: &str, path: &str, answer: &Answer) {
    let status = answer.status.as_u16().to_string();
    let what = format!("{method} {path} -> {status}");
    let response = &doc["paths"][path][method.to_ascii_lowercase()]["responses"][&status];
    assert!(
        response.is_object(),
        "{what}: this status is not published: {}",
        answer.text
    );
    let media = answer.content_type.split(';').next().unwrap().trim();
    let content = response["content"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: no content published"));
    let (_, published) = content
        .iter()
        .find(|(published, _)| published.split(';').next().unwrap().trim() == media)
        .unwrap_or_else(|| panic!("{what}: answered as {media}, published as {:?}", content.keys()));
    if media.ends_with("json") {
        let errors = schema_errors(doc, &published["schema"], &answer.json());
        assert!(errors.is_empty(), "{what}: {errors:?}\n{}", answer.text);
    }
}

/// A problem document (a route's answer not in `paths`, such as 404 and
/// 405) validates against the published `Problem` schema.
fn assert_problem(doc: &Value, answer: &Answer) {
    assert_eq!(answer.content_type, "application/problem+json", "{}", answer.text);
    let errors = schema_errors(doc, component(doc, "Problem"), &answer.json());
    assert!(errors.is_empty(), "{errors:?}\n{}", answer.text);
}

fn example() -> Value {
    serde_json::from_str(EXAMPLE_RECORD_JSON).unwrap()
}

/// The enum schema `name` lists exactly the serde names of `values`, and each of its values parses.
fn assert_enum<T>(doc: &Value, name: &str, values: &[T])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let published = component(doc, name)["enum"].as_array().unwrap().clone();
    let wire: Vec<Value> = values.iter().map(|v| serde_json::to_value(v).unwrap()).collect();
    assert_eq!(published, wire, "{name}");
    for value in &published {
        let parsed: T = serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{name} {value}: {e}"));
        assert!(values.contains(&parsed));
    }
}

#[test]
fn every_enum_value_is_a_wire_name_and_parses() {
    let doc = openapi_document(false);
    assert_enum(&doc, "Organ", Organ::ALL);
    assert_enum(&doc, "Sex", Sex::ALL);
    assert_enum(&doc, "CmvSerostatus", CmvSerostatus::ALL);
    assert_enum(&doc, "Induction", Induction::ALL);
    assert_enum(&doc, "Tier", Tier::ALL);
    // Answer-only enums: the serde names, in order.
    let flags: Vec<Value> = carescore_core::policy::Flag::ALL
        .iter()
        .map(|f| serde_json::to_value(f).unwrap())
        .collect();
    assert_eq!(component(&doc, "Flag")["enum"], json!(flags));
    assert_eq!(
        component(&doc, "Phase")["enum"],
        json!(["acute", "consolidation", "maintenance"])
    );
    assert_eq!(component(&doc, "Band")["enum"], json!(["low", "medium", "high"]));
    // Names for client generators where the wire names make no identifiers.
    assert_eq!(
        component(&doc, "CmvSerostatus")["x-enum-varnames"],
        json!(CmvSerostatus::VARIANT_NAMES)
    );
}

#[test]
fn the_record_schema_is_the_field_contract() {
    let doc = openapi_document(false);
    let record = component(&doc, "PatientRecord");
    assert_eq!(record["additionalProperties"], false);
    let case_id = &record["properties"]["case_id"];
    assert_eq!(
        (case_id["minLength"].as_u64(), case_id["maxLength"].as_u64()),
        (Some(1), Some(64))
    );
    assert_eq!(case_id["pattern"], "^[A-Za-z0-9._-]{1,64}$");
    let batch = &component(&doc, "BatchRequest")["properties"]["records"];
    assert_eq!(
        (batch["minItems"].as_u64(), batch["maxItems"].as_u64()),
        (Some(1), Some(10_000))
    );
    // The record's own example is valid, and so is each one-field change inside the contract.
    let valid = |instance: &Value| schema_errors(&doc, record, instance).is_empty();
    let base = example();
    assert!(valid(&base), "{:?}", schema_errors(&doc, record, &base));
    let changed = |key: &str, value: Value| {
        let mut r = base.clone();
        r[key] = value;
        r
    };
    assert!(
        valid(&changed("days_since_transplant", json!(40.0))),
        "an integral number is an integer"
    );
    assert!(
        valid(&changed("tacrolimus_trough_ng_ml", Value::Null)),
        "optional fields may be null"
    );
    assert!(valid(&changed("enrolled_in_program", Value::Null)), "null means false");
    assert!(valid(&changed("current_tier", Value::Null)));
    for (key, value) in [
        ("organ", json!("Kidney")),
        ("cmv_serostatus", json!("DonorPosRecipientNeg")),
        ("case_id", json!("")),
        ("case_id", json!("a b")),
        ("case_id", json!("x".repeat(65))),
        ("age_years", json!(111)),
        ("bmi", Value::Null),
        ("days_since_transplant", json!(1.5)),
        ("favourite_colour", json!("blue")),
    ] {
        assert!(
            !valid(&changed(key, value.clone())),
            "{key} = {value} must be refused by the schema"
        );
    }
}

/// The service on the embedded models, without keys.
fn open_app() -> Router {
    app(AppState::embedded().unwrap())
}

/// `GET /v1/monitoring` with everything it can hold (full drift windows,
/// groups past 10 records, the underwriting mix, a shadow that has scored)
/// matches its published schema.
#[tokio::test]
async fn a_full_monitoring_report_is_published() {
    let doc = openapi_document(false);
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("carescore.toml");
    std::fs::write(&settings, "[monitoring]\ndrift_window_records = 100\n").unwrap();
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let state = AppState::load(Sources {
        models: ModelSource::Embedded,
        policy: None,
        settings: Some(settings),
    })
    .unwrap()
    .with_shadow(models);
    let app = app(state);
    for _ in 0..105 {
        assert_eq!(
            post(&app, "/v1/score", None, EXAMPLE_RECORD_JSON).await.status,
            StatusCode::OK
        );
        assert_eq!(
            post(&app, "/v1/underwriting/grade", None, EXAMPLE_RECORD_JSON)
                .await
                .status,
            StatusCode::OK
        );
    }
    let mut report = Value::Null;
    for _ in 0..500 {
        let answer = get(&app, "/v1/monitoring", None).await;
        assert_published(&doc, "GET", "/v1/monitoring", &answer);
        report = answer.json();
        let records = report["shadow"]["records"].as_object().cloned().unwrap_or_default();
        if records.values().filter_map(Value::as_u64).sum::<u64>() >= 105 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(report["models"][0]["last_window"]["features"].is_array(), "{report}");
    assert!(
        report["models"][0]["last_window"]["probability"].is_object(),
        "{report}"
    );
    assert!(report["groups"][0]["flag_rate"].is_number(), "{report}");
    assert_eq!(report["underwriting"]["grades"], 100, "published 10 at a time");
    assert!(!report["shadow"]["targets"].as_array().unwrap().is_empty(), "{report}");
}

/// Every problem kind's document validates against the published schema.
#[test]
fn every_problem_kind_is_a_published_problem() {
    let doc = openapi_document(false);
    for kind in ProblemKind::ALL {
        let problem = serde_json::to_value(Problem::new(*kind, "detail")).unwrap();
        let errors = schema_errors(&doc, component(&doc, "Problem"), &problem);
        assert!(errors.is_empty(), "{kind:?}: {errors:?}");
        assert_eq!(problem["status"], kind.status().as_u16());
    }
}

#[tokio::test]
async fn every_answer_of_an_open_service_is_published() {
    let doc = openapi_document(false);
    let app = open_app();
    let seen = std::cell::RefCell::new(BTreeSet::new());
    let check = |method: &str, path: &str, answer: Answer| {
        assert_published(&doc, method, path, &answer);
        if answer.status.as_u16() >= 400 {
            seen.borrow_mut()
                .insert(answer.json()["type"].as_str().unwrap().to_string());
        }
        answer
    };
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/models"] {
        let answer = check("GET", path, get(&app, path, None).await);
        assert_eq!(answer.status, StatusCode::OK, "{path}");
    }
    let record = EXAMPLE_RECORD_JSON;
    let mut invalid = example();
    invalid["organ"] = json!("pancreas");
    invalid["phq9_item9"] = json!(1);
    invalid.as_object_mut().unwrap().remove("bmi");
    let invalid = invalid.to_string();
    let cohort = format!("{{\"records\": [{record}, {invalid}]}}");
    let view = check(
        "POST",
        "/v1/programme",
        post(&app, "/v1/programme", None, &cohort).await,
    );
    assert_eq!(view.status, StatusCode::OK);
    assert_eq!(
        (
            view.json()["patients"].as_u64(),
            view.json()["refused"][0]["index"].as_u64()
        ),
        (Some(1), Some(1))
    );
    for path in ["/v1/score", "/v1/underwriting/grade", "/v1/levers"] {
        assert_eq!(
            check("POST", path, post(&app, path, None, record).await).status,
            StatusCode::OK
        );
        let refused = check("POST", path, post(&app, path, None, &invalid).await);
        assert_eq!(refused.status, 422);
        assert_eq!(
            refused.json()["safety_flags"],
            json!(["mental_health_urgent"]),
            "{path}"
        );
        assert_eq!(check("POST", path, post(&app, path, None, "{").await).status, 400);
        assert_eq!(check("POST", path, post(&app, path, None, "[1]").await).status, 400);
        let text = call(&app, Method::POST, path, None, Some("text/plain"), record.to_string()).await;
        assert_eq!(check("POST", path, text).status, 415);
        let huge = format!("{{\"case_id\": \"{}\"}}", "x".repeat(1024 * 1024));
        assert_eq!(check("POST", path, post(&app, path, None, &huge).await).status, 413);
    }
    let batch = format!("{{\"records\": [{record}, {invalid}, 7]}}");
    let answer = check(
        "POST",
        "/v1/score/batch",
        post(&app, "/v1/score/batch", None, &batch).await,
    );
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        (answer.json()["scored"].as_u64(), answer.json()["failed"].as_u64()),
        (Some(1), Some(2))
    );
    for body in ["{\"records\": []}", "{\"rows\": []}", "{"] {
        let answer = check(
            "POST",
            "/v1/score/batch",
            post(&app, "/v1/score/batch", None, body).await,
        );
        assert!(answer.status == 422 || answer.status == 400, "{body}: {}", answer.text);
    }
    let answer = check(
        "POST",
        "/v1/admin/reload",
        post(&app, "/v1/admin/reload", None, "").await,
    );
    assert_eq!(answer.status, StatusCode::CONFLICT);
    // Answers outside `paths`: still problem documents of the published shape.
    for answer in [
        get(&app, "/v1/nowhere", None).await,
        call(&app, Method::DELETE, "/v1/score", None, None, Body::empty()).await,
    ] {
        assert_problem(&doc, &answer);
        seen.borrow_mut()
            .insert(answer.json()["type"].as_str().unwrap().to_string());
    }
    // Over the request timeout: 503 (a batch of 10,000 records takes far longer than 1 ms).
    let slow = AppState::embedded().unwrap();
    let limits = carescore_serve::Limits {
        request_timeout_ms: 1,
        ..slow.limits
    };
    let slow = carescore_serve::app(slow.with_limits(limits));
    let big = format!("{{\"records\": [{}]}}", vec![record; 10_000].join(","));
    let answer = check(
        "POST",
        "/v1/score/batch",
        post(&slow, "/v1/score/batch", None, &big).await,
    );
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    let expected: BTreeSet<String> = [
        ProblemKind::MalformedJson,
        ProblemKind::NotFound,
        ProblemKind::MethodNotAllowed,
        ProblemKind::EmbeddedModels,
        ProblemKind::BodyTooLarge,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::InvalidRecord,
        ProblemKind::InvalidRequest,
        ProblemKind::Unavailable,
    ]
    .iter()
    .map(|k| k.type_uri())
    .collect();
    let seen = seen.into_inner();
    assert!(
        expected.is_subset(&seen),
        "not produced: {:?}",
        expected.difference(&seen)
    );
}

/// Keys with every scope, one scope each, and one limited to a request per second.
const KEYS: [(&str, &str, &str); 5] = [
    ("all", "key-all-0123456789", "\"score\", \"underwrite\", \"admin\""),
    ("score", "key-score-0123456789", "\"score\""),
    ("underwrite", "key-underwrite-0123456789", "\"underwrite\""),
    ("admin", "key-admin-0123456789", "\"admin\""),
    ("slow", "key-slow-0123456789", "\"score\""),
];

/// The service with keys, serving a copy of the default models from a directory.
fn keyed_app(dir: &Path, rate: Option<u32>) -> Router {
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    for name in ["infection_180d-1.json", "readmission_30d-1.json"] {
        std::fs::copy(repo.join(name), models.join(name)).unwrap();
    }
    let spec = spec_models_dir();
    let spec_model = format!("{SPEC_TARGET}-1.json");
    std::fs::copy(spec.path().join(&spec_model), models.join(&spec_model)).unwrap();
    let mut settings = String::new();
    for (name, key, scopes) in KEYS {
        let sha = carescore_core::artifact::sha256_hex(key.as_bytes());
        settings.push_str(&format!(
            "[[keys]]\nname = \"{name}\"\nsha256 = \"{sha}\"\nscopes = [{scopes}]\n"
        ));
    }
    if let Some(rate) = rate {
        settings.push_str(&format!("[limits]\nrate_per_key_per_second = {rate}\n"));
    }
    let path = dir.join("carescore.toml");
    std::fs::write(&path, settings).unwrap();
    app(AppState::load(Sources {
        models: ModelSource::Directory(models),
        policy: None,
        settings: Some(path),
    })
    .unwrap())
}

fn key(name: &str) -> &'static str {
    KEYS.iter().find(|(n, _, _)| *n == name).unwrap().1
}

#[tokio::test]
async fn every_answer_of_a_service_with_keys_is_published() {
    let doc = openapi_document(true);
    let dir = tempfile::tempdir().unwrap();
    let app = keyed_app(dir.path(), None);
    let all = Some(key("all"));
    let answer = post(&app, "/v1/score", None, EXAMPLE_RECORD_JSON).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_published(&doc, "POST", "/v1/score", &answer);
    let answer = post(&app, "/v1/underwriting/grade", Some(key("score")), EXAMPLE_RECORD_JSON).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_published(&doc, "POST", "/v1/underwriting/grade", &answer);
    let answer = get(&app, "/v1/models", all).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_published(&doc, "GET", "/v1/models", &answer);
    assert_eq!(answer.json()["source"], "directory");
    let answer = post(&app, "/v1/admin/reload", all, "").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_published(&doc, "POST", "/v1/admin/reload", &answer);
    std::fs::write(
        dir.path().join("models/infection_180d-2.json"),
        "{\"not\": \"an artifact\"}",
    )
    .unwrap();
    let answer = post(&app, "/v1/admin/reload", all, "").await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.text);
    assert_published(&doc, "POST", "/v1/admin/reload", &answer);
    assert_eq!(answer.json()["type"], ProblemKind::ReloadRefused.type_uri());
    // The probes, the metrics and the document itself stay open.
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert_eq!(get(&app, path, None).await.status, StatusCode::OK, "{path}");
    }
    // Over the rate: 429, published.
    let limited = keyed_app(tempfile::tempdir().unwrap().path(), Some(1));
    let first = post(&limited, "/v1/score", Some(key("slow")), EXAMPLE_RECORD_JSON).await;
    assert_eq!(first.status, StatusCode::OK);
    let second = post(&limited, "/v1/score", Some(key("slow")), EXAMPLE_RECORD_JSON).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_published(&doc, "POST", "/v1/score", &second);
}

/// Every operation of `doc`: (path, method, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    out
}

#[tokio::test]
async fn security_is_published_as_configured_and_enforced_as_published() {
    let open = openapi_document(false);
    assert!(open["components"]["securitySchemes"].is_null());
    for (path, method, operation) in operations(&open) {
        assert!(
            operation["security"].is_null(),
            "{method} {path}: no security without keys"
        );
        for status in ["401", "403", "429"] {
            assert!(
                operation["responses"][status].is_null(),
                "{method} {path} {status} without keys"
            );
        }
    }
    assert_eq!(
        openapi_document(true)["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The service with keys and a spec model: its routes are published and enforced too.
    let dir = tempfile::tempdir().unwrap();
    let app = keyed_app(dir.path(), None);
    let keyed = get(&app, "/openapi.json", None).await.json();
    assert!(keyed["paths"][Route::SpecScore.for_target(SPEC_TARGET)].is_object());
    let input = spec_input(&keyed).to_string();
    let open_routes = [
        Route::Healthz,
        Route::Readyz,
        Route::Metrics,
        Route::Monitoring,
        Route::OpenApi,
    ];
    for (path, method, operation) in operations(&keyed) {
        let method: Method = method.to_ascii_uppercase().parse().unwrap();
        let body = match Route::of(&path) {
            Route::ScoreBatch => format!("{{\"records\": [{EXAMPLE_RECORD_JSON}]}}"),
            Route::SpecScore => input.clone(),
            Route::SpecScoreBatch => format!("{{\"records\": [{input}]}}"),
            _ => EXAMPLE_RECORD_JSON.to_string(),
        };
        let send = |key: Option<&'static str>| {
            let content_type = (method == Method::POST).then_some("application/json");
            call(&app, method.clone(), &path, key, content_type, body.clone())
        };
        if open_routes.contains(&Route::of(&path)) {
            assert!(operation["security"].is_null(), "{path} is open");
            assert_eq!(send(None).await.status, StatusCode::OK, "{path}");
            continue;
        }
        let scopes: Vec<String> = serde_json::from_value(operation["security"][0]["bearer"].clone())
            .unwrap_or_else(|_| panic!("{method} {path}: no bearer security published"));
        assert_eq!(send(None).await.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        for (name, secret, granted) in KEYS {
            let allowed = scopes.iter().all(|s| granted.contains(&format!("\"{s}\"")));
            let status = send(Some(secret)).await.status;
            if allowed {
                assert!(
                    status != 401 && status != 403,
                    "{method} {path} with key {name}: {status}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} with key {name}");
            }
        }
    }
}

/// The spec model the tests serve.
const SPEC_TARGET: &str = "graft_loss";

/// A models directory with a model trained through a spec, `graft_loss-1.json`:
/// the default infection model's estimator under another target, with what a
/// spec adds (declared flags, an allowed range on every numeric feature,
/// here the record field's).
fn spec_models_dir() -> tempfile::TempDir {
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/infection_180d-1.json")).unwrap();
    let mut artifact = carescore_core::ModelArtifact::from_json(&bytes).unwrap();
    artifact.target = SPEC_TARGET.to_string();
    artifact.flags = vec![carescore_core::artifact::DeclaredFlag {
        name: "early_review".into(),
        above: 0.2,
    }];
    for feature in &mut artifact.features {
        if let carescore_core::artifact::FeatureKind::Numeric { .. } = feature.kind {
            let field = carescore_core::Field::from_name(&feature.name).unwrap();
            let (min, max) = match field.spec().kind {
                carescore_core::FieldKind::Number { min, max } => (min, max),
                carescore_core::FieldKind::Integer { min, max } => (min as f64, max as f64),
                other => panic!("{other:?}"),
            };
            feature.allowed_range = Some(carescore_core::artifact::AllowedRange {
                min: Some(min),
                max: Some(max),
            });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(format!("{SPEC_TARGET}-1.json")), artifact.to_json()).unwrap();
    dir
}

/// The service on `dir`'s models (the built-in targets embedded), without keys.
fn dir_app(dir: &Path) -> Router {
    app(AppState::load(Sources {
        models: ModelSource::Directory(dir.to_path_buf()),
        policy: None,
        settings: None,
    })
    .unwrap())
}

/// The document `app` serves.
async fn served_document(app: &Router) -> Value {
    get(app, "/openapi.json", None).await.json()
}

/// A valid input of the test's spec model: the example record's values of its features.
fn spec_input(doc: &Value) -> Value {
    let features = &component(doc, "graft_loss_input")["properties"];
    let record = example();
    let input: serde_json::Map<String, Value> = record
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, _)| features.get(key.as_str()).is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(input)
}

#[tokio::test]
async fn the_route_table_the_routers_and_the_document_agree() {
    let dir = spec_models_dir();
    let app = dir_app(dir.path());
    let doc = served_document(&app).await;
    // A spec model's score routes are published concretely, one pair per model.
    let concrete = |route: Route| match route {
        Route::SpecScore | Route::SpecScoreBatch => route.for_target(SPEC_TARGET),
        _ => route.path().to_string(),
    };
    let published: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let table: BTreeSet<String> = Route::ALL
        .iter()
        .filter(|r| **r != Route::Other)
        .map(|r| concrete(*r))
        .collect();
    assert_eq!(published, table, "paths of the document vs the route table");
    let without_spec_models: BTreeSet<String> = openapi_document(false)["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let built_in_only: BTreeSet<String> = table
        .iter()
        .filter(|p| !p.starts_with(&format!("/v1/models/{SPEC_TARGET}")))
        .cloned()
        .collect();
    assert_eq!(
        without_spec_models, built_in_only,
        "no spec model, no score routes for one"
    );
    let ids: Vec<String> = operations(&doc)
        .iter()
        .map(|(_, _, operation)| operation["operationId"].as_str().unwrap().to_string())
        .collect();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "operation ids are distinct: {ids:?}");
    assert!(ids.contains(&format!("{SPEC_TARGET}_score")) && ids.contains(&format!("{SPEC_TARGET}_score_batch")));
    for route in Route::ALL.iter().filter(|r| **r != Route::Other) {
        let path = &concrete(*route).replace("{target}", SPEC_TARGET);
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            let takes = route.allow().split(", ").any(|m| m == method.as_str());
            let answer = call(&app, method.clone(), path, None, Some("application/json"), "{}").await;
            assert_ne!(
                answer.status,
                StatusCode::NOT_FOUND,
                "{method} {path}: not routed: {}",
                answer.text
            );
            if takes {
                assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                let published = &doc["paths"][concrete(*route)][method.as_str().to_ascii_lowercase()];
                assert!(published.is_object(), "{method} {path} is not published");
            } else {
                assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                assert_eq!(answer.allow.as_deref(), Some(route.allow()), "{method} {path}");
            }
        }
    }
}

#[tokio::test]
async fn every_answer_of_a_spec_model_is_published() {
    let dir = spec_models_dir();
    let app = dir_app(dir.path());
    let doc = served_document(&app).await;
    let score_path = Route::SpecScore.for_target(SPEC_TARGET);
    let batch_path = Route::SpecScoreBatch.for_target(SPEC_TARGET);
    let input = spec_input(&doc);
    assert!(
        schema_errors(&doc, component(&doc, "graft_loss_input"), &input).is_empty(),
        "{:?}",
        schema_errors(&doc, component(&doc, "graft_loss_input"), &input)
    );
    let scored = post(&app, &score_path, None, &input.to_string()).await;
    assert_eq!(scored.status, StatusCode::OK, "{}", scored.text);
    assert_published(&doc, "POST", &score_path, &scored);
    let answer = scored.json();
    // The answer explains the raw output: base value + contributions.
    let raw: f64 = answer["base_value"].as_f64().unwrap()
        + answer["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["contribution"].as_f64().unwrap())
            .sum::<f64>();
    let p = answer["probability"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p) && raw.is_finite());
    assert_eq!(
        answer["flags"],
        if p > 0.2 { json!(["early_review"]) } else { json!([]) }
    );
    // Every problem at once, naming the field and the rule, never the value.
    let mut bad = input.clone();
    bad["age_years"] = json!(250.5);
    bad["organ"] = json!("pancreas");
    bad["favourite_colour"] = json!("blue");
    bad.as_object_mut().unwrap().remove("bmi");
    let refused = post(&app, &score_path, None, &bad.to_string()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    assert_published(&doc, "POST", &score_path, &refused);
    let problem = refused.json();
    let rules: BTreeSet<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("age_years", "out_of_range"),
        ("organ", "not_allowed_value"),
        ("favourite_colour", "unknown_field"),
        ("bmi", "required"),
    ]
    .into_iter()
    .map(|(f, r)| (f.to_string(), r.to_string()))
    .collect();
    assert_eq!(rules, expected, "{}", refused.text);
    assert!(!refused.text.contains("250.5") && !refused.text.contains("pancreas") && !refused.text.contains("blue"));
    // A batch: one result per input, a bad one refused on its own.
    let body = json!({"records": [input, bad, 7]}).to_string();
    let batch = post(&app, &batch_path, None, &body).await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.text);
    assert_published(&doc, "POST", &batch_path, &batch);
    let batch = batch.json();
    assert_eq!((batch["scored"].as_u64(), batch["failed"].as_u64()), (Some(1), Some(2)));
    assert_eq!(batch["results"][0]["ok"]["probability"], answer["probability"]);
    for (path, body) in [
        (&score_path, "[1, 2]".to_string()),
        (&score_path, "{".to_string()),
        (&batch_path, "{\"records\": []}".to_string()),
    ] {
        let answer = post(&app, path, None, &body).await;
        assert_published(&doc, "POST", path, &answer);
    }
    // The model's own description, and the 404 of a model not served.
    let info_path = format!("/v1/models/{SPEC_TARGET}");
    let info = get(&app, &info_path, None).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.text);
    assert_published(&doc, "GET", Route::SpecModel.path(), &info);
    let info = info.json();
    assert_eq!(info["request_schema"], *component(&doc, "graft_loss_input"));
    // The default infection model's two operating thresholds make three bands.
    assert_eq!(info["operating_thresholds"].as_array().unwrap().len(), 2);
    assert_eq!(info["bands"], json!(["low", "medium", "high"]));
    let thresholds: Vec<f64> = serde_json::from_value(info["operating_thresholds"].clone()).unwrap();
    let band = ["low", "medium", "high"][thresholds.iter().filter(|t| p > **t).count()];
    assert_eq!(answer["band"], band);
    for path in ["/v1/models/sepsis/score", "/v1/models/infection_180d/score"] {
        let missing = post(&app, path, None, &input.to_string()).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert_problem(&doc, &missing);
    }
    let missing = get(&app, "/v1/models/sepsis", None).await;
    assert_published(&doc, "GET", Route::SpecModel.path(), &missing);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_input_a_spec_model_schema_allows_is_scored(seed in any::<u64>()) {
        let dir = spec_models_dir();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let app = dir_app(dir.path());
        let doc = runtime.block_on(served_document(&app));
        let inputs = inputs_from_schema(&doc, component(&doc, "graft_loss_input"));
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            ProptestConfig::default(),
            proptest::test_runner::TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &seed_bytes(seed)),
        );
        let input = inputs.new_tree(&mut runner).unwrap().current();
        prop_assert!(schema_errors(&doc, component(&doc, "graft_loss_input"), &input).is_empty());
        let path = Route::SpecScore.for_target(SPEC_TARGET);
        let answer = runtime.block_on(post(&app, &path, None, &input.to_string()));
        prop_assert_eq!(answer.status, StatusCode::OK, "{}: {}", input, answer.text);
        assert_published(&doc, "POST", &path, &answer);
    }
}

/// 32 seed bytes from a number.
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes
}

#[test]
fn the_committed_document_is_the_served_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let served = format!("{}\n", serde_json::to_string_pretty(&openapi_document(false)).unwrap());
    if std::env::var_os("CARESCORE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &served).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == served,
        "docs/openapi.json differs from the served document; review the change and rerun with \
         CARESCORE_UPDATE_SNAPSHOTS=1 to update it"
    );
}

/// A strategy for the values `schema` (inside `doc`) allows: the keywords
/// the record schema uses (`$ref`, `anyOf`, `type` with `null`, `enum`,
/// `minimum`/`maximum`, `pattern`).
fn values_of(doc: &Value, schema: &Value) -> BoxedStrategy<Value> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return values_of(doc, component(doc, name));
    }
    if let Some(branches) = schema["anyOf"].as_array() {
        let strategies: Vec<BoxedStrategy<Value>> = branches.iter().map(|b| values_of(doc, b)).collect();
        return proptest::strategy::Union::new(strategies).boxed();
    }
    if let Some(values) = schema["enum"].as_array() {
        return proptest::sample::select(values.clone()).boxed();
    }
    let types: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap().to_string()).collect(),
        other => panic!("no type in {other}"),
    };
    let strategies: Vec<BoxedStrategy<Value>> = types
        .iter()
        .map(|t| match t.as_str() {
            "null" => Just(Value::Null).boxed(),
            "boolean" => any::<bool>().prop_map(Value::from).boxed(),
            "integer" => {
                let (lo, hi) = (schema["minimum"].as_i64().unwrap(), schema["maximum"].as_i64().unwrap());
                // Integral floats too: an integer to JSON Schema.
                (lo..=hi, any::<bool>())
                    .prop_map(|(n, float)| if float { json!(n as f64) } else { json!(n) })
                    .boxed()
            }
            "number" => {
                let (lo, hi) = (schema["minimum"].as_f64().unwrap(), schema["maximum"].as_f64().unwrap());
                prop_oneof![Just(lo), Just(hi), lo..=hi].prop_map(Value::from).boxed()
            }
            "string" => {
                // The pattern is anchored at both ends; the generator produces whole matches.
                let pattern = schema["pattern"].as_str().unwrap();
                let body = pattern.trim_start_matches('^').trim_end_matches('$');
                proptest::string::string_regex(body)
                    .unwrap()
                    .prop_map(Value::from)
                    .boxed()
            }
            other => panic!("type {other} is not used by the record schema"),
        })
        .collect();
    proptest::strategy::Union::new(strategies).boxed()
}

/// Records drawn from the published `PatientRecord` schema: required
/// fields always, optional ones present or absent.
fn records_from_schema(doc: &Value) -> BoxedStrategy<Value> {
    inputs_from_schema(doc, component(doc, "PatientRecord"))
}

/// Objects drawn from an object schema inside `doc`: required properties
/// always, optional ones present or absent.
fn inputs_from_schema(doc: &Value, schema: &Value) -> BoxedStrategy<Value> {
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = schema["properties"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, property)| {
            let name = name.clone();
            let values = values_of(doc, property);
            if required.contains(name.as_str()) {
                values.prop_map(move |v| Some((name.clone(), v))).boxed()
            } else {
                proptest::option::of(values.prop_map(move |v| (name.clone(), v))).boxed()
            }
        })
        .collect();
    fields
        .prop_map(|entries| Value::Object(entries.into_iter().flatten().collect()))
        .boxed()
}

/// Makes a schema-valid record keep the two cross-field rules JSON Schema
/// cannot express: ICU days within the stay, a transplant after birth.
fn repair(record: &mut Value) {
    let stay = record["index_length_of_stay_days"].as_f64().unwrap();
    if record["icu_days"].as_f64().unwrap() > stay {
        record["icu_days"] = record["index_length_of_stay_days"].clone();
    }
    let most_days = ((record["age_years"].as_f64().unwrap() + 1.0) * 365.25).floor();
    if record["days_since_transplant"].as_f64().unwrap() > most_days {
        record["days_since_transplant"] = json!(most_days as i64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_record_the_schema_allows_is_scored(record in records_from_schema(&openapi_document(false))) {
        let mut record = record;
        repair(&mut record);
        let doc = openapi_document(false);
        prop_assert!(schema_errors(&doc, component(&doc, "PatientRecord"), &record).is_empty());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let app = open_app();
        for path in ["/v1/score", "/v1/underwriting/grade"] {
            let answer = runtime.block_on(post(&app, path, None, &record.to_string()));
            prop_assert_eq!(answer.status, StatusCode::OK, "{} {}: {}", path, record, answer.text);
            assert_published(&doc, "POST", path, &answer);
        }
    }
}
