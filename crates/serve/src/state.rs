//! What every request reads: the live set (models, policy, keys), swapped
//! atomically on reload, and where each part comes from.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use carescore_core::scoring::Models;
use carescore_core::Policy;

use crate::auth::Keys;
use crate::loading::{LoadError, Loaded, SpecModels};
use crate::monitoring::Monitor;
use crate::settings::{Limits, Monitoring, Settings};

/// Where the models come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The default artifacts embedded in the binary.
    Embedded,
    /// A models directory.
    Directory(PathBuf),
}

/// The files the live set is read from (and re-read on reload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// The models.
    pub models: ModelSource,
    /// The policy file, if any (else the built-in policy).
    pub policy: Option<PathBuf>,
    /// The settings file with the keys, if any.
    pub settings: Option<PathBuf>,
}

/// Everything a request is answered with; requests see one whole set, never a mix.
#[derive(Debug)]
pub struct Live {
    /// The built-in targets' models.
    pub models: Models,
    /// The built-in targets served from their embedded default.
    pub embedded_targets: Vec<&'static str>,
    /// The models trained through a spec, by target.
    pub spec_models: SpecModels,
    /// The policy.
    pub policy: Policy,
    /// The API keys.
    pub keys: Keys,
}

impl Live {
    /// The set of `models` with `policy` and `keys`.
    fn new(models: Loaded, policy: Policy, keys: Keys) -> Live {
        Live {
            models: models.models,
            embedded_targets: models.embedded_targets,
            spec_models: models.spec,
            policy,
            keys,
        }
    }

    /// Every artifact served, by target: the built-in targets, then the spec models.
    pub fn artifacts(&self) -> Vec<(&str, &carescore_core::ModelArtifact)> {
        let built_in = self.models.iter().into_iter();
        let spec = self.spec_models.iter().map(|(t, m)| (t.as_str(), m.artifact()));
        built_in.chain(spec).collect()
    }

    /// Records in `metrics` what this set serves (every model's version,
    /// `carescore_model_info`, and the series of its spec models), and has
    /// `monitor` track its models.
    pub(crate) fn count_in(&self, metrics: &crate::metrics::Metrics, monitor: &Monitor) {
        monitor.track(self.artifacts().into_iter().map(|(_, a)| a));
        metrics.set_models(
            self.artifacts()
                .into_iter()
                .map(|(t, a)| (t.to_string(), a.model_version())),
        );
        metrics.add_spec_models(self.spec_models.iter().map(|(target, model)| {
            let flags = model.artifact().flags.iter().map(|f| f.name.as_str()).collect();
            (target.as_str(), flags)
        }));
    }

    /// The models as loaded (built-in, where each came from, spec models).
    fn loaded(&self) -> Loaded {
        Loaded {
            models: self.models.clone(),
            embedded_targets: self.embedded_targets.clone(),
            spec: self.spec_models.clone(),
        }
    }
}

