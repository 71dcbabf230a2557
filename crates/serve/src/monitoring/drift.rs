//! One model's drift tracking: the counts of the current tumbling window
//! of live records in the bins of the model's reference distributions, and
//! what the last full window gave (PSI per feature and for the predicted
//! probability, against its threshold). Only bin counts are kept; a window
//! is closed by the request that fills it.

use std::sync::{Arc, Mutex};

use carescore_core::artifact::Row;
use carescore_core::drift::{psi, psi_threshold, Binning, DriftReference};
use carescore_core::{Field, ModelArtifact};

use super::now_ms;

/// What a full window gave for one statistic.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statistic {
    /// The PSI of the window against the reference.
    pub(crate) psi: f64,
    /// The threshold it is compared with.
    pub(crate) threshold: f64,
    /// The window's counts per bin.
    pub(crate) counts: Vec<u64>,
}

impl Statistic {
    /// Whether the PSI passed its threshold.
    pub(crate) fn alert(&self) -> bool {
        self.psi > self.threshold
    }
}

/// A full window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Window {
    /// Records in it.
    pub(crate) records: u64,
    /// When its first record arrived (Unix ms).
    pub(crate) from_ms: u64,
    /// When its last record arrived (Unix ms).
    pub(crate) to_ms: u64,
    /// Per feature with a reference, in the reference's order.
    pub(crate) features: Vec<Statistic>,
    /// The predicted probability's, when the artifact publishes its reference.
    pub(crate) probability: Option<Statistic>,
}

impl Window {
    /// Whether any statistic passed its threshold.
    pub(crate) fn alert(&self) -> bool {
        self.features.iter().chain(&self.probability).any(Statistic::alert)
    }
}

/// What the tracker has counted, under its lock.
#[derive(Debug)]
struct Counts {
    /// The current window's counts: every statistic's bins, one after the other.
    current: Vec<u64>,
    /// Records in the current window.
    records: u64,
    /// When the current window's first record arrived.
    started_ms: u64,
    /// Every full window's counts added up (what `/metrics` exports, so
    /// Prometheus can add replicas' windows).
    totals: Vec<u64>,
    /// Full windows, and those with an alert.
    windows: u64,
    alerting: u64,
    /// The last full window.
    last: Option<Arc<Window>>,
}

/// A snapshot of a tracker for reports and `/metrics`.
#[derive(Debug, Clone)]
pub(crate) struct DriftSnapshot {
    /// Records in the current window so far.
    pub(crate) records_in_window: u64,
    /// When the current window's first record arrived (none yet: `None`).
    pub(crate) window_started_ms: Option<u64>,
    /// Full windows so far, and those with an alert.
    pub(crate) windows: u64,
    /// Full windows in which any statistic passed its threshold.
    pub(crate) alerting_windows: u64,
    /// Every full window's counts added up, per statistic (features, then the probability).
    pub(crate) totals: Vec<Vec<u64>>,
    /// The last full window.
    pub(crate) last: Option<Arc<Window>>,
}

/// Drift tracking of one served model.
#[derive(Debug)]
pub(crate) struct ModelDrift {
    /// The model's target.
    pub(crate) target: String,
    /// `<target>@<version>`.
    pub(crate) model_version: String,
    /// The artifact's checksum: records scored by another artifact are not counted here.
    pub model_sha256: String,
    /// The reference distributions.
    pub(crate) reference: DriftReference,
    /// Each feature's record field, resolved once (none for a spec model's inputs).
    fields: Vec<Option<Field>>,
    /// Where each statistic's bins start in the counts (features, then the
    /// probability), with the total length last.
    offsets: Vec<usize>,
    /// Per statistic, the threshold for a full window.
    thresholds: Vec<f64>,
    /// Records per window.
    pub(crate) window: u64,
    /// When tracking of this model began (Unix ms).
    pub(crate) since_ms: u64,
    counts: Mutex<Counts>,
}

