//! Figures published [`RELEASE`] records at a time: what is counted waits in
//! pending sums until they stand for that many records, then joins the
//! published sums together. So no published figure, nor the difference
//! between two readings taken around one request, stands for fewer than 10
//! patients (per-record counters on an open route would show that patient's
//! risk and flags). The groups, the underwriting mix and the shadow's
//! comparison all publish this way.

use carescore_core::artifact::MIN_BIN_ROWS;

/// Fewest records a publication adds at a time.
pub(crate) const RELEASE: u64 = MIN_BIN_ROWS;

/// Sums that can be published in batches.
pub(crate) trait Tally: Default {
    /// Records these sums stand for.
    fn records(&self) -> u64;
    /// Adds `other`'s sums to these.
    fn merge(&mut self, other: Self);
}

/// Pending and published sums.
#[derive(Debug, Default)]
pub(crate) struct Released<T> {
    pending: T,
    published: T,
}

impl<T: Tally> Released<T> {
    /// Counts with `count` into the pending sums, and publishes them once
    /// they stand for [`RELEASE`] records.
    pub(crate) fn add(&mut self, count: impl FnOnce(&mut T)) {
        count(&mut self.pending);
        if self.pending.records() >= RELEASE {
            let pending = std::mem::take(&mut self.pending);
            self.published.merge(pending);
        }
    }

    /// The published sums.
    pub(crate) fn published(&self) -> &T {
        &self.published
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Records(u64);

    impl Tally for Records {
        fn records(&self) -> u64 {
            self.0
        }
        fn merge(&mut self, other: Records) {
            self.0 += other.0;
        }
    }

    #[test]
    fn sums_are_published_ten_records_at_a_time() {
        let mut released = Released::<Records>::default();
        for n in 1..=25 {
            released.add(|r| r.0 += 1);
            assert_eq!(released.published().0, (n / RELEASE) * RELEASE, "after {n}");
        }
    }
}
