//! Underwriting: the risk class, its premium loading, the reasons, the
//! conditions attached and the policy terms. This product insures transplant
//! recipients by design, so it grades and never declines.

use serde::{Deserialize, Serialize};

use super::{ClassLimit, Policy};
use crate::field::Field;
use crate::phase::Phase;
use crate::record::{Organ, PatientRecord};
use crate::validation::doubts;

/// Risk class, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RiskClass {
    /// Lowest risk.
    A,
    /// Raised risk.
    B,
    /// High risk.
    C,
    /// Highest risk.
    D,
}

impl RiskClass {
    /// Every class, from best to worst.
    pub const ALL: [RiskClass; 4] = [RiskClass::A, RiskClass::B, RiskClass::C, RiskClass::D];

    /// The class's wire name (`A` to `D`).
    pub fn as_str(self) -> &'static str {
        match self {
            RiskClass::A => "A",
            RiskClass::B => "B",
            RiskClass::C => "C",
            RiskClass::D => "D",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The policy terms that follow from a grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Terms {
    /// Currency of the amounts.
    pub currency: String,
    /// The deductible that applies to this patient.
    pub deductible: u32,
    /// Deductible without the programme.
    pub deductible_standard: u32,
    /// Deductible when enrolled in the programme.
    pub deductible_if_enrolled: u32,
    /// Renewal discount (%).
    pub renewal_discount_pct: u32,
    /// Years without complications that earn the discount.
    pub renewal_discount_after_years_without_complications: u32,
    /// Whether this patient earns the discount now: enough years without
    /// complications, and no warning doubting them (see `warnings`).
    pub renewal_discount_eligible: bool,
}

/// An underwriting grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grade {
    /// The class.
    pub risk_class: RiskClass,
    /// Premium loading of the class (%).
    pub premium_loading_pct: u32,
    /// Every reason for the class.
    pub reasons: Vec<String>,
    /// Conditions attached, e.g. `health_management_package_required`.
    pub conditions: Vec<String>,
    /// Terms.
    pub terms: Terms,
}

/// The condition attached after a recent rejection or in class D.
pub const HEALTH_MANAGEMENT_PACKAGE: &str = "health_management_package_required";

/// Grades `record` with the (protected-attribute-neutralised) risks
/// `infection` and `readmission`. A `years_without_complications` that a
/// plausibility rule doubts (more years than since the transplant, or next
/// to a rejection or an infection in the last 12 months) never earns the
/// renewal discount, and the reasons say so.
pub fn grade(record: &PatientRecord, infection: f64, readmission: f64, policy: &Policy) -> Grade {
    let u = &policy.underwriting;
    let limits: [ClassLimit; 3] = [u.class_a, u.class_b, u.class_c];
    let within = |l: ClassLimit| infection <= l.infection && readmission <= l.readmission;
    let by_risk = limits
        .iter()
        .position(|l| within(*l))
        .map_or(RiskClass::D, |i| RiskClass::ALL[i]);
    let mut reasons = Vec::new();
    if by_risk == RiskClass::A {
        reasons.push(format!(
            "infection risk {infection:.2} and readmission risk {readmission:.2} within class A limits ({:.2} / {:.2})",
            u.class_a.infection, u.class_a.readmission
        ));
    } else {
        let below = limits[by_risk.index() - 1];
        if infection > below.infection {
            reasons.push(format!("infection risk {infection:.2} above {:.2}", below.infection));
        }
        if readmission > below.readmission {
            reasons.push(format!(
                "readmission risk {readmission:.2} above {:.2}",
                below.readmission
            ));
        }
    }
    let mut class = by_risk;
    let mut floor = |at_least: RiskClass, why: String, reasons: &mut Vec<String>| {
        reasons.push(format!("{why}: at least {at_least:?}"));
        class = class.max(at_least);
    };
    if record.phase() == Phase::Acute {
        floor(u.floor_acute_or_thoracic, "acute phase".to_string(), &mut reasons);
    }
    if matches!(record.organ, Organ::Heart | Organ::Lung) {
        floor(
            u.floor_acute_or_thoracic,
            format!("{} transplant", record.organ.as_str()),
            &mut reasons,
        );
    }
    let recent_rejection = record.acute_rejection_episodes_12m > 0;
    if recent_rejection {
        floor(
            u.floor_recent_rejection,
            "acute rejection in the last 12 months".to_string(),
            &mut reasons,
        );
    }
    let conditions = if recent_rejection || class == RiskClass::D {
        vec![HEALTH_MANAGEMENT_PACKAGE.to_string()]
    } else {
        Vec::new()
    };
    let earned = record
        .years_without_complications
        .is_some_and(|y| y >= u.renewal_discount_after_years);
    let doubted = earned && doubts(record, Field::YearsWithoutComplications);
    if doubted {
        reasons.push(
            "renewal discount withheld: years_without_complications contradicts the record (see warnings)".to_string(),
        );
    }
    let terms = Terms {
        currency: u.currency.clone(),
        deductible: if record.enrolled_in_program {
            u.deductible_enrolled
        } else {
            u.deductible_standard
        },
        deductible_standard: u.deductible_standard,
        deductible_if_enrolled: u.deductible_enrolled,
        renewal_discount_pct: u.renewal_discount_pct,
        renewal_discount_after_years_without_complications: u.renewal_discount_after_years,
        renewal_discount_eligible: earned && !doubted,
    };
    Grade {
        risk_class: class,
        premium_loading_pct: u.loading_pct[class.index()],
        reasons,
        conditions,
        terms,
    }
}
