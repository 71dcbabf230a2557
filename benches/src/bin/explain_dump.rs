//! Prints, for varied records and each default model, the raw design row
//! the trees see and CareScore's explanation of it, as JSON lines: what
//! `benches/shap/check.py` compares with the `shap` package's TreeSHAP on
//! the same trees.
//!
//! Usage: `carescore-explain-dump [RECORDS [SEED]]` (default 1000 records, seed 7).

#![forbid(unsafe_code)]

use std::io::Write;

use carescore_core::artifact::{append_design, DesignKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let records: usize = args.next().map_or(Ok(1000), |a| a.parse()).unwrap_or_else(|_| {
        eprintln!("usage: carescore-explain-dump [RECORDS [SEED]]");
        std::process::exit(2)
    });
    let seed: u64 = args.next().map_or(Ok(7), |a| a.parse()).unwrap_or_else(|_| {
        eprintln!("usage: carescore-explain-dump [RECORDS [SEED]]");
        std::process::exit(2)
    });
    let models = carescore_bench::default_models();
    let compiled: Vec<_> = models
        .iter()
        .into_iter()
        .map(|(target, artifact)| (target, artifact, artifact.compile()))
        .collect();
    let mut out = std::io::stdout().lock();
    for text in carescore_bench::varied_records(records, seed) {
        let record = carescore_core::parse_record(text.as_bytes())
            .expect("varied records pass validation")
            .record;
        for (target, artifact, model) in &compiled {
            let mut design = Vec::new();
            append_design(&artifact.features, DesignKind::Raw, &record, &mut design);
            let explanation = model.explain(&record);
            // JSON has no NaN: a missing value is null.
            let design: Vec<Option<f64>> = design.iter().map(|v| (!v.is_nan()).then_some(*v)).collect();
            let line = serde_json::json!({
                "target": target,
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
