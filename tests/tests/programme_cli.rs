//! `carescore-train programme` on an unseen synthetic cohort whose outcomes
//! are known: the expected events per target fall within their interval of
//! the events the cohort had, and the command agrees with `POST
//! /v1/programme` on the same records.

use carescore_e2e::{carescore_train, post_json, start_default_service};
use serde_json::{json, Value};

#[tokio::test]
async fn expected_events_meet_the_observed_ones_and_the_service_agrees() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("synth.csv");
    let page = work.path().join("programme.html");
    let view = work.path().join("programme.json");
    let (data_s, page_s, view_s) = (
        data.display().to_string(),
        page.display().to_string(),
        view.display().to_string(),
    );
    carescore_train(&["synth", "--rows", "10000", "--seed", "5", "--out", &data_s, "--quiet"]);
    carescore_train(&["programme", "--data", &data_s, "--out", &page_s, "--json", &view_s]);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&view).unwrap()).unwrap();
    for target in ["infection_180d", "readmission_30d"] {
        let observed = &report["observed"][target];
        let interval = &report["targets"][target]["interval_95"];
        println!(
            "{target}: expected {:.1} (95% interval {}-{}), observed {:.1} (IPCW; {} events among {} labelled rows)",
            report["targets"][target]["expected_events"].as_f64().unwrap(),
            interval["low"],
            interval["high"],
            observed["estimated_events"].as_f64().unwrap(),
            observed["events_labelled"],
            observed["labelled"]
        );
        assert_eq!(observed["within_interval"], true, "{target}: {observed:#}");
    }
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<svg") && html.contains("Assumption.") && html.contains("Observed against expected"));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained"
    );

    // The service gives the same view of the same (valid) records.
    let config = carescore_train::synth::SynthConfig {
        rows: 10_000,
        seed: 5,
        dropout_rate: carescore_train::synth::SynthConfig::DEFAULT_DROPOUT_RATE,
    };
    let rows = carescore_train::synth::generate(&config, |_| {}).unwrap();
    let records: Vec<Value> = rows.iter().map(|r| serde_json::to_value(&r.record).unwrap()).collect();
    let address = start_default_service().await;
    let reply = post_json(address, "/v1/programme", &json!({ "records": records }).to_string())
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let served = reply.json();
    assert_eq!(served["patients"], report["patients"]);
    for key in ["tiers", "flags", "tier_changes", "targets", "workload", "assumption"] {
        assert_eq!(served[key], report[key], "{key}");
    }
}
