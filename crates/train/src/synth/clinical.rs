//! The true clinical state of a patient at one snapshot, and what the CMS
//! records of it (rounded, with missing optional fields).
//!
//! Hazards are computed from the true state; the observed record can lack a
//! lab that the generator knows, as real records do.

use carescore_core::{CmvSerostatus, Induction, Organ, PatientRecord, Sex, Tier};
use rand::Rng;
use rand_distr::{Distribution, LogNormal, Normal};

use super::patient::{bernoulli, poisson, Patient};

/// What kind of contact the snapshot records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum IndexKind {
    /// Discharge from the transplant admission.
    TransplantDischarge,
    /// Discharge from a later hospital stay.
    HospitalDischarge,
    /// A follow-up clinic visit.
    ClinicVisit,
}

/// True values at a snapshot (all present, unrounded).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clinical {
    pub(crate) organ: Organ,
    pub(crate) sex: Sex,
    pub(crate) cmv: CmvSerostatus,
    pub(crate) induction: Induction,
    pub(crate) days_since_transplant: f64,
    pub(crate) age: f64,
    pub(crate) bmi: f64,
    pub(crate) diabetes: bool,
    pub(crate) rejections_12m: f64,
    pub(crate) egfr: f64,
    pub(crate) tacrolimus: f64,
    pub(crate) lymphocytes: f64,
    pub(crate) igg: f64,
    pub(crate) albumin: f64,
    pub(crate) infections_12m: f64,
    pub(crate) hospitalizations_12m: f64,
    pub(crate) ed_visits_6m: f64,
    pub(crate) length_of_stay: f64,
    pub(crate) emergency: bool,
    pub(crate) charlson: f64,
    pub(crate) icu_days: f64,
    pub(crate) adherence: f64,
    pub(crate) phq9: f64,
    pub(crate) phq9_item9: f64,
    pub(crate) gad7: f64,
    pub(crate) lives_alone: bool,
    pub(crate) frailty: f64,
}

