//! The scoring routes: one record for the case-management system, a batch of
//! up to 10,000, the underwriting grade, and the active models.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Extension, Router};
use carescore_core::scoring::{self, Score, Underwriting};
use carescore_core::{parse_record, RecordError, Screened};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::audit::{AuditLog, Decision};

use std::sync::Arc;

use carescore_core::{Field, Presence};

use crate::auth::Scope;
use crate::body::{read_json, JsonAnswer, BATCH_LIMIT_BYTES, RECORD_LIMIT_BYTES};
use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::request_id::RequestId;
use crate::state::{AppState, Live, ModelSource};

/// Most records in one batch.
pub(crate) const MAX_BATCH: usize = 10_000;

/// `POST /v1/score` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ScoreResponse {
    /// The scores.
    #[serde(flatten)]
    pub score: Score,
    /// This request's id.
    pub request_id: String,
}

/// `POST /v1/underwriting/grade` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GradeResponse {
    /// The grade.
    #[serde(flatten)]
    pub underwriting: Underwriting,
    /// This request's id.
    pub request_id: String,
}

/// The problem answers of the record routes, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum RecordProblems {
    /// Not JSON, not an object, or nested too deeply.
    #[response(status = 400, content_type = "application/problem+json")]
    BadJson(Problem),
    /// No or unknown API key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The key lacks the scope.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// Body too large.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// Not `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    MediaType(Problem),
    /// Not a valid record (or batch): every field problem.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// The key is over its rate limit (`Retry-After`).
    #[response(status = 429, content_type = "application/problem+json")]
    RateLimited(Problem),
    /// Shedding load or timed out (`Retry-After`).
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// The problem for a record that could not be parsed or validated.
fn record_problem(error: RecordError) -> Problem {
    match error {
        RecordError::NotJson(detail) => Problem::bad_json(format!("the body is not valid JSON: {detail}")),
        RecordError::NotObject => Problem::bad_json("the body must be a JSON object with the patient record's fields"),
        RecordError::Invalid(errors) => Problem::invalid_record(&errors),
    }
}

/// Counts a parsed record's data quality: valid or not, missing optional
/// fields, plausibility warnings (names only, never values).
fn observe_record(metrics: &Metrics, outcome: &Result<Screened, RecordError>) {
    match outcome {
        Ok(screened) => {
            metrics.record(true);
            Field::ALL
                .iter()
                .filter(|f| f.spec().presence != Presence::Required && screened.record.value(**f).is_none())
                .for_each(|f| metrics.missing(*f));
            if !screened.warnings.is_empty() {
                let rules = screened.warnings.iter().map(|w| w.rule);
                metrics.count_each("carescore_plausibility_warnings_total", "rule", rules);
            }
        }
        Err(_) => metrics.record(false),
    }
}

/// Counts a score's probabilities and flags.
fn observe_score(metrics: &Metrics, score: &Score) {
    for (target, risk) in &score.risks {
        metrics.probability(target, risk.probability);
    }
    score.flags.iter().for_each(|f| metrics.flag(*f));
}

/// A request admitted to score or grade: the live set, the key's name.
struct Admitted {
    live: Arc<Live>,
    key: Option<String>,
}

/// Authorises, reads and validates one record.
async fn record(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    scope: Scope,
) -> Result<(Admitted, Screened), Problem> {
    let live = state.live.load_full();
    let key = state.admit(&live, headers, Some(scope))?;
    let bytes = read_json(headers, body, RECORD_LIMIT_BYTES).await?;
    let outcome = parse_record(&bytes);
    observe_record(&state.metrics, &outcome);
    Ok((Admitted { live, key }, outcome.map_err(record_problem)?))
}

/// The audit line of a score (`index`: its place in a batch).
fn score_decision<'a>(
    audit: &AuditLog,
    request_id: &'a str,
    key: Option<&'a str>,
    index: Option<usize>,
    score: &'a Score,
) -> Decision<'a> {
    Decision {
        time_unix_ms: crate::audit::now_ms(),
        request_id,
        key,
        route: if index.is_some() { "batch" } else { "score" },
        index,
        case_id_sha256: audit.case_hash(&score.case_id),
        model_versions: score
            .risks
            .iter()
            .map(|(t, r)| (*t, r.model_version.as_str()))
            .collect(),
        policy_version: &score.policy_version,
        probabilities: score.risks.iter().map(|(t, r)| (*t, r.probability)).collect(),
        tier: Some(score.recommended_tier),
        flags: Some(&score.flags),
        risk_class: None,
    }
}

