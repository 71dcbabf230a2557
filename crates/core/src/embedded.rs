//! The default models of `models/`, embedded at build time: the service's
//! models when no directory is given, and `carescore-train programme`'s
//! when no artifact is named.

use crate::artifact::ModelArtifact;
use crate::scoring::{Models, ModelsError};

/// The default infection artifact's bytes.
pub const INFECTION: &[u8] = include_bytes!("../../../models/infection_180d-1.json");
/// The default readmission artifact's bytes.
pub const READMISSION: &[u8] = include_bytes!("../../../models/readmission_30d-1.json");
/// The version in the embedded artifacts' file names.
pub const VERSION: u32 = 1;

/// Why the embedded models could not be used (a build from a broken `models/`).
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// An artifact does not verify.
    #[error("embedded artifact: {0}")]
    Artifact(#[from] crate::ArtifactError),
    /// An artifact does not fit its target.
    #[error("embedded artifact: {0}")]
    Models(#[from] ModelsError),
}

/// The embedded models, verified and compiled.
///
/// # Errors
/// [`EmbeddedError`] when an embedded artifact does not verify.
pub fn models() -> Result<Models, EmbeddedError> {
    Ok(Models::new(
        ModelArtifact::from_json(INFECTION)?,
        ModelArtifact::from_json(READMISSION)?,
    )?)
}
