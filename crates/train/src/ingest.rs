//! Ingestion of a training table (CSV or Parquet), for a built-in target or
//! for a spec: schema checks with clear errors, exclusions counted per
//! column, plausibility warnings counted per rule (docs/data-contract.md).
//!
//! For a built-in target each row is checked by `carescore-core`'s own
//! validation, so a row the service would refuse is never trained on, and a
//! row it would accept with a warning is kept and counted. For a spec each
//! feature column is checked against the spec's kind, range and categories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use carescore_core::artifact::sha256_hex;
use carescore_core::{parse_record_value, Field, FieldKind, Presence, RecordError};
use polars::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::rows::{Cell, SpecRow, TableRow};
use crate::spec::{Spec, SpecKind, SpecOutcome};
use crate::table::{decode_table, TableError};
use crate::target::Target;

/// Share of excluded rows above which ingestion stops: the columns are
/// probably mis-mapped (docs/data-contract.md).
pub const MAX_EXCLUDED_SHARE: f64 = 0.05;

/// Why a table cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file is missing.
    #[error("{}: no such file", .0.display())]
    MissingFile(PathBuf),
    /// The path names a directory, not a table file.
    #[error("{}: is a directory, not a table file (.csv or .parquet)", .0.display())]
    Directory(PathBuf),
    /// The file could not be read or decoded.
    #[error(transparent)]
    Table(#[from] TableError),
    /// The table has no rows.
    #[error("{}: the table has no rows", .0.display())]
    Empty(PathBuf),
    /// A required column is absent.
    #[error("missing column `{column}` ({what})")]
    MissingColumn {
        /// Column name.
        column: String,
        /// What the column is for.
        what: &'static str,
    },
    /// A column holds values of the wrong type.
    #[error("column `{column}`: expected {expected}, found {found}")]
    WrongType {
        /// Column name.
        column: String,
        /// What was expected.
        expected: &'static str,
        /// The column's type.
        found: String,
    },
    /// Too many rows break the hard ranges.
    #[error("{excluded} of {rows} rows ({share:.1}%) break hard ranges, more than the 5% allowed; most often in: {columns} (are the columns mis-mapped?)")]
    TooManyExcluded {
        /// Rows excluded.
        excluded: usize,
        /// Rows read.
        rows: usize,
        /// Percentage excluded.
        share: f64,
        /// The worst columns with counts.
        columns: String,
    },
    /// polars failed on a column operation.
    #[error("column `{column}`: {source}")]
    Polars {
        /// Column name.
        column: String,
        /// The underlying error.
        source: PolarsError,
    },
}

/// What screening found in a table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Screening {
    /// Rows read.
    pub rows_read: usize,
    /// Rows excluded for breaking a hard rule.
    pub rows_excluded: usize,
    /// Hard-rule violations per column (a row may count in several columns).
    pub excluded_by_column: BTreeMap<String, usize>,
    /// Rows kept with at least one plausibility warning.
    pub rows_with_warnings: usize,
    /// Plausibility warnings per rule.
    pub warnings_by_rule: BTreeMap<String, usize>,
}

/// The outcome columns of every kept record, read once at load (their types
/// checked there; the follow-up times' values are checked when labelling).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Days to the event or to censoring, and whether the event happened.
    TimeEvent {
        /// Follow-up time (NaN where the table has none).
        times: Vec<f64>,
        /// The event indicator.
        events: Vec<bool>,
    },
    /// A plain label (`None`: unknown).
    Label(Vec<Option<bool>>),
}

/// What a command reads of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Features and the target's outcome columns (fit, cv, evaluate, report).
    WithOutcome,
    /// Features only (predict: a table to score has no outcome yet).
    FeaturesOnly,
    /// Features, and the target's outcome columns when the table has them
    /// (programme: a cohort with outcomes is also checked against them).
    OutcomeIfPresent,
}

/// Input columns passed through to `predict`'s output when present (with the
/// target's group and date columns).
const ID_COLUMNS: [&str; 3] = ["patient_id", "index_date", "case_id"];

