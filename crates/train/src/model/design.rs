//! The feature signature learnt from training records, and the design matrix.

use carescore_core::artifact::{append_design, design_width, DesignKind, FeatureKind, FeatureSpec, Row};
use carescore_core::{Field, FieldKind, PatientRecord};

/// The signature of the built-in targets: every model feature of the patient
/// record (DESIGN.md section 3), numeric ones standardised with the training
/// mean and standard deviation, categorical ones one-hot over all allowed
/// values, and a missing indicator wherever training data had gaps.
pub fn signature(records: &[PatientRecord]) -> Vec<FeatureSpec> {
    Field::ALL
        .iter()
        .filter(|f| f.spec().model_feature)
        .map(|field| {
            let values: Vec<Option<f64>> = records
                .iter()
                .map(|r| r.value(*field).and_then(|v| v.as_f64()))
                .collect();
            let missing_indicator = records.iter().any(|r| r.value(*field).is_none());
            let kind = match field.spec().kind {
                FieldKind::Number { .. } | FieldKind::Integer { .. } => {
                    let present: Vec<f64> = values.iter().flatten().copied().collect();
                    let n = present.len().max(1) as f64;
                    let center = present.iter().sum::<f64>() / n;
                    let variance = present.iter().map(|x| (x - center).powi(2)).sum::<f64>() / n;
                    let scale = if variance > 0.0 { variance.sqrt() } else { 1.0 };
                    FeatureKind::Numeric { center, scale }
                }
                FieldKind::Boolean => FeatureKind::Boolean,
                FieldKind::Category(names) => FeatureKind::Categorical {
                    categories: names.iter().map(|s| (*s).to_string()).collect(),
                },
                FieldKind::CaseId => unreachable!("case_id is not a model feature"),
            };
            FeatureSpec {
                name: field.name().to_string(),
                kind,
                missing_indicator,
            }
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
