//! The rows of a cohort with a known label at the target's horizon: labels,
//! censoring weights, patient groups and index dates, and the temporal
//! hold-out split of them.

use super::{Cohort, TrainError};
use crate::ingest::Outcome;
use crate::labels::{horizon_labels, CensoringRule};
use crate::spec::SpecOutcome;
use crate::target::Target;

/// Labels, weights and patient groups of the labelled rows.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Index of each row's record in the ingested table.
    pub records: Vec<usize>,
    /// Label at the horizon.
    pub y: Vec<bool>,
    /// Censoring weight (IPCW, or 1) times the row's copies.
    pub w: Vec<f64>,
    /// How many times the cohort counts each row (a bootstrap's draws of
    /// its patient; 1 for a plain cohort): counts of rows and events, and
    /// the temporal split, count each copy.
    pub copies: Vec<u32>,
    /// Patient group, for folds.
    pub groups: Vec<i64>,
    /// Index date as ISO text, when the table has one.
    pub dates: Vec<Option<String>>,
}

/// The rows of `cohort` with a known label for `target`, each weighted by
/// its censoring weight times the copies the cohort takes of it. The
/// censoring distribution (IPCW) is estimated on the cohort's own rows.
pub(crate) fn labelled(cohort: &Cohort<'_>, target: Target, censoring: CensoringRule) -> Result<Labelled, TrainError> {
    let dataset = cohort.dataset();
    let Some(outcome) = &dataset.outcome else {
        return Err(TrainError::NoKnownLabels(
            "the table was read without its outcome columns".to_string(),
        ));
    };
    // The cohort's records, each as often as the cohort counts it.
    let drawn: Vec<usize> = (0..dataset.records.len())
        .flat_map(|i| std::iter::repeat_n(i, cohort.copies(i) as usize))
        .collect();
    let mut labels: Vec<Option<bool>> = vec![None; dataset.records.len()];
    let mut weights: Vec<f64> = vec![0.0; dataset.records.len()];
    match (outcome, target.outcome()) {
        (Outcome::TimeEvent { times, events }, SpecOutcome::TimeEvent { horizon_days, .. }) => {
            let times: Vec<f64> = drawn.iter().map(|&i| times[i]).collect();
            let events: Vec<bool> = drawn.iter().map(|&i| events[i]).collect();
            let found = horizon_labels(&times, &events, f64::from(horizon_days), censoring)?;
            // Copies of a record share its time and event, so any copy's label and weight is the record's.
            for (k, &i) in drawn.iter().enumerate() {
                labels[i] = found.labels[k];
                weights[i] = found.weights[k];
            }
        }
        (Outcome::Label(known), SpecOutcome::Label(_)) => {
            for &i in &drawn {
                labels[i] = known[i];
                weights[i] = 1.0;
            }
        }
        // `ingest::load` reads the outcome the target names, so the two agree.
        (Outcome::TimeEvent { .. }, SpecOutcome::Label(_)) | (Outcome::Label(_), SpecOutcome::TimeEvent { .. }) => {
            return Err(TrainError::NoKnownLabels(
                "the table's outcome was read for another target".to_string(),
            ))
        }
    }
    let (groups_all, dates_all) = (&dataset.groups, &dataset.dates);
    let mut out = Labelled {
        records: Vec::new(),
        y: Vec::new(),
        w: Vec::new(),
        copies: Vec::new(),
        groups: Vec::new(),
        dates: Vec::new(),
    };
    for (i, label) in labels.iter().enumerate() {
        if let Some(label) = label {
            out.records.push(i);
            out.y.push(*label);
            out.w.push(weights[i] * f64::from(cohort.copies(i)));
            out.copies.push(cohort.copies(i));
            out.groups.push(groups_all[i]);
            out.dates.push(dates_all.as_ref().and_then(|d| d[i].clone()));
        }
    }
    if out.records.is_empty() {
        return Err(TrainError::NoKnownLabels(match target.outcome() {
            SpecOutcome::TimeEvent { horizon_days, .. } => {
                format!("no row is followed up to the {horizon_days}-day horizon (every row is censored before it)")
            }
            SpecOutcome::Label(column) => format!("no row has a value in the label column `{column}`"),
        }));
    }
    Ok(out)
}

