//! Drift tracking end to end: the embedded models, a synthetic cohort the
//! models were not trained on, windows of 500 records sent through the
//! batch route, and what `GET /v1/monitoring` and `/metrics` report.
//!
//! - Twenty windows of unshifted records: at most two raise any alert (the
//!   thresholds hold the family-wise rate at 5% per window).
//! - A window of records shifted within their allowed ranges (every
//!   patient a lung recipient, eGFR × 0.6, tacrolimus × 1.24) alerts on
//!   exactly those features of each model that reads them, and on no other.
//!
//! Run with `--nocapture` for the figures.

use std::collections::BTreeSet;

use carescore_core::{Organ, PatientRecord};
use carescore_e2e::{http_get, post_json, start_default_service};
use serde_json::Value;

/// Records per window (the service's default).
const WINDOW: usize = 500;

/// The features the shift changes.
const SHIFTED: [&str; 3] = ["organ", "egfr_ml_min", "tacrolimus_trough_ng_ml"];

/// Valid synthetic records in a seeded shuffled order.
fn records(rows: usize, seed: u64) -> Vec<PatientRecord> {
    carescore_e2e::synthetic_rows(rows, seed)
        .into_iter()
        .map(|row| row.record)
        .collect()
}

/// Sends one window of records and returns the monitoring report after it.
async fn send_window(address: std::net::SocketAddr, window: &[PatientRecord]) -> Value {
    let body = serde_json::json!({ "records": window }).to_string();
    let reply = post_json(address, "/v1/score/batch", &body).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["failed"], 0, "every record is valid");
    let (status, text) = http_get(address, "/v1/monitoring").await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// One model's last full window: its target, its alerts, and every statistic's (name, psi, threshold).
type LastWindow = (String, BTreeSet<String>, Vec<(String, f64, f64)>);

/// Per model, its last full window.
fn last_windows(report: &Value) -> Vec<LastWindow> {
    report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let window = &m["last_window"];
            let alerts = window["alerts"]
                .as_array()
                .expect("a full window")
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            let statistics = window["features"]
                .as_array()
                .unwrap()
                .iter()
                .chain(std::iter::once(&window["probability"]))
                .map(|s| {
                    (
                        s["feature"].as_str().unwrap().to_string(),
                        s["psi"].as_f64().unwrap(),
                        s["threshold"].as_f64().unwrap(),
                    )
                })
                .collect();
            (m["target"].as_str().unwrap().to_string(), alerts, statistics)
        })
        .collect()
}

#[tokio::test]
async fn shifted_inputs_alert_on_their_features_and_unshifted_ones_rarely_alert() {
    let address = start_default_service().await;
    let records = records(80_000, 2_026);
    assert!(records.len() >= 22 * WINDOW, "{} valid records", records.len());
    let (unshifted, rest) = records.split_at(20 * WINDOW);

    let mut alerting = 0;
    let mut worst = Vec::new();
    for (w, window) in unshifted.chunks(WINDOW).enumerate() {
        let report = send_window(address, window).await;
        let models = last_windows(&report);
        assert_eq!(models.len(), 2, "both built-in models are tracked");
        if models.iter().any(|(_, alerts, _)| !alerts.is_empty()) {
            alerting += 1;
            eprintln!(
                "unshifted window {w}: alerts {:?}",
                models.iter().map(|m| &m.1).collect::<Vec<_>>()
            );
        }
        for (target, _, statistics) in &models {
            for (feature, psi, threshold) in statistics {
                worst.push((psi / threshold, target.clone(), feature.clone(), *psi, *threshold));
            }
        }
    }
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    eprintln!("unshifted: {alerting} of 20 windows with any alert; highest PSI / threshold:");
    for (ratio, target, feature, psi, threshold) in worst.iter().take(5) {
        eprintln!("  {target} {feature}: psi {psi:.4} threshold {threshold:.4} ({ratio:.2})");
    }
    assert!(alerting <= 2, "{alerting} of 20 unshifted windows alerted");

    // The shift: every patient a lung recipient, eGFR × 0.6, tacrolimus × 1.24, within their ranges.
    let shifted: Vec<PatientRecord> = rest[..WINDOW]
        .iter()
        .cloned()
        .map(|mut r| {
            r.organ = Organ::Lung;
            r.egfr_ml_min *= 0.6;
            r.tacrolimus_trough_ng_ml = r.tacrolimus_trough_ng_ml.map(|t| (t * 1.24).min(60.0));
            r
        })
        .collect();
    let report = send_window(address, &shifted).await;
    for (target, alerts, statistics) in last_windows(&report) {
        eprintln!("shifted window, {target}:");
        for (feature, psi, threshold) in &statistics {
            if SHIFTED.contains(&feature.as_str()) || alerts.contains(feature) {
                eprintln!("  {feature}: psi {psi:.4} threshold {threshold:.4}");
            }
        }
        let read: BTreeSet<String> = statistics
            .iter()
            .map(|s| s.0.clone())
            .filter(|f| SHIFTED.contains(&f.as_str()))
            .collect();
        assert!(!read.is_empty(), "{target} reads none of the shifted features");
        let features: BTreeSet<String> = alerts.iter().filter(|a| *a != "(probability)").cloned().collect();
        assert_eq!(features, read, "{target}: alerts on exactly the shifted features");
    }

    // The same figures in /metrics, for Prometheus.
    let (status, metrics) = http_get(address, "/metrics").await.unwrap();
    assert_eq!(status, 200);
    for series in [
        "carescore_drift_alert{target=\"infection_180d\",feature=\"egfr_ml_min\"} 1",
        "carescore_drift_windows_total{target=\"infection_180d\"} 21",
        "carescore_drift_bin_total{target=\"infection_180d\",feature=\"organ\",bin=\"lung\"}",
        "carescore_drift_psi_threshold{target=\"readmission_30d\",feature=\"(probability)\"}",
        "carescore_group_records_total{grouping=\"organ\",group=\"lung\"}",
    ] {
        assert!(metrics.contains(series), "{series} is not in /metrics");
    }
}

