//! Performance by subgroup: organ, sex and phase for patient records, each
//! categorical or boolean feature's value for a spec's rows.

use std::collections::BTreeMap;

use super::full::{full_evaluation, Evaluation};
use crate::rows::{Cell, TableRow};

/// The subgroups reported: organ, sex and phase for patient records; each
/// categorical or boolean feature's value for spec rows.
pub fn subgroup_of(row: &TableRow) -> Vec<String> {
    match row {
        TableRow::Patient(record) => vec![
            format!("organ={}", record.organ),
            format!("sex={}", record.sex),
            format!("phase={}", record.phase()),
        ],
        TableRow::Spec(row) => row
            .names
            .iter()
            .zip(&row.cells)
            .filter_map(|(name, cell)| match cell {
                Cell::Text(value) => Some(format!("{name}={value}")),
                Cell::Boolean(value) => Some(format!("{name}={value}")),
                Cell::Missing | Cell::Number(_) => None,
            })
            .collect(),
    }
}

/// The full evaluation (counts and intervals, no operating points) per
/// subgroup (see [`subgroup_of`]) of the rows of `records`, whose patients
/// are `groups`.
pub fn by_subgroup(
    records: &[&TableRow],
    p: &[f64],
    y: &[bool],
    w: &[f64],
    groups: &[i64],
    seed: u64,
) -> BTreeMap<String, Evaluation> {
    let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        for group in subgroup_of(record) {
            members.entry(group).or_default().push(i);
        }
    }
    members
        .into_iter()
        .map(|(name, rows)| {
            let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
            let ys: Vec<bool> = rows.iter().map(|&i| y[i]).collect();
            let patients: Vec<i64> = rows.iter().map(|&i| groups[i]).collect();
            (name, full_evaluation(&pick(p), &ys, &pick(w), &patients, &[], seed))
        })
        .collect()
}
