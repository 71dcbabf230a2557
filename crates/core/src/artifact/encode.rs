//! The feature signature and how a row becomes the estimator's design vector.
//!
//! Per feature, in signature order:
//! - numeric: one column `(x - center) / scale`; missing gives 0 (the training mean);
//! - boolean: one column, 0 or 1; missing gives 0;
//! - categorical: one-hot over the training categories; missing or unseen gives all zeros;
//! - with `missing_indicator`, one more column: 1 when the value is missing.

use serde::{Deserialize, Serialize};

use super::training_bins::TrainingBins;
use super::training_shares::TrainingShares;
use crate::field::{Field, FieldValue};
use crate::record::PatientRecord;

/// How one feature is read and encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FeatureKind {
    /// A number, standardised.
    Numeric {
        /// Subtracted first (the training mean).
        center: f64,
        /// Divided by next (the training standard deviation, > 0).
        scale: f64,
    },
    /// A yes/no value.
    Boolean,
    /// One of a fixed set of names, one-hot encoded.
    Categorical {
        /// The categories seen in training, in column order.
        categories: Vec<String>,
    },
}

/// One input feature of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// Column / record field name.
    pub name: String,
    /// Kind and preprocessing.
    pub kind: FeatureKind,
    /// Whether a missing-value indicator column follows (the feature had
    /// missing values in training).
    pub missing_indicator: bool,
    /// The values the training spec allowed (numeric features of a spec
    /// model); rows outside were excluded from training. Absent for the
    /// built-in targets, whose record fields carry their own ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_range: Option<AllowedRange>,
    /// What training held for a numeric feature, in bins of at least 10
    /// rows (absent for other kinds, or with fewer than 20 values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_bins: Option<TrainingBins>,
    /// What training held for a categorical or boolean feature: rows per
    /// value seen at least 10 times, the rest pooled (absent for numeric
    /// features, and in artifacts trained before it was published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_shares: Option<TrainingShares>,
}

/// The values a spec allows for a numeric feature; either bound may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AllowedRange {
    /// Smallest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl FeatureSpec {
    /// Number of design columns this feature produces.
    pub fn width(&self) -> usize {
        let base = match &self.kind {
            FeatureKind::Numeric { .. } | FeatureKind::Boolean => 1,
            FeatureKind::Categorical { categories } => categories.len(),
        };
        base + usize::from(self.missing_indicator)
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        match &self.kind {
            FeatureKind::Numeric { center, scale } if !(center.is_finite() && scale.is_finite() && *scale > 0.0) => {
                Err(format!(
                    "feature {}: center and scale must be finite, scale > 0",
                    self.name
                ))
            }
            FeatureKind::Categorical { categories } if categories.is_empty() => {
                Err(format!("feature {}: no categories", self.name))
            }
            _ => {
                self.check_range()?;
                self.check_bins()
            }
        }
    }

    fn check_bins(&self) -> Result<(), String> {
        if let Some(shares) = &self.training_shares {
            if matches!(self.kind, FeatureKind::Numeric { .. }) {
                return Err(format!("feature {}: training shares on a numeric feature", self.name));
            }
            shares.check().map_err(|e| format!("feature {}: {e}", self.name))?;
        }
        let Some(bins) = &self.training_bins else {
            return Ok(());
        };
        if !matches!(self.kind, FeatureKind::Numeric { .. }) {
            return Err(format!("feature {}: training bins on a non-numeric feature", self.name));
        }
        bins.check().map_err(|e| format!("feature {}: {e}", self.name))
    }

    fn check_range(&self) -> Result<(), String> {
        let Some(AllowedRange { min, max }) = self.allowed_range else {
            return Ok(());
        };
        if !matches!(self.kind, FeatureKind::Numeric { .. }) {
            return Err(format!(
                "feature {}: an allowed range on a non-numeric feature",
                self.name
            ));
        }
        if min.is_some_and(|v| !v.is_finite()) || max.is_some_and(|v| !v.is_finite()) {
            return Err(format!("feature {}: allowed range bounds must be finite", self.name));
        }
        if let (Some(min), Some(max)) = (min, max) {
            if min > max {
                return Err(format!(
                    "feature {}: allowed range min {min} is above max {max}",
                    self.name
                ));
            }
        }
        Ok(())
    }

    /// Appends this feature's design columns for `value` to `out`.
    pub fn encode(&self, value: Option<FieldValue<'_>>, out: &mut Vec<f64>) {
        match &self.kind {
            FeatureKind::Numeric { center, scale } => {
                out.push(value.and_then(|v| v.as_f64()).map_or(0.0, |x| (x - center) / scale));
            }
            FeatureKind::Boolean => out.push(match value {
                Some(FieldValue::Boolean(true)) => 1.0,
                Some(v) => v.as_f64().unwrap_or(0.0),
                None => 0.0,
            }),
            FeatureKind::Categorical { categories } => {
                let name = match value {
                    Some(FieldValue::Text(s)) => Some(s),
                    _ => None,
                };
                out.extend(
                    categories
                        .iter()
                        .map(|c| if Some(c.as_str()) == name { 1.0 } else { 0.0 }),
                );
            }
        }
        if self.missing_indicator {
            out.push(if value.is_none() { 1.0 } else { 0.0 });
        }
    }
}

