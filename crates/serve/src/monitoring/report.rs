//! The answer of `GET /v1/monitoring`: per served model, the drift
//! tracking's current window and last full window; figures by patient
//! group; the mix of underwriting classes.

use std::collections::BTreeMap;

use serde::Serialize;

/// `GET /v1/monitoring` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MonitoringReport {
    /// Records per drift window (0: drift tracking is off).
    pub(crate) window_records: u64,
    /// Added to every live and reference bin count before shares are taken.
    pub(crate) pseudo_count: f64,
    /// The chance that a window of data from the training population raises
    /// any alert (each threshold is at `1 - family_alpha / k` for the `k`
    /// statistics of its model).
    pub(crate) family_alpha: f64,
    /// When this replica started counting (Unix ms); figures are this replica's own.
    pub(crate) since_unix_ms: u64,
    /// One entry per served model.
    pub(crate) models: Vec<ModelMonitoring>,
    /// Figures by organ and by sex since the replica started.
    pub(crate) groups: Vec<GroupReport>,
    /// Underwriting grades per class since the replica started.
    pub(crate) underwriting: UnderwritingMix,
    /// The shadow challenger; absent without one (`--shadow-dir`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) shadow: Option<crate::shadow::report::ShadowReport>,
}

/// One model's drift tracking.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ModelMonitoring {
    /// The target.
    pub(crate) target: String,
    /// `<target>@<version>`.
    pub(crate) model_version: String,
    /// The artifact's checksum.
    pub model_sha256: String,
    /// When tracking of this model began (Unix ms): at start or at the reload that brought it.
    pub(crate) tracking_since_unix_ms: u64,
    /// Whether the artifact publishes reference distributions (artifacts
    /// trained before they were published have none: retrain to track drift).
    pub(crate) reference_published: bool,
    /// Statistics compared per window (`k`): features with a reference, and the probability.
    pub(crate) statistics: usize,
    /// Records counted in the window under way.
    pub(crate) current_window_records: u64,
    /// When the window under way began (Unix ms); absent while it is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) current_window_started_unix_ms: Option<u64>,
    /// Full windows so far.
    pub(crate) windows_completed: u64,
    /// Full windows in which any statistic passed its threshold.
    pub(crate) windows_with_alert: u64,
    /// The last full window; absent before the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) last_window: Option<WindowReport>,
}

/// A full window's statistics.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WindowReport {
    /// Records in it.
    pub(crate) records: u64,
    /// When its first record arrived (Unix ms).
    pub(crate) from_unix_ms: u64,
    /// When its last record arrived (Unix ms).
    pub(crate) to_unix_ms: u64,
    /// Whether any statistic passed its threshold.
    pub(crate) alert: bool,
    /// The features whose PSI passed their threshold (`(probability)` when the prediction's did).
    pub(crate) alerts: Vec<String>,
    /// One per feature with a reference, in the model's order.
    pub(crate) features: Vec<StatisticReport>,
    /// The predicted probability's; absent when the artifact publishes no reference for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) probability: Option<StatisticReport>,
}

/// One statistic of a window.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StatisticReport {
    /// The feature (`(probability)` for the predicted probability).
    pub(crate) feature: String,
    /// Population stability index of the window against the reference.
    pub(crate) psi: f64,
    /// The PSI above which it is an alert.
    pub(crate) threshold: f64,
    /// Whether the PSI passed the threshold.
    pub(crate) alert: bool,
    /// The bins, in order (`missing` last).
    pub(crate) bins: Vec<BinReport>,
}

/// One bin of a statistic.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BinReport {
    /// The bin: `<=a`, `(a,b]`, `>z`, a category, `other` or `missing`.
    pub(crate) bin: String,
    /// Share of the training rows in it.
    pub(crate) reference_share: f64,
    /// Share of the window's records in it.
    pub(crate) live_share: f64,
}

/// One patient group's figures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GroupReport {
    /// The grouping: `organ` or `sex`.
    pub(crate) grouping: String,
    /// The group, e.g. `kidney`.
    pub(crate) value: String,
    /// Records scored.
    pub(crate) records: u64,
    /// Share of them with any flag; absent below 10 records.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) flag_rate: Option<f64>,
    /// Mean predicted probability by target; empty below 10 records.
    pub(crate) mean_probability: BTreeMap<String, f64>,
}

/// Underwriting grades per class.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UnderwritingMix {
    /// Grades given.
    pub(crate) grades: u64,
    /// Share of grades per class (`A` to `D`); empty below 10 grades.
    pub(crate) shares: BTreeMap<String, f64>,
}