/// Scores one record: risks with their top factors, phase, tier, follow-up, flags.
#[utoipa::path(post, path = "/v1/score", tag = "scoring", request_body = carescore_core::PatientRecord,
    security(("bearer" = ["score"])),
    responses((status = 200, description = "The scores", body = ScoreResponse),
        RecordProblems))]
async fn score(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<ScoreResponse>, Problem> {
    let (admitted, screened) = record(&state, &headers, body, Scope::Score).await?;
    let live = &admitted.live;
    let score = scoring::score(&live.models, &live.policy, &screened.record, screened.warnings);
    observe_score(&state.metrics, &score);
    if let Some(audit) = &state.audit {
        let decision = score_decision(audit, &request_id, admitted.key.as_deref(), None, &score);
        audit.record(&[decision]).await?;
    }
    Ok(JsonAnswer(ScoreResponse { score, request_id }))
}

/// Grades one record for underwriting (risks averaged over protected attributes).
#[utoipa::path(post, path = "/v1/underwriting/grade", tag = "underwriting", request_body = carescore_core::PatientRecord,
    security(("bearer" = ["underwrite"])),
    responses((status = 200, description = "The grade", body = GradeResponse),
        RecordProblems))]
async fn grade(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<GradeResponse>, Problem> {
    let (admitted, screened) = record(&state, &headers, body, Scope::Underwrite).await?;
    let live = &admitted.live;
    let underwriting = scoring::underwrite(&live.models, &live.policy, &screened.record);
    if let Some(audit) = &state.audit {
        let decision = Decision {
            time_unix_ms: crate::audit::now_ms(),
            request_id: &request_id,
            key: admitted.key.as_deref(),
            route: "grade",
            index: None,
            case_id_sha256: audit.case_hash(&underwriting.case_id),
            model_versions: underwriting
                .model_versions
                .iter()
                .map(|(t, v)| (*t, v.as_str()))
                .collect(),
            policy_version: &underwriting.policy_version,
            probabilities: underwriting.neutralised_probabilities.clone(),
            tier: None,
            flags: None,
            risk_class: Some(underwriting.grade.risk_class),
        };
        audit.record(&[decision]).await?;
    }
    Ok(JsonAnswer(GradeResponse {
        underwriting,
        request_id,
    }))
}

/// One batch item's outcome.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BatchItem {
    /// Position in the request.
    pub index: usize,
    /// The score, if the record was valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<Score>,
    /// Why the record was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
}

/// `POST /v1/score/batch` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BatchResponse {
    /// One item per record, in request order.
    pub results: Vec<BatchItem>,
    /// Records scored.
    pub scored: usize,
    /// Records refused.
    pub failed: usize,
    /// This request's id.
    pub request_id: String,
}

/// `POST /v1/score/batch` body (documentation type; parsing borrows the raw records).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct BatchRequestDoc {
    /// 1 to 10,000 patient records.
    pub(crate) records: Vec<carescore_core::PatientRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest<'a> {
    #[serde(borrow)]
    records: Vec<&'a RawValue>,
}

fn score_one(state: &AppState, live: &Live, index: usize, raw: &RawValue) -> BatchItem {
    let outcome = parse_record(raw.get().as_bytes());
    observe_record(&state.metrics, &outcome);
    match outcome {
        Ok(screened) => {
            let score = scoring::score(&live.models, &live.policy, &screened.record, screened.warnings);
            observe_score(&state.metrics, &score);
            BatchItem {
                index,
                ok: Some(score),
                error: None,
            }
        }
        Err(error) => BatchItem {
            index,
            ok: None,
            error: Some(record_problem(error)),
        },
    }
}

/// Parses and scores a batch body; runs on a blocking thread and spreads
/// the records over the cores.
fn score_batch(state: &AppState, live: &Live, bytes: &Bytes) -> Result<Vec<BatchItem>, Problem> {
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return Err(Problem::bad_json(format!("the body is not valid JSON: {error}")));
    }
    let request: BatchRequest<'_> = serde_json::from_slice(bytes).map_err(|_| {
        Problem::invalid_request(
            "records",
            "the body must be an object with one key, `records`, an array of patient records".into(),
            format!("{{\"records\": [record, ...]}} with 1 to {MAX_BATCH} records"),
        )
    })?;
    let n = request.records.len();
    if n == 0 || n > MAX_BATCH {
        return Err(Problem::invalid_request(
            "records",
            format!("{n} records sent"),
            format!("1 to {MAX_BATCH} records"),
        ));
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n.div_ceil(64));
    let chunk = n.div_ceil(threads.max(1));
    let records = &request.records;
    let mut items: Vec<BatchItem> = Vec::with_capacity(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                scope.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(i, raw)| score_one(state, live, c * chunk + i, raw))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            // A panic in scoring is a bug; surface it as the 500 it is.
            items.extend(handle.join().unwrap_or_default());
        }
    });
    if items.len() != n {
        return Err(Problem::internal("a batch worker failed"));
    }
    Ok(items)
}