/// A screened table, everything training and scoring need, read once: the
/// valid records, their outcome, patient groups and index dates, what
/// screening found, and the id columns `predict` passes through. Nothing
/// after ingestion reads the file's columns again.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// SHA-256 of the file's bytes (the training-data fingerprint).
    pub sha256: String,
    /// Valid rows (excluded rows removed): patient records, or a spec's feature cells.
    pub records: Vec<TableRow>,
    /// For each record, its row in the file.
    pub rows: Vec<usize>,
    /// For each record, its outcome ([`Reading::WithOutcome`] only).
    pub outcome: Option<Outcome>,
    /// For each record, its patient as a group number for folds: numeric ids
    /// as they are, text (or partly missing) ids numbered by first appearance,
    /// every row its own group when the table has no patient column.
    pub groups: Vec<i64>,
    /// For each record, its index date as ISO text (which sorts by date), when the table has the column.
    pub dates: Option<Vec<Option<String>>>,
    /// What screening found.
    pub screening: Screening,
    /// Excluded rows: their row in the file and the problems (`field: rule`, never values).
    pub rejected: Vec<(usize, String)>,
    /// The id columns of the whole file (every row), for `predict`'s output.
    pub ids: Vec<Column>,
}

/// The rows screening kept and what it found.
struct Kept {
    records: Vec<TableRow>,
    rows: Vec<usize>,
    screening: Screening,
    rejected: Vec<(usize, String)>,
}

fn polars_error(column: &str) -> impl FnOnce(PolarsError) -> IngestError + '_ {
    move |source| IngestError::Polars {
        column: column.to_string(),
        source,
    }
}

