//! The optional append-only audit trail (`--audit-log PATH`): one JSON line
//! per decision (a score, a batch item, a grade) with the time, request id,
//! key name (never the key), a salted SHA-256 of the case id, model and
//! policy versions, the probabilities, and the tier and flags or the risk
//! class. No other patient field is written.
//!
//! A response leaves only after its lines are in the file (handed to the
//! operating system): handlers queue their lines and wait; one writer thread
//! takes every line queued meanwhile and writes them with one `write` (group
//! commit), so the cost per request stays small under load. Killing the
//! process therefore loses no line of an answered request. `--audit-fsync`
//! also flushes each group to the disk before answering (power-loss
//! durability, at the disk's latency). A write that fails answers 503: no
//! decision leaves without its line.
//!
//! A crash in the middle of a write can leave a partial last line (of a
//! request that was never answered); opening the log cuts it off, so every
//! line a reader sees is whole JSON.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::Serialize;

use crate::problem::Problem;

/// Lines written together at most (bounds the memory of one group).
const MAX_GROUP: usize = 4096;

/// Why the audit log cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The file cannot be opened, repaired or written.
    #[error("audit log {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// No salt for the case-id hashes.
    #[error("--audit-log needs a salt for the case-id hashes: set --audit-salt or CARESCORE_AUDIT_SALT (at least 16 characters, kept secret and stable)")]
    NoSalt,
}

/// The kind of decision an audit line records (its `route`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AuditRoute {
    /// `POST /v1/score`.
    Score,
    /// An item of `POST /v1/score/batch`.
    Batch,
    /// `POST /v1/underwriting/grade`.
    Grade,
    /// `POST /v1/models/{target}/score`.
    ModelScore,
    /// An item of `POST /v1/models/{target}/score/batch`.
    ModelBatch,
    /// `POST /v1/levers`: the record's risks as recorded.
    Levers,
    /// A record summarised by `POST /v1/programme`: its case-id hash and
    /// the models and policy, nothing else of the patient.
    Programme,
    /// The shadow challenger's score of a record (`/v1/score` or a batch
    /// item) whose decision line has the same request id and index.
    Shadow,
}

/// One decision, as written.
#[derive(Debug, Serialize)]
pub(crate) struct Decision<'a> {
    /// Milliseconds since the Unix epoch.
    pub time_unix_ms: u128,
    /// The request's id.
    pub request_id: &'a str,
    /// The API key's name, when keys are configured.
    pub key: Option<&'a str>,
    /// Which kind of decision.
    pub route: AuditRoute,
    /// Position in a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Salted SHA-256 of the case id (hex); absent when a spec model's
    /// input carried no case id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id_sha256: Option<String>,
    /// Model version by target.
    pub model_versions: BTreeMap<&'a str, &'a str>,
    /// The artifact's checksum by target.
    pub model_sha256: BTreeMap<&'a str, &'a str>,
    /// Policy version.
    pub policy_version: &'a str,
    /// Probability by target.
    pub probabilities: BTreeMap<&'a str, f64>,
    /// Recommended tier (scores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<carescore_core::Tier>,
    /// Flags raised (scores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<&'a [carescore_core::policy::Flag]>,
    /// Flags a spec model declared and the probability raised (spec-model scores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_flags: Option<&'a [String]>,
    /// Risk class (grades).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_class: Option<carescore_core::policy::RiskClass>,
}

/// Lines waiting for the writer, and who to tell when they are written.
struct Pending {
    lines: Vec<u8>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// The audit log: cheap to clone, shared by all handlers.
#[derive(Debug, Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Pending>,
    salt: std::sync::Arc<str>,
}

/// Cuts a partial last line (no final newline) off the file.
fn repair(file: &mut File) -> std::io::Result<()> {
    let length = file.metadata()?.len();
    let mut end = length;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let window = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(window)?;
        if let Some(i) = window.iter().rposition(|&b| b == b'\n') {
            let keep = start + i as u64 + 1;
            if keep != length {
                file.set_len(keep)?;
            }
            return Ok(());
        }
        end = start;
    }
    // No complete line at all.
    if length > 0 {
        file.set_len(0)?;
    }
    Ok(())
}

