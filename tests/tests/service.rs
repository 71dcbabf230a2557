//! The service over a real loopback socket: probes, scoring, batch,
//! underwriting, models, and bad requests answered as problem documents.

use carescore_core::EXAMPLE_RECORD_JSON;
use carescore_e2e::{http, post_json, start_default_service};

#[tokio::test]
async fn healthz_and_readyz_answer_over_http() {
    let address = start_default_service().await;
    let (status, body) = carescore_e2e::http_get(address, "/healthz").await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let (status, _) = carescore_e2e::http_get(address, "/readyz").await.unwrap();
    assert_eq!(status, 200);
    let reply = http(address, "GET", "/v1/nothing-here", &[], b"").await.unwrap();
    assert_eq!(reply.status, 404);
    assert_eq!(reply.header("content-type"), Some("application/problem+json"));
    let reply = http(address, "GET", "/v1/score", &[], b"").await.unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.json()["status"], 405);
}

#[tokio::test]
async fn a_record_is_scored_with_factors_tier_and_flags() {
    let address = start_default_service().await;
    let reply = http(
        address,
        "POST",
        "/v1/score",
        &[("Content-Type", "application/json"), ("X-Request-Id", "test-42")],
        EXAMPLE_RECORD_JSON.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("x-request-id"), Some("test-42"));
    assert_eq!(
        reply.header("cache-control"),
        Some("no-store"),
        "no cache may keep a risk"
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("server"), None, "no version banner");
    let json = reply.json();
    assert_eq!(json["request_id"], "test-42");
    assert_eq!(json["case_id"], "c-102");
    assert_eq!(json["phase"], "acute");
    for target in ["infection_180d", "readmission_30d"] {
        let risk = &json["risks"][target];
        let p = risk["probability"].as_f64().unwrap();
        assert!(p > 0.0 && p < 1.0, "{risk}");
        assert_eq!(risk["model_version"], format!("{target}@1"));
        assert_eq!(risk["scale"], "log_odds");
        assert_eq!(risk["top_factors"].as_array().unwrap().len(), 5);
        assert!(["low", "medium", "high"].contains(&risk["band"].as_str().unwrap()));
    }
    // The same record gives the same probability as the library (one code path).
    let screened = carescore_core::parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap();
    let state = carescore_serve::AppState::embedded().unwrap();
    let offline = state.live.load().models.infection.predict(&screened.record);
    assert_eq!(
        json["risks"]["infection_180d"]["probability"].as_f64().unwrap(),
        offline
    );
    assert!(json["follow_up"]["cadence_days"].as_u64().unwrap() >= 7);
    assert!(json["flags"].is_array());
    assert_eq!(json["policy_version"], "default-1");
    // A fresh request id when none (or a bad one) is sent.
    let reply = http(
        address,
        "POST",
        "/v1/score",
        &[("Content-Type", "application/json"), ("X-Request-Id", "bad id <>")],
        EXAMPLE_RECORD_JSON.as_bytes(),
    )
    .await
    .unwrap();
    assert!(reply.header("x-request-id").unwrap().starts_with("cs-"));
}

#[tokio::test]
async fn batches_keep_order_and_report_each_bad_record() {
    let address = start_default_service().await;
    let body = format!("{{\"records\": [{EXAMPLE_RECORD_JSON}, {{\"case_id\": \"c-1\"}}, 7, {EXAMPLE_RECORD_JSON}]}}");
    let reply = post_json(address, "/v1/score/batch", &body).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    assert_eq!((json["scored"].as_u64(), json["failed"].as_u64()), (Some(2), Some(2)));
    let results = json["results"].as_array().unwrap();
    for (i, item) in results.iter().enumerate() {
        assert_eq!(item["index"], i);
    }
    assert!(results[0]["ok"]["risks"].is_object());
    assert_eq!(results[1]["error"]["status"], 422);
    assert!(
        results[1]["error"]["errors"].as_array().unwrap().len() > 10,
        "every missing field"
    );
    assert_eq!(results[2]["error"]["status"], 400);
    assert_eq!(results[0]["ok"], results[3]["ok"]);
    // Empty, oversized and mis-shaped batches are 422.
    for body in [
        "{\"records\": []}".to_string(),
        format!("{{\"records\": [{}]}}", vec!["1"; 10_001].join(",")),
        "{\"rows\": []}".to_string(),
        "[]".to_string(),
    ] {
        let reply = post_json(address, "/v1/score/batch", &body).await.unwrap();
        assert_eq!(reply.status, 422, "{}", reply.body);
        assert_eq!(reply.json()["errors"][0]["field"], "records");
    }
}

