//! Scoring one record with the default models, stage by stage, over 512
//! different records taken in turn (scoring one record again and again lets
//! the processor learn every branch, which real traffic never allows):
//! each model's probability and explanation; the `/v1/score` path from
//! request bytes to response bytes and its stages (parse and validate, score
//! both models with explanations and the policy, serialise); the underwriting
//! grade. `repeated/` runs the whole path on one record, for comparison.
//! `spec_model/` runs `/v1/models/{target}/score`'s path for a model
//! trained through a spec on the same records.
//!
//! `larger_models/` runs when `CARESCORE_BENCH_MODELS` names artifacts
//! (absolute paths separated by `:`, as cargo runs benchmarks from
//! `benches/`; built-in targets, e.g. a forest or a booster of more leaves
//! fitted by `carescore-train fit`; each named by its folder): per
//! artifact, scoring, the
//! explanation as served, and the explanation by Algorithm 2 of exact
//! TreeSHAP tree by tree (the reference the tables and the linear-time
//! algorithm are checked against), on the same records.

use carescore_core::artifact::{append_design, tree_shap, CompiledModel, DesignKind, Estimator};
use carescore_core::model_input::{parse_model_input, score_model_input};
use carescore_core::scoring::{score, underwrite, Models, Score};
use carescore_core::{parse_record, PatientRecord, Policy};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

/// Records in turn, one per iteration.
struct Rotation<T> {
    items: Vec<T>,
    next: usize,
}

impl<T> Rotation<T> {
    fn new(items: Vec<T>) -> Self {
        Rotation { items, next: 0 }
    }

    fn next(&mut self) -> &T {
        self.next = (self.next + 1) % self.items.len();
        &self.items[self.next]
    }
}

fn bytes_to_bytes(models: &Models, policy: &Policy, body: &[u8]) -> Vec<u8> {
    let screened = parse_record(body).expect("valid record");
    let answer = score(models, policy, &screened.record, screened.warnings);
    let mut out = Vec::with_capacity(2048);
    serde_json::to_writer(&mut out, &answer).expect("serialisable");
    out
}

fn bench_models(c: &mut Criterion, models: &Models, records: &[PatientRecord]) {
    let mut group = c.benchmark_group("model");
    group.throughput(Throughput::Elements(1));
    for (name, model) in [("infection", &models.infection), ("readmission", &models.readmission)] {
        let mut turn = Rotation::new(records.to_vec());
        group.bench_function(format!("{name}_predict"), |b| {
            b.iter(|| model.predict(black_box(turn.next())))
        });
        group.bench_function(format!("{name}_explain"), |b| {
            b.iter(|| model.explain(black_box(turn.next())))
        });
    }
    group.finish();
}

fn bench_request(c: &mut Criterion, models: &Models, bodies: &[String], records: &[PatientRecord]) {
    let policy = Policy::default();
    let mut group = c.benchmark_group("request");
    group.throughput(Throughput::Elements(1));
    let mut body = Rotation::new(bodies.to_vec());
    group.bench_function("bytes_to_bytes", |b| {
        b.iter(|| bytes_to_bytes(models, &policy, black_box(body.next().as_bytes())))
    });
    group.bench_function("stage_parse_validate", |b| {
        b.iter(|| parse_record(black_box(body.next().as_bytes())))
    });
    let mut record = Rotation::new(records.to_vec());
    group.bench_function("stage_score_both_with_policy", |b| {
        b.iter(|| score(models, &policy, black_box(record.next()), Vec::new()))
    });
    let answers: Vec<Score> = records.iter().map(|r| score(models, &policy, r, Vec::new())).collect();
    let mut answer = Rotation::new(answers);
    group.bench_function("stage_serialise", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(2048);
            serde_json::to_writer(&mut out, black_box(answer.next())).map(|()| out)
        })
    });
    group.bench_function("underwrite", |b| {
        b.iter(|| underwrite(models, &policy, black_box(record.next()), Vec::new()))
    });
    group.finish();
    let mut group = c.benchmark_group("repeated");
    group.throughput(Throughput::Elements(1));
    group.bench_function("bytes_to_bytes", |b| {
        b.iter(|| bytes_to_bytes(models, &policy, black_box(carescore_bench::SAMPLE_RECORD.as_bytes())))
    });
    group.finish();
}

