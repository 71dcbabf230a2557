//! Patient-level draws: who the recipient is at transplant (organ, sex, age,
//! serostatus, induction, comorbidity, latent frailty) and the patient-level
//! tendencies that make snapshots of one patient correlated over follow-up.
//!
//! Marginals follow docs/clinical-sources.md, section 7 (synthetic cohort
//! blueprint).

use carescore_core::artifact::sigmoid;
use carescore_core::{CmvSerostatus, Induction, Organ, Sex};
use rand::Rng;
use rand_distr::{Beta, Distribution, Exp1, LogNormal, Normal, Poisson};

/// Per-organ parameters (docs/clinical-sources.md, section 7 unless noted).
struct OrganProfile {
    organ: Organ,
    share: f64,
    male: f64,
    age_mean: f64,
    age_sd: f64,
    bmi_mean: f64,
    diabetes: f64,
    atg: f64,
    /// Expected treated rejection episodes in year 1 (gives ~8/12/20/30% with one or more).
    rejection_year1: f64,
    /// Median length of the transplant admission, days (*eng*).
    transplant_stay: f64,
    /// Median ICU days during the transplant admission (*eng*).
    transplant_icu: f64,
}

const PROFILES: [OrganProfile; 4] = [
    OrganProfile {
        organ: Organ::Kidney,
        share: 0.60,
        male: 0.63,
        age_mean: 51.0,
        age_sd: 14.0,
        bmi_mean: 27.0,
        diabetes: 0.30,
        atg: 0.60,
        rejection_year1: 0.085,
        transplant_stay: 6.0,
        transplant_icu: 0.5,
    },
    OrganProfile {
        organ: Organ::Liver,
        share: 0.22,
        male: 0.65,
        age_mean: 55.0,
        age_sd: 11.0,
        bmi_mean: 28.0,
        diabetes: 0.25,
        atg: 0.20,
        rejection_year1: 0.13,
        transplant_stay: 12.0,
        transplant_icu: 3.0,
    },
    OrganProfile {
        organ: Organ::Heart,
        share: 0.09,
        male: 0.73,
        age_mean: 53.0,
        age_sd: 13.0,
        bmi_mean: 27.0,
        diabetes: 0.30,
        atg: 0.50,
        rejection_year1: 0.22,
        transplant_stay: 18.0,
        transplant_icu: 5.0,
    },
    OrganProfile {
        organ: Organ::Lung,
        share: 0.09,
        male: 0.58,
        age_mean: 57.0,
        age_sd: 12.0,
        bmi_mean: 24.5,
        diabetes: 0.15,
        atg: 0.50,
        rejection_year1: 0.36,
        transplant_stay: 24.0,
        transplant_icu: 7.0,
    },
];

/// CMV donor/recipient serostatus split (docs/clinical-sources.md, section 1d).
const CMV_SHARES: [(CmvSerostatus, f64); 4] = [
    (CmvSerostatus::DonorPosRecipientNeg, 0.20),
    (CmvSerostatus::DonorPosRecipientPos, 0.35),
    (CmvSerostatus::DonorNegRecipientPos, 0.20),
    (CmvSerostatus::DonorNegRecipientNeg, 0.25),
];

/// Everything fixed about one patient for the whole follow-up.
#[derive(Debug, Clone)]
pub(crate) struct Patient {
    pub(crate) organ: Organ,
    pub(crate) sex: Sex,
    pub(crate) age_at_transplant: f64,
    pub(crate) bmi_at_transplant: f64,
    /// Diabetes before transplant.
    pub(crate) diabetes_before: bool,
    /// Day post-transplant diabetes starts (infinite if never): 9% by 3 months,
    /// 16% by 12, 24% by 36 (USRDS, docs/clinical-sources.md, section 2).
    pub(crate) ptdm_onset_day: f64,
    pub(crate) cmv: CmvSerostatus,
    pub(crate) induction: Induction,
    /// Unobserved frailty, standard normal: raises admissions, ED visits,
    /// infections, comorbidity and both hazards, and lowers albumin.
    pub(crate) frailty: f64,
    pub(crate) charlson: f64,
    pub(crate) lives_alone: bool,
    pub(crate) distance_km: Option<f64>,
    pub(crate) enrolled: bool,
    /// Whether the patient takes tacrolimus (others take cyclosporine: no trough).
    pub(crate) on_tacrolimus: bool,
    /// Log-scale deviation of the patient's trough from the target.
    pub(crate) trough_deviation: f64,
    /// Usual adherence, percent.
    pub(crate) adherence: f64,
    /// Baseline eGFR (graft function for kidneys, native kidneys otherwise).
    pub(crate) egfr_baseline: f64,
    pub(crate) igg_baseline: f64,
    pub(crate) lymphocyte_baseline: f64,
    pub(crate) albumin_baseline: f64,
    /// Depressive tendency, >= 0 (drives PHQ-9 and GAD-7).
    pub(crate) mood: f64,
    /// Days after transplant of each treated acute rejection episode.
    pub(crate) rejection_days: Vec<f64>,
    /// Length of the transplant admission, days.
    pub(crate) transplant_stay: f64,
    pub(crate) transplant_icu: f64,
}

fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    Normal::new(mean, sd).map(|d| d.sample(rng)).unwrap_or(mean)
}

fn lognormal(rng: &mut impl Rng, median: f64, sigma: f64) -> f64 {
    LogNormal::new(median.ln(), sigma)
        .map(|d| d.sample(rng))
        .unwrap_or(median)
}

