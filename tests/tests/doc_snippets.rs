//! Every TOML and JSON snippet of the README and `docs/` is read by the code
//! it documents: a TOML block must load as a policy, a settings file or a
//! training spec; a JSON block must parse, and an answer to the example
//! record, or to the example input of the kidney centre's spec model, must
//! agree with what the service answers (every key shown, with the value
//! shown, to the digits shown).

use std::path::{Path, PathBuf};

use carescore_core::{parse_record, Policy, EXAMPLE_RECORD_JSON};
use serde_json::Value;

/// A fenced block: its file, line, language and text.
struct Block {
    place: String,
    language: String,
    text: String,
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The documents whose snippets are checked.
fn documents() -> Vec<PathBuf> {
    let root = repository();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The ```toml and ```json blocks of `text`.
fn blocks(file: &str, text: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start();
        match &mut open {
            None => {
                if let Some(language) = fence.strip_prefix("```") {
                    open = Some((i + 1, language.trim().to_string(), String::new()));
                }
            }
            Some((start, language, body)) => {
                // CommonMark closes a block only with a fence alone on its line.
                if fence.trim_end() == "```" {
                    if language == "toml" || language == "json" {
                        found.push(Block {
                            place: format!("{file}:{start}"),
                            language: std::mem::take(language),
                            text: std::mem::take(body),
                        });
                    }
                    open = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "{file}: a fenced block is not closed");
    found
}

fn all_blocks() -> Vec<Block> {
    documents()
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).expect("a readable document");
            let name = path.strip_prefix(repository()).unwrap_or(path).display().to_string();
            blocks(&name, &text)
        })
        .collect()
}

/// The settings example's placeholder hash (`"<printf ... | sha256sum>"`) stands for a real one.
fn with_placeholders_filled(text: &str) -> String {
    match (text.find("\"<"), text.find(">\"")) {
        (Some(start), Some(end)) if end > start => {
            format!("{}\"{}\"{}", &text[..start], "0".repeat(64), &text[end + 2..])
        }
        _ => text.to_string(),
    }
}

/// Which reader accepts a TOML block, or every reader's refusal.
fn toml_reader(text: &str) -> Result<&'static str, String> {
    let text = with_placeholders_filled(text);
    let policy = Policy::from_toml(&text).map(|_| "policy").map_err(|e| e.to_string());
    let settings = carescore_serve::Settings::parse(&text, Path::new("snippet.toml"))
        .map(|_| "settings")
        .map_err(|e| e.to_string());
    let spec = carescore_train::spec::Spec::parse(&text, "snippet.toml")
        .map(|_| "spec")
        .map_err(|e| e.to_string());
    // An empty block would pass every reader: it documents nothing.
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err("the block has no keys".to_string());
    }
    match (policy, settings, spec) {
        (Ok(kind), _, _) | (_, Ok(kind), _) | (_, _, Ok(kind)) => Ok(kind),
        (Err(p), Err(s), Err(t)) => Err(format!("as a policy: {p}\nas settings: {s}\nas a spec: {t}")),
    }
}

/// Whether `shown` (a documented value) agrees with `actual`: numbers to the
/// digits shown, objects key by key, arrays as a prefix (abridged lists).
fn agrees(shown: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    match (shown, actual) {
        (Value::Object(s), Value::Object(a)) => {
            for (key, value) in s {
                if key == "request_id" {
                    continue;
                }
                match a.get(key) {
                    Some(v) => agrees(value, v, &format!("{path}.{key}"), problems),
                    None => problems.push(format!("{path}.{key}: not in the answer")),
                }
            }
        }
        (Value::Array(s), Value::Array(a)) => {
            if s.len() > a.len() {
                problems.push(format!("{path}: {} items shown, {} answered", s.len(), a.len()));
            }
            for (i, (x, y)) in s.iter().zip(a).enumerate() {
                agrees(x, y, &format!("{path}[{i}]"), problems);
            }
        }
        (Value::Number(s), Value::Number(a)) => {
            let (x, y) = (s.as_f64().unwrap_or(f64::NAN), a.as_f64().unwrap_or(f64::NAN));
            let digits = s.to_string().split_once('.').map_or(0, |(_, d)| d.len());
            let tolerance = 0.5 * 10f64.powi(-(digits as i32)) + 1e-12;
            if (x - y).abs() > tolerance {
                problems.push(format!("{path}: shown {x}, answered {y}"));
            }
        }
        _ if shown == actual => {}
        _ => problems.push(format!("{path}: shown {shown}, answered {actual}")),
    }
}

/// The service's answer to the example record, as JSON.
fn example_answer() -> Value {
    let state = carescore_serve::AppState::embedded().expect("embedded models");
    let live = state.live.load();
    let screened = parse_record(EXAMPLE_RECORD_JSON.as_bytes()).expect("the example record is valid");
    let score = carescore_core::scoring::score(&live.models, &live.policy, &screened.record, screened.warnings);
    serde_json::to_value(score).expect("a score serialises")
}

/// The levers answer to the example record with the values a shown levers
/// answer gives for its inputs (`levers[].field` and `value`: the docs show
/// the example record with, say, a lower adherence), as JSON.
fn levers_answer(shown: &Value) -> Value {
    let mut record: Value = serde_json::from_str(EXAMPLE_RECORD_JSON).expect("the example record is JSON");
    for lever in shown["levers"].as_array().into_iter().flatten() {
        if let (Some(field), Some(value)) = (lever["field"].as_str(), lever.get("value")) {
            record[field] = value.clone();
        }
    }
    let state = carescore_serve::AppState::embedded().expect("embedded models");
    let live = state.live.load();
    let screened = parse_record(record.to_string().as_bytes()).expect("the documented input is valid");
    let answer = carescore_core::levers::levers(&live.models, &live.policy, &screened.record, screened.warnings);
    serde_json::to_value(answer).expect("a levers answer serialises")
}

