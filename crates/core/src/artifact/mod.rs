//! The model artifact (`docs/model-artifact.md`): a self-describing, checksummed
//! JSON document per target holding the feature signature, the estimator, the
//! calibration map, validation metrics and the provenance of the training data.
//!
//! Training writes artifacts; training and serving both load them with
//! [`ModelArtifact::from_json`], which verifies the format and the checksum,
//! and both score with the same code ([`CompiledModel`], built once per
//! artifact), so a model gives the same probability offline and online.

mod calibration;
mod checksum;
mod compiled;
mod encode;
mod estimator;
mod explain;
mod fast_trees;
mod flags;
mod label_rule;
mod linear_tree_shap;
mod metric;
mod training_bins;
mod training_shares;
mod tree;
pub mod tree_shap;

pub use calibration::{sigmoid, Calibration, IsotonicStep};
pub use checksum::sha256_hex;
pub use compiled::CompiledModel;
pub use encode::{append_design, design_width, AllowedRange, DesignKind, FeatureKind, FeatureSpec, Row};
pub use estimator::{leaf_sum, Estimator};
pub use explain::{Explanation, ExplanationMethod};
pub use flags::{check_flags, is_flag_name, DeclaredFlag};
pub use label_rule::{check_thresholds, CensoringRule, LabelRule};
pub use metric::Metric;
pub use training_bins::{Outside, TrainingBins, MIN_BIN_ROWS};
pub use training_shares::{share_key, TrainingShares};
pub use tree::{Tree, LEAF};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `format` value of artifacts this crate reads and writes.
pub const ARTIFACT_FORMAT: &str = "carescore.model/2";

/// Largest artifact accepted, in bytes (far above any real model; stops a
/// hostile file from exhausting memory).
pub const MAX_ARTIFACT_BYTES: usize = 64 * 1024 * 1024;

/// Where the training data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DataFingerprint {
    /// Rows used for training (after exclusions).
    pub rows: u64,
    /// Rows with the event by the horizon among them.
    pub events: u64,
    /// SHA-256 of the training file's bytes.
    pub sha256: String,
}

/// Who trained the model, and how to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainerInfo {
    /// Trainer name (`carescore-train`).
    pub name: String,
    /// Trainer version.
    pub version: String,
    /// Seed of every random step.
    pub seed: u64,
    /// Build time from `SOURCE_DATE_EPOCH`, if it was set (never the wall clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_date_epoch: Option<u64>,
}

/// A trained, calibrated model for one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelArtifact {
    /// Always [`ARTIFACT_FORMAT`].
    pub format: String,
    /// Target name, e.g. `infection_180d`.
    pub target: String,
    /// Prediction horizon in days (0 for a label column).
    pub horizon_days: u32,
    /// How the training labels were made.
    pub label_rule: LabelRule,
    /// Probability thresholds, increasing, at which the training evaluation
    /// reported sensitivity, PPV and flag rate (for a served spec model, its
    /// bands are named from them).
    pub operating_thresholds: Vec<f64>,
    /// Flags a spec declared for the model's answers (none for the built-in
    /// targets, whose flags come from the care policy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<DeclaredFlag>,
    /// Version of this target's model (positive).
    pub version: u32,
    /// Input features, in the order the estimator reads them.
    pub features: Vec<FeatureSpec>,
    /// The fitted estimator.
    pub estimator: Estimator,
    /// Map from the estimator's raw output to a probability.
    pub calibration: Calibration,
    /// The predicted probabilities of the training rows, in bins of at
    /// least 10 rows: what the service compares live predictions with
    /// (drift). Absent in artifacts trained before it was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_bins: Option<TrainingBins>,
    /// Validation metrics (name to value), e.g. `auc`, `brier`.
    pub metrics: BTreeMap<String, f64>,
    /// Provenance of the training data.
    pub training_data: DataFingerprint,
    /// Provenance of the model.
    pub trainer: TrainerInfo,
    /// SHA-256 of this document with this field empty.
    pub sha256: String,
}

