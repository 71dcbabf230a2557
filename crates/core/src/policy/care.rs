//! Case-management policy: risk bands, the recommended tier, flags and the
//! follow-up cadence and channel.

use serde::Serialize;

use super::{BandThresholds, Policy};
use crate::phase::Phase;
use crate::record::{PatientRecord, Tier};

/// Risk band of one probability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// At or below the medium threshold.
    Low,
    /// Above the medium threshold.
    Medium,
    /// Above the high threshold.
    High,
}

/// The band of probability `p` under `thresholds`.
pub fn band(p: f64, thresholds: BandThresholds) -> Band {
    if p > thresholds.high {
        Band::High
    } else if p > thresholds.medium {
        Band::Medium
    } else {
        Band::Low
    }
}

/// The tier for the higher of the two bands: high -> intensive, medium -> remote, low -> self-service.
pub fn recommended_tier(infection: f64, readmission: f64, policy: &Policy) -> Tier {
    let worst = band(infection, policy.bands.infection_180d).max(band(readmission, policy.bands.readmission_30d));
    match worst {
        Band::High => Tier::Intensive,
        Band::Medium => Tier::Remote,
        Band::Low => Tier::SelfService,
    }
}

/// An action flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Infection risk above the early-intervention threshold.
    EarlyIntervention,
    /// The recommended tier is above the current one.
    TierUpgrade,
    /// PHQ-9 or GAD-7 at or above its threshold.
    MentalHealthReview,
    /// PHQ-9 item 9 (thoughts of self-harm) above 0: the safety pathway, whatever the total.
    MentalHealthUrgent,
    /// Adherence below the threshold.
    AdherenceSupport,
    /// Tacrolimus trough outside the target range.
    TroughReview,
}

impl Flag {
    /// Every flag, in response order.
    pub const ALL: [Flag; 6] = [
        Flag::EarlyIntervention,
        Flag::TierUpgrade,
        Flag::MentalHealthReview,
        Flag::MentalHealthUrgent,
        Flag::AdherenceSupport,
        Flag::TroughReview,
    ];

    /// The flag's name in responses and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::EarlyIntervention => "early_intervention",
            Flag::TierUpgrade => "tier_upgrade",
            Flag::MentalHealthReview => "mental_health_review",
            Flag::MentalHealthUrgent => "mental_health_urgent",
            Flag::AdherenceSupport => "adherence_support",
            Flag::TroughReview => "trough_review",
        }
    }
}

/// The flags raised for `record` with infection risk `infection` and recommended tier `tier`.
pub fn flags(record: &PatientRecord, infection: f64, tier: Tier, policy: &Policy) -> Vec<Flag> {
    let f = &policy.flags;
    let raised = |flag: Flag| match flag {
        Flag::EarlyIntervention => infection > f.early_intervention_infection,
        // No current tier: nothing to upgrade from.
        Flag::TierUpgrade => record.current_tier.is_some_and(|current| tier > current),
        Flag::MentalHealthReview => {
            record.phq9_score.is_some_and(|s| s >= f.mental_health_phq9)
                || record.gad7_score.is_some_and(|s| s >= f.mental_health_gad7)
        }
        Flag::MentalHealthUrgent => record.phq9_item9.is_some_and(|s| s > 0),
        Flag::AdherenceSupport => record.adherence_pct.is_some_and(|a| a < f.adherence_below_pct),
        Flag::TroughReview => record
            .tacrolimus_trough_ng_ml
            .is_some_and(|t| t < f.trough_low || t > f.trough_high),
    };
    Flag::ALL.into_iter().filter(|flag| raised(*flag)).collect()
}

/// How often and through whom the patient is followed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUp {
    /// Days between contacts.
    pub cadence_days: u32,
    /// Who makes contact: `senior_case_manager`, `nurse_phone` or `self_service_app`.
    pub channel: &'static str,
}

/// The follow-up for a phase and tier: the phase's cadence, at most the
/// intensive maximum in the intensive tier, times the self-service factor in
/// the self-service tier.
pub fn follow_up(phase: Phase, tier: Tier, policy: &Policy) -> FollowUp {
    let c = &policy.follow_up;
    let base = match phase {
        Phase::Acute => c.acute_days,
        Phase::Consolidation => c.consolidation_days,
        Phase::Maintenance => c.maintenance_days,
    };
    match tier {
        Tier::Intensive => FollowUp {
            cadence_days: base.min(c.intensive_max_days),
            channel: "senior_case_manager",
        },
        Tier::Remote => FollowUp {
            cadence_days: base,
            channel: "nurse_phone",
        },
        Tier::SelfService => FollowUp {
            cadence_days: base.saturating_mul(c.self_service_factor),
            channel: "self_service_app",
        },
    }
}
