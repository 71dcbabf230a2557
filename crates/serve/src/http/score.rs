//! `POST /v1/score` and `POST /v1/score/batch`: one record, or up to
//! 10,000, scored for the case-management system.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Extension, Router};
use carescore_core::parse_record;
use carescore_core::scoring::{self, Score};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::audit::{AuditLog, AuditRoute, Decision};
use crate::auth::Scope;
use crate::body::{read_json, JsonAnswer, BATCH_LIMIT_BYTES};
use crate::http::records::{self, observe_record, observe_score, record_problem};
use crate::problem::Problem;
use crate::request_id::RequestId;
use crate::routes::Route;
use crate::state::{AppState, Live};

/// `POST /v1/score` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ScoreResponse {
    /// The scores.
    #[serde(flatten)]
    pub score: Score,
    /// This request's id.
    pub request_id: String,
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
        route: if index.is_some() {
            AuditRoute::Batch
        } else {
            AuditRoute::Score
        },
        index,
        case_id_sha256: Some(audit.case_hash(&score.case_id)),
        model_versions: score.risks.iter().map(|(t, r)| (*t, &*r.model_version)).collect(),
        model_sha256: score.risks.iter().map(|(t, r)| (*t, &*r.model_sha256)).collect(),
        policy_version: &score.policy_version,
        probabilities: score.risks.iter().map(|(t, r)| (*t, r.probability)).collect(),
        tier: Some(score.recommended_tier),
        flags: Some(&score.flags),
        declared_flags: None,
        risk_class: None,
    }
}

/// Scores one record: risks with their top factors, phase, tier, follow-up, flags.
#[utoipa::path(post, path = "/v1/score", tag = "scoring", request_body = carescore_core::PatientRecord,
    security(("bearer" = ["score"])),
    responses((status = 200, description = "The scores", body = ScoreResponse),
        crate::http::answers::RecordProblems))]
pub(crate) async fn score(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<ScoreResponse>, Problem> {
    let (admitted, screened) = records::one(&state, &headers, body, Scope::Score).await?;
    let live = &admitted.live;
    let score = scoring::score(&live.models, &live.policy, &screened.record, screened.warnings);
    observe_score(&state.metrics, &score);
    state.monitor.score(&screened.record, &score);
    if let Some(audit) = &state.audit {
        let decision = score_decision(audit, &request_id, admitted.key.as_deref(), None, &score);
        audit.record(&[decision]).await?;
    }
    if state.shadow.is_some() {
        let request = Request {
            id: Arc::from(request_id.as_str()),
            key: admitted.key.as_deref().map(Arc::from),
        };
        offer_to_shadow(&state, live, &screened.record, &score, &request, None);
    }
    Ok(JsonAnswer(ScoreResponse { score, request_id }))
}

/// One batch item's outcome.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BatchItem {
    /// Position in the request.
    pub index: usize,
    /// The score, if the record was valid (then `error` is absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub ok: Option<Score>,
    /// Why the record was refused (then `ok` is absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::problem::ProblemSchema>, nullable = false)]
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
#[schema(as = BatchRequest)]
#[allow(dead_code)]
pub(crate) struct BatchRequestDoc {
    /// 1 to 10,000 patient records. Each is validated on its own: a record
    /// that is not valid gets its own error in `results` and never fails the
    /// others, so an item of any JSON type is accepted here.
    #[schema(min_items = 1, max_items = 10_000)]
    pub(crate) records: Vec<carescore_core::PatientRecord>,
}

/// The request a batch item belongs to, for the shadow's audit lines.
struct Request {
    id: Arc<str>,
    key: Option<Arc<str>>,
}

/// Offers a scored record to the shadow challenger, when there is one.
fn offer_to_shadow(
    state: &AppState,
    live: &Arc<Live>,
    record: &carescore_core::PatientRecord,
    score: &Score,
    request: &Request,
    index: Option<usize>,
) {
    if let Some(shadow) = &state.shadow {
        shadow.offer(
            live,
            record,
            score,
            &request.id,
            request.key.as_ref(),
            index,
            state.audit.as_ref(),
        );
    }
}

fn score_one(state: &AppState, live: &Arc<Live>, request: &Request, index: usize, raw: &RawValue) -> BatchItem {
    let outcome = parse_record(raw.get().as_bytes());
    observe_record(&state.metrics, &outcome);
    match outcome {
        Ok(screened) => {
            let score = scoring::score(&live.models, &live.policy, &screened.record, screened.warnings);
            observe_score(&state.metrics, &score);
            state.monitor.score(&screened.record, &score);
            offer_to_shadow(state, live, &screened.record, &score, request, Some(index));
            BatchItem {
                index,
                ok: Some(score),
                error: None,
            }
        }
        Err(error) => BatchItem {
            index,
            ok: None,
            error: Some(record_problem(&state.metrics, &live.policy, error)),
        },
    }
}

/// Parses and scores a batch body; runs on a blocking thread and spreads
/// the records over the cores ([`super::batch`]).
fn score_batch(
    state: &AppState,
    live: &Arc<Live>,
    request: &Request,
    bytes: &Bytes,
) -> Result<Vec<BatchItem>, Problem> {
    let records = super::batch::items(bytes, "patient records")?;
    let items = super::batch::on_cores(&records, |index, raw| score_one(state, live, request, index, raw))
        .ok_or_else(|| Problem::internal("a batch worker failed"))?;
    Ok(items)
}

/// Scores up to 10,000 records; each item has its score or its own problem.
#[utoipa::path(post, path = "/v1/score/batch", tag = "scoring", request_body = BatchRequestDoc,
    security(("bearer" = ["score"])),
    responses((status = 200, description = "One result per record, in order", body = BatchResponse),
        crate::http::answers::RecordProblems))]
pub(crate) async fn batch(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<BatchResponse>, Problem> {
    let records::Admitted { live, key } = records::admit(&state, &headers, Scope::Score)?;
    let bytes = read_json(&headers, body, BATCH_LIMIT_BYTES).await?;
    let audit = state.audit.clone();
    let request = Request {
        id: Arc::from(request_id.as_str()),
        key: key.as_deref().map(Arc::from),
    };
    let results = tokio::task::spawn_blocking(move || score_batch(&state, &live, &request, &bytes))
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

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Score.path(), post(score))
        .route(Route::ScoreBatch.path(), post(batch))
}
