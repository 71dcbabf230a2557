//! What a model's training data held for a categorical or boolean feature,
//! published only as counts of at least [`MIN_BIN_ROWS`] rows: each value
//! seen at least that often, the rarer values pooled into `other` (and, when
//! `other` would still hold fewer, the least frequent published values with
//! them), and the rows without a value. The service compares live records
//! with these shares (drift); nothing here names a value fewer than 10
//! training patients had.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::encode::FeatureKind;
use super::training_bins::MIN_BIN_ROWS;
use crate::field::FieldValue;

/// The value a categorical or boolean feature's shares count `value`
/// under: a category's name, or `"true"` / `"false"` (a number counts as
/// true unless 0, as the estimator reads it). `None` for a missing value,
/// for a numeric feature, and for a categorical feature given anything but
/// a name (which the estimator reads as missing too).
pub fn share_key<'a>(kind: &FeatureKind, value: Option<FieldValue<'a>>) -> Option<&'a str> {
    let truth = |b: bool| if b { "true" } else { "false" };
    match (kind, value?) {
        (FeatureKind::Numeric { .. }, _) => None,
        (FeatureKind::Boolean, FieldValue::Boolean(b)) => Some(truth(b)),
        (FeatureKind::Boolean, FieldValue::Text(_)) => None,
        (FeatureKind::Boolean, v) => v.as_f64().map(|x| truth(x != 0.0)),
        (FeatureKind::Categorical { .. }, FieldValue::Text(name)) => Some(name),
        (FeatureKind::Categorical { .. }, _) => None,
    }
}

/// The training distribution of one categorical (or boolean: `"false"`,
/// `"true"`) feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrainingShares {
    /// Training rows per value, for the values at least 10 rows had.
    pub counts: BTreeMap<String, u64>,
    /// Training rows with any other value (0, or at least 10).
    pub other: u64,
    /// Training rows without a value.
    pub missing: u64,
}

impl TrainingShares {
    /// The shares of `values` (one per training row, `None` when missing);
    /// `None` when fewer than 10 rows have a value at all (no pool of 10 can be made).
    pub fn of<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Option<TrainingShares> {
        let mut counts = BTreeMap::<String, u64>::new();
        let mut missing = 0;
        for value in values {
            match value {
                Some(v) => *counts.entry(v.to_string()).or_default() += 1,
                None => missing += 1,
            }
        }
        let mut other: u64 = 0;
        counts.retain(|_, c| {
            let keep = *c >= MIN_BIN_ROWS;
            if !keep {
                other += *c;
            }
            keep
        });
        // A pooled bin of 1 to 9 rows would tell how rare those values were:
        // the least frequent published values join it until it holds 10.
        while other > 0 && other < MIN_BIN_ROWS {
            let Some(rarest) = counts
                .iter()
                .min_by_key(|(name, c)| (**c, std::cmp::Reverse((*name).clone())))
                .map(|(name, _)| name.clone())
            else {
                break;
            };
            other += counts.remove(&rarest).unwrap_or(0);
        }
        (other == 0 || other >= MIN_BIN_ROWS).then_some(TrainingShares { counts, other, missing })
    }

    /// Rows these shares stand for.
    pub fn rows(&self) -> u64 {
        self.counts.values().sum::<u64>() + self.other + self.missing
    }

    /// Checks the published summary: every published value and the pool hold at least [`MIN_BIN_ROWS`] rows.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.counts.values().any(|c| *c < MIN_BIN_ROWS) || (self.other > 0 && self.other < MIN_BIN_ROWS) {
            return Err(format!(
                "training shares: every value and the pooled other values must hold 0 or at least {MIN_BIN_ROWS} rows"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_values_are_pooled_and_the_pool_holds_ten_rows() {
        let mut values = vec![Some("kidney"); 50];
        values.extend([Some("liver"); 12]);
        values.extend([Some("heart"); 4]);
        values.extend([None; 3]);
        let shares = TrainingShares::of(values).unwrap();
        // heart (4) is too rare; liver (12) joins it so the pool holds 16.
        assert_eq!(shares.counts, BTreeMap::from([("kidney".to_string(), 50)]));
        assert_eq!((shares.other, shares.missing), (16, 3));
        assert_eq!(shares.rows(), 69);
        shares.check().unwrap();
    }

    #[test]
    fn values_seen_ten_times_are_published_as_they_are() {
        let mut values = vec![Some("false"); 30];
        values.extend([Some("true"); 10]);
        let shares = TrainingShares::of(values).unwrap();
        assert_eq!(shares.counts.len(), 2);
        assert_eq!(shares.other, 0);
        shares.check().unwrap();
        let mut bad = shares;
        bad.other = 3;
        assert!(bad.check().unwrap_err().contains("at least 10 rows"));
    }

    #[test]
    fn fewer_than_ten_values_publish_no_shares() {
        let mut values = vec![Some("icu"); 6];
        values.extend([None; 40]);
        assert_eq!(TrainingShares::of(values), None, "a pool of 6 would be refused on load");
        assert!(TrainingShares::of([Some("a"); 10]).is_some());
    }
}
