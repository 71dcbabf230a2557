//! The clinical phase after transplant, derived from days since transplant.
//!
//! Phases drive follow-up cadence and underwriting floors (`docs/policy.md`):
//! acute (days 0-90), consolidation (91-365) and maintenance (over 365).

use serde::{Deserialize, Serialize};

/// Phase of care after a solid-organ transplant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Days 0-90: surgical and nosocomial complications, highest immunosuppression.
    Acute,
    /// Days 91-365: opportunistic infections peak as prophylaxis stops.
    Consolidation,
    /// Over 365 days: community-acquired infections, lower baseline risk.
    Maintenance,
}

impl Phase {
    /// Last day (inclusive) of the acute phase.
    pub const ACUTE_LAST_DAY: u32 = 90;
    /// Last day (inclusive) of the consolidation phase.
    pub const CONSOLIDATION_LAST_DAY: u32 = 365;

    /// The phase a patient is in `days_since_transplant` days after the transplant.
    pub fn from_days_since_transplant(days_since_transplant: u32) -> Phase {
        if days_since_transplant <= Self::ACUTE_LAST_DAY {
            Phase::Acute
        } else if days_since_transplant <= Self::CONSOLIDATION_LAST_DAY {
            Phase::Consolidation
        } else {
            Phase::Maintenance
        }
    }

    /// The phase's name as used in the API and in data files.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Acute => "acute",
            Phase::Consolidation => "consolidation",
            Phase::Maintenance => "maintenance",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_follow_the_design() {
        assert_eq!(Phase::from_days_since_transplant(0), Phase::Acute);
        assert_eq!(Phase::from_days_since_transplant(90), Phase::Acute);
        assert_eq!(Phase::from_days_since_transplant(91), Phase::Consolidation);
        assert_eq!(Phase::from_days_since_transplant(365), Phase::Consolidation);
        assert_eq!(Phase::from_days_since_transplant(366), Phase::Maintenance);
        assert_eq!(Phase::from_days_since_transplant(36_500), Phase::Maintenance);
    }

    #[test]
    fn serialises_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&Phase::Consolidation).unwrap(),
            "\"consolidation\""
        );
        assert_eq!(Phase::Maintenance.to_string(), "maintenance");
    }
}
