//! The documented hazard model behind the synthetic outcomes.
//!
//! Both outcomes are non-recurrent first events after the index date with a
//! proportional-hazards form `h(u) = rate · exp(η) · shape(u)`:
//!
//! - **Serious infection.** `shape` follows time since transplant `v = s + u`
//!   (s = days since transplant at the index date): `0.25 + 2.75·exp(-v/150)`,
//!   about x2.9 in month 1, x2.2 in month 2, x1.5 around month 4, x1 at month 9
//!   and x0.3 from year 2 (docs/clinical-sources.md, section 2,
//!   "time since transplant").
//! - **Unplanned readmission.** `shape` follows time since the index date,
//!   front-loaded after a hospital discharge (about half of 30-day readmissions
//!   within a week, docs/clinical-sources.md, section 1b):
//!   `0.35 + 2.6·exp(-u/8)` after a discharge, flat after a clinic visit.
//!
//! Both shapes integrate in closed form, `Λ(t) = c·(a·t + B·(1 - exp(-t/τ)))`,
//! so the true fixed-horizon probability is `1 - exp(-Λ(H))` and an event time
//! is drawn by inverting `Λ` at an Exp(1) variate.
//!
//! The linear predictors `η` hold the risk factors of docs/clinical-sources.md,
//! sections 2 and 3, as log hazard ratios, with non-linear effects
//! (thresholds, saturating counts, U-shaped BMI, age) and interactions (CMV
//! mismatch x phase and x ATG, lives alone x age, sex x kidney, length of stay
//! x emergency). Every effect is listed, with its rationale, in
//! `notebooks-data/DATA_DICTIONARY.md`.

use carescore_core::{CmvSerostatus, Induction, Organ, Sex};

use super::clinical::Clinical;

/// Baseline infection rate per day (kidney, all risk factors absent).
const INFECTION_RATE: f64 = 0.000_26;
/// Baseline readmission rate per day.
const READMISSION_RATE: f64 = 0.001_05;

/// A cumulative hazard `Λ(t) = c·(a·t + B·(1 - exp(-t/τ)))`, increasing and concave in t.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CumulativeHazard {
    c: f64,
    a: f64,
    b: f64,
    tau: f64,
}

impl CumulativeHazard {
    /// `Λ(t)`.
    pub(crate) fn at(&self, t: f64) -> f64 {
        self.c * (self.a * t + self.b * (1.0 - (-t / self.tau).exp()))
    }

    /// Probability of an event by `horizon` days.
    pub(crate) fn probability_by(&self, horizon: f64) -> f64 {
        1.0 - (-self.at(horizon)).exp()
    }

    /// The time `t` at which `Λ(t) = target` (`target` > 0). Newton's method from
    /// 0 converges monotonically from below because `Λ` is concave and increasing.
    pub(crate) fn invert(&self, target: f64) -> f64 {
        let mut t = 0.0_f64;
        for _ in 0..100 {
            let gap = target - self.at(t);
            let slope = self.c * (self.a + self.b / self.tau * (-t / self.tau).exp());
            let step = gap / slope;
            t += step;
            if step.abs() < 1e-9 * t.max(1.0) {
                break;
            }
        }
        t
    }
}

/// Infection cumulative hazard for a snapshot `days_since_transplant` days after transplant.
pub(crate) fn infection(c: &Clinical) -> CumulativeHazard {
    const LATE: f64 = 0.25;
    const EARLY_EXTRA: f64 = 2.75;
    const TAU: f64 = 150.0;
    CumulativeHazard {
        c: INFECTION_RATE * infection_lp(c).exp(),
        a: LATE,
        b: EARLY_EXTRA * TAU * (-c.days_since_transplant / TAU).exp(),
        tau: TAU,
    }
}

/// Readmission cumulative hazard for a snapshot.
pub(crate) fn readmission(c: &Clinical) -> CumulativeHazard {
    const TAU: f64 = 8.0;
    let after_discharge = c.length_of_stay > 0.0;
    CumulativeHazard {
        c: READMISSION_RATE * readmission_lp(c).exp(),
        a: if after_discharge { 0.35 } else { 1.0 },
        b: if after_discharge { 2.6 * TAU } else { 0.0 },
        tau: TAU,
    }
}

fn clamp01(x: f64) -> f64 {
    x.clamp(0.0, 1.0)
}

/// Saturating count effect: `ln(1 + min(n, cap))`.
fn count(n: f64, cap: f64) -> f64 {
    n.min(cap).ln_1p()
}

