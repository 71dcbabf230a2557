//! The modifiable inputs and their targets (`[levers]` in the policy file):
//! what a care plan can change, and the value it aims for
//! (`docs/levers-and-programme.md` gives the clinical sources).
//!
//! Only these inputs are ever levers. Everything else a model reads is held
//! as recorded: who the patient is (age, sex, organ, CMV serostatus,
//! induction), where they are in time (days since transplant), their
//! history (rejections, infections, admissions, visits, the index stay) and
//! the programme's own bookkeeping (`enrolled_in_program`, `current_tier`).

use serde::{Deserialize, Serialize};

use crate::field::Field;
use crate::record::Organ;

/// A modifiable input: a stable identifier, defined once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeverInput {
    /// Immunosuppressant adherence (`adherence_pct`): adherence support.
    Adherence,
    /// Tacrolimus trough (`tacrolimus_trough_ng_ml`) outside its organ and
    /// phase range: dose review by the transplant team.
    TacrolimusTrough,
    /// Depressive symptoms (`phq9_score`): treatment or referral.
    Depression,
    /// Anxiety symptoms (`gad7_score`): treatment or referral.
    Anxiety,
    /// Serum albumin (`albumin_g_dl`) below its target: nutritional support.
    Albumin,
    /// Severe hypogammaglobulinaemia (`igg_g_l`): immunoglobulin replacement.
    Igg,
}

impl LeverInput {
    /// Every lever input, in the order answers list ties.
    pub const ALL: [LeverInput; 6] = [
        LeverInput::Adherence,
        LeverInput::TacrolimusTrough,
        LeverInput::Depression,
        LeverInput::Anxiety,
        LeverInput::Albumin,
        LeverInput::Igg,
    ];

    /// The input's name in answers and policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            LeverInput::Adherence => "adherence",
            LeverInput::TacrolimusTrough => "tacrolimus_trough",
            LeverInput::Depression => "depression",
            LeverInput::Anxiety => "anxiety",
            LeverInput::Albumin => "albumin",
            LeverInput::Igg => "igg",
        }
    }

    /// The record field the input changes.
    pub fn field(self) -> Field {
        match self {
            LeverInput::Adherence => Field::AdherencePct,
            LeverInput::TacrolimusTrough => Field::TacrolimusTroughNgMl,
            LeverInput::Depression => Field::Phq9Score,
            LeverInput::Anxiety => Field::Gad7Score,
            LeverInput::Albumin => Field::AlbuminGDl,
            LeverInput::Igg => Field::IggGL,
        }
    }
}

/// A tacrolimus trough target range, ng/mL (inclusive at both ends).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TroughRange {
    /// Lowest trough on target.
    pub low: f64,
    /// Highest trough on target.
    pub high: f64,
}

impl TroughRange {
    /// The value of the range nearest to `value` (itself when on target):
    /// the smallest change that brings the trough into range. (Written
    /// without `f64::clamp`, which panics on a range the policy check
    /// would refuse.)
    pub fn nearest(self, value: f64) -> f64 {
        if value < self.low {
            self.low
        } else if value > self.high {
            self.high
        } else {
            value
        }
    }
}

/// Tacrolimus trough targets by organ and time since transplant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TroughTargets {
    /// Kidney and liver, up to `kidney_liver_early_days` after transplant.
    pub kidney_liver_early: TroughRange,
    /// Kidney and liver, later.
    pub kidney_liver_later: TroughRange,
    /// Last day of the early range for kidney and liver (month 1).
    pub kidney_liver_early_days: u32,
    /// Heart and lung, up to `heart_lung_early_days` after transplant.
    pub heart_lung_early: TroughRange,
    /// Heart and lung, later.
    pub heart_lung_later: TroughRange,
    /// Last day of the early range for heart and lung (default: the acute
    /// phase's last day, 90; our reading of "early").
    pub heart_lung_early_days: u32,
}

impl Default for TroughTargets {
    fn default() -> Self {
        TroughTargets {
            kidney_liver_early: TroughRange { low: 6.0, high: 10.0 },
            kidney_liver_later: TroughRange { low: 4.0, high: 8.0 },
            kidney_liver_early_days: 30,
            heart_lung_early: TroughRange { low: 10.0, high: 15.0 },
            heart_lung_later: TroughRange { low: 5.0, high: 10.0 },
            heart_lung_early_days: crate::phase::Phase::ACUTE_LAST_DAY,
        }
    }
}

impl TroughTargets {
    /// The target range for `organ` `days_since_transplant` days after transplant.
    pub fn range(&self, organ: Organ, days_since_transplant: u32) -> TroughRange {
        match organ {
            Organ::Kidney | Organ::Liver if days_since_transplant <= self.kidney_liver_early_days => {
                self.kidney_liver_early
            }
            Organ::Kidney | Organ::Liver => self.kidney_liver_later,
            Organ::Heart | Organ::Lung if days_since_transplant <= self.heart_lung_early_days => self.heart_lung_early,
            Organ::Heart | Organ::Lung => self.heart_lung_later,
        }
    }

    /// Every range with its key, for checks and messages.
    pub(super) fn named(&self) -> [(&'static str, TroughRange); 4] {
        [
            ("kidney_liver_early", self.kidney_liver_early),
            ("kidney_liver_later", self.kidney_liver_later),
            ("heart_lung_early", self.heart_lung_early),
            ("heart_lung_later", self.heart_lung_later),
        ]
    }
}

/// The levers' targets (`[levers]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeverTargets {
    /// Adherence (%) a record below is off target, and the value it aims for.
    pub adherence_pct: f64,
    /// PHQ-9 total a record above is off target (4: below the mild band; at
    /// least 3, so that a lever never sets the total below item 9).
    pub phq9: u32,
    /// GAD-7 total a record above is off target (4: below the mild band).
    pub gad7: u32,
    /// Albumin (g/dL) a record below is off target.
    pub albumin_g_dl: f64,
    /// IgG (g/L) a record below is off target (severe hypogammaglobulinaemia).
    pub igg_g_l: f64,
    /// Tacrolimus trough ranges.
    pub tacrolimus: TroughTargets,
    /// Inputs never offered as levers at this centre. Default: `igg`, because
    /// the default models learnt no effect of IgG below 4 g/L (too few such
    /// records; `docs/levers-and-programme.md`).
    pub disabled: Vec<LeverInput>,
}

impl Default for LeverTargets {
    fn default() -> Self {
        LeverTargets {
            adherence_pct: 95.0,
            phq9: 4,
            gad7: 4,
            albumin_g_dl: 3.5,
            igg_g_l: 4.0,
            tacrolimus: TroughTargets::default(),
            disabled: vec![LeverInput::Igg],
        }
    }
}

impl LeverTargets {
    /// Whether `input` may be offered.
    pub fn enabled(&self, input: LeverInput) -> bool {
        !self.disabled.contains(&input)
    }
}
