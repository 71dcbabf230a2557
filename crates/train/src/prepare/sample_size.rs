//! The minimum sample size of a prediction model for a binary outcome
//! (Riley et al., "Calculating the sample size required for developing a
//! clinical prediction model", BMJ 2020;368:m441, criteria 1-3), and the
//! floor below which no model is fitted at all.
//!
//! The anticipated Cox-Snell R² is taken as 15% of its maximum for the
//! observed event rate (the paper's conservative default when no previous
//! model reports one); the candidate parameters are the design columns of
//! the logistic model (one-hot categories and missing-value indicators each
//! count).

use carescore_core::artifact::{design_width, DesignKind};
use serde::Serialize;

use super::{Cohort, Labelled};
use crate::model::design::signature;
use crate::rows::TableRow;
use crate::target::Target;

/// Target shrinkage of criterion 1 (expected uniform shrinkage at least 0.9).
pub const TARGET_SHRINKAGE: f64 = 0.9;
/// Criterion 2: optimism in Nagelkerke's R² at most 0.05.
pub const MAX_OPTIMISM: f64 = 0.05;
/// Criterion 3: the overall risk estimated within ±0.05 (95% interval).
pub const INTERCEPT_MARGIN: f64 = 0.05;
/// The anticipated Cox-Snell R² as a share of its maximum.
pub const R2_SHARE_OF_MAX: f64 = 0.15;
/// Fewest rows of the rarer class (events, or non-events) a fit accepts.
pub const MIN_MINORITY: usize = 10;
/// Fewest labelled rows a fit accepts.
pub const MIN_ROWS: usize = 20;
/// Patients from which a data set counts as large: one patient-grouped
/// fold of it (4,000 patients or more) estimates a model's performance
/// precisely enough to compare families on and to report (an AUC interval of
/// about ±0.02 at typical event rates), so the pipeline validates on an
/// untouched hold-out and selects on a validation fold instead of nesting and
/// repeating cross-validation.
pub const LARGE_DATA_PATIENTS: usize = 20_000;

/// The sample size a data set has, and the one Riley's criteria ask for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSize {
    /// Labelled rows that fit the model.
    pub rows: usize,
    /// Among them, rows with the event.
    pub events: usize,
    /// Distinct patients behind the rows (0 when not counted).
    pub patients: usize,
    /// Candidate parameters (logistic design columns).
    pub parameters: usize,
    /// Anticipated Cox-Snell R² (15% of its maximum).
    pub anticipated_r2_cs: f64,
    /// Rows each criterion asks for: shrinkage, optimism, overall risk.
    pub required_by_criterion: [usize; 3],
    /// The largest of them.
    pub required_rows: usize,
    /// Events the required rows would hold at the observed event rate.
    pub required_events: usize,
    /// Events per candidate parameter in the data.
    pub events_per_parameter: f64,
}

impl SampleSize {
    /// Whether the data have fewer rows than the criteria ask for.
    pub fn is_short(&self) -> bool {
        self.rows < self.required_rows
    }

    /// The warning for a short data set, naming the numbers.
    pub fn warning(&self) -> Option<String> {
        let repeated = if self.patients > 0 && self.patients < self.rows {
            format!(
                "; the rows are snapshots of {} patients, and Riley's n counts participants, so the data are shorter \
                 than this",
                self.patients
            )
        } else {
            String::new()
        };
        self.is_short().then(|| {
            format!(
                "{} labelled rows ({} events, {:.1} per parameter) are fewer than the {} rows ({} events) that Riley \
                 et al. (BMJ 2020) criteria ask for with {} candidate parameters and an anticipated Cox-Snell R² of \
                 {:.3}: expect an optimistic fit, a calibration slope below 1 on new patients and wide intervals{repeated}",
                self.rows,
                self.events,
                self.events_per_parameter,
                self.required_rows,
                self.required_events,
                self.parameters,
                self.anticipated_r2_cs
            )
        })
    }
}

/// Rows for a model of `parameters` parameters to reach expected shrinkage `s` at Cox-Snell R² `r2`.
fn rows_for_shrinkage(parameters: f64, s: f64, r2: f64) -> f64 {
    parameters / ((s - 1.0) * (1.0 - r2 / s).ln())
}

