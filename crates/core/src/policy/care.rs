//! Case-management policy: risk bands, the recommended tier, flags and the
//! follow-up cadence and channel.

use std::borrow::Cow;

use serde::Serialize;

use super::flag::Flag;
use super::urgent::{urgent_among, urgent_flags, urgent_reason};
use super::{BandThresholds, Policy};
use crate::phase::Phase;
use crate::record::{PatientRecord, Tier};
use crate::validation::SafetySignals;

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

/// The flags raised for `record` with infection risk `infection` and recommended tier `tier`.
pub fn flags(record: &PatientRecord, infection: f64, tier: Tier, policy: &Policy) -> Vec<Flag> {
    let f = &policy.flags;
    let urgent = urgent_flags(&SafetySignals::of_record(record), policy);
    let raised = |flag: Flag| match flag {
        Flag::EarlyIntervention => infection > f.early_intervention_infection,
        // No current tier: nothing to upgrade from.
        Flag::TierUpgrade => record.current_tier.is_some_and(|current| tier > current),
        Flag::MentalHealthReview => {
            record.phq9_score.is_some_and(|s| s >= f.mental_health_phq9)
                || record.gad7_score.is_some_and(|s| s >= f.mental_health_gad7)
        }
        Flag::MentalHealthUrgent | Flag::TroughUrgent => urgent.contains(&flag),
        Flag::AdherenceSupport => record.adherence_pct.is_some_and(|a| a < f.adherence_below_pct),
        Flag::TroughReview => record
            .tacrolimus_trough_ng_ml
            .is_some_and(|t| t < f.trough_low || t > f.trough_high),
    };
    Flag::ALL.into_iter().filter(|flag| raised(*flag)).collect()
}

/// The tier for a record: the risks' tier, raised to the urgent pathway's
/// minimum while an urgent flag is raised.
pub fn tier_with_urgency(risk_tier: Tier, record: &PatientRecord, policy: &Policy) -> Tier {
    if urgent_flags(&SafetySignals::of_record(record), policy).is_empty() {
        risk_tier
    } else {
        risk_tier.max(policy.urgent.min_tier)
    }
}

/// Who makes contact. The list may grow within `/v1`: show an unknown
/// channel to a person rather than routing it automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A senior case manager, 1:1 (the intensive tier).
    SeniorCaseManager,
    /// A nurse by phone (the remote tier).
    NursePhone,
    /// The self-service app (the self-service tier).
    SelfServiceApp,
    /// A clinician calls the patient (the urgent pathway).
    ClinicianCall,
}
/// How often and through whom the patient is followed up, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUp {
    /// Days between contacts (1 on the urgent pathway: within a day).
    pub cadence_days: u32,
    /// Who makes contact.
    pub channel: Channel,
    /// The urgent flags that set this follow-up (empty: the tier's routine follow-up).
    pub urgent_flags: Vec<Flag>,
    /// Why this cadence and channel, in words.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub reason: Cow<'static, str>,
}

/// The reason of a routine follow-up: written once per phase and tier, as
/// every score names one (no text built per answer).
fn routine_reason(phase: Phase, tier: Tier) -> &'static str {
    match (phase, tier) {
        (Phase::Acute, Tier::SelfService) => "routine: acute phase, self_service tier",
        (Phase::Acute, Tier::Remote) => "routine: acute phase, remote tier",
        (Phase::Acute, Tier::Intensive) => "routine: acute phase, intensive tier",
        (Phase::Consolidation, Tier::SelfService) => "routine: consolidation phase, self_service tier",
        (Phase::Consolidation, Tier::Remote) => "routine: consolidation phase, remote tier",
        (Phase::Consolidation, Tier::Intensive) => "routine: consolidation phase, intensive tier",
        (Phase::Maintenance, Tier::SelfService) => "routine: maintenance phase, self_service tier",
        (Phase::Maintenance, Tier::Remote) => "routine: maintenance phase, remote tier",
        (Phase::Maintenance, Tier::Intensive) => "routine: maintenance phase, intensive tier",
    }
}

/// The follow-up for a phase and tier: the phase's cadence, at most the
/// intensive maximum in the intensive tier, times the self-service factor in
/// the self-service tier; on the urgent pathway (any of `flags` urgent) a
/// clinician's call within `urgent.cadence_days`.
pub fn follow_up(phase: Phase, tier: Tier, flags: &[Flag], policy: &Policy) -> FollowUp {
    let urgent = urgent_among(flags);
    if !urgent.is_empty() {
        let why: Vec<String> = urgent.iter().filter_map(|f| urgent_reason(*f, policy)).collect();
        return FollowUp {
            cadence_days: policy.urgent.cadence_days,
            channel: Channel::ClinicianCall,
            reason: Cow::Owned(format!(
                "urgent pathway: {}; a clinician calls within {} day(s), tier at least {}",
                why.join("; "),
                policy.urgent.cadence_days,
                policy.urgent.min_tier
            )),
            urgent_flags: urgent,
        };
    }
    let c = &policy.follow_up;
    let base = match phase {
        Phase::Acute => c.acute_days,
        Phase::Consolidation => c.consolidation_days,
        Phase::Maintenance => c.maintenance_days,
    };
    let (cadence_days, channel) = match tier {
        Tier::Intensive => (base.min(c.intensive_max_days), Channel::SeniorCaseManager),
        Tier::Remote => (base, Channel::NursePhone),
        Tier::SelfService => (base.saturating_mul(c.self_service_factor), Channel::SelfServiceApp),
    };
    FollowUp {
        cadence_days,
        channel,
        urgent_flags: Vec::new(),
        reason: Cow::Borrowed(routine_reason(phase, tier)),
    }
}
