//! The care and underwriting policy (`docs/policy.md`): risk bands, the
//! recommended tier, flags, follow-up cadence and channel, and the
//! underwriting grade with its reasons, conditions and terms.
//!
//! Every threshold and table lives in one [`Policy`], read from TOML
//! ([`Policy::from_toml`]) with the defaults of `docs/policy.md` built in
//! ([`Policy::default`]); responses name the policy version they used.

mod care;
mod underwriting;

pub use care::{band, flags, follow_up, recommended_tier, Band, Flag, FollowUp};
pub use underwriting::{grade, Grade, RiskClass, Terms, HEALTH_MANAGEMENT_PACKAGE};

use serde::{Deserialize, Serialize};

use crate::field::{Field, FieldKind};

/// Risk bands of one target: above `medium` is medium, above `high` is high.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandThresholds {
    /// Lower bound (exclusive) of the medium band.
    pub medium: f64,
    /// Lower bound (exclusive) of the high band.
    pub high: f64,
}

/// Risk bands per built-in target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bands {
    /// `infection_180d`.
    pub infection_180d: BandThresholds,
    /// `readmission_30d`.
    pub readmission_30d: BandThresholds,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            infection_180d: BandThresholds {
                medium: 0.10,
                high: 0.20,
            },
            readmission_30d: BandThresholds {
                medium: 0.12,
                high: 0.25,
            },
        }
    }
}

/// Flag thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlagThresholds {
    /// `early_intervention` when the infection risk is above this.
    pub early_intervention_infection: f64,
    /// `mental_health_review` when PHQ-9 is at least this.
    pub mental_health_phq9: u32,
    /// `mental_health_review` when GAD-7 is at least this.
    pub mental_health_gad7: u32,
    /// `adherence_support` when adherence (%) is below this.
    pub adherence_below_pct: f64,
    /// `trough_review` when the tacrolimus trough (ng/mL) is below this.
    pub trough_low: f64,
    /// `trough_review` when the tacrolimus trough (ng/mL) is above this.
    pub trough_high: f64,
}

impl Default for FlagThresholds {
    fn default() -> Self {
        FlagThresholds {
            early_intervention_infection: 0.20,
            mental_health_phq9: 10,
            mental_health_gad7: 10,
            adherence_below_pct: 90.0,
            trough_low: 3.0,
            trough_high: 20.0,
        }
    }
}

/// Follow-up cadence by phase and tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cadence {
    /// Days between contacts in the acute phase.
    pub acute_days: u32,
    /// Days between contacts in the consolidation phase.
    pub consolidation_days: u32,
    /// Days between contacts in the maintenance phase.
    pub maintenance_days: u32,
    /// Most days between contacts in the intensive tier.
    pub intensive_max_days: u32,
    /// Multiplier of the phase's cadence in the self-service tier.
    pub self_service_factor: u32,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            acute_days: 7,
            consolidation_days: 14,
            maintenance_days: 30,
            intensive_max_days: 7,
            self_service_factor: 2,
        }
    }
}

/// Upper limits (inclusive) of a risk class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassLimit {
    /// Highest infection risk of the class.
    pub infection: f64,
    /// Highest readmission risk of the class.
    pub readmission: f64,
}

/// The underwriting tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Underwriting {
    /// Class A limits.
    pub class_a: ClassLimit,
    /// Class B limits.
    pub class_b: ClassLimit,
    /// Class C limits (above: class D).
    pub class_c: ClassLimit,
    /// Premium loading (%) of classes A, B, C, D.
    pub loading_pct: [u32; 4],
    /// Lowest class in the acute phase or after a heart or lung transplant.
    pub floor_acute_or_thoracic: RiskClass,
    /// Lowest class after an acute rejection in the last 12 months.
    pub floor_recent_rejection: RiskClass,
    /// Currency of the amounts.
    pub currency: String,
    /// Deductible without the programme.
    pub deductible_standard: u32,
    /// Deductible when enrolled in the programme.
    pub deductible_enrolled: u32,
    /// Renewal discount (%).
    pub renewal_discount_pct: u32,
    /// Years without complications that earn the renewal discount.
    pub renewal_discount_after_years: u32,
    /// Record fields whose values are averaged out of the grade (categorical or boolean).
    pub protected_attributes: Vec<String>,
}