pub(crate) fn poisson(rng: &mut impl Rng, mean: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    Poisson::new(mean).map(|d| d.sample(rng)).unwrap_or(0.0)
}

pub(crate) fn bernoulli(rng: &mut impl Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

fn pick<T: Copy>(rng: &mut impl Rng, options: &[(T, f64)]) -> T {
    let mut u = rng.gen::<f64>();
    for (value, share) in options {
        if u < *share {
            return *value;
        }
        u -= share;
    }
    options[options.len() - 1].0
}

impl Patient {
    /// Draws one patient.
    pub(crate) fn draw(rng: &mut impl Rng) -> Patient {
        let shares: Vec<(usize, f64)> = PROFILES.iter().enumerate().map(|(i, p)| (i, p.share)).collect();
        let profile = &PROFILES[pick(rng, &shares)];
        let organ = profile.organ;
        let sex = if bernoulli(rng, profile.male) {
            Sex::Male
        } else {
            Sex::Female
        };
        // 75 at most, so that no clean snapshot in 9 years of follow-up exceeds the adult range.
        let age = normal(rng, profile.age_mean, profile.age_sd).clamp(18.0, 75.0);
        let bmi_sd = if organ == Organ::Lung { 3.5 } else { 4.5 };
        let bmi = normal(rng, profile.bmi_mean, bmi_sd).clamp(16.5, 44.0);
        let frailty = normal(rng, 0.0, 1.0);

        // Diabetes more likely with age and BMI, centred on the organ's prevalence.
        let base = (profile.diabetes / (1.0 - profile.diabetes)).ln();
        let diabetes_before = bernoulli(rng, sigmoid(base + 0.03 * (age - 52.0) + 0.08 * (bmi - 27.0)));
        // PTDM: a mixture hitting ~9% by day 90, ~16% by day 365, ~24% by day 1095.
        let ptdm_onset_day = if diabetes_before {
            f64::INFINITY
        } else {
            let u: f64 = rng.gen();
            if u < 0.09 {
                rng.gen::<f64>() * 90.0
            } else if u < 0.16 {
                90.0 + rng.gen::<f64>() * 275.0
            } else if u < 0.24 {
                365.0 + rng.gen::<f64>() * 730.0
            } else {
                f64::INFINITY
            }
        };

        let cmv = pick(rng, &CMV_SHARES);
        let induction = if bernoulli(rng, profile.atg) {
            Induction::Atg
        } else if bernoulli(rng, 0.75) {
            Induction::Basiliximab
        } else {
            Induction::None
        };

        let charlson_mean =
            (1.2 + 0.05 * (age - 50.0).max(0.0) + if diabetes_before { 1.2 } else { 0.0 } + 0.35 * frailty).max(0.2);
        let charlson = (1.0 + poisson(rng, charlson_mean)).min(14.0);
        let lives_alone = bernoulli(rng, if age >= 65.0 { 0.28 } else { 0.16 });
        let distance_km = (!bernoulli(rng, 0.08)).then(|| lognormal(rng, 60.0, 0.9).clamp(1.0, 1800.0));
        let enrolled = bernoulli(rng, 0.45);
        let on_tacrolimus = bernoulli(rng, 0.9);
        let trough_deviation = normal(rng, 0.0, 0.2);
        let lapse: f64 = Beta::new(1.3, 7.0).map(|d| d.sample(rng)).unwrap_or(0.15);
        let adherence = 100.0 - 35.0 * lapse;

        let egfr_baseline = match organ {
            Organ::Kidney => normal(rng, 56.0, 16.0),
            _ => normal(rng, 92.0 - 0.7 * (age - 40.0).max(0.0), 16.0),
        };
        let igg_baseline = normal(rng, 10.0, 2.0);
        let lymphocyte_baseline = lognormal(rng, 1.6, 0.35);
        let albumin_baseline = normal(rng, 3.95, 0.3) - 0.12 * frailty;
        let mood = {
            let e: f64 = Exp1.sample(rng);
            e * (1.0 + 0.2 * frailty.max(0.0))
        };

        // Year-1 rejections cluster early (mean 60 days); later ones are rare.
        let mut rejection_days = Vec::new();
        let adherence_factor = (1.0 + 0.04 * (92.0 - adherence).max(0.0)).min(2.0);
        for _ in 0..poisson(rng, profile.rejection_year1 * adherence_factor) as usize {
            let e: f64 = Exp1.sample(rng);
            rejection_days.push((7.0 + e * 60.0).min(364.0));
        }
        for _ in 0..poisson(rng, 0.03 * 10.0 * adherence_factor) as usize {
            rejection_days.push(365.0 + rng.gen::<f64>() * 3650.0);
        }

        let transplant_stay = lognormal(rng, profile.transplant_stay, 0.4).clamp(3.0, 55.0).round();
        let icu = lognormal(rng, profile.transplant_icu.max(0.1), 0.6);
        let transplant_icu = if profile.transplant_icu < 1.0 && bernoulli(rng, 0.6) {
            0.0
        } else {
            icu.round().clamp(0.0, (transplant_stay - 1.0).min(25.0))
        };

        Patient {
            organ,
            sex,
            age_at_transplant: age,
            bmi_at_transplant: bmi,
            diabetes_before,
            ptdm_onset_day,
            cmv,
            induction,
            frailty,
            charlson,
            lives_alone,
            distance_km,
            enrolled,
            on_tacrolimus,
            trough_deviation,
            adherence,
            egfr_baseline,
            igg_baseline,
            lymphocyte_baseline,
            albumin_baseline,
            mood,
            rejection_days,
            transplant_stay,
            transplant_icu,
        }
    }
}
