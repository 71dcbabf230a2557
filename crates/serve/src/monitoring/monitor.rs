//! The service's monitor: one drift tracker per served model (rebuilt for
//! a model a reload changes, kept for one it does not), the group figures,
//! and how both are reported (`GET /v1/monitoring`) and exported
//! (`/metrics`).

use std::fmt::Write;
use std::sync::Arc;

use arc_swap::ArcSwap;
use carescore_core::artifact::Row;
use carescore_core::drift::{Binning, FAMILY_ALPHA, PSEUDO_COUNT};
use carescore_core::policy::RiskClass;
use carescore_core::scoring::Score;
use carescore_core::{ModelArtifact, PatientRecord};

use super::drift::{DriftSnapshot, ModelDrift, Statistic};
use super::groups::{GroupFigures, Groups, GROUP_TARGETS, MIN_GROUP_RECORDS};
use super::report::{
    BinReport, GroupReport, ModelMonitoring, MonitoringReport, StatisticReport, UnderwritingMix, WindowReport,
};
use super::{now_ms, PROBABILITY_STATISTIC};
use crate::metrics::{label, Metric};

/// Drift tracking and group figures of one replica.
#[derive(Debug)]
pub struct Monitor {
    /// Records per window; 0 turns drift tracking off.
    window: u64,
    /// One tracker per served model.
    models: ArcSwap<Vec<Arc<ModelDrift>>>,
    groups: Groups,
    since_ms: u64,
}

impl Monitor {
    /// A monitor with windows of `window` records (0: no drift tracking).
    pub fn new(window: u64) -> Monitor {
        Monitor {
            window,
            models: ArcSwap::default(),
            groups: Groups::default(),
            since_ms: now_ms(),
        }
    }

    /// Tracks the served `artifacts`: a model already tracked (the same
    /// checksum) keeps its windows; a new one starts afresh.
    pub fn track<'a>(&self, artifacts: impl IntoIterator<Item = &'a ModelArtifact>) {
        if self.window == 0 {
            return;
        }
        let old = self.models.load();
        let models = artifacts
            .into_iter()
            .map(|artifact| {
                old.iter()
                    .find(|m| m.model_sha256 == artifact.sha256 && m.target == artifact.target)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(ModelDrift::new(artifact, self.window)))
            })
            .collect();
        self.models.store(Arc::new(models));
    }

    /// Counts one live input of the model `target` whose checksum is
    /// `sha256` (a request answered by a model a reload has since replaced
    /// is not counted), and the probability it gave.
    pub fn observe(&self, target: &str, sha256: &str, row: &dyn Row, probability: f64) {
        if let Some(model) = self
            .models
            .load()
            .iter()
            .find(|m| m.target == target && m.model_sha256 == sha256)
        {
            model.observe(row, probability);
        }
    }

    /// Counts a scored patient record: each built-in model's drift, and the record's groups.
    pub fn score(&self, record: &PatientRecord, score: &Score) {
        for (target, risk) in &score.risks {
            self.observe(target, &risk.model_sha256, record, risk.probability);
        }
        self.groups.score(record, score);
    }

    /// Counts an underwriting grade.
    pub fn grade(&self, class: RiskClass) {
        self.groups.grade(class);
    }

    /// The report of `GET /v1/monitoring`.
    pub(crate) fn report(&self) -> MonitoringReport {
        let models = self.models.load().iter().map(|m| model_report(m)).collect();
        let groups = self
            .groups
            .figures()
            .into_iter()
            .map(|g| {
                let shown = g.records >= MIN_GROUP_RECORDS;
                GroupReport {
                    grouping: g.grouping.name().to_string(),
                    value: g.value.to_string(),
                    records: g.records,
                    flag_rate: shown.then(|| g.flagged as f64 / g.records as f64),
                    mean_probability: GROUP_TARGETS
                        .iter()
                        .zip(g.probability)
                        .filter(|(_, (n, _))| *n >= MIN_GROUP_RECORDS)
                        .map(|(t, (n, sum))| (t.to_string(), sum / n as f64))
                        .collect(),
                }
            })
            .collect();
        let classes = self.groups.classes();
        let grades: u64 = classes.iter().map(|(_, n)| n).sum();
        let shares = if grades >= MIN_GROUP_RECORDS {
            classes
                .iter()
                .map(|(c, n)| (c.as_str().to_string(), *n as f64 / grades as f64))
                .collect()
        } else {
            Default::default()
        };
        MonitoringReport {
            window_records: self.window,
            pseudo_count: PSEUDO_COUNT,
            family_alpha: FAMILY_ALPHA,
            since_unix_ms: self.since_ms,
            models,
            groups,
            underwriting: UnderwritingMix { grades, shares },
            shadow: None,
        }
    }

    /// What `/metrics` prints of this monitor, read once, so that every
    /// series of one exposition comes from the same windows and counts.
    pub(crate) fn view(&self) -> MonitorView {
        MonitorView {
            models: self.models.load().iter().map(|m| (m.clone(), m.snapshot())).collect(),
            groups: self.groups.figures(),
            classes: self.groups.classes(),
        }
    }
}

