//! `POST /v1/admin/reload` (also run on SIGHUP): re-read the models
//! directory, the policy and the keys, and swap them in at once. Embedded
//! models stay embedded; the policy and keys are still re-read.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde::Serialize;

use crate::auth::Scope;
use crate::body::JsonAnswer;
use crate::metrics::ReloadResult;
use crate::problem::{Problem, ProblemKind};
use crate::routes::Route;
use crate::state::{AppState, ReloadError};

/// A successful reload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reloaded {
    /// Model versions now serving, by target (built-in and spec models).
    pub models: std::collections::BTreeMap<String, String>,
    /// Policy version now in force.
    pub policy_version: String,
    /// API keys configured.
    pub keys: usize,
    /// The artifacts' checksums by target.
    pub model_sha256: std::collections::BTreeMap<String, String>,
    /// Settings that changed in the file but apply only after a restart
    /// (the limits are fixed at start-up), e.g. `limits.max_in_flight`.
    pub restart_required: Vec<&'static str>,
}

/// Reloads and records the outcome in the metrics and the log.
///
/// # Errors
/// [`ReloadError`]; the old set keeps serving.
pub fn reload_and_record(state: &AppState) -> Result<Reloaded, ReloadError> {
    match state.reload() {
        Ok((live, restart_required)) => {
            state.metrics.reload(ReloadResult::Ok);
            live.count_in(&state.metrics, &state.monitor);
            let artifacts = live.artifacts();
            let reloaded = Reloaded {
                models: artifacts
                    .iter()
                    .map(|(t, a)| (t.to_string(), a.model_version()))
                    .collect(),
                policy_version: live.policy.version.clone(),
                keys: live.keys.0.len(),
                model_sha256: artifacts
                    .iter()
                    .map(|(t, a)| (t.to_string(), a.sha256.clone()))
                    .collect(),
                restart_required,
            };
            tracing::info!(models = ?reloaded.models, policy = %reloaded.policy_version, "reloaded");
            if matches!(state.sources.models, crate::state::ModelSource::Directory(_)) {
                for target in &live.embedded_targets {
                    tracing::warn!(
                        target,
                        "the models directory has no artifact for this target: serving the embedded default"
                    );
                }
            }
            if !reloaded.restart_required.is_empty() {
                tracing::warn!(settings = ?reloaded.restart_required, "changed settings apply after a restart");
            }
            Ok(reloaded)
        }
        Err(error) => {
            let result = if matches!(error, ReloadError::Embedded) {
                ReloadResult::Refused
            } else {
                ReloadResult::Failed
            };
            state.metrics.reload(result);
            tracing::warn!(%error, "reload refused; the previous models keep serving");
            Err(error)
        }
    }
}

/// Re-reads the models directory, the policy and the keys; swaps them in at once.
#[utoipa::path(post, path = "/v1/admin/reload", tag = "admin", security(("bearer" = ["admin"])),
    responses((status = 200, description = "Now serving", body = Reloaded),
        crate::http::answers::ReloadProblems))]
pub(crate) async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Result<JsonAnswer<Reloaded>, Problem> {
    state.admit(&state.live.load(), &headers, Some(Scope::Admin))?;
    let worker = state.clone();
    let outcome = tokio::task::spawn_blocking(move || reload_and_record(&worker))
        .await
        .map_err(|_| Problem::internal("reload failed"))?;
    match outcome {
        Ok(reloaded) => Ok(JsonAnswer(reloaded)),
        Err(ReloadError::Embedded) => Err(Problem::new(
            ProblemKind::EmbeddedModels,
            ReloadError::Embedded.to_string(),
        )),
        Err(error) => Err(Problem::new(
            ProblemKind::ReloadRefused,
            format!("{error}; the previous models, policy and keys keep serving"),
        )),
    }
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(Route::Reload.path(), post(reload))
}