#[tokio::test]
async fn underwriting_grades_and_models_list_the_signature() {
    let address = start_default_service().await;
    let reply = post_json(address, "/v1/underwriting/grade", EXAMPLE_RECORD_JSON)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    assert!(["A", "B", "C", "D"].contains(&json["risk_class"].as_str().unwrap()));
    // The example record is in the acute phase: at least B, and the reason says so.
    assert_ne!(json["risk_class"], "A");
    assert!(
        json["reasons"].to_string().contains("acute phase: at least B"),
        "{json}"
    );
    assert_eq!(json["terms"]["currency"], "CNY");
    assert_eq!(json["protected_attributes_neutralised"], serde_json::json!(["sex"]));
    assert_eq!(json["model_versions"]["infection_180d"], "infection_180d@1");
    let reply = http(address, "GET", "/openapi.json", &[], b"").await.unwrap();
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/v1/underwriting/grade"]["post"].is_object());
    let reply = http(address, "GET", "/v1/models", &[], b"").await.unwrap();
    let json = reply.json();
    assert_eq!(json["source"], "embedded");
    assert_eq!(json["models"].as_array().unwrap().len(), 2);
    assert!(json["models"][0]["features"].as_array().unwrap().len() > 20);
}

#[tokio::test]
async fn contradictory_underwriting_inputs_are_named_and_never_discounted() {
    let address = start_default_service().await;
    let grade = |changes: &[(&str, serde_json::Value)]| {
        let mut record: serde_json::Value = serde_json::from_str(EXAMPLE_RECORD_JSON).unwrap();
        for (field, value) in changes {
            record[*field] = value.clone();
        }
        async move {
            let reply = post_json(address, "/v1/underwriting/grade", &record.to_string())
                .await
                .unwrap();
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.json()
        }
    };
    let eligible = |json: &serde_json::Value| json["terms"]["renewal_discount_eligible"].as_bool().unwrap();
    let rules = |json: &serde_json::Value| -> Vec<String> {
        json["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["rule"].as_str().unwrap().to_string())
            .collect()
    };
    let clean = grade(&[
        ("days_since_transplant", 3000.into()),
        ("years_without_complications", 5.into()),
        ("acute_rejection_episodes_12m", 0.into()),
        ("prior_infections_12m", 0.into()),
    ])
    .await;
    assert!(eligible(&clean) && rules(&clean).is_empty(), "{clean}");
    let rejected = grade(&[
        ("days_since_transplant", 3000.into()),
        ("years_without_complications", 5.into()),
        ("acute_rejection_episodes_12m", 1.into()),
    ])
    .await;
    assert!(!eligible(&rejected), "{rejected}");
    assert_eq!(rules(&rejected), ["complication_free_despite_recent_event"]);
    let early = grade(&[
        ("days_since_transplant", 40.into()),
        ("years_without_complications", 10.into()),
    ])
    .await;
    assert!(!eligible(&early), "{early}");
    assert_eq!(rules(&early), ["complication_free_beyond_follow_up"]);
    assert!(
        rejected["reasons"].to_string().contains("renewal discount withheld"),
        "{rejected}"
    );
    // Other plausibility warnings are carried too, as in a score, and a
    // safety signal is passed on (it never changes the grade).
    let doubted = grade(&[("bmi", 55.0.into())]).await;
    assert_eq!(rules(&doubted), ["bmi_extreme"]);
    assert_eq!(doubted["safety_flags"], serde_json::json!([]));
    let urgent = grade(&[("bmi", 55.0.into()), ("phq9_item9", 1.into())]).await;
    assert_eq!(
        urgent["safety_flags"],
        serde_json::json!(["mental_health_urgent"]),
        "{urgent}"
    );
    assert_eq!(urgent["risk_class"], doubted["risk_class"]);
}

/// A value of the JSON object `sent` (a string, or a number written with
/// three or more characters) that `answer` repeats, unless the contract's
/// own text of allowed values holds it (a category name, a range bound).
fn echoed_value(sent: &str, answer: &str) -> Option<String> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(sent) else {
        return None;
    };
    let contract: String = carescore_core::Field::ALL
        .iter()
        .map(|f| f.spec().kind.allowed())
        .collect::<Vec<_>>()
        .join(" ");
    fields
        .values()
        .filter_map(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => Some(v.to_string()),
            _ => None,
        })
        .filter(|needle| needle.chars().count() >= 3 && !contract.contains(needle.as_str()))
        .find(|needle| answer.contains(needle.as_str()))
}

