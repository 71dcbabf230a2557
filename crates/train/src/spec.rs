//! Training specs: how any tabular data set trains through the same pipeline
//! as the built-in targets (`--spec FILE` in place of `--target NAME`).
//!
//! A spec is a TOML file naming the target, its outcome (time and event
//! columns with a horizon, or a plain 0/1 label column), the features with
//! their kinds, and optionally the censoring handling, the grouping and date
//! columns, value ranges and operating thresholds. See the README for an
//! example; [`Spec::parse`] explains every refusal.

use std::collections::BTreeSet;
use std::path::Path;

use carescore_core::artifact::{check_flags, check_thresholds, is_target_name, DeclaredFlag};
use carescore_core::model_input::CASE_ID;
use carescore_core::scoring::BUILT_IN_TARGETS;
use serde::Deserialize;

use crate::labels::CensoringRule;

/// Kind of a spec feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecKind {
    /// Numbers (standardised for linear models).
    Numeric,
    /// Text categories (one-hot).
    Categorical,
    /// true/false or 0/1.
    Boolean,
}

/// One feature of a spec.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFeature {
    /// Column name.
    pub name: String,
    /// Kind.
    pub kind: SpecKind,
    /// Smallest allowed value (numeric only): rows below are excluded and counted.
    pub min: Option<f64>,
    /// Largest allowed value (numeric only): rows above are excluded and counted.
    pub max: Option<f64>,
    /// Allowed categories (categorical only); default: those seen in training.
    /// Rows with other values are excluded and counted.
    pub categories: Option<Vec<String>>,
}

/// A training spec.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Target name: lower-case letters, digits and `_` (artifact and file names).
    pub target: String,
    /// Horizon in days (with `time_column` and `event_column`).
    pub horizon_days: Option<u32>,
    /// Follow-up time column (days from the index date to the event or censoring).
    pub time_column: Option<String>,
    /// Event indicator column (true/false or 0/1).
    pub event_column: Option<String>,
    /// A plain 0/1 (or true/false) label column, in place of time and event.
    pub label_column: Option<String>,
    /// Censoring handling for time/event outcomes (default IPCW).
    pub censoring: Option<CensoringRule>,
    /// Column grouping rows for cross-validation folds (default `patient_id` when present).
    pub group_column: Option<String>,
    /// Date column for the temporal hold-out (default `index_date` when present).
    pub date_column: Option<String>,
    /// Probability thresholds where sensitivity, PPV and flag rate are reported.
    #[serde(default = "default_thresholds")]
    pub operating_thresholds: Vec<f64>,
    /// The features, in signature order.
    pub features: Vec<SpecFeature>,
    /// Flags the model's answers raise when the probability is above a
    /// threshold (`[[flags]] name = "...", above = 0.2`); they travel in the artifact.
    #[serde(default)]
    pub flags: Vec<DeclaredFlag>,
}

fn default_thresholds() -> Vec<f64> {
    vec![0.10, 0.20]
}

/// The outcome a spec defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecOutcome<'a> {
    /// Event by the horizon from follow-up time and event columns.
    TimeEvent {
        /// Follow-up time column.
        time: &'a str,
        /// Event column.
        event: &'a str,
        /// Horizon in days.
        horizon_days: u32,
    },
    /// A label column as it is.
    Label(&'a str),
}

