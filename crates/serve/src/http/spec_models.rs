//! The models trained through a training spec, each on its own features:
//! `GET /v1/models/{target}` (what the model is and what it takes),
//! `POST /v1/models/{target}/score` (one input) and
//! `POST /v1/models/{target}/score/batch` (up to 10,000, with the batch
//! shape and per-item errors of `/v1/score/batch`).
//!
//! An input is a flat JSON object of the model's features plus an optional
//! `case_id`, checked against the artifact alone
//! ([`carescore_core::model_input`]): every problem at once as a 422 naming
//! the field, the rule and what is allowed, never the value. The answer is
//! the calibrated probability, its band from the model's operating
//! thresholds, the explanation of the built-in models (base value and every
//! feature's contribution), the flags the spec declared and warnings on
//! values beyond what training held.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Extension, Router};
use carescore_core::artifact::{CompiledModel, DeclaredFlag, LabelRule};
use carescore_core::model_input::{band_names, parse_model_input, score_model_input, InputError, ModelScore};
use carescore_core::scoring::BUILT_IN_TARGETS;
use serde::Serialize;

use crate::audit::{AuditLog, AuditRoute, Decision};
use crate::auth::Scope;
use crate::body::{read_json, JsonAnswer, BATCH_LIMIT_BYTES, RECORD_LIMIT_BYTES};
use crate::http::models::{ModelInfo, DIRECTORY};
use crate::http::records;
use crate::problem::{Problem, ProblemKind};
use crate::request_id::RequestId;
use crate::routes::Route;
use crate::state::{AppState, Live};

/// `POST /v1/models/{target}/score` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SpecScoreResponse {
    /// The score.
    #[serde(flatten)]
    pub score: ModelScore,
    /// This request's id.
    pub request_id: String,
}

/// One batch item's outcome.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SpecBatchItem {
    /// Position in the request.
    pub index: usize,
    /// The score, if the input was valid (then `error` is absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub ok: Option<ModelScore>,
    /// Why the input was refused (then `ok` is absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::problem::ProblemSchema>, nullable = false)]
    pub error: Option<Problem>,
}

/// `POST /v1/models/{target}/score/batch` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SpecBatchResponse {
    /// One item per input, in request order.
    pub results: Vec<SpecBatchItem>,
    /// Inputs scored.
    pub scored: usize,
    /// Inputs refused.
    pub failed: usize,
    /// This request's id.
    pub request_id: String,
}

/// `GET /v1/models/{target}` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SpecModelInfo {
    /// Version, metrics, features and provenance, as in `GET /v1/models`.
    #[serde(flatten)]
    pub info: ModelInfo,
    /// How the training labels were made.
    #[schema(value_type = Object)]
    pub label_rule: LabelRule,
    /// The thresholds between the bands, ascending.
    pub operating_thresholds: Vec<f64>,
    /// The band names, lowest first.
    pub bands: Vec<String>,
    /// The flags the spec declared.
    #[schema(value_type = Vec<Object>)]
    pub flags: Vec<DeclaredFlag>,
    /// The JSON Schema of an input (`POST /v1/models/{target}/score`).
    #[schema(value_type = Object)]
    pub request_schema: serde_json::Value,
}

/// The spec model `target` of `live`, or the 404 that says what is served.
fn model<'a>(live: &'a Live, target: &str) -> Result<&'a Arc<CompiledModel>, Problem> {
    if let Some(model) = live.spec_models.get(target) {
        return Ok(model);
    }
    let detail = if BUILT_IN_TARGETS.iter().any(|t| t.name == target) {
        format!("`{target}` is a built-in target: GET /v1/models describes it and POST /v1/score scores it")
    } else {
        let served: Vec<&str> = live.spec_models.keys().map(String::as_str).collect();
        let served = if served.is_empty() {
            "none".to_string()
        } else {
            served.join(", ")
        };
        // The path is the caller's text: named only when it is a target name.
        let name = if carescore_core::artifact::is_target_name(target) {
            format!("`{target}`")
        } else {
            "this path's".to_string()
        };
        format!("no model trained through a spec serves {name} target (served: {served}); see /v1/models")
    };
    Err(Problem::new(ProblemKind::NotFound, detail))
}

/// The target of a model route's path; a path that cannot be read as text
/// (a bad percent-encoding) names no model.
fn target_of(path: Result<Path<String>, PathRejection>) -> Result<String, Problem> {
    path.map(|Path(target)| target).map_err(|_| {
        Problem::new(
            ProblemKind::NotFound,
            "no model trained through a spec serves this path's target; see /v1/models",
        )
    })
}

/// The problem of an input that could not be parsed or checked.
fn input_problem(error: InputError) -> Problem {
    match error {
        InputError::NotJson(detail) => Problem::bad_json(format!("the body is not valid JSON: {detail}")),
        InputError::NotObject => Problem::bad_json("the body must be a JSON object with the model's features"),
        InputError::Invalid(errors) => Problem::invalid_input(&errors),
    }
}

/// Checks and scores one input body with `model`, counting it in the metrics.
fn score_input(state: &AppState, model: &CompiledModel, body: &[u8]) -> Result<ModelScore, Problem> {
    let input = parse_model_input(model.artifact(), body);
    state.metrics.record(input.is_ok());
    let input = input.map_err(input_problem)?;
    let scored = score_model_input(model, &input);
    state
        .metrics
        .spec_score(&scored.target, scored.probability, &scored.flags);
    let artifact = model.artifact();
    state
        .monitor
        .observe(&artifact.target, &artifact.sha256, &input, scored.probability);
    Ok(scored)
}

