//! # carescore-serve
//!
//! The CareScore HTTP service (axum) that the case-management system and
//! underwriting call (the API: `docs/api.md`): scoring one record or a batch,
//! the underwriting grade, the active models, liveness and readiness, with
//! RFC 9457 problem documents for every error, `X-Request-Id` and
//! `Cache-Control: no-store` on every response; bearer API keys with scopes, atomic reload, Prometheus metrics,
//! load shedding and request timeouts, drift tracking of every served model
//! against its training data (`GET /v1/monitoring`) and an optional shadow
//! challenger scoring off the request path. The default models are embedded
//! in the binary.
//!
//! [`app`] builds the router, so tests drive it in-process and the binary only
//! adds configuration, logging and the listener.
#![forbid(unsafe_code)]

mod audit;
mod auth;
mod body;
mod config;
mod guard;
mod http;
mod loading;
mod metrics;
mod monitoring;
mod problem;
mod rate;
mod request_id;
mod routes;
mod security_headers;
mod server;
mod settings;
mod shadow;
mod state;

pub use audit::{AuditError, AuditLog};
pub use auth::{ApiKey, Keys, Scope};
pub use config::{Config, ConfigError, LogFormat};
pub use http::admin::{reload_and_record, Reloaded};
pub use http::app;
pub use loading::{LoadError, Loaded, SpecModels};
pub use monitoring::{Monitor, DEFAULT_WINDOW_RECORDS};
pub use problem::{FieldProblem, Problem, ProblemKind};
pub use routes::Route;
pub use server::serve;
pub use settings::{Limits, Monitoring, Settings};
pub use shadow::Shadow;
pub use state::{AppState, Live, ModelSource, ReloadError, Shared, Sources};

/// The OpenAPI document a service on the built-in targets alone publishes,
/// with (`keys`) or without API keys: what `GET /openapi.json` answers
/// when no model trained through a spec is loaded.
pub fn openapi_document(keys: bool) -> serde_json::Value {
    http::openapi::document(keys, &loading::SpecModels::new())
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