/// The writer thread: group commit until every sender is gone.
fn write_groups(mut file: File, fsync: bool, queue: mpsc::Receiver<Pending>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(more) => group.push(more),
                Err(_) => break,
            }
        }
        let bytes: Vec<u8> = group.iter().flat_map(|p| p.lines.iter().copied()).collect();
        let written = file
            .write_all(&bytes)
            .and_then(|()| if fsync { file.sync_data() } else { Ok(()) })
            .map_err(|e| e.to_string());
        for pending in group {
            let _ = pending.done.send(written.clone());
        }
    }
}

impl AuditLog {
    /// Opens (creates) `path` for appending, cuts a partial last line, and
    /// starts the writer thread.
    ///
    /// # Errors
    /// [`AuditError`] if the salt is missing or short, or the file cannot be
    /// opened or repaired.
    pub fn open(path: &Path, salt: Option<&str>, fsync: bool) -> Result<AuditLog, AuditError> {
        let salt = salt
            .filter(|s| s.len() >= carescore_core::MIN_SALT_CHARS)
            .ok_or(AuditError::NoSalt)?;
        let io = |source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        repair(&mut file).map_err(io)?;
        let (queue, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || write_groups(file, fsync, receiver))
            .map_err(io)?;
        Ok(AuditLog {
            queue,
            salt: salt.into(),
        })
    }

    /// The salted hash of a case id.
    pub(crate) fn case_hash(&self, case_id: &str) -> String {
        carescore_core::case_hash(&self.salt, case_id)
    }

    /// Writes `decisions` (one line each) and waits until they are in the file.
    ///
    /// # Errors
    /// 503 when the lines cannot be written: the answer must not leave.
    pub(crate) async fn record(&self, decisions: &[Decision<'_>]) -> Result<(), Problem> {
        let mut lines = Vec::with_capacity(decisions.len() * 400);
        for decision in decisions {
            serde_json::to_writer(&mut lines, decision).map_err(|_| Problem::internal("audit line"))?;
            lines.push(b'\n');
        }
        let (done, written) = tokio::sync::oneshot::channel();
        let unavailable = |detail: String| {
            Problem::new(
                crate::problem::ProblemKind::AuditUnavailable,
                format!("the decision could not be recorded, so it is not answered: {detail}"),
            )
        };
        self.queue
            .send(Pending { lines, done })
            .map_err(|_| unavailable("the writer has stopped".into()))?;
        written
            .await
            .map_err(|_| unavailable("the writer has stopped".into()))?
            .map_err(unavailable)
    }
}

impl AuditLog {
    /// Writes `decisions` without waiting (best effort: the shadow's lines,
    /// which no answer waits for). A line that cannot be queued is dropped.
    pub(crate) fn record_detached(&self, decisions: &[Decision<'_>]) {
        let mut lines = Vec::with_capacity(decisions.len() * 400);
        for decision in decisions {
            if serde_json::to_writer(&mut lines, decision).is_err() {
                return;
            }
            lines.push(b'\n');
        }
        let (done, _) = tokio::sync::oneshot::channel();
        let _ = self.queue.send(Pending { lines, done });
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_last_line_is_cut_off_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, b"{\"a\":1}\n{\"b\":2}\n{\"c\":").unwrap();
        let _log = AuditLog::open(&path, Some("0123456789abcdef"), false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
        std::fs::write(&path, b"no newline at all").unwrap();
        let _log = AuditLog::open(&path, Some("0123456789abcdef"), false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }

    #[test]
    fn a_salt_is_required_and_hashes_depend_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        assert!(matches!(AuditLog::open(&path, None, false), Err(AuditError::NoSalt)));
        assert!(matches!(
            AuditLog::open(&path, Some("short"), false),
            Err(AuditError::NoSalt)
        ));
        let a = AuditLog::open(&path, Some("0123456789abcdef"), false).unwrap();
        let b = AuditLog::open(&path, Some("fedcba9876543210"), false).unwrap();
        assert_eq!(a.case_hash("c-102"), a.case_hash("c-102"));
        assert_ne!(a.case_hash("c-102"), b.case_hash("c-102"));
        assert_eq!(a.case_hash("c-102").len(), 64);
        assert!(!a.case_hash("c-102").contains("c-102"));
    }
}
