//! Levers: for each modifiable input a record has off its target (the
//! policy's [`LeverTargets`]), the models' risks with that input at its
//! target and every other input as recorded, and the reduction; then all
//! levers together.
//!
//! These are the models' predictions under changed inputs, not measured
//! effects of an intervention: a model learns associations, and a patient
//! whose adherence rises may differ in other ways the record does not show.
//! Every answer says so ([`CAVEAT`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::artifact::{CompiledModel, Row};
use crate::field::{Field, FieldKind, FieldValue};
use crate::overlay::Overlay;
use crate::policy::{self, Flag, LeverInput, LeverTargets, Policy};
use crate::record::PatientRecord;
use crate::scoring::{Models, INFECTION, READMISSION};
use crate::validation::{SafetySignals, Warning};

/// What every levers answer says about its figures.
pub const CAVEAT: &str = "These are the models' predictions with one input changed and every other input held as \
recorded: associations learnt from past patients, not proven effects of an intervention. Use them to choose what \
to discuss, not to promise an outcome.";

/// The risks with some inputs changed, and how much lower they are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Changed {
    /// Each target's probability with the change.
    pub risks: BTreeMap<&'static str, f64>,
    /// Each target's probability as recorded minus with the change
    /// (negative: the model predicts a higher risk).
    pub reductions: BTreeMap<&'static str, f64>,
    /// The sum of the reductions over the targets: the expected events
    /// fewer for this patient, the order levers are listed in.
    pub total_reduction: f64,
}

/// One modifiable input off its target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lever {
    /// The input.
    pub input: LeverInput,
    /// The record field it changes.
    pub field: &'static str,
    /// The record's value.
    pub value: f64,
    /// The value the lever sets: the policy's target, or for a trough the
    /// nearest end of its range.
    pub target_value: f64,
    /// The target in words, with its unit.
    pub target: String,
    /// The risks with this input at `target_value`.
    #[serde(flatten)]
    pub changed: Changed,
}

/// The levers answer for one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeverAnswer {
    /// The record's case id.
    pub case_id: String,
    /// Each target's probability as recorded.
    pub risks: BTreeMap<&'static str, f64>,
    /// The levers, largest `total_reduction` first (empty when every
    /// modifiable input the models read is on target or not recorded).
    pub levers: Vec<Lever>,
    /// Every lever at its target at once (absent when there are none).
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_levers: Option<Changed>,
    /// Modifiable inputs the models read that the record has no value for:
    /// worth measuring before the next contact.
    pub not_recorded: Vec<LeverInput>,
    /// Urgent flags the record raises (the urgent pathway of the care policy).
    pub safety_flags: Vec<Flag>,
    /// Plausibility warnings on the input.
    pub warnings: Vec<Warning>,
    /// What the figures are and are not.
    pub caveat: &'static str,
    /// Model versions by target.
    pub model_versions: BTreeMap<&'static str, String>,
    /// The artifacts' checksums by target.
    pub model_sha256: BTreeMap<&'static str, String>,
    /// Policy version used.
    pub policy_version: String,
}

/// The value a lever sets `input` to, and its target in words, when
/// `value` is off target; `None` when on target.
fn off_target(input: LeverInput, value: f64, record: &PatientRecord, targets: &LeverTargets) -> Option<(f64, String)> {
    let below = |target: f64, unit: &str| (value < target).then(|| (target, format!("at least {target} {unit}")));
    let above = |target: u32, unit: &str| {
        (value > f64::from(target)).then(|| (f64::from(target), format!("at most {target} {unit}")))
    };
    match input {
        LeverInput::Adherence => below(targets.adherence_pct, "%"),
        LeverInput::Albumin => below(targets.albumin_g_dl, "g/dL"),
        LeverInput::Igg => below(targets.igg_g_l, "g/L"),
        LeverInput::Depression => above(targets.phq9, "PHQ-9 points"),
        LeverInput::Anxiety => above(targets.gad7, "GAD-7 points"),
        LeverInput::TacrolimusTrough => {
            let range = targets.tacrolimus.range(record.organ, record.days_since_transplant);
            let nearest = range.nearest(value);
            (nearest != value).then(|| {
                (
                    nearest,
                    format!(
                        "{}-{} ng/mL ({}, day {} after transplant)",
                        range.low, range.high, record.organ, record.days_since_transplant
                    ),
                )
            })
        }
    }
}

