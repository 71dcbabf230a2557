//! Injected noise: the mistakes patient-reported and hand-keyed values really
//! carry (unit mix-ups, extra digits, a peak level typed as a trough, miles
//! for km), applied to the *observed* record only. The true probabilities stay
//! those of the true values, and the row is flagged `injected_noise`.
//!
//! About 30% of noisy rows break a hard range or a cross-field rule (the
//! trainer must exclude them); the rest stay inside the hard ranges but raise a
//! plausibility warning. Every kind is detected by `carescore-core` validation.

use carescore_core::PatientRecord;
use rand::Rng;

/// Kinds that break a hard rule.
const ERROR_KINDS: &[fn(&mut PatientRecord, &mut dyn rand::RngCore)] = &[
    // Albumin in g/L instead of g/dL.
    |r, rng| r.albumin_g_dl = Some((r.albumin_g_dl.unwrap_or(3.9) * 10.0).max(20.0) + rng.gen_range(0.0..1.0)),
    // IgG in mg/dL instead of g/L.
    |r, _| r.igg_g_l = Some((r.igg_g_l.unwrap_or(9.0) * 100.0).max(200.0)),
    // Lymphocytes in cells/uL instead of 10^9/L.
    |r, _| r.lymphocyte_count_10e9_l = Some((r.lymphocyte_count_10e9_l.unwrap_or(1.2) * 1000.0).max(60.0)),
    // Weight in kg typed into the BMI field.
    |r, rng| r.bmi = (r.bmi * 2.9).max(70.5) + rng.gen_range(0.0..10.0_f64).round(),
    // More ICU days than the stay had.
    |r, rng| r.icu_days = r.index_length_of_stay_days + rng.gen_range(1..6),
    // An extra digit in the age.
    |r, _| r.age_years = (r.age_years * 10.0).max(111.0),
];

/// Kinds that stay in range but are implausible.
const WARNING_KINDS: &[fn(&mut PatientRecord, &mut dyn rand::RngCore)] = &[
    // A peak level reported as the trough.
    |r, rng| r.tacrolimus_trough_ng_ml = Some(rng.gen_range(26.0..45.0_f64).round()),
    // eGFR out of line with age, or beyond what equations report.
    |r, rng| {
        r.egfr_ml_min = if r.age_years >= 70.0 {
            rng.gen_range(115.0..140.0_f64).round()
        } else {
            rng.gen_range(155.0..195.0_f64).round()
        }
    },
    |r, rng| r.ed_visits_6m = rng.gen_range(11..31),
    |r, rng| r.hospitalizations_12m = rng.gen_range(11..21),
    // Miles or metres confusion on the distance.
    |r, rng| r.distance_to_center_km = Some(rng.gen_range(2100.0..4800.0_f64).round()),
    |r, rng| r.index_length_of_stay_days = rng.gen_range(61..200),
    |r, rng| {
        r.bmi = if rng.gen::<bool>() {
            rng.gen_range(12.5..14.9)
        } else {
            rng.gen_range(50.5..69.0)
        };
        r.bmi = (r.bmi * 10.0_f64).round() / 10.0;
    },
    // Albumin with a slipped decimal.
    |r, rng| r.albumin_g_dl = Some((rng.gen_range(5.6..6.4_f64) * 10.0).round() / 10.0),
    |r, rng| r.igg_g_l = Some(rng.gen_range(25.5..39.0_f64).round()),
    |r, rng| r.charlson_index = rng.gen_range(16..31),
    |r, rng| r.lymphocyte_count_10e9_l = Some(rng.gen_range(10.5..45.0_f64).round()),
];

/// Share of noisy rows that break a hard rule.
const ERROR_SHARE: f64 = 0.3;

/// Corrupts one observed value of `record`.
pub(crate) fn inject(record: &mut PatientRecord, rng: &mut impl rand::RngCore) {
    let kinds = if rng.gen::<f64>() < ERROR_SHARE {
        ERROR_KINDS
    } else {
        WARNING_KINDS
    };
    let kind = kinds[rng.gen_range(0..kinds.len())];
    kind(record, rng);
}