#[test]
fn the_echo_check_finds_a_repeated_value() {
    let sent = r#"{"organ": "pancreas", "age_years": 300, "case_id": "c-102", "bmi": 27.5}"#;
    assert_eq!(echoed_value(sent, "organ pancreas is wrong"), Some("pancreas".into()));
    assert_eq!(echoed_value(sent, "case c-102"), Some("c-102".into()));
    assert_eq!(echoed_value(sent, "age 300"), Some("300".into()));
    assert_eq!(echoed_value(sent, "bmi 27.5"), Some("27.5".into()));
    assert_eq!(echoed_value(sent, "organ: one of: kidney, liver, heart, lung"), None);
}

#[tokio::test]
async fn bad_requests_get_problem_documents_never_5xx() {
    let address = start_default_service().await;
    let valid: serde_json::Value = serde_json::from_str(EXAMPLE_RECORD_JSON).unwrap();
    let with = |key: &str, value: serde_json::Value| {
        let mut v = valid.clone();
        v[key] = value;
        v.to_string()
    };
    let without = |key: &str| {
        let mut v = valid.clone();
        v.as_object_mut().unwrap().remove(key);
        v.to_string()
    };
    let cases: Vec<(String, u16, &str)> = vec![
        ("".into(), 400, "empty body"),
        ("{".into(), 400, "truncated"),
        ("not json".into(), 400, "not JSON"),
        ("[1, 2]".into(), 400, "an array"),
        ("\"text\"".into(), 400, "a string"),
        ("null".into(), 400, "null"),
        ("true".into(), 400, "a boolean"),
        ("42".into(), 400, "a number"),
        ("{} trailing".into(), 400, "trailing garbage"),
        ("{\"case_id\": \"c-1\",}".into(), 400, "trailing comma"),
        ("\u{feff}{}".into(), 400, "byte order mark"),
        ("{\"age_years\": NaN}".into(), 400, "NaN is not JSON"),
        ("{\"age_years\": Infinity}".into(), 400, "Infinity is not JSON"),
        (format!("{}{}", "[".repeat(200), "]".repeat(200)), 400, "deep nesting"),
        ("{}".into(), 422, "empty object"),
        (without("organ"), 422, "missing organ"),
        (without("case_id"), 422, "missing case_id"),
        (without("age_years"), 422, "missing age"),
        (with("age_years", "old".into()), 422, "age as text"),
        (with("age_years", (-5).into()), 422, "negative age"),
        (with("age_years", 300.into()), 422, "age out of range"),
        (with("organ", "pancreas".into()), 422, "unknown organ"),
        (with("sex", 1.into()), 422, "sex as number"),
        (with("diabetes", "yes".into()), 422, "boolean as text"),
        (with("bmi", serde_json::Value::Null), 422, "required null"),
        (with("favourite_colour", "blue".into()), 422, "unknown field"),
        (with("days_since_transplant", 1.5.into()), 422, "fractional integer"),
        (with("days_since_transplant", (-1).into()), 422, "negative days"),
        (with("icu_days", 400.into()), 422, "icu beyond the stay"),
        (with("egfr_ml_min", 1e308.into()), 422, "huge number"),
        (with("current_tier", "platinum".into()), 422, "unknown tier"),
        (with("adherence_pct", 150.into()), 422, "adherence above 100"),
        (with("case_id", "".into()), 422, "empty case id"),
        (
            with("cmv_serostatus", serde_json::json!({"d": "+"})),
            422,
            "object as category",
        ),
        (with("age_years", serde_json::json!([54])), 422, "array as number"),
        (with("age_years", "54".into()), 422, "number as string"),
        (with("lives_alone", 1.into()), 422, "boolean as number"),
        (with("phq9_score", 99.into()), 422, "score above its scale"),
        (with("case_id", "x".repeat(500).into()), 422, "case id too long"),
        (
            EXAMPLE_RECORD_JSON.replacen(
                "\"organ\": \"kidney\"",
                "\"organ\": \"kidney\", \"organ\": \"liver\"",
                1,
            ),
            422,
            "duplicate key",
        ),
    ];
    for route in ["/v1/score", "/v1/underwriting/grade"] {
        for (body, status, what) in &cases {
            let reply = post_json(address, route, body).await.unwrap();
            assert_eq!(reply.status, *status, "{route} {what}: {}", reply.body);
            assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{what}");
            let json = reply.json();
            assert_eq!(json["status"], *status, "{what}");
            assert!(json["type"].as_str().unwrap().starts_with("https://"), "{what}");
            if *status == 422 {
                let errors = json["errors"].as_array().unwrap();
                assert!(!errors.is_empty(), "{what}");
                for e in errors {
                    assert!(e["field"].is_string() && e["allowed"].is_string() && e["rule"].is_string());
                }
            }
            // Never a value that was sent in the answer (keys may be named, values never).
            if let Some(value) = echoed_value(body, &reply.body) {
                panic!("{route} {what}: the answer repeats the value {value}: {}", reply.body);
            }
        }
    }
    // Wrong content type, and a body over the limit.
    let reply = http(
        address,
        "POST",
        "/v1/score",
        &[("Content-Type", "text/plain")],
        EXAMPLE_RECORD_JSON.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 415);
    let reply = http(address, "POST", "/v1/score", &[], EXAMPLE_RECORD_JSON.as_bytes())
        .await
        .unwrap();
    assert_eq!(reply.status, 415, "no content type");
    let huge = format!("{{\"case_id\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let reply = post_json(address, "/v1/score", &huge).await.unwrap();
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["status"], 413);
    // A client that sends all of a 20 MB body before reading (as Python's
    // urllib does) reads the 413 rather than a reset connection.
    let huge = format!("{{\"records\": [\"{}\"]}}", "x".repeat(20 * 1024 * 1024));
    for route in ["/v1/score", "/v1/score/batch"] {
        let reply = post_json(address, route, &huge)
            .await
            .unwrap_or_else(|e| panic!("{route}: the 413 was not readable: {e}"));
        assert_eq!(reply.status, 413, "{route}");
        assert_eq!(
            reply.json()["type"],
            "https://carescore.invalid/problems/body-too-large"
        );
    }
    // Still serving.
    let reply = post_json(address, "/v1/score", EXAMPLE_RECORD_JSON).await.unwrap();
    assert_eq!(reply.status, 200);
}

