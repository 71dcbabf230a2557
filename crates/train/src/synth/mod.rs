//! The synthetic historical cohort: CareScore's ground truth.
//!
//! Patients are drawn with organ-specific marginals ([`patient`]), followed
//! from their transplant date through a schedule of CMS contacts (transplant
//! discharge, clinic visits, later hospital discharges), and each contact
//! becomes one row: the patient record as the CMS would hold it, plus
//! `patient_id`, `index_date`, censored outcome times and events drawn from a
//! documented hazard model ([`hazard`]), the true fixed-horizon probabilities
//! (the oracle) and an `injected_noise` flag ([`noise`]).
//!
//! Censoring is independent of the outcomes: administrative (the study closes
//! on [`STUDY_END`]) plus loss to follow-up, a patient-level exponential
//! dropout whose rate makes the chance that a row's remaining follow-up ends by
//! dropout within 180 days equal `dropout_rate` (memorylessness makes this hold
//! for every row, whatever its position in the follow-up).
//!
//! Generation is sequential from one ChaCha8 stream seeded with `seed`, so the
//! same configuration always gives the same rows.

mod clinical;
mod hazard;
mod noise;
mod oracle;
mod patient;
mod summary;

use carescore_core::{PatientRecord, Tier};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

use clinical::{Clinical, IndexKind};
pub use oracle::{direct_effect, TrueState};
use patient::{bernoulli, Patient};
pub use summary::{CohortSummary, OrganRate};

/// Horizon of the infection outcome's true probability, days.
pub const INFECTION_HORIZON_DAYS: f64 = 180.0;
/// Horizon of the readmission outcome's true probability, days.
pub const READMISSION_HORIZON_DAYS: f64 = 30.0;

/// First possible transplant date, days since 1970-01-01 (2014-01-01).
pub const FIRST_TRANSPLANT: i32 = 16_071;
/// Last possible transplant date, days since 1970-01-01 (2025-09-30).
pub const LAST_TRANSPLANT: i32 = 20_361;
/// Administrative end of follow-up, days since 1970-01-01 (2025-12-31).
pub const STUDY_END: i32 = 20_453;

/// Nominal follow-up contacts, days after transplant (docs/clinical-sources.md,
/// section 4a cadence, thinned to the contacts a CMS snapshot is taken at).
const CONTACT_DAYS: [f64; 14] = [
    30.0, 60.0, 90.0, 135.0, 180.0, 270.0, 365.0, 540.0, 730.0, 1095.0, 1460.0, 1825.0, 2555.0, 3285.0,
];
/// Chance that a nominal contact produces a snapshot.
const CONTACT_RECORDED: f64 = 0.6;
/// Chance that a follow-up snapshot is a hospital discharge rather than a visit
/// (first year; halved later), raised by frailty.
const HOSPITAL_CONTACT: f64 = 0.14;
/// Share of rows with injected noise.
const NOISE_SHARE: f64 = 0.015;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthConfig {
    /// Number of rows (snapshots); at least 1.
    pub rows: usize,
    /// Seed of the random stream.
    pub seed: u64,
    /// Target share of rows whose follow-up ends by dropout within 180 days (0-0.9).
    pub dropout_rate: f64,
}

impl SynthConfig {
    /// Default dropout rate: with administrative censoring, about 13% of rows
    /// are censored before 180 days.
    pub const DEFAULT_DROPOUT_RATE: f64 = 0.10;
    /// Largest accepted dropout rate.
    pub const MAX_DROPOUT_RATE: f64 = 0.9;
}

/// Why a configuration cannot be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SynthError {
    /// `rows` is zero.
    #[error("--rows must be at least 1")]
    NoRows,
    /// `dropout_rate` is outside 0-0.9 (or not a number).
    #[error("--dropout-rate must be between 0 and 0.9 (the share of rows lost to follow-up before 180 days)")]
    DropoutRate,
}

/// One row of the synthetic cohort.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRow {
    /// Patient identifier (one patient has several rows).
    pub patient_id: u32,
    /// Index date, days since 1970-01-01.
    pub index_date: i32,
    /// The record as the CMS holds it (noise included when `injected_noise`).
    pub record: PatientRecord,
    /// Days from the index date to the first serious infection or to censoring.
    pub infection_time_days: u32,
    /// Whether `infection_time_days` ends in an infection (else censored).
    pub infection_event: bool,
    /// Days from the index date to the first unplanned readmission or to censoring.
    pub readmission_time_days: u32,
    /// Whether `readmission_time_days` ends in a readmission (else censored).
    pub readmission_event: bool,
    /// True probability of a serious infection within 180 days.
    pub true_p_infection_180d: f64,
    /// True probability of an unplanned readmission within 30 days.
    pub true_p_readmission_30d: f64,
    /// Whether an observed value was corrupted on purpose.
    pub injected_noise: bool,
    /// The true state the outcomes were drawn from: the oracle of
    /// counterfactual probabilities (not written to tables).
    pub truth: TrueState,
}

/// Checks a configuration.
///
/// # Errors
/// [`SynthError`] naming the offending option.
pub fn check(config: &SynthConfig) -> Result<(), SynthError> {
    if config.rows == 0 {
        return Err(SynthError::NoRows);
    }
    if !(0.0..=SynthConfig::MAX_DROPOUT_RATE).contains(&config.dropout_rate) {
        return Err(SynthError::DropoutRate);
    }
    Ok(())
}

