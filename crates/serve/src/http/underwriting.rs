//! `POST /v1/underwriting/grade`: one record graded for underwriting, from
//! risks averaged over the policy's protected attributes.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Extension, Router};
use carescore_core::scoring::{self, Underwriting};
use serde::Serialize;

use crate::audit::{AuditRoute, Decision};
use crate::auth::Scope;
use crate::body::JsonAnswer;
use crate::http::records;
use crate::problem::Problem;
use crate::request_id::RequestId;
use crate::routes::Route;
use crate::state::AppState;

/// `POST /v1/underwriting/grade` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GradeResponse {
    /// The grade.
    #[serde(flatten)]
    pub underwriting: Underwriting,
    /// This request's id.
    pub request_id: String,
}

/// Grades one record for underwriting (risks averaged over protected attributes).
#[utoipa::path(post, path = "/v1/underwriting/grade", tag = "underwriting", request_body = carescore_core::PatientRecord,
    security(("bearer" = ["underwrite"])),
    responses((status = 200, description = "The grade", body = GradeResponse),
        crate::http::answers::RecordProblems))]
pub(crate) async fn grade(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<GradeResponse>, Problem> {
    let (admitted, screened) = records::one(&state, &headers, body, Scope::Underwrite).await?;
    let live = &admitted.live;
    let underwriting = scoring::underwrite(&live.models, &live.policy, &screened.record, screened.warnings);
    underwriting.safety_flags.iter().for_each(|f| state.metrics.flag(*f));
    state.monitor.grade(underwriting.grade.risk_class);
    if let Some(audit) = &state.audit {
        let decision = Decision {
            time_unix_ms: crate::audit::now_ms(),
            request_id: &request_id,
            key: admitted.key.as_deref(),
            route: AuditRoute::Grade,
            index: None,
            case_id_sha256: Some(audit.case_hash(&underwriting.case_id)),
            model_versions: underwriting
                .model_versions
                .iter()
                .map(|(t, v)| (*t, v.as_str()))
                .collect(),
            model_sha256: underwriting
                .model_sha256
                .iter()
                .map(|(t, v)| (*t, v.as_str()))
                .collect(),
            policy_version: &underwriting.policy_version,
            probabilities: underwriting.neutralised_probabilities.clone(),
            tier: None,
            flags: None,
            declared_flags: None,
            risk_class: Some(underwriting.grade.risk_class),
        };
        audit.record(&[decision]).await?;
    }
    Ok(JsonAnswer(GradeResponse {
        underwriting,
        request_id,
    }))
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(Route::Grade.path(), post(grade))
}
