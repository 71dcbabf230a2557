//! Cross-validation folds grouped by patient, so that no patient's snapshots
//! sit on both sides of a split.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Assigns each row to one of `k` folds: the distinct groups are shuffled with
/// `seed` and dealt round-robin, so folds have similar numbers of patients.
pub fn grouped_folds(groups: &[i64], k: usize, seed: u64) -> Vec<usize> {
    let mut distinct: Vec<i64> = groups.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let fold_of: std::collections::HashMap<i64, usize> =
        distinct.iter().enumerate().map(|(i, g)| (*g, i % k)).collect();
    groups.iter().map(|g| fold_of[g]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_never_spans_two_folds_and_folds_are_balanced() {
        let groups: Vec<i64> = (0..1000).map(|i| i / 4).collect();
        let folds = grouped_folds(&groups, 5, 1);
        for (g, f) in groups.iter().zip(&folds) {
            let first = groups.iter().position(|x| x == g).unwrap();
            assert_eq!(folds[first], *f);
        }
        for k in 0..5 {
            assert_eq!(folds.iter().filter(|f| **f == k).count(), 200);
        }
        assert_eq!(folds, grouped_folds(&groups, 5, 1), "same seed, same folds");
    }
}