/// Why a reload was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The service runs on its embedded models with the built-in policy and
    /// no settings file: there is no file to re-read.
    #[error(
        "nothing to reload: the embedded models, the built-in policy and no settings file (start with --models-dir, --policy or --config to reload from disk)"
    )]
    Embedded,
    /// The settings file no longer lists any API key: reloading it would open
    /// every route (admin included) to anyone who can reach the service.
    #[error(
        "the settings file lists no API key, which would open every route to anyone; a service started with keys keeps at least one (restart without keys to serve on loopback only)"
    )]
    KeysRemoved,
    /// A built-in target served from the models directory has no artifact
    /// there any more: the reload would quietly fall back to the embedded default.
    #[error(
        "the models directory no longer has an artifact for `{0}`: a reload would fall back to the embedded default model; put an artifact back (or restart to serve the default)"
    )]
    WouldFallBack(&'static str),
    /// A file was refused; the old set keeps serving.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Shared state of the service behind one reference count: every request
/// clones the state, and one count is one cache line bouncing between the
/// cores rather than one per field.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares; its fields are read through the state.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The live set.
    pub live: Arc<ArcSwap<Live>>,
    /// Where it comes from.
    pub sources: Sources,
    /// Limits fixed at start-up.
    pub limits: Limits,
    /// Monitoring settings fixed at start-up.
    pub monitoring: Monitoring,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Drift tracking and group figures (`/v1/monitoring`, `/metrics`).
    pub monitor: Arc<Monitor>,
    /// The shadow challenger, when a shadow directory is set.
    pub shadow: Option<Arc<crate::shadow::Shadow>>,
    /// Per-key rate limits.
    pub(crate) rate: Arc<crate::rate::RateLimiter>,
    /// The audit trail, when `--audit-log` is set.
    pub audit: Option<crate::audit::AuditLog>,
    /// Permits for requests in flight (`limits.max_in_flight`).
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// The embedded default models with the built-in policy and no keys.
    ///
    /// # Errors
    /// If an embedded artifact is refused (the tests make sure it is not).
    pub fn embedded() -> Result<AppState, LoadError> {
        let sources = Sources {
            models: ModelSource::Embedded,
            policy: None,
            settings: None,
        };
        AppState::load(sources)
    }

    /// Reads everything `sources` names.
    ///
    /// # Errors
    /// [`LoadError`] naming the file and the problem.
    pub fn load(sources: Sources) -> Result<AppState, LoadError> {
        let (live, settings) = read(&sources)?;
        let Settings { limits, monitoring, .. } = settings;
        let shadow = monitoring
            .shadow_dir
            .clone()
            .map(|dir| crate::shadow::Shadow::start(dir, monitoring.shadow_share, monitoring.shadow_cpu_share, &live));
        Ok(AppState(Arc::new(Shared {
            shadow,
            live: Arc::new(ArcSwap::from_pointee(live)),
            sources,
            limits,
            metrics: Arc::new(crate::metrics::Metrics::default()),
            monitor: Arc::new(Monitor::new(monitoring.drift_window_records)),
            monitoring,
            rate: rate_limiter(limits),
            audit: None,
            in_flight: in_flight_permits(limits),
        })))
    }

    /// The same state, recording every decision in `audit`.
    pub fn with_audit(self, audit: crate::audit::AuditLog) -> AppState {
        let mut shared = Shared::clone(&self);
        shared.audit = Some(audit);
        AppState(Arc::new(shared))
    }

    /// The same state with a shadow challenger read from `dir` (the
    /// `--shadow-dir` flag; it replaces one the settings file names).
    pub fn with_shadow(self, dir: PathBuf) -> AppState {
        let mut shared = Shared::clone(&self);
        shared.monitoring.shadow_dir = Some(dir.clone());
        shared.shadow = Some(crate::shadow::Shadow::start(
            dir,
            shared.monitoring.shadow_share,
            shared.monitoring.shadow_cpu_share,
            &shared.live.load(),
        ));
        AppState(Arc::new(shared))
    }

    /// The same state (live set, metrics, audit trail) with other `limits`.
    pub fn with_limits(self, limits: Limits) -> AppState {
        let mut shared = Shared::clone(&self);
        shared.limits = limits;
        shared.rate = rate_limiter(limits);
        shared.in_flight = in_flight_permits(limits);
        AppState(Arc::new(shared))
    }

    /// Checks the request's key for `scope` (see [`crate::auth`]) and its rate.
    ///
    /// # Errors
    /// 401, 403 or 429 as a problem document.
    pub(crate) fn admit(
        &self,
        live: &Live,
        headers: &axum::http::HeaderMap,
        scope: Option<crate::auth::Scope>,
    ) -> Result<Option<String>, crate::problem::Problem> {
        let key = crate::auth::authorize(&live.keys, headers, scope)?;
        if let Some(key) = &key {
            self.rate.admit(key)?;
        }
        Ok(key)
    }

    /// Re-reads the models directory, the policy and the keys and swaps them
    /// in at once; on any error the old set keeps serving. Embedded models
    /// stay as they are (they cannot change without a new binary); the
    /// policy and the keys are re-read from their files. Returns the new set
    /// and the settings' limits that differ from those running (limits are
    /// fixed at start-up, so these wait for a restart).
    ///
    /// # Errors
    /// [`ReloadError`] saying why nothing changed.
    pub fn reload(&self) -> Result<(Arc<Live>, Vec<&'static str>), ReloadError> {
        let sources = &self.sources;
        if sources.models == ModelSource::Embedded && sources.policy.is_none() && sources.settings.is_none() {
            return Err(ReloadError::Embedded);
        }
        let models = match &sources.models {
            ModelSource::Embedded => self.live.load().loaded(),
            ModelSource::Directory(dir) => crate::loading::from_dir(dir)?,
        };
        let serving = self.live.load();
        if let Some(target) = models
            .embedded_targets
            .iter()
            .find(|t| !serving.embedded_targets.contains(t))
        {
            return Err(ReloadError::WouldFallBack(target));
        }
        let (policy, settings) = read_policy_and_settings(sources)?;
        if settings.keys.0.is_empty() && !self.live.load().keys.0.is_empty() {
            return Err(ReloadError::KeysRemoved);
        }
        let mut waiting = self.limits.differences(&settings.limits);
        let mut monitoring = settings.monitoring.clone();
        if self.monitoring.shadow_dir.is_some() && monitoring.shadow_dir.is_none() {
            // A shadow directory from --shadow-dir is not the file's to change.
            monitoring.shadow_dir.clone_from(&self.monitoring.shadow_dir);
        }
        waiting.extend(self.monitoring.differences(&monitoring));
        let live = Arc::new(Live::new(models, policy, settings.keys));
        self.live.store(live.clone());
        if let Some(shadow) = &self.shadow {
            // A shadow that fails to load is reported by the shadow; the champion's reload stands.
            shadow.reload(&live);
        }
        Ok((live, waiting))
    }
}

/// The per-key rate limiter `limits` ask for.
fn rate_limiter(limits: Limits) -> Arc<crate::rate::RateLimiter> {
    Arc::new(crate::rate::RateLimiter::new(limits.rate_per_key_per_second))
}

/// The in-flight permits `limits` ask for.
fn in_flight_permits(limits: Limits) -> Arc<tokio::sync::Semaphore> {
    Arc::new(tokio::sync::Semaphore::new(limits.max_in_flight))
}

fn read_policy_and_settings(sources: &Sources) -> Result<(Policy, Settings), LoadError> {
    let policy = match &sources.policy {
        Some(path) => crate::loading::policy_from(path)?,
        None => Policy::default(),
    };
    let settings = match &sources.settings {
        Some(path) => Settings::load(path)?,
        None => Settings::default(),
    };
    Ok((policy, settings))
}

fn read(sources: &Sources) -> Result<(Live, Settings), LoadError> {
    let models = match &sources.models {
        ModelSource::Embedded => crate::loading::embedded()?,
        ModelSource::Directory(dir) => crate::loading::from_dir(dir)?,
    };
    let (policy, settings) = read_policy_and_settings(sources)?;
    let live = Live::new(models, policy, settings.keys.clone());
    Ok((live, settings))
}
