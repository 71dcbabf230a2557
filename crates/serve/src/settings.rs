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
//! header_timeout_ms = 60000   # headers (or, kept alive, the next request) due within this; else the connection closes
//! rate_per_key_per_second = 200  # optional; more from one key get 429
//!
//! [monitoring]
//! drift_window_records = 500  # live records per drift window; 0 turns drift tracking off
//! shadow_dir = "/srv/carescore/challenger"  # optional: a shadow challenger's models (--shadow-dir wins)
//! shadow_share = 1.0          # share of scored records offered to the shadow (0 to 1)
//! shadow_cpu_share = 0.05     # most of one core the shadow may use; beyond it records are shed
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::auth::{ApiKey, Keys};
use crate::loading::LoadError;

/// Limits fixed at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Requests served at once; more are refused at once with 503 and `Retry-After`.
    pub max_in_flight: usize,
    /// Requests taking longer end with 503.
    pub request_timeout_ms: u64,
    /// A connection is closed when a request's headers have not all arrived
    /// this long after the service started waiting for them: after the
    /// connection opened, or after the previous answer on a kept-alive
    /// connection (so it is also the idle keep-alive timeout; keep a client
    /// pool's idle time below it).
    pub header_timeout_ms: u64,
    /// Requests per second each API key may send (burst: one second's worth); none: unlimited.
    pub rate_per_key_per_second: Option<u32>,
}

/// Most requests in flight a setting may allow (the semaphore behind the
/// limit cannot hold more than `usize::MAX >> 3`; a million concurrent
/// requests is already far beyond one process).
pub(crate) const MAX_IN_FLIGHT: usize = 1_000_000;

impl Limits {
    /// The keys (`limits.<name>`) whose values differ between `self` and `other`.
    pub fn differences(&self, other: &Limits) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.max_in_flight != other.max_in_flight {
            keys.push("limits.max_in_flight");
        }
        if self.request_timeout_ms != other.request_timeout_ms {
            keys.push("limits.request_timeout_ms");
        }
        if self.header_timeout_ms != other.header_timeout_ms {
            keys.push("limits.header_timeout_ms");
        }
        if self.rate_per_key_per_second != other.rate_per_key_per_second {
            keys.push("limits.rate_per_key_per_second");
        }
        keys
    }

    /// Checks every limit, naming the first that is out of range.
    ///
    /// # Errors
    /// The setting, its value and what is allowed.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_IN_FLIGHT).contains(&self.max_in_flight) {
            return Err(format!(
                "limits.max_in_flight is {}: allowed 1 to {MAX_IN_FLIGHT}",
                self.max_in_flight
            ));
        }
        if self.request_timeout_ms == 0 {
            return Err("limits.request_timeout_ms is 0: allowed 1 or more (milliseconds)".into());
        }
        if self.header_timeout_ms == 0 {
            return Err("limits.header_timeout_ms is 0: allowed 1 or more (milliseconds)".into());
        }
        if self.rate_per_key_per_second == Some(0) {
            return Err("limits.rate_per_key_per_second is 0: allowed 1 or more, or leave it out for no limit".into());
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 1024,
            request_timeout_ms: 10_000,
            header_timeout_ms: 60_000,
            rate_per_key_per_second: None,
        }
    }
}

/// Most records a drift window may hold.
pub(crate) const MAX_DRIFT_WINDOW: u64 = 10_000_000;

/// Fewest records a drift window may hold: a window's live shares are
/// shown bin by bin, and a tiny window would show the last patients' bins.
pub(crate) const MIN_DRIFT_WINDOW: u64 = 100;

/// Monitoring settings (`[monitoring]`), fixed at start-up.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Monitoring {
    /// Live records per drift window; 0 turns drift tracking off.
    pub drift_window_records: u64,
    /// A models directory whose built-in targets' artifacts score as a
    /// shadow challenger (`--shadow-dir` takes precedence).
    pub shadow_dir: Option<std::path::PathBuf>,
    /// Share of the scored records offered to the shadow (0 to 1).
    pub shadow_share: f64,
    /// Most of one core the shadow may spend scoring (above 0, at most
    /// 64); beyond it offered records are shed.
    pub shadow_cpu_share: f64,
}

/// Most cores' worth of CPU a shadow may be allowed.
pub(crate) const MAX_SHADOW_CPU_SHARE: f64 = 64.0;

impl Default for Monitoring {
    fn default() -> Monitoring {
        Monitoring {
            drift_window_records: crate::monitoring::DEFAULT_WINDOW_RECORDS,
            shadow_dir: None,
            shadow_share: 1.0,
            shadow_cpu_share: 0.05,
        }
    }
}