/// Riley's criteria 1-3 for `rows` labelled rows with `events` events and
/// `parameters` candidate parameters. An event rate of 0 or 1 asks for
/// nothing computable; [`check_floor`] refuses such data first.
pub fn riley(rows: usize, events: usize, parameters: usize) -> SampleSize {
    let n = rows.max(1) as f64;
    let phi = (events as f64 / n).clamp(1e-9, 1.0 - 1e-9);
    let p = parameters.max(1) as f64;
    // ln L_null / n of an intercept-only model, and the largest R²_CS it allows.
    let null_log_likelihood = phi * phi.ln() + (1.0 - phi) * (1.0 - phi).ln();
    let max_r2 = 1.0 - (2.0 * null_log_likelihood).exp();
    let r2 = R2_SHARE_OF_MAX * max_r2;
    let criterion_1 = rows_for_shrinkage(p, TARGET_SHRINKAGE, r2);
    let shrinkage_2 = r2 / (r2 + MAX_OPTIMISM * max_r2);
    let criterion_2 = rows_for_shrinkage(p, shrinkage_2, r2);
    let criterion_3 = (1.96 / INTERCEPT_MARGIN).powi(2) * phi * (1.0 - phi);
    let required_by_criterion = [criterion_1, criterion_2, criterion_3].map(|c| c.ceil() as usize);
    let required_rows = required_by_criterion.into_iter().max().unwrap_or(0);
    SampleSize {
        rows,
        events,
        patients: 0,
        parameters,
        anticipated_r2_cs: r2,
        required_by_criterion,
        required_rows,
        required_events: (required_rows as f64 * phi).ceil() as usize,
        events_per_parameter: events as f64 / p,
    }
}

/// The sample size of the development rows `dev` of `cohort` for `target`
/// against Riley's criteria (rows and events counted with their copies),
/// the candidate parameters counted as the design columns of the logistic
/// model the rows would give.
pub fn of_rows(cohort: &Cohort<'_>, target: Target, dev: &Labelled) -> SampleSize {
    // A bootstrap resample's drawn patients count as often as drawn.
    let (rows, events) = dev.counted();
    let records: Vec<&TableRow> = dev.records.iter().map(|&i| &cohort.dataset().records[i]).collect();
    let parameters = design_width(&signature(target, &records), DesignKind::Linear);
    SampleSize {
        patients: dev.patients(),
        ..riley(rows, events, parameters)
    }
}

/// Refuses data too small for any model: fewer than [`MIN_ROWS`] labelled
/// rows, or fewer than [`MIN_MINORITY`] events or non-events.
///
/// # Errors
/// The reason, with the counts.
pub fn check_floor(rows: usize, events: usize) -> Result<(), String> {
    let non_events = rows - events.min(rows);
    if rows < MIN_ROWS {
        return Err(format!(
            "{rows} labelled rows are too few to fit and validate a model (at least {MIN_ROWS})"
        ));
    }
    if events < MIN_MINORITY {
        return Err(format!(
            "{events} events among {rows} labelled rows are too few to fit and validate a model (at least \
             {MIN_MINORITY})"
        ));
    }
    if non_events < MIN_MINORITY {
        return Err(format!(
            "{non_events} rows without the event among {rows} labelled rows are too few to fit and validate a model \
             (at least {MIN_MINORITY})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_criteria_by_hand() {
        // Event rate 0.2, 30 parameters. ln L_null / n = 0.2 ln 0.2 + 0.8 ln 0.8
        // = -0.500402; max R²_CS = 1 - e^-1.000805 = 0.632417; R²_CS = 0.0948625.
        // Criterion 1: 30 / (-0.1 ln(1 - 0.0948625 / 0.9)) = 2,693.4 → 2,694.
        // Criterion 2: S = 0.0948625 / (0.0948625 + 0.0316208) = 0.75;
        //   30 / (-0.25 ln(1 - 0.126483)) = 887.4 → 888.
        // Criterion 3: (1.96 / 0.05)² 0.2 · 0.8 = 245.9 → 246. Events: 2,694 · 0.2 → 539.
        let s = riley(1_000, 200, 30);
        assert_eq!(s.required_by_criterion, [2_694, 888, 246], "{s:?}");
        assert_eq!(s.required_rows, 2_694);
        assert_eq!(s.required_events, 539);
        assert!((s.anticipated_r2_cs - 0.094869).abs() < 1e-5);
        assert!((s.events_per_parameter - 200.0 / 30.0).abs() < 1e-12);
        assert!(s.is_short());
        assert!(s.warning().unwrap().contains("2694 rows"), "{:?}", s.warning());
        assert!(!riley(3_000, 600, 30).is_short());
        assert_eq!(riley(3_000, 600, 30).warning(), None);
    }

    #[test]
    fn the_floor_names_what_is_missing() {
        assert!(check_floor(19, 10).unwrap_err().contains("19 labelled rows"));
        assert!(check_floor(60, 9).unwrap_err().contains("9 events"));
        assert!(check_floor(60, 55).unwrap_err().contains("5 rows without the event"));
        assert_eq!(check_floor(20, 10), Ok(()));
    }
}
