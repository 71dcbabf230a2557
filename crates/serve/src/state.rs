//! What every request reads: the model set and the policy.

use std::sync::Arc;

use carescore_core::scoring::Models;
use carescore_core::Policy;

/// Where the models come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The default artifacts embedded in the binary.
    Embedded,
    /// A models directory.
    Directory(std::path::PathBuf),
}

/// Shared, read-only state of the service.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The models.
    pub models: Arc<Models>,
    /// The policy.
    pub policy: Arc<Policy>,
    /// Where the models came from.
    pub source: ModelSource,
}

impl AppState {
    /// The embedded default models with the built-in policy.
    ///
    /// # Errors
    /// If an embedded artifact is refused (the tests make sure it is not).
    pub fn embedded() -> Result<AppState, crate::models::LoadError> {
        Ok(AppState {
            models: Arc::new(crate::models::embedded()?),
            policy: Arc::new(Policy::default()),
            source: ModelSource::Embedded,
        })
    }
}
