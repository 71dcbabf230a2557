//! The salted hash that stands for a case id wherever a decision is
//! recorded (the service's audit trail) and joined back (outcome
//! monitoring): the SHA-256, in hex, of the salt, a zero byte and the case
//! id. The salt is the centre's secret; without it the hashes cannot be
//! linked to case ids.

/// Fewest characters a salt may have.
pub const MIN_SALT_CHARS: usize = 16;

/// The salted hash of `case_id` under `salt`.
pub fn case_hash(salt: &str, case_id: &str) -> String {
    let mut salted = Vec::with_capacity(salt.len() + 1 + case_id.len());
    salted.extend_from_slice(salt.as_bytes());
    salted.push(0);
    salted.extend_from_slice(case_id.as_bytes());
    crate::artifact::sha256_hex(&salted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha256_of_salt_zero_byte_and_case_id() {
        // printf 'salt\0c-1' | sha256sum
        assert_eq!(
            case_hash("salt", "c-1"),
            "033e9940510f9a06e87e9a5f8d401f2d965a945d7899ffd8f45550e3faa9683b"
        );
        assert_ne!(case_hash("salt", "c-1"), case_hash("salt2", "c-1"));
    }
}
