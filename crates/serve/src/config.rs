//! Service configuration: command-line flags with environment fallbacks
//! (`CARESCORE_*`), resolved and checked once at start-up.

use std::net::SocketAddr;

use clap::Parser;

/// How to run the service.
#[derive(Debug, Clone, Parser)]
#[command(name = "carescore-serve", version, about = "CareScore scoring service")]
pub struct Config {
    /// Address to listen on. Without API keys (in `--config`) only loopback addresses are allowed.
    #[arg(long, env = "CARESCORE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Serve the highest `<target>-<N>.json` of each target in this directory
    /// instead of the embedded default models.
    #[arg(long, env = "CARESCORE_MODELS_DIR")]
    pub models_dir: Option<std::path::PathBuf>,
    /// Settings file (TOML): API keys (hashed, with scopes) and limits.
    #[arg(long, env = "CARESCORE_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    /// Policy file (TOML); keys left out keep the built-in defaults.
    #[arg(long, env = "CARESCORE_POLICY")]
    pub policy: Option<std::path::PathBuf>,
    /// Log line format: `text` for people, `json` for log collectors.
    #[arg(long, env = "CARESCORE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `carescore_serve=debug`.
    #[arg(long, env = "CARESCORE_LOG", default_value = "info")]
    pub log: String,
    /// Append one JSON line per decision to this file (the audit trail); an
    /// answer leaves only after its line is written.
    #[arg(long, env = "CARESCORE_AUDIT_LOG")]
    pub audit_log: Option<std::path::PathBuf>,
    /// Secret salt of the audit trail's case-id hashes (at least 16
    /// characters; keep it stable to link a case's decisions over time).
    #[arg(long, env = "CARESCORE_AUDIT_SALT", hide_env_values = true)]
    pub audit_salt: Option<String>,
    /// A models directory whose built-in targets' artifacts score a share of
    /// the records as a shadow challenger, off the request path, never
    /// changing an answer (compared in `GET /v1/monitoring`; re-read on reload).
    #[arg(long, env = "CARESCORE_SHADOW_DIR")]
    pub shadow_dir: Option<std::path::PathBuf>,
    /// Flush the audit trail to the disk before each answer (durable across
    /// power loss, slower).
    #[arg(long, env = "CARESCORE_AUDIT_FSYNC")]
    pub audit_fsync: bool,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Why a configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A non-loopback address without authentication.
    #[error("refusing to bind {0}: without API keys only loopback addresses (127.0.0.1, ::1) are allowed")]
    OpenNonLoopback(SocketAddr),
}

impl Config {
    /// Checks the configuration before anything is started: without API
    /// keys every route is open, so the service must not listen beyond this machine.
    ///
    /// # Errors
    /// [`ConfigError`] for an unsafe combination of options.
    pub fn check(&self, keys_configured: bool) -> Result<(), ConfigError> {
        if !keys_configured && !self.bind.ip().is_loopback() {
            return Err(ConfigError::OpenNonLoopback(self.bind));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bind_loopback_8080() {
        let config = Config::parse_from(["carescore-serve"]);
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.check(false), Ok(()));
    }

    #[test]
    fn open_non_loopback_bind_is_refused() {
        let config = Config::parse_from(["carescore-serve", "--bind", "0.0.0.0:8080"]);
        assert!(matches!(config.check(false), Err(ConfigError::OpenNonLoopback(_))));
        assert_eq!(config.check(true), Ok(()), "with API keys any address may be bound");
    }
}
