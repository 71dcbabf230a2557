//! Fuzz target: see `fuzz_batch` in fuzz/targets.rs.
#![no_main]

include!("../targets.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_batch(data));
