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
        let row = format!(
            "| {target} | {:.1} | {}-{} | {:.1} | {} of {} |",
            report["targets"][target]["expected_events"].as_f64().unwrap(),
            interval["low"],
            interval["high"],
            observed["estimated_events"].as_f64().unwrap(),
            observed["events_labelled"],
            observed["labelled"]
        );
        assert!(
            include_str!("../../docs/levers-and-programme.md").contains(&row),
            "docs/levers-and-programme.md lacks this run's row {row}"
        );
    }
    assert!(
        report["rows_sharing_a_patient"].as_u64().unwrap() > 0,
        "synth has several rows per patient"
    );
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

/// `programme` with `args`, its error as text when it fails.
fn programme(args: &[&str]) -> Result<(), String> {
    use clap::Parser as _;
    let argv = ["carescore-train", "programme"].into_iter().chain(args.iter().copied());
    let cli = carescore_train::args::Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    carescore_train::commands::run(cli).map_err(|e| format!("{e:#}"))
}

#[test]
fn tables_without_outcomes_or_with_half_of_one() {
    use polars::prelude::*;
    let work = tempfile::tempdir().unwrap();
    let full = work.path().join("full.csv");
    let full_s = full.display().to_string();
    carescore_train(&["synth", "--rows", "300", "--seed", "8", "--out", &full_s, "--quiet"]);
    let frame = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(full))
        .unwrap()
        .finish()
        .unwrap();
    let write = |name: &str, drop: &[&str]| {
        let path = work.path().join(name);
        let mut part = frame.drop_many(drop.iter().copied());
        CsvWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut part)
            .unwrap();
        path.display().to_string()
    };
    let page = work.path().join("p.html").display().to_string();
    let json_path = work.path().join("p.json");
    let json_s = json_path.display().to_string();

    let bare = write(
        "bare.csv",
        &[
            "infection_time_days",
            "infection_event",
            "readmission_time_days",
            "readmission_event",
        ],
    );
    programme(&["--data", &bare, "--out", &page, "--json", &json_s]).unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(report["observed"], json!({}), "no outcome columns, no observed figures");
    assert!(report["patients"].as_u64().unwrap() > 250);

    let half = write("half.csv", &["readmission_event"]);
    let error = programme(&["--data", &half, "--out", &page]).unwrap_err();
    assert!(error.contains("readmission_event"), "{error}");
    let half = write("half_infection.csv", &["infection_time_days"]);
    let error = programme(&["--data", &half, "--out", &page]).unwrap_err();
    assert!(error.contains("infection_time_days"), "{error}");

    let readmission_only = write("readmission_only.csv", &["infection_time_days", "infection_event"]);
    programme(&["--data", &readmission_only, "--out", &page, "--json", &json_s]).unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let observed: Vec<&String> = report["observed"].as_object().unwrap().keys().collect();
    assert_eq!(
        observed,
        ["readmission_30d"],
        "a table with one target's outcome is checked on it"
    );

    let error = programme(&["--data", &bare, "--out", "/no/such/dir/p.html"]).unwrap_err();
    assert!(error.contains("/no/such/dir: directory does not exist"), "{error}");
    let policy = work.path().join("policy.toml");
    std::fs::write(&policy, "[programme.caseload]\nremote = 0\n").unwrap();
    let error = programme(&[
        "--data",
        &bare,
        "--out",
        &page,
        "--policy",
        &policy.display().to_string(),
    ])
    .unwrap_err();
    assert!(error.contains("intensive and remote must be positive"), "{error}");
}
