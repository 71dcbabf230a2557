//! Levers and the programme view over a real loopback socket: what a case
//! manager and a programme lead get, held to what the scoring routes say
//! of the same records.

use carescore_core::{PatientRecord, EXAMPLE_RECORD_JSON};
use carescore_e2e::{post_json, start_service, synthetic_rows};
use serde_json::{json, Value};

fn example() -> PatientRecord {
    carescore_core::parse_record(EXAMPLE_RECORD_JSON.as_bytes())
        .unwrap()
        .record
}

/// The example with every modifiable input on its default target.
fn on_target() -> PatientRecord {
    let mut record = example();
    record.tacrolimus_trough_ng_ml = Some(7.0);
    record.adherence_pct = Some(97.0);
    record.phq9_score = Some(2);
    record.gad7_score = Some(1);
    record
}

#[tokio::test]
async fn levers_name_what_is_off_target_and_what_it_would_change() {
    let work = tempfile::tempdir().unwrap();
    let audit_path = work.path().join("audit.jsonl");
    let audit = carescore_serve::AuditLog::open(&audit_path, Some("a-salt-of-sixteen-chars"), false).unwrap();
    let address = start_service(carescore_serve::AppState::embedded().unwrap().with_audit(audit)).await;

    let reply = post_json(address, "/v1/levers", &serde_json::to_string(&on_target()).unwrap())
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["levers"], json!([]), "{json:#}");
    assert!(json.get("all_levers").is_none());
    assert!(json["caveat"]
        .as_str()
        .unwrap()
        .contains("not proven effects of an intervention"));

    let mut record = on_target();
    record.adherence_pct = Some(60.0);
    let reply = post_json(address, "/v1/levers", &serde_json::to_string(&record).unwrap())
        .await
        .unwrap();
    let json = reply.json();
    let levers = json["levers"].as_array().unwrap();
    assert_eq!(levers.len(), 1, "{json:#}");
    assert_eq!(levers[0]["input"], "adherence");
    assert_eq!(levers[0]["field"], "adherence_pct");
    assert_eq!(levers[0]["target_value"], 95.0);
    assert!(
        levers[0]["reductions"]["readmission_30d"].as_f64().unwrap() > 0.0,
        "{json:#}"
    );
    assert!(levers[0]["total_reduction"].as_f64().unwrap() > 0.0);
    // The recorded risks are the score's.
    let score = post_json(address, "/v1/score", &serde_json::to_string(&record).unwrap())
        .await
        .unwrap()
        .json();
    for target in ["infection_180d", "readmission_30d"] {
        assert_eq!(json["risks"][target], score["risks"][target]["probability"]);
    }

    // A refused record keeps its safety signal.
    let mut bad: Value = serde_json::to_value(&record).unwrap();
    bad["phq9_item9"] = json!(2);
    bad["phq9_score"] = json!(12);
    bad["age_years"] = json!(-4);
    let reply = post_json(address, "/v1/levers", &bad.to_string()).await.unwrap();
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json()["safety_flags"],
        json!(["mental_health_urgent"]),
        "{}",
        reply.body
    );

    let audit = std::fs::read_to_string(&audit_path).unwrap();
    let lines: Vec<Value> = audit.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let levers_lines: Vec<&Value> = lines.iter().filter(|l| l["route"] == "levers").collect();
    assert_eq!(levers_lines.len(), 2, "{audit}");
    assert!(!audit.contains("c-102"), "case ids are only hashed");
}

/// A record as JSON, from a synthetic row.
fn record_json(record: &PatientRecord) -> Value {
    serde_json::to_value(record).unwrap()
}

