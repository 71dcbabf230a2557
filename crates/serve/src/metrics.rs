//! Counters and histograms for `/metrics` (Prometheus text format 0.0.4).
//!
//! Written here rather than taken from the `prometheus` or
//! `metrics-exporter-prometheus` crates: the service needs a handful of
//! labelled counters and fixed-bucket histograms, while those crates bring
//! their own registries, protobuf or HTTP stacks. What every request updates
//! is laid out in atomics when the service starts, so the request path takes
//! no lock and builds no label string; rare series sit in a mutex-guarded
//! map. A model trained through a spec gets its series when it is loaded
//! (at start or on a reload), swapped in whole. No label ever holds a patient value: routes, status codes, targets,
//! model versions, flag, field and rule names only.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use carescore_core::policy::Flag;
use carescore_core::scoring::{INFECTION, READMISSION};
use carescore_core::Field;

use crate::routes::Route;

/// Declares the metrics with their type and help text.
macro_rules! metrics {
    ($( $(#[$doc:meta])* $metric:ident => $name:literal, $kind:literal, $help:literal; )+) => {
        /// A metric the service exports: each has its name, type and help
        /// text here, and `/metrics` prints every one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub(crate) enum Metric {
            $( $(#[$doc])* $metric, )+
        }

        impl Metric {
            /// Every metric, in the order `/metrics` prints them.
            pub(crate) const ALL: &'static [Metric] = &[$(Metric::$metric),+];

            /// The exported name.
            pub(crate) const fn name(self) -> &'static str {
                match self { $(Metric::$metric => $name),+ }
            }

            /// The Prometheus type.
            pub(crate) const fn kind(self) -> &'static str {
                match self { $(Metric::$metric => $kind),+ }
            }

            /// The help text.
            pub(crate) const fn help(self) -> &'static str {
                match self { $(Metric::$metric => $help),+ }
            }
        }
    };
}

metrics! {
    /// Requests by route and status.
    Requests => "carescore_requests_total", "counter", "HTTP requests by route and status code.";
    /// Latency by route.
    RequestDuration => "carescore_request_duration_seconds", "histogram", "Request latency by route.";
    /// Predicted probabilities by target.
    Probability => "carescore_probability", "histogram", "Predicted probabilities by target.";
    /// Flags raised.
    Flags => "carescore_flags_total", "counter",
        "Flags raised, by flag (and by target for the flags a spec model declared).";
    /// Records received, valid or not.
    Records => "carescore_records_total", "counter",
        "Records received for scoring or grading, and inputs of spec models, by outcome (valid, invalid).";
    /// Optional fields missing from valid records.
    FieldMissing => "carescore_field_missing_total", "counter",
        "Valid records without a value for an optional field, by field.";
    /// Plausibility warnings by rule.
    PlausibilityWarnings => "carescore_plausibility_warnings_total", "counter", "Plausibility warnings, by rule.";
    /// Reloads by result.
    Reloads => "carescore_reloads_total", "counter", "Reloads by result (ok, failed, refused).";
    /// Requests shed with 503.
    Shed => "carescore_shed_total", "counter", "Requests refused with 503, by reason (overload, timeout).";
    /// The active model versions.
    ModelInfo => "carescore_model_info", "gauge", "Active model version by target.";
    /// Live records per drift bin over full windows.
    DriftBins => "carescore_drift_bin_total", "counter",
        "Live records per reference bin over full drift windows, by target, feature and bin (feature (probability): the predicted probability).";
    /// The reference share of each drift bin.
    DriftReferenceShare => "carescore_drift_reference_share", "gauge",
        "Share of the training rows in each drift bin, by target, feature and bin.";
    /// PSI of the last full window.
    DriftPsi => "carescore_drift_psi", "gauge",
        "Population stability index of the last full drift window against the training data, by target and feature.";
    /// The PSI threshold of each statistic.
    DriftThreshold => "carescore_drift_psi_threshold", "gauge",
        "PSI above which a window is an alert (family-wise 5% per window), by target and feature.";
    /// Whether the last full window passed the threshold.
    DriftAlert => "carescore_drift_alert", "gauge",
        "1 when the last full drift window's PSI passed its threshold, by target and feature.";
    /// Full drift windows.
    DriftWindows => "carescore_drift_windows_total", "counter", "Full drift windows, by target.";
    /// Full drift windows with an alert.
    DriftAlertWindows => "carescore_drift_alert_windows_total", "counter",
        "Full drift windows in which any statistic passed its threshold, by target.";
    /// Records in the drift window under way.
    DriftWindowRecords => "carescore_drift_window_records", "gauge",
        "Records counted in the drift window under way, by target.";
    /// Scored records per patient group.
    GroupRecords => "carescore_group_records_total", "counter",
        "Scored records by grouping (organ, sex) and group, published 10 at a time.";
    /// Scored records with any flag per patient group.
    GroupFlagged => "carescore_group_flagged_total", "counter",
        "Scored records with any flag, by grouping and group.";
    /// Expected events (sum of predicted probabilities) per patient group.
    GroupExpectedEvents => "carescore_group_expected_events_total", "counter",
        "Expected events (the sum of predicted probabilities) by target, grouping and group; divided by carescore_group_records_total, the mean risk.";
    /// Records offered to the shadow challenger, by outcome.
    ShadowRecords => "carescore_shadow_records_total", "counter",
        "Scored records offered to the shadow challenger, by outcome (scored, not_sampled, shed_budget, shed_queue_full, no_shadow).";
    /// Whether a shadow set is loaded.
    ShadowLoaded => "carescore_shadow_loaded", "gauge",
        "1 when the shadow challenger's models are loaded, 0 when they could not be (only with --shadow-dir).";
    /// Records sent to programme views.
    ProgrammeRecords => "carescore_programme_records_total", "counter",
        "Records sent to POST /v1/programme, by outcome (valid: summarised, refused); not counted in carescore_records_total.";
    /// Underwriting grades by class.
    UnderwritingGrades => "carescore_underwriting_grades_total", "counter",
        "Underwriting grades by risk class, published 10 grades at a time.";
}

