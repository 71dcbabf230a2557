//! Parsing and validating one patient record: the fast typed path, the lenient
//! path that reports every problem, and validation of an already typed record.

use carescore_bench::{invalid_record, SAMPLE_RECORD};
use carescore_core::{parse_record, validation::validate};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn bench_validation(c: &mut Criterion) {
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_and_validate_valid", |b| {
        b.iter(|| parse_record(black_box(SAMPLE_RECORD.as_bytes())))
    });
    let invalid = invalid_record();
    group.bench_function("parse_and_validate_invalid", |b| {
        b.iter(|| parse_record(black_box(invalid.as_bytes())))
    });
    let record = parse_record(SAMPLE_RECORD.as_bytes()).expect("valid sample").record;
    group.bench_function("validate_typed", |b| b.iter(|| validate(black_box(&record))));
    group.finish();
}

criterion_group!(benches, bench_validation);
criterion_main!(benches);
