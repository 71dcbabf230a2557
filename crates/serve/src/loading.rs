//! The models and policy the service scores with: the default artifacts of
//! `models/`, embedded in the binary at build time, or artifacts read from a
//! directory (`--models-dir`: the built-in targets, each falling back to its
//! embedded default, and every model trained through a spec), and the
//! built-in policy or a policy file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use carescore_core::artifact::{is_target_name, CompiledModel};
use carescore_core::scoring::{self, BuiltInTarget, Models, BUILT_IN_TARGETS, INFECTION};
use carescore_core::{ModelArtifact, Policy};

use carescore_core::embedded::{
    INFECTION as EMBEDDED_INFECTION, READMISSION as EMBEDDED_READMISSION, VERSION as EMBEDDED_VERSION,
};

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
    /// An artifact was refused.
    #[error("{path}: {source}")]
    Artifact {
        /// The file.
        path: PathBuf,
        /// Why.
        source: carescore_core::ArtifactError,
    },
    /// The target in the file name is not the artifact's.
    #[error("{path}: the file name says target `{file_target}`, the artifact is a model of `{artifact_target}` (name it `{artifact_target}-<version>.json`)")]
    TargetMismatch {
        /// The file.
        path: PathBuf,
        /// The target in the file name.
        file_target: String,
        /// The artifact's own target.
        artifact_target: String,
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
    admitted(path, target, verified(path, bytes, file_version)?)
}

/// `artifact`, read from `path`, once admitted for the built-in `target`.
fn admitted(path: &Path, target: BuiltInTarget, artifact: ModelArtifact) -> Result<ModelArtifact, LoadError> {
    scoring::admit(target, &artifact).map_err(|source| LoadError::Admission {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(artifact)
}

/// The models trained through a spec, by target: each served at
/// `/v1/models/{target}/score` (shared, so a request holds its model after a reload).
pub type SpecModels = BTreeMap<String, Arc<CompiledModel>>;

/// Every model the service serves.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The built-in targets, scored with the care and underwriting policy.
    pub models: Models,
    /// The built-in targets served from the embedded default (the directory had none).
    pub embedded_targets: Vec<&'static str>,
    /// Every other target.
    pub spec: SpecModels,
}

/// The model set of two admitted artifacts.
fn model_set(infection: ModelArtifact, readmission: ModelArtifact) -> Result<Models, LoadError> {
    Models::new(infection, readmission).map_err(|source| LoadError::Admission {
        path: PathBuf::from("<model set>"),
        source,
    })
}

/// The embedded default artifact of a built-in target (checked by the
/// tests, so loading cannot fail in a released binary).
fn embedded_artifact(target: BuiltInTarget) -> Result<ModelArtifact, LoadError> {
    let bytes = if target.name == INFECTION {
        EMBEDDED_INFECTION
    } else {
        EMBEDDED_READMISSION
    };
    let path = PathBuf::from(format!("<embedded {}-{EMBEDDED_VERSION}.json>", target.name));
    artifact_at(&path, bytes, target, EMBEDDED_VERSION)
}

/// The embedded default models, and no other.
///
/// # Errors
/// [`LoadError`] if an embedded artifact is refused.
pub(crate) fn embedded() -> Result<Loaded, LoadError> {
    let [infection, readmission] = BUILT_IN_TARGETS;
    Ok(Loaded {
        models: model_set(embedded_artifact(infection)?, embedded_artifact(readmission)?)?,
        embedded_targets: BUILT_IN_TARGETS.iter().map(|t| t.name).collect(),
        spec: SpecModels::new(),
    })
}

/// The artifact files of `dir` by target: every `<target>-<N>.json` whose
/// target is a model name (`a-z`, `0-9`, `_`), with its versions.
fn artifact_files(dir: &Path) -> Result<BTreeMap<String, BTreeMap<u32, PathBuf>>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: BTreeMap<String, BTreeMap<u32, PathBuf>> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some((target, version)) = name.strip_suffix(".json").and_then(|stem| stem.rsplit_once('-')) else {
            continue;
        };
        let (Ok(version), true) = (version.parse::<u32>(), is_target_name(target)) else {
            continue;
        };
        files
            .entry(target.to_string())
            .or_default()
            .insert(version, dir.join(&name));
    }
    Ok(files)
}

