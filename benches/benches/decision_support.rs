//! Levers and the programme view, one core, against scoring the same
//! records (measured in the same run, so the ratio holds on any machine):
//!
//! - `levers/100_records` and `score/100_records`: 100 different records
//!   each parsed, answered (levers: the recorded risks, then each lever's
//!   and all levers' risks, without explanations; score: both risks with
//!   TreeSHAP explanations and the policy) and serialised, as
//!   `/v1/levers` and `/v1/score` do;
//! - `programme/1000_records` and `batch/1000_records`: 1,000 records
//!   parsed, triaged (probabilities, tier and flags, without explanations)
//!   and summed into the programme view (with the exact intervals) and
//!   serialised, as `/v1/programme` does, against the batch answer of the
//!   same records.

use carescore_core::levers::levers;
use carescore_core::programme::{Entry, Tally};
use carescore_core::scoring::{triage, Models};
use carescore_core::{parse_record, Policy};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn levers_all(models: &Models, policy: &Policy, bodies: &[String]) -> usize {
    let mut out = Vec::with_capacity(bodies.len() * 2000);
    for body in bodies {
        let screened = parse_record(body.as_bytes()).expect("valid record");
        let answer = levers(models, policy, &screened.record, screened.warnings);
        serde_json::to_writer(&mut out, &answer).expect("serialisable");
    }
    out.len()
}

fn programme_view(models: &Models, policy: &Policy, bodies: &[String]) -> usize {
    let mut tally = Tally::default();
    for body in bodies {
        let screened = parse_record(body.as_bytes()).expect("valid record");
        let triaged = triage(models, policy, &screened.record);
        tally.add(Entry::of(&screened.record, &triaged));
    }
    serde_json::to_vec(&tally.view(policy)).expect("serialisable").len()
}

fn bench_decision_support(c: &mut Criterion) {
    let models = carescore_bench::default_models();
    let policy = Policy::default();
    let hundred = carescore_bench::varied_records(100, 11);
    let thousand = carescore_bench::varied_records(1_000, 11);
    let mut group = c.benchmark_group("decision_support");
    group.sample_size(20);
    group.throughput(Throughput::Elements(100));
    group.bench_function("levers/100_records", |b| {
        b.iter(|| levers_all(&models, &policy, black_box(&hundred)))
    });
    group.bench_function("score/100_records", |b| {
        b.iter(|| carescore_bench::score_all(&models, &policy, black_box(&hundred)))
    });
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("programme/1000_records", |b| {
        b.iter(|| programme_view(&models, &policy, black_box(&thousand)))
    });
    group.bench_function("batch/1000_records", |b| {
        b.iter(|| carescore_bench::score_all(&models, &policy, black_box(&thousand)))
    });
    group.finish();
}

/// The service's allocator, as in the other benchmarks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

criterion_group!(benches, bench_decision_support);
criterion_main!(benches);
