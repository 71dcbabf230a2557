//! Cross-validation folds grouped by patient, so that no patient's snapshots
//! sit on both sides of a split, and stratified by outcome, so that every
//! fold has a share of events close to the whole; and one split of them
//! ([`CvSplit`]), which the families fit and score in cross-validation.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Assigns each row to one of `k` folds. The distinct groups are shuffled
/// with `seed`, ordered (stably) by whether they have an event, and dealt
/// round-robin: folds get similar numbers of patients, and of patients with
/// an event.
pub fn grouped_folds(groups: &[i64], y: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let mut has_event: std::collections::HashMap<i64, bool> = std::collections::HashMap::new();
    for (g, y) in groups.iter().zip(y) {
        *has_event.entry(*g).or_insert(false) |= *y;
    }
    let mut distinct: Vec<i64> = has_event.keys().copied().collect();
    distinct.sort_unstable();
    distinct.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    distinct.sort_by_key(|g| !has_event[g]);
    let fold_of: std::collections::HashMap<i64, usize> =
        distinct.iter().enumerate().map(|(i, g)| (*g, i % k)).collect();
    groups.iter().map(|g| fold_of[g]).collect()
}

/// One cross-validation split: the fold of every row and which one is tested.
#[derive(Debug, Clone, Copy)]
pub struct CvSplit<'a> {
    /// Fold of every prepared row.
    pub folds: &'a [usize],
    /// Number of folds.
    pub k: usize,
    /// The fold held out for testing.
    pub test: usize,
}

impl CvSplit<'_> {
    /// Rows of fold `fold`.
    pub fn rows_of(&self, fold: usize) -> Vec<u32> {
        (0..self.folds.len() as u32)
            .filter(|&i| self.folds[i as usize] == fold)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_never_spans_two_folds_and_folds_are_balanced() {
        let groups: Vec<i64> = (0..1000).map(|i| i / 4).collect();
        // Patients 0..50 have an event (one in five).
        let y: Vec<bool> = groups.iter().map(|g| *g < 50).collect();
        let folds = grouped_folds(&groups, &y, 5, 1);
        for (g, f) in groups.iter().zip(&folds) {
            let first = groups.iter().position(|x| x == g).unwrap();
            assert_eq!(folds[first], *f);
        }
        for k in 0..5 {
            assert_eq!(folds.iter().filter(|f| **f == k).count(), 200);
            let events = (0..1000).filter(|&i| folds[i] == k && y[i]).count();
            assert_eq!(events, 40, "fold {k}: every fold holds a fifth of the events");
        }
        assert_eq!(folds, grouped_folds(&groups, &y, 5, 1), "same seed, same folds");
        assert_ne!(folds, grouped_folds(&groups, &y, 5, 2), "another seed, other folds");
    }
}
