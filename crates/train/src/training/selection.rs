//! Model selection: every candidate family fitted by the same pipeline on
//! the same cohort ([`super::fit`]), compared by the weighted Brier score of
//! their calibrated predictions on the rows every candidate held out, the
//! lowest kept (ties keep the earlier, simpler family). A family whose
//! estimator learned nothing (a booster that kept no tree, trees that found
//! no split: the same output for every patient) is reported and not offered.

use std::collections::BTreeSet;

use super::{fit, Fitted};
use crate::evaluation::Scored;
use crate::family::ModelFamily;
use crate::prepare::{Cohort, FitOptions, TrainError};

/// The chosen fit and how the candidates compared.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The chosen family's fit.
    pub chosen: Fitted,
    /// Each candidate's held-out Brier score on the rows all held out, in the order tried.
    pub briers: Vec<(&'static str, f64)>,
    /// Families that learned nothing, with what they kept; not offered.
    pub not_offered: Vec<(&'static str, String)>,
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

/// Fits every family of `families` on `cohort` and keeps the one with the
/// lowest held-out Brier score on the common held-out rows.
///
/// # Errors
/// [`TrainError::NoFamilies`] for an empty list, [`TrainError::NothingLearned`]
/// when no family learned anything; otherwise the first candidate's
/// failure, as [`fit`].
pub fn select(
    cohort: &Cohort<'_>,
    options: FitOptions,
    families: &[&dyn ModelFamily],
    progress: &mut dyn FnMut(Progress),
) -> Result<Selection, TrainError> {
    if families.is_empty() {
        return Err(TrainError::NoFamilies);
    }
    let mut candidates: Vec<Fitted> = Vec::with_capacity(families.len());
    let mut not_offered = Vec::new();
    for family in families {
        progress(Progress::Fitting(family.name()));
        let fitted = fit(cohort, options, *family)?;
        progress(Progress::Fitted(family.name()));
        match nothing_learned(&fitted) {
            Some(kept) => not_offered.push((family.name(), kept)),
            None => candidates.push(fitted),
        }
    }
    if candidates.is_empty() {
        let tried: Vec<String> = not_offered.iter().map(|(f, kept)| format!("{f} {kept}")).collect();
        return Err(TrainError::NothingLearned {
            target: options.target_name(),
            reason: format!(
                "no model family learned anything from these data ({}); more rows or events, or `--model logistic`, may help",
                tried.join("; ")
            ),
        });
    }
    // Families hold out different rows (out-of-fold for logistic, the
    // validation fold for trees): compare them on the rows all held out.
    let scores = common_heldout_brier(&candidates.iter().map(|c| &c.heldout).collect::<Vec<_>>());
    let best = (0..candidates.len())
        .reduce(|best, i| if scores[i] < scores[best] { i } else { best })
        .ok_or(TrainError::NoFamilies)?;
    let briers = candidates.iter().zip(&scores).map(|(c, b)| (c.family, *b)).collect();
    Ok(Selection {
        chosen: candidates.swap_remove(best),
        briers,
        not_offered,
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
