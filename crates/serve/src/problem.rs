//! RFC 9457 problem details (`application/problem+json`) for every 4xx and
//! 5xx answer. Field problems name the field, the rule and what is allowed,
//! never the value that was sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use carescore_core::FieldError;
use serde::Serialize;

/// Media type of problem documents.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The field (or the unknown key that was sent).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What would be accepted.
    pub allowed: String,
    /// Stable rule identifier.
    pub rule: String,
}

impl From<&FieldError> for FieldProblem {
    fn from(e: &FieldError) -> Self {
        FieldProblem {
            field: e.field.clone(),
            message: e.message.clone(),
            allowed: e.allowed.clone(),
            rule: e.rule.to_string(),
        }
    }
}

/// The URI of problem type `slug`.
fn type_uri<S: serde::Serializer>(slug: &&'static str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format!("https://carescore.invalid/problems/{slug}"))
}

/// A problem document with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// The problem type's slug; serialised as the URI `type`.
    #[serde(rename = "type", serialize_with = "type_uri")]
    pub kind: &'static str,
    /// Short summary of the problem type.
    pub title: &'static str,
    /// HTTP status code.
    pub status: u16,
    /// This occurrence, in words.
    pub detail: String,
    /// Field problems, for invalid records.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Seconds to wait before retrying (429 and 503 only; sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// Whether to send the `WWW-Authenticate: Bearer` challenge (401 only).
    #[serde(skip)]
    pub challenge: bool,
}

impl Problem {
    /// A problem of type `slug` with `status`, `title` and `detail`.
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: slug,
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            challenge: false,
        }
    }

    /// 400: the body is not usable JSON.
    pub fn bad_json(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON", detail)
    }

    /// 422: a record (or batch) that is JSON but not valid; every field problem listed.
    pub fn invalid_record(errors: &[FieldError]) -> Problem {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-record",
            "Invalid patient record",
            format!("the record has {} invalid field(s)", errors.len()),
        );
        p.errors = errors.iter().map(FieldProblem::from).collect();
        p
    }

    /// 500: a bug on our side (a worker thread failed); `detail` says which step.
    pub fn internal(detail: &str) -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            detail.to_string(),
        )
    }

    /// 422 for a request-level field (e.g. `records`).
    pub fn invalid_request(field: &str, message: String, allowed: String) -> Problem {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "Invalid request",
            message.clone(),
        );
        p.errors = vec![FieldProblem {
            field: field.to_string(),
            message,
            allowed,
            rule: "request_shape".to_string(),
        }];
        p
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
