//! The urgent pathway: findings that call for a clinician the same day,
//! whatever the risks say. PHQ-9 item 9 above 0 (thoughts of self-harm) is
//! the safety pathway regardless of the total; a tacrolimus trough far out
//! of range (default below 3 or above 20 ng/mL) is a same-day finding of
//! the transplant centres' escalation rules (`docs/clinical-sources.md`).
//! Either sets the follow-up to a clinician's call within a day and the
//! tier to at least the pathway's minimum.

use serde::{Deserialize, Serialize};

use super::flag::Flag;
use super::Policy;
use crate::record::Tier;
use crate::validation::SafetySignals;

/// The urgent pathway's settings (`[urgent]` in the policy file).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UrgentPathway {
    /// Days within which the clinician calls (1: the same day).
    pub cadence_days: u32,
    /// Lowest tier while an urgent flag is raised (`remote` or `intensive`).
    pub min_tier: Tier,
    /// `trough_urgent` when the tacrolimus trough (ng/mL) is below this.
    pub trough_below: f64,
    /// `trough_urgent` when the tacrolimus trough (ng/mL) is above this.
    pub trough_above: f64,
}

impl Default for UrgentPathway {
    fn default() -> Self {
        UrgentPathway {
            cadence_days: 1,
            min_tier: Tier::Remote,
            trough_below: 3.0,
            trough_above: 20.0,
        }
    }
}

/// Longest `urgent.cadence_days` allowed: the escalation rules' "soon" is
/// 48-72 hours; anything slower is not an urgent pathway.
pub const URGENT_MAX_CADENCE_DAYS: u32 = 3;

/// The urgent flags `signals` raise, in response order.
pub fn urgent_flags(signals: &SafetySignals, policy: &Policy) -> Vec<Flag> {
    let u = &policy.urgent;
    let mut flags = Vec::new();
    if signals.phq9_item9.is_some_and(|n| n > 0) {
        flags.push(Flag::MentalHealthUrgent);
    }
    if signals
        .tacrolimus_trough_ng_ml
        .is_some_and(|(low, high)| low < u.trough_below || high > u.trough_above)
    {
        flags.push(Flag::TroughUrgent);
    }
    flags
}

/// The urgent flags among `flags`, in their order.
pub fn urgent_among(flags: &[Flag]) -> Vec<Flag> {
    flags.iter().copied().filter(|f| f.is_urgent()).collect()
}

/// Why an urgent flag set the follow-up, in words for the case manager.
pub fn urgent_reason(flag: Flag, policy: &Policy) -> Option<String> {
    let u = &policy.urgent;
    match flag {
        Flag::MentalHealthUrgent => {
            Some("PHQ-9 item 9 above 0 (thoughts of self-harm): the safety pathway, whatever the total".to_string())
        }
        Flag::TroughUrgent => Some(format!(
            "tacrolimus trough below {} or above {} ng/mL: a same-day finding",
            u.trough_below, u.trough_above
        )),
        _ => None,
    }
}