/// One record field's column, converted to JSON values for the core's parser.
fn field_values(frame: &DataFrame, field: Field) -> Result<Vec<Value>, IngestError> {
    let name = field.name();
    let height = frame.height();
    let Ok(column) = frame.column(name) else {
        return match field.spec().presence {
            Presence::Required if field == Field::CaseId => {
                Ok((0..height).map(|i| Value::String(format!("row-{i}"))).collect())
            }
            Presence::Required => Err(IngestError::MissingColumn {
                column: name.to_string(),
                what: "a required record field",
            }),
            Presence::Optional | Presence::OptionalDefaultFalse => Ok(vec![Value::Null; height]),
        };
    };
    // A column with no value at all (e.g. an empty optional column in a CSV) is missing everywhere.
    if column.null_count() == height {
        return Ok(vec![Value::Null; height]);
    }
    let dtype = column.dtype().clone();
    let wrong = |expected| IngestError::WrongType {
        column: name.to_string(),
        expected,
        found: dtype.to_string(),
    };
    let series = column.as_materialized_series();
    match field.spec().kind {
        FieldKind::Number { .. } | FieldKind::Integer { .. } => {
            if !dtype.is_primitive_numeric() {
                return Err(wrong("numbers"));
            }
            let floats = series.cast(&DataType::Float64).map_err(polars_error(name))?;
            let integer = matches!(field.spec().kind, FieldKind::Integer { .. });
            Ok(floats
                .f64()
                .map_err(polars_error(name))?
                .iter()
                .map(|v| match v {
                    // Whole numbers stay whole so the core's integer check sees them as such.
                    Some(x) if integer && x.fract() == 0.0 && x.abs() < 9.0e15 => Value::from(x as i64),
                    // JSON has no NaN or infinity: pass them as text, which validation refuses (wrong type).
                    Some(x) if !x.is_finite() => Value::String(x.to_string()),
                    Some(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
                    None => Value::Null,
                })
                .collect())
        }
        FieldKind::Boolean => {
            if dtype != DataType::Boolean {
                return Err(wrong("true/false values"));
            }
            Ok(series
                .bool()
                .map_err(polars_error(name))?
                .iter()
                .map(|v| v.map_or(Value::Null, Value::Bool))
                .collect())
        }
        FieldKind::CaseId | FieldKind::Category(_) => {
            if dtype != DataType::String {
                return Err(wrong("text"));
            }
            Ok(series
                .str()
                .map_err(polars_error(name))?
                .iter()
                .map(|v| v.map_or(Value::Null, |s| Value::String(s.to_string())))
                .collect())
        }
    }
}

/// Screens a loaded frame: every row through the core's validation.
///
/// # Errors
/// [`IngestError`] for an empty table, a missing or mistyped column, or more
/// than [`MAX_EXCLUDED_SHARE`] of rows breaking hard ranges.
fn screen(frame: &DataFrame, path: &Path) -> Result<Kept, IngestError> {
    if frame.height() == 0 {
        return Err(IngestError::Empty(path.to_path_buf()));
    }
    let columns: Vec<(Field, Vec<Value>)> = Field::ALL
        .iter()
        .map(|f| field_values(frame, *f).map(|v| (*f, v)))
        .collect::<Result<_, _>>()?;
    let mut screening = Screening {
        rows_read: frame.height(),
        ..Screening::default()
    };
    let mut records = Vec::with_capacity(frame.height());
    let mut rejected = Vec::new();
    let mut rows = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let object: Map<String, Value> = columns
            .iter()
            .filter(|(_, values)| !values[i].is_null())
            .map(|(field, values)| (field.name().to_string(), values[i].clone()))
            .collect();
        match parse_record_value(&Value::Object(object)) {
            Ok(screened) => {
                if !screened.warnings.is_empty() {
                    screening.rows_with_warnings += 1;
                }
                for warning in &screened.warnings {
                    *screening.warnings_by_rule.entry(warning.rule.to_string()).or_default() += 1;
                }
                records.push(TableRow::Patient(screened.record));
                rows.push(i);
            }
            Err(RecordError::Invalid { errors, .. }) => {
                screening.rows_excluded += 1;
                let problems: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.rule)).collect();
                rejected.push((i, problems.join("; ")));
                for error in errors {
                    *screening.excluded_by_column.entry(error.field).or_default() += 1;
                }
            }
            Err(RecordError::NotJson(_) | RecordError::NotObject) => {
                screening.rows_excluded += 1;
                rejected.push((i, "record: unreadable".to_string()));
            }
        }
    }
    check_exclusions(&screening)?;
    Ok(Kept {
        records,
        rows,
        screening,
        rejected,
    })
}

/// Stops when more than [`MAX_EXCLUDED_SHARE`] of rows were excluded, naming the worst columns.
fn check_exclusions(screening: &Screening) -> Result<(), IngestError> {
    let share = screening.rows_excluded as f64 / screening.rows_read.max(1) as f64;
    if share <= MAX_EXCLUDED_SHARE {
        return Ok(());
    }
    let mut worst: Vec<(&String, &usize)> = screening.excluded_by_column.iter().collect();
    worst.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let columns = worst
        .iter()
        .take(3)
        .map(|(c, n)| format!("{c} ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(IngestError::TooManyExcluded {
        excluded: screening.rows_excluded,
        rows: screening.rows_read,
        share: 100.0 * share,
        columns,
    })
}