/// Why a spec was refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("{path}: cannot read the spec: {source}")]
    Io {
        /// The spec's path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Not valid TOML or not the spec's shape.
    #[error("{path}: {message}")]
    Syntax {
        /// The spec's path.
        path: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// Valid TOML with inconsistent content.
    #[error("{path}: {message}")]
    Invalid {
        /// The spec's path.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Columns that hold the simulation's answers or noise markers, refused as features (docs/data-contract.md).
fn is_forbidden_feature(name: &str) -> bool {
    name.starts_with("true_p_") || name == "injected_noise"
}

impl Spec {
    /// Reads and checks a spec file.
    ///
    /// # Errors
    /// [`SpecError`] naming the file and the problem.
    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Spec::parse(&text, &path.display().to_string())
    }

    /// Parses and checks spec text; `path` names it in errors.
    ///
    /// # Errors
    /// [`SpecError`] naming the problem.
    pub fn parse(text: &str, path: &str) -> Result<Spec, SpecError> {
        let spec: Spec = toml::from_str(text).map_err(|e| {
            // One line: where, then what (toml's own text draws the line over several).
            let place = e.span().map_or_else(String::new, |span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {column}: ")
            });
            SpecError::Syntax {
                path: path.to_string(),
                message: format!("TOML error at {place}{}", e.message().trim_end().replace('\n', "; ")),
            }
        })?;
        spec.check().map_err(|message| SpecError::Invalid {
            path: path.to_string(),
            message,
        })?;
        Ok(spec)
    }

    /// The outcome (checked by [`Spec::parse`] to be exactly one of the two forms).
    pub fn outcome(&self) -> SpecOutcome<'_> {
        match (&self.label_column, &self.time_column, &self.event_column) {
            (Some(label), _, _) => SpecOutcome::Label(label),
            (None, Some(time), Some(event)) => SpecOutcome::TimeEvent {
                time,
                event,
                horizon_days: self.horizon_days.unwrap_or(0),
            },
            _ => SpecOutcome::Label(""),
        }
    }

    /// The censoring handling.
    pub fn censoring(&self) -> CensoringRule {
        self.censoring.unwrap_or_default()
    }

    fn check(&self) -> Result<(), String> {
        if !is_target_name(&self.target) {
            return Err(format!(
                "target {:?}: use 1-64 lower-case letters, digits and `_`",
                self.target
            ));
        }
        if BUILT_IN_TARGETS.iter().any(|b| b.name == self.target) {
            return Err(format!(
                "target `{0}` is a built-in target: train it with `--target {0}`, or give the spec's target \
                 another name",
                self.target
            ));
        }
        let mut outcome_columns = Vec::new();
        match (&self.label_column, &self.time_column, &self.event_column) {
            (Some(label), None, None) => {
                if self.horizon_days.is_some() || self.censoring.is_some() {
                    return Err(
                        "`horizon_days` and `censoring` apply to `time_column` + `event_column`, not to `label_column`"
                            .into(),
                    );
                }
                outcome_columns.push(label.as_str());
            }
            (None, Some(time), Some(event)) => {
                if self.horizon_days.is_none_or(|h| h == 0) {
                    return Err("`horizon_days` (a positive number of days) is required with `time_column`".into());
                }
                outcome_columns.extend([time.as_str(), event.as_str()]);
            }
            _ => {
                return Err(
                    "give either `label_column`, or `time_column` + `event_column` + `horizon_days` (not both)".into(),
                )
            }
        }
        if self.features.is_empty() {
            return Err("`features` is empty: list at least one [[features]] entry".into());
        }
        check_thresholds(&self.operating_thresholds)?;
        check_flags(&self.flags)?;
        let mut seen = BTreeSet::new();
        for f in &self.features {
            if !seen.insert(f.name.as_str()) {
                return Err(format!("feature `{}` is listed twice", f.name));
            }
            if is_forbidden_feature(&f.name) {
                return Err(format!(
                    "feature `{}` is refused: `true_p_*` and `injected_noise` describe the simulation, not the patient",
                    f.name
                ));
            }
            if outcome_columns.contains(&f.name.as_str()) {
                return Err(format!("feature `{}` is an outcome column", f.name));
            }
            if f.name == CASE_ID {
                return Err(format!(
                    "feature `{CASE_ID}` is refused: a served input's `{CASE_ID}` is the caller's identifier, never a \
                     feature (rename the column)"
                ));
            }
            let numeric = f.kind == SpecKind::Numeric;
            if !numeric && (f.min.is_some() || f.max.is_some()) {
                return Err(format!(
                    "feature `{}`: `min`/`max` apply to numeric features only",
                    f.name
                ));
            }
            if let (Some(lo), Some(hi)) = (f.min, f.max) {
                if lo > hi {
                    return Err(format!("feature `{}`: min {lo} is above max {hi}", f.name));
                }
            }
            if f.min.is_some_and(|x| !x.is_finite()) || f.max.is_some_and(|x| !x.is_finite()) {
                return Err(format!("feature `{}`: `min`/`max` must be finite", f.name));
            }
            match (&f.categories, f.kind) {
                (Some(_), SpecKind::Numeric | SpecKind::Boolean) => {
                    return Err(format!(
                        "feature `{}`: `categories` apply to categorical features only",
                        f.name
                    ));
                }
                (Some(c), SpecKind::Categorical) if c.is_empty() => {
                    return Err(format!("feature `{}`: `categories` is empty", f.name));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
target = "icu_readmission_72h"
time_column = "followup_days"
event_column = "readmitted"
horizon_days = 3
group_column = "patient"

[[features]]
name = "age"
kind = "numeric"
min = 18
max = 110

[[features]]
name = "ward"
kind = "categorical"

[[features]]
name = "diabetic"
kind = "boolean"
"#;

    #[test]
    fn the_readme_style_example_parses() {
        let spec = Spec::parse(EXAMPLE, "s.toml").unwrap();
        assert_eq!(spec.target, "icu_readmission_72h");
        assert_eq!(
            spec.outcome(),
            SpecOutcome::TimeEvent {
                time: "followup_days",
                event: "readmitted",
                horizon_days: 3
            }
        );
        assert_eq!(spec.censoring(), CensoringRule::Ipcw);
        assert_eq!(spec.operating_thresholds, [0.1, 0.2]);
        assert_eq!(spec.features.len(), 3);
        assert_eq!(spec.features[0].min, Some(18.0));
    }

    fn refused(text: &str, needle: &str) {
        let message = Spec::parse(text, "s.toml").unwrap_err().to_string();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        assert!(message.starts_with("s.toml: "), "{message}");
    }

    #[test]
    fn every_inconsistency_is_named() {
        let features = "\n[[features]]\nname = \"age\"\nkind = \"numeric\"\n";
        refused("target = \"x\"\nlabel_column = \"y\"\n", "missing field `features`");
        refused(
            &format!("target = \"X y\"\nlabel_column = \"y\"{features}"),
            "lower-case letters",
        );
        refused(&format!("target = \"x\"{features}"), "give either `label_column`");
        refused(
            &format!("target = \"infection_180d\"\nlabel_column = \"y\"{features}"),
            "target `infection_180d` is a built-in target: train it with `--target infection_180d`",
        );
        refused(
            &format!("target = \"x\"\nlabel_column = \"y\"\noperating_thresholds = [0.3, 0.1]{features}"),
            "operating thresholds must be in increasing order, each once",
        );
        let flag = |name: &str, above: &str| format!("\n[[flags]]\nname = \"{name}\"\nabove = {above}\n");
        refused(
            &format!(
                "target = \"x\"\nlabel_column = \"y\"{features}{}",
                flag("Early!", "0.2")
            ),
            "flag \"Early!\": a name is lower-case letters",
        );
        refused(
            &format!(
                "target = \"x\"\nlabel_column = \"y\"{features}{}{}",
                flag("early", "0.2"),
                flag("early", "0.3")
            ),
            "flag `early` is declared twice",
        );
        refused(
            &format!("target = \"x\"\nlabel_column = \"y\"{features}{}", flag("early", "1.2")),
            "flag `early`: `above` 1.2 is not a probability",
        );
        refused(
            &format!("target = \"x\"\nlabel_column = \"y\"{features}\n[[flags]]\nname = \"early\"\nbelow = 0.1\n"),
            "unknown field `below`",
        );
        refused(
            &format!("target = \"x\"\nlabel_column = \"y\"\ntime_column = \"t\"\nevent_column = \"e\"\nhorizon_days = 3{features}"),
            "(not both)",
        );
        refused(
            &format!("target = \"x\"\ntime_column = \"t\"\nevent_column = \"e\"{features}"),
            "`horizon_days` (a positive number of days) is required",
        );
        refused(
            &format!("target = \"x\"\nlabel_column = \"y\"\nhorizon_days = 30{features}"),
            "apply to `time_column`",
        );
        refused(
            "target = \"x\"\nlabel_column = \"y\"\nfeatures = []\n",
            "`features` is empty",
        );
        refused(
            &format!("target = \"x\"\nlabel_column = \"y\"\noperating_thresholds = [1.5]{features}"),
            "operating threshold 1.5",
        );
        refused(
            &format!("target = \"x\"\nlabel_column = \"y\"{features}{features}"),
            "feature `age` is listed twice",
        );
        refused(
            "target = \"x\"\nlabel_column = \"y\"\n[[features]]\nname = \"true_p_infection_180d\"\nkind = \"numeric\"\n",
            "is refused",
        );
        refused(
            "target = \"x\"\nlabel_column = \"y\"\n[[features]]\nname = \"y\"\nkind = \"boolean\"\n",
            "feature `y` is an outcome column",
        );
        refused(
            "target = \"x\"\nlabel_column = \"y\"\n[[features]]\nname = \"case_id\"\nkind = \"numeric\"\n",
            "feature `case_id` is refused",
        );
        refused(
            "target = \"x\"\nlabel_column = \"y\"\n[[features]]\nname = \"a\"\nkind = \"ordinal\"\n",
            "unknown variant `ordinal`",
        );
        refused(
            "target = \"x\"\nlabel_column = \"y\"\n[[features]]\nname = \"a\"\nkind = \"numeric\"\nmin = 5\nmax = 1\n",
            "min 5 is above max 1",
        );
        refused(
            "target = \"x\"\nlabel_column = \"y\"\n[[features]]\nname = \"a\"\nkind = \"boolean\"\nmin = 0\n",
            "numeric features only",
        );
        refused(
            "target = \"x\"\nlabel_column = \"y\"\nhorizn = 3\n[[features]]\nname = \"a\"\nkind = \"boolean\"\n",
            "unknown field `horizn`",
        );
    }
}
