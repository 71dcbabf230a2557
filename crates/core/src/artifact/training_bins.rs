//! What a model's training data held for a numeric feature, published only
//! as bins of at least [`MIN_BIN_ROWS`] rows, so that no single patient's
//! value can be read back: the inner cut points of (about) ten quantile
//! bins with their row counts, and the range that held every training row
//! but the [`MIN_BIN_ROWS`]` - 1` most extreme at each end.
//!
//! A served input outside that range is still scored (it is within the
//! spec's allowed range), with a warning: fewer than [`MIN_BIN_ROWS`]
//! training rows were that low (or high), so the model extrapolates there.

use serde::{Deserialize, Serialize};

/// Fewest training rows a published bin, or either end of the range, stands for.
pub const MIN_BIN_ROWS: u64 = 10;

/// Quantile bins aimed at (merged where a bin would hold fewer than [`MIN_BIN_ROWS`] rows).
const BINS: usize = 10;

/// Significant digits of a published cut point or end of the range: a
/// training row's own value to full precision would tell, of a candidate
/// record, that it was in the training data.
const DIGITS: i32 = 3;

/// `x` rounded to [`DIGITS`] significant digits by `round` (`f64::round`, `floor` or `ceil`).
fn to_digits(x: f64, round: fn(f64) -> f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(DIGITS - 1 - x.abs().log10().floor() as i32);
    round(x * scale) / scale
}

/// The training distribution of one numeric feature, in bins of at least
/// 10 rows ([`MIN_BIN_ROWS`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrainingBins {
    /// The 10th smallest training value, rounded down to 3 significant
    /// digits: at most 9 rows were below it.
    pub low: f64,
    /// The 10th largest training value, rounded up to 3 significant digits:
    /// at most 9 rows were above it.
    pub high: f64,
    /// Inner cut points (3 significant digits), ascending: bin `i` holds the values above
    /// `edges[i - 1]` and at most `edges[i]` (the first bin has no lower
    /// cut, the last no upper one).
    pub edges: Vec<f64>,
    /// Training rows per bin (one more than `edges`), each at least 10.
    pub counts: Vec<u64>,
    /// Training rows without a value.
    pub missing: u64,
}

/// Where a value lies against the training range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    /// Below [`TrainingBins::low`].
    Below,
    /// Above [`TrainingBins::high`].
    Above,
}

impl TrainingBins {
    /// The bins of the present `values` (with `missing` rows without one);
    /// `None` when fewer than two bins' worth of rows have a value.
    pub fn of(mut values: Vec<f64>, missing: u64) -> Option<TrainingBins> {
        values.retain(|v| v.is_finite());
        let n = values.len();
        let min_rows = MIN_BIN_ROWS as usize;
        if n < 2 * min_rows {
            return None;
        }
        values.sort_by(f64::total_cmp);
        // Cut points at the deciles, rounded to 3 significant digits (a
        // cut is a value, never a row's own); then bins too small are merged
        // into their neighbour. A value equal to a cut falls below it, so a
        // tie never splits.
        let mut edges: Vec<f64> = (1..BINS)
            .map(|q| to_digits(values[q * n / BINS - 1], f64::round))
            .collect();
        edges.dedup();
        edges.retain(|e| *e < values[n - 1]);
        let count = |edges: &[f64]| -> Vec<u64> {
            let mut counts = vec![0u64; edges.len() + 1];
            for v in &values {
                counts[edges.partition_point(|e| e < v)] += 1;
            }
            counts
        };
        let mut counts = count(&edges);
        while let Some(small) = counts.iter().position(|c| *c < MIN_BIN_ROWS) {
            // Merge the bin with its smaller neighbour by dropping the cut between them.
            let cut = if small == 0 {
                0
            } else if small == counts.len() - 1 || counts[small - 1] <= counts[small + 1] {
                small - 1
            } else {
                small
            };
            edges.remove(cut);
            counts = count(&edges);
        }
        // The range rounded outwards: still at most 9 rows beyond either end.
        Some(TrainingBins {
            low: to_digits(values[min_rows - 1], f64::floor),
            high: to_digits(values[n - min_rows], f64::ceil),
            edges,
            counts,
            missing,
        })
    }

