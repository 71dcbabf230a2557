//! `GET /metrics`: the Prometheus text exposition of the service's counters
//! ([`crate::metrics`]) and of the monitor ([`crate::monitoring`]). Open, like the probes: it holds no patient value.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::routes::Route;
use crate::state::AppState;

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain"),
        crate::http::answers::GuardProblems))]
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let monitor = state.monitor.view();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render_with(|metric, out| {
            monitor.render(metric, out);
            if let Some(shadow) = &state.shadow {
                shadow.render(metric, out);
            }
        }),
    )
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(Route::Metrics.path(), get(metrics))
}
