//! Reading the service's audit trail: every decision line of a score (or a
//! batch item) gives the served models' predictions, every `"route":
//! "shadow"` line the shadow's, each with the salted case-id hash and its
//! day. Grades (underwriting's neutralised risks) and spec models' lines are
//! not care predictions of a built-in target and are skipped.

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use super::{ModelSet, MonitorError};
use crate::target::Target;

/// One logged prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Which set made it.
    pub set: ModelSet,
    /// The built-in target.
    pub target: Target,
    /// `<target>@<version>`.
    pub model_version: String,
    /// The predicted probability.
    pub probability: f64,
    /// The day it was made (days since 1970-01-01, UTC).
    pub day: i64,
    /// The salted case-id hash.
    pub case_hash: String,
}

/// The fields of an audit line this reads.
#[derive(Deserialize)]
struct Line {
    time_unix_ms: u64,
    route: String,
    #[serde(default)]
    case_id_sha256: Option<String>,
    #[serde(default)]
    model_versions: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    probabilities: std::collections::BTreeMap<String, f64>,
}

/// Milliseconds in a day.
const DAY_MS: u64 = 86_400_000;

/// The predictions of the audit trail at `path`, and the lines skipped
/// (other routes, or without a case hash).
///
/// # Errors
/// [`MonitorError`] when the file cannot be read or a line is not an audit line.
pub fn read(path: &Path) -> Result<(Vec<Prediction>, usize), MonitorError> {
    let file = std::fs::File::open(path).map_err(|source| MonitorError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut predictions = Vec::new();
    let mut skipped = 0;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| MonitorError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| MonitorError::AuditLine {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let parsed: Line =
            serde_json::from_str(&line).map_err(|e| bad(format!("not an audit line of carescore-serve ({e})")))?;
        let set = match parsed.route.as_str() {
            "score" | "batch" => ModelSet::Champion,
            "shadow" => ModelSet::Shadow,
            _ => {
                skipped += 1;
                continue;
            }
        };
        let Some(case_hash) = parsed.case_id_sha256 else {
            skipped += 1;
            continue;
        };
        for (name, probability) in &parsed.probabilities {
            let Some(target) = Target::from_name(name) else {
                continue;
            };
            if !(0.0..=1.0).contains(probability) {
                return Err(bad(format!(
                    "probability {probability} of {name} is not between 0 and 1"
                )));
            }
            predictions.push(Prediction {
                set,
                target,
                model_version: parsed.model_versions.get(name).cloned().unwrap_or_default(),
                probability: *probability,
                day: i64::try_from(parsed.time_unix_ms / DAY_MS).unwrap_or(i64::MAX),
                case_hash: case_hash.clone(),
            });
        }
    }
    Ok((predictions, skipped))
}
