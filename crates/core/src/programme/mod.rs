//! The programme view: a cohort's scores summed into what a programme lead
//! plans with. Patients per recommended tier and per flag, tier changes
//! against the current tiers, expected events per target (the sum of the
//! probabilities, with the 95% interval of the count, [`interval`]),
//! case-manager workload at the policy's caseloads, events avoided under
//! the policy's assumed relative risk reduction per tier, and costs when
//! the policy gives them.
//!
//! The service (`POST /v1/programme`) and `carescore-train programme` both
//! build it here from the same scores, so the two agree to the digit.

pub mod interval;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::policy::{Flag, PerTier, Policy};
use crate::record::{PatientRecord, Tier};
use crate::scoring::{Triage, BUILT_IN_TARGETS};
pub use interval::{event_interval, EventInterval, IntervalMethod};

/// The built-in targets' names, in the order a tally keeps them.
const TARGETS: [&str; 2] = [BUILT_IN_TARGETS[0].name, BUILT_IN_TARGETS[1].name];

/// What the programme view takes of one scored patient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry<'a> {
    /// Probability of each target, in [`BUILT_IN_TARGETS`] order.
    pub probabilities: [f64; 2],
    /// The recommended tier.
    pub recommended: Tier,
    /// The tier the patient is in now, if any.
    pub current: Option<Tier>,
    /// Flags raised.
    pub flags: &'a [Flag],
}

impl<'a> Entry<'a> {
    /// The entry of `record` triaged as `triage`.
    pub fn of(record: &PatientRecord, triage: &'a Triage) -> Entry<'a> {
        Entry {
            probabilities: triage.probabilities,
            recommended: triage.recommended_tier,
            current: record.current_tier,
            flags: &triage.flags,
        }
    }
}

/// Patients whose recommended tier differs from their current one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierChanges {
    /// Recommended tier above the current one: the upgrades needed.
    pub upgrades: usize,
    /// Recommended tier below the current one.
    pub downgrades: usize,
    /// Recommended tier the current one.
    pub unchanged: usize,
    /// No current tier (not yet in case management).
    pub no_current_tier: usize,
}

/// The running sums of a cohort's scores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    patients: usize,
    by_tier: [usize; 3],
    flags: [usize; Flag::ALL.len()],
    /// Each target's probabilities, patient by patient.
    probabilities: [Vec<f64>; 2],
    /// Each patient's recommended tier (its index). Sums are taken in
    /// patient order when the view is built, so the same patients in the
    /// same order give the same figures to the last digit, however they
    /// were scored.
    tiers: Vec<u8>,
    changes: TierChanges,
}

fn tier_index(tier: Tier) -> usize {
    match tier {
        Tier::SelfService => 0,
        Tier::Remote => 1,
        Tier::Intensive => 2,
    }
}

impl Tally {
    /// Adds one patient.
    pub fn add(&mut self, entry: Entry<'_>) {
        self.patients += 1;
        let tier = tier_index(entry.recommended);
        self.by_tier[tier] += 1;
        for flag in entry.flags {
            if let Some(i) = Flag::ALL.iter().position(|f| f == flag) {
                self.flags[i] += 1;
            }
        }
        for (t, p) in entry.probabilities.iter().enumerate() {
            self.probabilities[t].push(*p);
        }
        self.tiers.push(tier as u8);
        let changes = &mut self.changes;
        match entry.current {
            None => changes.no_current_tier += 1,
            Some(current) if entry.recommended > current => changes.upgrades += 1,
            Some(current) if entry.recommended < current => changes.downgrades += 1,
            Some(_) => changes.unchanged += 1,
        }
    }

    /// Expected events by target and tier, summed in patient order.
    fn expected(&self) -> [[f64; 3]; 2] {
        let mut expected = [[0.0; 3]; 2];
        for (t, probabilities) in self.probabilities.iter().enumerate() {
            for (p, tier) in probabilities.iter().zip(&self.tiers) {
                expected[t][usize::from(*tier)] += p;
            }
        }
        expected
    }

