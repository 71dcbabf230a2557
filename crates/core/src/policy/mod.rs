//! The care and underwriting policy (`docs/policy.md`): risk bands, the
//! recommended tier, flags, follow-up cadence and channel, and the
//! underwriting grade with its reasons, conditions and terms.
//!
//! Every threshold and table lives in one [`Policy`], read from TOML
//! ([`Policy::from_toml`]) with the defaults of `docs/policy.md` built in
//! ([`Policy::default`]); responses name the policy version they used.

mod care;
mod flag;
mod levers;
mod programme;
mod underwriting;
mod urgent;

pub use care::{band, flags, follow_up, recommended_tier, tier_with_urgency, Band, Channel, FollowUp};
pub use flag::Flag;
pub use levers::{LeverInput, LeverTargets, TroughRange, TroughTargets};
pub use programme::{Caseload, Costs, PerTier, Programme, RiskReduction};
pub use underwriting::{grade, Grade, RiskClass, Terms, HEALTH_MANAGEMENT_PACKAGE};
pub use urgent::{urgent_among, urgent_flags, urgent_reason, UrgentPathway, URGENT_MAX_CADENCE_DAYS};

use serde::{Deserialize, Deserializer, Serialize};

use crate::field::{Field, FieldKind};
use crate::record::Tier;

/// Risk bands of one target: above `medium` is medium, above `high` is high.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandThresholds {
    /// Lower bound (exclusive) of the medium band.
    pub medium: f64,
    /// Lower bound (exclusive) of the high band.
    pub high: f64,
}

/// Risk bands per built-in target. A table that gives one bound keeps the
/// other bound's default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bands {
    /// `infection_180d`.
    #[serde(deserialize_with = "infection_bands")]
    pub infection_180d: BandThresholds,
    /// `readmission_30d`.
    #[serde(deserialize_with = "readmission_bands")]
    pub readmission_30d: BandThresholds,
}

/// A band table as written: either bound may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialBand {
    medium: Option<f64>,
    high: Option<f64>,
}

impl PartialBand {
    fn over(self, default: BandThresholds) -> BandThresholds {
        BandThresholds {
            medium: self.medium.unwrap_or(default.medium),
            high: self.high.unwrap_or(default.high),
        }
    }
}

fn infection_bands<'de, D: Deserializer<'de>>(d: D) -> Result<BandThresholds, D::Error> {
    PartialBand::deserialize(d).map(|p| p.over(Bands::default().infection_180d))
}

fn readmission_bands<'de, D: Deserializer<'de>>(d: D) -> Result<BandThresholds, D::Error> {
    PartialBand::deserialize(d).map(|p| p.over(Bands::default().readmission_30d))
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

/// A class limit as written: either limit may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialClassLimit {
    infection: Option<f64>,
    readmission: Option<f64>,
}

impl PartialClassLimit {
    fn over(self, default: ClassLimit) -> ClassLimit {
        ClassLimit {
            infection: self.infection.unwrap_or(default.infection),
            readmission: self.readmission.unwrap_or(default.readmission),
        }
    }
}

fn class_a<'de, D: Deserializer<'de>>(d: D) -> Result<ClassLimit, D::Error> {
    PartialClassLimit::deserialize(d).map(|p| p.over(Underwriting::default().class_a))
}

fn class_b<'de, D: Deserializer<'de>>(d: D) -> Result<ClassLimit, D::Error> {
    PartialClassLimit::deserialize(d).map(|p| p.over(Underwriting::default().class_b))
}

fn class_c<'de, D: Deserializer<'de>>(d: D) -> Result<ClassLimit, D::Error> {
    PartialClassLimit::deserialize(d).map(|p| p.over(Underwriting::default().class_c))
}

/// The underwriting tables. A class limit that gives one of its two limits
/// keeps the other's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Underwriting {
    /// Class A limits.
    #[serde(deserialize_with = "class_a")]
    pub class_a: ClassLimit,
    /// Class B limits.
    #[serde(deserialize_with = "class_b")]
    pub class_b: ClassLimit,
    /// Class C limits (above: class D).
    #[serde(deserialize_with = "class_c")]
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
    /// The urgent pathway (same-day findings).
    pub urgent: UrgentPathway,
    /// Underwriting.
    pub underwriting: Underwriting,
    /// The modifiable inputs' targets.
    pub levers: LeverTargets,
    /// Programme staffing, assumed effects and costs.
    pub programme: Programme,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            version: "default-1".to_string(),
            bands: Bands::default(),
            flags: FlagThresholds::default(),
            follow_up: Cadence::default(),
            urgent: UrgentPathway::default(),
            underwriting: Underwriting::default(),
            levers: LeverTargets::default(),
            programme: Programme::default(),
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