fn gauss(rng: &mut impl Rng, sd: f64) -> f64 {
    Normal::new(0.0, sd).map(|d| d.sample(rng)).unwrap_or(0.0)
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// Tacrolimus target trough by organ and time (docs/clinical-sources.md,
/// section 6): kidney and liver about 10 ng/mL early falling to 6; heart and
/// lung 13 falling to 8.
fn trough_target(organ: Organ, day: f64) -> f64 {
    let (early, late) = match organ {
        Organ::Kidney | Organ::Liver => (10.0, 6.0),
        Organ::Heart | Organ::Lung => (13.0, 8.0),
    };
    late + (early - late) * (-day / 120.0).exp()
}

/// Share of patients with IgG below 7 g/L in year 1 differs by organ
/// (docs/clinical-sources.md, section 2: lung 63%, heart 49%, kidney ~40%,
/// liver 16%): the early dip.
fn igg_dip(organ: Organ) -> f64 {
    match organ {
        Organ::Kidney => 0.25,
        Organ::Liver => 0.08,
        Organ::Heart => 0.3,
        Organ::Lung => 0.4,
    }
}

impl Clinical {
    /// The true state of `patient` on `day` after transplant at a contact of `kind`.
    pub(crate) fn at(patient: &Patient, day: f64, kind: IndexKind, rng: &mut impl Rng) -> Clinical {
        let years = day / 365.25;
        let age = patient.age_at_transplant + years;
        let early = (-day / 180.0).exp();
        let z = patient.frailty;

        let rejections_12m = patient
            .rejection_days
            .iter()
            .filter(|d| **d <= day && **d > day - 365.0)
            .count() as f64;
        let recent_rejection = patient.rejection_days.iter().any(|d| *d <= day && *d > day - 90.0);

        let egfr = match patient.organ {
            Organ::Kidney => {
                patient.egfr_baseline * (1.0 - 0.2 * (-day / 15.0).exp())
                    - 1.0 * years
                    - if recent_rejection { 10.0 } else { 0.0 }
            }
            _ => patient.egfr_baseline - 12.0 * (1.0 - (-day / 120.0).exp()) - 1.2 * years,
        } + gauss(rng, 5.0);
        let egfr_cap = if age >= 70.0 { 105.0 } else { 140.0 };
        let egfr = egfr.clamp(8.0, egfr_cap);

        let adherence = (patient.adherence - 2.0 * years.min(5.0) + gauss(rng, 3.0)).clamp(30.0, 100.0);
        let tacrolimus = (trough_target(patient.organ, day)
            * (patient.trough_deviation + gauss(rng, 0.22)).exp()
            * (adherence / 100.0).powf(1.5))
        .clamp(1.0, 22.0);

        let depletion = if patient.induction == Induction::Atg {
            0.75 * (-day / 120.0).exp()
        } else {
            0.0
        };
        let lymphocytes = (patient.lymphocyte_baseline * (1.0 - depletion) * (gauss(rng, 0.15)).exp()).clamp(0.05, 4.5);
        let igg = (patient.igg_baseline * (1.0 - igg_dip(patient.organ) * early) + gauss(rng, 0.8)).clamp(2.0, 18.0);
        let post_op = if kind == IndexKind::TransplantDischarge {
            0.45
        } else {
            0.45 * (-day / 30.0).exp()
        };
        let after_stay = if kind == IndexKind::HospitalDischarge {
            0.25
        } else {
            0.0
        };
        let albumin = (patient.albumin_baseline - post_op - after_stay + gauss(rng, 0.2)).clamp(2.0, 5.2);

        let organ_infections = match patient.organ {
            Organ::Kidney => 1.0,
            Organ::Liver | Organ::Heart => 1.2,
            Organ::Lung => 1.8,
        };
        let first_year = if (30.0..=365.0).contains(&day) { 1.8 } else { 1.0 };
        let infections_12m = poisson(rng, 0.22 * organ_infections * first_year * (0.5 * z).exp()).min(8.0);
        let admissions_mean = if kind == IndexKind::TransplantDischarge {
            0.5
        } else {
            0.35 * first_year
        };
        let hospitalizations_12m = (poisson(rng, admissions_mean * (0.6 * z).exp())
            + if kind == IndexKind::HospitalDischarge { 1.0 } else { 0.0 })
        .min(8.0);
        let ed_visits_6m = poisson(rng, 0.3 * (0.6 * z).exp()).min(8.0);

        let (length_of_stay, icu_days, emergency) = match kind {
            IndexKind::TransplantDischarge => (patient.transplant_stay, patient.transplant_icu, false),
            IndexKind::HospitalDischarge => {
                let stay = LogNormal::new(5f64.ln() + 0.15 * z, 0.6)
                    .map(|d| d.sample(rng))
                    .unwrap_or(5.0)
                    .round()
                    .clamp(1.0, 45.0);
                let icu = if bernoulli(rng, 0.15) {
                    (1.0 + poisson(rng, 1.5)).min(stay)
                } else {
                    0.0
                };
                (stay, icu, bernoulli(rng, 0.8))
            }
            IndexKind::ClinicVisit => (0.0, 0.0, false),
        };

        let phq9 = (3.0 + 3.0 * patient.mood + gauss(rng, 1.5)).round().clamp(0.0, 27.0);
        let gad7 = (2.0 + 2.2 * patient.mood + gauss(rng, 1.5)).round().clamp(0.0, 21.0);
        let self_harm = 1.0 / (1.0 + (6.0 - 0.25 * phq9).exp());
        let phq9_item9 = if bernoulli(rng, self_harm) {
            (1.0 + poisson(rng, 0.4)).min(3.0).min(phq9)
        } else {
            0.0
        };

        Clinical {
            organ: patient.organ,
            sex: patient.sex,
            cmv: patient.cmv,
            induction: patient.induction,
            days_since_transplant: day,
            age,
            bmi: (patient.bmi_at_transplant + 1.5 * (1.0 - (-day / 200.0).exp()) + gauss(rng, 0.4)).clamp(16.0, 46.0),
            diabetes: patient.diabetes_before || day >= patient.ptdm_onset_day,
            rejections_12m,
            egfr,
            tacrolimus,
            lymphocytes,
            igg,
            albumin,
            infections_12m,
            hospitalizations_12m,
            ed_visits_6m,
            length_of_stay,
            emergency,
            charlson: patient.charlson,
            icu_days,
            adherence,
            phq9,
            phq9_item9,
            gad7,
            lives_alone: patient.lives_alone,
            frailty: z,
        }
    }

    /// The record the CMS holds: rounded values, optional fields sometimes missing.
    ///
    /// Missingness (per snapshot, more often in maintenance for labs): tacrolimus
    /// absent for patients not on it and 8% of others; lymphocytes 15%; IgG 55%
    /// (not routine); albumin 20%; adherence 30%; questionnaires 45% (PHQ-9 item 9
    /// missing with its total); distance per patient 8%; tier absent at the
    /// first contact.
    pub(crate) fn observe(
        &self,
        patient: &Patient,
        case_id: String,
        current_tier: Option<Tier>,
        rng: &mut impl Rng,
    ) -> PatientRecord {
        let late = if self.days_since_transplant > 365.0 { 1.5 } else { 1.0 };
        let mut keep = |p_missing: f64| !bernoulli(rng, (p_missing * late).min(0.95));
        let tacrolimus = (patient.on_tacrolimus && keep(0.08)).then(|| round_to(self.tacrolimus, 1));
        let lymphocytes = keep(0.15).then(|| round_to(self.lymphocytes, 2));
        let igg = keep(0.55).then(|| round_to(self.igg, 1));
        let albumin = keep(0.2).then(|| round_to(self.albumin, 1));
        let adherence = keep(0.3).then(|| round_to(self.adherence, 1));
        let questionnaires = keep(0.45);
        let years_free = if self.rejections_12m > 0.0 || self.infections_12m > 0.0 {
            0
        } else {
            (self.days_since_transplant / 365.25).floor() as u32
        };
        PatientRecord {
            case_id,
            organ: self.organ,
            age_years: round_to(self.age, 1),
            sex: self.sex,
            days_since_transplant: self.days_since_transplant as u32,
            bmi: round_to(self.bmi, 1),
            diabetes: self.diabetes,
            cmv_serostatus: self.cmv,
            induction: self.induction,
            acute_rejection_episodes_12m: self.rejections_12m as u32,
            egfr_ml_min: round_to(self.egfr, 1),
            tacrolimus_trough_ng_ml: tacrolimus,
            lymphocyte_count_10e9_l: lymphocytes,
            igg_g_l: igg,
            albumin_g_dl: albumin,
            prior_infections_12m: self.infections_12m as u32,
            hospitalizations_12m: self.hospitalizations_12m as u32,
            ed_visits_6m: self.ed_visits_6m as u32,
            index_length_of_stay_days: self.length_of_stay as u32,
            emergency_admission: self.emergency,
            charlson_index: self.charlson as u32,
            icu_days: self.icu_days as u32,
            adherence_pct: adherence,
            phq9_score: questionnaires.then_some(self.phq9 as u32),
            phq9_item9: questionnaires.then_some(self.phq9_item9 as u32),
            gad7_score: questionnaires.then_some(self.gad7 as u32),
            lives_alone: self.lives_alone,
            distance_to_center_km: patient.distance_km.map(|d| round_to(d, 0)),
            current_tier,
            enrolled_in_program: patient.enrolled,
            years_without_complications: Some(years_free),
        }
    }
}