    /// The programme view under `policy`.
    pub fn view(&self, policy: &Policy) -> ProgrammeView {
        let by_tier = self.expected();
        let programme = &policy.programme;
        let caseload = programme.caseload.per_tier();
        let rrr = programme.relative_risk_reduction.per_tier();
        let costs = programme.costs.as_ref();
        let tiers: Vec<TierFigures> = Tier::ALL
            .iter()
            .map(|&tier| {
                let i = tier_index(tier);
                let patients = self.by_tier[i];
                let load = caseload.of(tier);
                let expected: BTreeMap<&'static str, f64> = TARGETS
                    .iter()
                    .enumerate()
                    .map(|(t, name)| (*name, by_tier[t][i]))
                    .collect();
                TierFigures {
                    tier,
                    patients,
                    share: share(patients, self.patients),
                    caseload: (load > 0).then_some(load),
                    case_managers: if load > 0 {
                        patients as f64 / f64::from(load)
                    } else {
                        0.0
                    },
                    relative_risk_reduction: rrr.of(tier),
                    events_avoided: expected.iter().map(|(t, e)| (*t, e * rrr.of(tier))).collect(),
                    expected_events: expected,
                    cost: costs.map(|c| patients as f64 * c.per_patient.of(tier)),
                }
            })
            .collect();
        let targets: BTreeMap<&'static str, TargetFigures> = BUILT_IN_TARGETS
            .iter()
            .enumerate()
            .map(|(t, target)| {
                let expected: f64 = by_tier[t].iter().sum();
                let avoided: f64 = tiers.iter().map(|f| f.events_avoided[target.name]).sum();
                (
                    target.name,
                    TargetFigures {
                        horizon_days: target.horizon_days,
                        expected_events: expected,
                        interval_95: event_interval(&self.probabilities[t]),
                        mean_risk: if self.patients > 0 {
                            expected / self.patients as f64
                        } else {
                            0.0
                        },
                        events_avoided: avoided,
                    },
                )
            })
            .collect();
        let case_managers: f64 = tiers.iter().map(|t| t.case_managers).sum();
        let workload = Workload {
            case_managers,
            case_managers_whole: tiers.iter().map(|t| t.case_managers.ceil() as u64).sum(),
        };
        let costs = costs.map(|c| {
            let programme_cost: f64 = tiers.iter().filter_map(|t| t.cost).sum();
            let avoided: f64 = targets.values().map(|t| t.events_avoided).sum();
            // Policy::check requires a cost for every built-in target.
            let by_target: BTreeMap<&'static str, EventValue> = targets
                .iter()
                .map(|(name, t)| {
                    let per_event = c.per_event.get(*name).copied().unwrap_or(0.0);
                    (
                        *name,
                        EventValue {
                            horizon_days: t.horizon_days,
                            events_avoided: t.events_avoided,
                            per_event,
                            value: t.events_avoided * per_event,
                        },
                    )
                })
                .collect();
            let value: f64 = by_target.values().map(|v| v.value).sum();
            CostFigures {
                currency: c.currency.clone(),
                programme_cost,
                by_target,
                events_avoided_value: value,
                net_cost: programme_cost - value,
                cost_per_event_avoided: (avoided > 0.0).then(|| programme_cost / avoided),
            }
        });
        ProgrammeView {
            patients: self.patients,
            tiers,
            flags: Flag::ALL.iter().zip(self.flags).map(|(f, n)| (*f, n)).collect(),
            tier_changes: self.changes,
            targets,
            workload,
            assumption: assumption(&rrr),
            costs,
            policy_version: policy.version.clone(),
        }
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The assumption behind every events-avoided figure, in words.
fn assumption(rrr: &PerTier<f64>) -> String {
    let percent = |x: f64| format!("{}%", (x * 1000.0).round() / 10.0);
    format!(
        "Events avoided assume that following a patient in a tier lowers each risk by the policy's relative risk \
         reduction: intensive {}, remote {}, self-service {}, applied to every patient the policy recommends for the \
         tier (those already followed there too, whose recorded risks may already reflect it). This is the \
         programme's assumption (health-management programmes aim at 15-20% fewer complications), not an effect \
         measured on these patients.",
        percent(rrr.intensive),
        percent(rrr.remote),
        percent(rrr.self_service)
    )
}

/// One tier's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierFigures {
    /// The tier.
    pub tier: Tier,
    /// Patients the policy recommends for it.
    pub patients: usize,
    /// Their share of the cohort.
    pub share: f64,
    /// Patients per case manager (absent: the tier needs none).
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caseload: Option<u32>,
    /// Case managers the tier needs (`patients / caseload`, full-time equivalents).
    pub case_managers: f64,
    /// Expected events among its patients, by target.
    pub expected_events: BTreeMap<&'static str, f64>,
    /// The relative risk reduction the policy assumes for it.
    pub relative_risk_reduction: f64,
    /// Expected events avoided among its patients under that assumption, by target.
    pub events_avoided: BTreeMap<&'static str, f64>,
    /// Cost of following its patients (only when the policy gives costs).
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

/// One target's figures over the cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetFigures {
    /// Days the risk covers.
    pub horizon_days: u32,
    /// Expected events: the sum of the probabilities.
    pub expected_events: f64,
    /// Where the number of events falls with 95% probability if the
    /// probabilities are right.
    pub interval_95: EventInterval,
    /// The mean probability.
    pub mean_risk: f64,
    /// Expected events avoided under the assumed relative risk reductions.
    pub events_avoided: f64,
}

/// Case managers the recommended tiers need.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workload {
    /// Full-time equivalents over the tiers.
    pub case_managers: f64,
    /// Whole case managers: each tier's rounded up, summed.
    pub case_managers_whole: u64,
}