impl ModelDrift {
    /// Tracks `artifact` in windows of `window` records (at least 1).
    pub(crate) fn new(artifact: &ModelArtifact, window: u64) -> ModelDrift {
        let reference = DriftReference::of(artifact);
        let bins: Vec<&Binning> = reference
            .features
            .iter()
            .map(|f| &f.binning)
            .chain(&reference.probability)
            .collect();
        let k = bins.len();
        let mut offsets = vec![0];
        for b in &bins {
            offsets.push(offsets.last().copied().unwrap_or(0) + b.len());
        }
        let thresholds = bins
            .iter()
            .map(|b| psi_threshold(b.filled(), window, b.rows(), k))
            .collect();
        let fields = reference.features.iter().map(|f| Field::from_name(&f.name)).collect();
        let total = offsets.last().copied().unwrap_or(0);
        ModelDrift {
            target: artifact.target.clone(),
            model_version: artifact.model_version(),
            model_sha256: artifact.sha256.clone(),
            reference,
            fields,
            offsets,
            thresholds,
            window: window.max(1),
            since_ms: now_ms(),
            counts: Mutex::new(Counts {
                current: vec![0; total],
                records: 0,
                started_ms: 0,
                totals: vec![0; total],
                windows: 0,
                alerting: 0,
                last: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A poisoned lock only means a panic elsewhere mid-update: keep counting.
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the artifact publishes any reference to compare with.
    pub(crate) fn has_reference(&self) -> bool {
        !self.thresholds.is_empty()
    }

    /// Counts one live record and the probability the model gave it.
    pub(crate) fn observe(&self, row: &dyn Row, probability: f64) {
        if !self.has_reference() {
            return;
        }
        let features = &self.reference.features;
        let mut counts = self.lock();
        if counts.records == 0 {
            counts.started_ms = now_ms();
        }
        for (i, feature) in features.iter().enumerate() {
            let bin = feature.bin(row.resolved_value(self.fields[i], &feature.name));
            counts.current[self.offsets[i] + bin] += 1;
        }
        if let Some(p) = &self.reference.probability {
            let bin = p.of_number(Some(probability));
            counts.current[self.offsets[features.len()] + bin] += 1;
        }
        counts.records += 1;
        if counts.records >= self.window {
            self.close(&mut counts);
        }
    }

    /// Ends the current window: its statistics become the last window's.
    fn close(&self, counts: &mut Counts) {
        let statistic = |i: usize, binning: &Binning, current: &[u64]| {
            let live = &current[self.offsets[i]..self.offsets[i + 1]];
            Statistic {
                psi: psi(live, &binning.reference),
                threshold: self.thresholds[i],
                counts: live.to_vec(),
            }
        };
        let features = &self.reference.features;
        let window = Window {
            records: counts.records,
            from_ms: counts.started_ms,
            to_ms: now_ms(),
            features: features
                .iter()
                .enumerate()
                .map(|(i, f)| statistic(i, &f.binning, &counts.current))
                .collect(),
            probability: self
                .reference
                .probability
                .as_ref()
                .map(|p| statistic(features.len(), p, &counts.current)),
        };
        for (total, count) in counts.totals.iter_mut().zip(&mut counts.current) {
            *total += *count;
            *count = 0;
        }
        counts.windows += 1;
        counts.alerting += u64::from(window.alert());
        counts.records = 0;
        counts.last = Some(Arc::new(window));
    }

    /// What the tracker holds now.
    pub(crate) fn snapshot(&self) -> DriftSnapshot {
        let counts = self.lock();
        let totals = self
            .offsets
            .windows(2)
            .map(|w| counts.totals[w[0]..w[1]].to_vec())
            .collect();
        DriftSnapshot {
            records_in_window: counts.records,
            window_started_ms: (counts.records > 0).then_some(counts.started_ms),
            windows: counts.windows,
            alerting_windows: counts.alerting,
            totals,
            last: counts.last.clone(),
        }
    }

    /// The threshold of every statistic (features, then the probability).
    pub(crate) fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }
}
