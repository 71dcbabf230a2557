//! The programme's staffing and assumptions (`[programme]` in the policy
//! file): patients per case manager in each tier, the relative risk
//! reduction the programme assumes for each tier, and optional costs
//! (`docs/levers-and-programme.md` gives the sources and ranges).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::record::Tier;

/// A figure for each tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PerTier<T> {
    /// Self-service app.
    pub self_service: T,
    /// Remote nurse follow-up.
    pub remote: T,
    /// Senior case manager 1:1.
    pub intensive: T,
}

impl<T: Copy> PerTier<T> {
    /// The figure of `tier`.
    pub fn of(&self, tier: Tier) -> T {
        match tier {
            Tier::SelfService => self.self_service,
            Tier::Remote => self.remote,
            Tier::Intensive => self.intensive,
        }
    }

    /// The figures with their tiers, least intensive first.
    pub fn iter(&self) -> [(Tier, T); 3] {
        [
            (Tier::SelfService, self.self_service),
            (Tier::Remote, self.remote),
            (Tier::Intensive, self.intensive),
        ]
    }
}

/// Patients one case manager follows in each tier (`[programme.caseload]`);
/// 0 means the tier needs no case manager (self-service).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Caseload {
    /// Self-service (default 0: no case manager).
    pub self_service: u32,
    /// Remote nurse follow-up (default 150).
    pub remote: u32,
    /// Senior case manager 1:1 (default 40).
    pub intensive: u32,
}

impl Default for Caseload {
    fn default() -> Self {
        Caseload {
            self_service: 0,
            remote: 150,
            intensive: 40,
        }
    }
}

impl Caseload {
    /// The caseloads as [`PerTier`].
    pub fn per_tier(&self) -> PerTier<u32> {
        PerTier {
            self_service: self.self_service,
            remote: self.remote,
            intensive: self.intensive,
        }
    }
}

/// The relative risk reduction the programme assumes in each tier
/// (`[programme.relative_risk_reduction]`): an assumption, not a measured effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskReduction {
    /// Self-service (default 0).
    pub self_service: f64,
    /// Remote nurse follow-up (default 0.15).
    pub remote: f64,
    /// Senior case manager 1:1 (default 0.15).
    pub intensive: f64,
}

impl Default for RiskReduction {
    fn default() -> Self {
        RiskReduction {
            self_service: 0.0,
            remote: 0.15,
            intensive: 0.15,
        }
    }
}

impl RiskReduction {
    /// The reductions as [`PerTier`].
    pub fn per_tier(&self) -> PerTier<f64> {
        PerTier {
            self_service: self.self_service,
            remote: self.remote,
            intensive: self.intensive,
        }
    }
}

/// Costs, when the programme gives them (`[programme.costs]`; no default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Costs {
    /// Currency of every amount.
    pub currency: String,
    /// Cost of following one patient in each tier for the period the view covers.
    pub per_patient: PerTier<f64>,
    /// Cost of one event, by target name (every built-in target).
    pub per_event: BTreeMap<String, f64>,
}

/// The programme settings (`[programme]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Programme {
    /// Patients per case manager in each tier.
    pub caseload: Caseload,
    /// Relative risk reduction assumed in each tier.
    pub relative_risk_reduction: RiskReduction,
    /// Costs (none by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<Costs>,
}
