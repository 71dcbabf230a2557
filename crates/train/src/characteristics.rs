//! Participants' characteristics and missing values per predictor (TRIPOD+AI
//! items 11 and 20), for the model card and the report: every model input
//! described over the labelled rows, overall and by outcome at the horizon.
//!
//! Numbers are summarised by median and interquartile range, categories and
//! yes/no values by counts and shares. No minimum or maximum is shown: on a
//! small table an extreme is one patient's value.

use carescore_core::artifact::{FeatureKind, FeatureSpec, Row};
use carescore_core::FieldValue;

use crate::evaluation::Scored;
use crate::rows::TableRow;

/// The three columns every figure is given for.
pub const COLUMNS: [&str; 3] = ["all", "event", "no event"];

/// Counts per column: all rows, rows with the event, rows without.
pub type PerColumn<T> = [T; 3];

/// How one predictor's known values are summarised.
#[derive(Debug, Clone, PartialEq)]
pub enum Summary {
    /// Median, first and third quartile per column (none when no value is known).
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

/// Median and quartiles of `values`, none when empty.
fn quartiles(mut values: Vec<f64>) -> Option<[f64; 3]> {
    if values.is_empty() {
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
    for (&record, &y) in scored.records.iter().zip(&scored.y) {
        let columns = columns_of(y);
        match records[record].value(&feature.name).map(known) {
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

/// `count (share%)` of `total`.
fn share(count: usize, total: usize) -> String {
    if total == 0 {
        return count.to_string();
    }
    format!("{count} ({:.1}%)", 100.0 * count as f64 / total as f64)
}

/// A number with about three significant digits; whole numbers without decimals.
fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        return format!("{x:.0}");
    }
    let digits = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
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
                            || "n/a".to_string(),
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
    fn numbers_levels_and_missing_values_are_counted_by_outcome() {
        let names: Arc<[String]> = vec!["age".to_string(), "ward".to_string()].into();
        let records = vec![
            row(&names, vec![Cell::Number(40.0), Cell::Text("icu".into())]),
            row(&names, vec![Cell::Number(50.0), Cell::Text("medical".into())]),
            row(&names, vec![Cell::Missing, Cell::Text("icu".into())]),
            row(&names, vec![Cell::Number(70.0), Cell::Missing]),
            row(&names, vec![Cell::Number(60.0), Cell::Text("surgical".into())]),
        ];
        let scored = Scored {
            records: vec![0, 1, 2, 3, 4],
            p: vec![0.5; 5],
            y: vec![true, false, true, false, false],
            w: vec![1.0; 5],
        };
        let features = [
            FeatureSpec {
                name: "age".into(),
                kind: FeatureKind::Numeric {
                    center: 0.0,
                    scale: 1.0,
                },
                missing_indicator: true,
            },
            FeatureSpec {
                name: "ward".into(),
                kind: FeatureKind::Categorical {
                    categories: vec!["icu".into(), "medical".into()],
                },
                missing_indicator: true,
            },
        ];
        let c = characteristics(&features, &scored, &records);
        assert_eq!(c.rows, [5, 2, 3]);
        let age = &c.predictors[0];
        assert_eq!(age.missing, [1, 1, 0]);
        // All: 40, 50, 60, 70 -> median 55, quartiles 47.5 and 62.5; events: 40 only; others: 50, 60, 70.
        assert_eq!(
            age.summary,
            Summary::Numeric([
                Some([55.0, 47.5, 62.5]),
                Some([40.0, 40.0, 40.0]),
                Some([60.0, 55.0, 65.0])
            ])
        );
        let ward = &c.predictors[1];
        assert_eq!(ward.missing, [1, 0, 1]);
        // The model's categories first, then a level it did not see.
        assert_eq!(
            ward.summary,
            Summary::Levels(vec![
                ("icu".into(), [2, 2, 0]),
                ("medical".into(), [1, 0, 1]),
                ("surgical".into(), [1, 0, 1]),
            ])
        );
        let (header, lines) = c.lines();
        assert_eq!(header[1], "event (n = 2)");
        assert_eq!(lines[0].0, "age, median (IQR)");
        assert_eq!(lines[0].1[0], "55 (47.5 to 62.5)");
        assert_eq!(
            lines[1],
            (
                "age, missing".to_string(),
                ["1 (20.0%)".into(), "1 (50.0%)".into(), "0 (0.0%)".into()]
            )
        );
        assert_eq!(lines[2].0, "ward = icu");
        // A predictor with no missing value has no missing line.
        let first_two = Scored {
            records: vec![0, 1],
            p: vec![0.5; 2],
            y: vec![true, false],
            w: vec![1.0; 2],
        };
        let complete = characteristics(&features[..1], &first_two, &records);
        assert_eq!(complete.lines().1.len(), 1);
    }
}