/// A record of the example's shape with another case id and organ.
fn example(i: usize, organ: &str) -> String {
    let mut record: Value = serde_json::from_str(carescore_core::EXAMPLE_RECORD_JSON).unwrap();
    record["case_id"] = Value::from(format!("m-{i}"));
    record["organ"] = Value::from(organ);
    record.to_string()
}

#[tokio::test]
async fn windows_follow_the_settings_and_small_groups_are_withheld() {
    let dir = tempfile::tempdir().unwrap();
    let address =
        carescore_e2e::start_embedded_with_settings(dir.path(), "[monitoring]\ndrift_window_records = 100\n").await;
    // 105 kidney records and 3 heart records: one full window of 100 per model.
    for i in 0..108 {
        let organ = if i < 105 { "kidney" } else { "heart" };
        let reply = post_json(address, "/v1/score", &example(i, organ)).await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let (_, text) = http_get(address, "/v1/monitoring").await.unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["window_records"], 100);
    for model in report["models"].as_array().unwrap() {
        assert_eq!(model["reference_published"], true);
        assert_eq!(model["windows_completed"], 1, "{model}");
        assert_eq!(model["current_window_records"], 8);
        assert_eq!(model["last_window"]["records"], 100);
        // A hundred copies of one record are nothing like the training data.
        assert_eq!(model["last_window"]["alert"], true);
    }
    let group = |value: &str| {
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["grouping"] == "organ" && g["value"] == value)
            .unwrap()
            .clone()
    };
    // Published 10 records at a time: 100 of the 105 kidney records, none of the 3 heart ones.
    let kidney = group("kidney");
    assert_eq!(kidney["records"], 100);
    assert!(kidney["flag_rate"].is_number() && kidney["mean_probability"]["infection_180d"].is_number());
    let heart = group("heart");
    assert_eq!(heart["records"], 0, "3 records wait for 7 more: {heart}");
    assert!(heart.get("flag_rate").is_none(), "{heart}");
    assert_eq!(heart["mean_probability"], serde_json::json!({}));
    assert_eq!(report["underwriting"]["grades"], 0);
    let (_, metrics) = http_get(address, "/metrics").await.unwrap();
    assert!(metrics.contains("carescore_group_records_total{grouping=\"organ\",group=\"kidney\"} 100"));
    assert!(
        !metrics.contains("group=\"heart\""),
        "a group under 10 records is not exported"
    );
    // A reload that keeps the artifacts keeps their windows.
    let reply = post_json(address, "/v1/admin/reload", "").await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (_, text) = http_get(address, "/v1/monitoring").await.unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["models"][0]["windows_completed"], 1, "{report}");
    assert_eq!(report["models"][0]["current_window_records"], 8);

    // Drift tracking off: no model is tracked, the group figures still are.
    let dir = tempfile::tempdir().unwrap();
    let address =
        carescore_e2e::start_embedded_with_settings(dir.path(), "[monitoring]\ndrift_window_records = 0\n").await;
    let reply = post_json(address, "/v1/score", &example(1, "lung")).await.unwrap();
    assert_eq!(reply.status, 200);
    let (_, text) = http_get(address, "/v1/monitoring").await.unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["window_records"], 0);
    assert_eq!(report["models"], serde_json::json!([]));
}
