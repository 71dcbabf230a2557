//! Training tables on disk: the synthetic cohort written as CSV or Parquet
//! (chosen by the file extension) with polars.
//!
//! Column order: `patient_id`, `index_date`, the patient record's fields in
//! contract order, the outcome times and events, the true probabilities and
//! `injected_noise`. Files are written to a temporary file beside the target
//! and renamed into place, so a failed run never leaves a partial file.

use std::path::{Path, PathBuf};

use carescore_core::{Field, FieldKind, FieldValue};
use polars::prelude::*;

use crate::atomic::{parent_dir, write_atomically};
use crate::synth::SynthRow;

/// File formats a table can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated values with a header row (`.csv`).
    Csv,
    /// Apache Parquet (`.parquet`).
    Parquet,
}

impl TableFormat {
    /// The format named by `path`'s extension (case-insensitive).
    ///
    /// # Errors
    /// [`TableError::UnknownExtension`] for anything but `.csv` and `.parquet`.
    pub fn from_path(path: &Path) -> Result<TableFormat, TableError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(TableFormat::Csv),
            Some("parquet") => Ok(TableFormat::Parquet),
            _ => Err(TableError::UnknownExtension(path.to_path_buf())),
        }
    }
}

/// Why a table could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The extension names no supported format.
    #[error("{}: unknown file extension (allowed: .csv, .parquet)", .0.display())]
    UnknownExtension(PathBuf),
    /// The directory to write into does not exist.
    #[error("{}: directory does not exist", .0.display())]
    MissingDirectory(PathBuf),
    /// The file could not be opened or read.
    #[error("{}: cannot read", path.display())]
    Read {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file's bytes are not a table of its format.
    #[error("{}: cannot decode the table (is it a valid {format} file?)", path.display())]
    Decode {
        /// The file concerned.
        path: PathBuf,
        /// `CSV` or `Parquet`.
        format: &'static str,
        /// The underlying error.
        source: PolarsError,
    },
    /// The file could not be created or written.
    #[error("{}: cannot write", path.display())]
    Write {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// polars could not build or encode the table.
    #[error("{}: cannot encode the table", path.display())]
    Encode {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: PolarsError,
    },
}

/// The values of `field` across `rows`, converted by `convert` (absent stays `None`).
fn values_of<'a, T>(rows: &'a [SynthRow], field: Field, convert: fn(FieldValue<'a>) -> Option<T>) -> Vec<Option<T>> {
    rows.iter().map(|r| r.record.value(field).and_then(convert)).collect()
}

/// The column of one record field, typed by the field's kind.
fn record_column(field: Field, rows: &[SynthRow]) -> Column {
    let name = PlSmallStr::from_static(field.name());
    match field.spec().kind {
        FieldKind::Number { .. } => Column::new(name, values_of(rows, field, |v| v.as_f64())),
        FieldKind::Integer { .. } => Column::new(
            name,
            values_of(rows, field, |v| match v {
                FieldValue::Integer(n) => Some(n),
                _ => None,
            }),
        ),
        FieldKind::Boolean => Column::new(
            name,
            values_of(rows, field, |v| match v {
                FieldValue::Boolean(b) => Some(b),
                _ => None,
            }),
        ),
        FieldKind::CaseId | FieldKind::Category(_) => Column::new(
            name,
            values_of(rows, field, |v| match v {
                FieldValue::Text(s) => Some(s),
                _ => None,
            }),
        ),
    }
}

/// The cohort as a polars data frame.
///
/// # Errors
/// A [`PolarsError`] if polars rejects the columns (not expected for generated rows).
pub fn cohort_frame(rows: &[SynthRow]) -> PolarsResult<DataFrame> {
    let mut columns = Vec::with_capacity(Field::ALL.len() + 10);
    columns.push(Column::new(
        "patient_id".into(),
        rows.iter().map(|r| r.patient_id).collect::<Vec<_>>(),
    ));
    columns.push(
        Column::new(
            "index_date".into(),
            rows.iter().map(|r| r.index_date).collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)?,
    );
    columns.extend(Field::ALL.iter().map(|f| record_column(*f, rows)));
    let u32s =
        |name: &'static str, f: fn(&SynthRow) -> u32| Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>());
    let bools =
        |name: &'static str, f: fn(&SynthRow) -> bool| Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>());
    let f64s =
        |name: &'static str, f: fn(&SynthRow) -> f64| Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>());
    columns.push(u32s("infection_time_days", |r| r.infection_time_days));
    columns.push(bools("infection_event", |r| r.infection_event));
    columns.push(u32s("readmission_time_days", |r| r.readmission_time_days));
    columns.push(bools("readmission_event", |r| r.readmission_event));
    columns.push(f64s("true_p_infection_180d", |r| r.true_p_infection_180d));
    columns.push(f64s("true_p_readmission_30d", |r| r.true_p_readmission_30d));
    columns.push(bools("injected_noise", |r| r.injected_noise));
    DataFrame::new(rows.len(), columns)
}

/// Writes `rows` to `path` as CSV or Parquet (by extension), atomically.
///
/// # Errors
/// [`TableError`] naming the path and the problem; no file is left at `path`
/// (nor a temporary file beside it) when writing fails.
pub fn write_cohort(rows: &[SynthRow], path: &Path) -> Result<(), TableError> {
    let format = TableFormat::from_path(path)?;
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(TableError::MissingDirectory(dir));
    }
    let encode = |source| TableError::Encode {
        path: path.to_path_buf(),
        source,
    };
    let mut frame = cohort_frame(rows).map_err(encode)?;
    write_atomically(path, |writer| -> Result<(), WriteError> {
        match format {
            TableFormat::Csv => CsvWriter::new(writer).finish(&mut frame)?,
            TableFormat::Parquet => {
                ParquetWriter::new(writer).finish(&mut frame)?;
            }
        }
        Ok(())
    })
    .map_err(|e| match e {
        WriteError::Io(source) => TableError::Write {
            path: path.to_path_buf(),
            source,
        },
        WriteError::Encode(source) => encode(source),
    })
}

/// A failure inside an atomic table write.
#[derive(Debug)]
enum WriteError {
    Io(std::io::Error),
    Encode(PolarsError),
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

impl From<PolarsError> for WriteError {
    fn from(e: PolarsError) -> Self {
        WriteError::Encode(e)
    }
}

/// Reads a CSV or Parquet table (by extension).
///
/// # Errors
/// [`TableError`] if the file cannot be opened or decoded.
pub fn read_table(path: &Path) -> Result<DataFrame, TableError> {
    let bytes = std::fs::read(path).map_err(|source| TableError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode_table(bytes, path)
}

/// Decodes a CSV or Parquet table already in memory; `path` names its format
/// (by extension) and appears in errors.
///
/// # Errors
/// [`TableError`] for an unknown extension or undecodable content.
pub fn decode_table(bytes: Vec<u8>, path: &Path) -> Result<DataFrame, TableError> {
    let format = TableFormat::from_path(path)?;
    let decode = |format: &'static str| {
        move |source| TableError::Decode {
            path: path.to_path_buf(),
            format,
            source,
        }
    };
    let reader = std::io::Cursor::new(bytes);
    match format {
        TableFormat::Csv => CsvReadOptions::default()
            .with_has_header(true)
            .into_reader_with_file_handle(reader)
            .finish()
            .map_err(decode("CSV")),
        TableFormat::Parquet => ParquetReader::new(reader).finish().map_err(decode("Parquet")),
    }
}
