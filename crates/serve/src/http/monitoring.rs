//! `GET /v1/monitoring`: this replica's drift tracking per served model
//! (the window under way and the last full one, with every statistic
//! against its threshold), figures by organ and sex, and the mix of
//! underwriting classes ([`crate::monitoring`]). Open, like `/metrics`:
//! it holds counts of bins and groups, no patient value, and withholds
//! the figures of a group of fewer than 10 records.

use axum::extract::State;
use axum::routing::get;
use axum::Router;

use crate::body::JsonAnswer;
use crate::monitoring::report::MonitoringReport;
use crate::routes::Route;
use crate::state::AppState;

/// Drift, group figures and the underwriting mix of this replica.
#[utoipa::path(get, path = "/v1/monitoring", tag = "operations",
    responses((status = 200, description = "Drift per model, figures by group, the underwriting mix",
        body = MonitoringReport),
        crate::http::answers::GuardProblems))]
pub(crate) async fn monitoring(State(state): State<AppState>) -> JsonAnswer<MonitoringReport> {
    let mut report = state.monitor.report();
    report.shadow = state.shadow.as_ref().map(|s| s.report());
    JsonAnswer(report)
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(Route::Monitoring.path(), get(monitoring))
}
