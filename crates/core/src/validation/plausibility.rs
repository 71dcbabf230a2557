//! Plausibility screening: values inside the hard range but unlikely for the
//! rest of the record. Patient-reported and hand-keyed data is noisy (unit
//! mix-ups, extra digits, answers in the wrong box), so each rule below accepts
//! the record, adds a [`Warning`] naming the doubted input, and leaves the
//! decision to a human. Never is a value silently changed or dropped.
//!
//! Thresholds are engineering choices informed by `docs/clinical-sources.md`, section 6 (soft
//! limits) and need clinical sign-off before production use.

use super::issue::Warning;
use super::values::Values;
use crate::field::Field;

/// One plausibility rule.
#[derive(Debug, Clone, Copy)]
pub struct PlausibilityRule {
    /// Stable identifier, reported with the warning and counted in metrics.
    pub id: &'static str,
    /// The field whose value is doubted.
    pub field: Field,
    /// The message returned to the caller (states the threshold, never the value).
    pub message: &'static str,
    check: fn(&Values<'_>) -> bool,
}

/// Whether `field` is present and above `limit`.
fn above(v: &Values<'_>, field: Field, limit: f64) -> bool {
    v.num(field).is_some_and(|x| x > limit)
}

/// Whether `field` is present and outside `[low, high]`.
fn outside(v: &Values<'_>, field: Field, low: f64, high: f64) -> bool {
    v.num(field).is_some_and(|x| x < low || x > high)
}

/// Every plausibility rule, in the order warnings are reported.
pub const PLAUSIBILITY_RULES: &[PlausibilityRule] = &[
    PlausibilityRule {
        id: "age_outside_adult_range",
        field: Field::AgeYears,
        message: "age outside 18-85 years is unusual for this adult programme; please confirm",
        // Adult service; soft limits for age (docs/clinical-sources.md, section 6).
        check: |v| outside(v, Field::AgeYears, 18.0, 85.0),
    },
    PlausibilityRule {
        id: "bmi_extreme",
        field: Field::Bmi,
        message: "BMI below 15 or above 50 kg/m2 is rare; please confirm height and weight",
        // Soft limits 15-50 (docs/clinical-sources.md, section 6, after Chan & Raffa 2017).
        check: |v| outside(v, Field::Bmi, 15.0, 50.0),
    },
    PlausibilityRule {
        id: "egfr_above_150",
        field: Field::EgfrMlMin,
        message: "eGFR above 150 mL/min/1.73m2 is rarely measured; please confirm value and unit",
        // Equations seldom report above 150 (docs/clinical-sources.md, section 6: cap/flag above 150).
        check: |v| above(v, Field::EgfrMlMin, 150.0),
    },
    PlausibilityRule {
        id: "egfr_high_for_age",
        field: Field::EgfrMlMin,
        message: "eGFR above 110 mL/min/1.73m2 at age 70 or older is implausible; please confirm",
        // GFR falls about 1 mL/min per year after 40: at 70+ a typical value is 60-85.
        check: |v| {
            v.num(Field::AgeYears).is_some_and(|a| a >= 70.0) && v.num(Field::EgfrMlMin).is_some_and(|e| e > 110.0)
        },
    },
    PlausibilityRule {
        id: "egfr_below_5",
        field: Field::EgfrMlMin,
        message: "eGFR below 5 mL/min/1.73m2 is unusual even on dialysis; please confirm",
        check: |v| v.num(Field::EgfrMlMin).is_some_and(|e| e < 5.0),
    },
    PlausibilityRule {
        id: "tacrolimus_above_25",
        field: Field::TacrolimusTroughNgMl,
        message: "tacrolimus trough above 25 ng/mL is unusual; please confirm (sample timing, unit)",
        // Usual targets 4-15 ng/mL; most patients are stable at 5-20 (FDA label).
        check: |v| above(v, Field::TacrolimusTroughNgMl, 25.0),
    },
    PlausibilityRule {
        id: "lymphocytes_above_10",
        field: Field::LymphocyteCount10e9L,
        message: "lymphocyte count above 10 x10^9/L is rare under immunosuppression; please confirm the unit (10^9/L)",
        check: |v| above(v, Field::LymphocyteCount10e9L, 10.0),
    },
    PlausibilityRule {
        id: "igg_extreme",
        field: Field::IggGL,
        message: "IgG below 1.5 or above 25 g/L is rare; please confirm the unit (g/L, not mg/dL)",
        check: |v| outside(v, Field::IggGL, 1.5, 25.0),
    },
    PlausibilityRule {
        id: "albumin_extreme",
        field: Field::AlbuminGDl,
        message: "albumin below 1.5 or above 5.5 g/dL is rare; please confirm the unit (g/dL, not g/L)",
        check: |v| outside(v, Field::AlbuminGDl, 1.5, 5.5),
    },
    PlausibilityRule {
        id: "stay_over_60_days",
        field: Field::IndexLengthOfStayDays,
        message: "an index stay over 60 days is unusual; please confirm",
        check: |v| above(v, Field::IndexLengthOfStayDays, 60.0),
    },
    PlausibilityRule {
        id: "icu_over_30_days",
        field: Field::IcuDays,
        message: "over 30 ICU days in one stay is unusual; please confirm",
        check: |v| above(v, Field::IcuDays, 30.0),
    },
    PlausibilityRule {
        id: "ed_visits_over_10",
        field: Field::EdVisits6m,
        message: "more than 10 emergency visits in 6 months is unusual; please confirm",
        check: |v| above(v, Field::EdVisits6m, 10.0),
    },
    PlausibilityRule {
        id: "hospitalizations_over_10",
        field: Field::Hospitalizations12m,
        message: "more than 10 admissions in 12 months is unusual; please confirm",
        check: |v| above(v, Field::Hospitalizations12m, 10.0),
    },
    PlausibilityRule {
        id: "infections_over_10",
        field: Field::PriorInfections12m,
        message: "more than 10 infections in 12 months is unusual; please confirm",
        check: |v| above(v, Field::PriorInfections12m, 10.0),
    },
    PlausibilityRule {
        id: "rejections_over_4",
        field: Field::AcuteRejectionEpisodes12m,
        message: "more than 4 treated rejection episodes in 12 months is unusual; please confirm",
        check: |v| above(v, Field::AcuteRejectionEpisodes12m, 4.0),
    },
    PlausibilityRule {
        id: "charlson_over_15",
        field: Field::CharlsonIndex,
        message: "a Charlson index above 15 is unusual; please confirm",
        check: |v| above(v, Field::CharlsonIndex, 15.0),
    },
    PlausibilityRule {
        id: "distance_over_2000_km",
        field: Field::DistanceToCenterKm,
        message: "a distance to the centre over 2000 km is unusual; please confirm the unit (km)",
        check: |v| above(v, Field::DistanceToCenterKm, 2000.0),
    },
    PlausibilityRule {
        id: "complication_free_beyond_follow_up",
        field: Field::YearsWithoutComplications,
        message: "years without complications exceed the time since transplant; please confirm \
                  (no renewal discount is granted on it)",
        // Whole years of 365 days, the most any honest count can hold.
        check: |v| match (
            v.num(Field::YearsWithoutComplications),
            v.num(Field::DaysSinceTransplant),
        ) {
            (Some(years), Some(days)) => years * 365.0 > days,
            _ => false,
        },
    },
    PlausibilityRule {
        id: "complication_free_despite_recent_event",
        field: Field::YearsWithoutComplications,
        message: "a year or more without complications next to an acute rejection or an infection in the \
                  last 12 months; please confirm (no renewal discount is granted on it)",
        check: |v| {
            let recent = |field| v.num(field).is_some_and(|n| n > 0.0);
            v.num(Field::YearsWithoutComplications)
                .is_some_and(|years| years >= 1.0)
                && (recent(Field::AcuteRejectionEpisodes12m) || recent(Field::PriorInfections12m))
        },
    },
    PlausibilityRule {
        id: "phq9_item9_exceeds_total",
        field: Field::Phq9Item9,
        message: "PHQ-9 item 9 is greater than the PHQ-9 total, which includes it; please confirm both \
                  (a positive item 9 is acted on whatever the total)",
        // A warning, not a refusal: the self-harm item must never be lost to
        // a contradiction in the total (safety pathway, docs/policy.md).
        check: |v| match (v.num(Field::Phq9Item9), v.num(Field::Phq9Score)) {
            (Some(item9), Some(total)) => item9 > total,
            _ => false,
        },
    },
    PlausibilityRule {
        id: "days_since_transplant_over_20000",
        field: Field::DaysSinceTransplant,
        message: "more than 20000 days (about 55 years) since transplant is unusual; please confirm",
        check: |v| above(v, Field::DaysSinceTransplant, 20_000.0),
    },
];

/// Whether any plausibility rule on `field` fires.
pub(crate) fn doubted(values: &Values<'_>, field: Field) -> bool {
    PLAUSIBILITY_RULES
        .iter()
        .any(|rule| rule.field == field && (rule.check)(values))
}

/// Applies every plausibility rule, appending a warning for each that fires.
pub(crate) fn screen(values: &Values<'_>, warnings: &mut Vec<Warning>) {
    for rule in PLAUSIBILITY_RULES {
        if (rule.check)(values) {
            warnings.push(Warning {
                field: rule.field.name(),
                message: rule.message.to_string(),
                rule: rule.id,
            });
        }
    }
}