/// Name of the file that pins versions in a models directory.
pub(crate) const ACTIVE_FILE: &str = "active.toml";

/// The versions `dir/active.toml` pins (`infection_180d = 2`), if the file exists.
fn pinned(dir: &Path) -> Result<BTreeMap<String, u32>, LoadError> {
    let path = dir.join(ACTIVE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(source) => return Err(LoadError::Io { path, source }),
    };
    toml::from_str(&text).map_err(|e| LoadError::Settings {
        path: path.clone(),
        message: format!("{} (expected lines like `infection_180d = 2`)", e.message().trim_end()),
    })
}

/// The version of `target` to serve and its file: the one `active.toml`
/// pins, else the highest in the directory.
fn chosen(
    dir: &Path,
    target: &str,
    versions: Option<&BTreeMap<u32, PathBuf>>,
    pins: &BTreeMap<String, u32>,
) -> Option<(u32, PathBuf)> {
    match pins.get(target) {
        Some(version) => Some((*version, dir.join(format!("{target}-{version}.json")))),
        None => versions?.iter().next_back().map(|(v, p)| (*v, p.clone())),
    }
}

/// The artifact in `bytes`, read from `path`, whose file name says
/// `file_version`: verified (format, checksum, consistency) and of that version.
fn verified(path: &Path, bytes: &[u8], file_version: u32) -> Result<ModelArtifact, LoadError> {
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
    Ok(artifact)
}

/// Reads and verifies the artifact at `path`, whose file name says `file_version`.
fn read_artifact(path: &Path, file_version: u32) -> Result<ModelArtifact, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    verified(path, &bytes, file_version)
}

