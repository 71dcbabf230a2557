//! The whole life of a model: `carescore-train` fits small models, the
//! service serves them from a directory behind API keys, a new version is
//! reloaded, a corrupt one is refused while the old one keeps answering, the
//! metrics count it all, and the service's probability equals
//! `carescore-train predict`'s for the same record; a model trained through
//! a spec on a centre's own columns is served once a reload finds it.

use std::io::Write as _;
use std::path::Path;

use carescore_e2e::{carescore_train, http, kidney_centre_example, start_service, Reply};
use carescore_serve::{AppState, ModelSource, Sources};
use carescore_train::synth::{generate, SynthConfig};
use carescore_train::{family, fit, load, Cohort, FitOptions, Reading, Target};

const SCORE_KEY: &str = "score-key-0123";
const ADMIN_KEY: &str = "admin-key-4567";

fn sha256_hex(text: &str) -> String {
    carescore_core::artifact::sha256_hex(text.as_bytes())
}

/// Fits `family` for `target` on `data` and writes `<target>-<version>.json` into `dir`.
fn train_into(data: &Path, dir: &Path, target: Target, family_name: &str, version: u32) {
    let dataset = load(data, target, Reading::WithOutcome).unwrap();
    let options = FitOptions {
        target,
        seed: 42,
        version,
        censoring: carescore_train::labels::CensoringRule::Ipcw,
        folds: 3,
        gbdt_leaves: Some(7),
        temporal_holdout: 0.0,
    };
    let fitted = fit(&Cohort::all(&dataset), options, family(family_name).unwrap()).unwrap();
    let path = dir.join(format!("{}-{version}.json", target.name()));
    std::fs::write(path, fitted.artifact.to_json()).unwrap();
}

/// The probability `carescore-train predict` wrote for the first row of its table.
fn first_probability(scores: &Path) -> f64 {
    let text = std::fs::read_to_string(scores).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|c| *c == "probability").unwrap();
    text.lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(column)
        .unwrap()
        .parse()
        .unwrap()
}

