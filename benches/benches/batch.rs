//! Batches of 1,000 and 10,000 different records, one core: each record
//! parsed and validated, scored by both models with explanations and the
//! policy, and its answer serialised, as `/v1/score/batch` does per item
//! (the service spreads a batch over the cores). Reported per batch with
//! records/s; and loading the default artifacts (read, verify the checksum,
//! check, compile), which is what start-up and every reload pay.

use carescore_core::{ModelArtifact, Policy};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn bench_batches(c: &mut Criterion) {
    let models = carescore_bench::default_models();
    let policy = Policy::default();
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        let bodies = carescore_bench::varied_records(n, 11);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("parse_score_serialise", n), &bodies, |b, bodies| {
            b.iter(|| carescore_bench::score_all(&models, &policy, black_box(bodies)))
        });
    }
    group.finish();
}

fn bench_artifact_load(c: &mut Criterion) {
    let bytes: &[u8] = include_bytes!("../../models/infection_180d-1.json");
    let mut group = c.benchmark_group("artifact");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("load_verify_compile_infection", |b| {
        b.iter(|| {
            ModelArtifact::from_json(black_box(bytes))
                .expect("default model")
                .compile()
        })
    });
    group.finish();
}

/// The service's allocator (see `carescore-serve`'s `main.rs`), so the
/// figures are those of the code as it runs in the service.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

criterion_group!(benches, bench_batches, bench_artifact_load);
criterion_main!(benches);