/// Loads a models directory: for each built-in target the version pinned in
/// `dir/active.toml`, else its highest (the embedded default when the
/// directory has none), and likewise every other target's model, served at
/// its own routes.
///
/// # Errors
/// [`LoadError`] naming the file and the problem: any artifact the service
/// would serve that is unreadable, corrupt or inadmissible refuses the
/// whole directory (at start, or on reload, where the old set keeps serving).
pub(crate) fn from_dir(dir: &Path) -> Result<Loaded, LoadError> {
    let pins = pinned(dir)?;
    let mut files = artifact_files(dir)?;
    if let Some((target, version)) = pins.iter().find(|(t, _)| !files.contains_key(*t)) {
        return Err(LoadError::Settings {
            path: dir.join(ACTIVE_FILE),
            message: format!(
                "pins `{target} = {version}`, but the directory has no `{target}-<version>.json` (targets here: {})",
                files.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let mut embedded_targets = Vec::new();
    let mut built_in = |target: BuiltInTarget| -> Result<ModelArtifact, LoadError> {
        match chosen(dir, target.name, files.remove(target.name).as_ref(), &pins) {
            Some((version, path)) => admitted(&path, target, read_artifact(&path, version)?),
            None => {
                embedded_targets.push(target.name);
                embedded_artifact(target)
            }
        }
    };
    let [infection, readmission] = BUILT_IN_TARGETS;
    let models = model_set(built_in(infection)?, built_in(readmission)?)?;
    let mut spec = SpecModels::new();
    for (target, versions) in &files {
        let Some((version, path)) = chosen(dir, target, Some(versions), &pins) else {
            continue;
        };
        let artifact = read_artifact(&path, version)?;
        if &artifact.target != target {
            return Err(LoadError::TargetMismatch {
                path,
                file_target: target.clone(),
                artifact_target: artifact.target,
            });
        }
        spec.insert(target.clone(), Arc::new(artifact.compile()));
    }
    Ok(Loaded {
        models,
        embedded_targets,
        spec,
    })
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
        let loaded = embedded().expect("the default artifacts in models/ are valid");
        assert_eq!(loaded.models.infection.artifact().target, INFECTION);
        assert_eq!(loaded.models.readmission.artifact().target, scoring::READMISSION);
        assert_eq!(loaded.embedded_targets, [INFECTION, scoring::READMISSION]);
        assert!(loaded.spec.is_empty());
    }

    /// The embedded infection artifact as another target's model, version `version`.
    fn spec_artifact(target: &str, version: u32) -> String {
        let mut artifact = ModelArtifact::from_json(EMBEDDED_INFECTION).unwrap();
        (artifact.target, artifact.version) = (target.to_string(), version);
        artifact.to_json()
    }

    #[test]
    fn a_directory_serves_its_highest_versions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("infection_180d-1.json"), EMBEDDED_INFECTION).unwrap();
        let mut third = ModelArtifact::from_json(EMBEDDED_INFECTION).unwrap();
        third.version = 3;
        std::fs::write(dir.path().join("infection_180d-3.json"), third.to_json()).unwrap();
        std::fs::write(dir.path().join("readmission_30d-1.json"), EMBEDDED_READMISSION).unwrap();
        let loaded = from_dir(dir.path()).unwrap();
        assert_eq!(loaded.models.infection.artifact().version, 3, "the highest version");
        assert!(loaded.embedded_targets.is_empty());
        std::fs::write(dir.path().join("readmission_30d-4.json"), b"{}").unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("readmission_30d-4.json: unsupported artifact format"),
            "{error}"
        );
        // active.toml pins a version, even below the highest.
        std::fs::remove_file(dir.path().join("readmission_30d-4.json")).unwrap();
        std::fs::write(dir.path().join(ACTIVE_FILE), "infection_180d = 1\n").unwrap();
        assert_eq!(from_dir(dir.path()).unwrap().models.infection.artifact().version, 1);
        std::fs::write(dir.path().join(ACTIVE_FILE), "infection_180d = 7\n").unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("infection_180d-7.json"), "{error}");
        std::fs::write(dir.path().join(ACTIVE_FILE), "sepsis_7d = 1\n").unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("pins `sepsis_7d = 1`, but the directory has no `sepsis_7d-<version>.json`"),
            "{error}"
        );
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
    }

    #[test]
    fn a_directory_serves_its_spec_models_and_the_embedded_default_for_a_missing_built_in_target() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("readmission_30d-1.json"), EMBEDDED_READMISSION).unwrap();
        std::fs::write(dir.path().join("graft_loss-1.json"), spec_artifact("graft_loss", 1)).unwrap();
        std::fs::write(dir.path().join("graft_loss-2.json"), spec_artifact("graft_loss", 2)).unwrap();
        // Not artifact names: ignored.
        for other in [
            "notes.json",
            "Graft-1.json",
            "graft_loss-x.json",
            "graft_loss-1.json.bak",
        ] {
            std::fs::write(dir.path().join(other), b"{}").unwrap();
        }
        let loaded = from_dir(dir.path()).unwrap();
        assert_eq!(loaded.embedded_targets, [INFECTION]);
        assert_eq!(loaded.models.readmission.artifact().version, 1);
        let versions: Vec<(&str, u32)> = loaded
            .spec
            .iter()
            .map(|(t, m)| (t.as_str(), m.artifact().version))
            .collect();
        assert_eq!(versions, [("graft_loss", 2)]);
        // active.toml pins a spec model too.
        std::fs::write(dir.path().join(ACTIVE_FILE), "graft_loss = 1\n").unwrap();
        assert_eq!(from_dir(dir.path()).unwrap().spec["graft_loss"].artifact().version, 1);
        std::fs::remove_file(dir.path().join(ACTIVE_FILE)).unwrap();
        // A corrupt spec artifact refuses the directory, naming the file.
        let mut corrupt = spec_artifact("graft_loss", 3).into_bytes();
        let at = corrupt.len() / 2;
        corrupt[at] = if corrupt[at] == b'1' { b'2' } else { b'1' };
        std::fs::write(dir.path().join("graft_loss-3.json"), corrupt).unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("graft_loss-3.json:"), "{error}");
        std::fs::remove_file(dir.path().join("graft_loss-3.json")).unwrap();
        // The file name's target is the artifact's.
        std::fs::write(dir.path().join("sepsis-1.json"), spec_artifact("graft_loss", 1)).unwrap();
        let error = from_dir(dir.path()).unwrap_err().to_string();
        assert!(
            error
                .contains("sepsis-1.json: the file name says target `sepsis`, the artifact is a model of `graft_loss`"),
            "{error}"
        );
        // An empty directory serves the embedded defaults alone.
        let empty = tempfile::tempdir().unwrap();
        let loaded = from_dir(empty.path()).unwrap();
        assert_eq!(loaded.embedded_targets, [INFECTION, scoring::READMISSION]);
        assert!(loaded.spec.is_empty());
    }
}
