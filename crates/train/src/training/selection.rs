//! Model selection among the candidate families, two ways by data size:
//!
//! - below [`CV_SELECTION_MAX_PATIENTS`] patients, by repeated
//!   patient-grouped cross-validation of each family's default settings
//!   ([`crate::evaluation::cross_validate`], [`SELECTION_REPEATS`] repeats)
//!   with the one-standard-error rule: the first family, in the complexity
//!   order of [`crate::family::FAMILIES`] (logistic, forest, boosted trees),
//!   whose mean Brier score is within one standard error of the best. One
//!   validation fold of a small table is too noisy to choose on, and a
//!   simpler model that is as good is the safer one. Only the chosen family
//!   is then fitted with its tuning ([`super::fit`]).
//! - from there on, every family is fitted with its tuning and compared by
//!   the Brier score of its calibrated predictions on the rows every
//!   candidate held out (a validation fold of thousands of patients is
//!   precise enough), the lowest kept.
//!
//! A family whose estimator learned nothing (a booster that kept no tree,
//! trees that found no split: the same output for every patient) is
//! reported and not offered; the next candidate is fitted instead.
//!
//! When the data have fewer rows than Riley's criteria ask for even for the
//! logistic model ([`crate::prepare::sample_size`]), the flexible families
//! ([`ModelFamily::flexible`]: the tree ensembles, which need several times
//! more data) are held back and not compared ([`HeldBack`]): on a centre's
//! hundred patients, a comparison that can pick a forest by chance picks a
//! worse model about as often as a better one. `--model forest` or `gbdt`
//! still fits one.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{fit, Fitted};
use crate::evaluation::{cross_validate, Scored};
use crate::family::ModelFamily;
use crate::prepare::sample_size::{of_rows, LARGE_DATA_PATIENTS};
use crate::prepare::{development_rows, Cohort, FitOptions, Labelled, TrainError};

/// Below this many patients, families are chosen by repeated cross-validation.
pub const CV_SELECTION_MAX_PATIENTS: usize = LARGE_DATA_PATIENTS;
/// Repeats of the selection's cross-validation.
pub const SELECTION_REPEATS: usize = 2;

/// How the families were compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum SelectionMethod {
    /// Mean Brier score of default settings over repeated folds, one-standard-error rule.
    RepeatedCv {
        /// Folds per repeat.
        folds: usize,
        /// Repeats.
        repeats: usize,
    },
    /// Brier score of the tuned, calibrated fits on the rows all held out.
    CommonHeldout,
    /// One family requested or offered: nothing to compare.
    Single,
}

impl SelectionMethod {
    /// The method in words.
    pub fn describe(&self) -> String {
        match self {
            SelectionMethod::RepeatedCv { folds, repeats } => format!(
                "mean Brier score of each family's default settings over {repeats} x {folds}-fold patient-grouped \
                 cross-validation, keeping the simplest family (logistic, forest, boosted trees) within one standard \
                 error of the best"
            ),
            SelectionMethod::CommonHeldout => {
                "Brier score of each tuned, calibrated family on the rows every family held out, keeping the lowest"
                    .to_string()
            }
            SelectionMethod::Single => "one family requested or offered".to_string(),
        }
    }
}

/// Flexible families held back because the data fall short of Riley's
/// minimum for the logistic model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldBack {
    /// The families held back.
    pub families: Vec<&'static str>,
    /// Labelled development rows.
    pub rows: usize,
    /// The rows Riley's criteria ask for.
    pub required_rows: usize,
}

impl HeldBack {
    /// What was held back and why, for the card and the command line.
    pub fn describe(&self) -> String {
        format!(
            "{} not offered: {} labelled rows are fewer than the {} that Riley et al. (BMJ 2020) criteria ask for \
             even for the logistic model, and tree ensembles need several times more (van der Ploeg et al. 2014); \
             `--model {}` fits one anyway",
            self.families.join(" and "),
            self.rows,
            self.required_rows,
            self.families.first().copied().unwrap_or("forest"),
        )
    }
}

/// One candidate's score in the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Candidate {
    /// The family.
    pub family: &'static str,
    /// Its Brier score (lower is better).
    pub brier: f64,
    /// Standard error of that mean over the folds (repeated cross-validation only).
    pub standard_error: Option<f64>,
}

/// The chosen fit and how the candidates compared.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The chosen family's fit.
    pub chosen: Fitted,
    /// How the families were compared.
    pub method: SelectionMethod,
    /// Each candidate's score, in the order of the families.
    pub candidates: Vec<Candidate>,
    /// Families that learned nothing, with what they kept; not offered.
    pub not_offered: Vec<(&'static str, String)>,
    /// Flexible families held back on data too small for them.
    pub held_back: Option<HeldBack>,
}

