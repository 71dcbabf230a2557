//! The models and policy the service scores with: the default artifacts of
//! `models/`, embedded in the binary at build time, or artifacts read from a
//! directory (`--models-dir`), and the built-in policy or a policy file.

use std::path::{Path, PathBuf};

use carescore_core::scoring::{self, BuiltInTarget, Models, BUILT_IN_TARGETS, INFECTION, READMISSION};
use carescore_core::{ModelArtifact, Policy};

/// The default infection artifact, embedded at build time.
const EMBEDDED_INFECTION: &[u8] = include_bytes!("../../../models/infection_180d-1.json");
/// The default readmission artifact, embedded at build time.
const EMBEDDED_READMISSION: &[u8] = include_bytes!("../../../models/readmission_30d-1.json");
/// The version in the embedded artifacts' file names.
const EMBEDDED_VERSION: u32 = 1;

/// Why models or a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No artifact for a target in the directory.
    #[error("{dir}: no `{target}-<version>.json` artifact")]
    Missing {
        /// The directory.
        dir: PathBuf,
        /// The target.
        target: &'static str,
    },
    /// An artifact was refused.
    #[error("{path}: {source}")]
    Artifact {
        /// The file.
        path: PathBuf,
        /// Why.
        source: carescore_core::ArtifactError,
    },
    /// The version in the file name is not the artifact's.
    #[error("{path}: the file name says version {file_version}, the artifact is version {artifact_version} (name it `{target}-{artifact_version}.json`)")]
    VersionMismatch {
        /// The file.
        path: PathBuf,
        /// The artifact's target.
        target: String,
        /// The version in the file name.
        file_version: u32,
        /// The artifact's own version.
        artifact_version: u32,
    },
    /// An artifact was refused for its target.
    #[error("{path}: {source}")]
    Admission {
        /// The file.
        path: PathBuf,
        /// Why.
        source: carescore_core::scoring::ModelsError,
    },
    /// The settings file was refused.
    #[error("{path}: {message}")]
    Settings {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The policy was refused.
    #[error("{path}: {source}")]
    Policy {
        /// The file.
        path: PathBuf,
        /// Why.
        source: carescore_core::PolicyError,
    },
}

/// The artifact for the built-in `target` read from `path`, whose name
/// ends `-<file_version>.json`: verified, its version the file name's, and
/// admitted for the target.
fn artifact_at(
    path: &Path,
    bytes: &[u8],
    target: BuiltInTarget,
    file_version: u32,
) -> Result<ModelArtifact, LoadError> {
    let artifact = ModelArtifact::from_json(bytes).map_err(|source| LoadError::Artifact {
        path: path.to_path_buf(),
        source,
    })?;
    if artifact.version != file_version {
        return Err(LoadError::VersionMismatch {
            path: path.to_path_buf(),
            target: artifact.target,
            file_version,
            artifact_version: artifact.version,
        });
    }
    scoring::admit(target, &artifact).map_err(|source| LoadError::Admission {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(artifact)
}

/// The model set of two admitted artifacts.
fn model_set(infection: ModelArtifact, readmission: ModelArtifact) -> Result<Models, LoadError> {
    Models::new(infection, readmission).map_err(|source| LoadError::Admission {
        path: PathBuf::from("<model set>"),
        source,
    })
}

/// The embedded default models (checked by the tests, so loading cannot fail in a released binary).
///
/// # Errors
/// [`LoadError`] if an embedded artifact is refused.
pub(crate) fn embedded() -> Result<Models, LoadError> {
    let load = |bytes: &[u8], target: BuiltInTarget| {
        let path = PathBuf::from(format!("<embedded {}-{EMBEDDED_VERSION}.json>", target.name));
        artifact_at(&path, bytes, target, EMBEDDED_VERSION)
    };
    let [infection, readmission] = BUILT_IN_TARGETS;
    model_set(
        load(EMBEDDED_INFECTION, infection)?,
        load(EMBEDDED_READMISSION, readmission)?,
    )
}

/// The highest `<target>-<N>.json` in `dir`, with its `N`.
fn latest(dir: &Path, target: &'static str) -> Result<(u32, PathBuf), LoadError> {
    let prefix = format!("{target}-");
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let version: u32 = name.strip_prefix(&prefix)?.strip_suffix(".json")?.parse().ok()?;
            Some((version, dir.join(name)))
        })
        .max_by_key(|(v, _)| *v)
        .ok_or_else(|| LoadError::Missing {
            dir: dir.to_path_buf(),
            target,
        })
}

/// Name of the file that pins versions in a models directory.
pub(crate) const ACTIVE_FILE: &str = "active.toml";

