//! The outer layer of every request: resolves its id ([`crate::request_id`]),
//! sheds load beyond the in-flight limit at once (503 with `Retry-After`,
//! never an unbounded queue), ends requests that exceed the timeout (503),
//! records route, status and latency in the metrics and one structured log
//! line with the request id, and sets the id and the security headers
//! ([`crate::security_headers`]) on the response. It is one layer because
//! each layer clones the router and boxes a future per request.

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::metrics::ShedReason;
use crate::problem::{Problem, ProblemKind};
use crate::routes::Route;
use crate::state::AppState;

fn shed(state: &AppState, reason: ShedReason, detail: &str) -> Response {
    state.metrics.shed(reason);
    Problem::new(ProblemKind::Unavailable, detail)
        .retry_after(1)
        .into_response()
}

/// The middleware.
pub(crate) async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = Route::of(request.uri().path());
    let request_id = crate::request_id::resolve(request.headers());
    request
        .extensions_mut()
        .insert(crate::request_id::RequestId(request_id.clone()));
    let method = request.method().clone();
    let mut response = match state.in_flight.try_acquire() {
        Err(_) => shed(
            &state,
            ShedReason::Overload,
            "too many requests in flight; retry shortly",
        ),
        Ok(_permit) => {
            let timeout = Duration::from_millis(state.limits.request_timeout_ms);
            match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => shed(
                    &state,
                    ShedReason::Timeout,
                    "the request took longer than the service allows",
                ),
            }
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.metrics.request(route, status, seconds);
    // Route, status and timing only: never a body, a header value or a patient field.
    tracing::info!(request_id, %method, route = route.name(), status, ms = seconds * 1000.0, "request");
    crate::request_id::stamp(&mut response, &request_id);
    crate::security_headers::apply(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    /// A router whose only route sleeps `ms` milliseconds, behind the guard.
    fn slow_app(state: AppState, permits: usize, ms: u64) -> Router {
        let limits = crate::Limits {
            max_in_flight: permits,
            ..state.limits
        };
        let state = state.with_limits(limits);
        Router::new()
            .route(
                "/v1/score",
                get(move || async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    "done"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(state, layer))
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
        let state = AppState::embedded().unwrap();
        let limits = crate::Limits {
            request_timeout_ms: 50,
            ..state.limits
        };
        let state = state.with_limits(limits);
        let response = slow_app(state.clone(), 4, 2_000).oneshot(get_score()).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(state
            .metrics
            .render()
            .contains("carescore_shed_total{reason=\"timeout\"} 1"));
    }
}
