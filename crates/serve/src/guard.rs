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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    /// A router whose only route sleeps `ms` milliseconds, behind the guard.
    fn slow_app(state: AppState, permits: usize, ms: u64) -> Router {
        let in_flight = InFlight(Arc::new(Semaphore::new(permits)));
        Router::new()
            .route(
                "/v1/score",
                get(move || async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    "done"
                }),
            )
            .layer(axum::middleware::from_fn_with_state((state, in_flight), layer))
    }

    fn get_score() -> axum::http::Request<Body> {
        axum::http::Request::get("/v1/score").body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn beyond_the_in_flight_limit_requests_are_shed_at_once() {
        let state = AppState::embedded().unwrap();
        let app = slow_app(state.clone(), 1, 300);
        let first = tokio::spawn(app.clone().oneshot(get_score()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let second = app.clone().oneshot(get_score()).await.unwrap();
        assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(second.headers()["retry-after"], "1");
        assert!(
            started.elapsed() < Duration::from_millis(250),
            "refused without queueing"
        );
        assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
        assert!(state
            .metrics
            .render()
            .contains("carescore_shed_total{reason=\"overload\"} 1"));
    }

    #[tokio::test]
    async fn slow_requests_end_with_503_at_the_timeout() {
        let mut state = AppState::embedded().unwrap();
        state.limits.request_timeout_ms = 50;
        let response = slow_app(state.clone(), 4, 2_000).oneshot(get_score()).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(state
            .metrics
            .render()
            .contains("carescore_shed_total{reason=\"timeout\"} 1"));
    }
}
