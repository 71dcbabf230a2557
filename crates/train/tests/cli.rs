//! The `carescore-train` binary as users run it: good runs, and bad input that
//! must fail with one clear line, no panic and no file left behind.

use std::path::Path;
use std::process::{Command, Output};

fn train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carescore-train"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Asserts a failed run with a one-line `error:` message containing `needle`.
fn assert_fails_with(output: &Output, needle: &str) {
    assert!(!output.status.success());
    assert_eq!(
        output.status.code(),
        Some(1),
        "an error exit, not a panic (101)"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(needle),
        "{stderr}"
    );
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["csv", "parquet"] {
        let path = |name: &str| dir.path().join(format!("{name}.{ext}"));
        for (name, seed) in [("a", "3"), ("b", "3"), ("c", "4")] {
            let out = path(name);
            let output = train(&[
                "synth",
                "--rows",
                "3000",
                "--seed",
                seed,
                "--out",
                out.to_str().unwrap(),
                "--quiet",
            ]);
            assert!(output.status.success(), "{output:?}");
        }
        let read = |name: &str| std::fs::read(path(name)).unwrap();
        assert_eq!(read("a"), read("b"), "{ext}: same seed, same bytes");
        assert_ne!(read("a"), read("c"), "{ext}: another seed, other bytes");
    }
}

#[test]
fn summary_is_printed_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cohort.csv");
    let output = train(&["synth", "--rows", "500", "--out", out.to_str().unwrap()]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("wrote 500 rows") && stderr.contains("oracle AUC"),
        "{stderr}"
    );
    let header = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        header.starts_with("patient_id,index_date,case_id,organ,"),
        "{header}"
    );
    assert!(
        header.ends_with("true_p_infection_180d,true_p_readmission_30d,injected_noise"),
        "{header}"
    );
}

#[test]
fn zero_rows_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    assert_fails_with(
        &train(&["synth", "--rows", "0", "--out", out.to_str().unwrap()]),
        "--rows must be at least 1",
    );
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn unknown_extension_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.xlsx");
    assert_fails_with(
        &train(&["synth", "--rows", "10", "--out", out.to_str().unwrap()]),
        "unknown file extension (allowed: .csv, .parquet)",
    );
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn missing_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/x.csv");
    assert_fails_with(
        &train(&["synth", "--rows", "10", "--out", out.to_str().unwrap()]),
        "directory does not exist",
    );
}

#[test]
fn unwritable_path_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should go: the rename into place fails.
    let out = dir.path().join("taken.csv");
    std::fs::create_dir(&out).unwrap();
    assert_fails_with(
        &train(&["synth", "--rows", "10", "--out", out.to_str().unwrap()]),
        "cannot write",
    );
    assert_eq!(
        files_in(dir.path()),
        ["taken.csv"],
        "no temporary file left"
    );
    assert!(out.is_dir());
}

#[test]
fn dropout_rate_out_of_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    assert_fails_with(
        &train(&[
            "synth",
            "--rows",
            "10",
            "--dropout-rate",
            "0.95",
            "--out",
            out.to_str().unwrap(),
        ]),
        "--dropout-rate must be between 0 and 0.9",
    );
}
