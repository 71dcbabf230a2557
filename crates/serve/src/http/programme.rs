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
use carescore_core::policy::{urgent_among, Flag};
use carescore_core::programme::{Entry, ProgrammeView, Tally};
use carescore_core::scoring::{self, Triage};
use carescore_core::{parse_record, PatientRecord};
use serde::Serialize;

use crate::audit::{AuditRoute, Decision};
use crate::auth::Scope;
use crate::body::{read_json, JsonAnswer, BATCH_LIMIT_BYTES};
use crate::http::records::{self, refusal};
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

/// A valid record that raised an urgent flag: a safety signal is never
/// lost in a sum, so its position in the request is named.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Urgent {
    /// Position in the request.
    pub index: usize,
    /// The urgent flags it raised (the urgent pathway of the care policy).
    pub flags: Vec<Flag>,
}

/// `POST /v1/programme` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProgrammeResponse {
    /// The programme view of the valid records.
    #[serde(flatten)]
    pub view: ProgrammeView,
    /// Valid records on the urgent pathway (PHQ-9 item 9 above 0, a trough
    /// far out of range), by position: pass them to the clinical team.
    pub urgent: Vec<Urgent>,
    /// Records refused, which the view leaves out (validation problems name
    /// fields and rules, never values; a refused record's urgent flags are
    /// in its problem's `safety_flags`).
    pub refused: Vec<Refused>,
    /// Model versions by target.
    pub model_versions: BTreeMap<&'static str, String>,
    /// This request's id.
    pub request_id: String,
}

/// One record's outcome: triaged, or refused.
enum Item {
    Triaged(Box<(PatientRecord, Triage)>),
    Refused(Problem),
}

/// The cohort summed: the view, the urgent records, the refusals, and the
/// valid records' case ids in order (for the audit trail).
struct Summary {
    view: ProgrammeView,
    urgent: Vec<Urgent>,
    refused: Vec<Refused>,
    case_ids: Vec<(usize, String)>,
}

/// Parses and triages the records on the cores, then sums them in request
/// order. Planning uploads are not counted in the data-quality series
/// (records, missing fields, warnings, flags): a historical cohort sent for
/// planning would move what those series and their alerts watch, the
/// records the CMS sends for decisions.
fn summarise(live: &Live, bytes: &Bytes) -> Result<Summary, Problem> {
    let records = super::batch::items(bytes, "patient records")?;
    let items = super::batch::on_cores(&records, |_, raw| match parse_record(raw.get().as_bytes()) {
        Ok(screened) => {
            let triage = scoring::triage(&live.models, &live.policy, &screened.record);
            Item::Triaged(Box::new((screened.record, triage)))
        }
        Err(error) => Item::Refused(refusal(&live.policy, error)),
    })
    .ok_or_else(|| Problem::internal("a programme worker failed"))?;
    let mut tally = Tally::default();
    let (mut urgent, mut refused, mut case_ids) = (Vec::new(), Vec::new(), Vec::new());
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Item::Triaged(triaged) => {
                let (record, triage) = *triaged;
                tally.add(Entry::of(&record, &triage));
                let flags = urgent_among(&triage.flags);
                if !flags.is_empty() {
                    urgent.push(Urgent { index, flags });
                }
                case_ids.push((index, record.case_id));
            }
            Item::Refused(error) => refused.push(Refused { index, error }),
        }
    }
    Ok(Summary {
        view: tally.view(&live.policy),
        urgent,
        refused,
        case_ids,
    })
}

/// Scores a cohort of 1 to 10,000 records and answers the programme view:
/// patients per recommended tier and flag, tier upgrades needed, expected
/// events per target with their 95% interval, case-manager workload at the
/// policy's caseloads, events avoided under the policy's assumed relative
/// risk reduction (an assumption, stated in the answer), and costs when the
/// policy gives them. Records that fail validation are listed and left out;
/// valid records on the urgent pathway are listed by position.
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
    let worker_live = live.clone();
    let summary = tokio::task::spawn_blocking(move || summarise(&worker_live, &bytes))
        .await
        .map_err(|_| Problem::internal("programme failed"))??;
    state
        .metrics
        .programme_records(summary.view.patients, summary.refused.len());
    let model_versions = live.models.versions();
    if let Some(audit) = &state.audit {
        let sha = live.models.checksums();
        let decisions: Vec<Decision<'_>> = summary
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
        view: summary.view,
        urgent: summary.urgent,
        refused: summary.refused,
        model_versions,
        request_id,
    }))
}

/// Routes of this resource.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(Route::Programme.path(), post(programme))
}
