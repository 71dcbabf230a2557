//! Participants' characteristics and missing values per predictor (TRIPOD+AI
//! items 11 and 20), for the model card and the report: every model input
//! described over the labelled rows, overall and by outcome at the horizon.
//!
//! Numbers are summarised by median and interquartile range, categories and
//! yes/no values by counts and shares. Nothing shown can be read back as one
//! patient's value or outcome: no minimum or maximum; a median and quartiles
//! only over at least [`MIN_CELL`] known values; a count from 1 to
//! `MIN_CELL - 1` is shown as `< MIN_CELL` (a category with one patient in
//! the event column would name that patient's outcome).

use carescore_core::artifact::{FeatureKind, FeatureSpec, Row};
use carescore_core::FieldValue;

use crate::evaluation::Scored;
use crate::rows::TableRow;

/// Fewest values behind a published summary or count.
pub const MIN_CELL: usize = 10;

/// The three columns every figure is given for.
pub const COLUMNS: [&str; 3] = ["all", "event", "no event"];

/// Counts per column: all rows, rows with the event, rows without.
pub type PerColumn<T> = [T; 3];

/// How one predictor's known values are summarised.
#[derive(Debug, Clone, PartialEq)]
pub enum Summary {
    /// Median, first and third quartile per column (none below [`MIN_CELL`] known values).
    Numeric(PerColumn<Option<[f64; 3]>>),
    /// Rows per level (category, or `true`/`false`), per column.
    Levels(Vec<(String, PerColumn<usize>)>),
}

/// One predictor described.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictor {
    /// The predictor's name.
    pub name: String,
    /// Rows without a value, per column.
    pub missing: PerColumn<usize>,
    /// The known values.
    pub summary: Summary,
}

/// The characteristics of a set of labelled rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Characteristics {
    /// Rows per column.
    pub rows: PerColumn<usize>,
    /// Every predictor of the model, in its order.
    pub predictors: Vec<Predictor>,
}

/// The column indices a row with label `y` counts in.
fn columns_of(y: bool) -> [usize; 2] {
    [0, if y { 1 } else { 2 }]
}

