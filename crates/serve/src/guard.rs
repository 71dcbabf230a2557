//! The outer layer of every request: sheds load beyond the in-flight limit
//! at once (503 with `Retry-After`, never an unbounded queue), ends requests
//! that exceed the timeout (503), and records route, status and latency in
//! the metrics and one structured log line with the request id.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::problem::Problem;
use crate::state::AppState;

/// Routes named in metrics; anything else counts as `other`.
const ROUTES: [&str; 9] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/v1/score",
    "/v1/score/batch",
    "/v1/underwriting/grade",
    "/v1/models",
    "/v1/admin/reload",
];

/// The in-flight limit's permits.
#[derive(Debug, Clone)]
pub(crate) struct InFlight(pub(crate) Arc<Semaphore>);

fn shed(state: &AppState, reason: &str, detail: &str) -> Response {
    state.metrics.count("carescore_shed_total", &[("reason", reason)], 1);
    let mut problem = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "Service unavailable",
        detail,
    );
    problem.retry_after = Some(1);
    problem.into_response()
}

/// The middleware.
pub(crate) async fn layer(
    State((state, in_flight)): State<(AppState, InFlight)>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let path = request.uri().path();
    let route = ROUTES.iter().copied().find(|r| *r == path).unwrap_or("other");
    let request_id = request
        .extensions()
        .get::<crate::request_id::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let method = request.method().clone();
    let response = match in_flight.0.clone().try_acquire_owned() {
        Err(_) => shed(&state, "overload", "too many requests in flight; retry shortly"),
        Ok(_permit) => {
            let timeout = Duration::from_millis(state.limits.request_timeout_ms);
            match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => shed(&state, "timeout", "the request took longer than the service allows"),
            }
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.metrics.request(route, status, seconds);
    // Route, status and timing only: never a body, a header value or a patient field.
    tracing::info!(request_id, %method, route, status, ms = seconds * 1000.0, "request");
    response
}
