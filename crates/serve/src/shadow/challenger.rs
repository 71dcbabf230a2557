//! The shadow challenger: a second model set (`--shadow-dir`) that scores
//! a share of the records after their answer has been computed, on a
//! thread of its own, never changing an answer.
//!
//! Shedding comes first: the shadow has a CPU budget, a share of one core
//! (`[monitoring] shadow_cpu_share`, default 5%), kept as a token bucket of
//! the time its scoring takes. While the budget is spent, records are shed
//! when they are offered (nothing is copied) until it has refilled; a full
//! queue sheds too. So however busy the service is, the shadow takes at
//! most that share of one core from the answers: under load most records
//! are shed, which `/v1/monitoring` and `carescore_shadow_records_total`
//! count. (Requests in flight are no signal: the service reads a request
//! only when a core is free for it, so the count stays near the number of
//! cores however many wait in the sockets.)
//!
//! A shadow set that cannot be loaded (at start or on reload) is reported
//! and skipped; the champion serves as before. On reload the directory is
//! read again; when the set changes, its comparison starts afresh.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use arc_swap::ArcSwapOption;
use carescore_core::scoring::{self, Models, Score, INFECTION, READMISSION};
use carescore_core::PatientRecord;

use super::comparison::Comparison;
use super::report::{ShadowModel, ShadowReport};
use crate::audit::{AuditLog, AuditRoute, Decision};
use crate::state::Live;

/// Records waiting for the shadow at most; more are shed.
const QUEUE: usize = 1024;

/// What happened to a record offered to the shadow (label `outcome` of
/// `carescore_shadow_records_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Scored by the shadow and compared.
    Scored,
    /// Not in the share the settings ask for.
    NotSampled,
    /// Shed: the shadow's CPU budget was spent.
    ShedBudget,
    /// Shed: the shadow's queue was full.
    ShedQueueFull,
    /// No shadow set could be loaded.
    NoShadow,
}

impl Outcome {
    /// Every outcome, in slot order.
    pub(crate) const ALL: [Outcome; 5] = [
        Outcome::Scored,
        Outcome::NotSampled,
        Outcome::ShedBudget,
        Outcome::ShedQueueFull,
        Outcome::NoShadow,
    ];

    /// The label value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Outcome::Scored => "scored",
            Outcome::NotSampled => "not_sampled",
            Outcome::ShedBudget => "shed_budget",
            Outcome::ShedQueueFull => "shed_queue_full",
            Outcome::NoShadow => "no_shadow",
        }
    }
}

/// The loaded shadow set.
#[derive(Debug)]
struct ShadowSet {
    models: Models,
    /// The built-in targets the directory has an artifact of (the others
    /// would be the embedded defaults, not a challenger).
    targets: Vec<&'static str>,
}

/// Most CPU time the budget can save up, in nanoseconds: a burst after a
/// quiet spell is scored in full up to this.
const BUDGET_CAP_NS: f64 = 200_000_000.0;

/// One record for the shadow, with what its audit line needs.
struct Job {
    live: Arc<Live>,
    record: PatientRecord,
    champion: Score,
    request_id: Arc<str>,
    key: Option<Arc<str>>,
    index: Option<usize>,
    audit: Option<AuditLog>,
}

/// The shadow challenger.
#[derive(Debug)]
pub struct Shadow {
    dir: PathBuf,
    share: f64,
    /// Share of one core the shadow may use.
    cpu_share: f64,
    /// When the shadow started; the budget's clock.
    started: Instant,
    /// Nanoseconds after `started` until which the budget is spent.
    spent_until_ns: AtomicU64,
    set: ArcSwapOption<ShadowSet>,
    error: Mutex<Option<String>>,
    queue: SyncSender<Job>,
    offered: AtomicU64,
    outcomes: [AtomicU64; 5],
    comparison: Mutex<(u64, Comparison)>,
}

impl Shadow {
    /// Loads the set in `dir` (a failure is reported, not returned) and
    /// starts its worker; `share` of the records (0 to 1) are offered to
    /// it, and it may use `cpu_share` of one core.
    pub(crate) fn start(dir: PathBuf, share: f64, cpu_share: f64, live: &Live) -> Arc<Shadow> {
        let (queue, jobs) = sync_channel(QUEUE);
        let shadow = Arc::new(Shadow {
            dir,
            share,
            cpu_share,
            started: Instant::now(),
            spent_until_ns: AtomicU64::new(0),
            set: ArcSwapOption::empty(),
            error: Mutex::new(None),
            queue,
            offered: AtomicU64::new(0),
            outcomes: Default::default(),
            comparison: Mutex::new((crate::monitoring::now_ms(), Comparison::default())),
        });
        shadow.reload(live);
        let weak = Arc::downgrade(&shadow);
        let spawned = std::thread::Builder::new()
            .name("shadow".into())
            .spawn(move || work(&weak, &jobs));
        if let Err(e) = spawned {
            *shadow.lock_error() = Some(format!("the shadow's thread could not start: {e}"));
        }
        shadow
    }