/// Scores up to 10,000 records; each item has its score or its own problem.
#[utoipa::path(post, path = "/v1/score/batch", tag = "scoring", request_body = BatchRequestDoc,
    security(("bearer" = ["score"])),
    responses((status = 200, description = "One result per record, in order", body = BatchResponse),
        RecordProblems))]
async fn batch(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<BatchResponse>, Problem> {
    let live = state.live.load_full();
    let key = state.admit(&live, &headers, Some(Scope::Score))?;
    let bytes = read_json(&headers, body, BATCH_LIMIT_BYTES).await?;
    let audit = state.audit.clone();
    let results = tokio::task::spawn_blocking(move || score_batch(&state, &live, &bytes))
        .await
        .map_err(|_| Problem::internal("batch failed"))??;
    let scored = results.iter().filter(|r| r.ok.is_some()).count();
    if let Some(audit) = &audit {
        let decisions: Vec<Decision<'_>> = results
            .iter()
            .filter_map(|item| {
                let score = item.ok.as_ref()?;
                Some(score_decision(
                    audit,
                    &request_id,
                    key.as_deref(),
                    Some(item.index),
                    score,
                ))
            })
            .collect();
        audit.record(&decisions).await?;
    }
    Ok(JsonAnswer(BatchResponse {
        failed: results.len() - scored,
        scored,
        results,
        request_id,
    }))
}

/// One active model in `GET /v1/models`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ModelInfo {
    /// Target name.
    pub target: String,
    /// `<target>@<version>`.
    pub model_version: String,
    /// Version.
    pub version: u32,
    /// Horizon in days.
    pub horizon_days: u32,
    /// Estimator type.
    pub estimator: &'static str,
    /// Raw output scale of explanations.
    pub scale: &'static str,
    /// Validation metrics.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// Input signature.
    pub features: Vec<carescore_core::artifact::FeatureSpec>,
    /// Training data provenance.
    pub training_data: carescore_core::artifact::DataFingerprint,
    /// Artifact checksum.
    pub sha256: String,
}

/// `GET /v1/models` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ModelsResponse {
    /// Active models.
    pub models: Vec<ModelInfo>,
    /// `embedded` or `directory`.
    pub source: &'static str,
    /// Policy version.
    pub policy_version: String,
}

/// The active models: versions, metrics and input signatures.
#[utoipa::path(get, path = "/v1/models", tag = "models", security(("bearer" = [])),
    responses((status = 200, description = "Active models", body = ModelsResponse),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json")))]
async fn models(State(state): State<AppState>, headers: HeaderMap) -> Result<JsonAnswer<ModelsResponse>, Problem> {
    let live = state.live.load_full();
    state.admit(&live, &headers, None)?;
    let models = live
        .models
        .iter()
        .into_iter()
        .map(|(_, a)| ModelInfo {
            target: a.target.clone(),
            model_version: a.model_version(),
            version: a.version,
            horizon_days: a.horizon_days,
            estimator: match a.estimator {
                carescore_core::artifact::Estimator::Logistic { .. } => "logistic",
                carescore_core::artifact::Estimator::BoostedTrees { .. } => "boosted_trees",
                carescore_core::artifact::Estimator::RandomForest { .. } => "random_forest",
            },
            scale: scoring::scale_of(&a.estimator),
            metrics: a.metrics.clone(),
            features: a.features.clone(),
            training_data: a.training_data.clone(),
            sha256: a.sha256.clone(),
        })
        .collect();
    Ok(JsonAnswer(ModelsResponse {
        models,
        source: match state.sources.models {
            ModelSource::Embedded => "embedded",
            ModelSource::Directory(_) => "directory",
        },
        policy_version: live.policy.version.clone(),
    }))
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/score", post(score))
        .route("/v1/score/batch", post(batch))
        .route("/v1/underwriting/grade", post(grade))
        .route("/v1/models", get(models))
}
