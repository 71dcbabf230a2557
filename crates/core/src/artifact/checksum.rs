//! The artifact checksum: SHA-256 of the compact JSON of the artifact with its
//! `sha256` field empty. serde_json writes struct fields in declaration order
//! and floats in shortest round-trip form, so the same artifact always hashes
//! the same, before writing and after reading back.

use sha2::{Digest, Sha256};

use super::ModelArtifact;

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The checksum of `artifact` (its own `sha256` field ignored).
pub(crate) fn of(artifact: &ModelArtifact) -> String {
    let mut unsealed = artifact.clone();
    unsealed.sha256 = String::new();
    let bytes = serde_json::to_vec(&unsealed).unwrap_or_default();
    hex(&Sha256::digest(&bytes))
}

/// SHA-256 of arbitrary bytes, as lower-case hex (training-data fingerprints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