/// How a reload ended (label `result` of [`Metric::Reloads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadResult {
    /// The new set serves.
    Ok,
    /// A file was refused; the old set keeps serving.
    Failed,
    /// Nothing to reload (embedded models).
    Refused,
}

impl ReloadResult {
    fn label(self) -> &'static str {
        match self {
            ReloadResult::Ok => "ok",
            ReloadResult::Failed => "failed",
            ReloadResult::Refused => "refused",
        }
    }
}

/// Why a request was shed (label `reason` of [`Metric::Shed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShedReason {
    /// More requests in flight than allowed.
    Overload,
    /// The request took longer than allowed.
    Timeout,
}

impl ShedReason {
    fn label(self) -> &'static str {
        match self {
            ShedReason::Overload => "overload",
            ShedReason::Timeout => "timeout",
        }
    }
}

/// Upper bounds of the latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Upper bounds of the probability histogram.
const PROBABILITY_BUCKETS: [f64; 10] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0];

/// Status codes the service answers with, counted without a lock; any other
/// code is counted too, under the lock.
const STATUSES: [u16; 13] = [200, 400, 401, 403, 404, 405, 413, 415, 422, 429, 500, 503, 504];

/// Targets whose probabilities are counted without a lock.
const TARGETS: [&str; 2] = [INFECTION, READMISSION];

/// A histogram's cumulative view: what `/metrics` prints.
#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    /// Adds `other`'s counts (the same bounds) to these.
    fn merge(&mut self, other: &Histogram) {
        if self.counts.is_empty() {
            self.counts = vec![0; other.counts.len()];
        }
        for (count, more) in self.counts.iter_mut().zip(&other.counts) {
            *count += more;
        }
        self.sum += other.sum;
        self.count += other.count;
    }

    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; bounds.len()];
        }
        for (count, bound) in self.counts.iter_mut().zip(bounds) {
            if value <= *bound {
                *count += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }
}

/// Series keyed by (metric, label text).
type Series<T> = BTreeMap<(Metric, String), T>;