#[tokio::test]
async fn the_programme_view_is_the_sum_of_the_scores() {
    let work = tempfile::tempdir().unwrap();
    let audit_path = work.path().join("audit.jsonl");
    let audit = carescore_serve::AuditLog::open(&audit_path, Some("a-salt-of-sixteen-chars"), false).unwrap();
    let address = start_service(carescore_serve::AppState::embedded().unwrap().with_audit(audit)).await;
    let mut records: Vec<Value> = synthetic_rows(400, 17).iter().map(|r| record_json(&r.record)).collect();
    // A valid record on the safety pathway: never lost in the sum.
    let mut self_harm = on_target();
    self_harm.phq9_score = Some(14);
    self_harm.phq9_item9 = Some(1);
    records.push(record_json(&self_harm));
    records.push(json!({"case_id": "not-a-record"}));
    let records_sent = records.len() as u64;
    let body = json!({ "records": records }).to_string();

    let batch = post_json(address, "/v1/score/batch", &body).await.unwrap().json();
    let reply = post_json(address, "/v1/programme", &body).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let view = reply.json();

    let scores: Vec<&Value> = batch["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.get("ok"))
        .collect();
    assert_eq!(view["patients"], scores.len(), "{view:#}");
    let refused: Vec<u64> = view["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    let failed: Vec<u64> = batch["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("error").is_some())
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(refused, failed);
    assert!(refused.contains(&(records_sent - 1)), "{refused:?}");

    for (i, tier) in ["self_service", "remote", "intensive"].iter().enumerate() {
        let in_tier: Vec<&&Value> = scores.iter().filter(|s| s["recommended_tier"] == *tier).collect();
        assert_eq!(view["tiers"][i]["tier"], *tier);
        assert_eq!(view["tiers"][i]["patients"], in_tier.len(), "{tier}");
        for target in ["infection_180d", "readmission_30d"] {
            let sum: f64 = in_tier
                .iter()
                .map(|s| s["risks"][target]["probability"].as_f64().unwrap())
                .sum();
            let figure = view["tiers"][i]["expected_events"][target].as_f64().unwrap();
            assert!((sum - figure).abs() < 1e-9, "{tier} {target}: {sum} vs {figure}");
        }
    }
    let intensive = view["tiers"][2]["patients"].as_f64().unwrap();
    let remote = view["tiers"][1]["patients"].as_f64().unwrap();
    let workload = view["workload"]["case_managers"].as_f64().unwrap();
    assert!((workload - (intensive / 40.0 + remote / 150.0)).abs() < 1e-12);
    for target in ["infection_180d", "readmission_30d"] {
        let figures = &view["targets"][target];
        let expected = figures["expected_events"].as_f64().unwrap();
        let interval = &figures["interval_95"];
        assert!(interval["low"].as_f64().unwrap() <= expected && expected <= interval["high"].as_f64().unwrap());
        assert_eq!(interval["method"], "exact_poisson_binomial");
    }
    let early = scores
        .iter()
        .filter(|s| s["flags"].as_array().unwrap().contains(&json!("early_intervention")))
        .count();
    assert_eq!(view["flags"]["early_intervention"], early);
    let upgrades = scores
        .iter()
        .filter(|s| s["flags"].as_array().unwrap().contains(&json!("tier_upgrade")))
        .count();
    assert_eq!(view["tier_changes"]["upgrades"], upgrades);
    assert!(view["assumption"].as_str().unwrap().contains("not an effect measured"));
    assert!(view.get("costs").is_none(), "no costs without a policy that gives them");

    // The audit trail: one line per summarised record, with its hash and nothing else of the patient.
    let audit = std::fs::read_to_string(&audit_path).unwrap();
    let lines: Vec<Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let programme: Vec<&Value> = lines.iter().filter(|l| l["route"] == "programme").collect();
    assert_eq!(programme.len(), scores.len());
    for line in programme {
        assert_eq!(line["probabilities"], json!({}));
        assert!(line.get("tier").is_none() && line.get("flags").is_none());
        assert_eq!(line["case_id_sha256"].as_str().unwrap().len(), 64);
    }
    let urgent: Vec<(u64, Value)> = view["urgent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["index"].as_u64().unwrap(), u["flags"].clone()))
        .collect();
    let self_harm_index = records_sent - 2;
    assert!(
        urgent.contains(&(self_harm_index, json!(["mental_health_urgent"]))),
        "{urgent:?}"
    );
    let urgent_in_batch = scores
        .iter()
        .filter(|s| s["follow_up"]["urgent_flags"].as_array().is_some_and(|f| !f.is_empty()))
        .count();
    assert_eq!(
        urgent.len(),
        urgent_in_batch,
        "every valid record on the urgent pathway is named"
    );

    // Planning uploads are counted on their own, not in the decision records' series.
    let (_, metrics) = carescore_e2e::http_get(address, "/metrics").await.unwrap();
    assert!(
        metrics.contains(&format!(
            "carescore_programme_records_total{{outcome=\"valid\"}} {}",
            scores.len()
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("carescore_programme_records_total{outcome=\"refused\"} 1"),
        "{metrics}"
    );
    let valid_records = metrics
        .lines()
        .find(|l| l.starts_with("carescore_records_total{outcome=\"valid\"}"))
        .unwrap();
    assert_eq!(
        valid_records,
        format!("carescore_records_total{{outcome=\"valid\"}} {}", scores.len()),
        "the batch's only"
    );
}

#[tokio::test]
async fn the_programme_view_prices_what_the_policy_prices() {
    let work = tempfile::tempdir().unwrap();
    let policy = work.path().join("policy.toml");
    std::fs::write(
        &policy,
        "version = \"priced-1\"\n[programme.costs]\ncurrency = \"EUR\"\nper_patient = { self_service = 0, remote = 300, intensive = 2400 }\nper_event = { infection_180d = 18000, readmission_30d = 9000 }\n",
    )
    .unwrap();
    let state = carescore_serve::AppState::load(carescore_serve::Sources {
        models: carescore_serve::ModelSource::Embedded,
        policy: Some(policy),
        settings: None,
    })
    .unwrap();
    let address = start_service(state).await;
    let records: Vec<Value> = synthetic_rows(200, 3)
        .iter()
        .filter(|r| !r.injected_noise)
        .map(|r| record_json(&r.record))
        .collect();
    let reply = post_json(address, "/v1/programme", &json!({ "records": records }).to_string())
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let view = reply.json();
    assert_eq!(view["policy_version"], "priced-1");
    let costs = &view["costs"];
    let cost: f64 = view["tiers"][1]["patients"].as_f64().unwrap() * 300.0
        + view["tiers"][2]["patients"].as_f64().unwrap() * 2400.0;
    assert!(
        (costs["programme_cost"].as_f64().unwrap() - cost).abs() < 1e-6,
        "{view:#}"
    );
    let avoided = view["targets"]["infection_180d"]["events_avoided"].as_f64().unwrap()
        + view["targets"]["readmission_30d"]["events_avoided"].as_f64().unwrap();
    assert!((costs["cost_per_event_avoided"].as_f64().unwrap() - cost / avoided).abs() < 1e-6);
    // An empty cohort is refused like an empty batch.
    let reply = post_json(address, "/v1/programme", r#"{"records": []}"#).await.unwrap();
    assert_eq!(reply.status, 422);
}