/// What a family that learned nothing kept, for the report.
fn nothing_learned(fitted: &Fitted) -> Option<String> {
    use carescore_core::artifact::Estimator;
    if !fitted.artifact.estimator.is_constant() {
        return None;
    }
    Some(match &fitted.artifact.estimator {
        Estimator::BoostedTrees { trees, .. } if trees.is_empty() => "kept no tree".to_string(),
        Estimator::BoostedTrees { trees, .. } | Estimator::RandomForest { trees } => {
            format!("none of its {} trees found a split", trees.len())
        }
        Estimator::Logistic { .. } => "every coefficient is zero".to_string(),
    })
}

/// What [`select`] reports while it works, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A family's fit starts.
    Fitting(&'static str),
    /// A family's fit is done.
    Fitted(&'static str),
}

/// Chooses among `families` on `cohort` (see the module) and fits the choice.
///
/// # Errors
/// [`TrainError::NoFamilies`] for an empty list, [`TrainError::NothingLearned`]
/// when no family learned anything; otherwise the first failure, as [`fit`].
pub fn select(
    cohort: &Cohort<'_>,
    options: FitOptions,
    families: &[&dyn ModelFamily],
    progress: &mut dyn FnMut(Progress),
) -> Result<Selection, TrainError> {
    if families.is_empty() {
        return Err(TrainError::NoFamilies);
    }
    if families.len() == 1 {
        return select_by_common_heldout(cohort, options, families, progress);
    }
    let dev = development_rows(cohort, options)?;
    let patients = dev.patients();
    let (offered, held_back) = if patients < CV_SELECTION_MAX_PATIENTS {
        offered_families(cohort, options, &dev, families)
    } else {
        (families.to_vec(), None)
    };
    let mut selection = if offered.len() > 1 && patients < CV_SELECTION_MAX_PATIENTS {
        select_by_cross_validation(cohort, options, &offered, progress)?
    } else {
        select_by_common_heldout(cohort, options, &offered, progress)?
    };
    selection.held_back = held_back;
    Ok(selection)
}

/// The families to compare on the development rows `dev`: all of them, or,
/// when the rows fall short of Riley's minimum for the logistic model, only
/// the families that are not flexible (if any), the others held back.
fn offered_families<'f>(
    cohort: &Cohort<'_>,
    options: FitOptions,
    dev: &Labelled,
    families: &[&'f dyn ModelFamily],
) -> (Vec<&'f dyn ModelFamily>, Option<HeldBack>) {
    let (flexible, simple): (Vec<_>, Vec<_>) = families.iter().copied().partition(|f| f.flexible());
    if flexible.is_empty() || simple.is_empty() {
        return (families.to_vec(), None);
    }
    let size = of_rows(cohort, options.target, dev);
    if !size.is_short() {
        return (families.to_vec(), None);
    }
    let held_back = HeldBack {
        families: flexible.iter().map(|f| f.name()).collect(),
        rows: size.rows,
        required_rows: size.required_rows,
    };
    (simple, Some(held_back))
}

/// The error when every family learned nothing.
fn nothing_learned_error(options: FitOptions, not_offered: &[(&'static str, String)]) -> TrainError {
    let tried: Vec<String> = not_offered.iter().map(|(f, kept)| format!("{f} {kept}")).collect();
    TrainError::NothingLearned {
        target: options.target_name(),
        reason: format!(
            "no model family learned anything from these data ({}); more rows or events, or `--model logistic`, may help",
            tried.join("; ")
        ),
    }
}

/// Repeated cross-validation of the default settings, the one-standard-error
/// rule, then the chosen family fitted (the next in line if it learns nothing).
fn select_by_cross_validation(
    cohort: &Cohort<'_>,
    options: FitOptions,
    families: &[&dyn ModelFamily],
    progress: &mut dyn FnMut(Progress),
) -> Result<Selection, TrainError> {
    let results = cross_validate(cohort, options, SELECTION_REPEATS, families, &|_| {})?.results;
    let candidates: Vec<Candidate> = results
        .iter()
        .map(|r| Candidate {
            family: r.candidate,
            brier: r.brier,
            standard_error: Some(r.brier_sd / (r.evaluations.max(1) as f64).sqrt()),
        })
        .collect();
    let mut not_offered = Vec::new();
    for i in one_standard_error_order(&candidates) {
        let family = families[i];
        progress(Progress::Fitting(family.name()));
        let fitted = fit(cohort, options, family)?;
        progress(Progress::Fitted(family.name()));
        match nothing_learned(&fitted) {
            Some(kept) => not_offered.push((family.name(), kept)),
            None => {
                return Ok(Selection {
                    chosen: fitted,
                    method: SelectionMethod::RepeatedCv {
                        folds: options.folds,
                        repeats: SELECTION_REPEATS,
                    },
                    candidates,
                    not_offered,
                    held_back: None,
                })
            }
        }
    }
    Err(nothing_learned_error(options, &not_offered))
}

/// The order to try `candidates` in (given simplest first): the simplest
/// whose mean Brier score is within one standard error of the best, then the
/// others by score.
fn one_standard_error_order(candidates: &[Candidate]) -> Vec<usize> {
    let Some(best) = candidates.iter().min_by(|a, b| a.brier.total_cmp(&b.brier)) else {
        return Vec::new();
    };
    let limit = best.brier + best.standard_error.unwrap_or(0.0);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    let first = order.iter().position(|&i| candidates[i].brier <= limit).unwrap_or(0);
    let chosen = order.remove(first);
    order.sort_by(|&a, &b| candidates[a].brier.total_cmp(&candidates[b].brier));
    order.insert(0, chosen);
    order
}

/// Every family fitted with its tuning, compared on the rows all held out.
fn select_by_common_heldout(
    cohort: &Cohort<'_>,
    options: FitOptions,
    families: &[&dyn ModelFamily],
    progress: &mut dyn FnMut(Progress),
) -> Result<Selection, TrainError> {
    let mut fits: Vec<Fitted> = Vec::with_capacity(families.len());
    let mut not_offered = Vec::new();
    for family in families {
        progress(Progress::Fitting(family.name()));
        let fitted = fit(cohort, options, *family)?;
        progress(Progress::Fitted(family.name()));
        match nothing_learned(&fitted) {
            Some(kept) => not_offered.push((family.name(), kept)),
            None => fits.push(fitted),
        }
    }
    if fits.is_empty() {
        return Err(nothing_learned_error(options, &not_offered));
    }
    // A family may hold out every row (out-of-fold) or one validation fold:
    // compare them on the rows all held out.
    let scores = common_heldout_brier(&fits.iter().map(|c| &c.heldout).collect::<Vec<_>>());
    let best = (0..fits.len())
        .reduce(|best, i| if scores[i] < scores[best] { i } else { best })
        .ok_or(TrainError::NoFamilies)?;
    let candidates = fits
        .iter()
        .zip(&scores)
        .map(|(c, b)| Candidate {
            family: c.family,
            brier: *b,
            standard_error: None,
        })
        .collect();
    Ok(Selection {
        chosen: fits.swap_remove(best),
        method: if families.len() == 1 {
            SelectionMethod::Single
        } else {
            SelectionMethod::CommonHeldout
        },
        candidates,
        not_offered,
        held_back: None,
    })
}

/// Each candidate's weighted Brier score on the rows that every candidate
/// held out (its calibrated held-out predictions), so families that hold out
/// different rows are compared on the same ones.
pub fn common_heldout_brier(candidates: &[&Scored]) -> Vec<f64> {
    let mut common: Option<BTreeSet<usize>> = None;
    for c in candidates {
        let rows: BTreeSet<usize> = c.records.iter().copied().collect();
        common = Some(match common {
            None => rows,
            Some(before) => before.intersection(&rows).copied().collect(),
        });
    }
    let common = common.unwrap_or_default();
    candidates
        .iter()
        .map(|h| {
            let (mut sum, mut total) = (0.0, 0.0);
            for i in 0..h.p.len() {
                if common.contains(&h.records[i]) {
                    let y = f64::from(u8::from(h.y[i]));
                    sum += h.w[i] * (h.p[i] - y).powi(2);
                    total += h.w[i];
                }
            }
            if total > 0.0 {
                sum / total
            } else {
                f64::INFINITY
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simplest_family_within_one_standard_error_goes_first() {
        let candidate = |family, brier, se| Candidate {
            family,
            brier,
            standard_error: Some(se),
        };
        // Boosting is best by more than its standard error: it goes first.
        let clear = [
            candidate("logistic", 0.110, 0.002),
            candidate("forest", 0.109, 0.001),
            candidate("gbdt", 0.105, 0.002),
        ];
        assert_eq!(one_standard_error_order(&clear), [2, 1, 0]);
        // Logistic is within one standard error of the best: the simpler one wins.
        let close = [
            candidate("logistic", 0.1092, 0.001),
            candidate("forest", 0.1100, 0.001),
            candidate("gbdt", 0.1089, 0.0015),
        ];
        assert_eq!(one_standard_error_order(&close), [0, 2, 1]);
        assert!(one_standard_error_order(&[]).is_empty());
    }

    #[test]
    fn candidates_are_compared_on_the_rows_all_held_out() {
        // Out-of-fold on rows 0-3; a validation fold of rows 2-3 only.
        let everywhere = Scored {
            records: vec![0, 1, 2, 3],
            p: vec![0.9, 0.9, 0.2, 0.8],
            y: vec![false, false, false, true],
            w: vec![1.0, 1.0, 1.0, 3.0],
        };
        let fold = Scored {
            records: vec![3, 2],
            p: vec![0.5, 0.5],
            y: vec![true, false],
            w: vec![3.0, 1.0],
        };
        let briers = common_heldout_brier(&[&everywhere, &fold]);
        // Rows 2 and 3 only: (1 * 0.04 + 3 * 0.04) / 4 and (3 * 0.25 + 1 * 0.25) / 4.
        assert!((briers[0] - 0.04).abs() < 1e-12, "{briers:?}");
        assert!((briers[1] - 0.25).abs() < 1e-12, "{briers:?}");
    }
}
