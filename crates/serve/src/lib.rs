//! # carescore-serve
//!
//! The CareScore HTTP service (axum) that the case-management system and
//! underwriting call (DESIGN.md section 6): scoring one record or a batch,
//! the underwriting grade, the active models, liveness and readiness, with
//! RFC 9457 problem documents for every error and `X-Request-Id` on every
//! response. The default models are embedded in the binary.
//!
//! [`app`] builds the router, so tests drive it in-process and the binary only
//! adds configuration, logging and the listener.
#![forbid(unsafe_code)]

mod body;
mod config;
mod health;
mod models;
mod problem;
mod request_id;
mod scoring;
mod state;

pub use config::{Config, ConfigError};
pub use models::LoadError;
pub use problem::{FieldProblem, Problem};
pub use state::{AppState, ModelSource};

use axum::http::StatusCode;
use axum::Router;

async fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        "no such route; see /openapi.json",
    )
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this route does not accept that method",
    )
}

/// The service's router with every route, serving `state`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(scoring::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(request_id::layer))
        .with_state(state)
}

/// The state a configuration asks for: models from `--models-dir` or the
/// embedded defaults, and the policy from `--policy` or the built-in one.
///
/// # Errors
/// [`LoadError`] naming the file and the problem.
pub fn state_for(config: &Config) -> Result<AppState, LoadError> {
    let mut state = match &config.models_dir {
        Some(dir) => AppState {
            models: std::sync::Arc::new(models::from_dir(dir)?),
            policy: std::sync::Arc::new(carescore_core::Policy::default()),
            source: ModelSource::Directory(dir.clone()),
        },
        None => AppState::embedded()?,
    };
    if let Some(path) = &config.policy {
        state.policy = std::sync::Arc::new(models::policy_from(path)?);
    }
    Ok(state)
}

/// Serves [`app`] on `listener` until `shutdown` completes, draining in-flight requests.
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
