//! `POST /v1/admin/reload` (also run on SIGHUP), `GET /metrics`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use crate::auth::Scope;
use crate::problem::Problem;
use crate::state::{AppState, ReloadError};

/// A successful reload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reloaded {
    /// Model versions now serving, by target.
    pub models: std::collections::BTreeMap<&'static str, String>,
    /// Policy version now in force.
    pub policy_version: String,
    /// API keys configured.
    pub keys: usize,
}

/// Reloads and records the outcome in the metrics and the log.
///
/// # Errors
/// [`ReloadError`]; the old set keeps serving.
pub fn reload_and_record(state: &AppState) -> Result<Reloaded, ReloadError> {
    match state.reload() {
        Ok(live) => {
            state.metrics.count("carescore_reloads_total", &[("result", "ok")], 1);
            state
                .metrics
                .set_models(live.models.iter().map(|(t, a)| (t.to_string(), a.model_version())));
            let reloaded = Reloaded {
                models: live
                    .models
                    .iter()
                    .map(|(t, a)| (t, a.model_version()))
                    .into_iter()
                    .collect(),
                policy_version: live.policy.version.clone(),
                keys: live.keys.0.len(),
            };
            tracing::info!(models = ?reloaded.models, policy = %reloaded.policy_version, "reloaded");
            Ok(reloaded)
        }
        Err(error) => {
            let result = if matches!(error, ReloadError::Embedded) {
                "refused"
            } else {
                "failed"
            };
            state.metrics.count("carescore_reloads_total", &[("result", result)], 1);
            tracing::warn!(%error, "reload refused; the previous models keep serving");
            Err(error)
        }
    }
}

/// Re-reads the models directory, the policy and the keys; swaps them in at once.
#[utoipa::path(post, path = "/v1/admin/reload", tag = "admin", security(("bearer" = ["admin"])),
    responses((status = 200, description = "Now serving", body = Reloaded),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Serving the embedded models", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A file was refused; the old set keeps serving", body = Problem, content_type = "application/problem+json")))]
async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Reloaded>, Problem> {
    state.admit(&state.live.load(), &headers, Some(Scope::Admin))?;
    let worker = state.clone();
    let outcome = tokio::task::spawn_blocking(move || reload_and_record(&worker))
        .await
        .map_err(|_| Problem::internal("reload failed"))?;
    match outcome {
        Ok(reloaded) => Ok(Json(reloaded)),
        Err(ReloadError::Embedded) => Err(Problem::new(
            StatusCode::CONFLICT,
            "embedded-models",
            "Nothing to reload",
            ReloadError::Embedded.to_string(),
        )),
        Err(error) => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reload-refused",
            "Reload refused",
            format!("{error}; the previous models, policy and keys keep serving"),
        )),
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/reload", post(reload))
        .route("/metrics", get(metrics))
}
