//! The built-in prediction targets and the outcome columns they read.

use serde::Serialize;

/// A built-in target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Serious infection within 180 days.
    Infection180d,
    /// Unplanned readmission within 30 days.
    Readmission30d,
}

impl Target {
    /// Every built-in target.
    pub const ALL: [Target; 2] = [Target::Infection180d, Target::Readmission30d];

    /// The target's name (artifact `target`, file names).
    pub fn name(self) -> &'static str {
        match self {
            Target::Infection180d => "infection_180d",
            Target::Readmission30d => "readmission_30d",
        }
    }

    /// Looks a target up by name.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Horizon in days.
    pub fn horizon_days(self) -> u32 {
        match self {
            Target::Infection180d => 180,
            Target::Readmission30d => 30,
        }
    }

    /// The policy's operating thresholds for this target (DESIGN.md section 5:
    /// medium and high risk), where sensitivity, PPV and flag rate are reported.
    pub fn operating_thresholds(self) -> [f64; 2] {
        match self {
            Target::Infection180d => [0.10, 0.20],
            Target::Readmission30d => [0.12, 0.25],
        }
    }

    /// The follow-up time column.
    pub fn time_column(self) -> &'static str {
        match self {
            Target::Infection180d => "infection_time_days",
            Target::Readmission30d => "readmission_time_days",
        }
    }

    /// The event indicator column.
    pub fn event_column(self) -> &'static str {
        match self {
            Target::Infection180d => "infection_event",
            Target::Readmission30d => "readmission_event",
        }
    }
}
