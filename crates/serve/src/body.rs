//! Reading a JSON request body: the content type must be JSON (415
//! otherwise) and the body at most the route's limit (413 otherwise), read
//! without trusting `Content-Length`; and writing a JSON answer.
//!
//! A body over the limit is still read to its end (and thrown away, up to
//! [`DRAIN_LIMIT_BYTES`]) before the 413 is answered: a client such as
//! Python's urllib sends the whole body before it reads the answer, and a
//! connection closed under it with unread data is reset, so the client sees
//! a broken pipe instead of the 413.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde::Serialize;

use crate::problem::{Problem, ProblemKind};

/// Largest single-record body.
pub(crate) const RECORD_LIMIT_BYTES: usize = 1024 * 1024;

/// Largest batch body: fits 10,000 records, so too many records is a 422, not a 413.
pub(crate) const BATCH_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// Most bytes of a body read in all (kept or thrown away) before the
/// connection is given up: a body declared larger is answered 413 without
/// being read, and one that turns out larger (chunked) is answered 413 once
/// this much has arrived; either way the connection then closes.
pub(crate) const DRAIN_LIMIT_BYTES: usize = 64 * 1024 * 1024;

/// Whether the request declares a JSON body (`application/json`, or `+json`, any parameters).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")))
}

/// The declared `Content-Length`, if any and readable.
fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        ProblemKind::BodyTooLarge,
        format!("the body is larger than the {limit} bytes this route accepts"),
    )
}

/// The body's bytes, or the problem that stops the request.
///
/// # Errors
/// 415 for another content type, 413 above `limit` bytes, 400 if the body cannot be read.
pub(crate) async fn read_json(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Problem> {
    if !is_json(headers) {
        return Err(Problem::new(
            ProblemKind::UnsupportedMediaType,
            "send the body as `Content-Type: application/json`",
        ));
    }
    let declared = declared_length(headers);
    if declared.is_some_and(|n| n > DRAIN_LIMIT_BYTES) {
        // Not worth reading: refused at once, and the connection closes.
        return Err(too_large(limit));
    }
    // The frames are kept as they come (no copy) while within the limit,
    // and dropped once it is crossed; the rest is only counted.
    let mut body = body;
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Problem::bad_json("the body could not be read"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > DRAIN_LIMIT_BYTES {
            return Err(too_large(limit));
        }
        if total <= limit {
            chunks.push(data);
        } else {
            chunks = Vec::new();
        }
    }
    if total > limit {
        return Err(too_large(limit));
    }
    Ok(match chunks.len() {
        // The usual record: one frame, handed on as it is.
        1 => chunks.swap_remove(0),
        _ => Bytes::from(chunks.concat()),
    })
}

/// Bytes reserved for an answer before writing it: a score is ~1.4 KB.
const ANSWER_CAPACITY: usize = 2048;

/// A JSON answer (`200`, `application/json`), like axum's `Json` but
/// written into a buffer sized for a score up front: `Json` starts at 128
/// bytes and grows (copies) its buffer four times for one score.
#[derive(Debug)]
pub(crate) struct JsonAnswer<T>(pub T);

impl<T: Serialize> IntoResponse for JsonAnswer<T> {
    fn into_response(self) -> Response {
        let mut bytes = Vec::with_capacity(ANSWER_CAPACITY);
        match serde_json::to_writer(&mut bytes, &self.0) {
            Ok(()) => (
                [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                bytes,
            )
                .into_response(),
            // Our answers are plain structs with string keys: this does not happen.
            Err(error) => Problem::internal(&format!("the answer could not be written: {error}")).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        h
    }

    #[test]
    fn json_media_types() {
        assert!(is_json(&headers("application/json")));
        assert!(is_json(&headers("Application/JSON; charset=utf-8")));
        assert!(is_json(&headers("application/merge-patch+json")));
        assert!(!is_json(&headers("text/plain")));
        assert!(!is_json(&headers("application/x-www-form-urlencoded")));
        assert!(!is_json(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn limits_and_types() {
        let ok = read_json(&headers("application/json"), Body::from("{}"), 10).await;
        assert_eq!(ok.unwrap(), Bytes::from_static(b"{}"));
        let big = read_json(&headers("application/json"), Body::from("x".repeat(11)), 10).await;
        assert_eq!(big.unwrap_err().status(), 413);
        let text = read_json(&headers("text/plain"), Body::from("{}"), 10).await;
        assert_eq!(text.unwrap_err().status(), 415);
        let exact = read_json(&headers("application/json"), Body::from("x".repeat(10)), 10).await;
        assert_eq!(exact.unwrap().len(), 10);
    }
}
