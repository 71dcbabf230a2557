//! An artifact prepared for scoring many rows fast: the features resolved to
//! record fields once (no name lookup per value), the column-to-feature map
//! built once, and tree ensembles laid out for evaluation column by column
//! ([`super::fast_trees`]). The raw output is the same sum, in the same
//! order, as [`super::estimator::leaf_sum`] over the artifact's trees (tested
//! bit for bit), so training, `carescore-train predict` and the service agree
//! exactly.

use std::sync::Arc;

use super::encode::{DesignKind, FeatureSpec, Row};
use super::estimator::{linear_raw, Estimator};
use super::explain::Explanation;
use super::fast_trees::FastTrees;
use super::ModelArtifact;
use crate::field::{Field, FieldValue};

/// The estimator of a compiled model.
#[derive(Debug, Clone, PartialEq)]
enum Compiled {
    Linear { intercept: f64, coefficients: Vec<f64> },
    Boosted { base_score: f64, trees: FastTrees },
    Forest { trees: FastTrees },
}

/// A [`ModelArtifact`] ready to score: build it once (at load), then score any
/// number of rows. Every probability and explanation CareScore gives comes
/// from here.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledModel {
    artifact: ModelArtifact,
    /// The signature, each feature with the record field of its name (if any).
    features: Vec<(FeatureSpec, Option<Field>)>,
    kind: DesignKind,
    /// The feature owning each design column (one entry per column).
    owners: Vec<usize>,
    estimator: Compiled,
    /// `<target>@<version>` and the checksum, shared by every answer rather
    /// than copied into each.
    model_version: Arc<str>,
    model_sha256: Arc<str>,
}

impl CompiledModel {
    /// Prepares `artifact` (checked, e.g. by [`ModelArtifact::from_json`]) for scoring.
    pub fn new(artifact: ModelArtifact) -> CompiledModel {
        let kind = artifact.estimator.design_kind();
        let owners: Vec<usize> = artifact
            .features
            .iter()
            .enumerate()
            .flat_map(|(i, f)| std::iter::repeat_n(i, f.width_in(kind)))
            .collect();
        let estimator = match &artifact.estimator {
            Estimator::Logistic {
                intercept,
                coefficients,
                ..
            } => Compiled::Linear {
                intercept: *intercept,
                coefficients: coefficients.clone(),
            },
            Estimator::BoostedTrees { base_score, trees, .. } => Compiled::Boosted {
                base_score: *base_score,
                trees: FastTrees::new(trees, &owners),
            },
            Estimator::RandomForest { trees } => Compiled::Forest {
                trees: FastTrees::new(trees, &owners),
            },
        };
        CompiledModel {
            features: artifact
                .features
                .iter()
                .map(|f| (f.clone(), Field::from_name(&f.name)))
                .collect(),
            kind,
            owners,
            estimator,
            model_version: artifact.model_version().into(),
            model_sha256: artifact.sha256.as_str().into(),
            artifact,
        }
    }

    /// The artifact this model was compiled from.
    pub fn artifact(&self) -> &ModelArtifact {
        &self.artifact
    }

    /// `<target>@<version>`.
    pub fn model_version(&self) -> &str {
        &self.model_version
    }

    /// `<target>@<version>` and the artifact's checksum, for an answer to hold.
    pub fn identity(&self) -> (Arc<str>, Arc<str>) {
        (self.model_version.clone(), self.model_sha256.clone())
    }

    /// The design vector of one row.
    fn design(&self, row: &dyn Row) -> Vec<f64> {
        let mut design = Vec::with_capacity(self.owners.len());
        for (spec, field) in &self.features {
            spec.encode_in(self.kind, row.resolved_value(*field, &spec.name), &mut design);
        }
        design
    }

    /// Feature `index`'s value in `row`, read through the record field
    /// resolved when the model was compiled (no lookup by name).
    ///
    /// # Panics
    ///
    /// When `index` is not a feature of the model's signature.
    pub fn feature_value<'r>(&self, index: usize, row: &'r dyn Row) -> Option<FieldValue<'r>> {
        let (spec, field) = &self.features[index];
        row.resolved_value(*field, &spec.name)
    }

    /// The estimator's raw output for one row: log-odds for logistic models
    /// and boosted trees, the mean vote for forests.
    pub fn raw_score(&self, row: &dyn Row) -> f64 {
        let design = self.design(row);
        match &self.estimator {
            Compiled::Linear {
                intercept,
                coefficients,
            } => linear_raw(*intercept, coefficients, &design),
            Compiled::Boosted { base_score, trees } => base_score + trees.leaf_sum(&design),
            Compiled::Forest { trees } => trees.leaf_sum(&design) / trees.len().max(1) as f64,
        }
    }

    /// The calibrated probability of the target for one row.
    pub fn predict(&self, row: &dyn Row) -> f64 {
        self.artifact.calibration.apply(self.raw_score(row))
    }

    /// Explains the raw output for one row: `base_value + sum of
    /// contributions = raw`, one contribution per feature.
    pub fn explain(&self, row: &dyn Row) -> Explanation {
        let design = self.design(row);
        let mut contributions = vec![0.0; self.features.len()];
        let (base_value, raw) = match &self.estimator {
            Compiled::Linear {
                intercept,
                coefficients,
            } => {
                for ((c, x), owner) in coefficients.iter().zip(&design).zip(&self.owners) {
                    contributions[*owner] += c * x;
                }
                // The same sum, in the same order, as scoring: explanations never move the score.
                (*intercept, linear_raw(*intercept, coefficients, &design))
            }
            Compiled::Boosted { base_score, trees } => {
                let leaves = trees.explain(&design, &mut contributions);
                (base_score + trees.expected_sum, base_score + leaves)
            }
            Compiled::Forest { trees } => {
                let n = trees.len().max(1) as f64;
                let leaves = trees.explain(&design, &mut contributions);
                for c in &mut contributions {
                    *c /= n;
                }
                (trees.expected_sum / n, leaves / n)
            }
        };
        Explanation {
            base_value,
            raw,
            contributions,
        }
    }

    /// Applies the artifact's calibration to a raw output.
    pub fn calibrate(&self, raw: f64) -> f64 {
        self.artifact.calibration.apply(raw)
    }
}

impl ModelArtifact {
    /// A copy of this artifact ready to score many rows ([`CompiledModel`]).
    pub fn compile(&self) -> CompiledModel {
        CompiledModel::new(self.clone())
    }
}
