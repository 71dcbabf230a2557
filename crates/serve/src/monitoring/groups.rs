//! Figures by patient group since the service started: per organ and per
//! sex, the records scored, those with any flag, and the sum of each
//! built-in target's predicted probability (so a mean); and the mix of
//! underwriting classes. Counted in atomics laid out at start, so the
//! request path takes no lock. A group's figures are shown only once it
//! holds [`MIN_GROUP_RECORDS`] records: a group of one would show that
//! patient's risk.

use std::sync::atomic::{AtomicU64, Ordering};

use carescore_core::artifact::MIN_BIN_ROWS;
use carescore_core::policy::RiskClass;
use carescore_core::scoring::{Score, INFECTION, READMISSION};
use carescore_core::{Organ, PatientRecord, Sex};

/// Fewest records a group figure (a mean risk, a flag rate) stands for before it is shown.
pub(crate) const MIN_GROUP_RECORDS: u64 = MIN_BIN_ROWS;

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

/// One group's counters.
#[derive(Debug, Default)]
struct Cell {
    records: AtomicU64,
    flagged: AtomicU64,
    /// Per [`GROUP_TARGETS`] entry: how many probabilities were added, and their sum's bits.
    scored: [AtomicU64; 2],
    probability_bits: [AtomicU64; 2],
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
    cells: Vec<(Grouping, Vec<Cell>)>,
    classes: [AtomicU64; 4],
}

impl Default for Groups {
    fn default() -> Groups {
        Groups {
            cells: Grouping::ALL
                .iter()
                .map(|g| (*g, g.values().iter().map(|_| Cell::default()).collect()))
                .collect(),
            classes: Default::default(),
        }
    }
}

fn add_f64(bits: &AtomicU64, value: f64) {
    // The closure always returns Some, so the update cannot fail.
    let _ = bits.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
        Some((f64::from_bits(b) + value).to_bits())
    });
}

impl Groups {
    /// Counts a scored record in its groups.
    pub(crate) fn score(&self, record: &PatientRecord, score: &Score) {
        for (grouping, cells) in &self.cells {
            let Some(cell) = cells.get(grouping.slot(record)) else {
                continue;
            };
            cell.records.fetch_add(1, Ordering::Relaxed);
            if !score.flags.is_empty() {
                cell.flagged.fetch_add(1, Ordering::Relaxed);
            }
            for (t, target) in GROUP_TARGETS.iter().enumerate() {
                if let Some(risk) = score.risks.get(target) {
                    cell.scored[t].fetch_add(1, Ordering::Relaxed);
                    add_f64(&cell.probability_bits[t], risk.probability);
                }
            }
        }
    }

    /// Counts an underwriting grade.
    pub(crate) fn grade(&self, class: RiskClass) {
        if let Some(slot) = RiskClass::ALL.iter().position(|c| *c == class) {
            self.classes[slot].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every group's figures, in grouping and slot order.
    pub(crate) fn figures(&self) -> Vec<GroupFigures> {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        self.cells
            .iter()
            .flat_map(|(grouping, cells)| {
                cells.iter().zip(grouping.values()).map(|(cell, value)| GroupFigures {
                    grouping: *grouping,
                    value,
                    records: load(&cell.records),
                    flagged: load(&cell.flagged),
                    probability: [0, 1]
                        .map(|t| (load(&cell.scored[t]), f64::from_bits(load(&cell.probability_bits[t])))),
                })
            })
            .collect()
    }

    /// Grades per underwriting class, best first.
    pub(crate) fn classes(&self) -> [(RiskClass, u64); 4] {
        [0, 1, 2, 3].map(|i| (RiskClass::ALL[i], self.classes[i].load(Ordering::Relaxed)))
    }
}