/// One spec feature's column as cells, with per-row problems (`None`: fine).
fn spec_cells(frame: &DataFrame, feature: &crate::spec::SpecFeature) -> Result<Vec<(Cell, bool)>, IngestError> {
    let name = feature.name.as_str();
    let column = frame.column(name).map_err(|_| IngestError::MissingColumn {
        column: name.to_string(),
        what: "a feature of the spec",
    })?;
    let height = frame.height();
    if column.null_count() == height {
        return Ok(vec![(Cell::Missing, false); height]);
    }
    let dtype = column.dtype().clone();
    let wrong = |expected| IngestError::WrongType {
        column: name.to_string(),
        expected,
        found: dtype.to_string(),
    };
    let series = column.as_materialized_series();
    let numbers = |series: &Series| -> Result<Vec<Option<f64>>, IngestError> {
        let floats = series.cast(&DataType::Float64).map_err(polars_error(name))?;
        Ok(floats.f64().map_err(polars_error(name))?.iter().collect())
    };
    match feature.kind {
        SpecKind::Numeric => {
            if !dtype.is_primitive_numeric() {
                return Err(wrong("numbers"));
            }
            Ok(numbers(series)?
                .into_iter()
                .map(|v| match v {
                    None => (Cell::Missing, false),
                    Some(x) => {
                        let bad = !x.is_finite()
                            || feature.min.is_some_and(|lo| x < lo)
                            || feature.max.is_some_and(|hi| x > hi);
                        (Cell::Number(x), bad)
                    }
                })
                .collect())
        }
        SpecKind::Boolean => {
            if dtype == DataType::Boolean {
                return Ok(series
                    .bool()
                    .map_err(polars_error(name))?
                    .iter()
                    .map(|v| v.map_or((Cell::Missing, false), |b| (Cell::Boolean(b), false)))
                    .collect());
            }
            if !dtype.is_primitive_numeric() {
                return Err(wrong("true/false or 0/1"));
            }
            Ok(numbers(series)?
                .into_iter()
                .map(|v| match v {
                    None => (Cell::Missing, false),
                    Some(x) if x == 0.0 || x == 1.0 => (Cell::Boolean(x == 1.0), false),
                    Some(_) => (Cell::Missing, true),
                })
                .collect())
        }
        SpecKind::Categorical => {
            // Integer codes are categories too.
            let text = series.cast(&DataType::String).map_err(polars_error(name))?;
            Ok(text
                .str()
                .map_err(polars_error(name))?
                .iter()
                .map(|v| match v {
                    None => (Cell::Missing, false),
                    Some(s) => {
                        let bad = feature.categories.as_ref().is_some_and(|c| !c.iter().any(|c| c == s));
                        (Cell::Text(s.to_string()), bad)
                    }
                })
                .collect())
        }
    }
}

