//! RFC 9457 problem details (`application/problem+json`) for every 4xx and
//! 5xx answer. Every kind of problem the service answers with, its status,
//! slug and title, is defined once, in [`ProblemKind`]. Field problems name
//! the field, the rule and what is allowed, never the value that was sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use carescore_core::policy::Flag;
use carescore_core::FieldError;
use serde::Serialize;

/// Media type of problem documents.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// Where problem types live: `type` is this followed by the kind's slug.
pub(crate) const TYPE_BASE: &str = "https://carescore.invalid/problems/";

/// Declares the problem kinds with their status, slug and title.
macro_rules! problem_kinds {
    ($( $(#[$doc:meta])* $kind:ident => $status:ident, $slug:literal, $title:literal; )+) => {
        /// Every kind of problem the service answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ProblemKind {
            $( $(#[$doc])* $kind, )+
        }

        impl ProblemKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ProblemKind] = &[$(ProblemKind::$kind),+];

            /// The HTTP status.
            pub fn status(self) -> StatusCode {
                match self { $(ProblemKind::$kind => StatusCode::$status),+ }
            }

            /// The slug: the last segment of the `type` URI.
            pub fn slug(self) -> &'static str {
                match self { $(ProblemKind::$kind => $slug),+ }
            }

            /// Short summary of the kind, the same for every occurrence.
            pub fn title(self) -> &'static str {
                match self { $(ProblemKind::$kind => $title),+ }
            }
        }
    };
}

problem_kinds! {
    /// 400: the body is not JSON, not an object, or nested too deeply.
    MalformedJson => BAD_REQUEST, "malformed-json", "Malformed JSON";
    /// 401: no API key, or an unknown one.
    Unauthorized => UNAUTHORIZED, "unauthorized", "Unauthorized";
    /// 403: the key lacks the route's scope.
    Forbidden => FORBIDDEN, "forbidden", "Forbidden";
    /// 404: no such route.
    NotFound => NOT_FOUND, "not-found", "Not found";
    /// 405: the route does not take that method.
    MethodNotAllowed => METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed";
    /// 409: a reload with nothing on disk to re-read (embedded models, built-in policy, no settings file).
    EmbeddedModels => CONFLICT, "embedded-models", "Nothing to reload";
    /// 413: the body is larger than the route accepts.
    BodyTooLarge => PAYLOAD_TOO_LARGE, "body-too-large", "Body too large";
    /// 415: the body is not declared as JSON.
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type";
    /// 422: the JSON does not make a valid patient record; every field problem listed.
    InvalidRecord => UNPROCESSABLE_ENTITY, "invalid-record", "Invalid patient record";
    /// 422: the JSON is not a valid input of a spec model; every field problem listed.
    InvalidInput => UNPROCESSABLE_ENTITY, "invalid-input", "Invalid model input";
    /// 422: the request around the records is mis-shaped (e.g. a batch without `records`).
    InvalidRequest => UNPROCESSABLE_ENTITY, "invalid-request", "Invalid request";
    /// 422: a reload found a file it refuses (or one removing every API key); the previous set keeps serving.
    ReloadRefused => UNPROCESSABLE_ENTITY, "reload-refused", "Reload refused";
    /// 429: the key is over its rate (`Retry-After`).
    RateLimited => TOO_MANY_REQUESTS, "rate-limited", "Too many requests";
    /// 500: a bug on the service's side.
    Internal => INTERNAL_SERVER_ERROR, "internal", "Internal error";
    /// 503: shedding load, or the request took longer than allowed (`Retry-After`).
    Unavailable => SERVICE_UNAVAILABLE, "unavailable", "Service unavailable";
    /// 503: the audit line could not be written, so the decision is not answered.
    AuditUnavailable => SERVICE_UNAVAILABLE, "audit-unavailable", "Audit log unavailable";
}

impl ProblemKind {
    /// The `type` URI.
    pub fn type_uri(self) -> String {
        format!("{TYPE_BASE}{}", self.slug())
    }
}

/// Stable identifier of the request-shape rule (`errors[].rule` of an
/// [`ProblemKind::InvalidRequest`]).
pub(crate) const REQUEST_SHAPE_RULE: &str = "request_shape";

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The field (or the unknown key that was sent, cut to 64 characters).
    pub field: String,
    /// What is wrong, without the value that was sent.
    pub message: String,
    /// What would be accepted.
    pub allowed: String,
    /// Stable rule identifier (docs/data-contract.md lists them).
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