/// A spec model's input from request bytes to response bytes, as
/// `POST /v1/models/{target}/score` does it (parse and check against the
/// artifact, score with the explanation, serialise).
fn spec_bytes_to_bytes(model: &CompiledModel, body: &[u8]) -> Vec<u8> {
    let input = parse_model_input(model.artifact(), body).expect("valid input");
    let answer = score_model_input(model, &input);
    let mut out = Vec::with_capacity(2048);
    serde_json::to_writer(&mut out, &answer).expect("serialisable");
    out
}

/// The spec model's path beside the built-in `/v1/score` path, on the same
/// records (the spec model is the infection model under another target, so
/// the model work is the same and the difference is the input handling).
fn bench_spec_model(c: &mut Criterion, bodies: &[String]) {
    let (artifact, inputs) = carescore_bench::spec_model_and_inputs(bodies);
    let model = artifact.compile();
    let mut group = c.benchmark_group("spec_model");
    group.throughput(Throughput::Elements(1));
    let mut input = Rotation::new(inputs);
    group.bench_function("bytes_to_bytes", |b| {
        b.iter(|| spec_bytes_to_bytes(&model, black_box(input.next().as_bytes())))
    });
    group.finish();
}

/// Explanations of the artifacts `CARESCORE_BENCH_MODELS` names, as
/// served and by Algorithm 2 tree by tree.
fn bench_larger_models(c: &mut Criterion, records: &[PatientRecord]) {
    let Ok(paths) = std::env::var("CARESCORE_BENCH_MODELS") else {
        return;
    };
    let mut group = c.benchmark_group("larger_models");
    group.throughput(Throughput::Elements(1));
    let mut names: Vec<String> = Vec::new();
    for path in paths.split(':').filter(|p| !p.is_empty()) {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let artifact = carescore_core::ModelArtifact::from_json(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        let trees = match &artifact.estimator {
            Estimator::BoostedTrees { trees, .. } | Estimator::RandomForest { trees } => trees.clone(),
            Estimator::Logistic { .. } => panic!("{path}: not a tree model"),
        };
        // The artifact's folder (`forest/infection_180d-1.json` is
        // `forest`), else its file name; numbered when taken already.
        let file = std::path::Path::new(path);
        let mut name = file
            .parent()
            .and_then(|d| d.file_name())
            .or_else(|| file.file_stem())
            .map_or_else(|| artifact.target.clone(), |d| d.to_string_lossy().into_owned());
        if names.contains(&name) {
            name = format!("{name}_{}", names.len() + 1);
        }
        names.push(name.clone());
        let model = artifact.compile();
        let mut turn = Rotation::new(records.to_vec());
        group.bench_function(format!("{name}_predict"), |b| {
            b.iter(|| model.predict(black_box(turn.next())))
        });
        group.bench_function(format!("{name}_explain"), |b| {
            b.iter(|| model.explain(black_box(turn.next())))
        });
        let designs: Vec<Vec<f64>> = records
            .iter()
            .map(|r| {
                let mut design = Vec::new();
                append_design(&artifact.features, DesignKind::Raw, r, &mut design);
                design
            })
            .collect();
        let mut design = Rotation::new(designs);
        group.bench_function(format!("{name}_algorithm_2"), |b| {
            b.iter(|| {
                let x = black_box(design.next());
                let mut phi = vec![0.0; x.len()];
                for tree in &trees {
                    tree_shap::tree_shap(tree, x, &mut phi);
                }
                phi
            })
        });
    }
    group.finish();
}

fn bench_scoring(c: &mut Criterion) {
    let models = carescore_bench::default_models();
    let bodies = carescore_bench::varied_records(512, 7);
    let records: Vec<PatientRecord> = bodies
        .iter()
        .map(|b| parse_record(b.as_bytes()).expect("valid").record)
        .collect();
    bench_models(c, &models, &records);
    bench_request(c, &models, &bodies, &records);
    bench_spec_model(c, &bodies);
    bench_larger_models(c, &records);
}

/// The service's allocator (see `carescore-serve`'s `main.rs`), so the
/// figures are those of the code as it runs in the service.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

criterion_group!(benches, bench_scoring);
criterion_main!(benches);
