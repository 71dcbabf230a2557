//! Training another data set through a TOML spec (`--spec FILE`): fit, cv,
//! evaluate, predict and report, and the errors a wrong spec or table gets.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carescore-train"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn assert_ok(output: &Output) {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

fn assert_fails_with(output: &Output, needle: &str) {
    assert_eq!(output.status.code(), Some(1), "an error exit, not a panic");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains(needle), "{stderr}");
}

/// A small deterministic generator (the test needs no statistical quality).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An ICU-like table: risk rises with age, on ward `icu` and with diabetes;
/// about 10% of rows are censored early. Row 7's age is out of the spec's range.
fn table(dir: &Path) -> PathBuf {
    let mut rng = Lcg(11);
    let mut csv = String::from("patient,visit_date,age,ward,diabetic,followup_days,readmitted,outcome\n");
    for i in 0..3000 {
        let age = if i == 7 { 250.0 } else { 20.0 + 70.0 * rng.next() };
        let ward = ["icu", "medical", "surgical"][(rng.next() * 3.0) as usize];
        let diabetic = u8::from(rng.next() < 0.3);
        let logit = -3.0 + 0.03 * (age - 50.0) + if ward == "icu" { 1.2 } else { 0.0 } + f64::from(diabetic) * 0.7;
        let p = 1.0 / (1.0 + (-logit).exp());
        let event = rng.next() < p;
        let censored_early = rng.next() < 0.1;
        let (days, flag) = match (event, censored_early) {
            (true, _) => (1 + (rng.next() * 25.0) as u32, 1),
            (false, true) => (1 + (rng.next() * 20.0) as u32, 0),
            (false, false) => (30 + (rng.next() * 100.0) as u32, 0),
        };
        let date = format!("2024-{:02}-{:02}", 1 + i * 12 / 3000, 1 + i % 28);
        // Some ages are missing.
        let age_cell = if i % 50 == 3 {
            String::new()
        } else {
            format!("{age:.1}")
        };
        let _ = writeln!(
            csv,
            "{},{date},{age_cell},{ward},{diabetic},{days},{flag},{}",
            i / 3,
            u8::from(event)
        );
    }
    let path = dir.join("icu.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

const FEATURES: &str = r#"
[[features]]
name = "age"
kind = "numeric"
min = 18
max = 110

[[features]]
name = "ward"
kind = "categorical"

[[features]]
name = "diabetic"
kind = "boolean"
"#;

fn spec(dir: &Path, name: &str, head: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{head}\n{FEATURES}")).unwrap();
    path
}

#[test]
fn a_spec_trains_evaluates_predicts_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let data = table(dir.path());
    let timed = spec(
        dir.path(),
        "timed.toml",
        "target = \"icu_readmission_30d\"\ntime_column = \"followup_days\"\nevent_column = \"readmitted\"\n\
         horizon_days = 30\ngroup_column = \"patient\"\ndate_column = \"visit_date\"\n\
         [[flags]]\nname = \"early_review\"\nabove = 0.25",
    );
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = dir.path().join("models");
    let fit = train(&[
        "fit",
        "--data",
        &s(&data),
        "--spec",
        &s(&timed),
        "--out",
        &s(&out),
        "--model",
        "logistic",
        "--format",
        "json",
        "--interval-refits",
        "0",
    ]);
    assert_ok(&fit);
    let summary: serde_json::Value = serde_json::from_slice(&fit.stdout).unwrap();
    assert_eq!(summary["model_version"], "icu_readmission_30d@1");
    assert_eq!(summary["rows_excluded"], 1, "the age of 250 is outside the spec");
    let auc = summary["metrics"]["auc"].as_f64().unwrap();
    assert!(auc > 0.62, "{summary}");
    let artifact_path = out.join("icu_readmission_30d-1.json");
    let artifact: serde_json::Value = serde_json::from_slice(&std::fs::read(&artifact_path).unwrap()).unwrap();
    assert_eq!(artifact["horizon_days"], 30);
    let names: Vec<&str> = artifact["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["age", "ward", "diabetic"], "the spec's features, in its order");
    assert_eq!(
        artifact["features"][1]["kind"]["categories"],
        serde_json::json!(["icu", "medical", "surgical"]),
        "categories seen in training"
    );
    assert_eq!(artifact["features"][0]["missing_indicator"], true);
    // What serving needs travels in the artifact: the outcome, the spec's
    // range (never the range seen in training) and the operating thresholds.
    assert_eq!(artifact["format"], "carescore.model/2");
    assert_eq!(
        artifact["label_rule"],
        serde_json::json!({"type": "time_to_event", "time_column": "followup_days", "event_column": "readmitted", "censoring": "ipcw"})
    );
    assert_eq!(
        artifact["features"][0]["allowed_range"],
        serde_json::json!({"min": 18.0, "max": 110.0})
    );
    assert!(artifact["features"][1].get("allowed_range").is_none());
    assert_eq!(
        artifact["operating_thresholds"],
        serde_json::json!([0.1, 0.2]),
        "the spec's default thresholds"
    );
    assert_eq!(
        artifact["flags"],
        serde_json::json!([{"name": "early_review", "above": 0.25}])
    );
    // The ICU ward and diabetes raise the risk (coefficients after the age column and its missing indicator).
    let coefficients = artifact["estimator"]["coefficients"].as_array().unwrap();
    assert!(coefficients[2].as_f64().unwrap() > 0.5, "icu: {coefficients:?}");
    assert!(coefficients[5].as_f64().unwrap() > 0.3, "diabetic: {coefficients:?}");
    let card = std::fs::read_to_string(out.join("icu_readmission_30d-1.model-card.md")).unwrap();
    assert!(
        card.contains("trained through a training spec") && card.contains("ward=icu"),
        "{card}"
    );
    let html = std::fs::read_to_string(out.join("icu_readmission_30d-1.report.html")).unwrap();
    // ROC, calibration, decision curve, importance, and the temporal hold-out's calibration.
    assert_eq!(html.matches("<svg").count(), 5);

    // Scoring the artifact needs its spec.
    let artifact_arg = s(&artifact_path);
    assert_fails_with(
        &train(&["evaluate", "--model", &artifact_arg, "--data", &s(&data)]),
        "not a built-in target: pass the spec it was trained with (--spec FILE)",
    );
    let evaluation = train(&[
        "evaluate",
        "--model",
        &artifact_arg,
        "--data",
        &s(&data),
        "--spec",
        &s(&timed),
    ]);
    assert_ok(&evaluation);
    let json: serde_json::Value = serde_json::from_slice(&evaluation.stdout).unwrap();
    assert!(json["auc"].as_f64().unwrap() > 0.62, "{json}");
    assert!(json["subgroups"]["ward=icu"]["rows"].as_u64().unwrap() > 500, "{json}");
    let scores = dir.path().join("scores.csv");
    let predict = train(&[
        "predict",
        "--model",
        &artifact_arg,
        "--data",
        &s(&data),
        "--spec",
        &s(&timed),
        "--out",
        &s(&scores),
    ]);
    assert_ok(&predict);
    let text = std::fs::read_to_string(&scores).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("patient,visit_date,model,probability"), "{header}");
    assert_eq!(text.lines().count(), 3001);
    // One scoring path: the same rows sent as the model's JSON input score
    // bit for bit as `predict` scored them (row 3 has no age, which training
    // saw missing).
    let artifact = carescore_core::ModelArtifact::from_json(&std::fs::read(&artifact_path).unwrap()).unwrap();
    let model = artifact.compile();
    let table_text = std::fs::read_to_string(&data).unwrap();
    for (table_line, score_line) in table_text.lines().skip(1).zip(text.lines().skip(1)).take(10) {
        let cells: Vec<&str> = table_line.split(',').collect();
        let age = if cells[2].is_empty() { "null" } else { cells[2] };
        let body = format!(
            r#"{{"case_id": "p{}", "age": {age}, "ward": "{}", "diabetic": {}}}"#,
            cells[0],
            cells[3],
            cells[4] == "1"
        );
        let predicted = score_line.split(',').nth(3).unwrap();
        match carescore_core::model_input::parse_model_input(&artifact, body.as_bytes()) {
            Ok(input) => {
                let score = carescore_core::model_input::score_model_input(&model, &input);
                let predicted: f64 = predicted.parse().unwrap();
                assert_eq!(score.probability.to_bits(), predicted.to_bits(), "{body}: {score_line}");
            }
            // Refused by both: row 7's age of 250 is outside the spec's range.
            Err(e) => assert!(
                predicted.is_empty() && cells[2] == "250.0",
                "{body}: {e:?} / {score_line}"
            ),
        }
    }
    let page = dir.path().join("again.html");
    assert_ok(&train(&[
        "report",
        "--model",
        &artifact_arg,
        "--data",
        &s(&data),
        "--spec",
        &s(&timed),
        "--out",
        &s(&page),
    ]));

    // A label-column spec: no horizon, no censoring, every family.
    let labelled = spec(
        dir.path(),
        "label.toml",
        "target = \"icu_outcome\"\nlabel_column = \"outcome\"\ngroup_column = \"patient\"\noperating_thresholds = [0.3]",
    );
    let cv = train(&[
        "cv",
        "--data",
        &s(&data),
        "--spec",
        &s(&labelled),
        "--folds",
        "3",
        "--repeats",
        "1",
    ]);
    assert_ok(&cv);
    // Three families and the nested auto pipeline.
    assert_eq!(String::from_utf8_lossy(&cv.stdout).lines().count(), 4);
    let fit = train(&[
        "fit",
        "--data",
        &s(&data),
        "--spec",
        &s(&labelled),
        "--out",
        &s(&out),
        "--model",
        "forest",
        "--format",
        "json",
        "--interval-refits",
        "0",
    ]);
    assert_ok(&fit);
    let artifact: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("icu_outcome-1.json")).unwrap()).unwrap();
    assert_eq!(artifact["horizon_days"], 0);
    assert_eq!(
        artifact["label_rule"],
        serde_json::json!({"type": "label_column", "column": "outcome"})
    );
    assert_eq!(artifact["operating_thresholds"], serde_json::json!([0.3]));
    assert!(artifact.get("flags").is_none(), "no flags declared: none written");
    assert_eq!(artifact["training_data"]["rows"], 2999, "every kept row has a label");
    assert_fails_with(
        &train(&[
            "evaluate",
            "--model",
            &s(&out.join("icu_outcome-1.json")),
            "--data",
            &s(&data),
            "--spec",
            &s(&timed),
        ]),
        "the spec is for target `icu_readmission_30d`, the artifact predicts `icu_outcome`",
    );
}

