//! Outcomes close the loop: the service logs its answers and a shadow
//! challenger's scores in the audit trail; the synthetic cohort's outcomes
//! are recorded as a centre would (case id, target, event, date);
//! `carescore-train monitor` joins them through the salted hash and
//! recovers each set's calibration: the champion's slope near 1, and the
//! slope of a challenger deliberately miscalibrated (log-odds × 2, so its
//! slope is half the champion's) within 0.1 of that.
//!
//! Run with `--nocapture` for the figures.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use carescore_core::ModelArtifact;
use carescore_e2e::{carescore_train, http_get, post_json, start_service, synthetic_rows};
use carescore_train::monitoring::date_of;
use carescore_train::training::update::{compose, Update};
use serde_json::Value;

const SALT: &str = "outcome-monitoring-test-salt";
const SALT_ENV: &str = "CARESCORE_TEST_OUTCOME_MONITORING_SALT";

/// The default infection model with its log-odds doubled: too extreme, calibration slope about 0.5.
fn miscalibrated() -> ModelArtifact {
    let text = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/infection_180d-1.json")).unwrap();
    let mut artifact = ModelArtifact::from_json(&text).unwrap();
    artifact.calibration = compose(&artifact.calibration, Update::Logistic { a: 0.0, b: 2.0 }).unwrap();
    artifact.version = 2;
    artifact
}

#[tokio::test]
async fn monitor_recovers_the_calibration_of_the_champion_and_a_miscalibrated_shadow() {
    let dir = tempfile::tempdir().unwrap();
    let shadow_dir = dir.path().join("challenger");
    std::fs::create_dir(&shadow_dir).unwrap();
    std::fs::write(shadow_dir.join("infection_180d-2.json"), miscalibrated().to_json()).unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit = carescore_serve::AuditLog::open(&audit_path, Some(SALT), false).unwrap();
    // A whole core for the shadow, so that it scores every record (the default budget would shed most).
    let settings = dir.path().join("carescore.toml");
    std::fs::write(&settings, "[monitoring]\nshadow_cpu_share = 1.0\n").unwrap();
    let state = carescore_serve::AppState::load(carescore_serve::Sources {
        models: carescore_serve::ModelSource::Embedded,
        policy: None,
        settings: Some(settings),
    })
    .unwrap()
    .with_audit(audit)
    .with_shadow(shadow_dir);
    let address = start_service(state).await;

    let rows: Vec<_> = synthetic_rows(30_000, 77).into_iter().take(8_000).collect();
    let mut sent = 0u64;
    for (b, batch) in rows.chunks(500).enumerate() {
        let records: Vec<Value> = batch
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut record = serde_json::to_value(&row.record).unwrap();
                record["case_id"] = Value::from(format!("syn-{}", b * 500 + i));
                record
            })
            .collect();
        let reply = post_json(
            address,
            "/v1/score/batch",
            &serde_json::json!({ "records": records }).to_string(),
        )
        .await
        .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        sent += batch.len() as u64;
        // Let the shadow catch up, so none of its work is shed for a full queue.
        for _ in 0..3000 {
            let (_, text) = http_get(address, "/v1/monitoring").await.unwrap();
            let report: Value = serde_json::from_str(&text).unwrap();
            let records = &report["shadow"]["records"];
            let dealt: u64 = records.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
            if dealt >= sent {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    // The outcomes as the centre records them, dated from the day each prediction was made.
    let text = std::fs::read_to_string(&audit_path).unwrap();
    let day_of: std::collections::BTreeMap<String, i64> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|l| {
            let hash = l["case_id_sha256"].as_str().unwrap().to_string();
            (hash, (l["time_unix_ms"].as_u64().unwrap() / 86_400_000) as i64)
        })
        .collect();
    let mut csv = String::from("case_id,target,event,date,organ\n");
    for (i, row) in rows.iter().enumerate() {
        let case = format!("syn-{i}");
        let day = day_of[&carescore_core::case_hash(SALT, &case)];
        let organ = row.record.organ.as_str();
        for (target, time, event) in [
            ("infection_180d", row.infection_time_days, row.infection_event),
            ("readmission_30d", row.readmission_time_days, row.readmission_event),
        ] {
            let date = date_of(day + i64::from(time));
            let _ = writeln!(csv, "{case},{target},{},{date},{organ}", u8::from(event));
        }
    }
    let outcomes = dir.path().join("outcomes.csv");
    std::fs::write(&outcomes, csv).unwrap();

    std::env::set_var(SALT_ENV, SALT);
    let out = dir.path().join("monitoring");
    carescore_train(&[
        "monitor",
        "--audit",
        audit_path.to_str().unwrap(),
        "--outcomes",
        outcomes.to_str().unwrap(),
        "--salt-env",
        SALT_ENV,
        "--out",
        out.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("monitor.json")).unwrap()).unwrap();
    let html = std::fs::read_to_string(out.join("monitor.html")).unwrap();
    assert!(html.contains("Calibration by month of prediction") && html.contains("<svg"));
    assert_eq!(
        report["join"]["predictions"],
        8_000 * 3,
        "two champion targets and one shadow per record"
    );
    assert_eq!(report["join"]["no_outcome"], 0);
    let slope = |set: &str, target: &str| {
        let model = report["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["set"] == set && m["target"] == target)
            .unwrap_or_else(|| panic!("{set} {target} in {report}"));
        eprintln!(
            "{set} {target} ({}): {} labelled, AUC {:.3}, calibration slope {:.3}, intercept {:.3}, by organ {}",
            model["model_versions"],
            model["overall"]["rows"],
            model["overall"]["auc"].as_f64().unwrap(),
            model["overall"]["calibration_slope"].as_f64().unwrap(),
            model["overall"]["calibration_intercept"].as_f64().unwrap(),
            model["by_organ"].as_array().unwrap().len()
        );
        assert_eq!(model["by_organ"].as_array().unwrap().len(), 4, "four organs");
        model["overall"]["calibration_slope"].as_f64().unwrap()
    };
    let champion = slope("champion", "infection_180d");
    let shadow = slope("shadow", "infection_180d");
    slope("champion", "readmission_30d");
    assert!(
        (champion - 1.0).abs() < 0.15,
        "the champion is calibrated: slope {champion}"
    );
    assert!(
        (shadow - champion / 2.0).abs() < 0.1,
        "the shadow's slope {shadow} is half the champion's ({champion})"
    );
    assert!(
        (shadow - 0.5).abs() < 0.1,
        "the known slope of the miscalibrated model is 0.5: {shadow}"
    );
}
