//! The patients of a dataset that a fit or an evaluation uses: all of them,
//! or a subset chosen by patient (the training side of a cross-validation
//! split, a bootstrap resample), so that no patient is ever split between
//! the rows a step uses and those it leaves out.

use crate::ingest::Dataset;

/// A dataset and how many times each of its patients counts.
#[derive(Debug, Clone)]
pub struct Cohort<'a> {
    dataset: &'a Dataset,
    /// Copies of each record (0 leaves it out); `None` takes every record once.
    copies: Option<Vec<u32>>,
}

impl<'a> Cohort<'a> {
    /// Every patient of `dataset`, once.
    pub fn all(dataset: &'a Dataset) -> Cohort<'a> {
        Cohort { dataset, copies: None }
    }

    /// The patients of `dataset` as `copies` counts them, by patient group
    /// ([`Dataset::groups`]): 0 leaves a patient out, 1 takes it once, and a
    /// patient drawn k times by a bootstrap counts with k times its weight
    /// (the same fit as k copies of its rows, which stay in one fold).
    pub fn patients(dataset: &'a Dataset, copies: impl Fn(i64) -> u32) -> Cohort<'a> {
        let copies = dataset.groups.iter().map(|&group| copies(group)).collect();
        Cohort {
            dataset,
            copies: Some(copies),
        }
    }

    /// This cohort without the patients `leave_out` names (the others keep their copies).
    pub fn without(&self, leave_out: impl Fn(i64) -> bool) -> Cohort<'a> {
        let copies = (0..self.dataset.records.len())
            .map(|i| {
                if leave_out(self.dataset.groups[i]) {
                    0
                } else {
                    self.copies(i)
                }
            })
            .collect();
        Cohort {
            dataset: self.dataset,
            copies: Some(copies),
        }
    }

    /// This cohort with each patient's copies multiplied by `draws` (a
    /// bootstrap resample of its patients: 0 leaves one out, k counts it k times).
    pub fn resampled(&self, draws: impl Fn(i64) -> u32) -> Cohort<'a> {
        let copies = (0..self.dataset.records.len())
            .map(|i| self.copies(i) * draws(self.dataset.groups[i]))
            .collect();
        Cohort {
            dataset: self.dataset,
            copies: Some(copies),
        }
    }

    /// The dataset the cohort is drawn from; record indices refer to it.
    pub fn dataset(&self) -> &'a Dataset {
        self.dataset
    }

    /// How many times record `record` counts (0 when left out).
    pub fn copies(&self, record: usize) -> u32 {
        self.copies.as_ref().map_or(1, |copies| copies[record])
    }
}
