//! `X-Request-Id` on every response: the caller's, when it is sane (1-128
//! characters of letters, digits, `-`, `_`, `.`), else a new one.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

/// The header's name.
pub(crate) const HEADER: &str = "x-request-id";

/// The request id of the current request, for handlers and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestId(pub String);

fn sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A new id: process start time and a counter, unique within the process
/// and across restarts (no randomness needed).
fn fresh() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let start = START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    });
    format!("cs-{start:x}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The request's id: the caller's `X-Request-Id` when sane, else a new one
/// (the guard, [`crate::guard`], hands it to the handler).
pub(crate) fn resolve(headers: &HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map_or_else(fresh, str::to_string)
}

/// Sets the id on the response.
pub(crate) fn stamp(response: &mut Response, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(HEADER, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        assert!(sane("5f0c-abc_1.2"));
        assert!(!sane(""));
        assert!(!sane(&"x".repeat(129)));
        assert!(!sane("a b"));
        assert!(!sane("<script>"));
        assert_ne!(fresh(), fresh());
    }
}
