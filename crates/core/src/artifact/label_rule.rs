//! What a model predicts, as its training labels were made: the event by the
//! artifact's horizon from follow-up time and event columns (with the
//! censoring handling), or a plain 0/1 label column. A served model carries
//! it so that its answers can say what the probability is of, and so that a
//! built-in target is only ever served by a model of that outcome.

use serde::{Deserialize, Serialize};

/// How rows censored before the horizon were handled in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CensoringRule {
    /// Inverse probability of censoring weights (Kaplan-Meier of the censoring
    /// times); the default.
    #[default]
    Ipcw,
    /// Rows censored before the horizon dropped.
    Drop,
}

impl CensoringRule {
    /// The rule's name, as artifacts and reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            CensoringRule::Ipcw => "ipcw",
            CensoringRule::Drop => "drop",
        }
    }
}

/// The label rule of the training data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LabelRule {
    /// 1 if the event occurred by the artifact's `horizon_days`, 0 if
    /// followed event-free through it.
    TimeToEvent {
        /// Follow-up time column (days from the index date to the event or censoring).
        time_column: String,
        /// Event indicator column.
        event_column: String,
        /// How rows censored before the horizon were handled.
        censoring: CensoringRule,
    },
    /// A 0/1 label column as it is (the artifact's `horizon_days` is 0).
    LabelColumn {
        /// The label column.
        column: String,
    },
}

impl LabelRule {
    /// Checks the rule against the artifact's horizon.
    pub(crate) fn check(&self, horizon_days: u32) -> Result<(), String> {
        match self {
            LabelRule::TimeToEvent {
                time_column,
                event_column,
                ..
            } => {
                if time_column.is_empty() || event_column.is_empty() {
                    return Err("label rule: empty time or event column name".into());
                }
                if horizon_days == 0 {
                    return Err("label rule: a time-to-event label needs a positive horizon_days".into());
                }
            }
            LabelRule::LabelColumn { column } => {
                if column.is_empty() {
                    return Err("label rule: empty label column name".into());
                }
                if horizon_days != 0 {
                    return Err(format!(
                        "label rule: a label column has no horizon, but horizon_days is {horizon_days}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Checks operating thresholds: probabilities strictly between 0 and 1, in
/// increasing order (bands are named from them).
///
/// # Errors
/// The first problem, in words.
pub fn check_thresholds(thresholds: &[f64]) -> Result<(), String> {
    if let Some(t) = thresholds.iter().find(|t| !(t.is_finite() && **t > 0.0 && **t < 1.0)) {
        return Err(format!(
            "operating threshold {t} is not a probability strictly between 0 and 1"
        ));
    }
    if thresholds.windows(2).any(|w| w[0] >= w[1]) {
        return Err("operating thresholds must be in increasing order, each once (bands are named from them)".into());
    }
    Ok(())
}

#[cfg(test)]
mod censoring_names {
    use super::CensoringRule;

    #[test]
    fn names_are_the_wire_names() {
        for rule in [CensoringRule::Ipcw, CensoringRule::Drop] {
            assert_eq!(serde_json::to_value(rule).unwrap(), serde_json::json!(rule.as_str()));
        }
    }
}