/// The audit line of a spec model's score (`index`: its place in a batch).
fn decision<'a>(
    audit: &AuditLog,
    request_id: &'a str,
    key: Option<&'a str>,
    index: Option<usize>,
    score: &'a ModelScore,
    policy_version: &'a str,
) -> Decision<'a> {
    let target = score.target.as_str();
    Decision {
        time_unix_ms: crate::audit::now_ms(),
        request_id,
        key,
        route: if index.is_some() {
            AuditRoute::ModelBatch
        } else {
            AuditRoute::ModelScore
        },
        index,
        case_id_sha256: score.case_id.as_deref().map(|id| audit.case_hash(id)),
        model_versions: [(target, &*score.model_version)].into(),
        model_sha256: [(target, &*score.model_sha256)].into(),
        policy_version,
        probabilities: [(target, score.probability)].into(),
        tier: None,
        flags: None,
        declared_flags: Some(&score.flags),
        risk_class: None,
    }
}

/// What a spec model is and what it takes: version, metrics, features,
/// label rule, bands, flags and the JSON Schema of an input.
#[utoipa::path(get, path = "/v1/models/{target}", tag = "models", security(("bearer" = [])),
    params(("target" = String, Path, description = "The model's target")),
    responses((status = 200, description = "The model", body = SpecModelInfo),
        (status = 404, description = "No such spec model", body = crate::problem::ProblemSchema,
            content_type = "application/problem+json"),
        crate::http::answers::KeyProblems))]
pub(crate) async fn model_info(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<JsonAnswer<SpecModelInfo>, Problem> {
    let live = state.live.load_full();
    state.admit(&live, &headers, None)?;
    let artifact = model(&live, &target_of(path)?)?.artifact();
    Ok(JsonAnswer(SpecModelInfo {
        info: ModelInfo::of(artifact, DIRECTORY),
        label_rule: artifact.label_rule.clone(),
        operating_thresholds: artifact.operating_thresholds.clone(),
        bands: band_names(artifact.operating_thresholds.len()),
        flags: artifact.flags.clone(),
        request_schema: crate::http::model_schema::model_input_schema(artifact),
    }))
}

/// Scores one input of a spec model.
#[utoipa::path(post, path = "/v1/models/{target}/score", tag = "models", security(("bearer" = ["score"])),
    params(("target" = String, Path, description = "The model's target")),
    request_body(content = Object, description = "The model's features and an optional `case_id` (each model's \
        schema is in this document under its own path)"),
    responses((status = 200, description = "The score", body = SpecScoreResponse),
        crate::http::answers::ModelProblems))]
pub(crate) async fn score(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<SpecScoreResponse>, Problem> {
    let records::Admitted { live, key } = records::admit(&state, &headers, Scope::Score)?;
    let model = model(&live, &target_of(path)?)?.clone();
    let bytes = read_json(&headers, body, RECORD_LIMIT_BYTES).await?;
    let score = score_input(&state, &model, &bytes)?;
    if let Some(audit) = &state.audit {
        let line = decision(audit, &request_id, key.as_deref(), None, &score, &live.policy.version);
        audit.record(&[line]).await?;
    }
    Ok(JsonAnswer(SpecScoreResponse { score, request_id }))
}

/// Parses and scores a batch body; runs on a blocking thread and spreads
/// the inputs over the cores ([`super::batch`]).
fn score_batch(state: &AppState, model: &CompiledModel, bytes: &Bytes) -> Result<Vec<SpecBatchItem>, Problem> {
    let inputs = super::batch::items(bytes, "inputs of the model")?;
    super::batch::on_cores(&inputs, |index, raw| {
        match score_input(state, model, raw.get().as_bytes()) {
            Ok(score) => SpecBatchItem {
                index,
                ok: Some(score),
                error: None,
            },
            Err(problem) => SpecBatchItem {
                index,
                ok: None,
                error: Some(problem),
            },
        }
    })
    .ok_or_else(|| Problem::internal("a batch worker failed"))
}

/// Scores up to 10,000 inputs of a spec model; each item has its score or its own problem.
#[utoipa::path(post, path = "/v1/models/{target}/score/batch", tag = "models", security(("bearer" = ["score"])),
    params(("target" = String, Path, description = "The model's target")),
    request_body(content = Object, description = "`records`: 1 to 10,000 inputs of the model"),
    responses((status = 200, description = "One result per input, in order", body = SpecBatchResponse),
        crate::http::answers::ModelProblems))]
pub(crate) async fn batch(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<SpecBatchResponse>, Problem> {
    let records::Admitted { live, key } = records::admit(&state, &headers, Scope::Score)?;
    let model = model(&live, &target_of(path)?)?.clone();
    let bytes = read_json(&headers, body, BATCH_LIMIT_BYTES).await?;
    let worker = state.clone();
    let results = tokio::task::spawn_blocking(move || score_batch(&worker, &model, &bytes))
        .await
        .map_err(|_| Problem::internal("batch failed"))??;
    let scored = results.iter().filter(|r| r.ok.is_some()).count();
    if let Some(audit) = &state.audit {
        let lines: Vec<Decision<'_>> = results
            .iter()
            .filter_map(|item| {
                let score = item.ok.as_ref()?;
                let index = Some(item.index);
                Some(decision(
                    audit,
                    &request_id,
                    key.as_deref(),
                    index,
                    score,
                    &live.policy.version,
                ))
            })
            .collect();
        audit.record(&lines).await?;
    }
    Ok(JsonAnswer(SpecBatchResponse {
        failed: results.len() - scored,
        scored,
        results,
        request_id,
    }))
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(Route::SpecModel.path(), get(model_info))
        .route(Route::SpecScore.path(), post(score))
        .route(Route::SpecScoreBatch.path(), post(batch))
}