/// `value` as `field` holds it (whole numbers for integer fields).
fn field_value(field: Field, value: f64) -> FieldValue<'static> {
    match field.spec().kind {
        // Integer targets are whole numbers from the policy (u32).
        FieldKind::Integer { .. } => FieldValue::Integer(value as i64),
        _ => FieldValue::Number(value),
    }
}

/// Whether `model` reads `field`.
fn reads(model: &CompiledModel, field: Field) -> bool {
    model.artifact().features.iter().any(|f| f.name == field.name())
}

/// The probabilities of both targets for `row`.
fn risks_of(models: &Models, row: &dyn Row) -> BTreeMap<&'static str, f64> {
    BTreeMap::from([
        (INFECTION, models.infection.predict(row)),
        (READMISSION, models.readmission.predict(row)),
    ])
}

/// The change from `recorded` to `risks`.
fn changed(recorded: &BTreeMap<&'static str, f64>, risks: BTreeMap<&'static str, f64>) -> Changed {
    let reductions: BTreeMap<&'static str, f64> = risks.iter().map(|(t, p)| (*t, recorded[t] - p)).collect();
    Changed {
        total_reduction: reductions.values().sum(),
        reductions,
        risks,
    }
}

/// The levers of a validated record; `warnings` are its plausibility
/// warnings, passed on in the answer.
pub fn levers(models: &Models, policy: &Policy, record: &PatientRecord, warnings: Vec<Warning>) -> LeverAnswer {
    let recorded = risks_of(models, record);
    let targets = &policy.levers;
    let mut found = Vec::new();
    let mut not_recorded = Vec::new();
    for input in LeverInput::ALL {
        let field = input.field();
        if !targets.enabled(input) || !(reads(&models.infection, field) || reads(&models.readmission, field)) {
            continue;
        }
        let Some(value) = record
            .resolved_value(Some(field), field.name())
            .and_then(|v| v.as_f64())
        else {
            not_recorded.push(input);
            continue;
        };
        if let Some((target_value, target)) = off_target(input, value, record, targets) {
            found.push((input, field, value, target_value, target));
        }
    }
    let mut levers: Vec<Lever> = found
        .iter()
        .map(|(input, field, value, target_value, target)| {
            let row = Overlay {
                base: record,
                overrides: vec![(*field, field_value(*field, *target_value))],
            };
            Lever {
                input: *input,
                field: field.name(),
                value: *value,
                target_value: *target_value,
                target: target.clone(),
                changed: changed(&recorded, risks_of(models, &row)),
            }
        })
        .collect();
    // Stable: equal reductions keep the inputs' order.
    levers.sort_by(|a, b| b.changed.total_reduction.total_cmp(&a.changed.total_reduction));
    let all_levers = (!found.is_empty()).then(|| {
        let row = Overlay {
            base: record,
            overrides: found
                .iter()
                .map(|(_, field, _, target_value, _)| (*field, field_value(*field, *target_value)))
                .collect(),
        };
        changed(&recorded, risks_of(models, &row))
    });
    LeverAnswer {
        case_id: record.case_id.clone(),
        risks: recorded,
        levers,
        all_levers,
        not_recorded,
        safety_flags: policy::urgent_flags(&SafetySignals::of_record(record), policy),
        warnings,
        caveat: CAVEAT,
        model_versions: models.versions(),
        model_sha256: models.checksums(),
        policy_version: policy.version.clone(),
    }
}

#[cfg(test)]
mod tests;
