//! # carescore-serve
//!
//! The CareScore HTTP service (axum) that the case-management system and
//! underwriting call. This first cut serves liveness and readiness only;
//! scoring routes follow (DESIGN.md section 6).
//!
//! [`app`] builds the router, so tests drive it in-process and the binary only
//! adds configuration, logging and the listener.
#![forbid(unsafe_code)]

mod config;
mod health;

pub use config::{Config, ConfigError};

use axum::Router;

/// The service's router with every route.
pub fn app() -> Router {
    Router::new().merge(health::router())
}

/// Serves [`app`] on `listener` until `shutdown` completes, draining in-flight requests.
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app()).with_graceful_shutdown(shutdown).await
}
