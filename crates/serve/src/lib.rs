//! # carescore-serve
//!
//! The CareScore HTTP service (axum) that the case-management system and
//! underwriting call (DESIGN.md section 6): scoring one record or a batch,
//! the underwriting grade, the active models, liveness and readiness, with
//! RFC 9457 problem documents for every error, `X-Request-Id` and
//! `Cache-Control: no-store` on every response; bearer API keys with scopes, atomic reload, Prometheus metrics,
//! load shedding and request timeouts. The default models are embedded in
//! the binary.
//!
//! [`app`] builds the router, so tests drive it in-process and the binary only
//! adds configuration, logging and the listener.
#![forbid(unsafe_code)]

mod admin;
mod audit;
mod auth;
mod body;
mod config;
mod guard;
mod health;
mod metrics;
mod models;
mod openapi;
mod problem;
mod rate;
mod request_id;
mod scoring;
mod security_headers;
mod settings;
mod state;

pub use admin::reload_and_record;
pub use audit::{AuditError, AuditLog};
pub use auth::{ApiKey, Keys, Scope};
pub use config::{Config, ConfigError, LogFormat};
pub use models::LoadError;
pub use problem::{FieldProblem, Problem};
pub use settings::{Limits, Settings};
pub use state::{AppState, Live, ModelSource, ReloadError, Shared, Sources};

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
    {
        let live = state.live.load();
        state
            .metrics
            .set_models(live.models.iter().map(|(t, a)| (t.to_string(), a.model_version())));
    }
    Router::new()
        .merge(health::router())
        .merge(scoring::router())
        .merge(admin::router())
        .merge(openapi::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::layer))
        .with_state(state)
}

/// The state a configuration asks for: models from `--models-dir` or the
/// embedded defaults, and the policy from `--policy` or the built-in one.
///
/// # Errors
/// [`LoadError`] naming the file and the problem.
pub fn state_for(config: &Config) -> Result<AppState, LoadError> {
    AppState::load(Sources {
        models: config
            .models_dir
            .clone()
            .map_or(ModelSource::Embedded, ModelSource::Directory),
        policy: config.policy.clone(),
        settings: config.config.clone(),
    })
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