async fn call(address: std::net::SocketAddr, method: &str, path: &str, key: Option<&str>, body: &str) -> Reply {
    let bearer = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(b) = &bearer {
        headers.push(("Authorization", b.as_str()));
    }
    http(address, method, path, &headers, body.as_bytes()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn train_serve_reload_and_agree_with_predict() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("cohort.csv");
    let rows = generate(
        &SynthConfig {
            rows: 3000,
            seed: 5,
            dropout_rate: SynthConfig::DEFAULT_DROPOUT_RATE,
        },
        |_| {},
    )
    .unwrap();
    carescore_train::table::write_cohort(&rows, &data).unwrap();
    let models = work.path().join("models");
    std::fs::create_dir(&models).unwrap();
    train_into(&data, &models, Target::Infection180d, "logistic", 1);
    train_into(&data, &models, Target::Readmission30d, "logistic", 1);
    let settings = work.path().join("carescore.toml");
    std::fs::write(
        &settings,
        format!(
            "[[keys]]\nname = \"cms\"\nsha256 = \"{}\"\nscopes = [\"score\"]\n\n[[keys]]\nname = \"ops\"\nsha256 = \"{}\"\nscopes = [\"score\", \"underwrite\", \"admin\"]\n",
            sha256_hex(SCORE_KEY),
            sha256_hex(ADMIN_KEY)
        ),
    )
    .unwrap();
    let state = AppState::load(Sources {
        models: ModelSource::Directory(models.clone()),
        policy: None,
        settings: Some(settings),
    })
    .unwrap();
    let audit_path = work.path().join("audit.jsonl");
    let audit = carescore_serve::AuditLog::open(&audit_path, Some("a-salt-of-sixteen-chars"), false).unwrap();
    let address = start_service(state.with_audit(audit)).await;

    // One record of the table, as the CMS would send it.
    let dataset = load(&data, Target::Infection180d, Reading::FeaturesOnly).unwrap();
    let record = dataset.records[0].patient().unwrap().clone();
    let body = serde_json::to_string(&record).unwrap();

    // Auth: no key, unknown key, wrong scope, right scope.
    let reply = call(address, "POST", "/v1/score", None, &body).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        call(address, "POST", "/v1/score", Some("nope"), &body).await.status,
        401
    );
    assert_eq!(
        call(address, "POST", "/v1/underwriting/grade", Some(SCORE_KEY), &body)
            .await
            .status,
        403
    );
    assert_eq!(
        call(address, "POST", "/v1/admin/reload", Some(SCORE_KEY), "")
            .await
            .status,
        403
    );
    let reply = call(address, "POST", "/v1/score", Some(SCORE_KEY), &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let first = reply.json();
    assert_eq!(first["risks"]["infection_180d"]["model_version"], "infection_180d@1");
    assert_eq!(
        call(address, "POST", "/v1/underwriting/grade", Some(ADMIN_KEY), &body)
            .await
            .status,
        200
    );
    assert_eq!(call(address, "GET", "/v1/models", None, "").await.status, 401);
    let listed = call(address, "GET", "/v1/models", Some(SCORE_KEY), "").await.json();
    assert_eq!(listed["source"], "directory");
    assert_eq!(listed["models"][0]["estimator"], "logistic");
    // A batch with one invalid record among valid ones.
    let batch = format!("{{\"records\": [{body}, {{\"case_id\": \"broken\"}}, {body}]}}");
    let reply = call(address, "POST", "/v1/score/batch", Some(SCORE_KEY), &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    assert_eq!((json["scored"].as_u64(), json["failed"].as_u64()), (Some(2), Some(1)));
    assert_eq!(json["results"][1]["error"]["status"], 422);
    assert_eq!(json["results"][2]["ok"]["risks"], first["risks"]);
    let doc = call(address, "GET", "/openapi.json", None, "").await.json();
    assert!(doc["paths"]["/v1/admin/reload"]["post"].is_object());
    assert_eq!(
        call(address, "GET", "/healthz", None, "").await.status,
        200,
        "probes stay open"
    );

    // Online equals offline: `carescore-train predict` on the same table.
    let scores = work.path().join("scores.csv");
    carescore_train::commands::predict::run(&carescore_train::args::PredictArgs {
        model: models.join("infection_180d-1.json"),
        spec: None,
        data: data.clone(),
        out: scores.clone(),
        top: 3,
    })
    .unwrap();
    let offline = first_probability(&scores);
    let online = first["risks"]["infection_180d"]["probability"].as_f64().unwrap();
    assert_eq!(online, offline, "the service and predict give the same probability");

    // A new version is picked up on reload; answers change to it.
    train_into(&data, &models, Target::Infection180d, "gbdt", 2);
    let reply = call(address, "POST", "/v1/admin/reload", Some(ADMIN_KEY), "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["models"]["infection_180d"], "infection_180d@2");
    let second = call(address, "POST", "/v1/score", Some(SCORE_KEY), &body).await.json();
    assert_eq!(second["risks"]["infection_180d"]["model_version"], "infection_180d@2");
    assert_ne!(
        second["risks"]["infection_180d"]["probability"],
        first["risks"]["infection_180d"]["probability"]
    );

    // A corrupt version 3 is refused; version 2 keeps answering.
    let mut corrupt = std::fs::read_to_string(models.join("infection_180d-2.json")).unwrap();
    corrupt = corrupt.replacen("\"version\": 2", "\"version\": 3", 1);
    std::fs::File::create(models.join("infection_180d-3.json"))
        .unwrap()
        .write_all(corrupt.as_bytes())
        .unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", Some(ADMIN_KEY), "").await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.json()["detail"]
        .as_str()
        .unwrap()
        .contains("infection_180d-3.json: checksum mismatch"));
    let third = call(address, "POST", "/v1/score", Some(SCORE_KEY), &body).await.json();
    assert_eq!(third["risks"]["infection_180d"]["model_version"], "infection_180d@2");
    std::fs::remove_file(models.join("infection_180d-3.json")).unwrap();

    // A model of another horizon under the built-in target's name is refused.
    let second_artifact =
        carescore_core::ModelArtifact::from_json(&std::fs::read(models.join("infection_180d-2.json")).unwrap())
            .unwrap();
    let mut long = second_artifact.clone();
    (long.version, long.horizon_days) = (4, 365);
    std::fs::write(models.join("infection_180d-4.json"), long.to_json()).unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", Some(ADMIN_KEY), "").await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let detail = reply.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains(
            "infection_180d-4.json: infection_180d@4: predicts 365 days ahead, but `infection_180d` is a 180-day risk"
        ),
        "{detail}"
    );
    std::fs::remove_file(models.join("infection_180d-4.json")).unwrap();

    // A copy under another version's file name is refused: two models never share a name.
    std::fs::copy(
        models.join("infection_180d-2.json"),
        models.join("infection_180d-5.json"),
    )
    .unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", Some(ADMIN_KEY), "").await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let detail = reply.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains("infection_180d-5.json: the file name says version 5, the artifact is version 2"),
        "{detail}"
    );
    std::fs::remove_file(models.join("infection_180d-5.json")).unwrap();

    // The old models kept answering, and answers, /v1/models and the audit
    // trail name the artifact's checksum.
    let fourth = call(address, "POST", "/v1/score", Some(SCORE_KEY), &body).await.json();
    let risk = &fourth["risks"]["infection_180d"];
    assert_eq!(risk["model_version"], "infection_180d@2");
    assert_eq!(risk["model_sha256"], second_artifact.sha256.as_str());
    let listed = call(address, "GET", "/v1/models", Some(SCORE_KEY), "").await.json();
    assert_eq!(listed["models"][0]["model_sha256"], second_artifact.sha256.as_str());
    let grade = call(address, "POST", "/v1/underwriting/grade", Some(ADMIN_KEY), &body)
        .await
        .json();
    assert_eq!(grade["model_sha256"]["infection_180d"], second_artifact.sha256.as_str());
    let audit = std::fs::read_to_string(&audit_path).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["route"], "grade");
    assert_eq!(last["model_sha256"]["infection_180d"], second_artifact.sha256.as_str());
    let scored: serde_json::Value = serde_json::from_str(audit.lines().rev().nth(1).unwrap()).unwrap();
    assert_eq!(scored["model_versions"]["infection_180d"], "infection_180d@2");
    assert_eq!(
        scored["model_sha256"]["infection_180d"],
        second_artifact.sha256.as_str()
    );
    let first_line: serde_json::Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    assert_ne!(
        first_line["model_sha256"]["infection_180d"],
        scored["model_sha256"]["infection_180d"]
    );

    // Metrics saw it all (and need no key).
    let metrics = call(address, "GET", "/metrics", None, "").await;
    assert_eq!(metrics.status, 200);
    for line in [
        "carescore_reloads_total{result=\"ok\"} 1",
        "carescore_reloads_total{result=\"failed\"} 3",
        "carescore_requests_total{route=\"/v1/score\",status=\"401\"} 2",
        "carescore_requests_total{route=\"/v1/score\",status=\"200\"} 4",
        "carescore_requests_total{route=\"/v1/score/batch\",status=\"200\"} 1",
        "carescore_model_info{target=\"infection_180d\",model_version=\"infection_180d@2\"} 1",
        "carescore_records_total{outcome=\"valid\"}",
        "carescore_probability_count{target=\"infection_180d\"} 6",
        "carescore_records_total{outcome=\"invalid\"} 1",
    ] {
        assert!(metrics.body.contains(line), "{line} missing in\n{}", metrics.body);
    }

    // A built-in target's artifact removed: the reload is refused rather than
    // quietly falling back to the embedded default; the directory's model keeps serving.
    std::fs::rename(models.join("readmission_30d-1.json"), work.path().join("moved.json")).unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", Some(ADMIN_KEY), "").await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body.contains("no longer has an artifact for `readmission_30d`"),
        "{}",
        reply.body
    );
    let listed = call(address, "GET", "/v1/models", Some(SCORE_KEY), "").await.json();
    assert_eq!(listed["models"][1]["source"], "directory");
}

