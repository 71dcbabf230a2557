//! Flags a spec declares for its model's answers (`[[flags]] name = "...",
//! above = 0.2`): raised when the probability is above the threshold. The
//! built-in targets' flags come from the care policy instead.

use serde::{Deserialize, Serialize};

/// A flag raised when the model's probability is above `above`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredFlag {
    /// The flag's name in answers: lower-case letters, digits and `_`, starting with a letter.
    pub name: String,
    /// Raised when the probability is above this (strictly between 0 and 1).
    pub above: f64,
}

/// Whether `name` is a flag name: lower-case letters, digits and `_`,
/// starting with a letter, at most 64 characters.
pub fn is_flag_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks declared flags: valid, distinct names and thresholds strictly between 0 and 1.
///
/// # Errors
/// The first problem, naming the flag.
pub fn check_flags(flags: &[DeclaredFlag]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for flag in flags {
        if !is_flag_name(&flag.name) {
            return Err(format!(
                "flag {:?}: a name is lower-case letters, digits and `_`, starting with a letter (at most 64)",
                flag.name
            ));
        }
        if !seen.insert(flag.name.as_str()) {
            return Err(format!("flag `{}` is declared twice", flag.name));
        }
        if !(flag.above.is_finite() && flag.above > 0.0 && flag.above < 1.0) {
            return Err(format!(
                "flag `{}`: `above` {} is not a probability strictly between 0 and 1",
                flag.name, flag.above
            ));
        }
    }
    Ok(())
}