/// Series whose labels are not known up front (reloads, shedding,
/// plausibility rules, unexpected status codes): rare, kept under a lock.
#[derive(Debug, Default)]
struct Cold {
    counters: Series<u64>,
    histograms: Series<Histogram>,
    /// Active model versions by target.
    models: BTreeMap<String, String>,
}

/// Counters of one metric whose label sets are fixed when the service
/// starts: one atomic per label set, so the request path takes no lock and
/// allocates nothing.
#[derive(Debug)]
struct Counters {
    metric: Metric,
    labels: Vec<String>,
    counts: Vec<AtomicU64>,
}

impl Counters {
    fn new(metric: Metric, labels: Vec<String>) -> Counters {
        let counts = labels.iter().map(|_| AtomicU64::new(0)).collect();
        Counters { metric, labels, counts }
    }

    fn add(&self, slot: usize, n: u64) {
        self.counts[slot].fetch_add(n, Ordering::Relaxed);
    }

    /// Adds the series counted so far (a series appears once counted).
    fn snapshot_into(&self, counters: &mut Series<u64>) {
        for (labels, count) in self.labels.iter().zip(&self.counts) {
            let count = count.load(Ordering::Relaxed);
            if count > 0 {
                *counters.entry((self.metric, labels.clone())).or_default() += count;
            }
        }
    }
}

/// One histogram updated without a lock: a count per bucket (not
/// cumulative, so an observation touches one bucket) and the sum's bits.
#[derive(Debug)]
struct AtomicHistogram {
    /// Per bound, then one for values above the last bound.
    buckets: Vec<AtomicU64>,
    sum_bits: AtomicU64,
}

