//! The action flags a score raises: each a stable identifier, defined once.

use serde::Serialize;

/// An action flag. The list may grow within `/v1`: pass unknown flags on.
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
    /// Tacrolimus trough far out of range: a same-day finding (the urgent pathway).
    TroughUrgent,
}

impl Flag {
    /// Every flag, in response order.
    pub const ALL: [Flag; 7] = [
        Flag::EarlyIntervention,
        Flag::TierUpgrade,
        Flag::MentalHealthReview,
        Flag::MentalHealthUrgent,
        Flag::AdherenceSupport,
        Flag::TroughReview,
        Flag::TroughUrgent,
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
            Flag::TroughUrgent => "trough_urgent",
        }
    }

    /// Whether the flag puts the patient on the urgent pathway.
    pub fn is_urgent(self) -> bool {
        matches!(self, Flag::MentalHealthUrgent | Flag::TroughUrgent)
    }
}