#[test]
fn a_wrong_spec_or_table_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = table(dir.path());
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = s(&dir.path().join("models"));
    let fit_with = |spec: &Path| train(&["fit", "--data", &s(&data), "--spec", &s(spec), "--out", &out]);
    let missing_feature = dir.path().join("missing.toml");
    std::fs::write(
        &missing_feature,
        "target = \"x\"\nlabel_column = \"outcome\"\n[[features]]\nname = \"bmi\"\nkind = \"numeric\"\n",
    )
    .unwrap();
    assert_fails_with(
        &fit_with(&missing_feature),
        "missing column `bmi` (a feature of the spec)",
    );
    let text_as_number = dir.path().join("ward.toml");
    std::fs::write(
        &text_as_number,
        "target = \"x\"\nlabel_column = \"outcome\"\n[[features]]\nname = \"ward\"\nkind = \"numeric\"\n",
    )
    .unwrap();
    assert_fails_with(&fit_with(&text_as_number), "column `ward`: expected numbers, found str");
    let label_is_text = dir.path().join("label.toml");
    std::fs::write(
        &label_is_text,
        "target = \"x\"\nlabel_column = \"ward\"\n[[features]]\nname = \"age\"\nkind = \"numeric\"\n",
    )
    .unwrap();
    assert_fails_with(&fit_with(&label_is_text), "column `ward`: expected true/false or 0/1");
    let narrow = dir.path().join("narrow.toml");
    std::fs::write(
        &narrow,
        "target = \"x\"\nlabel_column = \"outcome\"\n[[features]]\nname = \"age\"\nkind = \"numeric\"\nmax = 40\n",
    )
    .unwrap();
    assert_fails_with(&fit_with(&narrow), "most often in: age (");
    let bad_toml = dir.path().join("bad.toml");
    std::fs::write(&bad_toml, "target = \n").unwrap();
    assert_fails_with(
        &fit_with(&bad_toml),
        "bad.toml: TOML error at line 1, column 10: string values must be quoted",
    );
    assert_fails_with(
        &fit_with(&dir.path().join("none.toml")),
        "none.toml: cannot read the spec",
    );
    let both = train(&[
        "fit",
        "--data",
        &s(&data),
        "--spec",
        &s(&narrow),
        "--target",
        "infection_180d",
        "--out",
        &out,
    ]);
    assert_eq!(both.status.code(), Some(2), "clap refuses --target with --spec");
    assert!(std::fs::read_dir(dir.path().join("models")).is_err(), "nothing written");
}
