//! Outcome monitoring (`carescore-train monitor`): the predictions the
//! service logged in its audit trail ([`audit`]) joined to the outcomes a
//! centre records later ([`outcomes`]) through the salted case-id hash,
//! each prediction labelled at its target's horizon from the prediction's
//! day with the same censoring rule as training ([`join`]), and evaluated
//! for the served (champion) models and the shadow challenger, overall, by
//! month and by organ ([`evaluation`]), as JSON and as an HTML page
//! ([`page`]). This is how a centre learns when to recalibrate or retrain.

pub mod audit;
pub mod evaluation;
pub mod join;
pub mod outcomes;
pub mod page;

use serde::Serialize;

/// Which model set made a prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSet {
    /// The served models (the answers' decision lines).
    Champion,
    /// The shadow challenger (`"route": "shadow"` lines).
    Shadow,
}

impl ModelSet {
    /// The set's name.
    pub fn name(self) -> &'static str {
        match self {
            ModelSet::Champion => "champion",
            ModelSet::Shadow => "shadow",
        }
    }
}

/// Why monitoring cannot run.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// A file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A line of the audit trail is not what the service writes.
    #[error("{path}, line {line}: {message}")]
    AuditLine {
        /// The file.
        path: std::path::PathBuf,
        /// One-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The outcomes table is not usable.
    #[error("{path}: {message}")]
    Outcomes {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong (which row and column, what was expected).
        message: String,
    },
    /// Labels could not be built.
    #[error("labels for {target}: {message}")]
    Labels {
        /// The target.
        target: String,
        /// Why.
        message: String,
    },
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`), or `None` for a month or day out of range.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The year, month and day of a day since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The `YYYY-MM` of a day since 1970-01-01.
pub fn month_of(days: i64) -> String {
    let (year, month, _) = civil_from_days(days);
    format!("{year:04}-{month:02}")
}

/// The `YYYY-MM-DD` of a day since 1970-01-01.
pub fn date_of(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(2025, 12, 31), Some(20_453));
        assert_eq!(days_from_civil(2024, 2, 29), Some(19_782));
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert_eq!(days_from_civil(2023, 13, 1), None);
        assert_eq!(month_of(20_453), "2025-12");
        assert_eq!(month_of(19_782), "2024-02");
        assert_eq!(month_of(0), "1970-01");
        for days in [-1, 0, 59, 11_016, 19_782, 20_453, 40_000] {
            let text = date_of(days);
            let parts: Vec<i64> = text.split('-').map(|p| p.parse().unwrap()).collect();
            assert_eq!(
                days_from_civil(parts[0], parts[1] as u32, parts[2] as u32),
                Some(days),
                "{text}"
            );
        }
    }
}
