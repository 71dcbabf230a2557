//! The rows the trainer fits on: patient records for the built-in targets,
//! or the feature cells of a training spec's table. Both are read by the
//! model through `carescore-core`'s [`Row`] trait, so encoding, scoring and
//! explanations are the service's own code either way.

use std::sync::Arc;

use carescore_core::artifact::Row;
use carescore_core::{FieldValue, PatientRecord};

/// One cell of a spec table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Missing,
    /// A number.
    Number(f64),
    /// true/false.
    Boolean(bool),
    /// A category name.
    Text(String),
}

/// One row of a spec table: its feature cells, in the spec's order.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecRow {
    /// Feature names, shared by every row of the table.
    pub names: Arc<[String]>,
    /// One cell per name.
    pub cells: Vec<Cell>,
}

/// A row the trainer can fit on.
#[derive(Debug, Clone, PartialEq)]
pub enum TableRow {
    /// A validated patient record (built-in targets).
    Patient(PatientRecord),
    /// A spec table's row.
    Spec(SpecRow),
}

impl TableRow {
    /// The patient record, for built-in targets.
    pub fn patient(&self) -> Option<&PatientRecord> {
        match self {
            TableRow::Patient(record) => Some(record),
            TableRow::Spec(_) => None,
        }
    }
}

impl Row for TableRow {
    fn value(&self, name: &str) -> Option<FieldValue<'_>> {
        match self {
            TableRow::Patient(record) => Row::value(record, name),
            TableRow::Spec(row) => {
                let i = row.names.iter().position(|n| n == name)?;
                match &row.cells[i] {
                    Cell::Missing => None,
                    Cell::Number(x) => Some(FieldValue::Number(*x)),
                    Cell::Boolean(b) => Some(FieldValue::Boolean(*b)),
                    Cell::Text(s) => Some(FieldValue::Text(s)),
                }
            }
        }
    }
}
