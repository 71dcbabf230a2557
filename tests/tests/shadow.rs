//! The shadow challenger end to end: a second model set scores the records
//! after their answers, off the request path, never changing an answer;
//! its disagreement with the champion is reported in `GET /v1/monitoring`
//! and its scores go to the audit trail as lines of their own; a broken
//! shadow set is reported and never stops the champion; reload reads it again.

use std::path::Path;
use std::time::Duration;

use carescore_core::ModelArtifact;
use carescore_e2e::{http_get, post_json, start_service};
use carescore_train::training::update::{compose, Update};
use serde_json::Value;

/// The default infection model, recalibrated in the large by +0.7 on the
/// log-odds: a challenger whose probabilities are all higher.
fn challenger() -> ModelArtifact {
    let text = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/infection_180d-1.json")).unwrap();
    let mut artifact = ModelArtifact::from_json(&text).unwrap();
    artifact.calibration = compose(&artifact.calibration, Update::InTheLarge { a: 0.7 }).unwrap();
    artifact.version = 2;
    artifact
}

fn record(i: usize) -> String {
    let mut record: Value = serde_json::from_str(carescore_core::EXAMPLE_RECORD_JSON).unwrap();
    record["case_id"] = Value::from(format!("s-{i}"));
    record["age_years"] = Value::from(30 + i % 40);
    record["egfr_ml_min"] = Value::from(20 + (i * 7) % 80);
    record.to_string()
}

async fn monitoring(address: std::net::SocketAddr) -> Value {
    let (status, text) = http_get(address, "/v1/monitoring").await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Waits until the shadow has dealt with `n` records (the worker runs beside the answers).
async fn settled(address: std::net::SocketAddr, n: u64) -> Value {
    for _ in 0..200 {
        let report = monitoring(address).await;
        let records = &report["shadow"]["records"];
        let dealt: u64 = records.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
        if dealt >= n && records["scored"].as_u64().unwrap_or(0) + records["shed_budget"].as_u64().unwrap() >= n {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the shadow did not finish: {}", monitoring(address).await["shadow"]);
}

#[tokio::test]
async fn the_shadow_scores_beside_the_champion_and_never_changes_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let shadow_dir = dir.path().join("challenger");
    std::fs::create_dir(&shadow_dir).unwrap();
    std::fs::write(shadow_dir.join("infection_180d-2.json"), challenger().to_json()).unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit = carescore_serve::AuditLog::open(&audit_path, Some("a-salt-of-sixteen-characters"), false).unwrap();
    let state = carescore_serve::AppState::embedded()
        .unwrap()
        .with_audit(audit)
        .with_shadow(shadow_dir.clone());
    let address = start_service(state).await;

    let n = 40;
    for i in 0..n {
        let reply = post_json(address, "/v1/score", &record(i)).await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.json()["risks"]["infection_180d"]["model_version"],
            "infection_180d@1",
            "the champion answers"
        );
    }
    let report = settled(address, n as u64).await;
    let shadow = &report["shadow"];
    assert_eq!(shadow["loaded"], true, "{shadow}");
    assert_eq!(
        shadow["records"]["scored"], n,
        "one request at a time leaves the cores free: {shadow}"
    );
    assert_eq!(shadow["models"][0]["model_version"], "infection_180d@2");
    let targets = shadow["targets"].as_array().unwrap();
    assert_eq!(
        targets.len(),
        1,
        "only the target the directory has a model of: {shadow}"
    );
    let infection = &targets[0];
    assert_eq!(infection["target"], "infection_180d");
    assert_eq!(infection["records"], n);
    let mean = infection["mean_difference"].as_f64().unwrap();
    assert!(mean > 0.02, "the challenger's risks are higher: {infection}");
    assert!(infection["sd_difference"].as_f64().unwrap() > 0.0);
    let agreement = infection["band_agreement"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&agreement), "{infection}");
    assert!(!shadow["flag_rates"].as_array().unwrap().is_empty(), "{shadow}");

    // The audit trail: each answer's line, and the shadow's line with the same request id.
    let text = std::fs::read_to_string(&audit_path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (shadow_lines, decisions): (Vec<&Value>, Vec<&Value>) = lines.iter().partition(|l| l["route"] == "shadow");
    assert_eq!((decisions.len(), shadow_lines.len()), (n, n));
    for line in &shadow_lines {
        let decision = decisions
            .iter()
            .find(|d| d["request_id"] == line["request_id"])
            .expect("the decision line of the same request");
        assert_eq!(decision["case_id_sha256"], line["case_id_sha256"]);
        assert_eq!(line["model_versions"]["infection_180d"], "infection_180d@2");
        assert_eq!(decision["model_versions"]["infection_180d"], "infection_180d@1");
        assert!(
            line["probabilities"]["infection_180d"].as_f64() > decision["probabilities"]["infection_180d"].as_f64()
        );
    }
    let (_, metrics) = http_get(address, "/metrics").await.unwrap();
    assert!(
        metrics.contains(&format!("carescore_shadow_records_total{{outcome=\"scored\"}} {n}")),
        "{metrics}"
    );
    assert!(metrics.contains("carescore_shadow_loaded 1"));
}

#[tokio::test]
async fn a_broken_shadow_is_reported_and_the_champion_serves_until_a_reload_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let shadow_dir = dir.path().join("challenger");
    std::fs::create_dir(&shadow_dir).unwrap();
    let good = challenger().to_json();
    std::fs::write(
        shadow_dir.join("infection_180d-2.json"),
        good.replace("\"version\": 2", "\"version\": 3"),
    )
    .unwrap();
    std::fs::write(dir.path().join("carescore.toml"), "[monitoring]\nshadow_share = 0.5\n").unwrap();
    let state = carescore_serve::AppState::load(carescore_serve::Sources {
        models: carescore_serve::ModelSource::Embedded,
        policy: None,
        settings: Some(dir.path().join("carescore.toml")),
    })
    .unwrap()
    .with_shadow(shadow_dir.clone());
    let address = start_service(state).await;
    for i in 0..4 {
        let reply = post_json(address, "/v1/score", &record(i)).await.unwrap();
        assert_eq!(reply.status, 200, "a broken shadow never stops the champion");
    }
    let report = monitoring(address).await;
    let shadow = &report["shadow"];
    assert_eq!(shadow["loaded"], false);
    assert!(shadow["error"].as_str().unwrap().contains("checksum"), "{shadow}");
    assert_eq!(shadow["share"], 0.5);
    assert_eq!(shadow["records"]["no_shadow"], 2, "half offered: {shadow}");
    assert_eq!(shadow["records"]["not_sampled"], 2);

    // Fixed on disk: a reload reads it again, and the champion's reload is not held up by it.
    std::fs::write(shadow_dir.join("infection_180d-2.json"), &good).unwrap();
    let reply = post_json(address, "/v1/admin/reload", "").await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let shadow = &monitoring(address).await["shadow"];
    assert_eq!(shadow["loaded"], true, "{shadow}");
    assert!(shadow.get("error").is_none());
}