/// Generates the cohort, calling `progress` with the number of rows made so far
/// every few thousand rows.
///
/// # Errors
/// [`SynthError`] for an invalid configuration.
pub fn generate(config: &SynthConfig, mut progress: impl FnMut(usize)) -> Result<Vec<SynthRow>, SynthError> {
    check(config)?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    // P(dropout within 180 days) = 1 - exp(-180 rate) = dropout_rate.
    let dropout_per_day = -(1.0 - config.dropout_rate).ln() / INFECTION_HORIZON_DAYS;
    let mut rows = Vec::with_capacity(config.rows);
    let mut patient_id = 0u32;
    while rows.len() < config.rows {
        patient_id += 1;
        let before = rows.len();
        follow_patient(patient_id, dropout_per_day, config.rows, &mut rng, &mut rows);
        if rows.len() / 4096 != before / 4096 {
            progress(rows.len());
        }
    }
    progress(rows.len());
    Ok(rows)
}

/// The contact days of one patient, in order, and their kinds.
fn schedule(patient: &Patient, rng: &mut ChaCha8Rng) -> Vec<(f64, IndexKind)> {
    let mut contacts = vec![(patient.transplant_stay, IndexKind::TransplantDischarge)];
    for nominal in CONTACT_DAYS {
        if !bernoulli(rng, CONTACT_RECORDED) {
            continue;
        }
        let day = (nominal * rng.gen_range(0.9..1.1_f64))
            .round()
            .max(patient.transplant_stay + 1.0);
        let p_hospital = HOSPITAL_CONTACT * if day > 365.0 { 0.5 } else { 1.0 } * (0.4 * patient.frailty).exp();
        let kind = if bernoulli(rng, p_hospital.min(0.8)) {
            IndexKind::HospitalDischarge
        } else {
            IndexKind::ClinicVisit
        };
        // Jitter and a long transplant stay can push contacts together: keep one per day.
        if contacts.last().is_some_and(|(last, _)| day > *last) {
            contacts.push((day, kind));
        }
    }
    contacts
}

/// Tier the CMS had the patient in, from the previous contact's true risks
/// (the design's default thresholds) with 20% of patients in another tier.
fn tier_after(previous: Option<(f64, f64)>, rng: &mut ChaCha8Rng) -> Option<Tier> {
    let (infection, readmission) = previous?;
    let tier = if infection > 0.20 || readmission > 0.25 {
        Tier::Intensive
    } else if infection > 0.10 || readmission > 0.12 {
        Tier::Remote
    } else {
        Tier::SelfService
    };
    if bernoulli(rng, 0.2) {
        return Some(Tier::ALL[rng.gen_range(0..Tier::ALL.len())]);
    }
    Some(tier)
}

/// Appends the rows of one patient (stopping at `limit` rows in all).
fn follow_patient(patient_id: u32, dropout_per_day: f64, limit: usize, rng: &mut ChaCha8Rng, rows: &mut Vec<SynthRow>) {
    let patient = Patient::draw(rng);
    let transplant_date = rng.gen_range(FIRST_TRANSPLANT..=LAST_TRANSPLANT);
    let dropout_day = if dropout_per_day > 0.0 {
        let e: f64 = Exp1.sample(rng);
        e / dropout_per_day
    } else {
        f64::INFINITY
    };
    let end_day = (f64::from(STUDY_END - transplant_date)).min(dropout_day);
    let mut previous_risk = None;
    for (visit, (day, kind)) in schedule(&patient, rng).into_iter().enumerate() {
        if day >= end_day || rows.len() >= limit {
            break;
        }
        let clinical = Clinical::at(&patient, day, kind, rng);
        let current_tier = tier_after(previous_risk, rng);
        let case_id = format!("c-{patient_id:07}-{visit:02}");
        let mut record = clinical.observe(&patient, case_id, current_tier, rng);

        let infection = hazard::infection(&clinical);
        let readmission = hazard::readmission(&clinical);
        let p_infection = infection.probability_by(INFECTION_HORIZON_DAYS);
        let p_readmission = readmission.probability_by(READMISSION_HORIZON_DAYS);
        previous_risk = Some((p_infection, p_readmission));

        let follow_up = end_day - day;
        let (infection_time_days, infection_event) = outcome(&infection, follow_up, rng);
        let (readmission_time_days, readmission_event) = outcome(&readmission, follow_up, rng);

        let injected_noise = bernoulli(rng, NOISE_SHARE);
        if injected_noise {
            noise::inject(&mut record, rng);
        }
        rows.push(SynthRow {
            patient_id,
            index_date: transplant_date + day as i32,
            record,
            infection_time_days,
            infection_event,
            readmission_time_days,
            readmission_event,
            true_p_infection_180d: round6(p_infection),
            true_p_readmission_30d: round6(p_readmission),
            injected_noise,
            truth: TrueState::new(clinical),
        });
    }
}

/// Draws the observed (time, event) of one outcome with `follow_up` days of
/// follow-up: an event at `ceil(t)` (at least day 1) if it comes first, else
/// censoring at `floor(follow_up)`.
fn outcome(hazard: &hazard::CumulativeHazard, follow_up: f64, rng: &mut ChaCha8Rng) -> (u32, bool) {
    let e: f64 = Exp1.sample(rng);
    if e < hazard.at(follow_up) {
        (hazard.invert(e).ceil().max(1.0) as u32, true)
    } else {
        (follow_up.floor() as u32, false)
    }
}

fn round6(p: f64) -> f64 {
    (p * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests;