/// Why an artifact was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArtifactError {
    /// Larger than [`MAX_ARTIFACT_BYTES`].
    #[error("the artifact is {0} bytes, more than the {MAX_ARTIFACT_BYTES} allowed")]
    TooLarge(usize),
    /// Not a JSON artifact document.
    #[error("not a model artifact: {0}")]
    Malformed(String),
    /// Another format or format version.
    #[error(
        "unsupported artifact format {found:?} (this build reads {ARTIFACT_FORMAT:?}): retrain the model with \
         this build's carescore-train (`models/rebuild.sh` retrains the default models)"
    )]
    Format {
        /// The format the file declares.
        found: String,
    },
    /// The content does not match its checksum.
    #[error("checksum mismatch: the artifact was modified or corrupted")]
    Checksum,
    /// Structurally inconsistent content.
    #[error("invalid artifact: {0}")]
    Invalid(String),
}

/// Whether `name` is a target name: 1 to 64 lower-case letters, digits and
/// `_` (it names the artifact's files and the service's routes).
pub fn is_target_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl ModelArtifact {
    /// The model's name in responses: `<target>@<version>`.
    pub fn model_version(&self) -> String {
        format!("{}@{}", self.target, self.version)
    }

    /// Serialises the artifact with its checksum filled in (pretty JSON, trailing newline).
    pub fn to_json(&self) -> String {
        let mut sealed = self.clone();
        sealed.sha256 = checksum::of(&sealed);
        let mut text = serde_json::to_string_pretty(&sealed).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses and verifies an artifact: size, format, checksum and consistency.
    ///
    /// # Errors
    /// [`ArtifactError`] saying why the artifact is refused.
    pub fn from_json(bytes: &[u8]) -> Result<ModelArtifact, ArtifactError> {
        if bytes.len() > MAX_ARTIFACT_BYTES {
            return Err(ArtifactError::TooLarge(bytes.len()));
        }
        let format = serde_json::from_slice::<serde_json::Value>(bytes)
            .map_err(|e| ArtifactError::Malformed(e.to_string()))?
            .get("format")
            .and_then(|f| f.as_str().map(str::to_string))
            .unwrap_or_default();
        if format != ARTIFACT_FORMAT {
            return Err(ArtifactError::Format { found: format });
        }
        let artifact: ModelArtifact =
            serde_json::from_slice(bytes).map_err(|e| ArtifactError::Malformed(e.to_string()))?;
        if checksum::of(&artifact) != artifact.sha256 {
            return Err(ArtifactError::Checksum);
        }
        artifact.check()?;
        Ok(artifact)
    }

    /// Checks internal consistency (sizes, finite numbers).
    fn check(&self) -> Result<(), ArtifactError> {
        if self.version == 0 {
            return Err(ArtifactError::Invalid("version must be positive".into()));
        }
        if !is_target_name(&self.target) {
            return Err(ArtifactError::Invalid(
                "the target must be 1-64 lower-case letters, digits and `_`".into(),
            ));
        }
        let width = encode::design_width(&self.features, DesignKind::Linear);
        let raw_width = encode::design_width(&self.features, DesignKind::Raw);
        self.estimator.check(width, raw_width).map_err(ArtifactError::Invalid)?;
        self.calibration.check().map_err(ArtifactError::Invalid)?;
        self.label_rule
            .check(self.horizon_days)
            .map_err(ArtifactError::Invalid)?;
        label_rule::check_thresholds(&self.operating_thresholds).map_err(ArtifactError::Invalid)?;
        flags::check_flags(&self.flags).map_err(ArtifactError::Invalid)?;
        if let Some(bins) = &self.probability_bins {
            bins.check()
                .map_err(|e| ArtifactError::Invalid(format!("probability bins: {e}")))?;
        }
        for feature in &self.features {
            feature.check().map_err(ArtifactError::Invalid)?;
            // An input's `case_id` is the caller's identifier, never a feature.
            let case_id = crate::Field::CaseId.name();
            if feature.name == case_id {
                return Err(ArtifactError::Invalid(format!(
                    "a feature may not be called `{case_id}` (the input's case identifier)"
                )));
            }
        }
        Ok(())
    }

    /// Features of the signature that are not fields of [`crate::PatientRecord`]
    /// (an artifact trained from another table through a spec). A built-in
    /// target refuses artifacts for which this is not empty.
    pub fn non_record_features(&self) -> Vec<&str> {
        self.features
            .iter()
            .map(|f| f.name.as_str())
            .filter(|name| crate::Field::from_name(name).is_none_or(|f| !f.spec().model_feature))
            .collect()
    }
}

#[cfg(test)]
mod tests;
