//! The shadow challenger's part of `GET /v1/monitoring`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::comparison::{FlagRates, TargetComparison};

/// The shadow challenger: what it runs, what it was offered, how it compares.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ShadowReport {
    /// Share of the scored records offered to it (0 to 1).
    pub(crate) share: f64,
    /// Whether a shadow set is loaded.
    pub(crate) loaded: bool,
    /// Why the shadow set (or its last reload) could not be loaded; absent when it loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) error: Option<String>,
    /// The shadow's models (built-in targets its directory has an artifact of).
    pub(crate) models: Vec<ShadowModel>,
    /// Records offered since start, by outcome: `scored`, `not_sampled`,
    /// `shed_budget` (its CPU budget was spent), `shed_queue_full`, `no_shadow`.
    pub(crate) records: BTreeMap<String, u64>,
    /// When the comparison below began (Unix ms): at start, or at the reload that changed the set.
    pub(crate) comparing_since_unix_ms: u64,
    /// Per target: agreement with the champion (published 10 records at a time).
    pub(crate) targets: Vec<TargetComparison>,
    /// Per flag: how often each set raised it.
    pub(crate) flag_rates: Vec<FlagRates>,
}

/// One model of the shadow set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ShadowModel {
    /// The target.
    pub(crate) target: String,
    /// `<target>@<version>`.
    pub(crate) model_version: String,
    /// The artifact's checksum.
    pub(crate) model_sha256: String,
}