/// The monitor as read once for one `/metrics` exposition.
pub(crate) struct MonitorView {
    models: Vec<(Arc<ModelDrift>, DriftSnapshot)>,
    groups: Vec<GroupFigures>,
    classes: [(RiskClass, u64); 4],
}

impl MonitorView {
    /// Writes the series of `metric` (Prometheus text, no header).
    pub(crate) fn render(&self, metric: Metric, out: &mut String) {
        let name = metric.name();
        match metric {
            Metric::DriftBins
            | Metric::DriftReferenceShare
            | Metric::DriftPsi
            | Metric::DriftThreshold
            | Metric::DriftAlert => {
                for (model, snapshot) in &self.models {
                    render_drift(model, snapshot, metric, out);
                }
            }
            Metric::DriftWindows | Metric::DriftAlertWindows | Metric::DriftWindowRecords => {
                for (model, s) in &self.models {
                    let value = match metric {
                        Metric::DriftWindows => s.windows,
                        Metric::DriftAlertWindows => s.alerting_windows,
                        _ => s.records_in_window,
                    };
                    let _ = writeln!(out, "{name}{{{}}} {value}", label(&[("target", &model.target)]));
                }
            }
            Metric::GroupRecords | Metric::GroupFlagged | Metric::GroupExpectedEvents => {
                for g in self.groups.iter().filter(|g| g.records >= MIN_GROUP_RECORDS) {
                    let group = [("grouping", g.grouping.name()), ("group", g.value)];
                    match metric {
                        Metric::GroupRecords => {
                            let _ = writeln!(out, "{name}{{{}}} {}", label(&group), g.records);
                        }
                        Metric::GroupFlagged => {
                            let _ = writeln!(out, "{name}{{{}}} {}", label(&group), g.flagged);
                        }
                        _ => {
                            for (target, (_, sum)) in GROUP_TARGETS.iter().zip(g.probability) {
                                let labels = label(&[("target", target), group[0], group[1]]);
                                let _ = writeln!(out, "{name}{{{labels}}} {sum}");
                            }
                        }
                    }
                }
            }
            Metric::UnderwritingGrades => {
                let classes = self.classes;
                if classes.iter().map(|(_, n)| n).sum::<u64>() >= MIN_GROUP_RECORDS {
                    for (class, n) in classes {
                        let _ = writeln!(out, "{name}{{{}}} {n}", label(&[("risk_class", class.as_str())]));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Each statistic's name and bins: the features, then the probability.
fn statistics(model: &ModelDrift) -> Vec<(&str, &Binning)> {
    let reference = &model.reference;
    reference
        .features
        .iter()
        .map(|f| (f.name.as_str(), &f.binning))
        .chain(reference.probability.iter().map(|p| (PROBABILITY_STATISTIC, p)))
        .collect()
}

fn render_drift(model: &ModelDrift, snapshot: &DriftSnapshot, metric: Metric, out: &mut String) {
    let name = metric.name();
    let last = snapshot.last.as_deref();
    let last_statistics: Vec<&Statistic> = last
        .map(|w| w.features.iter().chain(&w.probability).collect())
        .unwrap_or_default();
    for (i, (feature, binning)) in statistics(model).into_iter().enumerate() {
        let series = [("target", model.target.as_str()), ("feature", feature)];
        match metric {
            Metric::DriftBins | Metric::DriftReferenceShare => {
                let rows = binning.rows().max(1) as f64;
                for (b, bin) in binning.labels.iter().enumerate() {
                    let labels = label(&[series[0], series[1], ("bin", bin)]);
                    if metric == Metric::DriftBins {
                        let count = snapshot.totals.get(i).and_then(|t| t.get(b)).copied().unwrap_or(0);
                        let _ = writeln!(out, "{name}{{{labels}}} {count}");
                    } else {
                        let _ = writeln!(out, "{name}{{{labels}}} {}", binning.reference[b] as f64 / rows);
                    }
                }
            }
            Metric::DriftThreshold => {
                let _ = writeln!(out, "{name}{{{}}} {}", label(&series), model.thresholds()[i]);
            }
            Metric::DriftPsi | Metric::DriftAlert => {
                if let Some(statistic) = last_statistics.get(i) {
                    let value = if metric == Metric::DriftPsi {
                        statistic.psi
                    } else {
                        f64::from(u8::from(statistic.alert()))
                    };
                    let _ = writeln!(out, "{name}{{{}}} {value}", label(&series));
                }
            }
            _ => {}
        }
    }
}

fn statistic_report(feature: &str, binning: &Binning, statistic: &Statistic) -> StatisticReport {
    let rows = binning.rows().max(1) as f64;
    let live: u64 = statistic.counts.iter().sum();
    StatisticReport {
        feature: feature.to_string(),
        psi: statistic.psi,
        threshold: statistic.threshold,
        alert: statistic.alert(),
        bins: binning
            .labels
            .iter()
            .zip(&binning.reference)
            .zip(&statistic.counts)
            .map(|((bin, reference), count)| BinReport {
                bin: bin.clone(),
                reference_share: *reference as f64 / rows,
                live_share: *count as f64 / live.max(1) as f64,
            })
            .collect(),
    }
}

fn model_report(model: &ModelDrift) -> ModelMonitoring {
    let snapshot = model.snapshot();
    let last_window = snapshot.last.as_deref().map(|w| {
        let features: Vec<StatisticReport> = model
            .reference
            .features
            .iter()
            .zip(&w.features)
            .map(|(f, s)| statistic_report(&f.name, &f.binning, s))
            .collect();
        let probability = model
            .reference
            .probability
            .as_ref()
            .zip(w.probability.as_ref())
            .map(|(b, s)| statistic_report(PROBABILITY_STATISTIC, b, s));
        WindowReport {
            records: w.records,
            from_unix_ms: w.from_ms,
            to_unix_ms: w.to_ms,
            alert: w.alert(),
            alerts: features
                .iter()
                .chain(&probability)
                .filter(|s| s.alert)
                .map(|s| s.feature.clone())
                .collect(),
            features,
            probability,
        }
    });
    ModelMonitoring {
        target: model.target.clone(),
        model_version: model.model_version.clone(),
        model_sha256: model.model_sha256.clone(),
        tracking_since_unix_ms: model.since_ms,
        reference_published: model.has_reference(),
        statistics: model.thresholds().len(),
        current_window_records: snapshot.records_in_window,
        current_window_started_unix_ms: snapshot.window_started_ms,
        windows_completed: snapshot.windows,
        windows_with_alert: snapshot.alerting_windows,
        last_window,
    }
}