#[tokio::test]
async fn embedded_models_keep_serving_while_policy_and_keys_reload() {
    // Nothing on disk: nothing to reload.
    let address = carescore_e2e::start_default_service().await;
    let reply = call(address, "POST", "/v1/admin/reload", None, "").await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.header("content-type"), Some("application/problem+json"));
    let metrics = call(address, "GET", "/metrics", None, "").await;
    assert!(
        metrics.body.contains("carescore_reloads_total{result=\"refused\"} 1"),
        "{}",
        metrics.body
    );

    // Embedded models with a policy file and a settings file: both re-read.
    let work = tempfile::tempdir().unwrap();
    let policy = work.path().join("policy.toml");
    std::fs::write(&policy, "version = \"centre-1\"\n").unwrap();
    let settings = work.path().join("carescore.toml");
    let keys = |names: &[&str]| {
        names
            .iter()
            .map(|n| {
                format!(
                    "[[keys]]\nname = \"{n}\"\nsha256 = \"{}\"\nscopes = [\"score\", \"admin\"]\n",
                    sha256_hex(n)
                )
            })
            .collect::<String>()
    };
    std::fs::write(&settings, keys(&["admin-key-one"])).unwrap();
    let state = AppState::load(Sources {
        models: ModelSource::Embedded,
        policy: Some(policy.clone()),
        settings: Some(settings.clone()),
    })
    .unwrap();
    let address = start_service(state).await;
    let score = |key: &'static str| async move {
        call(
            address,
            "POST",
            "/v1/score",
            Some(key),
            carescore_core::EXAMPLE_RECORD_JSON,
        )
        .await
    };
    assert_eq!(score("admin-key-one").await.json()["policy_version"], "centre-1");
    std::fs::write(&policy, "version = \"centre-2\"\n").unwrap();
    std::fs::write(&settings, keys(&["admin-key-two"]) + "[limits]\nmax_in_flight = 7\n").unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", Some("admin-key-one"), "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reloaded = reply.json();
    assert_eq!(reloaded["policy_version"], "centre-2");
    assert_eq!(
        reloaded["models"]["infection_180d"], "infection_180d@1",
        "the models stay embedded"
    );
    assert_eq!(
        reloaded["restart_required"],
        serde_json::json!(["limits.max_in_flight"])
    );
    assert_eq!(score("admin-key-one").await.status, 401, "the old key is gone");
    let answer = score("admin-key-two").await;
    assert_eq!(answer.json()["policy_version"], "centre-2", "{}", answer.body);
    // A refused policy leaves everything as it was.
    std::fs::write(&policy, "[flags]\nmental_health_phq9 = 99\n").unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", Some("admin-key-two"), "").await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("flags.mental_health_phq9 = 99"),
        "{}",
        reply.body
    );
    assert_eq!(score("admin-key-two").await.json()["policy_version"], "centre-2");
    // A settings file without keys would open every route: refused.
    std::fs::write(&policy, "version = \"centre-3\"\n").unwrap();
    std::fs::write(&settings, "[limits]\nmax_in_flight = 7\n").unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", Some("admin-key-two"), "").await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.json()["detail"].as_str().unwrap().contains("lists no API key"),
        "{}",
        reply.body
    );
    assert_eq!(
        call(address, "POST", "/v1/score", None, carescore_core::EXAMPLE_RECORD_JSON)
            .await
            .status,
        401
    );
    assert_eq!(score("admin-key-two").await.json()["policy_version"], "centre-2");
}

