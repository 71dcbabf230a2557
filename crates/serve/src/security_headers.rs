//! Headers on every response: `Cache-Control: no-store` (answers carry risks
//! derived from patient data; no browser or proxy may keep them) and
//! `X-Content-Type-Options: nosniff`. The service sends no `Server` banner
//! (neither hyper nor axum adds one), so its version is not disclosed.

use axum::http::{header, HeaderMap, HeaderValue};

/// Sets the headers on a response's `headers` (the guard, [`crate::guard`], calls it).
pub(crate) fn apply(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}