/// Log hazard ratio of serious infection (docs/clinical-sources.md, section 2,
/// "suggested log-odds effects").
pub(crate) fn infection_lp(c: &Clinical) -> f64 {
    let s = c.days_since_transplant;
    let organ = match c.organ {
        Organ::Kidney => 0.0,
        Organ::Liver => 0.4,
        Organ::Heart => 0.2,
        Organ::Lung => 0.42,
    };
    // CMV mismatch: muted under prophylaxis (months 0-3), peaks once it stops.
    let cmv = match c.cmv {
        CmvSerostatus::DonorPosRecipientNeg if s <= 90.0 => 0.45,
        CmvSerostatus::DonorPosRecipientNeg if s <= 365.0 => 0.7,
        CmvSerostatus::DonorPosRecipientNeg => 0.3,
        CmvSerostatus::DonorPosRecipientPos => 0.2,
        CmvSerostatus::DonorNegRecipientPos => 0.15,
        CmvSerostatus::DonorNegRecipientNeg => 0.0,
    };
    let atg = c.induction == Induction::Atg;
    let induction = match (atg, s <= 365.0) {
        (true, true) => 0.34,
        (true, false) => 0.1,
        (false, _) => 0.0,
    };
    let atg_mismatch = if atg && c.cmv == CmvSerostatus::DonorPosRecipientNeg {
        0.25
    } else {
        0.0
    };
    let rejection = 0.4 * count(c.rejections_12m, 3.0);
    let igg = if c.igg < 4.0 {
        0.6
    } else if c.igg < 7.0 {
        0.34
    } else {
        0.0
    };
    let lymphopenia = 0.5 * clamp01((0.8 - c.lymphocytes) / 0.4);
    let diabetes = if c.diabetes { 0.34 } else { 0.0 };
    let age = 0.012 * (c.age - 50.0) + 0.001 * (c.age - 65.0).max(0.0).powi(2);
    let kidney_function = 0.4 * clamp01((40.0 - c.egfr) / 20.0);
    let prior = 0.35 * count(c.infections_12m, 3.0);
    let icu = if c.icu_days > 3.0 { 0.4 } else { 0.0 };
    let over_exposure = 0.08 * (c.tacrolimus - 12.0).max(0.0);
    let albumin = 0.4 * (3.5 - c.albumin).max(0.0);
    let female_kidney = if c.sex == Sex::Female && c.organ == Organ::Kidney {
        0.3
    } else {
        0.0
    };
    let bmi = 0.04 * (c.bmi - 32.0).max(0.0) + 0.08 * (19.0 - c.bmi).max(0.0);
    let frailty = 0.2 * c.frailty;
    organ
        + cmv
        + induction
        + atg_mismatch
        + rejection
        + igg
        + lymphopenia
        + diabetes
        + age
        + kidney_function
        + prior
        + icu
        + over_exposure
        + albumin
        + female_kidney
        + bmi
        + frailty
}

/// Log hazard ratio of unplanned readmission (docs/clinical-sources.md, section 3:
/// LACE/HOSPITAL components plus transplant-specific factors).
pub(crate) fn readmission_lp(c: &Clinical) -> f64 {
    let s = c.days_since_transplant;
    let organ = match c.organ {
        Organ::Kidney => 0.0,
        Organ::Liver => 0.25,
        Organ::Heart => -0.25,
        Organ::Lung => 0.45,
    };
    // Right after the transplant admission the risk is highest (section 1b rates).
    let early = 1.3 * (-s / 45.0).exp();
    let stay = 0.2 * c.length_of_stay.ln_1p();
    let emergency = if c.emergency { 0.3 } else { 0.0 };
    let long_emergency = if c.emergency && c.length_of_stay >= 5.0 {
        0.2
    } else {
        0.0
    };
    let icu = 0.15 * c.icu_days.ln_1p();
    let charlson = 0.06 * c.charlson.min(10.0);
    let admissions = 0.2 * count(c.hospitalizations_12m, 6.0);
    let ed = 0.12 * c.ed_visits_6m.min(4.0);
    let albumin = 0.35 * (3.5 - c.albumin).max(0.0);
    let kidney_function = 0.35 * clamp01((35.0 - c.egfr) / 20.0);
    let rejection = 0.3 * c.rejections_12m.min(2.0);
    let alone = if c.lives_alone { 0.2 } else { 0.0 };
    let alone_old = if c.lives_alone && c.age >= 70.0 { 0.3 } else { 0.0 };
    let adherence = 0.015 * (90.0 - c.adherence).max(0.0);
    let depression = if c.phq9 >= 10.0 { 0.25 } else { 0.0 };
    let diabetes = if c.diabetes { 0.15 } else { 0.0 };
    let prior_infections = 0.15 * c.infections_12m.min(3.0);
    let frailty = 0.15 * c.frailty;
    organ
        + early
        + stay
        + emergency
        + long_emergency
        + icu
        + charlson
        + admissions
        + ed
        + albumin
        + kidney_function
        + rejection
        + alone
        + alone_old
        + adherence
        + depression
        + diabetes
        + prior_infections
        + frailty
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inversion_recovers_the_time() {
        let h = CumulativeHazard {
            c: 0.002,
            a: 0.35,
            b: 300.0,
            tau: 150.0,
        };
        for t in [0.5, 10.0, 179.0, 2000.0] {
            let back = h.invert(h.at(t));
            assert!((back - t).abs() < 1e-6 * t.max(1.0), "{t} -> {back}");
        }
    }

    #[test]
    fn probability_is_monotone_in_horizon() {
        let h = CumulativeHazard {
            c: 0.01,
            a: 1.0,
            b: 0.0,
            tau: 8.0,
        };
        assert!(h.probability_by(30.0) < h.probability_by(31.0));
        assert!((h.probability_by(30.0) - (1.0 - (-0.3f64).exp())).abs() < 1e-12);
    }
}
