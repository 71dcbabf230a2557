//! The problem answers each kind of route publishes in the OpenAPI
//! document (the `responses` of its operations), one list per kind of route.
//! The handlers name their list; [`super::openapi`] gathers the handlers.

use crate::problem::ProblemSchema;

/// The problem answers of the record routes (score, batch, grade).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum RecordProblems {
    /// Not JSON, not an object, or nested too deeply.
    #[response(status = 400, content_type = "application/problem+json")]
    BadJson(ProblemSchema),
    /// No or unknown API key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(ProblemSchema),
    /// The key lacks the route's scope.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(ProblemSchema),
    /// Body too large (1 MiB for one record, 16 MiB for a batch).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(ProblemSchema),
    /// Not sent as `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    MediaType(ProblemSchema),
    /// Not a valid record (or batch): every field problem, with its rule. Besides the
    /// schema's own rules, two that JSON Schema cannot express: `icu_days` at most
    /// `index_length_of_stay_days`, and a transplant after birth.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(ProblemSchema),
    /// The key is over its rate limit (`Retry-After`).
    #[response(status = 429, content_type = "application/problem+json")]
    RateLimited(ProblemSchema),
    /// A fault of the service (a worker failed); never bad input.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(ProblemSchema),
    /// Shedding load, over the request timeout, or the audit line could not be written (`Retry-After`).
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(ProblemSchema),
}

/// The problem answers of a spec model's score routes.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum ModelProblems {
    /// Not JSON, not an object, or nested too deeply.
    #[response(status = 400, content_type = "application/problem+json")]
    BadJson(ProblemSchema),
    /// No or unknown API key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(ProblemSchema),
    /// The key lacks the route's scope.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(ProblemSchema),
    /// No model trained through a spec serves this target.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(ProblemSchema),
    /// Body too large (1 MiB for one input, 16 MiB for a batch).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(ProblemSchema),
    /// Not sent as `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    MediaType(ProblemSchema),
    /// Not a valid input (or batch): every field problem, with its rule.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(ProblemSchema),
    /// The key is over its rate limit (`Retry-After`).
    #[response(status = 429, content_type = "application/problem+json")]
    RateLimited(ProblemSchema),
    /// A fault of the service (a worker failed); never bad input.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(ProblemSchema),
    /// Shedding load, over the request timeout, or the audit line could not be written (`Retry-After`).
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(ProblemSchema),
}

/// The problem answers of a route that takes any valid key.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum KeyProblems {
    /// No or unknown API key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(ProblemSchema),
    /// The key is over its rate limit (`Retry-After`).
    #[response(status = 429, content_type = "application/problem+json")]
    RateLimited(ProblemSchema),
    /// Shedding load or over the request timeout (`Retry-After`).
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(ProblemSchema),
}

/// The problem answers of the reload route.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum ReloadProblems {
    /// No or unknown API key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(ProblemSchema),
    /// The key lacks the `admin` scope.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(ProblemSchema),
    /// Nothing on disk to re-read: the embedded models, the built-in policy and no settings file.
    #[response(status = 409, content_type = "application/problem+json")]
    Embedded(ProblemSchema),
    /// A file was refused (or would remove every API key); the previous models, policy and keys keep serving.
    #[response(status = 422, content_type = "application/problem+json")]
    Refused(ProblemSchema),
    /// A fault of the service (the reload worker failed).
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(ProblemSchema),
    /// The key is over its rate limit (`Retry-After`).
    #[response(status = 429, content_type = "application/problem+json")]
    RateLimited(ProblemSchema),
    /// Shedding load or over the request timeout (`Retry-After`).
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(ProblemSchema),
}

/// The problem answers every route can give (the guard in front of all).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum GuardProblems {
    /// Shedding load or over the request timeout (`Retry-After`).
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(ProblemSchema),
}