impl Default for Underwriting {
    fn default() -> Self {
        Underwriting {
            class_a: ClassLimit {
                infection: 0.10,
                readmission: 0.12,
            },
            class_b: ClassLimit {
                infection: 0.20,
                readmission: 0.25,
            },
            class_c: ClassLimit {
                infection: 0.35,
                readmission: 0.40,
            },
            loading_pct: [0, 25, 50, 100],
            floor_acute_or_thoracic: RiskClass::B,
            floor_recent_rejection: RiskClass::C,
            currency: "CNY".to_string(),
            deductible_standard: 10_000,
            deductible_enrolled: 5_000,
            renewal_discount_pct: 10,
            renewal_discount_after_years: 5,
            protected_attributes: vec!["sex".to_string()],
        }
    }
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Version reported in every response.
    pub version: String,
    /// Risk bands.
    pub bands: Bands,
    /// Flag thresholds.
    pub flags: FlagThresholds,
    /// Follow-up cadence.
    pub follow_up: Cadence,
    /// Underwriting.
    pub underwriting: Underwriting,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            version: "default-1".to_string(),
            bands: Bands::default(),
            flags: FlagThresholds::default(),
            follow_up: Cadence::default(),
            underwriting: Underwriting::default(),
        }
    }
}

/// Why a policy was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML, or not the policy's shape.
    #[error("policy: {0}")]
    Syntax(String),
    /// Inconsistent values.
    #[error("policy: {0}")]
    Invalid(String),
}

fn probability(name: &str, x: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(format!("{name} = {x}: must be a probability between 0 and 1"))
    }
}

impl Policy {
    /// Parses a policy; keys left out keep their defaults.
    ///
    /// # Errors
    /// [`PolicyError`] naming the key and the problem.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end().replace('\n', "; ");
            let place = e.span().map_or_else(String::new, |span| {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: ")
            });
            PolicyError::Syntax(format!("{place}{message}"))
        })?;
        policy.check().map_err(PolicyError::Invalid)?;
        Ok(policy)
    }

    /// Checks the values: probabilities in [0, 1], bands and classes in
    /// increasing order, positive cadences, known protected attributes.
    ///
    /// # Errors
    /// What is wrong, naming the key.
    pub fn check(&self) -> Result<(), String> {
        if self.version.trim().is_empty() {
            return Err("version must not be empty".into());
        }
        for (name, b) in [
            ("bands.infection_180d", self.bands.infection_180d),
            ("bands.readmission_30d", self.bands.readmission_30d),
        ] {
            probability(&format!("{name}.medium"), b.medium)?;
            probability(&format!("{name}.high"), b.high)?;
            if b.medium > b.high {
                return Err(format!("{name}: medium ({}) is above high ({})", b.medium, b.high));
            }
        }
        probability(
            "flags.early_intervention_infection",
            self.flags.early_intervention_infection,
        )?;
        if self.flags.trough_low > self.flags.trough_high {
            return Err("flags.trough_low is above flags.trough_high".into());
        }
        let c = &self.follow_up;
        if [
            c.acute_days,
            c.consolidation_days,
            c.maintenance_days,
            c.intensive_max_days,
            c.self_service_factor,
        ]
        .contains(&0)
        {
            return Err("follow_up: every cadence and factor must be positive".into());
        }
        let u = &self.underwriting;
        for (name, limit) in [("class_a", u.class_a), ("class_b", u.class_b), ("class_c", u.class_c)] {
            probability(&format!("underwriting.{name}.infection"), limit.infection)?;
            probability(&format!("underwriting.{name}.readmission"), limit.readmission)?;
        }
        let ordered = |a: ClassLimit, b: ClassLimit| a.infection <= b.infection && a.readmission <= b.readmission;
        if !ordered(u.class_a, u.class_b) || !ordered(u.class_b, u.class_c) {
            return Err("underwriting: class limits must grow from class_a to class_c".into());
        }
        if u.loading_pct.windows(2).any(|w| w[0] > w[1]) {
            return Err("underwriting.loading_pct must not decrease from A to D".into());
        }
        if u.currency.trim().is_empty() {
            return Err("underwriting.currency must not be empty".into());
        }
        for name in &u.protected_attributes {
            let kind = Field::from_name(name).map(|f| f.spec().kind);
            if !matches!(kind, Some(FieldKind::Category(_) | FieldKind::Boolean)) {
                return Err(format!(
                    "underwriting.protected_attributes: `{name}` is not a categorical or boolean record field"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