impl Labelled {
    /// Rows and events, each row counted as often as the cohort counts it.
    pub fn counted(&self) -> (usize, usize) {
        let rows = self.copies.iter().map(|c| *c as usize).sum();
        let events = self
            .y
            .iter()
            .zip(&self.copies)
            .filter(|(y, _)| **y)
            .map(|(_, c)| *c as usize)
            .sum();
        (rows, events)
    }

    /// Distinct patients among the rows.
    pub fn patients(&self) -> usize {
        self.patient_ids().len()
    }

    /// The distinct patients among the rows, ascending.
    pub fn patient_ids(&self) -> Vec<i64> {
        let mut groups = self.groups.clone();
        groups.sort_unstable();
        groups.dedup();
        groups
    }

    /// The rows at `keep` positions.
    fn subset(&self, keep: &[usize]) -> Labelled {
        Labelled {
            records: keep.iter().map(|&i| self.records[i]).collect(),
            y: keep.iter().map(|&i| self.y[i]).collect(),
            w: keep.iter().map(|&i| self.w[i]).collect(),
            copies: keep.iter().map(|&i| self.copies[i]).collect(),
            groups: keep.iter().map(|&i| self.groups[i]).collect(),
            dates: keep.iter().map(|&i| self.dates[i].clone()).collect(),
        }
    }

    /// Splits off the latest `share` of rows by index date: `(earlier, later, first later date)`.
    /// `None` when `share` is 0, dates are missing, or a side would be empty.
    pub(crate) fn split_temporal(&self, share: f64) -> Option<(Labelled, Labelled, String)> {
        if share <= 0.0 || self.dates.iter().any(Option::is_none) {
            return None;
        }
        // The cutoff is the date at the (1 - share) point of the rows, each
        // counted as often as the cohort counts it.
        let mut sorted: Vec<(&String, u32)> = self.dates.iter().flatten().zip(self.copies.iter().copied()).collect();
        sorted.sort();
        let total: u64 = sorted.iter().map(|(_, c)| u64::from(*c)).sum();
        let at = ((1.0 - share) * total as f64) as u64;
        let mut seen = 0u64;
        let cutoff = sorted
            .iter()
            .find(|(_, c)| {
                seen += u64::from(*c);
                seen > at
            })?
            .0
            .to_string();
        let (later, earlier): (Vec<usize>, Vec<usize>) =
            (0..self.y.len()).partition(|&i| self.dates[i].as_deref() >= Some(cutoff.as_str()));
        if later.is_empty() || earlier.is_empty() {
            return None;
        }
        Some((self.subset(&earlier), self.subset(&later), cutoff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten rows dated 2024-01-01 to 2024-01-10, the first counted `first` times.
    fn rows(first: u32) -> Labelled {
        let n = 10;
        Labelled {
            records: (0..n).collect(),
            y: (0..n).map(|i| i % 2 == 0).collect(),
            w: vec![1.0; n],
            copies: std::iter::once(first).chain(std::iter::repeat(1)).take(n).collect(),
            groups: (0..n as i64).collect(),
            dates: (1..=n).map(|d| Some(format!("2024-01-{d:02}"))).collect(),
        }
    }

    #[test]
    fn the_temporal_cutoff_counts_each_copy() {
        let (_, later, cutoff) = rows(1).split_temporal(0.2).unwrap();
        assert_eq!((cutoff.as_str(), later.y.len()), ("2024-01-09", 2));
        // The first row counted 10 times: 19 rows, the latest fifth is the last 4 dates.
        let (earlier, later, cutoff) = rows(10).split_temporal(0.2).unwrap();
        assert_eq!((cutoff.as_str(), later.y.len(), earlier.y.len()), ("2024-01-07", 4, 6));
        assert_eq!(earlier.counted(), (15, 12));
        assert_eq!(rows(1).counted(), (10, 5));
    }
}
