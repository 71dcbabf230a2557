//! Prints, for varied records and each model, the raw design row the trees
//! see and CareScore's explanation of it, as JSON lines: what
//! `benches/shap/check.py` compares with the `shap` package's TreeSHAP on
//! the same trees.
//!
//! Usage: `carescore-explain-dump [--model ARTIFACT]... [RECORDS [SEED]]`
//! (default: the two default models, 1000 records, seed 7). The records
//! are the patient records of the benchmarks, so a model must be one of the
//! built-in targets' (its features record fields).

#![forbid(unsafe_code)]

use std::io::Write;

use carescore_core::artifact::{append_design, DesignKind};
use carescore_core::ModelArtifact;

const USAGE: &str = "usage: carescore-explain-dump [--model ARTIFACT]... [RECORDS [SEED]]";

fn fail(message: &str) -> ! {
    eprintln!("{message}\n{USAGE}");
    std::process::exit(2)
}

fn main() {
    let mut artifacts: Vec<ModelArtifact> = Vec::new();
    let mut numbers: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--model" {
            let path = args.next().unwrap_or_else(|| fail("--model needs an artifact path"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
            let artifact = ModelArtifact::from_json(&bytes).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
            // The records are patient records: a feature that is no record
            // field would be missing in every row, and the check trivial.
            if let Some(f) = artifact
                .features
                .iter()
                .find(|f| carescore_core::Field::from_name(&f.name).is_none())
            {
                fail(&format!(
                    "{path}: feature `{}` is not a patient record field (a model of a built-in target is needed)",
                    f.name
                ));
            }
            artifacts.push(artifact);
        } else {
            numbers.push(arg);
        }
    }
    if numbers.len() > 2 {
        fail("too many arguments");
    }
    let records: usize = numbers
        .first()
        .map_or(Ok(1000), |a| a.parse())
        .unwrap_or_else(|_| fail("RECORDS must be a whole number"));
    let seed: u64 = numbers
        .get(1)
        .map_or(Ok(7), |a| a.parse())
        .unwrap_or_else(|_| fail("SEED must be a whole number"));
    if artifacts.is_empty() {
        let models = carescore_bench::default_models();
        artifacts = models.iter().into_iter().map(|(_, a)| a.clone()).collect();
    }
    let compiled: Vec<_> = artifacts.iter().map(|a| (a, a.compile())).collect();
    let mut out = std::io::stdout().lock();
    for text in carescore_bench::varied_records(records, seed) {
        let record = carescore_core::parse_record(text.as_bytes())
            .expect("varied records pass validation")
            .record;
        for (artifact, model) in &compiled {
            let mut design = Vec::new();
            append_design(&artifact.features, DesignKind::Raw, &record, &mut design);
            let explanation = model.explain(&record);
            // JSON has no NaN: a missing value is null.
            let design: Vec<Option<f64>> = design.iter().map(|v| (!v.is_nan()).then_some(*v)).collect();
            let line = serde_json::json!({
                "target": artifact.target,
                "model_sha256": artifact.sha256,
                "design": design,
                "base_value": explanation.base_value,
                "raw": explanation.raw,
                "contributions": explanation.contributions,
            });
            // A closed pipe (e.g. `| head`) ends the output quietly.
            if writeln!(out, "{line}").is_err() {
                return;
            }
        }
    }
}