/// Screens a loaded frame against a spec: each feature column must exist
/// with a usable type; rows with a value out of the feature's range, a
/// non-finite number, a boolean other than 0/1 or a category outside the
/// spec's list are excluded and counted per column.
///
/// # Errors
/// [`IngestError`] for an empty table, a missing or mistyped column, or more
/// than [`MAX_EXCLUDED_SHARE`] of rows excluded.
fn screen_spec(frame: &DataFrame, path: &Path, spec: &Spec) -> Result<Kept, IngestError> {
    if frame.height() == 0 {
        return Err(IngestError::Empty(path.to_path_buf()));
    }
    let names: std::sync::Arc<[String]> = spec.features.iter().map(|f| f.name.clone()).collect();
    let columns: Vec<Vec<(Cell, bool)>> = spec
        .features
        .iter()
        .map(|f| spec_cells(frame, f))
        .collect::<Result<_, _>>()?;
    let mut screening = Screening {
        rows_read: frame.height(),
        ..Screening::default()
    };
    let (mut records, mut rows, mut rejected) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..frame.height() {
        let bad: Vec<&str> = (0..columns.len())
            .filter(|&c| columns[c][i].1)
            .map(|c| names[c].as_str())
            .collect();
        if bad.is_empty() {
            records.push(TableRow::Spec(SpecRow {
                names: names.clone(),
                cells: columns.iter().map(|c| c[i].0.clone()).collect(),
            }));
            rows.push(i);
        } else {
            screening.rows_excluded += 1;
            rejected.push((
                i,
                bad.iter()
                    .map(|c| format!("{c}: outside the spec"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
            for c in bad {
                *screening.excluded_by_column.entry(c.to_string()).or_default() += 1;
            }
        }
    }
    check_exclusions(&screening)?;
    Ok(Kept {
        records,
        rows,
        screening,
        rejected,
    })
}

/// Reads and screens a CSV or Parquet table for `target`: against the
/// patient record contract, or against the target's spec; with
/// [`Reading::WithOutcome`] also the target's outcome columns, so a missing
/// or mistyped outcome column is found here, not in the middle of a fit.
///
/// # Errors
/// [`IngestError`]: a missing or unreadable file, missing or mistyped
/// columns, too many excluded rows, unusable outcome columns.
pub fn load(path: &Path, target: Target, reading: Reading) -> Result<Dataset, IngestError> {
    if path.is_dir() {
        return Err(IngestError::Directory(path.to_path_buf()));
    }
    if !path.is_file() {
        return Err(IngestError::MissingFile(path.to_path_buf()));
    }
    // Read once: the same bytes are fingerprinted and decoded.
    let bytes = std::fs::read(path).map_err(|source| TableError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let sha256 = sha256_hex(&bytes);
    let frame = decode_table(bytes, path)?;
    let kept = match target.spec() {
        Some(spec) => screen_spec(&frame, path, spec)?,
        None => screen(&frame, path)?,
    };
    let outcome = match reading {
        Reading::WithOutcome => Some(outcome(&frame, target, &kept.rows)?),
        Reading::OutcomeIfPresent if has_outcome(&frame, target) => Some(outcome(&frame, target, &kept.rows)?),
        Reading::OutcomeIfPresent | Reading::FeaturesOnly => None,
    };
    let mut id_names: Vec<&str> = ID_COLUMNS.to_vec();
    for name in [target.group_column(), target.date_column()] {
        if !id_names.contains(&name) {
            id_names.push(name);
        }
    }
    Ok(Dataset {
        sha256,
        groups: patient_groups(&frame, target.group_column(), &kept.rows),
        dates: index_dates(&frame, target.date_column(), &kept.rows),
        ids: id_names
            .iter()
            .filter_map(|name| frame.column(name).ok().cloned())
            .collect(),
        outcome,
        records: kept.records,
        rows: kept.rows,
        screening: kept.screening,
        rejected: kept.rejected,
    })
}

/// Whether `frame` has any of `target`'s outcome columns (one without the
/// other is then an error naming the missing one).
fn has_outcome(frame: &DataFrame, target: Target) -> bool {
    match target.outcome() {
        SpecOutcome::TimeEvent { time, event, .. } => frame.column(time).is_ok() || frame.column(event).is_ok(),
        SpecOutcome::Label(column) => frame.column(column).is_ok(),
    }
}

/// The outcome of `target` at `rows`.
fn outcome(frame: &DataFrame, target: Target, rows: &[usize]) -> Result<Outcome, IngestError> {
    Ok(match target.outcome() {
        SpecOutcome::TimeEvent { time, event, .. } => Outcome::TimeEvent {
            times: numeric_column(frame, time, rows)?,
            events: event_column(frame, event, rows)?,
        },
        SpecOutcome::Label(column) => Outcome::Label(label_column(frame, column, rows)?),
    })
}

/// The patient of each of `rows`, as a group number for folds (see [`Dataset::groups`]).
fn patient_groups(frame: &DataFrame, name: &str, rows: &[usize]) -> Vec<i64> {
    let Ok(column) = frame.column(name) else {
        return (0..rows.len() as i64).collect();
    };
    if let Ok(ids) = numeric_column(frame, name, rows) {
        if ids.iter().all(|x| x.is_finite()) {
            return ids.iter().map(|x| *x as i64).collect();
        }
    }
    let Ok(text) = column.cast(&DataType::String) else {
        return (0..rows.len() as i64).collect();
    };
    let Ok(values) = text.str() else {
        return (0..rows.len() as i64).collect();
    };
    let mut ids: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    rows.iter()
        .map(|&i| {
            // A missing id is a group of its own.
            let key = values.get(i).map_or_else(|| format!("\u{0}row-{i}"), str::to_string);
            let next = ids.len() as i64;
            *ids.entry(key).or_insert(next)
        })
        .collect()
}

/// The dates in column `name` of `rows` as ISO text (which sorts by date), if the column exists.
fn index_dates(frame: &DataFrame, name: &str, rows: &[usize]) -> Option<Vec<Option<String>>> {
    let column = frame.column(name).ok()?;
    let text = column.cast(&DataType::String).ok()?;
    let values = text.str().ok()?;
    Some(rows.iter().map(|&i| values.get(i).map(str::to_string)).collect())
}

/// The numeric column `name` at `rows`, for follow-up times.
///
/// # Errors
/// [`IngestError`] if the column is missing or not numeric.
fn numeric_column(frame: &DataFrame, name: &str, rows: &[usize]) -> Result<Vec<f64>, IngestError> {
    let column = frame.column(name).map_err(|_| IngestError::MissingColumn {
        column: name.to_string(),
        what: "an outcome column",
    })?;
    if !column.dtype().is_primitive_numeric() {
        return Err(IngestError::WrongType {
            column: name.to_string(),
            expected: "numbers",
            found: column.dtype().to_string(),
        });
    }
    let floats = column
        .as_materialized_series()
        .cast(&DataType::Float64)
        .map_err(polars_error(name))?;
    let values = floats.f64().map_err(polars_error(name))?;
    Ok(rows.iter().map(|&i| values.get(i).unwrap_or(f64::NAN)).collect())
}

/// The boolean (or 0/1) column `name` at `rows`, for event indicators.
///
/// # Errors
/// [`IngestError`] if the column is missing, of another type, or has values
/// other than 0/1 (a missing value included).
fn event_column(frame: &DataFrame, name: &str, rows: &[usize]) -> Result<Vec<bool>, IngestError> {
    label_column(frame, name, rows)?
        .into_iter()
        .map(|v| {
            v.ok_or_else(|| IngestError::WrongType {
                column: name.to_string(),
                expected: "true/false or 0/1 in every row",
                found: "a missing value".to_string(),
            })
        })
        .collect()
}

/// The boolean (or 0/1) column `name` at `rows`, missing values as `None`.
///
/// # Errors
/// [`IngestError`] if the column is missing, of another type, or has values other than 0/1.
fn label_column(frame: &DataFrame, name: &str, rows: &[usize]) -> Result<Vec<Option<bool>>, IngestError> {
    let column = frame.column(name).map_err(|_| IngestError::MissingColumn {
        column: name.to_string(),
        what: "an outcome column",
    })?;
    let wrong = || IngestError::WrongType {
        column: name.to_string(),
        expected: "true/false or 0/1",
        found: column.dtype().to_string(),
    };
    if column.dtype() == &DataType::Boolean {
        let values = column
            .as_materialized_series()
            .bool()
            .map_err(polars_error(name))?
            .clone();
        return Ok(rows.iter().map(|&i| values.get(i)).collect());
    }
    let numbers = numeric_column(frame, name, rows).map_err(|_| wrong())?;
    numbers
        .into_iter()
        .map(|x| {
            if x == 1.0 {
                Ok(Some(true))
            } else if x == 0.0 {
                Ok(Some(false))
            } else if x.is_nan() {
                Ok(None)
            } else {
                Err(wrong())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_groups_follow_numeric_and_text_ids() {
        let numeric = DataFrame::new(3, vec![Column::new("patient_id".into(), vec![7i64, 7, 9])]).unwrap();
        assert_eq!(patient_groups(&numeric, "patient_id", &[0, 1, 2]), [7, 7, 9]);
        let text = DataFrame::new(3, vec![Column::new("patient_id".into(), vec!["b", "a", "b"])]).unwrap();
        assert_eq!(patient_groups(&text, "patient_id", &[0, 1, 2]), [0, 1, 0]);
        let none = DataFrame::new(3, vec![Column::new("other".into(), vec![1i64, 2, 3])]).unwrap();
        assert_eq!(patient_groups(&none, "patient_id", &[0, 2]), [0, 1]);
    }
}
