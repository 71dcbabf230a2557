//! Watching the models in production: drift of live inputs and
//! predictions from the training data, per model, in tumbling windows
//! ([`drift`]); figures by patient group ([`groups`]); the report of
//! `GET /v1/monitoring` ([`report`]); and the monitor that holds them and
//! exports them to `/metrics` ([`Monitor`]). Everything is counted per
//! replica; `/metrics` exports the bin counts so that Prometheus can add
//! replicas up.

mod drift;
mod groups;
mod monitor;
pub(crate) mod released;
pub(crate) mod report;

pub use monitor::Monitor;

/// What `/v1/monitoring` and `/metrics` call the predicted probability's
/// statistic: in parentheses, so that no record field (lower-case letters,
/// digits and `_`) shares the name.
pub(crate) const PROBABILITY_STATISTIC: &str = "(probability)";

/// Default records per drift window.
pub const DEFAULT_WINDOW_RECORDS: u64 = 500;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    u64::try_from(crate::audit::now_ms()).unwrap_or(u64::MAX)
}
