//! The feature signature learnt from training records, and the design matrix.

use carescore_core::artifact::{append_design, design_width, AllowedRange, DesignKind, FeatureKind, FeatureSpec, Row};
use std::borrow::Borrow;
use std::collections::BTreeSet;

use carescore_core::{Field, FieldKind, FieldValue};

use crate::rows::TableRow;
use crate::spec::SpecKind;
use crate::target::Target;

/// How a feature of the signature is learnt.
enum Learn {
    /// Standardised with the training mean and standard deviation.
    Numeric,
    /// 0/1.
    Boolean,
    /// One-hot over these categories, or over those seen in training.
    Categorical(Option<Vec<String>>),
}

/// One feature's spec learnt from `rows`, with a missing indicator wherever
/// training data had gaps.
fn learn<R: Borrow<TableRow>>(name: &str, how: Learn, rows: &[R]) -> FeatureSpec {
    let missing_indicator = rows.iter().any(|r| r.borrow().value(name).is_none());
    let kind = match how {
        Learn::Numeric => {
            let present: Vec<f64> = rows
                .iter()
                .filter_map(|r| r.borrow().value(name).and_then(|v| v.as_f64()))
                .collect();
            let n = present.len().max(1) as f64;
            let center = present.iter().sum::<f64>() / n;
            let variance = present.iter().map(|x| (x - center).powi(2)).sum::<f64>() / n;
            let scale = if variance > 0.0 { variance.sqrt() } else { 1.0 };
            FeatureKind::Numeric { center, scale }
        }
        Learn::Boolean => FeatureKind::Boolean,
        Learn::Categorical(Some(categories)) => FeatureKind::Categorical { categories },
        Learn::Categorical(None) => {
            let seen: BTreeSet<String> = rows
                .iter()
                .filter_map(|r| match r.borrow().value(name) {
                    Some(FieldValue::Text(s)) => Some(s.to_string()),
                    _ => None,
                })
                .collect();
            // A column with no value at all still needs one (never matched) category.
            let categories = if seen.is_empty() {
                vec![String::new()]
            } else {
                seen.into_iter().collect()
            };
            FeatureKind::Categorical { categories }
        }
    };
    FeatureSpec {
        name: name.to_string(),
        kind,
        missing_indicator,
        allowed_range: None,
        // Filled from every row of the training table once the model is fitted (`model::reference`).
        training_bins: None,
        training_shares: None,
    }
}

/// The signature learnt from training rows. Built-in targets: every model
/// feature of the patient record (docs/data-contract.md), categorical ones
/// one-hot over all allowed values. Spec targets: the spec's features in its
/// order, categories from the spec or else those seen in training. Numeric
/// features are standardised with the training mean and standard deviation.
pub fn signature<R: Borrow<TableRow>>(target: Target, rows: &[R]) -> Vec<FeatureSpec> {
    if let Some(spec) = target.spec() {
        return spec
            .features
            .iter()
            .map(|f| {
                let how = match f.kind {
                    SpecKind::Numeric => Learn::Numeric,
                    SpecKind::Boolean => Learn::Boolean,
                    SpecKind::Categorical => Learn::Categorical(f.categories.clone()),
                };
                // The spec's range travels with the model (serving refuses
                // what training excluded); never the range seen in training,
                // which would disclose the extreme patients' values.
                let allowed_range =
                    (f.min.is_some() || f.max.is_some()).then_some(AllowedRange { min: f.min, max: f.max });
                FeatureSpec {
                    allowed_range,
                    ..learn(&f.name, how, rows)
                }
            })
            .collect();
    }
    Field::ALL
        .iter()
        .filter(|f| f.spec().model_feature)
        .filter_map(|field| {
            let how = match field.spec().kind {
                FieldKind::Number { .. } | FieldKind::Integer { .. } => Learn::Numeric,
                FieldKind::Boolean => Learn::Boolean,
                FieldKind::Category(names) => {
                    Learn::Categorical(Some(names.iter().map(|s| (*s).to_string()).collect()))
                }
                // Identifiers are never model features.
                FieldKind::CaseId => return None,
            };
            Some(learn(field.name(), how, rows))
        })
        .collect()
}

/// A dense row-major design matrix.
#[derive(Debug, Clone)]
pub struct Design {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// `rows x cols` values, row-major.
    pub values: Vec<f64>,
}

impl Design {
    /// Encodes `rows` into a design of `kind` over `features`.
    pub fn encode<R: Row>(features: &[FeatureSpec], kind: DesignKind, rows: &[R]) -> Design {
        let cols = design_width(features, kind);
        let mut values = Vec::with_capacity(rows.len() * cols);
        for row in rows {
            append_design(features, kind, row, &mut values);
        }
        Design {
            rows: rows.len(),
            cols,
            values,
        }
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }
}