/// A probability that some risk can exceed (a risk is at most 1).
fn exceedable_probability(name: &str, x: f64) -> Result<(), String> {
    if (0.0..1.0).contains(&x) {
        Ok(())
    } else if x >= 1.0 {
        Err(format!(
            "{name} = {x}: must be at least 0 and below 1 (no risk is above {x}, so it would never apply)"
        ))
    } else {
        Err(format!("{name} = {x}: must be a probability, at least 0 and below 1"))
    }
}

/// Which side of a threshold fires.
#[derive(Clone, Copy)]
enum Fires {
    /// When the value is below the threshold.
    Below,
    /// When the value is above the threshold.
    Above,
    /// When the value is at least the threshold.
    AtLeast,
}

/// Checks that a threshold on `field` is one a valid record can reach: it
/// lies within the field's range, and is not at the end that no value can
/// pass (below the minimum, above the maximum).
fn reachable(name: &str, x: f64, field: Field, fires: Fires) -> Result<(), String> {
    let (min, max) = match field.spec().kind {
        FieldKind::Number { min, max } => (min, max),
        // Integer bounds are small whole numbers, exact in f64.
        FieldKind::Integer { min, max } => (min as f64, max as f64),
        _ => return Ok(()),
    };
    let ok = x.is_finite()
        && match fires {
            Fires::Below => x > min && x <= max,
            Fires::Above => x >= min && x < max,
            Fires::AtLeast => x >= min && x <= max,
        };
    if ok {
        return Ok(());
    }
    let need = match fires {
        Fires::Below => format!("above {min} and at most {max}"),
        Fires::Above => format!("at least {min} and below {max}"),
        Fires::AtLeast => format!("from {min} to {max}"),
    };
    Err(format!(
        "{name} = {x}: must be {need}, the range of `{}`, or no record could ever reach it",
        field.name()
    ))
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
    /// increasing order, every threshold within reach of a valid record,
    /// positive cadences, known protected attributes.
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
            exceedable_probability(&format!("{name}.medium"), b.medium)?;
            exceedable_probability(&format!("{name}.high"), b.high)?;
            if b.medium > b.high {
                return Err(format!("{name}: medium ({}) is above high ({})", b.medium, b.high));
            }
        }
        self.check_flags()?;
        self.check_urgent()?;
        self.check_levers()?;
        self.check_programme()?;
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
        reachable(
            "underwriting.renewal_discount_after_years",
            f64::from(u.renewal_discount_after_years),
            Field::YearsWithoutComplications,
            Fires::AtLeast,
        )?;
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

    fn check_flags(&self) -> Result<(), String> {
        let f = &self.flags;
        exceedable_probability("flags.early_intervention_infection", f.early_intervention_infection)?;
        let at_least = Fires::AtLeast;
        reachable(
            "flags.mental_health_phq9",
            f64::from(f.mental_health_phq9),
            Field::Phq9Score,
            at_least,
        )?;
        reachable(
            "flags.mental_health_gad7",
            f64::from(f.mental_health_gad7),
            Field::Gad7Score,
            at_least,
        )?;
        reachable(
            "flags.adherence_below_pct",
            f.adherence_below_pct,
            Field::AdherencePct,
            Fires::Below,
        )?;
        reachable(
            "flags.trough_low",
            f.trough_low,
            Field::TacrolimusTroughNgMl,
            Fires::Below,
        )?;
        reachable(
            "flags.trough_high",
            f.trough_high,
            Field::TacrolimusTroughNgMl,
            Fires::Above,
        )?;
        if f.trough_low > f.trough_high {
            return Err(format!(
                "flags.trough_low ({}) is above flags.trough_high ({})",
                f.trough_low, f.trough_high
            ));
        }
        Ok(())
    }

    fn check_levers(&self) -> Result<(), String> {
        let l = &self.levers;
        reachable(
            "levers.adherence_pct",
            l.adherence_pct,
            Field::AdherencePct,
            Fires::Below,
        )?;
        reachable("levers.phq9", f64::from(l.phq9), Field::Phq9Score, Fires::Above)?;
        if l.phq9 < 3 {
            return Err(format!(
                "levers.phq9 = {}: must be at least 3 (item 9 alone can score 3, and a lever never sets the total below it)",
                l.phq9
            ));
        }
        reachable("levers.gad7", f64::from(l.gad7), Field::Gad7Score, Fires::Above)?;
        reachable("levers.albumin_g_dl", l.albumin_g_dl, Field::AlbuminGDl, Fires::Below)?;
        reachable("levers.igg_g_l", l.igg_g_l, Field::IggGL, Fires::Below)?;
        for (name, range) in l.tacrolimus.named() {
            let key = format!("levers.tacrolimus.{name}");
            reachable(
                &format!("{key}.low"),
                range.low,
                Field::TacrolimusTroughNgMl,
                Fires::Below,
            )?;
            reachable(
                &format!("{key}.high"),
                range.high,
                Field::TacrolimusTroughNgMl,
                Fires::Above,
            )?;
            if range.low >= range.high {
                return Err(format!(
                    "{key}: low ({}) must be below high ({})",
                    range.low, range.high
                ));
            }
        }
        Ok(())
    }

    fn check_programme(&self) -> Result<(), String> {
        let p = &self.programme;
        for (tier, rrr) in p.relative_risk_reduction.per_tier().iter() {
            if !(0.0..1.0).contains(&rrr) {
                return Err(format!(
                    "programme.relative_risk_reduction.{tier} = {rrr}: must be at least 0 and below 1 (a share of the risk avoided)"
                ));
            }
        }
        if p.caseload.intensive == 0 || p.caseload.remote == 0 {
            return Err(
                "programme.caseload: intensive and remote must be positive (patients per case manager); only self_service may be 0 (no case manager)"
                    .into(),
            );
        }
        if let Some(costs) = &p.costs {
            if costs.currency.trim().is_empty() {
                return Err("programme.costs.currency must not be empty".into());
            }
            for (tier, cost) in costs.per_patient.iter() {
                if !(cost.is_finite() && cost >= 0.0) {
                    return Err(format!(
                        "programme.costs.per_patient.{tier} = {cost}: must be a finite amount of at least 0"
                    ));
                }
            }
            for target in crate::scoring::BUILT_IN_TARGETS {
                match costs.per_event.get(target.name) {
                    Some(cost) if cost.is_finite() && *cost >= 0.0 => {}
                    Some(cost) => {
                        return Err(format!(
                            "programme.costs.per_event.{} = {cost}: must be a finite amount of at least 0",
                            target.name
                        ))
                    }
                    None => {
                        return Err(format!(
                            "programme.costs.per_event: needs `{}` (every target's cost of one event)",
                            target.name
                        ))
                    }
                }
            }
            if let Some(other) = costs
                .per_event
                .keys()
                .find(|k| !crate::scoring::BUILT_IN_TARGETS.iter().any(|t| t.name == k.as_str()))
            {
                return Err(format!(
                    "programme.costs.per_event: `{other}` is not a target (allowed: {})",
                    crate::scoring::BUILT_IN_TARGETS.map(|t| t.name).join(", ")
                ));
            }
        }
        Ok(())
    }

    fn check_urgent(&self) -> Result<(), String> {
        let u = &self.urgent;
        if !(1..=URGENT_MAX_CADENCE_DAYS).contains(&u.cadence_days) {
            return Err(format!(
                "urgent.cadence_days = {}: must be from 1 to {URGENT_MAX_CADENCE_DAYS} (a clinician calls the same day, at most within 72 hours)",
                u.cadence_days
            ));
        }
        if u.min_tier == Tier::SelfService {
            return Err("urgent.min_tier = \"self_service\": must be \"remote\" or \"intensive\" (a patient on the urgent pathway is followed by a person)".into());
        }
        reachable(
            "urgent.trough_below",
            u.trough_below,
            Field::TacrolimusTroughNgMl,
            Fires::Below,
        )?;
        reachable(
            "urgent.trough_above",
            u.trough_above,
            Field::TacrolimusTroughNgMl,
            Fires::Above,
        )?;
        if u.trough_below > u.trough_above {
            return Err(format!(
                "urgent.trough_below ({}) is above urgent.trough_above ({})",
                u.trough_below, u.trough_above
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
