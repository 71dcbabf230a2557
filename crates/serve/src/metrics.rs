//! Counters and histograms for `/metrics` (Prometheus text format 0.0.4).
//!
//! Written here rather than taken from the `prometheus` or
//! `metrics-exporter-prometheus` crates: the service needs a handful of
//! labelled counters and fixed-bucket histograms, which a mutex-guarded map
//! renders in a few lines, while those crates bring their own registries,
//! protobuf or HTTP stacks. No label ever holds a patient value: routes,
//! status codes, targets, model versions, flag, field and rule names only.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Upper bounds of the probability histogram.
const PROBABILITY_BUCKETS: [f64; 10] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
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

#[derive(Debug, Default)]
struct Inner {
    /// (metric name, label text) -> count.
    counters: BTreeMap<(&'static str, String), u64>,
    /// (metric name, label text) -> histogram.
    histograms: BTreeMap<(&'static str, String), Histogram>,
    /// Active model versions by target.
    models: BTreeMap<String, String>,
}

/// The service's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Help text and type of each metric.
const HELP: [(&str, &str, &str); 9] = [
    (
        "carescore_requests_total",
        "counter",
        "HTTP requests by route and status code.",
    ),
    (
        "carescore_request_duration_seconds",
        "histogram",
        "Request latency by route.",
    ),
    (
        "carescore_probability",
        "histogram",
        "Predicted probabilities by target.",
    ),
    ("carescore_flags_total", "counter", "Flags raised, by flag."),
    (
        "carescore_records_total",
        "counter",
        "Records received for scoring or grading, by outcome (valid, invalid).",
    ),
    (
        "carescore_field_missing_total",
        "counter",
        "Valid records without a value for an optional field, by field.",
    ),
    (
        "carescore_plausibility_warnings_total",
        "counter",
        "Plausibility warnings, by rule.",
    ),
    (
        "carescore_reloads_total",
        "counter",
        "Reloads by result (ok, failed, refused).",
    ),
    (
        "carescore_shed_total",
        "counter",
        "Requests refused with 503, by reason (overload, timeout).",
    ),
];

fn label(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(",")
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        // A poisoned lock only means a panic elsewhere mid-update: keep counting.
        let mut guard = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Adds `n` to counter `name` with `labels`.
    pub fn count(&self, name: &'static str, labels: &[(&str, &str)], n: u64) {
        self.with(|m| *m.counters.entry((name, label(labels))).or_default() += n);
    }

    /// Adds one to counter `name` for each of `values` as label `key`, under one lock.
    pub fn count_each<'a>(&self, name: &'static str, key: &str, values: impl IntoIterator<Item = &'a str>) {
        self.with(|m| {
            for value in values {
                *m.counters.entry((name, label(&[(key, value)]))).or_default() += 1;
            }
        });
    }

    /// One finished request.
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        self.with(|m| {
            *m.counters
                .entry((
                    "carescore_requests_total",
                    label(&[("route", route), ("status", &status)]),
                ))
                .or_default() += 1;
            m.histograms
                .entry(("carescore_request_duration_seconds", label(&[("route", route)])))
                .or_default()
                .observe(&LATENCY_BUCKETS, seconds);
        });
    }

    /// One predicted probability.
    pub fn probability(&self, target: &str, p: f64) {
        self.with(|m| {
            m.histograms
                .entry(("carescore_probability", label(&[("target", target)])))
                .or_default()
                .observe(&PROBABILITY_BUCKETS, p);
        });
    }

    /// Records the active model versions (`carescore_model_info`).
    pub fn set_models(&self, versions: impl IntoIterator<Item = (String, String)>) {
        self.with(|m| m.models = versions.into_iter().collect());
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            for (name, kind, help) in HELP {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
                let bounds: &[f64] = if name == "carescore_probability" {
                    &PROBABILITY_BUCKETS
                } else {
                    &LATENCY_BUCKETS
                };
                for ((metric, labels), value) in m.counters.range((name, String::new())..) {
                    if *metric != name {
                        break;
                    }
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
                for ((metric, labels), h) in m.histograms.range((name, String::new())..) {
                    if *metric != name {
                        break;
                    }
                    let sep = if labels.is_empty() { "" } else { "," };
                    for (bound, count) in bounds.iter().zip(&h.counts) {
                        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
                    }
                    let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", h.count);
                    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
                    let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
                }
            }
            let _ = writeln!(
                out,
                "# HELP carescore_model_info Active model version by target.\n# TYPE carescore_model_info gauge"
            );
            for (target, version) in &m.models {
                let _ = writeln!(
                    out,
                    "carescore_model_info{{{}}} 1",
                    label(&[("target", target), ("model_version", version)])
                );
            }
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_model_info() {
        let m = Metrics::default();
        m.request("/v1/score", 200, 0.003);
        m.request("/v1/score", 200, 0.2);
        m.request("/v1/score", 422, 0.001);
        m.probability("infection_180d", 0.27);
        m.count("carescore_flags_total", &[("flag", "early_intervention")], 1);
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
}