/// The versions `dir/active.toml` pins (`infection_180d = 2`), if the file exists.
fn pinned(dir: &Path) -> Result<std::collections::BTreeMap<String, u32>, LoadError> {
    let path = dir.join(ACTIVE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(source) => return Err(LoadError::Io { path, source }),
    };
    let pins: std::collections::BTreeMap<String, u32> = toml::from_str(&text).map_err(|e| LoadError::Settings {
        path: path.clone(),
        message: format!("{} (expected lines like `infection_180d = 2`)", e.message().trim_end()),
    })?;
    if let Some(unknown) = pins.keys().find(|t| ![INFECTION, READMISSION].contains(&t.as_str())) {
        return Err(LoadError::Settings {
            path,
            message: format!("unknown target `{unknown}` (allowed: {INFECTION}, {READMISSION})"),
        });
    }
    Ok(pins)
}

/// Loads each target's version pinned in `dir/active.toml`, else its highest version.
///
/// # Errors
/// [`LoadError`] naming the file and the problem.
pub(crate) fn from_dir(dir: &Path) -> Result<Models, LoadError> {
    let pins = pinned(dir)?;
    let load = |target: BuiltInTarget| -> Result<ModelArtifact, LoadError> {
        let name = target.name;
        let (version, path) = match pins.get(name) {
            Some(version) => (*version, dir.join(format!("{name}-{version}.json"))),
            None => latest(dir, name)?,
        };
        let bytes = std::fs::read(&path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        artifact_at(&path, &bytes, target, version)
    };
    let [infection, readmission] = BUILT_IN_TARGETS;
    model_set(load(infection)?, load(readmission)?)
}

/// Reads a policy file.
///
/// # Errors
/// [`LoadError`] naming the file and the problem.
pub(crate) fn policy_from(path: &Path) -> Result<Policy, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Policy::from_toml(&text).map_err(|source| LoadError::Policy {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_models_load() {
        let models = embedded().expect("the default artifacts in models/ are valid");
        assert_eq!(models.infection.artifact().target, INFECTION);
        assert_eq!(models.readmission.artifact().target, READMISSION);
    }

    #[test]
    fn a_directory_serves_its_highest_versions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("infection_180d-1.json"), EMBEDDED_INFECTION).unwrap();
        let mut third = ModelArtifact::from_json(EMBEDDED_INFECTION).unwrap();
        third.version = 3;
        std::fs::write(dir.path().join("infection_180d-3.json"), third.to_json()).unwrap();
        std::fs::write(dir.path().join("readmission_30d-1.json"), EMBEDDED_READMISSION).unwrap();
        assert_eq!(
            latest(dir.path(), INFECTION).unwrap(),
            (3, dir.path().join("infection_180d-3.json"))
        );
        assert_eq!(
            from_dir(dir.path()).unwrap().infection.artifact().version,
            3,
            "the highest version"
        );
        std::fs::write(dir.path().join("readmission_30d-4.json"), b"{}").unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("readmission_30d-4.json: unsupported artifact format"),
            "{error}"
        );
        // active.toml pins a version, even below the highest.
        std::fs::remove_file(dir.path().join("readmission_30d-4.json")).unwrap();
        std::fs::write(dir.path().join(ACTIVE_FILE), "infection_180d = 1\n").unwrap();
        assert_eq!(from_dir(dir.path()).unwrap().infection.artifact().version, 1);
        std::fs::write(dir.path().join(ACTIVE_FILE), "infection_180d = 7\n").unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("infection_180d-7.json"), "{error}");
        std::fs::write(dir.path().join(ACTIVE_FILE), "sepsis_7d = 1\n").unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("unknown target `sepsis_7d`"), "{error}");
        std::fs::remove_file(dir.path().join(ACTIVE_FILE)).unwrap();
        // The file name's version is the artifact's: a copy under another name is refused.
        std::fs::write(dir.path().join("readmission_30d-2.json"), EMBEDDED_READMISSION).unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("readmission_30d-2.json: the file name says version 2, the artifact is version 1"),
            "{error}"
        );
        std::fs::remove_file(dir.path().join("readmission_30d-2.json")).unwrap();
        // A built-in target's artifact predicts the target's horizon.
        let mut long = ModelArtifact::from_json(EMBEDDED_INFECTION).unwrap();
        (long.version, long.horizon_days) = (4, 365);
        std::fs::write(dir.path().join("infection_180d-4.json"), long.to_json()).unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("infection_180d-4.json: infection_180d@4: predicts 365 days ahead, but `infection_180d` is a 180-day risk"),
            "{error}"
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(from_dir(empty.path())
            .unwrap_err()
            .to_string()
            .contains("no `infection_180d-<version>.json` artifact"));
    }
}
