//! The HTTP resources, one file each with its own router, merged into the
//! service's [`app`] behind the guard ([`crate::guard`]).
//!
//! | file | routes |
//! |---|---|
//! | `score.rs` | `POST /v1/score`, `POST /v1/score/batch` |
//! | `underwriting.rs` | `POST /v1/underwriting/grade` |
//! | `levers.rs` | `POST /v1/levers` |
//! | `programme.rs` | `POST /v1/programme` |
//! | `models.rs` | `GET /v1/models` |
//! | `spec_models.rs` | `GET /v1/models/{target}`, `POST /v1/models/{target}/score`, `POST /v1/models/{target}/score/batch` |
//! | `admin.rs` | `POST /v1/admin/reload` |
//! | `metrics.rs` | `GET /metrics` |
//! | `monitoring.rs` | `GET /v1/monitoring` |
//! | `health.rs` | `GET /healthz`, `GET /readyz` |
//! | `openapi.rs` | `GET /openapi.json` |
//!
//! `records.rs` is how the record routes take a record in; `model_schema.rs`
//! the JSON Schemas of a spec model's input and answers; `batch.rs` how
//! the batch routes spread their items over the cores; `answers.rs`
//! lists the problem answers each kind of route publishes.

pub(crate) mod admin;
pub(crate) mod answers;
pub(crate) mod batch;
pub(crate) mod health;
pub(crate) mod levers;
pub(crate) mod metrics;
pub(crate) mod model_schema;
pub(crate) mod models;
pub(crate) mod monitoring;
pub(crate) mod openapi;
pub(crate) mod programme;
pub(crate) mod records;
pub(crate) mod score;
pub(crate) mod spec_models;
pub(crate) mod underwriting;

use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::problem::{Problem, ProblemKind};
use crate::routes::Route;
use crate::state::AppState;

async fn not_found() -> Problem {
    Problem::new(ProblemKind::NotFound, "no such route; see /openapi.json")
}

async fn method_not_allowed(uri: axum::http::Uri, method: Method) -> Response {
    let allow = Route::of(uri.path()).allow();
    let mut response = Problem::new(
        ProblemKind::MethodNotAllowed,
        format!("this route does not accept {method}; it accepts {allow}"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// The service's router with every route, serving `state`.
pub fn app(state: AppState) -> Router {
    state.live.load().count_in(&state.metrics, &state.monitor);
    Router::new()
        .merge(health::router())
        .merge(score::router())
        .merge(underwriting::router())
        .merge(levers::router())
        .merge(programme::router())
        .merge(models::router())
        .merge(spec_models::router())
        .merge(admin::router())
        .merge(metrics::router())
        .merge(monitoring::router())
        .merge(openapi::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::guard::layer))
        .with_state(state)
}