/// The input the docs score with the kidney centre's spec model.
const KIDNEY_INPUT: &str = r#"{"case_id": "kc-1", "recipient_age": 43.2, "donor_type": "living", "cold_ischaemia_hours": 1.4,
 "hla_mismatches": 0, "delayed_graft_function": false, "creatinine_day7_umol_l": 92}"#;

/// The service's answer to [`KIDNEY_INPUT`] with the model `fit` trains on
/// the kidney centre example (as the README's commands do), as JSON.
fn kidney_answer() -> Value {
    let (data, spec) = carescore_e2e::kidney_centre_example();
    let models = tempfile::tempdir().unwrap();
    let out = models.path().to_str().unwrap();
    // The refits only widen the reported intervals; the model is the same without them.
    carescore_e2e::carescore_train(&[
        "fit",
        "--data",
        data.to_str().unwrap(),
        "--spec",
        spec.to_str().unwrap(),
        "--out",
        out,
        "--interval-refits",
        "0",
        "--format",
        "json",
    ]);
    let state = carescore_serve::AppState::load(carescore_serve::Sources {
        models: carescore_serve::ModelSource::Directory(models.path().to_path_buf()),
        policy: None,
        settings: None,
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let address = carescore_e2e::start_service(state).await;
        let headers = [("Content-Type", "application/json")];
        let path = "/v1/models/rejection_365d/score";
        let reply = carescore_e2e::http(address, "POST", path, &headers, KIDNEY_INPUT.as_bytes())
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    })
}

#[test]
fn every_toml_snippet_loads_and_every_json_snippet_parses() {
    let blocks = all_blocks();
    let answer = example_answer();
    let kidney = kidney_answer();
    let mut problems = Vec::new();
    let (mut toml, mut json, mut answers) = (0, 0, 0);
    for block in &blocks {
        match block.language.as_str() {
            "toml" => {
                toml += 1;
                if let Err(why) = toml_reader(&block.text) {
                    problems.push(format!("{}: refused\n{why}", block.place));
                }
            }
            _ => {
                json += 1;
                match serde_json::from_str::<Value>(&block.text) {
                    Err(e) => problems.push(format!("{}: not JSON: {e}", block.place)),
                    // A levers answer to the example record (with the inputs it shows).
                    Ok(shown) if shown.get("case_id") == Some(&"c-102".into()) && shown.get("levers").is_some() => {
                        answers += 1;
                        let mut differences = Vec::new();
                        agrees(&shown, &levers_answer(&shown), "", &mut differences);
                        if !differences.is_empty() {
                            problems.push(format!("{}: {}", block.place, differences.join("; ")));
                        }
                    }
                    // An answer to the example record: what the service answers.
                    Ok(shown) if shown.get("case_id") == Some(&"c-102".into()) && shown.get("risks").is_some() => {
                        answers += 1;
                        let mut differences = Vec::new();
                        agrees(&shown, &answer, "", &mut differences);
                        if !differences.is_empty() {
                            problems.push(format!("{}: {}", block.place, differences.join("; ")));
                        }
                    }
                    // An answer of the kidney centre's model to its example input.
                    Ok(shown) if shown.get("target") == Some(&"rejection_365d".into()) => {
                        answers += 1;
                        let mut differences = Vec::new();
                        agrees(&shown, &kidney, "", &mut differences);
                        if !differences.is_empty() {
                            problems.push(format!("{}: {}", block.place, differences.join("; ")));
                        }
                    }
                    Ok(_) => {}
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    // The documents hold a policy, a settings file and a spec, and at least
    // two answers to the example record; a renamed fence must not hide them.
    assert!(
        toml >= 4 && json >= 4 && answers >= 4,
        "toml {toml}, json {json}, answers {answers}"
    );
}

#[test]
fn the_checker_finds_wrong_snippets() {
    assert!(toml_reader("[bands.infection_180d]\nmedium = 0.15\n").is_ok());
    assert!(
        toml_reader("[flags]\nmental_health_phq9 = 99\n").is_err(),
        "an unreachable threshold"
    );
    assert!(toml_reader("# only a comment\n").is_err());
    let answer = example_answer();
    let mut differences = Vec::new();
    let mut shown = serde_json::json!({"case_id": "c-102", "recommended_tier": answer["recommended_tier"]});
    agrees(&shown, &answer, "", &mut differences);
    assert!(differences.is_empty(), "{differences:?}");
    shown["risks"] = serde_json::json!({"infection_180d": {"probability": 0.999}});
    agrees(&shown, &answer, "", &mut differences);
    assert_eq!(differences.len(), 1, "{differences:?}");
    let blocks = blocks(
        "x.md",
        "text\n```toml\na = 1\n```\n```sh\nls\n```\n  ```json\n  {}\n  ```\n```json\n{}\n``` not a fence\n```\n",
    );
    assert_eq!(blocks.len(), 3);
    assert_eq!(
        (blocks[0].place.as_str(), blocks[1].language.as_str()),
        ("x.md:2", "json")
    );
    assert_eq!(
        blocks[2].text, "{}\n``` not a fence\n",
        "text after a fence does not close the block"
    );
}
