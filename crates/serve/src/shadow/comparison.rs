//! What the shadow challenger's scores are compared on, per built-in
//! target: how often its band agrees with the champion's, the mean and
//! spread of its probability minus the champion's, and each set's flag
//! rates. Counts and sums only, published 10 records at a time
//! ([`crate::monitoring::released`]).

use std::collections::BTreeMap;

use carescore_core::policy::Flag;
use carescore_core::scoring::Score;
use serde::Serialize;

use crate::monitoring::released::{Released, Tally};

/// Running sums for one target.
#[derive(Debug, Default, Clone)]
struct TargetSums {
    records: u64,
    same_band: u64,
    difference: f64,
    difference_squared: f64,
}

/// Running sums for every target and flag.
#[derive(Debug, Default)]
struct Sums {
    targets: BTreeMap<&'static str, TargetSums>,
    /// Records compared.
    records: u64,
    /// Per flag: records the champion raised it on, and the shadow.
    flags: BTreeMap<Flag, (u64, u64)>,
}

impl Tally for Sums {
    fn records(&self) -> u64 {
        self.records
    }

    fn merge(&mut self, other: Sums) {
        self.records += other.records;
        for (target, s) in other.targets {
            let mine = self.targets.entry(target).or_default();
            mine.records += s.records;
            mine.same_band += s.same_band;
            mine.difference += s.difference;
            mine.difference_squared += s.difference_squared;
        }
        for (flag, (c, s)) in other.flags {
            let mine = self.flags.entry(flag).or_default();
            mine.0 += c;
            mine.1 += s;
        }
    }
}

/// The comparison, published 10 records at a time.
#[derive(Debug, Default)]
pub(crate) struct Comparison(Released<Sums>);

impl Comparison {
    /// Adds one record scored by both sets, for the `targets` the shadow has its own model of.
    pub(crate) fn add(&mut self, champion: &Score, shadow: &Score, targets: &[&'static str]) {
        self.0.add(|pending| pending.add(champion, shadow, targets));
    }

    /// The report of what was published.
    pub(crate) fn report(&self) -> (Vec<TargetComparison>, Vec<FlagRates>) {
        self.0.published().report()
    }
}

impl Sums {
    fn add(&mut self, champion: &Score, shadow: &Score, targets: &[&'static str]) {
        self.records += 1;
        for target in targets {
            let (Some(c), Some(s)) = (champion.risks.get(target), shadow.risks.get(target)) else {
                continue;
            };
            let sums = self.targets.entry(target).or_default();
            let d = s.probability - c.probability;
            sums.records += 1;
            sums.same_band += u64::from(s.band == c.band);
            sums.difference += d;
            sums.difference_squared += d * d;
        }
        for flag in &champion.flags {
            self.flags.entry(*flag).or_default().0 += 1;
        }
        for flag in &shadow.flags {
            self.flags.entry(*flag).or_default().1 += 1;
        }
    }

    fn report(&self) -> (Vec<TargetComparison>, Vec<FlagRates>) {
        let targets = self
            .targets
            .iter()
            .map(|(target, s)| {
                let n = s.records.max(1) as f64;
                let mean = s.difference / n;
                let variance = if s.records > 1 {
                    ((s.difference_squared - n * mean * mean) / (n - 1.0)).max(0.0)
                } else {
                    0.0
                };
                TargetComparison {
                    target: target.to_string(),
                    records: s.records,
                    band_agreement: s.same_band as f64 / n,
                    mean_difference: mean,
                    sd_difference: variance.sqrt(),
                }
            })
            .collect();
        let n = self.records.max(1) as f64;
        let flags = self
            .flags
            .iter()
            .map(|(flag, (c, s))| FlagRates {
                flag: flag.as_str().to_string(),
                champion: *c as f64 / n,
                shadow: *s as f64 / n,
            })
            .collect();
        (targets, flags)
    }
}

/// How the shadow's probabilities for one target compare with the champion's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct TargetComparison {
    /// The target.
    pub(crate) target: String,
    /// Records both scored.
    pub(crate) records: u64,
    /// Share of them in the same band.
    pub(crate) band_agreement: f64,
    /// Mean of the shadow's probability minus the champion's.
    pub(crate) mean_difference: f64,
    /// Standard deviation of that difference.
    pub(crate) sd_difference: f64,
}

/// How often each set raised a flag.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct FlagRates {
    /// The flag.
    pub(crate) flag: String,
    /// Share of the compared records the champion raised it on.
    pub(crate) champion: f64,
    /// Share the shadow raised it on.
    pub(crate) shadow: f64,
}