/// A low-risk maintenance-phase record: self-service every 60 days.
fn low_risk_record() -> serde_json::Value {
    let mut record: serde_json::Value = serde_json::from_str(EXAMPLE_RECORD_JSON).unwrap();
    for (field, value) in [
        ("days_since_transplant", serde_json::json!(1500)),
        ("age_years", 40.into()),
        ("cmv_serostatus", "D-/R-".into()),
        ("induction", "basiliximab".into()),
        ("hospitalizations_12m", 0.into()),
        ("charlson_index", 0.into()),
        ("egfr_ml_min", 75.0.into()),
        ("current_tier", "self_service".into()),
        ("phq9_score", 0.into()),
        ("phq9_item9", 0.into()),
    ] {
        record[field] = value;
    }
    record
}

fn flags_of(json: &serde_json::Value) -> Vec<&str> {
    json["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect()
}

#[tokio::test]
async fn thoughts_of_self_harm_put_a_low_risk_patient_on_the_urgent_pathway() {
    let address = start_default_service().await;
    let mut record = low_risk_record();
    let reply = post_json(address, "/v1/score", &record.to_string()).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["recommended_tier"], "self_service", "the precondition: {json}");
    assert_eq!(json["follow_up"]["cadence_days"], 60, "{json}");
    assert_eq!(json["follow_up"]["channel"], "self_service_app");

    // Item 9 answered 1 with a total of 0: scored, with the warning and the urgent pathway.
    record["phq9_item9"] = 1.into();
    let reply = post_json(address, "/v1/score", &record.to_string()).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    assert!(flags_of(&json).contains(&"mental_health_urgent"), "{json}");
    assert_eq!(json["warnings"][0]["rule"], "phq9_item9_exceeds_total", "{json}");
    assert_eq!(json["recommended_tier"], "remote", "at least remote: {json}");
    assert!(flags_of(&json).contains(&"tier_upgrade"), "from self-service: {json}");
    let follow_up = &json["follow_up"];
    assert_eq!(follow_up["cadence_days"], 1, "{json}");
    assert_eq!(follow_up["channel"], "clinician_call");
    assert_eq!(follow_up["urgent_flags"], serde_json::json!(["mental_health_urgent"]));
    assert!(follow_up["reason"].as_str().unwrap().contains("self-harm"), "{json}");

    // A same-day trough finding takes the same pathway.
    record["phq9_item9"] = 0.into();
    record["tacrolimus_trough_ng_ml"] = 26.0.into();
    let json = post_json(address, "/v1/score", &record.to_string())
        .await
        .unwrap()
        .json();
    assert_eq!(
        json["follow_up"]["urgent_flags"],
        serde_json::json!(["trough_urgent"]),
        "{json}"
    );
    assert_eq!(json["follow_up"]["channel"], "clinician_call");
}