impl AtomicHistogram {
    fn new(bounds: usize) -> AtomicHistogram {
        AtomicHistogram {
            buckets: (0..=bounds).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    fn observe(&self, bounds: &[f64], value: f64) {
        let bucket = bounds.iter().position(|b| value <= *b).unwrap_or(bounds.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        // The closure always returns Some, so the update cannot fail.
        let _ = self
            .sum_bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
    }

    /// The cumulative view, or `None` before the first observation.
    fn snapshot(&self) -> Option<Histogram> {
        let mut counts = Vec::with_capacity(self.buckets.len());
        let mut total = 0;
        for bucket in &self.buckets {
            total += bucket.load(Ordering::Relaxed);
            counts.push(total);
        }
        // The +Inf bucket is the count, so buckets and count always agree.
        counts.pop();
        (total > 0).then(|| Histogram {
            counts,
            sum: f64::from_bits(self.sum_bits.load(Ordering::Relaxed)),
            count: total,
        })
    }
}

/// Histograms of one metric whose label sets are fixed when the service starts.
#[derive(Debug)]
struct Histograms {
    metric: Metric,
    bounds: &'static [f64],
    labels: Vec<String>,
    cells: Vec<AtomicHistogram>,
}

impl Histograms {
    fn new(metric: Metric, bounds: &'static [f64], labels: Vec<String>) -> Histograms {
        let cells = labels.iter().map(|_| AtomicHistogram::new(bounds.len())).collect();
        Histograms {
            metric,
            bounds,
            labels,
            cells,
        }
    }

    fn observe(&self, slot: usize, value: f64) {
        self.cells[slot].observe(self.bounds, value);
    }

    fn snapshot_into(&self, histograms: &mut Series<Histogram>) {
        for (labels, cell) in self.labels.iter().zip(&self.cells) {
            if let Some(h) = cell.snapshot() {
                histograms.insert((self.metric, labels.clone()), h);
            }
        }
    }
}

/// The series of one model trained through a spec: its probabilities and
/// the flags it declared, laid out when the model is first loaded.
#[derive(Debug)]
struct SpecSeries {
    probabilities: Arc<AtomicHistogram>,
    /// Name, label text and count of each declared flag (of every version
    /// loaded so far: a new version's series share the old counts).
    flags: Vec<(String, String, Arc<AtomicU64>)>,
}

/// The spec models' series by target. A reload that adds a model swaps in
/// a new map (keeping every series already counted), so the request path
/// reads it without a lock.
type SpecSeriesMap = BTreeMap<String, Arc<SpecSeries>>;

/// The service's metrics.
///
/// What every request updates (requests by route and status, latency,
/// records, missing fields, probabilities, flags) is counted in atomics laid
/// out when the service starts; the rest is counted under a lock.
#[derive(Debug)]
pub struct Metrics {
    requests: Counters,
    latency: Histograms,
    records: Counters,
    missing: Counters,
    probabilities: Histograms,
    flags: Counters,
    spec: ArcSwap<SpecSeriesMap>,
    cold: Mutex<Cold>,
}

/// The label text of `pairs` (`key="value"`, comma-separated, values escaped).
pub(crate) fn label(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Label texts `key="value"` for each of `values`.
fn labels_of<'a>(key: &str, values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    values.into_iter().map(|v| label(&[(key, v)])).collect()
}

/// Every route's label, in slot order (`other` last).
fn route_slots() -> impl Iterator<Item = &'static str> {
    Route::ALL.iter().map(|route| route.name())
}

impl Default for Metrics {
    fn default() -> Metrics {
        let requests = route_slots()
            .flat_map(|route| {
                STATUSES
                    .iter()
                    .map(move |status| label(&[("route", route), ("status", &status.to_string())]))
            })
            .collect();
        Metrics {
            requests: Counters::new(Metric::Requests, requests),
            latency: Histograms::new(
                Metric::RequestDuration,
                &LATENCY_BUCKETS,
                labels_of("route", route_slots()),
            ),
            records: Counters::new(Metric::Records, labels_of("outcome", ["valid", "invalid"])),
            missing: Counters::new(
                Metric::FieldMissing,
                labels_of("field", Field::ALL.iter().map(|f| f.name())),
            ),
            probabilities: Histograms::new(Metric::Probability, &PROBABILITY_BUCKETS, labels_of("target", TARGETS)),
            flags: Counters::new(Metric::Flags, labels_of("flag", Flag::ALL.map(Flag::as_str))),
            spec: ArcSwap::default(),
            cold: Mutex::default(),
        }
    }
}

impl Metrics {
    fn cold<T>(&self, f: impl FnOnce(&mut Cold) -> T) -> T {
        // A poisoned lock only means a panic elsewhere mid-update: keep counting.
        let mut guard = self.cold.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Adds `n` to counter `metric` with `labels` (under the lock: for rare events).
    fn count(&self, metric: Metric, labels: &[(&str, &str)], n: u64) {
        self.cold(|m| *m.counters.entry((metric, label(labels))).or_default() += n);
    }

    /// The records of one programme view: valid (summarised) and refused.
    pub fn programme_records(&self, valid: usize, refused: usize) {
        self.count(Metric::ProgrammeRecords, &[("outcome", "valid")], valid as u64);
        self.count(Metric::ProgrammeRecords, &[("outcome", "refused")], refused as u64);
    }

    /// A reload and how it ended.
    pub fn reload(&self, result: ReloadResult) {
        self.count(Metric::Reloads, &[("result", result.label())], 1);
    }

    /// A request shed with 503, and why.
    pub fn shed(&self, reason: ShedReason) {
        self.count(Metric::Shed, &[("reason", reason.label())], 1);
    }

    /// The plausibility warnings of one record, by rule (one lock for all; none taken without warnings).
    pub fn plausibility_warnings<'a>(&self, rules: impl IntoIterator<Item = &'a str>) {
        let mut rules = rules.into_iter().peekable();
        if rules.peek().is_none() {
            return;
        }
        self.cold(|m| {
            for rule in rules {
                *m.counters
                    .entry((Metric::PlausibilityWarnings, label(&[("rule", rule)])))
                    .or_default() += 1;
            }
        });
    }

    /// One finished request on `route`.
    pub fn request(&self, route: Route, status: u16, seconds: f64) {
        self.latency.observe(route.slot(), seconds);
        match STATUSES.iter().position(|s| *s == status) {
            Some(s) => self.requests.add(route.slot() * STATUSES.len() + s, 1),
            None => self.count(
                Metric::Requests,
                &[("route", route.name()), ("status", &status.to_string())],
                1,
            ),
        }
    }

    /// One record received: valid or not.
    pub fn record(&self, valid: bool) {
        self.records.add(usize::from(!valid), 1);
    }

    /// A valid record without a value for `field`.
    pub fn missing(&self, field: Field) {
        self.missing.add(field as usize, 1);
    }

    /// A flag raised.
    pub fn flag(&self, flag: Flag) {
        match Flag::ALL.iter().position(|f| *f == flag) {
            Some(slot) => self.flags.add(slot, 1),
            // A flag missing from `Flag::ALL` is still counted under its own name.
            None => self.count(Metric::Flags, &[("flag", flag.as_str())], 1),
        }
    }

    /// One predicted probability.
    pub fn probability(&self, target: &str, p: f64) {
        match TARGETS.iter().position(|t| *t == target) {
            Some(slot) => self.probabilities.observe(slot, p),
            None => self.cold(|m| {
                m.histograms
                    .entry((Metric::Probability, label(&[("target", target)])))
                    .or_default()
                    .observe(&PROBABILITY_BUCKETS, p);
            }),
        }
    }

    /// Records the active model versions (`carescore_model_info`).
    pub fn set_models(&self, versions: impl IntoIterator<Item = (String, String)>) {
        self.cold(|m| m.models = versions.into_iter().collect());
    }

    /// Lays out the series of the spec models `flags` names (target and
    /// declared flag names) that have none yet; every series already
    /// counted stays, so no counter goes back on a reload. Called at start
    /// and on reload, under the lock so two reloads cannot lose a series.
    pub fn add_spec_models<'a>(&self, models: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>) {
        self.cold(|_| {
            let mut map = SpecSeriesMap::clone(&self.spec.load());
            for (target, flags) in models {
                let old = map.get(target);
                let known = |flag: &str| old.is_some_and(|o| o.flags.iter().any(|(f, _, _)| f == flag));
                if old.is_some() && flags.iter().all(|f| known(f)) {
                    continue;
                }
                // A new model, or a new version declaring new flags: the
                // existing counters carry on, the new flags get their own.
                let mut series = SpecSeries {
                    probabilities: old.map_or_else(
                        || Arc::new(AtomicHistogram::new(PROBABILITY_BUCKETS.len())),
                        |o| o.probabilities.clone(),
                    ),
                    flags: old.map(|o| o.flags.clone()).unwrap_or_default(),
                };
                for flag in flags.into_iter().filter(|f| !known(f)) {
                    let labels = label(&[("flag", flag), ("target", target)]);
                    series
                        .flags
                        .push((flag.to_string(), labels, Arc::new(AtomicU64::new(0))));
                }
                map.insert(target.to_string(), Arc::new(series));
            }
            self.spec.store(Arc::new(map));
        });
    }

    /// A spec model's probability and the flags it raised.
    pub fn spec_score(&self, target: &str, p: f64, flags: &[String]) {
        let map = self.spec.load();
        let Some(series) = map.get(target) else {
            // A model loaded without its series (not through `add_spec_models`): counted under the lock.
            self.probability(target, p);
            for flag in flags {
                self.count(Metric::Flags, &[("flag", flag), ("target", target)], 1);
            }
            return;
        };
        series.probabilities.observe(&PROBABILITY_BUCKETS, p);
        for flag in flags {
            match series.flags.iter().find(|(name, _, _)| name == flag) {
                Some((_, _, count)) => {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                None => self.count(Metric::Flags, &[("flag", flag), ("target", target)], 1),
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.render_with(|_, _| {})
    }

    /// The Prometheus text exposition, with the series `extra` writes for
    /// each metric after that metric's own (the monitor's, which it holds itself).
    pub(crate) fn render_with(&self, extra: impl Fn(Metric, &mut String)) -> String {
        let (mut counters, mut histograms, models) =
            self.cold(|m| (m.counters.clone(), m.histograms.clone(), m.models.clone()));
        for family in [&self.requests, &self.records, &self.missing, &self.flags] {
            family.snapshot_into(&mut counters);
        }
        for family in [&self.latency, &self.probabilities] {
            family.snapshot_into(&mut histograms);
        }
        for (target, series) in self.spec.load().iter() {
            if let Some(h) = series.probabilities.snapshot() {
                // Merged with what a request counted under the lock while its
                // model's series were not laid out yet.
                histograms
                    .entry((Metric::Probability, label(&[("target", target)])))
                    .or_default()
                    .merge(&h);
            }
            for (_, labels, count) in &series.flags {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    *counters.entry((Metric::Flags, labels.clone())).or_default() += count;
                }
            }
        }
        let mut out = String::new();
        for metric in Metric::ALL.iter().copied() {
            let (name, kind, help) = (metric.name(), metric.kind(), metric.help());
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            if metric == Metric::ModelInfo {
                for (target, version) in &models {
                    let labels = label(&[("target", target), ("model_version", version)]);
                    let _ = writeln!(out, "{name}{{{labels}}} 1");
                }
                continue;
            }
            extra(metric, &mut out);
            let bounds: &[f64] = if metric == Metric::Probability {
                &PROBABILITY_BUCKETS
            } else {
                &LATENCY_BUCKETS
            };
            for ((_, labels), value) in counters
                .range((metric, String::new())..)
                .take_while(|((m, _), _)| *m == metric)
            {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
            for ((_, labels), h) in histograms
                .range((metric, String::new())..)
                .take_while(|((m, _), _)| *m == metric)
            {
                let sep = if labels.is_empty() { "" } else { "," };
                for (bound, count) in bounds.iter().zip(&h.counts) {
                    let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
                }
                let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_model_info() {
        let m = Metrics::default();
        m.request(Route::of("/v1/score"), 200, 0.003);
        m.request(Route::of("/v1/score"), 200, 0.2);
        m.request(Route::of("/v1/score"), 422, 0.001);
        m.probability("infection_180d", 0.27);
        m.flag(Flag::EarlyIntervention);
        m.set_models([("infection_180d".to_string(), "infection_180d@3".to_string())]);
        let text = m.render();
        assert!(
            text.contains("carescore_requests_total{route=\"/v1/score\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("carescore_requests_total{route=\"/v1/score\",status=\"422\"} 1"));
        assert!(text.contains("carescore_request_duration_seconds_bucket{route=\"/v1/score\",le=\"0.005\"} 2"));
        assert!(text.contains("carescore_request_duration_seconds_bucket{route=\"/v1/score\",le=\"+Inf\"} 3"));
        assert!(text.contains("carescore_probability_bucket{target=\"infection_180d\",le=\"0.25\"} 0"));
        assert!(text.contains("carescore_probability_bucket{target=\"infection_180d\",le=\"0.3\"} 1"));
        assert!(text.contains("carescore_flags_total{flag=\"early_intervention\"} 1"));
        assert!(text.contains("carescore_model_info{target=\"infection_180d\",model_version=\"infection_180d@3\"} 1"));
        assert!(text.contains("# TYPE carescore_reloads_total counter"));
    }

    #[test]
    fn lock_free_and_locked_series_render_as_one() {
        let m = Metrics::default();
        m.flag(Flag::TierUpgrade);
        m.count(Metric::Flags, &[("flag", "tier_upgrade")], 2);
        m.request(Route::of("/v1/score"), 418, 0.001);
        m.request(Route::of("/nowhere"), 200, 9.0);
        m.record(true);
        m.record(false);
        m.missing(Field::Bmi);
        m.probability("another_target", 0.5);
        let text = m.render();
        assert!(
            text.contains("carescore_flags_total{flag=\"tier_upgrade\"} 3"),
            "{text}"
        );
        assert!(text.contains("carescore_requests_total{route=\"/v1/score\",status=\"418\"} 1"));
        assert!(text.contains("carescore_requests_total{route=\"other\",status=\"200\"} 1"));
        // Above the last bound: only in +Inf, which is the count.
        assert!(text.contains("carescore_request_duration_seconds_bucket{route=\"other\",le=\"2.5\"} 0"));
        assert!(text.contains("carescore_request_duration_seconds_bucket{route=\"other\",le=\"+Inf\"} 1"));
        assert!(text.contains("carescore_request_duration_seconds_sum{route=\"other\"} 9"));
        assert!(text.contains("carescore_records_total{outcome=\"valid\"} 1"));
        assert!(text.contains("carescore_records_total{outcome=\"invalid\"} 1"));
        assert!(text.contains("carescore_field_missing_total{field=\"bmi\"} 1"));
        assert!(text.contains("carescore_probability_count{target=\"another_target\"} 1"));
        // Series never counted are not listed.
        assert!(!text.contains("mental_health_urgent"));
        assert!(!text.contains("status=\"504\""));
    }

    #[test]
    fn every_metric_is_exported_with_its_series() {
        let m = Metrics::default();
        m.reload(ReloadResult::Ok);
        m.reload(ReloadResult::Refused);
        m.shed(ShedReason::Timeout);
        m.plausibility_warnings(["bmi_extreme", "bmi_extreme"]);
        m.plausibility_warnings([]);
        let text = m.render();
        for metric in Metric::ALL {
            let header = format!(
                "# HELP {} {}\n# TYPE {} {}\n",
                metric.name(),
                metric.help(),
                metric.name(),
                metric.kind()
            );
            assert!(text.contains(&header), "{metric:?} is not exported:\n{text}");
        }
        assert!(text.contains("carescore_reloads_total{result=\"ok\"} 1"), "{text}");
        assert!(text.contains("carescore_reloads_total{result=\"refused\"} 1"));
        assert!(text.contains("carescore_shed_total{reason=\"timeout\"} 1"));
        assert!(text.contains("carescore_plausibility_warnings_total{rule=\"bmi_extreme\"} 2"));
    }

    #[test]
    fn spec_models_get_their_series_on_load_and_keep_them_on_reload() {
        let m = Metrics::default();
        m.add_spec_models([("graft_loss", vec!["early"])]);
        m.spec_score("graft_loss", 0.3, &["early".to_string()]);
        m.add_spec_models([("graft_loss", vec!["early"]), ("sepsis", vec![])]);
        m.spec_score("graft_loss", 0.1, &[]);
        m.spec_score("sepsis", 0.6, &[]);
        let text = m.render();
        assert!(
            text.contains("carescore_probability_count{target=\"graft_loss\"} 2"),
            "{text}"
        );
        assert!(text.contains("carescore_probability_bucket{target=\"graft_loss\",le=\"0.1\"} 1"));
        assert!(text.contains("carescore_flags_total{flag=\"early\",target=\"graft_loss\"} 1"));
        assert!(text.contains("carescore_probability_count{target=\"sepsis\"} 1"));
        // A flag the first version did not declare is still counted.
        m.spec_score("graft_loss", 0.9, &["late".to_string()]);
        assert!(m
            .render()
            .contains("carescore_flags_total{flag=\"late\",target=\"graft_loss\"} 1"));
    }

    #[test]
    fn the_alert_rules_name_only_exported_metrics() {
        let rules = include_str!("../../../deploy/prometheus/carescore-alerts.yml");
        let names: Vec<&str> = rules
            .match_indices("carescore_")
            .map(|(at, _)| {
                let rest = &rules[at..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .collect();
        assert!(names.len() >= 8, "{names:?}");
        for name in names {
            assert!(
                Metric::ALL.iter().any(|m| m.name() == name),
                "the alert rules use {name}, which /metrics does not export"
            );
        }
    }

    #[test]
    fn counts_from_many_threads_are_all_kept() {
        let m = std::sync::Arc::new(Metrics::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        m.request(Route::of("/v1/score"), 200, 0.25);
                        m.probability(INFECTION, 0.5);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = m.render();
        assert!(text.contains("carescore_requests_total{route=\"/v1/score\",status=\"200\"} 4000"));
        assert!(text.contains("carescore_request_duration_seconds_sum{route=\"/v1/score\"} 1000"));
        assert!(text.contains("carescore_probability_bucket{target=\"infection_180d\",le=\"0.5\"} 4000"));
    }
}
