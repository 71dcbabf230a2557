//! Comparing what a model sees in service with what it was trained on
//! (drift): the bins a live value falls into ([`Binning`], from the
//! reference distributions an artifact publishes), the population
//! stability index of a window of live records against them ([`psi`]), and
//! the threshold above which that index is more than chance at a
//! family-wise 5% ([`psi_threshold`]).
//!
//! The service keeps the counts of its windows and computes these; the
//! statistics live here so that they are the same wherever they are used,
//! and tested against their definition.

mod binning;
mod psi;

pub use binning::{Binning, DriftReference, FeatureBinning, MISSING_BIN, OTHER_BIN};
pub use psi::{chi_square_quantile, psi, psi_threshold, FAMILY_ALPHA, PSEUDO_COUNT};
