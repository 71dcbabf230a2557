//! L2-regularised logistic regression over the linear design (standardised
//! numerics, one-hot categories, missing-value indicators), its penalty chosen
//! by patient-grouped k-fold cross-validation (from
//! [`crate::prepare::sample_size::LARGE_DATA_PATIENTS`] patients on, on one validation fold, as the tree
//! families do); the held-out scores of the chosen penalty calibrate it.

use std::time::Instant;

use carescore_core::artifact::{sigmoid, DesignKind, Estimator, Metric};

use super::{tunes_on_one_fold, FamilyFit, ModelFamily, Tuning};
use crate::cores::on_all_cores;
use crate::model::design::Design;
use crate::model::loss::{log_loss, mean_log_loss, paired_difference};
use crate::model::regression;
use crate::prepare::fit_error;
use crate::prepare::folds::CvSplit;
use crate::prepare::{FitOptions, Prepared, TrainError};

/// Penalties tried by cross-validation, a decade apart; the half-decades on
/// either side of the best are tried next ([`refinements`]).
const L2_GRID: [f64; 6] = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0];

/// The penalties half a decade on either side of `l2` (the cross-validated
/// log-loss can change by several per cent between two decades, as much as
/// between families on a small table; refining around the best costs two
/// fits per fold instead of a grid twice as fine).
fn refinements(l2: f64) -> [f64; 2] {
    let half_decade = 10f64.sqrt();
    [l2 / half_decade, l2 * half_decade]
}

/// The default penalty: `cv`'s setting, and the one tuning keeps unless
/// another clearly beats it ([`default_unless_beaten`]).
const DEFAULT_L2: f64 = 1.0;

/// The logistic regression family.
#[derive(Debug, Clone, Copy)]
pub struct Logistic;

/// Fits penalty `l2` on every row outside `test_fold`; returns the raw scores of `test_rows`.
fn fold_raw(
    design: &Design,
    prepared: &Prepared,
    folds: &[usize],
    test_fold: usize,
    l2: f64,
    options: &FitOptions,
) -> Result<Vec<(usize, f64)>, TrainError> {
    let data = &prepared.data;
    let train_w: Vec<f64> = data
        .w
        .iter()
        .zip(folds)
        .map(|(w, f)| if *f == test_fold { 0.0 } else { *w })
        .collect();
    let fit = regression::fit(&design.values, design.cols, &data.y, &train_w, l2).map_err(fit_error(options))?;
    Ok((0..folds.len())
        .filter(|&i| folds[i] == test_fold)
        .map(|i| (i, regression::raw(&fit, design.row(i))))
        .collect())
}

