//! Figures by patient group since the service started: per organ and per
//! sex, the records scored, those with any flag, and the sum of each
//! built-in target's predicted probability (so a mean); and the mix of
//! underwriting classes.
//!
//! Published 10 records at a time ([`super::released`]).

use std::sync::Mutex;

use carescore_core::policy::RiskClass;
use carescore_core::scoring::{Score, INFECTION, READMISSION};
use carescore_core::{Organ, PatientRecord, Sex};

use super::released::{Released, Tally, RELEASE};

/// Fewest records a group figure (a mean risk, a flag rate) stands for before it is shown.
pub(crate) const MIN_GROUP_RECORDS: u64 = RELEASE;

/// The built-in targets whose mean risk is kept per group.
pub(crate) const GROUP_TARGETS: [&str; 2] = [INFECTION, READMISSION];

/// How patients are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grouping {
    /// By transplanted organ.
    Organ,
    /// By recorded sex.
    Sex,
}

impl Grouping {
    /// Every grouping.
    pub(crate) const ALL: [Grouping; 2] = [Grouping::Organ, Grouping::Sex];

    /// The grouping's name (a record field).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Grouping::Organ => "organ",
            Grouping::Sex => "sex",
        }
    }

    /// The groups' names, in slot order.
    pub(crate) fn values(self) -> &'static [&'static str] {
        match self {
            Grouping::Organ => Organ::NAMES,
            Grouping::Sex => Sex::NAMES,
        }
    }

    fn slot(self, record: &PatientRecord) -> usize {
        match self {
            Grouping::Organ => record.organ as usize,
            Grouping::Sex => record.sex as usize,
        }
    }
}

/// Counts of records of one group.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    records: u64,
    flagged: u64,
    /// Per [`GROUP_TARGETS`] entry: how many probabilities were added, and their sum.
    scored: [u64; 2],
    probability: [f64; 2],
}

impl Tally for Counts {
    fn records(&self) -> u64 {
        self.records
    }

    fn merge(&mut self, other: Counts) {
        self.records += other.records;
        self.flagged += other.flagged;
        for t in 0..2 {
            self.scored[t] += other.scored[t];
            self.probability[t] += other.probability[t];
        }
    }
}

/// Grades per underwriting class, best first.
#[derive(Debug, Default, Clone, Copy)]
struct Grades([u64; 4]);

impl Tally for Grades {
    fn records(&self) -> u64 {
        self.0.iter().sum()
    }

    fn merge(&mut self, other: Grades) {
        for (mine, more) in self.0.iter_mut().zip(other.0) {
            *mine += more;
        }
    }
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupFigures {
    /// The grouping.
    pub(crate) grouping: Grouping,
    /// The group (an organ or a sex).
    pub(crate) value: &'static str,
    /// Records scored.
    pub(crate) records: u64,
    /// Records with any flag.
    pub(crate) flagged: u64,
    /// Per [`GROUP_TARGETS`] entry: probabilities added and their sum.
    pub(crate) probability: [(u64, f64); 2],
}

/// The counters of every group, and of the underwriting classes.
#[derive(Debug)]
pub(crate) struct Groups {
    cells: Vec<(Grouping, Vec<Mutex<Released<Counts>>>)>,
    classes: Mutex<Released<Grades>>,
}

impl Default for Groups {
    fn default() -> Groups {
        Groups {
            cells: Grouping::ALL
                .iter()
                .map(|g| (*g, g.values().iter().map(|_| Mutex::default()).collect()))
                .collect(),
            classes: Mutex::default(),
        }
    }
}

/// Locks `m`; a poisoned lock only means a panic elsewhere mid-update: keep counting.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Groups {
    /// Counts a scored record in its groups.
    pub(crate) fn score(&self, record: &PatientRecord, score: &Score) {
        let mut counts = Counts {
            records: 1,
            flagged: u64::from(!score.flags.is_empty()),
            ..Counts::default()
        };
        for (t, target) in GROUP_TARGETS.iter().enumerate() {
            if let Some(risk) = score.risks.get(target) {
                counts.scored[t] = 1;
                counts.probability[t] = risk.probability;
            }
        }
        for (grouping, cells) in &self.cells {
            let Some(cell) = cells.get(grouping.slot(record)) else {
                continue;
            };
            lock(cell).add(|pending| pending.merge(counts));
        }
    }

    /// Counts an underwriting grade.
    pub(crate) fn grade(&self, class: RiskClass) {
        let Some(slot) = RiskClass::ALL.iter().position(|c| *c == class) else {
            return;
        };
        lock(&self.classes).add(|pending| pending.0[slot] += 1);
    }

    /// Every group's published figures, in grouping and slot order.
    pub(crate) fn figures(&self) -> Vec<GroupFigures> {
        self.cells
            .iter()
            .flat_map(|(grouping, cells)| {
                cells.iter().zip(grouping.values()).map(|(cell, value)| {
                    let c = *lock(cell).published();
                    GroupFigures {
                        grouping: *grouping,
                        value,
                        records: c.records,
                        flagged: c.flagged,
                        probability: [0, 1].map(|t| (c.scored[t], c.probability[t])),
                    }
                })
            })
            .collect()
    }

    /// Published grades per underwriting class, best first.
    pub(crate) fn classes(&self) -> [(RiskClass, u64); 4] {
        let published = *lock(&self.classes).published();
        [0, 1, 2, 3].map(|i| (RiskClass::ALL[i], published.0[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_classes_are_published_ten_records_at_a_time() {
        let groups = Groups::default();
        let record = carescore_core::parse_record(carescore_core::EXAMPLE_RECORD_JSON.as_bytes())
            .unwrap()
            .record;
        let models = crate::loading::embedded().unwrap().models;
        let score = carescore_core::scoring::score(&models, &carescore_core::Policy::default(), &record, Vec::new());
        let published = |groups: &Groups| {
            let kidney = groups
                .figures()
                .into_iter()
                .find(|g| g.value == record.organ.as_str())
                .unwrap();
            (kidney.records, kidney.probability[0].0)
        };
        for n in 1..=25u64 {
            groups.score(&record, &score);
            assert_eq!(published(&groups), ((n / 10) * 10, (n / 10) * 10), "after {n} records");
            groups.grade(RiskClass::B);
            let grades: u64 = groups.classes().iter().map(|(_, k)| k).sum();
            assert_eq!(grades, (n / 10) * 10);
        }
    }
}
