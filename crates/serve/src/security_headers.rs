//! Headers on every response: `Cache-Control: no-store` (answers carry risks
//! derived from patient data; no browser or proxy may keep them) and
//! `X-Content-Type-Options: nosniff`. The service sends no `Server` banner
//! (neither hyper nor axum adds one), so its version is not disclosed.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Middleware: sets the headers on the response.
pub(crate) async fn layer(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