/// A problem document with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The kind: gives `type` (a URI), `title` and `status`.
    pub kind: ProblemKind,
    /// This occurrence, in words.
    pub detail: String,
    /// Field problems, for invalid records and requests.
    pub errors: Vec<FieldProblem>,
    /// Urgent flags an invalid record still raises (safety signals are never
    /// lost to a validation rule).
    pub safety_flags: Vec<Flag>,
    /// Seconds to wait before retrying (429 and 503 only; sent as `Retry-After`).
    pub retry_after: Option<u64>,
    /// Whether to send the `WWW-Authenticate: Bearer` challenge (401 only).
    pub challenge: bool,
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut document = serializer.serialize_struct("Problem", 6)?;
        document.serialize_field("type", &self.kind.type_uri())?;
        document.serialize_field("title", self.kind.title())?;
        document.serialize_field("status", &self.status())?;
        document.serialize_field("detail", &self.detail)?;
        if self.errors.is_empty() {
            document.skip_field("errors")?;
        } else {
            document.serialize_field("errors", &self.errors)?;
        }
        if self.safety_flags.is_empty() {
            document.skip_field("safety_flags")?;
        } else {
            document.serialize_field("safety_flags", &self.safety_flags)?;
        }
        document.end()
    }
}

/// An RFC 9457 problem document (`application/problem+json`), as
/// published in the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)]
pub(crate) struct ProblemSchema {
    /// The problem type: `https://carescore.invalid/problems/<slug>` (docs/api.md lists them).
    r#type: String,
    /// Short summary of the problem type.
    title: String,
    /// HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// This occurrence, in words; never a value that was sent.
    detail: String,
    /// Field problems, for invalid records and requests.
    #[schema(nullable = false)]
    errors: Option<Vec<FieldProblem>>,
    /// For an invalid record: the urgent flags its readable fields still
    /// raise (`mental_health_urgent` for a PHQ-9 item 9 of 1-3,
    /// `trough_urgent` for a tacrolimus trough far out of range). The case
    /// manager must act on them although the record was not scored.
    #[schema(nullable = false)]
    safety_flags: Option<Vec<Flag>>,
}

impl Problem {
    /// A problem of `kind` with `detail`.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
            safety_flags: Vec::new(),
            retry_after: None,
            challenge: false,
        }
    }

    /// The same problem asking the client to retry after `seconds`.
    pub fn retry_after(mut self, seconds: u64) -> Problem {
        self.retry_after = Some(seconds);
        self
    }

    /// 400: the body is not usable JSON.
    pub fn bad_json(detail: impl Into<String>) -> Problem {
        Problem::new(ProblemKind::MalformedJson, detail)
    }

    /// 422: a record that is JSON but not valid; every field problem
    /// listed, with the urgent flags it still raises.
    pub fn invalid_record(errors: &[FieldError], safety_flags: Vec<Flag>) -> Problem {
        let mut detail = format!("the record has {} invalid field(s)", errors.len());
        if !safety_flags.is_empty() {
            detail.push_str("; it still raises urgent flags (safety_flags): act on them");
        }
        let mut p = Problem::new(ProblemKind::InvalidRecord, detail);
        p.errors = errors.iter().map(FieldProblem::from).collect();
        p.safety_flags = safety_flags;
        p
    }

    /// 422: an input of a spec model that is JSON but not valid; every field problem listed.
    pub fn invalid_input(errors: &[FieldError]) -> Problem {
        let mut p = Problem::new(
            ProblemKind::InvalidInput,
            format!("the input has {} invalid field(s)", errors.len()),
        );
        p.errors = errors.iter().map(FieldProblem::from).collect();
        p
    }

    /// 500: a bug on our side (a worker thread failed); `detail` says which step.
    pub fn internal(detail: &str) -> Problem {
        Problem::new(ProblemKind::Internal, detail)
    }

    /// 422 for a request-level field (e.g. `records`).
    pub fn invalid_request(field: &str, message: String, allowed: String) -> Problem {
        let mut p = Problem::new(ProblemKind::InvalidRequest, message.clone());
        p.errors = vec![FieldProblem {
            field: field.to_string(),
            message,
            allowed,
            rule: REQUEST_SHAPE_RULE.to_string(),
        }];
        p
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    /// The HTTP status as a number.
    pub fn status(&self) -> u16 {
        self.kind.status().as_u16()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_distinct_slugs_and_error_statuses() {
        for (i, kind) in ProblemKind::ALL.iter().enumerate() {
            assert!(
                kind.status().is_client_error() || kind.status().is_server_error(),
                "{kind:?}"
            );
            assert!(
                kind.slug().bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{kind:?}"
            );
            assert!(
                ProblemKind::ALL[..i].iter().all(|k| k.slug() != kind.slug()),
                "{kind:?} slug twice"
            );
        }
    }

    #[test]
    fn a_problem_serialises_type_title_and_status_from_its_kind() {
        let p = Problem::new(ProblemKind::RateLimited, "slow down").retry_after(2);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "https://carescore.invalid/problems/rate-limited",
                "title": "Too many requests", "status": 429, "detail": "slow down"})
        );
        let response = p.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