impl FeatureSpec {
    /// Number of raw design columns (for trees): one per numeric or boolean
    /// feature, one per category.
    pub fn raw_width(&self) -> usize {
        match &self.kind {
            FeatureKind::Numeric { .. } | FeatureKind::Boolean => 1,
            FeatureKind::Categorical { categories } => categories.len(),
        }
    }

    /// Appends this feature's raw design columns (for trees): the value as is,
    /// booleans as 0/1, categories one-hot; missing is NaN in every column.
    pub fn encode_raw(&self, value: Option<FieldValue<'_>>, out: &mut Vec<f64>) {
        match &self.kind {
            FeatureKind::Numeric { .. } => out.push(value.and_then(|v| v.as_f64()).unwrap_or(f64::NAN)),
            FeatureKind::Boolean => out.push(match value {
                Some(FieldValue::Boolean(b)) => f64::from(u8::from(b)),
                Some(v) => v.as_f64().unwrap_or(f64::NAN),
                None => f64::NAN,
            }),
            FeatureKind::Categorical { categories } => match value {
                Some(FieldValue::Text(name)) => {
                    out.extend(categories.iter().map(|c| if c == name { 1.0 } else { 0.0 }));
                }
                _ => out.extend(categories.iter().map(|_| f64::NAN)),
            },
        }
    }
}

/// Which design vector an estimator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesignKind {
    /// Standardised numerics, one-hot categories, missing indicators (linear models).
    Linear,
    /// Values as they are, one-hot categories, NaN for missing (tree models).
    Raw,
}

impl FeatureSpec {
    /// Number of design columns of this feature in a design of `kind`.
    pub fn width_in(&self, kind: DesignKind) -> usize {
        match kind {
            DesignKind::Linear => self.width(),
            DesignKind::Raw => self.raw_width(),
        }
    }

    /// Appends this feature's columns of a design of `kind` for `value`.
    pub fn encode_in(&self, kind: DesignKind, value: Option<FieldValue<'_>>, out: &mut Vec<f64>) {
        match kind {
            DesignKind::Linear => self.encode(value, out),
            DesignKind::Raw => self.encode_raw(value, out),
        }
    }
}

/// Total columns of a design of `kind` over a signature.
pub fn design_width(features: &[FeatureSpec], kind: DesignKind) -> usize {
    features.iter().map(|f| f.width_in(kind)).sum()
}

/// Appends the design of `kind` of one row to `out`.
pub fn append_design(features: &[FeatureSpec], kind: DesignKind, row: &dyn Row, out: &mut Vec<f64>) {
    for feature in features {
        feature.encode_in(kind, row.value(&feature.name), out);
    }
}

/// Anything a model can read features from: a patient record, or a row of a
/// training table.
pub trait Row {
    /// The value of the column `name`, or `None` when missing.
    fn value(&self, name: &str) -> Option<FieldValue<'_>>;

    /// The value of the column `name`, which is the record field `field` when
    /// that is `Some` (resolved once, when a model is compiled). Rows indexed
    /// by field skip the name lookup; others read by name.
    fn resolved_value(&self, field: Option<Field>, name: &str) -> Option<FieldValue<'_>> {
        let _ = field;
        self.value(name)
    }
}

impl Row for PatientRecord {
    fn value(&self, name: &str) -> Option<FieldValue<'_>> {
        Field::from_name(name).and_then(|f| PatientRecord::value(self, f))
    }

    fn resolved_value(&self, field: Option<Field>, _name: &str) -> Option<FieldValue<'_>> {
        field.and_then(|f| PatientRecord::value(self, f))
    }
}
