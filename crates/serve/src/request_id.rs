//! `X-Request-Id` on every response: the caller's, when it is sane (1-128
//! characters of letters, digits, `-`, `_`, `.`), else a new one.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
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

/// Middleware: resolves the id, hands it to the handler and sets it on the response.
pub(crate) async fn layer(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map_or_else(fresh, str::to_string);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
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
