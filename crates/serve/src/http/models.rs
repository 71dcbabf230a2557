//! `GET /v1/models`: the active models, with their versions, metrics and
//! input signatures.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use carescore_core::artifact::{DataFingerprint, Estimator, FeatureSpec, ModelArtifact};
use carescore_core::scoring;
use serde::Serialize;

use crate::body::JsonAnswer;
use crate::problem::Problem;
use crate::routes::Route;
use crate::state::{AppState, ModelSource};

/// The `source` of a model built into the service.
pub(crate) const EMBEDDED: &str = "embedded";
/// The `source` of a model read from the models directory.
pub(crate) const DIRECTORY: &str = "directory";

/// One active model in `GET /v1/models`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ModelInfo {
    /// Target name.
    pub target: String,
    /// Where the artifact comes from: `directory` (`--models-dir`) or
    /// `embedded` (the default built into the service: the default models,
    /// or a built-in target the models directory has no artifact for).
    /// Always sent; published as optional, as every field added within `/v1`.
    #[schema(required = false)]
    pub source: &'static str,
    /// `<target>@<version>`.
    pub model_version: String,
    /// The artifact's checksum, as in every answer and audit line.
    pub model_sha256: String,
    /// Version.
    pub version: u32,
    /// Horizon in days.
    pub horizon_days: u32,
    /// Estimator type: `logistic`, `boosted_trees` or `random_forest`.
    pub estimator: &'static str,
    /// Raw output scale of explanations: `log_odds` or `vote_share`.
    pub scale: &'static str,
    /// The artifact's figures by name (docs/model-artifact.md): the estimate
    /// on patients the model did not see, its intervals, patient and event
    /// counts, and the method behind it.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// Input signature.
    pub features: Vec<FeatureSpec>,
    /// Training data provenance.
    pub training_data: DataFingerprint,
    /// Artifact checksum (the same as `model_sha256`, kept for `/v1` clients).
    pub sha256: String,
}

impl ModelInfo {
    /// The entry of `artifact`, read from `source`.
    pub(crate) fn of(artifact: &ModelArtifact, source: &'static str) -> ModelInfo {
        ModelInfo {
            target: artifact.target.clone(),
            source,
            model_version: artifact.model_version(),
            model_sha256: artifact.sha256.clone(),
            version: artifact.version,
            horizon_days: artifact.horizon_days,
            estimator: match artifact.estimator {
                Estimator::Logistic { .. } => "logistic",
                Estimator::BoostedTrees { .. } => "boosted_trees",
                Estimator::RandomForest { .. } => "random_forest",
            },
            scale: scoring::scale_of(&artifact.estimator),
            metrics: artifact.metrics.clone(),
            features: artifact.features.clone(),
            training_data: artifact.training_data.clone(),
            sha256: artifact.sha256.clone(),
        }
    }
}

/// `GET /v1/models` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ModelsResponse {
    /// Active models: the built-in targets (scored at `/v1/score`), then
    /// the models trained through a spec (each at `/v1/models/{target}/score`).
    pub models: Vec<ModelInfo>,
    /// `embedded` (the service was started without `--models-dir`) or
    /// `directory`; each model says where it comes from.
    pub source: &'static str,
    /// Policy version.
    pub policy_version: String,
}

/// The active models: versions, metrics and input signatures.
#[utoipa::path(get, path = "/v1/models", tag = "models", security(("bearer" = [])),
    responses((status = 200, description = "Active models", body = ModelsResponse),
        crate::http::answers::KeyProblems))]
pub(crate) async fn models(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<JsonAnswer<ModelsResponse>, Problem> {
    let live = state.live.load_full();
    state.admit(&live, &headers, None)?;
    let source = |target: &str| {
        if live.embedded_targets.contains(&target) {
            EMBEDDED
        } else {
            DIRECTORY
        }
    };
    Ok(JsonAnswer(ModelsResponse {
        models: live
            .artifacts()
            .into_iter()
            .map(|(target, a)| ModelInfo::of(a, source(target)))
            .collect(),
        source: match state.sources.models {
            ModelSource::Embedded => EMBEDDED,
            ModelSource::Directory(_) => DIRECTORY,
        },
        policy_version: live.policy.version.clone(),
    }))
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(Route::Models.path(), get(models))
}