/// A penalty as text, to three significant digits (`0.01`, `3.16`, `1000`).
fn penalty_text(l2: f64) -> String {
    let digits = (2 - l2.log10().floor() as i32).max(0) as usize;
    let text = format!("{l2:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// One penalty's held-out fit.
struct Tried {
    l2: f64,
    /// Weighted mean log-loss of the held-out rows.
    loss: f64,
    /// The held-out rows' raw scores.
    raw: Vec<f64>,
}

/// The penalty with the lowest held-out log-loss (the first tried on a tie).
fn lowest(tried: &[Tried]) -> Option<&Tried> {
    tried.iter().reduce(|best, t| if t.loss < best.loss { t } else { best })
}

/// The default penalty ([`DEFAULT_L2`]) unless the penalty with the lowest
/// held-out log-loss beats it by more than one standard error of the paired
/// difference (clustered by patient): the rule that keeps Platt scaling
/// unless isotonic regression clearly wins. On a few hundred patients the
/// held-out log-loss of neighbouring penalties differs by less than its
/// noise, and a penalty chosen on that noise ranks fresh patients worse than
/// the default (on the public survival tables of `benches/public/`). The
/// held-out rows' labels `y`, weights `w` and patients `groups` are in the
/// order of every [`Tried::raw`].
fn default_unless_beaten(tried: Vec<Tried>, y: &[bool], w: &[f64], groups: &[i64]) -> Option<Tried> {
    let best = lowest(&tried)?;
    let chosen = match tried.iter().find(|t| t.l2 == DEFAULT_L2) {
        Some(default) if default.l2 != best.l2 => {
            let losses =
                |t: &Tried| -> Vec<f64> { t.raw.iter().zip(y).map(|(r, y)| log_loss(sigmoid(*r), *y)).collect() };
            let (gain, standard_error) = paired_difference(&losses(default), &losses(best), w, groups);
            if gain > standard_error {
                best.l2
            } else {
                DEFAULT_L2
            }
        }
        _ => best.l2,
    };
    tried.into_iter().find(|t| t.l2 == chosen)
}

impl ModelFamily for Logistic {
    fn name(&self) -> &'static str {
        "logistic"
    }

    fn fit(&self, prepared: &Prepared, options: &FitOptions) -> Result<FamilyFit, TrainError> {
        let data = &prepared.data;
        let design = Design::encode(&prepared.features, DesignKind::Linear, &prepared.records);
        let started = Instant::now();
        // Every fold held out in turn; on large data one validation fold is
        // precise enough and saves four fits per penalty.
        let large = tunes_on_one_fold(prepared);
        let tuning_folds: Vec<usize> = if large { vec![0] } else { (0..prepared.k).collect() };
        let heldout: Vec<usize> = (0..data.y.len())
            .filter(|&i| tuning_folds.contains(&prepared.folds[i]))
            .collect();
        let position: std::collections::HashMap<usize, usize> =
            heldout.iter().enumerate().map(|(j, &i)| (i, j)).collect();
        let mut tuning = Vec::new();
        // Every penalty tried, in the order tried.
        let mut tried: Vec<Tried> = Vec::new();
        // Penalty `l2`'s held-out log-loss and raw scores.
        let cross_validated = |l2: f64| -> Result<Tried, TrainError> {
            let mut raw = vec![0.0; heldout.len()];
            for &fold in &tuning_folds {
                for (i, r) in fold_raw(&design, prepared, &prepared.folds, fold, l2, options)? {
                    raw[position[&i]] = r;
                }
            }
            let loss = mean_log_loss(heldout.iter().zip(&raw).map(|(&i, r)| (*r, data.y[i], data.w[i])));
            Ok(Tried { l2, loss, raw })
        };
        for stage in 0..2 {
            let penalties = match (stage, lowest(&tried)) {
                (0, _) | (_, None) => L2_GRID.to_vec(),
                (_, Some(coarse)) => refinements(coarse.l2).to_vec(),
            };
            // The penalties of a stage are independent fits; their results
            // are taken in grid order, as if fitted one after the other.
            let results = on_all_cores(&penalties, |&l2| cross_validated(l2));
            for result in results {
                let result = result?;
                tuning.push(Tuning {
                    setting: format!("l2 = {}", penalty_text(result.l2)),
                    criterion: result.loss,
                });
                tried.push(result);
            }
        }
        let Tried {
            loss: heldout_log_loss,
            l2,
            raw: heldout_raw,
            ..
        } = {
            let y: Vec<bool> = heldout.iter().map(|&i| data.y[i]).collect();
            let w: Vec<f64> = heldout.iter().map(|&i| data.w[i]).collect();
            let groups: Vec<i64> = heldout.iter().map(|&i| data.groups[i]).collect();
            default_unless_beaten(tried, &y, &w, &groups).expect("the grid is not empty")
        };
        let fit = regression::fit(&design.values, design.cols, &data.y, &data.w, l2).map_err(fit_error(options))?;
        let chosen_by = if large {
            format!(
                "a patient-grouped validation fold (1 of {}), which also calibrates",
                prepared.k
            )
        } else {
            format!(
                "{}-fold patient-grouped, outcome-stratified cross-validation, whose out-of-fold predictions \
                 calibrate",
                prepared.k
            )
        };
        let description = format!(
            "L2-regularised logistic regression over {} design columns ({} features, standardised numerics, \
             one-hot categories, missing-value indicators); penalty {} chosen over {L2_GRID:?} and the \
             half-decades beside the best by {chosen_by} (the calibration map below); the default {} is kept \
             unless the penalty with the lowest held-out log-loss beats it by more than one patient-clustered \
             standard error of the paired difference.",
            design.cols,
            prepared.features.len(),
            penalty_text(l2),
            penalty_text(DEFAULT_L2),
        );
        Ok(FamilyFit {
            estimator: Estimator::Logistic {
                intercept: fit.intercept,
                coefficients: fit.coefficients,
                l2,
            },
            heldout,
            heldout_raw,
            description,
            // The held-out log-loss: cross-validated, or on the validation fold.
            criterion: (
                if large {
                    Metric::ValidationLogLoss
                } else {
                    Metric::CvLogLoss
                },
                heldout_log_loss,
            ),
            tuning,
            estimator_seconds: started.elapsed().as_secs_f64(),
        })
    }

    fn cross_validate(
        &self,
        prepared: &Prepared,
        options: &FitOptions,
        splits: &[CvSplit<'_>],
    ) -> Result<Vec<Vec<f64>>, TrainError> {
        let design = Design::encode(&prepared.features, DesignKind::Linear, &prepared.records);
        splits
            .iter()
            .map(|split| {
                let raw = fold_raw(&design, prepared, split.folds, split.test, DEFAULT_L2, options)?;
                Ok(raw.into_iter().map(|(_, r)| sigmoid(r)).collect())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_penalty_stays_unless_another_beats_it_by_more_than_its_noise() {
        // Four patients of two rows each; raw scores of three penalties.
        let y = [true, false, true, false, true, false, true, false];
        let (w, groups) = ([1.0; 8], [1, 1, 2, 2, 3, 3, 4, 4]);
        let tried = |l2: f64, raw: Vec<f64>| Tried { l2, loss: 0.0, raw };
        let sharp = |gap: f64| y.iter().map(|&y| if y { gap } else { -gap }).collect::<Vec<f64>>();
        let with_losses = |set: Vec<Tried>| -> Vec<Tried> {
            set.into_iter()
                .map(|t| Tried {
                    loss: mean_log_loss(t.raw.iter().zip(&y).map(|(r, y)| (*r, *y, 1.0))),
                    ..t
                })
                .collect()
        };
        // Penalty 0.1 separates every patient better than the default, by the
        // same amount for each: a gain far beyond its (zero) noise.
        let clear = with_losses(vec![tried(0.1, sharp(2.0)), tried(DEFAULT_L2, sharp(0.5))]);
        assert_eq!(default_unless_beaten(clear, &y, &w, &groups).map(|t| t.l2), Some(0.1));
        // Penalty 10 is lowest overall, but only thanks to one patient: the
        // gain is within its standard error, and the default stays.
        let mut noisy_raw = sharp(0.5);
        noisy_raw[0] = 3.0;
        noisy_raw[2] = 0.1;
        let noisy = with_losses(vec![tried(DEFAULT_L2, sharp(0.5)), tried(10.0, noisy_raw)]);
        assert!(noisy[1].loss < noisy[0].loss);
        assert_eq!(
            default_unless_beaten(noisy, &y, &w, &groups).map(|t| t.l2),
            Some(DEFAULT_L2)
        );
        // Without the default in the grid, the lowest loss wins.
        let no_default = with_losses(vec![tried(0.1, sharp(0.5)), tried(10.0, sharp(1.0))]);
        assert_eq!(
            default_unless_beaten(no_default, &y, &w, &groups).map(|t| t.l2),
            Some(10.0)
        );
        assert!(default_unless_beaten(Vec::new(), &y, &w, &groups).is_none());
    }

    #[test]
    fn penalties_read_as_written_and_refinements_sit_half_a_decade_away() {
        let texts: Vec<String> = [0.01, 0.1, 1.0, 10.0, 1000.0, 10f64.sqrt(), 0.01 / 10f64.sqrt(), 316.227]
            .into_iter()
            .map(penalty_text)
            .collect();
        assert_eq!(texts, ["0.01", "0.1", "1", "10", "1000", "3.16", "0.00316", "316"]);
        let [below, above] = refinements(10.0);
        assert!((below * above - 100.0).abs() < 1e-9 && (above / below - 10.0).abs() < 1e-9);
    }
}