#[tokio::test]
async fn a_key_over_its_rate_gets_429_with_retry_after() {
    let work = tempfile::tempdir().unwrap();
    let settings = format!(
        "[[keys]]\nname = \"cms\"\nsha256 = \"{}\"\nscopes = [\"score\"]\n[limits]\nrate_per_key_per_second = 2\n",
        sha256_hex(SCORE_KEY)
    );
    let address = carescore_e2e::start_embedded_with_settings(work.path(), &settings).await;
    let record = carescore_core::EXAMPLE_RECORD_JSON;
    let statuses: Vec<u16> = {
        let mut out = Vec::new();
        for _ in 0..3 {
            out.push(call(address, "POST", "/v1/score", Some(SCORE_KEY), record).await.status);
        }
        out
    };
    assert_eq!(statuses, [200, 200, 429]);
    let reply = call(address, "POST", "/v1/score", Some(SCORE_KEY), record).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(reply.json()["type"], "https://carescore.invalid/problems/rate-limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_model_is_served_after_a_reload_and_agrees_with_predict() {
    let (data, spec) = kidney_centre_example();
    let (data, spec) = (data.to_str().unwrap(), spec.to_str().unwrap());
    let work = tempfile::tempdir().unwrap();
    let trained = work.path().join("trained");
    carescore_train(&[
        "fit",
        "--data",
        data,
        "--spec",
        spec,
        "--out",
        trained.to_str().unwrap(),
        "--model",
        "logistic",
        "--interval-refits",
        "0",
        "--format",
        "json",
    ]);
    let models = work.path().join("models");
    std::fs::create_dir(&models).unwrap();
    let state = AppState::load(Sources {
        models: ModelSource::Directory(models.clone()),
        policy: None,
        settings: None,
    })
    .unwrap();
    let audit_path = work.path().join("audit.jsonl");
    let audit = carescore_serve::AuditLog::open(&audit_path, Some("a-salt-of-sixteen-chars"), false).unwrap();
    let address = start_service(state.with_audit(audit)).await;
    let score_path = "/v1/models/rejection_365d/score";

    // An empty directory serves the built-in targets from the embedded defaults, and no spec model.
    let listed = call(address, "GET", "/v1/models", None, "").await.json();
    let sources: Vec<&str> = listed["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["embedded", "embedded"]);
    let doc = call(address, "GET", "/openapi.json", None, "").await.json();
    assert!(doc["paths"][score_path].is_null());
    let input = r#"{"case_id": "kc-1", "recipient_age": 43.2, "donor_type": "living", "cold_ischaemia_hours": 1.4,
        "hla_mismatches": 0, "delayed_graft_function": false, "creatinine_day7_umol_l": 92}"#;
    assert_eq!(call(address, "POST", score_path, None, input).await.status, 404);

    // The artifact is copied in; a reload serves it, and the document describes it.
    std::fs::copy(
        trained.join("rejection_365d-1.json"),
        models.join("rejection_365d-1.json"),
    )
    .unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", None, "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["models"]["rejection_365d"], "rejection_365d@1");
    let doc = call(address, "GET", "/openapi.json", None, "").await.json();
    let input_schema = &doc["components"]["schemas"]["rejection_365d_input"];
    assert_eq!(
        input_schema["properties"]["donor_type"]["enum"],
        serde_json::json!(["living", "deceased_dbd", "deceased_dcd"])
    );
    assert_eq!(input_schema["properties"]["recipient_age"]["maximum"], 90.0);
    // Training saw frailty missing: it may be left out; the others may not.
    let required: Vec<&str> = input_schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        !required.contains(&"frailty_score") && required.contains(&"recipient_age"),
        "{required:?}"
    );
    assert_eq!(
        doc["paths"][score_path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/rejection_365d_input"
    );

    // Online equals offline: the first row of the table, as predict scores it.
    let reply = call(address, "POST", score_path, None, input).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(answer["model_version"], "rejection_365d@1");
    assert_eq!(answer["case_id"], "kc-1");
    let scores = work.path().join("scores.csv");
    carescore_train(&[
        "predict",
        "--model",
        models.join("rejection_365d-1.json").to_str().unwrap(),
        "--spec",
        spec,
        "--data",
        data,
        "--out",
        scores.to_str().unwrap(),
        "--top",
        "7",
    ]);
    let offline = first_probability(&scores);
    assert_eq!(
        answer["probability"].as_f64().unwrap(),
        offline,
        "the service and predict agree"
    );
    let thresholds = [0.15, 0.3];
    let band = ["low", "medium", "high"][thresholds.iter().filter(|t| offline > **t).count()];
    assert_eq!(answer["band"], band);
    assert_eq!(
        answer["flags"],
        if offline > 0.3 {
            serde_json::json!(["early_biopsy_review"])
        } else {
            serde_json::json!([])
        }
    );

    // Out of the spec's range: refused, naming the field and the range, never the value.
    let refused = call(address, "POST", score_path, None, &input.replace("43.2", "143.2")).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let error = &refused.json()["errors"][0];
    assert_eq!(
        (error["field"].as_str(), error["rule"].as_str()),
        (Some("recipient_age"), Some("out_of_range"))
    );
    assert_eq!(error["allowed"], "a number from 18 to 90");
    assert!(!refused.body.contains("143.2"));

    // The audit line names the model and hashes the case id; the metrics have the model's series.
    let audit = std::fs::read_to_string(&audit_path).unwrap();
    let line: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(line["route"], "model_score");
    assert_eq!(line["model_versions"]["rejection_365d"], "rejection_365d@1");
    assert_eq!(line["probabilities"]["rejection_365d"], answer["probability"]);
    assert!(!audit.contains("kc-1"), "case ids are only hashed");
    assert_eq!(line["case_id_sha256"].as_str().unwrap().len(), 64);
    let metrics = call(address, "GET", "/metrics", None, "").await.body;
    for expected in [
        "carescore_probability_count{target=\"rejection_365d\"} 1",
        "carescore_model_info{target=\"rejection_365d\",model_version=\"rejection_365d@1\"} 1",
        "carescore_requests_total{route=\"/v1/models/{target}/score\",status=\"200\"} 1",
        "carescore_requests_total{route=\"/v1/models/{target}/score\",status=\"404\"} 1",
    ] {
        assert!(metrics.contains(expected), "{expected} missing in\n{metrics}");
    }

    assert_eq!(answer["warnings"], serde_json::json!([]));
    // Inside the spec's range but below what training held (day-7
    // creatinine of 25 µmol/L, far below the 10th smallest in the table): scored, with a warning.
    let low = call(
        address,
        "POST",
        score_path,
        None,
        &input.replace("\"creatinine_day7_umol_l\": 92", "\"creatinine_day7_umol_l\": 25"),
    )
    .await;
    assert_eq!(low.status, 200, "{}", low.body);
    let warnings = &low.json()["warnings"];
    assert_eq!(warnings.as_array().unwrap().len(), 1, "{warnings}");
    assert_eq!(warnings[0]["field"], "creatinine_day7_umol_l");
    assert_eq!(warnings[0]["rule"], "outside_training_range");
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("is below ") && !message.contains("25"),
        "never the value: {message}"
    );

    // The contributions are predict's, to the digits it prints.
    let text = std::fs::read_to_string(&scores).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let factors_column = header.iter().position(|c| *c == "top_factors").unwrap();
    let printed = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(factors_column)
        .unwrap()
        .to_string();
    for factor in answer["contributions"].as_array().unwrap() {
        let (feature, contribution) = (
            factor["feature"].as_str().unwrap(),
            factor["contribution"].as_f64().unwrap(),
        );
        let shown = format!("{feature} = ");
        let at = printed
            .find(&shown)
            .unwrap_or_else(|| panic!("{feature} not in {printed}"));
        let rest = &printed[at..];
        let value = &rest[rest.find('(').unwrap() + 1..rest.find(')').unwrap()];
        assert_eq!(value, format!("{contribution:+.3}"), "{feature}: {printed}");
    }

    // A batch: one result per input, the invalid one refused on its own.
    let batch = format!("{{\"records\": [{input}, {{\"recipient_age\": \"old\"}}, {input}]}}");
    let reply = call(address, "POST", "/v1/models/rejection_365d/score/batch", None, &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let results = reply.json();
    assert_eq!(
        (results["scored"].as_u64(), results["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(results["results"][1]["error"]["status"], 422);
    assert_eq!(results["results"][2]["ok"]["probability"], answer["probability"]);

    // A second version (other folds) is picked up on reload, and answers change to it.
    carescore_train(&[
        "fit",
        "--data",
        data,
        "--spec",
        spec,
        "--out",
        trained.to_str().unwrap(),
        "--model",
        "logistic",
        "--interval-refits",
        "0",
        "--seed",
        "9",
        "--version",
        "2",
    ]);
    std::fs::copy(
        trained.join("rejection_365d-2.json"),
        models.join("rejection_365d-2.json"),
    )
    .unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", None, "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let second = call(address, "POST", score_path, None, input).await.json();
    assert_eq!(second["model_version"], "rejection_365d@2");
    assert_ne!(second["probability"], answer["probability"]);

    // A corrupt third version is refused, naming the file; the second keeps answering.
    let corrupt = std::fs::read_to_string(models.join("rejection_365d-2.json"))
        .unwrap()
        .replacen("\"version\": 2", "\"version\": 3", 1);
    std::fs::write(models.join("rejection_365d-3.json"), corrupt).unwrap();
    let reply = call(address, "POST", "/v1/admin/reload", None, "").await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body.contains("rejection_365d-3.json: checksum mismatch"),
        "{}",
        reply.body
    );
    let third = call(address, "POST", score_path, None, input).await.json();
    assert_eq!(third["model_version"], "rejection_365d@2");
    assert_eq!(third["probability"], second["probability"]);
}
