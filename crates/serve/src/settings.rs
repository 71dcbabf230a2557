//! The settings file (`--config FILE`, TOML): API keys and service limits.
//!
//! ```toml
//! [[keys]]
//! name = "cms-prod"
//! sha256 = "<64 hex digits: printf %s \"$KEY\" | sha256sum>"
//! scopes = ["score"]
//!
//! [limits]
//! max_in_flight = 1024        # requests served at once; more are shed with 503
//! request_timeout_ms = 10000  # slower requests end with 503
//! rate_per_key_per_second = 200  # optional; more from one key get 429
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::auth::{ApiKey, Keys};
use crate::models::LoadError;

/// Limits fixed at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Requests served at once; more are refused at once with 503 and `Retry-After`.
    pub max_in_flight: usize,
    /// Requests taking longer end with 503.
    pub request_timeout_ms: u64,
    /// Requests per second each API key may send (burst: one second's worth); none: unlimited.
    pub rate_per_key_per_second: Option<u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 1024,
            request_timeout_ms: 10_000,
            rate_per_key_per_second: None,
        }
    }
}

/// The file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// API keys.
    pub keys: Keys,
    /// Limits.
    pub limits: Limits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    keys: Vec<ApiKey>,
    #[serde(default)]
    limits: Limits,
}

impl Settings {
    /// Parses settings text; `path` names it in errors.
    ///
    /// # Errors
    /// [`LoadError::Settings`] naming the problem.
    pub fn parse(text: &str, path: &Path) -> Result<Settings, LoadError> {
        let invalid = |message: String| LoadError::Settings {
            path: path.to_path_buf(),
            message,
        };
        let file: File = toml::from_str(text).map_err(|e| invalid(e.message().trim_end().replace('\n', "; ")))?;
        let keys = Keys(file.keys);
        keys.check().map_err(invalid)?;
        if file.limits.max_in_flight == 0
            || file.limits.request_timeout_ms == 0
            || file.limits.rate_per_key_per_second == Some(0)
        {
            return Err(invalid("limits must be positive".into()));
        }
        Ok(Settings {
            keys,
            limits: file.limits,
        })
    }

    /// Reads a settings file.
    ///
    /// # Errors
    /// [`LoadError`] naming the file and the problem.
    pub fn load(path: &Path) -> Result<Settings, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Settings::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_limits_parse_and_bad_files_are_named() {
        let s = Settings::parse(
            "[[keys]]\nname = \"cms\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\nscopes = [\"score\", \"admin\"]\n[limits]\nmax_in_flight = 8\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(s.keys.0.len(), 1);
        assert_eq!(s.limits.max_in_flight, 8);
        assert_eq!(s.limits.request_timeout_ms, 10_000);
        let bad = |text: &str, needle: &str| {
            let message = Settings::parse(text, Path::new("c.toml")).unwrap_err().to_string();
            assert!(message.contains(needle) && message.starts_with("c.toml"), "{message}");
        };
        bad(
            "[[keys]]\nname = \"x\"\nsha256 = \"abc\"\nscopes = [\"score\"]\n",
            "64 lower-case hex",
        );
        bad("[[keys]]\nname = \"x\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\nscopes = [\"root\"]\n", "unknown variant `root`");
        bad("[limits]\nmax_in_flight = 0\n", "must be positive");
        bad("port = 1\n", "unknown field `port`");
    }
}
