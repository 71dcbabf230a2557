//! How the record routes (score, batch, grade) take a patient record in:
//! authorise, read the body, validate, count the record's data quality in
//! the metrics, and turn a refusal into its problem document.

use std::sync::Arc;

use axum::body::Body;
use axum::http::HeaderMap;
use carescore_core::policy::{urgent_flags, Policy};
use carescore_core::scoring::Score;
use carescore_core::{parse_record, Field, Presence, RecordError, Screened};

use crate::auth::Scope;
use crate::body::read_json;
use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::state::{AppState, Live};

/// A request admitted to score or grade: the live set it is answered
/// with, and the key's name (none without keys).
pub(crate) struct Admitted {
    /// The live set, loaded once for the whole request.
    pub live: Arc<Live>,
    /// The key's name, for the audit trail.
    pub key: Option<String>,
}

/// Authorises `scope` on the live set.
///
/// # Errors
/// 401, 403 or 429.
pub(crate) fn admit(state: &AppState, headers: &HeaderMap, scope: Scope) -> Result<Admitted, Problem> {
    let live = state.live.load_full();
    let key = state.admit(&live, headers, Some(scope))?;
    Ok(Admitted { live, key })
}

/// The problem for a record that could not be parsed or validated: an
/// invalid record names the urgent flags its readable fields raise under
/// `policy`, and they are counted like a scored record's flags.
pub(crate) fn record_problem(metrics: &Metrics, policy: &Policy, error: RecordError) -> Problem {
    if let RecordError::Invalid { signals, .. } = &error {
        urgent_flags(signals, policy).iter().for_each(|f| metrics.flag(*f));
    }
    refusal(policy, error)
}

/// The problem for a record that could not be parsed or validated, naming
/// the urgent flags its readable fields raise under `policy`, without
/// counting anything.
pub(crate) fn refusal(policy: &Policy, error: RecordError) -> Problem {
    match error {
        RecordError::NotJson(detail) => Problem::bad_json(format!("the body is not valid JSON: {detail}")),
        RecordError::NotObject => Problem::bad_json("the body must be a JSON object with the patient record's fields"),
        RecordError::Invalid { errors, signals } => Problem::invalid_record(&errors, urgent_flags(&signals, policy)),
    }
}

/// Counts a parsed record's data quality: valid or not, missing optional
/// fields, plausibility warnings (names only, never values).
pub(crate) fn observe_record(metrics: &Metrics, outcome: &Result<Screened, RecordError>) {
    match outcome {
        Ok(screened) => {
            metrics.record(true);
            Field::ALL
                .iter()
                .filter(|f| f.spec().presence != Presence::Required && screened.record.value(**f).is_none())
                .for_each(|f| metrics.missing(*f));
            metrics.plausibility_warnings(screened.warnings.iter().map(|w| w.rule));
        }
        Err(_) => metrics.record(false),
    }
}

/// Counts a score's probabilities and flags.
pub(crate) fn observe_score(metrics: &Metrics, score: &Score) {
    for (target, risk) in &score.risks {
        metrics.probability(target, risk.probability);
    }
    score.flags.iter().for_each(|f| metrics.flag(*f));
}

/// Authorises `scope`, reads and validates one record.
///
/// # Errors
/// The problem that stops the request (401, 403, 413, 415, 429, 400, 422).
pub(crate) async fn one(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    scope: Scope,
) -> Result<(Admitted, Screened), Problem> {
    let admitted = admit(state, headers, scope)?;
    let bytes = read_json(headers, body, crate::body::RECORD_LIMIT_BYTES).await?;
    let outcome = parse_record(&bytes);
    observe_record(&state.metrics, &outcome);
    let screened = outcome.map_err(|e| record_problem(&state.metrics, &admitted.live.policy, e))?;
    Ok((admitted, screened))
}