/// The `q` quantile of sorted `values` (linear interpolation between order statistics).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// Median and quartiles of `values`, none when fewer than [`MIN_CELL`].
fn quartiles(mut values: Vec<f64>) -> Option<[f64; 3]> {
    if values.len() < MIN_CELL {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some([quantile(&values, 0.5), quantile(&values, 0.25), quantile(&values, 0.75)])
}

/// A value as a level name (categories, yes/no), or as a number.
enum Known {
    Level(String),
    Number(f64),
}

fn known(value: FieldValue<'_>) -> Known {
    match value {
        FieldValue::Number(x) => Known::Number(x),
        FieldValue::Integer(n) => Known::Number(n as f64),
        FieldValue::Boolean(b) => Known::Level(b.to_string()),
        FieldValue::Text(s) => Known::Level(s.to_string()),
    }
}

/// Describes `feature` over the rows of `scored`.
fn describe(feature: &FeatureSpec, scored: &Scored, records: &[TableRow]) -> Predictor {
    let mut missing = [0; 3];
    let mut numbers: PerColumn<Vec<f64>> = Default::default();
    // Levels in the model's order first, then any others in order of appearance.
    let mut levels: Vec<(String, PerColumn<usize>)> = match &feature.kind {
        FeatureKind::Categorical { categories } => categories.iter().map(|c| (c.clone(), [0; 3])).collect(),
        FeatureKind::Boolean => vec![("true".to_string(), [0; 3]), ("false".to_string(), [0; 3])],
        FeatureKind::Numeric { .. } => Vec::new(),
    };
    let is_numeric = matches!(feature.kind, FeatureKind::Numeric { .. });
    for (&record, &y) in scored.records.iter().zip(&scored.y) {
        let columns = columns_of(y);
        let value = records[record].value(&feature.name).map(known).map(|v| match v {
            // A number in a category or yes/no column counts as a level of its own.
            Known::Number(x) if !is_numeric => Known::Level(x.to_string()),
            other => other,
        });
        match value {
            None => columns.iter().for_each(|&c| missing[c] += 1),
            Some(Known::Number(x)) => columns.iter().for_each(|&c| numbers[c].push(x)),
            Some(Known::Level(level)) => {
                let i = match levels.iter().position(|(name, _)| *name == level) {
                    Some(i) => i,
                    None => {
                        levels.push((level, [0; 3]));
                        levels.len() - 1
                    }
                };
                columns.iter().for_each(|&c| levels[i].1[c] += 1);
            }
        }
    }
    let summary = match feature.kind {
        FeatureKind::Numeric { .. } => Summary::Numeric(numbers.map(quartiles)),
        FeatureKind::Boolean | FeatureKind::Categorical { .. } => Summary::Levels(levels),
    };
    Predictor {
        name: feature.name.clone(),
        missing,
        summary,
    }
}

/// The characteristics of the rows of `scored` (records in `records`) for
/// every input `features` of a model.
pub fn characteristics(features: &[FeatureSpec], scored: &Scored, records: &[TableRow]) -> Characteristics {
    let mut rows = [0; 3];
    for &y in &scored.y {
        columns_of(y).iter().for_each(|&c| rows[c] += 1);
    }
    Characteristics {
        rows,
        predictors: features.iter().map(|f| describe(f, scored, records)).collect(),
    }
}

/// `count (share%)` of `total`; a count from 1 to [`MIN_CELL`] - 1 as `< MIN_CELL`.
fn share(count: usize, total: usize) -> String {
    if (1..MIN_CELL).contains(&count) {
        return format!("< {MIN_CELL}");
    }
    if total == 0 {
        return count.to_string();
    }
    format!("{count} ({:.1}%)", 100.0 * count as f64 / total as f64)
}

/// A number to three significant digits; whole numbers without decimals.
fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        return format!("{x:.0}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

impl Characteristics {
    /// The table as text cells: a header, then per predictor its summary
    /// lines and, when it has any, its missing values, each line a label and
    /// one cell per column of [`COLUMNS`]. Both the card and the report
    /// render these.
    pub fn lines(&self) -> (PerColumn<String>, Vec<(String, PerColumn<String>)>) {
        let header = [0, 1, 2].map(|c| format!("{} (n = {})", COLUMNS[c], self.rows[c]));
        let mut lines = Vec::new();
        for p in &self.predictors {
            match &p.summary {
                Summary::Numeric(per_column) => lines.push((
                    format!("{}, median (IQR)", p.name),
                    per_column.map(|q| {
                        q.map_or_else(
                            || format!("n/a (< {MIN_CELL} values)"),
                            |[m, lo, hi]| format!("{} ({} to {})", number(m), number(lo), number(hi)),
                        )
                    }),
                )),
                Summary::Levels(levels) => {
                    for (level, counts) in levels {
                        lines.push((
                            format!("{} = {level}", p.name),
                            [0, 1, 2].map(|c| share(counts[c], self.rows[c])),
                        ));
                    }
                }
            }
            if p.missing[0] > 0 {
                lines.push((
                    format!("{}, missing", p.name),
                    [0, 1, 2].map(|c| share(p.missing[c], self.rows[c])),
                ));
            }
        }
        (header, lines)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::rows::{Cell, SpecRow};

    fn row(names: &Arc<[String]>, cells: Vec<Cell>) -> TableRow {
        TableRow::Spec(SpecRow {
            names: names.clone(),
            cells,
        })
    }

    #[test]
    fn numbers_levels_and_missing_values_are_counted_by_outcome_without_small_cells() {
        let names: Arc<[String]> = vec!["age".to_string(), "ward".to_string()].into();
        let records = vec![
            row(&names, vec![Cell::Number(40.0), Cell::Text("icu".into())]),
            row(&names, vec![Cell::Number(50.0), Cell::Text("medical".into())]),
            row(&names, vec![Cell::Missing, Cell::Text("icu".into())]),
            row(&names, vec![Cell::Number(70.0), Cell::Missing]),
            row(&names, vec![Cell::Number(60.0), Cell::Text("surgical".into())]),
        ];
        // Each record five times; records 0 and 2 have the event.
        let scored = Scored {
            records: (0..25).map(|i| i % 5).collect(),
            p: vec![0.5; 25],
            y: (0..25).map(|i| i % 5 == 0 || i % 5 == 2).collect(),
            w: vec![1.0; 25],
        };
        let features = [
            FeatureSpec {
                name: "age".into(),
                kind: FeatureKind::Numeric {
                    center: 0.0,
                    scale: 1.0,
                },
                missing_indicator: true,
                allowed_range: None,
                training_bins: None,
                training_shares: None,
            },
            FeatureSpec {
                name: "ward".into(),
                kind: FeatureKind::Categorical {
                    categories: vec!["icu".into(), "medical".into()],
                },
                missing_indicator: true,
                allowed_range: None,
                training_bins: None,
                training_shares: None,
            },
        ];
        let c = characteristics(&features, &scored, &records);
        assert_eq!(c.rows, [25, 10, 15]);
        let age = &c.predictors[0];
        assert_eq!(age.missing, [5, 5, 0]);
        // All: 40, 50, 60, 70 five times each -> median 55, quartiles 47.5 and
        // 62.5; events: five values only, too few to summarise; others: 50, 60, 70.
        assert_eq!(
            age.summary,
            Summary::Numeric([Some([55.0, 47.5, 62.5]), None, Some([60.0, 50.0, 70.0])])
        );
        let ward = &c.predictors[1];
        assert_eq!(ward.missing, [5, 0, 5]);
        // The model's categories first, then a level it did not see.
        assert_eq!(
            ward.summary,
            Summary::Levels(vec![
                ("icu".into(), [10, 10, 0]),
                ("medical".into(), [5, 0, 5]),
                ("surgical".into(), [5, 0, 5]),
            ])
        );
        let (header, lines) = c.lines();
        assert_eq!(header[1], "event (n = 10)");
        let line = |label: &str| lines.iter().find(|(l, _)| l == label).map(|(_, cells)| cells.clone());
        assert_eq!(
            line("age, median (IQR)").unwrap(),
            ["55 (47.5 to 62.5)", "n/a (< 10 values)", "60 (50 to 70)"]
        );
        // Counts below ten are not shown: each would be a handful of patients' outcomes.
        assert_eq!(line("age, missing").unwrap(), ["< 10", "< 10", "0 (0.0%)"]);
        assert_eq!(line("ward = icu").unwrap(), ["10 (40.0%)", "10 (100.0%)", "0 (0.0%)"]);
        assert_eq!(line("ward = surgical").unwrap(), ["< 10", "0 (0.0%)", "< 10"]);
        // A predictor with no missing value has no missing line.
        let known = Scored {
            records: vec![0; 12],
            p: vec![0.5; 12],
            y: vec![false; 12],
            w: vec![1.0; 12],
        };
        let complete = characteristics(&features[..1], &known, &records);
        assert_eq!(complete.lines().1.len(), 1);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        let shown: Vec<String> = [132.0, 31.62, 3.162, 0.0123, 0.5, 1500.25]
            .into_iter()
            .map(number)
            .collect();
        assert_eq!(shown, ["132", "31.6", "3.16", "0.0123", "0.500", "1500"]);
    }
}
