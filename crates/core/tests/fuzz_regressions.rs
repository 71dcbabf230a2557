//! Replays the fuzz targets' committed inputs on the stable toolchain: the
//! seed corpus (`fuzz/seeds/<target>/`) and every input a fuzzing run
//! found to crash, once fixed (`fuzz/regressions/<target>/*`). The targets
//! themselves are the same functions (`fuzz/targets.rs`); libFuzzer runs
//! them with `cargo fuzz run <target>` (see fuzz/Cargo.toml).

include!("../../../fuzz/targets.rs");

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for dir in ["seeds", "regressions"] {
        let dir = root.join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            run(&bytes);
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn committed_record_inputs_never_panic() {
    assert!(replay("record", fuzz_record) >= 3, "the seed corpus is missing");
}

#[test]
fn committed_batch_inputs_never_panic() {
    assert!(replay("batch", fuzz_batch) >= 2, "the seed corpus is missing");
}

#[test]
fn committed_artifact_inputs_never_panic() {
    assert!(replay("artifact", fuzz_artifact) >= 1, "the seed corpus is missing");
}
