//! `POST /v1/levers`: for one record, each modifiable input off its target
//! with the risks the models give at the target, ranked, and all of them
//! together ([`carescore_core::levers`]).

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Extension, Router};
use carescore_core::levers::{self, LeverAnswer};
use serde::Serialize;

use crate::audit::{AuditRoute, Decision};
use crate::auth::Scope;
use crate::body::JsonAnswer;
use crate::http::records;
use crate::problem::Problem;
use crate::request_id::RequestId;
use crate::routes::Route;
use crate::state::AppState;

/// `POST /v1/levers` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LeversResponse {
    /// The levers.
    #[serde(flatten)]
    pub levers: LeverAnswer,
    /// This request's id.
    pub request_id: String,
}

/// The modifiable inputs a record has off target, and the models' risks with
/// each at its target (the other inputs as recorded), largest reduction
/// first. These are the models' predictions under changed inputs, not
/// proven effects of an intervention.
#[utoipa::path(post, path = "/v1/levers", tag = "decision support", request_body = carescore_core::PatientRecord,
    security(("bearer" = ["score"])),
    responses((status = 200, description = "The levers", body = LeversResponse),
        crate::http::answers::RecordProblems))]
pub(crate) async fn levers(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<LeversResponse>, Problem> {
    let (admitted, screened) = records::one(&state, &headers, body, Scope::Score).await?;
    let live = &admitted.live;
    let answer = levers::levers(&live.models, &live.policy, &screened.record, screened.warnings);
    answer.safety_flags.iter().for_each(|f| state.metrics.flag(*f));
    if let Some(audit) = &state.audit {
        let decision = Decision {
            time_unix_ms: crate::audit::now_ms(),
            request_id: &request_id,
            key: admitted.key.as_deref(),
            route: AuditRoute::Levers,
            index: None,
            case_id_sha256: Some(audit.case_hash(&answer.case_id)),
            model_versions: answer.model_versions.iter().map(|(t, v)| (*t, v.as_str())).collect(),
            model_sha256: answer.model_sha256.iter().map(|(t, v)| (*t, v.as_str())).collect(),
            policy_version: &answer.policy_version,
            probabilities: answer.risks.clone(),
            tier: None,
            flags: Some(&answer.safety_flags),
            declared_flags: None,
            risk_class: None,
        };
        audit.record(&[decision]).await?;
    }
    Ok(JsonAnswer(LeversResponse {
        levers: answer,
        request_id,
    }))
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(Route::Levers.path(), post(levers))
}
