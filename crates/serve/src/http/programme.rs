//! `POST /v1/programme`: a cohort of up to 10,000 records (the batch body)
//! scored and summed into the programme view
//! ([`carescore_core::programme`]): patients per tier and flag, tier
//! changes, expected events with their interval, workload, events avoided
//! under the policy's assumption, costs when the policy gives them.
//!
//! The answer is aggregate: no patient's figures leave. The audit trail
//! gets one line per summarised record with its case-id hash and the
//! models and policy used, and nothing else of the patient.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Extension, Router};
use carescore_core::parse_record;
use carescore_core::programme::{Entry, ProgrammeView, Tally};
use carescore_core::scoring;
use serde::Serialize;

use crate::audit::{AuditRoute, Decision};
use crate::auth::Scope;
use crate::body::{read_json, JsonAnswer, BATCH_LIMIT_BYTES};
use crate::http::records::{self, observe_record, record_problem};
use crate::problem::Problem;
use crate::request_id::RequestId;
use crate::routes::Route;
use crate::state::{AppState, Live};

/// A record left out of the view, and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Refused {
    /// Position in the request.
    pub index: usize,
    /// Why the record was refused.
    #[schema(value_type = crate::problem::ProblemSchema)]
    pub error: Problem,
}

/// `POST /v1/programme` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProgrammeResponse {
    /// The programme view of the valid records.
    #[serde(flatten)]
    pub view: ProgrammeView,
    /// Records refused, which the view leaves out (validation problems name
    /// fields and rules, never values).
    pub refused: Vec<Refused>,
    /// Model versions by target.
    pub model_versions: BTreeMap<&'static str, String>,
    /// This request's id.
    pub request_id: String,
}

/// One part of the cohort: its tally, its case ids in order, its refusals.
#[derive(Default)]
struct Part {
    tally: Tally,
    case_ids: Vec<(usize, String)>,
    refused: Vec<Refused>,
}

/// Scores a part of the records into a tally.
fn tally_part(state: &AppState, live: &Live, start: usize, raws: &[&serde_json::value::RawValue]) -> Part {
    let mut part = Part::default();
    for (offset, raw) in raws.iter().enumerate() {
        let index = start + offset;
        let outcome = parse_record(raw.get().as_bytes());
        observe_record(&state.metrics, &outcome);
        match outcome {
            Ok(screened) => {
                let score = scoring::score(&live.models, &live.policy, &screened.record, screened.warnings);
                part.tally.add(Entry::from(&score));
                part.case_ids.push((index, score.case_id));
            }
            Err(error) => part.refused.push(Refused {
                index,
                error: record_problem(&state.metrics, &live.policy, error),
            }),
        }
    }
    part
}

/// Parses, scores and sums a cohort on the cores, in record order.
fn summarise(state: &AppState, live: &Live, bytes: &Bytes) -> Result<Part, Problem> {
    let records = super::batch::items(bytes, "patient records")?;
    let chunks: Vec<(usize, &[&serde_json::value::RawValue])> = records
        .chunks(super::batch::ITEMS_PER_THREAD)
        .enumerate()
        .map(|(i, c)| (i * super::batch::ITEMS_PER_THREAD, c))
        .collect();
    let parts = super::batch::on_cores(&chunks, |_, (start, raws)| tally_part(state, live, *start, raws))
        .ok_or_else(|| Problem::internal("a programme worker failed"))?;
    let mut whole = Part::default();
    for part in parts {
        whole.tally.merge(part.tally);
        whole.case_ids.extend(part.case_ids);
        whole.refused.extend(part.refused);
    }
    Ok(whole)
}

/// Scores a cohort of 1 to 10,000 records and answers the programme view:
/// patients per recommended tier and flag, tier upgrades needed, expected
/// events per target with their 95% interval, case-manager workload at the
/// policy's caseloads, events avoided under the policy's assumed relative
/// risk reduction (an assumption, stated in the answer), and costs when the
/// policy gives them. Records that fail validation are listed and left out.
#[utoipa::path(post, path = "/v1/programme", tag = "decision support", request_body = crate::http::score::BatchRequestDoc,
    security(("bearer" = ["score"])),
    responses((status = 200, description = "The programme view", body = ProgrammeResponse),
        crate::http::answers::RecordProblems))]
pub(crate) async fn programme(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<JsonAnswer<ProgrammeResponse>, Problem> {
    let records::Admitted { live, key } = records::admit(&state, &headers, Scope::Score)?;
    let bytes = read_json(&headers, body, BATCH_LIMIT_BYTES).await?;
    let (worker_state, worker_live) = (state.clone(), live.clone());
    let part = tokio::task::spawn_blocking(move || summarise(&worker_state, &worker_live, &bytes))
        .await
        .map_err(|_| Problem::internal("programme failed"))??;
    state.metrics.programme_records(part.tally.patients());
    let model_versions: BTreeMap<&'static str, String> = live
        .models
        .iter()
        .map(|(t, a)| (t, a.model_version()))
        .into_iter()
        .collect();
    if let Some(audit) = &state.audit {
        let sha: BTreeMap<&'static str, String> = live
            .models
            .iter()
            .map(|(t, a)| (t, a.sha256.clone()))
            .into_iter()
            .collect();
        let decisions: Vec<Decision<'_>> = part
            .case_ids
            .iter()
            .map(|(index, case_id)| Decision {
                time_unix_ms: crate::audit::now_ms(),
                request_id: &request_id,
                key: key.as_deref(),
                route: AuditRoute::Programme,
                index: Some(*index),
                case_id_sha256: Some(audit.case_hash(case_id)),
                model_versions: model_versions.iter().map(|(t, v)| (*t, v.as_str())).collect(),
                model_sha256: sha.iter().map(|(t, v)| (*t, v.as_str())).collect(),
                policy_version: &live.policy.version,
                probabilities: BTreeMap::new(),
                tier: None,
                flags: None,
                declared_flags: None,
                risk_class: None,
            })
            .collect();
        audit.record(&decisions).await?;
    }
    Ok(JsonAnswer(ProgrammeResponse {
        view: part.tally.view(&live.policy),
        refused: part.refused,
        model_versions,
        request_id,
    }))
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(Route::Programme.path(), post(programme))
}
