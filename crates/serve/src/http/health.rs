//! Liveness (`/healthz`) and readiness (`/readyz`) probes for load balancers
//! and Kubernetes. Neither discloses anything about patients.

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::routes::Route;

/// Body of both probes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok` (liveness) or `ready` (readiness).
    status: &'static str,
    /// The service's version.
    version: &'static str,
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health), crate::http::answers::GuardProblems))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness: models are loaded.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready: models loaded", body = Health), crate::http::answers::GuardProblems))]
pub(crate) async fn readyz() -> Json<Health> {
    // Models are loaded before the listener opens: ready as soon as it accepts.
    Json(Health {
        status: "ready",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Routes of this resource.
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(Route::Healthz.path(), get(healthz))
        .route(Route::Readyz.path(), get(readyz))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn healthz_answers_ok() {
        let response = crate::app(crate::AppState::embedded().unwrap())
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["status"], "ok");
    }

    #[tokio::test]
    async fn unknown_route_is_404() {
        let response = crate::app(crate::AppState::embedded().unwrap())
            .oneshot(Request::get("/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
