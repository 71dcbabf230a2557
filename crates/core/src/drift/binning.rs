//! The bins a live value falls into: the reference distributions an
//! artifact publishes (numeric features' quantile bins, categorical and
//! boolean features' shares, the predicted probability's bins), each with
//! a bin for a missing value, read as one list of bins per statistic.

use crate::artifact::{share_key, FeatureKind, ModelArtifact, TrainingBins, TrainingShares};
use crate::field::FieldValue;

/// Label of the bin of records without a value.
pub const MISSING_BIN: &str = "missing";

/// Label of the bin of the categories pooled because training saw each fewer than 10 times.
pub const OTHER_BIN: &str = "other";

/// How a value finds its bin.
#[derive(Debug, Clone, PartialEq)]
enum Cuts {
    /// Quantile bins: bin `i` holds the values above `edges[i - 1]` and at most `edges[i]`.
    Numeric(Vec<f64>),
    /// One bin per published value, then the pooled others.
    Shares(Vec<String>),
}

/// One statistic's bins: how values fall into them, their labels and the
/// reference counts. The last bin is always [`MISSING_BIN`].
#[derive(Debug, Clone, PartialEq)]
pub struct Binning {
    cuts: Cuts,
    /// Bin labels, in order: `<=a`, `(a,b]`, ..., `>z` for a number; the
    /// published values and [`OTHER_BIN`] for a category; [`MISSING_BIN`] last.
    pub labels: Vec<String>,
    /// Reference (training) rows per bin.
    pub reference: Vec<u64>,
}

impl Binning {
    /// The bins of a numeric reference.
    pub fn of_bins(bins: &TrainingBins) -> Binning {
        let edges = &bins.edges;
        let mut labels: Vec<String> = match (edges.first(), edges.last()) {
            (Some(first), Some(last)) => std::iter::once(format!("<={first}"))
                .chain(edges.windows(2).map(|w| format!("({},{}]", w[0], w[1])))
                .chain(std::iter::once(format!(">{last}")))
                .collect(),
            _ => vec!["all".to_string()],
        };
        labels.push(MISSING_BIN.to_string());
        let mut reference = bins.counts.clone();
        reference.push(bins.missing);
        Binning {
            cuts: Cuts::Numeric(edges.clone()),
            labels,
            reference,
        }
    }

    /// The bins of a categorical or boolean reference.
    pub fn of_shares(shares: &TrainingShares) -> Binning {
        let names: Vec<String> = shares.counts.keys().cloned().collect();
        let mut labels = names.clone();
        labels.extend([OTHER_BIN.to_string(), MISSING_BIN.to_string()]);
        let mut reference: Vec<u64> = shares.counts.values().copied().collect();
        reference.extend([shares.other, shares.missing]);
        Binning {
            cuts: Cuts::Shares(names),
            labels,
            reference,
        }
    }

    /// Number of bins.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no bins (never: there is always a missing bin).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Reference rows.
    pub fn rows(&self) -> u64 {
        self.reference.iter().sum()
    }

    /// Bins the reference rows fill (what the threshold's degrees of freedom count).
    pub fn filled(&self) -> usize {
        self.reference.iter().filter(|c| **c > 0).count()
    }

    /// The bin of a number (`None`: missing). A name given to numeric bins is missing.
    pub fn of_number(&self, x: Option<f64>) -> usize {
        let missing = self.len() - 1;
        match (&self.cuts, x) {
            (Cuts::Numeric(edges), Some(x)) if !x.is_nan() => edges.partition_point(|e| *e < x),
            _ => missing,
        }
    }

    /// The bin of a category's name (`None`: missing). A number given to shares is missing.
    pub fn of_name(&self, name: Option<&str>) -> usize {
        let missing = self.len() - 1;
        match (&self.cuts, name) {
            (Cuts::Shares(names), Some(name)) => names.iter().position(|n| n == name).unwrap_or(missing - 1),
            _ => missing,
        }
    }
}

/// The bins of one input feature of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureBinning {
    /// The feature's name (a record field, or a spec model's input).
    pub name: String,
    kind: FeatureKind,
    /// Its bins.
    pub binning: Binning,
}

impl FeatureBinning {
    /// The bin of the feature's value in a live record.
    pub fn bin(&self, value: Option<FieldValue<'_>>) -> usize {
        match self.kind {
            FeatureKind::Numeric { .. } => self.binning.of_number(value.and_then(|v| v.as_f64())),
            _ => self.binning.of_name(share_key(&self.kind, value)),
        }
    }
}

/// What a model's live inputs and predictions are compared with: the bins
/// of every feature with a published reference, and of the predicted probability.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftReference {
    /// Features with a reference, in the artifact's order.
    pub features: Vec<FeatureBinning>,
    /// The predicted probability's bins, when published.
    pub probability: Option<Binning>,
}

impl DriftReference {
    /// The reference `artifact` publishes (empty for an artifact trained before it was).
    pub fn of(artifact: &ModelArtifact) -> DriftReference {
        let features = artifact
            .features
            .iter()
            .filter_map(|f| {
                let binning = match (&f.training_bins, &f.training_shares) {
                    (Some(bins), _) => Binning::of_bins(bins),
                    (None, Some(shares)) => Binning::of_shares(shares),
                    (None, None) => return None,
                };
                Some(FeatureBinning {
                    name: f.name.clone(),
                    kind: f.kind.clone(),
                    binning,
                })
            })
            .collect();
        DriftReference {
            features,
            probability: artifact.probability_bins.as_ref().map(Binning::of_bins),
        }
    }

    /// Statistics a window compares: one per feature, and the probability's.
    pub fn statistics(&self) -> usize {
        self.features.len() + usize::from(self.probability.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fall_into_their_quantile_bin_or_missing() {
        let bins = TrainingBins {
            low: 1.0,
            high: 9.0,
            edges: vec![2.0, 5.0],
            counts: vec![10, 20, 30],
            missing: 4,
        };
        let b = Binning::of_bins(&bins);
        assert_eq!(b.labels, ["<=2", "(2,5]", ">5", "missing"]);
        assert_eq!(b.reference, [10, 20, 30, 4]);
        assert_eq!(
            [
                Some(-1.0),
                Some(2.0),
                Some(2.5),
                Some(5.0),
                Some(7.0),
                None,
                Some(f64::NAN)
            ]
            .map(|x| b.of_number(x)),
            [0, 0, 1, 1, 2, 3, 3]
        );
        assert_eq!((b.rows(), b.filled()), (64, 4));
    }

    #[test]
    fn names_fall_into_their_value_other_or_missing() {
        let shares = TrainingShares::of([Some("a"); 10].into_iter().chain([Some("b"); 12])).unwrap();
        let b = Binning::of_shares(&shares);
        assert_eq!(b.labels, ["a", "b", "other", "missing"]);
        assert_eq!(b.reference, [10, 12, 0, 0]);
        assert_eq!(
            [Some("a"), Some("b"), Some("zebra"), None].map(|n| b.of_name(n)),
            [0, 1, 2, 3]
        );
        assert_eq!(b.filled(), 2);
    }
}
