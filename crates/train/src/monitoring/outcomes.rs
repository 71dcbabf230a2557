//! Reading the outcomes a centre records (`--outcomes`, CSV or Parquet), one
//! row per fact, in long form:
//!
//! | column | what |
//! |---|---|
//! | `case_id` | the case id the CMS sent with the records |
//! | `target` | the built-in target the row is about: `infection_180d` or `readmission_30d` |
//! | `event` | 1 (or `true`): the target's event happened on `date`; 0: the case was followed, event-free since its last event, until `date` |
//! | `date` | `YYYY-MM-DD` |
//! | `organ` | optional: the transplanted organ, for the figures by organ |
//!
//! A case's follow-up for a target ends on the latest of its dates for that
//! target; a case without a row for a target has no follow-up for it.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::{DataFrame, DataType};

use super::{days_from_civil, MonitorError};
use crate::target::Target;

/// A case's recorded outcomes for one target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FollowUp {
    /// Days of the events, ascending (days since 1970-01-01).
    pub events: Vec<i64>,
    /// The last day the case was followed.
    pub end: i64,
}

impl FollowUp {
    /// The follow-up from `day`: days to the first event on or after it
    /// and `true`, or days to the end of follow-up and `false`; `None` when
    /// follow-up ended before `day`.
    pub fn from_day(&self, day: i64) -> Option<(f64, bool)> {
        match self.events.iter().find(|e| **e >= day) {
            Some(event) => Some(((event - day) as f64, true)),
            None if self.end >= day => Some(((self.end - day) as f64, false)),
            None => None,
        }
    }
}

/// Everything recorded: per (case id, target) its follow-up, per case id its organ.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    /// Follow-up by case id and target name.
    pub follow_up: BTreeMap<(String, &'static str), FollowUp>,
    /// Organ by case id, where given.
    pub organ: BTreeMap<String, String>,
}

/// The column names.
const CASE_ID: &str = "case_id";
const TARGET: &str = "target";
const EVENT: &str = "event";
const DATE: &str = "date";
const ORGAN: &str = "organ";

/// Parses `YYYY-MM-DD`.
fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    days_from_civil(year, month, day)
}

fn text_column(
    frame: &DataFrame,
    name: &str,
    path: &Path,
    required: bool,
) -> Result<Option<Vec<Option<String>>>, MonitorError> {
    let Ok(column) = frame.column(name) else {
        if required {
            return Err(MonitorError::Outcomes {
                path: path.to_path_buf(),
                message: format!(
                    "no column `{name}` (the outcomes need case_id, target, event and date; organ is optional)"
                ),
            });
        }
        return Ok(None);
    };
    let text = column.cast(&DataType::String).map_err(|e| MonitorError::Outcomes {
        path: path.to_path_buf(),
        message: format!("column `{name}`: {e}"),
    })?;
    let values = text.str().map_err(|e| MonitorError::Outcomes {
        path: path.to_path_buf(),
        message: format!("column `{name}`: {e}"),
    })?;
    Ok(Some(
        (0..values.len()).map(|i| values.get(i).map(str::to_string)).collect(),
    ))
}

/// Reads the outcomes table at `path`.
///
/// # Errors
/// [`MonitorError::Outcomes`] naming the row and column of a value that is
/// missing or not what the table allows, or a missing column.
pub fn read(path: &Path) -> Result<Outcomes, MonitorError> {
    let frame = crate::table::read_table(path).map_err(|e| MonitorError::Outcomes {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let column = |name: &str| -> Result<Vec<Option<String>>, MonitorError> {
        Ok(text_column(&frame, name, path, true)?.unwrap_or_default())
    };
    let (cases, targets, events, dates) = (column(CASE_ID)?, column(TARGET)?, column(EVENT)?, column(DATE)?);
    let organs = text_column(&frame, ORGAN, path, false)?;
    let mut outcomes = Outcomes::default();
    for row in 0..frame.height() {
        // Rows as a spreadsheet numbers them: the header is row 1.
        let bad = |name: &str, message: String| MonitorError::Outcomes {
            path: path.to_path_buf(),
            message: format!("row {}, column `{name}`: {message}", row + 2),
        };
        let case = cases[row]
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad(CASE_ID, "missing".into()))?;
        let target_name = targets[row].as_deref().unwrap_or_default();
        let target = Target::from_name(target_name).ok_or_else(|| {
            bad(
                TARGET,
                format!("{target_name:?} is not a built-in target (allowed: infection_180d, readmission_30d)"),
            )
        })?;
        let event = match events[row].as_deref().map(str::trim) {
            Some("1" | "true" | "1.0") => true,
            Some("0" | "false" | "0.0") => false,
            other => return Err(bad(EVENT, format!("{other:?}: allowed 1 or 0 (true or false)"))),
        };
        let date_text = dates[row].as_deref().unwrap_or_default();
        let day = parse_date(date_text).ok_or_else(|| bad(DATE, format!("{date_text:?} is not a date YYYY-MM-DD")))?;
        if let Some(organ) = organs.as_ref().and_then(|o| o[row].clone()).filter(|o| !o.is_empty()) {
            outcomes.organ.insert(case.clone(), organ);
        }
        let follow_up = outcomes.follow_up.entry((case, target.name())).or_insert(FollowUp {
            events: Vec::new(),
            end: day,
        });
        follow_up.end = follow_up.end.max(day);
        if event {
            follow_up.events.push(day);
        }
    }
    for follow_up in outcomes.follow_up.values_mut() {
        follow_up.events.sort_unstable();
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_up_from_a_day_finds_the_next_event_or_the_end() {
        let f = FollowUp {
            events: vec![10, 50],
            end: 100,
        };
        assert_eq!(f.from_day(0), Some((10.0, true)));
        assert_eq!(f.from_day(10), Some((0.0, true)), "an event on the day counts");
        assert_eq!(f.from_day(11), Some((39.0, true)));
        assert_eq!(f.from_day(60), Some((40.0, false)));
        assert_eq!(f.from_day(101), None, "no follow-up after the end");
    }

    #[test]
    fn bad_values_name_their_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outcomes.csv");
        let check = |text: &str, needle: &str| {
            std::fs::write(&path, text).unwrap();
            let message = read(&path).unwrap_err().to_string();
            assert!(message.contains(needle), "{message}");
        };
        check(
            "case_id,target,event,date\nc1,infection_180d,1,2026-02-30\n",
            "row 2, column `date`: \"2026-02-30\"",
        );
        check(
            "case_id,target,event,date\nc1,sepsis,1,2026-02-01\n",
            "row 2, column `target`",
        );
        check(
            "case_id,target,event,date\nc1,infection_180d,2,2026-02-01\n",
            "row 2, column `event`",
        );
        check(
            "case_id,target,date\nc1,infection_180d,2026-02-01\n",
            "no column `event`",
        );
        std::fs::write(
            &path,
            "case_id,target,event,date,organ\nc1,infection_180d,1,2026-02-01,lung\nc1,infection_180d,0,2026-06-01,lung\n",
        )
        .unwrap();
        let outcomes = read(&path).unwrap();
        let f = &outcomes.follow_up[&("c1".to_string(), "infection_180d")];
        assert_eq!(f.events, [days_from_civil(2026, 2, 1).unwrap()]);
        assert_eq!(f.end, days_from_civil(2026, 6, 1).unwrap());
        assert_eq!(outcomes.organ["c1"], "lung");
    }
}
