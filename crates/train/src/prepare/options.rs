//! The options of a fit, checked once ([`FitOptions::check`]) before any
//! work starts.

use crate::labels::CensoringRule;
use crate::target::Target;

/// Options of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// What to predict.
    pub target: Target,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Version written into the artifact.
    pub version: u32,
    /// Censoring handling.
    pub censoring: CensoringRule,
    /// Cross-validation folds (at least 2).
    pub folds: usize,
    /// Leaves per boosted tree; `None` chooses from 7, 15 and 31 leaves by the family's tuning.
    pub gbdt_leaves: Option<usize>,
    /// Share of labelled rows, the latest by `index_date`, kept out of fitting
    /// and evaluated at the end (0 disables; ignored without `index_date`).
    pub temporal_holdout: f64,
}

impl FitOptions {
    /// The target's name.
    pub fn target_name(&self) -> String {
        self.target.name().to_string()
    }
}

/// The most leaves a boosted tree may have (a node index fits in a byte).
pub const MAX_GBDT_LEAVES: usize = 255;
/// The largest share of rows the temporal hold-out may keep out of fitting.
pub const MAX_TEMPORAL_HOLDOUT: f64 = 0.5;

/// An option of a fit out of its range.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum OptionError {
    /// Fewer than two cross-validation folds.
    #[error("folds must be at least 2 (got {0})")]
    Folds(usize),
    /// A temporal hold-out share outside 0 to 0.5 (or not a number).
    #[error("the temporal hold-out must be between 0 and 0.5 (the share of latest rows kept out of fitting; got {0})")]
    TemporalHoldout(f64),
    /// Version 0.
    #[error("the version must be a positive integer")]
    Version,
    /// Leaves per boosted tree outside 2 to 255.
    #[error("leaves per boosted tree must be between 2 and 255 (got {0})")]
    GbdtLeaves(usize),
    /// Refits of the pipeline for the intervals neither 0 nor 10 to 1000.
    #[error("interval refits must be 0 (none) or 10 to 1000: fewer give no usable spread (got {0})")]
    IntervalRefits(usize),
}

/// Fewest refits of the pipeline whose spread is used.
pub const MIN_INTERVAL_REFITS: usize = 10;
/// Most refits of the pipeline.
pub const MAX_INTERVAL_REFITS: usize = 1000;

/// Checks a number of interval refits: 0, or [`MIN_INTERVAL_REFITS`] to [`MAX_INTERVAL_REFITS`].
///
/// # Errors
/// [`OptionError::IntervalRefits`] otherwise.
pub fn check_interval_refits(refits: usize) -> Result<usize, OptionError> {
    if refits == 0 || (MIN_INTERVAL_REFITS..=MAX_INTERVAL_REFITS).contains(&refits) {
        Ok(refits)
    } else {
        Err(OptionError::IntervalRefits(refits))
    }
}

impl FitOptions {
    /// Checks every option's range; [`crate::prepare::prepare`] calls it, so
    /// no fit starts on options out of range.
    ///
    /// # Errors
    /// The first [`OptionError`] found.
    pub fn check(&self) -> Result<(), OptionError> {
        if self.folds < 2 {
            return Err(OptionError::Folds(self.folds));
        }
        if !(0.0..=MAX_TEMPORAL_HOLDOUT).contains(&self.temporal_holdout) {
            return Err(OptionError::TemporalHoldout(self.temporal_holdout));
        }
        if self.version == 0 {
            return Err(OptionError::Version);
        }
        if let Some(leaves) = self.gbdt_leaves {
            if !(2..=MAX_GBDT_LEAVES).contains(&leaves) {
                return Err(OptionError::GbdtLeaves(leaves));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> FitOptions {
        FitOptions {
            target: Target::Infection180d,
            seed: 1,
            version: 1,
            censoring: CensoringRule::Ipcw,
            folds: 5,
            gbdt_leaves: None,
            temporal_holdout: 0.2,
        }
    }

    #[test]
    fn every_option_out_of_range_is_named() {
        assert_eq!(options().check(), Ok(()));
        let cases = [
            (FitOptions { folds: 1, ..options() }, OptionError::Folds(1)),
            (
                FitOptions {
                    version: 0,
                    ..options()
                },
                OptionError::Version,
            ),
            (
                FitOptions {
                    temporal_holdout: 0.6,
                    ..options()
                },
                OptionError::TemporalHoldout(0.6),
            ),
            (
                FitOptions {
                    gbdt_leaves: Some(1),
                    ..options()
                },
                OptionError::GbdtLeaves(1),
            ),
        ];
        for (bad, error) in cases {
            assert_eq!(bad.check(), Err(error));
        }
        let nan = FitOptions {
            temporal_holdout: f64::NAN,
            ..options()
        };
        assert!(matches!(nan.check(), Err(OptionError::TemporalHoldout(_))));
    }
}
