//! Scoring one record with the default models: the raw output of each model,
//! a full `/v1/score` body (both models with explanations, policy), and the
//! underwriting grade (risks averaged over the protected attributes), and the
//! whole in-process path of `/v1/score` from request bytes to response bytes.

use carescore_bench::SAMPLE_RECORD;
use carescore_core::scoring::{score, underwrite, Models};
use carescore_core::{parse_record, Policy};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn models() -> Models {
    carescore_bench::default_models()
}

fn bench_scoring(c: &mut Criterion) {
    let models = models();
    let policy = Policy::default();
    let record = parse_record(SAMPLE_RECORD.as_bytes()).expect("valid sample").record;
    let mut group = c.benchmark_group("scoring");
    group.throughput(Throughput::Elements(1));
    group.bench_function("infection_predict", |b| {
        b.iter(|| models.infection.predict(black_box(&record)))
    });
    group.bench_function("infection_explain", |b| {
        b.iter(|| models.infection.explain(black_box(&record)))
    });
    group.bench_function("score_both_with_policy", |b| {
        b.iter(|| score(&models, &policy, black_box(&record), Vec::new()))
    });
    group.bench_function("underwrite", |b| {
        b.iter(|| underwrite(&models, &policy, black_box(&record)))
    });
    group.bench_function("request_bytes_to_response_bytes", |b| {
        b.iter(|| {
            let screened = parse_record(black_box(SAMPLE_RECORD.as_bytes())).expect("valid");
            let answer = score(&models, &policy, &screened.record, screened.warnings);
            serde_json::to_vec(&answer)
        })
    });
    let response = score(&models, &policy, &record, Vec::new());
    group.bench_function("serialise_score", |b| {
        b.iter(|| serde_json::to_vec(black_box(&response)))
    });
    group.finish();
}

criterion_group!(benches, bench_scoring);
criterion_main!(benches);