impl Monitoring {
    /// The keys (`monitoring.<name>`) whose values differ between `self` and `other`.
    pub fn differences(&self, other: &Monitoring) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.drift_window_records != other.drift_window_records {
            keys.push("monitoring.drift_window_records");
        }
        if self.shadow_dir != other.shadow_dir {
            keys.push("monitoring.shadow_dir");
        }
        if self.shadow_share.to_bits() != other.shadow_share.to_bits() {
            keys.push("monitoring.shadow_share");
        }
        if self.shadow_cpu_share.to_bits() != other.shadow_cpu_share.to_bits() {
            keys.push("monitoring.shadow_cpu_share");
        }
        keys
    }

    /// Checks every setting, naming the first that is out of range.
    ///
    /// # Errors
    /// The setting, its value and what is allowed.
    pub fn check(&self) -> Result<(), String> {
        let window = self.drift_window_records;
        if window != 0 && !(MIN_DRIFT_WINDOW..=MAX_DRIFT_WINDOW).contains(&window) {
            return Err(format!(
                "monitoring.drift_window_records is {window}: allowed 0 (off) or {MIN_DRIFT_WINDOW} to {MAX_DRIFT_WINDOW}"
            ));
        }
        if !(0.0..=1.0).contains(&self.shadow_share) {
            return Err(format!(
                "monitoring.shadow_share is {}: allowed 0 to 1 (the share of scored records the shadow scores)",
                self.shadow_share
            ));
        }
        if !(self.shadow_cpu_share > 0.0 && self.shadow_cpu_share <= MAX_SHADOW_CPU_SHARE) {
            return Err(format!(
                "monitoring.shadow_cpu_share is {}: allowed above 0 and at most {MAX_SHADOW_CPU_SHARE} (cores' worth \
                 of CPU the shadow may use)",
                self.shadow_cpu_share
            ));
        }
        Ok(())
    }
}

/// The file's content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// API keys.
    pub keys: Keys,
    /// Limits.
    pub limits: Limits,
    /// Monitoring.
    pub monitoring: Monitoring,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    keys: Vec<ApiKey>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    monitoring: Monitoring,
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
        file.limits.check().map_err(invalid)?;
        file.monitoring.check().map_err(invalid)?;
        Ok(Settings {
            keys,
            limits: file.limits,
            monitoring: file.monitoring,
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
    fn the_readme_settings_example_loads() {
        let readme = include_str!("../../../README.md");
        let block = readme
            .split("```toml\n# carescore.toml (--config)\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the README's settings example");
        // The placeholder `"<printf ... | sha256sum>"` stands for a real hash.
        let start = block.find("\"<").expect("a placeholder hash");
        let end = start + block[start..].find(">\"").expect("the placeholder's end") + 2;
        let text = format!("{}\"{}\"{}", &block[..start], "0".repeat(64), &block[end..]);
        let settings = Settings::parse(&text, Path::new("README.md")).unwrap();
        assert_eq!(settings.keys.0[0].name, "cms-prod");
        assert_eq!(settings.limits.header_timeout_ms, 60_000);
        assert_eq!(settings.limits.rate_per_key_per_second, Some(200));
    }

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
        bad(
            "[limits]\nmax_in_flight = 0\n",
            "limits.max_in_flight is 0: allowed 1 to 1000000",
        );
        bad(
            "[limits]\nmax_in_flight = 9000000000000000000\n",
            "limits.max_in_flight is 9000000000000000000: allowed 1 to 1000000",
        );
        bad("[limits]\nrequest_timeout_ms = 0\n", "limits.request_timeout_ms is 0");
        bad("[limits]\nheader_timeout_ms = 0\n", "limits.header_timeout_ms is 0");
        bad("[limits]\nrate_per_key_per_second = 0\n", "leave it out for no limit");
        bad("port = 1\n", "unknown field `port`");
        bad(
            "[monitoring]\ndrift_window_records = 20000000\n",
            "monitoring.drift_window_records is 20000000: allowed 0 (off) or 100 to 10000000",
        );
        bad(
            "[monitoring]\ndrift_window_records = 20\n",
            "monitoring.drift_window_records is 20: allowed 0 (off) or 100 to 10000000",
        );
        bad("[monitoring]\nwindow = 5\n", "unknown field `window`");
        bad(
            "[monitoring]\nshadow_share = 1.5\n",
            "monitoring.shadow_share is 1.5: allowed 0 to 1",
        );
        bad(
            "[monitoring]\nshadow_cpu_share = 0\n",
            "monitoring.shadow_cpu_share is 0: allowed above 0",
        );
        let s = Settings::parse("[monitoring]\ndrift_window_records = 0\n", Path::new("c.toml")).unwrap();
        assert_eq!(s.monitoring.drift_window_records, 0);
        assert_eq!(
            Monitoring::default().differences(&s.monitoring),
            ["monitoring.drift_window_records"]
        );
    }
}