#[tokio::test]
async fn a_refused_record_keeps_its_safety_flags() {
    let address = start_default_service().await;
    let mut record = low_risk_record();
    record["phq9_item9"] = 2.into();
    record.as_object_mut().unwrap().remove("bmi");
    let reply = post_json(address, "/v1/score", &record.to_string()).await.unwrap();
    assert_eq!(reply.status, 422, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["errors"][0]["field"], "bmi", "{json}");
    assert_eq!(
        json["safety_flags"],
        serde_json::json!(["mental_health_urgent"]),
        "{json}"
    );
    assert!(json["detail"].as_str().unwrap().contains("urgent"), "{json}");

    // In a batch, the refused item carries them too; a refusal without one has none.
    let mut plain = low_risk_record();
    plain.as_object_mut().unwrap().remove("bmi");
    let body = serde_json::json!({"records": [record, plain]}).to_string();
    let json = post_json(address, "/v1/score/batch", &body).await.unwrap().json();
    let results = json["results"].as_array().unwrap();
    assert_eq!(
        results[0]["error"]["safety_flags"],
        serde_json::json!(["mental_health_urgent"]),
        "{json}"
    );
    assert!(results[1]["error"].get("safety_flags").is_none(), "{json}");

    // Counted in the metrics like a scored record's flag.
    let (_, metrics) = carescore_e2e::http_get(address, "/metrics").await.unwrap();
    assert!(
        metrics.contains("flag=\"mental_health_urgent\"} 2"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("mental_health_urgent"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn integral_numbers_are_integers() {
    let address = start_default_service().await;
    let record = EXAMPLE_RECORD_JSON.replace("\"days_since_transplant\": 40", "\"days_since_transplant\": 40.0");
    assert_ne!(record, EXAMPLE_RECORD_JSON);
    let reply = post_json(address, "/v1/score", &record).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
}