    /// Whether `x` lies outside the range the training rows held.
    pub fn outside(&self, x: f64) -> Option<Outside> {
        if x < self.low {
            Some(Outside::Below)
        } else if x > self.high {
            Some(Outside::Above)
        } else {
            None
        }
    }

    /// Checks the published summary: finite, ordered, every bin at least [`MIN_BIN_ROWS`] rows.
    pub(crate) fn check(&self) -> Result<(), String> {
        let finite = self.low.is_finite() && self.high.is_finite() && self.edges.iter().all(|e| e.is_finite());
        if !finite || self.low > self.high {
            return Err("training bins: low and high must be finite, low at most high".into());
        }
        if self.edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err("training bins: cut points must be strictly ascending".into());
        }
        if self.counts.len() != self.edges.len() + 1 {
            return Err("training bins: one count more than cut points".into());
        }
        if self.counts.iter().any(|c| *c < MIN_BIN_ROWS) {
            return Err(format!(
                "training bins: every bin must hold at least {MIN_BIN_ROWS} rows"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bin_holds_ten_rows_and_the_ends_hide_the_extremes() {
        let values: Vec<f64> = (1..=95).map(f64::from).collect();
        let bins = TrainingBins::of(values, 3).unwrap();
        assert_eq!((bins.low, bins.high, bins.missing), (10.0, 86.0, 3));
        assert_eq!(bins.counts.iter().sum::<u64>(), 95);
        assert!(bins.counts.iter().all(|c| *c >= MIN_BIN_ROWS), "{bins:?}");
        bins.check().unwrap();
        assert_eq!(bins.outside(9.5), Some(Outside::Below));
        assert_eq!(bins.outside(10.0), None);
        assert_eq!(bins.outside(86.5), Some(Outside::Above));
    }

    #[test]
    fn cut_points_and_ends_are_rounded_so_no_row_value_is_published() {
        // Values with many digits: no published number is one of them.
        let values: Vec<f64> = (1..=200).map(|i| f64::from(i) / 7.0 + 0.000_123_456).collect();
        let bins = TrainingBins::of(values.clone(), 0).unwrap();
        for x in bins.edges.iter().chain([&bins.low, &bins.high]) {
            assert!(!values.contains(x), "{x} is a training value");
            assert_eq!(*x, to_digits(*x, f64::round), "{x} has more than 3 significant digits");
        }
        assert!(values.iter().filter(|v| **v < bins.low).count() <= 9);
        assert!(values.iter().filter(|v| **v > bins.high).count() <= 9);
        assert_eq!(bins.counts.iter().sum::<u64>(), 200);
        bins.check().unwrap();
        assert_eq!(to_digits(0.025_666_745, f64::round), 0.0257);
        assert_eq!(to_digits(1234.0, f64::floor), 1230.0);
        assert_eq!(to_digits(1234.0, f64::ceil), 1240.0);
    }

    #[test]
    fn ties_and_rare_values_are_merged_into_bins_of_ten() {
        // 60 zeros, 25 ones, 5 twos, 3 threes: the twos and threes share a bin with the ones.
        let mut values = vec![0.0; 60];
        values.extend([1.0; 25]);
        values.extend([2.0; 5]);
        values.extend([3.0; 3]);
        let bins = TrainingBins::of(values, 0).unwrap();
        assert_eq!(bins.edges, [0.0]);
        assert_eq!(bins.counts, [60, 33]);
        assert_eq!((bins.low, bins.high), (0.0, 1.0));
        assert!(
            TrainingBins::of(vec![1.0; 19], 0).is_none(),
            "fewer than two bins' worth"
        );
    }

    #[test]
    fn the_check_refuses_a_bin_of_fewer_than_ten_rows() {
        let mut bins = TrainingBins::of((0..40).map(f64::from).collect(), 0).unwrap();
        bins.check().unwrap();
        bins.counts[0] = 9;
        assert!(bins.check().unwrap_err().contains("at least 10 rows"));
    }
}