    fn lock_error(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.error.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_comparison(&self) -> std::sync::MutexGuard<'_, (u64, Comparison)> {
        self.comparison
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads the shadow directory again; the targets it has no artifact of
    /// are scored by `live`'s models (the champion's), so the shadow's tier,
    /// flags and audit lines differ from the champion's only by the
    /// challenger. On failure the previous set (if any) keeps running and the
    /// error is reported; the champion is never affected.
    pub(crate) fn reload(&self, live: &Live) {
        match crate::loading::from_dir(&self.dir) {
            Ok(loaded) => {
                let targets: Vec<&'static str> = [INFECTION, READMISSION]
                    .into_iter()
                    .filter(|t| !loaded.embedded_targets.contains(t))
                    .collect();
                if targets.is_empty() {
                    *self.lock_error() = Some(format!(
                        "{} has no artifact of a built-in target ({INFECTION}, {READMISSION})",
                        self.dir.display()
                    ));
                    return;
                }
                let pick = |i: usize| {
                    let (target, artifact) = loaded.models.iter()[i];
                    if targets.contains(&target) {
                        artifact.clone()
                    } else {
                        live.models.iter()[i].1.clone()
                    }
                };
                let models = match Models::new(pick(0), pick(1)) {
                    Ok(models) => models,
                    Err(e) => {
                        *self.lock_error() = Some(e.to_string());
                        return;
                    }
                };
                let checksums = |m: &Models| m.iter().into_iter().map(|(_, a)| a.sha256.clone()).collect::<Vec<_>>();
                let changed = self
                    .set
                    .load()
                    .as_ref()
                    .is_none_or(|old| checksums(&old.models) != checksums(&models));
                if changed {
                    *self.lock_comparison() = (crate::monitoring::now_ms(), Comparison::default());
                }
                self.set.store(Some(Arc::new(ShadowSet { models, targets })));
                *self.lock_error() = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the shadow set could not be loaded; the champion serves as before");
                *self.lock_error() = Some(e.to_string());
            }
        }
    }

    fn count(&self, outcome: Outcome) {
        if let Some(slot) = Outcome::ALL.iter().position(|o| *o == outcome) {
            self.outcomes[slot].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Nanoseconds since the shadow started.
    fn now_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Offers a scored record to the shadow: taken if it falls in the
    /// share, the CPU budget is not spent and the queue has room; otherwise
    /// counted as shed. Never waits.
    #[allow(clippy::too_many_arguments)] // each is a part of the audit line
    pub(crate) fn offer(
        &self,
        live: &Arc<Live>,
        record: &PatientRecord,
        champion: &Score,
        request_id: &Arc<str>,
        key: Option<&Arc<str>>,
        index: Option<usize>,
        audit: Option<&AuditLog>,
    ) {
        // The cheapest check first: under load most offers end here.
        if self.now_ns() < self.spent_until_ns.load(Ordering::Relaxed) {
            self.count(Outcome::ShedBudget);
            return;
        }
        let n = self.offered.fetch_add(1, Ordering::Relaxed);
        // Every record when the share is 1; otherwise those where the running share steps up.
        if ((n + 1) as f64 * self.share).floor() <= (n as f64 * self.share).floor() {
            self.count(Outcome::NotSampled);
            return;
        }
        if self.set.load().is_none() {
            self.count(Outcome::NoShadow);
            return;
        }
        let job = Job {
            live: live.clone(),
            record: record.clone(),
            champion: champion.clone(),
            request_id: request_id.clone(),
            key: key.cloned(),
            index,
            audit: audit.cloned(),
        };
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.count(Outcome::ShedQueueFull),
            Err(TrySendError::Disconnected(_)) => {
                // The worker is gone (it cannot restart): say so, and stop offering.
                *self.lock_error() = Some("the shadow's worker thread stopped; restart the service".into());
                self.set.store(None);
                self.count(Outcome::NoShadow);
            }
        }
    }

    /// Scores one queued record and compares it.
    fn score(&self, job: Job) {
        let Some(set) = self.set.load_full() else {
            self.count(Outcome::NoShadow);
            return;
        };
        let shadow = scoring::score(&set.models, &job.live.policy, &job.record, Vec::new());
        self.lock_comparison().1.add(&job.champion, &shadow, &set.targets);
        if let Some(audit) = &job.audit {
            // Only the challenger's own targets: the others are the embedded defaults, not a challenger.
            let own = || shadow.risks.iter().filter(|(t, _)| set.targets.contains(t));
            let decision = Decision {
                time_unix_ms: crate::audit::now_ms(),
                request_id: &job.request_id,
                key: job.key.as_deref(),
                route: AuditRoute::Shadow,
                index: job.index,
                case_id_sha256: Some(audit.case_hash(&shadow.case_id)),
                model_versions: own().map(|(t, r)| (*t, &*r.model_version)).collect(),
                model_sha256: own().map(|(t, r)| (*t, &*r.model_sha256)).collect(),
                policy_version: &shadow.policy_version,
                probabilities: own().map(|(t, r)| (*t, r.probability)).collect(),
                tier: Some(shadow.recommended_tier),
                flags: Some(&shadow.flags),
                declared_flags: None,
                risk_class: None,
            };
            audit.record_detached(&[decision]);
        }
        // Counted once its audit line is queued, so a reader who sees the count finds the line.
        self.count(Outcome::Scored);
    }

    /// Records offered so far, by outcome.
    pub(crate) fn outcomes(&self) -> [(Outcome, u64); 5] {
        [0, 1, 2, 3, 4].map(|i| (Outcome::ALL[i], self.outcomes[i].load(Ordering::Relaxed)))
    }

    /// Whether a shadow set is loaded.
    pub fn up(&self) -> bool {
        self.set.load().is_some()
    }

    /// The shadow's part of `GET /v1/monitoring`.
    pub(crate) fn report(&self) -> ShadowReport {
        let set = self.set.load_full();
        let models = set
            .as_ref()
            .map(|s| {
                s.models
                    .iter()
                    .into_iter()
                    .filter(|(t, _)| s.targets.contains(t))
                    .map(|(t, a)| ShadowModel {
                        target: t.to_string(),
                        model_version: a.model_version(),
                        model_sha256: a.sha256.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (since, comparison) = &*self.lock_comparison();
        let (targets, flag_rates) = comparison.report();
        ShadowReport {
            share: self.share,
            loaded: set.is_some(),
            error: self.lock_error().clone(),
            models,
            records: self
                .outcomes()
                .iter()
                .map(|(o, n)| (o.name().to_string(), *n))
                .collect(),
            comparing_since_unix_ms: *since,
            targets,
            flag_rates,
        }
    }
}

impl Shadow {
    /// Writes the shadow's series of `metric` (Prometheus text, no header).
    pub(crate) fn render(&self, metric: crate::metrics::Metric, out: &mut String) {
        use std::fmt::Write;
        let name = metric.name();
        match metric {
            crate::metrics::Metric::ShadowRecords => {
                for (outcome, n) in self.outcomes() {
                    let labels = crate::metrics::label(&[("outcome", outcome.name())]);
                    let _ = writeln!(out, "{name}{{{labels}}} {n}");
                }
            }
            crate::metrics::Metric::ShadowLoaded => {
                let _ = writeln!(out, "{name} {}", u8::from(self.up()));
            }
            _ => {}
        }
    }
}

/// The worker: scores queued records within the CPU budget until the shadow is dropped.
fn work(shadow: &Weak<Shadow>, jobs: &Receiver<Job>) {
    // The budget: nanoseconds of scoring the shadow may still spend.
    let mut tokens = BUDGET_CAP_NS;
    let mut last = Instant::now();
    while let Ok(job) = jobs.recv() {
        let Some(shadow) = shadow.upgrade() else {
            return;
        };
        let now = Instant::now();
        tokens = (tokens + now.duration_since(last).as_nanos() as f64 * shadow.cpu_share).min(BUDGET_CAP_NS);
        last = now;
        if tokens <= 0.0 {
            // Queued before the budget ran out: shed now, and hold new offers off.
            shadow.count(Outcome::ShedBudget);
            shadow.hold_off(tokens);
            continue;
        }
        shadow.score(job);
        tokens -= now.elapsed().as_nanos() as f64;
        if tokens <= 0.0 {
            shadow.hold_off(tokens);
        }
    }
}

/// Shortest hold-off once the budget is spent: offers are shed for at least
/// this long, so a spent budget never costs a copy of every record offered.
const MIN_HOLD_OFF_NS: f64 = 1_000_000.0;

impl Shadow {
    /// The budget is spent (`tokens` ≤ 0): offers are shed, without a copy
    /// of the record, until it has refilled.
    fn hold_off(&self, tokens: f64) {
        let refill_ns = (-tokens / self.cpu_share).max(MIN_HOLD_OFF_NS);
        self.spent_until_ns
            .store(self.now_ns().saturating_add(refill_ns as u64), Ordering::Relaxed);
    }
}