/// One target's events avoided and their value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventValue {
    /// The window the events are counted in (days).
    pub horizon_days: u32,
    /// Expected events avoided under the assumed reductions.
    pub events_avoided: f64,
    /// The policy's cost of one event.
    pub per_event: f64,
    /// `events_avoided * per_event`.
    pub value: f64,
}

/// The costs, when the policy gives them. The events of each target are
/// counted within its own horizon (180 days for infection, 30 for
/// readmission), while `per_patient` costs cover the period the policy
/// prices them for: the totals add figures of different windows, which
/// `by_target` keeps apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostFigures {
    /// Currency of every amount.
    pub currency: String,
    /// Cost of following every patient in their recommended tier.
    pub programme_cost: f64,
    /// Events avoided and their value, by target.
    pub by_target: BTreeMap<&'static str, EventValue>,
    /// The events avoided times their cost, over the targets (under the assumed reductions).
    pub events_avoided_value: f64,
    /// `programme_cost` minus `events_avoided_value`.
    pub net_cost: f64,
    /// `programme_cost` per event avoided (absent when none are avoided).
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_per_event_avoided: Option<f64>,
}

/// The programme view of a cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeView {
    /// Patients summarised (valid records).
    pub patients: usize,
    /// Figures per recommended tier, least intensive first.
    pub tiers: Vec<TierFigures>,
    /// Patients with each flag.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, usize>))]
    pub flags: BTreeMap<Flag, usize>,
    /// Recommended tiers against current ones.
    pub tier_changes: TierChanges,
    /// Figures per target.
    pub targets: BTreeMap<&'static str, TargetFigures>,
    /// Case managers needed.
    pub workload: Workload,
    /// The assumption behind every events-avoided figure.
    pub assumption: String,
    /// Costs (only when the policy gives them).
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<CostFigures>,
    /// Policy version used.
    pub policy_version: String,
}

#[cfg(test)]
mod tests;
