//! Prediction targets: the two built-in ones and those defined by a training
//! spec, with the outcome columns they read.

use carescore_core::artifact::{CensoringRule, DeclaredFlag, LabelRule};
use carescore_core::scoring::{BuiltInTarget, BUILT_IN_TARGETS};

use crate::spec::{Spec, SpecOutcome};

/// The built-in targets' names, horizons and outcome columns: one home,
/// shared with the service's admission of artifacts.
const INFECTION: BuiltInTarget = BUILT_IN_TARGETS[0];
const READMISSION: BuiltInTarget = BUILT_IN_TARGETS[1];

/// A prediction target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Serious infection within 180 days.
    Infection180d,
    /// Unplanned readmission within 30 days.
    Readmission30d,
    /// A target defined by a training spec.
    Spec(&'static Spec),
}

impl Target {
    /// Every built-in target.
    pub const ALL: [Target; 2] = [Target::Infection180d, Target::Readmission30d];

    /// A target for a spec. The spec lives as long as the process: a command
    /// runs one spec, and a `Copy` target keeps the fitting options plain values.
    pub fn from_spec(spec: Spec) -> Target {
        Target::Spec(Box::leak(Box::new(spec)))
    }

    /// The target's name (artifact `target`, file names).
    pub fn name(self) -> &'static str {
        match self {
            Target::Infection180d => INFECTION.name,
            Target::Readmission30d => READMISSION.name,
            Target::Spec(spec) => &spec.target,
        }
    }

    /// Looks a built-in target up by name.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The spec, for spec targets.
    pub fn spec(self) -> Option<&'static Spec> {
        match self {
            Target::Spec(spec) => Some(spec),
            Target::Infection180d | Target::Readmission30d => None,
        }
    }

    /// Horizon in days (0 for a plain label column).
    pub fn horizon_days(self) -> u32 {
        match self.outcome() {
            SpecOutcome::TimeEvent { horizon_days, .. } => horizon_days,
            SpecOutcome::Label(_) => 0,
        }
    }

    /// The outcome columns.
    pub fn outcome(self) -> SpecOutcome<'static> {
        let of = |b: BuiltInTarget| SpecOutcome::TimeEvent {
            time: b.time_column,
            event: b.event_column,
            horizon_days: b.horizon_days,
        };
        match self {
            Target::Infection180d => of(INFECTION),
            Target::Readmission30d => of(READMISSION),
            Target::Spec(spec) => spec.outcome(),
        }
    }

    /// The label rule an artifact of this target records, with the
    /// censoring handling its labels were made with.
    pub fn label_rule(self, censoring: CensoringRule) -> LabelRule {
        match self.outcome() {
            SpecOutcome::TimeEvent { time, event, .. } => LabelRule::TimeToEvent {
                time_column: time.to_string(),
                event_column: event.to_string(),
                censoring,
            },
            SpecOutcome::Label(column) => LabelRule::LabelColumn {
                column: column.to_string(),
            },
        }
    }

    /// The thresholds where sensitivity, PPV and flag rate are reported: for
    /// the built-in targets the default policy's medium and high bands
    /// (docs/policy.md: the same numbers), for spec targets the spec's.
    pub fn operating_thresholds(self) -> Vec<f64> {
        let bands = carescore_core::Policy::default().bands;
        let of = |b: carescore_core::policy::BandThresholds| vec![b.medium, b.high];
        match self {
            Target::Infection180d => of(bands.infection_180d),
            Target::Readmission30d => of(bands.readmission_30d),
            Target::Spec(spec) => spec.operating_thresholds.clone(),
        }
    }

    /// The flags a spec declares for its model's answers (none for the
    /// built-in targets, whose flags come from the care policy).
    pub fn declared_flags(self) -> Vec<DeclaredFlag> {
        self.spec().map(|s| s.flags.clone()).unwrap_or_default()
    }

    /// The column grouping rows into patients for cross-validation folds.
    pub fn group_column(self) -> &'static str {
        self.spec()
            .and_then(|s| s.group_column.as_deref())
            .unwrap_or("patient_id")
    }

    /// The date column of the temporal hold-out.
    pub fn date_column(self) -> &'static str {
        self.spec()
            .and_then(|s| s.date_column.as_deref())
            .unwrap_or("index_date")
    }
}
