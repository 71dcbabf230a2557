//! API keys: `Authorization: Bearer <key>`, checked against SHA-256 hashes
//! stored in the configuration file, each with its scopes. Keys never appear
//! in the configuration, logs or metrics; only their names do.

use axum::http::{header, HeaderMap};
use carescore_core::artifact::sha256_hex;
use serde::Deserialize;

use crate::problem::{Problem, ProblemKind};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `/v1/score` and `/v1/score/batch`.
    Score,
    /// `/v1/underwriting/grade`.
    Underwrite,
    /// `/v1/admin/reload`.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 3] = [Scope::Score, Scope::Underwrite, Scope::Admin];

    /// The scope's name, as in the settings file and the OpenAPI document.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Score => "score",
            Scope::Underwrite => "underwrite",
            Scope::Admin => "admin",
        }
    }
}

/// One configured key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Name for logs and metrics (e.g. the client system).
    pub name: String,
    /// Lower-case hex SHA-256 of the key (`printf %s "$KEY" | sha256sum`).
    pub sha256: String,
    /// Scopes granted.
    pub scopes: Vec<Scope>,
}

/// The configured keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys(pub Vec<ApiKey>);

impl Keys {
    /// Checks the hashes' form and the names' uniqueness.
    ///
    /// # Errors
    /// What is wrong, naming the key.
    pub fn check(&self) -> Result<(), String> {
        for (i, key) in self.0.iter().enumerate() {
            if key.name.trim().is_empty() {
                return Err(format!("keys[{i}]: `name` must not be empty"));
            }
            let hex = key.sha256.len() == 64
                && key
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
            if !hex {
                return Err(format!(
                    "key `{}`: `sha256` must be 64 lower-case hex digits (the SHA-256 of the key, not the key)",
                    key.name
                ));
            }
            if key.scopes.is_empty() {
                return Err(format!("key `{}`: no scopes", key.name));
            }
            if self.0[..i].iter().any(|k| k.name == key.name) {
                return Err(format!("key `{}` is listed twice", key.name));
            }
        }
        Ok(())
    }

    /// Whether any key is configured (without keys every route is open).
    pub fn enabled(&self) -> bool {
        !self.0.is_empty()
    }
}

/// Constant-time equality of two byte strings of equal length.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unauthorized(detail: &str) -> Problem {
    let mut p = Problem::new(ProblemKind::Unauthorized, detail);
    p.challenge = true;
    p
}

/// The name of the key that may use `scope` (`None` for an open service
/// with no keys configured; `scope: None` accepts any valid key).
///
/// # Errors
/// 401 without a bearer key or with an unknown one; 403 without the scope.
pub(crate) fn authorize(keys: &Keys, headers: &HeaderMap, scope: Option<Scope>) -> Result<Option<String>, Problem> {
    if !keys.enabled() {
        return Ok(None);
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| unauthorized("send `Authorization: Bearer <API key>`"))?;
    let digest = sha256_hex(presented.as_bytes());
    let key = keys
        .0
        .iter()
        .find(|k| same(k.sha256.as_bytes(), digest.as_bytes()))
        .ok_or_else(|| unauthorized("unknown API key"))?;
    match scope {
        Some(scope) if !key.scopes.contains(&scope) => Err(Problem::new(
            ProblemKind::Forbidden,
            format!("this key lacks the `{}` scope", scope.name()),
        )),
        _ => Ok(Some(key.name.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys(vec![ApiKey {
            name: "cms".into(),
            sha256: sha256_hex(b"secret-1"),
            scopes: vec![Scope::Score],
        }])
    }

    fn bearer(key: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, format!("Bearer {key}").parse().unwrap());
        h
    }

    #[test]
    fn keys_and_scopes() {
        let k = keys();
        assert_eq!(
            authorize(&k, &bearer("secret-1"), Some(Scope::Score)).unwrap(),
            Some("cms".into())
        );
        assert_eq!(authorize(&k, &bearer("secret-1"), None).unwrap(), Some("cms".into()));
        assert_eq!(
            authorize(&k, &bearer("secret-1"), Some(Scope::Admin))
                .unwrap_err()
                .status(),
            403
        );
        assert_eq!(
            authorize(&k, &bearer("nope"), Some(Scope::Score)).unwrap_err().status(),
            401
        );
        assert_eq!(
            authorize(&k, &HeaderMap::new(), Some(Scope::Score))
                .unwrap_err()
                .status(),
            401
        );
        assert_eq!(
            authorize(&Keys::default(), &HeaderMap::new(), Some(Scope::Admin)).unwrap(),
            None
        );
    }

    #[test]
    fn malformed_key_entries_are_refused() {
        let mut k = keys();
        k.0[0].sha256 = "secret-1".into();
        assert!(k.check().unwrap_err().contains("64 lower-case hex digits"));
        let mut k = keys();
        k.0.push(k.0[0].clone());
        assert!(k.check().unwrap_err().contains("listed twice"));
    }
}
